"""The MIP builder every placement model uses: columns and sparse rows in numpy, one model proto.

Covering, p-median, p-center, backup and the EMS models (MEXCLP, MALP, DSM) all build their
model here and solve it through :func:`Mip.solve`: loaded into ``pywraplp`` as one
``MPModelProto`` (no Python loop per coefficient), a warm start by ``SetHint`` where the backend
takes it, and "optimal" meaning *proven* — a zero relative MIP gap unless ``exact=False``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import ortools.linear_solver.linear_solver_pb2 as linear_solver_pb2
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder_helper as mbh

from ..limits import require_memory
from .result import FEASIBLE, OPTIMAL
from .solver import make_solver, run, set_params

__all__ = ["Mip", "mip_size"]

#: Memory and time a MIP costs in OR-Tools + SCIP, measured on p-median models of 0.3-2.3 million
#: nonzeros (kazerne 0.3, OR-Tools 9.15, 2 shared cores): about 360 bytes per nonzero and 1,650 per
#: variable or row at the peak of the solve, and ~25 us per variable or row to build the proto and
#: hand the model to SCIP (before SCIP's own clock starts). Rounded up: an estimate that refuses a
#: model too early is safer than one the kernel's OOM killer ends.
BYTES_PER_NONZERO = 400
BYTES_PER_COLUMN_OR_ROW = 1800
BUILD_S_PER_COLUMN_OR_ROW = 25e-6


def mip_size(n_vars: int, n_rows: int, nnz: int) -> dict:
    """Estimated peak memory (bytes) and build time (s) of a MIP of this size (see the constants)."""
    return {
        "vars": int(n_vars),
        "rows": int(n_rows),
        "nonzeros": int(nnz),
        "bytes": float(BYTES_PER_NONZERO * nnz + BYTES_PER_COLUMN_OR_ROW * (n_vars + n_rows)),
        "build_s": float(BUILD_S_PER_COLUMN_OR_ROW * (n_vars + n_rows)),
    }


class Mip:
    """Columns and sparse rows of a MIP, loaded into ``pywraplp`` as one ``MPModelProto``."""

    def __init__(self):
        self.lb, self.ub, self.obj, self.integer = [], [], [], []
        self.n = 0
        self.rows = []  # (row_idx, col_idx, coef) blocks with local row numbering
        self.lo, self.hi = [], []
        self.m = 0

    def add_vars(self, n, lb=0.0, ub=1.0, obj=0.0, integer=False) -> np.ndarray:
        n = int(n)
        self.lb.append(np.broadcast_to(np.asarray(lb, dtype=np.float64), (n,)))
        self.ub.append(np.broadcast_to(np.asarray(ub, dtype=np.float64), (n,)))
        self.obj.append(np.broadcast_to(np.asarray(obj, dtype=np.float64), (n,)))
        self.integer.append(np.full(n, bool(integer)))
        idx = np.arange(self.n, self.n + n)
        self.n += n
        return idx

    def add_rows(self, n_rows, row, col, coef, lo, hi) -> None:
        """Add ``n_rows`` rows given in coordinate form (``row`` local to this block)."""
        n_rows = int(n_rows)
        self.rows.append(
            (
                np.asarray(row, dtype=np.int64) + self.m,
                np.asarray(col, dtype=np.int64),
                np.broadcast_to(np.asarray(coef, dtype=np.float64), (len(row),)),
            )
        )
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), (n_rows,)))
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), (n_rows,)))
        self.m += n_rows

    @property
    def nnz(self) -> int:
        return int(sum(len(r[0]) for r in self.rows))

    def proto(self, *, maximize: bool, offset: float = 0.0):
        """The model as an ``MPModelProto``; a model that cannot fit in memory (:func:`mip_size`) is
        refused with one line before anything is built."""
        size = mip_size(self.n, self.m, self.nnz)
        require_memory(
            size["bytes"], f"the model ({self.n:,} variables, {self.m:,} rows, {self.nnz:,} nonzeros)", field="problem"
        )
        return self._build(maximize, offset)

    def _build(self, maximize: bool, offset: float):
        lb, ub = np.concatenate(self.lb), np.concatenate(self.ub)
        obj, integer = np.concatenate(self.obj), np.concatenate(self.integer)
        if self.rows:
            r = np.concatenate([b[0] for b in self.rows])
            c = np.concatenate([b[1] for b in self.rows])
            v = np.concatenate([b[2] for b in self.rows])
        else:
            r = c = np.zeros(0, dtype=np.int64)
            v = np.zeros(0)
        A = sp.csr_matrix((v, (r, c)), shape=(self.m, self.n), dtype=np.float64)
        A.sum_duplicates()
        helper = mbh.ModelBuilderHelper()
        lo = np.concatenate(self.lo) if self.lo else np.zeros(0)
        hi = np.concatenate(self.hi) if self.hi else np.zeros(0)
        # OR-Tools' stub types these arrays oddly (ndarray[float64, ...]); they are float64 vectors
        helper.fill_model_from_sparse_data(lb, ub, obj, lo, hi, A)  # type: ignore[arg-type]
        for j in np.flatnonzero(integer):
            helper.set_var_integrality(int(j), True)
        helper.set_maximize(bool(maximize))
        helper.set_objective_offset(float(offset))
        return mbh.to_mpmodel_proto(helper)

    def solve(
        self,
        *,
        maximize: bool,
        backend: str,
        time_limit: float | None,
        offset: float = 0.0,
        hint: np.ndarray | None = None,
        params: str | None = None,
        exact: bool = True,
        threads: int | None = None,
    ):
        """Solve; returns ``(MipOutcome, x or None)``. ``exact``: prove to a zero relative gap
        (pywraplp's default would stop at 1e-4 and still say OPTIMAL)."""
        t0 = time.perf_counter()
        proto = self.proto(maximize=maximize, offset=offset)
        if time_limit is not None:  # building and loading the model count against the limit
            time_limit = max(0.5, time_limit - (time.perf_counter() - t0))
        solver = make_solver(backend, time_limit, threads)
        if params and not set_params(solver, backend, params):
            # only speed depends on these settings; say so rather than fail on another OR-Tools build
            warnings.warn(
                f"{backend} rejected some tuning parameters; solving with its defaults", RuntimeWarning, stacklevel=2
            )
        err = solver.LoadModelFromProto(proto)
        if err:  # pragma: no cover - only on a malformed model, i.e. a bug here
            raise RuntimeError(f"OR-Tools rejected the model: {err}")
        if hint is not None and backend != "HIGHS":  # SetHint + HiGHS segfaults in OR-Tools 9.15
            variables = solver.variables()
            solver.SetHint(variables, [float(x) for x in hint])
        out = run(solver, rel_gap=0.0 if exact else None)
        x = None
        if out.status in (OPTIMAL, FEASIBLE):
            resp = linear_solver_pb2.MPSolutionResponse()
            solver.FillSolutionResponseProto(resp)
            x = np.asarray(resp.variable_value, dtype=np.float64)
        return out, x
