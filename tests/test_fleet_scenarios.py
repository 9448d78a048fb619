"""The example fleet scenario and the "second aerial" study on the real zone, against figures
computed here independently: travel times from kz.travel_times with the profiles written out by
hand, minima / maxima and a crew count in plain Python, and an enumeration of every candidate post
for the study. Needs the zone pack (``zone_data_dir``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import kazerne as kz

REPO = Path(__file__).resolve().parents[1]
FLEET = REPO / "scenarios" / "hvz-centrum-2019-fleet.toml"
AERIAL = REPO / "scenarios" / "second-aerial-2019.toml"
POSTS = ["P01", "P02", "P03", "P05", "P06", "P07", "P08", "P09", "P10", "P11", "P12", "P13", "P14"]
CALL_S = 90.0  # kazerne.response.DEFAULT_CALL_HANDLING_S: every threshold counts from the call


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def runs(shipped_run):
    """The two shipped files, run once per session (conftest ``shipped_run``; the characterization
    test reads the same runs)."""
    return {"fleet": shipped_run(FLEET.stem), "aerial": shipped_run(AERIAL.stem)}


@pytest.fixture(scope="module")
def independent(hvz_zone):
    """Every post's and neighbour's response times from the call with the engine and with the aerial
    profile."""
    zone = hvz_zone
    d = kz.population_grid(zone)
    own = kz.Sites.from_posts(zone, POSTS)
    nb = kz.Sites.from_lonlat(
        zone,
        ["N-ZOTTEGEM", "N-WAREGEM"],
        [3.8106, 3.4260],
        [50.8693, 50.8886],
        crew="volunteer",
        turnout_s=300.0,
    )
    sites = own.concat(nb)
    # from the 112 call: the default call handling, written out, on top of turnout + drive
    ap = kz.travel_times(zone, sites, d, "fire_engine").dense().astype(np.float64) + CALL_S
    aer = kz.travel_times(zone, sites, d, kz.get_profile("fire_engine", speed_scale=0.9)).dense().astype(np.float64)
    aer = aer + CALL_S
    return {"d": d, "sites": sites, "ap": ap, "aer": aer}


def col(rows, name):
    return np.array([np.nan if r[name] in ("", "None") else float(r[name]) for r in rows])


def test_fleet_scenario_first_vehicles_and_building_fire(runs, independent):
    pts = read_csv(runs["fleet"] / "fleet_points.csv")
    d, ids, ap, aer = independent["d"], independent["sites"].ids, independent["ap"], independent["aer"]
    assert len(pts) == len(d)
    ok = ~d.no_road_data
    first_ap = ap.min(axis=0) / 60  # every post and both neighbours have an AP
    aerial_rows = [ids.index("P01"), ids.index("N-ZOTTEGEM")]  # the aerials of the example fleet
    first_aer = aer[aerial_rows].min(axis=0) / 60
    fire = np.maximum(first_ap, first_aer)
    own_only = ap[: len(POSTS)].min(axis=0) / 60
    for name, ref in (
        ("first_AP_min", first_ap),
        ("first_aerial_min", first_aer),
        ("response_building_fire_min", fire),
        ("first_engine_own_zone_min", own_only),
    ):
        got = col(pts, name)
        assert np.all(np.isnan(got[~ok])), name
        np.testing.assert_allclose(got[ok], ref[ok], atol=0.0051, err_msg=name)


def test_fleet_scenario_crew_of_six_by_plain_counting(runs, independent):
    pts = read_csv(runs["fleet"] / "fleet_points.csv")
    d, sites, ap = independent["d"], independent["sites"], independent["ap"]
    crew = [6 if c == "professional" else 4 for c in sites.crew]  # the scenario's [vehicles.crew]
    got = col(pts, "full_crew_min")
    for j in np.flatnonzero(~d.no_road_data)[::37]:
        have, t_full = 0, None
        for i in sorted(range(len(sites)), key=lambda i: ap[i, j]):
            have += crew[i]
            if have >= 6:
                t_full = ap[i, j] / 60
                break
        assert got[j] == pytest.approx(t_full, abs=0.0051), j


def test_fleet_scenario_who_arrives_first(runs, independent):
    d, ap = independent["d"], independent["ap"]
    n = len(POSTS)
    w = np.where(d.no_road_data, 0.0, d.weight)
    own, zot, war = ap[:n].min(axis=0), ap[n], ap[n + 1]
    rows = {r["municipality"]: r for r in read_csv(runs["fleet"] / "first_arriving.csv")}
    names = list(d.municipality_names)
    for m in ("Oosterzele", "Zulte", "Gent"):
        sel = (d.municipality == names.index(m)) & ~d.no_road_data
        tot = w[sel].sum()
        zshare = w[sel & (zot < own) & (zot <= war)].sum() / tot  # ties go to the own zone (listed first)
        wshare = w[sel & (war < own) & (war < zot)].sum() / tot
        assert float(rows[m]["first_engine_from_Vlaamse Ardennen_share"]) == pytest.approx(zshare, abs=1e-5)
        assert float(rows[m]["first_engine_from_Fluvia_share"]) == pytest.approx(wshare, abs=1e-5)
        within_own = w[sel & (own <= 900)].sum() / tot
        within_all = w[sel & (np.minimum(own, np.minimum(zot, war)) <= 900)].sum() / tot
        assert float(rows[m]["within_15min_own_zone"]) == pytest.approx(within_own, abs=1e-5)
        assert float(rows[m]["within_15min_with_neighbours"]) == pytest.approx(within_all, abs=1e-5)
    assert float(rows["Oosterzele"]["first_engine_neighbour_share"]) > 0.5  # Zottegem is next door
    assert float(rows["Gent"]["first_engine_neighbour_share"]) == 0.0
    s = json.loads((runs["fleet"] / "summary.json").read_text(encoding="utf-8"))
    assert "neighbour_posts" in s["fleet"]["assumptions"]
    html = (runs["fleet"] / "report.html").read_text(encoding="utf-8")
    assert 'id="fleet"' in html and "first engine from a neighbouring zone" in html


def test_second_aerial_study_equals_enumeration(runs, independent):
    """The add-vehicle study's site is the best of every candidate post, enumerated here: the
    building-fire response (AP + aerial) within 15 min with one more aerial at that post."""
    d, ids, ap, aer = independent["d"], independent["sites"].ids, independent["ap"], independent["aer"]
    w = np.where(d.no_road_data, 0.0, d.weight)
    first_ap = ap.min(axis=0)
    have = aer[[ids.index("P01"), ids.index("N-ZOTTEGEM")]].min(axis=0)
    covered = {}
    for c in POSTS:
        if c == "P01":
            continue
        fire = np.maximum(first_ap, np.minimum(have, aer[ids.index(c)]))
        covered[c] = float(w[fire <= 900].sum())
    best = max(covered, key=covered.get)
    s = json.loads((runs["aerial"] / "summary.json").read_text(encoding="utf-8"))
    res = s["result"]
    assert [r["site"] for r in res["new_sites"]] == [best]
    assert s["solves"][0]["status"] == "optimal"
    assert s["solves"][0]["objective"] == pytest.approx(covered[best], rel=1e-6)
    before = float(w[np.maximum(first_ap, have) <= 900].sum() / w.sum())
    assert res["before"]["share_within"]["15"] == pytest.approx(before, abs=1e-9)
    assert res["after"]["share_within"]["15"] == pytest.approx(covered[best] / w.sum(), abs=1e-9)
    assert sorted(res["existing"]) == ["N-ZOTTEGEM", "P01"]
    rows = read_csv(runs["aerial"] / "vehicle_municipalities.csv")
    assert len(rows) == 18
    assert all(float(r["share_within_15min_after"]) >= float(r["share_within_15min_before"]) - 1e-12 for r in rows)
