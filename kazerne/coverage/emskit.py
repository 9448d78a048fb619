"""What the EMS models (:mod:`kazerne.coverage.ems`) share: the fleet of units per base and its checks, the
reduction of demand and dominated bases, the unit columns of the MIP, and the result."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import check_int, check_time_limit
from ..errors import ModelInputError
from ..units import warn_if_minutes
from .mip import Mip
from .problem import Problem
from .reduce import merge_columns
from .result import SolveResult

DEFAULT_T = 900.0  # Belgian norm: on scene within 15 minutes (seconds)


# --------------------------------------------------------------------------------------
# validation and reduction
# --------------------------------------------------------------------------------------


@dataclass
class EmsFleet:
    """A :class:`Problem` with the unit side of the EMS models: units to place, per-base bounds."""

    problem: Problem
    n_units: int
    cap: np.ndarray  # (n_bases,) int, 0 for closed bases
    lo: np.ndarray  # (n_bases,) int, minimum units

    @property
    def cost(self) -> np.ndarray:
        return self.problem.cost

    @property
    def weights(self) -> np.ndarray:
        return self.problem.weights

    @property
    def base_ids(self) -> list:
        return self.problem.site_ids


def _int_count(x, name: str, minimum: int = 0) -> int:
    if isinstance(x, (bool, np.bool_)):
        raise ModelInputError(f"expected a whole number, got {x!r}", field=name)
    if isinstance(x, (float, np.floating)) and float(x).is_integer():
        x = int(x)
    if not isinstance(x, (int, np.integer)):
        raise ModelInputError(f"expected a whole number, got {x!r}", field=name)
    if int(x) < minimum:
        raise ModelInputError(f"expected a whole number >= {minimum}, got {int(x)}", field=name)
    return int(x)


def _per_base(value, name: str, base_ids: list, default: int) -> np.ndarray:
    n = len(base_ids)
    if value is None:
        return np.full(n, default, dtype=np.int64)
    if isinstance(value, dict):
        out = np.full(n, default, dtype=np.int64)
        index = {b: i for i, b in enumerate(base_ids)}
        for k, v in value.items():
            if k not in index:
                raise ModelInputError(f"unknown base id {k!r}", field=name)
            out[index[k]] = _int_count(v, f"{name}[{k!r}]")
        return out
    if np.ndim(value) == 0:
        return np.full(n, _int_count(value, name), dtype=np.int64)
    arr = list(value)
    if len(arr) != n:
        raise ModelInputError(f"expected {n} values (one per base), got {len(arr)}", field=name)
    return np.array([_int_count(v, f"{name}[{i}]") for i, v in enumerate(arr)], dtype=np.int64)


def make_fleet(problem, n_units, capacity, min_units, default_cap=None) -> EmsFleet:
    """Check the problem and the unit counts: closed bases get no unit, fixed bases at least one."""
    if not isinstance(problem, Problem):
        raise ModelInputError(
            f"expected a Problem (kazerne.from_cost_matrix(cost, weights, site_ids=...) or "
            f"TravelTimes.to_problem()), got {type(problem).__name__}",
            field="problem",
        )
    if problem.n_demand == 0:
        raise ModelInputError("expected at least one demand point (column)", field="cost")
    n = _int_count(n_units, "n_units", minimum=1)
    ids = problem.site_ids
    cap = _per_base(capacity, "capacity", ids, n if default_cap is None else default_cap)
    lo = _per_base(min_units, "min_units", ids, 0)
    lo[problem.fixed] = np.maximum(lo[problem.fixed], 1)
    shut = np.flatnonzero(problem.closed & (lo > 0))
    if shut.size:
        b = ids[shut[0]]
        raise ModelInputError(f"base {b!r} is closed but has min_units {lo[shut[0]]}", field="closed")
    cap[problem.closed] = 0
    bad = np.flatnonzero(lo > cap)
    if bad.size:
        b = ids[bad[0]]
        raise ModelInputError(
            f"base {b!r} needs at least {lo[bad[0]]} units but its capacity is {cap[bad[0]]}", field="min_units"
        )
    if lo.sum() > n:
        raise ModelInputError(
            f"min_units fix {int(lo.sum())} units but only n_units = {n} are available", field="min_units"
        )
    if cap.sum() < n:
        raise ModelInputError(
            f"n_units = {n} units do not fit: total capacity of the open bases is {int(cap.sum())}", field="n_units"
        )
    return EmsFleet(problem, n, cap, lo)


def reduce_units(masks: Sequence[np.ndarray], w: np.ndarray, open_rows: np.ndarray):
    """Merge demand points with identical covering-base sets (for every mask together), with the
    covering models' :func:`~kazerne.coverage.reduce.merge_columns`.

    Returns (atom masks list of (n_open, n_atoms) bool, atom weights, atom of each demand
    (-1 when dropped), stats dict).
    """
    n_demand = w.size
    sub = [m[open_rows] for m in masks]
    stacked = np.concatenate(sub, axis=0) if len(sub) > 1 else sub[0]
    covered = stacked.any(axis=0)
    idx = np.flatnonzero((w > 0) & covered)
    merged, aw, inv = merge_columns(stacked[:, idx], w[idx])
    k = open_rows.size
    atoms = [merged[i * k : (i + 1) * k] for i in range(len(sub))]
    atom_of = np.full(n_demand, -1, dtype=np.int64)
    atom_of[idx] = inv
    stats = {
        "demand_points": int(n_demand),
        "demand_atoms": int(merged.shape[1]),
        "dropped_zero_weight": int((w == 0).sum()),
        "dropped_uncovered": int(((w > 0) & ~covered).sum()),
        "uncovered_weight": float(w[(w > 0) & ~covered].sum()),
        "bases": int(masks[0].shape[0]),
        "model_bases": int(open_rows.size),
    }
    return atoms, aw, atom_of, stats


def drop_dominated(prob: EmsFleet, masks: Sequence[np.ndarray], rows: np.ndarray):
    """Remove open bases whose coverage is contained in that of a kept base with room for every unit.

    Valid for MEXCLP, MALP and the DSM because their objectives and constraints only improve
    when a demand point's count of covering units grows: if ``cover(j)`` is a subset of
    ``cover(j')`` (for every mask) and ``cap_j' >= n`` and ``min_j = 0``, any placement using
    ``j`` can move those units to ``j'`` without getting worse. Identical sets keep the first base.
    """
    n = prob.n_units
    if rows.size < 2:
        return rows, 0
    keep_d = prob.weights > 0
    sizes = np.zeros(rows.size)
    inter = np.zeros((rows.size, rows.size))
    for m in masks:
        sub = m[rows][:, keep_d].astype(np.float32)
        sizes += sub.sum(axis=1)
        inter += (sub @ sub.T).astype(np.float64)
    can_absorb = prob.cap[rows] >= n
    removable = prob.lo[rows] == 0
    order = sorted(range(rows.size), key=lambda k: (-sizes[k], k))
    kept: list[int] = []
    dropped = np.zeros(rows.size, dtype=bool)
    for k in order:
        if removable[k] and kept:
            kk = np.array(kept)
            hit = (inter[k, kk] >= sizes[k] - 0.5) & can_absorb[kk]
            if hit.any():
                dropped[k] = True
                continue
        kept.append(k)
    return rows[~dropped], int(dropped.sum())


def _assignment(cost: np.ndarray, site_rows: list[int]) -> np.ndarray:
    if not site_rows:
        return np.full(cost.shape[1], -1, dtype=np.int64)
    sub = cost[site_rows]
    a = np.argmin(sub, axis=0).astype(np.int64)
    a[~np.isfinite(sub.min(axis=0))] = -1
    return a


def ems_result(
    model, prob: EmsFleet, outcome, units_rows: np.ndarray | None, solver_name: str, t0: float, extra: dict[str, Any]
) -> SolveResult:
    if units_rows is None:
        return SolveResult(
            model,
            outcome.status,
            float("nan"),
            float("nan"),
            float("nan"),
            [],
            np.full(prob.cost.shape[1], -1, dtype=np.int64),
            time.perf_counter() - t0,
            solver_name,
            extra,
        )
    rows = [int(j) for j in np.flatnonzero(units_rows > 0)]
    extra = dict(extra)
    extra["units"] = {prob.base_ids[j]: int(units_rows[j]) for j in rows}
    return SolveResult(
        model,
        outcome.status,
        float(outcome.objective),
        float(outcome.bound),
        float(outcome.gap),
        [prob.base_ids[j] for j in rows],
        _assignment(prob.cost, rows),
        time.perf_counter() - t0,
        solver_name,
        extra,
    )


def unit_columns(mip: Mip, prob: EmsFleet, open_rows: np.ndarray) -> np.ndarray:
    """Integer units per open base in ``[min, cap]``, ``sum = n``; returns their column indices."""
    x = mip.add_vars(len(open_rows), lb=prob.lo[open_rows], ub=prob.cap[open_rows], integer=True)
    mip.add_rows(1, np.zeros(len(x)), x, 1.0, float(prob.n_units), float(prob.n_units))
    return x


def check_run(solver, time_limit, threads):
    """The solver arguments every EMS model takes: a backend name, a time limit, a thread count."""
    if not isinstance(solver, str):
        raise ModelInputError(f"expected a backend name such as 'SCIP', got {solver!r}", field="solver")
    threads = None if threads is None else check_int(threads, "threads", lo=1, hi=1024)
    return check_time_limit(time_limit), threads


def solve_units(mip: Mip, prob: EmsFleet, open_rows, x, solver: str, time_limit, threads, hint=None):
    """Solve to a zero gap (maximising); returns ``(MipOutcome, units per base or None)``."""
    out, sol = mip.solve(
        maximize=True, backend=solver.upper(), time_limit=time_limit, hint=hint, exact=True, threads=threads
    )
    if sol is None:
        return out, None
    units = np.zeros(len(prob.base_ids), dtype=np.int64)
    units[open_rows] = np.rint(sol[x]).astype(np.int64)
    return out, units


def check_q(q) -> float:
    try:
        v = float(q)
    except (TypeError, ValueError):
        raise ModelInputError(f"expected a busy fraction in [0, 1), got {q!r}", field="q") from None
    if not (0.0 <= v < 1.0):
        raise ModelInputError(
            f"expected a busy fraction in [0, 1), got {q!r}; q >= 1 means the system is overloaded", field="q"
        )
    return v


def check_t(t, name: str, costs=None) -> float:
    try:
        v = float(t)
    except (TypeError, ValueError):
        raise ModelInputError(f"expected a time in seconds, got {t!r}", field=name) from None
    if not (math.isfinite(v) and v >= 0):
        raise ModelInputError(f"expected a finite time >= 0 seconds, got {t!r}", field=name)
    warn_if_minutes(v, name, costs=costs, stacklevel=4)
    return v


def single_radius(prob: EmsFleet, t: float):
    """Open bases, the reduced coverage matrix within ``t`` seconds, its weights and size stats
    (dominated bases dropped, demand merged by covering set) — shared by MEXCLP and MALP."""
    rows = open_base_rows(prob)
    cover = prob.cost <= t
    rows, n_dom = drop_dominated(prob, [cover], rows)
    (a,), aw, _, stats = reduce_units([cover], prob.weights, rows)
    stats["dominated_bases_dropped"] = n_dom
    return rows, a, aw, stats


def open_base_rows(prob: EmsFleet) -> np.ndarray:
    return np.flatnonzero(prob.cap > 0)


def ids_text(ids: list, limit: int = 10) -> str:
    shown = ", ".join(repr(i) for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def cap_text(prob: EmsFleet) -> str:
    caps = set(int(c) for c in prob.cap[prob.cap > 0])
    return str(caps.pop()) if len(caps) == 1 else "the given capacity"
