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

The models live by family: :mod:`~kazerne.coverage.covering` (LSCP, backup),
:mod:`~kazerne.coverage.mclp` (MCLP, capacitated, frontier), :mod:`~kazerne.coverage.median`
(p-median, p-center), with what they share in :mod:`~kazerne.coverage.modelkit`; this module is
the one import path for all of them.
"""

from __future__ import annotations

from .covering import backup, lscp
from .mclp import mclp, mclp_frontier
from .median import pcenter, pmedian
from .modelkit import DEFAULT_SOLVER

__all__ = ["lscp", "mclp", "mclp_frontier", "pmedian", "pcenter", "backup", "DEFAULT_SOLVER"]
