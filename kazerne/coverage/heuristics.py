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

import numpy as np

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


def greedy_interchange(C: np.ndarray, w: np.ndarray, p: int, base: np.ndarray | None = None,
                       init=None, time_budget: float = 10.0, dtype=np.float64):
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
    if init is not None:
        chosen = list(int(x) for x in init)
    else:
        chosen = []
        d = b.copy()
        is_open = np.zeros(n, dtype=bool)
        for _ in range(p):
            gains = np.empty(n, dtype=np.float64)
            for s in range(0, n, block):
                gains[s:s + block] = np.maximum(d[None, :] - Cf[s:s + block], 0) @ w
            gains[is_open] = -1.0
            j = int(np.argmax(gains))
            chosen.append(j)
            is_open[j] = True
            d = np.minimum(d, Cf[j])
    chosen = np.array(chosen, dtype=np.int64)
    # --- interchange (best improvement, Whitaker-style evaluation of all p x (n - p) swaps) ---
    while time.perf_counter() - t0 < time_budget:
        rows = np.vstack([Cf[chosen], b[None, :]])           # last row: base, never removed
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
        onehot = np.zeros((m, k), dtype=dtype)              # demand i served by open site r
        onehot[np.flatnonzero(served), c1[served]] = 1.0
        for s in range(0, n, block):
            Cb = Cf[s:s + block]
            m1 = np.minimum(Cb, d1[None, :])
            gain = (m1 - d1[None, :]) @ w                      # <= 0: change when adding j
            # extra cost when r closes: its demand falls back to min(C_j, second nearest)
            loss = ((np.minimum(Cb, d2[None, :]) - m1) * w[None, :]) @ onehot
            delta = gain[:, None] + loss
            delta[is_open[s:s + block]] = np.inf
            flat = int(np.argmin(delta))
            jj, rr = divmod(flat, k)
            if delta[jj, rr] < best_delta:
                best_delta, best_j, best_r = float(delta[jj, rr]), s + jj, rr
        if best_j < 0:
            break
        chosen[best_r] = best_j
    chosen = np.sort(chosen)
    return chosen, _objective(Cf, w, b, chosen)


def greedy_cover(cover: np.ndarray, w: np.ndarray, target: float | None = None,
                 max_sites: int | None = None) -> np.ndarray | None:
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
    total = float(w[cover.any(axis=0)].sum()) if n else 0.0
    if target is None:
        target = total
    target = float(target) - 1e-9 * max(1.0, abs(float(target)))
    if target <= 0:
        return np.zeros(0, dtype=np.int64)
    if total < target:
        return None
    covf = cover.astype(np.float32)
    uncovered = np.ones(m, dtype=bool)
    got = 0.0
    chosen = []
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
