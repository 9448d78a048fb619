"""What the placement models share: the default backend per model, the checks of a radius and a share,
the nearest open site, padding to p sites, the result object, deadlines, and the set-covering MIP."""

from __future__ import annotations

import time

import numpy as np

from ..errors import ModelInputError
from ..units import warn_if_minutes
from .heuristics import greedy_cover
from .mip import Mip
from .problem import Problem
from .result import FEASIBLE, INFEASIBLE, OPTIMAL, TIME_LIMIT, SolveResult, relative_gap

#: Backend per model, chosen by measurement (``benchmarks/solvers.py``).
DEFAULT_SOLVER = {
    "lscp": "SCIP",
    "mclp": "SCIP",
    "mclp_capacitated": "SCIP",
    "pmedian": "SCIP",
    "pcenter": "SCIP",
    "backup": "SCIP",
}


def solver_backend(solver: str | None, model: str) -> str:
    return (solver or DEFAULT_SOLVER[model]).upper()


def time_left(deadline: float) -> float:
    return max(0.0, deadline - time.perf_counter())


def time_remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return max(0.5, deadline - time.perf_counter())


# ----------------------------------------------------------------------------- shared helpers
def check_radius(radius, field="radius", costs=None) -> float:
    try:
        r = float(radius)
    except (TypeError, ValueError):
        raise ModelInputError(f"expected a number >= 0, got {radius!r}", field=field) from None
    if not np.isfinite(r) or r < 0:
        raise ModelInputError(f"expected a finite number >= 0, got {radius!r}", field=field)
    warn_if_minutes(r, field, costs=costs, stacklevel=4)
    return r


def check_share(share, field) -> float:
    try:
        s = float(share)
    except (TypeError, ValueError):
        raise ModelInputError(f"expected a share between 0 and 1, got {share!r}", field=field) from None
    if not (0.0 <= s <= 1.0):
        raise ModelInputError(f"expected a share between 0 and 1, got {share!r}", field=field)
    return s


def assign_nearest(problem: Problem, open_rows: np.ndarray, radius: float | None = None) -> np.ndarray:
    """Index of the nearest open site per demand point (-1 if none within ``radius`` / reachable)."""
    open_rows = np.asarray(open_rows, dtype=np.int64)
    if len(open_rows) == 0:
        return np.full(problem.n_demand, -1, dtype=np.int64)
    sub = problem.cost[open_rows]
    k = np.argmin(sub, axis=0)
    best = sub[k, np.arange(problem.n_demand)]
    ok = np.isfinite(best) if radius is None else best <= radius
    return np.where(ok, open_rows[k], -1).astype(np.int64)


def pad_sites(problem: Problem, open_rows, p: int) -> np.ndarray:
    """Pad a solution with unused allowed sites (input order) up to exactly ``p`` sites."""
    open_rows = set(int(x) for x in open_rows)
    for j in np.flatnonzero(~problem.closed):
        if len(open_rows) >= p:
            break
        open_rows.add(int(j))
    return np.array(sorted(open_rows), dtype=np.int64)


def make_result(problem, model, status, objective, bound, open_rows, assignment, t0, solver, extra):
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


def demand_ids_text(problem, idx, limit=None):
    idx = list(idx)
    shown = [str(problem.demand_ids[i]) for i in (idx if limit is None else idx[:limit])]
    more = "" if limit is None or len(idx) <= limit else f" ... ({len(idx) - limit} more)"
    return ", ".join(shown) + more


def covered_weight(problem, open_rows, radius) -> float:
    if len(open_rows) == 0:
        return 0.0
    cov = (problem.cost[np.asarray(open_rows)] <= radius).any(axis=0)
    return float(problem.weights[cov].sum())


# ----------------------------------------------------------------------------- LSCP
def min_cover(cover: np.ndarray, w: np.ndarray, backend: str, time_limit: float | None, max_sites: int | None = None):
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
