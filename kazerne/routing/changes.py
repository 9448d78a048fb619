"""Network changes: closures, slow areas, passages and new links as a layer on the built network.

A :class:`NetworkChange` says what a measure does to the roads (close a street, a bridge or one
direction; slow an area; add an emergency passage or a new link) and when it holds (time slices,
dates) for which vehicles (profiles). :func:`apply_changes` resolves the changes against a zone --
each must match something, unambiguously, or a one-line error names the field -- and returns the
zone with a :class:`ChangedNetwork`: the same arrays, whose per-profile routing graph is the built
one (:meth:`RoadNetwork.csr`) with the changes applied to its entries:

* a closure removes the entries that drive the closed edges (a parallel edge left open takes over);
* a slow area scales the time of the part of each edge inside the polygon (speed cap or factor);
* a passage or link adds entries between two nodes.

The layer never rebuilds the network: it composes with whatever the build gives. Every travel time
computed on the changed zone (baseline, studies, slices, EMS, criticality) sees the changes. A change
restricted to time slices holds only for profiles tagged with one of them (:func:`in_slice`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass, field
from typing import NoReturn

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from ..errors import ScenarioError
from .network import RoadNetwork, to_metric
from .profiles import CLASS_INDEX, SpeedProfile

__all__ = [
    "ACTIONS",
    "ChangedNetwork",
    "NetworkChange",
    "ResolvedChange",
    "in_slice",
    "profile_slice",
]

#: close: no driving; slow: speed cap / factor inside a polygon; passage: emergency vehicles only, at
#: its speed; link: a new road of a class between two points
ACTIONS = ("close", "slow", "passage", "link")
#: profiles that may use a passage unless the change lists its own
EMERGENCY_PROFILES = ("fire_engine", "ambulance")
#: a point of ``between`` may lie at most this far from a network node, metres
MAX_POINT_SNAP_M = 150.0


@dataclass(frozen=True)
class NetworkChange:
    """One change to the road network (see the module docstring and ``scenarios/README.md``).

    Selection (exactly one): ``street`` (+ ``municipality``, ``bridge``, ``near``), ``way`` (OSM way
    ids of the zone's road file), ``geometry`` (a line or polygon: WKT, or ``[[lon, lat], ...]`` with
    ``polygon``), ``between`` (two ``(lon, lat)`` points: the street between them), ``edges`` (network
    edge indices, for the API). ``direction = "forward"`` closes only the way from the first point of
    ``between`` to the second. Coordinates are WGS84 lon/lat, or EPSG:31370 metres when > 180.
    """

    action: str
    street: str | None = None
    municipality: str | None = None
    bridge: bool = False
    near: tuple | None = None
    way: tuple = ()
    geometry: str | None = None
    between: tuple | None = None
    edges: tuple = ()
    direction: str = "both"
    speed_kmh: float | None = None
    factor: float | None = None
    road_class: str = "residential"
    profiles: tuple | None = None
    slices: tuple | None = None
    date_from: _dt.date | None = None
    date_until: _dt.date | None = None
    label: str = ""
    field: str = "network.changes"
    source: str | None = None

    def __post_init__(self):
        from ..checks import check_fields, check_number, show

        check_fields(self, error=ScenarioError)
        if self.action not in ACTIONS:
            self.fail(f"expected one of {', '.join(ACTIONS)}, got {show(self.action)}", "action")
        if self.direction not in ("both", "forward"):
            self.fail(f'expected "both" or "forward", got {show(self.direction)}', "direction")
        for name in ("speed_kmh", "factor"):
            if getattr(self, name) is not None:
                check_number(getattr(self, name), f"{self.field}.{name}", lo=0, lo_open=True, error=ScenarioError)

    def fail(self, msg: str, sub: str | None = None) -> NoReturn:
        raise ScenarioError(msg, source=self.source, field=f"{self.field}.{sub}" if sub else self.field)

    def holds_on(self, day: _dt.date | None) -> bool:
        """Whether the change holds on ``day`` (``None``: a change with dates needs a day)."""
        if self.date_from is None and self.date_until is None:
            return True
        if day is None:
            self.fail("a change with from / until needs the day the scenario describes: give [network] date")
        return (self.date_from is None or day >= self.date_from) and (self.date_until is None or day <= self.date_until)

    def describe(self) -> str:
        what = self.street or (f"way {','.join(map(str, self.way))}" if self.way else None)
        what = what or ("a drawn geometry" if self.geometry else ("two points" if self.between else "edges"))
        extra = f" ({self.label})" if self.label else ""
        return f"{self.action} {what}{extra}"


@dataclass
class ResolvedChange:
    """A change matched on a network: per-edge closures and slow fractions, or extra entries."""

    change: NetworkChange
    close_fwd: np.ndarray | None = None  # per edge: entries driving u->v closed
    close_rev: np.ndarray | None = None  # per edge: entries driving v->u (against a one-way) closed
    inside: np.ndarray | None = None  # per edge: fraction of its length inside the slow polygon
    extra: list = field(default_factory=list)  # (tail, head, length_m) of passages / links
    n_edges: int = 0  # edges matched (or entries added)
    length_m: float = 0.0

    def effects(self, profile: SpeedProfile) -> tuple[bool, bool, bool]:
        """(closes, slows, adds entries) under ``profile``: nothing outside the change's slices or
        profiles. A passage lets its profiles (default: those with emergency passages) through at its
        speed and closes the selected streets to the others."""
        c = self.change
        if c.slices is not None and profile_slice(profile) not in c.slices:
            return False, False, False
        if c.action == "passage":
            passes = profile.name in c.profiles if c.profiles is not None else profile.emergency_passages
            on_streets = self.close_fwd is not None
            return (not passes and on_streets), (passes and on_streets), passes
        if c.profiles is not None and profile.name not in c.profiles:
            return False, False, False
        return c.action == "close", c.action == "slow", c.action == "link"

    def applies(self, profile: SpeedProfile) -> bool:
        return any(self.effects(profile))

    def fraction(self) -> np.ndarray:
        """Per edge: the fraction slowed (a passage's streets: all of them)."""
        if self.inside is not None:
            return self.inside
        assert self.close_fwd is not None and self.close_rev is not None
        return (self.close_fwd | self.close_rev).astype(float)

    def summary(self) -> dict:
        c = self.change
        return {
            "change": c.describe(),
            "action": c.action,
            "field": c.field,
            "edges": self.n_edges,
            "length_km": round(self.length_m / 1000, 3),
            "profiles": list(c.profiles) if c.profiles is not None else "all",
            "slices": list(c.slices) if c.slices is not None else "all",
            "from": c.date_from.isoformat() if c.date_from else None,
            "until": c.date_until.isoformat() if c.date_until else None,
        }


# ------------------------------------------------------------------ slices
@dataclass(frozen=True)
class _SliceProfile(SpeedProfile):
    """A speed profile tagged with the time slice it drives in (its key differs per slice)."""

    slice_name: str | None = None


def in_slice(profile: SpeedProfile, name: str | None) -> SpeedProfile:
    """``profile`` tagged with time slice ``name``: changes limited to slices hold only in theirs."""
    fields = {f.name: getattr(profile, f.name) for f in dataclasses.fields(SpeedProfile)}
    return _SliceProfile(**fields, slice_name=name)


def profile_slice(profile: SpeedProfile) -> str | None:
    """The time slice ``profile`` is tagged with (``None``: the scenario's reference situation)."""
    return getattr(profile, "slice_name", None)


# ------------------------------------------------------------------ the layer
class ChangedNetwork(RoadNetwork):
    """A :class:`RoadNetwork` whose routing graphs carry resolved changes (same arrays as ``base``)."""

    def __init__(self, base: RoadNetwork, resolved: list, digest: str):
        kw = {f.name: getattr(base, f.name) for f in dataclasses.fields(RoadNetwork) if f.name != "_csr_cache"}
        super().__init__(**kw)
        self.base = base
        self.resolved = list(resolved)
        self.changes_digest = digest
        self.source_sha256 = f"{base.source_sha256}+changes-{digest}"

    def active(self, profile: SpeedProfile) -> list:
        return [r for r in self.resolved if r.applies(profile)]

    def edge_times(self, profile: SpeedProfile) -> np.ndarray:
        t = self.base.edge_times(profile)
        act = self.active(profile)
        if not act:
            return t
        t = t.copy()
        for r in act:
            closes, slows, _ = r.effects(profile)
            if slows:
                t = _slowed(t, self.length, r.fraction(), r.change, profile)
            if closes:
                t[r.close_fwd] = np.inf
        return t

    def _routing(self, profile: SpeedProfile):
        key = profile.key()
        r = self._csr_cache.get(key)
        if r is None:
            act = self.active(profile)
            base = (self.base.csr(profile), *self.base.csr_edges(profile))
            r = base if not act else self._changed_routing(profile, act, base)
            self._csr_cache[key] = r
        return r

    def _changed_routing(self, profile, act, base):
        m, eid, rev = base
        n = self.n_nodes
        tails = np.repeat(np.arange(n, dtype=np.int64), np.diff(m.indptr))
        heads = m.indices.astype(np.int64)
        t = m.data.astype(np.float64).copy()
        eid, rev = eid.astype(np.int64), rev.copy()
        closed = np.zeros(len(t), dtype=bool)
        any_closed = np.zeros(self.n_edges, dtype=bool)
        eff = [(r, *r.effects(profile)) for r in act]
        for r, closes, _, _ in eff:
            if closes:
                closed |= np.where(rev, r.close_rev[eid], r.close_fwd[eid])
                any_closed |= r.close_fwd
        # a parallel edge between the same nodes left open takes over from a closed fastest one
        if closed.any():
            cand = np.flatnonzero(~any_closed)
            pairs = set(zip(tails[closed].tolist(), heads[closed].tolist()))
            keep = [e for e in cand[np.isin(self.u[cand], tails[closed])] if (int(self.u[e]), int(self.v[e])) in pairs]
            if keep:
                keep = np.array(keep, dtype=np.int64)
                bt = np.maximum(self.base.edge_times(profile)[keep], 1e-3)
                ok = np.isfinite(bt)
                tails = np.concatenate([tails, self.u[keep[ok]]])
                heads = np.concatenate([heads, self.v[keep[ok]]])
                t = np.concatenate([t, bt[ok]])
                eid = np.concatenate([eid, keep[ok]])
                rev = np.concatenate([rev, np.zeros(int(ok.sum()), dtype=bool)])
                closed = np.concatenate([closed, np.zeros(int(ok.sum()), dtype=bool)])
        for r, _, slows, _ in eff:
            if slows:
                t = np.maximum(_slowed(t, self.length[eid], r.fraction()[eid], r.change, profile), 1e-3)
        for r, _, _, adds in eff:
            for a, b, length in r.extra if adds else ():
                tt = _extra_time(profile, r.change, length)
                if np.isfinite(tt):
                    tails, heads = np.append(tails, a), np.append(heads, b)
                    t, closed = np.append(t, max(tt, 1e-3)), np.append(closed, False)
                    eid, rev = np.append(eid, -1), np.append(rev, False)
        ok = ~closed
        return _csr(n, tails[ok], heads[ok], t[ok], eid[ok], rev[ok])

    def describe(self) -> dict:
        return {**self.base.describe(), "changes": [r.summary() for r in self.resolved]}


def _csr(n, tails, heads, t, eid, rev):
    """The routing triple (CSR matrix, entry edge, entry reversed) keeping the fastest of each pair."""
    order = np.lexsort((eid, t, heads, tails))
    tails, heads, t, eid, rev = tails[order], heads[order], t[order], eid[order], rev[order]
    new = np.ones(len(tails), dtype=bool)
    new[1:] = (tails[1:] != tails[:-1]) | (heads[1:] != heads[:-1])
    s = np.flatnonzero(new)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.add.at(offsets, tails[s] + 1, 1)
    m = sparse.csr_matrix((t[s], heads[s].astype(np.int32), np.cumsum(offsets)), shape=(n, n))
    m.has_sorted_indices = True
    return m, eid[s], rev[s]


def _slowed(t, length, inside, ch: NetworkChange, profile: SpeedProfile):
    """Times with the part ``inside`` (fraction of each edge) slowed by a speed cap or factor (a
    passage: its speed, default the profile's ``emergency_passage_kmh``)."""
    f = np.clip(inside, 0.0, 1.0)
    part = t * f
    cap = ch.speed_kmh if ch.speed_kmh is not None or ch.action != "passage" else profile.emergency_passage_kmh
    if cap is not None:
        new = np.maximum(part, length * f / (cap / 3.6))
    else:
        new = part / ch.factor
    return np.where(f > 0, t - part + new, t)


def _extra_time(profile: SpeedProfile, ch: NetworkChange, length: float) -> float:
    """Driving time of a passage or new link of ``length`` metres under ``profile``."""
    if ch.action == "passage":
        kmh = ch.speed_kmh if ch.speed_kmh is not None else profile.emergency_passage_kmh
        kmh = min(kmh * profile.speed_scale, profile.vehicle_max_kmh)
    else:
        cls = np.array([CLASS_INDEX[ch.road_class]])
        kmh = float(profile.edge_speeds(cls, np.array([True]), np.array([np.nan]))[0])
        if ch.speed_kmh is not None:
            kmh = min(kmh, ch.speed_kmh)
    return length / (kmh / 3.6) if kmh > 0 else float("inf")


def metric_xy(coords) -> np.ndarray:
    """(k, 2) EPSG:31370 from WGS84 lon/lat pairs (or pairs already in metres: any |value| > 180)."""
    a = np.asarray(coords, dtype=float).reshape(-1, 2)
    if np.abs(a).max() > 180:
        return a
    x, y = to_metric(a[:, 0], a[:, 1])
    return np.column_stack([x, y])


def undirected_path(net: RoadNetwork, a: int, b: int) -> np.ndarray:
    """Nodes of the shortest path by length from ``a`` to ``b`` ignoring directions (empty if none)."""
    g = sparse.csr_matrix((net.length + 1e-6, (net.u, net.v)), shape=(net.n_nodes, net.n_nodes))
    d, pred = csgraph.dijkstra(g, directed=False, indices=a, return_predecessors=True)
    if not np.isfinite(d[b]):
        return np.zeros(0, dtype=np.int64)
    out = [b]
    while out[-1] != a:
        out.append(int(pred[out[-1]]))
    return np.array(out[::-1], dtype=np.int64)


def edge_lines(net: RoadNetwork):
    """Shapely LineStrings of every edge (EPSG:31370), cached on the network."""
    g = net._csr_cache.get("_edge_lines")
    if g is None:
        counts = np.diff(net.geom_offsets)
        idx = np.repeat(np.arange(net.n_edges), counts)
        g = shapely.linestrings(net.geom_xy, indices=idx)
        net._csr_cache["_edge_lines"] = g
    return g


def polygon_fraction(net: RoadNetwork, poly) -> np.ndarray:
    """Per edge: the fraction of its length inside ``poly`` (EPSG:31370)."""
    lines = edge_lines(net)
    out = np.zeros(net.n_edges)
    hit = shapely.STRtree(lines).query(poly, predicate="intersects")
    if len(hit):
        inter = shapely.length(shapely.intersection(lines[hit], poly))
        out[hit] = np.clip(inter / np.maximum(shapely.length(lines[hit]), 1e-9), 0.0, 1.0)
    return out
