"""Exact placement models on a cost matrix: LSCP, MCLP (plain and capacitated), p-median,
p-center and backup coverage.

Every model takes a :class:`~kazerne.coverage.problem.Problem` (see
:func:`~kazerne.coverage.problem.from_cost_matrix`) and returns a
:class:`~kazerne.coverage.result.SolveResult`. Demand is weighted; "within T" means
``cost <= T``; fixed sites are always open and count towards ``p``; closed sites never open.

How the models are kept fast
----------------------------
* covering models are reduced first (:mod:`kazerne.coverage.reduce`): demand merged by covering
  set, demand covered by fixed sites or by nobody set aside, dominated sites dropped where that
  is valid; ``extra["reduction"]`` records the model size before and after;
* a heuristic (greedy + interchange, :mod:`kazerne.coverage.heuristics`) gives an upper bound
  and a warm start (``SetHint``);
* p-median uses the radius formulation of Elloumi (2004) / García, Labbé & Marín (2011) in its
  chained form (one ``z`` per demand and distinct cost level), with levels cut at the
  pigeonhole rank and at what the heuristic upper bound permits;
* the MIP is built as a sparse matrix and loaded as one ``MPModelProto`` (no Python loop per
  coefficient), then solved through ``pywraplp`` (:mod:`kazerne.coverage.solver`).

Time limits: when a solver stops at its time limit with a solution the status is
``"feasible"`` with ``bound`` and ``gap`` reported; without any MIP solution the heuristic
solution is returned with status ``"feasible"`` and ``bound = nan``.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from ..checks import MAX_TIME_LIMIT_S, check_number, check_problem, check_time_limit
from ..errors import InfeasibleError, ModelInputError
from ..limits import require_memory
from ..units import warn_if_minutes
from .heuristics import greedy_cover, greedy_interchange, lagrangian_branch_and_bound, lagrangian_pmedian
from .mip import Mip, mip_size
from .problem import Problem
from .reduce import merge_columns, reduce_cover
from .result import FEASIBLE, INFEASIBLE, OPTIMAL, TIME_LIMIT, SolveResult, relative_gap
from .solver import MipOutcome

__all__ = ["lscp", "mclp", "mclp_frontier", "pmedian", "pcenter", "backup", "DEFAULT_SOLVER"]

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

#: Backend per model, chosen by measurement (``benchmarks/solvers.py``).
DEFAULT_SOLVER = {
    "lscp": "SCIP",
    "mclp": "SCIP",
    "mclp_capacitated": "SCIP",
    "pmedian": "SCIP",
    "pcenter": "SCIP",
    "backup": "SCIP",
}


def _backend(solver: str | None, model: str) -> str:
    return (solver or DEFAULT_SOLVER[model]).upper()


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.perf_counter())


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return max(0.5, deadline - time.perf_counter())


# ----------------------------------------------------------------------------- shared helpers
def _check_radius(radius, field="radius", costs=None) -> float:
    try:
        r = float(radius)
    except (TypeError, ValueError):
        raise ModelInputError(f"expected a number >= 0, got {radius!r}", field=field) from None
    if not np.isfinite(r) or r < 0:
        raise ModelInputError(f"expected a finite number >= 0, got {radius!r}", field=field)
    warn_if_minutes(r, field, costs=costs, stacklevel=4)
    return r


def _check_share(share, field) -> float:
    try:
        s = float(share)
    except (TypeError, ValueError):
        raise ModelInputError(f"expected a share between 0 and 1, got {share!r}", field=field) from None
    if not (0.0 <= s <= 1.0):
        raise ModelInputError(f"expected a share between 0 and 1, got {share!r}", field=field)
    return s


def _assign(problem: Problem, open_rows: np.ndarray, radius: float | None = None) -> np.ndarray:
    """Index of the nearest open site per demand point (-1 if none within ``radius`` / reachable)."""
    open_rows = np.asarray(open_rows, dtype=np.int64)
    if len(open_rows) == 0:
        return np.full(problem.n_demand, -1, dtype=np.int64)
    sub = problem.cost[open_rows]
    k = np.argmin(sub, axis=0)
    best = sub[k, np.arange(problem.n_demand)]
    ok = np.isfinite(best) if radius is None else best <= radius
    return np.where(ok, open_rows[k], -1).astype(np.int64)


def _pad(problem: Problem, open_rows, p: int) -> np.ndarray:
    """Pad a solution with unused allowed sites (input order) up to exactly ``p`` sites."""
    open_rows = set(int(x) for x in open_rows)
    for j in np.flatnonzero(~problem.closed):
        if len(open_rows) >= p:
            break
        open_rows.add(int(j))
    return np.array(sorted(open_rows), dtype=np.int64)


def _result(problem, model, status, objective, bound, open_rows, assignment, t0, solver, extra):
    open_rows = np.sort(np.asarray(open_rows, dtype=np.int64))
    gap = 0.0 if status == OPTIMAL else relative_gap(objective, bound)
    if status == OPTIMAL:
        bound = objective
    return SolveResult(
        model=model,
        status=status,
        objective=float(objective),
        bound=float(bound),
        gap=float(gap),
        sites=[problem.site_ids[j] for j in open_rows],
        assignment=assignment,
        seconds=time.perf_counter() - t0,
        solver=solver,
        extra=extra,
    )


def _ids(problem, idx, limit=None):
    idx = list(idx)
    shown = [str(problem.demand_ids[i]) for i in (idx if limit is None else idx[:limit])]
    more = "" if limit is None or len(idx) <= limit else f" ... ({len(idx) - limit} more)"
    return ", ".join(shown) + more


def _covered_weight(problem, open_rows, radius) -> float:
    if len(open_rows) == 0:
        return 0.0
    cov = (problem.cost[np.asarray(open_rows)] <= radius).any(axis=0)
    return float(problem.weights[cov].sum())


# ----------------------------------------------------------------------------- LSCP
def _min_cover(cover: np.ndarray, w: np.ndarray, backend: str, time_limit: float | None, max_sites: int | None = None):
    """Fewest rows of ``cover`` covering every column (a set-covering MIP).

    Returns ``(status, chosen_rows or None, bound, solver_name)``; ``max_sites`` adds the
    constraint ``sum y <= max_sites`` (used by p-center feasibility checks).
    """
    n, m = cover.shape
    if m == 0:
        return OPTIMAL, np.zeros(0, dtype=np.int64), 0.0, "trivial"
    greedy = greedy_cover(cover, w)
    if greedy is not None and len(greedy) <= 1:
        return OPTIMAL, greedy, float(len(greedy)), "greedy"
    mip = Mip()
    y = mip.add_vars(n, 0, 1, 1.0, integer=True)
    g, k = np.nonzero(cover.T)
    mip.add_rows(m, g, y[k], 1.0, 1.0, np.inf)
    hint = None
    if greedy is not None and (max_sites is None or len(greedy) <= max_sites):
        hint = np.zeros(n)
        hint[greedy] = 1.0
    if max_sites is not None:
        mip.add_rows(1, np.zeros(n), y, 1.0, -np.inf, float(max_sites))
    out, x = mip.solve(maximize=False, backend=backend, time_limit=time_limit, hint=hint)
    if out.status == INFEASIBLE:
        return INFEASIBLE, None, float("nan"), backend
    if x is None:
        if hint is not None:
            return FEASIBLE, greedy, float("nan"), backend
        return TIME_LIMIT, None, float("nan"), backend
    chosen = np.flatnonzero(x[:n] > 0.5)
    bound = float(np.ceil(out.bound - 1e-6)) if np.isfinite(out.bound) else float("nan")
    return out.status, chosen, bound, backend


#: How far past the user's time limit a solve with a time limit may return: the reduction, the
#: model building and the reading back of the last MIP are not interruptible (measured on the zone
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
        st, bound, chosen, used_k = _mclp_reduced(cover, w, k, backend, left, {})
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
    radius = _check_radius(radius, costs=problem.cost)
    share = _check_share(coverage, "coverage")
    time_limit = check_time_limit(time_limit)
    backend = _backend(solver, "lscp")
    red = reduce_cover(problem, radius, drop_fixed_covered=True, dominance=True)
    total = problem.total_weight
    full = share >= 1.0
    if full and len(red.uncoverable):
        err = InfeasibleError(
            f"{len(red.uncoverable)} demand point(s) cannot be reached within T={radius:g} by any allowed "
            f"site: {_ids(problem, red.uncoverable)}",
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
                f"{_ids(problem, red.uncoverable, 20)})",
                field="coverage",
            )
            err.uncovered = [problem.demand_ids[i] for i in red.uncoverable]
            raise err
        # within the tolerance above, the share may ask for a hair more than is reachable: clamp
        target = min(max(0.0, need - red.fixed_weight), float(red.weights.sum()))
    left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
    if full:
        status, chosen, bound, used = _min_cover(
            red.cover, red.weights, backend, None if left is None else max(left, 1e-3)
        )
    else:
        assert target is not None  # set above whenever a share is asked
        status, chosen, bound, used = _partial_cover(red.cover, red.weights, target, backend, left, red.stats)
    if chosen is None:  # time limit without any solution (greedy always finds one, so rare)
        return _result(
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
    cw = _covered_weight(problem, open_rows, radius)
    extra = {"covered_weight": cw, "covered_share": cw / total if total > 0 else 1.0, "reduction": red.stats}
    return _result(
        problem,
        "lscp",
        status,
        float(len(open_rows)),
        bound + n_fixed,
        open_rows,
        _assign(problem, open_rows, radius),
        t0,
        used,
        extra,
    )


# ----------------------------------------------------------------------------- MCLP
#: SCIP settings for covering MIPs, measured on the zone's greenfield MCLP (2,024 sites x 8,773 cells,
#: p = 14): no presolve restart (it re-solved the 10 s root LP), fewer root cut rounds and little
#: strong branching (each strong-branching LP costs ~0.5 s there): full MIP 60 s -> 52 s.
_SCIP_COVER_PARAMS = (
    "presolving/maxrestarts = 0\nseparating/maxroundsroot = 5\n"
    "branching/relpscost/initcand = 20\nbranching/relpscost/maxlookahead = 4\n"
    "branching/relpscost/minreliable = 0\nbranching/relpscost/maxreliable = 1"
)


#: Kernel sizes, in multiples of p, tried in turn by the exact MCLP.
_KERNEL_SIZES = (6, 8, 10, 12)

#: The full MCLP MIP starts from the kernels' incumbent (optimal in every zone run measured), so its
#: work is the proof: primal heuristics off (they found nothing better and cost ~8 s), depth-first
#: search (cheap warm-started node LPs), 15 root cut rounds (root gap 0.55 % -> 0.41 %).
#: Zone greenfield full MIP: 53 s -> 40 s. (Pricing "devex" or "steepest" were 1.5-2x slower.)
#: Strong branching cut to 2 initial candidates with a tenth of the usual simplex iterations (issue
#: 17): the proof spends its time in strong-branching LPs (~2.5 s per node, 5,800 rows), not in
#: nodes. Measured on the zone (pack v2, T = 10 min, the proof MIPs after LP fixing, optimal
#: start): p = 16 (1,141 sites) 88 s -> 28 s (21 -> 11 nodes), p = 15 9.7 -> 7.4 s, p = 8 9.0 ->
#: 7.6 s, p = 14 6.7 -> 4.8 s; initcand 4: 52 s, pure pseudo-cost branching 95 s, inference
#: branching 248 s, no root cuts 105 s; HiGHS and CBC found no proof for p = 16 within 250 s.
_SCIP_PROOF_PARAMS = (
    _SCIP_COVER_PARAMS.replace("separating/maxroundsroot = 5", "separating/maxroundsroot = 15").replace(
        "branching/relpscost/initcand = 20", "branching/relpscost/initcand = 2"
    )
    + "\nbranching/relpscost/sbiterquot = 0.1"
    + "\nnodeselection/dfs/stdpriority = 1000000\n"
    + "\n".join(
        f"heuristics/{h}/freq = -1"
        for h in (
            "actconsdiving adaptivediving alns bound clique coefdiving completesol conflictdiving "
            "crossover dins distributiondiving dps dualval farkasdiving feaspump fixandinfer "
            "fracdiving gins guideddiving indicator indicatordiving intdiving intshifting "
            "linesearchdiving localbranching locks lpface mpec multistart mutation nlpdiving "
            "objpscostdiving octane ofins oneopt padm proximity pscostdiving randrounding rens "
            "reoptsols repair rins rootsoldiving rounding scheduler shiftandpropagate shifting "
            "simplerounding subnlp trivial trivialnegation trustregion twoopt undercover vbounds "
            "veclendiving zeroobj zirounding"
        ).split()
    )
)


_GLOP_COVER_PARAMS = "optimization_rule: DANTZIG, feasibility_rule: DANTZIG"


def _mclp_model(cover: np.ndarray, w: np.ndarray, p: int, integer: bool = True) -> Mip:
    """The MCLP on a boolean ``(sites, groups)`` cover matrix: site columns first (binary when
    ``integer``), then one coverage column per group with weight ``w``; ``z_g <= sum of its
    sites``, ``sum of sites <= p``."""
    n, m = cover.shape
    mip = Mip()
    y = mip.add_vars(n, 0, 1, 0.0, integer=integer)
    z = mip.add_vars(m, 0, 1, w)
    g, k = np.nonzero(cover.T)
    mip.add_rows(
        m,
        np.concatenate([g, np.arange(m)]),
        np.concatenate([y[k], z]),
        np.concatenate([np.full(len(g), -1.0), np.ones(m)]),
        -np.inf,
        0.0,
    )
    mip.add_rows(1, np.zeros(n), y, 1.0, -np.inf, float(p))
    return mip


def _mclp_lp(cover: np.ndarray, w: np.ndarray, p: int, time_limit: float | None = None):
    """LP relaxation of the MCLP with GLOP: ``(LP bound, y values, y reduced costs)`` or ``None``
    (also when ``time_limit`` seconds run out)."""
    import ortools.linear_solver.pywraplp as pywraplp

    n = cover.shape[0]
    mip = _mclp_model(cover, w, p, integer=False)
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None or solver.LoadModelFromProto(mip.proto(maximize=True)):
        return None
    if time_limit is not None:
        solver.SetTimeLimit(max(1, int(time_limit * 1000)))
    # Dantzig pricing: 1.1 s instead of 4.0 s (steepest edge) on the zone greenfield LP; devex took 29 s
    solver.SetSolverSpecificParametersAsString(_GLOP_COVER_PARAMS)
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    variables = solver.variables()
    rc = np.array([variables[j].reduced_cost() for j in range(n)])
    val = np.array([variables[j].solution_value() for j in range(n)])
    return solver.Objective().Value(), val, rc


def _mclp_mip(cover, w, p, hint_sites, backend, time_limit, offset=0.0, params=None, exact=True):
    """MCLP MIP on a boolean cover matrix; returns ``(MipOutcome, chosen sites or None)``."""
    n, m = cover.shape
    mip = _mclp_model(cover, w, p)
    hint_sites = np.asarray(hint_sites, dtype=np.int64)
    hint = np.zeros(n + m)
    hint[hint_sites] = 1.0
    hint[n:] = cover[hint_sites].any(axis=0)
    out, x = mip.solve(
        maximize=True,
        backend=backend,
        time_limit=time_limit,
        hint=hint,
        offset=offset,
        params=params if backend == "SCIP" else None,
        exact=exact,
    )
    return out, (None if x is None else np.flatnonzero(x[:n] > 0.5))


def _mclp_exact(cover, w, p, heur, backend, time_limit, stats):
    """Exact MCLP: LP relaxation, a kernel MIP for a strong incumbent, reduced-cost fixing, full MIP.

    1. The LP relaxation (GLOP) gives a bound and reduced costs.
    2. *Kernel* MIPs over the sites the LP uses (plus the heuristic's) and the next best by
       reduced cost, 6p, 8p, ... sites, until a kernel brings no improvement, find a strong
       solution quickly; it is feasible for the whole problem.
    3. Reduced-cost fixing: a site at 0 in the LP with reduced cost ``d`` cannot be in a solution
       covering more than ``LP + d`` (LP duality); below the incumbent, the site is dropped — exact.
    4. The MIP on the kept sites, warm-started with the incumbent, proves optimality (SCIP with
       the proof-only settings ``_SCIP_PROOF_PARAMS``).
    Returns ``(MipOutcome-like status, bound, chosen site indices)``.
    """
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit

    def left():
        return None if deadline is None else deadline - time.perf_counter()

    best = np.asarray(heur, dtype=np.int64)
    best_w = float(w[cover[best].any(axis=0)].sum())
    lp = _mclp_lp(cover, w, p, left())
    stats["lp_s"] = round(time.perf_counter() - t0, 2)
    keep = np.arange(cover.shape[0])
    if lp is not None:
        lp_bound, val, rc = lp
        stats["lp_bound"] = lp_bound
        if lp_bound <= best_w + 1e-9 * max(1.0, abs(best_w)):
            stats["proven_by_lp"] = True  # the start reaches the LP bound: no kernel, no MIP
            return OPTIMAL, lp_bound, best
        support = np.union1d(np.flatnonzero(val > 1e-9), best)
        order = np.argsort(-rc, kind="stable")
        order = order[~np.isin(order, support)]
        # kernels of growing size (LP support + the best reduced costs), each warm-started with
        # the incumbent, until one brings no improvement: on the zone greenfield (p = 14) the 6p
        # and 8p kernels found the optimum in 1.5 s where one 12p kernel took 8 s
        kt = None if time_limit is None else 0.2 * max(0.0, left())
        tk = time.perf_counter()
        kernel = support
        for size in _KERNEL_SIZES:
            if kt is not None and time.perf_counter() - tk >= kt:
                break
            kernel = np.union1d(support, order[: max(0, size * p - len(support))])
            sub = cover[kernel]
            live = sub.any(axis=0)
            kc, kw, _ = merge_columns(sub[:, live], w[live])
            pos = {int(j): i for i, j in enumerate(kernel)}
            budget = None if kt is None else max(1e-3, kt - (time.perf_counter() - tk))
            _, ch = _mclp_mip(
                kc,
                kw,
                p,
                np.array([pos[int(j)] for j in best], dtype=np.int64),
                backend,
                budget,
                params=_SCIP_COVER_PARAMS,
                exact=False,
            )  # an incumbent, no proof
            improved = False
            if ch is not None:
                cand = kernel[ch]
                cw = float(w[cover[cand].any(axis=0)].sum())
                if cw > best_w * (1 + 1e-9):
                    best, best_w, improved = cand, cw, True
            if not improved or len(kernel) >= cover.shape[0]:
                break
            if kt is not None and time.perf_counter() - tk >= kt:
                break
        stats["kernel_sites"] = int(len(kernel))
        stats["kernel_mip_s"] = round(time.perf_counter() - t0 - stats["lp_s"], 2)
        stats["incumbent_before_full_mip"] = best_w
        margin = 1e-6 * max(1.0, abs(best_w)) + 1e-6
        if lp_bound <= best_w + 1e-9 * max(1.0, abs(best_w)):
            stats["proven_by_lp"] = True  # the LP bound is reached: no MIP needed
            return OPTIMAL, lp_bound, best
        drop = (val < 1e-9) & (lp_bound + rc < best_w - margin)
        drop[best] = False
        keep = np.flatnonzero(~drop)
        stats["sites_fixed_by_lp"] = int(cover.shape[0] - len(keep))
    sub = cover[keep]
    live = sub.any(axis=0)
    fc, fw, _ = merge_columns(sub[:, live], w[live])
    stats["demand_after_lp_fixing"] = int(fc.shape[1])
    pos = {int(j): i for i, j in enumerate(keep)}
    remaining = left()
    if remaining is not None and remaining <= 0:
        stats["full_mip_s"] = 0.0
        return FEASIBLE, (lp[0] if lp is not None else float("nan")), best
    out, ch = _mclp_mip(
        fc, fw, p, np.array([pos[int(j)] for j in best], dtype=np.int64), backend, remaining, params=_SCIP_PROOF_PARAMS
    )
    stats["full_mip_s"] = round(out.seconds, 2)
    if ch is None:
        return FEASIBLE, (lp[0] if lp is not None else float("nan")), best
    chosen = keep[ch]
    bound = out.bound
    if out.status == FEASIBLE and lp is not None:  # the LP bound when the MIP has none (nan) or a weaker one
        bound = lp[0] if not np.isfinite(bound) else min(bound, lp[0])
    return out.status, bound, chosen


def _mclp_reduced(cover, w, p, backend, time_limit, stats):
    """MCLP on a reduced boolean cover matrix: trivial cases, greedy + swap, then the exact path.

    Returns ``(status, bound or nan, chosen rows, solver name)``.
    """
    n, m = cover.shape
    if p >= n or m == 0:
        return OPTIMAL, float("nan"), np.arange(n), "trivial"
    Cmat = 1.0 - cover.astype(np.float32)
    th = time.perf_counter()
    heur, _ = greedy_interchange(
        Cmat,
        w,
        p,
        base=np.ones(m, dtype=np.float32),
        time_budget=5.0 if time_limit is None else min(5.0, 0.1 * time_limit),
        dtype=np.float32,
    )
    stats["heuristic_s"] = round(time.perf_counter() - th, 2)
    del Cmat
    if float(w[~cover[heur].any(axis=0)].sum()) <= 1e-12 * max(1.0, float(w.sum())):
        return OPTIMAL, float("nan"), heur, "greedy"  # covers every coverable group: optimal
    full = greedy_cover(cover, w, max_sites=p)  # a full cover within p?
    if full is not None:
        return OPTIMAL, float("nan"), full, "greedy-cover"
    left = None if time_limit is None else time_limit - (time.perf_counter() - th)
    status, bound, chosen = _mclp_exact(cover, w, p, heur, backend, left, stats)
    return status, bound, chosen, backend


def mclp(
    problem: Problem,
    p: int,
    radius: float,
    *,
    capacity=None,
    time_limit: float | None = None,
    solver: str | None = None,
) -> SolveResult:
    """Maximal covering location: ``p`` sites maximising the demand weight within ``radius``.

    Parameters
    ----------
    problem : Problem
    p : int
        Number of open sites, fixed sites included (``len(fixed) <= p <= allowed sites``).
    radius : float
        Coverage threshold T (same unit as the costs); covered means ``cost <= T``.
    capacity : float or array_like, optional
        Capacitated variant: each open site serves at most this much demand weight (one number,
        or one per site in site order). Assignment variables are **fractional**: a demand
        point's weight may be split over several open sites within T (the usual LP-assignment
        relaxation; integral site choice). ``objective`` is then the served weight.
    time_limit : float, optional
        Seconds for the MIP.
    solver : str, optional
        ``SCIP`` (default), ``HIGHS`` or ``CBC``.

    Returns
    -------
    SolveResult
        ``objective`` = covered (served) weight. ``sites`` has exactly ``p`` entries: when fewer
        sites already cover everything coverable, unused allowed sites are added in input order.
        ``extra``: ``covered_share``, ``reduction`` and, capacitated, ``served_by_site``.
    """
    problem = check_problem(problem)
    t0 = time.perf_counter()
    radius = _check_radius(radius, costs=problem.cost)
    p = problem.check_p(p)
    time_limit = check_time_limit(time_limit)
    if capacity is not None:
        return _mclp_capacitated(problem, p, radius, capacity, time_limit, _backend(solver, "mclp_capacitated"), t0)
    backend = _backend(solver, "mclp")
    red = reduce_cover(problem, radius, drop_fixed_covered=True, dominance=True)
    pc = p - problem.n_fixed
    status, bound, chosen, used = _mclp_reduced(red.cover, red.weights, pc, backend, time_limit, red.stats)
    return _mclp_result(problem, red, p, radius, status, bound, chosen, used, t0, red.stats)


def _mclp_result(problem, red, p, radius, status, bound, chosen, used, t0, stats) -> SolveResult:
    """An MCLP answer on the reduced matrix ``red`` as a :class:`SolveResult` on ``problem``."""
    total = problem.total_weight
    bound_extra = bound + red.fixed_weight if np.isfinite(bound) else bound
    open_rows = np.concatenate([np.flatnonzero(problem.fixed), red.site_idx[np.asarray(chosen, dtype=np.int64)]])
    open_rows = _pad(problem, open_rows, p)
    cw = _covered_weight(problem, open_rows, radius)
    extra = {"covered_share": cw / total if total > 0 else 1.0, "reduction": stats}
    return _result(
        problem, "mclp", status, cw, bound_extra, open_rows, _assign(problem, open_rows, radius), t0, used, extra
    )


# ----------------------------------------------------------------------------- MCLP frontier
_FRONTIER: dict[str, Any] = {}  # per worker process: the reduced cover matrix and weights, set once


def _frontier_init(cover, w, backend):
    _FRONTIER.update(cover=cover, w=w, backend=backend)


def _frontier_pool_job(data, pc, start, time_limit, upper):
    """:func:`_frontier_job` in a pool worker: the matrix comes with the job (bit-packed; unpacked
    once per worker), not with the worker's start, which the parent makes with signals blocked."""
    token, packed, m, w, backend = data
    if _FRONTIER.get("token") != token:
        _frontier_init(np.unpackbits(packed, axis=1, count=m).astype(bool), w, backend)
        _FRONTIER["token"] = token
    return _frontier_job(pc, start, time_limit, upper)


def _frontier_job(pc, start, time_limit, upper):
    """One point of the frontier in a worker: the exact MCLP from ``start``; ``upper``, a bound
    known from another point (the optimum for a larger p), proves ``start`` optimal when reached."""
    t0 = time.perf_counter()
    cover, w, backend = _FRONTIER["cover"], _FRONTIER["w"], _FRONTIER["backend"]
    stats = {}
    start_w = float(w[cover[start].any(axis=0)].sum())
    if upper is not None and start_w >= upper - 1e-9 * max(1.0, abs(upper)):
        stats["proven_by_larger_p"] = True
        return OPTIMAL, upper, np.asarray(start), backend, stats, time.perf_counter() - t0
    status, bound, chosen = _mclp_exact(cover, w, pc, start, backend, time_limit, stats)
    return status, bound, np.asarray(chosen), backend, stats, time.perf_counter() - t0


def _add_greedy(cover, w, sites, k):
    """``sites`` plus ``k`` sites added greedily by covered weight."""
    sites = [int(j) for j in sites]
    if k <= 0:
        return np.array(sorted(sites), dtype=np.int64)
    covf = cover.astype(np.float32)
    unc = ~cover[sites].any(axis=0) if sites else np.ones(cover.shape[1], dtype=bool)
    for _ in range(k):
        gains = covf @ (w * unc).astype(np.float32)
        gains[sites] = -1.0
        j = int(np.argmax(gains))
        sites.append(j)
        unc &= ~cover[j]
    return np.array(sorted(sites), dtype=np.int64)


def mclp_frontier(
    problem: Problem,
    ps,
    radius: float,
    *,
    time_limit: float | None = None,
    solver: str | None = None,
    workers: int = 1,
    on_point=None,
) -> list[SolveResult]:
    """The MCLP for several ``p`` in one pass (a greenfield frontier), each point solved exactly.

    Work shared across ``p``: one reduction of the coverage matrix (valid for every ``p``); one
    chain of greedy + interchange heuristics, each ``p`` starting from the answer for ``p - 1``
    plus its best site; then the exact solve (:func:`mclp`'s LP, kernels, LP fixing, proof MIP)
    of each point in ascending ``p``, started from the better of its heuristic and the optimum of
    ``p - 1`` plus a greedy site. A point whose LP bound is reached needs no MIP; with several
    ``workers``, a point whose start reaches the proven optimum of a larger ``p`` (finished
    earlier on another process) is proven without one (the MCLP optimum never falls as ``p``
    grows). Answers equal :func:`mclp` solved for each ``p`` (equal objectives; the sites may
    differ between equally good choices).

    Parameters
    ----------
    problem : Problem
    ps : iterable of int
        The numbers of sites (fixed sites included), each validated like :func:`mclp`'s ``p``.
    radius : float
        Coverage threshold T.
    time_limit : float, optional
        Seconds per point (as for :func:`mclp`).
    solver : str, optional
        ``SCIP`` (default), ``HIGHS`` or ``CBC``.
    on_point : callable, optional
        Called as ``on_point(p, status)`` as soon as each point is solved (in the order they
        finish): a progress bar advances per point instead of jumping at the end.
    workers : int
        Processes for the exact solves (1, the default: in this process, one point after the
        other). With more, the pool is started before the heuristic chain (its start-up overlaps
        the chain), the largest ``p`` (the longest proof) is given to one worker first and the
        others, in ascending order, to the rest. Measured on the zone (p = 8..16, T = 10 min,
        2,206 candidates, 2-core machine, issue 17): ``workers=2`` 53.0-53.6 s in three runs
        (idle machine; p = 16 alone 46 s, the critical path, while p = 8..15 take ~45 s on the
        other core, each point as fast as with one process), ``workers=1`` 93-95 s, each p solved
        on its own 109-115 s (174.5 s and 249.8 s before the proof MIP's strong branching was cut).
        Next to another job (a test suite on one core) ``workers=2`` took 99 s: two workers pay
        only on an otherwise idle machine. (Earlier 2-process measurements, 537 s against 379 s,
        were taken on a loaded machine with the old ascending order.)

    Returns
    -------
    list of SolveResult
        One per ``p`` in ascending order; ``extra["p"]`` is its ``p``, ``extra["frontier"]`` what
        was reused.
    """
    import concurrent.futures as cf
    import logging
    import os

    from ..procs import WorkerPool

    radius = _check_radius(radius, costs=problem.cost)
    time_limit = check_time_limit(time_limit)
    ps = sorted({problem.check_p(p) for p in ps})
    if not ps:
        raise ModelInputError("expected at least one number of sites", field="p")
    backend = _backend(solver, "mclp")
    workers = max(1, int(workers))
    log = logging.getLogger("kazerne")
    red = reduce_cover(problem, radius, drop_fixed_covered=True, dominance=True)
    cover, w = red.cover, red.weights
    n, m = cover.shape
    nf = problem.n_fixed
    done: dict[int, tuple] = {}  # p -> (status, bound, chosen, used, stats, seconds)

    def finished(p):
        if on_point is not None:
            on_point(p, done[p][0])

    starts = {}
    pool = None
    try:
        if workers > 1 and len(ps) > 1 and m:
            # started before the heuristic chain, so the workers' start-up (imports) overlaps it;
            # spawn (fork is unsafe with solver threads in the parent); workers that die with this
            # process and are stopped with it (Ctrl-C, SIGTERM, an error), see kazerne/procs.py
            pool = WorkerPool(max_workers=workers)
            pool.prestart()
            packed = np.packbits(cover.astype(bool, copy=False), axis=1)
            job_data = (f"{os.getpid()}-{id(pool)}", packed, m, w, backend)
        # --- trivial points, and the smallest count covering everything coverable
        full = greedy_cover(cover, w) if m else np.zeros(0, dtype=np.int64)
        Cmat = 1.0 - cover.astype(np.float32) if m else None
        prev = None
        th = time.perf_counter()
        for p in ps:
            pc = p - nf
            if pc >= n or m == 0:
                done[p] = (OPTIMAL, float("nan"), np.arange(n), "trivial", {}, 0.0)
                finished(p)
                continue
            if full is not None and len(full) <= pc:
                done[p] = (OPTIMAL, float("nan"), full, "greedy-cover", {}, 0.0)
                finished(p)
                continue
            init: np.ndarray | None = None if prev is None else _add_greedy(cover, w, prev, pc - len(prev))
            assert Cmat is not None  # m > 0 here
            heur, _ = greedy_interchange(
                Cmat, w, pc, base=np.ones(m, dtype=np.float32), init=init, time_budget=5.0, dtype=np.float32
            )
            if float(w[~cover[heur].any(axis=0)].sum()) <= 1e-12 * max(1.0, float(w.sum())):
                done[p] = (OPTIMAL, float("nan"), heur, "greedy", {}, 0.0)
                finished(p)
            starts[p] = heur
            prev = heur
        heur_s = time.perf_counter() - th
        del Cmat
        todo = [p for p in ps if p not in done]

        def value(sites):
            return float(w[cover[np.asarray(sites, dtype=np.int64)].any(axis=0)].sum())

        def best_start(p):
            start = starts[p]
            below = [q for q in done if q < p and done[q][0] == OPTIMAL and q - nf < p - nf]
            if below:
                q = max(below)
                alt = _add_greedy(cover, w, done[q][2], (p - nf) - len(done[q][2]))
                if len(alt) == p - nf and value(alt) > value(start):
                    return alt, f"optimum for p={q} plus greedy sites"
            return start, "heuristic chain"

        def upper_for(p):
            above = [done[q][1] for q in done if q > p and done[q][0] == OPTIMAL and np.isfinite(done[q][1])]
            return min(above) if above else None

        origin = {}
        if todo and (pool is None or len(todo) == 1):
            _frontier_init(cover, w, backend)
            for p in todo:
                start, origin[p] = best_start(p)
                done[p] = _frontier_job(p - nf, start, time_limit, upper_for(p))
                finished(p)
        elif todo:
            assert pool is not None
            # the largest p first (the longest proof), the others in ascending order on the other
            # worker(s), each started from the optimum of the largest smaller p proven so far
            queue = [todo[-1], *todo[:-1]]
            running: dict[Any, int] = {}
            while queue or running:
                while queue and len(running) < workers:
                    p = queue.pop(0)
                    start, origin[p] = best_start(p)
                    running[pool.submit(_frontier_pool_job, job_data, p - nf, start, time_limit, upper_for(p))] = p
                fin, _ = cf.wait(list(running), return_when=cf.FIRST_COMPLETED)
                for f in fin:
                    q = running.pop(f)
                    done[q] = f.result()
                    finished(q)
    except BaseException:
        if pool is not None:
            pool.stop()
        raise
    else:
        if pool is not None:
            pool.shutdown(wait=True)
    out = []
    for p in ps:
        status, bound, chosen, used, stats, secs = done[p]
        stats = {**red.stats, **stats, "p": p}
        res = _mclp_result(problem, red, p, radius, status, bound, chosen, used, time.perf_counter() - secs, stats)
        res.extra["p"] = p
        res.extra["frontier"] = {
            "start": origin.get(p, "no exact solve needed"),
            "workers": workers,
            "heuristic_chain_s": round(heur_s, 2),
        }
        out.append(res)
        log.debug("mclp frontier p=%d: %s %.1f in %.1f s", p, res.status, res.objective, secs)
    return out


def _mclp_capacitated(problem, p, radius, capacity, time_limit, backend, t0):
    try:
        cap = np.broadcast_to(np.asarray(capacity, dtype=np.float64), (problem.n_sites,))
    except (TypeError, ValueError):
        raise ModelInputError(
            f"expected one number or one per site ({problem.n_sites}), got {capacity!r}", field="capacity"
        ) from None
    if not np.isfinite(cap).all() or (cap < 0).any():
        raise ModelInputError("expected finite capacities >= 0", field="capacity")
    red = reduce_cover(problem, radius, drop_fixed_covered=False, dominance=False)
    n, m = red.cover.shape
    k, g = np.nonzero(red.cover)  # pairs (site, group)
    npair = len(k)
    mip = Mip()
    y = mip.add_vars(n, red.fixed_in_model.astype(float), 1, 0.0, integer=True)
    x = mip.add_vars(npair, 0, 1, red.weights[g])
    # each group served at most once
    mip.add_rows(m, g, x, 1.0, -np.inf, 1.0)
    # capacity: sum_g w_g x_kg - cap_k y_k <= 0
    capk = cap[red.site_idx]
    mip.add_rows(
        n,
        np.concatenate([k, np.arange(n)]),
        np.concatenate([x, y]),
        np.concatenate([red.weights[g], -capk]),
        -np.inf,
        0.0,
    )
    if npair <= 2_000_000:  # x_kg <= y_k: a much tighter LP, at twice the nonzeros
        mip.add_rows(
            npair,
            np.concatenate([np.arange(npair)] * 2),
            np.concatenate([x, y[k]]),
            np.concatenate([np.ones(npair), -np.ones(npair)]),
            -np.inf,
            0.0,
        )
    mip.add_rows(1, np.zeros(n), y, 1.0, -np.inf, float(p))
    out, sol = mip.solve(maximize=True, backend=backend, time_limit=time_limit)
    total = problem.total_weight
    if sol is None:
        fixed_rows = np.flatnonzero(problem.fixed)
        return _result(
            problem,
            "mclp",
            out.status if out.status != INFEASIBLE else INFEASIBLE,
            float("nan"),
            float("nan"),
            fixed_rows,
            np.full(problem.n_demand, -1),
            t0,
            backend,
            {"reduction": red.stats, "capacitated": True},
        )
    chosen = np.flatnonzero(sol[y] > 0.5)
    xs = sol[x]
    share = np.zeros((m,))
    best_site = np.full(m, -1, dtype=np.int64)
    best_x = np.zeros(m)
    order = np.argsort(xs, kind="stable")
    best_x[g[order]] = xs[order]  # last write wins: the largest share per group
    best_site[g[order]] = red.site_idx[k[order]]
    np.add.at(share, g, xs)
    served = np.bincount(k, weights=red.weights[g] * xs, minlength=n)
    served_weight = float((red.weights[g] * xs).sum())
    open_rows = _pad(problem, red.site_idx[chosen], p)
    grp = red.group_of
    site_ext = np.append(best_site, -1)  # group -1 (set aside) -> -1
    share_ext = np.append(share, 0.0)
    assignment = np.where(share_ext[grp] > 1e-9, site_ext[grp], -1).astype(np.int64)
    extra = {
        "capacitated": True,
        "covered_share": served_weight / total if total > 0 else 1.0,
        "served_by_site": {problem.site_ids[red.site_idx[j]]: float(served[j]) for j in chosen},
        "assignment_note": "fractional assignment; assignment[i] is the site with the largest share",
        "reduction": red.stats,
    }
    return _result(problem, "mclp", out.status, served_weight, out.bound, open_rows, assignment, t0, backend, extra)


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
    backend = _backend(solver, "pmedian")
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
            f"allowed site: {_ids(problem, unreach, 50)}",
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
                chosen, status, bound, used = heur, OPTIMAL, ub, "lagrangian"
            else:
                keep = ~lag["close"] & ~lag["open"]
                opened = np.flatnonzero(lag["open"])
                base2 = np.minimum(base, C[opened].min(axis=0)) if len(opened) else base
                pc2 = pc - len(opened)
                kept = np.flatnonzero(keep)
                cap = np.maximum(lag["cap"], d_heur)
                if pc2 <= 0 or pc2 >= len(kept):
                    sel = kept if pc2 > 0 else np.zeros(0, dtype=np.int64)
                    chosen, status, bound = np.concatenate([opened, sel]), OPTIMAL, float("nan")
                    used = "lagrangian"
                else:
                    pos = np.full(len(C), -1)
                    pos[kept] = np.arange(len(kept))
                    heur2 = pos[heur][pos[heur] >= 0]
                    if len(heur2) != pc2:
                        heur2 = np.zeros(0, dtype=np.int64)
                    ch2 = None
                    mip_limit = time_limit
                    if pc2 <= BNB_MAX_P and len(heur2) == pc2:
                        budget = BNB_SECONDS if deadline is None else BNB_SHARE * _left(deadline)
                        tb = time.perf_counter()
                        sol, val, proven, nodes = lagrangian_branch_and_bound(
                            C[kept], w, pc2, base2, ub, heur2, integral, time_budget=budget
                        )
                        stats["bnb_nodes"] = nodes
                        stats["bnb_s"] = round(time.perf_counter() - tb, 2)
                        if time_limit is not None:  # the MIP gets what the branch and bound left
                            mip_limit = max(1.0, time_limit - (time.perf_counter() - tb))
                        if proven:
                            ch2, used = sol, "lagrangian-bnb"
                            out = MipOutcome(OPTIMAL, val, val, 0.0, 0.0)
                        else:
                            ub = val
                            heur2 = sol
                    if ch2 is None:
                        out, ch2, size = _pmedian_mip(
                            C[kept], w, base2, pc2, ub, heur2, backend, mip_limit, cap_extra=cap, deadline=deadline
                        )
                        stats.update(size)
                        if out is None:  # no time left for the exact model: the best solution found
                            out = MipOutcome(FEASIBLE, ub, lb, relative_gap(ub, lb), 0.0)
                            ch2 = heur2 if len(heur2) == pc2 else None
                    if ch2 is not None:
                        chosen, status, bound = np.concatenate([opened, kept[ch2]]), out.status, out.bound
                        if status != OPTIMAL and not (np.isfinite(bound) and bound >= lb):
                            bound = lb  # the Lagrangian bound when the MIP has none (nan) or a weaker one
                    elif out.status == INFEASIBLE:  # nothing better than the heuristic exists
                        chosen, status, bound = heur, OPTIMAL, ub
                    else:
                        chosen, status, bound = heur, FEASIBLE, lb
        else:
            out, chosen, size = _pmedian_mip(C, w, base, pc, ub, heur, backend, time_limit, deadline=deadline)
            stats.update(size)
            if out is None:  # no time left to build the model: stopped without a solution
                out = MipOutcome(TIME_LIMIT, float("nan"), float("nan"), float("nan"), 0.0)
            if out.status == INFEASIBLE:
                raise InfeasibleError(f"no {p} allowed sites reach every demand point with positive weight", field="p")
            if chosen is None:
                return _result(
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
    open_rows = _pad(problem, np.concatenate([fixed_rows, cand[chosen]]), p)
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
    return _result(
        problem, "pmedian", status, objective, bound, open_rows, _assign(problem, open_rows), t0, used, extra
    )


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
    backend = _backend(solver, "pcenter")
    dem = np.flatnonzero(problem.weights > 0)
    allowed = ~problem.closed
    if len(dem) == 0:
        open_rows = _pad(problem, np.flatnonzero(problem.fixed), p)
        return _result(problem, "pcenter", OPTIMAL, 0.0, 0.0, open_rows, _assign(problem, open_rows), t0, "trivial", {})
    near = problem.cost[np.ix_(np.flatnonzero(allowed), dem)].min(axis=0)
    if not np.isfinite(near).all():
        bad = dem[~np.isfinite(near)]
        raise InfeasibleError(
            f"{len(bad)} demand point(s) cannot be reached by any allowed site: {_ids(problem, bad, 50)}", field="cost"
        )
    lb = float(near.max())
    sub = problem.cost[allowed][:, dem]
    radii = np.unique(sub[np.isfinite(sub) & (sub >= lb)])
    del sub
    pc = p - problem.n_fixed
    cache: dict[int, Any] = {}

    def greedy_ok(k):
        red = reduce_cover(problem, float(radii[k]), drop_fixed_covered=True, dominance=False)
        g = greedy_cover(red.cover, red.weights, max_sites=pc)
        return None if g is None else red.site_idx[g]

    def exact(k):
        if k in cache:
            return cache[k]
        red = reduce_cover(problem, float(radii[k]), drop_fixed_covered=True, dominance=True)
        status, chosen, _, _ = _min_cover(red.cover, red.weights, backend, _remaining(deadline), max_sites=pc)
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

    # upper bound: smallest radius at which the greedy cover fits (binary search, not monotone -> heuristic)
    lo_k, hi_k = 0, len(radii) - 1
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
    checks = 0
    if best_k is None:
        ok, s = exact(hi_k)
        checks += 1
        if ok is False:
            raise InfeasibleError(f"no {p} allowed sites reach every demand point with positive weight", field="p")
        if ok is None:
            return _result(
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
    a, b = lo_k, best_k
    status = OPTIMAL
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
    open_rows = _pad(problem, np.concatenate([np.flatnonzero(problem.fixed), best_sites]), p)
    dist = problem.cost[open_rows][:, dem].min(axis=0)
    objective = float(dist.max())
    bound = float(radii[a]) if status != OPTIMAL else objective
    return _result(
        problem,
        "pcenter",
        status,
        objective,
        bound,
        open_rows,
        _assign(problem, open_rows),
        t0,
        backend,
        {"checks": checks, "lower_bound_start": lb},
    )


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
    radius = _check_radius(radius, costs=problem.cost)
    p = problem.check_p(p)
    share = _check_share(min_primary, "min_primary")
    time_limit = check_time_limit(time_limit)
    backend = _backend(solver, "backup")
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
        return _result(
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
    open_rows = _pad(problem, red.site_idx[np.flatnonzero(x[y] > 0.5)], p)
    cnt = (problem.cost[open_rows] <= radius).sum(axis=0)
    prim = float(problem.weights[cnt >= 1].sum())
    twice = float(problem.weights[cnt >= 2].sum())
    extra = {
        "primary_weight": prim,
        "primary_share": prim / total if total > 0 else 1.0,
        "backup_share": twice / total if total > 0 else 1.0,
        "reduction": red.stats,
    }
    return _result(
        problem,
        "backup",
        out.status,
        twice,
        out.bound,
        open_rows,
        _assign(problem, open_rows, radius),
        t0,
        backend,
        extra,
    )
