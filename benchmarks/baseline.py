"""Benchmark: warm baseline run of the whole zone (hvz-centrum, 2019 posts, 250 m grid).

    python benchmarks/baseline.py [--runs 3] [--scenario scenarios/hvz-centrum-2019.toml]

"Warm" = the road network is already in the cache (``KAZERNE_CACHE`` or ``~/.cache/kazerne``); one
untimed warm-up run makes sure of it (and of numba's compiled-code cache). Each timed run is the real
command ``python run_scenario.py SCENARIO --out TMP --quiet`` in a fresh interpreter, so the wall
time includes start-up, imports and writing every output file. The stage times come from the
runner's ``Progress`` timings stored in summary.json (``timings_s``: load_zone, demand, posts,
travel_and_metrics); ``other`` = wall - sum of stages (interpreter start, imports, writing outputs).
Medians over the runs are reported. Goal: < 10 s wall.

The last line printed is one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL_S = 10.0


def one_run(scenario: Path, out: Path) -> tuple[float, dict, dict]:
    t0 = time.perf_counter()
    p = subprocess.run(
        [sys.executable, str(REPO / "run_scenario.py"), str(scenario), "--out", str(out), "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"run failed (exit {p.returncode}): {p.stderr.strip()}")
    dirs = [d for d in out.iterdir() if d.is_dir() and not d.name.startswith(".")]
    summary = json.loads((dirs[0] / "summary.json").read_text(encoding="utf-8"))
    return wall, summary["timings_s"], summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scenario", default=str(REPO / "scenarios" / "hvz-centrum-2019.toml"))
    args = ap.parse_args()
    if not os.environ.get("KAZERNE_DATA") and (REPO.parent / "shared" / "zone-data").is_dir():
        os.environ["KAZERNE_DATA"] = str(REPO.parent / "shared" / "zone-data")
    scenario = Path(args.scenario).resolve()

    with tempfile.TemporaryDirectory(prefix="kazerne-bench-") as tmp:
        tmp = Path(tmp)
        print(f"warm-up run (not timed): {scenario.name}", flush=True)
        w0, _, summary = one_run(scenario, tmp / "warmup")
        print(f"  warm-up wall {w0:.2f} s")
        walls, stages = [], []
        for i in range(args.runs):
            wall, timings, summary = one_run(scenario, tmp / f"run{i}")
            walls.append(wall)
            stages.append(timings)
            print(
                f"run {i + 1}: wall {wall:6.2f} s   " + "  ".join(f"{k} {v:.3f}" for k, v in timings.items()),
                flush=True,
            )

    keys = list(stages[0])
    med = {k: round(statistics.median(s[k] for s in stages), 3) for k in keys}
    wall_med = round(statistics.median(walls), 3)
    med["other"] = round(wall_med - sum(med[k] for k in keys), 3)
    d = summary["demand"]
    print()
    print(
        f"zone {summary['assumptions']['zone']}: {len(summary['posts'])} posts, {d['points']} demand points "
        f"(250 m grid), road nodes kept {summary['assumptions']['road_data']['nodes_kept']}"
    )
    print(f"{'stage':22s} {'median s':>9s}")
    for k, v in med.items():
        print(f"{k:22s} {v:9.3f}")
    print(
        f"{'wall (median of ' + str(args.runs) + ')':22s} {wall_med:9.3f}   goal < {GOAL_S:g} s: "
        f"{'met' if wall_med < GOAL_S else 'NOT met'}"
    )
    print(
        json.dumps(
            {
                "benchmark": "baseline_warm",
                "scenario": summary["scenario"]["name"],
                "grid_m": 250,
                "demand_points": d["points"],
                "posts": len(summary["posts"]),
                "runs": args.runs,
                "wall_s_median": wall_med,
                "wall_s_runs": [round(w, 3) for w in walls],
                "stages_s_median": med,
                "goal_s": GOAL_S,
                "goal_met": wall_med < GOAL_S,
                "share_within_15min": round(summary["zone"]["share_within"]["15"], 4),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
