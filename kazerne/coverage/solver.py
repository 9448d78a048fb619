"""Thin plumbing around OR-Tools' ``pywraplp`` MIP backends.

Backends are chosen by measurement (see ``benchmarks/solvers.py``): SCIP and HiGHS through
``pywraplp`` solve the covering and p-median models reliably here. CP-SAT with exactly two
workers stalled for minutes on these models on a 2-core machine, so it is not a default.
"""

from __future__ import annotations

import contextlib
import math
import signal
import socket
import threading
import time
from dataclasses import dataclass

import ortools.linear_solver.pywraplp as pywraplp

from .result import FEASIBLE, INFEASIBLE, OPTIMAL, TIME_LIMIT, relative_gap

DEFAULT_BACKEND = "SCIP"
#: Backends report "no bound yet" as +-infinity or as their own infinity (SCIP: 1e20); from this
#: magnitude on a bound is unknown and reported as ``nan``, never as a number.
NO_BOUND = 1e19
KNOWN_BACKENDS = ("SCIP", "HIGHS", "CBC", "CP-SAT")
#: SCIP must not take Ctrl-C for itself: it would print "pressed CTRL-C", stop the solve and let the
#: run go on with a worse answer. Ctrl-C reaches Python instead, which interrupts the solve (see run()).
_BASE_PARAMS = {"SCIP": "misc/catchctrlc = FALSE\n"}


def set_params(solver: pywraplp.Solver, backend: str, params: str = "") -> bool:
    """Backend-specific parameters (``SetSolverSpecificParametersAsString``), on top of ours."""
    return solver.SetSolverSpecificParametersAsString(_BASE_PARAMS.get(backend.upper(), "") + (params or ""))


def make_solver(
    backend: str = DEFAULT_BACKEND, time_limit: float | None = None, threads: int | None = None
) -> pywraplp.Solver:
    """Create a ``pywraplp`` MIP solver.

    Parameters
    ----------
    backend : str
        One of ``SCIP``, ``HIGHS``, ``CBC``, ``CP-SAT`` (case-insensitive).
    time_limit : float, optional
        Wall-time limit in seconds.
    threads : int, optional
        Number of threads, where the backend honours it.
    """
    from ..checks import check_int, check_time_limit
    from ..errors import ModelInputError

    if not isinstance(backend, str):
        raise ModelInputError(f"expected a backend name, one of {', '.join(KNOWN_BACKENDS)}", field="solver")
    name = backend.upper()
    if name not in KNOWN_BACKENDS:
        raise ModelInputError(
            f"unknown solver backend {backend!r}; expected one of {', '.join(KNOWN_BACKENDS)}", field="solver"
        )
    solver = pywraplp.Solver.CreateSolver(name)
    if solver is None:  # pragma: no cover - depends on the OR-Tools build
        raise ModelInputError(f"solver backend {name} is not available in this OR-Tools build", field="solver")
    t = check_time_limit(time_limit)
    if t is not None:
        solver.SetTimeLimit(max(1, int(t * 1000)))
    if threads is not None:
        solver.SetNumThreads(check_int(threads, "threads", lo=1, hi=1024))
    set_params(solver, name)
    return solver


@contextlib.contextmanager
def _interruptible(solver: pywraplp.Solver):
    """Ctrl-C (or SIGTERM) during a solve interrupts it; Python raises KeyboardInterrupt once it returns.

    The solve runs without the GIL, so a watcher thread woken by the signal wakeup fd can call
    ``InterruptSolve``. Only in the main thread (signals are delivered there); elsewhere a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    r, w = socket.socketpair()
    w.setblocking(False)
    try:
        old = signal.set_wakeup_fd(w.fileno(), warn_on_full_buffer=False)
    except (ValueError, OSError):
        r.close()
        w.close()
        yield
        return
    done = threading.Event()

    def watch():
        with contextlib.suppress(OSError):
            if r.recv(1) and not done.is_set():
                solver.InterruptSolve()

    t = threading.Thread(target=watch, name="kazerne-solve-interrupt", daemon=True)
    t.start()
    try:
        yield
    finally:
        done.set()
        signal.set_wakeup_fd(old)
        with contextlib.suppress(OSError):
            w.send(b"\0")
        t.join(timeout=5)
        r.close()
        w.close()


@dataclass
class MipOutcome:
    status: str  # optimal / feasible / infeasible / time_limit
    objective: float
    bound: float
    gap: float
    seconds: float


def run(solver: pywraplp.Solver, rel_gap: float | None = None) -> MipOutcome:
    """Solve and translate the status. Objective/bound are ``nan`` when there is no solution.

    ``rel_gap``: the relative MIP gap at which the backend may stop and say OPTIMAL. ``None``
    keeps pywraplp's default (1e-4); the exact models pass 0 so that "optimal" means proven. In
    both cases ``bound`` and ``gap`` are read back from the solver, never assumed.
    """
    t0 = time.perf_counter()
    with _interruptible(solver):
        if rel_gap is None:
            code = solver.Solve()
        else:
            params = pywraplp.MPSolverParameters()
            params.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, float(rel_gap))
            code = solver.Solve(params)
    secs = time.perf_counter() - t0
    if code in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        obj = solver.Objective().Value()
        try:
            bound = float(solver.Objective().BestBound())
        except Exception:  # pragma: no cover - backend without a bound
            bound = float("nan")
        if not math.isfinite(bound) or abs(bound) >= NO_BOUND:
            bound = float("nan")  # unknown, not -1e20
        if code == pywraplp.Solver.OPTIMAL:
            maximize = solver.Objective().maximization()
            # an LP, or a solver that reports no bound: the optimum is its own bound
            if math.isnan(bound):
                bound = obj
            bound = max(bound, obj) if maximize else min(bound, obj)
            return MipOutcome(OPTIMAL, obj, bound, relative_gap(obj, bound), secs)
        return MipOutcome(FEASIBLE, obj, bound, relative_gap(obj, bound), secs)
    if code == pywraplp.Solver.INFEASIBLE:
        return MipOutcome(INFEASIBLE, float("nan"), float("nan"), float("nan"), secs)
    return MipOutcome(TIME_LIMIT, float("nan"), float("nan"), float("nan"), secs)
