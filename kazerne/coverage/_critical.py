"""Compiled kernels of :mod:`kazerne.coverage.criticality` (numba; plain Python when numba is missing).

Every search here works on the shortest-path trees of the posts, bounded by each post's driving budget:

* :func:`children` and :func:`dfs` number each tree in depth-first order (``tin``, ``tout``): node ``d`` lies below
  node ``c`` in the tree of post ``p`` exactly when ``tin[p, c] <= tin[p, d] < tout[p, c]``;
* :func:`vulnerable` lists, per reached demand node, the street segments lying on the tree path of
  *every* post that reaches it in time (closing any other segment leaves one of those paths intact);
* :func:`repair` closes one segment and recomputes, for each post whose tree uses it, the times of the
  nodes below it only (the rest of the tree cannot change), seeded from the edges entering that subtree
  and stopped at the budget or when every affected demand node is settled.
"""

from __future__ import annotations

import numpy as np

from ..routing.heap import heap_pop, heap_push, njit


@njit(cache=True)
def children(pred, n_nodes):
    """The tree given by ``pred`` (-1: root or unreached) as child lists (``cnt``, ``child`` in CSR form),
    and empty ``tin``, ``tout``, ``order`` arrays (-1) for :func:`dfs` to fill."""
    tin = -np.ones(n_nodes, np.int64)
    tout = -np.ones(n_nodes, np.int64)
    order = -np.ones(n_nodes, np.int64)
    # children in CSR form
    cnt = np.zeros(n_nodes + 1, np.int64)
    for v in range(n_nodes):
        p = pred[v]
        if p >= 0:
            cnt[p + 1] += 1
    for v in range(n_nodes):
        cnt[v + 1] += cnt[v]
    child = np.empty(cnt[n_nodes], np.int64)
    fill = cnt[:-1].copy()
    for v in range(n_nodes):
        p = pred[v]
        if p >= 0:
            child[fill[p]] = v
            fill[p] += 1
    return cnt, child, tin, tout, order


@njit(cache=True)
def dfs(root, cnt, child, tin, tout, order):
    """Depth-first numbering of the tree below ``root`` (iterative)."""
    n = tin.shape[0]
    stack = np.empty(n, np.int64)
    it = np.empty(n, np.int64)
    top = 0
    stack[0] = root
    it[0] = cnt[root]
    t = 0
    tin[root] = t
    order[t] = root
    t += 1
    while top >= 0:
        v = stack[top]
        k = it[top]
        if k < cnt[v + 1]:
            it[top] = k + 1
            c = child[k]
            top += 1
            stack[top] = c
            it[top] = cnt[c]
            tin[c] = t
            order[t] = c
            t += 1
        else:
            tout[v] = t
            top -= 1
    return t


@njit(cache=True)
def child_of(pred_p, a, b):
    """The node below segment {a, b} in a tree (-1 when the segment is not a tree edge)."""
    if pred_p[b] == a:
        return b
    if pred_p[a] == b:
        return a
    return -1


@njit(cache=True)
def vulnerable(dnodes, dist, pred, tin, tout, budget, count_only, out_k, out_a, out_b):
    """Pairs (demand index, segment a-b) where the segment lies on the tree path of every post reaching
    the demand node within its budget. ``count_only``: return the number of pairs only."""
    n_post = dist.shape[0]
    cov = np.empty(n_post, np.int64)
    m = 0
    for k in range(dnodes.shape[0]):
        d = dnodes[k]
        nc = 0
        for p in range(n_post):
            if dist[p, d] <= budget[p]:
                cov[nc] = p
                nc += 1
        if nc == 0:
            continue
        p0 = cov[0]
        v = d
        while pred[p0, v] >= 0:
            par = pred[p0, v]
            ok = True
            for j in range(1, nc):
                p = cov[j]
                c = child_of(pred[p], par, v)
                if c < 0 or not (tin[p, c] <= tin[p, d] and tin[p, d] < tout[p, c]):
                    ok = False
                    break
            if ok:
                if not count_only:
                    out_k[m] = k
                    out_a[m] = par
                    out_b[m] = v
                m += 1
            v = par
    return m


@njit(cache=True)
def _inside(tin_p, lo, hi, v):
    t = tin_p[v]
    return t >= lo and t < hi


@njit(cache=True)
def _seed(rptr, rind, rdata, dist_p, tin_p, order_p, lo, hi, a, b, limit, cur, heap_d, heap_n):
    """:func:`repair`'s start: each subtree node reached by an edge from outside the subtree (not the
    closed segment {a, b}) within ``limit``, on the heap; returns the heap's size."""
    size = 0
    for t in range(order_p.shape[0]):
        y = order_p[t]
        for k in range(rptr[y], rptr[y + 1]):
            x = rind[k]
            if _inside(tin_p, lo, hi, x):
                continue
            if (x == a and y == b) or (x == b and y == a):
                continue
            dx = dist_p[x]
            if not dx <= limit:
                continue
            nd = dx + rdata[k]
            if nd <= limit and nd < cur[y]:
                cur[y] = nd
                size = heap_push(heap_d, heap_n, size, nd, y)
    return size


@njit(cache=True)
def _settle(indptr, indices, data, tin_p, lo, hi, a, b, limit, n_t, cur, tmark, heap_d, heap_n, size):
    """:func:`repair`'s search inside the subtree, without segment {a, b}, until the ``n_t`` marked
    targets are settled (``tmark`` 1 -> 2) or nothing within ``limit`` is left."""
    settled = 0
    while size > 0:
        d, u, size = heap_pop(heap_d, heap_n, size)
        if d > cur[u]:
            continue
        if tmark[u] == 1:
            tmark[u] = 2
            settled += 1
            if settled >= n_t:
                break
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            if not _inside(tin_p, lo, hi, v):
                continue
            if (u == a and v == b) or (u == b and v == a):
                continue
            nd = d + data[k]
            if nd <= limit and nd < cur[v]:
                cur[v] = nd
                size = heap_push(heap_d, heap_n, size, nd, v)


@njit(cache=True)
def repair(
    indptr,
    indices,
    data,
    rptr,
    rind,
    rdata,
    dist_p,
    tin_p,
    order_p,
    c,
    a,
    b,
    limit,
    targets,
    cur,
    tmark,
    heap_d,
    heap_n,
):
    """Times (to ``targets``) after closing segment {a, b} whose tree edge enters node ``c``: a search
    inside the subtree of ``c`` only, seeded by the edges entering it from outside, bounded by ``limit``.
    ``order_p`` is the subtree's nodes in depth-first order (``order[tin[c]:tout[c]]``). Returns the new
    times of ``targets`` (inf beyond the limit). ``cur`` (all inf) and ``tmark`` (all 0) are restored."""
    lo = tin_p[c]
    hi = lo + order_p.shape[0]
    size = _seed(rptr, rind, rdata, dist_p, tin_p, order_p, lo, hi, a, b, limit, cur, heap_d, heap_n)
    n_t = targets.shape[0]
    for j in range(n_t):
        tmark[targets[j]] = 1
    _settle(indptr, indices, data, tin_p, lo, hi, a, b, limit, n_t, cur, tmark, heap_d, heap_n, size)
    res = np.empty(n_t, np.float64)
    for j in range(n_t):
        res[j] = cur[targets[j]]
    for t in range(order_p.shape[0]):
        cur[order_p[t]] = np.inf
    for j in range(n_t):
        tmark[targets[j]] = 0
    return res
