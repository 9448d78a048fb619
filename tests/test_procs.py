"""No process outlives its run or batch (issue 21): kill -9 of the parent, Ctrl-C to the parent alone
or to the whole process group, on a real ``kazerne batch --workers 2`` and on a bare
:class:`kazerne.procs.WorkerPool`. Checked with psutil on the process tree, and by counting records
written after the signal; no wall-clock bound anywhere (every wait ends on an event, with a generous
time-out only so that a broken build does not hang the suite).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from tiny_batch import batch_folder

REPO = Path(__file__).resolve().parents[1]
PATIENCE_S = 120.0  # only a hang ends a wait this long

# 24 runs; each one sleeps in its worker (the hook below), so that the batch is surely mid-way
SWEEP = """\
[batch]
name = "slow"
base = "base.toml"
[sweep]
thresholds = [2, 3, 4, 5]
turnout.professional = {from = 60, to = 110, step = 10}
"""
HOOK = """\
import os, time
if os.environ.get("KZ_SLOW_RUN"):
    from kazerne.scenarios import batch as kb
    orig = kb.execute_run
    def slow(task):
        time.sleep(float(os.environ["KZ_SLOW_RUN"]))
        return orig(task)
    kb.execute_run = slow
"""


@pytest.fixture
def work(tmp_path):
    batch_folder(tmp_path, "slow.toml", SWEEP)
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(HOOK)
    return tmp_path


def _wait(cond, what):
    end = time.monotonic() + PATIENCE_S
    while not cond():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.05)


def _records(work):
    d = work / "out" / "slow" / "records"
    return {p.name for p in d.glob("*.json")} if d.is_dir() else set()


def _start_batch(work, slow_s="0.6", *extra):
    env = {
        **os.environ,
        "PYTHONPATH": f"{work / 'hook'}{os.pathsep}{REPO}",
        "KAZERNE_DATA": str(work / "packs"),
        "KAZERNE_CACHE": str(work / "cache"),
        "KZ_SLOW_RUN": slow_s,
    }
    cmd = [
        sys.executable,
        "-m",
        "kazerne.cli",
        "batch",
        "slow.toml",
        "--out",
        "out",
        "--workers",
        "2",
        "--quiet",
        *extra,
    ]
    return subprocess.Popen(
        cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _descendants(pid):
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _alive(procs):
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _mid_batch(work, p):
    """Wait until two runs are recorded and both pool workers (and the resource tracker) exist."""
    _wait(lambda: len(_records(work)) >= 2 or p.poll() is not None, "the first records")
    assert p.poll() is None, p.communicate()
    kids = _descendants(p.pid)
    assert len([k for k in kids if "spawn_main" in " ".join(k.cmdline())]) == 2, [k.cmdline() for k in kids]
    return kids


def test_kill_9_of_the_batch_leaves_no_process_behind(work):
    p = _start_batch(work)
    kids = _mid_batch(work, p)
    try:
        p.kill()  # SIGKILL to the parent only
        p.wait()
        # the workers die with their parent (and then the resource tracker, on the closed pipe)
        _wait(lambda: not _alive(kids), "the workers to die with their parent")
        n = len(_records(work))
        assert n < 24
        time.sleep(2 * 0.6 + 0.5)  # longer than a run: a surviving worker would have written by now
        assert len(_records(work)) == n
    finally:
        for k in _alive(kids):  # only when the test failed: leave nothing behind
            k.kill()


@pytest.mark.parametrize("group", [False, True], ids=["parent-alone", "process-group"])
def test_ctrl_c_stops_the_batch_without_more_runs(work, group):
    p = _start_batch(work)
    kids = _mid_batch(work, p)
    at_signal = _records(work)
    if group:
        os.killpg(p.pid, signal.SIGINT)  # Ctrl-C in a terminal: every process of the group
    else:
        p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=PATIENCE_S)
    assert p.returncode == 130, err
    assert err.splitlines()[-1] == "kazerne: interrupted", err
    assert "Traceback" not in err, err
    # the parent returned only after its workers were gone (the resource tracker follows them)
    assert not [k for k in _alive(kids) if "spawn_main" in " ".join(k.cmdline())]
    _wait(lambda: not _alive(kids), "the resource tracker to exit")
    after = _records(work)
    # at most the runs that were finishing as the signal came (one per worker); nothing afterwards
    assert len(after - at_signal) <= 2 and len(after) < 24
    time.sleep(2 * 0.6 + 0.5)
    assert _records(work) == after


POOL_DRIVER = textwrap.dedent("""\
    import sys, time
    from kazerne.procs import WorkerPool

    def job(path):
        open(path, "a").close()
        time.sleep(3600)

    if __name__ == "__main__":
        with WorkerPool(max_workers=2) as pool:
            futs = [pool.submit(job, f"{sys.argv[1]}/started-{i}") for i in range(2)]
            time.sleep(3600)
""")


def test_worker_pool_workers_die_with_a_killed_parent(tmp_path):
    (tmp_path / "driver.py").write_text(POOL_DRIVER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    p = subprocess.Popen([sys.executable, "driver.py", str(tmp_path)], cwd=tmp_path, env=env, start_new_session=True)
    _wait(lambda: len(list(tmp_path.glob("started-*"))) == 2, "both jobs to start")
    kids = _descendants(p.pid)
    assert len(kids) >= 2
    try:
        p.kill()
        p.wait()
        _wait(lambda: not _alive(kids), "the workers to die with their parent")
    finally:
        for k in _alive(kids):
            k.kill()


def test_worker_pool_ctrl_c_to_the_group_stops_quietly(tmp_path):
    (tmp_path / "driver.py").write_text(POOL_DRIVER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    p = subprocess.Popen(
        [sys.executable, "driver.py", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    _wait(lambda: len(list(tmp_path.glob("started-*"))) == 2, "both jobs to start")
    kids = _descendants(p.pid)
    os.killpg(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=PATIENCE_S)
    # the driver has no handler: one KeyboardInterrupt traceback of its own, none from a worker
    assert p.returncode != 0
    assert err.count("Traceback") == 1 and "spawn" not in err and "_process_worker" not in err, err
    assert not [k for k in _alive(kids) if "spawn_main" in " ".join(k.cmdline())]


def test_ctrl_c_to_a_dask_local_batch_prints_no_worker_traceback(work):
    p = _start_batch(work, "0.6", "--dask-local")
    _wait(lambda: len(_records(work)) >= 2 or p.poll() is not None, "the first records")
    assert p.poll() is None, p.communicate()
    kids = _descendants(p.pid)
    os.killpg(p.pid, signal.SIGINT)  # Ctrl-C: the Dask worker processes get it too
    _, err = p.communicate(timeout=PATIENCE_S)
    assert p.returncode == 130, err
    assert err.splitlines() == ["kazerne: interrupted"], err  # no worker traceback, no Dask warning
    _wait(lambda: not _alive(kids), "the Dask workers to exit")
