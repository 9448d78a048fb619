"""Benchmark: calibration of 20,000 dispatch records on the zone (hvz-centrum, 2019 posts).

    python benchmarks/calibration.py [--records 20000] [--seed 1]

Synthetic records (``kz.synthetic_records``, the stated ``DEFAULT_TRUTH``; generated on the fly, not
timed) are written to a temporary CSV. Timed in the same process, after one warm-up of the zone and
numba:

* ``read_s``: reading and checking the file against the zone (``kz.read_records``);
* ``uncalibrated_s``: the uncalibrated model of every record (one routing round of the default
  profile: the many-source searches from the posts and the route parts, :mod:`kazerne.calibration.routes`);
* ``calibrate_s``: ``kz.calibrate`` (every routing round, the robust fits, call handling, turnouts,
  cross-validation).

Goal: read + calibrate under 60 s. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
GOAL_S = 60.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20000, help="rows (about 1.25 per incident)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    import numpy as np

    import kazerne as kz
    from kazerne.calibration.periods import period_of
    from kazerne.calibration.routes import route_parts
    from kazerne.calibration.synthetic import DEFAULT_TRUTH
    from kazerne.routing.profiles import PERIOD_NAMES, with_factors

    zone = kz.load_zone("hvz-centrum", quiet=True)
    n_inc = int(round(args.records / 1.25))
    df = kz.synthetic_records(zone, REPO / "scenarios" / "hvz-centrum-2019.toml", n=n_inc, seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.csv"
        df.to_csv(path, index=False)
        t0 = time.perf_counter()
        recs = kz.read_records(path, zone)
        read_s = time.perf_counter() - t0
        base = kz.get_profile("fire_engine")
        per = period_of(recs.weekday, recs.hour)
        profs = {
            p: with_factors(base.with_overrides(period=None if n == "free" else n), {}, None)
            for p, n in enumerate(PERIOD_NAMES)
        }
        t0 = time.perf_counter()
        parts = route_parts(zone.net, None, recs.post_nodes, recs.post, recs.node, per, profs)
        uncal_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        cal = kz.calibrate(zone, recs, "fire_engine")
        cal_s = time.perf_counter() - t0
    cv = cal.cv
    print(
        f"records {len(df)} rows, {len(recs)} used; read {read_s:.1f} s; uncalibrated model {uncal_s:.1f} s; "
        f"calibration {cal_s:.1f} s in {cal.rounds} rounds",
        file=sys.stderr,
    )
    out = {
        "benchmark": "calibration",
        "rows": int(len(df)),
        "records_used": int(len(recs)),
        "read_s": round(read_s, 2),
        "uncalibrated_s": round(uncal_s, 2),
        "calibrate_s": round(cal_s, 2),
        "total_s": round(read_s + cal_s, 2),
        "ratio_calibrate_to_uncalibrated": round(cal_s / max(uncal_s, 1e-9), 1),
        "rounds": cal.rounds,
        "reached": int(parts.reached.sum()),
        "cv_median_abs_error_s": {
            "default": cv["default"]["median_abs_error_s"],
            "calibrated": cv["calibrated"]["median_abs_error_s"],
        },
        "goal_s": GOAL_S,
        "met": bool(read_s + cal_s < GOAL_S),
        "max_abs_factor_error_fitted_over_8h": round(
            max(
                abs(f["value"] - DEFAULT_TRUTH.factors[f["period"]][f["factor"]])
                for f in cal.factors
                if f["fitted"] and f["exposure_s"] >= 28800
            ),
            3,
        ),
        "junction_delay_s": {"fitted": cal.junction_delay["value"], "truth": DEFAULT_TRUTH.junction_delay_s},
        "numpy": np.__version__,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
