"""The speed band of a placement study (kazerne/scenarios/band.py): an ``add`` study of one post among
four named sites on the real zone, at a threshold where the best site at speed -15 % or +15 % differs
from the best at the profile's speed and at one where it does not -- both found here by brute force
(every site tried, the population within T counted with numpy on driving times searched at each speed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kazerne.scenarios.band import band_variants, study_band

HEADER = """\
name = "{name}"
zone = "hvz-centrum"
thresholds = [10, 12]

[profile]
name = "fire_engine"

[demand]
grid_m = 250

[turnout]
professional = 90
volunteer = 300
mixed = 300

[outputs]
geojson = false
first_due_areas = false
map = false
report = false
gpkg = false

[posts]
active = ["P01", "P02", "P03", "P05", "P06", "P07", "P08", "P09", "P10", "P11", "P12", "P13", "P14"]
"""
CALL_S = 90.0


@pytest.fixture(scope="module")
def instance(zone_data_dir, tmp_path_factory):
    """Context, posts, four named sites (heavy demand points beyond 12 min today, spread out) and
    the response times (from the call) of posts + sites at speed x0.85, x1 and x1.15."""
    from kazerne.routing.travel import demand_drive_times
    from kazerne.scenarios.context import Progress, load_context
    from kazerne.scenarios.resolve import resolve_posts, resolve_site
    from kazerne.scenarios.schema import parse_scenario

    d = tmp_path_factory.mktemp("band")
    p = d / "base.toml"
    p.write_text(HEADER.format(name="band-base"), encoding="utf-8")
    sc = parse_scenario(p)
    ctx = load_context(sc, Progress(True))
    posts = resolve_posts(ctx.zone, sc)
    net, dem = ctx.zone.net, ctx.demand
    base_t = demand_drive_times(net, ctx.profile, posts.node, dem) + posts.turnout_s[:, None] + CALL_S
    w = np.where(dem.no_road_data, 0.0, dem.weight)
    picks: list = []
    for i in np.argsort(-(w * (base_t.min(axis=0) > 12 * 60))):
        if all(np.hypot(dem.lon[i] - dem.lon[j], dem.lat[i] - dem.lat[j]) > 0.04 for j in picks):
            picks.append(int(i))
        if len(picks) == 4:
            break
    sites = [
        {"id": f"S{k}", "lat": round(float(dem.lat[i]), 6), "lon": round(float(dem.lon[i]), 6)}
        for k, i in enumerate(picks)
    ]
    nodes = np.array([resolve_site(ctx.zone, sc, field="t", lat=s["lat"], lon=s["lon"])[2] for s in sites])
    times = {}
    for k in (0.85, 1.0, 1.15):
        prof = ctx.profile.with_overrides(speed_scale=ctx.profile.speed_scale * k)
        pt = demand_drive_times(net, prof, posts.node, dem) + posts.turnout_s[:, None] + CALL_S
        st = demand_drive_times(net, prof, nodes, dem) + 90.0 + CALL_S
        times[k] = (pt, st)
    return ctx, sites, times, w, d


def best_site(times, w, T_s):
    """(best site index, its margin over the second, in people) by trying every site."""
    pt, st = times
    first = pt.min(axis=0)
    gains = [float(w[np.minimum(first, st[s]) <= T_s].sum()) for s in range(len(st))]
    order = np.argsort(gains)[::-1]
    return int(order[0]), gains[order[0]] - gains[order[1]]


def _thresholds(times, w):
    """A threshold (min) where the best site is the same at all three speeds, and one where speed
    -15 % or +15 % changes it; each with every margin above 100 people (no near-tie)."""
    holds, flips = [], []
    for T in [x / 2 for x in range(16, 33)]:
        best = {k: best_site(times[k], w, T * 60) for k in times}
        if min(m for _, m in best.values()) < 100:
            continue
        (holds if len({s for s, _ in best.values()}) == 1 else flips).append((T, best))
    return holds[len(holds) // 2], flips[0]


def _run_add(instance, name, T):
    from kazerne.scenarios.runner import run_file

    ctx, sites, times, w, d = instance
    text = HEADER.format(name=name) + (
        f'\n[study]\nkind = "add"\nthreshold = {T:g}\nk = 1\ninclude_generated = false\n'
    )
    text += "".join(f'\n[[study.sites]]\nid = "{s["id"]}"\nlat = {s["lat"]}\nlon = {s["lon"]}\n' for s in sites)
    p = d / f"{name}.toml"
    p.write_text(text, encoding="utf-8")
    out = run_file(p, d / "out", quiet=True)
    return json.loads((Path(out) / "summary.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", ["holds", "flips"])
def test_band_verdict_against_brute_force(instance, case):
    ctx, sites, times, w, d = instance
    (T, best) = _thresholds(times, w)[0 if case == "holds" else 1]
    summ = _run_add(instance, f"band-{case}", T)
    band = summ["result"]["band"]
    ids = [s["id"] for s in sites]
    assert summ["chosen_sites"][-1] == ids[best[1.0][0]]
    assert band["complete"] and band["ranges_source"] == "default"
    by = {v["speed_factor"]: v for v in band["variants"]}
    assert sorted(by) == pytest.approx([0.85, 1.15])
    for k in (0.85, 1.15):
        new = [s for s in by[k]["sites"] if s in ids]
        assert new == [ids[best[k][0]]], (k, new, best)
        assert by[k]["same_sites"] == (best[k][0] == best[1.0][0])
    assert band["holds"] == (case == "holds")
    if case == "holds":
        assert band["verdict"].startswith("the recommendation holds across the band")
        assert f"({ids[best[1.0][0]]}) is chosen at speed -15% and +15%" in band["verdict"]
    else:
        assert "does NOT hold" in band["verdict"]
        k = next(k for k in (0.85, 1.15) if best[k][0] != best[1.0][0])
        label = "-15%" if k == 0.85 else "+15%"
        assert f"at speed {label} the choice is {ids[best[k][0]]} instead of {ids[best[1.0][0]]}" in band["verdict"]
    assert "sensitivity" not in summ["result"]  # the full analysis only on request


def test_band_variants_follow_the_ranges():
    """The band's ends are the interval's speed range: x0.85 / x1.15 by default, the calibration's
    +-1.96 relative standard errors of the driving time with a calibrated profile."""
    import kazerne as kz
    from kazerne.routing.profiles import with_factors

    prof = kz.get_profile("fire_engine")
    v = band_variants(prof, 90.0)
    assert [x[0] for x in v] == ["speed -15%", "speed +15%"]
    assert [x[1]["speed_scale"] for x in v] == pytest.approx([prof.speed_scale * 0.85, prof.speed_scale * 1.15])
    cal = with_factors(prof, {}, 4.0, uncertainty={"drive_rel_se": 0.02})
    v = band_variants(cal, 90.0)
    assert [x[1]["speed_scale"] for x in v] == pytest.approx([cal.speed_scale / 1.0392, cal.speed_scale / (1 - 0.0392)])
    sens = {"variants": [{"variant": v[0][0], "sites": ["A"], "status": "optimal", "same_sites": True}]}
    b = study_band(sens, v, ["A"], "calibration")  # the second end not run (time limit)
    assert b.holds is True and not b.complete and "only" in b.verdict
    assert study_band({"variants": []}, v, ["A"]).holds is None


def test_band_says_when_a_re_solve_is_not_proven():
    import kazerne as kz

    v = band_variants(kz.get_profile("fire_engine"), 90.0)
    sens = {
        "variants": [
            {"variant": v[0][0], "sites": ["A"], "status": "optimal", "same_sites": True},
            {"variant": v[1][0], "sites": ["B"], "status": "feasible", "same_sites": False},
        ]
    }
    b = study_band(sens, v, ["A"])
    assert b.holds is False and b.complete
    assert "at speed +15% the choice is B instead of A" in b.verdict and "(at speed -15% it holds)" in b.verdict
    assert b.verdict.endswith("not proven: the re-solve at speed +15% stopped feasible")
