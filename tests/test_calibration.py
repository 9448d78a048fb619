"""Calibration on dispatch records (kazerne/calibration): the reader, synthetic records, the fit.

The fit is run once, through the command line (``kazerne calibrate``), on synthetic records whose
truth is stated (``DEFAULT_TRUTH``); the tests read what it wrote. Needs the real zone pack.

Tolerance of the recovery: each factor driven >= 8 h 20 min in total must lie within 3 of its
reported (sandwich) standard errors + 0.03 of the truth, with a standard error <= 0.06 (so the test
is not vacuous; the truth's factors differ from the default 1 by up to 0.3, and the test checks that
the default falls outside the tolerance where the truth is >= 1.15). The 3 SE are the statistical
part: driving noise is a log-normal of sd 0.08 per trip plus 2 % of arrivals logged 1-5 min late (on
four seeds the largest |error| / SE over ~15 factors was 2.0-3.0). The 0.03 is what the standard
errors leave out: the routes of the last round are the fastest under the *fitted* factors, not the
true ones, and the junction delay and the speed factors trade off (a delay estimated low comes with
factors estimated slow, seen as a 3 % lean on two of four seeds).
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from kazerne.calibration.periods import period_of
from kazerne.calibration.records import read_records
from kazerne.calibration.synthetic import DEFAULT_TRUTH, synthetic_records
from kazerne.cli import main
from kazerne.errors import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).resolve().parent / "hostile" / "records"
HEADER = "incident_id,vehicle_type,post_id,call_time,alarm_time,departure_time,arrival_time,lon,lat"


@pytest.fixture(scope="module")
def synthetic(hvz_zone, tmp_path_factory):
    df = synthetic_records(hvz_zone, ROOT / "scenarios" / "hvz-centrum-2019.toml", n=1500, seed=7)
    path = tmp_path_factory.mktemp("records") / "synthetic.csv"
    df.to_csv(path, index=False)
    return path, df


@pytest.fixture(scope="module")
def calibrated(synthetic, tmp_path_factory):
    path, _ = synthetic
    out = tmp_path_factory.mktemp("out")
    assert main(["calibrate", str(path), "--zone", "hvz-centrum", "--out", str(out), "--quiet"]) == 0
    return out / "calibration-synthetic"


# ------------------------------------------------------------------ the reader
def test_rejects_are_exactly_the_spoiled_rows(synthetic, hvz_zone):
    path, df = synthetic
    recs = read_records(path, hvz_zone)
    spoiled = {i + 2: d for i, d in enumerate(df["synthetic_defect"]) if d}  # row 1 is the header
    got = {r["row"]: r["reason"] for r in recs.rejects}
    assert len(spoiled) >= 40 and got == spoiled
    assert len(recs) + len(recs.rejects) == len(df)


def _write(tmp_path, rows, name="r.csv", header=HEADER, encoding="utf-8", sep=","):
    p = tmp_path / name
    p.write_text(header.replace(",", sep) + "\n" + "\n".join(rows) + "\n", encoding=encoding)
    return p


def test_durations_in_utc_across_the_clock_change(tmp_path, hvz_zone):
    p = _write(
        tmp_path,
        [
            "A,AP,P01,2022-03-27T01:58:00,2022-03-27T01:59:30,2022-03-27T03:00:30,2022-03-27T03:06:00,3.7250,51.0540",
            "B,AP,P01,2022-03-27T01:58:00,2022-03-27T02:30:00,,2022-03-27T03:06:00,3.7250,51.0540",
        ],
    )
    recs = read_records(p, hvz_zone)
    # independently: the same instants with their offsets written out (CET +01:00 -> CEST +02:00)
    alarm = datetime.fromisoformat("2022-03-27T01:59:30+01:00")
    dep = datetime.fromisoformat("2022-03-27T03:00:30+02:00")
    assert recs.departure[0] - recs.alarm[0] == (dep - alarm).total_seconds() == 60.0
    assert [(r["row"], r["reason"], r["column"]) for r in recs.rejects] == [(3, "bad_time", "alarm_time")]


def test_semicolons_bom_decimal_commas_and_other_formats(tmp_path, hvz_zone):
    row = "I1;AP;P01;2022-06-01T13:02:09;2022-06-01T13:03:30;2022-06-01T13:05:00;2022-06-01T13:11:00;3,7250;51,0540"
    p = _write(tmp_path, [row], encoding="utf-8-sig", sep=";")
    a = read_records(p, hvz_zone)
    assert len(a) == 1 and a.lon[0] == 3.725 and a.arrival[0] - a.departure[0] == 360.0
    import pandas as pd

    df = pd.read_csv(ROOT / "tests" / "hostile" / "records" / "all-unknown-post.csv", dtype=str, keep_default_na=False)
    df["post_id"] = "P01"
    df.to_parquet(tmp_path / "r.parquet")
    b = read_records(tmp_path / "r.parquet", hvz_zone)
    df.to_csv(tmp_path / "r2.csv", index=False)
    c = read_records(tmp_path / "r2.csv", hvz_zone)
    assert len(b) == len(c) == 2
    assert np.array_equal(b.arrival, c.arrival) and np.array_equal(b.node, c.node)


def test_period_rules():
    # Monday 08:00 rush hour, Monday 12:00 free, Tuesday 03:00 night, Saturday 08:00 free, Sunday 21:00 night
    p = period_of([0, 0, 1, 5, 6], [8.0, 12.0, 3.0, 8.0, 21.0])
    assert p.tolist() == [1, 0, 2, 0, 2]


EXPECTED = [
    line.split(": ", 1)
    for line in (HOSTILE / "expected.txt").read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#")
]


def test_every_hostile_record_file_is_listed():
    assert sorted(n for n, _ in EXPECTED) == sorted(p.name for p in HOSTILE.iterdir() if p.name != "expected.txt")


@pytest.mark.parametrize("name,where", EXPECTED, ids=[n for n, _ in EXPECTED])
def test_hostile_record_file(name, where, tmp_path, capsys, zone_data_dir):
    path = HOSTILE / name
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine\n")
    rc = main(["calibrate", str(path), "--zone", "hvz-centrum", "--out", str(out), "--quiet"])
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == "" and "Traceback" not in cap.err
    lines = cap.err.splitlines()
    assert len(lines) == 1, lines
    prefix = f"kazerne: error: {path.resolve()}: " + ("" if where == "-" else f"{where}: ")
    assert lines[0].startswith(prefix), (prefix, lines[0])
    assert len(lines[0]) > len(prefix) + 10
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


# ------------------------------------------------------------------ route parts
def test_route_parts_add_up_to_the_searched_times(synthetic, hvz_zone):
    import kazerne as kz
    from kazerne.calibration.routes import route_parts
    from kazerne.routing.profiles import PERIOD_NAMES, with_factors

    recs = read_records(synthetic[0], hvz_zone).subset(slice(0, 300))
    per = period_of(recs.weekday, recs.hour)
    base = kz.get_profile("fire_engine")
    profs = {
        p: with_factors(base.with_overrides(period=None if n == "free" else n), {n: DEFAULT_TRUTH.factors[n]}, 5.0)
        for p, n in enumerate(PERIOD_NAMES)
    }
    parts = route_parts(hvz_zone.net, None, recs.post_nodes, recs.post, recs.node, per, profs)
    f = np.array([profs[p].factor_table() for p in range(3)])
    model = (parts.tau / f[per]).sum(1) + parts.junctions * 5.0
    # independently: the compiled many-source search of kazerne.drive_times
    for p in range(3):
        m = per == p
        d = kz.drive_times(hvz_zone.net, profs[p], recs.post_nodes, engine="scipy")
        np.testing.assert_allclose(model[m], d[recs.post[m], recs.node[m]], atol=0.05)
    assert parts.junctions.sum() > 0 and (parts.tau > 0).sum(1).min() >= 0


# ------------------------------------------------------------------ the fit
def test_recovers_the_truth(calibrated):
    cal = json.loads((calibrated / "calibration.json").read_text(encoding="utf-8"))
    checked = informative = 0
    for f in cal["factors"]:
        if not f["fitted"] or f["exposure_s"] < 30000:
            continue
        truth = DEFAULT_TRUTH.factors[f["period"]][f["factor"]]
        tol = 3 * f["se"] + 0.03
        assert f["se"] <= 0.06, f
        assert abs(f["value"] - truth) <= tol, (f, truth)
        if truth >= 1.15:
            assert abs(1.0 - truth) > tol  # the default would fail: the test can tell
            informative += 1
        checked += 1
    assert checked >= 8 and informative >= 4
    jd = cal["junction_delay_s"]
    assert jd["se"] < 0.6 and abs(jd["value"] - DEFAULT_TRUTH.junction_delay_s) <= 3 * jd["se"]
    ch = cal["call_handling"]
    assert abs(ch["median_s"] - DEFAULT_TRUTH.call_handling.median_s) <= max(3 * ch["se"]["median_s"], 2.0)
    assert abs(ch["p90_s"] - DEFAULT_TRUTH.call_handling.p90_s) <= max(3 * ch["se"]["p90_s"], 3.0)


def test_turnout_fit_matches_the_records_quantiles(calibrated, synthetic):
    """The fitted turnout's median and p90 are the records' own quantiles (computed here with the
    standard library from the CSV, the defects left out)."""
    _, df = synthetic
    cal = json.loads((calibrated / "calibration.json").read_text(encoding="utf-8"))
    vol = {"P06", "P07", "P08", "P09", "P10", "P11", "P12", "P13", "P14"} - {"P08"}
    t = []
    for r in df[df["synthetic_defect"] == ""].to_dict("records"):
        if r["post_id"] in vol and r["alarm_time"] and r["departure_time"]:
            t.append((datetime.fromisoformat(r["departure_time"]) - datetime.fromisoformat(r["alarm_time"])).seconds)
    got = cal["turnout_by_crew"]["volunteer"]
    assert got["n"] == len(t)
    assert got["median_s"] == pytest.approx(float(np.quantile(t, 0.5)))
    assert got["p90_s"] == pytest.approx(float(np.quantile(t, 0.9)))


def test_beats_the_defaults_on_held_out_records(calibrated):
    cv = json.loads((calibrated / "calibration.json").read_text(encoding="utf-8"))["cross_validation"]
    d, c = cv["default"], cv["calibrated"]
    assert c["median_abs_error_s"] < 0.8 * d["median_abs_error_s"]
    assert abs(c["bias_s"]) < abs(d["bias_s"]) / 2
    assert c["within_1_min"] > d["within_1_min"] + 0.05


def test_outputs_and_rejects_file(calibrated, synthetic):
    names = {p.name for p in calibrated.iterdir()}
    for n in (
        "calibrated-profile.json",
        "calibration.json",
        "report.html",
        "observed_vs_modelled.png",
        "factors.csv",
        "cross_validation.csv",
        "rejects.csv",
        "residuals_municipality.csv",
        "response.toml",
    ):
        assert n in names, n
    with open(calibrated / "rejects.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    _, df = synthetic
    assert sorted(int(r["row"]) for r in rows) == sorted(i + 2 for i, d in enumerate(df["synthetic_defect"]) if d)


def test_profile_file_in_the_api_and_a_scenario(calibrated, tmp_path, hvz_zone):
    import kazerne as kz
    from kazerne.scenarios.resolve import profile_of
    from kazerne.scenarios.schema import parse_scenario

    pf = calibrated / "calibrated-profile.json"
    prof = kz.get_profile(str(pf))
    d = json.loads(pf.read_text(encoding="utf-8"))
    assert prof.intersection_delay_s == d["intersection_delay_s"] and prof.factors == d["factors"]
    base = kz.get_profile("fire_engine")
    # a residential urban edge at free-flow: the base time over the fitted factor, plus the delay
    net = hvz_zone.net
    t_base = net.edge_times(base.with_overrides(intersection_delay_s=0.0))
    t_cal = net.edge_times(prof.with_overrides(intersection_delay_s=0.0))
    from kazerne.routing.profiles import CLASS_INDEX

    e = np.flatnonzero((net.cls == CLASS_INDEX["residential"]) & net.urban & (net.access == 0))[:50]
    np.testing.assert_allclose(t_cal[e], t_base[e] / d["factors"]["free"]["local/urban"], rtol=1e-9)
    sc_path = tmp_path / "s.toml"
    sc_path.write_text(
        f'name = "x"\nzone = "hvz-centrum"\n[profile]\nfile = "{pf}"\n[posts]\nactive = ["P01"]\n', encoding="utf-8"
    )
    assert profile_of(parse_scenario(sc_path)).key() == prof.key()
    bad = tmp_path / "bad.json"
    d["factors"]["free"]["local/urban"] = 0
    bad.write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        kz.get_profile(str(bad))
    assert str(bad) in str(e.value) and "factors.free.local/urban" in str(e.value)


# ------------------------------------------------------------------ validate
def test_validate_headline_observed_side_by_hand(synthetic, tmp_path, capsys, hvz_zone):
    """The observed shares of ``kazerne validate`` equal the ones computed here from the CSV with the
    standard library: per incident the first arrival after the call, the spoiled rows left out, the
    incidents outside the zone's municipalities (WGS84 polygons of the pack, shapely) too."""
    import shapely

    path, df = synthetic
    zone_poly = shapely.union_all([m.geometry for m in hvz_zone.pack.municipalities])
    out = tmp_path / "out"
    rc = main(["validate", str(path), str(ROOT / "scenarios" / "hvz-centrum-2019.toml"), "--out", str(out), "--quiet"])
    cap = capsys.readouterr()
    assert rc == 0 and "share of incidents reached within" in cap.out
    summary = json.loads((out / "validate-hvz-centrum-2019" / "summary.json").read_text(encoding="utf-8"))
    first: dict = {}
    for r in df[df["synthetic_defect"] == ""].to_dict("records"):
        if not shapely.contains_xy(zone_poly, float(r["lon"]), float(r["lat"])):
            continue
        t = (datetime.fromisoformat(r["arrival_time"]) - datetime.fromisoformat(r["call_time"])).total_seconds()
        first[r["incident_id"]] = min(first.get(r["incident_id"], t), t)
    obs = np.array(list(first.values()))
    zone = summary["headline"][0]
    assert zone["group"] == "zone" and zone["incidents"] == len(obs)
    for t in (8, 10, 12, 15):
        assert zone[f"observed_within_{t}"] == round(float(np.mean(obs <= t * 60)), 4)
        assert 0 <= zone[f"modelled_within_{t}"] <= 1
    assert zone["observed_mean_min"] == round(float(obs.mean()) / 60, 2)
    with open(out / "validate-hvz-centrum-2019" / "validation_records.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == int((df["synthetic_defect"] == "").sum())
    assert summary["record_by_record"]["response_from_call"]["n"] == len(rows)
    road = hvz_zone.net.describe()
    assert any(road["road_data_date"] in a and road["source"] in a for a in summary["assumptions"])


def test_incident_demand_is_the_validations_model(synthetic, hvz_zone, tmp_path):
    """``[demand] incidents = RECORDS`` makes the baseline incident-weighted: its shares (the runner's
    own path, post_times + evaluate) equal the modelled shares of ``validate`` on the same records."""
    import kazerne as kz
    from kazerne.calibration.records import incident_demand
    from kazerne.calibration.validate import validate
    from kazerne.progress import Progress
    from kazerne.scenarios.context import load_context
    from kazerne.scenarios.resolve import resolve_posts
    from kazerne.scenarios.runner import post_times
    from kazerne.scenarios.schema import parse_scenario

    path, _ = synthetic
    base = (ROOT / "scenarios" / "hvz-centrum-2019.toml").read_text(encoding="utf-8")
    sc_path = tmp_path / "inc.toml"
    sc_path.write_text(base.replace("grid_m = 250", f'incidents = "{path}"'), encoding="utf-8")
    sc = parse_scenario(sc_path)
    ctx = load_context(sc, Progress(True))
    assert ctx.demand.meta["weighting"] == "incidents" and ctx.demand.model.startswith("incidents")
    rep = kz.evaluate(post_times(ctx, resolve_posts(ctx.zone, sc)), ctx.demand, sc.thresholds_min)
    head = validate(hvz_zone, path, sc)["summary"]["headline"][0]
    assert head["incidents"] == len(incident_demand(hvz_zone, path)) == rep.total_weight
    for t, share in zip(sc.thresholds_min, rep.zone_share):
        assert head[f"modelled_within_{t:g}"] == round(float(share), 4)


def test_validate_kind_scenario_file_command_and_api_agree(synthetic, tmp_path, hvz_zone):
    """``[validate] records = ...`` in a scenario file (kazerne run), ``kazerne validate RECORDS
    SCENARIO`` and ``kz.validate`` give the same record-by-record errors and headline rows."""
    import kazerne as kz

    path, _ = synthetic
    base = ROOT / "scenarios" / "hvz-centrum-2019.toml"
    sc_path = tmp_path / "val.toml"
    sc_path.write_text(base.read_text(encoding="utf-8") + f'\n[validate]\nrecords = "{path}"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(sc_path), "--out", str(out), "--quiet"]) == 0
    by_file = json.loads((out / "hvz-centrum-2019" / "summary.json").read_text(encoding="utf-8"))
    assert main(["validate", str(path), str(base), "--out", str(out), "--quiet"]) == 0
    by_cmd = json.loads((out / "validate-hvz-centrum-2019" / "summary.json").read_text(encoding="utf-8"))
    by_api = kz.validate(hvz_zone, path, base)["summary"]
    assert by_file["kind"] == by_cmd["kind"] == "validate"
    for other in (by_cmd, by_api):
        assert by_file["headline"] == other["headline"]
        assert by_file["record_by_record"] == json.loads(json.dumps(other["record_by_record"]))
    assert by_file["headline"][0]["group"] == "zone" and by_file["headline"][0]["incidents"] > 100
    from kazerne.scenarios.schema import parse_scenario_data

    with pytest.raises(ScenarioError, match="validate.records"):
        parse_scenario_data(
            {"name": "x", "zone": "hvz-centrum", "validate": {"records": str(tmp_path / "none.csv")}}, sc_path
        )
