"""Matching a :class:`~kazerne.routing.changes.NetworkChange` on the network: which edges it closes or
slows, which entries it adds. Every change must match something, unambiguously; otherwise one line
names the change's file and field and what was found."""

from __future__ import annotations

import bz2
import dataclasses
import datetime as _dt
import hashlib
import json
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import shapely

from .changes import (
    MAX_POINT_SNAP_M,
    ChangedNetwork,
    NetworkChange,
    ResolvedChange,
    edge_lines,
    metric_xy,
    polygon_fraction,
)
from .network import RoadNetwork

__all__ = ["apply_changes", "resolve", "street_edges", "way_lines"]


def resolve(zone, net: RoadNetwork, ch: NetworkChange, roads_file=None) -> ResolvedChange:
    """The edges / entries ``ch`` touches on ``net`` (the zone's base network)."""
    if ch.action in ("link",) or (ch.action == "passage" and ch.between is not None and not ch.street):
        return _link(zone, net, ch)
    if ch.action == "slow" and ch.geometry is None:
        ch.fail("a slow area needs a polygon (polygon = [[lon, lat], ...], a WKT POLYGON or a GeoJSON file)")
    fwd = np.zeros(net.n_edges, dtype=bool)
    rev = np.zeros(net.n_edges, dtype=bool)
    inside = None
    if ch.street:
        sel = street_edges(zone, net, ch)
        fwd[sel] = rev[sel] = True
    elif ch.way:
        sel = _way_edges(zone, net, ch, roads_file)
        fwd[sel] = rev[sel] = True
    elif ch.geometry is not None:
        geom = _geometry(ch)
        if ch.action == "slow":
            if not isinstance(geom, (shapely.Polygon, shapely.MultiPolygon)):
                ch.fail("a slow area needs a polygon, got a line", "polygon")
            inside = polygon_fraction(net, geom)
            fwd[inside > 0] = rev[inside > 0] = True
        else:
            hit = shapely.STRtree(edge_lines(net)).query(geom, predicate="intersects")
            fwd[hit] = rev[hit] = True
    elif ch.between is not None:
        fwd, rev = _between_edges(zone, net, ch)
    elif ch.edges:
        e = np.asarray(ch.edges, dtype=np.int64)
        if e.min() < 0 or e.max() >= net.n_edges:
            ch.fail(f"edge index outside the network's 0..{net.n_edges - 1}", "edges")
        fwd[e] = rev[e] = True
    else:
        ch.fail("says nothing to change: give street, way, polygon / line / geojson, between or edges")
    if not (fwd | rev).any():
        ch.fail("matches no road of the network (check the place, the file or the coordinates)")
    sel = fwd | rev
    res = ResolvedChange(ch, close_fwd=fwd, close_rev=rev, inside=inside)
    res.n_edges = int(sel.sum())
    res.length_m = float(net.length[sel].sum()) if inside is None else float((net.length * inside).sum())
    return res


def _norm(s) -> str:
    """A street name compared case-, accent-, hyphen- and dot-insensitively (as kazerne.routing.streets)."""
    s = unicodedata.normalize("NFKD", str(s)).encode("ascii", "ignore").decode()
    return " ".join(s.lower().replace("-", " ").replace(".", " ").split())


def street_edges(zone, net: RoadNetwork, ch: NetworkChange) -> np.ndarray:
    """Edges of a named street (case- and accent-insensitive), in ``municipality``; ``bridge`` keeps
    bridge edges only; ``near`` keeps the connected piece nearest to a point. Ambiguity (several
    municipalities without ``municipality``; several bridges without ``near``) is an error."""
    assert net.names is not None and net.name_id is not None  # built with the network
    names = np.array([_norm(n) for n in net.names])
    ids = np.flatnonzero(names == _norm(ch.street))
    if len(ids) == 0:
        ch.fail(f"street {ch.street!r} not found in the road data", "street")
    sel = np.flatnonzero(np.isin(net.name_id, ids))
    mx = (net.x[net.u[sel]] + net.x[net.v[sel]]) / 2
    my = (net.y[net.u[sel]] + net.y[net.v[sel]]) / 2
    munis = zone.pack.municipalities
    where = np.full(len(sel), -1)
    for i, g in enumerate(zone.municipalities_metric):
        where[shapely.contains_xy(g, mx, my)] = i
    if ch.municipality:
        want = [i for i, m in enumerate(munis) if _norm(m.name) == _norm(ch.municipality)]
        if not want:
            ch.fail(f"municipality {ch.municipality!r} is not in zone {zone.name}", "municipality")
        sel = sel[where == want[0]]
        if len(sel) == 0:
            ch.fail(f"street {ch.street!r} not found in {ch.municipality}", "street")
    else:
        found = sorted({munis[i].name for i in where if i >= 0})
        if len(found) > 1:
            ch.fail(f"street {ch.street!r} lies in {', '.join(found)}: ambiguous; give municipality", "street")
    if ch.bridge:
        if net.level is None:
            ch.fail("the road data has no bridge levels", "bridge")
        sel = sel[net.level[sel] > 0]
        if len(sel) == 0:
            ch.fail(f"street {ch.street!r} has no bridge in the road data", "bridge")
    pieces = _pieces(net, sel)
    if len(pieces) > 1:
        if ch.near is None and ch.bridge:
            ch.fail(
                f"{len(pieces)} separate bridges named {ch.street!r}: ambiguous; give near = [lon, lat]",
                "street",
            )
        if ch.near is not None:
            p = metric_xy(ch.near)[0]
            dist = [np.hypot(net.x[net.u[pc]] - p[0], net.y[net.u[pc]] - p[1]).min() for pc in pieces]
            sel = pieces[int(np.argmin(dist))]
    return sel


def _pieces(net: RoadNetwork, sel: np.ndarray) -> list:
    """``sel`` split into connected pieces (edges sharing a node)."""
    from scipy import sparse
    from scipy.sparse import csgraph

    if len(sel) == 0:
        return []
    nodes, inv = np.unique(np.concatenate([net.u[sel], net.v[sel]]), return_inverse=True)
    k = len(sel)
    g = sparse.coo_matrix((np.ones(k), (inv[:k], inv[k:])), shape=(len(nodes), len(nodes)))
    _, lab = csgraph.connected_components(g, directed=False)
    el = lab[inv[:k]]
    return [sel[el == c] for c in np.unique(el)]


def _geometry(ch: NetworkChange):
    """The change's line or polygon in EPSG:31370."""
    g = ch.geometry
    try:
        geom = shapely.from_wkt(g)
    except Exception:  # noqa: BLE001 - shapely raises its own errors for bad WKT
        ch.fail(f"not a WKT geometry: {(g or '')[:60]!r}", "geometry")
    if geom is None or geom.is_empty:
        ch.fail("an empty geometry", "geometry")
    coords = shapely.get_coordinates(geom)
    xy = metric_xy(coords)
    return shapely.set_coordinates(geom, xy)


def _snap(zone, net, lonlat, ch: NetworkChange, sub: str) -> int:
    from .snapping import snap_xy

    p = metric_xy(lonlat)
    s = snap_xy(net, p[:, 0], p[:, 1], max_snap_m=MAX_POINT_SNAP_M, gap_metric=zone.gap_metric)
    if s.no_road_data[0]:
        ch.fail(
            f"point {list(lonlat)} is {s.distance_m[0]:.0f} m from the nearest road (at most {MAX_POINT_SNAP_M:g})", sub
        )
    return int(s.node[0])


def _between_edges(zone, net: RoadNetwork, ch: NetworkChange):
    """Edges of the street between two points (shortest by length, directions ignored)."""
    from .changes import undirected_path

    assert ch.between is not None  # the caller checked
    a = _snap(zone, net, ch.between[0], ch, "between[0]")
    b = _snap(zone, net, ch.between[1], ch, "between[1]")
    if a == b:
        ch.fail("both points snap to the same road node: matches no street between them", "between")
    path = undirected_path(net, a, b)
    fwd = np.zeros(net.n_edges, dtype=bool)
    rev = np.zeros(net.n_edges, dtype=bool)
    if len(path) < 2:
        ch.fail("no road joins the two points", "between")
    key = net.u.astype(np.int64) * net.n_nodes + net.v
    along = np.isin(key, path[:-1] * net.n_nodes + path[1:])  # edges drawn from the first point to the second
    back = np.isin(key, path[1:] * net.n_nodes + path[:-1])
    if ch.direction == "forward":
        fwd[along] = True  # driving along them: first -> second
        rev[back] = True  # driving against a one-way drawn second -> first
    else:
        fwd[along | back] = rev[along | back] = True
    return fwd, rev


def _link(zone, net: RoadNetwork, ch: NetworkChange) -> ResolvedChange:
    """A new road (or passage) between two points: entries both ways (one way with ``forward``)."""
    if ch.between is None:
        ch.fail(f"a {ch.action} needs between = [[lon, lat], [lon, lat]]")
    a = _snap(zone, net, ch.between[0], ch, "between[0]")
    b = _snap(zone, net, ch.between[1], ch, "between[1]")
    if a == b:
        ch.fail("both points snap to the same road node: the link would join nothing", "between")
    length = float(np.hypot(net.x[a] - net.x[b], net.y[a] - net.y[b]))
    extra = [(a, b, length)] + ([] if ch.direction == "forward" else [(b, a, length)])
    return ResolvedChange(ch, extra=extra, n_edges=len(extra), length_m=length)


# ------------------------------------------------------------------ way ids
def way_lines(roads_file, way_ids) -> dict:
    """``{way id: (k, 2) lon/lat}`` of the given ways of an OSM XML file (.osm or .osm.bz2), streamed."""
    want = {int(w) for w in way_ids}
    refs: dict = {}
    opener = bz2.open if str(roads_file).endswith(".bz2") else open
    with opener(roads_file, "rb") as fh:
        for _, el in ET.iterparse(fh, events=("end",)):
            if el.tag == "way":
                wid = int(el.get("id"))
                if wid in want:
                    refs[wid] = [int(nd.get("ref")) for nd in el.iter("nd")]
                el.clear()
            elif el.tag == "node" and not el.get("lat"):
                el.clear()
    need = {r for rs in refs.values() for r in rs}
    pos = {}
    with opener(roads_file, "rb") as fh:
        for _, el in ET.iterparse(fh, events=("end",)):
            if el.tag == "node":
                nid = int(el.get("id"))
                if nid in need:
                    pos[nid] = (float(el.get("lon")), float(el.get("lat")))
            el.clear()
    return {w: np.array([pos[r] for r in rs if r in pos]) for w, rs in refs.items()}


def _way_edges(zone, net: RoadNetwork, ch: NetworkChange, roads_file) -> np.ndarray:
    """Edges lying along the given OSM ways of the zone's road file (all their points within 1 m)."""
    path = Path(roads_file) if roads_file else Path(net.source)
    if not path.is_file():
        ch.fail(f"way ids need the road file of the network, not found: {path}", "way")
    lines = way_lines(path, ch.way)
    missing = [w for w in ch.way if w not in lines or len(lines[w]) < 2]
    if missing:
        ch.fail(f"way {missing[0]} not found in {path.name}", "way")
    lines_m = shapely.union_all([shapely.linestrings(metric_xy(lines[w])) for w in ch.way])
    edges = edge_lines(net)
    hit = shapely.STRtree(edges).query(lines_m, predicate="dwithin", distance=1.0)
    pts = [shapely.points(net.edge_geometry(int(e))) for e in hit]
    keep = np.array([bool(np.all(shapely.dwithin(p, lines_m, 1.0))) for p in pts], dtype=bool)
    sel = hit[keep] if len(hit) else hit
    if len(sel) == 0:
        ch.fail(f"way {ch.way[0]} is not part of the routable network (dropped or not drivable)", "way")
    return sel


# ------------------------------------------------------------------ resolving
def apply_changes(zone, changes, day: _dt.date | None = None, roads_file=None):
    """``zone`` with its network changed by ``changes`` (a list of :class:`NetworkChange`) as they
    hold on ``day``: a shallow copy whose ``net`` is a :class:`ChangedNetwork` (on a changed zone, the
    new changes are added to its own). An empty list (or no
    change holding on ``day``) returns ``zone`` itself, so the result equals the baseline to the last bit.

    Raises :class:`~kazerne.errors.ScenarioError` (naming the change's file and field) for a change that
    matches nothing or matches ambiguously."""
    from ..checks import check_instance, check_zone

    check_zone(zone)
    check_instance(changes, (list, tuple), "changes", "a list of NetworkChange")
    for i, c in enumerate(changes):
        check_instance(c, NetworkChange, f"changes[{i}]", "a NetworkChange")
    if day is not None:
        check_instance(day, _dt.date, "day", "a datetime.date or None")
    prior = zone.net.resolved if isinstance(zone.net, ChangedNetwork) else []
    base = zone.net.base if isinstance(zone.net, ChangedNetwork) else zone.net
    held = [c for c in changes if c.holds_on(day)]
    if not held:
        return zone
    resolved = prior + [resolve(zone, base, c, roads_file) for c in held]
    digest = hashlib.sha256(
        json.dumps([dataclasses.asdict(r.change) for r in resolved], sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    return dataclasses.replace(zone, net=ChangedNetwork(base, resolved, digest))
