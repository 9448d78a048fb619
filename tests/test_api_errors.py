"""Every public name of ``kazerne`` (``kazerne._EXPORTS``) called with bad arguments.

Each case must raise a :class:`~kazerne.errors.KazerneError` subclass whose message is one line and
names the argument (``field``) or the file (``source``) — never a ``TypeError``, ``IndexError``,
``AttributeError`` or ``ValueError`` from inside numpy, shapely or OR-Tools. The meta-test
:func:`test_every_exported_callable_has_a_case` fails when an export has no case, so a new export
cannot slip through without one.

Pack-free: the zone is the tiny generated road network of ``tests/osm_fixture.py`` with one
municipality drawn around it (two posts, a 100 m population grid), built once per module.
"""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path

import numpy as np
import osm_fixture as fx
import pytest
from shapely.geometry import box

import kazerne as kz
from kazerne.errors import KazerneError

NAN, INF = float("nan"), float("inf")


class Env:
    """The tiny zone and what the cases call the API with."""

    def __init__(self, folder: Path):
        from kazerne.routing.network import load_network
        from kazerne.routing.snapping import geom_to_metric
        from kazerne.routing.zonepack import Municipality, Site, ZonePack

        osm = fx.write_osm(folder / "roads.osm")
        net = load_network(osm, use_cache=False, quiet=True)
        lons = [v[0] for v in fx.NODES.values()]
        lats = [v[1] for v in fx.NODES.values()]
        geom = box(min(lons) - 0.005, min(lats) - 0.005, max(lons) + 0.005, max(lats) + 0.005)
        mun = Municipality("Testdorp", 1000.0, geom, nis_code="1")
        (lo1, la1), (lo2, la2) = fx.NODES["g0_0"], fx.NODES["F"]
        posts = [
            Site("T1", "Post 1", "Testdorp", la1, lo1, crew="professional", status="active"),
            Site("T2", "Post 2", "Testdorp", la2, lo2, crew="volunteer", status="active"),
        ]
        pack = ZonePack(
            name="tiny",
            path=folder,
            roads_file=osm,
            municipalities=[mun],
            posts=posts,
            medical_sites=[],
            population_year="2020",
            road_data_date="2026-12",
        )
        m = geom_to_metric(geom)
        self.folder = folder
        self.zone = kz.Zone(pack=pack, net=net, zone_metric=m, gap_metric=None, municipalities_metric=[m])
        self.net = net
        self.profile = kz.get_profile("fire_engine")
        self.demand = kz.population_grid(self.zone, cell_m=100)
        self.demand50 = kz.population_grid(self.zone, cell_m=50)  # another grid (more points)
        self.sites = kz.Sites.from_posts(self.zone)
        self.tt = kz.travel_times(self.zone, self.sites, self.demand, "fire_engine")
        cost = np.array([[60.0, 400.0, 900.0], [500.0, 100.0, 200.0], [300.0, 300.0, 50.0]])
        self.problem = kz.from_cost_matrix(cost, [1.0, 2.0, 3.0])
        self.report = kz.evaluate(self.tt, self.demand)
        self.fleet = kz.Fleet(site_ids=list(self.sites.ids), counts={"AP": [1, 1]}, crew_size=np.array([6, 4]))
        self.times = kz.fleet_times(self.zone, self.sites, self.demand, self.fleet)
        self.dist = [kz.TurnoutDist(90, 120, 45), kz.TurnoutDist(300, 480, 120)]
        self.rresp = kz.evaluate_response(self.tt, self.demand, self.dist)
        # a one-base, two-point EMS system from plain matrices (the hypercube's assumptions)
        self.ems = kz.EmsSystem.from_matrices([[300.0, 1000.0]], [1.0, 3.0], [0])
        self._sim = None

    @property
    def sim(self):
        """A short simulation of :attr:`ems` (built on first use: only the cases that need it pay)."""
        if self._sim is None:
            calls = kz.CallModel(calls_per_year=500.0, exponential_service_s=1800.0, transport_share=0.0)
            self._sim = kz.simulate(self.ems, calls, replications=2, days=2.0, seed=1, engine="python")
        return self._sim

    def file(self, name: str, text: str) -> Path:
        p = self.folder / name
        p.write_text(text, encoding="utf-8")
        return p

    def geojson(self, name: str, features) -> Path:
        return self.file(name, json.dumps({"type": "FeatureCollection", "features": features}))

    def point(self, **props) -> dict:
        lon, lat = fx.NODES["g3_3"]
        return {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [lon, lat]}}


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Env:
    return Env(tmp_path_factory.mktemp("tiny-zone"))


def _deep(n: int) -> str:
    return '{"type": "FeatureCollection", "features": ' + "[" * n + "]" * n + "}"


def _lonlat_off_zone(e):
    return kz.Sites.from_lonlat(e.zone, "S1", 3.6, 50.9)  # one id as a string, one point far away


def _raise(exc):
    raise exc


#: (export, case, call). ``call(env)`` must raise a KazerneError with a one-line message.
CASES = [
    ("located_sites", "zone-not-a-zone", lambda e: kz.located_sites("tiny", e.zone.pack.posts)),
    ("located_sites", "sites-not-a-list", lambda e: kz.located_sites(e.zone, 3)),
    ("located_sites", "sites-without-positions", lambda e: kz.located_sites(e.zone, ["P1", "P2"])),
    ("gap_shadow", "zone-not-a-zone", lambda e: kz.gap_shadow("tiny", e.demand)),
    ("gap_shadow", "demand-not-demand", lambda e: kz.gap_shadow(e.zone, [1, 2, 3])),
    ("gap_shadow", "profile-unknown", lambda e: kz.gap_shadow(e.zone, e.demand, "rocket")),
    # zone and network
    ("load_zone", "name-not-text", lambda e: kz.load_zone(3)),
    ("load_zone", "unknown-pack", lambda e: kz.load_zone("no-such-zone-pack")),
    (
        "Zone",
        "pack-not-a-pack",
        lambda e: kz.Zone(pack="tiny", net=e.net, zone_metric=None, gap_metric=None, municipalities_metric=[]),
    ),
    (
        "Zone",
        "net-not-a-network",
        lambda e: kz.Zone(pack=e.zone.pack, net=None, zone_metric=None, gap_metric=None, municipalities_metric=[]),
    ),
    ("RoadNetwork", "arrays-of-text", lambda e: kz.RoadNetwork(*(["a"] * 12))),
    (
        "RoadNetwork",
        "edge-to-a-missing-node",
        lambda e: kz.RoadNetwork(
            lon=[3.7, 3.71],
            lat=[51.0, 51.0],
            x=[0.0, 700.0],
            y=[0.0, 0.0],
            u=[0],
            v=[5],
            length=[700.0],
            cls=[0],
            maxspeed=[NAN],
            urban=[False],
            geom_offsets=[0, 2],
            geom_xy=[[0.0, 0.0], [700.0, 0.0]],
        ),
    ),
    ("get_profile", "unknown-name", lambda e: kz.get_profile("rocket")),
    ("get_profile", "speed-scale-text", lambda e: kz.get_profile("fire_engine", speed_scale="fast")),
    ("get_profile", "unknown-override", lambda e: kz.get_profile("fire_engine", wings=True)),
    ("SpeedProfile", "speeds-not-a-table", lambda e: kz.SpeedProfile(name="x", speeds_kmh="fast")),
    ("SpeedProfile", "speed-negative", lambda e: kz.SpeedProfile(name="x", speeds_kmh={"residential": -30})),
    ("route", "net-not-a-network", lambda e: kz.route("net", e.profile, 0, 1)),
    ("route", "node-out-of-range", lambda e: kz.route(e.net, e.profile, 0, 10**9)),
    ("route", "profile-not-a-profile", lambda e: kz.route(e.net, 3, 0, 1)),
    ("Route", "fields-of-the-wrong-type", lambda e: kz.Route(1, "a", "b", "fast", None, None, "legs", "xy", 0, 0)),
    ("audit", "seed-negative", lambda e: kz.audit(e.zone, seed=-1)),
    ("audit", "unknown-parameter", lambda e: kz.audit(e.zone, depth=3)),
    ("audit", "zone-not-a-zone", lambda e: kz.audit("tiny")),
    ("isochrone_polygons", "node-out-of-range", lambda e: kz.isochrone_polygons(e.net, e.profile, -1, 90)),
    ("isochrone_polygons", "minutes-negative", lambda e: kz.isochrone_polygons(e.net, e.profile, 0, 90, minutes=[-5])),
    ("isochrone_polygons", "turnout-nan", lambda e: kz.isochrone_polygons(e.net, e.profile, 0, NAN)),
    ("drive_times", "net-not-a-network", lambda e: kz.drive_times("net", e.profile, [0])),
    ("drive_times", "node-out-of-range", lambda e: kz.drive_times(e.net, e.profile, [10**9])),
    ("drive_times", "cutoff-nan", lambda e: kz.drive_times(e.net, e.profile, [0], cutoff_s=NAN)),
    # demand and sites
    ("population_grid", "cell-negative", lambda e: kz.population_grid(e.zone, cell_m=-1)),
    ("population_grid", "zone-not-a-zone", lambda e: kz.population_grid("tiny")),
    ("population_grid", "snap-nan", lambda e: kz.population_grid(e.zone, max_snap_m=NAN)),
    (
        "demand_from_file",
        "properties-a-list",
        lambda e: kz.demand_from_file(e.zone, e.geojson("p.geojson", [{**e.point(), "properties": [1, 2]}])),
    ),
    (
        "demand_from_file",
        "geometry-a-string",
        lambda e: kz.demand_from_file(e.zone, e.geojson("g.geojson", [{**e.point(), "geometry": "POINT (3.7 51.05)"}])),
    ),
    (
        "demand_from_file",
        "nested-5000-deep",
        lambda e: kz.demand_from_file(e.zone, e.file("deep.geojson", _deep(5000))),
    ),
    (
        "demand_from_file",
        "weights-1e308",
        lambda e: kz.demand_from_file(e.zone, e.geojson("w.geojson", [e.point(weight=1e308), e.point(weight=1e308)])),
    ),
    (
        "demand_from_file",
        "weight-text",
        lambda e: kz.demand_from_file(e.zone, e.geojson("t.geojson", [e.point(weight="12")])),
    ),
    ("demand_from_file", "path-a-number", lambda e: kz.demand_from_file(e.zone, 3)),
    (
        "demand_from_file",
        "csv-lon-inf",
        lambda e: kz.demand_from_file(e.zone, e.file("inf.csv", "lon,lat,weight\ninf,51.05,1\n")),
    ),
    (
        "DemandPoints",
        "lengths-differ",
        lambda e: kz.DemandPoints(
            x=[1.0, 2.0],
            y=[1.0],
            lon=[3.7],
            lat=[51.0],
            weight=[1.0],
            municipality=[0],
            municipality_names=["a"],
            node=[0],
            snap_m=[0.0],
            no_road_data=[False],
            in_gap=[False],
            model="m",
        ),
    ),
    (
        "DemandPoints",
        "weights-text",
        lambda e: kz.DemandPoints(
            x=[1.0],
            y=[1.0],
            lon=[3.7],
            lat=[51.0],
            weight=["many"],
            municipality=[0],
            municipality_names=["a"],
            node=[0],
            snap_m=[0.0],
            no_road_data=[False],
            in_gap=[False],
            model="m",
        ),
    ),
    (
        "Sites",
        "lengths-differ",
        lambda e: kz.Sites(ids=["a"], names=["A"], node=[0, 1], lon=[3.7], lat=[51.0], turnout_s=[90]),
    ),
    (
        "Sites",
        "ids-not-a-list",
        lambda e: kz.Sites(ids=5, names=["A"], node=[0], lon=[3.7], lat=[51.0], turnout_s=[90]),
    ),
    ("Sites", "from-lonlat-one-id-off-the-zone", _lonlat_off_zone),
    ("Sites", "from-lonlat-lengths-differ", lambda e: kz.Sites.from_lonlat(e.zone, ["a", "b"], [3.70], [51.05])),
    ("Sites", "from-posts-unknown", lambda e: kz.Sites.from_posts(e.zone, ids=["P99"])),
    ("Sites", "candidates-spacing-negative", lambda e: kz.Sites.candidates(e.zone, spacing_m=-1)),
    ("Sites", "subset-unknown-id", lambda e: e.sites.subset(["nope"])),
    # the seam
    ("travel_times", "sites-a-list", lambda e: kz.travel_times(e.zone, ["T1"], e.demand)),
    ("travel_times", "progress-text", lambda e: kz.travel_times(e.zone, e.sites, e.demand, progress="yes")),
    ("travel_times", "demand-not-points", lambda e: kz.travel_times(e.zone, e.sites, [1, 2])),
    ("travel_times", "cutoff-negative", lambda e: kz.travel_times(e.zone, e.sites, e.demand, cutoff_s=-5)),
    ("travel_times", "profile-unknown", lambda e: kz.travel_times(e.zone, e.sites, e.demand, "rocket")),
    (
        "TravelTimes",
        "shape-differs",
        lambda e: kz.TravelTimes(site_ids=["a"], turnout_s=[90], seconds=[[1.0, 2.0], [3.0, 4.0]]),
    ),
    ("TravelTimes", "seconds-text", lambda e: kz.TravelTimes(site_ids=["a"], turnout_s=[90], seconds=[["x"]])),
    ("TravelTimes", "shifted-nan", lambda e: e.tt.shifted(NAN)),
    ("evaluate", "another-demand-grid", lambda e: kz.evaluate(e.tt, e.demand50)),
    ("evaluate", "thresholds-negative", lambda e: kz.evaluate(e.tt, e.demand, thresholds_min=[-1])),
    ("evaluate", "tt-an-array", lambda e: kz.evaluate(np.zeros((2, 3)), e.demand)),
    ("CoverageReport", "fields-of-the-wrong-type", lambda e: kz.CoverageReport(*(["x"] * 15))),
    ("from_cost_matrix", "weights-wrong-length", lambda e: kz.from_cost_matrix(np.ones((2, 3)), [1.0, 2.0])),
    ("from_cost_matrix", "cost-nan", lambda e: kz.from_cost_matrix([[NAN, 1.0]])),
    ("from_cost_matrix", "cost-text", lambda e: kz.from_cost_matrix("costs")),
    ("Problem", "cost-text", lambda e: kz.Problem("cost", [1.0], ["a"], ["d"], [False], [False])),
    (
        "Problem",
        "shapes-differ",
        lambda e: kz.Problem(np.ones((2, 3)), np.ones(2), ["a", "b"], [1, 2, 3], np.zeros(2, bool), np.zeros(2, bool)),
    ),
    ("Problem", "to-problem-wrong-length-weights", lambda e: e.tt.to_problem(np.ones(3))),
    ("SolveResult", "fields-of-the-wrong-type", lambda e: kz.SolveResult(1, 2, "best", "b", "g", "sites", "a", "s", 3)),
    # vehicles
    ("VehicleType", "speed-scale-negative", lambda e: kz.VehicleType("AP", speed_scale=-1)),
    ("VehicleType", "name-not-text", lambda e: kz.VehicleType(3)),
    (
        "Fleet",
        "counts-wrong-length",
        lambda e: kz.Fleet(site_ids=["a"], counts={"AP": [1, 2]}, crew_size=np.array([4])),
    ),
    ("Fleet", "counts-not-a-table", lambda e: kz.Fleet(site_ids=["a"], counts=[1], crew_size=np.array([4]))),
    ("FleetReport", "fields-of-the-wrong-type", lambda e: kz.FleetReport(*(["x"] * 13))),
    ("vehicle_profile", "vtype-a-string", lambda e: kz.vehicle_profile(e.profile, "AP")),
    ("vehicle_profile", "base-unknown", lambda e: kz.vehicle_profile("rocket", kz.VehicleType("AP"))),
    ("fleet_times", "fleet-not-a-fleet", lambda e: kz.fleet_times(e.zone, e.sites, e.demand, "AP")),
    (
        "fleet_times",
        "fleet-of-other-sites",
        lambda e: kz.fleet_times(
            e.zone, e.sites, e.demand, kz.Fleet(site_ids=["X"], counts={"AP": [1]}, crew_size=np.array([4]))
        ),
    ),
    ("evaluate_fleet", "times-not-a-table", lambda e: kz.evaluate_fleet("times", e.fleet, e.demand)),
    ("evaluate_fleet", "thresholds-nan", lambda e: kz.evaluate_fleet(e.times, e.fleet, e.demand, thresholds_min=[NAN])),
    ("arrival_time", "need-negative", lambda e: kz.arrival_time(np.ones((2, 3)), np.ones(2), -1)),
    ("arrival_time", "amount-wrong-length", lambda e: kz.arrival_time(np.ones((2, 3)), np.ones(5), 1)),
    ("arrival_time", "seconds-text", lambda e: kz.arrival_time("x", np.ones(2), 1)),
    ("placement_costs", "candidate-text", lambda e: kz.placement_costs("x")),
    ("placement_costs", "existing-other-width", lambda e: kz.placement_costs(np.ones((2, 3)), np.ones((1, 4)))),
    # response time from the call
    ("Clock", "call-handling-negative", lambda e: kz.Clock(-90)),
    ("Clock", "call-handling-text", lambda e: kz.Clock("90")),
    ("Clock", "turnout-model-unknown", lambda e: kz.Clock(turnout_model="random")),
    ("Clock", "turnout-not-seconds", lambda e: kz.Clock(turnout_by_crew={"professional": "fast"})),
    ("Clock", "turnout-table-not-a-table", lambda e: kz.Clock(turnout_by_crew=90)),
    ("Clock", "assumptions-not-a-table", lambda e: kz.Clock.from_assumptions("call")),
    ("Clock", "args-call-handling-nan", lambda e: kz.Clock.from_args(call_handling_s=NAN)),
    ("Clock", "require-not-a-clock", lambda e: kz.Clock().require(90)),
    ("Clock", "label-unknown", lambda e: kz.Clock().label("poem")),
    ("TurnoutDist", "median-negative", lambda e: kz.TurnoutDist(-1)),
    ("TurnoutDist", "quantile-nan", lambda e: kz.TurnoutDist(90, 120).quantile(NAN)),
    ("TurnoutDist", "quantile-2", lambda e: kz.TurnoutDist(90, 120).quantile(2)),
    ("TurnoutDist", "cdf-text", lambda e: kz.TurnoutDist(90, 120).cdf("soon")),
    ("TurnoutDist", "moved-to-nan", lambda e: kz.TurnoutDist(90, 120).moved_to(NAN)),
    ("TimeSlice", "day-9", lambda e: kz.TimeSlice("x", days=(9,))),
    ("TimeSlice", "name-not-text", lambda e: kz.TimeSlice(3)),
    ("ResponseReport", "fields-of-the-wrong-type", lambda e: kz.ResponseReport(*(["x"] * 9))),
    (
        "arrival_probability",
        "times-nan",
        lambda e: kz.arrival_probability(np.array([[NAN, 60.0]]), [kz.TurnoutDist(90)], [600]),
    ),
    (
        "arrival_probability",
        "wrong-number-of-turnouts",
        lambda e: kz.arrival_probability(np.ones((2, 3)), [kz.TurnoutDist(90)], [600]),
    ),
    (
        "arrival_probability",
        "thresholds-text",
        lambda e: kz.arrival_probability(np.ones((1, 3)), [kz.TurnoutDist(90)], "600"),
    ),
    ("expected_response", "seconds-text", lambda e: kz.expected_response("x", [kz.TurnoutDist(90)])),
    (
        "expected_response",
        "call-handling-negative",
        lambda e: kz.expected_response(np.ones((1, 2)), [kz.TurnoutDist(90)], call_handling_s=-1),
    ),
    (
        "evaluate_response",
        "wrong-number-of-turnouts",
        lambda e: kz.evaluate_response(e.tt, e.demand, [kz.TurnoutDist(90)]),
    ),
    ("evaluate_response", "another-demand-grid", lambda e: kz.evaluate_response(e.tt, e.demand50, e.dist)),
    ("evaluate_response", "tt-an-array", lambda e: kz.evaluate_response(np.ones((2, 3)), e.demand, e.dist)),
    ("mix_reports", "none", lambda e: kz.mix_reports([])),
    ("mix_reports", "not-reports", lambda e: kz.mix_reports(["a", "b"])),
    ("mix_reports", "weights-wrong-length", lambda e: kz.mix_reports([e.rresp, e.rresp], weights=[1.0])),
    ("check_week", "not-slices", lambda e: kz.check_week([1, 2])),
    ("check_week", "a-string", lambda e: kz.check_week("week")),
    ("time_definition", "negative", lambda e: kz.time_definition(-1)),
    ("time_definition", "text", lambda e: kz.time_definition("90")),
    # models
    ("lscp", "problem-an-array", lambda e: kz.lscp(np.ones((2, 3)), 60)),
    ("lscp", "radius-nan", lambda e: kz.lscp(e.problem, NAN)),
    ("lscp", "time-limit-1e300", lambda e: kz.lscp(e.problem, 100, time_limit=1e300)),
    ("mclp", "problem-an-array", lambda e: kz.mclp(np.ones((2, 3)), 1, 60)),
    ("mclp", "p-fraction", lambda e: kz.mclp(e.problem, 1.5, 100)),
    ("mclp", "time-limit-1e300", lambda e: kz.mclp(e.problem, 1, 100, time_limit=1e300)),
    ("pmedian", "problem-an-array", lambda e: kz.pmedian(np.ones((2, 3)), 1)),
    ("pmedian", "time-limit-1e300", lambda e: kz.pmedian(e.problem, 1, time_limit=1e300)),
    ("pmedian", "heuristic-seconds-nan", lambda e: kz.pmedian(e.problem, 1, heuristic_seconds=NAN)),
    ("pcenter", "problem-an-array", lambda e: kz.pcenter(np.ones((2, 3)), 1)),
    ("pcenter", "p-zero", lambda e: kz.pcenter(e.problem, 0)),
    ("backup", "radius-negative", lambda e: kz.backup(e.problem, 2, -1)),
    ("backup", "problem-an-array", lambda e: kz.backup(np.ones((2, 3)), 2, 100)),
    ("mexclp", "threads-zero", lambda e: kz.mexclp(e.problem, 2, 0.3, 600, threads=0)),
    ("mexclp", "tail-tolerance-negative", lambda e: kz.mexclp(e.problem, 2, 0.3, 600, tail_tolerance=-1)),
    ("mexclp", "q-above-one", lambda e: kz.mexclp(e.problem, 2, 1.5, 600)),
    ("mexclp", "problem-an-array", lambda e: kz.mexclp(np.ones((2, 3)), 2, 0.3)),
    ("malp", "alpha-nan", lambda e: kz.malp(e.problem, 2, 0.3, alpha=NAN)),
    ("malp", "threads-zero", lambda e: kz.malp(e.problem, 2, 0.3, threads=0)),
    ("malp2", "load-negative", lambda e: kz.malp2(e.problem, 2, -1.0)),
    ("malp2", "problem-an-array", lambda e: kz.malp2(np.ones((2, 3)), 2, 0.1)),
    ("dsm", "r2-below-r1", lambda e: kz.dsm(e.problem, 2, r1=600, r2=300)),
    ("dsm", "units-text", lambda e: kz.dsm(e.problem, "two")),
    # queueing
    ("hypercube_exact", "base-out-of-range", lambda e: kz.hypercube_exact(np.ones((2, 3)), np.ones(3), [5], 1.0, 1.0)),
    ("hypercube_exact", "rate-negative", lambda e: kz.hypercube_exact(np.ones((2, 3)), np.ones(3), [0], -1.0, 1.0)),
    ("hypercube_approx", "service-nan", lambda e: kz.hypercube_approx(np.ones((2, 3)), np.ones(3), [0, 1], 1.0, NAN)),
    ("hypercube_approx", "cost-text", lambda e: kz.hypercube_approx("x", np.ones(3), [0], 1.0, 1.0)),
    (
        "unit_busy_fractions",
        "calls-nan",
        lambda e: kz.unit_busy_fractions(np.ones((2, 3)), np.ones(3), [0, 1], NAN, 60),
    ),
    (
        "unit_busy_fractions",
        "method-unknown",
        lambda e: kz.unit_busy_fractions(np.ones((2, 3)), np.ones(3), [0, 1], 100, 60, method="magic"),
    ),
    ("system_busy_fraction", "units-zero", lambda e: kz.system_busy_fraction(100, 60, 0)),
    ("system_busy_fraction", "calls-text", lambda e: kz.system_busy_fraction("many", 60, 2)),
    ("erlang_b", "servers-negative", lambda e: kz.erlang_b(-1, 1.0)),
    ("erlang_b", "load-nan", lambda e: kz.erlang_b(2, NAN)),
    ("erlang_c", "load-text", lambda e: kz.erlang_c(2, "x")),
    ("erlang_c", "servers-fraction", lambda e: kz.erlang_c(2.5, 1.0)),
    # the error classes themselves: a message of several lines is still one line
    *[
        (
            name,
            "message-of-several-lines",
            lambda e, n=name: _raise(getattr(kz, n)("first\nsecond\r\nthird", field="f\ng")),
        )
        for name in (
            "KazerneError",
            "ScenarioError",
            "ModelInputError",
            "InfeasibleError",
            "SnapError",
            "ZonePackError",
        )
    ],
    # calibration (issue 24)
    ("read_records", "path-a-number", lambda e: kz.read_records(3, e.zone)),
    ("read_records", "missing-file", lambda e: kz.read_records(e.folder / "none.csv", e.zone)),
    ("read_records", "zone-not-a-zone", lambda e: kz.read_records(e.file("r.csv", "incident_id\n1\n"), "tiny")),
    ("read_records", "max-snap-nan", lambda e: kz.read_records(e.file("r.csv", "incident_id\n1\n"), e.zone, NAN)),
    ("Records", "fields-of-the-wrong-type", lambda e: kz.Records(*(["x"] * 21))),
    ("calibrate", "zone-not-a-zone", lambda e: kz.calibrate("tiny", e.folder / "none.csv")),
    ("calibrate", "records-a-number", lambda e: kz.calibrate(e.zone, 3)),
    ("calibrate", "folds-zero", lambda e: kz.calibrate(e.zone, e.folder / "none.csv", folds=0)),
    ("calibrate", "profile-unknown", lambda e: kz.calibrate(e.zone, e.folder / "none.csv", profile="rocket")),
    ("calibrate", "profile-a-number", lambda e: kz.calibrate(e.zone, e.folder / "none.csv", profile=3)),
    ("Calibration", "fields-of-the-wrong-type", lambda e: kz.Calibration(*(["x"] * 13))),
    ("validate", "zone-not-a-zone", lambda e: kz.validate("tiny", e.folder / "none.csv", e.folder / "none.toml")),
    ("validate", "records-a-number", lambda e: kz.validate(e.zone, 3, e.folder / "none.toml")),
    ("validate", "scenario-a-number", lambda e: kz.validate(e.zone, e.folder / "none.csv", 3)),
    ("synthetic_records", "zone-not-a-zone", lambda e: kz.synthetic_records("tiny", e.folder / "none.toml")),
    ("synthetic_records", "scenario-a-number", lambda e: kz.synthetic_records(e.zone, 3)),
    ("synthetic_records", "n-negative", lambda e: kz.synthetic_records(e.zone, e.folder / "none.toml", n=-5)),
    ("synthetic_records", "truth-a-dict", lambda e: kz.synthetic_records(e.zone, e.folder / "none.toml", truth={})),
    ("synthetic_records", "seed-negative", lambda e: kz.synthetic_records(e.zone, e.folder / "none.toml", seed=-1)),
    ("Truth", "factors-not-a-table", lambda e: kz.Truth(factors="fast")),
    ("Truth", "noise-negative", lambda e: kz.Truth(factors={}, noise_sd=-0.1)),
    ("Truth", "outlier-share-nan", lambda e: kz.Truth(factors={}, outlier_share=NAN)),
    ("Truth", "call-handling-a-number", lambda e: kz.Truth(factors={}, call_handling=70)),
    ("FactorProfile", "speeds-not-a-table", lambda e: kz.FactorProfile(name="x", speeds_kmh="fast")),
    ("FactorProfile", "factors-not-a-table", lambda e: kz.FactorProfile(name="x", speeds_kmh={}, factors=[1.2])),
    (
        "FactorProfile",
        "factor-negative",
        lambda e: kz.FactorProfile(name="x", speeds_kmh={}, factors={"free": {"main/urban": -1.0}}),
    ),
    # network changes and criticality (issue 25)
    ("NetworkChange", "action-unknown", lambda e: kz.NetworkChange("explode", street="Kerkstraat")),
    ("NetworkChange", "action-a-number", lambda e: kz.NetworkChange(3)),
    ("NetworkChange", "speed-negative", lambda e: kz.NetworkChange("slow", street="Kerkstraat", speed_kmh=-5)),
    ("NetworkChange", "direction-unknown", lambda e: kz.NetworkChange("close", street="Kerkstraat", direction="up")),
    ("apply_changes", "zone-not-a-zone", lambda e: kz.apply_changes("tiny", [])),
    ("apply_changes", "changes-not-changes", lambda e: kz.apply_changes(e.zone, ["close Kerkstraat"])),
    ("apply_changes", "changes-a-number", lambda e: kz.apply_changes(e.zone, 3)),
    (
        "apply_changes",
        "day-text",
        lambda e: kz.apply_changes(e.zone, [kz.NetworkChange("close", street="x")], day="2026-01-01"),
    ),
    ("criticality", "zone-not-a-zone", lambda e: kz.criticality("tiny", e.sites, e.demand)),
    ("criticality", "sites-a-list", lambda e: kz.criticality(e.zone, ["T1"], e.demand)),
    ("criticality", "demand-not-points", lambda e: kz.criticality(e.zone, e.sites, [1, 2])),
    ("criticality", "threshold-nan", lambda e: kz.criticality(e.zone, e.sites, e.demand, threshold_min=NAN)),
    ("criticality", "top-negative", lambda e: kz.criticality(e.zone, e.sites, e.demand, top=-1)),
    ("criticality", "profile-unknown", lambda e: kz.criticality(e.zone, e.sites, e.demand, "rocket")),
    (
        "criticality",
        "call-handling-above-threshold",
        lambda e: kz.criticality(e.zone, e.sites, e.demand, threshold_min=1, call_handling_s=120),
    ),
    (
        "segment_losses",
        "net-not-a-network",
        lambda e: kz.segment_losses("net", e.profile, [0], 90, e.demand.node, e.demand.weight, 600),
    ),
    (
        "segment_losses",
        "site-node-out-of-range",
        lambda e: kz.segment_losses(e.net, e.profile, [10**9], 90, e.demand.node, e.demand.weight, 600),
    ),
    (
        "segment_losses",
        "weights-wrong-length",
        lambda e: kz.segment_losses(e.net, e.profile, [0], 90, e.demand.node, [1.0], 600),
    ),
    (
        "segment_losses",
        "budget-nan",
        lambda e: kz.segment_losses(e.net, e.profile, [0], 90, e.demand.node, e.demand.weight, NAN),
    ),
    (
        "segment_losses",
        "turnout-wrong-length",
        lambda e: kz.segment_losses(e.net, e.profile, [0], [90, 90, 90], e.demand.node, e.demand.weight, 600),
    ),
    (
        "segment_losses",
        "profile-not-a-profile",
        lambda e: kz.segment_losses(e.net, "fast", [0], 90, e.demand.node, e.demand.weight, 600),
    ),
    (
        "measure_effect",
        "zone-after-not-a-zone",
        lambda e: kz.measure_effect(e.zone, "x", e.sites, e.demand, e.profile, [12]),
    ),
    (
        "measure_effect",
        "thresholds-negative",
        lambda e: kz.measure_effect(e.zone, e.zone, e.sites, e.demand, e.profile, [-1]),
    ),
    (
        "measure_effect",
        "call-handling-nan",
        lambda e: kz.measure_effect(e.zone, e.zone, e.sites, e.demand, e.profile, [12], call_handling_s=NAN),
    ),
    ("measure_effect", "sites-a-list", lambda e: kz.measure_effect(e.zone, e.zone, ["T1"], e.demand, e.profile, [12])),
    # simulation (issue 26)
    ("Priority", "share-nan", lambda e: kz.Priority("P1", NAN)),
    ("Priority", "units-unknown", lambda e: kz.Priority("P1", 1.0, ("helicopter",))),
    ("Priority", "units-a-string", lambda e: kz.Priority("P1", 1.0, "ambulance")),
    ("CallModel", "rate-nan", lambda e: kz.CallModel(rate_per_1000=NAN)),
    ("CallModel", "hourly-wrong-length", lambda e: kz.CallModel(hourly=[1.0] * 5)),
    ("CallModel", "hourly-text", lambda e: kz.CallModel(hourly="flat")),
    ("CallModel", "shares-not-one", lambda e: kz.CallModel(priorities=(kz.Priority("P1", 0.5),))),
    ("CallModel", "priorities-not-priorities", lambda e: kz.CallModel(priorities=("P1",))),
    ("CallModel", "onscene-a-number", lambda e: kz.CallModel(onscene=900)),
    ("EmsSystem", "from-matrices-1d", lambda e: kz.EmsSystem.from_matrices([300.0, 1000.0], [1.0, 3.0], [0])),
    ("EmsSystem", "from-matrices-text", lambda e: kz.EmsSystem.from_matrices([["a"]], [1.0], [0])),
    ("EmsSystem", "weights-wrong-length", lambda e: kz.EmsSystem.from_matrices([[300.0, 1000.0]], [1.0], [0])),
    ("EmsSystem", "unit-base-out-of-range", lambda e: kz.EmsSystem.from_matrices([[300.0]], [1.0], [3])),
    ("EmsSystem", "unit-base-text", lambda e: kz.EmsSystem.from_matrices([[300.0]], [1.0], ["a"])),
    ("EmsSystem", "fields-of-the-wrong-type", lambda e: kz.EmsSystem(*(["x"] * 15))),
    ("simulate", "system-not-a-system", lambda e: kz.simulate("ems")),
    ("simulate", "calls-not-a-call-model", lambda e: kz.simulate(e.ems, {"calls_per_year": 10})),
    ("simulate", "replications-zero", lambda e: kz.simulate(e.ems, replications=0)),
    ("simulate", "days-nan", lambda e: kz.simulate(e.ems, days=NAN)),
    ("simulate", "progress-text", lambda e: kz.simulate(e.ems, replications=1, days=1, progress="yes")),
    ("replay", "system-not-a-system", lambda e: kz.replay("ems", [0.0], [0])),
    ("replay", "times-nan", lambda e: kz.replay(e.ems, [NAN], [0])),
    ("replay", "times-text", lambda e: kz.replay(e.ems, ["noon"], [0])),
    ("replay", "demand-out-of-range", lambda e: kz.replay(e.ems, [0.0], [7])),
    ("replay", "demand-fraction", lambda e: kz.replay(e.ems, [0.0], [0.5])),
    ("replay", "calls-not-a-call-model", lambda e: kz.replay(e.ems, [0.0], [0], calls="P1")),
    ("replay", "seed-negative", lambda e: kz.replay(e.ems, [0.0], [0], seed=-1)),
    ("SimResult", "fields-of-the-wrong-type", lambda e: kz.SimResult(*(["x"] * 10))),
    ("hypercube_figures", "res-not-a-result", lambda e: kz.hypercube_figures("res")),
    ("hypercube_figures", "unit-type-unknown", lambda e: kz.hypercube_figures(e.sim, "helicopter")),
    (
        "ems_system",
        "zone-not-a-zone",
        lambda e: kz.ems_system("tiny", e.sites, ["T1"], ["ambulance"], e.demand, e.sites, e.profile),
    ),
    (
        "ems_system",
        "bases-a-list",
        lambda e: kz.ems_system(e.zone, ["T1"], ["T1"], ["ambulance"], e.demand, e.sites, e.profile),
    ),
    (
        "ems_system",
        "units-lengths-differ",
        lambda e: kz.ems_system(e.zone, e.sites, ["T1", "T2"], ["ambulance"], e.demand, e.sites, e.profile),
    ),
    (
        "ems_system",
        "unit-bases-a-number",
        lambda e: kz.ems_system(e.zone, e.sites, 3, ["ambulance"], e.demand, e.sites, e.profile),
    ),
    (
        "ems_system",
        "profile-unknown",
        lambda e: kz.ems_system(e.zone, e.sites, ["T1"], ["ambulance"], e.demand, e.sites, "rocket"),
    ),
    (
        "ems_system",
        "call-handling-nan",
        lambda e: kz.ems_system(
            e.zone, e.sites, ["T1"], ["ambulance"], e.demand, e.sites, e.profile, call_handling_s=NAN
        ),
    ),
    (
        "ems_system",
        "turnout-not-distributions",
        lambda e: kz.ems_system(e.zone, e.sites, ["T1"], ["ambulance"], e.demand, e.sites, e.profile, turnout=90),
    ),
    ("pack_units", "pack-a-string", lambda e: kz.pack_units("tiny")),
    ("pack_units", "teams-unknown", lambda e: kz.pack_units(e.zone.pack, teams="all")),
    ("emergency_departments", "pack-a-string", lambda e: kz.emergency_departments("tiny")),
    ("emergency_departments", "pack-a-zone", lambda e: kz.emergency_departments(e.zone)),
    # scenario files
    ("run_scenario", "path-a-number", lambda e: kz.run_scenario(3, out_root=e.folder / "out")),
    ("run_scenario", "missing-file", lambda e: kz.run_scenario(e.folder / "none.toml", out_root=e.folder / "out")),
    ("parse_scenario", "path-a-number", lambda e: kz.parse_scenario(3)),
    ("parse_scenario", "missing-file", lambda e: kz.parse_scenario(e.folder / "none.toml")),
    ("solve_study", "not-a-scenario", lambda e: kz.solve_study("scenario.toml")),
    (
        "solve_study",
        "scenario-without-study",
        lambda e: kz.solve_study(kz.parse_scenario(e.file("s.toml", 'name = "s"\nzone = "tiny"\n'))),
    ),
]


@pytest.mark.parametrize("export,case,call", CASES, ids=[f"{n}-{c}" for n, c, _ in CASES])
def test_bad_arguments_give_one_line_errors(export, case, call, env):
    with pytest.raises(Exception) as info:
        call(env)
    exc = info.value
    assert isinstance(exc, KazerneError), f"{type(exc).__name__}: {exc}"
    msg = str(exc)
    assert msg and len(msg.splitlines()) == 1, msg
    assert exc.field or exc.source, f"the message names no argument or file: {msg}"


def test_every_exported_callable_has_a_case():
    covered = {name for name, _, _ in CASES}
    # warning classes (kz.UnitsWarning) are raised by kazerne, not called with arguments by a user
    callables = {
        n
        for n in kz._EXPORTS
        if callable(getattr(kz, n)) and not (isinstance(getattr(kz, n), type) and issubclass(getattr(kz, n), Warning))
    }
    assert callables - covered == set()
    assert covered <= set(kz._EXPORTS)  # no case for a name that is not exported


#: cases that reach an export through an object of it rather than by its name
_THROUGH = {"Sites": "e.sites.", "TravelTimes": "e.tt.", "Problem": "e.tt.to_problem", "TurnoutDist": "kz.TurnoutDist("}


def test_each_case_names_a_real_call():
    """The table's calls use the export they are filed under (a typo would test another name)."""
    for name, case, call in CASES:
        src = inspect.getsource(call)
        assert f"kz.{name}" in src or "getattr(kz, n)" in src or _THROUGH.get(name, "@") in src, (name, case)


@pytest.mark.parametrize("costs", [[[1.0, -2.0], [3.0, 1.0]], [[1.0, NAN], [3.0, 1.0]]], ids=["negative", "nan"])
def test_pmedian_heuristics_refuse_negative_and_nan_costs(costs):
    from kazerne.coverage.heuristics import greedy_interchange, lagrangian_pmedian

    c = np.array(costs)
    w = np.ones(2)
    for call in (
        lambda: greedy_interchange(c, w, 1),
        lambda: lagrangian_pmedian(c, w, 1, np.full(2, INF), 10.0),
    ):
        with pytest.raises(KazerneError) as info:
            call()
        assert info.value.field == "cost" and len(str(info.value).splitlines()) == 1


def test_progress_false_means_no_progress(env):
    """``progress=False`` (it used to raise AttributeError) is no progress bar: the same times as None."""
    quiet = kz.travel_times(env.zone, env.sites, env.demand, progress=False)
    np.testing.assert_array_equal(quiet.seconds, env.tt.seconds)


def test_sites_from_lonlat_takes_one_id_and_one_position(env):
    """``Sites.from_lonlat(zone, "S1", lon, lat)`` (it used to split "S1" into two ids and fail with
    IndexError) places one site, on the node nearest the point."""
    lon, lat = fx.NODES["g2_2"]
    s = kz.Sites.from_lonlat(env.zone, "S1", lon, lat)
    assert s.ids == ["S1"]
    assert (env.net.lon[s.node[0]], env.net.lat[s.node[0]]) == pytest.approx((lon, lat), abs=1e-7)


def test_a_valid_call_of_each_checked_helper_still_works(env):
    """The checks refuse bad values only: the same calls with good values give the right answers."""
    assert kz.TurnoutDist(90, 120).quantile(0.5) == pytest.approx(90.0)
    assert kz.erlang_b(1, 1.0) == pytest.approx(0.5)  # B(1, a) = a / (1 + a)
    assert kz.system_busy_fraction(8760, 60, 2) == pytest.approx(0.5)  # 1 call/h x 1 h over 2 units
    res = kz.pmedian(env.problem, 1, time_limit=60)
    # brute force over the three sites (weights 1, 2, 3): 60+800+2700, 500+200+600, 300+600+150
    assert res.objective == pytest.approx(min(60 + 800 + 2700, 500 + 200 + 600, 300 + 600 + 150))
    assert math.isfinite(kz.time_definition(90)["call_handling_s"])
