"""The effect of road changes: Effect's counts by hand, and a scenario run with a bridge closed whose
effect block agrees with the times computed on the zone without the closure."""

from __future__ import annotations

import json

import numpy as np
import pyogrio

from kazerne.coverage.effect import Effect


def test_effect_counts_by_hand():
    inf = np.inf
    e = Effect(
        thresholds_min=[10.0],
        before_s=np.array([500.0, 590.0, 700.0, inf, 300.0, inf]),
        after_s=np.array([500.0, 610.0, 650.0, 400.0, inf, inf]),
        first_before=np.array([0, 0, 1, -1, 1, -1]),
        first_after=np.array([0, 0, 1, 0, -1, -1]),
        weight=np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0]),
        municipality=np.array([0, 0, 1, 1, 1, 0]),
        municipality_names=["A", "B"],
        site_ids=["P1", "P2"],
        streets=["s0", "s1", "s2", "s3", "s4", "s5"],
    )
    z = e.zone()
    assert z["people_slower"] == 2 + 16  # 590 -> 610 and 300 -> unreached
    assert z["people_faster"] == 4 + 8  # 700 -> 650 and unreached -> 400
    assert z["losing_10min"] == 2 + 16 and z["gaining_10min"] == 8
    m = {r["municipality"]: r for r in e.municipality_rows()}
    assert m["A"]["losing_10min"] == 2 and m["B"]["losing_10min"] == 16 and m["B"]["gaining_10min"] == 8
    p = {r["post"]: r for r in e.post_rows()}
    assert p["P1"]["people_slower"] == 2 and p["P2"]["people_slower"] == 16 and p["P2"]["people_faster"] == 4
    streets = {r["street"] for r in e.street_rows()}
    assert streets == {"s1", "s2", "s3", "s4"}


def test_bridge_closure_run_reports_its_effect(tmp_path, hvz_zone):
    from kazerne.progress import Progress
    from kazerne.routing.travel import kth_nearest, travel_times
    from kazerne.scenarios.context import load_context
    from kazerne.scenarios.resolve import resolve_posts
    from kazerne.scenarios.runner import run_file
    from kazerne.scenarios.schema import parse_scenario

    sc_path = tmp_path / "b.toml"
    sc_path.write_text(
        """name = "b"
zone = "hvz-centrum"
[demand]
grid_m = 1000
[posts]
active = ["P01", "P02", "P03", "P05", "P06", "P07", "P08", "P09", "P10", "P11", "P12", "P13", "P14"]
[outputs]
map = false
report = false
[[network.changes]]
action = "close"
street = "Meulestedebrug"
municipality = "Gent"
bridge = true
""",
        encoding="utf-8",
    )
    target = run_file(sc_path, tmp_path / "out", quiet=True)
    s = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    eff = s["network_effect"]["zone"][0]
    assert eff["people_faster"] == 0 and eff["people_slower"] > 0
    assert all(eff[f"gaining_{t}min"] == 0 for t in (8, 10, 12, 15))
    # independently: the same posts and demand on the zone without the closure
    sc = parse_scenario(sc_path)
    ctx = load_context(sc, Progress(quiet=True))
    posts = resolve_posts(ctx.zone, sc)
    tt = travel_times(hvz_zone, posts, ctx.demand, ctx.profile, call_handling_s=sc.call_handling_s)
    first = kth_nearest(tt.dense(), 1)[0][0]
    w = np.where(ctx.demand.no_road_data, 0.0, ctx.demand.weight)
    for t in (8, 10, 12, 15):
        before = float(w[first <= t * 60].sum())
        after = s["zone"]["population_within"][str(t)]
        assert abs(after - (before - eff[f"losing_{t}min"])) < 0.2  # losing is rounded to 0.1 person
    layers = [n for n, _ in pyogrio.list_layers(target / "layers.gpkg")]
    assert "effect_cells" in layers and "changed_roads" in layers
    assert (target / "effect_streets.csv").is_file() and (target / "effect_posts.csv").is_file()


def test_slice_limited_change_shows_its_effect_in_its_slice_only(tmp_path):
    from kazerne.scenarios.runner import run_file

    poly = (
        "[[3.708438, 51.067356], [3.709209, 51.06746], [3.709695, 51.068662], [3.71026, 51.069273], "
        "[3.710748, 51.069087], [3.710236, 51.068546], [3.709683, 51.067226], [3.709444, 51.067125], "
        "[3.708554, 51.067004], [3.708438, 51.067356]]"
    )
    p = tmp_path / "s.toml"
    p.write_text(
        f"""name = "s"
zone = "hvz-centrum"
[demand]
grid_m = 1000
[posts]
active = ["P01", "P02", "P03", "P05", "P06"]
[outputs]
map = false
report = false
gpkg = false
[[slices]]
name = "school"
days = "weekday"
hours = [8, 9]
[[slices]]
name = "rest-weekday"
days = "weekday"
hours = [9, 8]
[[slices]]
name = "weekend"
days = "weekend"
[[network.changes]]
action = "slow"
polygon = {poly}
speed_kmh = 5
slices = ["school"]
""",
        encoding="utf-8",
    )
    s = json.loads((run_file(p, tmp_path / "out", quiet=True) / "summary.json").read_text(encoding="utf-8"))
    eff = {z["situation"]: z for z in s["network_effect"]["zone"]}
    assert set(eff) == {"reference", "school"}
    assert eff["reference"]["people_slower"] == 0 and eff["reference"]["people_faster"] == 0
    assert eff["school"]["people_slower"] > 0 and eff["school"]["people_faster"] == 0
    # the two weekday slices differ only by the change (same posts, crews, speeds): the school slice's
    # own shares are measured with it, the other's without
    rows = {r["name"]: r["zone"]["expected_population_within"] for r in s["response_model"]["slices"]}
    school, rest = rows["school"], rows["rest-weekday"]
    assert all(school[t] <= rest[t] for t in rest)
    assert any(school[t] < rest[t] for t in rest)
