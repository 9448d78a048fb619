"""The road-data gap's shadow: demand points whose fastest route is distorted by missing roads.

The zone pack's gap (most of Melle, south-east Merelbeke) holds no roads; the routes *around* it are
then detours that no driver takes (Melle post -> a village 7 km south-east: 41.6 min over 33.6 km).
Such times are artefacts of the data, not facts. The rule (:func:`gap_shadow`):

1. the **reference posts** are the zone pack's located fire posts (every status: the question is
   where roads are missing, not which posts a scenario opens), placed as sites are (on the nearest
   point of their street);
2. the **reference pace** (seconds of driving per metre of straight line) is measured on the network
   itself: the engine's times from each reference post to the demand points 1-15 km away whose
   straight line to it does not cross the gap; its median gives the estimate, its 90th percentile the
   limit of a plausible detour;
3. a demand point with road data is **in the gap's shadow** when, for one of its two nearest
   reference posts (straight line), the straight line crosses the gap and the engine's time from
   that post is above the 90th-percentile pace, **and** the engine's best time from the reference
   posts is above the estimate (straight line x median pace) from that post: the gap hides a route
   that is likely faster than the one the extract has. Both times count each post's turnout by its
   crew (:data:`~kazerne.clock.DEFAULT_TURNOUT_S`: professional 90 s, volunteer 300 s): a professional
   post across the gap whose crew would arrive first is not outweighed by a volunteer post with roads
   (Oosterzele: Melle across the gap, Gavere's volunteers on the roads the extract has).

Points in the shadow are reported apart, like the gap itself (``no_road_data`` is set, and
``gap_shadow`` says why); their **estimate** (``gap_shadow_estimate_s``, driving seconds from the
nearest crossing reference post, straight line x median pace) is an approximation, stated as such.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import shapely

SHADOW_RULE = (
    "points whose straight line to one of their two nearest pack posts crosses the road-data gap, with the "
    "engine's time from that post above the {q:g}th-percentile pace of routes that do not cross it "
    "({p90:.3f} s per straight-line metre) and the best time (turnout by crew + drive) above the estimate "
    "from that post (its turnout + straight line x median pace {pmed:.3f} s/m, {kmh:.0f} km/h as the crow "
    "flies): reported apart, estimated"
)


def shadow_core(
    net,
    profile,
    demand,
    post_xy,
    post_nodes,
    gap_metric,
    k_nearest: int = 2,
    band_m=(1000.0, 15000.0),
    q: float = 90.0,
    post_edge=None,
    post_frac=None,
    post_turnout_s=None,
):
    """The rule of the module docstring on arrays: ``(shadow, estimate_s, info)``. ``post_xy`` (p, 2)
    EPSG:31370 and ``post_nodes`` (p,) are the reference posts (``post_edge`` / ``post_frac``: where
    they stand on their streets, as :class:`~kazerne.Sites` has it; ``post_turnout_s``: each one's
    turnout, 0 by default); ``info`` holds the paces, the rule text and, per post, the points it
    distorts (indices)."""
    from ..routing.travel import demand_drive_times

    n = len(demand.x)
    nrd = np.asarray(demand.no_road_data, dtype=bool)
    shadow = np.zeros(n, dtype=bool)
    est = np.full(n, np.nan)
    info: dict[str, Any] = {"rule": "", "pace_median_s_per_m": None, "pace_p90_s_per_m": None, "by_post": {}}
    post_xy = np.asarray(post_xy, dtype=float).reshape(-1, 2)
    if gap_metric is None or len(post_xy) == 0 or n == 0:
        return shadow, est, info
    drive = demand_drive_times(
        net, profile, np.asarray(post_nodes, np.int64), demand, site_edge=post_edge, site_frac=post_frac
    )  # (p, n)
    dx = demand.x[None, :] - post_xy[:, 0:1]
    dy = demand.y[None, :] - post_xy[:, 1:2]
    straight = np.maximum(np.hypot(dx, dy), 1.0)
    k = min(k_nearest, len(post_xy))
    near = np.argsort(straight, axis=0, kind="stable")[:k]  # (k, n)
    cols = np.arange(n)
    s_near = straight[near, cols]
    d_near = drive[near, cols]
    px, py = post_xy[near, 0], post_xy[near, 1]
    coords = np.stack(
        [
            np.stack([px, py], -1),
            np.stack([np.broadcast_to(demand.x, px.shape), np.broadcast_to(demand.y, py.shape)], -1),
        ],
        -2,
    )
    lines = shapely.linestrings(coords.reshape(-1, 2), indices=np.repeat(np.arange(coords.shape[0] * n), 2))
    crosses = shapely.intersects(lines, gap_metric).reshape(k, n) & ~nrd[None, :]
    ref = ~crosses & (s_near >= band_m[0]) & (s_near <= band_m[1]) & np.isfinite(d_near) & ~nrd[None, :]
    if ref.sum() < 10:
        return shadow, est, info
    pace = d_near[ref] / s_near[ref]
    p_med, p90 = float(np.median(pace)), float(np.quantile(pace, q / 100.0))
    turn = np.zeros(len(post_xy)) if post_turnout_s is None else np.asarray(post_turnout_s, dtype=float)
    distorted = crosses & ~(d_near <= s_near * p90)  # inf (not reached) counts as distorted
    guess = np.where(distorted, s_near * p_med + turn[near], np.inf)  # turnout + estimated drive
    resp = drive[:, ~nrd] + turn[:, None]
    best = np.where(np.isfinite(resp).any(axis=0), resp.min(axis=0), np.inf)
    best_all = np.full(n, np.inf)
    best_all[~nrd] = best
    shadow = distorted.any(axis=0) & (best_all > guess.min(axis=0))
    pick = np.argmin(guess, axis=0)
    est[shadow] = (s_near[pick, cols] * p_med)[shadow]  # the drive of the estimate that wins
    for j in range(len(post_xy)):
        hit = np.flatnonzero(shadow & (distorted & (near == j)).any(axis=0))
        if len(hit):
            info["by_post"][j] = hit
    info.update(
        pace_median_s_per_m=p_med,
        pace_p90_s_per_m=p90,
        rule=SHADOW_RULE.format(q=q, p90=p90, pmed=p_med, kmh=3.6 / p_med),
    )
    return shadow, est, info


def reference_posts(zone, on_streets: bool = False):
    """``(ids, xy, nodes)`` of the zone pack's located posts that can be placed on the network; with
    ``on_streets`` also their ``edges`` and ``fracs`` (where each stands on its street, as a
    :class:`~kazerne.Sites` places it) and ``turnout`` (seconds, by crew type: the fastest crew of a
    place)."""
    from ..clock import DEFAULT_TURNOUT_S
    from ..routing.network import to_metric
    from ..routing.zonepack import crew_type

    ids: list[str] = []
    xy: list[tuple[float, float]] = []
    nodes: list[int] = []
    edges: list[int] = []
    fracs: list[float] = []
    turnout: list[float] = []
    seen: dict[tuple[int, float], int] = {}
    for p in zone.pack.posts:
        if not getattr(p, "located", True):
            continue
        try:
            node, e, f, _ = zone.site_point(p.lon, p.lat, what=p.id)
        except Exception:  # noqa: BLE001 - a post off the network is reported by the runner, not here
            continue
        t = DEFAULT_TURNOUT_S.get(crew_type(p.crew), 300.0)
        if (e, f) in seen:  # posts sharing a place (Melle's professional and volunteer crews) are one place
            k = seen[(e, f)]
            turnout[k] = min(turnout[k], t)
            continue
        seen[(e, f)] = len(ids)
        turnout.append(t)
        x, y = to_metric([p.lon], [p.lat])
        ids.append(p.id)
        xy.append((float(x[0]), float(y[0])))
        nodes.append(node)
        edges.append(e)
        fracs.append(f)
    out = ids, np.array(xy).reshape(-1, 2), np.array(nodes, dtype=np.int64)
    if not on_streets:
        return out
    return (*out, np.array(edges, dtype=np.int64), np.array(fracs, dtype=float), np.array(turnout, dtype=float))


def gap_shadow(zone, demand, profile="fire_engine"):
    """``demand`` with the gap's shadow flagged (see the module docstring): ``no_road_data`` also set
    there, ``gap_shadow`` and ``gap_shadow_estimate_s`` filled, ``meta["gap_shadow"]`` the rule, the
    paces, the population and the reference posts whose routes the gap distorts (with how many
    people)."""
    from ..checks import check_demand, check_zone
    from ..routing.profiles import check_profile

    check_zone(zone)
    check_demand(demand)
    prof = check_profile(profile)
    if getattr(demand, "gap_shadow", None) is not None:  # already flagged: start from the unflagged points
        demand = replace(demand, no_road_data=np.asarray(demand.no_road_data) & ~demand.gap_shadow)
    ids, xy, nodes, edges, fracs, turnout = reference_posts(zone, on_streets=True)
    shadow, est, info = shadow_core(
        zone.net, prof, demand, xy, nodes, zone.gap_metric, post_edge=edges, post_frac=fracs, post_turnout_s=turnout
    )
    w = np.asarray(demand.weight, dtype=float)
    meta = {
        "rule": info["rule"] or "no gap, or too few routes to measure the pace: nothing flagged",
        "points": int(shadow.sum()),
        "population": float(w[shadow].sum()),
        "pace_median_s_per_m": info["pace_median_s_per_m"],
        "pace_p90_s_per_m": info["pace_p90_s_per_m"],
        "posts": {ids[j]: {"points": int(len(h)), "population": float(w[h].sum())} for j, h in info["by_post"].items()},
    }
    return replace(
        demand,
        no_road_data=np.asarray(demand.no_road_data, dtype=bool) | shadow,
        gap_shadow=shadow,
        gap_shadow_estimate_s=est,
        meta={**demand.meta, "gap_shadow": meta},
    )
