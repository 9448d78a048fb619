"""Hostile scenario files (``tests/hostile/``): each must stop the run with exit code 2 and exactly
one stderr line ``kazerne: error: FILE: FIELD: ...`` (no traceback), and write nothing to ``--out``.

Each ``*.toml`` there states its expected field on its first line (``# field: study.k``; ``-``
for a file-level error such as a TOML syntax error, then only the file is named). The folder grows
with every bug found: add a file, nothing else. Most files fail while the file is read; a few
(candidate counts, the hypercube, the demand file) only against the zone pack, which this test
loads like any run (``--quiet``). Needs the real zone pack.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kazerne.scenarios.runner import main

HOSTILE = Path(__file__).resolve().parent / "hostile"
FILES = sorted(p for p in HOSTILE.iterdir() if p.name.endswith(".toml"))


def expected_field(path: Path) -> str:
    if path.is_dir():
        return "-"
    first = path.read_bytes().split(b"\n", 1)[0].decode("ascii")
    assert first.startswith("# field: "), f"{path.name}: first line must be '# field: <field>'"
    return first[len("# field: ") :].strip()


def test_the_folder_is_not_empty():
    assert len(FILES) >= 60
    assert all(expected_field(f) for f in FILES)


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_hostile_file(path, tmp_path, capsys, zone_data_dir):
    field = expected_field(path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("the user's own file\n")
    rc = main([str(path), "--out", str(out), "--quiet"])
    cap = capsys.readouterr()
    assert cap.out == ""
    assert rc == 2, cap.err
    assert "Traceback" not in cap.err
    lines = cap.err.splitlines()
    assert len(lines) == 1, lines
    prefix = f"kazerne: error: {path}: " + ("" if field == "-" else f"{field}: ")
    assert lines[0].startswith(prefix), (prefix, lines[0])
    assert len(lines[0]) > len(prefix) + 10  # and says what was expected
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]  # nothing written, nothing removed
    assert (out / "keep.txt").read_text() == "the user's own file\n"
