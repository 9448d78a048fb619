"""Hostile use of build-pack, compare and batch (issue 21): every case exits 2 with one stderr line
naming the file / argument and what was expected, deletes nothing, and writes nothing outside
``--out`` (nor anything at all when it fails).

The OSM inputs live in ``tests/hostile/osm/`` (add a file there for a new case: its second line,
or first for a non-XML file, says ``expect: <text of the message>``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kazerne.cli import main

HOSTILE_OSM = Path(__file__).resolve().parent / "hostile" / "osm"
OSM_FILES = sorted(HOSTILE_OSM.iterdir())

MUNI = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Testdorp", "population_2020": 100},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[3.69, 51.04], [3.72, 51.04], [3.72, 51.06], [3.69, 51.06], [3.69, 51.04]]],
            },
        }
    ],
}
GOOD_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <node id="1" lat="51.0500" lon="3.7000"/>
 <node id="2" lat="51.0510" lon="3.7000"/>
 <node id="3" lat="51.0510" lon="3.7010"/>
 <node id="3" lat="51.0510" lon="3.7010"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
</osm>
"""


def one_error_line(rc, err) -> str:
    assert rc == 2, err
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("kazerne: error: "), lines[0]
    return lines[0]


def snapshot(root: Path) -> dict:
    """Every file and folder under ``root`` with its content (folders: None)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = None
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = Path(p).read_bytes()
    return out


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    """Valid inputs of build-pack in ``tmp_path/in``, the user's files around ``tmp_path/work/packs``."""
    monkeypatch.setenv("KAZERNE_CACHE", str(tmp_path / "cache"))
    d = tmp_path / "in"
    d.mkdir()
    (d / "roads.osm").write_text(GOOD_OSM)
    (d / "m.geojson").write_text(json.dumps(MUNI))
    (d / "posts.csv").write_text("id,name,municipality,street,crew,status,lat,lon\n")
    work = tmp_path / "work"
    (work / "packs" / "other-pack").mkdir(parents=True)
    (work / "packs" / "other-pack" / "posts.csv").write_text("the user's pack\n")
    (work / "packs" / "notes.txt").write_text("the user's notes\n")
    (work / "victim").mkdir()
    (work / "victim" / "thesis.docx").write_text("years of work\n")
    (work / "packs" / "myfiles").mkdir()
    (work / "packs" / "myfiles" / "thesis.docx").write_text("more years of work\n")
    (work / "packs" / "x").mkdir()
    monkeypatch.chdir(work)
    return d


def build(inputs, name, *extra, osm=None):
    return main(
        [
            "build-pack",
            name,
            "--osm",
            str(osm or inputs / "roads.osm"),
            "--municipalities",
            str(inputs / "m.geojson"),
            "--posts",
            str(inputs / "posts.csv"),
            "--out",
            "packs",
            "--date",
            "2026-12",
            *extra,
        ]
    )


def _expect(path: Path) -> str:
    lines = path.read_bytes().decode("utf-8", "replace").splitlines()
    for line in lines[:2]:
        if "expect: " in line:
            return line.split("expect: ", 1)[1].removesuffix("-->").strip()
    raise AssertionError(f"{path.name}: no 'expect: ' line")


def test_the_osm_corpus_is_there():
    assert len(OSM_FILES) >= 10 and all(_expect(p) for p in OSM_FILES)


@pytest.mark.parametrize("osm", OSM_FILES, ids=[p.name for p in OSM_FILES])
def test_build_pack_bad_osm_is_one_line_naming_the_file(osm, inputs, capsys):
    before = snapshot(inputs.parent / "work")
    rc = build(inputs, "newpack", "--force", osm=osm)
    line = one_error_line(rc, capsys.readouterr().err)
    assert line.startswith(f"kazerne: error: {osm}: "), line
    assert _expect(osm) in line, line
    assert snapshot(inputs.parent / "work") == before  # nothing written, no temporary left


@pytest.mark.parametrize(
    "name, words",
    [
        (".", "expected a folder name, got '.'"),
        ("", "expected a folder name, got ''"),
        ("..", "expected a folder name, got '..'"),
        ("x/../../victim", "not a path"),
        ("../escaped", "not a path"),
        ("/abs", "not a path"),
        ("a\nb", "without control characters"),
        (" pad", "edge spaces"),
        (".hidden", "not starting with '.'"),
        ("n" * 151, "at most 150 bytes"),
    ],
)
def test_build_pack_name_is_one_folder_inside_out(name, words, inputs, capsys):
    before = snapshot(inputs.parent)
    rc = build(inputs, name, "--force")
    line = one_error_line(rc, capsys.readouterr().err)
    assert line.startswith("kazerne: error: NAME: "), line
    assert words in line, line
    after = snapshot(inputs.parent)
    assert after == before  # nothing deleted, nothing written (the cache neither: refused first)


def test_build_pack_force_never_replaces_a_folder_it_did_not_write(inputs, capsys):
    root = inputs.parent / "work"
    before = snapshot(root)
    for name in ("myfiles", "other-pack", "x"):
        rc = build(inputs, name, "--force")
        line = one_error_line(rc, capsys.readouterr().err)
        assert f"packs/{name}: NAME: " in line and "not written by kazerne" in line, line
        assert snapshot(root) == before
    rc = build(inputs, "notes.txt", "--force")
    assert "is a file" in one_error_line(rc, capsys.readouterr().err)
    rc = build(inputs, "myfiles")  # without --force: exists
    assert "exists; remove it or pass --force" in one_error_line(rc, capsys.readouterr().err)
    assert snapshot(root) == before


def test_build_pack_replaces_its_own_pack_only_while_it_is_untouched(inputs, capsys):
    from kazerne.report.atomic import MARKER

    root = inputs.parent / "work"
    assert build(inputs, "mine") == 0
    pack = root / "packs" / "mine"
    files = sorted(p.name for p in pack.iterdir())
    assert MARKER in files and "roads-2026-12.osm.bz2" in files
    assert sorted(json.loads((pack / MARKER).read_text())["files"]) == sorted(set(files) - {MARKER})
    # the duplicate of node 3 had the same coordinates: one node, nothing "joined"
    assert json.loads((pack / "build-report.json").read_text())["join"]["nodes_joined"] == 0
    assert build(inputs, "mine", "--force") == 0  # its own, untouched: replaced
    capsys.readouterr()
    (pack / "my-notes.txt").write_text("added by hand\n")
    before = snapshot(root)
    rc = build(inputs, "mine", "--force")
    line = one_error_line(rc, capsys.readouterr().err)
    assert "holds files kazerne did not write (my-notes.txt)" in line, line
    assert snapshot(root) == before
    # outside the pack nothing changed: the user's files are all there
    assert (root / "victim" / "thesis.docx").read_text() == "years of work\n"
    assert (root / "packs" / "notes.txt").read_text() == "the user's notes\n"


@pytest.mark.parametrize("date", ["../x", "2026", "2026-12\n", "/tmp/x"])
def test_build_pack_date_is_a_date(date, inputs, capsys):
    before = snapshot(inputs.parent)
    rc = main(
        [
            "build-pack",
            "p",
            "--osm",
            str(inputs / "roads.osm"),
            "--municipalities",
            str(inputs / "m.geojson"),
            "--posts",
            str(inputs / "posts.csv"),
            "--out",
            "packs",
            "--date",
            date,
        ]
    )
    line = one_error_line(rc, capsys.readouterr().err)
    assert line.startswith("kazerne: error: --date: expected a date YYYY-MM"), line
    assert snapshot(inputs.parent) == before


def test_a_pack_with_a_huge_node_id_never_reaches_the_network(inputs, capsys):
    """The id above int64 used to be accepted, then every run on the pack failed with OverflowError."""
    rc = build(inputs, "p", osm=HOSTILE_OSM / "node-id-above-int64.osm")
    assert "does not fit in 64 bits" in one_error_line(rc, capsys.readouterr().err)
    assert not (inputs.parent / "work" / "packs" / "p").exists()
    # the largest id that fits is fine
    big = GOOD_OSM.replace('id="3"', 'id="9223372036854775807"').replace('ref="3"', 'ref="9223372036854775807"')
    (inputs / "big.osm").write_text(big)
    assert build(inputs, "p", osm=inputs / "big.osm") == 0


# ------------------------------------------------------------------------------------------ compare
RUN = """\
name = "{name}"
zone = "tinyzone"
thresholds = [2, 3, 4]
[posts]
active = {posts}
[demand]
grid_m = 100
[outputs]
map = false
report = false
gpkg = true
"""


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two finished runs on the tiny zone of test_routing_zonepack: both posts, and T1 alone."""
    from test_routing_zonepack import write_pack

    from kazerne.scenarios.runner import main as run

    d = tmp_path_factory.mktemp("runs")
    write_pack(d / "packs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAZERNE_DATA", str(d / "packs"))
        mp.setenv("KAZERNE_CACHE", str(d / "cache"))
        for name, posts in (("both", '["T1", "T2"]'), ("west", '["T1"]')):
            (d / f"{name}.toml").write_text(RUN.format(name=name, posts=posts))
            assert run([str(d / f"{name}.toml"), "--out", str(d / "out"), "--quiet"]) == 0
    return d


@pytest.fixture
def runs(two_runs, tmp_path, monkeypatch):
    """Copies of the two runs in ``tmp_path/work/out`` (tests tamper with them), cwd ``tmp_path/work``."""
    import shutil

    monkeypatch.setenv("KAZERNE_DATA", str(two_runs / "packs"))
    monkeypatch.setenv("KAZERNE_CACHE", str(two_runs / "cache"))
    work = tmp_path / "work"
    for name in ("both", "west"):
        shutil.copytree(two_runs / "out" / name, work / "out" / name)
    (work / "victim").mkdir()
    (work / "victim" / "thesis.docx").write_text("years of work\n")
    monkeypatch.chdir(work)
    return work


def compare(*args):
    return main(["compare", "out/both", "out/west", "--out", "cmp", *args])


def test_compare_works_on_the_tiny_runs(runs, capsys):
    assert compare("--name", "ok") == 0
    rows = (runs / "cmp" / "ok" / "compare.csv").read_text().splitlines()
    assert rows[1].startswith("zone (all)")


@pytest.mark.parametrize(
    "args, words",
    [
        (["--out", "out", "--name", "both"], "would replace the compared run out/both"),
        (["--out", ".", "--name", "out"], "would replace the compared run out/both"),
        (["--name", "../../x"], "not a path"),
        (["--name", "/abs"], "not a path"),
        (["--name", "."], "expected a folder name, got '.'"),
        (["--name", ""], "expected a folder name, got ''"),
        (["--name", "a\nb"], "without control characters"),
    ],
)
def test_compare_never_writes_over_a_run_nor_outside_out(args, words, runs, capsys):
    before = snapshot(runs.parent)
    rc = main(["compare", "out/both", "out/west", *(["--out", "cmp"] if "--out" not in args else []), *args])
    line = one_error_line(rc, capsys.readouterr().err)
    assert "--name: " in line and words in line, line
    assert snapshot(runs.parent) == before


@pytest.mark.parametrize("bad", ["nan", "inf", "-5", "0", "1e9", "-inf"])
def test_compare_threshold_out_of_range(bad, runs, capsys):
    before = snapshot(runs.parent)
    rc = compare(f"--threshold={bad}")
    line = one_error_line(rc, capsys.readouterr().err)
    assert line.startswith("kazerne: error: --threshold: expected minutes in (0, 240]"), line
    assert snapshot(runs.parent) == before


def _deep(n):
    return "[" * n + "]" * n


TAMPERED_SUMMARY = [
    ("[]", "expected a JSON object"),
    ('{"scenario": {"name": "x"}}', "assumptions.zone: missing"),
    (lambda s: s.replace('"zone": "tinyzone"', '"zone": 5'), "assumptions.zone: expected a non-empty text, got 5"),
    (lambda s: _sub_json(s, ["zone", "share_within", "3"], "0.5"), "zone.share_within.3: expected a share"),
    (lambda s: _sub_json(s, ["zone", "share_within", "3"], 1.5), "zone.share_within.3: expected a share"),
    (lambda s: _sub_json(s, ["zone", "mean_response_min"], "4"), "zone.mean_response_min: expected minutes"),
    (lambda s: _sub_json(s, ["assumptions", "thresholds_min"], ["3"]), "assumptions.thresholds_min: expected"),
    (lambda s: _sub_json(s, ["assumptions", "call_handling_s"], -1), "assumptions.call_handling_s: expected"),
    (lambda s: _sub_json(s, ["zone"], [1]), "zone: expected an object"),
    (lambda s: s.replace('"share_within": {', '"share_within": {"9": NaN, ', 1), "NaN is not a number"),
    (_deep(100000), "nested too deeply"),
    ('{"a": ' + _deep(100000) + "}", "nested too deeply"),
]


def _sub_json(text, path, value):
    d = json.loads(text)
    cur = d
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return json.dumps(d)


@pytest.mark.parametrize("change, words", TAMPERED_SUMMARY, ids=[f"summary-{i}" for i in range(len(TAMPERED_SUMMARY))])
def test_compare_tampered_summary_is_one_line(change, words, runs, capsys):
    sp = runs / "out" / "west" / "summary.json"
    sp.write_text(change(sp.read_text()) if callable(change) else change)
    before = snapshot(runs.parent)
    rc = compare()
    line = one_error_line(rc, capsys.readouterr().err)
    assert line.startswith("kazerne: error: out/west/summary.json: "), line
    assert words in line, line
    assert "nan pp" not in line
    assert snapshot(runs.parent) == before


TAMPERED_CSV = [
    (lambda b: b.decode().replace("Gemeente Oost", "Gemeente Öst").encode("latin-1"), "expected a UTF-8 CSV"),
    (lambda b: b"just some text\nno columns here\n", "expected a CSV with a 'municipality' column"),
    (lambda b: b"", "expected a CSV with a 'municipality' column"),
    (lambda b: _csv_cell(b, "share_within_3min", "abc"), "column share_within_3min: expected a finite number"),
    (lambda b: _csv_cell(b, "share_within_3min", "inf"), "column share_within_3min: expected a finite number"),
    (lambda b: _csv_cell(b, "share_within_3min", "7"), "column share_within_3min: expected a share"),
    (lambda b: _csv_cell(b, "mean_min", "soon"), "line 2, column mean_min: expected a finite number, got 'soon'"),
    (lambda b: b.replace(b"\n", b",extra,cells\n", 2).replace(b",extra,cells", b"", 1), "columns like the header"),
]


def _csv_cell(b, col, value):
    lines = b.decode().splitlines()
    head = lines[0].split(",")
    cells = lines[1].split(",")
    cells[head.index(col)] = value
    lines[1] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("change, words", TAMPERED_CSV, ids=[f"csv-{i}" for i in range(len(TAMPERED_CSV))])
def test_compare_tampered_municipalities_is_one_line(change, words, runs, capsys):
    mp = runs / "out" / "west" / "municipalities.csv"
    mp.write_bytes(change(mp.read_bytes()))
    before = snapshot(runs.parent)
    rc = compare()
    line = one_error_line(rc, capsys.readouterr().err)
    assert line.startswith("kazerne: error: out/west/municipalities.csv: "), line
    assert words in line, line
    assert snapshot(runs.parent) == before


# ------------------------------------------------------------------------------------------ batch
BATCH_BASE = RUN.format(name="tiny", posts='["T1", "T2"]').replace("gpkg = true", "gpkg = false")


@pytest.fixture
def batch_dir(tmp_path, monkeypatch):
    from test_routing_zonepack import write_pack

    write_pack(tmp_path / "packs")
    monkeypatch.setenv("KAZERNE_DATA", str(tmp_path / "packs"))
    monkeypatch.setenv("KAZERNE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "base.toml").write_text(BATCH_BASE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def batch(d, sweep, *args):
    (d / "b.toml").write_text(f'[batch]\nname = "b"\nbase = "base.toml"\n[sweep]\n{sweep}\n')
    return main(["batch", "b.toml", "--out", "out", "--quiet", *args])


@pytest.mark.parametrize(
    "sweep, field, words",
    [
        (
            "turnout.professional = {from = 1, to = 2, step = 5e-324}",
            "sweep.turnout.professional.step",
            "too many values from 1 to 2",
        ),
        (
            "turnout.professional = {from = 1, to = 1e300, step = 1e-300}",
            "sweep.turnout.professional.step",
            "too many values",
        ),
        (
            "turnout.professional = {from = 1, to = 300000, step = 1}",
            "sweep.turnout.professional.step",
            "3e+05 values from 1 to 300000 in steps of 1; at most 100000",
        ),
        ("profile.speed_scale = [1, 0.5, 0]", "sweep.profile.speed_scale", "got 0 (value 0, run speed_scale=0)"),
        ('posts.active = [["T1"], ["ZZ"]]', "sweep.posts.active", "unknown post 'ZZ'"),
        ('posts.closed = ["T1", "ZZ"]', "sweep.posts.closed", "post 'ZZ' is not in posts.active"),
    ],
)
def test_batch_sweep_errors_name_the_swept_field(sweep, field, words, batch_dir, capsys):
    rc = batch(batch_dir, sweep)
    line = one_error_line(rc, capsys.readouterr().err)
    assert line.startswith(f"kazerne: error: b.toml: {field}: "), line
    assert words in line, line
    assert not (batch_dir / "out").exists()


@pytest.mark.parametrize("address", ["not a url", "", "tcp://", "localhost", "http://a b:1"])
def test_batch_scheduler_address_checked_first(address, batch_dir, capsys):
    rc = batch(batch_dir, "thresholds = [2, 3]", "--scheduler", address)
    line = one_error_line(rc, capsys.readouterr().err)
    assert line.startswith("kazerne: error: --scheduler: expected a Dask scheduler address like tcp://host:8786"), line
    assert not (batch_dir / "out").exists()  # refused before anything was planned or written
