"""Batch studies: many scenario runs from one batch file, sharing the heavy parts.

A batch file (TOML) names a base scenario and the parameters to sweep, or a list of scenario files::

    [batch]
    name = "closures-turnout"            # results in OUT/<name>/
    base = "hvz-centrum-2019.toml"       # relative to the batch file
    combine = "product"                  # or "zip" (all lists of equal length)

    [sweep]
    thresholds = [8, 10, 12, 15]                 # one run per value (a number = [number])
    "posts.closed" = "each"                      # today, then each open post closed in turn
    "turnout.professional" = {from = 60, to = 120, step = 30}

Each run is the base scenario with the dotted fields set; its id is derived from its parameter
values (``thresholds=8_closed=P01_professional=60``). Every run is validated like a scenario file
before anything is computed; a bad field gives one line naming the batch (or base) file and field.

How the work is shared: the zone network and the demand points are loaded once (in the process
that reads the batch); the driving times from every site any baseline run uses to every demand
point are computed once per (network, speed profile, demand, site set) and written as ``.npy``
files under ``OUT/<name>/matrices/`` keyed by a digest of those inputs; each run memory-maps the
file, takes its rows and adds its own turnout times. A baseline run then costs one evaluation.
Runs with ``[study]``, ``[ems]``, ``[response]`` or ``[[slices]]`` sections, or with vehicles or
neighbouring posts (``[vehicles]``, ``[posts.vehicles]``, ``[[posts.neighbours]]``), and every run when
``council = true`` (the per-run
maps, ``report.html`` and ``layers.gpkg``), go through the ordinary scenario runner instead.

Nothing is lost: every finished run (done or failed, with its message) writes a record
``OUT/<name>/records/<id>.json`` after its output folder ``OUT/<name>/runs/<id>/`` is complete, both
atomically; a re-run of the batch skips runs whose record carries the same inputs digest, so an
interrupted batch resumes with the missing runs and a changed input re-runs exactly the runs whose
resolved inputs changed. ``batch.csv`` / ``batch.parquet`` (one row per run) and ``headline.png``
are written at the end from the records.

Modules: :mod:`~kazerne.scenarios.batch_spec` (the file), :mod:`~kazerne.scenarios.batch_plan`
(tasks, digests, shared matrices), :mod:`~kazerne.scenarios.batch_run` (one run: the baseline kind
from the shared matrix, or the scenario runner), :mod:`~kazerne.scenarios.batch_results` (the table
and the figure); this module runs the tasks on an executor and is the command.

Executors: in-process (``workers=1``), a local process pool (``workers=N``, a dead worker process
has its runs retried in a fresh pool), or Dask (``scheduler="tcp://host:port"`` or
``dask_local=True``; ``pip install 'kazerne[dask]'``, imported only then; a dead Dask worker's runs
are rescheduled by Dask). Every executor runs the same function on the same task, so the results
are the same.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import KazerneError, ScenarioError
from .batch_plan import (  # noqa: F401  (re-exported: the batch API)
    BATCH_MARKER,
    Plan,
    RunTask,
    build_shared,
    check_batch_dir,
    plan_batch,
    read_record,
    records_dir,
)
from .batch_results import (  # noqa: F401
    BatchResult,
    headline_column,
    headline_values,
    read_table,
    results_table,
    write_figure,
    write_table,
)
from .batch_run import fast_run, one_line, runner_run
from .batch_spec import MAX_RUNS, BatchSpec, Run, parse_batch, run_id, show, slug_value  # noqa: F401
from .batch_toml import dumps_toml  # noqa: F401

log = logging.getLogger("kazerne")

#: Attempts of one run whose worker process dies (process pool); Dask has its own (allowed-failures).
MAX_ATTEMPTS = 3
#: Columns that differ between two executions of the same batch (left out when tables are compared).
VOLATILE_COLUMNS = ("wall_s", "attempts")

__all__ = [
    "VOLATILE_COLUMNS",
    "BatchResult",
    "BatchSpec",
    "Run",
    "RunTask",
    "dumps_toml",
    "execute_run",
    "parse_batch",
    "plan_batch",
    "read_table",
    "run_batch",
]


def execute_run(task: RunTask) -> dict:
    """Run one task (in any process): write its folder, then its record; return the record.

    An exception becomes a ``failed`` record with its message (the batch goes on); only
    ``KeyboardInterrupt`` / ``SystemExit`` pass through.
    """
    from ..jsonsafe import json_safe
    from ..report.atomic import write_json

    out_dir = Path(task.out_dir)
    target = out_dir / "runs" / task.id
    t0 = time.perf_counter()
    rec: dict[str, Any] = {
        "run_id": task.id,
        "status": "done",
        "kind": task.run_kind,
        "digest": task.digest,
        "params": task.params,
        "error": "",
        "folder": f"runs/{task.id}",
    }
    try:
        nums = fast_run(task, target) if task.kind == "fast" else runner_run(task, target)
    except Exception as exc:  # noqa: BLE001 - a failing run is recorded, the batch goes on
        nums = {}
        rec["status"] = "failed"
        rec["error"] = one_line(f"{type(exc).__name__}: {exc}" if not isinstance(exc, KazerneError) else exc)
        rec["folder"] = ""
        log.info("batch run %s failed: %s", task.id, rec["error"])
    rec["municipalities"] = nums.pop("_municipalities", [])
    rec["path"] = task.kind
    rec["numbers"] = nums
    rec["wall_s"] = round(time.perf_counter() - t0, 4)
    rec["attempts"] = task.attempts
    rec["worker"] = os.getpid()
    write_json(records_dir(out_dir) / f"{task.id}.json", json_safe(rec))
    return rec


def _dask_task(task: RunTask) -> dict:
    """Entry point on a Dask worker: looked up by name, so that the worker runs :func:`execute_run`."""
    return execute_run(task)


# ------------------------------------------------------------------------------------------ executors
def _failed_record(task: RunTask, msg: str) -> dict:
    from ..report.atomic import write_json

    rec = {
        "run_id": task.id,
        "status": "failed",
        "kind": task.run_kind,
        "digest": task.digest,
        "params": task.params,
        "error": msg,
        "folder": "",
        "numbers": {},
        "wall_s": 0.0,
        "attempts": task.attempts,
        "worker": None,
    }
    write_json(records_dir(Path(task.out_dir)) / f"{task.id}.json", rec)
    return rec


def _serial(tasks, bar):
    for t in tasks:
        yield execute_run(t)
        bar.update(1)


def _running_dir(task: RunTask) -> Path:
    return Path(task.out_dir) / "records" / ".running"


def _pool_task(task: RunTask) -> dict:
    """Entry point in a pool worker: marks the run as started (so that the parent knows which run a
    dead worker was running), runs :func:`execute_run`, removes the mark."""
    mark = _running_dir(task) / task.id
    mark.parent.mkdir(parents=True, exist_ok=True)
    mark.write_text(str(os.getpid()))
    rec = execute_run(task)
    mark.unlink(missing_ok=True)
    return rec


def _pool(tasks, workers: int, bar):
    """A spawn process pool (:class:`kazerne.procs.WorkerPool`). When a worker process dies the pool breaks: the runs that were started
    in it are suspects and re-run one at a time, each in its own process; a run that kills its
    process ``MAX_ATTEMPTS`` times is recorded as failed, the others are done normally."""
    import concurrent.futures as cf
    import shutil
    from concurrent.futures.process import BrokenProcessPool

    from ..procs import WorkerPool

    pending = {t.id: t for t in tasks}
    suspects: list = []
    while pending:
        group = [pending[suspects[0]]] if suspects else list(pending.values())
        running = _running_dir(group[0])
        shutil.rmtree(running, ignore_errors=True)
        broken = False
        # leaving the block by Ctrl-C, SIGTERM or an error cancels the pending runs and terminates
        # the running ones; the workers die with this process (kill -9 too), see kazerne/procs.py
        with WorkerPool(max_workers=min(workers, len(group))) as ex:
            futs = {ex.submit(_pool_task, t): t for t in group}
            for f in cf.as_completed(futs):
                t = futs[f]
                try:
                    rec = f.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                pending.pop(t.id, None)
                if t.id in suspects:
                    suspects.remove(t.id)
                bar.update(1)
                yield rec
        if not broken:
            continue
        started = [t for t in group if t.id in pending and (running / t.id).exists()] or [
            t for t in group if t.id in pending
        ]
        for t in started:
            t.attempts += 1
            if t.id not in suspects:
                suspects.append(t.id)
            if t.attempts > MAX_ATTEMPTS:
                pending.pop(t.id)
                suspects.remove(t.id)
                bar.update(1)
                yield _failed_record(t, f"the worker process died {MAX_ATTEMPTS} times while running it")
        log.info("a batch worker process died; %d run(s) go on in a new pool", len(pending))
    shutil.rmtree(_running_dir(tasks[0]), ignore_errors=True) if tasks else None


_SCHEDULER = re.compile(r"[a-z][a-z0-9+.-]*://[^\s]+|[A-Za-z0-9._\-\[\]:]+:[0-9]{1,5}")


def check_scheduler(address) -> str:
    """``--scheduler``: a Dask scheduler address (``tcp://host:8786``, ``host:8786``), or ScenarioError."""
    if not isinstance(address, str) or not _SCHEDULER.fullmatch(address):
        raise ScenarioError(
            f"expected a Dask scheduler address like tcp://host:8786, got {show(address)}", field="--scheduler"
        )
    return address


def _dask(tasks, bar, scheduler: str | None, workers: int):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ScenarioError(
            "Dask is not installed; pip install 'kazerne[dask]' (dask[distributed])",
            field="--scheduler" if scheduler else "--dask-local",
        ) from None
    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                raise ScenarioError(
                    f"cannot reach the Dask scheduler at {scheduler} ({exc})", field="--scheduler"
                ) from None
        else:
            from ..procs import children_ignore_ctrl_c

            # its nannies, workers and event-loop thread start with SIGINT blocked: Ctrl-C reaches
            # this process only, which closes the cluster (no KeyboardInterrupt trace per worker)
            with children_ignore_ctrl_c():
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",
                    silence_logs=logging.ERROR,  # not a WARNING line per cancelled run on Ctrl-C
                )
                client = Client(cluster)
        try:
            futs = {}
            for t in tasks:
                f = client.submit(_dask_task, t, key=f"kazerne-batch-{t.id}-{t.digest[:12]}", pure=False)
                futs[f] = t
            for f in as_completed(list(futs)):
                t = futs[f]
                try:
                    rec = f.result()
                except Exception as exc:  # noqa: BLE001 - KilledWorker and friends: recorded, the batch goes on
                    rec = _failed_record(t, one_line(f"{type(exc).__name__}: {exc}"))
                bar.update(1)
                yield rec
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


def _write_marker(out_dir: Path, spec: BatchSpec) -> None:
    from ..report.atomic import write_json

    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(
        out_dir / BATCH_MARKER,
        {
            "written_by": "kazerne batch",
            "kazerne_version": __version__,
            "batch_file": str(spec.path),
            "runs": len(spec.runs),
        },
    )


def run_batch(
    path,
    out_root="out",
    workers: int = 1,
    scheduler: str | None = None,
    dask_local: bool = False,
    retry_failed: bool = False,
    council: bool | None = None,
    quiet: bool = False,
    spec: BatchSpec | None = None,
) -> BatchResult:
    """Run a batch file: every missing run, on the chosen executor; returns the table and counts.

    Parameters
    ----------
    workers : int
        1: in this process; N > 1: a local process pool of N (or N Dask workers with ``dask_local``).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:port``); the output folder must be on a file
        system its workers share, at the same path.
    retry_failed : bool
        Also re-run runs recorded as failed (by default they are kept, with their message).
    council : bool, optional
        Override the batch file's ``council``: per-run maps, report.html and layers.gpkg (slow).
    """
    t0 = time.perf_counter()
    if scheduler is not None:
        check_scheduler(scheduler)  # before anything is planned or written
    spec = spec or parse_batch(path)
    if council is not None:
        spec.council = council
    plan = plan_batch(spec, out_root, retry_failed=retry_failed, quiet=quiet)
    _write_marker(plan.out_dir, spec)
    shared = build_shared(plan, quiet=quiet)
    shared["prepare_s"] = round(time.perf_counter() - t0, 3)
    todo = [t for t in plan.tasks if t.id in set(plan.todo)]
    from tqdm import tqdm

    bar = tqdm(total=len(todo), desc="batch runs", unit="run", disable=quiet or not todo, file=sys.stderr, leave=False)
    try:
        if not todo:
            recs = []
        elif scheduler or dask_local:
            recs = list(_dask(todo, bar, scheduler, max(1, workers)))
        elif workers > 1:
            recs = list(_pool(todo, workers, bar))
        else:
            recs = list(_serial(todo, bar))
    finally:
        bar.close()
    df = results_table(plan)
    df.insert(df.columns.get_loc("status") + 1, "headline_share", headline_values(df)[0])
    write_table(df, plan.out_dir)
    from .batch_tables import long_table, write_long_table

    recs_by_id = {t.id: read_record(plan.out_dir, t.id) for t in plan.tasks}
    long = long_table(plan.tasks, recs_by_id, dict(zip(df["run_id"], df["label"])), spec.params)
    write_long_table(long, plan.out_dir)
    write_figure(df, spec.params, plan.out_dir / "headline.png")
    ran = len(recs)
    return BatchResult(
        out_dir=plan.out_dir,
        table=df,
        done=int((df["status"] == "done").sum()),
        failed=int((df["status"] == "failed").sum()),
        skipped=len(plan.tasks) - len(todo),
        ran=ran,
        wall_s=round(time.perf_counter() - t0, 3),
        shared=shared,
    )


# ------------------------------------------------------------------------------------------ command
def batch_main(args) -> int:
    """``kazerne batch FILE``: parse (one line on a bad file, exit 2), list with --dry-run, or run."""
    if args.workers < 1:
        raise ScenarioError(f"expected a whole number >= 1, got {args.workers}", field="--workers")
    if args.scheduler and args.dask_local:
        raise ScenarioError("give either --scheduler or --dask-local, not both", field="--scheduler")
    if args.scheduler is not None:
        check_scheduler(args.scheduler)
    spec = parse_batch(args.file)
    if args.council:
        spec.council = True
    if args.dry_run:
        plan = plan_batch(spec, args.out, retry_failed=args.retry_failed)
        print(
            f"batch {spec.name}: {len(spec.runs)} runs ({spec.combine} of {', '.join(spec.params) or 'nothing'}), "
            f"results in {plan.out_dir}/"
        )
        w = max(len(r.id) for r in spec.runs)
        for r, t in zip(spec.runs, plan.tasks):
            vals = "  ".join(f"{k}={slug_value(v) if isinstance(v, list) else v}" for k, v in r.params.items())
            print(f"  {r.id:<{w}}  {t.run_kind:<16} {t.kind:<6} {plan.states[r.id]:<28} {vals}")
        n_todo = len(plan.todo)
        print(f"{n_todo} to run, {len(spec.runs) - n_todo} already recorded (nothing was run)")
        return 0
    res = run_batch(
        args.file,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        dask_local=args.dask_local,
        retry_failed=args.retry_failed,
        quiet=args.quiet,
        spec=spec,
    )
    if not args.quiet:
        sh = res.shared
        print(
            f"batch {spec.name}: {res.done} done, {res.failed} failed, {res.skipped} skipped (already recorded); "
            f"{res.ran} run now in {res.wall_s:.1f} s; {sh.get('matrices_built', 0)} travel-time matrices "
            f"computed, {sh.get('matrices_reused', 0)} reused",
            file=sys.stderr,
        )
        paths = res.table["path"].value_counts()
        why = sorted({r for r in res.table["path_reason"] if r})
        print(
            f"paths: {int(paths.get('fast', 0))} fast (shared travel-time matrix), {int(paths.get('runner', 0))} "
            "through the scenario runner" + (f" ({'; '.join(why)})" if why else ""),
            file=sys.stderr,
        )
        for _, r in res.table[res.table["status"] == "failed"].head(10).iterrows():
            print(f"  failed {r['run_id']}: {r['error']}", file=sys.stderr)
        print(
            f"results in {res.out_dir}/ (batch.csv, batch.parquet, batch_municipalities.csv, "
            "batch_municipalities.parquet, headline.png, runs/<id>/)",
            file=sys.stderr,
        )
    return 1 if res.failed else 0
