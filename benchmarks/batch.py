"""Benchmark: a 112-run batch on the whole zone with ``kazerne batch`` vs one ``run_scenario.py`` per run.

The batch is scenarios/batch-closures-turnout-2019.toml: 4 thresholds x (today + 13 single-post
closures) x 2 volunteer turnout assumptions = 112 runs of the 2019 baseline on hvz-centrum.

* **batch**: ``kazerne batch --workers 2`` from an empty output folder (zone and demand loaded once,
  one driving-time matrix for the 13 posts, shared memory-mapped by the runs), the whole command timed.
* **naive**: what an analyst does today, one ``python run_scenario.py`` process per run (reload the
  zone, rebuild the demand and the travel times, audit, write every output), run on a **sample**
  of the runs (``--naive-sample``, default 4, two at a time on the 2 cores like the batch) and
  **extrapolated** to all runs: mean wall time per run x runs / 2. Measured twice: with the
  scenario's outputs as written (maps, report.html, layers.gpkg: the full naive cost) and with
  those council outputs off (what the batch writes per run by default: the fair comparison).
* **marginal cost per run** once the matrices exist: the batch re-run with every record removed
  but the matrices kept, divided by the number of runs.

Ends by printing one JSON line. Needs the zone pack (KAZERNE_DATA) and a warm network cache.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BATCH = REPO / "scenarios" / "batch-closures-turnout-2019.toml"


def _env():
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _timed(cmd, cwd) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, check=False)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"benchmark: {' '.join(map(str, cmd))} failed ({p.returncode}): {p.stderr.strip()[-500:]}")
    return dt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--naive-sample", type=int, default=4, help="runs measured the naive way (then extrapolated)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from kazerne.scenarios.batch import dumps_toml, parse_batch

    spec = parse_batch(BATCH)
    n = len(spec.runs)
    work = Path(tempfile.mkdtemp(prefix="kazerne-bench-batch-"))
    try:
        # warm the network cache (not part of either measurement)
        _timed([sys.executable, "-c", "import kazerne as kz; kz.load_zone('hvz-centrum', quiet=True)"], work)

        cmd = [
            sys.executable,
            "-m",
            "kazerne.cli",
            "batch",
            str(BATCH),
            "--out",
            str(work / "out"),
            "--workers",
            str(args.workers),
            "--quiet",
        ]
        batch_s = _timed(cmd, work)
        bdir = work / "out" / spec.name
        import pandas as pd

        table = pd.read_csv(bdir / "batch.csv")
        assert len(table) == n and (table["status"] == "done").all(), "the batch did not complete"

        # marginal cost: the batch again with the matrices on disk, records and run folders gone
        from kazerne.scenarios.batch import run_batch

        marg = {}
        for w in (args.workers, 1):
            shutil.rmtree(bdir / "records")
            shutil.rmtree(bdir / "runs")
            res = run_batch(BATCH, work / "out", workers=w, quiet=True)
            assert res.done == n and res.shared["matrices_built"] == 0
            marg[w] = (res.wall_s - res.shared["prepare_s"]) / n
            marg[f"prepare_{w}"] = res.shared["prepare_s"]
        in_run_s = float(res.table["wall_s"].mean())

        # naive: one run_scenario.py per run, on an evenly spread sample
        k = max(1, min(args.naive_sample, n))
        sample = [spec.runs[round(i * (n - 1) / max(1, k - 1))] for i in range(k)]
        files_full, files_light = [], []
        for r in sample:
            raw = dict(r.raw)
            f = work / "naive" / f"{r.id}.toml"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(dumps_toml(raw))
            files_full.append(f)
            light = tomllib.loads(dumps_toml(raw))
            light["name"] = r.id + "-light"
            light.setdefault("outputs", {}).update({"map": False, "report": False, "gpkg": False})
            g = work / "naive" / f"{r.id}-light.toml"
            g.write_text(dumps_toml(light))
            files_light.append(g)

        def naive(files):
            def one(f):
                return _timed(
                    [
                        sys.executable,
                        str(REPO / "run_scenario.py"),
                        str(f),
                        "--out",
                        str(work / "naive-out"),
                        "--quiet",
                    ],
                    work,
                )

            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.workers) as ex:
                per = list(ex.map(one, files))
            return time.perf_counter() - t0, per

        naive_full_wall, naive_full = naive(files_full)
        naive_light_wall, naive_light = naive(files_light)
        # extrapolation: the sample's wall time per run (two at a time) x all runs
        naive_full_total = naive_full_wall / k * n
        naive_light_total = naive_light_wall / k * n
    finally:
        shutil.rmtree(work, ignore_errors=True)

    out = {
        "benchmark": "batch",
        "zone": "hvz-centrum",
        "runs": n,
        "workers": args.workers,
        "batch_wall_s": round(batch_s, 2),
        "batch_per_run_s": round(batch_s / n, 4),
        "marginal_per_run_s_matrices_cached": round(marg[args.workers], 4),
        "marginal_per_run_s_matrices_cached_1_worker": round(marg[1], 4),
        "evaluation_per_run_s_inside_worker": round(in_run_s, 4),
        "prepare_s_zone_demand_plan": round(marg["prepare_1"], 2),
        "naive_sample_runs": k,
        "naive_per_run_s_full_outputs": round(sum(naive_full) / k, 2),
        "naive_per_run_s_light_outputs": round(sum(naive_light) / k, 2),
        "naive_total_s_full_outputs_extrapolated": round(naive_full_total, 1),
        "naive_total_s_light_outputs_extrapolated": round(naive_light_total, 1),
        "speedup_vs_naive_full": round(naive_full_total / batch_s, 1),
        "speedup_vs_naive_light": round(naive_light_total / batch_s, 1),
        "goal_speedup": 10.0,
        "goal_met": naive_light_total / batch_s >= 10.0,
        "note": f"naive measured on {k} of {n} runs ({args.workers} at a time) and extrapolated; "
        "light = the scenario's maps, report.html and layers.gpkg off, as in the batch's per-run outputs; "
        "marginal = batch re-run with the matrices on disk, minus loading and planning, divided by the runs",
    }
    print(
        f"{n} runs: batch {batch_s:.1f} s on {args.workers} workers; naive (one run_scenario.py per run, "
        f"{k} sampled, extrapolated) {naive_light_total:.0f} s with the batch's outputs "
        f"({out['speedup_vs_naive_light']}x), {naive_full_total:.0f} s with every council output "
        f"({out['speedup_vs_naive_full']}x); marginal cost {1000 * marg[args.workers]:.0f} ms per run "
        f"({args.workers} workers), {1000 * marg[1]:.0f} ms in one process",
        file=sys.stderr,
    )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
