"""OR-Library p-median instances (Beasley 1985) against their published optima.

The instances live outside the repo: ``$KAZERNE_BENCHMARKS/orlib-pmed`` or, by default,
``<repo>/../shared/benchmarks/orlib-pmed``. CI has that folder; when it is missing these tests
fail with a message saying where they looked (they are not skipped).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from kazerne.coverage.cli_solve import solve_main
from kazerne.coverage.instances import read_orlib_pmed
from kazerne.coverage.models import pmedian
from kazerne.coverage.problem import from_cost_matrix

REPO = Path(__file__).resolve().parents[1]


def benchmarks_dir() -> Path:
    root = Path(os.environ.get("KAZERNE_BENCHMARKS") or REPO.parent / "shared" / "benchmarks")
    folder = root / "orlib-pmed"
    if not (folder / "optima.csv").is_file():
        pytest.fail(
            f"OR-Library p-median instances not found: expected {folder}/optima.csv and pmedN.txt "
            f"(set KAZERNE_BENCHMARKS to the folder holding orlib-pmed/)",
            pytrace=False,
        )
    return folder


def optima() -> dict:
    with open(benchmarks_dir() / "optima.csv", newline="") as fh:
        return {r["instance"]: (int(r["n"]), int(r["p"]), float(r["optimal_value"])) for r in csv.DictReader(fh)}


@pytest.mark.parametrize("name", ["pmed1", "pmed2", "pmed3", "pmed4", "pmed5", "pmed6", "pmed8"])
def test_pmedian_reaches_published_optimum(name):
    n, p, opt = optima()[name]
    d = read_orlib_pmed(benchmarks_dir() / f"{name}.txt")
    assert d["p"] == p and d["cost"].shape == (n, n)
    d.pop("p")
    res = pmedian(from_cost_matrix(**d), p, time_limit=60)
    assert res.status == "optimal"
    assert res.objective == opt
    assert len(res.sites) == p


def test_pmed1_min_rule_would_be_wrong():
    """pmed1 repeats vertex pairs; reading with last-line-wins gives 5819 (min would give 5718)."""
    d = read_orlib_pmed(benchmarks_dir() / "pmed1.txt")
    p = d.pop("p")
    assert pmedian(from_cost_matrix(**d), p).objective == optima()["pmed1"][2] != 5718


def test_cli_on_orlib_json(capsys):
    import json

    path = benchmarks_dir() / "pmed2.txt"
    assert solve_main([str(path), "--model", "pmedian", "--json"]) == 0
    data = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert data["status"] == "optimal" and data["objective"] == optima()["pmed2"][2]
    assert len(data["sites"]) == optima()["pmed2"][1]
