"""Criticality (kazerne/coverage/criticality.py): the fast ranking equals brute force -- close every
segment of small generated networks, search again with plain scipy on the edge arrays -- and on the
zone the scenario kind, the API and the command line give the same answer."""

from __future__ import annotations

import json

import numpy as np
import pytest
from grid_net import brute_times, grid_zone

from kazerne.coverage.criticality import naive_losses, segment_losses
from kazerne.errors import ScenarioError
from kazerne.routing.profiles import get_profile

FE = get_profile("fire_engine").with_overrides(oneway_reverse_factor=0.0)


def _brute(net, sites, turnout, dnodes, w, budget):
    """{(a, b): weight lost} for every segment, with scipy on the edge arrays (all edges between a
    and b removed, both ways)."""
    et = np.maximum(net.edge_times(FE), 1e-3)
    lim = budget - np.asarray(turnout)
    before = (brute_times(net, et, sites)[:, dnodes] <= lim[:, None]).any(axis=0)
    out = {}
    for a, b in sorted({(min(x, y), max(x, y)) for x, y in zip(net.u.tolist(), net.v.tolist())}):
        rem = np.flatnonzero(((net.u == a) & (net.v == b)) | ((net.u == b) & (net.v == a)))
        after = (brute_times(net, et, sites, removed=rem)[:, dnodes] <= lim[:, None]).any(axis=0)
        out[(a, b)] = float(w[before & ~after].sum())
    return out


@pytest.mark.parametrize("seed", range(6))
def test_ranking_equals_brute_force_for_every_segment(seed):
    z = grid_zone(8, seed=seed, oneway_share=0.25)
    net = z.net
    rng = np.random.default_rng(100 + seed)
    sites = rng.choice(net.n_nodes, 1 + seed % 3, replace=False)
    turnout = rng.integers(0, 40, len(sites)).astype(float)
    dnodes = rng.choice(net.n_nodes, 80)  # repeated nodes too
    w = rng.integers(1, 20, 80).astype(float)
    budget = float(rng.integers(60, 140))
    got = segment_losses(net, FE, sites, turnout, dnodes, w, budget)
    fast = dict(zip(zip(got.a.tolist(), got.b.tolist()), got.lost.tolist()))
    want = _brute(net, sites, turnout, dnodes, w, budget)
    assert {k: v for k, v in want.items() if v > 0} == fast
    assert sum(v > 0 for v in want.values()) > 0
    # the lost points of each segment are the demand positions reached before and not after
    for k in range(len(got.a)):
        assert float(w[got.lost_points(k)].sum()) == got.lost[k]
    # the naive way of the benchmark agrees as well
    pairs = list(want)
    assert np.array_equal(
        naive_losses(net, FE, sites, turnout, dnodes, w, budget, pairs), np.array(list(want.values()))
    )


def test_ranking_with_contraflow_equals_the_naive_way():
    fe = get_profile("fire_engine").with_overrides(oneway_reverse_factor=0.5)
    z = grid_zone(8, seed=11, oneway_share=0.5)
    net = z.net
    rng = np.random.default_rng(7)
    sites = rng.choice(net.n_nodes, 2, replace=False)
    dnodes = rng.choice(net.n_nodes, 60)
    w = np.ones(60)
    got = segment_losses(net, fe, sites, [0.0, 10.0], dnodes, w, 90.0)
    pairs = sorted({(min(x, y), max(x, y)) for x, y in zip(net.u.tolist(), net.v.tolist())})
    naive = naive_losses(net, fe, sites, [0.0, 10.0], dnodes, w, 90.0, pairs)
    fast = dict(zip(zip(got.a.tolist(), got.b.tolist()), got.lost.tolist()))
    assert np.array_equal(np.array([fast.get(p, 0.0) for p in pairs]), naive)


def test_criticality_section_errors_name_the_field(tmp_path):
    from kazerne.scenarios.schema import parse_scenario_data

    base = {"name": "c", "zone": "hvz-centrum", "posts": {"active": ["P01"]}}
    with pytest.raises(ScenarioError, match=r"criticality.profiles: expected one of"):
        parse_scenario_data({**base, "criticality": {"profiles": ["bike"]}}, tmp_path / "c.toml")
    with pytest.raises(ScenarioError, match=r"criticality.threshold_min: expected a number"):
        parse_scenario_data({**base, "criticality": {"threshold_min": 0}}, tmp_path / "c.toml")
    with pytest.raises(ScenarioError, match=r"c.toml: criticality.topp: unknown key"):
        parse_scenario_data({**base, "criticality": {"topp": 3}}, tmp_path / "c.toml")


SCEN = """name = "crit"
zone = "hvz-centrum"
[demand]
grid_m = 1000
[posts]
active = ["P01", "P02", "P03", "P05", "P06", "P07", "P08", "P09", "P10", "P11", "P12", "P13", "P14"]
[outputs]
map = false
[criticality]
threshold_min = 12
profiles = ["fire_engine"]
top = 8
pairs_top = 3
"""


def test_zone_run_api_and_cli_agree(tmp_path, hvz_zone):
    import kazerne as kz
    from kazerne.cli import main
    from kazerne.progress import Progress
    from kazerne.scenarios.context import load_context
    from kazerne.scenarios.resolve import resolve_posts
    from kazerne.scenarios.schema import parse_scenario

    p = tmp_path / "crit.toml"
    p.write_text(SCEN, encoding="utf-8")
    target = kz.run_scenario(p, tmp_path / "a", quiet=True)
    s = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    assert s["kind"] == "criticality"
    top = s["profiles"][0]["top"]
    assert len(top) == 8 and [r["rank"] for r in top] == list(range(1, 9))
    assert all(top[i]["people_lost"] >= top[i + 1]["people_lost"] for i in range(7))
    assert main(["criticality", str(p), "--out", str(tmp_path / "b"), "--quiet"]) == 0
    a = (target / "criticality.csv").read_text(encoding="utf-8")
    b = (tmp_path / "b" / "crit" / "criticality.csv").read_text(encoding="utf-8")
    assert a == b
    # the API, and the naive way on the top stretches' first segments: the same people lost
    sc = parse_scenario(p)
    ctx = load_context(sc, Progress(quiet=True))
    posts = resolve_posts(ctx.zone, sc)
    c = kz.criticality(ctx.zone, posts, ctx.demand, "fire_engine", 12, sc.call_handling_s, top=8, pairs_top=0)
    assert [r["people_lost"] for r in c.segments] == [r["people_lost"] for r in top]
    w = np.where(ctx.demand.no_road_data, 0.0, ctx.demand.weight)
    pairs = [tuple(r["node_pairs"][0]) for r in c.segments]
    naive = naive_losses(
        ctx.zone.net, get_profile("fire_engine"), posts.node, posts.turnout_s, ctx.demand.node, w, 12 * 60 - 90.0, pairs
    )
    np.testing.assert_allclose(naive, [r["people_lost"] for r in c.segments], atol=0.051)


def test_a_post_whose_turnout_exceeds_the_threshold_reaches_no_one():
    z = grid_zone(7, seed=21)
    net = z.net
    rng = np.random.default_rng(3)
    sites = np.array([0, net.n_nodes - 1])
    turnout = np.array([10.0, 500.0])  # the second post cannot make it within 100 s
    dnodes = rng.choice(net.n_nodes, 50)
    w = np.ones(50)
    got = segment_losses(net, FE, sites, turnout, dnodes, w, 100.0)
    fast = dict(zip(zip(got.a.tolist(), got.b.tolist()), got.lost.tolist()))
    assert {k: v for k, v in _brute(net, sites, turnout, dnodes, w, 100.0).items() if v > 0} == fast
    alone = segment_losses(net, FE, sites[:1], turnout[:1], dnodes, w, 100.0)
    assert np.array_equal(alone.lost, got.lost) and alone.covered_weight == got.covered_weight
