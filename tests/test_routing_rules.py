"""Issue 23 on a small generated network: junction delays where junctions are, roundabouts and traffic
signals, contraflow only where a fire engine can, emergency passages by rule.

Layout (metres east / north of lon 3.70, lat 51.05; lengths computed here with the haversine formula,
as osmnx measures them)::

                      T3 ------ T2          Lus (residential, two-way)
                      |          |
                      S2 ======> T1         Eenrichting (one-way residential, single carriageway)
                      |
    W0 ---- W1 ------ W2 ------ W3(signals) -- R0 (roundabout R0>R1>R2>R3>R0) R2 -- E2 ==> Y1 -- Z
    :       |          |                                                           E2' <== Y1'
    :       D1 (Oprit: service, a driveway)                          Dubbelbaan: dual carriageway
    V1 ---- V2 ------- V3                                           (two one-way tertiary ways, 20 m apart)
    |
    V0      Veldweg W0-V1: track, motor_vehicle=no (no passage); Knip V1-V2: residential,
            motor_vehicle=no (a filter: a passage); Achterstraat V2-V3-W2, Binnenhof V1-V0 (residential)

Every expected time below is ``length / speed`` (all classes 36 km/h = 10 m/s) plus the delay of the
head node, as the rule says it should be: 3 s at a junction of three or more public road arms, 7 s on
entering the roundabout, 11 s at the traffic signals; none at W1, where only a driveway joins.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from osm_fixture import local_nodes, write_ways

from kazerne.routing.network import load_network
from kazerne.routing.osmread import EMERGENCY, NO_ACCESS, PUBLIC, way_access
from kazerne.routing.profiles import CLASS_INDEX, get_profile
from kazerne.routing.routes import route
from kazerne.routing.travel import drive_times

R = 6371009.0  # the haversine of hav(); node positions: osm_fixture.local_nodes
LOCAL = {
    "W0": (0, 0),
    "W1": (200, 0),
    "W2": (400, 0),
    "W3": (600, 0),
    "D1": (200, 60),
    "S2": (400, 200),
    "T1": (600, 200),
    "T2": (600, 400),
    "T3": (400, 400),
    "R0": (700, 0),
    "R1": (750, 30),
    "R2": (800, 0),
    "R3": (750, -80),
    "E2": (900, 0),
    "Y1": (1300, 0),
    "Z": (1500, 0),
    "Y1b": (1300, -20),
    "E2b": (900, -20),
    "V1": (0, -200),
    "V2": (200, -200),
    "V3": (400, -200),
    "V0": (0, -300),
}
NODES = local_nodes(LOCAL)
NODE_TAGS = {"W3": {"highway": "traffic_signals"}}
RES = {"highway": "residential"}
WAYS = [
    (["W0", "W1", "W2", "W3"], {**RES, "name": "Hoofdstraat"}),
    (["W1", "D1"], {"highway": "service", "name": "Oprit"}),
    (["W2", "S2"], {**RES, "name": "Zijstraat"}),
    (["S2", "T1"], {**RES, "name": "Eenrichting", "oneway": "yes"}),
    (["T1", "T2", "T3", "S2"], {**RES, "name": "Lus"}),
    (["W3", "R0"], {**RES, "name": "Naderweg"}),
    (["R0", "R1", "R2", "R3", "R0"], {"highway": "tertiary", "name": "Rotonde", "junction": "roundabout"}),
    (["R2", "E2"], {**RES, "name": "Uitweg"}),
    (["E2", "Y1"], {"highway": "tertiary", "name": "Dubbelbaan", "oneway": "yes"}),
    (["Y1b", "E2b"], {"highway": "tertiary", "name": "Dubbelbaan", "oneway": "yes"}),
    (["E2", "E2b"], {**RES, "name": "Keerpunt West"}),
    (["Y1", "Y1b"], {**RES, "name": "Keerpunt Oost"}),
    (["Y1", "Z"], {**RES, "name": "Eindstraat"}),
    (["W0", "V1"], {"highway": "track", "name": "Veldweg", "motor_vehicle": "no"}),
    (["V1", "V2"], {**RES, "name": "Knip", "motor_vehicle": "no"}),
    (["V2", "V3", "W2"], {**RES, "name": "Achterstraat"}),
    (["V1", "V0"], {**RES, "name": "Binnenhof"}),  # a public street reached only through the filter Knip
]
J, RB, SIG = 3.0, 7.0, 11.0
SPEEDS = {c: (36, 36) for c in ("residential", "tertiary", "service", "track")}
FIRE = get_profile(
    "fire_engine",
    speeds_kmh=SPEEDS,
    maxspeed_factor=1.0,
    intersection_delay_s=J,
    roundabout_delay_s=RB,
    signal_delay_s=SIG,
    oneway_reverse_factor=1.0,  # against the direction at full speed: contraflow wins wherever it is allowed
    emergency_passage_kmh=36.0,
)


def hav(a, b):
    (lo1, la1), (lo2, la2) = NODES[a], NODES[b]
    p1, p2 = math.radians(la1), math.radians(la2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lo2 - lo1) / 2) ** 2
    return 2 * math.asin(math.sqrt(h)) * R


def path(*names):
    return sum(hav(a, b) for a, b in zip(names[:-1], names[1:]))


def write_osm(path_):
    return write_ways(path_, NODES, WAYS, NODE_TAGS)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    return load_network(write_osm(tmp_path_factory.mktemp("rules") / "roads.osm"), use_cache=False, quiet=True)


def idx(net, name):
    lon, lat = NODES[name]
    hit = np.flatnonzero(np.isclose(net.lon, lon, atol=1e-9, rtol=0) & np.isclose(net.lat, lat, atol=1e-9, rtol=0))
    assert len(hit) == 1, name
    return int(hit[0])


def t_from(net, a, prof=FIRE):
    return drive_times(net, prof, [idx(net, a)])[0]


# ------------------------------------------------------------------ 1. junction delays
def test_no_delay_at_a_driveway_a_delay_at_a_real_junction(net):
    assert not net.is_junction()[idx(net, "W1")]  # two street arms + a driveway
    assert net.is_junction()[idx(net, "W2")]  # three street arms (Hoofdstraat twice, Zijstraat) + Achterstraat
    d = t_from(net, "W0")
    assert d[idx(net, "W1")] == pytest.approx(hav("W0", "W1") / 10, abs=1e-3)
    assert d[idx(net, "W2")] == pytest.approx(path("W0", "W1", "W2") / 10 + J, abs=1e-3)


def test_signals_and_roundabout_have_their_own_delays(net):
    d = t_from(net, "W2")
    at_w3 = hav("W2", "W3") / 10 + SIG  # W3 carries highway=traffic_signals
    assert d[idx(net, "W3")] == pytest.approx(at_w3, abs=1e-3)
    at_r0 = at_w3 + hav("W3", "R0") / 10 + RB  # entering the roundabout
    assert d[idx(net, "R0")] == pytest.approx(at_r0, abs=1e-3)
    # on the ring: no delay (priority), not even at R2 where Uitweg leaves
    assert d[idx(net, "R2")] == pytest.approx(at_r0 + path("R0", "R1", "R2") / 10, abs=1e-3)
    assert net.describe()["traffic_signal_nodes"] == 1 and net.describe()["roundabout_edges"] >= 2


def test_a_delay_of_zero_removes_it(net):
    flat = FIRE.with_overrides(intersection_delay_s=0.0, roundabout_delay_s=0.0, signal_delay_s=0.0)
    d = t_from(net, "W0", flat)
    assert d[idx(net, "R0")] == pytest.approx(path("W0", "W1", "W2", "W3", "R0") / 10, abs=1e-3)


# ------------------------------------------------------------------ 3. contraflow
def test_contraflow_on_a_one_way_residential_street(net):
    r = route(net, FIRE, idx(net, "T1"), idx(net, "S2"))
    assert [(leg.street, leg.against_oneway) for leg in r.legs] == [("Eenrichting", True)]
    assert r.drive_s == pytest.approx(hav("S2", "T1") / 10 + J, abs=1e-3)  # S2: Zijstraat, Lus, Eenrichting
    no = FIRE.with_overrides(contraflow_classes=())
    r2 = route(net, no, idx(net, "T1"), idx(net, "S2"))
    assert [leg.street for leg in r2.legs] == ["Lus"] and not any(leg.against_oneway for leg in r2.legs)


def test_no_contraflow_on_a_dual_carriageway(net):
    e = np.flatnonzero(net.cls == CLASS_INDEX["tertiary"])
    dub = e[net.names[net.name_id[e]] == "Dubbelbaan"]
    assert len(dub) == 2 and net.dual[dub].all()
    r = route(net, FIRE, idx(net, "Y1"), idx(net, "E2"))
    assert not any(leg.against_oneway for leg in r.legs)
    assert [leg.street for leg in r.legs] == ["Keerpunt Oost", "Dubbelbaan", "Keerpunt West"]
    assert r.length_m == pytest.approx(path("Y1", "Y1b", "E2b", "E2"), abs=0.01)


def test_no_contraflow_on_a_roundabout(net):
    """Uitweg -> Naderweg: back against the ring R2 > R1 > R0 would be shorter; the rule goes round."""
    assert path("R2", "R1", "R0") < path("R2", "R3", "R0")
    r = route(net, FIRE, idx(net, "E2"), idx(net, "W3"))
    assert not any(leg.against_oneway for leg in r.legs)
    assert r.length_m == pytest.approx(path("E2", "R2", "R3", "R0", "W3"), abs=0.01)


# ------------------------------------------------------------------ 4. passages by rule
def test_a_track_is_not_a_passage_a_filtered_street_is(net):
    names = [net.names[i] if i >= 0 else "" for i in net.name_id]
    assert "Veldweg" not in names  # track with motor_vehicle=no: not driven at all
    knip = np.flatnonzero(np.array(names) == "Knip")
    assert len(knip) == 2 and net.emergency_only()[knip].all()
    r = route(net, FIRE, idx(net, "W0"), idx(net, "V1"))
    assert [leg.street for leg in r.legs] == ["Hoofdstraat", "Achterstraat", "Knip"]
    assert r.legs[-1].emergency_passage


@pytest.mark.parametrize(
    "tags, expected",
    [
        ({"highway": "pedestrian", "name": "Veldstraat"}, EMERGENCY),
        ({"highway": "living_street", "motor_vehicle": "no"}, EMERGENCY),
        ({"highway": "residential", "motor_vehicle": "no"}, EMERGENCY),
        ({"highway": "busway"}, EMERGENCY),
        ({"highway": "service", "bus": "yes", "motor_vehicle": "no"}, EMERGENCY),
        ({"highway": "track", "emergency": "yes"}, EMERGENCY),
        ({"highway": "service", "service": "emergency_access"}, EMERGENCY),
        ({"highway": "track", "motor_vehicle": "no"}, NO_ACCESS),
        ({"highway": "service", "motor_vehicle": "no"}, NO_ACCESS),
        ({"highway": "residential", "access": "private"}, NO_ACCESS),
        ({"highway": "cycleway"}, NO_ACCESS),
        ({"highway": "path", "motor_vehicle": "no"}, NO_ACCESS),
        ({"highway": "footway"}, NO_ACCESS),
        ({"highway": "track"}, PUBLIC),
        ({"highway": "service"}, PUBLIC),
    ],
)
def test_passage_rule(tags, expected):
    assert way_access(tags) == expected


# ------------------------------------------------------------------ 2. urban by population density
def test_density_at_equals_a_brute_force_count():
    """The rasterised disc sum against plain distances: points 50 m apart so that each lies on a
    different 50 m cell; the raster may misplace a point by at most one cell, so compare only points
    farther than 75 m from the circle's edge."""
    from kazerne.routing.urban import density_at

    rng = np.random.default_rng(7)
    xy = rng.integers(0, 60, size=(400, 2)) * 50.0 + 25.0
    people = rng.uniform(1, 10, size=len(xy))
    q = rng.uniform(500, 2500, size=(60, 2))
    got = density_at((xy, people), q, 500.0)
    d = np.hypot(xy[None, :, 0] - q[:, None, 0], xy[None, :, 1] - q[:, None, 1])
    lo = (people * (d <= 500 - 75)).sum(axis=1) / (np.pi * 0.25 * 1.03)
    hi = (people * (d <= 500 + 75)).sum(axis=1) / (np.pi * 0.25 * 0.97)
    assert np.all(got >= lo - 1e-9) and np.all(got <= hi + 1e-9)


def test_urban_follows_population_not_intersections(tmp_path):
    """The tiny fixture (tests/osm_fixture.py): its 7 x 7 grid has 45 intersections (urban by the old
    rule). With 100 inhabitants it is rural (about 130 per km² within 500 m); with 20,000 it is urban
    (all on residential streets within ~500 m of the grid or the loop), and the motorway 2 km from
    any residential street is rural either way."""
    import osm_fixture as fx
    import shapely

    from kazerne.routing.crs import to_metric
    from kazerne.routing.urban import urban_edges

    net = load_network(fx.write_osm(tmp_path / "roads.osm"), use_cache=False, quiet=True)
    x, y = to_metric(np.array([3.69, 3.80]), np.array([51.04, 51.06]))
    box = shapely.box(x[0], y[0], x[1], y[1])
    gridnames = [i for i, n in enumerate(net.names) if str(n).startswith(("Oost-West", "Noord-Zuid"))]
    grid = np.isin(net.name_id, gridnames)
    motorway = net.cls == CLASS_INDEX["motorway"]
    few, _ = urban_edges(net, [box], [100])
    many, dens = urban_edges(net, [box], [20000])
    assert grid.sum() > 50 and not few.any()
    assert many[grid].all() and not many[motorway].any()
    assert dens[motorway].max() == 0.0


# ------------------------------------------------------------------ 5. snapping onto streets
def _xy(net, name, dx=0.0, dy=0.0):
    """EPSG:31370 of a fixture node, shifted by (dx, dy) metres (the fixture's flat frame is close
    enough to Lambert 72 over a few hundred metres for these offsets)."""
    i = idx(net, name)
    return net.x[i] + dx, net.y[i] + dy


def test_a_point_mid_edge_gets_the_partial_time_from_both_ends(net):
    from kazerne.routing.snapping import approach_costs, snap_to_edges

    mx, my = (np.array(_xy(net, "W1")) + np.array(_xy(net, "W2"))) / 2
    s = snap_to_edges(net, [mx], [my + 5.0])
    e = int(s.edge[0])
    assert {net.names[net.name_id[e]]} == {"Hoofdstraat"} and s.distance_m[0] == pytest.approx(5.0, abs=0.05)
    assert s.frac[0] == pytest.approx(0.5, abs=0.01)
    a, ca, b, cb = approach_costs(net, FIRE, s.edge, s.frac)
    half = hav("W1", "W2") / 2 / 10  # half the street at 10 m/s, no junction delay mid-street
    assert ca[0] == pytest.approx(half, rel=0.02) and cb[0] == pytest.approx(half, rel=0.02)
    # from W0 through W1 (no junction) and from W3 through W2: the smaller wins, computed by hand
    for src, expect in (("W0", hav("W0", "W1") / 10 + half), ("W3", hav("W2", "W3") / 10 + J + half)):
        d = drive_times(net, FIRE, [idx(net, src)])[0]
        got = min(d[a[0]] + ca[0], d[b[0]] + cb[0])
        assert got == pytest.approx(expect, rel=0.01)


def test_a_point_on_a_one_way_street_respects_its_direction(net):
    from kazerne.routing.snapping import approach_costs, snap_to_edges

    mx, my = (np.array(_xy(net, "S2")) + np.array(_xy(net, "T1"))) / 2
    s = snap_to_edges(net, [mx], [my - 3.0])
    strict = FIRE.with_overrides(contraflow_classes=())
    a, ca, b, cb = approach_costs(net, strict, s.edge, s.frac)
    assert net.names[net.name_id[s.edge[0]]] == "Eenrichting"
    assert (a[0], b[0]) == (idx(net, "S2"), idx(net, "T1"))
    assert np.isfinite(ca[0]) and np.isinf(cb[0])  # not from T1 against the one-way street
    a, ca, b, cb = approach_costs(net, FIRE, s.edge, s.frac)  # contraflow allowed here
    assert cb[0] == pytest.approx(hav("S2", "T1") / 2 / 10, rel=0.02)


def test_a_point_beside_a_driveway_snaps_onto_the_street(net):
    from kazerne.routing.snapping import snap_to_edges

    x, y = _xy(net, "W1", 12.0, 50.0)  # 12 m from the driveway Oprit, 50 m from Hoofdstraat
    s = snap_to_edges(net, [x], [y])
    assert net.names[net.name_id[s.edge[0]]] == "Hoofdstraat" and s.kind[0] == 0
    assert s.distance_m[0] == pytest.approx(50.0, abs=0.5)


def test_without_passages_a_point_is_resnapped_not_left_unreachable(net):
    """Binnenhof is a public street reached only through the filter Knip: the fire engine reaches a
    point beside it; the car (no passages) gets the point snapped again onto the nearest street it can
    reach (Achterstraat at V2, ~206 m), never an unreachable point."""
    from types import SimpleNamespace

    from kazerne.routing.snapping import demand_approach, snap_onto_streets
    from kazerne.routing.travel import demand_drive_times

    x, y = _xy(net, "V1", 5.0, -60.0)
    sn = snap_onto_streets(net, [x], [y])
    assert net.names[net.name_id[sn.edge[0]]] == "Binnenhof"
    demand = SimpleNamespace(
        node=sn.node, edge=sn.edge, frac=sn.frac, x=sn.x, y=sn.y, no_road_data=sn.no_road_data, meta={}
    )
    car = get_profile("car", speeds_kmh=SPEEDS, intersection_delay_s=0.0, roundabout_delay_s=0.0, signal_delay_s=0.0)
    *_, fire_re = demand_approach(net, FIRE, demand)
    a, ca, b, cb, car_re = demand_approach(net, car, demand)
    assert not fire_re[0] and car_re[0]
    t_car = demand_drive_times(net, car, [idx(net, "W0")], demand)[0, 0]
    assert np.isfinite(t_car)
    # W0 -> W2 -> V3 -> V2 along Hoofdstraat and Achterstraat, then the point's projection is V2 itself
    expect = (path("W0", "W1", "W2") + path("W2", "V3", "V2")) / 10
    assert t_car == pytest.approx(expect, rel=0.01)


# ------------------------------------------------------------------ the audit's count of best routes
def test_best_route_usage_counts_contraflow_and_passages(net):
    """A post at T1; 3 people beside Zijstraat, 7 beside Binnenhof. Both fastest routes start against
    Eenrichting (200 m instead of 600 m round Lus); the second also takes the filter Knip. Expected by
    hand: contraflow serves 10 people on Eenrichting, the passage Knip 7."""
    from types import SimpleNamespace

    from kazerne.routing.snapping import snap_onto_streets
    from kazerne.routing.usage import best_route_usage

    x0, y0 = _xy(net, "W2", 5.0, 100.0)
    x1, y1 = _xy(net, "V1", 5.0, -60.0)
    sn = snap_onto_streets(net, [x0, x1], [y0, y1])
    demand = SimpleNamespace(
        x=sn.x,
        y=sn.y,
        node=sn.node,
        edge=sn.edge,
        frac=sn.frac,
        no_road_data=sn.no_road_data,
        weight=np.array([3.0, 7.0]),
        meta={},
    )
    u = best_route_usage(net, FIRE, [idx(net, "T1")], [0.0], demand)
    assert u["contraflow_population"] == 10.0 and u["passage_population"] == 7.0
    assert [(r["street"], r["population_served"]) for r in u["contraflow"]] == [("Eenrichting", 10.0)]
    assert u["contraflow"][0]["length_m"] == pytest.approx(hav("S2", "T1"), abs=0.05)  # reported to 0.1 m
    assert [(r["street"], r["population_served"]) for r in u["passages"]] == [("Knip", 7.0)]
    assert u["passages"][0]["length_m"] == pytest.approx(hav("V1", "V2"), abs=0.05)
    assert u["contraflow_on_dual_carriageways_edges"] == 0 and u["track_passage_edges"] == 0
