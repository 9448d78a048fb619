"""``RoadNetwork.to_networkx``: an osmnx-compatible MultiDiGraph (issue 27, item 4).

On the tiny OSM fixture (tests/osm_fixture.py) the expected lengths and times come from the
fixture's coordinates (haversine, as in test_routing_network.py), not from the engine; once on the
zone, osmnx's own functions run on the graph of the real network.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import osm_fixture as fx
import osmnx as ox
import pytest
from test_routing_network import PROFILE, hav, node, path_len, t

from kazerne.routing.network import load_network


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny-osm-ox")
    return load_network(fx.write_osm(d / "roads-2020.osm"), use_cache=False, quiet=True)


@pytest.fixture(scope="module")
def G(net):
    return net.to_networkx(PROFILE)


def test_graph_has_crs_nodes_xy_and_osmnx_edge_attributes(net, G):
    assert G.is_multigraph() and G.is_directed()
    assert G.graph["crs"] == "EPSG:4326"
    for name in ("A", "B", "C", "F", "M", "g3_3"):
        lon, lat = fx.NODES[name]
        d = G.nodes[node(net, name)]
        assert (d["x"], d["y"]) == pytest.approx((lon, lat), abs=1e-9)
    # B -> C is the primary Steenweg (B-H-C merged), its length the haversine sum
    (e,) = G[node(net, "B")][node(net, "C")].values()
    assert e["highway"] == "primary" and e["name"] == "Steenweg"
    assert e["length"] == pytest.approx(path_len("B", "H", "C"), rel=1e-6)
    for _, _, d in G.edges(data=True):
        assert {"length", "travel_time", "highway", "geometry"} <= set(d)
        assert d["travel_time"] > 0 and d["length"] > 0


def test_graph_to_gdfs_and_shortest_path(net, G):
    nodes, edges = ox.graph_to_gdfs(G)
    assert nodes.crs.to_epsg() == 4326 and edges.crs.to_epsg() == 4326
    assert len(nodes) == net.n_nodes
    assert {"length", "travel_time", "highway", "name"} <= set(edges.columns)
    # the edge geometry starts at its tail and ends at its head
    for (u, v, _), g in edges.geometry.items():
        assert g.coords[0] == pytest.approx((G.nodes[u]["x"], G.nodes[u]["y"]), abs=1e-9)
        assert g.coords[-1] == pytest.approx((G.nodes[v]["x"], G.nodes[v]["y"]), abs=1e-9)
    # B -> A: the one-way street A -> B forces the loop B-D-E-A (1,100 m, rural residential 40 km/h)
    a, b = node(net, "A"), node(net, "B")
    path = ox.shortest_path(G, b, a, weight="travel_time")
    assert path[0] == b and path[-1] == a and len(path) >= 2
    tt = sum(min(d["travel_time"] for d in G[p][q].values()) for p, q in zip(path[:-1], path[1:]))
    assert tt == pytest.approx(t(path_len("B", "D", "E", "A"), 40), abs=1e-3)
    # A -> B takes the 100 m one-way street itself
    assert ox.shortest_path(G, a, b, weight="travel_time") == [a, b]
    assert G[a][b][0]["travel_time"] == pytest.approx(t(hav("A", "B"), 40), abs=1e-3)


def test_nearest_nodes_and_plot_graph(net, G):
    # unprojected nearest_nodes needs scikit-learn; the projected graph (metres) needs only scipy
    P = net.to_networkx(PROFILE, crs="EPSG:31370")
    assert P.graph["crs"] == "EPSG:31370"
    for name in ("A", "C", "g3_3"):
        n = node(net, name)
        x, y = P.nodes[n]["x"] + 7.0, P.nodes[n]["y"] - 5.0  # a few metres off the junction
        assert int(ox.nearest_nodes(P, x, y)) == n
    fig, ax = ox.plot_graph(G, show=False, close=False, node_size=2)
    assert len(ax.collections) >= 2  # edges and nodes drawn
    xs = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections if len(c.get_offsets()) == net.n_nodes])
    assert np.allclose(np.sort(xs), np.sort(net.lon))
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_bad_crs_is_one_line(net):
    from kazerne.errors import ModelInputError

    with pytest.raises(ModelInputError, match="crs"):
        net.to_networkx(PROFILE, crs="EPSG:3857")


def test_zone_graph_works_with_osmnx(hvz_zone):
    from kazerne.routing.profiles import get_profile

    G = hvz_zone.net.to_networkx(get_profile("fire_engine"), crs="EPSG:31370")
    nodes, edges = ox.graph_to_gdfs(G)
    assert len(nodes) == hvz_zone.net.n_nodes and edges["travel_time"].gt(0).all()
    p01 = hvz_zone.pack.site("P01")
    from kazerne.routing.crs import to_metric

    x, y = to_metric([p01.lon], [p01.lat])
    n = int(ox.nearest_nodes(G, float(x[0]), float(y[0])))
    d = np.hypot(hvz_zone.net.x - x[0], hvz_zone.net.y - y[0])
    assert n == int(np.argmin(d))
    far = int(np.argmax(d))
    path = ox.shortest_path(G, n, far, weight="travel_time")
    from kazerne.routing.paths import drive_times

    ref = drive_times(hvz_zone.net, get_profile("fire_engine"), [n])[0][far]
    tt = sum(min(e["travel_time"] for e in G[p][q].values()) for p, q in zip(path[:-1], path[1:]))
    assert tt == pytest.approx(ref, rel=1e-9)
