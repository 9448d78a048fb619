"""Worker processes that never outlive their parent and never print on the way out.

One pool for every place that starts processes (the batch pool, the greenfield frontier):
:class:`WorkerPool`, a spawn :class:`concurrent.futures.ProcessPoolExecutor` whose workers

- start with SIGINT and SIGTERM blocked (the parent blocks them while it starts a worker; the mask
  is inherited), so that a Ctrl-C to the process group during a worker's start-up (its imports)
  cannot end in a ``KeyboardInterrupt`` traceback; :func:`worker_init` then ignores SIGINT (the
  parent decides), lets SIGTERM end the worker silently, and unblocks both;
- die with their parent: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` on Linux, and everywhere a thread
  that polls ``os.getppid()`` and leaves when the parent is gone (``kill -9`` of the parent);
- are stopped by the parent when the ``with`` block is left by an exception (Ctrl-C, SIGTERM, an
  error): pending jobs cancelled, running ones terminated, every worker joined (killed after a
  grace), so that nothing runs or writes after the parent has returned, and no worker is still
  starting when the parent's exit removes the pool's semaphores (that was the
  ``multiprocessing/spawn.py ... FileNotFoundError`` traceback after ``kazerne: terminated``).

Keep the arguments of a worker's initializer small: the parent writes them to the new process
with the signals blocked (large data goes with the jobs, which a background thread sends).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing.context as mpc
import os
import signal
import sys
import threading
import time

__all__ = ["WorkerPool", "children_ignore_ctrl_c", "worker_init"]

_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_POLL_S = 0.5
GRACE_S = 1.0  # a terminated worker that has not exited after this is killed


@contextlib.contextmanager
def _signals_held(signals=frozenset(_STOP_SIGNALS)):
    """SIGINT and SIGTERM held back until the block ends, then acted on as usual.

    Two layers: the thread's signal mask (inherited by a process started here: it starts with the
    signals blocked), and, in the main thread, the Python handlers swapped for recorders. The mask
    alone is not enough: a signal sent to the process while this thread blocks it is taken by
    another thread (a BLAS or pool thread), and Python would still raise ``KeyboardInterrupt``
    here, in the middle of starting or stopping a worker. A recorded signal is raised again once
    the handlers are back.
    """
    got: list = []
    old_handlers = {}
    if threading.current_thread() is threading.main_thread():
        for s in signals:
            with contextlib.suppress(ValueError, OSError):
                old_handlers[s] = signal.signal(s, lambda n, _f: got.append(n))
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, signals) if hasattr(signal, "pthread_sigmask") else None
    try:
        yield
    finally:
        if old_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        for s, h in old_handlers.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)
    if got:
        signal.raise_signal(got[0])  # handled now by the handler of the caller (Ctrl-C, SIGTERM)


@contextlib.contextmanager
def children_ignore_ctrl_c():
    """Processes started inside this block ignore a terminal's Ctrl-C for good (SIGINT is ignored
    here meanwhile, and an ignored signal stays ignored in a new program: Python then installs no
    ``KeyboardInterrupt`` handler in it); the parent, which gets the Ctrl-C, stops them. For pools
    that are not a :class:`WorkerPool` (a local Dask cluster: each of its worker processes printed
    a ``KeyboardInterrupt`` traceback). A Ctrl-C during the block itself is lost; main thread only
    (elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old if old is not None else signal.SIG_DFL)


def _die_with_parent(ppid: int) -> None:
    """End this process (silently) when process ``ppid`` is gone."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the thread below still watches
            pass
    if os.getppid() != ppid:  # the parent died before the watch was set
        os._exit(1)

    def watch():
        while True:
            time.sleep(_POLL_S)
            if os.getppid() != ppid:
                os._exit(1)

    threading.Thread(target=watch, name="kazerne-parent-watch", daemon=True).start()


def worker_init(ppid: int, initializer=None, initargs=()) -> None:
    """First thing a worker runs: quiet signals, the parent-death watch, then ``initializer``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(ppid)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    if initializer is not None:
        initializer(*initargs)


def _noop() -> None:
    return None


class _Process(mpc.SpawnProcess):
    registry: list | None = None

    def __getstate__(self):  # the registry stays in the parent (it holds the other processes)
        state = self.__dict__.copy()
        state.pop("registry", None)
        return state

    def start(self):
        with _signals_held():
            super().start()
            if self.registry is not None:
                self.registry.append(self)


class _Context(mpc.SpawnContext):
    """A spawn context that starts its processes with the stop signals blocked and remembers them
    (the executor forgets a process whose start a signal interrupted)."""

    def __init__(self):
        super().__init__()
        self.started: list = []

    def Process(self, *args, **kwargs):  # noqa: N802 - the name multiprocessing calls
        p = _Process(*args, **kwargs)
        p.registry = self.started
        return p


class WorkerPool(cf.ProcessPoolExecutor):
    """A spawn process pool whose workers never outlive it (see the module's docstring).

    Use it as a context manager: leaving the block normally waits for the submitted jobs (as
    ``ProcessPoolExecutor`` does); leaving it by an exception (``KeyboardInterrupt`` included)
    calls :meth:`stop`. Submit from the thread that created the pool (Linux's parent-death signal
    follows the thread that started the worker).
    """

    def __init__(self, max_workers: int, initializer=None, initargs=()):
        self._ctx = _Context()
        self._n_workers = int(max_workers)
        super().__init__(
            max_workers=max_workers,
            mp_context=self._ctx,
            initializer=worker_init,
            initargs=(os.getpid(), initializer, tuple(initargs)),
        )

    def prestart(self) -> None:
        """Start every worker now (their imports overlap the caller's work) rather than at the first
        submits; each runs a no-op first."""
        for _ in range(self._n_workers):
            self.submit(_noop)

    def stop(self, grace: float = GRACE_S) -> None:
        """Cancel the pending jobs, terminate the running ones and wait until every worker is gone
        (killed when it has not exited ``grace`` seconds after SIGTERM)."""
        with _signals_held():  # a second Ctrl-C must not leave workers half-stopped
            self.shutdown(wait=False, cancel_futures=True)
            procs = list(self._ctx.started)
            for p in procs:
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    if p.is_alive():
                        p.terminate()
            end = time.monotonic() + grace
            for p in procs:
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    p.join(max(0.0, end - time.monotonic()))
            for p in procs:
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    if p.is_alive():
                        p.kill()
                        p.join()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.shutdown(wait=True)
        else:
            self.stop()
        return False
