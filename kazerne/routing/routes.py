"""Fastest routes, street by street, and route lengths for the detour index.

``route()`` answers "why does the engine say 32 minutes?": the fastest route of a profile from one
node to another as a list of legs (street, road class, length, speed, time; legs driven against a
one-way street and emergency-only passages are marked), its line geometry, and its **detour index**
(route length / straight-line distance) and effective speed. Its time is the same shortest-path time
the travel-time matrices use (same routing graph, same Dijkstra weights).

``tree_lengths()`` gives, for a whole shortest-path tree, both the driving time and the length of
the fastest route to every node; the network audit uses it for detour indices over many pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csgraph

from ..errors import ModelInputError
from .network import RoadNetwork, to_wgs84
from .profiles import HIGHWAY_CLASSES, SpeedProfile


@dataclass
class RouteLeg:
    """A stretch of the route along one street (same name, class and manner of driving)."""

    street: str
    road_class: str
    length_m: float
    speed_kmh: float
    time_s: float
    against_oneway: bool
    emergency_passage: bool
    unknown_direction: bool

    def row(self) -> dict:
        return {
            "street": self.street,
            "road_class": self.road_class,
            "length_m": round(self.length_m, 1),
            "speed_kmh": round(self.speed_kmh, 1),
            "time_s": round(self.time_s, 1),
            "against_oneway": self.against_oneway,
            "emergency_passage": self.emergency_passage,
            "oneway_direction_unknown": self.unknown_direction,
        }


@dataclass
class Route:
    """The fastest route from ``from_node`` to ``to_node`` under ``profile``.

    ``drive_s`` is the driving time in seconds (no turnout), ``length_m`` the route length,
    ``straight_m`` the straight-line distance between the two nodes, ``detour_index`` their ratio and
    ``effective_kmh`` the route length over the driving time. ``xy`` is the route's line in
    EPSG:31370; ``edges`` the network edges used, ``reverse`` whether each is driven against its
    one-way direction.
    """

    profile: str
    from_node: int
    to_node: int
    drive_s: float
    length_m: float
    straight_m: float
    legs: list
    xy: np.ndarray
    edges: np.ndarray
    reverse: np.ndarray
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        from ..checks import check_fields

        check_fields(self)

    @property
    def detour_index(self) -> float:
        return self.length_m / self.straight_m if self.straight_m > 0 else float("nan")

    @property
    def effective_kmh(self) -> float:
        return self.length_m / self.drive_s * 3.6 if self.drive_s > 0 else float("nan")

    def lonlat(self) -> np.ndarray:
        """The route's coordinates as WGS84 (lon, lat) pairs."""
        lon, lat = to_wgs84(self.xy[:, 0], self.xy[:, 1])
        return np.column_stack([lon, lat])

    def summary(self) -> dict:
        return {
            "profile": self.profile,
            "drive_min": round(self.drive_s / 60, 2),
            "length_km": round(self.length_m / 1000, 3),
            "straight_km": round(self.straight_m / 1000, 3),
            "detour_index": round(self.detour_index, 3),
            "effective_kmh": round(self.effective_kmh, 1),
            "against_oneway_m": round(sum(leg.length_m for leg in self.legs if leg.against_oneway), 1),
            "emergency_passage_m": round(sum(leg.length_m for leg in self.legs if leg.emergency_passage), 1),
            "unknown_direction_m": round(sum(leg.length_m for leg in self.legs if leg.unknown_direction), 1),
            **self.meta,
        }

    def to_geojson(self) -> dict:
        """A GeoJSON Feature: the route's LineString (WGS84) with its summary and legs."""
        ll = self.lonlat()
        return {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [[round(float(a), 7), round(float(b), 7)] for a, b in ll],
            },
            "properties": {**self.summary(), "legs": [leg.row() for leg in self.legs]},
        }


def _check_node(net: RoadNetwork, node, what: str) -> int:
    if isinstance(node, (bool, np.bool_)) or not isinstance(node, (int, np.integer)):
        raise ModelInputError(f"expected a node index (int), got {node!r}", field=what)
    if not 0 <= int(node) < net.n_nodes:
        raise ModelInputError(f"node {node} is not in the network (0..{net.n_nodes - 1})", field=what)
    return int(node)


def entry_index(net: RoadNetwork, profile: SpeedProfile, tails: np.ndarray, heads: np.ndarray) -> np.ndarray:
    """CSR entry index of each (tail, head) arc of the routing graph (arcs must exist)."""
    g = net.csr(profile)
    key = net._csr_cache.get(("_entry_keys", profile.key()))
    if key is None:
        rows = np.repeat(np.arange(net.n_nodes, dtype=np.int64), np.diff(g.indptr))
        key = rows * net.n_nodes + g.indices
        net._csr_cache[("_entry_keys", profile.key())] = key
    return np.searchsorted(key, np.asarray(tails, np.int64) * net.n_nodes + np.asarray(heads, np.int64))


def route(net: RoadNetwork, profile: SpeedProfile, from_node: int, to_node: int) -> Route:
    """The fastest route from ``from_node`` to ``to_node`` (node indices) under ``profile``.

    Raises :class:`~kazerne.errors.ModelInputError` when ``to_node`` cannot be reached.
    """
    from ..checks import check_net
    from .profiles import check_profile

    net, profile = check_net(net), check_profile(profile)
    a = _check_node(net, from_node, "from")
    b = _check_node(net, to_node, "to")
    g = net.csr(profile)
    dist, pred = csgraph.dijkstra(g, directed=True, indices=a, return_predecessors=True)
    if not np.isfinite(dist[b]):
        raise ModelInputError(f"node {b} cannot be reached from node {a} with the {profile.name} profile", field="to")
    chain = [b]
    while chain[-1] != a:
        chain.append(int(pred[chain[-1]]))
    path = np.array(chain[::-1], dtype=np.int64)
    ent = entry_index(net, profile, path[:-1], path[1:])
    eids, revs = net.csr_edges(profile)
    edges, rev = eids[ent], revs[ent]
    times = g.data[ent]
    em = net.emergency_only()
    speeds = profile.edge_speeds(net.cls[edges], net.urban[edges], net.maxspeed[edges], em[edges])
    speeds = np.where(rev, speeds * profile.oneway_reverse_factor, speeds)
    fix = net.fixme[edges] if net.fixme is not None else np.zeros(len(edges), bool)
    speeds = np.where(fix, speeds * profile.unknown_direction_factor, speeds)
    legs: list[RouteLeg] = []
    prev = None
    assert net.names is not None and net.name_id is not None  # built with the network
    for e, r, t, sp, f in zip(edges, rev, times, speeds, fix):
        name = str(net.names[net.name_id[e]]) if net.name_id[e] >= 0 else "(unnamed)"
        k = (name, int(net.cls[e]), bool(r), bool(em[e]), bool(f))
        if k == prev:
            leg = legs[-1]
            drive_h = leg.length_m / 1000 / leg.speed_kmh + net.length[e] / 1000 / sp
            leg.length_m += float(net.length[e])
            leg.time_s += float(t)
            leg.speed_kmh = float(leg.length_m / 1000 / drive_h)
        else:
            legs.append(
                RouteLeg(
                    street=name,
                    road_class=HIGHWAY_CLASSES[net.cls[e]],
                    length_m=float(net.length[e]),
                    speed_kmh=float(sp),
                    time_s=float(t),
                    against_oneway=bool(r),
                    emergency_passage=bool(em[e]),
                    unknown_direction=bool(f),
                )
            )
        prev = k
    pieces = []
    for e, r in zip(edges, rev):
        c = net.edge_geometry(int(e))
        pieces.append(c[::-1] if r else c)
    xy = np.concatenate(pieces) if pieces else np.array([[net.x[a], net.y[a]]])
    straight = float(np.hypot(net.x[a] - net.x[b], net.y[a] - net.y[b]))
    return Route(
        profile=profile.name,
        from_node=a,
        to_node=b,
        drive_s=float(dist[b]),
        length_m=float(net.length[edges].sum()),
        straight_m=straight,
        legs=legs,
        xy=xy,
        edges=edges,
        reverse=rev,
    )


def tree_lengths(net: RoadNetwork, profile: SpeedProfile, sources, limit_s: float | None = None):
    """Driving time (s) and fastest-route length (m) from each source to every node.

    Returns ``(times, lengths)``, arrays (len(sources), n_nodes); ``inf`` where not reached (or beyond
    ``limit_s``). The length is that of the route the time was found on (ties broken by Dijkstra).
    """
    from .paths import check_nodes

    src = check_nodes(sources, net.n_nodes, "sources")  # no silent 1.7 -> 1
    g = net.csr(profile)
    dist, pred = csgraph.dijkstra(
        g, directed=True, indices=src, return_predecessors=True, limit=np.inf if limit_s is None else float(limit_s)
    )
    dist = np.atleast_2d(dist)
    pred = np.atleast_2d(pred).astype(np.int64)
    eids, _ = net.csr_edges(profile)
    lengths = np.full(dist.shape, np.inf)
    n = net.n_nodes
    for i in range(len(src)):
        p = pred[i]
        has = p >= 0
        step = np.zeros(n)
        idx = np.flatnonzero(has)
        step[idx] = net.length[eids[entry_index(net, profile, p[idx], idx)]]
        P = np.where(has, p, np.arange(n))
        L = step.copy()
        while True:  # pointer jumping: L[v] = sum of the steps from v back to the source (L = 0 there)
            L = L + L[P]
            PP = P[P]
            if np.array_equal(PP, P):
                break
            P = PP
        reached = np.isfinite(dist[i])
        lengths[i, reached] = L[reached]
    return dist, lengths


def route_to_xy(net: RoadNetwork, profile: SpeedProfile, from_node: int, x: float, y: float, max_snap_m=None) -> Route:
    """The fastest route from ``from_node`` to a point (EPSG:31370 metres) **snapped onto its street**
    (:func:`~kazerne.routing.snapping.snap_to_edges`: the nearest point of the nearest public street
    within ``max_snap_m``, 500 m by default): the route to one end of that street's edge, then the
    partial edge to the point (its time pro rata, respecting one-way streets), as the travel-time
    matrices measure it. ``meta`` says where the route ends. Raises
    :class:`~kazerne.errors.ModelInputError` when no road is within the distance or the point cannot be
    reached."""
    from .snapping import DEFAULT_MAX_SNAP_M, approach_costs, snap_to_edges

    a0 = _check_node(net, from_node, "from")
    lim = DEFAULT_MAX_SNAP_M if max_snap_m is None else float(max_snap_m)
    es = snap_to_edges(net, [x], [y], max_snap_m=lim)
    if es.edge[0] < 0:
        raise ModelInputError(f"no road within {lim:.0f} m of the point", field="to")
    a, ca, b, cb = approach_costs(net, profile, es.edge, es.frac)
    dist = csgraph.dijkstra(net.csr(profile), directed=True, indices=a0)
    via = [(dist[a[0]] + ca[0], int(a[0]), float(es.frac[0])), (dist[b[0]] + cb[0], int(b[0]), 1.0 - float(es.frac[0]))]
    total, end, share = min(via)
    if not np.isfinite(total):
        raise ModelInputError(f"the point cannot be reached from node {a0} with the {profile.name} profile", field="to")
    r = route(net, profile, a0, end) if end != a0 else _empty_route(net, profile, a0)
    e = int(es.edge[0])
    extra_t = total - r.drive_s
    extra_m = share * float(net.length[e])
    assert net.names is not None and net.name_id is not None and net.oneway is not None  # built with the network
    against = end == int(net.v[e]) and bool(net.oneway[e])  # back along a one-way edge: contraflow
    name = str(net.names[net.name_id[e]]) if net.name_id[e] >= 0 else "(unnamed)"
    em = bool(net.emergency_only()[e])
    fix = bool(net.fixme[e]) if net.fixme is not None else False
    if extra_m > 0:
        r.legs.append(
            RouteLeg(
                street=name,
                road_class=HIGHWAY_CLASSES[net.cls[e]],
                length_m=extra_m,
                speed_kmh=extra_m / max(extra_t, 1e-9) * 3.6,
                time_s=extra_t,
                against_oneway=against,
                emergency_passage=em,
                unknown_direction=fix,
            )
        )
    import shapely

    p = shapely.line_interpolate_point(shapely.LineString(net.edge_geometry(e)), float(es.frac[0]), normalized=True)
    r.xy = np.vstack([r.xy, [[p.x, p.y]]])
    r.drive_s = float(total)
    r.length_m += extra_m
    r.straight_m = float(np.hypot(net.x[a0] - p.x, net.y[a0] - p.y))
    r.meta = {
        **r.meta,
        "ends_on": name,
        "ends_on_class": HIGHWAY_CLASSES[net.cls[e]],
        "snap_distance_m": round(float(es.distance_m[0]), 1),
        "partial_edge_m": round(extra_m, 1),
    }
    return r


def _empty_route(net: RoadNetwork, profile: SpeedProfile, node: int) -> Route:
    return Route(
        profile=profile.name,
        from_node=node,
        to_node=node,
        drive_s=0.0,
        length_m=0.0,
        straight_m=0.0,
        legs=[],
        xy=np.array([[net.x[node], net.y[node]]]),
        edges=np.zeros(0, np.int64),
        reverse=np.zeros(0, bool),
    )
