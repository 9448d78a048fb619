"""Routing benchmark on a real zone pack (default hvz-centrum), everything measured in one run.

(a) zone load: cold (osmnx parses the OSM XML, empty temp cache folder) vs warm (the cache);
    goal warm < 1 s.
(b) travel-time matrix from 500 random nodes (fixed seed) to every node, 20-minute cutoff,
    fire_engine profile: kazerne ``drive_times`` (numba, all cores) vs the scipy csgraph engine vs
    networkx ``single_source_dijkstra_path_length(G, s, cutoff=1200, weight="time")`` on
    ``net.to_networkx(profile)`` (timed on the first ``--nx-sources`` sources and extrapolated to all
    500, said in the output), and networkx on osmnx's own MultiDiGraph with osmnx ``travel_time``
    (captured from the cold load, so no extra parse); goals >= 20x networkx and < 10 s.
(c) isochrones of posts P01-P14 at 8, 10, 12, 15 min (turnout by crew type, as the CLI does),
    warm; goal < 5 s.

The last line printed is one JSON object with the headline figures.

    python benchmarks/routing.py [--zone hvz-centrum] [--sources 500] [--nx-sources 50] [--seed 7]
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


def _t(fn, *a, **kw):
    t0 = time.perf_counter()
    out = fn(*a, **kw)
    return out, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zone", default="hvz-centrum")
    ap.add_argument("--sources", type=int, default=500)
    ap.add_argument("--nx-sources", type=int, default=50, help="sources timed with networkx (extrapolated)")
    ap.add_argument("--cutoff", type=float, default=1200.0)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)

    import networkx as nx
    import numba

    from kazerne.routing import network
    from kazerne.routing.isochrones import isochrone_polygons, polygons_to_wgs84
    from kazerne.routing.profiles import get_profile
    from kazerne.routing.travel import drive_times
    from kazerne.routing.zone import load_zone

    print(
        f"machine: {os.cpu_count()} cores, numba threads {numba.get_num_threads()}; "
        f"load average {os.getloadavg()[0]:.2f} (other jobs share the cores)"
    )
    res: dict = {"zone": args.zone}

    # ------------------------------------------------------------------ (a)
    captured = {}
    real_read = network._read_osm

    def capture(path):
        g = real_read(path)
        captured["G"] = g
        return g

    old_cache = os.environ.get("KAZERNE_CACHE")
    with tempfile.TemporaryDirectory(prefix="kazerne-bench-cache-") as tmp:
        os.environ["KAZERNE_CACHE"] = tmp
        network._read_osm = capture
        try:
            zone, cold = _t(load_zone, args.zone, quiet=True)
            warm_runs = [_t(load_zone, args.zone, quiet=True)[1] for _ in range(3)]
        finally:
            network._read_osm = real_read
            if old_cache is None:
                os.environ.pop("KAZERNE_CACHE", None)
            else:
                os.environ["KAZERNE_CACHE"] = old_cache
    warm = float(np.median(warm_runs))
    net = zone.net
    print(
        f"(a) zone load: cold {cold:.1f} s (osmnx parse + build, empty cache), warm {warm:.3f} s "
        f"(median of 3: {', '.join(f'{w:.3f}' for w in warm_runs)}) -> {cold / warm:.0f}x; "
        f"goal warm < 1 s: {'met' if warm < 1 else 'MISSED'}"
    )
    print(f"    network: {net.n_nodes} nodes / {net.n_edges} edges kept of {net.n_nodes_source} / {net.n_edges_source}")
    res.update(load_cold_s=round(cold, 2), load_warm_s=round(warm, 3))

    # ------------------------------------------------------------------ (b)
    prof = get_profile("fire_engine")
    rng = np.random.default_rng(args.seed)
    src = rng.choice(net.n_nodes, size=args.sources, replace=False)
    net.csr(prof)
    drive_times(net, prof, src[:2], cutoff_s=args.cutoff, engine="numba")  # load the compiled kernel
    d_numba, t_numba = _t(drive_times, net, prof, src, cutoff_s=args.cutoff, engine="numba")
    d_scipy, t_scipy = _t(drive_times, net, prof, src, cutoff_s=args.cutoff, engine="scipy")
    assert np.array_equal(np.isfinite(d_numba), np.isfinite(d_scipy)), "engines reach different nodes"
    fin = np.isfinite(d_numba)
    diff_engines = float(np.abs(d_numba[fin] - d_scipy[fin]).max())

    G, t_conv = _t(net.to_networkx, prof)
    k = min(args.nx_sources, args.sources)
    t0 = time.perf_counter()
    nx_rows = [nx.single_source_dijkstra_path_length(G, int(s), cutoff=args.cutoff, weight="time") for s in src[:k]]
    t_nx_k = time.perf_counter() - t0
    t_nx = t_nx_k * args.sources / k
    diff_nx = 0.0
    for i, row in enumerate(nx_rows):
        ref = np.full(net.n_nodes, np.inf)
        ref[list(row)] = list(row.values())
        assert np.array_equal(np.isfinite(ref), np.isfinite(d_numba[i])), "reached sets differ"
        fin = np.isfinite(ref)
        diff_nx = max(diff_nx, float(np.abs(ref[fin] - d_numba[i][fin]).max()))
    reached = float(np.isfinite(d_numba).sum(axis=1).mean())
    print(
        f"(b) matrix {args.sources} sources x {net.n_nodes} nodes, cutoff {args.cutoff:.0f} s "
        f"(mean {reached:.0f} nodes reached per source):"
    )
    print(f"    kazerne numba ({numba.get_num_threads()} threads): {t_numba:.2f} s")
    print(f"    kazerne scipy csgraph:                {t_scipy:.2f} s   -> numba is {t_scipy / t_numba:.1f}x faster")
    print(
        f"    networkx on net.to_networkx: {t_nx_k:.2f} s for {k} sources, extrapolated to {args.sources}: "
        f"{t_nx:.1f} s   -> numba is {t_nx / t_numba:.1f}x faster, scipy {t_nx / t_scipy:.1f}x "
        f"(DiGraph built in {t_conv:.2f} s, not counted)"
    )
    print(f"    max |numba - scipy| = {diff_engines:.2e} s, max |numba - networkx| = {diff_nx:.2e} s")
    res.update(
        matrix_sources=args.sources,
        matrix_cutoff_s=args.cutoff,
        matrix_numba_s=round(t_numba, 3),
        matrix_scipy_s=round(t_scipy, 3),
        matrix_networkx_s=round(t_nx, 2),
        networkx_timed_sources=k,
        networkx_extrapolated=k < args.sources,
        speedup_vs_networkx=round(t_nx / t_numba, 1),
        speedup_vs_scipy=round(t_scipy / t_numba, 2),
    )

    # networkx on osmnx's own MultiDiGraph (osmnx travel_time, not the kazerne profile: a timing
    # comparison only), sources = the same nodes found by coordinates
    Gm = captured.get("G")
    if Gm is not None:
        import osmnx as ox

        Gm = ox.routing.add_edge_travel_times(ox.routing.add_edge_speeds(Gm))
        by_xy = {(d["x"], d["y"]): n for n, d in Gm.nodes(data=True)}
        msrc = [by_xy[(float(net.lon[s]), float(net.lat[s]))] for s in src[:k]]
        t0 = time.perf_counter()
        for s in msrc:
            nx.single_source_dijkstra_path_length(Gm, s, cutoff=args.cutoff, weight="travel_time")
        t_m = (time.perf_counter() - t0) * args.sources / k
        print(
            f"    networkx on the osmnx MultiDiGraph (travel_time, {Gm.number_of_nodes()} nodes): "
            f"{t_m * k / args.sources:.2f} s for {k} sources, extrapolated {t_m:.1f} s -> numba is "
            f"{t_m / t_numba:.1f}x faster"
        )
        res.update(matrix_networkx_osmnx_multidigraph_s=round(t_m, 2))
        del Gm, captured["G"]
    ok_b = t_nx / t_numba >= 20 and t_numba < 10
    print(f"    goals >= 20x networkx and < 10 s: {'met' if ok_b else 'MISSED'}")

    # ------------------------------------------------------------------ (c)
    posts = [f"P{i:02d}" for i in range(1, 15)]
    minutes = [8, 10, 12, 15]
    t0 = time.perf_counter()
    n_polys = 0
    for pid in posts:
        p = zone.pack.post(pid)
        node = zone.site_node(p.lon, p.lat, what=pid)
        turnout = 60.0 if p.crew == "professional" else 300.0
        polys = polygons_to_wgs84(isochrone_polygons(net, prof, node, turnout, minutes))
        n_polys += sum(not g.is_empty for g in polys)
    t_iso = time.perf_counter() - t0
    print(
        f"(c) isochrones {len(posts)} posts x {len(minutes)} thresholds ({n_polys} non-empty polygons), warm: "
        f"{t_iso:.2f} s ({t_iso / len(posts):.2f} s per post); goal < 5 s: {'met' if t_iso < 5 else 'MISSED'}"
    )
    res.update(isochrones_posts=len(posts), isochrones_s=round(t_iso, 2))
    res["goals_met"] = {
        "warm_load_lt_1s": warm < 1,
        "matrix_ge_20x_networkx": t_nx / t_numba >= 20,
        "matrix_lt_10s": t_numba < 10,
        "isochrones_lt_5s": t_iso < 5,
    }
    res["load_average_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
