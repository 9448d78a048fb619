"""EMS placement models with busy units: MEXCLP, MALP I and II and the Double Standard Model.

Ambulances and PIT teams are often busy, so a demand point "covered" by a busy unit is not
covered. The models here place an integer number of units per base.

All models take a :class:`~kazerne.coverage.problem.Problem`, the same validated problem as the
covering models (:func:`~kazerne.coverage.problem.from_cost_matrix` or
:meth:`kazerne.TravelTimes.to_problem`): costs are response times in **seconds** (``inf`` =
unreachable, float32 accepted), the sites are the bases, the weights the demand (calls or
population). "Within T" means ``cost <= T``. The problem's ``closed`` bases receive no unit, its
``fixed`` bases keep at least one. Before solving, demand points with an identical set of covering
bases are merged (weights summed, :func:`kazerne.coverage.reduce.merge_columns`); points that no
open base covers and points of zero weight are dropped (they cannot change the optimum). Sizes
before and after are in ``result.extra["reduction"]``.

Common parameters
-----------------
capacity : int, sequence or dict, optional
    Maximum units per base (scalar for all, per row, or dict base id -> cap). Default:
    unlimited (``n_units``) for MEXCLP / MALP, 2 for the DSM.
min_units : sequence or dict, optional
    Units that must stay at a base (today's units), per row or dict base id -> count.
solver : str
    pywraplp backend (``SCIP`` default, ``HIGHS``, ``CBC``).
time_limit : float, optional
    Seconds; when hit with a solution the status is ``"feasible"`` and the gap is reported.

Status and gap: as in the covering models, ``"optimal"`` means *proven*: the MIP is solved to a
zero relative gap (:class:`kazerne.coverage.mip.Mip`), and ``bound`` and ``gap`` are the solver's
best bound and the resulting gap. Bases whose coverage is contained in that of another base able
to take all ``n`` units are dropped before solving
(``extra["reduction"]["dominated_bases_dropped"]``).

Every model returns a :class:`~kazerne.coverage.result.SolveResult` with
``extra["units"]`` = {base id: units} for bases with at least one unit, ``sites`` = those
bases in input order, and ``assignment`` = index (into ``sites``) of the nearest site for
each demand point (-1 if no site reaches it at all).

References
----------
Daskin (1983) Transp. Sci. 17:48-70 (MEXCLP); ReVelle & Hogan (1989) Transp. Sci. 23:192-200
(MALP I and II); Gendreau, Laporte & Semet (1997) Parallel Computing 23:1655-1665 (DSM).
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..checks import check_number, check_problem
from ..errors import InfeasibleError, ModelInputError
from .emskit import (
    DEFAULT_T,
    EmsFleet,
    cap_text,
    check_q,
    check_run,
    check_t,
    drop_dominated,
    ems_result,
    ids_text,
    make_fleet,
    open_base_rows,
    reduce_units,
    single_radius,
    solve_units,
    unit_columns,
)
from .mip import Mip
from .problem import Problem
from .result import FEASIBLE, INFEASIBLE, OPTIMAL, SolveResult, relative_gap

# --------------------------------------------------------------------------------------
# MEXCLP
# --------------------------------------------------------------------------------------


def mexclp(
    problem: Problem,
    n_units: int,
    q: float,
    t_seconds: float = DEFAULT_T,
    *,
    capacity=None,
    min_units=None,
    solver: str = "SCIP",
    time_limit: float | None = None,
    threads: int | None = None,
    warm_start: bool = True,
    tail_tolerance: float = 0.0,
) -> SolveResult:
    """Maximum Expected Covering Location Problem (Daskin 1983).

    maximise ``sum_i w_i sum_{k=1..n} (1-q) q^(k-1) y_ik`` subject to
    ``sum_k y_ik <= sum_{j covers i} x_j``, ``sum_j x_j = n``, ``min_j <= x_j <= cap_j`` integer,
    ``0 <= y_ik <= 1``. A point covered by ``c`` units contributes ``w_i (1 - q^c)``.

    Parameters
    ----------
    problem : Problem
        Bases (sites) x demand response times in seconds, demand weights, closed / fixed bases.
    n_units : int
        Units to place (>= 1).
    q : float
        System-wide busy fraction in [0, 1) (see :func:`kazerne.coverage.queueing.system_busy_fraction`).
    t_seconds : float
        Coverage standard T, seconds (default 900 = 15 min).
    warm_start : bool
        Run a greedy + swap heuristic first and pass it to the solver as a hint (SCIP uses
        it as a starting incumbent). If the solver stops without any solution, the heuristic
        placement is returned with status ``"feasible"`` and an unknown (``nan``) bound.
    tail_tolerance : float
        0 (default): the exact model with ``y_ik`` for every k up to n. If > 0, only levels
        ``k <= K`` with ``K`` the smallest level where ``q^K <= tail_tolerance`` are modelled
        (a point's remaining expected coverage beyond K units is at most ``w_i q^K``). The
        reported ``objective`` is still the exact expected coverage of the placement, the
        ``bound`` adds ``sum_i w_i q^K`` to the truncated model's bound, so ``gap`` stays a
        proven gap; the status is ``"optimal"`` only when that gap is zero (relative 1e-9).

    Returns
    -------
    SolveResult
        ``objective`` = expected covered weight; ``extra["expected_coverage_share"]`` = objective
        / total weight; ``extra["units"]`` = {base id: units}.
    """
    problem = check_problem(problem)
    time_limit, threads = check_run(solver, time_limit, threads)
    t0 = time.perf_counter()
    prob = make_fleet(problem, n_units, capacity, min_units)
    qv = check_q(q)
    t = check_t(t_seconds, "t_seconds", problem.cost)
    rows, a, aw, stats = single_radius(prob, t)
    n = prob.n_units
    mip = Mip()
    x = unit_columns(mip, prob, rows)
    coef = np.array([(1.0 - qv) * qv ** (k - 1) for k in range(1, n + 1)])
    levels = n
    tail_tolerance = check_number(tail_tolerance, "tail_tolerance", lo=0.0, hi=1.0, hi_open=True)
    if tail_tolerance and tail_tolerance > 0 and qv > 0:
        levels = next((k for k in range(1, n + 1) if qv**k <= tail_tolerance), n)
    levels = min(levels, next((k for k in range(1, n) if coef[k] <= 0.0), n))  # q = 0: one level
    cap_open = prob.cap[rows]
    n_atoms = a.shape[1]
    # y_ik for k = 1..min(levels, units the covering bases can hold): level k of atom i is covered
    kmax = np.minimum(levels, a.T.astype(np.int64) @ cap_open.astype(np.int64))
    y_atom = np.repeat(np.arange(n_atoms), kmax)
    y_level = np.arange(len(y_atom)) - np.repeat(np.cumsum(kmax) - kmax, kmax) + 1
    y = mip.add_vars(len(y_atom), 0.0, 1.0, obj=aw[y_atom] * coef[y_level - 1])
    jj, ii = np.nonzero(a)
    mip.add_rows(  # sum_k y_ik <= units within T of i
        n_atoms,
        np.concatenate([y_atom, ii]),
        np.concatenate([y, x[jj]]),
        np.concatenate([np.ones(len(y)), -np.ones(len(jj))]),
        -np.inf,
        0.0,
    )
    stats.update(variables=mip.n, constraints=mip.m)
    extra = {"reduction": stats, "q": qv, "t_seconds": t}
    heur = None
    hint = None
    if warm_start:
        th = time.perf_counter()
        heur, heur_val = _mexclp_heuristic(a, aw, qv, n, prob.lo[rows], cap_open)
        extra["heuristic_objective"] = heur_val
        extra["heuristic_seconds"] = time.perf_counter() - th
        # a complete hint (x and every y), so SCIP can take it as an incumbent directly
        cnt = (heur[:, None] * a).sum(axis=0)
        hint = np.concatenate([heur.astype(float), (y_level <= cnt[y_atom]).astype(float)])
    out, units = solve_units(mip, prob, rows, x, solver, time_limit, threads, hint)
    extra["solve_seconds"] = out.seconds
    if out.status not in (OPTIMAL, FEASIBLE):
        if heur is None or out.status == INFEASIBLE:
            return ems_result("mexclp", prob, out, None, solver.upper(), t0, extra)
        units = np.zeros(len(prob.base_ids), dtype=np.int64)
        units[rows] = heur
        out.status, out.objective = FEASIBLE, extra["heuristic_objective"]
        extra["from_heuristic"] = True
    if levels < n:
        # exact value of the placement and a bound that covers the truncated levels
        cnt = (units[rows][:, None] * a).sum(axis=0)
        tail = float(np.sum(aw * qv**levels))
        model_obj = out.objective
        out.objective = float(np.dot(aw, 1.0 - qv**cnt))
        out.bound = max(out.bound + tail, out.objective) if np.isfinite(out.bound) else out.bound
        out.gap = relative_gap(out.objective, out.bound)
        if out.status == OPTIMAL and not out.gap <= 1e-9:
            out.status = FEASIBLE
        extra.update(levels=levels, tail_weight=tail, truncated_model_objective=model_obj)
    if (
        heur is not None
        and out.status == FEASIBLE
        and extra["heuristic_objective"] > out.objective + 1e-9 * abs(out.objective)
    ):
        # time limit hit with an incumbent worse than the warm start (hint not used): keep the better one
        units = np.zeros(len(prob.base_ids), dtype=np.int64)
        units[rows] = heur
        out.objective = extra["heuristic_objective"]
        if np.isfinite(out.bound):
            out.bound = max(out.bound, out.objective)
            out.gap = relative_gap(out.objective, out.bound)
        extra["from_heuristic"] = True
    total = float(prob.weights.sum())
    extra["expected_coverage_share"] = out.objective / total if total > 0 else float("nan")
    return ems_result("mexclp", prob, out, units, solver.upper(), t0, extra)


def _mexclp_heuristic(a: np.ndarray, aw: np.ndarray, q: float, n: int, lo: np.ndarray, cap: np.ndarray):
    """Greedy (largest marginal expected coverage) then best-improvement 1-swaps.

    ``a`` (n_open, n_atoms) coverage, ``aw`` atom weights. Returns (units per open base,
    expected covered weight ``sum aw (1 - q^c)``).
    """
    am = a.astype(np.float32)
    x = lo.astype(np.int64).copy()
    c = am.T @ x.astype(np.float32)

    def value(cnt):
        return float(np.dot(aw, 1.0 - q ** cnt.astype(np.float64)))

    def gains(cnt, xx):
        g = (am @ (aw * (1.0 - q) * q**cnt).astype(np.float32)).astype(np.float64)
        g[xx >= cap] = -np.inf
        return g

    for _ in range(n - int(x.sum())):
        j = int(np.argmax(gains(c, x)))
        x[j] += 1
        c = c + am[j]
    best = value(c)
    tol = 1e-12 * max(float(aw.sum()), 1.0)
    for _ in range(50 * n):
        improved = False
        for j in np.flatnonzero(x > lo).tolist():
            c2 = c - am[j]
            x[j] -= 1
            g = gains(c2, x)
            k = int(np.argmax(g))
            cand = value(c2 + am[k])
            if cand > best + tol and k != j:
                x[k] += 1
                c, best, improved = c2 + am[k], cand, True
                break
            x[j] += 1
        if not improved:
            break
    return x, best


# --------------------------------------------------------------------------------------
# MALP
# --------------------------------------------------------------------------------------


def _check_alpha(alpha) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ModelInputError(f"expected a reliability in (0, 1), got {alpha!r}", field="alpha") from None
    if not (0.0 < a < 1.0):
        raise ModelInputError(f"expected a reliability in (0, 1), got {alpha!r}", field="alpha")
    return a


def units_for_reliability(q: float, alpha: float) -> int:
    """Smallest ``b`` with ``1 - q^b >= alpha`` (ReVelle & Hogan 1989, MALP I).

    Parameters
    ----------
    q : float
        Busy fraction in [0, 1).
    alpha : float
        Reliability in (0, 1), e.g. 0.9.
    """
    qv = check_q(q)
    a = _check_alpha(alpha)
    if qv == 0.0:
        return 1
    b = max(1, math.ceil(math.log(1.0 - a) / math.log(qv) - 1e-12))
    while 1.0 - qv**b < a - 1e-12:  # guard against rounding of the logarithms
        b += 1
    while b > 1 and 1.0 - qv ** (b - 1) >= a - 1e-12:
        b -= 1
    return int(b)


def malp(
    problem: Problem,
    n_units: int,
    q: float,
    alpha: float = 0.9,
    t_seconds: float = DEFAULT_T,
    *,
    capacity=None,
    min_units=None,
    solver: str = "SCIP",
    time_limit: float | None = None,
    threads: int | None = None,
) -> SolveResult:
    """Maximum Availability Location Problem I (ReVelle & Hogan 1989), system-wide ``q``.

    A point is covered with reliability ``alpha`` when at least ``b`` units are within T,
    ``b`` = :func:`units_for_reliability` (q, alpha). maximise ``sum_i w_i z_i`` subject to
    ``sum_{j covers i} x_j >= b z_i``, ``sum_j x_j = n``, integer ``x_j`` in ``[min_j, cap_j]``,
    binary ``z_i``.

    Parameters are as for :func:`mexclp`, plus ``alpha`` (reliability in (0, 1)).

    Returns
    -------
    SolveResult
        ``objective`` = weight covered with reliability alpha; ``extra["b"]`` = units needed;
        ``extra["covered_share"]``.
    """
    problem = check_problem(problem)
    time_limit, threads = check_run(solver, time_limit, threads)
    t0 = time.perf_counter()
    prob = make_fleet(problem, n_units, capacity, min_units)
    b = units_for_reliability(q, alpha)
    t = check_t(t_seconds, "t_seconds", problem.cost)
    rows, a, aw, stats = single_radius(prob, t)
    extra = {"q": float(q), "alpha": float(alpha), "b": b, "t_seconds": t}
    return _malp_solve(
        "malp", prob, rows, a, aw, np.full(a.shape[1], b, dtype=np.int64), stats, extra, solver, time_limit, threads, t0
    )


def _malp_solve(
    model: str, prob: EmsFleet, rows, a, aw, b_atom, stats, extra, solver, time_limit, threads, t0
) -> SolveResult:
    """The MALP MIP on reduced atoms with ``b_atom[i]`` units needed by atom ``i`` (MALP I and II)."""
    mip = Mip()
    x = unit_columns(mip, prob, rows)
    reach = np.minimum(prob.n_units, a.T.astype(np.int64) @ prob.cap[rows].astype(np.int64))
    zat = np.flatnonzero(reach >= b_atom)  # atoms that can ever have b units within T
    z = mip.add_vars(len(zat), 0.0, 1.0, obj=aw[zat], integer=True)
    jj, ii = np.nonzero(a[:, zat])
    mip.add_rows(  # units within T of i >= b_i z_i
        len(zat),
        np.concatenate([np.arange(len(zat)), ii]),
        np.concatenate([z, x[jj]]),
        np.concatenate([-b_atom[zat].astype(float), np.ones(len(jj))]),
        0.0,
        np.inf,
    )
    stats.update(
        variables=mip.n,
        constraints=mip.m,
        atoms_never_reliable=int(a.shape[1] - len(zat)),
        weight_never_reliable=float(aw.sum() - aw[zat].sum()),
    )
    out, units = solve_units(mip, prob, rows, x, solver, time_limit, threads)
    extra = {"reduction": stats, **extra, "solve_seconds": out.seconds}
    if units is None:
        return ems_result(model, prob, out, None, solver.upper(), t0, extra)
    total = float(prob.weights.sum())
    extra["covered_share"] = out.objective / total if total > 0 else float("nan")
    return ems_result(model, prob, out, units, solver.upper(), t0, extra)


def local_units_for_reliability(load, alpha: float, n_max: int) -> np.ndarray:
    """MALP II's units needed per demand point (ReVelle & Hogan 1989).

    With ``b`` units near a point whose neighbourhood generates ``load`` busy units on average
    (Erlangs), each is busy with the local fraction ``q = load / b``; the point is covered with
    reliability ``alpha`` when ``1 - (load / b)^b >= alpha``. Returns, per point, the smallest
    such ``b`` in ``1..n_max`` (``load = 0`` needs one unit), or ``n_max + 1`` when none is enough.

    Parameters
    ----------
    load : array_like
        Local workload per point, Erlangs (>= 0).
    alpha : float
        Reliability in (0, 1).
    n_max : int
        Largest number of units worth trying (the fleet size).
    """
    rho = np.asarray(load, dtype=np.float64)
    b = np.full(rho.shape, int(n_max) + 1, dtype=np.int64)
    for k in range(int(n_max), 0, -1):  # downwards: the smallest k that works is kept
        qk = rho / k
        ok = (qk < 1.0) & (1.0 - qk**k >= alpha - 1e-12)
        b[ok] = k
    return b


def _neighbourhood_weight(cover: np.ndarray, rows: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per demand point ``i``: the weight of every point that a base covering ``i`` also covers.

    Computed on covering-set atoms (points with the same bases share the answer), so the work is
    ``atoms^2 x bases`` rather than ``points^2 x bases``."""
    sub = cover[rows]
    n_demand = sub.shape[1]
    packed = np.ascontiguousarray(np.packbits(sub, axis=0).T)
    if n_demand == 0:
        return np.zeros(0)
    view = packed.view(np.dtype((np.void, packed.shape[1])))[:, 0]
    _, first, inv = np.unique(view, return_index=True, return_inverse=True)
    inv = inv.ravel()
    atoms = sub[:, first].astype(np.float32)  # (bases, atoms)
    aw = np.bincount(inv, weights=w, minlength=len(first))
    out = np.zeros(len(first))
    block = max(1, int(5e7 // max(len(first), 1)))
    for s0 in range(0, len(first), block):
        share = (atoms[:, s0 : s0 + block].T @ atoms) > 0  # atom a and atom c share a base
        out[s0 : s0 + block] = share @ aw
    return out[inv]


def malp2(
    problem: Problem,
    n_units: int,
    load_per_weight: float,
    alpha: float = 0.9,
    t_seconds: float = DEFAULT_T,
    *,
    neighbourhood=None,
    capacity=None,
    min_units=None,
    solver: str = "SCIP",
    time_limit: float | None = None,
    threads: int | None = None,
) -> SolveResult:
    """Maximum Availability Location Problem II (ReVelle & Hogan 1989): local busy fractions.

    MALP I assumes one busy fraction for the whole system. MALP II estimates it per demand point
    ``i`` from the demand around it: the neighbourhood ``M_i`` generates the workload
    ``rho_i = load_per_weight * sum_{k in M_i} w_k`` (Erlangs), shared by the units within T of
    ``i``; with ``b`` of them each is busy ``rho_i / b`` of the time, and ``i`` is covered with
    reliability ``alpha`` when ``1 - (rho_i / b)^b >= alpha``. ``b_i`` =
    :func:`local_units_for_reliability`; then maximise ``sum_i w_i z_i`` subject to
    ``sum_{j covers i} x_j >= b_i z_i``, ``sum_j x_j = n``, integer ``x_j`` in ``[min_j, cap_j]``.

    Parameters
    ----------
    load_per_weight : float
        Busy units generated per unit of demand weight (Erlangs): calls per hour per weight unit
        x mean mission hours. E.g. weights in calls per year and missions of 60 min:
        ``1 / 8760``.
    alpha : float
        Reliability in (0, 1).
    neighbourhood : array_like of bool, optional
        ``(n_demand, n_demand)``: ``neighbourhood[i, k]`` when ``k`` is in ``M_i`` (ReVelle &
        Hogan: the points within T of ``i``; pass ``demand_to_demand_cost <= T`` for that). Default:
        the points that some base able to receive units and within T of ``i`` also covers within
        T (the calls that the units able to cover ``i`` are sent to) — computable from ``cost``.

    Other parameters are as for :func:`mexclp`.

    Returns
    -------
    SolveResult
        ``objective`` = weight covered with reliability alpha; ``extra["b_by_demand"]`` (list,
        ``n_units + 1`` = never reliable), ``extra["local_load"]`` (Erlangs per point),
        ``extra["covered_share"]``.
    """
    problem = check_problem(problem)
    time_limit, threads = check_run(solver, time_limit, threads)
    t0 = time.perf_counter()
    prob = make_fleet(problem, n_units, capacity, min_units)
    a_ = _check_alpha(alpha)
    try:
        lpw = float(load_per_weight)
    except (TypeError, ValueError):
        raise ModelInputError(
            f"expected a number of Erlangs per weight unit >= 0, got {load_per_weight!r}", field="load_per_weight"
        ) from None
    if not (math.isfinite(lpw) and lpw >= 0):
        raise ModelInputError(
            f"expected a finite number of Erlangs per weight unit >= 0, got {load_per_weight!r}",
            field="load_per_weight",
        )
    t = check_t(t_seconds, "t_seconds", problem.cost)
    n_demand = prob.weights.size
    if neighbourhood is None:
        local_w = _neighbourhood_weight(prob.cost <= t, open_base_rows(prob), prob.weights)
    else:
        nb = np.asarray(neighbourhood)
        if nb.shape != (n_demand, n_demand):
            raise ModelInputError(
                f"expected a ({n_demand}, {n_demand}) boolean matrix, got shape {nb.shape}", field="neighbourhood"
            )
        local_w = nb.astype(bool).astype(np.float64) @ prob.weights
    load = lpw * local_w
    b_dem = local_units_for_reliability(load, a_, prob.n_units)
    # merge demand by covering set AND units needed: one more mask per distinct b keeps them apart
    rows = open_base_rows(prob)
    cover = prob.cost <= t
    rows, n_dom = drop_dominated(prob, [cover], rows)
    masks = [cover] + [cover & (b_dem == v)[None, :] for v in np.unique(b_dem)]
    atoms, aw, atom_of, stats = reduce_units(masks, prob.weights, rows)
    stats["dominated_bases_dropped"] = n_dom
    a = atoms[0]
    b_atom = np.zeros(a.shape[1], dtype=np.int64)
    has = atom_of >= 0
    b_atom[atom_of[has]] = b_dem[has]
    extra = {
        "alpha": a_,
        "load_per_weight": lpw,
        "t_seconds": t,
        "b_by_demand": b_dem.tolist(),
        "local_load": load.tolist(),
        "neighbourhood": "given" if neighbourhood is not None else "points covered by a base that covers the point",
    }
    return _malp_solve("malp2", prob, rows, a, aw, b_atom, stats, extra, solver, time_limit, threads, t0)


# --------------------------------------------------------------------------------------
# Double Standard Model
# --------------------------------------------------------------------------------------


def dsm(
    problem: Problem,
    n_units: int,
    r1: float = 480.0,
    r2: float = DEFAULT_T,
    alpha: float = 0.9,
    *,
    capacity=2,
    min_units=None,
    solver: str = "SCIP",
    time_limit: float | None = None,
    threads: int | None = None,
) -> SolveResult:
    """Double Standard Model (Gendreau, Laporte & Semet 1997).

    maximise ``sum_i w_i y2_i`` (demand covered twice within r1) subject to
    ``sum_{j: c_ji <= r2} x_j >= 1`` for every demand point with weight > 0,
    ``sum_i w_i y1_i >= alpha sum_i w_i``, ``sum_{j: c_ji <= r1} x_j >= y1_i + y2_i``,
    ``y2_i <= y1_i``, ``sum_j x_j = n``, integer ``x_j`` in ``[min_j, p_j]``, binary y.

    Parameters
    ----------
    r1, r2 : float
        Radii in seconds, ``r1 < r2`` (default 8 and 15 minutes).
    alpha : float
        Share of demand that must be within r1 of a unit, in [0, 1].
    capacity : int, sequence or dict
        ``p_j``, maximum units per base (default 2).

    Raises
    ------
    InfeasibleError
        When some demand point has no open base within r2 (the message lists their ids),
        when even all open bases cannot put alpha of the demand within r1, or when n units
        are too few to meet both standards.

    Returns
    -------
    SolveResult
        ``objective`` = weight covered twice within r1; ``extra["covered_r1_share"]``,
        ``extra["covered_twice_r1_share"]``.
    """
    problem = check_problem(problem)
    time_limit, threads = check_run(solver, time_limit, threads)
    t0 = time.perf_counter()
    prob = make_fleet(problem, n_units, capacity, min_units)
    r1v = check_t(r1, "r1", problem.cost)
    r2v = check_t(r2, "r2", problem.cost)
    if not r1v < r2v:
        raise ModelInputError(f"expected r1 < r2, got r1 = {r1v:g} s, r2 = {r2v:g} s", field="r1")
    try:
        al = float(alpha)
    except (TypeError, ValueError):
        raise ModelInputError(f"expected a share in [0, 1], got {alpha!r}", field="alpha") from None
    if not (0.0 <= al <= 1.0):
        raise ModelInputError(f"expected a share in [0, 1], got {alpha!r}", field="alpha")
    dids = problem.demand_ids
    rows = open_base_rows(prob)
    c1 = prob.cost <= r1v
    c2 = prob.cost <= r2v
    w = prob.weights
    need = w > 0
    reach2 = c2[rows].any(axis=0)
    lost = np.flatnonzero(need & ~reach2)
    if lost.size:
        raise InfeasibleError(
            f"{lost.size} demand point(s) have no open base within r2 = {r2v:g} s: {ids_text([dids[i] for i in lost])}",
            field="r2",
        )
    total = float(w.sum())
    reach1_w = float(w[c1[rows].any(axis=0)].sum())
    if reach1_w < al * total - 1e-9 * max(total, 1.0):
        raise InfeasibleError(
            f"even with a unit at every open base only {reach1_w / total:.1%} of the demand is within "
            f"r1 = {r1v:g} s; alpha = {al:.1%} cannot be met",
            field="alpha",
        )

    # merge on the pair (r1 set, r2 set); r2 rows are needed for the r2 constraint
    rows, n_dom = drop_dominated(prob, [c1, c2], rows)
    (a1, a2), aw, _, stats = reduce_units([c1, c2], w, rows)
    stats["dominated_bases_dropped"] = n_dom
    mip = Mip()
    x = unit_columns(mip, prob, rows)
    n_atoms = a1.shape[1]
    jj2, ii2 = np.nonzero(a2)
    mip.add_rows(n_atoms, ii2, x[jj2], 1.0, 1.0, np.inf)  # a unit within r2 of every point
    at = np.flatnonzero(a1.any(axis=0))
    k = len(at)
    ar = np.arange(k)
    y1 = mip.add_vars(k, 0.0, 1.0, integer=True)  # covered within r1
    y2 = mip.add_vars(k, 0.0, 1.0, obj=aw[at], integer=True)  # covered twice within r1
    jj1, ii1 = np.nonzero(a1[:, at])
    mip.add_rows(  # units within r1 >= y1 + y2
        k,
        np.concatenate([ii1, ar, ar]),
        np.concatenate([x[jj1], y1, y2]),
        np.concatenate([np.ones(len(jj1)), -np.ones(2 * k)]),
        0.0,
        np.inf,
    )
    mip.add_rows(
        k, np.concatenate([ar, ar]), np.concatenate([y1, y2]), np.concatenate([np.ones(k), -np.ones(k)]), 0.0, np.inf
    )
    mip.add_rows(1, np.zeros(k), y1, aw[at], al * total - 1e-9 * max(total, 1.0), np.inf)  # alpha within r1
    stats.update(variables=mip.n, constraints=mip.m)
    out, units = solve_units(mip, prob, rows, x, solver, time_limit, threads)
    extra = {"reduction": stats, "r1": r1v, "r2": r2v, "alpha": al, "solve_seconds": out.seconds}
    if out.status == INFEASIBLE:
        raise InfeasibleError(
            f"n_units = {prob.n_units} units (at most {cap_text(prob)} per base) are too few to have every "
            f"demand point within r2 = {r2v:g} s and {al:.1%} of the demand within r1 = {r1v:g} s",
            field="n_units",
        )
    if units is None:
        return ems_result("dsm", prob, out, None, solver.upper(), t0, extra)
    on = units > 0
    cnt1 = (units[:, None] * c1).sum(axis=0)
    extra["covered_r1_share"] = float(w[cnt1 >= 1].sum() / total) if total > 0 else float("nan")
    extra["covered_twice_r1_share"] = float(w[cnt1 >= 2].sum() / total) if total > 0 else float("nan")
    extra["covered_r2_share"] = float(w[(on[:, None] & c2).any(axis=0)].sum() / total) if total > 0 else float("nan")
    return ems_result("dsm", prob, out, units, solver.upper(), t0, extra)
