"""Shrink covering models before they reach a MIP solver.

For the covering models (LSCP, MCLP, backup coverage, the p-center feasibility checks) only the
boolean coverage matrix ``cost <= T`` matters. :func:`reduce_cover` turns a :class:`Problem` and
a radius into a small boolean matrix over *candidate* sites and *demand groups*:

1. closed sites are removed;
2. demand nobody allowed can reach within ``T`` is set aside (reported as ``uncoverable``);
3. optionally, demand already covered by a fixed site is set aside (its weight is a constant)
   and the fixed sites leave the model (valid for LSCP / MCLP, where being covered once is all
   that counts);
4. demand points with identical covering-site sets are merged, their weights summed (valid for
   every covering model with fractional or per-group assignment);
5. optionally, dominated sites are dropped: site ``j`` is dominated when its covered set is a
   subset of another kept site's set (duplicates keep the first). **Valid** for LSCP (full or a
   coverage share), uncapacitated MCLP with "at most p sites" and the p-center feasibility
   checks, because swapping a dominated site for its dominator never loses coverage. **Not
   valid** for backup coverage (two copies of coverage matter), capacitated MCLP (capacity is
   per site) or p-median (costs, not sets, matter); those models call it with
   ``dominance=False``.

Memory: the coverage matrix is boolean (1 byte per pair); merging packs columns into bits and
uses :func:`numpy.unique` on the packed rows, so 3,000 x 15,000 instances stay well below 1 GB.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .problem import Problem

__all__ = ["CoverReduction", "reduce_cover", "merge_columns", "dominated_rows"]


@dataclass
class CoverReduction:
    """Result of :func:`reduce_cover`.

    Attributes
    ----------
    cover : numpy.ndarray
        Boolean ``(n_sites_red, n_groups)``: reduced site ``k`` covers group ``g`` within T.
    weights : numpy.ndarray
        Weight of each demand group (sum of its members' weights).
    site_idx : numpy.ndarray
        Row of the original problem for each reduced site.
    group_of : numpy.ndarray
        ``(n_demand,)`` group index of each original demand point, -1 when set aside.
    fixed_in_model : numpy.ndarray
        Boolean ``(n_sites_red,)``: reduced site is a fixed site (only when fixed sites are kept).
    covered_by_fixed : numpy.ndarray
        Boolean ``(n_demand,)``: demand point covered by a fixed site.
    uncoverable : numpy.ndarray
        Indices of demand points (weight > 0) that no allowed site reaches within T.
    fixed_weight : float
        Weight covered by fixed sites (set aside when ``drop_fixed_covered``).
    stats : dict
        Model size before / after: ``demand_before``, ``demand_after``, ``sites_before``,
        ``sites_after`` plus the counts removed by each rule.
    """

    cover: np.ndarray
    weights: np.ndarray
    site_idx: np.ndarray
    group_of: np.ndarray
    fixed_in_model: np.ndarray
    covered_by_fixed: np.ndarray
    uncoverable: np.ndarray
    fixed_weight: float
    stats: dict = field(default_factory=dict)


def merge_columns(cover: np.ndarray, weights: np.ndarray):
    """Merge identical columns of a boolean matrix.

    Parameters
    ----------
    cover : numpy.ndarray
        Boolean ``(n_rows, n_cols)``.
    weights : numpy.ndarray
        ``(n_cols,)`` column weights.

    Returns
    -------
    merged : numpy.ndarray
        Boolean ``(n_rows, n_unique)``.
    merged_weights : numpy.ndarray
        Summed weights per unique column.
    inverse : numpy.ndarray
        ``(n_cols,)`` index of the unique column of every input column.
    """
    n_rows, n_cols = cover.shape
    if n_cols == 0:
        return cover, weights.astype(np.float64), np.zeros(0, dtype=np.int64)
    packed = np.ascontiguousarray(np.packbits(cover, axis=0).T)  # (n_cols, ceil(n_rows/8))
    if packed.shape[1] == 0:
        inverse = np.zeros(n_cols, dtype=np.int64)
        return cover[:, :1], np.array([weights.sum()], dtype=np.float64), inverse
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    merged_w = np.bincount(inverse, weights=weights, minlength=len(first)).astype(np.float64)
    return cover[:, first], merged_w, inverse


def dominated_rows(cover: np.ndarray, max_work: float = 4e11) -> np.ndarray:
    """Rows whose set of True columns is contained in another row's set.

    Exact duplicates keep their first occurrence. Rows with no True entry are dominated.

    Parameters
    ----------
    cover : numpy.ndarray
        Boolean ``(n_rows, n_cols)``.
    max_work : float
        Skip the pairwise check (return only empty and duplicate rows) when
        ``n_rows**2 * n_cols`` exceeds this many operations.

    Returns
    -------
    numpy.ndarray
        Boolean mask ``(n_rows,)`` of dominated rows.
    """
    n, m = cover.shape
    dom = np.asarray(~cover.any(axis=1))
    if n <= 1 or m == 0:
        return dom
    packed = np.ascontiguousarray(np.packbits(cover, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first = np.unique(keys, return_index=True)
    dup = np.ones(n, dtype=bool)
    dup[first] = False
    dom |= dup
    live = np.flatnonzero(~dom)
    if len(live) <= 1 or float(len(live)) ** 2 * m > max_work:
        return dom
    sub = cover[live].astype(np.float32)
    size = sub.sum(axis=1)
    # inter[a, b] = |S_a & S_b|; a is dominated when |S_a & S_b| == |S_a| for some b != a
    # (no duplicates left, so that means a strict subset). Blocked to bound memory.
    block = max(1, int(2e8 // max(len(live), 1) // 4))
    for s in range(0, len(live), block):
        inter = sub[s : s + block] @ sub.T
        rows = np.arange(s, min(s + block, len(live)))
        inter[np.arange(len(rows)), rows] = -1.0
        hit = (np.abs(inter - size[rows, None]) < 0.5).any(axis=1)
        dom[live[rows[hit]]] = True
    return dom


def reduce_cover(
    problem: Problem, radius: float, *, drop_fixed_covered: bool = True, merge: bool = True, dominance: bool = True
) -> CoverReduction:
    """Coverage matrix of a problem at radius ``radius``, reduced as described in the module docs.

    Parameters
    ----------
    problem : Problem
    radius : float
        Coverage threshold, same unit as ``problem.cost``; covered means ``cost <= radius``.
    drop_fixed_covered : bool
        Set aside demand covered by a fixed site and drop fixed sites from the model.
    merge : bool
        Merge demand points with identical covering-site sets.
    dominance : bool
        Drop dominated sites (only valid for LSCP, uncapacitated MCLP, p-center checks).
    """
    cost, w = problem.cost, problem.weights
    allowed = ~problem.closed
    cov = cost <= radius  # boolean, 1 byte per pair
    n_sites, n_demand = cov.shape
    if problem.fixed.any():
        covered_by_fixed = cov[problem.fixed].any(axis=0)
    else:
        covered_by_fixed = np.zeros(n_demand, dtype=bool)
    reach = cov[allowed].any(axis=0) if allowed.any() else np.zeros(n_demand, dtype=bool)
    uncoverable = np.flatnonzero(~reach & (w > 0))
    keep_d = reach & (w > 0)
    if drop_fixed_covered:
        keep_d &= ~covered_by_fixed
        site_mask = allowed & ~problem.fixed
    else:
        site_mask = allowed
    fixed_weight = float(w[covered_by_fixed].sum())
    site_idx = np.flatnonzero(site_mask)
    dcols = np.flatnonzero(keep_d)
    sub = cov[np.ix_(site_idx, dcols)] if len(dcols) else np.zeros((len(site_idx), 0), dtype=bool)
    del cov
    stats = {
        "demand_before": int(n_demand),
        "sites_before": int(n_sites),
        "demand_set_aside": int(n_demand - len(dcols)),
        "closed": int(problem.closed.sum()),
    }
    inverse = np.arange(len(dcols))
    gw = w[dcols].astype(np.float64)
    if merge and len(dcols):
        sub, gw, inverse = merge_columns(sub, gw)
    fixed_in_model = problem.fixed[site_idx]
    if dominance and len(site_idx):
        dom = dominated_rows(sub)
        dom &= ~fixed_in_model
        stats["sites_dominated"] = int(dom.sum())
        if dom.any():
            keep_s = ~dom
            sub, site_idx, fixed_in_model = sub[keep_s], site_idx[keep_s], fixed_in_model[keep_s]
            if merge and sub.shape[1]:
                sub, gw, inv2 = merge_columns(sub, gw)
                inverse = inv2[inverse]
    group_of = np.full(n_demand, -1, dtype=np.int64)
    group_of[dcols] = inverse
    stats.update({"demand_after": int(sub.shape[1]), "sites_after": int(sub.shape[0])})
    return CoverReduction(
        cover=np.ascontiguousarray(sub),
        weights=gw,
        site_idx=site_idx,
        group_of=group_of,
        fixed_in_model=fixed_in_model,
        covered_by_fixed=covered_by_fixed,
        uncoverable=uncoverable,
        fixed_weight=fixed_weight,
        stats=stats,
    )
