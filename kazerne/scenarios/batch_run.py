"""One run of a batch, in any process: the baseline kind from the shared matrix (the fast path), or
the run's kind through the scenario runner. Both write the run's folder with the one writer
(:func:`kazerne.scenarios.output.write_run`) and give the numbers of its row in ``batch.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import __version__
from ..coverage.metrics import population_key, share_key
from .baseline import BASELINE, DemandTable
from .batch_tables import municipality_rows as long_rows
from .batch_tables import summary_municipality_rows
from .context import headline

__all__ = ["fast_run", "one_line", "row_numbers", "runner_run"]

_MM: dict = {}


def _mmap(path: str):
    m = _MM.get(path)
    if m is None:
        if len(_MM) > 16:
            _MM.clear()
        m = np.load(path, mmap_mode="r", allow_pickle=False)
        _MM[path] = m
    return m


_DEM: dict = {}


def _demand(path: str) -> DemandTable:
    d = _DEM.get(path)
    if d is None:
        d = DemandTable.load(path)
        _DEM.clear()
        _DEM[path] = d
    return d


def _times(task) -> np.ndarray:
    """The run's response times (posts x demand) from the shared driving-time matrix."""
    from ..routing.travel import TravelTimes

    turnout = np.asarray(task.turnout_s, dtype=float)
    # the travel_times convention: turnout + drive summed in float64, kept as float32, then the call
    # handling added in float64 (TravelTimes.shifted): identical to a scenario run's numbers, ties included
    dem_t = (np.asarray(_mmap(task.matrix)[task.rows], dtype=np.float64) + turnout[:, None]).astype(np.float32)
    ids = [p["id"] for p in task.post_rows]
    return TravelTimes(site_ids=ids, turnout_s=turnout, seconds=dem_t).shifted(float(task.call_handling_s)).seconds


def fast_run(task, target: Path) -> dict:
    """The baseline kind (:meth:`~kazerne.scenarios.baseline.BaselineKind.solve_times`) with the times
    of the batch's shared matrix; its folder written; the numbers of its row."""
    from ..report.atomic import write_text
    from .output import write_run

    dem = _demand(task.demand)
    seconds = _times(task)
    th = list(task.thresholds_min)
    head = {
        "kazerne_version": __version__,
        "scenario": task.scenario_info,
        "batch": {
            "run_id": task.id,
            "params": task.params,
            "inputs_digest": task.digest,
            "outputs": "batch (fast path): no audit, demand / first-due GeoJSON, first-due areas (km²), maps, "
            "report.html or layers.gpkg; run scenario.toml with kazerne run for those",
        },
        "assumptions": task.assumptions,
    }
    res = BASELINE.solve_times(
        seconds, dem, task.post_rows, task.turnout_s, float(task.call_handling_s), th, task.worst_n, head
    )
    summary = {**res.summary, "kind": BASELINE.name}
    write_run(
        target, summary, res.tables, (lambda tmp: write_text(tmp / "scenario.toml", task.scenario_toml),), field=None
    )
    th_all = sorted(set(th) | set(task.extra_thresholds or []))
    rep_all = res.value
    if th_all != th:  # a thresholds sweep: this run's shares at every swept threshold too
        rep_all = dem.evaluate(seconds, th_all, cell_area=False)
    nums = row_numbers({**summary, "zone": headline(rep_all, th_all)})
    nums["threshold_min"] = min(th)
    nums["_municipalities"] = long_rows(rep_all.municipalities, th_all)
    return nums


def row_numbers(summary: dict) -> dict:
    """Headline columns of a run's summary: shares per threshold, mean / p90, solve status and gap."""
    row: dict = {}
    z = summary.get("zone")
    if z:
        for t, s in z["share_within"].items():
            row[share_key(t)] = s
        for t, s in z["population_within"].items():
            row[population_key(t)] = s
        row["mean_response_min"] = z.get("mean_response_min")
        row["p90_response_min"] = z.get("p90_response_min")
        row["population_unreachable"] = z.get("population_unreachable")
    solves = list(summary.get("solves") or []) + ([summary["solve"]] if summary.get("solve") else [])
    if solves:
        st = sorted({str(s.get("status")) for s in solves})
        row["solve_status"] = "/".join(st)
        gaps = [s.get("gap") for s in solves if isinstance(s.get("gap"), (int, float))]
        row["gap"] = max(gaps) if gaps else None
        row["solves"] = len(solves)
    res = summary.get("result")
    if isinstance(res, dict):
        for k, v in res.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                row[f"result.{k}"] = v
            elif (
                isinstance(v, dict)
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v.values())
                and len(v) <= 20
            ):
                for kk, x in v.items():
                    row[f"result.{k}.{kk}"] = x
    return row


def runner_run(task, target: Path) -> dict:
    """The run's kind through the scenario runner; the numbers of its row from the result in memory
    (a study's from the summary it wrote)."""
    import json

    from ..progress import Progress
    from .kinds import Finished
    from .runner import execute

    done = execute(task.scenario, target.parent, Progress(quiet=True))
    if isinstance(done, Finished):
        summary = done.result.summary
    else:
        try:
            summary = json.loads((target / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            summary = {}
    nums = row_numbers(summary)
    th = (summary.get("assumptions") or {}).get("thresholds_min")
    if th:
        nums["threshold_min"] = min(float(t) for t in th)
    nums["_municipalities"] = summary_municipality_rows(summary)
    return nums


def one_line(text) -> str:
    out = "".join(c if c.isprintable() else " " for c in str(text))
    return out if len(out) <= 500 else out[:496] + " ..."
