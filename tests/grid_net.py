"""Small generated road networks for the change-layer and criticality tests.

``grid_zone(n, seed)`` gives a :class:`kazerne.routing.zone.Zone` over an ``n`` x ``n`` grid of nodes
100 m apart (EPSG:31370 around Ghent), every street two-way except a few one-way ones, lengths
jittered so that shortest paths are unique, two municipalities (west half "West", east half "Oost"),
rows named "Rij <j>" and columns "Kolom <i>". ``brute_times`` computes shortest times with plain
scipy on the network's edge arrays (no kazerne routing code), with some edges removed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from kazerne.routing.network import RoadNetwork, to_wgs84
from kazerne.routing.profiles import CLASS_INDEX
from kazerne.routing.zone import Zone
from kazerne.routing.zonepack import Municipality, ZonePack

X0, Y0, STEP = 104000.0, 194000.0, 100.0


def node_id(n: int, i: int, j: int) -> int:
    return j * n + i


def grid_net(n: int = 6, seed: int = 0, oneway_share: float = 0.1) -> RoadNetwork:
    rng = np.random.default_rng(seed)
    x = np.array([X0 + STEP * i for j in range(n) for i in range(n)])
    y = np.array([Y0 + STEP * j for j in range(n) for i in range(n)])
    lon, lat = to_wgs84(x, y)
    us, vs, names, ow = [], [], [], []
    for j in range(n):
        for i in range(n):
            a = node_id(n, i, j)
            for di, dj, nm in ((1, 0, f"Rij {j}"), (0, 1, f"Kolom {i}")):
                if i + di < n and j + dj < n:
                    b = node_id(n, i + di, j + dj)
                    one = rng.random() < oneway_share
                    us.append(a)
                    vs.append(b)
                    names.append(nm)
                    ow.append(one)
                    if not one:
                        us.append(b)
                        vs.append(a)
                        names.append(nm)
                        ow.append(False)
    u, v = np.array(us), np.array(vs)
    order = np.lexsort((v, u))
    u, v = u[order], v[order]
    names = [names[k] for k in order]
    ow = np.array(ow)[order]
    straight = np.hypot(x[u] - x[v], y[u] - y[v])
    length = straight * (1.0 + rng.integers(0, 400, len(u)) / 1000.0)  # detours: unique shortest paths
    name_list = sorted(set(names))
    geom = np.empty((2 * len(u), 2))
    geom[0::2] = np.column_stack([x[u], y[u]])
    geom[1::2] = np.column_stack([x[v], y[v]])
    return RoadNetwork(
        lon=lon,
        lat=lat,
        x=x,
        y=y,
        u=u.astype(np.int32),
        v=v.astype(np.int32),
        length=length,
        cls=np.full(len(u), CLASS_INDEX["residential"], dtype=np.int8),
        maxspeed=np.full(len(u), np.nan),
        urban=np.ones(len(u), dtype=bool),
        geom_offsets=np.arange(0, 2 * len(u) + 1, 2, dtype=np.int64),
        geom_xy=geom,
        name_id=np.array([name_list.index(s) for s in names], dtype=np.int32),
        names=np.array(name_list, dtype=str),
        oneway=ow,
        access=np.zeros(len(u), dtype=np.int8),
        level=np.zeros(len(u), dtype=np.int8),
        fixme=np.zeros(len(u), dtype=bool),
        n_nodes_source=n * n,
        n_edges_source=len(u),
        source="generated",
        source_sha256="generated",
    )


def grid_zone(n: int = 6, seed: int = 0, oneway_share: float = 0.1) -> Zone:
    net = grid_net(n, seed, oneway_share)
    mid = X0 + STEP * (n - 1) / 2
    west = shapely.box(X0 - 50, Y0 - 50, mid, Y0 + STEP * n)
    east = shapely.box(mid, Y0 - 50, X0 + STEP * n, Y0 + STEP * n)
    # a real ZonePack (Zone checks its fields); no roads file, no WGS84 outlines: nothing here reads them
    munis = [Municipality("West", 1.0, None), Municipality("Oost", 1.0, None)]
    pack = ZonePack(name="grid", path=Path("."), roads_file=None, municipalities=munis, posts=[], medical_sites=[])
    return Zone(
        pack=pack, net=net, zone_metric=shapely.union(west, east), gap_metric=None, municipalities_metric=[west, east]
    )


def brute_times(net: RoadNetwork, edge_t: np.ndarray, sources, removed=()) -> np.ndarray:
    """Shortest times from ``sources`` with plain scipy, edges in ``removed`` left out (no parallel
    edges in the generated networks, so a coo matrix is the graph)."""
    keep = np.ones(net.n_edges, dtype=bool)
    keep[list(removed)] = False
    keep &= np.isfinite(edge_t)
    g = sparse.csr_matrix((edge_t[keep], (net.u[keep], net.v[keep])), shape=(net.n_nodes, net.n_nodes))
    return csgraph.dijkstra(g, directed=True, indices=np.atleast_1d(sources))


def lonlat(net: RoadNetwork, node: int) -> list:
    return [float(net.lon[node]), float(net.lat[node])]
