"""Bad scenario files: each one must stop ``run_scenario.py`` with exit code 2 and exactly one
stderr line naming the file, the field and the problem, without a traceback and without leaving
an output folder behind.

Errors found while reading the TOML (before the zone is loaded) are checked in-process through
``kazerne.scenarios.runner.main`` (fast); errors that need the zone pack (unknown post, position
outside the zone, unknown profile, street not found, ...) run with ``--quiet`` so that the progress
lines do not mix with the error line. A few cases of each kind also run as real subprocesses.
Needs the real zone pack (``zone_data_dir`` from conftest fails the test when it is missing).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kazerne.scenarios.runner import main

REPO = Path(__file__).resolve().parents[1]
RUN = REPO / "run_scenario.py"

ACTIVE_2019 = '"P01", "P02", "P03", "P05", "P06", "P07", "P08", "P09", "P10", "P11", "P12", "P13", "P14"'


def scenario(
    name,
    *,
    zone='"hvz-centrum"',
    thresholds="[8, 10, 12, 15]",
    top="",
    profile='name = "fire_engine"',
    demand="grid_m = 250",
    turnout="professional = 90\nvolunteer = 300\nmixed = 300",
    active=ACTIVE_2019,
    extra="",
    with_name=True,
) -> str:
    """A valid 2019-like scenario with one part replaced."""
    head = f'name = "{name}"\n' if with_name else ""
    return (
        f"{head}zone = {zone}\nthresholds = {thresholds}\n{top}\n"
        f"[profile]\n{profile}\n\n[demand]\n{demand}\n\n[turnout]\n{turnout}\n\n"
        f"[posts]\nactive = [{active}]\n{extra}\n"
    )


def override(pid, body):
    return f"\n[posts.override.{pid}]\n{body}\n"


# (case id, toml text builder(name), field named in the message (None: none), keyword, needs the zone)
CASES = [
    (
        "toml-syntax",
        lambda n: scenario(n).replace("thresholds = [8, 10, 12, 15]", "thresholds = [8, 10"),
        None,
        "TOML syntax error",
        False,
    ),
    ("unknown-top-key", lambda n: scenario(n, top='colour = "red"'), "colour", "unknown key", False),
    (
        "unknown-profile-key",
        lambda n: scenario(n, profile='name = "fire_engine"\nspeed = 2'),
        "profile.speed",
        "unknown key",
        False,
    ),
    ("thresholds-not-a-list", lambda n: scenario(n, thresholds='"8, 10"'), "thresholds", "list", False),
    (
        "threshold-not-a-number",
        lambda n: scenario(n, thresholds='[8, "ten"]'),
        "thresholds",
        "expected a number",
        False,
    ),
    ("threshold-zero", lambda n: scenario(n, thresholds="[0, 10]"), "thresholds", "> 0", False),
    ("threshold-negative", lambda n: scenario(n, thresholds="[-5, 10]"), "thresholds", "> 0", False),
    (
        "turnout-negative",
        lambda n: scenario(n, turnout="professional = 90\nvolunteer = -30"),
        "turnout.volunteer",
        ">= 0",
        False,
    ),
    (
        "turnout-not-a-number",
        lambda n: scenario(n, turnout='professional = "fast"'),
        "turnout.professional",
        "expected a number",
        False,
    ),
    ("empty-post-list", lambda n: scenario(n, active=""), "posts.active", "no post left open", False),
    ("duplicate-post-id", lambda n: scenario(n, active='"P01", "P02", "P01"'), "posts.active", "duplicate", False),
    (
        "lat-without-lon",
        lambda n: scenario(n, extra=override("P01", "lat = 51.05")),
        "posts.override.P01",
        "both lat and lon",
        False,
    ),
    (
        "lat-out-of-range",
        lambda n: scenario(n, extra=override("P01", "lat = 95.0\nlon = 3.7")),
        "posts.override.P01.lat",
        "<= 90",
        False,
    ),
    (
        "lat-and-street",
        lambda n: scenario(n, extra=override("P01", 'lat = 51.05\nlon = 3.7\nstreet = "Markt"')),
        "posts.override.P01",
        "not both",
        False,
    ),
    ("grid-negative", lambda n: scenario(n, demand="grid_m = -250"), "demand.grid_m", ">= 25", False),
    (
        "file-and-grid",
        lambda n: scenario(n, demand='grid_m = 250\nfile = "demand.csv"'),
        "demand",
        "give one of grid_m, file or incidents",
        False,
    ),
    (
        "override-not-active",
        lambda n: scenario(n, extra=override("P15", "closed = false")),
        "posts.override.P15",
        "not in posts.active",
        False,
    ),
    (
        "closed-not-boolean",
        lambda n: scenario(n, extra=override("P01", 'closed = "yes"')),
        "posts.override.P01.closed",
        "true or false",
        False,
    ),
    (
        "all-posts-closed",
        lambda n: scenario(n, active='"P01"', extra=override("P01", "closed = true")),
        "posts.active",
        "no post left open",
        False,
    ),
    (
        "new-post-without-position",
        lambda n: scenario(n, extra='\n[[posts.add]]\nid = "N1"\n'),
        "posts.add[0]",
        "lat/lon or street",
        False,
    ),
    ("missing-name", lambda n: scenario(n, with_name=False), "name", "missing", False),
    (
        "study-not-a-table-no-posts",
        lambda n: scenario(n, top="study = 5", active=""),
        "posts.active",
        "no post left open",
        False,
    ),
    (
        "worst-n-not-a-number",
        lambda n: scenario(n, top='worst_n = "many"'),
        "worst_n",
        "expected a whole number",
        False,
    ),
    # --- found only against the zone pack ---
    ("unknown-post-id", lambda n: scenario(n, active=ACTIVE_2019 + ', "P99"'), "posts.active", "unknown post", True),
    (
        "post-in-the-north-sea",
        lambda n: scenario(n, extra=override("P01", "lat = 51.6\nlon = 2.8")),
        "posts.override.P01",
        "outside zone",
        True,
    ),
    (
        "new-post-in-the-north-sea",
        lambda n: scenario(n, extra='\n[[posts.add]]\nid = "N1"\nlat = 51.6\nlon = 2.8\n'),
        "posts.add.N1",
        "outside zone",
        True,
    ),
    (
        "unknown-profile",
        lambda n: scenario(n, profile='name = "tank"'),
        "profile.name",
        "expected one of fire_engine",
        False,
    ),
    (
        "unknown-crew-without-turnout",
        lambda n: scenario(n, extra=override("P07", 'crew = "robots"')),
        "posts.override.P07.crew",
        "no turnout time",
        True,
    ),
    (
        "street-not-found",
        lambda n: scenario(n, extra=override("P01", 'street = "Nergenshuizenstraat"')),
        "posts.override.P01.street",
        "not found",
        True,
    ),
    (
        "demand-file-missing",
        lambda n: scenario(n, demand='file = "no-such-demand.csv"'),
        "demand.file",
        "not found",
        True,
    ),
    ("unknown-zone", lambda n: scenario(n, zone='"nowhere-zone"'), "zone", "not found", True),
]

# these also run as real subprocesses (parse-time and zone-time errors)
SUBPROCESS = {"toml-syntax", "threshold-zero", "duplicate-post-id", "unknown-post-id", "post-in-the-north-sea"}


def write_case(tmp_path: Path, case_id: str, build) -> Path:
    f = tmp_path / f"{case_id}.toml"
    f.write_text(build(f"bad-{case_id}"), encoding="utf-8")
    return f


def check_error(rc: int, stderr: str, path: Path, field, keyword, out: Path, case_id: str):
    assert rc == 2, f"exit code {rc}, stderr: {stderr!r}"
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected exactly one stderr line, got {lines!r}"
    line = lines[0]
    assert line.startswith("kazerne: error: "), line
    assert path.name in line and str(path) in line, line
    if field is not None:
        assert f"{path}: {field}: " in line, f"field {field!r} not named as 'file: field: ...' in {line!r}"
    assert keyword.lower() in line.lower(), f"{keyword!r} not in {line!r}"
    # nothing written: neither the scenario's folder nor a half-written temp folder
    assert not (out / f"bad-{case_id}").exists()
    assert not out.exists() or list(out.iterdir()) == []


def test_at_least_15_cases():
    assert len(CASES) >= 15 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case_id,build,field,keyword,needs_zone", CASES, ids=[c[0] for c in CASES])
def test_bad_scenario_in_process(case_id, build, field, keyword, needs_zone, tmp_path, capsys, zone_data_dir):
    f = write_case(tmp_path, case_id, build)
    out = tmp_path / "out"
    argv = [str(f), "--out", str(out)] + (["--quiet"] if needs_zone else [])
    rc = main(argv)
    cap = capsys.readouterr()
    assert cap.out == ""
    check_error(rc, cap.err, f, field, keyword, out, case_id)


def _subprocess(args, cwd):
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, str(RUN), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "case", [c for c in CASES if c[0] in SUBPROCESS], ids=sorted(SUBPROCESS, key=[c[0] for c in CASES].index)
)
def test_bad_scenario_subprocess(case, tmp_path, zone_data_dir):
    case_id, build, field, keyword, needs_zone = case
    f = write_case(tmp_path, case_id, build)
    out = tmp_path / "out"
    p = _subprocess([str(f), "--out", str(out)] + (["--quiet"] if needs_zone else []), cwd=tmp_path)
    assert p.stdout == ""
    check_error(p.returncode, p.stderr, f, field, keyword, out, case_id)
    assert sorted(x.name for x in tmp_path.iterdir()) == [f.name]  # no stray out/ in the cwd either


def test_zone_error_without_quiet_is_one_error_line_after_progress(tmp_path, zone_data_dir):
    """Without --quiet the stage messages come first; the error is still one line, the last one."""
    case = next(c for c in CASES if c[0] == "street-not-found")
    f = write_case(tmp_path, case[0], case[1])
    out = tmp_path / "out"
    p = _subprocess([str(f), "--out", str(out)], cwd=tmp_path)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    lines = p.stderr.splitlines()
    errors = [ln for ln in lines if not ln.startswith("kazerne [")]
    assert len(errors) == 1 and errors[0] == lines[-1], lines
    assert lines[-1].startswith(f"kazerne: error: {f}: posts.override.P01.street: ")
    assert "Nergenshuizenstraat" in lines[-1]
    assert not out.exists() or list(out.iterdir()) == []


def test_every_shipped_scenario_file_validates(zone_data_dir, tmp_path):
    """Each file in scenarios/ parses, its posts resolve, and a [study] section (with its named
    sites, by street or lat/lon) validates: a shipped example must not fail on its first line.
    The calibration examples read the records file that their first comment line tells the user to
    make (``kazerne synthetic-records ... -o out/synthetic-records.csv``): they are parsed from a copy
    beside such a file."""
    import shutil
    import tomllib

    from kazerne.routing.zone import load_zone
    from kazerne.scenarios.resolve import resolve_posts, resolve_site
    from kazerne.scenarios.schema import parse_scenario

    files = [
        f
        for f in sorted((REPO / "scenarios").glob("*.toml"))  # batch files: tests/test_batch.py
        if "batch" not in tomllib.loads(f.read_text(encoding="utf-8"))
    ]
    assert len(files) >= 10
    zones = {}
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "synthetic-records.csv").write_text("incident_id\n", encoding="utf-8")
    for f in files:
        if "../out/synthetic-records.csv" in f.read_text(encoding="utf-8"):
            f = Path(shutil.copy(f, tmp_path / "scenarios" / f.name))
        sc = parse_scenario(f)
        zone = zones.setdefault(sc.zone, load_zone(sc.zone))
        if sc.posts:
            assert len(resolve_posts(zone, sc).ids) > 0, f.name
        if sc.study:
            for k, s in enumerate(sc.study["sites"]):
                lon, lat, node, snap_m = resolve_site(
                    zone,
                    sc,
                    field=f"study.sites[{k}]",
                    lat=s.get("lat"),
                    lon=s.get("lon"),
                    street=s.get("street"),
                    municipality=s.get("municipality"),
                )
                assert node >= 0 and snap_m < 500, (f.name, s)
