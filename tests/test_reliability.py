"""Issue 12, items 3 to 8: no data loss in the output folder, one-line errors instead of tracebacks
(also for Ctrl-C and SIGTERM), ids checked at the public API, sizes that cannot fit refused with
their size, honest solver reports (an unknown bound is NaN; a study's time limit bounds the whole
step), leftovers of killed runs removed, files with the user's umask.

The scenario-file cases are in ``tests/hostile/`` (``test_hostile.py``); here are the cases that
need a folder prepared beforehand, another command, a signal, a fake clock or the Python API.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import osm_fixture as fx
import pytest

from kazerne.errors import KazerneError, ModelInputError, NodeIdError, OutputError, ZonePackError
from kazerne.files import temp_prefix
from kazerne.report.atomic import MARKER, atomic_dir, write_json
from kazerne.scenarios import baseline
from kazerne.scenarios.runner import main

REPO = Path(__file__).resolve().parents[1]
ACTIVE = '"P01", "P02", "P03", "P05", "P06", "P07", "P08", "P09", "P10", "P11", "P12", "P13", "P14"'


def scenario(tmp_path: Path, name: str = "safe-run", extra: str = "", active: str = '"P01", "P02"') -> Path:
    f = tmp_path / f"{name}.toml"
    f.write_text(
        f'name = "{name}"\nzone = "hvz-centrum"\n\n[outputs]\ngeojson = false\nfirst_due_areas = false\n'
        f"map = false\n\n[posts]\nactive = [{active}]\n{extra}",
        encoding="utf-8",
    )
    return f


def one_error_line(rc: int, err: str) -> str:
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("kazerne: error: ")
    return lines[0]


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _host() -> str:
    return temp_prefix("x").split("-")[1]


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


# ------------------------------------------------------------------------------------------
# item 3: the output folder
# ------------------------------------------------------------------------------------------


def _user_folder(target: Path):
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("a year of notes\n")


def _plain_file(target: Path):
    target.parent.mkdir(parents=True)
    target.write_text("my own file\n")


def _kazerne_folder_plus_user_file(target: Path):
    target.mkdir(parents=True)
    (target / "summary.json").write_text("{}\n")
    (target / MARKER).write_text(json.dumps({"written_by": "kazerne", "files": ["summary.json"]}))
    (target / "my-analysis.xlsx").write_text("not kazerne's\n")


def _forged_marker(target: Path):
    target.mkdir(parents=True)
    (target / MARKER).write_text("this is not kazerne's marker")
    (target / "notes.txt").write_text("notes\n")


def _output_of_an_earlier_version(target: Path):
    target.mkdir(parents=True)
    (target / "summary.json").write_text('{\n  "kazerne_version": "0.1.0"\n}\n')
    (target / "posts.csv").write_text("id\nP01\n")


def _symlink_to_user_folder(target: Path):
    real = target.parent.parent / "elsewhere"
    real.mkdir(parents=True)
    (real / "notes.txt").write_text("notes\n")
    target.parent.mkdir(parents=True)
    target.symlink_to(real, target_is_directory=True)


@pytest.mark.parametrize(
    "prepare, words",
    [
        (_user_folder, "not written by kazerne"),
        (_plain_file, "is a file"),
        (_kazerne_folder_plus_user_file, "my-analysis.xlsx"),
        (_forged_marker, "not kazerne's"),
        (_symlink_to_user_folder, "symbolic link"),
        (_output_of_an_earlier_version, "earlier kazerne version"),
    ],
    ids=[
        "user-folder",
        "plain-file",
        "kazerne-folder-with-a-user-file",
        "forged-marker",
        "symlink",
        "earlier-version-output",
    ],
)
def test_what_kazerne_did_not_write_is_refused_before_the_computation(prepare, words, tmp_path, capsys, monkeypatch):
    def no_computation(*a, **k):
        raise AssertionError("the computation started before the output folder was checked")

    monkeypatch.setattr(baseline, "load_context", no_computation)
    out = tmp_path / "out"
    target = out / "safe-run"
    prepare(target)
    f = scenario(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    rc = main([str(f), "--out", str(out), "--quiet"])
    line = one_error_line(rc, capsys.readouterr().err)
    assert f"{target}: --out: " in line and words in line, line
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before  # nothing touched
    assert sorted(p.name for p in out.iterdir()) == ["safe-run"]  # nothing added


@pytest.mark.parametrize("layout", ["out-is-a-file", "out-below-a-file"])
def test_an_out_that_is_a_file_is_refused_before_the_computation(layout, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(baseline, "load_context", lambda *a, **k: pytest.fail("computation started"))
    blocker = tmp_path / "results"
    blocker.write_text("a file, not a folder\n")
    out = blocker if layout == "out-is-a-file" else blocker / "sub" / "dir"
    rc = main([str(scenario(tmp_path)), "--out", str(out), "--quiet"])
    line = one_error_line(rc, capsys.readouterr().err)
    assert f"{blocker}: --out: is a file, expected a folder" in line, line
    assert blocker.read_text() == "a file, not a folder\n"


def test_an_unwritable_out_is_found_before_the_computation(tmp_path, capsys, monkeypatch):
    """The write probe (a temporary folder made and removed) fails: the run stops at once."""
    import kazerne.report.atomic as atomic

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(baseline, "load_context", lambda *a, **k: pytest.fail("computation started"))
    monkeypatch.setattr(atomic.tempfile, "mkdtemp", denied)
    out = tmp_path / "out"
    out.mkdir()
    rc = main([str(scenario(tmp_path)), "--out", str(out), "--quiet"])
    line = one_error_line(rc, capsys.readouterr().err)
    assert f"{out}: --out: cannot write in this folder (Permission denied)" in line, line


def test_a_previous_kazerne_output_is_replaced(tmp_path):
    target = tmp_path / "out" / "run"
    with atomic_dir(target) as d:
        write_json(d / "summary.json", {"run": 1})
        (d / "old-only.csv").write_text("x\n")
    assert sorted(p.name for p in target.iterdir()) == sorted([MARKER, "summary.json", "old-only.csv"])
    with atomic_dir(target) as d:
        write_json(d / "summary.json", {"run": 2})
    assert sorted(p.name for p in target.iterdir()) == sorted([MARKER, "summary.json"])
    assert json.loads((target / "summary.json").read_text()) == {"run": 2}
    assert json.loads((target / MARKER).read_text())["files"] == ["summary.json"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["run"]  # no temporaries left


def test_a_failed_or_interrupted_write_leaves_the_previous_output_and_nothing_else(tmp_path):
    target = tmp_path / "out" / "run"
    with atomic_dir(target) as d:
        write_json(d / "summary.json", {"run": 1})
    for exc in (RuntimeError("bug"), KeyboardInterrupt()):
        with pytest.raises(type(exc)):
            with atomic_dir(target) as d:
                write_json(d / "summary.json", {"run": 2})
                raise exc
        assert json.loads((target / "summary.json").read_text()) == {"run": 1}
        assert sorted(p.name for p in target.parent.iterdir()) == ["run"]


def test_a_real_baseline_run_twice_into_the_same_out(tmp_path, zone_data_dir):
    f = scenario(tmp_path)
    out = tmp_path / "out"
    assert main([str(f), "--out", str(out), "--quiet"]) == 0
    first = json.loads((out / "safe-run" / MARKER).read_text())
    assert "summary.json" in first["files"] and "municipalities.csv" in first["files"]
    assert main([str(f), "--out", str(out), "--quiet"]) == 0  # its own output: replaced
    assert sorted(p.name for p in out.iterdir()) == ["safe-run"]


# ------------------------------------------------------------------------------------------
# item 8: leftovers and the umask
# ------------------------------------------------------------------------------------------


def test_leftovers_of_a_killed_run_are_removed_by_the_next_one(tmp_path):
    parent = tmp_path / "out"
    parent.mkdir()
    dead, host = _dead_pid(), _host()
    stale_tmp = parent / f".run.tmp-{host}-{dead}-abc123"
    stale_old = parent / f".run.old-{host}-{dead}-def456"
    stale_file = parent / f".summary.json.tmp-{host}-{dead}-ghi789.tmp"
    live = parent / f".run.tmp-{host}-{os.getppid()}-jkl012"  # a run still going on
    foreign = parent / f".run.tmp-otherhost-{dead}-mno345"  # another machine's run
    for d in (stale_tmp, stale_old / "x", live, foreign):
        d.mkdir(parents=True)
        (d / "summary.json").write_text("{}")
    stale_file.write_text("{}")
    with atomic_dir(parent / "run") as d:
        (d / "a.csv").write_text("x\n")
    names = sorted(p.name for p in parent.iterdir())
    assert names == sorted(["run", live.name, foreign.name, stale_file.name])
    write_json(parent / "summary.json", {})  # a single-file write cleans its own leftovers
    assert not stale_file.exists()


def test_leftovers_of_earlier_versions_are_removed_once_a_day_old(tmp_path):
    """Before host/pid names an interrupted run left '.NAME.xxxxxxxx/' folders that nothing removed."""
    parent = tmp_path / "out"
    parent.mkdir()
    old = [parent / ".run.k2j4h1x9", parent / ".run.old.a8d7f6s5"]
    recent = parent / ".run.q1w2e3r4"
    mine = parent / ".run.notes"  # not a temporary's name: never touched
    for d in old + [recent, mine]:
        d.mkdir()
        (d / "summary.json").write_text("{}")
    for d in old + [mine]:
        os.utime(d, (1_000_000, 1_000_000))
    with atomic_dir(parent / "run") as d:
        (d / "a.csv").write_text("x\n")
    assert sorted(p.name for p in parent.iterdir()) == sorted(["run", recent.name, mine.name])


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_every_output_follows_the_umask(mask, tmp_path):
    from kazerne.report.geo import write_geojson
    from kazerne.report.tables import write_csv

    old = os.umask(mask)
    try:
        with atomic_dir(tmp_path / "out" / "run") as d:
            write_json(d / "summary.json", {"a": 1})
            write_csv(d / "t.csv", [{"a": 1}])
            write_geojson(d / "x.geojson", [])
            (d / "map.png").write_bytes(b"\x89PNG")  # as the runner writes PNGs
    finally:
        os.umask(old)
    target = tmp_path / "out" / "run"
    assert _mode(target) == 0o777 & ~mask
    for name in ("summary.json", "t.csv", "x.geojson", "map.png", MARKER):
        assert _mode(target / name) == 0o666 & ~mask, name


# ------------------------------------------------------------------------------------------
# item 5: no tracebacks (signals, other commands, zone pack files)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sig, rc, word, when",
    [
        (signal.SIGINT, 130, "interrupted", "loading zone"),
        (signal.SIGTERM, 143, "terminated", "loading zone"),
        (signal.SIGINT, 130, "interrupted", "study greenfield"),
        (signal.SIGTERM, 143, "terminated", "study greenfield"),
    ],
    ids=["ctrl-c-loading", "sigterm-loading", "ctrl-c-solving", "sigterm-solving"],
)
def test_run_scenario_stops_cleanly_on_a_signal(sig, rc, word, when, tmp_path, zone_data_dir):
    """Ctrl-C (or a kill) during a run of run_scenario.py: one line, no traceback, no leftovers. During
    the solves too: SCIP used to take Ctrl-C for itself, stop one solve and let the study run on."""
    import time

    out = tmp_path / "out"
    p = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "run_scenario.py"),
            str(REPO / "scenarios" / "greenfield-frontier-10min.toml"),
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        env=dict(os.environ),
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = p.stderr.readline()
    while line and when not in line:  # "kazerne [   0.0 s] loading zone ...", ...
        line = p.stderr.readline()
    assert when in line, line
    if when.startswith("study"):
        time.sleep(3.0)  # into the first MCLP (LP, kernels, SCIP)
    p.send_signal(sig)
    try:
        _, rest = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()  # a run that ignored the signal must not outlive the test (its workers die with it)
        raise
    assert p.returncode == rc, rest
    assert "Traceback" not in rest
    assert rest.splitlines()[-1] == f"kazerne: {word}"
    assert not out.exists() or list(out.iterdir()) == []


def _solve(args, capsys):
    from kazerne.cli import main as kazerne

    rc = kazerne(["solve", *args])
    return rc, capsys.readouterr()


def test_solve_time_limit_inf_is_one_line(tmp_path, capsys):
    f = tmp_path / "i.csv"
    f.write_text("demand_id,site_id,cost\nd1,s1,5\nd2,s1,7\nd2,s2,1\n")
    for bad in ("inf", "nan", "0", "-3"):
        rc, cap = _solve([str(f), "--model", "pmedian", "--p", "1", "--time-limit", bad], capsys)
        line = one_error_line(rc, cap.err)
        assert "--time-limit: expected a finite number of seconds > 0" in line, line


def test_solve_model_errors_name_the_option(tmp_path, capsys):
    f = tmp_path / "i.csv"
    f.write_text("demand_id,site_id,cost\nd1,s1,5\nd2,s1,7\nd2,s2,1\n")
    rc, cap = _solve([str(f), "--model", "pmedian", "--p", "100013"], capsys)
    line = one_error_line(rc, cap.err)
    assert line.startswith("kazerne: error: --p: p=100013 is larger than"), line
    rc, cap = _solve([str(f), "--model", "mclp", "--p", "1", "--radius", "nan"], capsys)
    assert one_error_line(rc, cap.err).startswith("kazerne: error: --radius: "), cap.err


@pytest.mark.parametrize(
    "content, words",
    [
        (bytes(range(256)) * 4, "not a UTF-8 text file"),
        (b"demand_id,site_id,cost\nd1,s1,\x005\n", "line 2, column 'cost': expected a number"),
    ],
    ids=["binary", "nul-byte"],
)
def test_solve_binary_csv_is_one_line(content, words, tmp_path, capsys):
    f = tmp_path / "instance.csv"
    f.write_bytes(content)
    rc, cap = _solve([str(f), "--model", "pmedian", "--p", "1"], capsys)
    line = one_error_line(rc, cap.err)
    assert f"{f}: {words}" in line, line


def test_a_folder_given_as_a_file_says_so(tmp_path, capsys):
    d = tmp_path / "instance.csv"
    d.mkdir()
    rc, cap = _solve([str(d), "--model", "pmedian", "--p", "1"], capsys)
    assert f"{d}: is a folder" in one_error_line(rc, cap.err)
    from kazerne.cli import main as kazerne

    rc = kazerne(["isochrones", "--zone", "hvz-centrum", "--post", "P01", "-o", str(d)])
    assert f"{d}: --output: is a folder" in one_error_line(rc, capsys.readouterr().err)


def _pack_copy(tmp_path: Path, zone_data_dir: Path) -> Path:
    src = zone_data_dir / "hvz-centrum"
    dst = tmp_path / "hvz-copy"
    dst.mkdir()
    for f in src.iterdir():
        if f.name.startswith("roads"):
            (dst / f.name).symlink_to(f)
        else:
            shutil.copyfile(f, dst / f.name)
    return dst


def test_a_pack_posts_csv_that_is_not_utf8(tmp_path, zone_data_dir):
    from kazerne.routing.zonepack import load_pack

    pack = _pack_copy(tmp_path, zone_data_dir)
    text = (pack / "posts.csv").read_text(encoding="utf-8")
    (pack / "posts.csv").write_bytes(text.replace("Gent", "Gént").encode("latin-1", errors="replace"))
    with pytest.raises(ZonePackError) as ei:
        load_pack(str(pack))
    assert str(ei.value) == f"{pack / 'posts.csv'}: not a UTF-8 text file"


@pytest.mark.parametrize(
    "geometry, outcome",
    [
        ({"type": "Polygon", "coordinates": "not coordinates"}, "invalid geometry"),
        ({"type": "Polygon", "coordinates": [[[3.7, 51.0], [3.8, 51.1]]]}, "invalid geometry"),
        ({"type": "Point", "coordinates": [3.7, 51.0]}, "expected a Polygon or MultiPolygon"),
        # a bow tie (self-intersecting): repaired into its two triangles, 2 x (0.1 x 0.05 / 2) square degrees
        (
            {"type": "Polygon", "coordinates": [[[3.7, 51.0], [3.8, 51.1], [3.8, 51.0], [3.7, 51.1], [3.7, 51.0]]]},
            0.005,
        ),
    ],
    ids=["garbage", "too-few-points", "a-point", "bow-tie"],
)
def test_a_bad_gap_geometry(geometry, outcome, tmp_path, zone_data_dir):
    from kazerne.routing.zonepack import load_pack

    pack = _pack_copy(tmp_path, zone_data_dir)
    (pack / "network-gap.geojson").write_text(
        json.dumps(
            {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": geometry}]}
        )
    )
    if isinstance(outcome, str):
        with pytest.raises(ZonePackError) as ei:
            load_pack(str(pack))
        assert str(ei.value).startswith(f"{pack / 'network-gap.geojson'}: feature 0: {outcome}"), str(ei.value)
    else:
        gap = load_pack(str(pack)).gap
        assert gap.is_valid and gap.area == pytest.approx(outcome, rel=1e-9)


# ------------------------------------------------------------------------------------------
# item 6: ids at the public API, sizes that cannot fit
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_net(tmp_path_factory):
    from kazerne.routing.network import load_network

    return load_network(fx.write_osm(tmp_path_factory.mktemp("net") / "roads.osm"), use_cache=False, quiet=True)


PROFILE_NAME = "fire_engine"


@pytest.mark.parametrize("bad", ["n_nodes", -1, 1.7, float("nan"), "3", [[0, 1]], True])
@pytest.mark.parametrize("engine", ["auto", "scipy"])
def test_drive_times_refuses_bad_node_ids(small_net, bad, engine):
    from kazerne.routing.profiles import get_profile
    from kazerne.routing.travel import drive_times

    ids = [small_net.n_nodes] if bad == "n_nodes" else (bad if isinstance(bad, list) else [bad])
    with pytest.raises(NodeIdError) as ei:
        drive_times(small_net, get_profile(PROFILE_NAME), ids, engine=engine)
    assert str(ei.value).startswith("sources: ")
    if bad == "n_nodes":
        assert f"node id {small_net.n_nodes} outside the network's 0..{small_net.n_nodes - 1}" in str(ei.value)


def test_whole_float_ids_are_the_same_nodes(small_net):
    from kazerne.routing.profiles import get_profile
    from kazerne.routing.travel import drive_times

    prof = get_profile(PROFILE_NAME)
    np.testing.assert_array_equal(drive_times(small_net, prof, [1.0, 3.0]), drive_times(small_net, prof, [1, 3]))


def test_other_public_functions_check_node_ids(small_net):
    from kazerne.routing.isochrones import isochrone_polygons
    from kazerne.routing.profiles import get_profile
    from kazerne.routing.travel import shortest_tree, travel_matrix

    prof = get_profile(PROFILE_NAME)
    n = small_net.n_nodes
    with pytest.raises(NodeIdError, match="^demand_nodes: node id -1 outside"):
        travel_matrix(small_net, prof, [0], 90.0, [0, -1])
    with pytest.raises(NodeIdError, match="^site_nodes: node id 2.5 is not an integer"):
        travel_matrix(small_net, prof, [2.5], 90.0, [0])
    with pytest.raises(NodeIdError, match=f"^node: node id {n} outside"):
        shortest_tree(small_net, prof, n)
    with pytest.raises(NodeIdError, match="^node: node id -3 outside"):
        isochrone_polygons(small_net, prof, -3, 90.0, [8])
    with pytest.raises(ModelInputError, match="^cutoff_s: "):
        travel_matrix(small_net, prof, [0], 90.0, [0], cutoff_s=float("nan"))
    from kazerne.routing.routes import route, tree_lengths

    with pytest.raises(NodeIdError, match="^sources: node id 1.7 is not an integer"):
        tree_lengths(small_net, prof, [1.7])
    with pytest.raises(ModelInputError, match="^from: expected a node index"):
        route(small_net, prof, 1.7, 2)


def test_orlib_header_of_an_impossible_size_is_refused_with_its_size(tmp_path, capsys):
    from kazerne.coverage.instances import read_orlib_pmed

    f = tmp_path / "pmed-huge.txt"
    f.write_text("10000000 0 1\n")  # 12 bytes announcing 10^7 vertices
    size_tib = 8 * 10**14 / 2**40  # float64 10^7 x 10^7 matrix
    with pytest.raises(ModelInputError) as ei:
        read_orlib_pmed(f)
    assert f"needs {size_tib:.1f} TiB of memory" in str(ei.value) and str(f) in str(ei.value)
    rc, cap = _solve([str(f), "--model", "pmedian"], capsys)
    assert f"needs {size_tib:.1f} TiB" in one_error_line(rc, cap.err)


# ------------------------------------------------------------------------------------------
# item 7: honest solver reports
# ------------------------------------------------------------------------------------------


class _Objective:
    def __init__(self, value, bound, maximize):
        self._v, self._b, self._max = value, bound, maximize

    def Value(self):
        return self._v

    def BestBound(self):
        return self._b

    def maximization(self):
        return self._max


class _Backend:
    """What pywraplp reports after a stop: a status, an objective and the backend's own bound."""

    def __init__(self, code, value, bound, maximize=False):
        self.code, self.obj = code, _Objective(value, bound, maximize)

    def Solve(self, *params):
        return self.code

    def Objective(self):
        return self.obj


@pytest.mark.parametrize("raw_bound", [-1e20, 1e20, float("-inf"), float("nan")])
def test_an_unknown_bound_is_nan_not_a_number(raw_bound):
    from ortools.linear_solver import pywraplp

    from kazerne.coverage.result import SolveResult
    from kazerne.coverage.solver import run

    out = run(_Backend(pywraplp.Solver.FEASIBLE, 1234.0, raw_bound))
    assert out.status == "feasible" and out.objective == 1234.0
    assert np.isnan(out.bound) and np.isnan(out.gap)
    d = SolveResult("pmedian", out.status, out.objective, out.bound, out.gap, [], np.zeros(0), 0.0, "SCIP").to_dict()
    assert d["bound"] is None and d["gap"] is None
    opt = run(_Backend(pywraplp.Solver.OPTIMAL, 99.0, raw_bound))  # optimal: its own bound
    assert opt.bound == 99.0 and opt.gap == 0.0


def test_a_real_bound_is_kept():
    from ortools.linear_solver import pywraplp

    from kazerne.coverage.solver import run

    out = run(_Backend(pywraplp.Solver.FEASIBLE, 110.0, 100.0))
    assert out.bound == 100.0 and out.gap == pytest.approx(10.0 / 110.0)


def _fake_clock_study(monkeypatch, tmp_path, study: str, seconds_per_solve: float = 1.0):
    """Run a study whose clock only moves when a solve ends (by ``seconds_per_solve``)."""
    from kazerne.coverage import models
    from kazerne.scenarios import studies

    clock = [0.0]
    limits = []

    class FakeDeadline(studies.Deadline):
        def __init__(self, seconds):
            super().__init__(seconds, clock=lambda: clock[0])

    real = models.mclp

    def timed_mclp(*a, time_limit=None, **k):
        limits.append(time_limit)
        res = real(*a, time_limit=time_limit, **k)
        clock[0] += seconds_per_solve
        return res

    monkeypatch.setattr(studies, "Deadline", FakeDeadline)
    monkeypatch.setattr(models, "mclp", timed_mclp)
    f = tmp_path / "s.toml"
    f.write_text(
        f'name = "timed"\nzone = "hvz-centrum"\n\n[outputs]\ngeojson = false\nfirst_due_areas = false\n'
        f"\n[posts]\nactive = [{ACTIVE}]\n\n[study]\n{study}",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    rc = main([str(f), "--out", str(out), "--quiet"])
    return rc, json.loads((out / "timed" / "summary.json").read_text()), limits


def test_relocate_time_limit_bounds_the_whole_study_step(monkeypatch, tmp_path, capsys, zone_data_dir):
    rc, s, limits = _fake_clock_study(
        monkeypatch,
        tmp_path,
        'kind = "relocate"\nm = 1\ninclude_generated = false\ntime_limit_s = 3\n'
        '\n[[study.sites]]\nid = "S1"\nlat = 51.054\nlon = 3.725\n',
    )
    err = capsys.readouterr().err
    assert rc == 0, err
    # the study's own solves: each gets what is left, and no 4th starts; then the speed band (on by
    # default, issue 24) re-solves at both speed ends under a budget of its own, time_limit_s again,
    # bounded the same way
    assert limits == [3.0, 2.0, 1.0] * 2
    r = s["result"]
    assert (r["combinations_tried"], r["combinations_total"], r["complete"]) == (3, 13, False)
    assert len(s["solves"]) == 3
    best = max(s["solves"], key=lambda x: x["objective"])
    assert r["moved_posts"] == best["moved"]
    assert "ran out after 3 of 13 combinations" in err


def test_greenfield_time_limit_bounds_the_whole_study_step(monkeypatch, tmp_path, capsys, zone_data_dir):
    """The coverage frontier is solved in one pass (models.mclp_frontier): the study's limit is shared
    evenly between its points, so the whole step stays within it."""
    from kazerne.coverage import models

    seen = []
    real = models.mclp_frontier

    def recorded(problem, ps, radius, *, time_limit=None, **k):
        seen.append((list(ps), time_limit))
        return real(problem, ps, radius, time_limit=time_limit, **k)

    monkeypatch.setattr(models, "mclp_frontier", recorded)
    rc, s, _ = _fake_clock_study(
        monkeypatch,
        tmp_path,
        'kind = "greenfield"\np_min = 1\np_max = 6\ninclude_generated = false\ntime_limit_s = 2.5\n',
    )
    err = capsys.readouterr().err
    assert rc == 0, err
    ((ps, limit),) = seen
    assert ps == [1, 2, 3, 4, 5, 6]
    assert limit * len(ps) == pytest.approx(2.5)
    assert [c["p"] for c in s["result"]["curve"]] == ps


def test_model_error_fields_map_to_scenario_fields(tmp_path):
    """The safety net for errors the study's own checks let through: named by the scenario field."""
    from kazerne.errors import ScenarioError
    from kazerne.scenarios.resolve import in_file

    f = tmp_path / "s.toml"
    with pytest.raises(ScenarioError) as ei:
        with in_file(f, {"p": "study.p_max"}, default="study"):
            raise ModelInputError("p=100013 is larger than the number of sites", field="p")
    assert str(ei.value) == f"{f}: study.p_max: p=100013 is larger than the number of sites"
    with pytest.raises(ScenarioError) as ei:
        with in_file(f, {"p": "study.p_max"}, default="ems"):
            raise ModelInputError("offered load 3 Erlang", field="arrival_rate")
    assert str(ei.value) == f"{f}: ems: offered load 3 Erlang"
    assert isinstance(ei.value, KazerneError) and not isinstance(ei.value, OutputError)
