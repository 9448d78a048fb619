"""The change layer on the real zone (hvz-centrum) and on the tiny OSM fixture (way ids)."""

from __future__ import annotations

import numpy as np
import osm_fixture as fx
import pytest

from kazerne.errors import ScenarioError
from kazerne.routing.changes import NetworkChange
from kazerne.routing.match import apply_changes
from kazerne.routing.network import load_network
from kazerne.routing.paths import drive_times
from kazerne.routing.profiles import get_profile
from kazerne.sites import Sites

FE = get_profile("fire_engine")


def _tree_uses(net, pred: np.ndarray, closed_pairs: set) -> np.ndarray:
    """Per node: its tree path from the source uses one of the node pairs in ``closed_pairs``
    (plain Python walk up the predecessor array, independent of the engine)."""
    n = len(pred)
    uses = np.zeros(n, dtype=bool)
    done = np.zeros(n, dtype=bool)
    for s in range(n):
        path = []
        k = s
        while k >= 0 and not done[k]:
            path.append(k)
            k = pred[k]
        flag = uses[k] if k >= 0 else False
        for node in reversed(path):
            p = pred[node]
            if p >= 0 and (int(p), int(node)) in closed_pairs:
                flag = True
            uses[node] = flag
            done[node] = True
    return uses


def test_closing_a_bridge_slows_its_far_side_and_speeds_no_one(hvz_zone):
    from scipy.sparse import csgraph

    z = hvz_zone
    c = NetworkChange("close", street="Meulestedebrug", municipality="Gent", bridge=True)
    changed = apply_changes(z, [c])
    posts = Sites.from_posts(z)
    base = drive_times(z.net, FE, posts.node)
    new = drive_times(changed.net, FE, posts.node)
    assert np.all(new >= base)  # no one faster, to the last bit
    slower = new > base
    assert slower.sum() > 100
    r = changed.net.resolved[0]
    sel = np.flatnonzero(r.close_fwd)
    pairs = {(int(a), int(b)) for a, b in zip(z.net.u[sel], z.net.v[sel])} | {
        (int(b), int(a)) for a, b in zip(z.net.u[sel], z.net.v[sel])
    }
    for k, node in enumerate(posts.node):
        _, pred = csgraph.dijkstra(z.net.csr(FE), indices=int(node), return_predecessors=True)
        uses = _tree_uses(z.net, pred, pairs)
        assert not np.any(slower[k] & ~uses)  # only nodes whose best route crossed the bridge got slower


def test_empty_change_list_gives_the_baseline_to_the_last_bit(hvz_zone, tmp_path):
    from kazerne.progress import Progress
    from kazerne.routing.travel import travel_times
    from kazerne.scenarios.context import load_context
    from kazerne.scenarios.resolve import resolve_posts
    from kazerne.scenarios.schema import parse_scenario_data

    raw = {"name": "e", "zone": "hvz-centrum", "posts": {"active": ["P01", "P02", "P03"]}, "demand": {"grid_m": 1000}}
    res = []
    for extra in (
        {},
        {"network": {"changes": []}},
        {
            "network": {
                "changes": [{"action": "close", "street": "Kappebrug", "municipality": "Gent", "profiles": ["car"]}]
            }
        },
    ):
        sc = parse_scenario_data({**raw, **extra}, tmp_path / "e.toml")
        ctx = load_context(sc, Progress(quiet=True))
        posts = resolve_posts(ctx.zone, sc)
        res.append(travel_times(ctx.zone, posts, ctx.demand, ctx.profile, call_handling_s=90).seconds)
    assert np.array_equal(res[0], res[1])
    assert np.array_equal(res[0], res[2])  # a closure for cars only leaves the fire engine's times alone


def test_ambiguous_bridge_name_needs_near(hvz_zone):
    z = hvz_zone
    net = z.net
    # a bridge name with several separate pieces in the data, found independently of the engine
    from scipy import sparse
    from scipy.sparse import csgraph

    names = [str(s) for s in net.names]
    found = None
    for nid, nm in enumerate(names):
        sel = np.flatnonzero((net.name_id == nid) & (net.level > 0))
        if "brug" not in nm.lower() or len(sel) < 2:
            continue
        nodes, inv = np.unique(np.concatenate([net.u[sel], net.v[sel]]), return_inverse=True)
        g = sparse.coo_matrix((np.ones(len(sel)), (inv[: len(sel)], inv[len(sel) :])), shape=(len(nodes),) * 2)
        if csgraph.connected_components(g, directed=False)[0] > 1:
            found = nm
            break
    if found is None:
        pytest.fail("no bridge of several pieces in the pack to test with")
    c = NetworkChange("close", street=found, bridge=True, field="network.changes[0]")
    try:
        apply_changes(z, [c])
    except ScenarioError as e:
        assert "ambiguous" in str(e) and "network.changes[0]" in str(e)
    else:
        pytest.fail("an ambiguous bridge was accepted")


def test_way_id_matches_the_ways_edges(tmp_path):
    import shapely

    from kazerne.routing.zone import Zone
    from kazerne.routing.zonepack import ZonePack

    path = fx.write_osm(tmp_path / "roads.osm")
    net = load_network(path, use_cache=False, quiet=True)
    z = Zone(
        pack=ZonePack(name="t", path=tmp_path, roads_file=path, municipalities=[], posts=[], medical_sites=[]),
        net=net,
        zone_metric=shapely.box(0, 0, 1, 1),
        gap_metric=None,
        municipalities_metric=[],
    )
    wid = next(w for w, nodes, tags in fx.WAYS if tags.get("name") == "Verbindingsweg")
    changed = apply_changes(z, [NetworkChange("close", way=(wid,))], roads_file=path)
    sel = np.flatnonzero(changed.net.resolved[0].close_fwd)
    assert set(net.names[net.name_id[sel]]) == {"Verbindingsweg"}
    assert len(sel) == int((net.names[net.name_id] == "Verbindingsweg").sum())
    with pytest.raises(ScenarioError, match="way 99999 not found"):
        apply_changes(z, [NetworkChange("close", way=(99999,))], roads_file=path)


EXAMPLES = {
    "close-bridge-meulestede-2019.toml": {"Meulestedebrug"},
    "school-street-roggestraat-2019.toml": {"Roggestraat"},
    "works-brusselsesteenweg-2026.toml": {"Brusselsesteenweg"},
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_shipped_examples_match_their_streets(hvz_zone, name):
    from pathlib import Path

    from kazerne.scenarios.context import changed_zone
    from kazerne.scenarios.schema import parse_scenario

    sc = parse_scenario(Path(__file__).resolve().parents[1] / "scenarios" / name)
    net = changed_zone(sc, hvz_zone).net
    for r in net.resolved:
        sel = np.flatnonzero(r.close_fwd | r.close_rev)
        named = {str(s) for s in net.names[net.name_id[sel][net.name_id[sel] >= 0]]}
        assert EXAMPLES[name] <= named


def test_works_hold_only_between_their_dates(hvz_zone):
    import dataclasses
    import datetime as dt
    from pathlib import Path

    from kazerne.scenarios.context import changed_zone
    from kazerne.scenarios.schema import parse_scenario

    sc = parse_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "works-brusselsesteenweg-2026.toml")
    assert changed_zone(sc, hvz_zone) is not hvz_zone  # 20 April 2026: inside the works
    for day in (dt.date(2026, 3, 1), dt.date(2026, 6, 27)):
        later = dataclasses.replace(sc, network={**sc.network, "date": day})
        assert changed_zone(later, hvz_zone) is hvz_zone
    inside = dataclasses.replace(sc, network={**sc.network, "date": dt.date(2026, 6, 26)})
    assert changed_zone(inside, hvz_zone) is not hvz_zone
