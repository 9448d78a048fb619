"""Issue 23, item 5 for sites and route ends, on the small generated network of test_routing_rules.py:
a site stands on the nearest point of the nearest public road (projection, not the nearest node) and
leaves from there towards either end of its edge, one-way streets respected; a route starts and ends
on the points on their streets.

Every expected time is computed here from the fixture's coordinates (haversine lengths at 10 m/s plus
the junction delays the rules give: 3 s where three public road arms meet, 11 s at the signals of W3),
not by the code under test.
"""

from __future__ import annotations

import bz2
import re
from types import SimpleNamespace

import numpy as np
import pytest
from test_routing_rules import FIRE, SIG, J, hav, idx, path, write_osm

from kazerne.errors import SnapError
from kazerne.routing.crs import to_wgs84
from kazerne.routing.network import load_network
from kazerne.routing.routes import route
from kazerne.routing.snapping import (
    departure_costs,
    drive_times_from,
    edge_point,
    snap_onto_streets,
    snap_sites,
    street_point,
)
from kazerne.routing.travel import demand_drive_times


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    return load_network(write_osm(tmp_path_factory.mktemp("sites") / "roads.osm"), use_cache=False, quiet=True)


def _xy(net, name, dx=0.0, dy=0.0):
    i = idx(net, name)
    return net.x[i] + dx, net.y[i] + dy


def _mid(net, a, b, dx=0.0, dy=0.0):
    (xa, ya), (xb, yb) = _xy(net, a), _xy(net, b)
    return (xa + xb) / 2 + dx, (ya + yb) / 2 + dy


def _name(net, e):
    return str(net.names[net.name_id[int(e)]])


def test_a_site_mid_edge_leaves_towards_both_ends(net):
    x, y = _mid(net, "W1", "W2", dy=5.0)
    s = snap_sites(net, [x], [y])
    assert _name(net, s.edge[0]) == "Hoofdstraat" and s.frac[0] == pytest.approx(0.5, abs=0.01)
    assert s.distance_m[0] == pytest.approx(5.0, abs=0.05)
    a, ca, b, cb = departure_costs(net, FIRE, s.edge, s.frac)
    half = hav("W1", "W2") / 2 / 10
    to = {int(a[0]): ca[0], int(b[0]): cb[0]}
    assert to[idx(net, "W1")] == pytest.approx(half, rel=0.02)  # W1: a driveway joins, no junction
    assert to[idx(net, "W2")] == pytest.approx(half + J, rel=0.02)  # W2: a junction of public roads
    d = drive_times_from(net, FIRE, s.node, s.edge, s.frac)[0]
    assert d[idx(net, "W0")] == pytest.approx(half + hav("W0", "W1") / 10, rel=0.02)
    assert d[idx(net, "W3")] == pytest.approx(half + J + hav("W2", "W3") / 10 + SIG, rel=0.02)
    # the nearer node alone would have started 40-odd seconds closer to one side
    d_node = drive_times_from(net, FIRE, [idx(net, "W1")])[0]
    assert d_node[idx(net, "W0")] < d[idx(net, "W0")] - 0.9 * half


def test_a_site_on_a_one_way_street_leaves_by_its_direction(net):
    x, y = _mid(net, "S2", "T1", dy=-3.0)
    s = snap_sites(net, [x], [y])
    assert _name(net, s.edge[0]) == "Eenrichting"
    strict = FIRE.with_overrides(contraflow_classes=())
    a, ca, b, cb = departure_costs(net, strict, s.edge, s.frac)
    assert (int(a[0]), int(b[0])) == (idx(net, "S2"), idx(net, "T1"))
    half = hav("S2", "T1") / 2 / 10
    assert np.isinf(ca[0]) and cb[0] == pytest.approx(half, rel=0.02)  # T1: two arms, no junction
    d = drive_times_from(net, strict, s.node, s.edge, s.frac)[0]
    around = half + path("T1", "T2", "T3", "S2") / 10 + J  # along the one-way street, round the loop
    assert d[idx(net, "S2")] == pytest.approx(around, rel=0.02)
    d_contra = drive_times_from(net, FIRE, s.node, s.edge, s.frac)[0]  # contraflow allowed here
    assert d_contra[idx(net, "S2")] == pytest.approx(half + J, rel=0.02)


def test_a_site_and_a_point_on_the_same_street_are_joined_along_it(net):
    """Site at a quarter of Hoofdstraat W1-W2, a demand point at three quarters: half the street
    between them, not out to a junction and back."""
    (x1, y1), (x2, y2) = _xy(net, "W1"), _xy(net, "W2")
    s = snap_sites(net, [x1 + 0.25 * (x2 - x1)], [y1 + 0.25 * (y2 - y1) + 4.0])
    px, py = x1 + 0.75 * (x2 - x1), y1 + 0.75 * (y2 - y1) - 4.0
    sn = snap_onto_streets(net, [px], [py])
    assert sn.edge[0] == s.edge[0]
    demand = SimpleNamespace(
        node=sn.node, edge=sn.edge, frac=sn.frac, no_road_data=sn.no_road_data, x=sn.x, y=sn.y, meta={}
    )
    t = demand_drive_times(net, FIRE, s.node, demand, site_edge=s.edge, site_frac=s.frac)
    assert t[0, 0] == pytest.approx(hav("W1", "W2") / 2 / 10, rel=0.02)
    r = route(net, FIRE, edge_point(net, int(s.node[0]), int(s.edge[0]), float(s.frac[0])), street_point(net, px, py))
    assert r.drive_s == pytest.approx(t[0, 0], rel=1e-9)
    assert [leg.street for leg in r.legs] == ["Hoofdstraat"]
    assert r.length_m == pytest.approx(hav("W1", "W2") / 2, rel=0.02)


def test_a_route_starts_and_ends_on_the_points_on_their_streets(net):
    """Site mid Hoofdstraat (W1-W2) -> an address mid Zijstraat (W2-S2): half of each street and the
    junction delay at W2, the time the matrices give; the legs start and end mid-street."""
    sx, sy = _mid(net, "W1", "W2", dy=5.0)
    s = snap_sites(net, [sx], [sy])
    px, py = _mid(net, "W2", "S2", dx=6.0)
    end = street_point(net, px, py)
    assert _name(net, end.edge) == "Zijstraat" and end.distance_m == pytest.approx(6.0, abs=0.1)
    r = route(net, FIRE, edge_point(net, int(s.node[0]), int(s.edge[0]), float(s.frac[0])), end)
    expect = hav("W1", "W2") / 2 / 10 + J + hav("W2", "S2") / 2 / 10
    assert r.drive_s == pytest.approx(expect, rel=0.02)
    assert [leg.street for leg in r.legs] == ["Hoofdstraat", "Zijstraat"]
    assert r.length_m == pytest.approx((hav("W1", "W2") + hav("W2", "S2")) / 2, rel=0.02)
    assert r.meta["starts_on"] == "Hoofdstraat" and r.meta["ends_on"] == "Zijstraat"
    sn = snap_onto_streets(net, [px], [py])
    demand = SimpleNamespace(
        node=sn.node, edge=sn.edge, frac=sn.frac, no_road_data=sn.no_road_data, x=sn.x, y=sn.y, meta={}
    )
    t = demand_drive_times(net, FIRE, s.node, demand, site_edge=s.edge, site_frac=s.frac)
    assert r.drive_s == pytest.approx(t[0, 0], rel=1e-9)


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    """The rules network as a zone pack (municipalities, posts and gap of the tiny pack elsewhere)."""
    from test_routing_zonepack import write_pack

    from kazerne.routing.zone import load_zone

    d = write_pack(tmp_path_factory.mktemp("sitezone"), name="rulezone")
    osm = write_osm(d / "rules.osm")
    (d / "roads-2020-05.osm.bz2").write_bytes(bz2.compress(osm.read_bytes()))
    osm.unlink()
    return load_zone(str(d), quiet=True, use_cache=False)


def test_a_post_beside_a_driveway_and_a_street_stands_on_the_street(zone):
    """12 m from the driveway Oprit (a service road), 50 m from Hoofdstraat: the site stands on
    Hoofdstraat, 50 m from its position, at W1's abscissa along it."""
    import kazerne as kz

    net = zone.net
    x, y = _xy(net, "W1", 12.0, 50.0)
    lon, lat = to_wgs84(np.array([x]), np.array([y]))
    s = kz.Sites.from_lonlat(zone, "X1", float(lon[0]), float(lat[0]))
    assert _name(net, s.edge[0]) == "Hoofdstraat" and s.road == ["Hoofdstraat (residential)"]
    assert s.snap_m[0] == pytest.approx(50.0, abs=0.5)
    p = s.point(zone, "X1")
    assert np.hypot(p.x - (x), p.y - (y - 50.0)) < 0.5  # the foot of the perpendicular
    assert s.rows()[0]["snap_m"] == pytest.approx(50.0, abs=0.5)
    # the same through subset / concat (the public API keeps the place on the street)
    both = s.concat(kz.Sites.from_lonlat(zone, "X2", float(lon[0]), float(lat[0])))
    assert both.subset(["X2"]).edge[0] == s.edge[0] and both.subset(["X2"]).frac[0] == s.frac[0]


def test_a_post_far_from_every_road_is_refused_naming_it_and_the_distance(zone):
    import kazerne as kz

    net = zone.net
    x, y = _xy(net, "W2", 0.0, 1200.0)  # 800 m north of T3, the corner of Lus (y = 400 m)
    lon, lat = to_wgs84(np.array([x]), np.array([y]))
    with pytest.raises(SnapError) as exc:
        kz.Sites.from_lonlat(zone, "FAR", float(lon[0]), float(lat[0]))
    msg = str(exc.value)
    dist = float(re.search(r"is (\d+) m from the nearest road", msg).group(1))
    assert "site FAR" in msg and "\n" not in msg and 790 <= dist <= 810


def test_best_route_usage_counts_a_departure_against_the_one_way_street(net):
    """A site mid Eenrichting (one-way S2 -> T1) and a point on Zijstraat just below S2: with
    contraflow allowed (full speed here) the fastest route leaves backwards along Eenrichting to S2,
    and the best-route audit counts that half street as contraflow for the point's people; without
    contraflow the route goes round the loop and nothing is counted against the direction."""
    from kazerne.routing.usage import best_route_usage

    s = snap_sites(net, *(np.array([v]) for v in _mid(net, "S2", "T1", dy=-3.0)))
    px, py = _mid(net, "W2", "S2", dx=6.0)
    sn = snap_onto_streets(net, [px], [py])
    demand = SimpleNamespace(
        node=sn.node,
        edge=sn.edge,
        frac=sn.frac,
        no_road_data=sn.no_road_data,
        x=sn.x,
        y=sn.y,
        weight=np.array([42.0]),
        meta={},
    )
    u = best_route_usage(net, FIRE, s.node, [0.0], demand, s.edge, s.frac)
    assert u["contraflow_population"] == pytest.approx(42.0)
    assert [r["street"] for r in u["contraflow"]] == ["Eenrichting"]
    strict = FIRE.with_overrides(contraflow_classes=())
    assert best_route_usage(net, strict, s.node, [0.0], demand, s.edge, s.frac)["contraflow_population"] == 0.0


def test_a_changed_network_slows_and_closes_the_partial_edges_too():
    """Network changes reach the partial edges of sites and demand points: a slow-down by half over the
    whole grid doubles every edge's time both ways (as the changed routing graph has it), and a closed
    street cannot be driven from a point on it."""
    import shapely
    from grid_net import X0, Y0, grid_zone

    from kazerne.routing.changes import NetworkChange
    from kazerne.routing.match import apply_changes
    from kazerne.routing.profiles import get_profile
    from kazerne.routing.snapping import edge_drive_times

    z = grid_zone(7, seed=5)
    net, fe = z.net, get_profile("fire_engine")
    e = np.arange(net.n_edges)
    f0, b0 = edge_drive_times(net, fe, e)
    everything = shapely.box(X0 - 10, Y0 - 10, X0 + 1000, Y0 + 1000).wkt
    slow = apply_changes(z, [NetworkChange("slow", geometry=everything, factor=0.5)]).net
    f1, b1 = edge_drive_times(slow, fe, e)
    ok = np.isfinite(f0) & np.isfinite(b0)
    assert ok.sum() > 5
    np.testing.assert_allclose(f1[ok], 2 * f0[ok], rtol=1e-9)
    np.testing.assert_allclose(b1[ok], 2 * b0[ok], rtol=1e-9)
    k = int(np.flatnonzero(ok & (net.length > 50))[0])
    a, ca, b, cb = departure_costs(slow, fe, [k], [0.5])
    a0, ca0, b0_, cb0 = departure_costs(net, fe, [k], [0.5])
    half_delay_a = ca0[0] - 0.5 * b0[k]  # the junction delay at the tail, not scaled by the slow-down
    assert ca[0] == pytest.approx(0.5 * b1[k] + half_delay_a, rel=1e-9)
    closed = apply_changes(z, [NetworkChange("close", geometry=everything)]).net
    f2, b2 = edge_drive_times(closed, fe, e)
    assert np.isinf(f2).all() and np.isinf(b2).all()
