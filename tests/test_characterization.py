"""Characterization test (issue 22): the headline figures of every shipped scenario stay as recorded.

This is a refactor's before / after record, so its expected values WERE produced by kazerne itself —
once, from the code *before* the structural changes of issue 22 (commit 6453eb4, kazerne 0.3.0 with
zone pack version 3), by ``python tests/characterization/record.py``; they are not a check of
correctness (the other tests are), only of "no behaviour change". When an issue changes figures on
purpose, it re-records them and adds a line to ``updates`` in ``headlines.json`` saying which
scenario changed and why.

Each run's ``summary.json`` is flattened (tests/characterization/headlines.py: every number, string
and boolean, without timestamps, versions, solve times, bounds and gaps) and every recorded key must
still be there with the same value (floats to 1e-9 relative). New keys may appear. Not covered: the
greenfield frontier scenario (minutes of MIP proofs; its optima are tested in test_studies /
benchmarks), calibration-synthetic and hvz-centrum-2019-incidents (they read a records file that
``kazerne synthetic-records`` writes first; test_calibration covers them) and the batch file (test_batch compares batch runs with single runs).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from characterization.headlines import flatten

REPO = Path(__file__).resolve().parents[1]
RECORD = json.loads((REPO / "tests" / "characterization" / "headlines.json").read_text(encoding="utf-8"))

pytestmark = pytest.mark.zone


def same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None or isinstance(a, (str, bool)) or isinstance(b, (str, bool)):
            return a == b
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return a == b


def test_record_covers_every_shipped_scenario():
    shipped = {p.stem for p in (REPO / "scenarios").glob("*.toml") if not p.name.startswith("batch")}
    assert set(RECORD["scenarios"]) == shipped - set(RECORD["not_covered"])


@pytest.mark.parametrize("stem", sorted(RECORD["scenarios"]))
def test_headlines_unchanged(stem, shipped_run):
    target = shipped_run(stem)  # the session's run of the shipped file (other tests read it too)
    got = flatten(json.loads((Path(target) / "summary.json").read_text(encoding="utf-8")))
    want = RECORD["scenarios"][stem]
    missing = sorted(set(want) - set(got))
    changed = {k: (want[k], got[k]) for k in want if k in got and not same(want[k], got[k])}
    assert not missing, f"{stem}: keys gone: {missing[:10]}"
    assert not changed, f"{stem}: {len(changed)} figures changed, e.g. {dict(list(changed.items())[:8])}"
