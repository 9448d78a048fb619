"""Road network, travel times and snapping on the tiny OSM fixture (tests/osm_fixture.py).

Every expected time is computed here from the fixture's coordinates (haversine lengths, as osmnx
measures them) and the test profile's table: ``length / (km/h / 3.6) + intersection_delay_s``, the
delay only where the edge ends at a junction — three or more *public road arms* (issue 23: a
service road, track or passage is no arm): every grid node but the corners, g6_3, A and B; not C
nor F, where only the two primaries (and the service road Dienstweg, no arm) meet, nor the
motorway's dead end M.
"""

from __future__ import annotations

import math

import numpy as np
import osm_fixture as fx
import pytest
import shapely
from pyproj import Transformer

from kazerne.routing.network import load_network
from kazerne.routing.profiles import HIGHWAY_CLASSES, classify_highway, get_profile, parse_maxspeed
from kazerne.routing.snapping import snap_lonlat, snap_xy
from kazerne.routing.travel import drive_times, kth_nearest, travel_matrix

DELAY = 3.0
#: the test profile: (urban, rural) km/h per class, no period, factor 1 on maxspeed
PROFILE = get_profile(
    "fire_engine",
    speeds_kmh={
        "residential": (20, 40),
        "tertiary": (30, 50),
        "primary": (45, 60),
        "service": (15, 15),
        "motorway": (100, 100),
    },
    vehicle_max_kmh=90.0,
    maxspeed_factor=1.0,
    intersection_delay_s=DELAY,
    period=None,
    speed_scale=1.0,
    oneway_reverse_factor=0.0,
)
ENGINES = ("numba", "scipy")


def hav(a: str, b: str) -> float:
    """Great-circle metres between two fixture nodes (osmnx's formula, R = 6371009 m)."""
    (lon1, lat1), (lon2, lat2) = fx.NODES[a], fx.NODES[b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * math.asin(math.sqrt(min(h, 1.0))) * 6371009.0


def path_len(*names: str) -> float:
    return sum(hav(a, b) for a, b in zip(names[:-1], names[1:]))


def t(length_m: float, kmh: float, delay: float = DELAY) -> float:
    return length_m / (kmh / 3.6) + delay


@pytest.fixture(scope="module")
def tiny_osm(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny-osm")
    return fx.write_osm(d / "roads-2020.osm"), fx.write_osm(d / "roads-2020.osm.bz2")


@pytest.fixture(scope="module")
def net(tiny_osm):
    return load_network(tiny_osm[0], use_cache=False, quiet=True)


def node(net, name: str) -> int:
    lon, lat = fx.NODES[name]
    hit = np.flatnonzero(np.isclose(net.lon, lon, atol=1e-9, rtol=0) & np.isclose(net.lat, lat, atol=1e-9, rtol=0))
    assert len(hit) == 1, f"fixture node {name} not (uniquely) in the network"
    return int(hit[0])


def times(net, a: str, profile=PROFILE, engine="numba", cutoff=None) -> np.ndarray:
    return drive_times(net, profile, [node(net, a)], cutoff_s=cutoff, engine=engine)[0]


# ------------------------------------------------------------------ structure
def test_largest_scc_kept_island_and_one_way_spur_dropped(net):
    # after simplification: 45 grid intersections + the 4 corners (kept: the street's name changes
    # there, Oost-Weststraat 0 -> Noord-Zuidstraat 0) + A B C F M + S + I1 I3
    assert net.n_nodes_source == 57
    assert net.n_nodes == 54
    # grid: 7 rows + 7 columns of 6 two-way segments, less the 4 x 2 corner segments counted in the
    # corner bends = 84 - 8 + 8 = 84 streets = 168 directed; + g6_3-A (2) + A->B (1) + loop (2) + B-C (2)
    # + C-F service (2) + C-K-F (2) + motorway (2) + C->S (1) + island (2) = 184; C->S and the island's
    # two directions are dropped
    assert net.n_edges_source == 184
    assert net.n_edges == 181
    for gone in ("S", "I1", "I3"):
        lon, lat = fx.NODES[gone]
        assert not np.any(np.isclose(net.lon, lon, atol=1e-9) & np.isclose(net.lat, lat, atol=1e-9)), gone
    for kept in ("A", "B", "C", "F", "M", "g0_3", "g6_3", "g3_3"):
        node(net, kept)
    assert net.dropped()["nodes_dropped"] == 3


def test_csr_and_edges_sorted_and_consistent(net):
    assert np.all(np.diff(net.u) >= 0)
    same_tail = net.u[1:] == net.u[:-1]
    assert np.all(net.v[1:][same_tail] >= net.v[:-1][same_tail])
    g = net.csr(PROFILE)
    assert g.shape == (54, 54)
    # 181 edges, three pairs of parallel edges (A->B, C->F, F->C) collapse into one entry each
    assert g.nnz == 178


def test_bz2_file_gives_the_same_network(tiny_osm, net):
    nb = load_network(tiny_osm[1], use_cache=False, quiet=True)
    for k in ("lon", "lat", "u", "v", "length", "cls", "urban"):
        np.testing.assert_array_equal(getattr(nb, k), getattr(net, k), err_msg=k)
    np.testing.assert_array_equal(np.isnan(nb.maxspeed), np.isnan(net.maxspeed))
    assert nb.source_sha256 != net.source_sha256


def test_urban_flag_only_inside_the_dense_grid(net):
    grid = np.zeros(net.n_nodes, dtype=bool)
    for name in fx.NODES:
        if name.startswith("g"):
            grid[node(net, name)] = True
    assert grid.sum() == 49
    both = grid[net.u] & grid[net.v]
    np.testing.assert_array_equal(net.urban, both)


# ------------------------------------------------------------- travel times
@pytest.mark.parametrize("engine", ENGINES)
def test_one_way_street_direction(net, engine):
    a_to_b = times(net, "A", engine=engine)[node(net, "B")]
    b_to_a = times(net, "B", engine=engine)[node(net, "A")]
    assert a_to_b == pytest.approx(t(hav("A", "B"), 40), abs=1e-3)  # 100 m rural residential
    assert b_to_a == pytest.approx(t(path_len("B", "D", "E", "A"), 40), abs=1e-3)  # round the loop, 1100 m
    assert b_to_a > 10 * (a_to_b - DELAY)


@pytest.mark.parametrize("engine", ENGINES)
def test_priority_vehicle_may_drive_against_one_way_at_reduced_speed(net, engine):
    prof = PROFILE.with_overrides(oneway_reverse_factor=0.5)
    b_to_a = times(net, "B", profile=prof, engine=engine)[node(net, "A")]
    # against the 100 m one-way street at half the rural residential speed (20 km/h) beats the loop
    assert b_to_a == pytest.approx(t(hav("A", "B"), 20), abs=1e-3)
    # with the direction: unchanged
    a_to_b = times(net, "A", profile=prof, engine=engine)[node(net, "B")]
    assert a_to_b == pytest.approx(t(hav("A", "B"), 40), abs=1e-3)
    # only pairs opposite a one-way edge change; every other pair keeps the plain profile's time
    g0, g1 = net.csr(PROFILE), net.csr(prof)
    against = {(int(v), int(u)) for u, v in zip(net.u[net.oneway], net.v[net.oneway])}
    same = np.array([(int(u), int(v)) not in against for u, v in zip(net.u, net.v)])
    assert same.sum() > 100 and (~same).sum() >= 1
    assert np.allclose(
        np.asarray(g1[net.u[same], net.v[same]]).ravel(), np.asarray(g0[net.u[same], net.v[same]]).ravel()
    )


def test_car_profile_respects_one_way_streets():
    from kazerne.routing.profiles import PROFILES

    assert PROFILES["car"].oneway_reverse_factor == 0.0
    assert PROFILES["fire_engine"].oneway_reverse_factor > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_parallel_edges_take_the_fastest(net, engine):
    c_to_f = times(net, "C", engine=engine)[node(net, "F")]
    service = t(hav("C", "F"), 15)  # 400 m straight at 15 km/h: 99 s
    bend = t(path_len("C", "K", "F"), 60, 0.0)  # 721 m primary (rural) at 60 km/h: 43.3 s; C, F no junctions
    assert bend < service
    assert c_to_f == pytest.approx(bend, abs=1e-3)
    g = net.csr(PROFILE)
    assert g[node(net, "C"), node(net, "F")] == pytest.approx(bend, abs=1e-3)
    assert g[node(net, "F"), node(net, "C")] == pytest.approx(bend, abs=1e-3)
    # A->B: the one-way (100 m) beats the parallel loop edge (1100 m)
    assert g[node(net, "A"), node(net, "B")] == pytest.approx(t(hav("A", "B"), 40), abs=1e-3)


@pytest.mark.parametrize("engine", ENGINES)
def test_maxspeed_caps_and_vehicle_max(net, engine):
    f = times(net, "F", engine=engine)
    m = times(net, "M", engine=engine)
    # F->M: motorway class 100 km/h, maxspeed 70 (factor 1.0) -> 70 km/h
    assert f[node(net, "M")] == pytest.approx(t(hav("F", "M"), 70, 0.0), abs=1e-3)  # M: dead end, no junction delay
    # M->F: maxspeed 120 does not bind; the vehicle's 90 km/h does
    assert m[node(net, "F")] == pytest.approx(t(hav("F", "M"), 90, 0.0), abs=1e-3)  # F: two arms, no junction
    # B->C: primary rural 60 km/h, merged edge with maxspeed ['70', '50'] -> the lowest, 50 km/h
    b = times(net, "B", engine=engine)
    assert b[node(net, "C")] == pytest.approx(t(path_len("B", "H", "C"), 50, 0.0), abs=1e-3)


def test_maxspeed_factor_scales_the_cap(net):
    prof = PROFILE.with_overrides(maxspeed_factor=1.2)
    f = times(net, "F", profile=prof)
    assert f[node(net, "M")] == pytest.approx(t(hav("F", "M"), 84, 0.0), abs=1e-3)  # 70 * 1.2
    b = times(net, "B", profile=prof)
    assert b[node(net, "C")] == pytest.approx(t(path_len("B", "H", "C"), 60, 0.0), abs=1e-3)  # min(60, 50*1.2)


@pytest.mark.parametrize("engine", ENGINES)
def test_urban_and_rural_speeds(net, engine):
    g = times(net, "g0_3", engine=engine)
    # grid street: urban residential 20 km/h
    assert g[node(net, "g1_3")] == pytest.approx(t(hav("g0_3", "g1_3"), 20), abs=1e-3)
    # the whole way to the motorway's end: 6 grid edges, tertiary (rural 50), one-way, primary with
    # the maxspeed list, the bent primary, the motorway at 70
    grid = sum(t(hav(f"g{i}_3", f"g{i + 1}_3"), 20) for i in range(6))
    expect = (
        grid
        + t(hav("g6_3", "A"), 50)
        + t(hav("A", "B"), 40)
        + t(path_len("B", "H", "C"), 50, 0.0)
        + t(path_len("C", "K", "F"), 60, 0.0)
        + t(hav("F", "M"), 70, 0.0)
    )
    assert g[node(net, "M")] == pytest.approx(expect, abs=1e-3)
    back = times(net, "M", engine=engine)[node(net, "g0_3")]
    expect_back = (
        t(hav("F", "M"), 90, 0.0)
        + t(path_len("C", "K", "F"), 60, 0.0)
        + t(path_len("B", "H", "C"), 50)
        + t(path_len("B", "D", "E", "A"), 40)
        + t(hav("g6_3", "A"), 50)
        + grid
    )
    assert back == pytest.approx(expect_back, abs=1e-3)


def test_stock_fire_engine_table(net):
    """The shipped fire_engine table: motorway 85, residential 28 urban / 40 rural, tertiary 35 / 55,
    primary 45 / 65, maxspeed x 1.1, vehicle 90 km/h; the delay set explicitly."""
    fire = get_profile("fire_engine", intersection_delay_s=2.5)
    d = 2.5
    assert times(net, "F", profile=fire)[node(net, "M")] == pytest.approx(t(hav("F", "M"), 77, 0.0), abs=1e-3)
    assert times(net, "M", profile=fire)[node(net, "F")] == pytest.approx(t(hav("F", "M"), 85, 0.0), abs=1e-3)
    assert times(net, "A", profile=fire)[node(net, "B")] == pytest.approx(t(hav("A", "B"), 40, d), abs=1e-3)
    assert times(net, "g0_3", profile=fire)[node(net, "g1_3")] == pytest.approx(t(hav("g0_3", "g1_3"), 28, d), abs=1e-3)
    assert times(net, "g6_3", profile=fire)[node(net, "A")] == pytest.approx(t(hav("g6_3", "A"), 55, d), abs=1e-3)
    # primary rural 65, capped by maxspeed min(70, 50) * 1.1 = 55
    assert times(net, "B", profile=fire)[node(net, "C")] == pytest.approx(t(path_len("B", "H", "C"), 55, 0.0), abs=1e-3)


def test_period_factor_and_speed_scale(net):
    rush = PROFILE.with_overrides(period="rush_hour")  # residential x0.9, motorway x0.55
    assert times(net, "A", profile=rush)[node(net, "B")] == pytest.approx(t(hav("A", "B"), 40 * 0.9), abs=1e-3)
    assert times(net, "M", profile=rush)[node(net, "F")] == pytest.approx(t(hav("F", "M"), 90 * 0.55, 0.0), abs=1e-3)
    slow = PROFILE.with_overrides(speed_scale=0.5)
    assert times(net, "M", profile=slow)[node(net, "F")] == pytest.approx(t(hav("F", "M"), 45, 0.0), abs=1e-3)
    nodelay = PROFILE.with_overrides(intersection_delay_s=0.0)
    assert times(net, "A", profile=nodelay)[node(net, "B")] == pytest.approx(t(hav("A", "B"), 40, 0.0), abs=1e-3)


@pytest.mark.parametrize("engine", ENGINES)
def test_cutoff_gives_inf_beyond(net, engine):
    a_to_b = t(hav("A", "B"), 40)
    b_to_c = t(path_len("B", "H", "C"), 50, 0.0)
    d = times(net, "A", engine=engine, cutoff=a_to_b + b_to_c + 0.01)
    assert d[node(net, "A")] == 0.0
    assert d[node(net, "C")] == pytest.approx(a_to_b + b_to_c, abs=1e-3)
    assert np.isinf(d[node(net, "F")]) and np.isinf(d[node(net, "M")])
    d2 = times(net, "A", engine=engine, cutoff=a_to_b + b_to_c - 0.01)
    assert np.isinf(d2[node(net, "C")])


def test_travel_matrix_turnout_cutoff_no_road_data_and_sparse(net):
    a, b, c, f = (node(net, n) for n in "ABCF")
    ab, bc, cf = t(hav("A", "B"), 40), t(path_len("B", "H", "C"), 50, 0.0), t(path_len("C", "K", "F"), 60, 0.0)
    ba = t(path_len("B", "D", "E", "A"), 40)
    cutoff = 60 + ab + bc + 1.0  # 112 s
    demand = [b, c, f, a]
    tt = travel_matrix(
        net,
        PROFILE,
        [a, b],
        [60.0, 30.0],
        demand,
        cutoff_s=cutoff,
        site_ids=["pa", "pb"],
        no_road_data=[False, False, False, True],
    )
    m = tt.seconds
    assert tt.site_ids == ["pa", "pb"]
    assert m.dtype == np.float32 and m.shape == (2, 4)
    inf = np.inf
    # the last demand point has no road data: inf like every time not reached (one convention), and
    # the mask is kept beside the times
    expect = np.array(
        [[60 + ab, 60 + ab + bc, inf, inf], [30.0, 30 + bc, inf, inf]]
    )  # 60+ab+bc+cf = 157 s and 30+bc+cf = 115 s > 112 s
    np.testing.assert_allclose(m, expect, atol=1e-3)
    assert tt.no_road_data.tolist() == [False, False, False, True]
    sp = travel_matrix(net, PROFILE, [a, b], [60.0, 30.0], demand, cutoff_s=cutoff, sparse_out=True)
    assert sp.seconds.nnz == 5
    expect[:, 3] = [60.0, inf]  # 30 + ba = 132 s > 112 s
    assert 30 + ba > cutoff
    np.testing.assert_allclose(sp.dense(), expect, atol=1e-3)
    # no cutoff: everything reached, the same numbers
    full = travel_matrix(net, PROFILE, [b], 0.0, [a, f]).seconds
    np.testing.assert_allclose(full, [[ba, bc + cf]], atol=1e-3)


def test_kth_nearest_by_hand():
    m = np.array([[5.0, np.inf, np.nan, 7.0], [3.0, 4.0, np.nan, 7.0], [9.0, np.inf, np.nan, np.inf]])
    times_, sites = kth_nearest(m, k=2)
    np.testing.assert_array_equal(times_[0], [3.0, 4.0, np.nan, 7.0])
    np.testing.assert_array_equal(times_[1], [5.0, np.inf, np.nan, 7.0])
    np.testing.assert_array_equal(sites[0], [1, 1, -1, 0])
    np.testing.assert_array_equal(sites[1], [0, -1, -1, 1])


# ------------------------------------------------------------------ snapping
_TO_L72 = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
_TO_WGS = Transformer.from_crs("EPSG:31370", "EPSG:4326", always_xy=True)


def l72(name: str):
    return _TO_L72.transform(*fx.NODES[name])


def test_snap_distance_hand_computed(net):
    ax, ay = l72("A")
    s = snap_xy(net, [ax + 30.0, ax], [ay + 40.0, ay])
    assert list(s.node) == [node(net, "A")] * 2
    np.testing.assert_allclose(s.distance_m, [50.0, 0.0], atol=1e-3)
    assert not s.no_road_data.any()
    # the same through WGS84
    lon, lat = _TO_WGS.transform(ax + 30.0, ay + 40.0)
    s2 = snap_lonlat(net, lon, lat)
    assert s2.node[0] == node(net, "A")
    assert s2.distance_m[0] == pytest.approx(50.0, abs=1e-3)


def test_snap_far_point_flagged(net):
    mx, my = l72("M")  # the motorway's end: 2 km from any other node
    s = snap_xy(net, [mx, mx, mx], [my + 400.0, my + 499.0, my + 600.0])
    assert list(s.node) == [node(net, "M")] * 3
    np.testing.assert_allclose(s.distance_m, [400.0, 499.0, 600.0], atol=1e-6)
    assert list(s.no_road_data) == [False, False, True]
    assert not s.in_gap.any()
    assert list(snap_xy(net, [mx], [my + 350.0], max_snap_m=300.0).no_road_data) == [True]


def test_snap_inside_gap_polygon_flagged(net):
    alon, alat = fx.NODES["A"]
    gap = shapely.box(alon - 0.002, alat - 0.002, alon + 0.002, alat + 0.002)
    (ax, ay), (fx_, fy) = l72("A"), l72("F")
    lon, lat = _TO_WGS.transform([ax + 30.0, fx_], [ay + 40.0, fy + 20.0])
    s = snap_lonlat(net, lon, lat, gap=gap)
    assert list(s.node) == [node(net, "A"), node(net, "F")]
    np.testing.assert_allclose(s.distance_m, [50.0, 20.0], atol=1e-3)
    assert list(s.in_gap) == [True, False]
    assert list(s.no_road_data) == [True, False]  # 50 m from a road, but inside the gap: no data


# ------------------------------------------------------------ tag parsing
@pytest.mark.parametrize(
    "value, kmh",
    [
        ("50", 50.0),
        (70, 70.0),
        (["70", "50"], 50.0),
        (["none", "90"], 90.0),
        ("30 mph", 30 * 1.609344),
        ("50 km/h", 50.0),
        ("BE:zone30", 30.0),
        ("be-vlg:rural", 70.0),
        ("walk", 6.0),
    ],
)
def test_parse_maxspeed(value, kmh):
    assert parse_maxspeed(value) == pytest.approx(kmh, abs=1e-9)


@pytest.mark.parametrize("value", [None, "none", "signals", "0", "-30", [], ["none"]])
def test_parse_maxspeed_unknown_is_nan(value):
    assert math.isnan(parse_maxspeed(value))


def test_classify_highway_slowest_of_a_list_and_unknown_as_road():
    assert classify_highway("primary") == HIGHWAY_CLASSES.index("primary")
    assert classify_highway(["primary", "residential"]) == HIGHWAY_CLASSES.index("residential")
    assert classify_highway(["motorway_link", "motorway"]) == HIGHWAY_CLASSES.index("motorway_link")
    assert classify_highway("busway") == HIGHWAY_CLASSES.index("busway")
    assert classify_highway("bus_guideway") == HIGHWAY_CLASSES.index("road")


def test_maxspeed_semicolon_list_takes_the_lowest():
    assert parse_maxspeed("50;70") == 50.0
    assert parse_maxspeed("70; 30") == 30.0
