"""Benchmark: MEXCLP with 20 ambulances on the real zone, and the hypercube approximation.

Bases: generated candidate nodes (trunk..tertiary roads, one per ``--spacing`` m square, >= 300)
plus the pack's medical sites and fire posts; demand: the full 250 m population grid with road
data; response time = ambulance-profile drive time + 120 s turnout; T = 15 min. The system busy
fraction q comes from ``--calls-per-year`` and ``--mission-minutes``. The MEXCLP is solved with
SCIP; ``--peer HiGHS`` solves it again with HiGHS and prints the time ratio (off by default: the
OR-Tools HiGHS backend crashed with a segmentation fault on this 100k-variable model). The hypercube
approximation is then timed on the optimal 20-unit placement.

Run:  KAZERNE_DATA=/path/to/zone-data python benchmarks/ems.py [--units 20] [--spacing 800]
      [--time-limit 150] [--peer none|HiGHS]

Ends with ONE line: a JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
if not os.environ.get("KAZERNE_DATA") and (REPO.parent / "shared" / "zone-data").is_dir():
    os.environ["KAZERNE_DATA"] = str(REPO.parent / "shared" / "zone-data")

import kazerne as kz  # noqa: E402
from kazerne.coverage.ems import mexclp  # noqa: E402
from kazerne.coverage.problem import from_cost_matrix  # noqa: E402
from kazerne.coverage.queueing import hypercube_approx, system_busy_fraction  # noqa: E402
from kazerne.scenarios.context import Progress, load_context  # noqa: E402
from kazerne.scenarios.ems import ems_bases  # noqa: E402
from kazerne.scenarios.resolve import profile_of  # noqa: E402
from kazerne.scenarios.schema import parse_scenario  # noqa: E402
from kazerne.sites import DEFAULT_CANDIDATE_CLASSES  # noqa: E402

SCENARIO = """\
name = "bench-ems"
zone = "hvz-centrum"
[profile]
name = "ambulance"
[demand]
grid_m = 250
[ems]
kind = "ems-place"
unit = "ambulance"
n_units = {n}
calls_per_year = {calls:g}
mission_minutes = {mission:g}
turnout_s = 120
"""


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=20)
    ap.add_argument("--spacing", type=float, default=800.0)
    ap.add_argument("--calls-per-year", type=float, default=30000.0)
    ap.add_argument("--mission-minutes", type=float, default=60.0)
    ap.add_argument("--t-min", type=float, default=15.0)
    ap.add_argument("--time-limit", type=float, default=150.0)
    ap.add_argument(
        "--peer",
        default="none",
        help="second MIP backend to compare with SCIP (e.g. HiGHS), or 'none' (default: the OR-Tools "
        "HiGHS backend segfaulted on this model in our run)",
    )
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "bench.toml"
        f.write_text(SCENARIO.format(n=args.units, calls=args.calls_per_year, mission=args.mission_minutes))
        sc = parse_scenario(f)
        ctx = load_context(sc, Progress(True))
        prof = profile_of(sc)
        ids, _, nodes, _, _, _ = ems_bases(ctx, sc)
    gen = kz.Sites.candidates(ctx.zone, spacing_m=args.spacing, classes=DEFAULT_CANDIDATE_CLASSES, turnout_s=120.0)
    have = set(int(n) for n in nodes)
    gen = gen.subset([i for i, n in enumerate(gen.node.tolist()) if n not in have])
    extra = list(zip(gen.ids, gen.node))
    bases = kz.Sites(
        ids=list(ids),
        names=list(ids),
        node=nodes,
        lon=ctx.zone.net.lon[nodes],
        lat=ctx.zone.net.lat[nodes],
        turnout_s=120.0,
    ).concat(gen)
    base_ids = bases.ids
    keep = ~ctx.demand.no_road_data
    w = ctx.demand.weight[keep]
    t0 = time.perf_counter()
    mat = kz.travel_times(ctx.zone, bases, ctx.demand, prof).seconds[:, keep]
    t_mat = time.perf_counter() - t0
    T = args.t_min * 60.0
    q = system_busy_fraction(args.calls_per_year, args.mission_minutes, args.units)
    print(
        f"bases: {len(base_ids)} ({len(ids)} pack medical sites/posts + {len(extra)} generated at "
        f"{args.spacing:g} m); demand {mat.shape[1]} points with road data; matrix in {t_mat:.1f} s; "
        f"q = {q:.4f}"
    )

    runs = {}
    for solver in ["SCIP"] + ([args.peer] if args.peer.lower() != "none" else []):
        t0 = time.perf_counter()
        res = mexclp(
            from_cost_matrix(mat, w, site_ids=base_ids), args.units, q, T, solver=solver, time_limit=args.time_limit
        )
        dt = time.perf_counter() - t0
        red = res.extra.get("reduction", {})
        print(
            f"MEXCLP {solver}: status {res.status}, objective {res.objective:,.1f} "
            f"({res.extra.get('expected_coverage_share', float('nan')):.4%}), bound {res.bound:,.1f}, "
            f"gap {res.gap:.2e}, {dt:.2f} s; reduction {json.dumps(red)}"
        )
        runs[solver] = (res, dt)
    res, t_scip = runs["SCIP"]
    units = res.extra["units"]
    unit_bases = np.repeat(np.arange(len(base_ids)), [int(units.get(b, 0)) for b in base_ids])
    rate = args.calls_per_year / (365.0 * 24 * 3600)
    t0 = time.perf_counter()
    hc = hypercube_approx(mat, w, unit_bases, rate, args.mission_minutes * 60.0, queue=True)
    t_hc = time.perf_counter() - t0
    share = hc.share_within(T)
    print(
        f"hypercube approx ({len(unit_bases)} units on {len(units)} bases): {t_hc:.3f} s, "
        f"{hc.extra.get('iterations') if hasattr(hc, 'extra') else ''} iterations; share within "
        f"{args.t_min:g} min busy-aware {share:.4f}, mean busy {hc.mean_busy():.3f}"
    )
    out = {
        "benchmark": "mexclp_zone",
        "zone": "hvz-centrum",
        "units": args.units,
        "bases": len(base_ids),
        "demand_points": int(mat.shape[1]),
        "q": round(q, 5),
        "t_min": args.t_min,
        "scip_status": res.status,
        "scip_gap": res.gap,
        "scip_s": round(t_scip, 2),
        "expected_coverage_share": round(res.extra.get("expected_coverage_share", float("nan")), 5),
        "reduction": res.extra.get("reduction"),
        "hypercube_s": round(t_hc, 3),
        "hypercube_share_within_T": round(share, 5),
        "matrix_s": round(t_mat, 2),
    }
    if len(runs) > 1:
        peer, (pres, pt) = [(k, v) for k, v in runs.items() if k != "SCIP"][0]
        out.update(
            {
                "peer": peer,
                "peer_status": pres.status,
                "peer_gap": pres.gap,
                "peer_s": round(pt, 2),
                "peer_over_scip_time": round(pt / t_scip, 2),
                "same_objective": bool(abs(pres.objective - res.objective) <= 1e-4 * abs(res.objective)),
            }
        )
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
