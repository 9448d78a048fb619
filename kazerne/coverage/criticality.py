"""Which street segments can the zone not lose? Coverage lost within T when one segment is closed.

:func:`segment_losses` ranks every street segment (an unordered pair of network nodes: closing it
closes every edge between them, both ways) by the demand reached in time today and not any more
once it is closed, for all segments at once:

1. one bounded shortest-path tree per post (driving budget = T - call handling - the post's turnout);
2. a demand node can only lose coverage through a segment on the tree path of *every* post reaching
   it in time (another post's intact path still reaches it): those (node, segment) pairs are listed
   per node by walking its first post's path (:func:`kazerne.coverage._critical.vulnerable`);
3. per segment, only the posts whose tree uses it are searched again, and only inside the subtree
   below the segment (every other node keeps its time), seeded by the edges entering the subtree and
   bounded by the budget (:func:`kazerne.coverage._critical.repair`).

:func:`naive_losses` is the same answer the slow way -- close each segment, search again from every
post -- for tests and ``benchmarks/criticality.py``. :func:`criticality` is the zone-level API: the
top segments with names, municipalities, bridges and tunnels, people affected, and the pair version
("these two bridges together") for the top candidates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csgraph

from . import _critical as K

__all__ = ["Criticality", "SegmentLosses", "criticality", "naive_losses", "pair_losses", "segment_losses"]


@dataclass
class SegmentLosses:
    """Per segment (``a``, ``b`` node pairs, ``a < b``) the weight lost; ``lost_ptr`` / ``lost_idx``
    list the demand positions lost per segment (CSR). Segments with no loss are not listed, except that
    ``on_best_routes`` counts every segment on the best route of a point reached in time."""

    a: np.ndarray
    b: np.ndarray
    lost: np.ndarray
    lost_ptr: np.ndarray
    lost_idx: np.ndarray
    covered: np.ndarray  # per demand position: reached in time today
    covered_weight: float
    on_best_routes: int
    examined: int  # segments searched again (on the path of every post reaching some point)
    seconds: float = 0.0
    best_segments: np.ndarray | None = None  # (k, 2) the segments on some best route

    def lost_points(self, k: int) -> np.ndarray:
        return self.lost_idx[self.lost_ptr[k] : self.lost_ptr[k + 1]]


def _graph(net, profile):
    g = net.csr(profile)
    gt = g.T.tocsr()
    gt.sort_indices()
    return (
        g.indptr.astype(np.int64),
        g.indices.astype(np.int64),
        g.data.astype(np.float64),
        gt.indptr.astype(np.int64),
        gt.indices.astype(np.int64),
        gt.data.astype(np.float64),
    )


def _trees(g, nodes, budgets, n):
    """Per post: times, predecessors (-1 none), depth-first numbering of its bounded tree."""
    P = len(nodes)
    dist = np.empty((P, n))
    pred = np.empty((P, n), dtype=np.int64)
    tin = np.empty((P, n), dtype=np.int64)
    tout = np.empty((P, n), dtype=np.int64)
    order = np.empty((P, n), dtype=np.int64)
    for p in range(P):
        lim = max(0.0, float(budgets[p]))  # a post whose turnout exceeds T reaches nothing (its node: 0 > budget)
        d, pr = csgraph.dijkstra(g, directed=True, indices=int(nodes[p]), return_predecessors=True, limit=lim)
        pr = np.where(pr < 0, -1, pr).astype(np.int64)
        dist[p], pred[p] = d, pr
        cnt, child, ti, to, od = K.children(pr, n)
        if budgets[p] >= 0:
            K.dfs(int(nodes[p]), cnt, child, ti, to, od)
        tin[p], tout[p], order[p] = ti, to, od
    return dist, pred, tin, tout, order


def _demand_nodes(demand_nodes, weights):
    dn = np.asarray(demand_nodes, dtype=np.int64)
    w = np.asarray(weights, dtype=float)
    uniq, inv = np.unique(dn, return_inverse=True)
    wn = np.bincount(inv, weights=w, minlength=len(uniq))
    return uniq, inv, wn


def segment_losses(net, profile, site_nodes, turnout_s, demand_nodes, weights, budget_s: float) -> SegmentLosses:
    """Weight lost within ``budget_s`` (seconds from the alarm: T minus call handling) per segment closed.

    ``weights`` per demand point (0 for no road data); the sites' drive budget is ``budget_s - turnout``."""
    from ..checks import check_array, check_length, check_net, check_number
    from ..routing.paths import check_nodes
    from ..routing.profiles import check_profile

    check_net(net)
    profile = check_profile(profile)
    site_nodes = check_nodes(site_nodes, net.n_nodes, "site_nodes")
    demand_nodes = check_nodes(demand_nodes, net.n_nodes, "demand_nodes")
    weights = check_array(weights, "weights", ndim=1, nonneg=True, allow_inf=False)
    check_length(len(weights), len(demand_nodes), "weights", "one per demand node")
    turn = check_array(np.atleast_1d(turnout_s), "turnout_s", ndim=1, nonneg=True, allow_inf=False)
    if len(turn) not in (1, len(site_nodes)):
        check_length(len(turn), len(site_nodes), "turnout_s", "one per site, or one for all")
    budget_s = check_number(budget_s, "budget_s", lo=0)
    t0 = time.perf_counter()
    n = net.n_nodes
    ip, ix, dt, rp, ri, rd = _graph(net, profile)
    g = net.csr(profile)
    nodes = np.asarray(site_nodes, dtype=np.int64)
    budgets = budget_s - np.broadcast_to(np.asarray(turnout_s, dtype=float), nodes.shape)
    uniq, inv, wn = _demand_nodes(demand_nodes, weights)
    act = np.flatnonzero(wn > 0)
    dnodes = uniq[act]
    dist, pred, tin, tout, order = _trees(g, nodes, budgets, n)
    reach = dist[:, dnodes] <= budgets[:, None]
    covered_node = reach.any(axis=0)
    # segments on a best route (the first post's tree path) of a point reached in time
    first = np.argmin(np.where(reach, dist[:, dnodes], np.inf), axis=0)
    best = _best_segments(dnodes[covered_node], first[covered_node], pred, n)
    m = K.vulnerable(
        dnodes,
        dist,
        pred,
        tin,
        tout,
        budgets,
        True,
        np.empty(0, np.int64),
        np.empty(0, np.int64),
        np.empty(0, np.int64),
    )
    ok, oa, ob = np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m, np.int64)
    K.vulnerable(dnodes, dist, pred, tin, tout, budgets, False, ok, oa, ob)
    lo, hi = np.minimum(oa, ob), np.maximum(oa, ob)
    key = lo * n + hi
    srt = np.argsort(key, kind="stable")
    key, ok, lo, hi = key[srt], ok[srt], lo[srt], hi[srt]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], len(key)]
    cur = np.full(n, np.inf)
    tmark = np.zeros(n, dtype=np.int64)
    # a repair pushes at most once per edge entering the subtree and once per edge inside it
    heap_d = np.empty(2 * len(ix) + 1)
    heap_n = np.empty(2 * len(ix) + 1, dtype=np.int64)
    seg_a, seg_b, seg_lost, lost_lists = [], [], [], []
    for s, e in zip(starts.tolist(), ends.tolist()):
        a, b = int(lo[s]), int(hi[s])
        ks = ok[s:e]  # positions in dnodes whose every covering path uses {a, b}
        saved = np.zeros(len(ks), dtype=bool)
        for p in np.flatnonzero(reach[:, ks].any(axis=1)):
            c = K.child_of(pred[p], a, b)
            sel = reach[p, ks]
            targets = dnodes[ks[sel]]
            sub = order[p, tin[p, c] : tout[p, c]]
            res = K.repair(
                ip, ix, dt, rp, ri, rd, dist[p], tin[p], sub, c, a, b, budgets[p], targets, cur, tmark, heap_d, heap_n
            )
            saved[np.flatnonzero(sel)[res <= budgets[p]]] = True
        lost_k = ks[~saved]
        if len(lost_k):
            seg_a.append(a)
            seg_b.append(b)
            seg_lost.append(float(wn[act[lost_k]].sum()))
            lost_lists.append(act[lost_k])
    # demand positions (not nodes) lost per segment
    pos_by_node = np.argsort(inv, kind="stable")
    node_start = np.searchsorted(inv[pos_by_node], np.arange(len(uniq)))
    node_end = np.searchsorted(inv[pos_by_node], np.arange(len(uniq)), side="right")
    ptr, idx = [0], []
    for lst in lost_lists:
        pts = np.concatenate([pos_by_node[node_start[u] : node_end[u]] for u in lst])
        idx.append(np.sort(pts))
        ptr.append(ptr[-1] + len(pts))
    covered = np.zeros(len(inv), dtype=bool)
    covered_nodes_all = np.zeros(len(uniq), dtype=bool)
    covered_nodes_all[act[covered_node]] = True
    covered[:] = covered_nodes_all[inv] & (np.asarray(weights, dtype=float) > 0)  # weight 0: no road data
    return SegmentLosses(
        a=np.array(seg_a, dtype=np.int64),
        b=np.array(seg_b, dtype=np.int64),
        lost=np.array(seg_lost),
        lost_ptr=np.array(ptr, dtype=np.int64),
        lost_idx=np.concatenate(idx) if idx else np.zeros(0, np.int64),
        covered=covered,
        covered_weight=float(np.asarray(weights, float)[covered].sum()),
        on_best_routes=len(best),
        best_segments=best,
        examined=len(starts),
        seconds=time.perf_counter() - t0,
    )


def _best_segments(dnodes, first, pred, n) -> np.ndarray:
    """Distinct segments (k, 2: a < b) on the first post's tree path of each given demand node."""
    seen = set()
    for d, p in zip(dnodes.tolist(), first.tolist()):
        v = d
        pr = pred[p]
        while pr[v] >= 0:
            k = (min(v, pr[v]), max(v, pr[v]))
            if (k, p) in seen:
                break
            seen.add((k, p))
            v = int(pr[v])
    keys = sorted({k for k, _ in seen})
    return np.array(keys, dtype=np.int64).reshape(-1, 2)


def _closed_graph(g, pairs):
    """``g`` with the entries of every node pair in ``pairs`` (both ways) set to inf (no edge)."""
    h = g.copy()
    for a, b in pairs:
        for x, y in ((a, b), (b, a)):
            row = slice(h.indptr[x], h.indptr[x + 1])
            hit = np.flatnonzero(h.indices[row] == y)
            h.data[h.indptr[x] + hit] = np.inf
    return h


def _covered_weight(g, nodes, budgets, dnodes, wn, posts=None, base=None) -> np.ndarray:
    """Per demand node: reached in time (searching again only ``posts``; the others from ``base``)."""
    reach = np.zeros(len(dnodes), dtype=bool) if base is None else base.copy()
    todo = range(len(nodes)) if posts is None else posts
    for p in todo:
        d = csgraph.dijkstra(g, directed=True, indices=int(nodes[p]), limit=max(0.0, float(budgets[p])))
        reach |= d[dnodes] <= budgets[p]
    return reach


def naive_losses(net, profile, site_nodes, turnout_s, demand_nodes, weights, budget_s, pairs) -> np.ndarray:
    """Weight lost per segment in ``pairs`` ((a, b) node pairs), closing each and searching again
    from every post (the slow way: tests and the benchmark)."""
    g = net.csr(profile)
    nodes = np.asarray(site_nodes, dtype=np.int64)
    budgets = budget_s - np.broadcast_to(np.asarray(turnout_s, dtype=float), nodes.shape)
    uniq, _, wn = _demand_nodes(demand_nodes, weights)
    before = _covered_weight(g, nodes, budgets, uniq, wn)
    out = np.empty(len(pairs))
    for k, (a, b) in enumerate(pairs):
        after = _covered_weight(_closed_graph(g, [(a, b)]), nodes, budgets, uniq, wn)
        out[k] = float(wn[before & ~after].sum())
    return out


def pair_losses(net, profile, site_nodes, turnout_s, demand_nodes, weights, budget_s, segments) -> list:
    """Every pair of the given segments closed together: ``[(i, j, weight lost)]`` (searching again only
    the posts whose trees use one of the two)."""
    g = net.csr(profile)
    nodes = np.asarray(site_nodes, dtype=np.int64)
    budgets = budget_s - np.broadcast_to(np.asarray(turnout_s, dtype=float), nodes.shape)
    uniq, _, wn = _demand_nodes(demand_nodes, weights)
    n = net.n_nodes
    dist, pred, *_ = _trees(g, nodes, budgets, n)
    reach_p = dist[:, uniq] <= budgets[:, None]
    before = reach_p.any(axis=0)
    uses = [{p for p in range(len(nodes)) if K.child_of(pred[p], int(a), int(b)) >= 0} for a, b in segments]
    out = []
    for i in range(len(segments)):
        for j in range(i + 1, len(segments)):
            touched = sorted(uses[i] | uses[j])
            keep = [p for p in range(len(nodes)) if p not in touched]
            base = reach_p[keep].any(axis=0) if keep else np.zeros(len(uniq), dtype=bool)
            h = _closed_graph(g, [segments[i], segments[j]])
            after = _covered_weight(h, nodes, budgets, uniq, wn, posts=touched, base=base)
            out.append((i, j, float(wn[before & ~after].sum())))
    return out


@dataclass
class Criticality:
    """The ranking of one vehicle profile: ``segments`` (rows, most critical first), ``pairs``."""

    profile: str
    threshold_min: float
    call_handling_s: float
    covered_people: float
    segments: list
    pairs: list = field(default_factory=list)
    on_best_routes: int = 0
    examined: int = 0
    seconds: float = 0.0
    losses: SegmentLosses | None = None


def _pair_length(net, a: int, b: int) -> float:
    e = np.flatnonzero(((net.u == a) & (net.v == b)) | ((net.u == b) & (net.v == a)))
    return float(net.length[e].min()) if len(e) else 0.0


def _stretches(net, L: SegmentLosses) -> list:
    """Segments grouped into stretches: the segments of one street whose closure loses exactly the same
    points (a chain between junctions), most people lost first; each a list of positions in ``L``."""
    groups: dict = {}
    for k in range(len(L.a)):
        e = np.flatnonzero(((net.u == L.a[k]) & (net.v == L.b[k])) | ((net.u == L.b[k]) & (net.v == L.a[k])))
        nid = int(net.name_id[e].max()) if len(e) else -1
        key = (nid, L.lost_points(k).tobytes())
        groups.setdefault(key, []).append(k)
    out = sorted(groups.values(), key=lambda g: (-float(L.lost[g[0]]), int(L.a[g[0]]), int(L.b[g[0]])))
    return out


def _pair_candidates(L: SegmentLosses, stretches: list, n: int) -> list:
    """The first stretches (by loss) whose lost people are not all lost by a stretch already taken:
    a stretch further along the same road adds nothing to a pair."""
    out: list = []
    sets: list[set] = []
    for g in stretches:
        pts = set(L.lost_points(g[0]).tolist())
        if any(pts <= s for s in sets):
            continue
        out.append(g[0])
        sets.append(pts)
        if len(out) >= n:
            break
    return out


def _street(net, L: SegmentLosses, k: int) -> str:
    a, b = int(L.a[k]), int(L.b[k])
    e = np.flatnonzero(((net.u == a) & (net.v == b)) | ((net.u == b) & (net.v == a)))
    nid = net.name_id[e]
    nid = nid[nid >= 0]
    return str(net.names[nid[0]]) if len(nid) else "unnamed"


def _segment_row(zone, demand, losses: SegmentLosses, k: int, rank: int) -> dict:
    from ..routing.profiles import HIGHWAY_CLASSES
    from ..routing.zone import municipality_of

    net = zone.net
    a, b = int(losses.a[k]), int(losses.b[k])
    e = np.flatnonzero(((net.u == a) & (net.v == b)) | ((net.u == b) & (net.v == a)))
    nid = net.name_id[e] if len(e) else np.array([-1])
    named = nid[nid >= 0]
    name = str(net.names[named[0]]) if len(named) else "unnamed"
    lvl = int(net.level[e].max()) if len(e) and net.level is not None else 0
    lvl_min = int(net.level[e].min()) if len(e) and net.level is not None else 0
    mx, my = (net.x[a] + net.x[b]) / 2, (net.y[a] + net.y[b]) / 2
    mi = municipality_of(zone, np.array([mx]), np.array([my]))[0]
    munis = zone.pack.municipalities
    pts = losses.lost_points(k)
    by_m: dict = {}
    for m, w in zip(demand.municipality[pts].tolist(), demand.weight[pts].tolist()):
        nm = demand.municipality_names[m] if m >= 0 else "outside"
        by_m[nm] = by_m.get(nm, 0.0) + w
    from ..routing.network import to_wgs84

    lon, lat = to_wgs84(np.array([mx]), np.array([my]))
    return {
        "rank": rank,
        "street": name,
        "municipality": munis[mi].name if mi >= 0 else "",
        "kind": "bridge" if lvl > 0 else ("tunnel" if lvl_min < 0 else "road"),
        "road_class": HIGHWAY_CLASSES[int(net.cls[e].min())] if len(e) else "",
        "length_m": round(float(net.length[e].min()), 1) if len(e) else 0.0,
        "people_lost": round(float(losses.lost[k]), 1),
        "points_lost": int(len(pts)),
        "municipalities_affected": "; ".join(f"{m} {w:,.0f}" for m, w in sorted(by_m.items(), key=lambda t: -t[1])),
        "node_a": a,
        "node_b": b,
        "edges": [int(x) for x in e],
        "lon": round(float(lon[0]), 6),
        "lat": round(float(lat[0]), 6),
    }


def criticality(
    zone,
    sites,
    demand,
    profile="fire_engine",
    threshold_min: float = 12.0,
    call_handling_s: float = 0.0,
    top: int = 20,
    pairs_top: int = 6,
) -> Criticality:
    """Rank the street segments of ``zone`` by the people reached within ``threshold_min`` (from the
    call when ``call_handling_s`` > 0) today and not any more with the segment closed; the ``top`` rows
    and, for the ``pairs_top`` most critical, every pair closed together."""
    from ..checks import check_demand, check_instance, check_int, check_number, check_zone
    from ..errors import ModelInputError
    from ..routing.profiles import check_profile
    from ..sites import Sites

    check_zone(zone)
    check_instance(sites, Sites, "sites", "Sites (kz.Sites.from_posts(zone))")
    check_demand(demand)
    prof = check_profile(profile)
    threshold_min = check_number(threshold_min, "threshold_min", lo=0, lo_open=True, hi=1440)
    call_handling_s = check_number(call_handling_s, "call_handling_s", lo=0)
    if call_handling_s >= threshold_min * 60.0:
        raise ModelInputError(
            f"call handling of {call_handling_s:g} s leaves no time within {threshold_min:g} min; expected less",
            field="call_handling_s",
        )
    top = check_int(top, "top", lo=0)
    pairs_top = check_int(pairs_top, "pairs_top", lo=0)
    w = np.where(np.asarray(demand.no_road_data, bool), 0.0, np.asarray(demand.weight, float))
    budget = float(threshold_min) * 60.0 - float(call_handling_s)
    t0 = time.perf_counter()
    L = segment_losses(zone.net, prof, sites.node, sites.turnout_s, demand.node, w, budget)
    stretches = _stretches(zone.net, L)
    rows = []
    for r, group in enumerate(stretches[:top]):
        row = _segment_row(zone, demand, L, group[0], r + 1)
        row["segments"] = len(group)
        row["length_m"] = round(sum(_pair_length(zone.net, int(L.a[k]), int(L.b[k])) for k in group), 1)
        row["node_pairs"] = [[int(L.a[k]), int(L.b[k])] for k in group]
        rows.append(row)
    pairs = []
    if pairs_top >= 2 and len(stretches) >= 2:  # pairs of distinct stretches (see _pair_candidates)
        cand = _pair_candidates(L, stretches, pairs_top)
        segs = [(int(L.a[k]), int(L.b[k])) for k in cand]
        rank_of = {g[0]: r + 1 for r, g in enumerate(stretches)}
        for i, j, lost in pair_losses(zone.net, prof, sites.node, sites.turnout_s, demand.node, w, budget, segs):
            single = float(w[np.union1d(L.lost_points(cand[i]), L.lost_points(cand[j]))].sum())
            ri, rj = rank_of[cand[i]], rank_of[cand[j]]
            pairs.append(
                {
                    "first_rank": ri,
                    "first": _street(zone.net, L, cand[i]),
                    "second_rank": rj,
                    "second": _street(zone.net, L, cand[j]),
                    "people_lost_together": round(lost, 1),
                    "people_lost_by_either_alone": round(single, 1),
                    "extra_together": round(lost - single, 1),
                }
            )
        pairs.sort(key=lambda r: (-r["people_lost_together"], r["first_rank"], r["second_rank"]))
    return Criticality(
        profile=prof.name,
        threshold_min=float(threshold_min),
        call_handling_s=float(call_handling_s),
        covered_people=L.covered_weight,
        segments=rows,
        pairs=pairs,
        on_best_routes=L.on_best_routes,
        examined=L.examined,
        seconds=time.perf_counter() - t0,
        losses=L,
    )
