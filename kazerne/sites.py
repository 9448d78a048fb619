"""Sites: where units stand — fire posts, candidate sites, named sites, ambulance bases.

A :class:`Sites` is a plain table (ids, names, network node, WGS84 position, crew type, turnout in
seconds, snap distance and the road it stands on). It needs no scenario file: build it from the
pack's posts (:meth:`Sites.from_posts`), from points (:meth:`Sites.from_lonlat`) or from the road
network (:meth:`Sites.candidates`), and join tables with :meth:`Sites.concat`.

Turnout (alarm to wheels rolling) defaults by crew type, :data:`DEFAULT_TURNOUT_S`: professional
crews wait in the station (90 s), volunteers come from home or work (300 s); a mixed post counts as
volunteer since most hours of the week are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .checks import check_array, check_int, check_same_lengths, check_zone
from .clock import DEFAULT_TURNOUT_S as _CLOCK_TURNOUT_S
from .clock import FALLBACK_CREW
from .errors import ScenarioError
from .routing.zonepack import crew_type  # noqa: F401 (re-exported: the pack's crew types)

#: Turnout in seconds by crew type: the medians of the one default table (kazerne.clock).
DEFAULT_TURNOUT_S = dict(_CLOCK_TURNOUT_S)
#: Road classes candidate sites are generated on by default.
DEFAULT_CANDIDATE_CLASSES = ("trunk", "primary", "secondary", "tertiary")


def node_road(net, node: int) -> str:
    """The road a node lies on, for reports: "Name (class)" of its most important edge."""
    from .routing.profiles import HIGHWAY_CLASSES

    e = np.flatnonzero((net.u == node) | (net.v == node))
    if len(e) == 0:
        return ""
    e = e[np.lexsort((net.name_id[e] < 0, net.cls[e]))][0]
    name = str(net.names[net.name_id[e]]) if net.name_id[e] >= 0 else "unnamed"
    return f"{name} ({HIGHWAY_CLASSES[net.cls[e]]})"


def edge_road(net, edge: int) -> str:
    """The road an edge is, for reports: "Name (class)"."""
    from .routing.profiles import HIGHWAY_CLASSES

    name = str(net.names[net.name_id[edge]]) if net.name_id[edge] >= 0 else "unnamed"
    return f"{name} ({HIGHWAY_CLASSES[net.cls[edge]]})"


def site_streets(zone, nodes) -> list:
    """The street of each network node: the name of its most important named edge ("" if none)."""
    net = zone.net
    nodes = np.atleast_1d(np.asarray(nodes, dtype=np.int64))
    e = np.flatnonzero(net.name_id >= 0)
    ends = np.concatenate([net.u[e], net.v[e]])
    ee = np.concatenate([e, e])
    order = np.lexsort((net.cls[ee], ends))  # per node, the fastest class first
    ends, ee = ends[order], ee[order]
    first = np.ones(len(ends), bool)
    first[1:] = ends[1:] != ends[:-1]
    best = dict(zip(ends[first].tolist(), ee[first].tolist()))
    return [str(net.names[net.name_id[best[n]]]) if n in best else "" for n in nodes.tolist()]


@dataclass
class Sites:
    """Sites as aligned arrays (see the module docstring). Positions in WGS84 degrees, turnout in s."""

    ids: list
    names: list
    node: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    turnout_s: np.ndarray
    crew: list = field(default_factory=list)
    snap_m: np.ndarray | None = None
    road: list = field(default_factory=list)
    origin: list = field(default_factory=list)
    grade: list = field(default_factory=list)  # the pack's location grade (B..E), "user", "" when unknown
    street: list = field(default_factory=list)  # the street the site stands on ("" when unnamed)
    municipality: list = field(default_factory=list)
    excluded_in_gap: int = 0  # candidates: nodes left out because they lie in the data gap
    edge: np.ndarray | None = None  # the street edge the site stands on (-1: at its node, e.g. a candidate)
    frac: np.ndarray | None = None  # where along that edge (0 at its tail, 1 at its head)

    def __post_init__(self):
        from .checks import check_fields

        check_fields(self, error=ScenarioError)
        if isinstance(self.ids, np.ndarray):
            self.ids = self.ids.tolist()
        n = len(self.ids)
        for name in ("node", "lon", "lat"):
            arr = check_array(getattr(self, name), f"Sites.{name}", dtype=None, allow_nan=True, error=ScenarioError)
            if arr.size != n:
                raise ScenarioError(f"expected {n} values (one per site id), got {arr.size}", field=f"Sites.{name}")
            setattr(self, name, arr.reshape(n))
        self.node = self.node.astype(np.int64)
        self.lon, self.lat = self.lon.astype(float), self.lat.astype(float)
        t = check_array(self.turnout_s, "Sites.turnout_s", dtype=float, allow_nan=True, error=ScenarioError)
        if t.ndim > 1 or (t.ndim == 1 and len(t) not in (1, n)):
            raise ScenarioError(
                f"expected one turnout or {n} (one per site), got shape {t.shape}", field="Sites.turnout_s"
            )
        self.turnout_s = np.broadcast_to(t, (n,)).copy()
        self.crew = list(self.crew) or [""] * n
        self.snap_m = np.zeros(n) if self.snap_m is None else np.asarray(self.snap_m, dtype=float).reshape(n)
        self.road = list(self.road) or [""] * n
        self.origin = list(self.origin) or [""] * n
        self.grade = list(self.grade) or [""] * n
        self.street = list(self.street) or [""] * n
        self.municipality = list(self.municipality) or [""] * n
        self.edge = -np.ones(n, np.int64) if self.edge is None else np.asarray(self.edge, np.int64).reshape(n)
        self.frac = np.zeros(n) if self.frac is None else np.asarray(self.frac, dtype=float).reshape(n)
        check_same_lengths(
            self,
            ("names", "crew", "snap_m", "road", "origin", "grade", "street", "municipality"),
            n,
            "one per site id",
            error=ScenarioError,
        )
        if len(set(self.ids)) != n:
            dup = next(i for i in self.ids if list(self.ids).count(i) > 1)
            raise ScenarioError(f"duplicate site id {dup!r}", field="sites")
        if n and (not np.all(np.isfinite(self.turnout_s)) or (self.turnout_s < 0).any()):
            raise ScenarioError("turnout times must be finite and >= 0 seconds", field="turnout_s")

    def __len__(self) -> int:
        return len(self.ids)

    # ------------------------------------------------------------ building
    @classmethod
    def from_posts(cls, zone, ids=None, turnout: dict | None = None, snap: str = "public") -> "Sites":
        """The pack's fire posts: ``ids`` (default: those with status ``active``), placed on the network.

        ``turnout`` maps crew type to seconds (default :data:`DEFAULT_TURNOUT_S`)."""
        check_zone(zone)
        if isinstance(ids, str):
            ids = [ids]
        known = {p.id: p for p in zone.pack.posts}
        if ids is None:
            ids = [p.id for p in zone.pack.posts if p.status == "active" and p.located]
        turnout = {**DEFAULT_TURNOUT_S, **(turnout or {})}
        rows = []
        for pid in ids:
            if pid not in known:
                raise ScenarioError(f"unknown post {pid!r}; the pack {zone.name} has {', '.join(known)}", field="posts")
            p = known[pid]
            c = crew_type(p.crew)
            if c not in turnout:
                raise ScenarioError(f"no turnout time for crew type {c!r}", field="turnout")
            rows.append((p.id, p.name, p.lon, p.lat, c, turnout[c]))
        out = cls._place(zone, rows, snap, origin="post")
        out.grade = [known[i].location_grade for i in out.ids]
        return out

    @classmethod
    def from_lonlat(
        cls,
        zone,
        ids,
        lon,
        lat,
        *,
        names=None,
        crew="professional",
        turnout_s=None,
        snap: str = "public",
        origin: str = "user",
    ) -> "Sites":
        """Sites at WGS84 points (degrees): one id and one position, or lists of them. ``turnout_s``
        defaults by ``crew`` (one or one per site)."""
        check_zone(zone)
        ids = [str(ids)] if isinstance(ids, (str, int, np.integer)) else [str(i) for i in ids]
        n = len(ids)
        lon = check_array(np.atleast_1d(lon), "lon", ndim=1, allow_nan=True, error=ScenarioError)
        lat = check_array(np.atleast_1d(lat), "lat", ndim=1, allow_nan=True, error=ScenarioError)
        for name, arr in (("lon", lon), ("lat", lat)):
            if len(arr) != n:
                raise ScenarioError(f"expected {n} values (one per id), got {len(arr)}", field=name)
        crews = [crew] * n if isinstance(crew, str) else list(crew)
        if len(crews) != n:
            raise ScenarioError(f"expected one crew type or {n} (one per id), got {len(crews)}", field="crew")
        if turnout_s is None:
            turnout_s = [DEFAULT_TURNOUT_S.get(crew_type(c), DEFAULT_TURNOUT_S[FALLBACK_CREW]) for c in crews]
        t = check_array(
            np.atleast_1d(turnout_s), "turnout_s", ndim=1, nonneg=True, allow_inf=False, error=ScenarioError
        )
        if len(t) not in (1, n):
            raise ScenarioError(f"expected one turnout or {n} (one per id), got {len(t)}", field="turnout_s")
        t = np.broadcast_to(t, (n,))
        names = [names] if isinstance(names, str) else (list(names) if names is not None else ids)
        if len(names) != n:
            raise ScenarioError(f"expected {n} names (one per id), got {len(names)}", field="names")
        rows = [
            (
                ids[i],
                names[i],
                float(lon[i]),
                float(lat[i]),
                crew_type(crews[i]),
                float(t[i]),
            )
            for i in range(n)
        ]
        return cls._place(zone, rows, snap, origin=origin)

    @classmethod
    def _place(cls, zone, rows, snap, origin):
        """Each site onto the nearest point of its street (:meth:`~kazerne.routing.zone.Zone.site_point`):
        it leaves from there in both directions, one-way streets respected; ``snap_m`` is the distance
        from its position to that point and ``road`` that street."""
        nodes, snaps, roads, edges, fracs = [], [], [], [], []
        for sid, _, lo, la, _, _ in rows:
            node, e, f, dist = zone.site_point(lo, la, what=f"site {sid}", snap=snap)
            nodes.append(node)
            edges.append(e)
            fracs.append(f)
            snaps.append(dist)
            roads.append(edge_road(zone.net, e))
        return cls(
            ids=[r[0] for r in rows],
            names=[r[1] for r in rows],
            node=np.array(nodes, dtype=np.int64),
            lon=[r[2] for r in rows],
            lat=[r[3] for r in rows],
            turnout_s=[r[5] for r in rows],
            crew=[r[4] for r in rows],
            snap_m=snaps,
            road=roads,
            origin=[origin] * len(rows),
            edge=np.array(edges, dtype=np.int64),
            frac=np.array(fracs, dtype=float),
        )

    @classmethod
    def candidates(
        cls,
        zone,
        spacing_m: float = 1000.0,
        classes=DEFAULT_CANDIDATE_CLASSES,
        turnout_s: float = 90.0,
        crew: str = "professional",
        buffer_m: float = 0.0,
    ) -> "Sites":
        """Candidate sites: network nodes on roads of ``classes`` inside the zone (+``buffer_m``) and
        outside the road-data gap, thinned to one per ``spacing_m`` square (the node nearest the
        square's centre). Ids are ``C<node>``; ``meta`` of the result tells how many the gap excluded."""
        import shapely

        check_zone(zone)

        from .routing.profiles import CLASS_INDEX

        if (
            isinstance(spacing_m, bool)
            or not isinstance(spacing_m, (int, float))
            or not np.isfinite(spacing_m)
            or spacing_m <= 0
        ):
            raise ScenarioError(f"expected a spacing > 0 metres, got {spacing_m!r}", field="spacing_m")
        unknown = [c for c in classes if c not in CLASS_INDEX]
        if unknown or not classes:
            raise ScenarioError(
                f"expected road classes from {', '.join(CLASS_INDEX)}, got {list(classes)!r}", field="candidate_classes"
            )
        net = zone.net
        cl = np.array([CLASS_INDEX[c] for c in classes])
        e = np.isin(net.cls, cl) & ~net.emergency_only()
        nodes = np.unique(np.concatenate([net.u[e], net.v[e]]))
        geom = zone.zone_metric if not buffer_m else shapely.buffer(zone.zone_metric, buffer_m)
        nodes = nodes[shapely.contains_xy(geom, net.x[nodes], net.y[nodes])]
        in_gap = np.zeros(len(nodes), bool)
        if zone.gap_metric is not None:
            in_gap = shapely.contains_xy(zone.gap_metric, net.x[nodes], net.y[nodes])
        excluded = int(in_gap.sum())
        nodes = nodes[~in_gap]
        s = float(spacing_m)
        cx, cy = np.floor(net.x[nodes] / s), np.floor(net.y[nodes] / s)
        d = np.hypot(net.x[nodes] - (cx + 0.5) * s, net.y[nodes] - (cy + 0.5) * s)
        order = np.lexsort((d, cy, cx))
        key = np.column_stack([cx, cy])[order]
        first = np.ones(len(order), bool)
        first[1:] = np.any(key[1:] != key[:-1], axis=1)
        chosen = np.sort(nodes[order[first]])
        from .routing.zone import municipality_of

        names = [m.name for m in zone.pack.municipalities]
        mun = [names[i] if i >= 0 else "" for i in municipality_of(zone, net.x[chosen], net.y[chosen])]
        street = site_streets(zone, chosen)
        # a name people recognise: the street and the municipality of the road junction
        label = [", ".join(x for x in (st or "unnamed road", m) if x) for st, m in zip(street, mun)]
        return cls(
            ids=[f"C{n}" for n in chosen],
            names=label,
            node=chosen,
            lon=net.lon[chosen],
            lat=net.lat[chosen],
            turnout_s=np.asarray(turnout_s),
            crew=[crew] * len(chosen),
            road=[node_road(net, int(n)) for n in chosen],
            origin=["generated"] * len(chosen),
            street=street,
            municipality=mun,
            excluded_in_gap=excluded,
        )

    def concat(self, *others: "Sites") -> "Sites":
        """This table followed by ``others`` (ids must stay unique)."""
        parts = (self,) + others
        return Sites(
            ids=[i for p in parts for i in p.ids],
            names=[n for p in parts for n in p.names],
            node=np.concatenate([p.node for p in parts]),
            lon=np.concatenate([p.lon for p in parts]),
            lat=np.concatenate([p.lat for p in parts]),
            turnout_s=np.concatenate([p.turnout_s for p in parts]),
            crew=[c for p in parts for c in p.crew],
            snap_m=np.concatenate([p.snap_m for p in parts]),
            road=[r for p in parts for r in p.road],
            origin=[o for p in parts for o in p.origin],
            grade=[g for p in parts for g in p.grade],
            street=[x for p in parts for x in p.street],
            municipality=[x for p in parts for x in p.municipality],
            excluded_in_gap=sum(p.excluded_in_gap for p in parts),
            edge=np.concatenate([p.edge for p in parts]),
            frac=np.concatenate([p.frac for p in parts]),
        )

    def subset(self, which) -> "Sites":
        """The sites at the given positions (ints) or with the given ids (strings), in that order."""
        which = [which] if isinstance(which, str) else list(which)
        pos = {sid: k for k, sid in enumerate(self.ids)}
        idx = []
        for w in which:
            k = (
                pos.get(w)
                if isinstance(w, str)
                else check_int(w, "which", lo=-len(self.ids), hi=len(self.ids) - 1, error=ScenarioError)
            )
            if k is None:
                raise ScenarioError(
                    f"unknown site {w!r}; expected one of {', '.join(map(str, self.ids[:20]))}", field="which"
                )
            idx.append(k)
        assert self.snap_m is not None and self.edge is not None and self.frac is not None  # set by __post_init__
        return Sites(
            ids=[self.ids[i] for i in idx],
            names=[self.names[i] for i in idx],
            node=self.node[idx],
            lon=self.lon[idx],
            lat=self.lat[idx],
            turnout_s=self.turnout_s[idx],
            crew=[self.crew[i] for i in idx],
            snap_m=self.snap_m[idx],
            road=[self.road[i] for i in idx],
            origin=[self.origin[i] for i in idx],
            grade=[self.grade[i] for i in idx],
            street=[self.street[i] for i in idx],
            municipality=[self.municipality[i] for i in idx],
            edge=self.edge[idx],
            frac=self.frac[idx],
        )

    def point(self, zone, which=0):
        """Where site ``which`` (position or id) stands on its street, as a route end
        (:class:`~kazerne.routing.snapping.EdgePoint`; ``kz.route(zone.net, profile, sites.point(zone, "P01"), ...)``)."""
        from .routing.snapping import edge_point

        k = self.ids.index(which) if isinstance(which, str) and which in self.ids else which
        k = check_int(k, "which", lo=-len(self.ids), hi=len(self.ids) - 1, error=ScenarioError)
        return edge_point(zone.net, int(self.node[k]), int(self.edge[k]), float(self.frac[k]), float(self.snap_m[k]))

    # ------------------------------------------------------------ output
    def rows(self) -> list[dict]:
        """One dict per site (``lon``, ``lat`` in that order)."""
        assert self.snap_m is not None  # set by __post_init__
        return [
            {
                "id": self.ids[i],
                "name": self.names[i],
                "crew": self.crew[i],
                "turnout_s": float(self.turnout_s[i]),
                "lon": round(float(self.lon[i]), 6),
                "lat": round(float(self.lat[i]), 6),
                "snap_m": round(float(self.snap_m[i]), 1),
                "snap_road": self.road[i],
                "origin": self.origin[i],
                "location_grade": self.grade[i],
            }
            for i in range(len(self))
        ]

    def to_geodataframe(self, to_crs=None):
        """A ``geopandas.GeoDataFrame`` of the sites (points, EPSG:4326, or ``to_crs``)."""
        import geopandas as gpd
        import pandas as pd

        from .report.plotcrs import to_crs as _to_crs

        df = pd.DataFrame(self.rows())
        return _to_crs(gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(self.lon, self.lat), crs="EPSG:4326"), to_crs)
