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


def route(net: RoadNetwork, profile: SpeedProfile, from_node, to_node) -> Route:
    """The fastest route from ``from_node`` to ``to_node`` under ``profile``.

    Each end is a node index or a point on a street (:class:`~kazerne.routing.snapping.EdgePoint`:
    ``Sites.point(i)`` for a site, ``Zone.street_point(lon, lat)`` for an address): the route then
    leaves that point along its edge towards either end, or reaches it along its edge from either end
    (one-way streets respected), as the travel-time matrices measure it. Raises
    :class:`~kazerne.errors.ModelInputError` when ``to_node`` cannot be reached.
    """
    from ..checks import check_net
    from .profiles import check_profile
    from .snapping import EdgePoint

    net, profile = check_net(net), check_profile(profile)
    if isinstance(from_node, EdgePoint) or isinstance(to_node, EdgePoint):
        return _point_route(net, profile, _end(net, from_node, "from"), _end(net, to_node, "to"))
    a = _check_node(net, from_node, "from")
    b = _check_node(net, to_node, "to")
    g = net.csr(profile)
    dist, pred = csgraph.dijkstra(g, directed=True, indices=a, return_predecessors=True)
    if not np.isfinite(dist[b]):
        raise ModelInputError(f"node {b} cannot be reached from node {a} with the {profile.name} profile", field="to")
    edges, rev, legs, xy = _path_legs(net, profile, _path(pred, a, b))
    if not len(edges):
        xy = np.array([[net.x[a], net.y[a]]])
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


def _path(pred, a: int, b: int) -> np.ndarray:
    path = [b]
    while path[-1] != a:
        path.append(int(pred[path[-1]]))
    return np.array(path[::-1], dtype=np.int64)


def _path_legs(net: RoadNetwork, profile: SpeedProfile, path: np.ndarray):
    """``(edges, reverse, legs, xy)`` of the routing graph's arcs along the node ``path``."""
    g = net.csr(profile)
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
    for e, r, t, sp in zip(edges, rev, times, speeds):
        _add_leg(net, legs, int(e), bool(r), float(net.length[e]), float(t), float(sp))
    pieces = []
    for e, r in zip(edges, rev):
        c = net.edge_geometry(int(e))
        pieces.append(c[::-1] if r else c)
    xy = np.concatenate(pieces) if pieces else np.zeros((0, 2))
    return edges, rev, legs, xy


def _add_leg(net: RoadNetwork, legs: list, e: int, rev: bool, length_m: float, time_s: float, speed_kmh: float):
    """Append edge ``e`` (or a part of it) to ``legs`` (:func:`_join`)."""
    assert net.names is not None and net.name_id is not None  # built with the network
    em = bool(net.emergency_only()[e])
    fix = bool(net.fixme[e]) if net.fixme is not None else False
    name = str(net.names[net.name_id[e]]) if net.name_id[e] >= 0 else "(unnamed)"
    _join(legs, RouteLeg(name, HIGHWAY_CLASSES[net.cls[e]], length_m, speed_kmh, time_s, rev, em, fix))


def _join(legs: list, leg: RouteLeg) -> None:
    """Append ``leg``, or add it to the last leg when that is the same street, class and manner of driving."""
    if legs:
        last = legs[-1]
        same = (last.street, last.road_class, last.against_oneway, last.emergency_passage, last.unknown_direction)
        if same == (leg.street, leg.road_class, leg.against_oneway, leg.emergency_passage, leg.unknown_direction):
            drive_h = last.length_m / 1000 / last.speed_kmh + leg.length_m / 1000 / leg.speed_kmh
            last.length_m += leg.length_m
            last.time_s += leg.time_s
            last.speed_kmh = float(last.length_m / 1000 / drive_h)
            return
    legs.append(leg)


def _end(net: RoadNetwork, end, what: str):
    """An :class:`EdgePoint` for a route end given as a node or a point."""
    from .snapping import EdgePoint

    if isinstance(end, EdgePoint):
        if not (-1 <= end.edge < net.n_edges) or not 0 <= end.node < net.n_nodes:
            raise ModelInputError(f"point on edge {end.edge} is not in the network", field=what)
        return end
    n = _check_node(net, end, what)
    return EdgePoint(node=n, edge=-1, frac=0.0, x=float(net.x[n]), y=float(net.y[n]), distance_m=0.0)


def _partial(net: RoadNetwork, e: int, f0: float, f1: float) -> np.ndarray:
    """The geometry of edge ``e`` from fraction ``f0`` to ``f1`` (reversed when ``f1 < f0``)."""
    import shapely
    from shapely.ops import substring

    line = shapely.LineString(net.edge_geometry(e))
    part = substring(line, f0, f1, normalized=True)
    xy = np.asarray(part.coords) if part.geom_type == "LineString" else np.asarray([part.coords[0]] * 2)
    return xy


def _point_route(net: RoadNetwork, profile: SpeedProfile, src, dst) -> Route:
    """The fastest route between two points on streets (see :func:`route`)."""
    from .snapping import approach_costs, departure_costs, same_edge_times

    sa, sca, sb, scb = departure_costs(net, profile, [src.edge], [src.frac], [src.node])
    ta, tca, tb, tcb = approach_costs(net, profile, [dst.edge], [dst.frac], [dst.node])
    s_nodes, s_cost = [int(sa[0]), int(sb[0])], [float(sca[0]), float(scb[0])]
    t_nodes, t_cost = [int(ta[0]), int(tb[0])], [float(tca[0]), float(tcb[0])]
    dist, pred = csgraph.dijkstra(net.csr(profile), directed=True, indices=s_nodes, return_predecessors=True)
    options = [
        (s_cost[i] + dist[i, t_nodes[j]] + t_cost[j], i, j)
        for i in range(2)
        for j in range(2)
        if src.edge >= 0 or i == 0
    ]
    direct = np.inf
    if src.edge >= 0 and src.edge == dst.edge:
        direct = float(same_edge_times(net, profile, [src.edge], [src.frac], [dst.edge], [dst.frac])[2][0])
    total, i, j = min(options)
    if not np.isfinite(min(total, direct)):
        raise ModelInputError(f"the point cannot be reached with the {profile.name} profile", field="to")
    legs: list[RouteLeg] = []
    pieces, edges, rev = [], [], []

    def partial(e, f0, f1, t):
        if f0 == f1 or e < 0:
            return
        back = f1 < f0
        length = abs(f1 - f0) * float(net.length[e])
        _add_leg(net, legs, e, back and bool(net.oneway[e]), length, t, length / max(t, 1e-9) * 3.6)
        pieces.append(_partial(net, e, f0, f1))
        edges.append(e)
        rev.append(back and bool(net.oneway[e]))

    if direct <= total:
        total = direct
        partial(src.edge, src.frac, dst.frac, direct)
        a = b = src.node
    else:
        a, b = s_nodes[i], t_nodes[j]
        partial(src.edge, src.frac, 0.0 if i == 0 else 1.0, s_cost[i])
        if a != b:
            e_mid, r_mid, legs_mid, xy_mid = _path_legs(net, profile, _path(pred[i], a, b))
            for leg in legs_mid:
                _join(legs, leg)
            pieces.append(xy_mid)
            edges.extend(e_mid.tolist())
            rev.extend(r_mid.tolist())
        partial(dst.edge, 0.0 if j == 0 else 1.0, dst.frac, t_cost[j])
    xy = np.concatenate(pieces) if pieces else np.array([[src.x, src.y]])
    assert net.names is not None and net.name_id is not None  # built with the network
    meta: dict[str, str | float] = {}
    for tag, p in (("starts", src), ("ends", dst)):
        if p.edge >= 0:
            meta[f"{tag}_on"] = str(net.names[net.name_id[p.edge]]) if net.name_id[p.edge] >= 0 else "(unnamed)"
            meta[f"{tag}_on_class"] = HIGHWAY_CLASSES[net.cls[p.edge]]
            meta[f"{tag}_snap_distance_m"] = round(float(p.distance_m), 1)
    if dst.edge >= 0:  # the names of pack v3's summaries
        meta["snap_distance_m"] = meta["ends_snap_distance_m"]
        f_from = src.frac if direct <= total else (0.0 if j == 0 else 1.0)
        meta["partial_edge_m"] = round(float(net.length[dst.edge]) * abs(dst.frac - f_from), 1)
    e_arr = np.array(edges, dtype=np.int64)
    length = float(sum(leg.length_m for leg in legs))
    return Route(
        profile=profile.name,
        from_node=int(a),
        to_node=int(b),
        drive_s=float(total),
        length_m=length,
        straight_m=float(np.hypot(src.x - dst.x, src.y - dst.y)),
        legs=legs,
        xy=xy,
        edges=e_arr,
        reverse=np.array(rev, dtype=bool),
        meta=meta,
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


def route_to_xy(net: RoadNetwork, profile: SpeedProfile, from_node, x: float, y: float, max_snap_m=None) -> Route:
    """The fastest route from ``from_node`` (a node, or a site's :class:`~kazerne.routing.snapping.EdgePoint`)
    to a point (EPSG:31370 metres) **snapped onto its street**
    (:func:`~kazerne.routing.snapping.street_point`: the nearest point of the nearest street within
    ``max_snap_m``, 500 m by default, not a service road or track while a street is near): the route
    to one end of that street's edge, then the partial edge to the point (its time pro rata,
    respecting one-way streets), as the travel-time matrices measure it. ``meta`` says where the
    route ends. Raises :class:`~kazerne.errors.ModelInputError` when no road is within the distance
    or the point cannot be reached."""
    from .snapping import DEFAULT_MAX_SNAP_M, street_point

    lim = DEFAULT_MAX_SNAP_M if max_snap_m is None else float(max_snap_m)
    end = street_point(net, x, y, max_snap_m=lim)
    if end is None:
        raise ModelInputError(f"no road within {lim:.0f} m of the point", field="to")
    return route(net, profile, from_node if not isinstance(from_node, np.integer) else int(from_node), end)
