"""Emergency passages, the network audit, routes and build-pack on a small generated network.

Layout (metres east / north of lon 3.70, lat 51.05; lengths computed here with the haversine formula)::

    P0 ---- P1 ====================== P4 ---- P5   (P5 a dead end)
            |   pedestrian street      |        :  1 m gap, not joined
            |   (motor_vehicle=no)     |       Q1  (a dead end)
            |                          |        |
            P2 ----------------------- P3 ----- Q0
    Westlaan P0-P1, Oostlaan P4-P5 (a one-way street of unknown direction, written two-way), Omweg P1-P2-P3-P4 (residential), Zijstraat Q0-Q1, Verbinding P3-Q0.

The fire engine takes the pedestrian street P1-P4 (500 m at its passage speed); the car must go round
by Omweg (2,500 m). Q1 lies 1 m from P5 without being joined: the audit finds the pair (and the two
facing dead ends), ``build-pack`` joins them.
"""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from kazerne.cli import main
from kazerne.routing.audit import close_pairs
from kazerne.routing.network import load_network
from kazerne.routing.profiles import get_profile
from kazerne.routing.routes import route, tree_lengths
from kazerne.routing.travel import drive_times

LON0, LAT0 = 3.70, 51.05
R = 6371009.0
M_LAT = R * math.pi / 180
M_LON = M_LAT * math.cos(math.radians(LAT0))
LOCAL = {
    "P0": (0, 0),
    "P1": (500, 0),
    "P2": (500, 1000),
    "P3": (1000, 1000),
    "P4": (1000, 0),
    "P5": (1500, 0),
    "Q1": (1500, 1.0),
    "Q0": (1500, 1000),
}
NODES = {k: (round(LON0 + x / M_LON, 7), round(LAT0 + y / M_LAT, 7)) for k, (x, y) in LOCAL.items()}
IDS = {k: i + 1 for i, k in enumerate(NODES)}
WAYS = [
    (["P0", "P1"], {"highway": "residential", "name": "Westlaan"}),
    (["P1", "P4"], {"highway": "pedestrian", "name": "Voetgangersstraat", "motor_vehicle": "no"}),
    (["P1", "P2", "P3", "P4"], {"highway": "residential", "name": "Omweg"}),
    (["P4", "P5"], {"highway": "residential", "name": "Oostlaan", "fixme": "one-way, driving direction unknown"}),
    (["P3", "Q0"], {"highway": "residential", "name": "Verbinding"}),
    (["Q0", "Q1"], {"highway": "residential", "name": "Zijstraat"}),
]
FIRE = get_profile(
    "fire_engine",
    intersection_delay_s=0.0,
    emergency_passage_kmh=20.0,
    speeds_kmh={"residential": (30, 30), "pedestrian": (15, 15)},
)
CAR = get_profile("car", intersection_delay_s=0.0, speeds_kmh={"residential": (30, 30)})


def hav(a, b):
    (lo1, la1), (lo2, la2) = NODES[a], NODES[b]
    p1, p2 = math.radians(la1), math.radians(la2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lo2 - lo1) / 2) ** 2
    return 2 * math.asin(math.sqrt(h)) * R


def write_osm(path):
    out = ["<?xml version='1.0' encoding='UTF-8'?>", '<osm version="0.6" generator="kazerne-tests">']
    out += [f'<node id="{IDS[k]}" version="1" lat="{la:.7f}" lon="{lo:.7f}"/>' for k, (lo, la) in NODES.items()]
    for i, (nodes, tags) in enumerate(WAYS):
        out.append(f'<way id="{100 + i}" version="1">')
        out += [f'  <nd ref="{IDS[n]}"/>' for n in nodes]
        out += [f'  <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        out.append("</way>")
    out.append("</osm>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def write_municipality(path):
    """One municipality, "Testdorp", a box around the whole fixture, as GeoJSON."""
    lo0, la0 = NODES["P0"][0] - 0.01, NODES["P0"][1] - 0.01
    lo1, la1 = NODES["Q0"][0] + 0.01, NODES["Q0"][1] + 0.01
    ring = [[lo0, la0], [lo1, la0], [lo1, la1], [lo0, la1], [lo0, la0]]
    feat = {
        "type": "Feature",
        "properties": {"name": "Testdorp", "nis_code": "1", "population_2020": 100},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feat]}))
    return path


@pytest.fixture()
def net(tmp_path):
    return load_network(write_osm(tmp_path / "roads.osm"), use_cache=False, quiet=True)


def idx(net, name):
    lon, lat = NODES[name]
    hit = np.flatnonzero(np.isclose(net.lon, lon, atol=1e-9, rtol=0) & np.isclose(net.lat, lat, atol=1e-9, rtol=0))
    assert len(hit) == 1, name
    return int(hit[0])


def test_emergency_link_used_by_fire_engine_not_by_car(net):
    a, b = idx(net, "P0"), idx(net, "P5")
    fire = drive_times(net, FIRE, [a])[0, b]
    car = drive_times(net, CAR, [a])[0, b]
    # fire engine: Westlaan 500 m at 30, the pedestrian street 500 m at min(15, 20) = 15, Oostlaan at 30
    expect_fire = hav("P0", "P1") / (30 / 3.6) + hav("P1", "P4") / (15 / 3.6) + hav("P4", "P5") / (30 / 3.6)
    assert fire == pytest.approx(expect_fire, abs=1e-3)
    # car: round by Omweg, never on the pedestrian street
    omweg = hav("P1", "P2") + hav("P2", "P3") + hav("P3", "P4")
    expect_car = (hav("P0", "P1") + omweg + hav("P4", "P5")) / (30 / 3.6)
    assert car == pytest.approx(expect_car, abs=1e-3)
    # the passage speed cap binds below the class speed
    slow = FIRE.with_overrides(emergency_passage_kmh=5.0)
    t_slow = drive_times(net, slow, [a])[0, b]
    assert t_slow == pytest.approx(
        min(expect_fire - hav("P1", "P4") / (15 / 3.6) + hav("P1", "P4") / (5 / 3.6), expect_car), abs=1e-3
    )
    assert int(net.emergency_only().sum()) == 2  # P1->P4 and P4->P1


def test_route_street_by_street_equals_the_matrix(net):
    a, b = idx(net, "P0"), idx(net, "P5")
    r = route(net, FIRE, a, b)
    assert [leg.street for leg in r.legs] == ["Westlaan", "Voetgangersstraat", "Oostlaan"]
    assert [leg.emergency_passage for leg in r.legs] == [False, True, False]
    assert r.drive_s == pytest.approx(float(drive_times(net, FIRE, [a])[0, b]), abs=1e-6)
    assert sum(leg.time_s for leg in r.legs) == pytest.approx(r.drive_s, abs=1e-6)
    assert r.length_m == pytest.approx(hav("P0", "P1") + hav("P1", "P4") + hav("P4", "P5"), abs=0.01)
    # straight line measured in Belgian Lambert 72 (scale error ~0.3 % here) against great-circle lengths
    assert r.detour_index == pytest.approx(r.length_m / hav("P0", "P5"), rel=5e-3)
    feat = r.to_geojson()
    assert feat["geometry"]["type"] == "LineString"
    assert feat["geometry"]["coordinates"][0] == pytest.approx(list(NODES["P0"]), abs=1e-7)
    assert feat["geometry"]["coordinates"][-1] == pytest.approx(list(NODES["P5"]), abs=1e-7)
    car = route(net, CAR, a, b)
    assert [leg.street for leg in car.legs] == ["Westlaan", "Omweg", "Oostlaan"]
    # tree lengths: the same route length for every node of the tree
    t, L = tree_lengths(net, FIRE, [a])
    assert L[0, b] == pytest.approx(r.length_m, abs=0.01)
    assert t[0, b] == pytest.approx(r.drive_s, abs=1e-6)


def test_audit_finds_the_unjoined_pair_and_build_pack_joins_it(net, tmp_path, monkeypatch):
    near, near_d, facing, facing_d = close_pairs(net, near_m=2.0, dead_end_m=15.0)
    pair = {idx(net, "P5"), idx(net, "Q1")}
    assert [set(p) for p in near.tolist()] == [pair]
    assert near_d[0] == pytest.approx(1.0, abs=0.01)
    assert [set(p) for p in facing.tolist()] == [pair]
    # build-pack joins them
    src = write_osm(tmp_path / "src.osm")
    mun = write_municipality(tmp_path / "m.geojson")
    posts = tmp_path / "posts.csv"
    with open(posts, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "municipality", "street", "crew", "status", "lat", "lon", "location_grade"])
        w.writerow(
            ["T1", "Post", "Testdorp", "Westlaan", "professional", "active", NODES["P0"][1], NODES["P0"][0], "B"]
        )
    out = tmp_path / "packs"
    monkeypatch.setenv("KAZERNE_CACHE", str(tmp_path / "cache"))
    rc = main(
        [
            "build-pack",
            "joined",
            "--osm",
            str(src),
            "--municipalities",
            str(mun),
            "--posts",
            str(posts),
            "--out",
            str(out),
            "--date",
            "2026-12",
        ]
    )
    assert rc == 0
    rep = json.loads((out / "joined" / "build-report.json").read_text())
    assert rep["join"]["nodes_joined"] == 1
    net2 = load_network(out / "joined" / "roads-2026-12.osm.bz2", use_cache=False, quiet=True)
    assert net2.n_nodes_source == net.n_nodes_source - 1
    near2, _, facing2, _ = close_pairs(net2, near_m=2.0, dead_end_m=15.0)
    assert len(near2) == 0 and len(facing2) == 0
    # now P5 -> Q0 is the 999 m Zijstraat, no longer back round by Verbinding
    a = int(
        np.flatnonzero(
            np.isclose(net2.lon, NODES["P5"][0], atol=1e-9) & np.isclose(net2.lat, NODES["P5"][1], atol=1e-9)
        )[0]
    )
    q0 = int(
        np.flatnonzero(
            np.isclose(net2.lon, NODES["Q0"][0], atol=1e-9) & np.isclose(net2.lat, NODES["Q0"][1], atol=1e-9)
        )[0]
    )
    r = route(net2, CAR, a, q0)
    assert [leg.street for leg in r.legs] == ["Zijstraat"]


def test_way_access_classes():
    from kazerne.routing.osmread import EMERGENCY, NO_ACCESS, PUBLIC, way_access

    assert way_access({"highway": "residential"}) == PUBLIC
    assert way_access({"highway": "residential", "motor_vehicle": "no"}) == EMERGENCY
    assert way_access({"highway": "service", "access": "no", "emergency": "yes"}) == EMERGENCY
    assert way_access({"highway": "pedestrian"}) == EMERGENCY
    assert way_access({"highway": "busway"}) == EMERGENCY
    assert way_access({"highway": "service", "service": "emergency_access"}) == EMERGENCY
    assert way_access({"highway": "footway"}) == NO_ACCESS
    assert way_access({"highway": "cycleway", "emergency": "designated"}) == EMERGENCY
    assert way_access({"highway": "residential", "emergency": "no"}) == NO_ACCESS
    assert way_access({"highway": "residential", "access": "private", "motor_vehicle": "yes"}) == PUBLIC


def test_unknown_direction_streets_flagged_and_slowed_on_request(net):
    a, b = idx(net, "P0"), idx(net, "P5")
    r = route(net, FIRE, a, b)
    assert [leg.unknown_direction for leg in r.legs] == [False, False, True]
    assert r.summary()["unknown_direction_m"] == pytest.approx(hav("P4", "P5"), abs=0.01)
    worst = FIRE.with_overrides(unknown_direction_factor=0.5)
    t0 = drive_times(net, FIRE, [a])[0, b]
    t1 = drive_times(net, worst, [a])[0, b]
    assert t1 - t0 == pytest.approx(hav("P4", "P5") / (30 / 3.6), abs=1e-3)  # Oostlaan at 15 instead of 30
    assert route(net, worst, a, b).drive_s == pytest.approx(t1, abs=1e-6)


def test_build_pack_reads_pbf_like_xml(tmp_path, monkeypatch):
    """The same roads as OSM XML and as PBF (written here with pyosmium) give the same network."""
    import osmium

    src = write_osm(tmp_path / "src.osm")
    pbf = tmp_path / "src.osm.pbf"
    w = osmium.SimpleWriter(str(pbf))
    for obj in osmium.FileProcessor(str(src)):
        (w.add_node if obj.is_node() else w.add_way)(obj)
    w.close()
    mun = write_municipality(tmp_path / "m.geojson")
    posts = tmp_path / "posts.csv"
    posts.write_text("id,name,municipality,street,crew,status,lat,lon\n")
    monkeypatch.setenv("KAZERNE_CACHE", str(tmp_path / "cache"))
    nets = []
    for name, f in (("x", src), ("p", pbf)):
        assert (
            main(
                [
                    "build-pack",
                    name,
                    "--osm",
                    str(f),
                    "--municipalities",
                    str(mun),
                    "--posts",
                    str(posts),
                    "--out",
                    str(tmp_path / "packs"),
                    "--date",
                    "2026-12",
                    "--join-m",
                    "0",
                ]
            )
            == 0
        )
        nets.append(load_network(tmp_path / "packs" / name / "roads-2026-12.osm.bz2", use_cache=False, quiet=True))
    for k in ("lon", "lat", "u", "v", "length", "cls", "access", "fixme"):
        np.testing.assert_array_equal(getattr(nets[0], k), getattr(nets[1], k), err_msg=k)
    assert int(nets[1].emergency_only().sum()) == 2
