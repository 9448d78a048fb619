"""The road-data gap's shadow (issue 23, 6) on a small generated network.

A ladder of two residential streets 400 m apart, joined only at the west end; the "gap" polygon lies
between them in the east, where the extract would have had the rungs::

    N0 ------------------------------------------------ N4  (post)
    |                              [ gap: x 1000-2100, y 50-350 ]
    S0 ------------------------------------------------ S4

From the post at N4 the point S4, 400 m away as the crow flies, is 4,400 m by road: a detour the
missing roads make, not a fact. It is flagged and estimated at straight line x the median pace of the
routes that do not cross the gap (here the north street: 1 / 10 m/s plus junction delays).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import shapely
from osm_fixture import local_nodes, write_ways

from kazerne.demand.shadow import shadow_core
from kazerne.routing.crs import to_metric
from kazerne.routing.network import load_network
from kazerne.routing.profiles import get_profile
from kazerne.routing.snapping import snap_onto_streets

LON0, LAT0 = 3.70, 51.05
M_LAT = 6371009.0 * math.pi / 180
M_LON = M_LAT * math.cos(math.radians(LAT0))
XS = (0, 500, 1000, 1500, 2000)
LOCAL = {**{f"N{i}": (x, 400) for i, x in enumerate(XS)}, **{f"S{i}": (x, 0) for i, x in enumerate(XS)}}
NODES = local_nodes(LOCAL)
WAYS = [
    ([f"N{i}" for i in range(5)], {"highway": "residential", "name": "Noordweg"}),
    ([f"S{i}" for i in range(5)], {"highway": "residential", "name": "Zuidweg"}),
    (["N0", "S0"], {"highway": "residential", "name": "Westweg"}),
]
PROFILE = get_profile("fire_engine", speeds_kmh={"residential": (36, 36)}, maxspeed_factor=1.0)


def write_osm(path):
    return write_ways(path, NODES, WAYS)


def metric(x_local, y_local):
    lon = LON0 + np.asarray(x_local, dtype=float) / M_LON
    lat = LAT0 + np.asarray(y_local, dtype=float) / M_LAT
    return to_metric(lon, lat)


def test_a_point_behind_the_gap_is_flagged_and_estimated(tmp_path):
    net = load_network(write_osm(tmp_path / "roads.osm"), use_cache=False, quiet=True)
    xs = np.arange(0, 2001, 50.0)
    px, py = metric(np.concatenate([xs, xs]), np.concatenate([np.full(len(xs), 395.0), np.full(len(xs), 5.0)]))
    sn = snap_onto_streets(net, px, py)
    demand = SimpleNamespace(
        x=sn.x, y=sn.y, node=sn.node, edge=sn.edge, frac=sn.frac, no_road_data=sn.no_road_data, meta={}
    )
    gx, gy = metric([1000, 2100, 2100, 1000], [50, 50, 350, 350])
    gap = shapely.Polygon(np.column_stack([gx, gy]))
    post = int(np.argmin(np.hypot(*(np.array(metric(2000, 400)).ravel()[:, None] - np.vstack([net.x, net.y])))))
    shadow, est, info = shadow_core(net, PROFILE, demand, np.array([[net.x[post], net.y[post]]]), [post], gap)
    north, south = np.arange(len(xs)), len(xs) + np.arange(len(xs))
    assert not shadow[north].any()  # along the post's own street: nothing crosses the gap
    se = south[-1]  # S4, 5 m from the south street, 395 m from the post as the crow flies
    assert shadow[se]
    # the pace of the routes along the north street: 10 m/s, no junction on it (two arms at N1-N3),
    # so 0.1 s/m within 1 % (Lambert 72's scale and osmnx's haversine lengths differ by less)
    assert 0.099 <= info["pace_median_s_per_m"] <= 0.101
    straight = float(np.hypot(net.x[post] - sn.x[se], net.y[post] - sn.y[se]))
    assert est[se] == pytest.approx(straight * info["pace_median_s_per_m"], rel=1e-9)
    assert 39.0 <= est[se] <= 43.0  # ~395 m at ~10 m/s, instead of the 4,400 m detour (> 440 s)
    assert info["by_post"][0].tolist().count(se) == 1


def test_a_professional_post_across_the_gap_outweighs_a_volunteer_post_with_roads(tmp_path):
    """Oosterzele's case in small: the point 100 m west of S4 is 412 m from the professional post at N4
    across the gap (estimate ~41 s of driving) and 300 m along the south street from a volunteer post
    standing mid-street at x = 1600 m (30 s). Driving alone, the volunteer post wins and the point is
    not in the shadow; with the turnouts (90 s / 300 s) the estimate from N4 (131 s) beats the
    volunteer crew (330 s): the gap hides the faster response, so the point is flagged and estimated."""
    from kazerne.routing.snapping import snap_sites

    net = load_network(write_osm(tmp_path / "roads.osm"), use_cache=False, quiet=True)
    xs = np.arange(0, 2001, 50.0)
    px, py = metric(np.concatenate([xs, xs]), np.concatenate([np.full(len(xs), 395.0), np.full(len(xs), 5.0)]))
    sn = snap_onto_streets(net, px, py)
    demand = SimpleNamespace(
        x=sn.x, y=sn.y, node=sn.node, edge=sn.edge, frac=sn.frac, no_road_data=sn.no_road_data, meta={}
    )
    gx, gy = metric([1000, 2100, 2100, 1000], [50, 50, 350, 350])
    gap = shapely.Polygon(np.column_stack([gx, gy]))
    n4 = int(np.argmin(np.hypot(*(np.array(metric(2000, 400)).ravel()[:, None] - np.vstack([net.x, net.y])))))
    vx, vy = metric([1600], [0])
    vol = snap_sites(net, vx, vy)
    f = float(vol.frac[0])
    assert vol.distance_m[0] < 1.0 and (0.7 < f < 0.9 or 0.1 < f < 0.3)  # mid-street, not at a node
    xy = np.array([[net.x[n4], net.y[n4]], [float(vx[0]), float(vy[0])]])
    args = dict(post_edge=np.array([-1, vol.edge[0]]), post_frac=np.array([0.0, vol.frac[0]]))
    pt = len(xs) + 38  # x = 1900 m on the south street
    shadow, _, _ = shadow_core(net, PROFILE, demand, xy, [n4, int(vol.node[0])], gap, **args)
    assert not shadow[pt]
    shadow, est, info = shadow_core(
        net, PROFILE, demand, xy, [n4, int(vol.node[0])], gap, post_turnout_s=np.array([90.0, 300.0]), **args
    )
    assert shadow[pt]
    straight = float(np.hypot(net.x[n4] - sn.x[pt], net.y[n4] - sn.y[pt]))
    assert 405 <= straight <= 420
    assert est[pt] == pytest.approx(straight * info["pace_median_s_per_m"], rel=1e-9)  # the drive from N4
