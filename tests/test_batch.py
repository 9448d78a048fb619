"""kazerne batch (#16) on the tiny synthetic zone of test_routing_zonepack (two posts, 54 nodes).

Runs are checked against the ordinary scenario runner (an independent path: its own zone load,
its own Dijkstra over all nodes), executors against each other, and the fault tolerance by
killing processes for real: the batch process itself (SIGKILL half-way) and a Dask worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from tiny_batch import BASE, batch_folder

from kazerne.errors import ScenarioError
from kazerne.scenarios import batch as kb
from kazerne.scenarios.runner import run_file

REPO = Path(__file__).resolve().parents[1]

SWEEP = """\
[batch]
name = "sweep"
base = "base.toml"
[sweep]
thresholds = [2, 3, 4]
"posts.closed" = "each"
turnout.professional = {from = 60, to = 120, step = 60}
"""


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A tiny zone pack, its own network cache, a base scenario and an 18-run batch file."""
    monkeypatch.setenv("KAZERNE_DATA", str(tmp_path / "packs"))
    monkeypatch.setenv("KAZERNE_CACHE", str(tmp_path / "cache"))
    return batch_folder(tmp_path, "sweep.toml", SWEEP)


def _stable(df: pd.DataFrame) -> pd.DataFrame:
    """The table without what legitimately differs between executions (wall time, attempts)."""
    return df.drop(columns=list(kb.VOLATILE_COLUMNS)).reset_index(drop=True)


def _cli(args, cwd, **kw):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "kazerne.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        **kw,
    )


# ----------------------------------------------------------------------------------- the batch file
def test_expansion_ids_and_dry_run(work):
    spec = kb.parse_batch(work / "sweep.toml")
    assert len(spec.runs) == 3 * 3 * 2
    assert spec.params == ["thresholds", "posts.closed", "turnout.professional"]
    ids = [r.id for r in spec.runs]
    assert ids[0] == "thresholds=2_closed=none_professional=60"
    assert ids[3] == "thresholds=2_closed=T1_professional=120"
    assert len(set(ids)) == 18
    r = spec.runs[3]
    assert r.sc.thresholds_min == [2.0] and r.sc.closed == ["T1"] and r.sc.turnout_s["professional"] == 120.0
    assert [p.id for p in r.sc.posts] == ["T2"]
    # ids come from the values, not from the order: a reordered sweep gives the same set
    (work / "sweep2.toml").write_text(SWEEP.replace("thresholds = [2, 3, 4]", "thresholds = [4, 2, 3]"))
    assert {r.id for r in kb.parse_batch(work / "sweep2.toml").runs} == set(ids)
    # zip pairs the lists
    (work / "zip.toml").write_text(
        '[batch]\nbase = "base.toml"\ncombine = "zip"\n[sweep]\nthresholds = [2, 4]\n'
        '"turnout.professional" = [30, 90]\n'
    )
    z = kb.parse_batch(work / "zip.toml")
    assert [(r.sc.thresholds_min, r.sc.turnout_s["professional"]) for r in z.runs] == [([2.0], 30.0), ([4.0], 90.0)]
    p = _cli(["batch", "sweep.toml", "--dry-run", "--out", "out"], work)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("batch sweep: 18 runs (product of thresholds, posts.closed, turnout.professional)")
    assert sum(i in p.stdout for i in ids) == 18
    assert lines[-1] == "18 to run, 0 already recorded (nothing was run)"
    assert not (work / "out").exists()


def test_list_of_scenario_files(work):
    (work / "a.toml").write_text(BASE.replace('name = "tiny"', 'name = "a"'))
    (work / "b.toml").write_text(
        BASE.replace('name = "tiny"', 'name = "b"').replace('active = ["T1", "T2"]', 'active = ["T1"]')
    )
    (work / "list.toml").write_text('[batch]\nname = "two"\nscenarios = ["a.toml", "b.toml"]\n')
    res = kb.run_batch(work / "list.toml", work / "out", quiet=True)
    assert list(res.table["run_id"]) == ["a", "b"] and list(res.table["status"]) == ["done", "done"]
    for name in ("a", "b"):
        solo = json.loads((run_file(work / f"{name}.toml", work / "solo", quiet=True) / "summary.json").read_text())
        mine = json.loads((work / "out" / "two" / "runs" / name / "summary.json").read_text())
        assert mine["zone"] == solo["zone"]


BAD = [
    (
        '[batch]\nbase = "base.toml"\n[sweep]\n"turnout.professional" = [60, -5]\n',
        "sweep.turnout.professional",
        "expected a number >= 0",
    ),
    ('[batch]\nbase = "base.toml"\nworkers = 3\n', "batch.workers", "unknown key"),
    (
        '[batch]\nbase = "base.toml"\ncombine = "zip"\n[sweep]\nthresholds = [2, 3]\n"turnout.volunteer" = [1]\n',
        "sweep.turnout.volunteer",
        "equal length",
    ),
    ('[batch]\nbase = "base.toml"\n[sweep]\n"posts.closed" = ["none", "T9"]\n', "sweep.posts.closed", "T9"),
    ('[batch]\nbase = "missing.toml"\n', "missing.toml", "file not found"),
    ('[batch]\nbase = "base.toml"\n[sweep]\nthresholds = 8\n', "sweep.thresholds", "expected a list of values"),
    (
        '[batch]\nbase = "base.toml"\n[sweep]\nthresholds = {from = 9, to = 3}\n',
        "sweep.thresholds.to",
        "expected to >= from",
    ),
    ('[batch]\nbase = "base.toml"\n[sweep]\n"profile.perod" = ["night"]\n', "sweep.profile.perod", "unknown key"),
    ('[batch]\nbase = "base.toml"\nscenarios = ["base.toml"]\n', "batch", "not both"),
]


def _check_bad(rc: int, stderr: str, work: Path, field: str, words: str) -> None:
    assert rc == 2, stderr
    err = stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert field in err and words in err and err.startswith("kazerne: error: ")
    assert not (work / "out").exists()


@pytest.mark.parametrize("text,field,words", BAD)
def test_bad_batch_file_one_line_exit_2_nothing_written(work, text, field, words, monkeypatch, capsys):
    """``kazerne batch`` in-process (the CLI's own ``main``); the real command: the test below."""
    from kazerne.cli import main

    (work / "bad.toml").write_text(text)
    monkeypatch.chdir(work)
    rc = main(["batch", "bad.toml", "--out", "out"])
    _check_bad(rc, capsys.readouterr().err, work, field, words)


def test_bad_batch_file_as_a_real_command(work):
    text, field, words = BAD[0]
    (work / "bad.toml").write_text(text)
    p = _cli(["batch", "bad.toml", "--out", "out"], work)
    _check_bad(p.returncode, p.stderr, work, field, words)


def test_toml_writer_round_trips_every_example_scenario():
    files = sorted((REPO / "scenarios").glob("*.toml"))
    assert len(files) >= 10
    for f in files:
        raw = tomllib.loads(f.read_text(encoding="utf-8"))
        assert tomllib.loads(kb.dumps_toml(raw)) == raw, f


# ----------------------------------------------------------------------------------- the results
def test_fast_path_equals_the_scenario_runner(work):
    res = kb.run_batch(work / "sweep.toml", work / "out", quiet=True)
    assert res.done == 18 and res.failed == 0 and res.shared["matrices_built"] == 1
    for rid in (
        "thresholds=3_closed=none_professional=60",
        "thresholds=4_closed=T2_professional=120",
        "thresholds=2_closed=T1_professional=60",
    ):
        folder = work / "out" / "sweep" / "runs" / rid
        solo = run_file(folder / "scenario.toml", work / "solo", quiet=True)  # the run's own scenario file
        a = json.loads((folder / "summary.json").read_text())
        b = json.loads((solo / "summary.json").read_text())
        for k in (
            "zone",
            "municipalities",
            "worst_served",
            "posts",
            "assumptions",
            "demand",
            "mean_drive_min_first_unit",
        ):
            if k == "posts":  # the fast path leaves the first-due polygons (and their km²) to kazerne run
                assert all(p["first_due_area_km2"] is None for p in a[k])
                strip = [[{f: v for f, v in p.items() if f != "first_due_area_km2"} for p in x[k]] for x in (a, b)]
                assert strip[0] == strip[1], rid
                continue
            assert a[k] == b[k], (rid, k)
        row = res.table.set_index("run_id").loc[rid]
        t = f"{b['assumptions']['thresholds_min'][0]:g}"
        assert row[f"share_within_{t}min"] == b["zone"]["share_within"][t]
        assert row["headline_share"] == b["zone"]["share_within"][t]
    # the table on disk: CSV and Parquet say the same
    csv = kb.read_table(work / "out" / "sweep" / "batch.csv")
    pq = kb.read_table(work / "out" / "sweep" / "batch.parquet")
    assert len(csv) == len(pq) == 18
    assert list(csv["run_id"]) == list(pq["run_id"]) == list(res.table["run_id"])
    assert csv["share_within_2min"].round(12).equals(pq["share_within_2min"].round(12))
    assert (work / "out" / "sweep" / "headline.png").stat().st_size > 10000
    # closing the only professional post makes the professional turnout irrelevant: same inputs
    t = res.table.set_index("run_id")
    assert (
        t.loc["thresholds=2_closed=T1_professional=60", "inputs_digest"]
        == t.loc["thresholds=2_closed=T1_professional=120", "inputs_digest"]
    )


def test_same_table_serially_on_a_pool_and_on_dask(work):
    from distributed import LocalCluster

    serial = kb.run_batch(work / "sweep.toml", work / "serial", workers=1, quiet=True)
    pool = kb.run_batch(work / "sweep.toml", work / "pool", workers=2, quiet=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0") as cluster:
        dask = kb.run_batch(work / "sweep.toml", work / "dask", scheduler=cluster.scheduler_address, quiet=True)
        pids = set(cluster.workers)
    assert len(pids) == 2
    assert serial.done == pool.done == dask.done == 18
    pd.testing.assert_frame_equal(_stable(serial.table), _stable(pool.table))
    pd.testing.assert_frame_equal(_stable(serial.table), _stable(dask.table))
    # the pool and Dask ran the runs in other processes
    workers = {json.loads(p.read_text())["worker"] for p in (work / "dask" / "sweep" / "records").glob("*.json")}
    assert os.getpid() not in workers


def _install_killer(marker: str, nth: int):
    """On a Dask worker: the ``nth`` run of this worker kills its process (once over all workers)."""
    import os as _os
    import signal as _signal

    from kazerne.scenarios import batch as _kb

    orig = _kb.execute_run
    count = [0]

    def killer(task):
        count[0] += 1
        if count[0] == nth:
            try:
                fd = _os.open(marker, _os.O_CREAT | _os.O_EXCL | _os.O_WRONLY)
            except FileExistsError:
                return orig(task)
            _os.write(fd, str(_os.getpid()).encode())
            _os.close(fd)
            _os.kill(_os.getpid(), _signal.SIGKILL)
        return orig(task)

    _kb.execute_run = killer
    return _os.getpid()


def test_dask_worker_killed_mid_batch_every_run_once(work):
    from distributed import Client, LocalCluster

    serial = kb.run_batch(work / "sweep.toml", work / "serial", quiet=True)
    marker = work / "killed.pid"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0") as cluster:
        with Client(cluster) as client:
            before = set(client.run(_install_killer, str(marker), 3).values())
        res = kb.run_batch(work / "sweep.toml", work / "dask", scheduler=cluster.scheduler_address, quiet=True)
    killed = int(marker.read_text())
    assert killed in before  # a worker process really died, mid-batch
    assert res.done == 18 and res.failed == 0
    assert sorted(res.table["run_id"]) == sorted(serial.table["run_id"])
    assert res.table["run_id"].is_unique
    workers = {json.loads(p.read_text())["worker"] for p in (work / "dask" / "sweep" / "records").glob("*.json")}
    assert killed not in workers  # its run was done elsewhere
    pd.testing.assert_frame_equal(_stable(serial.table), _stable(res.table))


def test_pool_worker_killed_runs_retried(work, monkeypatch):
    # a run whose process dies is retried in a new pool; one that always kills its worker is
    # recorded as failed after MAX_ATTEMPTS (the test's killer is installed through the spawn
    # workers' environment: a sitecustomize on PYTHONPATH)
    hook = work / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        textwrap.dedent("""
        import os, signal
        if os.environ.get("KILL_RUN"):
            from kazerne.scenarios import batch as kb
            orig = kb.execute_run
            def killer(task):
                if task.id == os.environ["KILL_RUN"]:
                    os.kill(os.getpid(), signal.SIGKILL)
                return orig(task)
            kb.execute_run = killer
    """)
    )
    monkeypatch.setenv("PYTHONPATH", f"{hook}{os.pathsep}{REPO}")
    monkeypatch.setenv("KILL_RUN", "thresholds=3_closed=none_professional=60")
    res = kb.run_batch(work / "sweep.toml", work / "out", workers=2, quiet=True)
    t = res.table.set_index("run_id")
    assert res.failed == 1 and res.done == 17
    assert t.loc["thresholds=3_closed=none_professional=60", "status"] == "failed"
    assert "worker process died 3 times" in t.loc["thresholds=3_closed=none_professional=60", "error"]


def test_a_run_that_raises_is_recorded_and_the_batch_goes_on(work):
    (work / "study.toml").write_text(
        BASE + '[study]\nkind = "add"\nthreshold = 3\nspacing_m = 200\n'
        'candidate_classes = ["residential", "tertiary", "secondary", "primary"]\n'
    )
    (work / "b.toml").write_text('[batch]\nname = "k"\nbase = "study.toml"\n[sweep]\n"study.k" = [1, 2, 5000]\n')
    p = _cli(["batch", "b.toml", "--out", "out", "--quiet"], work)
    assert p.returncode == 1 and p.stderr == ""
    t = kb.read_table(work / "out" / "k" / "batch.csv").set_index("run_id")
    assert list(t["status"]) == ["done", "done", "failed"]
    assert "study.k: expected at most" in t.loc["k=5000", "error"] and "got k = 5000" in t.loc["k=5000", "error"]
    assert t.loc["k=1", "solve_status"] == "optimal" and t.loc["k=1", "gap"] == 0
    assert (work / "out" / "k" / "runs" / "k=2" / "summary.json").is_file()
    assert not (work / "out" / "k" / "runs" / "k=5000").exists()
    # failures are kept (not re-run) unless asked
    again = kb.run_batch(work / "b.toml", work / "out", quiet=True)
    assert again.ran == 0 and again.failed == 1
    again = kb.run_batch(work / "b.toml", work / "out", quiet=True, retry_failed=True)
    assert again.ran == 1 and again.failed == 1


DRIVER = """\
import os, signal, sys
from kazerne.scenarios import batch
from kazerne.cli import main
orig, n = batch.execute_run, [0]
def killer(task):
    n[0] += 1
    if n[0] == 7:
        os.kill(os.getpid(), signal.SIGKILL)
    return orig(task)
batch.execute_run = killer
sys.exit(main(["batch", "sweep.toml", "--out", "out", "--quiet"]))
"""


def test_sigkill_half_way_then_resume_runs_only_the_missing(work):
    (work / "driver.py").write_text(DRIVER)
    p = subprocess.run(
        [sys.executable, "driver.py"],
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert p.returncode == -9
    recs = sorted(x.stem for x in (work / "out" / "sweep" / "records").glob("*.json"))
    assert len(recs) == 6
    assert not (work / "out" / "sweep" / "batch.csv").exists()
    dry = _cli(["batch", "sweep.toml", "--out", "out", "--dry-run"], work)
    assert dry.stdout.splitlines()[-1] == "12 to run, 6 already recorded (nothing was run)"
    before = {r: (work / "out" / "sweep" / "records" / f"{r}.json").read_bytes() for r in recs}
    res = kb.run_batch(work / "sweep.toml", work / "out", quiet=True)
    assert res.ran == 12 and res.skipped == 6 and res.done == 18
    assert all((work / "out" / "sweep" / "records" / f"{r}.json").read_bytes() == b for r, b in before.items())
    assert res.shared["matrices_built"] == 0 and res.shared["matrices_reused"] == 1
    whole = kb.run_batch(work / "sweep.toml", work / "whole", quiet=True)
    pd.testing.assert_frame_equal(_stable(res.table), _stable(whole.table))
    a = kb.read_table(work / "out" / "sweep" / "batch.csv")
    b = kb.read_table(work / "whole" / "sweep" / "batch.csv")
    pd.testing.assert_frame_equal(_stable(a), _stable(b))


def test_changed_base_field_reruns_exactly_the_affected_runs(work):
    first = kb.run_batch(work / "sweep.toml", work / "out", quiet=True)
    assert first.ran == 18
    # post T2 turns out faster: every run where T2 is open is affected, the six with T2 closed are not
    (work / "base.toml").write_text(BASE + "[posts.override.T2]\nturnout_s = 100\n")
    spec = kb.parse_batch(work / "sweep.toml")
    affected = {r.id for r in spec.runs if r.params["posts.closed"] != "T2"}
    assert len(affected) == 12
    plan = kb.plan_batch(spec, work / "out")
    assert set(plan.todo) == affected
    assert all(plan.states[i] == "to run (inputs changed)" for i in affected)
    second = kb.run_batch(work / "sweep.toml", work / "out", quiet=True)
    assert second.ran == 12 and second.skipped == 6
    t1, t2 = first.table.set_index("run_id"), second.table.set_index("run_id")
    for rid in t1.index:
        same = t1.loc[rid, "inputs_digest"] == t2.loc[rid, "inputs_digest"]
        assert same == (rid not in affected)
    # T2 (volunteer, 300 s) at 100 s: with T1 closed, 4 min from the call (90 s call handling) is now
    # reachable for some (90 + 100 s + driving), and was not (90 + 300 s > 240 s)
    assert (
        t2.loc["thresholds=4_closed=T1_professional=60", "share_within_4min"]
        > t1.loc["thresholds=4_closed=T1_professional=60", "share_within_4min"]
    )
    fresh = kb.run_batch(work / "sweep.toml", work / "fresh", quiet=True)
    pd.testing.assert_frame_equal(_stable(second.table), _stable(fresh.table))


def test_cli_summary_and_quiet(work):
    p = _cli(["batch", "sweep.toml", "--out", "out", "--workers", "2"], work)
    assert p.returncode == 0, p.stderr
    assert "batch sweep: 18 done, 0 failed, 0 skipped (already recorded); 18 run now" in p.stderr
    assert "results in out/sweep/" in p.stderr and p.stdout == ""
    p = _cli(["batch", "sweep.toml", "--out", "out", "--quiet"], work)
    assert p.returncode == 0 and p.stderr == "" and p.stdout == ""
    # a folder kazerne batch did not write is refused before anything runs
    (work / "mine" / "sweep").mkdir(parents=True)
    (work / "mine" / "sweep" / "notes.txt").write_text("mine")
    p = _cli(["batch", "sweep.toml", "--out", "mine"], work)
    assert p.returncode == 2 and "not written by kazerne batch" in p.stderr
    assert sorted(x.name for x in (work / "mine" / "sweep").iterdir()) == ["notes.txt"]


def test_dask_not_asked_not_imported(work):
    code = (
        "import sys; from kazerne.scenarios.batch import run_batch; "
        "run_batch('sweep.toml', 'out', workers=1, quiet=True); "
        "print('distributed' in sys.modules, 'dask' in sys.modules)"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert p.stdout.strip() == "False False", p.stderr


def test_shipped_batch_files_expand_and_plan(zone_data_dir):
    files = [
        f
        for f in sorted((REPO / "scenarios").glob("*.toml"))
        if "batch" in tomllib.loads(f.read_text(encoding="utf-8"))
    ]
    assert files
    for f in files:
        spec = kb.parse_batch(f)
        assert len(spec.runs) >= 2 and len({r.id for r in spec.runs}) == len(spec.runs)
    spec = kb.parse_batch(REPO / "scenarios" / "batch-closures-turnout-2019.toml")
    assert len(spec.runs) == 4 * 14 * 2
    closed = {r.params["posts.closed"] for r in spec.runs}
    assert closed == {"none", "P01", "P02", "P03", "P05", "P06", "P07", "P08", "P09", "P10", "P11", "P12", "P13", "P14"}


def test_scenario_error_type():
    with pytest.raises(ScenarioError):
        kb.parse_batch(REPO / "scenarios" / "hvz-centrum-2019.toml")  # a scenario, not a batch file
