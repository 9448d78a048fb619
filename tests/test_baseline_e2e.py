"""End to end on the real zone pack (hvz-centrum, 18 municipalities, roads of 2017).

Reads the 2019 baseline and two variants with one post closed, run in-process once per session
(conftest ``shipped_run``), and runs the 2022 scenario as a real ``--quiet`` subprocess. The expected totals come from the pack's
own files, read here with ``json``/``csv``. The zone pack must be present: ``zone_data_dir`` (in
conftest) fails the test with a clear message when it is not. The network cache is the usual one
(``KAZERNE_CACHE`` or ``<repo>/.cache/kazerne``): a cold cache costs one ~45 s OSM parse.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCEN_2019 = REPO / "scenarios" / "hvz-centrum-2019.toml"
SCEN_2022 = REPO / "scenarios" / "hvz-centrum-2022.toml"
OUTPUT_FILES = ["summary.json", "municipalities.csv", "posts.csv", "worst.csv", "demand.geojson", "first_due.geojson"]
ACTIVE_2019 = ["P01", "P02", "P03", "P05", "P06", "P07", "P08", "P09", "P10", "P11", "P12", "P13", "P14"]
THRESHOLDS = ["8", "10", "12", "15"]
PACK_TOTAL = 562_055  # README of the pack: 562,055 inhabitants on 1 January 2020


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def num(s: str) -> float:
    return math.nan if s in ("", "None", "nan") else float(s)


@pytest.fixture(scope="module")
def pack(zone_data_dir):
    """Municipality name -> population, straight from the pack's GeoJSON."""
    gj = json.loads((zone_data_dir / "hvz-centrum" / "municipalities.geojson").read_text(encoding="utf-8"))
    return {f["properties"]["name"]: float(f["properties"]["population_2020"]) for f in gj["features"]}


@pytest.fixture(scope="module")
def out_root(tmp_path_factory, zone_data_dir):
    return tmp_path_factory.mktemp("e2e-out")


@pytest.fixture(scope="module")
def base(shipped_run):
    """The 2019 baseline, run once per session (conftest ``shipped_run``; the characterization test
    reads the same run)."""
    return shipped_run("hvz-centrum-2019")


@pytest.fixture(scope="module")
def closed_p01(shipped_run):
    return shipped_run("hvz-centrum-2019", "close-p01", "\n[posts.override.P01]\nclosed = true\n")


@pytest.fixture(scope="module")
def closed_p07(shipped_run):
    return shipped_run("hvz-centrum-2019", "close-p07", "\n[posts.override.P07]\nclosed = true\n")


def summary(d: Path) -> dict:
    return json.loads((d / "summary.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------------


def test_pack_total_is_the_published_figure(pack):
    assert len(pack) == 18
    assert sum(pack.values()) == PACK_TOTAL


def test_baseline_writes_every_file(base):
    for name in OUTPUT_FILES:
        p = base / name
        assert p.is_file() and p.stat().st_size > 0, name
    for name in ("summary.json", "demand.geojson", "first_due.geojson"):
        json.loads((base / name).read_text(encoding="utf-8"))  # valid JSON
    # atomic: no temp folders left beside the result
    assert [p.name for p in base.parent.iterdir() if p.name.startswith(".")] == []


def test_outputs_follow_the_umask_and_list_what_kazerne_wrote(base):
    """Every file (the PNG map too) gets the permissions of the user's umask, and the marker lists
    exactly the files of the run, so that a later run replaces this folder and nothing else."""
    import stat

    from kazerne.files import umask
    from kazerne.report.atomic import MARKER

    mask = umask()
    assert stat.S_IMODE(base.stat().st_mode) == 0o777 & ~mask
    for p in base.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask, p.name
    listed = json.loads((base / MARKER).read_text(encoding="utf-8"))["files"]
    assert sorted(listed) == sorted(p.name for p in base.iterdir() if p.name != MARKER)
    assert set(OUTPUT_FILES) <= set(listed)


def test_municipalities_all_present_with_pack_population(base, pack):
    rows = read_csv(base / "municipalities.csv")
    assert sorted(r["municipality"] for r in rows) == sorted(pack)
    for r in rows:
        # written rounded to 0.1
        assert abs(num(r["population"]) - pack[r["municipality"]]) <= 0.051, r["municipality"]
        assert 0.0 <= num(r["no_road_data"]) <= num(r["population"])


def test_population_with_and_without_road_data_adds_up_to_the_pack(base, pack):
    s = summary(base)
    z = s["zone"]
    total = z["population_with_road_data"] + z["population_no_road_data"]
    assert abs(total - PACK_TOTAL) <= 1e-6 * PACK_TOTAL
    assert abs(total - sum(pack.values())) <= 1e-6 * PACK_TOTAL
    # the pack has a network gap (most of Melle ...): some population must be reported apart
    assert z["population_no_road_data"] > 1000
    assert s["demand"]["no_road_data_population"] == pytest.approx(z["population_no_road_data"], rel=1e-9)
    # per municipality the no_road_data column adds up to the zone figure (0.1 rounding per row)
    rows = read_csv(base / "municipalities.csv")
    assert abs(sum(num(r["no_road_data"]) for r in rows) - z["population_no_road_data"]) <= 0.05 * len(rows) + 1e-6


def test_zone_and_municipality_shares_monotone(base):
    z = summary(base)["zone"]
    shares = [z["share_within"][t] for t in THRESHOLDS]
    assert all(0.0 <= s <= 1.0 for s in shares)
    assert shares == sorted(shares) and shares[0] < shares[-1]
    for t in THRESHOLDS:
        assert z["population_within"][t] / z["population_with_road_data"] == pytest.approx(z["share_within"][t])
    for r in read_csv(base / "municipalities.csv"):
        sh = [num(r[f"share_within_{t}min"]) for t in THRESHOLDS]
        assert sh == sorted(sh), r["municipality"]


def test_shares_agree_with_the_demand_points_written(base):
    """Recompute the zone shares from demand.geojson (first_min rounded to 0.01 min)."""
    feats = json.loads((base / "demand.geojson").read_text(encoding="utf-8"))["features"]
    s = summary(base)
    assert len(feats) == s["demand"]["points"]
    assert sum(f["properties"]["no_road_data"] for f in feats) == s["demand"]["no_road_data_points"]
    road = [f["properties"] for f in feats if not f["properties"]["no_road_data"]]
    tot = sum(p["population"] for p in road)
    assert tot == pytest.approx(s["zone"]["population_with_road_data"], rel=1e-4)
    for t in THRESHOLDS:
        within = sum(p["population"] for p in road if p["first_min"] is not None and p["first_min"] <= float(t))
        assert within / tot == pytest.approx(s["zone"]["share_within"][t], abs=0.005)
    # points without road data carry no time
    assert all(f["properties"]["first_min"] is None for f in feats if f["properties"]["no_road_data"])


def test_posts_table(base):
    rows = read_csv(base / "posts.csv")
    assert [r["id"] for r in rows] == ACTIVE_2019
    turnout = {r["id"]: num(r["turnout_s"]) for r in rows}
    assert turnout["P01"] == 90 and turnout["P07"] == 300 and turnout["P08"] == 300  # P08 is "mixed"
    z = summary(base)["zone"]
    first_due = sum(num(r["first_due_population"]) for r in rows)
    assert abs(first_due + z["population_unreachable"] - z["population_with_road_data"]) <= 0.05 * len(rows) + 1e-6
    worst = read_csv(base / "worst.csv")
    assert len(worst) == 20
    mins = [num(r["first_min"]) for r in worst]
    assert mins == sorted(mins, reverse=True)


def test_summary_states_the_assumptions(base):
    a = summary(base)["assumptions"]
    assert a["road_data"]["source"] == "roads-2017.osm.bz2"
    assert a["road_data_date"] == "2017"
    assert a["speed_profile"]["name"] == "fire_engine"
    assert a["turnout_s_by_crew"] == {"professional": 90.0, "volunteer": 300.0, "mixed": 300.0}
    assert a["turnout_s_by_post"]["P01"] == 90.0 and a["turnout_s_by_post"]["P13"] == 300.0
    assert "residential" in a["population_model"] and "250 m" in a["population_model"]
    assert "no_road_data" in a["population_model"]
    assert a["population_total_pack"] == PACK_TOTAL
    assert a["thresholds_min"] == [8, 10, 12, 15]


def _all_shares(d: Path) -> dict:
    s = summary(d)["zone"]["share_within"]
    out = {("zone", t): s[t] for t in THRESHOLDS}
    for r in read_csv(d / "municipalities.csv"):
        for t in THRESHOLDS:
            out[(r["municipality"], t)] = num(r[f"share_within_{t}min"])
    return out


@pytest.mark.parametrize("which,post,municipality", [("closed_p01", "P01", "Gent"), ("closed_p07", "P07", "Assenede")])
def test_closing_a_post_never_increases_a_share(which, post, municipality, base, request):
    closed = request.getfixturevalue(which)
    assert post not in [r["id"] for r in read_csv(closed / "posts.csv")]
    before, after = _all_shares(base), _all_shares(closed)
    assert before.keys() == after.keys()
    for k in before:
        assert after[k] <= before[k] + 1e-12, k
    # and it does hurt somewhere: the post's own municipality loses coverage at some threshold
    assert any(after[(municipality, t)] < before[(municipality, t)] - 1e-6 for t in THRESHOLDS)
    # population totals do not depend on the posts
    zb, za = summary(base)["zone"], summary(closed)["zone"]
    assert za["population_with_road_data"] == pytest.approx(zb["population_with_road_data"], rel=1e-12)


def test_2022_runs_quietly(out_root, zone_data_dir):
    """The 2022 scenario as a real command: --quiet prints nothing at all."""
    out = out_root / "cli"
    p = subprocess.run(
        [sys.executable, str(REPO / "run_scenario.py"), str(SCEN_2022), "--out", str(out), "--quiet"],
        cwd=out_root,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert p.stdout == ""
    d = out / "hvz-centrum-2022"
    for name in OUTPUT_FILES:
        assert (d / name).is_file(), name
    ids = [r["id"] for r in read_csv(d / "posts.csv")]
    assert "P04" in ids and "P03" not in ids and len(ids) == 13
    z = summary(d)["zone"]
    assert abs(z["population_with_road_data"] + z["population_no_road_data"] - PACK_TOTAL) <= 1e-6 * PACK_TOTAL
    assert summary(d)["scenario"]["name"] == "hvz-centrum-2022"


def test_without_vehicle_fields_the_fleet_block_equals_todays_results(base):
    """No [vehicles] / [posts.vehicles] / [[posts.neighbours]]: one AP per post. The first AP and the
    second engine per demand point are exactly the first and second arrival of demand.geojson, and
    the fleet block's zone shares are the baseline's shares."""
    s = summary(base)
    f = s["fleet"]
    assert f["assumptions"]["fleet"].startswith("one AP per post")
    assert [p["AP"] for p in f["posts"]] == [1] * len(ACTIVE_2019)
    assert list(f["zone"]) == ["first_AP", "second_engine", "full_crew"]  # no neighbours, no responses
    for t in THRESHOLDS:
        assert f["zone"]["first_AP"]["share_within"][t] == s["zone"]["share_within"][t]
        assert f["zone"]["first_AP"]["population_within"][t] == s["zone"]["population_within"][t]
    assert f["zone"]["first_AP"]["mean_min"] == s["zone"]["mean_response_min"]
    # share to 1e-12: the same people summed in another order (pack v3 + issue 23's gap shadow gave 1 - 2e-16)
    assert f["first_engine_by_zone"] == {
        "hvz-centrum": {
            "population": pytest.approx(s["zone"]["population_with_road_data"], rel=1e-12),
            "share": pytest.approx(1.0, rel=1e-12),
        }
    }
    gj = json.loads((base / "demand.geojson").read_text(encoding="utf-8"))["features"]
    pts = read_csv(base / "fleet_points.csv")
    assert len(pts) == len(gj)
    for g, p in zip(gj, pts):
        q = g["properties"]
        assert num(p["lon"]) == pytest.approx(g["geometry"]["coordinates"][0], abs=1e-4)  # CSV: 6 digits
        assert num(p["lat"]) == pytest.approx(g["geometry"]["coordinates"][1], abs=1e-4)
        for mine, theirs in (("first_AP_min", "first_min"), ("second_engine_min", "second_min")):
            a, b = num(p[mine]), q[theirs]
            assert (math.isnan(a) and b is None) or a == b, (mine, p, q)
        assert p["first_engine_post"] == (q["first_post"] or "")
    # a crew of 6 never comes before the first engine, and from a professional post it comes with it
    rows = {r["id"]: r for r in read_csv(base / "fleet.csv")}
    for p in pts:
        if p["first_AP_min"] in ("", "None"):
            continue
        assert num(p["full_crew_min"]) >= num(p["first_AP_min"])
        if rows[p["first_engine_post"]]["crew"] == "professional":
            assert num(p["full_crew_min"]) == num(p["first_AP_min"])


def test_every_output_words_the_clock_from_the_one_function(base, capsys):
    """summary.json, report.html, the map's assumption lines and the console all state the clock the
    scenario resolves to, in the words of kazerne.clock.Clock (issue 22: one clock)."""
    import html as _html

    from kazerne.clock import Clock
    from kazerne.scenarios.runner import print_run
    from kazerne.scenarios.schema import parse_scenario

    clock = Clock.from_scenario(parse_scenario(SCEN_2019))
    a = summary(base)["assumptions"]
    assert a["response_time"] == clock.describe() and a["clock"] == clock.label("detail")
    assert a["call_handling_s"] == clock.call_handling_s == 90.0 and a["thresholds_from"] == "call"
    page = _html.unescape((base / "report.html").read_text(encoding="utf-8"))
    assert clock.label("html", where="each 250 m cell") in page
    assert clock.label("map") in page
    print_run(base)
    assert clock.label("console") in capsys.readouterr().out
