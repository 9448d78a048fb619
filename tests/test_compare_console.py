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

from kazerne.scenarios.runner import run_file

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, zone_data_dir):
    out = tmp_path_factory.mktemp("cmp")
    text = (REPO / "scenarios" / "hvz-centrum-2019.toml").read_text(encoding="utf-8")
    light = "\n[outputs]\nmap = false\nreport = false\ngeojson = false\nfirst_due_areas = false\n"
    a = out / "base.toml"
    a.write_text(text + light, encoding="utf-8")
    b = out / "closed.toml"
    b.write_text(
        text.replace('name = "hvz-centrum-2019"', 'name = "close-p07"')
        + "\n[posts.override.P07]\nclosed = true\n"
        + light,
        encoding="utf-8",
    )
    return run_file(a, out / "runs", quiet=True), run_file(b, out / "runs", quiet=True), out


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
