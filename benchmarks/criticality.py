"""Criticality benchmark on a real zone pack: the fast ranking against the naive way, in one run.

Scenario: the 2019 posts of ``scenarios/hvz-centrum-2019.toml`` (its demand grid, call handling and
turnouts), fire engine and ambulance, threshold 12 min from the call. The fast way
(:func:`kazerne.criticality`) ranks every street segment on some best route. The naive way closes one
segment with the change layer (``kz.NetworkChange`` + ``kz.apply_changes``) and re-runs the bounded
travel times of every post (``kz.travel_times``, numba, cutoff at the threshold) -- timed on a sample
of segments (the fast top 10 and random ones on best routes, fixed seed) and extrapolated to all of
them. Both must give the same people lost on every sampled segment.

The last line printed is one JSON object with the headline figures.

    python benchmarks/criticality.py [--scenario scenarios/hvz-centrum-2019.toml] [--sample 40] [--seed 5]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
if not os.environ.get("KAZERNE_DATA") and (REPO.parent / "shared" / "zone-data").is_dir():
    os.environ["KAZERNE_DATA"] = str(REPO.parent / "shared" / "zone-data")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(REPO / "scenarios" / "hvz-centrum-2019.toml"))
    ap.add_argument("--sample", type=int, default=40, help="random segments timed the naive way (plus the top 10)")
    ap.add_argument("--threshold", type=float, default=12.0)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args(argv)

    import kazerne as kz
    from kazerne.progress import Progress
    from kazerne.scenarios.context import load_context
    from kazerne.scenarios.resolve import resolve_posts

    sc = kz.parse_scenario(args.scenario)
    ctx = load_context(sc, Progress(quiet=True))
    posts = resolve_posts(ctx.zone, sc)
    d = ctx.demand
    w = np.where(d.no_road_data, 0.0, d.weight)
    T = args.threshold * 60.0
    out = {"benchmark": "criticality", "scenario": sc.name, "threshold_min": args.threshold}
    rng = np.random.default_rng(args.seed)
    net = ctx.zone.net
    for prof_name in ("fire_engine", "ambulance"):
        prof = kz.get_profile(prof_name)
        kz.travel_times(ctx.zone, posts, d, prof, cutoff_s=T, call_handling_s=sc.call_handling_s)  # warm-up
        t0 = time.perf_counter()
        c = kz.criticality(ctx.zone, posts, d, prof, args.threshold, sc.call_handling_s, top=20, pairs_top=0)
        fast_s = time.perf_counter() - t0
        L = c.losses
        fast = dict(zip(zip(L.a.tolist(), L.b.tolist()), L.lost.tolist()))
        best = [tuple(x) for x in L.best_segments.tolist()]
        top = [tuple(r["node_pairs"][0]) for r in c.segments[:10]]
        pick = rng.choice(len(best), min(args.sample, len(best)), replace=False)
        sample = list(dict.fromkeys(top + [best[i] for i in pick]))
        tt0 = kz.travel_times(ctx.zone, posts, d, prof, cutoff_s=T, call_handling_s=sc.call_handling_s)
        before = np.isfinite(tt0.dense()).any(axis=0)
        mism = 0
        t1 = time.perf_counter()
        for a, b in sample:
            edges = np.flatnonzero(((net.u == a) & (net.v == b)) | ((net.u == b) & (net.v == a)))
            z2 = kz.apply_changes(ctx.zone, [kz.NetworkChange("close", edges=tuple(int(e) for e in edges))])
            tt = kz.travel_times(z2, posts, d, prof, cutoff_s=T, call_handling_s=sc.call_handling_s)
            after = np.isfinite(tt.dense()).any(axis=0)
            lost = float(w[before & ~after].sum())
            if abs(lost - fast.get((a, b), 0.0)) > 1e-6 * max(1.0, lost):
                mism += 1
        naive_per = (time.perf_counter() - t1) / len(sample)
        naive_all = naive_per * L.on_best_routes
        out[prof_name] = {
            "segments_on_best_routes": L.on_best_routes,
            "segments_searched_again": L.examined,
            "fast_s": round(fast_s, 2),
            "naive_s_per_segment": round(naive_per, 3),
            "naive_s_all_extrapolated": round(naive_all, 1),
            "speedup": round(naive_all / fast_s, 1),
            "sampled": len(sample),
            "sampled_mismatches": mism,
            "top5": [
                {"street": r["street"], "municipality": r["municipality"], "people_lost": r["people_lost"]}
                for r in c.segments[:5]
            ],
        }
        print(
            f"{prof_name}: fast {fast_s:.1f} s for {L.on_best_routes:,} segments; naive {naive_per:.2f} s per "
            f"segment -> {naive_all / 60:.1f} min for all ({naive_all / fast_s:.0f}x); {mism} mismatches on "
            f"{len(sample)} sampled",
            file=sys.stderr,
        )
    out["same_results"] = all(out[p]["sampled_mismatches"] == 0 for p in ("fire_engine", "ambulance"))
    print(json.dumps(out))
    return 0 if out["same_results"] else 1


if __name__ == "__main__":
    sys.exit(main())
