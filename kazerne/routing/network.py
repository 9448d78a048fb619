"""The compact road network: CSR arrays built once from OSM, cached on disk.

``RoadNetwork`` holds the largest strongly connected component of the drivable graph as plain
numpy arrays:

* nodes: ``lon``, ``lat`` (WGS84 degrees), ``x``, ``y`` (metres, EPSG:31370 Belgian Lambert 72);
* edges (parallel edges kept, sorted by tail then head): ``u``, ``v`` (node indices), ``length``
  (m), highway class index, ``maxspeed`` (km/h, NaN when untagged), ``urban`` flag, ``oneway``
  flag (for profiles that may drive against one-way streets), the OSM name, and the edge
  geometry as a ragged coordinate array (``geom_offsets``, ``geom_xy`` in EPSG:31370);
* per speed profile, :meth:`RoadNetwork.csr` gives the routing graph: ``offsets`` (n+1), ``heads``
  and ``times`` (s, the fastest of parallel edges), as a ``scipy.sparse.csr_matrix``.

The base arrays depend only on the source file, so the on-disk cache is keyed by the file's SHA-256
and :data:`BUILD_VERSION`; edge times are derived from them per profile in milliseconds and keyed by
the profile's parameter hash in memory, so a changed profile can never reuse stale times. A cache file
is written atomically (temp + rename) and carries a digest of its arrays: a truncated or corrupt file
is detected, discarded and rebuilt.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from .crs import METRIC_CRS, to_metric, to_wgs84  # noqa: F401  (re-exported)
from .profiles import SpeedProfile, classify_highway, parse_maxspeed

log = logging.getLogger("kazerne")

#: Bump when the way arrays are derived from OSM changes: old caches are then ignored.
BUILD_VERSION = "10"
#: Fallback "urban" rule of a bare network (no population known, e.g. a file loaded without its zone
#: pack): at least this many intersections within URBAN_RADIUS_M of the edge midpoint. A loaded zone
#: replaces it by the population-density rule of :mod:`kazerne.routing.urban`.
URBAN_MIN_NODES = 40
URBAN_RADIUS_M = 500.0
#: Road classes that are not arms of a junction: a driveway, car-park aisle, service entry, field track
#: or footway-like passage meeting a street does not make the driver slow down as at a crossing.
NON_ARM_CLASSES = ("service", "track", "pedestrian", "busway")
#: Dual carriageway: a one-way edge with an edge of the same name running the opposite way (bearing
#: 135-225 degrees apart) whose midpoint lies within this distance of its own midpoint, metres.
DUAL_CARRIAGEWAY_M = 40.0
#: Delay codes per edge (:meth:`RoadNetwork.delay_codes`): what the edge's head node is for a driver.
NO_DELAY, JUNCTION, ROUNDABOUT_ENTRY, SIGNALS = 0, 1, 2, 3

_ARRAYS = (
    "lon",
    "lat",
    "x",
    "y",
    "u",
    "v",
    "length",
    "cls",
    "maxspeed",
    "urban",
    "geom_offsets",
    "geom_xy",
    "n_nodes_source",
    "n_edges_source",
    "name_id",
    "names",
    "oneway",
    "access",
    "level",
    "fixme",
    "dropped_xy",
    "dropped_edges_xy",
    "roundabout",
    "dual",
    "signals",
)


def cache_dir() -> Path:
    """Where network caches live: ``KAZERNE_CACHE`` or ``~/.cache/kazerne``."""
    d = os.environ.get("KAZERNE_CACHE")
    return Path(d) if d else Path.home() / ".cache" / "kazerne"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class RoadNetwork:
    """Drivable road network as arrays (see module docstring). Units: metres, seconds, km/h."""

    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    cls: np.ndarray
    maxspeed: np.ndarray
    urban: np.ndarray
    geom_offsets: np.ndarray
    geom_xy: np.ndarray
    name_id: np.ndarray | None = None  # per edge: index into ``names`` (-1 = unnamed)
    names: np.ndarray | None = None  # distinct OSM ``name`` values (str)
    oneway: np.ndarray | None = None  # per edge: the OSM way is one-way (osmnx ``oneway``)
    access: np.ndarray | None = None  # per edge: 0 public road, 1 emergency-only passage (osmread.way_access)
    level: np.ndarray | None = None  # per edge: vertical level (layer; bridge +1, tunnel -1)
    fixme: np.ndarray | None = None  # per edge: one-way street of unknown direction written two-way
    dropped_xy: np.ndarray | None = None  # (k, 2) EPSG:31370: nodes outside the largest strongly connected component
    dropped_edges_xy: np.ndarray | None = None  # (k, 4) x0 y0 x1 y1 of the dropped edges (straight), for maps
    roundabout: np.ndarray | None = None  # per edge: part of a roundabout (OSM junction=roundabout|circular)
    dual: np.ndarray | None = None  # per edge: one carriageway of a dual carriageway (see DUAL_CARRIAGEWAY_M)
    signals: np.ndarray | None = None  # per node: traffic signals (OSM node highway=traffic_signals)
    n_nodes_source: int = 0
    n_edges_source: int = 0
    source: str = ""
    source_sha256: str = ""
    road_data_date: str = ""
    urban_rule: str = f"urban where at least {URBAN_MIN_NODES} intersections lie within {URBAN_RADIUS_M:g} m"
    _csr_cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        from ..checks import check_array, check_fields
        from ..errors import NodeIdError

        check_fields(self)
        for name in ("lon", "lat", "x", "y", "length", "maxspeed"):
            setattr(
                self, name, check_array(getattr(self, name), f"RoadNetwork.{name}", ndim=1, dtype=None, allow_nan=True)
            )
        for name in ("u", "v", "cls", "geom_offsets"):
            setattr(self, name, check_array(getattr(self, name), f"RoadNetwork.{name}", ndim=1, dtype=None))
        n, m = len(self.x), len(self.u)
        for name in ("lon", "lat", "y"):
            if len(getattr(self, name)) != n:
                raise NodeIdError(
                    f"expected {n} values (one per node, as x), got {len(getattr(self, name))}",
                    field=f"RoadNetwork.{name}",
                )
        for name in ("v", "length", "cls", "maxspeed", "urban"):
            if len(getattr(self, name)) != m:
                raise NodeIdError(
                    f"expected {m} values (one per edge, as u), got {len(getattr(self, name))}",
                    field=f"RoadNetwork.{name}",
                )
        for name in ("u", "v"):
            ends = getattr(self, name)
            if m and (ends.min() < 0 or ends.max() >= n):
                raise NodeIdError(
                    f"expected node numbers from 0 to {n - 1}, got {int(ends.min())}..{int(ends.max())}",
                    field=f"RoadNetwork.{name}",
                )

    # ----------------------------------------------------------------- shape
    @property
    def n_nodes(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.u.shape[0])

    def dropped(self) -> dict:
        """What keeping the largest strongly connected component dropped."""
        return {
            "nodes_source": self.n_nodes_source,
            "edges_source": self.n_edges_source,
            "nodes_kept": self.n_nodes,
            "edges_kept": self.n_edges,
            "nodes_dropped": self.n_nodes_source - self.n_nodes,
            "edges_dropped": self.n_edges_source - self.n_edges,
        }

    # --------------------------------------------------------------- routing
    def edge_times(self, profile: SpeedProfile) -> np.ndarray:
        """Traversal time (s) of every edge under ``profile`` (``inf`` where the profile may not drive)."""
        return profile.edge_times(
            self.length,
            self.cls,
            self.urban,
            self.maxspeed,
            emergency=self.emergency_only(),
            junction=self.delay_codes(),
            speed_factor=self.unknown_factor(profile),
        )

    def unknown_factor(self, profile: SpeedProfile):
        """Per edge: the profile's speed factor on one-way streets of unknown direction (1 elsewhere)."""
        f = profile.unknown_direction_factor
        if f == 1.0 or self.fixme is None:
            return 1.0
        return np.where(self.fixme, f, 1.0)

    def _flag(self, name: str, per: str = "edge") -> np.ndarray:
        a = getattr(self, name)
        return np.zeros(self.n_edges if per == "edge" else self.n_nodes, dtype=bool) if a is None else a

    def arm_edges(self) -> np.ndarray:
        """Per edge: True for a public road that counts as an arm of a junction (not a service road,
        track, pedestrian street, busway or emergency-only passage: :data:`NON_ARM_CLASSES`)."""
        from .profiles import CLASS_INDEX

        return ~np.isin(self.cls, [CLASS_INDEX[c] for c in NON_ARM_CLASSES]) & ~self.emergency_only()

    def is_junction(self) -> np.ndarray:
        """Per node: True where three or more public road arms meet (:meth:`arm_edges`, counted by
        :func:`street_degree`). A driveway, car-park exit, service entry or field track meeting a street
        is no junction, nor is a node where only a street's name, class or access changes."""
        j = self._csr_cache.get("_junction")
        if j is None:
            a = self.arm_edges()
            j = street_degree(self.u[a], self.v[a], self.length[a], self.n_nodes) >= 3
            self._csr_cache["_junction"] = j
        return j

    def delay_codes(self, reverse: bool = False) -> np.ndarray:
        """Per edge: what its head node is for a driver arriving along it (``reverse``: driving the edge
        from ``v`` to ``u``, its head is ``u``): :data:`SIGNALS` (node tagged with traffic signals),
        :data:`ROUNDABOUT_ENTRY` (an edge that is not part of a roundabout reaching one),
        :data:`JUNCTION` (three or more public road arms, :meth:`is_junction`; not on the roundabout's
        own ring, which has priority) or :data:`NO_DELAY`. Profiles turn codes into seconds."""
        key = ("_delay_codes", reverse)
        c = self._csr_cache.get(key)
        if c is None:
            head = self.u if reverse else self.v
            rb = self._flag("roundabout")
            on_rb = np.zeros(self.n_nodes, dtype=bool)
            on_rb[self.u[rb]] = True
            on_rb[self.v[rb]] = True
            c = np.where(self.is_junction()[head] & ~rb, JUNCTION, NO_DELAY)
            c = np.where(on_rb[head] & ~rb, ROUNDABOUT_ENTRY, c)
            c = np.where(self._flag("signals", "node")[head], SIGNALS, c).astype(np.int8)
            self._csr_cache[key] = c
        return c

    def contraflow_edges(self, profile: SpeedProfile) -> np.ndarray:
        """Indices of the one-way edges ``profile`` may drive against their direction: its
        ``contraflow_classes`` (single-carriageway residential / unclassified / tertiary streets by
        default), never a roundabout, a carriageway of a dual carriageway or an emergency-only passage;
        none when ``oneway_reverse_factor`` is 0."""
        from .profiles import CLASS_INDEX

        if profile.oneway_reverse_factor <= 0 or not profile.contraflow_classes:
            return np.zeros(0, dtype=np.int64)
        ok = np.isin(self.cls, [CLASS_INDEX[c] for c in profile.contraflow_classes])
        ok &= self.oneway & ~self._flag("roundabout") & ~self._flag("dual") & ~self.emergency_only()
        return np.flatnonzero(ok)

    def emergency_only(self) -> np.ndarray:
        """Per edge: True for a way cars may not use but emergency vehicles do."""
        if self.access is None:
            return np.zeros(self.n_edges, dtype=bool)
        return self.access == 1

    def csr(self, profile: SpeedProfile) -> sparse.csr_matrix:
        """Routing graph for ``profile``: CSR matrix, entry (a, b) = fastest edge time a→b in seconds.

        Edges the profile may not use (emergency passages for the car) are left out. Which edge of
        the network each entry stands for is :meth:`csr_edges`."""
        return self._routing(profile)[0]

    def csr_edges(self, profile: SpeedProfile) -> tuple[np.ndarray, np.ndarray]:
        """Per entry of :meth:`csr` (in CSR order): the network edge it uses and whether it drives that
        edge against its one-way direction."""
        _, e, rev = self._routing(profile)
        return e, rev

    def _routing(self, profile: SpeedProfile):
        key = profile.key()
        r = self._csr_cache.get(key)
        if r is None:
            t = np.maximum(self.edge_times(profile), 1e-3)  # csgraph must not see zero weights as missing
            eid = np.arange(self.n_edges, dtype=np.int64)
            u, v, rev = self.u, self.v, np.zeros(self.n_edges, dtype=bool)
            one = self.contraflow_edges(profile)
            if len(one):
                rev_t = profile.edge_times(
                    self.length[one],
                    self.cls[one],
                    self.urban[one],
                    self.maxspeed[one],
                    speed_factor=profile.oneway_reverse_factor,
                    emergency=self.emergency_only()[one],
                    junction=self.delay_codes(reverse=True)[one],
                )
                u = np.concatenate([u, self.v[one]])
                v = np.concatenate([v, self.u[one]])
                t = np.concatenate([t, np.maximum(rev_t, 1e-3)])
                eid = np.concatenate([eid, one])
                rev = np.concatenate([rev, np.ones(len(one), dtype=bool)])
            ok = np.isfinite(t)
            u, v, t, eid, rev = u[ok], v[ok], t[ok], eid[ok], rev[ok]
            # by tail, head, then time: the first entry of each (tail, head) run is the fastest edge
            order = np.lexsort((eid, t, v, u))
            u, v, t, eid, rev = u[order], v[order], t[order], eid[order], rev[order]
            new = np.ones(len(u), dtype=bool)
            new[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
            starts = np.flatnonzero(new)
            heads = v[starts].astype(np.int32)
            offsets = np.zeros(self.n_nodes + 1, dtype=np.int64)
            np.add.at(offsets, u[starts] + 1, 1)
            offsets = np.cumsum(offsets)
            m = sparse.csr_matrix((t[starts], heads, offsets), shape=(self.n_nodes, self.n_nodes))
            m.has_sorted_indices = True
            r = (m, eid[starts], rev[starts])
            self._csr_cache[key] = r
        return r

    def has_reverse(self) -> np.ndarray:
        """Per edge: True when the network also has an edge in the opposite direction (two-way street)."""
        r = self._csr_cache.get("_has_reverse")
        if r is None:
            key = self.u.astype(np.int64) * self.n_nodes + self.v
            rev = self.v.astype(np.int64) * self.n_nodes + self.u
            r = np.isin(rev, key)
            self._csr_cache["_has_reverse"] = r
        return r

    def edge_geometry(self, i: int) -> np.ndarray:
        """Coordinates (k, 2) of edge ``i`` in EPSG:31370, from tail to head."""
        return self.geom_xy[self.geom_offsets[i] : self.geom_offsets[i + 1]]

    def sample_points(self, edges: np.ndarray, step_m: float):
        """Points every ``step_m`` metres (at most) along the geometry of ``edges``.

        Returns ``(xy, part, along, weight)``: points (k, 2) in EPSG:31370, the position in ``edges``
        each point belongs to, its distance along the edge as a fraction of the edge's geometric
        length (0 at the tail), and the road length in metres it stands for (they sum to the
        edges' geometric length).
        """
        edges = np.asarray(edges, dtype=np.int64)
        starts, ends = self.geom_offsets[edges], self.geom_offsets[edges + 1]
        counts = ends - starts
        part = np.repeat(np.arange(len(edges)), counts)
        pos = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
        xy = self.geom_xy[pos]
        same = part[1:] == part[:-1]
        a, b, seg_part = xy[:-1][same], xy[1:][same], part[1:][same]
        if len(seg_part) == 0:
            return np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        seg_len = np.hypot(*(b - a).T)
        edge_len = np.bincount(seg_part, weights=seg_len, minlength=len(edges))
        cum = np.cumsum(seg_len) - seg_len
        first = np.searchsorted(seg_part, seg_part)  # index of the first segment of each edge
        seg_start = cum - cum[first]
        n = np.maximum(1, np.ceil(seg_len / step_m)).astype(np.int64)
        rep = np.repeat(np.arange(len(seg_len)), n)
        k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        s = (k + 0.5) / n[rep]
        pts = a[rep] + s[:, None] * (b - a)[rep]
        p_part = seg_part[rep]
        along = (seg_start[rep] + s * seg_len[rep]) / np.maximum(edge_len[p_part], 1e-9)
        weight = seg_len[rep] / n[rep]
        return pts, p_part, along, weight

    def undirected_edges(self) -> np.ndarray:
        """Edge indices counting each street once: of a two-way pair (a→b and b→a) only a<b is kept."""
        return np.flatnonzero(~self.has_reverse() | (self.u < self.v))

    def to_networkx(self, profile: SpeedProfile, crs: str = "EPSG:4326"):
        """The routing graph of ``profile`` as an osmnx-compatible ``networkx.MultiDiGraph``.

        One edge per entry of :meth:`csr` (the fastest edge between two nodes, and a one-way street
        driven against its direction where the profile allows it), so a shortest path on
        ``travel_time`` equals this engine's. Graph attribute ``crs``; nodes ``x`` / ``y`` (lon / lat
        degrees for ``crs="EPSG:4326"``, the default as osmnx loads OSM; metres for
        ``crs="EPSG:31370"``: ``ox.nearest_nodes`` then needs no scikit-learn); edges ``length``
        (metres), ``travel_time`` (seconds; ``time`` is the same, the name of kazerne 0.3 and earlier),
        ``highway``, ``name`` (only on named streets, as osmnx), ``oneway``, ``reversed`` (driven
        against its one-way direction) and ``geometry`` (a shapely LineString in ``crs``). Works with
        ``ox.graph_to_gdfs``, ``ox.shortest_path``, ``ox.nearest_nodes`` and ``ox.plot_graph``.
        """
        import networkx as nx
        import shapely

        from .profiles import HIGHWAY_CLASSES

        if str(crs).upper() not in ("EPSG:4326", "EPSG:31370"):
            from ..errors import ModelInputError

            raise ModelInputError(f"expected crs 'EPSG:4326' or 'EPSG:31370', got {crs!r}", field="crs")
        wgs = str(crs).upper() == "EPSG:4326"
        m = self.csr(profile).tocoo()
        eid, rev = self.csr_edges(profile)
        g = nx.MultiDiGraph(crs=str(crs).upper(), name="kazerne road network", profile=profile.name)
        nx_, ny_ = (self.lon, self.lat) if wgs else (self.x, self.y)
        g.add_nodes_from((i, {"x": float(a), "y": float(b)}) for i, (a, b) in enumerate(zip(nx_, ny_)))
        xy = self.geom_xy
        if wgs:
            from .crs import to_wgs84

            xy = np.column_stack(to_wgs84(xy[:, 0], xy[:, 1]))
        else:
            xy = xy.copy()
        xy[self.geom_offsets[:-1]] = np.column_stack([nx_[self.u], ny_[self.u]])  # ends exactly on the nodes
        xy[self.geom_offsets[1:] - 1] = np.column_stack([nx_[self.v], ny_[self.v]])
        counts = np.diff(self.geom_offsets)
        lines = shapely.linestrings(xy, indices=np.repeat(np.arange(self.n_edges), counts))[eid]
        lines[rev] = shapely.reverse(lines[rev])
        names = self.names
        rows = zip(m.row.tolist(), m.col.tolist(), m.data.tolist(), eid.tolist(), rev.tolist(), lines)
        for a, b, t, e, r, line in rows:
            attrs = {
                "length": float(self.length[e]),
                "travel_time": t,
                "time": t,
                "highway": HIGHWAY_CLASSES[int(self.cls[e])],
                "oneway": bool(self.oneway[e]) if self.oneway is not None else False,
                "reversed": bool(r),
                "geometry": line,
            }
            if self.name_id is not None and names is not None and self.name_id[e] >= 0:
                attrs["name"] = str(names[self.name_id[e]])
            g.add_edge(a, b, **attrs)
        return g

    def describe(self) -> dict:
        em = self.emergency_only()
        return {
            "source": Path(self.source).name,
            "sha256": self.source_sha256[:16],
            "road_data_date": self.road_data_date,
            "urban_rule": self.urban_rule,
            **self.dropped(),
            "emergency_passages_km": round(float(self.length[em].sum()) / 1000, 1),
            "roundabout_edges": int(self._flag("roundabout").sum()),
            "dual_carriageway_km": round(float(self.length[self._flag("dual")].sum()) / 1000, 1),
            "traffic_signal_nodes": int(self._flag("signals", "node").sum()),
            "unknown_oneway_direction_km": round(float(self.length[self.fixme].sum()) / 1000, 1)
            if self.fixme is not None
            else 0.0,
        }


# ---------------------------------------------------------------------- build
def from_osmnx(G, source: str = "", source_sha256: str = "", road_data_date: str = "") -> RoadNetwork:
    """Build a :class:`RoadNetwork` from an osmnx ``MultiDiGraph`` (unprojected, WGS84).

    Keeps the largest strongly connected component; parallel edges are kept (the fastest one
    is used for routing per profile).
    """
    from scipy.spatial import cKDTree

    osm_ids = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
    index = {int(n): i for i, n in enumerate(osm_ids)}
    lon = np.array([G.nodes[n]["x"] for n in osm_ids], dtype=np.float64)
    lat = np.array([G.nodes[n]["y"] for n in osm_ids], dtype=np.float64)
    sig = np.array([_is_signal(G.nodes[n].get("highway")) for n in osm_ids], dtype=bool)
    n_src = len(osm_ids)

    us, vs, lens, clss, maxs, geoms, nms, ows, accs, lvls, fixs, rbs = ([] for _ in range(12))
    raw_names = []
    for a, b, d in G.edges(data=True):
        us.append(index[int(a)])
        vs.append(index[int(b)])
        lens.append(float(d.get("length", 0.0)))
        clss.append(classify_highway(d.get("highway")))
        maxs.append(parse_maxspeed(d.get("maxspeed")))
        g = d.get("geometry")
        geoms.append(np.asarray(g.coords, dtype=np.float64) if g is not None else None)
        ow = d.get("oneway", False)
        ows.append(bool(any(ow) if isinstance(ow, (list, tuple)) else ow))
        acc = d.get("kz_access")
        if acc is None:  # a graph not read by osmread (tests, fetch): classify from the tags
            from .osmread import way_access

            acc = way_access(d)
        accs.append(max(acc) if isinstance(acc, (list, tuple)) else int(acc))
        lv = d.get("kz_level", 0)
        lvls.append(int(lv[0] if isinstance(lv, (list, tuple)) else lv))
        fx = d.get("kz_fixme", False)
        fixs.append(bool(any(fx) if isinstance(fx, (list, tuple)) else fx))
        jn = d.get("junction")
        jn = jn if isinstance(jn, (list, tuple)) else [jn]
        rbs.append(any(str(j).lower() in ("roundabout", "circular") for j in jn if j is not None))
        nm = d.get("name")
        if isinstance(nm, (list, tuple)):  # osmnx merges differing names into an unordered list
            nm = sorted(str(x) for x in nm)[0] if nm else None
        raw_names.append(str(nm) if nm else None)
    # names numbered in sorted order: the same file gives the same arrays in every process
    name_list = sorted({n for n in raw_names if n is not None})
    name_index = {n: i for i, n in enumerate(name_list)}
    nms = [name_index[n] if n is not None else -1 for n in raw_names]
    u = np.array(us, dtype=np.int64)
    v = np.array(vs, dtype=np.int64)
    m_src = len(u)

    # largest strongly connected component
    adj = sparse.csr_matrix((np.ones(m_src), (u, v)), shape=(n_src, n_src))
    ncomp, labels = csgraph.connected_components(adj, directed=True, connection="strong")
    big = np.bincount(labels).argmax()
    keep_node = labels == big
    keep_edge = keep_node[u] & keep_node[v]

    x_all, y_all = to_metric(lon, lat)
    dropped_xy = np.column_stack([x_all[~keep_node], y_all[~keep_node]])
    de = np.flatnonzero(~keep_edge)
    dropped_edges_xy = np.column_stack([x_all[u[de]], y_all[u[de]], x_all[v[de]], y_all[v[de]]])
    # Number the kept nodes along a Z-order (Morton) curve: neighbours in space get neighbouring
    # indices, which almost halves Dijkstra's time through better cache locality.
    kept = np.flatnonzero(keep_node)
    kept = kept[np.argsort(morton_code(x_all[kept], y_all[kept]), kind="stable")]
    new_index = -np.ones(n_src, dtype=np.int64)
    new_index[kept] = np.arange(len(kept))
    eidx = np.flatnonzero(keep_edge)
    u2, v2 = new_index[u[eidx]], new_index[v[eidx]]
    order = np.lexsort((v2, u2))
    eidx, u2, v2 = eidx[order], u2[order], v2[order]

    # ragged geometry (metric)
    pieces, offsets = [], [0]
    for e in eidx:
        g = geoms[e]
        if g is None:
            g = np.array([[lon[u[e]], lat[u[e]]], [lon[v[e]], lat[v[e]]]])
        pieces.append(g)
        offsets.append(offsets[-1] + len(g))
    gl = np.concatenate(pieces) if pieces else np.zeros((0, 2))
    gx, gy = to_metric(gl[:, 0], gl[:, 1])

    x, y = x_all[kept], y_all[kept]
    length = np.asarray(lens)[eidx]
    # urban flag: intersection density around the edge midpoint (junctions and dead ends; not the
    # nodes kept only because a street's name or class changes)
    sdeg = street_degree(u2, v2, length, len(kept))
    tree = cKDTree(np.column_stack([x, y])[sdeg != 2])
    mid = np.column_stack([(x[u2] + x[v2]) / 2, (y[u2] + y[v2]) / 2])
    counts = tree.query_ball_point(mid, r=URBAN_RADIUS_M, return_length=True)
    urban = counts >= URBAN_MIN_NODES
    oneway = np.asarray(ows, dtype=bool)[eidx]
    name_id = np.asarray(nms, dtype=np.int32)[eidx]

    net = RoadNetwork(
        lon=lon[kept],
        lat=lat[kept],
        x=x,
        y=y,
        u=u2.astype(np.int32),
        v=v2.astype(np.int32),
        length=length.astype(np.float64),
        cls=np.asarray(clss, dtype=np.int8)[eidx],
        maxspeed=np.asarray(maxs, dtype=np.float64)[eidx],
        urban=urban,
        geom_offsets=np.asarray(offsets, dtype=np.int64),
        geom_xy=np.column_stack([gx, gy]),
        name_id=name_id,
        names=np.array(name_list, dtype=str),
        oneway=oneway,
        access=np.asarray(accs, dtype=np.int8)[eidx],
        level=np.asarray(lvls, dtype=np.int8)[eidx],
        fixme=np.asarray(fixs, dtype=bool)[eidx],
        dropped_xy=dropped_xy.reshape(-1, 2),
        dropped_edges_xy=dropped_edges_xy.reshape(-1, 4),
        roundabout=np.asarray(rbs, dtype=bool)[eidx],
        signals=sig[kept],
        n_nodes_source=n_src,
        n_edges_source=m_src,
        source=str(source),
        source_sha256=source_sha256,
        road_data_date=road_data_date,
    )
    net.dual = dual_carriageways(net)
    return net


def _is_signal(value) -> bool:
    vals = value if isinstance(value, (list, tuple)) else [value]
    return any(str(x).lower() == "traffic_signals" for x in vals if x is not None)


def dual_carriageways(net: "RoadNetwork", within_m: float = DUAL_CARRIAGEWAY_M, step_m: float = 20.0) -> np.ndarray:
    """Per edge: True for a one-way edge that is one carriageway of a dual carriageway: along at least
    half of its length (points every ``step_m``), another one-way edge of the same (non-empty) name
    runs the opposite way (tail-to-head bearings more than 135 degrees apart) within ``within_m``."""
    from scipy.spatial import cKDTree

    out = np.zeros(net.n_edges, dtype=bool)
    assert net.oneway is not None and net.name_id is not None  # built with the network
    cand = np.flatnonzero(net.oneway & (net.name_id >= 0))
    if len(cand) < 2:
        return out
    pts, part, _, _ = net.sample_points(cand, step_m)
    e = cand[part]
    dx, dy = net.x[net.v[e]] - net.x[net.u[e]], net.y[net.v[e]] - net.y[net.u[e]]
    norm = np.maximum(np.hypot(dx, dy), 1e-9)
    dx, dy = dx / norm, dy / norm
    pairs = cKDTree(pts).query_pairs(within_m, output_type="ndarray").reshape(-1, 2)
    i, j = pairs[:, 0], pairs[:, 1]
    hit = (net.name_id[e[i]] == net.name_id[e[j]]) & (dx[i] * dx[j] + dy[i] * dy[j] < -np.cos(np.radians(45.0)))
    matched = np.zeros(len(pts), dtype=bool)
    matched[i[hit]] = True
    matched[j[hit]] = True
    share = np.bincount(part, weights=matched, minlength=len(cand)) / np.maximum(
        np.bincount(part, minlength=len(cand)), 1
    )
    out[cand[share >= 0.5]] = True
    return out


def street_degree(u, v, length, n_nodes: int) -> np.ndarray:
    """Per node: how many streets end there. A two-way street (a->b and b->a of the same length) counts
    once; parallel streets between the same nodes (a loop, a service road beside a main road) each count."""
    a, b = np.minimum(u, v).astype(np.int64), np.maximum(u, v).astype(np.int64)
    key = np.unique(np.column_stack([a, b, np.round(np.asarray(length, dtype=float), 1)]), axis=0)
    key = key[key[:, 0] != key[:, 1]].astype(np.int64)
    return np.bincount(key[:, 0], minlength=n_nodes) + np.bincount(key[:, 1], minlength=n_nodes)


def morton_code(x, y, cell_m: float = 50.0) -> np.ndarray:
    """Z-order code of points (metres) on a ``cell_m`` grid: nearby points get nearby codes."""
    xi = ((np.asarray(x) - np.min(x)) // cell_m).astype(np.uint64)
    yi = ((np.asarray(y) - np.min(y)) // cell_m).astype(np.uint64)

    def spread(v):
        v = v & np.uint64(0xFFFF)
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        v = (v | (v << np.uint64(1))) & np.uint64(0x55555555)
        return v

    return spread(xi) | (spread(yi) << np.uint64(1))


# ---------------------------------------------------------------------- cache
#: A cache file is the .npz body followed by this tag and the SHA-256 of the body (32 bytes).
_TRAILER = b"KAZERNE-SHA256:"
#: Temporaries of the old naming (``<name><random>.tmp``) older than this are removed, seconds.
_OLD_TMP_AGE_S = 3600.0


def _digest(body: bytes) -> bytes:
    """SHA-256 of the whole cache body: every array and every metadata field, headers included."""
    return hashlib.sha256(body).digest()


def _clean_cache_temps(path: Path) -> None:
    """Remove temporaries of ``path`` left by interrupted writes (dead writers, or old and unnamed)."""
    from ..files import remove_stale

    remove_stale(path.parent, path.name)
    now = time.time()
    for p in path.parent.glob(f"{path.name}*.tmp"):  # the naming before BUILD_VERSION 8
        try:
            if now - p.stat().st_mtime > _OLD_TMP_AGE_S:
                p.unlink()
        except OSError:
            pass


def npz_bytes(arrays: dict) -> bytes:
    """An .npz (zip of .npy members) with fixed member order, timestamps and attributes: the same
    arrays give the same bytes in every process and at every time (``np.savez`` stamps the clock)."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for k in sorted(arrays):
            info = zipfile.ZipInfo(f"{k}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asanyarray(arrays[k]), allow_pickle=False)
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def save_cache(net: RoadNetwork, path: Path) -> None:
    """Write ``net`` to ``path`` atomically: the .npz body, then a SHA-256 of that whole body.

    Written to a temporary beside ``path`` (named with host and process id, so that leftovers of
    a killed writer are removed by the next load or save) and renamed; the file gets the
    permissions of the user's umask.
    """

    from ..files import apply_umask, temp_prefix

    arrays = {k: np.asarray(getattr(net, k)) for k in _ARRAYS}
    body = npz_bytes(
        {
            "source": np.array(net.source),
            "source_sha256": np.array(net.source_sha256),
            "road_data_date": np.array(net.road_data_date),
            **arrays,
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean_cache_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
            fh.write(_TRAILER)
            fh.write(_digest(body))
            fh.flush()
            os.fsync(fh.fileno())
        apply_umask(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_cache(path: Path) -> RoadNetwork | None:
    """Read a cache file; ``None`` (a miss: rebuild) unless the SHA-256 of the whole body matches.

    Any problem at all while reading — missing, truncated, a flipped byte anywhere, a member
    missing, an exception of any kind from the reader — is a miss, never an error.
    """
    import io

    if not path.is_file():
        return None
    try:
        _clean_cache_temps(path)
        data = path.read_bytes()
        n = len(_TRAILER) + 32
        if len(data) <= n or data[-n:-32] != _TRAILER:
            return None
        body = data[:-n]
        if _digest(body) != data[-32:]:
            return None
        with np.load(io.BytesIO(body), allow_pickle=False) as z:
            arrays: dict[str, Any] = {k: z[k] for k in _ARRAYS}
            meta: dict[str, Any] = {k: str(z[k]) for k in ("source", "source_sha256", "road_data_date")}
        arrays["n_nodes_source"] = int(arrays["n_nodes_source"])
        arrays["n_edges_source"] = int(arrays["n_edges_source"])
        return RoadNetwork(**arrays, **meta)
    except Exception:  # noqa: BLE001 - whatever a damaged file raises, it is not trusted
        return None


def load_network(
    roads_file: str | Path, road_data_date: str = "", use_cache: bool = True, quiet: bool = False
) -> RoadNetwork:
    """Load a road network from an OSM XML file (``.osm`` or ``.osm.bz2``), through the cache.

    The first load parses the XML with ``osmnx.graph_from_xml`` (about 20-30 s for a whole zone);
    later loads read the cache (well under 1 s).
    """
    roads_file = Path(roads_file)
    sha = file_sha256(roads_file)
    path = cache_dir() / f"network-{sha[:20]}-v{BUILD_VERSION}.npz"
    if use_cache:
        net = load_cache(path)
        if net is not None and net.source_sha256 == sha:
            return net
    t0 = time.perf_counter()
    if not quiet:
        log.info("building road network from %s (first time, cached afterwards)…", roads_file.name)
    G = _read_osm(roads_file)
    net = from_osmnx(G, source=str(roads_file), source_sha256=sha, road_data_date=road_data_date)
    if use_cache:
        try:
            save_cache(net, path)
        except OSError as exc:  # a read-only cache folder must not stop the run
            log.warning("could not write network cache %s: %s", path, exc)
    if not quiet:
        log.info(
            "road network ready in %.1f s (%d nodes, %d edges kept; %d nodes outside the largest strongly "
            "connected component dropped)",
            time.perf_counter() - t0,
            net.n_nodes,
            net.n_edges,
            net.n_nodes_source - net.n_nodes,
        )
    return net


def _read_osm(path: Path):
    from ..errors import ZonePackError
    from .osmread import read_osm_graph

    try:
        return read_osm_graph(path)
    except Exception as exc:  # osmnx raises many kinds; all mean "this file is not usable"
        raise ZonePackError(f"could not read OSM XML ({type(exc).__name__}: {exc})", source=str(path)) from None
