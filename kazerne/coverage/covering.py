"""Covering models: LSCP (fewest sites covering all, or a share of, the demand within a radius) and backup
coverage (demand covered twice). Reached through :mod:`kazerne.coverage.models`."""

from __future__ import annotations

import time
import warnings

import numpy as np

from ..checks import check_problem, check_time_limit
from ..errors import InfeasibleError
from .heuristics import greedy_cover
from .mclp import mclp_reduced
from .mip import Mip
from .modelkit import (
    assign_nearest,
    check_radius,
    check_share,
    covered_weight,
    demand_ids_text,
    make_result,
    min_cover,
    pad_sites,
    solver_backend,
)
from .problem import Problem
from .reduce import reduce_cover
from .result import FEASIBLE, INFEASIBLE, OPTIMAL, TIME_LIMIT, SolveResult

#: LSCP with a 90 % share: under 0.5 s past the limit).
TIME_LIMIT_MARGIN_S = 1.0


def _partial_cover(
    cover: np.ndarray, w: np.ndarray, target: float, backend: str, time_limit: float | None, stats: dict
):
    """Fewest rows of ``cover`` covering weight ``>= target``, as a descent over exact MCLPs.

    The greedy cover gives a solution with ``k`` sites; then MCLP(k - 1), MCLP(k - 2), ... are solved
    until one proves that no choice of that many sites reaches ``target``: the last feasible choice
    is optimal. On the zone (999 sites, 90 % within 12 min) this took 4.6 s (two MCLPs) where the
    partial-covering MIP took 35 s. Every MCLP gets only the time left before ``time_limit`` (its
    heuristic, LP and MIPs included); when the time runs out the best choice so far is returned
    as ``FEASIBLE`` with the lower bound proven so far (1, or ``k + 1`` once MCLP(k) was proven
    short of the target; an MCLP stopped early whose bound is already below the target proves
    that too). Returns ``(status, chosen_rows, bound, solver_name)``.
    """
    n, m = cover.shape
    if m == 0 or target <= 1e-12:
        return OPTIMAL, np.zeros(0, dtype=np.int64), 0.0, "trivial"
    eps = 1e-9 * max(1.0, abs(float(target)))
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    best = greedy_cover(cover, w, target=target)  # target <= w.sum(): clamped by the caller
    if best is None:  # pragma: no cover - only if a caller passes an unreachable target
        raise ValueError(f"target {target!r} exceeds the coverable weight {float(w.sum())!r}")
    stats["greedy_sites"] = int(len(best))
    status, lower, k, used = OPTIMAL, 1, len(best) - 1, "greedy"
    while k >= 1:
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0:
            status = FEASIBLE
            break
        st, bound, chosen, used_k = mclp_reduced(cover, w, k, backend, left, {})
        used = backend if used_k not in ("trivial", "greedy", "greedy-cover") else used
        value = float(w[cover[chosen].any(axis=0)].sum())
        stats.setdefault("mclp_descent", []).append({"p": k, "status": st, "covered": round(value, 3)})
        if value >= target - eps:
            best = np.asarray(chosen, dtype=np.int64)
            for j in list(best):  # drop sites the target does not need
                rest = best[best != j]
                if len(rest) and float(w[cover[rest].any(axis=0)].sum()) >= target - eps:
                    best = rest
            k = len(best) - 1
            continue
        if st != OPTIMAL and not (np.isfinite(bound) and bound < target - eps):
            status = FEASIBLE  # time limit: k sites might still reach the target
            break
        lower = k + 1
        break
    else:
        lower = len(best)  # k reached 0: one site is needed (target > 0)
    if status != OPTIMAL:
        stats["stopped_by_time_limit"] = True
    return status, best, float(lower), used


def lscp(
    problem: Problem,
    radius: float,
    *,
    coverage: float = 1.0,
    time_limit: float | None = None,
    solver: str | None = None,
) -> SolveResult:
    """Location set covering: fewest open sites so that demand is within ``radius``.

    Parameters
    ----------
    problem : Problem
    radius : float
        Coverage threshold T (same unit as the costs, e.g. seconds); covered means ``cost <= T``.
    coverage : float
        Share of the total demand weight that must be covered (1.0 = every point with positive
        weight; 0.9 = "fewest posts reaching 90 % within T").
    time_limit : float, optional
        Seconds for the whole solve, reduction included; it returns at most
        ``TIME_LIMIT_MARGIN_S`` (1 s) later. Stopped early, the status is ``"feasible"``, ``bound``
        is the number of sites proven necessary so far, and a ``RuntimeWarning`` says so.
    solver : str, optional
        ``SCIP`` (default), ``HIGHS`` or ``CBC``.

    Returns
    -------
    SolveResult
        ``objective`` = number of open sites (fixed sites included); ``extra["covered_weight"]``,
        ``extra["covered_share"]``, ``extra["reduction"]``.

    Raises
    ------
    InfeasibleError
        When no choice of allowed sites reaches the required coverage. For full coverage the
        message lists every demand id that no allowed site reaches within T; the same ids are on
        the exception as ``.uncovered``. (We raise instead of returning an infeasible result so a
        caller cannot mistake an impossible cover for a solution.)
    """
    problem = check_problem(problem)
    t0 = time.perf_counter()
    radius = check_radius(radius, costs=problem.cost)
    share = check_share(coverage, "coverage")
    time_limit = check_time_limit(time_limit)
    backend = solver_backend(solver, "lscp")
    red = reduce_cover(problem, radius, drop_fixed_covered=True, dominance=True)
    total = problem.total_weight
    full = share >= 1.0
    if full and len(red.uncoverable):
        err = InfeasibleError(
            f"{len(red.uncoverable)} demand point(s) cannot be reached within T={radius:g} by any allowed "
            f"site: {demand_ids_text(problem, red.uncoverable)}",
            field="radius",
        )
        err.uncovered = [problem.demand_ids[i] for i in red.uncoverable]
        raise err
    target = None
    if not full:
        need = share * total
        reachable = red.fixed_weight + float(red.weights.sum())
        if reachable + 1e-9 * max(1.0, total) < need:
            err = InfeasibleError(
                f"only {reachable / total:.4f} of the demand weight can be reached within T={radius:g} by "
                f"allowed sites; {share:.4f} was asked ({len(red.uncoverable)} demand point(s) unreachable: "
                f"{demand_ids_text(problem, red.uncoverable, 20)})",
                field="coverage",
            )
            err.uncovered = [problem.demand_ids[i] for i in red.uncoverable]
            raise err
        # within the tolerance above, the share may ask for a hair more than is reachable: clamp
        target = min(max(0.0, need - red.fixed_weight), float(red.weights.sum()))
    left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
    if full:
        status, chosen, bound, used = min_cover(
            red.cover, red.weights, backend, None if left is None else max(left, 1e-3)
        )
    else:
        assert target is not None  # set above whenever a share is asked
        status, chosen, bound, used = _partial_cover(red.cover, red.weights, target, backend, left, red.stats)
    if chosen is None:  # time limit without any solution (greedy always finds one, so rare)
        return make_result(
            problem,
            "lscp",
            TIME_LIMIT,
            float("nan"),
            float("nan"),
            [],
            np.full(problem.n_demand, -1),
            t0,
            used,
            {"reduction": red.stats},
        )
    open_rows = np.concatenate([np.flatnonzero(problem.fixed), red.site_idx[chosen]])
    n_fixed = problem.n_fixed
    if status != OPTIMAL:
        what = "a full cover" if full else f"a {share:.4f} coverage share"
        warnings.warn(
            f"lscp stopped at its time limit ({time_limit:g} s) before proving {what} optimal: "
            f"{len(open_rows)} site(s) found, at least {bound + n_fixed:g} needed",
            RuntimeWarning,
            stacklevel=2,
        )
    cw = covered_weight(problem, open_rows, radius)
    extra = {"covered_weight": cw, "covered_share": cw / total if total > 0 else 1.0, "reduction": red.stats}
    return make_result(
        problem,
        "lscp",
        status,
        float(len(open_rows)),
        bound + n_fixed,
        open_rows,
        assign_nearest(problem, open_rows, radius),
        t0,
        used,
        extra,
    )


# ----------------------------------------------------------------------------- MCLP
#: SCIP settings for covering MIPs, measured on the zone's greenfield MCLP (2,024 sites x 8,773 cells,
#: p = 14): no presolve restart (it re-solved the 10 s root LP), fewer root cut rounds and little
#: strong branching (each strong-branching LP costs ~0.5 s there): full MIP 60 s -> 52 s.


# ----------------------------------------------------------------------------- backup coverage
def backup(
    problem: Problem,
    p: int,
    radius: float,
    *,
    min_primary: float = 0.0,
    time_limit: float | None = None,
    solver: str | None = None,
) -> SolveResult:
    """Backup coverage (Hogan & ReVelle 1986): maximise the weight covered at least twice.

    Parameters
    ----------
    problem : Problem
    p : int
        Number of open sites, fixed sites included.
    radius : float
        Coverage threshold T (same unit as the costs).
    min_primary : float
        Share (0..1) of the total demand weight that must be covered at least once.
    time_limit : float, optional
        Seconds for the MIP.
    solver : str, optional
        ``SCIP`` (default), ``HIGHS`` or ``CBC``.

    Returns
    -------
    SolveResult
        ``objective`` = weight covered by at least two open sites within T;
        ``extra["primary_weight"]``, ``extra["primary_share"]``, ``extra["backup_share"]``.

    Raises
    ------
    InfeasibleError
        When no ``p`` sites cover ``min_primary`` of the weight.

    Notes
    -----
    Formulation: ``v_g`` (binary, covered once) and ``u_g`` (covered twice, continuous);
    ``v_g + u_g <= sum_{j covers g} y_j``, ``u_g <= v_g``, ``sum w v >= min_primary * W``,
    ``sum y <= p``. Demand with identical covering sets is merged; dominated sites are *not*
    dropped (not valid when coverage counts twice).
    """
    problem = check_problem(problem)
    t0 = time.perf_counter()
    radius = check_radius(radius, costs=problem.cost)
    p = problem.check_p(p)
    share = check_share(min_primary, "min_primary")
    time_limit = check_time_limit(time_limit)
    backend = solver_backend(solver, "backup")
    red = reduce_cover(problem, radius, drop_fixed_covered=False, dominance=False)
    total = problem.total_weight
    n, m = red.cover.shape
    mip = Mip()
    y = mip.add_vars(n, red.fixed_in_model.astype(float), 1, 0.0, integer=True)
    v = mip.add_vars(m, 0, 1, 0.0, integer=True)
    u = mip.add_vars(m, 0, 1, red.weights)
    g, k = np.nonzero(red.cover.T)
    ar = np.arange(m)
    mip.add_rows(
        m,
        np.concatenate([g, ar, ar]),
        np.concatenate([y[k], v, u]),
        np.concatenate([np.full(len(g), -1.0), np.ones(2 * m)]),
        -np.inf,
        0.0,
    )
    mip.add_rows(
        m, np.concatenate([ar, ar]), np.concatenate([u, v]), np.concatenate([np.ones(m), -np.ones(m)]), -np.inf, 0.0
    )
    if share > 0:
        mip.add_rows(1, np.zeros(m), v, red.weights, share * total - 1e-9 * max(1.0, total), np.inf)
    mip.add_rows(1, np.zeros(n), y, 1.0, -np.inf, float(p))
    out, x = mip.solve(maximize=True, backend=backend, time_limit=time_limit)
    if out.status == INFEASIBLE:
        raise InfeasibleError(
            f"no {p} allowed sites cover {share:.4f} of the demand weight within T={radius:g}", field="min_primary"
        )
    if x is None:
        return make_result(
            problem,
            "backup",
            TIME_LIMIT,
            float("nan"),
            float("nan"),
            [],
            np.full(problem.n_demand, -1),
            t0,
            backend,
            {"reduction": red.stats},
        )
    open_rows = pad_sites(problem, red.site_idx[np.flatnonzero(x[y] > 0.5)], p)
    cnt = (problem.cost[open_rows] <= radius).sum(axis=0)
    prim = float(problem.weights[cnt >= 1].sum())
    twice = float(problem.weights[cnt >= 2].sum())
    extra = {
        "primary_weight": prim,
        "primary_share": prim / total if total > 0 else 1.0,
        "backup_share": twice / total if total > 0 else 1.0,
        "reduction": red.stats,
    }
    return make_result(
        problem,
        "backup",
        out.status,
        twice,
        out.bound,
        open_rows,
        assign_nearest(problem, open_rows, radius),
        t0,
        backend,
        extra,
    )
