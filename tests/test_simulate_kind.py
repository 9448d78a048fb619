"""``[simulate]`` and ``kazerne simulate``: validation (one line naming the field, exit 2), the pack's
112 departure locations, and the same answer from the scenario runner and the command line."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from kazerne.cli import main as cli_main
from kazerne.errors import ScenarioError
from kazerne.scenarios.schema import parse_scenario

HAVE_PACK = any((Path(p) / "hvz-centrum").is_dir() for p in os.environ.get("KAZERNE_DATA", "").split(os.pathsep) if p)


def write(tmp_path, body: str, name: str = "sim") -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(f'name = "{name}"\nzone = "hvz-centrum"\n' + body, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    "body, field",
    [
        ("rate_per_1000 = 0", "simulate.rate_per_1000"),
        ("rate_per_1000 = -35", "simulate.rate_per_1000"),
        ("transport_share = 1.01", "simulate.transport_share"),
        ("pack = false", "simulate.units"),
        ('[[simulate.units]]\nbase = "E12"\ncount = 0', "simulate.units[0].count"),
        ('[[simulate.units]]\nbase = "E12"\ntype = "mug"', "simulate.units[0].type"),
        ("[[simulate.priorities]]\nshare = 0.5", "simulate.priorities"),
        ("onscene = { median_s = 900, p90_s = 600 }", "simulate.onscene.p90_s"),
        ("replications = 0", "simulate.replications"),
        ('records = "."', "simulate.records"),
        ('records = "no-such-file.csv"', "simulate.records"),
    ],
)
def test_bad_sections_name_the_field(tmp_path, body, field):
    sect = "[simulate]\n" + body if not body.startswith("[[") else "[simulate]\n" + body
    with pytest.raises(ScenarioError) as e:
        parse_scenario(write(tmp_path, sect + "\n"))
    assert e.value.field == field


def test_ems_simulate_field(tmp_path):
    ems = '[ems]\nkind = "ems-evaluate"\ncalls_per_year = 1000\n[[ems.units]]\nbase = "H01"\n'
    assert parse_scenario(write(tmp_path, ems)).ems["simulate"]["replications"] == 10
    assert parse_scenario(write(tmp_path, ems.replace("[[ems", "simulate = false\n[[ems"))).ems["simulate"] is None
    for bad, fld in (
        ("simulate = { replications = 1 }", "ems.simulate.replications"),
        ("simulate = { x = 1 }", "ems.simulate.x"),
    ):
        with pytest.raises(ScenarioError) as e:
            parse_scenario(write(tmp_path, ems.replace("[[ems", bad + "\n[[ems")))
        assert e.value.field == fld


def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys):
    p = write(tmp_path, "[simulate]\ntransport_share = 2\n")
    assert cli_main(["simulate", str(p), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "simulate.transport_share" in err[0] and str(p) in err[0]
    assert not (tmp_path / "out" / "sim").exists()
    assert cli_main(["simulate", "--zone", "hvz-centrum", "--days", "-1", "--quiet"]) == 2
    assert "simulate.days" in capsys.readouterr().err


def team_counts_by_hand(path: Path) -> tuple[int, int]:
    """(services, teams) of the federal list, read with csv + a regex (not the engine's parser)."""
    teams, services = 0, set()
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for code in re.findall(r"Team: ([A-Z0-9]+)\)", row["teams"]):
                if code[:2] in ("AO", "AV", "PW", "PO"):  # ambulance (ZW) or PIT codes of the list
                    teams += 1
                    services.add(code[:-1])
    return len(services), teams


@pytest.mark.skipif(not HAVE_PACK, reason="needs the hvz-centrum zone pack (KAZERNE_DATA)")
def test_the_pack_list_and_a_short_run_through_cli_and_runner(tmp_path, capsys):
    from kazerne.coverage.simbuild import pack_units
    from kazerne.routing.zonepack import load_pack
    from kazerne.scenarios.runner import run_file

    pack = load_pack("hvz-centrum")
    assert len(pack.ems_bases) == 35
    n_services, n_teams = team_counts_by_hand(pack.path / "ems-bases.csv")
    assert len(pack_units(pack)) == n_services
    assert len(pack_units(pack, "location")) == n_teams

    body = "[simulate]\nreplications = 3\ndays = 14\nseed = 9\nanalytical = true\n"
    p = write(tmp_path, body)
    target = run_file(p, tmp_path / "a")
    assert cli_main(["simulate", str(p), "--out", str(tmp_path / "b"), "--quiet"]) == 0
    a = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "b" / "sim" / "summary.json").read_text(encoding="utf-8"))
    assert a["zone"] == b["zone"] and a["municipalities"] == b["municipalities"]  # one path, one answer

    bases = {r["id"]: r for r in a["bases"] if r["kind"] == "base"}
    assert len(bases) == 35
    assert not bases["E18"]["used"] and "not simulated" in bases["E18"]["note"]  # Lennik, ~35 km out
    units = a["units"]
    assert {(u["base"], u["type"]) for u in units} >= {("E12", "ambulance"), ("E12", "pit")}
    assert all(bases[u["base"]]["used"] for u in units)
    # calls: 35 per 1,000 inhabitants with road data a year (the population independently from the demand)
    import kazerne as kz

    zone = kz.load_zone("hvz-centrum", quiet=True)
    d = kz.population_grid(zone)
    expected = 35.0 * d.weight[~d.no_road_data].sum() / 1000.0
    assert a["zone"]["calls_per_year"] == pytest.approx(expected, rel=0.05)
    munis = a["municipalities"]
    assert sum(m["calls_per_year"] for m in munis) == pytest.approx(a["zone"]["calls_per_year"], abs=0.1 * len(munis))
    z = a["zone"]
    assert z["share_within_lo"] <= z["share_within"] <= z["share_within_hi"]
    assert 0.0 <= z["hypercube_share_within"] <= z["hypercube_share_within_if_all_free"] <= 1.0
    # the console of the run prints the zone row and every municipality
    from kazerne.scenarios.runner import print_run

    print_run(target)
    out = capsys.readouterr().out
    assert "zone" in out and all(m["municipality"] in out for m in munis)
    assert np.isfinite(z["mean_min"])
    page = (target / "report.html").read_text(encoding="utf-8")
    assert f"{100 * z['share_within']:.1f} %" in page and "Per municipality" in page
    assert 'src="http' not in page and 'href="http' not in page  # self-contained, opens offline


@pytest.mark.skipif(not HAVE_PACK, reason="needs the hvz-centrum zone pack (KAZERNE_DATA)")
def test_a_base_off_the_network_names_its_field(tmp_path, capsys):
    p = write(
        tmp_path,
        '[simulate]\npack = false\n[[simulate.bases]]\nid = "X"\nlat = 50.5\nlon = 5.5\n'
        '[[simulate.units]]\nbase = "X"\n',
    )
    assert cli_main(["simulate", str(p), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "simulate.bases[0]" in err[0]
    assert not (tmp_path / "out" / "sim").exists()


HEADER = "incident_id,vehicle_type,post_id,call_time,alarm_time,departure_time,arrival_time,lon,lat"


def _records(path: Path, rows: list[str]) -> Path:
    """A dispatch-records file (the calibration format) of ``rows``: ``id,type,post,call,arrival,lon,lat``."""
    out = []
    for r in rows:
        iid, vt, post, call, arr, lon, lat = r.split(",")
        out.append(",".join([iid, vt, post, call, "", "", arr, lon, lat]))
    path.write_text(HEADER + "\n" + "\n".join(out) + "\n", encoding="utf-8")
    return path


def test_call_records_rate_hours_places_and_rejects(tmp_path, hvz_zone):
    from kazerne.calibration.records import call_records
    from kazerne.errors import RecordsError

    # demand points: the Korenmarkt and two points 2 and 5.5 km east of it
    lon, lat = np.array([3.7211, 3.75, 3.80]), np.array([51.0546, 51.0546, 51.0546])
    rows = []
    for day in range(15):  # Monday 2022-06-06 .. Monday 2022-06-20, 10:15 each day, from post P01 (1.8 km)
        d = f"2022-06-{6 + day:02d}"
        rows.append(f"I{day},ambulance,P01,{d}T10:15:00,{d}T10:25:00,3.7212,51.0547")
        rows.append(f"I{day},pit,P01,{d}T10:16:00,{d}T10:24:00,3.7212,51.0547")  # a second vehicle: one call
    rows.append("X1,ambulance,P01,not-a-time,2022-06-07T01:10:00,3.7211,51.0546")
    rows.append("X2,ambulance,P01,2022-06-07T01:00:00,2022-06-07T01:10:00,,51.0546")
    rows.append("X3,ambulance,P01,2022-06-07T01:00:00,2022-06-07T01:10:00,3.66,51.05")  # on the roads, 4 km west
    rec = call_records(hvz_zone, _records(tmp_path / "r.csv", rows), lon, lat)
    assert rec.incidents == 15 and rec.span_days == pytest.approx(14.0)
    assert rec.calls_per_year == pytest.approx(15 * 365 / 14.0)
    assert list(rec.weights) == [15.0, 0.0, 0.0]
    # every call at 10 h on a weekday or weekend day: intensity only in the 7 hours "day x 10 h"
    hot = [d * 24 + 10 for d in range(7)]
    assert set(np.flatnonzero(rec.hourly)) == set(hot) and rec.hourly.mean() == pytest.approx(1.0)
    # the rejects of the calibration reader (by its reasons), plus the incident off the demand
    assert rec.rejected == {"bad_time": 1, "bad_position": 1, "far_from_demand": 1}
    with pytest.raises(RecordsError) as e:
        call_records(hvz_zone, _records(tmp_path / "short.csv", rows[:4]), lon, lat)
    assert "at least 7" in str(e.value) and "short.csv" in str(e.value)
    (tmp_path / "nocol.csv").write_text(
        "incident_id,vehicle_type,post_id,lon,lat\n1,PIT,P01,3.7,51.0\n", encoding="utf-8"
    )
    with pytest.raises(RecordsError, match="call_time"):
        call_records(hvz_zone, tmp_path / "nocol.csv", lon, lat)


@pytest.mark.skipif(not HAVE_PACK, reason="needs the hvz-centrum zone pack (KAZERNE_DATA)")
def test_records_drive_the_simulated_calls(tmp_path):
    from kazerne.scenarios.runner import run_file

    # 3 weeks of calls, every one at the Korenmarkt in Gent
    rows = [
        f"I{k},ambulance,P01,2022-06-{6 + k // 10:02d}T{k % 24:02d}:05:00,2022-06-{6 + k // 10:02d}T{k % 24:02d}:15:00,"
        "3.7211,51.0546"
        for k in range(210)
    ]
    _records(tmp_path / "calls.csv", rows)
    p = write(tmp_path, '[simulate]\nrecords = "calls.csv"\nreplications = 2\ndays = 14\nanalytical = false\n')
    s = json.loads((run_file(p, tmp_path / "out") / "summary.json").read_text(encoding="utf-8"))
    rec = s["assumptions"]["simulation"]["records"]
    assert rec["incidents"] == 210 and rec["rejected_rows"] == {}
    span = 20 + 17 / 24  # 2022-06-06 00:05 .. 2022-06-26 17:05
    assert s["assumptions"]["simulation"]["calls"]["calls_per_year"] == pytest.approx(210 * 365 / span)
    by = {m["municipality"]: m["calls_per_year"] for m in s["municipalities"]}
    assert by["Gent"] > 0 and all(v == 0 or v is None for k, v in by.items() if k != "Gent")
    assert s["zone"]["calls_per_year"] == pytest.approx(by["Gent"])


@pytest.mark.skipif(not HAVE_PACK, reason="needs the hvz-centrum zone pack (KAZERNE_DATA)")
def test_reverse_drive_times_are_the_times_towards_the_source():
    import kazerne as kz

    zone = kz.load_zone("hvz-centrum", quiet=True)
    prof = kz.get_profile("ambulance")
    src = int(zone.site_node(3.7211, 51.0546, what="test"))  # Korenmarkt, one-way streets around it
    rev = kz.drive_times(zone.net, prof, [src], reverse=True)[0]
    others = np.random.default_rng(0).choice(zone.net.n_nodes, 6, replace=False)
    fwd = kz.drive_times(zone.net, prof, others)[:, src]  # from each node to the source, searched forward
    np.testing.assert_allclose(rev[others], fwd, rtol=1e-9)
    assert not np.allclose(kz.drive_times(zone.net, prof, [src])[0][others], fwd)  # the direction matters here


@pytest.mark.skipif(not HAVE_PACK, reason="needs the hvz-centrum zone pack (KAZERNE_DATA)")
def test_records_without_the_calibration_columns_exit_2_naming_file_and_column(tmp_path, capsys):
    # the short format (incident_id, call_time, lon, lat) is no longer a second record format: one line, exit 2
    (tmp_path / "calls.csv").write_text(
        "incident_id,call_time,lon,lat\nI1,2022-06-06T10:00:00,3.7211,51.0546\n", encoding="utf-8"
    )
    p = write(tmp_path, '[simulate]\nrecords = "calls.csv"\nreplications = 2\ndays = 7\nanalytical = false\n')
    assert cli_main(["simulate", str(p), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "calls.csv" in err[0] and "vehicle_type" in err[0] and "row 1" in err[0]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
