"""Median and center models: p-median (chained radius formulation, Lagrangian branch and bound) and
p-center. Reached through :mod:`kazerne.coverage.models`."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..checks import MAX_TIME_LIMIT_S, check_number, check_problem, check_time_limit
from ..errors import InfeasibleError
from ..limits import require_memory
from .heuristics import greedy_cover, greedy_interchange, lagrangian_branch_and_bound, lagrangian_pmedian
from .mip import Mip, mip_size
from .modelkit import (
    assign_nearest,
    demand_ids_text,
    make_result,
    min_cover,
    pad_sites,
    solver_backend,
    time_left,
    time_remaining,
)
from .problem import Problem
from .reduce import reduce_cover
from .result import FEASIBLE, INFEASIBLE, OPTIMAL, TIME_LIMIT, SolveResult, relative_gap
from .solver import MipOutcome

#: p-median: below this many free sites (after the Lagrangian tests) a Lagrangian branch and
#: bound is tried first, before the MIP (measured on OR-Library pmed), for BNB_SHARE of the time
#: limit, or BNB_SECONDS without one. On a pmed39-shaped instance (900 nodes, p = 10, seed 39,
#: root gap 0.86 %) the branch and bound proved the optimum in 49 s (243 nodes) where the radius
#: MIP in SCIP, started after 30 s of it, still had a 0.8 % gap at 120 s.
BNB_MAX_P = 20
BNB_SECONDS = 120.0
BNB_SHARE = 0.8
#: with a time limit, the greedy + interchange warm start and the Lagrangian bound get at most this
#: share of it each (the studies' ``heuristic_seconds = min(10, time_limit / 4)``)
HEURISTIC_SHARE = 0.25


# ----------------------------------------------------------------------------- p-median
def _pmedian_mip(C, w, base, pc, ub, heur, backend, time_limit, cap_extra=None, deadline=None):
    """Chained radius formulation (Elloumi 2004; García, Labbé & Marín 2011).

    For demand ``i`` with distinct candidate cost levels ``D_0 < D_1 < ... < D_K`` (cut where no
    optimal solution can go), ``z_ik = 1`` iff the distance of ``i`` is ``>= D_k``::

        z_i1 + sum_{j: C_ji = D_0} y_j >= 1
        z_ik - z_i,k-1 + sum_{j: C_ji = D_k-1} y_j >= 0           k = 2..K
        sum_{j: C_ji = D_K} y_j - z_iK >= 0                         (unless a fixed site is at D_K)
        min  sum_i w_i (D_0 + sum_k (D_k - D_k-1) z_ik),  sum_j y_j = p

    Summing the chain gives the classical ``z_ik + sum_{j: C_ji < D_k} y_j >= 1`` with the same
    LP bound, but with one ``y`` entry per (site, demand) pair instead of one per level.
    """
    n, m = C.shape
    mip = Mip()
    y = mip.add_vars(n, 0, 1, 0.0, integer=True)
    srt = np.sort(C, axis=0)
    rank_cap = srt[n - pc] if pc >= 1 else np.full(m, np.inf)  # pigeonhole: one of the n-p+1 nearest is open
    d0 = np.minimum(srt[0], base)
    lb0 = float((w * d0).sum())
    slack = ub - lb0 if np.isfinite(ub) else np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        ub_cap = np.where(w > 0, d0 + (slack + 1e-9 * max(1.0, abs(ub))) / np.where(w > 0, w, 1), np.inf)
    cap = np.minimum(np.minimum(rank_cap, base), ub_cap)
    if cap_extra is not None:
        cap = np.minimum(cap, cap_extra)
    kept = int(np.count_nonzero((C <= cap) & np.isfinite(C)))  # (site, demand) pairs the model keeps
    size = mip_size(n + kept, kept + m, 3 * kept + m)
    require_memory(size["bytes"], f"the p-median MIP ({n:,} sites, {kept:,} kept site-demand pairs)", field="problem")
    if deadline is not None and time.perf_counter() + size["build_s"] > deadline:
        return None, None, {"mip_skipped": "no time left to build the exact model", "mip_estimate": size}
    rows_r, rows_c, rows_v, lo = [], [], [], []
    nrow = 0
    zstart = n
    obj_z, offset = [], float((w * d0).sum())
    hint_z = []
    heur_d = np.minimum(base, C[heur].min(axis=0)) if len(heur) else base
    levels_total = 0
    for i in range(m):
        col = C[:, i]
        ok = (col <= cap[i]) & np.isfinite(col)
        levels = np.unique(col[ok])
        if np.isfinite(base[i]) and base[i] <= cap[i]:
            levels = np.union1d(levels, [base[i]])
        K = len(levels) - 1
        if K < 0:  # cannot happen: cap >= nearest allowed cost
            raise InfeasibleError(f"demand column {i} has no reachable site", field="cost")
        levels_total += K + 1
        lvl_of = np.searchsorted(levels, col[ok])  # level index of each site within the cap
        sites = np.flatnonzero(ok)
        # rows: r_1..r_K chain rows, then a final row (level K) unless a fixed site sits at D_K
        z = np.arange(zstart, zstart + K)
        zstart += K
        fixed_at_top = np.isfinite(base[i]) and base[i] == levels[K]
        final = 0 if fixed_at_top else 1
        # y entries: site at level l goes into row l (row l < K is chain row l+1; row K is final)
        use = lvl_of < K + final
        rows_r.append(nrow + lvl_of[use])
        rows_c.append(y[sites[use]])
        rows_v.append(np.ones(int(use.sum())))
        if K:
            # + z_ik in chain row k-1 (0-based), - z_ik in row k (next chain row or the final row)
            rows_r.append(nrow + np.arange(K))
            rows_c.append(z)
            rows_v.append(np.ones(K))
            nxt = np.arange(1, K + 1)
            keep = nxt < K + final
            rows_r.append(nrow + nxt[keep])
            rows_c.append(z[keep])
            rows_v.append(-np.ones(int(keep.sum())))
            obj_z.append(w[i] * np.diff(levels))
            hint_z.append((heur_d[i] >= levels[1:] - 1e-9).astype(float))
        row_lo = np.zeros(K + final)
        if K + final:
            row_lo[0] = 1.0
        lo.append(row_lo)
        nrow += K + final
    nz = zstart - n
    mip.add_vars(nz, 0, 1, np.concatenate(obj_z) if obj_z else np.zeros(0))
    mip.add_rows(
        nrow, np.concatenate(rows_r), np.concatenate(rows_c), np.concatenate(rows_v), np.concatenate(lo), np.inf
    )
    mip.add_rows(1, np.zeros(n), y, 1.0, float(pc), float(pc))
    hint = np.zeros(n + nz)
    hint[heur] = 1.0
    if hint_z:
        hint[n:] = np.concatenate(hint_z)
    if deadline is not None:  # the time the model took to build counts against the limit
        time_limit = max(0.5, deadline - time.perf_counter())
    out, x = mip.solve(maximize=False, backend=backend, time_limit=time_limit, offset=offset, hint=hint)
    size = {
        "y_vars": n,
        "z_vars": int(nz),
        "rows": int(nrow + 1),
        "nonzeros": int(mip.nnz),
        "levels_full": int(m * n),
        "levels_kept": int(levels_total),
    }
    return out, (None if x is None else np.flatnonzero(x[:n] > 0.5)), size


def _pmedian_lagrangian(C, w, pc, base, ub, heur, d_heur, heuristic_seconds, backend, time_limit, deadline, stats):
    """p-median from a finite heuristic solution ``heur`` (value ``ub``): the Lagrangian bound and its
    tests (which may prove ``heur`` optimal, or open / close sites), then the branch and bound or the
    MIP on the sites left. Returns (chosen rows of ``C``, status, bound, solver used)."""
    lag = lagrangian_pmedian(C, w, pc, base, ub, time_budget=heuristic_seconds)
    integral = bool(
        np.all(np.equal(np.mod(w, 1), 0))
        and np.all(np.mod(C[np.isfinite(C)], 1) == 0)
        and np.all(np.mod(base[np.isfinite(base)], 1) == 0)
    )
    lb = float(np.ceil(lag["bound"] - 1e-6)) if integral else lag["bound"]
    stats.update(
        {
            "lagrangian_bound": lag["bound"],
            "sites_closed_by_test": int(lag["close"].sum()),
            "sites_opened_by_test": int(lag["open"].sum()),
        }
    )
    if lb >= ub - 1e-9 * max(1.0, abs(ub)):
        return heur, OPTIMAL, ub, "lagrangian"
    keep = ~lag["close"] & ~lag["open"]
    opened = np.flatnonzero(lag["open"])
    base2 = np.minimum(base, C[opened].min(axis=0)) if len(opened) else base
    pc2 = pc - len(opened)
    kept = np.flatnonzero(keep)
    cap = np.maximum(lag["cap"], d_heur)
    if pc2 <= 0 or pc2 >= len(kept):
        sel = kept if pc2 > 0 else np.zeros(0, dtype=np.int64)
        return np.concatenate([opened, sel]), OPTIMAL, float("nan"), "lagrangian"
    pos = np.full(len(C), -1)
    pos[kept] = np.arange(len(kept))
    heur2 = pos[heur][pos[heur] >= 0]
    if len(heur2) != pc2:
        heur2 = np.zeros(0, dtype=np.int64)
    ch2, out, ub, used = _pmedian_kept(
        C[kept], w, pc2, base2, ub, heur2, integral, lb, cap, backend, time_limit, deadline, stats
    )
    if ch2 is not None:
        chosen, status, bound = np.concatenate([opened, kept[ch2]]), out.status, out.bound
        if status != OPTIMAL and not (np.isfinite(bound) and bound >= lb):
            bound = lb  # the Lagrangian bound when the MIP has none (nan) or a weaker one
        return chosen, status, bound, used
    if out.status == INFEASIBLE:  # nothing better than the heuristic exists
        return heur, OPTIMAL, ub, used
    return heur, FEASIBLE, lb, used


def _pmedian_kept(Ck, w, pc2, base2, ub, heur2, integral, lb, cap, backend, time_limit, deadline, stats):
    """The exact p-median on the sites the Lagrangian tests left (``Ck``): the Lagrangian branch and
    bound first for small ``pc2``, then the MIP with what time is left. Returns (chosen rows of ``Ck``
    or None, MipOutcome, the upper bound (improved by the branch and bound), solver used)."""
    ch2, used = None, backend
    mip_limit = time_limit
    if pc2 <= BNB_MAX_P and len(heur2) == pc2:
        budget = BNB_SECONDS if deadline is None else BNB_SHARE * time_left(deadline)
        tb = time.perf_counter()
        sol, val, proven, nodes = lagrangian_branch_and_bound(
            Ck, w, pc2, base2, ub, heur2, integral, time_budget=budget
        )
        stats["bnb_nodes"] = nodes
        stats["bnb_s"] = round(time.perf_counter() - tb, 2)
        if time_limit is not None:  # the MIP gets what the branch and bound left
            mip_limit = max(1.0, time_limit - (time.perf_counter() - tb))
        if proven:
            return sol, MipOutcome(OPTIMAL, val, val, 0.0, 0.0), ub, "lagrangian-bnb"
        ub = val
        heur2 = sol
    out, ch2, size = _pmedian_mip(Ck, w, base2, pc2, ub, heur2, backend, mip_limit, cap_extra=cap, deadline=deadline)
    stats.update(size)
    if out is None:  # no time left for the exact model: the best solution found
        out = MipOutcome(FEASIBLE, ub, lb, relative_gap(ub, lb), 0.0)
        ch2 = heur2 if len(heur2) == pc2 else None
    return ch2, out, ub, used


def pmedian(
    problem: Problem,
    p: int,
    *,
    time_limit: float | None = None,
    solver: str | None = None,
    heuristic_seconds: float = 10.0,
) -> SolveResult:
    """p-median: ``p`` sites minimising the total weighted cost to the nearest open site.

    Parameters
    ----------
    problem : Problem
    p : int
        Number of open sites, fixed sites included.
    time_limit : float, optional
        Seconds for the exact phase: the Lagrangian branch and bound (small ``p``, up to
        ``BNB_SHARE`` of it), then the radius MIP with the time left.
    solver : str, optional
        ``SCIP`` (default), ``HIGHS`` or ``CBC``.
    heuristic_seconds : float
        Time budget of the greedy + interchange warm start and of the Lagrangian bound before the
        exact phase, seconds each.

    Returns
    -------
    SolveResult
        ``objective`` = sum over demand of weight x cost to the nearest open site (cost unit x
        weight unit); ``extra["weighted_mean"]`` = objective / total weight (cost unit);
        ``extra["heuristic_objective"]``; ``extra["reduction"]`` with the formulation size.

    Raises
    ------
    InfeasibleError
        When a demand point with positive weight cannot be reached by any allowed site, or no
        ``p`` sites can reach every such point.

    Notes
    -----
    No site-dominance reduction here (it is not valid for costs). Demand points with weight 0
    are left out of the model and assigned afterwards.
    """
    problem = check_problem(problem)
    t0 = time.perf_counter()
    p = problem.check_p(p)
    time_limit = check_time_limit(time_limit)
    heuristic_seconds = check_number(heuristic_seconds, "heuristic_seconds", lo=0.0, lo_open=True, hi=MAX_TIME_LIMIT_S)
    deadline = None if time_limit is None else t0 + time_limit
    if time_limit is not None:  # the warm start and the bound share the limit with the exact phase
        heuristic_seconds = min(heuristic_seconds, HEURISTIC_SHARE * time_limit)
    backend = solver_backend(solver, "pmedian")
    w_all = problem.weights
    dem = np.flatnonzero(w_all > 0)
    allowed = np.flatnonzero(~problem.closed)
    fixed_rows = np.flatnonzero(problem.fixed)
    cand = np.flatnonzero(~problem.closed & ~problem.fixed)
    Call = problem.cost[np.ix_(allowed, dem)].astype(np.float64)
    unreach = dem[~np.isfinite(Call.min(axis=0))] if len(dem) else dem
    if len(unreach):
        raise InfeasibleError(
            f"{len(unreach)} demand point(s) with positive weight cannot be reached by any "
            f"allowed site: {demand_ids_text(problem, unreach, 50)}",
            field="cost",
        )
    w = w_all[dem].astype(np.float64)
    C = problem.cost[np.ix_(cand, dem)].astype(np.float64)
    base = (
        problem.cost[np.ix_(fixed_rows, dem)].astype(np.float64).min(axis=0)
        if len(fixed_rows)
        else np.full(len(dem), np.inf)
    )
    pc = p - len(fixed_rows)
    stats: dict[str, Any] = {
        "demand_before": int(problem.n_demand),
        "demand_after": int(len(dem)),
        "sites_before": int(problem.n_sites),
        "sites_after": int(len(cand)),
    }
    status, bound, used = OPTIMAL, float("nan"), backend
    if len(dem) == 0 or pc == 0 or pc >= len(cand):
        chosen = np.arange(len(cand)) if pc >= len(cand) else np.zeros(0, dtype=np.int64)
        used = "trivial"
        heur_obj = float("nan")
    else:
        heur, _ = greedy_interchange(C, w, pc, base=base, time_budget=heuristic_seconds)
        d_heur = np.minimum(base, C[heur].min(axis=0))
        ub = float(d_heur @ w) if np.isfinite(d_heur).all() else np.inf
        heur_obj = ub
        chosen = None
        if np.isfinite(ub):
            chosen, status, bound, used = _pmedian_lagrangian(
                C, w, pc, base, ub, heur, d_heur, heuristic_seconds, backend, time_limit, deadline, stats
            )
        else:
            out, chosen, size = _pmedian_mip(C, w, base, pc, ub, heur, backend, time_limit, deadline=deadline)
            stats.update(size)
            if out is None:  # no time left to build the model: stopped without a solution
                out = MipOutcome(TIME_LIMIT, float("nan"), float("nan"), float("nan"), 0.0)
            if out.status == INFEASIBLE:
                raise InfeasibleError(f"no {p} allowed sites reach every demand point with positive weight", field="p")
            if chosen is None:
                return make_result(
                    problem,
                    "pmedian",
                    TIME_LIMIT,
                    float("nan"),
                    float("nan"),
                    fixed_rows,
                    np.full(problem.n_demand, -1),
                    t0,
                    used,
                    {"reduction": stats},
                )
            status, bound = out.status, out.bound
    open_rows = pad_sites(problem, np.concatenate([fixed_rows, cand[chosen]]), p)
    d = problem.cost[open_rows][:, dem].astype(np.float64).min(axis=0) if len(dem) else np.zeros(0)
    objective = float(d @ w)
    if not np.isfinite(objective):
        raise InfeasibleError(f"no {p} allowed sites reach every demand point with positive weight", field="p")
    total = float(w.sum())
    extra = {
        "weighted_mean": objective / total if total > 0 else 0.0,
        "heuristic_objective": heur_obj,
        "reduction": stats,
    }
    return make_result(
        problem, "pmedian", status, objective, bound, open_rows, assign_nearest(problem, open_rows), t0, used, extra
    )


def _pcenter_exact(problem: Problem, radius: float, pc: int, backend: str, deadline, cache: dict, k: int):
    """Whether ``pc`` free sites cover every counted demand point within ``radius`` (the ``k``-th
    radius, cached): (True, sites), (False, None) or (None, None) when the time ran out."""
    if k in cache:
        return cache[k]
    red = reduce_cover(problem, radius, drop_fixed_covered=True, dominance=True)
    status, chosen, _, _ = min_cover(red.cover, red.weights, backend, time_remaining(deadline), max_sites=pc)
    res: tuple[bool | None, np.ndarray | None]
    if status == INFEASIBLE:
        res = (False, None)
    elif chosen is None:
        res = (None, None)
    elif len(chosen) <= pc:
        res = (True, red.site_idx[chosen])
    else:
        res = (False, None) if status == OPTIMAL else (None, None)
    cache[k] = res
    return res


def _pcenter_greedy_bound(problem: Problem, radii: np.ndarray, pc: int):
    """(index of the smallest radius at which a greedy cover with ``pc`` free sites fits, its sites),
    by binary search (not monotone: a heuristic upper bound); (None, None) when none fits."""

    def greedy_ok(k):
        red = reduce_cover(problem, float(radii[k]), drop_fixed_covered=True, dominance=False)
        g = greedy_cover(red.cover, red.weights, max_sites=pc)
        return None if g is None else red.site_idx[g]

    hi_k = len(radii) - 1
    best_k, best_sites = None, None
    top = greedy_ok(hi_k)
    if top is not None:
        best_k, best_sites = hi_k, top
        a, b = 0, hi_k
        while a < b:
            mid = (a + b) // 2
            s = greedy_ok(mid)
            if s is not None:
                best_k, best_sites, b = mid, s, mid
            else:
                a = mid + 1
    return best_k, best_sites


def _pcenter_search(exact, a: int, b: int, best_sites, deadline):
    """The first feasible radius index in ``[a, b)`` (``b`` feasible with ``best_sites``) by binary
    search over exact checks: (a, best index, its sites, status, number of checks)."""
    best_k = b
    status = OPTIMAL
    checks = 0
    while a < b:
        if deadline is not None and time.perf_counter() > deadline:
            status = FEASIBLE
            break
        mid = (a + b) // 2
        ok, s = exact(mid)
        checks += 1
        if ok is None:
            status = FEASIBLE
            break
        if ok:
            best_k, best_sites, b = mid, s, mid
        else:
            a = mid + 1
    return a, best_k, best_sites, status, checks


# ----------------------------------------------------------------------------- p-center
def pcenter(problem: Problem, p: int, *, time_limit: float | None = None, solver: str | None = None) -> SolveResult:
    """p-center: ``p`` sites minimising the worst cost from a demand point to its nearest open site.

    Exact by search over the sorted distinct costs: radius ``T`` is feasible when at most
    ``p - len(fixed)`` candidate sites cover, within ``T``, every positive-weight demand point not
    already covered by a fixed site (an LSCP, reduced and warm-started; a greedy cover within the
    budget proves feasibility without a MIP). A greedy search gives the upper bound; the lower
    bound starts at ``max_i min_j cost[j, i]``. Weights only decide which points count (weight
    > 0); the objective is not weighted.

    Parameters
    ----------
    problem : Problem
    p : int
        Number of open sites, fixed sites included.
    time_limit : float, optional
        Overall seconds; when it runs out the best radius found is returned as ``"feasible"``
        with ``bound`` = the largest radius proven too small's successor.
    solver : str, optional
        ``SCIP`` (default), ``HIGHS`` or ``CBC``.

    Returns
    -------
    SolveResult
        ``objective`` = worst cost (cost unit); ``extra["checks"]`` = number of feasibility MIPs.
    """
    problem = check_problem(problem)
    t0 = time.perf_counter()
    p = problem.check_p(p)
    time_limit = check_time_limit(time_limit)
    deadline = None if time_limit is None else t0 + time_limit
    backend = solver_backend(solver, "pcenter")
    dem = np.flatnonzero(problem.weights > 0)
    allowed = ~problem.closed
    if len(dem) == 0:
        open_rows = pad_sites(problem, np.flatnonzero(problem.fixed), p)
        return make_result(
            problem, "pcenter", OPTIMAL, 0.0, 0.0, open_rows, assign_nearest(problem, open_rows), t0, "trivial", {}
        )
    near = problem.cost[np.ix_(np.flatnonzero(allowed), dem)].min(axis=0)
    if not np.isfinite(near).all():
        bad = dem[~np.isfinite(near)]
        raise InfeasibleError(
            f"{len(bad)} demand point(s) cannot be reached by any allowed site: {demand_ids_text(problem, bad, 50)}",
            field="cost",
        )
    lb = float(near.max())
    sub = problem.cost[allowed][:, dem]
    radii = np.unique(sub[np.isfinite(sub) & (sub >= lb)])
    del sub
    pc = p - problem.n_fixed
    cache: dict[int, Any] = {}

    def exact(k):
        return _pcenter_exact(problem, float(radii[k]), pc, backend, deadline, cache, k)

    # upper bound: smallest radius at which the greedy cover fits (binary search, not monotone -> heuristic)
    lo_k, hi_k = 0, len(radii) - 1
    best_k, best_sites = _pcenter_greedy_bound(problem, radii, pc)
    checks = 0
    if best_k is None:
        ok, s = exact(hi_k)
        checks += 1
        if ok is False:
            raise InfeasibleError(f"no {p} allowed sites reach every demand point with positive weight", field="p")
        if ok is None:
            return make_result(
                problem,
                "pcenter",
                TIME_LIMIT,
                float("nan"),
                lb,
                [],
                np.full(problem.n_demand, -1),
                t0,
                backend,
                {"checks": checks},
            )
        best_k, best_sites = hi_k, s
    # exact search in [lo_k, best_k): first feasible index
    a, best_k, best_sites, status, n = _pcenter_search(exact, lo_k, best_k, best_sites, deadline)
    checks += n
    open_rows = pad_sites(problem, np.concatenate([np.flatnonzero(problem.fixed), best_sites]), p)
    dist = problem.cost[open_rows][:, dem].min(axis=0)
    objective = float(dist.max())
    bound = float(radii[a]) if status != OPTIMAL else objective
    return make_result(
        problem,
        "pcenter",
        status,
        objective,
        bound,
        open_rows,
        assign_nearest(problem, open_rows),
        t0,
        backend,
        {"checks": checks, "lower_bound_start": lb},
    )
