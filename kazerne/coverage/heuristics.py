"""Fast heuristics: upper bounds and warm starts for the exact models.

* :func:`greedy_interchange` — greedy add followed by best-improvement vertex substitution
  (Teitz & Bart 1968, with Whitaker's fast evaluation of all swaps at once). It minimises
  ``sum_i w_i * min(base_i, min_{j open} C[j, i])``; with ``C`` the cost matrix this is the
  p-median objective, with ``C = 1 - cover`` and ``base = 1`` it is the MCLP's uncovered weight.
* :func:`greedy_cover` — greedy set cover (weighted or up to a coverage share) with removal of
  redundant sites; upper bound and warm start for LSCP and the p-center checks.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..checks import check_costs, check_int

__all__ = ["greedy_interchange", "greedy_cover"]


def _finite(C: np.ndarray, dtype) -> np.ndarray:
    """Copy of ``C`` in ``dtype`` with ``inf`` replaced by a large finite penalty."""
    out = np.array(C, dtype=dtype, copy=True)
    bad = ~np.isfinite(out)
    if bad.any():
        finite_max = float(out[~bad].max()) if (~bad).any() else 1.0
        out[bad] = (abs(finite_max) + 1.0) * 1e6
    return out


def _objective(Cf, w, base, open_idx):
    d = base if len(open_idx) == 0 else np.minimum(base, Cf[open_idx].min(axis=0))
    return float(d @ w)


def greedy_interchange(
    C: np.ndarray,
    w: np.ndarray,
    p: int,
    base: np.ndarray | None = None,
    init=None,
    time_budget: float = 10.0,
    dtype=np.float64,
):
    """Greedy + swap heuristic for ``min sum_i w_i min(base_i, min_{j in S} C[j, i])``, ``|S| = p``.

    Parameters
    ----------
    C : numpy.ndarray
        ``(n_sites, n_demand)`` costs of the candidate sites (``inf`` allowed: replaced by a
        large penalty).
    w : numpy.ndarray
        ``(n_demand,)`` non-negative weights.
    p : int
        Number of candidate sites to open (``0 <= p <= n_sites``).
    base : numpy.ndarray, optional
        ``(n_demand,)`` cost already achieved without any candidate (e.g. distance to the nearest
        fixed site); default a large penalty (nothing open).
    init : sequence of int, optional
        Starting solution (indices into rows of ``C``) instead of the greedy one.
    time_budget : float
        Seconds after which the interchange phase stops with its best solution so far.
    dtype : numpy dtype
        Working precision (float32 halves memory for 0/1 costs).

    Returns
    -------
    sites : numpy.ndarray
        Sorted row indices of the ``p`` chosen sites.
    value : float
        Objective value (with the penalty for unreachable pairs, if any were used).
    """
    t0 = time.perf_counter()
    C, w = check_costs(C, w)
    p = check_int(p, "p", lo=0)
    n, m = C.shape
    Cf = _finite(C, dtype)
    w = np.asarray(w, dtype=dtype)
    big = float(Cf.max()) * 10 + 1.0 if Cf.size else 1.0
    b = np.full(m, big, dtype=dtype) if base is None else np.minimum(_finite(base[None, :], dtype)[0], big)
    p = int(p)
    if p <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64), _objective(Cf, w, b, [])
    if p >= n:
        idx = np.arange(n)
        return idx, _objective(Cf, w, b, idx)
    block = max(1, int(1.5e8 // max(m, 1) // np.dtype(dtype).itemsize))
    picked: list[int]
    if init is not None:
        picked = list(int(x) for x in init)
    else:
        picked = []
        d = b.copy()
        is_open = np.zeros(n, dtype=bool)
        for _ in range(p):
            gains = np.empty(n, dtype=np.float64)
            for s in range(0, n, block):
                gains[s : s + block] = np.maximum(d[None, :] - Cf[s : s + block], 0) @ w
            gains[is_open] = -1.0
            j = int(np.argmax(gains))
            picked.append(j)
            is_open[j] = True
            d = np.minimum(d, Cf[j])
    chosen = np.array(picked, dtype=np.int64)
    # --- interchange (best improvement, Whitaker-style evaluation of all p x (n - p) swaps) ---
    while time.perf_counter() - t0 < time_budget:
        rows = np.vstack([Cf[chosen], b[None, :]])  # last row: base, never removed
        order = np.argpartition(rows, 1, axis=0)[:2] if rows.shape[0] > 1 else np.zeros((2, m), dtype=np.int64)
        c1 = order[0]
        d1 = rows[c1, np.arange(m)]
        d2 = rows[order[1], np.arange(m)]
        swap_first = d2 < d1
        c1 = np.where(swap_first, order[1], c1)
        d1, d2 = np.minimum(d1, d2), np.maximum(d1, d2)
        cur = float(d1 @ w)
        k = len(chosen)
        # H[i, r] = 1 when demand i is served by open site r (not the base)
        served = c1 < k
        best_delta, best_j, best_r = -1e-9 * max(abs(cur), 1.0), -1, -1
        is_open = np.zeros(n, dtype=bool)
        is_open[chosen] = True
        onehot = np.zeros((m, k), dtype=dtype)  # demand i served by open site r
        onehot[np.flatnonzero(served), c1[served]] = 1.0
        for s in range(0, n, block):
            Cb = Cf[s : s + block]
            m1 = np.minimum(Cb, d1[None, :])
            gain = (m1 - d1[None, :]) @ w  # <= 0: change when adding j
            # extra cost when r closes: its demand falls back to min(C_j, second nearest)
            loss = ((np.minimum(Cb, d2[None, :]) - m1) * w[None, :]) @ onehot
            delta = gain[:, None] + loss
            delta[is_open[s : s + block]] = np.inf
            flat = int(np.argmin(delta))
            jj, rr = divmod(flat, k)
            if delta[jj, rr] < best_delta:
                best_delta, best_j, best_r = float(delta[jj, rr]), s + jj, rr
        if best_j < 0:
            break
        chosen[best_r] = best_j
    out = np.sort(chosen)
    return out, _objective(Cf, w, b, out)


def greedy_cover(
    cover: np.ndarray, w: np.ndarray, target: float | None = None, max_sites: int | None = None
) -> np.ndarray | None:
    """Greedy set cover with redundancy removal.

    Parameters
    ----------
    cover : numpy.ndarray
        Boolean ``(n_sites, n_groups)``.
    w : numpy.ndarray
        ``(n_groups,)`` positive weights.
    target : float, optional
        Weight to cover (default: everything coverable, i.e. all groups with a covering site).
    max_sites : int, optional
        Give up (return ``None``) once more than this many sites would be needed.

    Returns
    -------
    numpy.ndarray or None
        Sorted indices of chosen sites, or ``None`` when the target is not reached.
    """
    n, m = cover.shape
    w = np.asarray(w, dtype=np.float64)
    coverable = np.asarray(cover.any(axis=0)) if n else np.zeros(m, dtype=bool)
    if target is None:
        return _greedy_full_cover(cover, w, coverable, max_sites)
    return _greedy_partial_cover(cover, w, coverable, float(target), max_sites)


def _greedy_full_cover(cover: np.ndarray, w: np.ndarray, coverable: np.ndarray, max_sites: int | None):
    """:func:`greedy_cover` of every coverable column, however small its weight (a weight tolerance
    here once left a 1e-4 point uncovered next to 1e6 ones)."""
    if not coverable.any():
        return np.zeros(0, dtype=np.int64)
    covf = cover.astype(np.float32)
    uncovered = coverable.copy()
    chosen: list[int] = []
    while uncovered.any():
        if max_sites is not None and len(chosen) >= max_sites:
            return None
        gains = covf @ (w * uncovered).astype(np.float32)
        if gains.max() <= 0:  # only zero-weight columns left: by count
            gains = covf @ uncovered.astype(np.float32)
        j = int(np.argmax(gains))
        chosen.append(j)
        uncovered &= ~cover[j]
    for j in list(reversed(chosen)):
        rest = [x for x in chosen if x != j]
        if rest and np.asarray(cover[rest].any(axis=0))[coverable].all():
            chosen = rest
    return np.sort(np.array(chosen, dtype=np.int64))


def _greedy_partial_cover(
    cover: np.ndarray, w: np.ndarray, coverable: np.ndarray, target: float, max_sites: int | None
):
    """:func:`greedy_cover` of weight ``target``."""
    m = cover.shape[1]
    total = float(w[coverable].sum())
    target = target - 1e-9 * max(1.0, abs(target))
    if target <= 0:
        return np.zeros(0, dtype=np.int64)
    if total < target:
        return None
    covf = cover.astype(np.float32)
    uncovered = np.ones(m, dtype=bool)
    got = 0.0
    chosen: list[int] = []
    while got < target:
        if max_sites is not None and len(chosen) >= max_sites:
            return None
        gains = covf @ (w * uncovered).astype(np.float32)
        j = int(np.argmax(gains))
        if gains[j] <= 0:
            return None
        chosen.append(j)
        newly = cover[j] & uncovered
        got += float(w[newly].sum())
        uncovered &= ~cover[j]
    # remove redundant sites (last added first is usually best; try all in reverse order)
    chosen = list(chosen)
    for j in list(reversed(chosen)):
        rest = [x for x in chosen if x != j]
        cov_w = float(w[cover[rest].any(axis=0)].sum()) if rest else 0.0
        if cov_w >= target:
            chosen = rest
    return np.sort(np.array(chosen, dtype=np.int64))


def lagrangian_pmedian(
    C: np.ndarray,
    w: np.ndarray,
    p: int,
    base: np.ndarray,
    ub: float,
    iterations: int = 3000,
    time_budget: float = 10.0,
    lam0: np.ndarray | None = None,
    step0: float = 2.0,
):
    """Lagrangian bound of the p-median (see :func:`_lagrangian_pmedian`); the costs, weights and
    ``p`` are checked first (the branch and bound calls the unchecked function on its subproblems)."""
    C, w = check_costs(C, w)
    p = check_int(p, "p", lo=0, hi=C.shape[0])
    return _lagrangian_pmedian(C, w, p, base, ub, iterations, time_budget, lam0, step0)


def _lagrangian_pmedian(
    C: np.ndarray,
    w: np.ndarray,
    p: int,
    base: np.ndarray,
    ub: float,
    iterations: int = 3000,
    time_budget: float = 10.0,
    lam0: np.ndarray | None = None,
    step0: float = 2.0,
):
    """Lagrangian bound and reduction tests for the p-median (Beasley 1985 / 1993 style).

    Relaxing the assignment constraints ``sum_j x_ij = 1`` with multipliers ``lam`` gives
    ``L(lam) = sum_i lam_i + sum_i min(0, w_i b_i - lam_i) + (sum of the p smallest rho_j)``
    with ``rho_j = sum_i min(0, w_i C_ji - lam_i)`` (``b`` = cost to the always-open fixed
    sites). Subgradient optimisation raises ``L`` towards the LP bound. Reduction tests keep
    every solution of cost ``<= ub``:

    * a site whose forced opening gives a bound ``> ub`` is closed;
    * a site whose forced closing gives a bound ``> ub`` is opened;
    * a pair (i, j) with ``L + max(0, w_i C_ji - lam_i) (+ opening cost of j) > ub`` cannot be an
      assignment, so demand ``i``'s cost is at most the largest cost of its remaining pairs.

    Parameters
    ----------
    C : numpy.ndarray
        ``(n_sites, n_demand)`` candidate costs (``inf`` allowed).
    w : numpy.ndarray
        ``(n_demand,)`` positive weights.
    p : int
        Candidate sites to open (``1 <= p < n_sites``).
    base : numpy.ndarray
        ``(n_demand,)`` cost to the nearest fixed site (``inf`` when none).
    ub : float
        Cost of a known solution (finite).
    iterations, time_budget : int, float
        Subgradient limits (iterations; seconds).

    Returns
    -------
    dict
        ``bound`` (best Lagrangian lower bound), ``close`` / ``open`` (boolean site masks) and
        ``cap`` (``(n_demand,)`` largest cost demand ``i`` can have in a solution ``<= ub``).
    """
    t0 = time.perf_counter()
    n, m = C.shape
    W = w[None, :] * C  # inf stays inf
    wb = w * base
    finite_W = np.where(np.isfinite(W), W, np.inf)
    srt = np.sort(finite_W, axis=0)
    lam = np.minimum(srt[min(1, n - 1)], wb)  # start: second-smallest weighted cost
    lam = np.where(np.isfinite(lam), lam, np.where(np.isfinite(srt[0]), srt[0], 0.0))
    if lam0 is not None:
        lam = np.asarray(lam0, dtype=np.float64).copy()
    best_L, best_lam = -np.inf, lam.copy()
    step, stall = float(step0), 0
    for it in range(iterations):
        red = np.minimum(0.0, W - lam[None, :])  # (n, m), -inf impossible since W >= 0
        rho = red.sum(axis=1)
        sel = np.argpartition(rho, p - 1)[:p] if p < n else np.arange(n)
        fixed_term = np.minimum(0.0, wb - lam)
        L = float(lam.sum() + fixed_term.sum() + rho[sel].sum())
        if L > best_L + 1e-9 * max(1.0, abs(L)):
            best_L, best_lam, stall = L, lam.copy(), 0
        else:
            stall += 1
            if stall >= 40:
                step /= 2.0
                stall = 0
        if best_L >= ub - 1e-9 * max(1.0, abs(ub)) or step < 1e-4:
            break
        if time.perf_counter() - t0 > time_budget:
            break
        # subgradient: 1 - (number of assignments of i)
        g = 1.0 - (red[sel] < 0).sum(axis=0) - (fixed_term < 0)
        norm = float(g @ g)
        if norm == 0:
            break
        lam = lam + step * (ub - L) / norm * g
    lam = best_lam
    red = np.minimum(0.0, W - lam[None, :])
    rho = red.sum(axis=1)
    order = np.argsort(rho, kind="stable")
    L = float(lam.sum() + np.minimum(0.0, wb - lam).sum() + rho[order[:p]].sum())
    tol = 1e-7 * max(1.0, abs(ub))
    in_sel = np.zeros(n, dtype=bool)
    in_sel[order[:p]] = True
    rho_p = rho[order[p - 1]]
    rho_p1 = rho[order[p]] if p < n else np.inf
    # cost of forcing j open (0 if already selected), and forcing j closed
    open_cost = np.where(in_sel, 0.0, rho - rho_p)
    close = (~in_sel) & (L + open_cost > ub + tol)
    opened = in_sel & (L - rho + rho_p1 > ub + tol)
    # pair test: i served by j needs j open and adds max(0, w_i C_ji - lam_i) over the relaxed term
    extra = np.maximum(0.0, W - lam[None, :]) + open_cost[:, None]
    alive = (L + extra <= ub + tol) & np.isfinite(C) & ~close[:, None]
    cap = np.where(alive, C, -np.inf).max(axis=0)
    fixed_alive = np.isfinite(base) & (L + np.maximum(0.0, wb - lam) <= ub + tol)
    cap = np.maximum(cap, np.where(fixed_alive, base, -np.inf))
    return {
        "bound": max(L, best_L),
        "close": close,
        "open": opened,
        "cap": cap,
        "iterations": it + 1,
        "lam": lam,
        "sel": np.sort(order[:p]),
        "rho": rho,
    }


def lagrangian_branch_and_bound(
    C: np.ndarray,
    w: np.ndarray,
    p: int,
    base: np.ndarray,
    ub: float,
    incumbent: np.ndarray,
    integral: bool,
    time_budget: float = 30.0,
    lam0: np.ndarray | None = None,
):
    """Exact p-median by depth-first branch and bound on the Lagrangian bound (Beasley 1985).

    Each node fixes some sites open / closed, raises the Lagrangian bound by a short warm-started
    subgradient run, applies the reduction tests of :func:`lagrangian_pmedian` and branches on
    the most attractive undecided site of the Lagrangian solution (open first). The Lagrangian
    site choice of every node is evaluated as a primal solution.

    Parameters
    ----------
    C, w, p, base, ub
        As in :func:`lagrangian_pmedian`; ``ub`` is the cost of ``incumbent``.
    incumbent : numpy.ndarray
        Row indices of a solution of cost ``ub``.
    integral : bool
        All costs and weights are integers (a bound can be rounded up).
    time_budget : float
        Seconds; stops unproven when exceeded.

    Returns
    -------
    sites : numpy.ndarray
        Best solution found (row indices).
    value : float
        Its cost.
    proven : bool
        True when the search finished (``value`` optimal).
    nodes : int
        Nodes explored.
    """
    t0 = time.perf_counter()
    n, m = C.shape
    best: list[Any] = [float(ub), np.sort(np.asarray(incumbent, dtype=np.int64))]

    def value(sites):
        d = np.minimum(base, C[sites].min(axis=0)) if len(sites) else base
        return float(d @ w)

    def prune(bound):
        lb = np.ceil(bound - 1e-6) if integral else bound
        return lb >= best[0] - 1e-9 * max(1.0, abs(best[0]))

    nodes = 0
    # stack of (forced-open mask f1, forced-closed mask f0, multipliers)
    stack = [(np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), lam0)]
    while stack:
        if time.perf_counter() - t0 > time_budget:
            return best[1], best[0], False, nodes
        f1, f0, lam = stack.pop()
        nodes += 1
        while True:
            left = time_budget - (time.perf_counter() - t0)
            if left <= 0:  # the budget bounds every node, not only the start of one
                return best[1], best[0], False, nodes
            k = p - int(f1.sum())
            cand: np.ndarray | None = np.flatnonzero(~f0 & ~f1)
            opened = np.flatnonzero(f1)
            b = np.minimum(base, C[opened].min(axis=0)) if len(opened) else base
            if k < 0:
                cand = None
                break
            assert cand is not None
            if k == 0 or len(cand) <= k:
                sol = np.concatenate([opened, cand]) if k > 0 else opened
                v = value(sol)
                if v < best[0] - 1e-9 * max(1.0, abs(best[0])):
                    best[0], best[1] = v, np.sort(sol)
                cand = None
                break
            lag = _lagrangian_pmedian(
                C[cand],
                w,
                k,
                b,
                best[0],
                iterations=400,
                time_budget=min(5.0, left),
                lam0=lam,
                step0=0.5 if lam is not None else 2.0,
            )
            lam = lag["lam"]
            sol = np.concatenate([opened, cand[lag["sel"]]])
            v = value(sol)
            if v < best[0] - 1e-9 * max(1.0, abs(best[0])):
                best[0], best[1] = v, np.sort(sol)
            if prune(lag["bound"]):
                cand = None
                break
            if not (lag["close"].any() or lag["open"].any()):
                break
            f0 = f0.copy()
            f1 = f1.copy()
            f0[cand[lag["close"]]] = True
            f1[cand[lag["open"]]] = True
        if cand is None:
            continue
        # branch on the most attractive selected site (most negative rho)
        sel = lag["sel"]
        j = cand[sel[np.argmin(lag["rho"][sel])]]
        a0 = f0.copy()
        a0[j] = True
        b1 = f1.copy()
        b1[j] = True
        stack.append((f1, a0, lam))  # explored second: j closed
        stack.append((b1, f0, lam))  # explored first: j open
    return best[1], best[0], True, nodes
