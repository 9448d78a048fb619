"""The result object every placement model returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..jsonsafe import json_safe

OPTIMAL = "optimal"
FEASIBLE = "feasible"  # a solution, not proven optimal (time limit hit)
INFEASIBLE = "infeasible"
TIME_LIMIT = "time_limit"  # stopped by the time limit without any solution


@dataclass
class SolveResult:
    """Outcome of one solve.

    Attributes
    ----------
    model : str
        ``"lscp"``, ``"mclp"``, ``"pmedian"``, ``"pcenter"``, ``"backup"``, ``"mexclp"`` ...
    status : str
        ``"optimal"``, ``"feasible"`` (stopped by the time limit with a solution),
        ``"infeasible"`` or ``"time_limit"`` (stopped without a solution).
    objective : float
        Covered weight (MCLP, backup, MEXCLP, MALP), total weighted cost (p-median), worst cost
        (p-center), number of sites (LSCP). ``nan`` when there is no solution.
    bound : float
        Best proven bound on the objective (equal to ``objective`` when optimal).
    gap : float
        Relative gap ``|bound - objective| / max(|objective|, 1e-9)``; 0 when optimal.
    sites : list
        Chosen site ids (in input order of the sites), fixed sites included.
    assignment : numpy.ndarray
        For each demand point the index (into the site list) of the site serving it, -1 if none.
    seconds : float
        Wall time of the whole call (reduction, heuristic, solve), seconds.
    solver : str
        Backend used, e.g. ``"SCIP"``, ``"HIGHS"``, ``"greedy"`` or ``"enumeration"``.
    extra : dict
        Model-specific figures (e.g. weighted mean cost for p-median, model size before and
        after reduction, counts per site for MEXCLP).
    """

    model: str
    status: str
    objective: float
    bound: float
    gap: float
    sites: list
    assignment: np.ndarray
    seconds: float
    solver: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        from ..checks import check_fields

        check_fields(self)

    @property
    def ok(self) -> bool:
        """True when a solution exists (optimal or feasible)."""
        return self.status in (OPTIMAL, FEASIBLE)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no per-demand assignment)."""

        clean = json_safe

        return {
            "model": self.model,
            "status": self.status,
            "objective": clean(self.objective),
            "bound": clean(self.bound),
            "gap": clean(self.gap),
            "sites": clean(list(self.sites)),
            "seconds": round(float(self.seconds), 4),
            "solver": self.solver,
            **({"extra": clean(self.extra)} if self.extra else {}),
        }


def relative_gap(objective: float, bound: float) -> float:
    """``|bound - objective| / max(|objective|, 1e-9)``; ``nan`` if either is not finite."""
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("nan")
    return abs(bound - objective) / max(abs(objective), 1e-9)
