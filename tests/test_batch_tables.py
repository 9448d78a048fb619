"""Batch tables (issue 27, item 6) on the tiny synthetic zone of test_batch: the long
per-municipality table, readable labels, the path each run takes, a thresholds sweep that fills its
columns, no heavy GeoJSON per run, readable headline ticks.

Expected numbers come from the ordinary scenario runner on each run's own scenario file (an
independent path: its own zone load and searches), as in test_batch."""

from __future__ import annotations

import json
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import pytest
from test_batch import BASE, work  # noqa: F401  (the fixture)

from kazerne.scenarios import batch as kb
from kazerne.scenarios.batch_tables import run_labels, tick_text
from kazerne.scenarios.runner import run_file

SWEEP_TH = """\
[batch]
name = "th"
base = "base.toml"
[sweep]
thresholds = [2, 3, 4]
"posts.closed" = "each"
"""

SWEEP_CALL = """\
[batch]
name = "call"
base = "base-call.toml"
[sweep]
"response.call_handling_s" = [0, 60, 90]
"""


def _runner_munis(folder, work_dir, thresholds):
    """Per-municipality rows of the run's own scenario file, run by the scenario runner at ``thresholds``."""
    text = (folder / "scenario.toml").read_text()
    lines = [ln for ln in text.splitlines() if not ln.startswith("thresholds")]
    f = work_dir / f"solo-{folder.name}.toml"
    f.write_text(f"thresholds = {list(thresholds)}\n" + "\n".join(lines) + "\n")
    solo = run_file(f, work_dir / "solo", quiet=True)
    return json.loads((solo / "summary.json").read_text())


def test_long_table_and_a_thresholds_sweep_that_fills_its_columns(work):  # noqa: F811
    (work / "th.toml").write_text(SWEEP_TH)
    res = kb.run_batch(work / "th.toml", work / "out", quiet=True)
    assert res.done == 9 and set(res.table["path"]) == {"fast"} and set(res.table["path_reason"]) == {""}
    t = res.table.set_index("run_id")
    # every run reports every swept threshold; the headline stays the run's own threshold
    for rid, row in t.iterrows():
        for th in ("2", "3", "4"):
            assert row[f"share_within_{th}min"] == row[f"share_within_{th}min"], (rid, th)  # not NaN
        assert row["headline_share"] == row[f"share_within_{row['threshold_min']:g}min"]
    long_csv = kb.read_table(work / "out" / "th" / "batch_municipalities.csv")
    long_pq = kb.read_table(work / "out" / "th" / "batch_municipalities.parquet")
    assert list(long_csv.columns) == [
        "run_id",
        "label",
        "thresholds",
        "posts.closed",
        "municipality",
        "threshold_min",
        "share",
        "people",
        "population",
    ]
    assert len(long_csv) == len(long_pq) and list(long_csv["run_id"]) == list(long_pq["run_id"])
    rid = "thresholds=3_closed=T1"
    folder = work / "out" / "th" / "runs" / rid
    solo = _runner_munis(folder, work, [2, 3, 4])
    mine = long_csv[long_csv["run_id"] == rid]
    munis = {m["municipality"]: m for m in solo["municipalities"]}
    assert len(mine) == 3 * len(munis)
    for _, r in mine.iterrows():
        m = munis[r["municipality"]]
        want = m[f"share_within_{r['threshold_min']:g}min"]
        assert r["share"] == pytest.approx(want, abs=1e-12)
        assert r["population"] == pytest.approx(m["population"] - m["no_road_data"], abs=0.06)
        assert r["people"] == pytest.approx(want * (m["population"] - m["no_road_data"]), abs=0.06)
    # the zone's people within T, summed over municipalities, is the runner's zone figure
    for th in (2, 3, 4):
        s = mine[mine["threshold_min"] == th]["people"].sum()
        assert s == pytest.approx(solo["zone"]["population_within"][f"{th:g}"], abs=0.1 * len(munis))


def test_call_handling_sweep_takes_the_fast_path_with_the_runners_numbers(work):  # noqa: F811
    (work / "base-call.toml").write_text(BASE.replace('name = "tiny"', 'name = "tiny-call"') + "[response]\n")
    (work / "call.toml").write_text(SWEEP_CALL)
    res = kb.run_batch(work / "call.toml", work / "out", quiet=True)
    assert res.done == 3
    assert list(res.table["path"]) == ["fast"] * 3 and list(res.table["path_reason"]) == [""] * 3
    for rid in res.table["run_id"]:
        folder = work / "out" / "call" / "runs" / rid
        solo = run_file(folder / "scenario.toml", work / "solo", quiet=True)  # runner, with [response]
        b = json.loads((solo / "summary.json").read_text())
        row = res.table.set_index("run_id").loc[rid]
        for t, share in b["zone"]["share_within"].items():
            assert row[f"share_within_{t}min"] == share, (rid, t)
    # a time-sliced run cannot: it goes through the runner, and the table says why; no GeoJSON
    (work / "base-sl.toml").write_text(
        BASE.replace('name = "tiny"', 'name = "tiny-sl"') + '[response]\nturnout_model = "distribution"\n'
    )
    (work / "sl.toml").write_text(SWEEP_CALL.replace("base-call.toml", "base-sl.toml").replace('"call"', '"sl"'))
    res2 = kb.run_batch(work / "sl.toml", work / "out", quiet=True)
    assert set(res2.table["path"]) == {"runner"}
    assert set(res2.table["path_reason"]) == {"[response] turnout_model = distribution"}
    for rid in res2.table["run_id"]:
        files = {p.name for p in (work / "out" / "sl" / "runs" / rid).iterdir()}
        assert "summary.json" in files and not any(f.endswith(".geojson") for f in files), files


@dataclass
class _Run:
    id: str
    params: dict


def test_labels_say_the_values_without_hashes():
    posts = ["P01", "P02", "P03", "P05", "P06", "P07"]
    runs = [_Run(f"r{k}", {"posts.active": [p for p in posts if p != posts[k]], "thresholds": 10}) for k in range(6)]
    runs.append(_Run("full", {"posts.active": posts, "thresholds": 12}))
    runs.append(_Run("two", {"posts.active": ["P01", "P02"], "thresholds": 12}))
    lab = run_labels(runs, ["posts.active", "thresholds"])
    assert lab["r2"] == "active=all but P03, thresholds=10"
    assert lab["full"] == "active=all 6, thresholds=12"
    assert lab["two"] == "active=P01+P02, thresholds=12"


def test_cli_says_which_path(work):  # noqa: F811
    from test_batch import _cli

    (work / "th.toml").write_text(SWEEP_TH)
    p = _cli(["batch", "th.toml", "--out", "out"], work)
    assert p.returncode == 0, p.stderr
    assert "paths: 9 fast (shared travel-time matrix), 0 through the scenario runner" in p.stderr
    assert "batch_municipalities.csv" in p.stderr


def test_headline_ticks_readable(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    import pandas as pd

    long = "+".join(f"P{k:02d}" for k in range(1, 15))
    df = pd.DataFrame(
        {
            "run_id": [f"r{k}" for k in range(8)],
            "label": [f"active=all but P{k:02d}" for k in range(8)],
            "posts.active": [long.replace(f"P{k:02d}+", "") for k in range(8)],
            "status": ["done"] * 8,
            "threshold_min": [10.0] * 8,
            "share_within_10min": [0.5 + 0.01 * k for k in range(8)],
        }
    )
    figs = []
    monkeypatch.setattr(plt, "close", lambda f=None: figs.append(f))
    assert kb.write_figure(df, ["posts.active"], tmp_path / "h.png")
    fig = figs[0]
    ax = fig.axes[0]
    fig.canvas.draw()
    labels = [t for t in ax.get_xticklabels() if t.get_text()]
    assert [t.get_text() for t in labels] == [tick_text(f"all but P{k:02d}") for k in range(8)]
    r = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in labels]
    for a, b in zip(boxes, boxes[1:]):  # neighbouring tick labels do not overlap
        assert a.x1 <= b.x0 + 0.5 or a.y1 <= b.y0 or b.y1 <= a.y0
    matplotlib.pyplot.close("all")


def test_runs_with_road_changes_leave_the_fast_path(tmp_path):
    """The shared matrix is of the unchanged roads: a run with ``[network]`` changes goes through the
    runner (which applies them), and its loaded context is never shared with a run without them."""
    import tomllib

    from kazerne.scenarios.batch_tables import fast_path_reason
    from kazerne.scenarios.schema import parse_scenario_data

    text = """name = "x"\nzone = "z"\n[posts]\nactive = ["P1"]\n"""
    closed = text + """[[network.changes]]\naction = "close"\nstreet = "Kerkstraat"\n"""
    plain_sc = parse_scenario_data(tomllib.loads(text), tmp_path / "x.toml")
    closed_sc = parse_scenario_data(tomllib.loads(closed), tmp_path / "x.toml")
    assert fast_path_reason(plain_sc, False) == ""
    assert fast_path_reason(closed_sc, False) == "[network] road changes"
