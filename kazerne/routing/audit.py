"""A plausibility audit of a zone's road network: would a local officer believe its times?

:func:`audit` measures what a person who knows the zone would check first:

* **what the largest strongly connected component dropped** (the engine routes only on it): nodes
  and edges, and where they lie;
* **near-coincident nodes**: kept node pairs closer than ``near_m`` (2 m) that are not joined by an
  edge and lie on the same level — one junction drawn twice, so routes cannot turn there;
* **facing dead ends**: dead ends (one neighbour) within ``dead_end_m`` (15 m) of another dead end,
  not connected — a road cut in two by the extract;
* the **detour index** (fastest-route length / straight line) and the **effective speed** (route
  length / driving time) for random node pairs ``pair_min_m``–``pair_max_m`` (0.5–5 km) apart, per
  municipality of the origin (median, 95th percentile), and from every post to the demand points
  0.5–``post_max_m`` away;
* the places where the detour index exceeds ``max_detour`` (2.5): a route that long for the distance
  is a data error far more often than a real detour (a river with no bridge for kilometres is the
  exception, and shows on the map).

With demand points, the audit also reports (issue 23) what the fastest routes from the posts drive on:
every **contraflow** leg and every **emergency passage** they use, with its length and the population
whose fastest route uses it (:func:`kazerne.routing.usage.best_route_usage`); per municipality, the
**share of road length that is urban** (and the rule, :mod:`kazerne.routing.urban`); and, when the
demand carries the road-data gap's shadow (:mod:`kazerne.demand.shadow`), the people in it per
municipality and the posts whose routes the gap distorts.

A municipality is flagged **implausible** when its median detour exceeds ``warn_median`` (1.8) or its
95th percentile exceeds ``warn_p95`` (3.0): in a Flemish street network the median is 1.3–1.5 and
the 95th percentile below 2.6 (the repaired Ghent of pack v2: 1.42 / 2.57). The thresholds are
arguments; :data:`DEFAULTS` documents them.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from ..checks import check_int, check_number, check_zone
from ..errors import KazerneError, ModelInputError
from .diskcache import Memo
from .network import to_wgs84
from .profiles import SpeedProfile, get_profile
from .routes import tree_lengths

log = logging.getLogger("kazerne")
_MEMO = Memo(size=16)

DEFAULTS = dict(
    near_m=2.0,
    dead_end_m=15.0,
    pair_min_m=500.0,
    pair_max_m=5000.0,
    post_max_m=10000.0,
    sources_per_municipality=25,
    targets_per_source=12,
    max_detour=2.5,
    warn_median=1.8,
    warn_p95=3.0,
    seed=20261201,
)


def _slowdown(prof: SpeedProfile) -> float:
    """How much slower than its built-in profile ``prof`` drives at most (1 = not slower): the
    search limit of the audit, set for the built-in speeds, grows by this factor, so that a slow
    profile (``speed_scale = 0.1``, 1 km/h roads) still finds the routes whose detours it measures."""
    try:
        ref = get_profile(prof.name, period=prof.period)
    except KazerneError:  # not a built-in profile: no reference
        return 1.0
    u, r, f = prof.class_speed_arrays()
    u0, r0, f0 = ref.class_speed_arrays()
    mine = np.minimum(u, r) * f * prof.speed_scale
    base = np.minimum(u0, r0) * f0 * ref.speed_scale
    ok = base > 0
    return float(min(1.0, np.min(mine[ok] / base[ok]))) if ok.any() else 1.0


def _q(a, q):
    a = np.asarray(a, dtype=float)
    return float(np.quantile(a, q)) if len(a) else float("nan")


@dataclass
class AuditReport:
    """The audit's findings (see the module docstring). Distances in metres, speeds in km/h."""

    zone: str
    profile: str
    network: dict
    near_pairs: np.ndarray  # (k, 2) node indices closer than near_m, not joined
    near_dist_m: np.ndarray
    facing_dead_ends: np.ndarray  # (k, 2) node indices
    facing_dist_m: np.ndarray
    municipalities: list  # one dict per municipality
    posts: list  # one dict per post
    implausible: list  # dicts: origin/destination lon/lat, municipality, detour, km, minutes
    params: dict
    warnings: list = field(default_factory=list)
    best_routes: dict | None = None  # contraflow and passages of the fastest routes (with demand)
    gap_shadow: dict | None = None  # the gap's shadow: rule, people, posts whose routes it distorts
    urban_rule: str = ""

    def headline(self) -> dict:
        """A short JSON-ready summary for run reports."""
        allm = [m for m in self.municipalities if m["pairs"]]
        return {
            "profile": self.profile,
            "nodes_dropped_outside_largest_component": self.network["nodes_dropped"],
            "share_nodes_dropped": round(self.network["nodes_dropped"] / max(self.network["nodes_source"], 1), 4),
            "near_coincident_node_pairs": int(len(self.near_pairs)),
            "facing_dead_end_pairs": int(len(self.facing_dead_ends)),
            "detour_median_by_municipality": {m["municipality"]: m["detour_median"] for m in allm},
            "detour_p95_by_municipality": {m["municipality"]: m["detour_p95"] for m in allm},
            "implausible_pairs": len(self.implausible),
            "urban_share_of_road_length": {m["municipality"]: m.get("urban_share") for m in self.municipalities},
            **(
                {
                    k: self.best_routes[k]
                    for k in (
                        "contraflow_population",
                        "contraflow_km",
                        "contraflow_on_dual_carriageways_edges",
                        "passage_population",
                        "passage_km",
                        "track_passage_edges",
                    )
                }
                if self.best_routes
                else {}
            ),
            "gap_shadow_population": (self.gap_shadow or {}).get("population"),
            "warnings": list(self.warnings),
        }

    def municipality_rows(self) -> list[dict]:
        return [dict(m) for m in self.municipalities]

    def implausible_geojson(self) -> dict:
        feats = [
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[r["from_lon"], r["from_lat"]], [r["to_lon"], r["to_lat"]]],
                },
                "properties": {k: v for k, v in r.items() if not k.endswith(("_lon", "_lat"))},
            }
            for r in self.implausible
        ]
        return {"type": "FeatureCollection", "features": feats}

    def to_dict(self) -> dict:
        return {
            "zone": self.zone,
            "profile": self.profile,
            "network": self.network,
            "params": self.params,
            "near_coincident_pairs": len(self.near_pairs),
            "facing_dead_ends": len(self.facing_dead_ends),
            "municipalities": self.municipalities,
            "posts": self.posts,
            "implausible_pairs": len(self.implausible),
            "urban_rule": self.urban_rule,
            "best_routes": self.best_routes,
            "gap_shadow": self.gap_shadow,
            "warnings": self.warnings,
        }


def _undirected_neighbours(net):
    a = np.concatenate([net.u, net.v]).astype(np.int64)
    b = np.concatenate([net.v, net.u]).astype(np.int64)
    keep = a != b
    key = np.unique(a[keep] * net.n_nodes + b[keep])
    deg = np.bincount(key // net.n_nodes, minlength=net.n_nodes)
    return key, deg


def _node_levels(net):
    """Per node: a bit mask of the levels of its edges (level -8..7 → bit 0..15)."""
    bits = np.zeros(net.n_nodes, dtype=np.int64)
    lv = np.clip(net.level.astype(np.int64) if net.level is not None else np.zeros(net.n_edges, np.int64), -8, 7) + 8
    np.bitwise_or.at(bits, net.u, 1 << lv)
    np.bitwise_or.at(bits, net.v, 1 << lv)
    return bits


def close_pairs(net, near_m: float = 2.0, dead_end_m: float = 15.0):
    """``(near, near_d, facing, facing_d)``: unjoined node pairs closer than ``near_m`` on a common
    level, and pairs of dead ends closer than ``dead_end_m`` that are not neighbours."""
    from scipy.spatial import cKDTree

    xy = np.column_stack([net.x, net.y])
    tree = cKDTree(xy)
    key, deg = _undirected_neighbours(net)

    def not_adjacent(p):
        k = p[:, 0] * net.n_nodes + p[:, 1]
        pos = np.clip(np.searchsorted(key, k), 0, max(len(key) - 1, 0))
        return ~(key[pos] == k) if len(key) else np.ones(len(p), bool)

    near = tree.query_pairs(near_m, output_type="ndarray").astype(np.int64).reshape(-1, 2)
    lv = _node_levels(net)
    near = near[not_adjacent(near) & ((lv[near[:, 0]] & lv[near[:, 1]]) != 0)]
    dead = np.flatnonzero(deg == 1)
    facing = np.zeros((0, 2), np.int64)
    if len(dead) > 1:
        fp = cKDTree(xy[dead]).query_pairs(dead_end_m, output_type="ndarray").astype(np.int64).reshape(-1, 2)
        facing = dead[fp]
        facing = facing[not_adjacent(facing)]
    d = lambda p: np.hypot(*(xy[p[:, 0]] - xy[p[:, 1]]).T) if len(p) else np.zeros(0)
    return near, d(near), facing, d(facing)


def audit(zone, profile: SpeedProfile | str = "fire_engine", posts=None, demand=None, **params) -> AuditReport:
    """Audit ``zone``'s road network for ``profile``: :func:`audit_network`, kept in this process for the
    next caller with the same zone (content), profile, posts, demand and parameters (a copy each time;
    the warnings are logged again). Every baseline run audits; the same posts and demand audit alike."""
    from .diskcache import audit_key

    key = audit_key(zone, profile, posts, demand, params)
    hit = _MEMO.get(key) if key else None
    if hit is None:
        hit = audit_network(zone, profile, posts, demand, **params)
        if key:
            _MEMO.put(key, hit)
    else:
        for w in hit.warnings:
            log.info("road network audit: %s", w)
    return copy.deepcopy(hit)


def audit_network(zone, profile: SpeedProfile | str = "fire_engine", posts=None, demand=None, **params) -> AuditReport:
    """Audit ``zone``'s road network for ``profile`` (see the module docstring).

    ``posts`` is a :class:`~kazerne.Sites` (each post's row then gives its snap distance and the road
    it stands on) or an iterable of ``(id, node)`` or ``(id, node, turnout_s)`` (default: the pack's
    located posts, placed on their streets, turnout 0); ``demand`` optional :class:`~kazerne.demand.points.DemandPoints`
    for the post → demand detours and the best routes' contraflow and passages (default: every network
    node stands in for demand, no best routes). Keyword arguments override :data:`DEFAULTS`.
    """
    check_zone(zone)
    p = _audit_params(params)
    prof = get_profile(profile) if isinstance(profile, str) else profile
    net = zone.net
    rng = np.random.default_rng(p["seed"])
    near, near_d, facing, facing_d = close_pairs(net, p["near_m"], p["dead_end_m"])
    warns: list[str] = []
    munis, implausible = _municipality_rows(zone, prof, p, rng, warns)
    posts, placed, on_street = _audit_posts(zone, posts)
    post_rows = _post_rows(net, prof, p, posts, placed, demand)
    best, shadow = None, None
    if demand is not None and posts:
        best, shadow = _best_routes(zone, prof, posts, placed, on_street, demand, warns)
    network = net.describe()
    share_drop = network["nodes_dropped"] / max(network["nodes_source"], 1)
    if share_drop > 0.05:
        warns.append(
            f"{network['nodes_dropped']} of {network['nodes_source']} nodes ({share_drop:.1%}) lie outside "
            f"the largest strongly connected component and are dropped"
        )
    for w in warns:
        log.info("road network audit: %s", w)  # the CLI and the runner print these
    return AuditReport(
        zone=zone.name,
        profile=prof.name,
        network=network,
        near_pairs=near,
        near_dist_m=near_d,
        facing_dead_ends=facing,
        facing_dist_m=facing_d,
        municipalities=munis,
        posts=post_rows,
        implausible=implausible,
        params=p,
        warnings=warns,
        best_routes=best,
        gap_shadow=shadow,
        urban_rule=net.urban_rule,
    )


def _audit_params(params: dict) -> dict[str, Any]:
    """:data:`DEFAULTS` with ``params`` over them, each checked."""
    p: dict[str, Any] = dict(DEFAULTS)
    unknown = set(params) - set(p)
    if unknown:
        raise ModelInputError(
            f"unknown audit parameter(s) {', '.join(sorted(unknown))}; expected {', '.join(p)}", field="audit"
        )
    p.update(params)
    for key, val in p.items():
        if key == "seed":
            p[key] = check_int(val, "seed", lo=0, hi=2**32 - 1)
        elif key in ("sources_per_municipality", "targets_per_source"):
            p[key] = check_int(val, key, lo=1, hi=10**6)
        else:
            p[key] = check_number(val, key, lo=0.0, lo_open=True)
    return p


def _municipality_rows(zone, prof: SpeedProfile, p: dict, rng, warns: list) -> tuple[list, list]:
    """Per municipality: the detour index and speeds of random node pairs (a row each, a warning when
    implausible), and the pairs whose detour is over ``max_detour``."""
    from .zone import municipality_of

    net = zone.net
    node_muni = municipality_of(zone, net.x, net.y)
    if zone.gap_metric is not None:
        node_muni = np.where(shapely.contains_xy(zone.gap_metric, net.x, net.y), -1, node_muni)
    # generous: 3x the distance at 10 km/h (at 10 km/h x the slow-down of a profile slower than its built-in one)
    limit = p["pair_max_m"] * 3 / (10 / 3.6 * _slowdown(prof))
    und = net.undirected_edges()
    mid_muni = municipality_of(
        zone, (net.x[net.u[und]] + net.x[net.v[und]]) / 2, (net.y[net.u[und]] + net.y[net.v[und]]) / 2
    )
    munis: list[dict] = []
    implausible: list[dict] = []
    for i, m in enumerate(zone.pack.municipalities):
        cand = np.flatnonzero(node_muni == i)
        if len(cand) == 0:
            munis.append({"municipality": m.name, **_urban_share(net, und, mid_muni, i), "pairs": 0})
            continue
        src = rng.choice(cand, size=min(p["sources_per_municipality"], len(cand)), replace=False)
        det, spd, crow, od = _pairs(net, prof, p, rng, src, node_muni, limit)
        row = {
            "municipality": m.name,
            **_urban_share(net, und, mid_muni, i),
            "pairs": int(len(det)),
            "unreached": int(np.isinf(det).sum()),
            "detour_median": round(_q(det[np.isfinite(det)], 0.5), 3),
            "detour_p95": round(_q(det[np.isfinite(det)], 0.95), 3),
            "share_detour_over_max": round(float(np.mean(det > p["max_detour"])), 4) if len(det) else float("nan"),
            "speed_kmh_median": round(_q(spd, 0.5), 1),
            "crow_fly_kmh_median": round(_q(crow, 0.5), 1),
        }
        bad = (row["detour_median"] > p["warn_median"]) or (row["detour_p95"] > p["warn_p95"]) or row["unreached"]
        row["plausible"] = not bad
        if bad:
            warns.append(
                f"{m.name}: detour index median {row['detour_median']:.2f}, p95 {row['detour_p95']:.2f}"
                f"{', ' + str(row['unreached']) + ' pairs unreachable' if row['unreached'] else ''}"
                f" (plausible: median <= {p['warn_median']}, p95 <= {p['warn_p95']}): water with few "
                f"bridges, or a fault in the road data — look at the audit map (kazerne audit) "
                f"before believing its shares"
            )
        munis.append(row)
        implausible += _implausible_rows(net, od, m.name, p["max_detour"])
    return munis, implausible


def _pairs(net, prof: SpeedProfile, p: dict, rng, src, node_muni, limit: float) -> tuple:
    """Random targets of each source ``src`` (at ``pair_min_m`` to ``pair_max_m``, in the zone):
    the detour indices (an array, inf: unreached), speeds and crow-fly speeds of the pairs reached, and
    each pair's ``(source, target, detour, seconds, straight m)``."""
    det: list[float] = []
    spd: list[float] = []
    crow: list[float] = []
    od: list[tuple] = []
    t, L = tree_lengths(net, prof, src, limit_s=limit)
    for k, s in enumerate(src):
        dxy = np.hypot(net.x - net.x[s], net.y - net.y[s])
        ok = np.flatnonzero((dxy >= p["pair_min_m"]) & (dxy <= p["pair_max_m"]) & (node_muni >= 0))
        if len(ok) == 0:
            continue
        tg = rng.choice(ok, size=min(p["targets_per_source"], len(ok)), replace=False)
        for g in tg:
            if not np.isfinite(t[k, g]):
                det.append(np.inf)
                od.append((s, g, np.inf, np.inf, dxy[g]))
                continue
            det.append(L[k, g] / dxy[g])
            spd.append(L[k, g] / t[k, g] * 3.6)
            crow.append(dxy[g] / t[k, g] * 3.6)
            od.append((s, g, L[k, g] / dxy[g], t[k, g], dxy[g]))
    return np.asarray(det), spd, crow, od


def _implausible_rows(net, od: list, name: str, max_detour: float) -> list[dict]:
    """The pairs of ``od`` whose detour index is over ``max_detour`` (unreached ones included)."""
    out = []
    for s, g, di, tt, dd in od:
        if di > max_detour:
            lo, la = to_wgs84(net.x[[s, g]], net.y[[s, g]])
            out.append(
                {
                    "from_lon": round(float(lo[0]), 6),
                    "from_lat": round(float(la[0]), 6),
                    "to_lon": round(float(lo[1]), 6),
                    "to_lat": round(float(la[1]), 6),
                    "municipality": name,
                    "from_node": int(s),
                    "to_node": int(g),
                    "detour_index": round(float(di), 2) if np.isfinite(di) else None,
                    "straight_km": round(float(dd) / 1000, 2),
                    "drive_min": round(float(tt) / 60, 1) if np.isfinite(tt) else None,
                }
            )
    return out


def _audit_posts(zone, posts) -> tuple[list, dict, tuple | None]:
    """``posts`` as ``(id, node, turnout_s)`` tuples (default: the pack's located posts on their
    streets), where each stands (post id -> snap distance m, road, lon, lat) and, for a Sites table,
    its posts' ``(edges, fracs)`` on their streets (else None)."""
    net = zone.net
    placed = {}  # post id -> (snap distance m, road it stands on, x, y of its position)
    if posts is None:
        from ..sites import edge_road

        posts = []
        for ps in zone.pack.posts:
            if ps.located:
                try:
                    node, e, _, dist = zone.site_point(ps.lon, ps.lat, what=ps.id)
                except Exception:  # a pack post off the network is reported by the runner, not here
                    continue
                posts.append((ps.id, node))
                placed[ps.id] = (dist, edge_road(net, e), ps.lon, ps.lat)
    on_street = None
    if hasattr(posts, "snap_m") and hasattr(posts, "ids"):  # a Sites table: its posts leave from their streets
        on_street = (np.asarray(posts.edge), np.asarray(posts.frac))
        placed = {
            i: (float(d), r, lo, la)
            for i, d, r, lo, la in zip(posts.ids, posts.snap_m, posts.road, posts.lon, posts.lat)
        }
        posts = list(zip(posts.ids, posts.node.tolist(), posts.turnout_s.tolist()))
    return [tuple(x) if len(x) == 3 else (x[0], x[1], 0.0) for x in posts], placed, on_street


def _post_rows(net, prof: SpeedProfile, p: dict, posts: list, placed: dict, demand) -> list[dict]:
    """Per post: the detour index and speed from it to the demand (or network nodes) within ``post_max_m``."""
    if demand is not None:
        tx, ty = demand.x[~demand.no_road_data], demand.y[~demand.no_road_data]
        tnode = demand.node[~demand.no_road_data]
    else:
        tx, ty, tnode = net.x, net.y, np.arange(net.n_nodes)
    post_rows: list[dict] = []
    if posts:
        t, L = tree_lengths(net, prof, [n for _, n, _ in posts], limit_s=p["post_max_m"] * 3 / (10 / 3.6))
        for k, (pid, node, _) in enumerate(posts):
            dd = np.hypot(tx - net.x[node], ty - net.y[node])
            sel = (dd >= p["pair_min_m"]) & (dd <= p["post_max_m"])
            tt, ll = t[k, tnode[sel]], L[k, tnode[sel]]
            fin = np.isfinite(tt)
            det = ll[fin] / np.maximum(dd[sel][fin], 1.0)
            post_rows.append(
                {
                    "post": pid,
                    "node": int(node),
                    "targets": int(sel.sum()),
                    "unreached": int((~fin).sum()),
                    "detour_median": round(_q(det, 0.5), 3),
                    "detour_p95": round(_q(det, 0.95), 3),
                    "speed_kmh_median": round(_q(ll[fin] / np.maximum(tt[fin], 1e-9) * 3.6, 0.5), 1),
                    **({"snap_m": round(placed[pid][0], 1), "stands_on": placed[pid][1]} if pid in placed else {}),
                }
            )
    return post_rows


def _best_routes(zone, prof: SpeedProfile, posts: list, placed: dict, on_street, demand, warns: list) -> tuple:
    """The posts' best routes to the demand (:func:`~kazerne.routing.usage.best_route_usage`) and
    the gap's shadow of the demand (:func:`_shadow_rows`), with their warnings."""
    from .usage import best_route_usage

    net = zone.net
    best = best_route_usage(
        net,
        prof,
        [n for _, n, _ in posts],
        [t for _, _, t in posts],
        demand,
        *(on_street if on_street is not None else ()),
    )
    best["turnout_s"] = {pid: float(t) for pid, _, t in posts}
    if best["contraflow_on_dual_carriageways_edges"] or best["track_passage_edges"]:
        warns.append(
            f"fastest routes use {best['contraflow_on_dual_carriageways_edges']} dual-carriageway edges "
            f"against their direction and {best['track_passage_edges']} track passages: check the rules"
        )
    xy = np.array([[net.x[n], net.y[n]] for _, n, _ in posts])
    if placed:  # the posts' own positions where known
        from .network import to_metric

        for k, (pid, _, _) in enumerate(posts):
            if pid in placed:
                px, py = to_metric([placed[pid][2]], [placed[pid][3]])
                xy[k] = (px[0], py[0])
    shadow = _shadow_rows(zone, demand, warns, [pid for pid, _, _ in posts], xy)
    return best, shadow


def _urban_share(net, und, mid_muni, i) -> dict:
    """Share of the municipality's road length (each street once, by its midpoint) that is urban."""
    sel = und[mid_muni == i]
    total = float(net.length[sel].sum())
    urban = float(net.length[sel][net.urban[sel]].sum())
    return {"road_km": round(total / 1000, 1), "urban_share": round(urban / total, 4) if total > 0 else None}


def _shadow_rows(zone, demand, warns, post_ids=(), post_xy=None) -> dict | None:
    """The gap's shadow of ``demand`` (when flagged, :mod:`kazerne.demand.shadow`): people per
    municipality and the posts whose routes the gap distorts; one warning per municipality, saying
    also how far the people still counted there are from the posts (:func:`_counted_note`)."""
    gs = getattr(demand, "gap_shadow", None)
    meta = getattr(demand, "meta", {}).get("gap_shadow")
    if gs is None or meta is None:
        return None
    w = np.asarray(demand.weight, dtype=float)
    per, notes = {}, {}
    for i, m in enumerate(zone.pack.municipalities):
        pop = float(w[gs & (demand.municipality == i)].sum())
        if pop > 0:
            per[m.name] = round(pop, 1)
            note = _counted_note(zone, demand, i, post_ids, post_xy)
            notes[m.name] = note
            warns.append(
                f"{m.name}: {pop:,.0f} people in the road-data gap's shadow (their fastest routes are distorted "
                f"by missing roads): reported apart with an estimate, not as covered or uncovered"
                + (f"; {note}" if note else "")
            )
    for pid, r in meta.get("posts", {}).items():
        warns.append(f"post {pid}: the gap distorts its routes to {r['population']:,.0f} people ({r['points']} points)")
    return {**meta, "municipalities": per, "counted_notes": notes}


def _counted_note(zone, demand, i: int, post_ids, post_xy) -> str:
    """How far the people still counted in municipality ``i`` lie from the nearest post, and whether
    their straight lines to it cross the gap: a low share there is distance, not missing roads, when
    they do not."""
    if post_xy is None or not len(post_xy):
        return ""
    sel = np.flatnonzero(~np.asarray(demand.no_road_data, dtype=bool) & (demand.municipality == i))
    if not len(sel):
        return "nobody there is counted"
    w = np.asarray(demand.weight, dtype=float)[sel]
    d = np.hypot(demand.x[sel][None, :] - post_xy[:, 0:1], demand.y[sel][None, :] - post_xy[:, 1:2])
    near = np.argmin(d, axis=0)
    dist = d[near, np.arange(len(sel))] / 1000
    lines = shapely.linestrings(
        np.stack([post_xy[near], np.column_stack([demand.x[sel], demand.y[sel]])], axis=1).reshape(-1, 2),
        indices=np.repeat(np.arange(len(sel)), 2),
    )
    cross = shapely.intersects(lines, zone.gap_metric) if zone.gap_metric is not None else np.zeros(len(sel), bool)
    by = np.bincount(near, weights=w, minlength=len(post_ids))
    main = ", ".join(f"{post_ids[k]} for {by[k]:,.0f}" for k in np.argsort(-by) if by[k] > 0)
    crossing = float(w[cross].sum())
    tail = (
        "their straight lines clear of the gap: their times are distance, not missing roads"
        if crossing == 0
        else f"{crossing:,.0f} of them behind the gap as the crow flies, their routes within the plausible pace"
    )
    return (
        f"the {w.sum():,.0f} people counted lie {dist.min():.1f}-{dist.max():.1f} km (median "
        f"{float(np.median(dist)):.1f}) from the nearest post as the crow flies ({main}), {tail}"
    )
