"""Maximal covering (MCLP): plain, capacitated, and the frontier over p (exact, in parallel). Reached
through :mod:`kazerne.coverage.models`."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..checks import check_problem, check_time_limit
from ..errors import ModelInputError
from .heuristics import greedy_cover, greedy_interchange
from .mip import Mip
from .modelkit import (
    assign_nearest,
    check_radius,
    covered_weight,
    make_result,
    pad_sites,
    solver_backend,
)
from .problem import Problem
from .reduce import merge_columns, reduce_cover
from .result import FEASIBLE, INFEASIBLE, OPTIMAL, SolveResult

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


def mclp_reduced(cover, w, p, backend, time_limit, stats):
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
    radius = check_radius(radius, costs=problem.cost)
    p = problem.check_p(p)
    time_limit = check_time_limit(time_limit)
    if capacity is not None:
        return _mclp_capacitated(
            problem, p, radius, capacity, time_limit, solver_backend(solver, "mclp_capacitated"), t0
        )
    backend = solver_backend(solver, "mclp")
    red = reduce_cover(problem, radius, drop_fixed_covered=True, dominance=True)
    pc = p - problem.n_fixed
    status, bound, chosen, used = mclp_reduced(red.cover, red.weights, pc, backend, time_limit, red.stats)
    return _mclp_result(problem, red, p, radius, status, bound, chosen, used, t0, red.stats)


def _mclp_result(problem, red, p, radius, status, bound, chosen, used, t0, stats) -> SolveResult:
    """An MCLP answer on the reduced matrix ``red`` as a :class:`SolveResult` on ``problem``."""
    total = problem.total_weight
    bound_extra = bound + red.fixed_weight if np.isfinite(bound) else bound
    open_rows = np.concatenate([np.flatnonzero(problem.fixed), red.site_idx[np.asarray(chosen, dtype=np.int64)]])
    open_rows = pad_sites(problem, open_rows, p)
    cw = covered_weight(problem, open_rows, radius)
    extra = {"covered_share": cw / total if total > 0 else 1.0, "reduction": stats}
    return make_result(
        problem, "mclp", status, cw, bound_extra, open_rows, assign_nearest(problem, open_rows, radius), t0, used, extra
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


class _Frontier:
    """The state of :func:`mclp_frontier` across its points: the reduced cover, the answers so far
    (``done``: p -> (status, bound, chosen, used, stats, seconds)), each point's heuristic start and
    where its exact solve started from (``origin``)."""

    def __init__(self, cover: np.ndarray, w: np.ndarray, nf: int, on_point):
        self.cover, self.w, self.nf, self.on_point = cover, w, nf, on_point
        self.done: dict[int, tuple] = {}
        self.starts: dict[int, np.ndarray] = {}
        self.origin: dict[int, str] = {}

    def finished(self, p: int) -> None:
        if self.on_point is not None:
            self.on_point(p, self.done[p][0])

    def heuristic_chain(self, ps: list) -> float:
        """Trivial points, the smallest count covering everything coverable, and the greedy +
        interchange chain: each ``p`` from the answer for the previous one plus greedy sites. Returns
        the chain's seconds."""
        cover, w, nf = self.cover, self.w, self.nf
        n, m = cover.shape
        full = greedy_cover(cover, w) if m else np.zeros(0, dtype=np.int64)
        Cmat = 1.0 - cover.astype(np.float32) if m else None
        prev = None
        th = time.perf_counter()
        for p in ps:
            pc = p - nf
            if pc >= n or m == 0:
                self.done[p] = (OPTIMAL, float("nan"), np.arange(n), "trivial", {}, 0.0)
                self.finished(p)
                continue
            if full is not None and len(full) <= pc:
                self.done[p] = (OPTIMAL, float("nan"), full, "greedy-cover", {}, 0.0)
                self.finished(p)
                continue
            init: np.ndarray | None = None if prev is None else _add_greedy(cover, w, prev, pc - len(prev))
            assert Cmat is not None  # m > 0 here
            heur, _ = greedy_interchange(
                Cmat, w, pc, base=np.ones(m, dtype=np.float32), init=init, time_budget=5.0, dtype=np.float32
            )
            if float(w[~cover[heur].any(axis=0)].sum()) <= 1e-12 * max(1.0, float(w.sum())):
                self.done[p] = (OPTIMAL, float("nan"), heur, "greedy", {}, 0.0)
                self.finished(p)
            self.starts[p] = heur
            prev = heur
        return time.perf_counter() - th

    def value(self, sites) -> float:
        return float(self.w[self.cover[np.asarray(sites, dtype=np.int64)].any(axis=0)].sum())

    def best_start(self, p: int):
        """The better of ``p``'s heuristic and the optimum of the largest smaller ``p`` plus greedy sites."""
        done, nf = self.done, self.nf
        start = self.starts[p]
        below = [q for q in done if q < p and done[q][0] == OPTIMAL and q - nf < p - nf]
        if below:
            q = max(below)
            alt = _add_greedy(self.cover, self.w, done[q][2], (p - nf) - len(done[q][2]))
            if len(alt) == p - nf and self.value(alt) > self.value(start):
                return alt, f"optimum for p={q} plus greedy sites"
        return start, "heuristic chain"

    def upper_for(self, p: int):
        """The smallest proven optimum of a larger ``p`` (a bound for ``p``), or None."""
        done = self.done
        above = [done[q][1] for q in done if q > p and done[q][0] == OPTIMAL and np.isfinite(done[q][1])]
        return min(above) if above else None

    def solve_here(self, todo: list, time_limit, backend: str) -> None:
        """The exact solves in this process, in ascending ``p``."""
        _frontier_init(self.cover, self.w, backend)
        for p in todo:
            start, self.origin[p] = self.best_start(p)
            self.done[p] = _frontier_job(p - self.nf, start, time_limit, self.upper_for(p))
            self.finished(p)

    def solve_in_pool(self, pool, job_data, todo: list, workers: int, time_limit) -> None:
        """The exact solves on the pool: the largest p first (the longest proof), the others in
        ascending order on the other worker(s), each started from the optimum of the largest smaller
        p proven so far."""
        import concurrent.futures as cf

        queue = [todo[-1], *todo[:-1]]
        running: dict[Any, int] = {}
        while queue or running:
            while queue and len(running) < workers:
                p = queue.pop(0)
                start, self.origin[p] = self.best_start(p)
                running[
                    pool.submit(_frontier_pool_job, job_data, p - self.nf, start, time_limit, self.upper_for(p))
                ] = p
            fin, _ = cf.wait(list(running), return_when=cf.FIRST_COMPLETED)
            for f in fin:
                q = running.pop(f)
                self.done[q] = f.result()
                self.finished(q)


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
    import logging
    import os

    from ..procs import WorkerPool

    radius = check_radius(radius, costs=problem.cost)
    time_limit = check_time_limit(time_limit)
    ps = sorted({problem.check_p(p) for p in ps})
    if not ps:
        raise ModelInputError("expected at least one number of sites", field="p")
    backend = solver_backend(solver, "mclp")
    workers = max(1, int(workers))
    log = logging.getLogger("kazerne")
    red = reduce_cover(problem, radius, drop_fixed_covered=True, dominance=True)
    cover, w = red.cover, red.weights
    n, m = cover.shape
    fr = _Frontier(cover, w, problem.n_fixed, on_point)
    done, origin = fr.done, fr.origin
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
        heur_s = fr.heuristic_chain(ps)
        todo = [p for p in ps if p not in done]
        if todo and (pool is None or len(todo) == 1):
            fr.solve_here(todo, time_limit, backend)
        elif todo:
            assert pool is not None
            fr.solve_in_pool(pool, job_data, todo, workers, time_limit)
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
        return make_result(
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
    open_rows = pad_sites(problem, red.site_idx[chosen], p)
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
    return make_result(problem, "mclp", out.status, served_weight, out.bound, open_rows, assignment, t0, backend, extra)
