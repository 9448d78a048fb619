"""Snapping points to the road network.

**Onto streets** (:func:`snap_to_edges`, demand points and route ends): a point snaps to the nearest
point of the nearest *suitable* edge — a street: a public road, or a pedestrian or filtered street
(people live there; a profile without passages snaps again onto a street it can reach, see
:func:`demand_approach`), not a service road, car-park aisle, track or busway; only when none lies
within ``max_snap_m``, the nearest public way of any class; only when none of those either, any kept
edge. The projection gives
the edge and the fraction along it; :func:`approach_costs` turns that into the partial edge time from
either end (respecting one-way streets: an end from which the edge cannot be driven towards the point
gets ``inf``). The maximum distance is ``max_snap_m`` (default 500 m, :data:`DEFAULT_MAX_SNAP_M`).

**Sites** (:func:`snap_sites`: posts, named sites, neighbouring posts) snap the same way, onto the
public roads a vehicle leaves by (:func:`site_edges_mask`), and *leave* from their point towards
either end (:func:`departure_costs`, :func:`drive_times_from`); a site and a point on the same edge
are joined along it (:func:`same_edge_times`). Route ends are :class:`EdgePoint` s
(:func:`street_point`, :func:`edge_point`).

**To nodes** (:func:`snap_xy`): the nearest node with a KD-tree in EPSG:31370 (``only="site"``: of a
public road a vehicle leaves by, :func:`site_nodes_mask`), kept for callers that need a node.

A point farther than ``max_snap_m`` from any road, or inside the zone pack's network-gap polygon, is
flagged ``no_road_data``: the extract says nothing about how to reach it, so it is never counted as
covered nor as uncovered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from .network import RoadNetwork, to_metric

DEFAULT_MAX_SNAP_M = 500.0


@dataclass
class Snapped:
    """Snap result for n points.

    Attributes
    ----------
    node : ndarray of int
        Index of the nearest network node (always set, even when flagged).
    distance_m : ndarray of float
        Straight-line distance to that node, metres.
    no_road_data : ndarray of bool
        True when the point is farther than the threshold or inside the network gap.
    in_gap : ndarray of bool
        True when the point lies inside the pack's network-gap polygon.
    x, y : ndarray of float
        The points in EPSG:31370, metres.
    """

    node: np.ndarray
    distance_m: np.ndarray
    no_road_data: np.ndarray
    in_gap: np.ndarray
    x: np.ndarray
    y: np.ndarray


#: Road classes a site (post, candidate, base) may stand on by default: a public road a vehicle
#: leaves by, not a private service road, car park, track or emergency-only passage.
SITE_EXCLUDED_CLASSES = ("service", "track", "pedestrian", "busway")


def site_nodes_mask(net: RoadNetwork) -> np.ndarray:
    """Per node: True when a public road (access public, class not in :data:`SITE_EXCLUDED_CLASSES`)
    touches it."""
    m = net._csr_cache.get("_site_mask")
    if m is None:
        from .profiles import CLASS_INDEX

        bad = np.isin(net.cls, [CLASS_INDEX[c] for c in SITE_EXCLUDED_CLASSES]) | net.emergency_only()
        m = np.zeros(net.n_nodes, dtype=bool)
        m[net.u[~bad]] = True
        m[net.v[~bad]] = True
        net._csr_cache["_site_mask"] = m
    return m


def public_nodes_mask(net: RoadNetwork) -> np.ndarray:
    """Per node: True when an edge every vehicle may use (not an emergency-only passage) touches it."""
    m = net._csr_cache.get("_public_mask")
    if m is None:
        pub = ~net.emergency_only()
        m = np.zeros(net.n_nodes, dtype=bool)
        m[net.u[pub]] = True
        m[net.v[pub]] = True
        net._csr_cache["_public_mask"] = m
    return m


def _tree(net: RoadNetwork, only: str | None = None):
    """KD-tree over all nodes, or over the nodes of ``only`` ("site" or "public") and their indices."""
    from scipy.spatial import cKDTree

    key = ("_kdtree", only)
    t = net._csr_cache.get(key)
    if t is None:
        idx = (
            np.arange(net.n_nodes)
            if only is None
            else np.flatnonzero(site_nodes_mask(net) if only == "site" else public_nodes_mask(net))
        )
        t = (cKDTree(np.column_stack([net.x[idx], net.y[idx]])), idx)
        net._csr_cache[key] = t
    return t


def snap_xy(
    net: RoadNetwork, x, y, max_snap_m: float = DEFAULT_MAX_SNAP_M, gap=None, gap_metric=None, only: str | None = None
) -> Snapped:
    """Snap points given in EPSG:31370 metres. ``gap`` is a WGS84 shapely geometry (or
    ``gap_metric`` the same in EPSG:31370). ``only="site"`` snaps to public roads a vehicle leaves by
    (:func:`site_nodes_mask`), ``only="public"`` to nodes cars can reach (no emergency-only passage),
    ``None`` to any node."""
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    tree, idx = _tree(net, only)
    dist, pos = tree.query(np.column_stack([x, y]))
    node = idx[pos]
    in_gap = np.zeros(len(x), dtype=bool)
    if gap_metric is None and gap is not None:
        gap_metric = geom_to_metric(gap)
    if gap_metric is not None and len(x):
        in_gap = shapely.contains_xy(gap_metric, x, y)
    far = dist > max_snap_m
    return Snapped(node=node.astype(np.int64), distance_m=dist, no_road_data=far | in_gap, in_gap=in_gap, x=x, y=y)


def snap_lonlat(
    net: RoadNetwork, lon, lat, max_snap_m: float = DEFAULT_MAX_SNAP_M, gap=None, only: str | None = None
) -> Snapped:
    """Snap WGS84 points (degrees) to the network; see :func:`snap_xy`."""
    x, y = to_metric(np.atleast_1d(lon), np.atleast_1d(lat))
    return snap_xy(net, x, y, max_snap_m=max_snap_m, gap=gap, only=only)


def geom_to_metric(geom):
    """A WGS84 shapely geometry (a municipality, the gap) → the same in EPSG:31370; ``None`` stays ``None``."""
    if geom is None:
        return None

    def tr(coords):
        x, y = to_metric(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, tr)


@dataclass
class EdgeSnap:
    """Snap of n points onto edges: ``edge`` (index, -1 = none within the distance), ``frac`` (0 at the
    edge's tail ``u``, 1 at its head ``v``, along its geometry), ``distance_m`` (to the projected
    point; ``inf`` without an edge), ``node`` (the edge's end nearer along it: for node-based code),
    ``kind`` (0 street, 1 other public way, 2 any edge, -1 none)."""

    edge: np.ndarray
    frac: np.ndarray
    distance_m: np.ndarray
    node: np.ndarray
    kind: np.ndarray


#: Road classes a demand point or a route end is not snapped onto while a street is near: service
#: roads (driveways, car parks, campus roads), tracks and busways.
NOT_ADDRESS_CLASSES = ("service", "track", "busway")


def street_edges_mask(net: RoadNetwork) -> np.ndarray:
    """Per edge: a street a place is reached on — a public road or a pedestrian street / filtered
    street (an emergency passage: people live there and fire engines drive in), not a service road,
    track or busway (:data:`NOT_ADDRESS_CLASSES`)."""
    from .profiles import CLASS_INDEX

    return ~np.isin(net.cls, [CLASS_INDEX[c] for c in NOT_ADDRESS_CLASSES])


def _edge_tree(net: RoadNetwork, mask: np.ndarray):
    """STRtree over the edges of ``mask`` (one of each two-way pair) and their indices."""
    key = ("_edge_tree", hash(mask.tobytes()))
    t = net._csr_cache.get(key)
    if t is None:
        und = np.zeros(net.n_edges, dtype=bool)
        und[net.undirected_edges()] = True
        idx = np.flatnonzero(mask & und)
        counts = net.geom_offsets[idx + 1] - net.geom_offsets[idx]
        first = np.cumsum(counts) - counts
        pos = np.arange(counts.sum()) - np.repeat(first, counts) + np.repeat(net.geom_offsets[idx], counts)
        lines = shapely.linestrings(net.geom_xy[pos], indices=np.repeat(np.arange(len(idx)), counts))
        t = (shapely.STRtree(lines), lines, idx)
        net._csr_cache[key] = t
    return t


def snap_to_edges(net: RoadNetwork, x, y, max_snap_m: float = DEFAULT_MAX_SNAP_M, edge_mask=None) -> EdgeSnap:
    """Snap points (EPSG:31370) onto the nearest point of the nearest suitable edge (see the module
    docstring); ``edge_mask`` (per edge) restricts every step to those edges."""
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    n = len(x)
    out = EdgeSnap(
        edge=-np.ones(n, np.int64),
        frac=np.zeros(n),
        distance_m=np.full(n, np.inf),
        node=np.zeros(n, np.int64),
        kind=-np.ones(n, np.int8),
    )
    allowed = np.ones(net.n_edges, dtype=bool) if edge_mask is None else np.asarray(edge_mask, dtype=bool)
    steps = (street_edges_mask(net), ~net.emergency_only(), np.ones(net.n_edges, dtype=bool))
    pts = shapely.points(x, y)
    for kind, m in enumerate(steps):
        todo = np.flatnonzero(out.edge < 0)
        m = m & allowed
        if not len(todo) or not m.any():
            continue
        tree, lines, idx = _edge_tree(net, m)
        (qi, ti), dist = tree.query_nearest(pts[todo], max_distance=max_snap_m, return_distance=True, all_matches=False)
        p = todo[qi]
        out.edge[p] = idx[ti]
        out.distance_m[p] = dist
        out.frac[p] = shapely.line_locate_point(lines[ti], pts[p], normalized=True)
        out.kind[p] = kind
    hit = out.edge >= 0
    e = np.where(hit, out.edge, 0)
    out.node = np.where(out.frac < 0.5, net.u[e], net.v[e]).astype(np.int64)
    if not hit.all():  # no edge within the distance: the nearest node stands in (flagged by the caller)
        tree, nidx = _tree(net, None)
        dist, pos = tree.query(np.column_stack([x[~hit], y[~hit]]))
        out.node[~hit] = nidx[pos]
        out.distance_m[~hit] = dist
    return out


def edge_drive_times(net: RoadNetwork, profile, edges) -> tuple[np.ndarray, np.ndarray]:
    """``(forward, backward)``: seconds to drive the whole of each edge from its tail to its head, and
    from its head back to its tail along the same street, without any junction delay; ``inf`` where
    ``profile`` may not. Backward is the street's other direction (a two-way street's twin edge: same
    ends, same length), or contraflow where the profile may drive the edge against its one-way
    direction (:meth:`~kazerne.routing.network.RoadNetwork.contraflow_edges`)."""
    edges = np.asarray(edges, np.int64)
    key = ("_nodelay", profile.key())
    t = net._csr_cache.get(key)
    if t is None:
        zero = np.zeros(net.n_edges, dtype=np.int8)
        em = net.emergency_only()
        fwd = profile.edge_times(
            net.length,
            net.cls,
            net.urban,
            net.maxspeed,
            speed_factor=net.unknown_factor(profile),
            emergency=em,
            junction=zero,
        )
        one = net.contraflow_edges(profile)
        contra = np.full(net.n_edges, np.inf)
        if len(one):
            contra[one] = profile.edge_times(
                net.length[one],
                net.cls[one],
                net.urban[one],
                net.maxspeed[one],
                speed_factor=profile.oneway_reverse_factor,
                emergency=em[one],
                junction=zero[one],
            )
        fwd, contra = _with_changes(net, profile, fwd, contra)
        n = np.int64(net.n_nodes)
        lk = np.round(net.length * 10).astype(np.int64)
        k_f = (net.u.astype(np.int64) * n + net.v) * 10_000_000 + lk
        k_r = (net.v.astype(np.int64) * n + net.u) * 10_000_000 + lk
        order = np.argsort(k_f, kind="stable")
        pos = np.clip(np.searchsorted(k_f[order], k_r), 0, net.n_edges - 1)
        twin = np.where(k_f[order][pos] == k_r, order[pos], -1)
        back = np.where(twin >= 0, fwd[np.maximum(twin, 0)], contra)
        t = (fwd, np.minimum(back, contra))
        net._csr_cache[key] = t
    return t[0][edges], t[1][edges]


def _with_changes(net, profile, fwd, contra):
    """``(fwd, contra)`` of a network carrying changes (:class:`~kazerne.routing.changes.ChangedNetwork`:
    closures, slow areas) as its routing graph has them: both scale with the ratio of its edge times
    to those of its base network (``inf`` where closed), contraflow is closed where a change closes
    that direction."""
    active = net.active(profile) if hasattr(net, "active") and hasattr(net, "base") else []
    if not active:
        return fwd, contra
    base = net.base.edge_times(profile)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.isfinite(base) & (base > 0), net.edge_times(profile) / base, 1.0)
    contra = contra * ratio
    for r in active:
        if r.effects(profile)[0]:  # closes
            contra = np.where(r.close_rev, np.inf, contra)
    return fwd * ratio, contra


def approach_costs(net: RoadNetwork, profile, edge, frac, node=None):
    """How a vehicle reaches points on edges: ``(a, a_cost, b, b_cost)`` — drive to node ``a`` (the
    edge's tail) then ``a_cost`` seconds along the edge, or to ``b`` (its head) then ``b_cost`` back
    along it; a cost is ``inf`` where the profile cannot drive the edge that way. A point without an
    edge (``edge < 0``) is reached at ``node`` with no extra time."""
    return _edge_costs(net, profile, edge, frac, node, depart=False)


def departure_costs(net: RoadNetwork, profile, edge, frac, node=None):
    """How a vehicle leaves points on edges (a site on its street): ``(a, a_cost, b, b_cost)`` —
    ``a_cost`` seconds back along the edge to its tail ``a``, or ``b_cost`` along it to its head
    ``b``, each with the delay of the junction it reaches there (as the whole edge has); ``inf`` where
    the profile cannot drive the edge that way (a one-way street, unless the profile may drive it
    against its direction). A point without an edge (``edge < 0``) leaves from ``node`` with no extra
    time."""
    return _edge_costs(net, profile, edge, frac, node, depart=True)


def _edge_costs(net, profile, edge, frac, node, depart: bool):
    edge = np.asarray(edge, np.int64)
    frac = np.clip(np.asarray(frac, dtype=float), 0.0, 1.0)
    has = edge >= 0
    e = np.where(has, edge, 0)
    a, b = net.u[e].astype(np.int64), net.v[e].astype(np.int64)
    fwd, bwd = edge_drive_times(net, profile, e)
    to_a, to_b = (bwd, fwd) if depart else (fwd, bwd)  # leaving towards the tail drives the edge backwards
    delay_a = delay_b = 0.0
    if depart:  # leaving, the vehicle reaches the end node: its junction delay counts, as on the whole edge
        delay_a = profile.delay_seconds(net.delay_codes(reverse=True)[e])
        delay_b = profile.delay_seconds(net.delay_codes()[e])
    with np.errstate(invalid="ignore"):
        a_cost = np.where(frac == 0.0, 0.0, frac * to_a + delay_a)  # a point at the tail is the tail
        b_cost = np.where(frac == 1.0, 0.0, (1.0 - frac) * to_b + delay_b)
    if not has.all():
        nd = np.zeros(len(edge), np.int64) if node is None else np.asarray(node, np.int64)
        a, b = np.where(has, a, nd), np.where(has, b, nd)
        a_cost, b_cost = np.where(has, a_cost, 0.0), np.where(has, b_cost, 0.0)
    return a, a_cost, b, b_cost


def reachable_nodes(net: RoadNetwork, profile) -> np.ndarray:
    """Per node: in the largest strongly connected component of ``profile``'s routing graph (for the
    car, the network without its emergency-only passages)."""
    from scipy.sparse import csgraph

    key = ("_reachable", profile.key())
    m = net._csr_cache.get(key)
    if m is None:
        _, labels = csgraph.connected_components(net.csr(profile), directed=True, connection="strong")
        m = labels == np.bincount(labels).argmax()
        net._csr_cache[key] = m
    return m


@dataclass
class StreetSnap(Snapped):
    """:class:`Snapped` onto edges: also ``edge`` and ``frac`` (see :class:`EdgeSnap`)."""

    edge: np.ndarray | None = None
    frac: np.ndarray | None = None


def snap_onto_streets(
    net: RoadNetwork, x, y, max_snap_m: float = DEFAULT_MAX_SNAP_M, gap_metric=None, edge_mask=None
) -> StreetSnap:
    """:func:`snap_to_edges` with the ``no_road_data`` / ``in_gap`` flags of :func:`snap_xy`."""
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    es = snap_to_edges(net, x, y, max_snap_m=max_snap_m, edge_mask=edge_mask)
    in_gap = np.zeros(len(x), dtype=bool)
    if gap_metric is not None and len(x):
        in_gap = shapely.contains_xy(gap_metric, x, y)
    far = es.edge < 0
    return StreetSnap(
        node=es.node,
        distance_m=es.distance_m,
        no_road_data=far | in_gap,
        in_gap=in_gap,
        x=x,
        y=y,
        edge=es.edge,
        frac=es.frac,
    )


def demand_approach(net: RoadNetwork, profile, demand):
    """``(a, a_cost, b, b_cost, resnapped)`` of :func:`approach_costs` for ``demand`` under
    ``profile``. A point whose street ``profile`` cannot reach (a street reached only through
    emergency passages, for a profile without them) is snapped again onto the nearest street it can
    reach, within the demand's ``max_snap_m``: never left unreachable while a street is near.
    ``resnapped`` flags those points. Demand without edges (``demand.edge is None``) is reached at
    its nodes."""
    node = np.asarray(demand.node, np.int64)
    n = len(node)
    edge = getattr(demand, "edge", None)
    if edge is None:
        return node, np.zeros(n), node, np.zeros(n), np.zeros(n, dtype=bool)
    a, ca, b, cb = approach_costs(net, profile, edge, demand.frac, node)
    reach = reachable_nodes(net, profile)
    ok = (reach[a] & np.isfinite(ca)) | (reach[b] & np.isfinite(cb))
    bad = ~ok & ~np.asarray(demand.no_road_data, dtype=bool)
    if bad.any():
        fwd, bwd = edge_drive_times(net, profile, np.arange(net.n_edges))
        mask = reach[net.u] & reach[net.v] & (np.isfinite(fwd) | np.isfinite(bwd))  # a street it can drive
        max_m = float(getattr(demand, "meta", {}).get("max_snap_m", DEFAULT_MAX_SNAP_M))
        es = snap_to_edges(net, demand.x[bad], demand.y[bad], max_snap_m=max_m, edge_mask=mask)
        a2, ca2, b2, cb2 = approach_costs(net, profile, es.edge, es.frac, es.node)
        got = es.edge >= 0
        idx = np.flatnonzero(bad)[got]
        a[idx], ca[idx], b[idx], cb[idx] = a2[got], ca2[got], b2[got], cb2[got]
        bad[:] = False
        bad[idx] = True
    return a, ca, b, cb, bad


# ---------------------------------------------------------------------------------------- sites
def site_edges_mask(net: RoadNetwork) -> np.ndarray:
    """Per edge: a public road a vehicle leaves by (class not in :data:`SITE_EXCLUDED_CLASSES`, not an
    emergency-only passage): what a site (post, candidate, base) stands on by default."""
    m = net._csr_cache.get("_site_edges")
    if m is None:
        from .profiles import CLASS_INDEX

        m = ~(np.isin(net.cls, [CLASS_INDEX[c] for c in SITE_EXCLUDED_CLASSES]) | net.emergency_only())
        net._csr_cache["_site_edges"] = m
    return m


def snap_sites(net: RoadNetwork, x, y, max_snap_m: float = DEFAULT_MAX_SNAP_M, snap: str = "public") -> EdgeSnap:
    """Snap sites (EPSG:31370) onto their street: :func:`snap_to_edges` (the demand points' projection)
    restricted, for ``snap="public"``, to the public roads a vehicle leaves by
    (:func:`site_edges_mask`: no service road, car-park aisle, track, pedestrian street or passage);
    ``snap="any"`` snaps as demand points and route ends do (a street first). ``edge`` is -1 where no
    such road lies within ``max_snap_m`` (``distance_m`` is then the distance to the nearest node)."""
    mask = site_edges_mask(net) if snap == "public" else None
    return snap_to_edges(net, x, y, max_snap_m=max_snap_m, edge_mask=mask)


def drive_times_from(net: RoadNetwork, profile, nodes, edge=None, frac=None, cutoff_s=None, workers=None) -> np.ndarray:
    """Driving times (s, float64) from sites to every node: (n, n_nodes), ``inf`` beyond ``cutoff_s``
    or unreachable. A site with an edge (``edge >= 0``) leaves from its point ``frac`` along that edge
    (:func:`departure_costs`: towards either end, one-way streets respected); one without leaves from
    its node. Equal to :func:`~kazerne.routing.paths.drive_times` for sites at nodes."""
    from .paths import cutoff_seconds, drive_times

    nodes = np.atleast_1d(np.asarray(nodes, np.int64))
    if edge is None:
        return drive_times(net, profile, nodes, cutoff_s=cutoff_s, workers=workers)
    a, ca, b, cb = departure_costs(net, profile, edge, frac, nodes)
    uniq, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
    d = drive_times(net, profile, uniq, cutoff_s=cutoff_s, workers=workers)
    ia, ib = inv[: len(a)], inv[len(a) :]
    out = np.minimum(d[ia] + ca[:, None], d[ib] + cb[:, None])
    lim = cutoff_seconds(cutoff_s)
    if np.isfinite(lim):
        out[out > lim] = np.inf
    return out


def same_edge_times(net: RoadNetwork, profile, s_edge, s_frac, d_edge, d_frac):
    """Sites and points on the same street edge: ``(rows, cols, seconds)`` of the direct drive along
    it from the site's point to the point's (forwards or backwards as the edge allows; ``inf`` where
    it does not). The node-to-node times miss these: the route would leave the edge and come back."""
    s_edge = np.atleast_1d(np.asarray(s_edge, np.int64))
    d_edge = np.asarray(d_edge, np.int64)
    rows, cols = [], []
    for i in np.flatnonzero(s_edge >= 0):
        c = np.flatnonzero(d_edge == s_edge[i])
        rows.append(np.full(len(c), i, np.int64))
        cols.append(c)
    if not rows:
        z = np.zeros(0, np.int64)
        return z, z, np.zeros(0)
    r, c = np.concatenate(rows), np.concatenate(cols)
    fwd, bwd = edge_drive_times(net, profile, s_edge[r])
    step = np.asarray(d_frac, dtype=float)[c] - np.asarray(s_frac, dtype=float)[r]
    with np.errstate(invalid="ignore"):
        t = np.where(step >= 0, step * fwd, -step * bwd)
    t = np.where(step == 0, 0.0, t)
    return r, c, t


def nearest_edge_distance(net: RoadNetwork, x: float, y: float, edge_mask=None) -> float:
    """Distance (m) from one point (EPSG:31370) to the nearest edge of ``edge_mask`` (all edges by
    default), however far: for the message of a site off the network."""
    m = np.ones(net.n_edges, dtype=bool) if edge_mask is None else np.asarray(edge_mask, dtype=bool)
    tree, _, _ = _edge_tree(net, m)
    _, dist = tree.query_nearest(shapely.points([x], [y]), return_distance=True, all_matches=False)
    return float(dist[0])


@dataclass
class EdgePoint:
    """A place on a street: ``frac`` along ``edge`` (-1: at ``node`` itself), ``node`` the edge's end
    nearer along it, ``x``, ``y`` the point on the edge (EPSG:31370) and ``distance_m`` from the place
    it stands for (a site's position, an address) to it. Route ends (:func:`kazerne.routing.routes.route`)."""

    node: int
    edge: int
    frac: float
    x: float
    y: float
    distance_m: float = 0.0


def edge_point(net: RoadNetwork, node: int, edge: int, frac: float, distance_m: float = 0.0) -> EdgePoint:
    """The :class:`EdgePoint` ``frac`` along ``edge`` (or at ``node`` when ``edge < 0``)."""
    if edge < 0:
        return EdgePoint(int(node), -1, 0.0, float(net.x[node]), float(net.y[node]), float(distance_m))
    p = shapely.line_interpolate_point(shapely.LineString(net.edge_geometry(int(edge))), float(frac), normalized=True)
    return EdgePoint(int(node), int(edge), float(frac), float(p.x), float(p.y), float(distance_m))


def street_point(net: RoadNetwork, x: float, y: float, max_snap_m: float = DEFAULT_MAX_SNAP_M, snap: str = "street"):
    """An address (EPSG:31370) on its street as demand points are snapped (:func:`snap_to_edges`), or
    with ``snap="public"`` as a site is (:func:`snap_sites`); ``None`` when no road is within ``max_snap_m``."""
    es = snap_sites(net, [x], [y], max_snap_m=max_snap_m, snap="public" if snap == "public" else "any")
    if es.edge[0] < 0:
        return None
    return edge_point(net, int(es.node[0]), int(es.edge[0]), float(es.frac[0]), float(es.distance_m[0]))
