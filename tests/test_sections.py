"""Typed scenario sections (kazerne/scenarios/sections.py) and the run-kind registry of issue 22.

Parsing only (no zone pack): the defaults a scenario gets without a section are the dataclass's,
written out here from scenarios/README.md; a section is frozen; the read-only mapping view keeps the
old dict reads working; the baseline and [ems] are run kinds; column names come from one function.
"""

from __future__ import annotations

import dataclasses

import pytest

from kazerne.coverage.metrics import key_minutes, minutes_key, population_key, share_key
from kazerne.errors import ScenarioError
from kazerne.scenarios import kinds
from kazerne.scenarios.schema import Scenario, parse_scenario
from kazerne.scenarios.sections import DemandSection, EmsSection, OutputsSection, ProfileSection, ResponseSection


def write(tmp_path, body: str, name: str = "s"):
    p = tmp_path / f"{name}.toml"
    p.write_text(f'name = "{name}"\nzone = "hvz-centrum"\n' + body, encoding="utf-8")
    return p


BASE = '[posts]\nactive = ["P01", "P02"]\n'
EMS = '[ems]\nkind = "ems-evaluate"\ncalls_per_year = 1000\n[[ems.units]]\nbase = "H01"\n'


def test_defaults_without_sections(tmp_path):
    sc = parse_scenario(write(tmp_path, BASE))
    # scenarios/README.md: fire_engine profile, 250 m grid, 500 m snapping, every layer but isochrones
    assert sc.profile == ProfileSection(name="fire_engine")
    assert dict(sc.profile) == {"name": "fire_engine"}
    assert (sc.demand.grid_m, sc.demand.max_snap_m, sc.demand.file, sc.demand.incidents) == (250.0, 500.0, None, None)
    assert sc.outputs == OutputsSection()
    o = sc.outputs
    assert (o.geojson, o.first_due_areas, o.isochrones, o.map, o.report, o.gpkg, o.gpkg_epsg) == (
        True,
        True,
        False,
        True,
        True,
        True,
        31370,
    )
    assert sc.fleet.engine == "AP" and sc.fleet.full_crew == 6 and not sc.fleet.declared
    assert sc.fleet.neighbours == () and dict(sc.fleet.responses) == {}
    assert sc.response is None and sc.call_handling_s == 90.0
    # a Scenario built in Python gets the same sections as an empty file
    bare = Scenario(path=sc.path, name="s", zone="hvz-centrum")
    assert (bare.profile, bare.demand, bare.outputs, bare.fleet) == (sc.profile, sc.demand, sc.outputs, sc.fleet)


def test_given_values_typed(tmp_path):
    body = (
        BASE
        + '[profile]\nname = "ambulance"\nspeed_scale = 0.9\nperiod = "rush_hour"\n'
        + "[demand]\ngrid_m = 500\nmax_snap_m = 300\n"
        + "[outputs]\nmap = false\ngpkg_epsg = 4326\n"
        + "[response]\ncall_handling_s = 60\n"
    )
    sc = parse_scenario(write(tmp_path, body))
    assert sc.profile.name == "ambulance" and sc.profile.speed_scale == 0.9 and sc.profile.period == "rush_hour"
    assert sc.profile.overrides() == {"speed_scale": 0.9, "period": "rush_hour"}
    assert sc.demand == DemandSection(max_snap_m=300.0, grid_m=500.0)
    assert sc.outputs.map is False and sc.outputs.gpkg_epsg == 4326 and sc.outputs.report is True
    assert sc.outputs.report_options() == {"maps": False, "report": True, "gpkg": True, "epsg": 4326}
    assert sc.response == ResponseSection(call_handling_s=60.0)
    assert sc.call_handling_s == 60.0


def test_demand_file_replaces_the_grid(tmp_path):
    (tmp_path / "d.csv").write_text("lon,lat,weight\n3.7,51.05,1\n", encoding="utf-8")
    sc = parse_scenario(write(tmp_path, BASE + '[demand]\nfile = "d.csv"\n'))
    assert sc.demand.grid_m is None and sc.demand.file == str(tmp_path / "d.csv")
    assert "file" in sc.demand and "grid_m" not in sc.demand and "incidents" not in sc.demand
    assert dict(sc.demand) == {"max_snap_m": 500.0, "file": str(tmp_path / "d.csv")}


def test_sections_are_frozen(tmp_path):
    sc = parse_scenario(write(tmp_path, BASE))
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.outputs.map = False
    lean = sc.outputs.lean(geojson=True)
    assert (lean.map, lean.report, lean.gpkg, lean.geojson, lean.first_due_areas) == (False, False, False, True, False)
    assert sc.outputs.map is True  # unchanged


def test_mapping_view(tmp_path):
    sc = parse_scenario(write(tmp_path, BASE))
    assert sc.outputs.get("map", False) is True and sc.profile.get("period", "none") == "none"
    assert sc.profile["period"] is None  # a field is readable even when unset
    with pytest.raises(KeyError):
        sc.profile["no_such_field"]


def test_ems_is_a_registered_kind(tmp_path):
    sc = parse_scenario(write(tmp_path, EMS))
    assert isinstance(sc.ems, EmsSection) and sc.kinds == {"ems": sc.ems}
    kind, spec = kinds.kind_of(sc)
    assert kind.name == "ems" and spec is sc.ems
    assert kinds.kind_label(sc) == "ems:ems-evaluate"
    e = sc.ems
    # scenarios/README.md: 15 min, 90 %, 60 min missions, 120 s ambulance turnout, MEXCLP
    assert (e.threshold, e.norm_share, e.mission_minutes, e.turnout_s, e.model) == (15.0, 0.9, 60.0, 120.0, "mexclp")
    assert e.busy_fraction is None and e["busy_fraction"] is None and e.simulate.replications == 10
    assert [(u.base, u.count) for u in e.units] == [("H01", 1)]
    assert sc.profile.name == "ambulance"  # the unit's speeds unless [profile] names one


def test_ems_response_is_call_handling_only(tmp_path):
    sc = parse_scenario(write(tmp_path, EMS + "[response]\ncall_handling_s = 45\n"))
    assert sc.call_handling_s == 45.0 and sc.response is None
    with pytest.raises(ScenarioError) as e:
        parse_scenario(write(tmp_path, EMS + '[response]\nturnout_model = "distribution"\n'))
    assert e.value.field == "response.turnout_model"
    with pytest.raises(ScenarioError) as e:
        parse_scenario(write(tmp_path, EMS + '[[slices]]\nname = "all"\n'))
    assert e.value.field == "slices"


def test_baseline_is_the_default_kind(tmp_path):
    sc = parse_scenario(write(tmp_path, BASE))
    kind, spec = kinds.kind_of(sc)
    assert kind.name == "baseline" and spec is None and kinds.kind_label(sc) == "baseline"
    assert "baseline" not in kinds.kind_names()  # not a section: [baseline] stays an unknown key
    with pytest.raises(ScenarioError, match="unknown key"):
        parse_scenario(write(tmp_path, BASE + "[baseline]\nx = 1\n"))
    assert kinds.summary_kind({"kind": "baseline"}).name == "baseline"
    assert kinds.summary_kind({"study": {}}) is None


def test_study_keeps_its_own_dispatch(tmp_path):
    sc = parse_scenario(write(tmp_path, BASE + '[study]\nkind = "add"\n'))
    assert kinds.kind_of(sc) is None and kinds.kind_label(sc) == "study:add"
    with pytest.raises(ScenarioError, match="one kind of run") as e:
        parse_scenario(write(tmp_path, EMS + '[study]\nkind = "add"\n'))
    assert e.value.field == "ems"


@pytest.mark.parametrize(
    "minutes,share,pop",
    [
        (12, "share_within_12min", "population_within_12min"),
        (12.0, "share_within_12min", "population_within_12min"),
        (7.5, "share_within_7.5min", "population_within_7.5min"),
    ],
)
def test_column_names_from_one_function(minutes, share, pop):
    assert share_key(minutes) == share and population_key(minutes) == pop
    assert key_minutes(share) == float(minutes) and key_minutes(pop) == float(minutes)
    assert minutes_key(minutes) == share[len("share_within_") : -len("min")]
    assert share_key(minutes, "_busy_aware") == share + "_busy_aware"
    assert key_minutes("share_within_busy_aware") is None and key_minutes("mean_min") is None
