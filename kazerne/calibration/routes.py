"""Each record's modelled route, split into time per factor group: what the calibration regresses on.

For every period and every post with records, one Dijkstra search over the whole network (with
predecessors) under the current profile; then, per network node, the route from the post summed by
pointer doubling over the predecessor tree (``log2(depth)`` vectorised steps, no per-record search):

* ``tau[:, g]``: seconds the route spends on factor group ``g`` (:func:`kazerne.routing.profiles.
  factor_names`) at the **base** profile's speeds (the current factors divided out), without delays;
* ``junctions``: the number of junction delays the route pays (how the network defines junctions:
  read as the difference between the same search's edge times with a delay of 1 s and of 0 s);
* ``drive_s``: the route's time under the current profile.

So the route's time under factors ``f`` and delay ``d`` is ``sum_g tau_g / f_g + junctions * d``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csgraph

from ..routing.profiles import factor_names, group_index
from ._irls import HAVE_NUMBA

if HAVE_NUMBA:
    from ._irls import tree_parts

__all__ = ["RouteParts", "route_parts"]


@dataclass
class RouteParts:
    tau: np.ndarray  # (n, groups) seconds at base speeds, no delay
    junctions: np.ndarray  # (n,) junction delays paid
    drive_s: np.ndarray  # (n,) time under the routing profile
    reached: np.ndarray  # (n,) bool


def _entry_keys(m) -> np.ndarray:
    n = m.shape[0]
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(m.indptr))
    return rows * n + m.indices.astype(np.int64)


def _lookup(m, keys_sorted, a, b) -> np.ndarray:
    """Positions in ``m``'s entries of the arcs a -> b (all present)."""
    q = a.astype(np.int64) * m.shape[0] + b
    pos = np.searchsorted(keys_sorted, q)
    pos = np.minimum(pos, len(keys_sorted) - 1)
    if not np.array_equal(keys_sorted[pos], q):  # pragma: no cover - the trees use the graph's arcs
        raise RuntimeError("a predecessor arc is missing from the routing graph")
    return pos


def _tree_sums(pred: np.ndarray, val: np.ndarray) -> np.ndarray:
    """Per node of a tree: the sum of ``val`` over the path from the root (pointer doubling).
    ``pred`` (n,) predecessors (<0 at the root and unreached nodes), ``val`` (n, k) per node the
    value of the arc into it (0 at the root)."""
    anc = np.where(pred < 0, np.arange(len(pred)), pred)
    cum = val.copy()
    for _ in range(64):
        nxt = anc[anc]
        if np.array_equal(nxt, anc):
            break
        cum += cum[anc]
        anc = nxt
    return cum


def route_parts(net, profile, post_nodes, post, target, period, profiles_by_period) -> RouteParts:
    """Route parts of records (their ``post`` index, ``target`` node, ``period`` index) under
    ``profiles_by_period[period]`` (factor profiles; ``profile`` is unused, kept for symmetry)."""
    n = len(target)
    k = len(factor_names())
    tau = np.zeros((n, k))
    junc = np.zeros(n)
    drive = np.full(n, np.inf)
    for p, prof in profiles_by_period.items():
        sel = np.flatnonzero(period == p)
        if len(sel) == 0:
            continue
        posts = np.unique(post[sel])
        g = net.csr(prof)
        nodelay = prof.with_overrides(intersection_delay_s=0.0)
        g0 = net.csr(nodelay)
        e0, _ = net.csr_edges(nodelay)
        k0, kg = _entry_keys(g0), _entry_keys(g)
        delay = float(prof.intersection_delay_s)
        if delay <= 0:  # read the junctions from a search with a 1 s delay
            g, delay = net.csr(prof.with_overrides(intersection_delay_s=1.0)), 1.0
            kg = _entry_keys(g)
        dist, pred = csgraph.dijkstra(net.csr(prof), directed=True, indices=post_nodes[posts], return_predecessors=True)
        row = np.searchsorted(posts, post[sel])
        table = np.asarray(prof.factor_table() if hasattr(prof, "factor_table") else np.ones(k), dtype=np.float64)
        if HAVE_NUMBA:
            hgroup = group_index(net.cls[e0], net.urban[e0])
            for r in range(len(posts)):
                order = np.argsort(dist[r], kind="stable")
                order = order[np.isfinite(dist[r][order])]
                cum = tree_parts(
                    order,
                    pred[r].astype(np.int64),
                    g.indptr,
                    g.indices,
                    g.data,
                    g0.indptr,
                    g0.indices,
                    g0.data,
                    hgroup,
                    np.asarray(table, dtype=np.float64),
                    delay,
                    k,
                )
                mine = sel[row == r]
                tau[mine] = cum[target[mine], :k]
                junc[mine] = cum[target[mine], k]
                drive[mine] = dist[r, target[mine]]
            continue
        for r in range(len(posts)):  # without numba: the same sums by pointer doubling
            child = np.flatnonzero(pred[r] >= 0)
            par = pred[r, child]
            pos0 = _lookup(g0, k0, par, child)
            t0 = g0.data[pos0]
            grp = group_index(net.cls[e0[pos0]], net.urban[e0[pos0]])
            val = np.zeros((len(pred[r]), k + 1))
            val[child, grp] = t0 * table[grp]
            val[child, k] = np.rint((g.data[_lookup(g, kg, par, child)] - t0) / delay)
            cum = _tree_sums(pred[r], val)
            mine = sel[row == r]
            tau[mine] = cum[target[mine], :k]
            junc[mine] = cum[target[mine], k]
            drive[mine] = dist[r, target[mine]]
    return RouteParts(tau=tau, junctions=junc, drive_s=drive, reached=np.isfinite(drive))
