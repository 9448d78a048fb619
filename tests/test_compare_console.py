"""``kazerne compare --threshold 12`` opens on the 12-min columns and prints its figures; a study's
report headline names the recommended site (issue 27, item 6).

Expected figures come from the two runs' own summary.json (written by the scenario runner), not
from the comparison code."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, shipped_run):
    """The 2019 baseline and the same with P07 closed (the session's runs, conftest ``shipped_run``)."""
    out = tmp_path_factory.mktemp("cmp")
    base = shipped_run("hvz-centrum-2019")
    closed = shipped_run("hvz-centrum-2019", "close-p07", "\n[posts.override.P07]\nclosed = true\n")
    return base, closed, out


def test_compare_threshold_12_opens_on_12_and_prints_figures(two_runs):
    base, closed, out = two_runs
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "kazerne.cli",
            "compare",
            str(base),
            str(closed),
            "--threshold",
            "12",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=600,
    )
    assert p.returncode == 0, p.stderr
    sb = json.loads((base / "summary.json").read_text())["zone"]
    sc = json.loads((closed / "summary.json").read_text())["zone"]
    lost = sb["population_within"]["12"] - sc["population_within"]["12"]
    lines = p.stdout.splitlines()
    assert lines[0].startswith("within 12 min from the 112 call")
    want = (
        f"close-p07: zone {100 * sb['share_within']['12']:.1f}% -> {100 * sc['share_within']['12']:.1f}% "
        f"({100 * (sc['share_within']['12'] - sb['share_within']['12']):+.1f} pt), 0 people gain, {lost:,.0f} lose"
    )
    assert want in p.stdout
    # the municipality rows: Assenede (P07's own) loses most, printed first after the zone
    table = [ln for ln in lines if ln and not ln.startswith(("within", "close-p07", "comparison", "-"))]
    assert table[1].split()[0] == "zone" and table[2].split()[0] == "Assenede"
    comp = out / "compare-hvz-centrum-2019-vs-close-p07"
    with open(comp / "compare.csv", newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header[2].startswith("share_12min__")  # the asked threshold's columns come first
    html = (comp / "report.html").read_text(encoding="utf-8")
    heads = re.findall(r"≤ (\d+) min", html)
    assert heads and heads[0] == "12"


def test_study_headline_names_the_recommended_site():
    from kazerne.scenarios.study_kinds import get_study_kind

    def recommendation(kind, res, summary=None):  # each study kind words its own headline
        return get_study_kind(kind).recommendation(res, summary)

    res = {
        "new_sites": [
            {
                "site": "C0412",
                "name": "Kortrijkseheerweg, Nazareth",
                "street": "Kortrijkseheerweg",
                "municipality": "Nazareth",
            }
        ]
    }
    assert recommendation("add", res) == "Recommended: a new post at Kortrijkseheerweg, Nazareth (C0412)."
    rel = {"moved_posts": ["P03"], "new_sites": [{"site": "C7", "name": "Elslo, Evergem"}]}
    assert recommendation("relocate", rel) == "Recommended: move P03 to Elslo, Evergem (C7)."
    cmp_ = {"rows": [{"site": "today"}, {"site": "S2", "name": "Evergem Elslo", "municipality": "Evergem"}]}
    assert recommendation("compare", cmp_) == "Best of the compared sites: Evergem Elslo (S2)."
    gf = {"curve": [{"p": 16, "sites": "A B"}]}
    summ = {"solves": [{"p": 2, "status": "feasible", "gap": 0.0055}]}
    txt = recommendation("greenfield", gf, summ)
    assert "A, B" in txt and "not proven best" in txt and "best network" not in txt


def test_compare_states_each_interval_and_whether_the_difference_exceeds_it(two_runs):
    """Each run's interval at the threshold is the one in its own summary.json; the verdict follows
    from those two intervals, recomputed here (difference against the overlap)."""
    from kazerne.report.compare import compare_runs, compare_text

    base, closed, out = two_runs
    target = compare_runs([base, closed], out, threshold=12, name="cmp-unc")
    meta = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    ua = json.loads((base / "summary.json").read_text())
    ub = json.loads((closed / "summary.json").read_text())
    ia, ib = ua["uncertainty"]["share_within"]["12"], ub["uncertainty"]["share_within"]["12"]
    u = meta["uncertainty"]
    assert u["runs"]["hvz-centrum-2019"]["interval"] == ia and u["runs"]["close-p07"]["interval"] == ib
    d = u["differences"]["close-p07"]
    diff = ub["zone"]["share_within"]["12"] - ua["zone"]["share_within"]["12"]
    overlap = max(0.0, min(ia[1], ib[1]) - max(ia[0], ib[0]))
    assert d["difference"] == pytest.approx(diff, abs=1e-4) and d["overlap"] == pytest.approx(overlap, abs=1e-4)
    assert d["inside_uncertainty"] == (abs(diff) <= overlap)
    assert d["paired"] is not None  # both baselines carry their headline at each end of the same ranges
    text = compare_text(target)
    assert "uncertainty of the zone's share:" in text and d["verdict"] in text
    assert ua["uncertainty"]["assumption"] in text
