"""Benchmark: a year of the zone's 112 ambulance / PIT calls x 30 replications (goal: under 60 s).

The system of ``scenarios/ems-2023.toml``: today's departure locations of the pack's
``ems-bases.csv`` within the road data (one unit per service), the pack's emergency departments,
the 250 m population grid, 35 calls per 1,000 inhabitants a year (~19,000 calls), three speed
periods. Everything through the public API (``kz.ems_system``, ``kz.simulate``, the hypercube).

Peers, in the same process and on the same system:

* the same event loop **interpreted** (``engine="python"``, one replication of the same seed: the
  figures must be identical) -- the compiled loop's speed-up per replication;
* the analytical **hypercube** figure for the same units (``hypercube_figures``), the model the
  simulation checks.

Run:  KAZERNE_DATA=../shared/zone-data python benchmarks/simulation.py [--replications 30] [--days 365]

Ends with one JSON line. Measured 2026-12-03 on the 2-core machine shared with other jobs (load
average ~15): 30 x 365 days, 560,991 calls, 18 units: 10.3 s (goal 60 s); 0.34 s per replication
compiled (call generation and statistics included) against 3.46 s interpreted (10x, identical
figures); the hypercube beside it 0.57 s; matrices 7.4 s (3 speed periods, both directions).
Zone share within 15 min 83.15 % [83.04, 83.26] simulated, 82.28 % by the hypercube.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import kazerne as kz  # noqa: E402


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zone", default="hvz-centrum")
    ap.add_argument("--replications", type=int, default=30)
    ap.add_argument("--days", type=float, default=365.0)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--python-replications", type=int, default=1)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    zone = kz.load_zone(args.zone, quiet=True)
    demand = kz.population_grid(zone)
    bases = kz.located_sites(zone, zone.pack.ems_bases)
    units = [u for u in kz.pack_units(zone.pack) if u[0] in bases.ids]
    used = sorted({u[0] for u in units}, key=bases.ids.index)
    bases = bases.subset([bases.ids.index(b) for b in used])
    hosp = kz.located_sites(zone, kz.emergency_departments(zone.pack))
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    system = kz.ems_system(
        zone, bases, [u[0] for u in units], [u[1] for u in units], demand, hosp, kz.get_profile("ambulance")
    )
    t_build = time.perf_counter() - t0
    calls = kz.CallModel()

    t0 = time.perf_counter()
    kz.simulate(system, calls, replications=1, days=1, warmup_days=0)  # compile or load the numba cache
    t_compile = time.perf_counter() - t0

    res = kz.simulate(system, calls, replications=args.replications, days=args.days, seed=args.seed)
    t_sim = res.seconds
    one = kz.simulate(system, calls, replications=args.python_replications, days=args.days, seed=args.seed)
    py = kz.simulate(
        system, calls, replications=args.python_replications, days=args.days, seed=args.seed, engine="python"
    )
    identical = all(np.array_equal(one.zone[k], py.zone[k], equal_nan=True) for k in one.zone) and np.array_equal(
        one.units["utilisation"], py.units["utilisation"]
    )
    t0 = time.perf_counter()
    hc = kz.hypercube_figures(res, "ambulance")
    t_hc = time.perf_counter() - t0

    z = res.zone_row()
    per_rep = t_sim / args.replications
    py_rep = py.seconds / args.python_replications
    headline = {
        "benchmark": "simulation",
        "zone": args.zone,
        "calls_per_year": round(float(z["calls"]) * 365.0 / args.days, 1),
        "replications": args.replications,
        "days": args.days,
        "calls_simulated": int(res.zone["calls"].sum()),
        "units": system.n_units,
        "bases": len(system.base_ids),
        "demand_points": int(system.weights.size),
        "speed_periods": len(system.period_names),
        "load_seconds": round(t_load, 2),
        "build_matrices_seconds": round(t_build, 2),
        "compile_or_cache_seconds": round(t_compile, 2),
        "simulate_seconds": round(t_sim, 2),
        "goal_seconds": 60.0,
        "goal_met": bool(t_sim < 60.0),
        "numba_seconds_per_replication": round(per_rep, 4),
        "python_seconds_per_replication": round(py_rep, 3),
        "speedup_vs_python": round(py_rep / per_rep, 1),
        "python_identical": bool(identical),
        "hypercube_seconds": round(t_hc, 3),
        "share_within_15min": round(z["share_within"], 4),
        "share_within_15min_ci": [round(z["share_within_lo"], 4), round(z["share_within_hi"], 4)],
        "hypercube_share_within_15min": round(hc["share_within"], 4) if hc else None,
    }
    print(json.dumps(headline))
    return headline


if __name__ == "__main__":
    main()
