"""Running a scenario file: ``python run_scenario.py SCENARIO [--out DIR] [--quiet]``.

The baseline run answers "with these posts, which share of the population does the first fire
engine reach within 8, 10, 12 and 15 minutes, per municipality, and where are the worst-served
places?". Scenario files with a ``[study]`` or ``[ems]`` section run those studies instead.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from ..coverage.metrics import CoverageReport, evaluate_travel_times, worst_served
from ..demand.points import DemandPoints, demand_from_file, population_grid
from ..errors import ScenarioError
from ..jsonsafe import json_safe as _json_safe
from ..report.atomic import atomic_dir, check_output_dir, write_json
from ..report.geo import points_geojson, write_geojson
from ..report.tables import text_table, write_csv
from ..routing.travel import travel_times
from ..routing.zone import Zone, load_zone
from ..sites import Sites
from .resolve import in_file, profile_of, resolve_posts
from .schema import Scenario, parse_scenario


class Progress:
    """Stage messages on stderr (``--quiet`` silences them)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.t0 = time.perf_counter()
        self.last = self.t0
        self.timings: dict = {}

    def step(self, what: str):
        now = time.perf_counter()
        if not self.quiet:
            print(f"kazerne [{now - self.t0:6.1f} s] {what}", file=sys.stderr, flush=True)
        self.last = now

    def done(self, key: str):
        now = time.perf_counter()
        self.timings[key] = round(now - self.last, 3)
        self.last = now

    def bar(self, total: int, desc: str):
        from tqdm import tqdm
        return tqdm(total=total, desc=desc, disable=self.quiet, file=sys.stderr, leave=False)


@dataclass
class Context:
    """Everything loaded for a scenario: zone, profile, demand."""

    sc: Scenario
    zone: Zone
    profile: object
    demand: DemandPoints
    thresholds_s: np.ndarray


def load_context(sc: Scenario, progress: Progress) -> Context:
    progress.step(f"loading zone {sc.zone}")
    with in_file(sc.path):
        zone = load_zone(sc.zone, quiet=progress.quiet)
    progress.done("load_zone")
    profile = profile_of(sc)
    progress.step("building demand points")
    with in_file(sc.path):
        if "file" in sc.demand:
            demand = demand_from_file(zone, sc.demand["file"], max_snap_m=sc.demand["max_snap_m"])
        else:
            kw = {k: sc.demand[k] for k in ("road_classes", "density_exponent", "density_radius_m", "max_density_km2")
                  if k in sc.demand}
            demand = population_grid(zone, cell_m=sc.demand["grid_m"], max_snap_m=sc.demand["max_snap_m"], **kw)
    progress.done("demand")
    w = demand.weight[~demand.no_road_data]
    if not (w.sum() > 0):
        fld = "demand.file" if "file" in sc.demand else "demand.grid_m"
        raise ScenarioError(f"the demand has no weight where there is road data ({len(demand)} points, total weight "
                            f"{float(demand.weight.sum()):g}, {int(demand.no_road_data.sum())} without road data); "
                            f"expected some positive weight to measure coverage against", source=str(sc.path),
                            field=fld)
    return Context(sc=sc, zone=zone, profile=profile, demand=demand,
                   thresholds_s=np.array(sc.thresholds_min, dtype=float) * 60.0)


def assumptions(ctx: Context, posts: Sites | None = None) -> dict:
    """What produced the numbers: road data and date, speed profile, turnout, population model."""
    z = ctx.zone
    out = {
        "zone": z.name,
        "road_data": {**z.net.describe(), "note": "OpenStreetMap extract; newer roads are absent"},
        "road_data_date": z.pack.road_data_date,
        "network_gap": "points inside the pack's network-gap polygon or > "
                       f"{ctx.demand.meta.get('max_snap_m', 500):g} m from a road are no_road_data: "
                       "reported apart, never counted as covered or uncovered",
        "speed_profile": ctx.profile.describe(),
        "turnout_s_by_crew": dict(ctx.sc.turnout_s),
        "population_model": ctx.demand.model,
        "population_year": z.pack.population_year,
        "population_total_pack": z.pack.total_population,
        "thresholds_min": list(ctx.sc.thresholds_min),
        "response_time": "turnout + driving time from the post to the nearest road node of the demand point",
    }
    if posts is not None:
        out["turnout_s_by_post"] = {i: float(t) for i, t in zip(posts.ids, posts.turnout_s)}
    return out


def post_times(ctx: Context, posts: Sites):
    """The posts' response times (turnout + drive, s) to the demand and to every network node."""
    return travel_times(ctx.zone, posts, ctx.demand, ctx.profile, keep_nodes=True)


def evaluate_posts(ctx: Context, posts: Sites) -> tuple[CoverageReport, np.ndarray]:
    """Coverage of ``posts`` at the scenario's thresholds, and the times to every node (first-due areas)."""
    tt = post_times(ctx, posts)
    return evaluate_travel_times(tt, ctx.demand, ctx.sc.thresholds_min), tt.node_seconds


def _mins(s):
    return None if s is None or not np.isfinite(s) else round(float(s) / 60.0, 2)


def headline(rep: CoverageReport, th_min) -> dict:
    return {
        "population_with_road_data": rep.total_weight,
        "population_no_road_data": rep.no_road_data_weight,
        "share_within": {f"{t:g}": float(s) for t, s in zip(th_min, rep.zone_share)},
        "population_within": {f"{t:g}": float(s) for t, s in zip(th_min, rep.zone_weight_within)},
        "population_no_second_unit_within": {f"{t:g}": float(s) for t, s in zip(th_min, rep.zone_no_second)},
        "mean_response_min": _mins(rep.mean_s),
        "p90_response_min": _mins(rep.p90_s),
        "population_unreachable": rep.unreached_weight,
    }


def municipality_rows(rep: CoverageReport, th_min) -> list[dict]:
    rows = []
    for m in rep.municipalities:
        r = {"municipality": m["municipality"], "population": round(m["population"], 1),
             "no_road_data": round(m["no_road_data"], 1)}
        for t, s in zip(th_min, m["share_within"]):
            r[f"share_within_{t:g}min"] = s
        for t, s in zip(th_min, m["no_second_within"]):
            r[f"no_second_unit_{t:g}min"] = round(s, 1)
        r["mean_min"] = _mins(m["mean_s"])
        r["p90_min"] = _mins(m["p90_s"])
        rows.append(r)
    return rows


def run_baseline(sc: Scenario, out_root: Path, progress: Progress) -> Path:
    ctx = load_context(sc, progress)
    progress.step("placing posts on the network")
    posts = resolve_posts(ctx.zone, sc)
    progress.done("posts")
    progress.step(f"response times from {len(posts)} posts")
    rep, node_t = evaluate_posts(ctx, posts)
    progress.done("travel_and_metrics")
    th = list(sc.thresholds_min)
    d = ctx.demand

    post_rows = []
    for i, r in enumerate(posts.rows()):
        r.update({"first_due_population": round(rep.sites[i]["first_due_weight"], 1),
                  "first_due_points": rep.sites[i]["first_due_points"],
                  "first_due_area_km2": rep.sites[i]["first_due_area_km2"]})
        post_rows.append(r)
    worst = worst_served(rep, d.weight, n=sc.worst_n)
    worst_rows = [{"rank": k + 1, "municipality": d.municipality_names[d.municipality[i]],
                   "lon": round(float(d.lon[i]), 6), "lat": round(float(d.lat[i]), 6),
                   "population": round(float(d.weight[i]), 1), "first_min": _mins(rep.first_s[i]),
                   "first_post": posts.ids[rep.first_site[i]] if rep.first_site[i] >= 0 else None,
                   "second_min": _mins(rep.second_s[i])} for k, i in enumerate(worst)]
    progress.step("auditing the road network")
    from ..routing.audit import audit
    aud = audit(ctx.zone, ctx.profile, posts=list(zip(posts.ids, posts.node.tolist())), demand=d,
                sources_per_municipality=10, targets_per_source=10)
    progress.done("audit")
    ok = np.isfinite(rep.first_s) & (rep.first_site >= 0) & ~d.no_road_data
    drive = rep.first_s[ok] - posts.turnout_s[rep.first_site[ok]]
    mean_drive = float(np.average(drive, weights=d.weight[ok])) if ok.any() and d.weight[ok].sum() > 0 else None
    summary = {
        "kazerne_version": __version__,
        "scenario": {"name": sc.name, "file": str(sc.path), "description": sc.description},
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "assumptions": assumptions(ctx, posts),
        "road_network_audit": {**aud.headline(), "posts": aud.posts},
        "mean_drive_min_first_unit": _mins(mean_drive),
        "demand": {"points": len(d), "population": d.total, "no_road_data_points": int(d.no_road_data.sum()),
                   "no_road_data_population": d.total_no_road_data, "notes": d.meta.get("notes", {})},
        "posts": post_rows,
        "zone": headline(rep, th),
        "municipalities": municipality_rows(rep, th),
        "worst_served": worst_rows,
        "timings_s": progress.timings,
    }
    progress.step("writing outputs")
    target = out_root / sc.name
    with atomic_dir(target) as tmp:
        write_json(tmp / "summary.json", _json_safe(summary))
        write_csv(tmp / "municipalities.csv", summary["municipalities"])
        write_csv(tmp / "posts.csv", post_rows)
        write_csv(tmp / "worst.csv", worst_rows, columns=["rank", "municipality", "lon", "lat", "population",
                                                          "first_min", "first_post", "second_min"])
        if sc.outputs.get("geojson", True):
            pid = np.array(posts.ids + [""], dtype=object)
            points_geojson(tmp / "demand.geojson", d.lon, d.lat, {
                "population": np.round(d.weight, 2),
                "municipality": np.array(d.municipality_names, dtype=object)[d.municipality],
                "first_min": np.round(rep.first_s / 60, 2), "first_post": pid[rep.first_site],
                "second_min": np.round(rep.second_s / 60, 2), "second_post": pid[rep.second_site],
                "no_road_data": d.no_road_data, "snap_m": np.round(d.snap_m, 1)},
                metadata={"assumptions": _json_safe(summary["assumptions"])})
        if sc.outputs.get("first_due_areas", True):
            write_first_due(tmp / "first_due.geojson", ctx, posts, node_t, summary["assumptions"])
        from ..report.council import write_baseline_outputs
        write_baseline_outputs(tmp, ctx, posts, rep, node_t, summary, **report_options(sc))
    progress.done("write")
    if not progress.quiet:
        print_summary(summary, th)
    return target


def report_options(sc: Scenario) -> dict:
    """What the scenario's ``[outputs]`` asks of the report writers (maps, report.html, layers.gpkg)."""
    o = sc.outputs
    return {"maps": o.get("map", True), "report": o.get("report", True), "gpkg": o.get("gpkg", True),
            "epsg": int(o.get("gpkg_epsg", 31370))}


def write_first_due(path, ctx: Context, posts: Sites, node_t: np.ndarray, assumptions_: dict) -> None:
    from ..routing.isochrones import first_due_areas, polygons_to_wgs84
    first = np.where(np.isfinite(node_t).any(axis=0), np.argmin(node_t, axis=0), -1)
    areas = first_due_areas(ctx.zone.net, first, ctx.zone.zone_metric, gap_metric=ctx.zone.gap_metric)
    recs = []
    for k, g in areas.items():
        (gw,) = polygons_to_wgs84([g])
        recs.append({"post": posts.ids[k] if k >= 0 else None,
                     "name": posts.names[k] if k >= 0 else "no road data",
                     "area_km2": round(g.area / 1e6, 3), "geometry": gw})
    write_geojson(path, recs, metadata={"assumptions": _json_safe(assumptions_)})


def print_summary(summary: dict, th) -> None:
    z = summary["zone"]
    a = summary["assumptions"]
    print(f"\n{summary['scenario']['name']}: {len(summary['posts'])} posts, zone {a['zone']}")
    print(f"road data {a['road_data']['source']} ({a['road_data_date']}), profile {a['speed_profile']['name']}"
          f"{' (' + a['speed_profile']['period'] + ')' if a['speed_profile']['period'] else ''}, "
          f"turnout {a['turnout_s_by_crew']} s, population {a['population_year']}")
    print(f"population {z['population_with_road_data']:,.0f} with road data; "
          f"{z['population_no_road_data']:,.0f} without (not counted)\n")
    rows = [["zone", round(z["population_with_road_data"])] +
            [f"{100 * z['share_within'][f'{t:g}']:.1f}%" for t in th] +
            [z["mean_response_min"], z["p90_response_min"]]]
    for m in summary["municipalities"]:
        rows.append([m["municipality"], round(m["population"])] +
                    [("" if m[f"share_within_{t:g}min"] is None else f"{100 * m[f'share_within_{t:g}min']:.1f}%")
                     for t in th] + [m["mean_min"], m["p90_min"]])
    print(text_table(rows, ["", "population"] + [f"≤{t:g} min" for t in th] + ["mean min", "p90 min"]))
    if summary.get("mean_drive_min_first_unit") is not None:
        print(f"\nmean driving time of the first unit (population-weighted, no turnout): "
              f"{summary['mean_drive_min_first_unit']:.2f} min")
    au = summary.get("road_network_audit")
    if au:
        med = au["detour_median_by_municipality"]
        print(f"road network audit: {au['nodes_dropped_outside_largest_component']} nodes outside the largest "
              f"component, {au['near_coincident_node_pairs']} unjoined near-coincident node pairs, detour "
              f"index median {min(med.values()):.2f}-{max(med.values()):.2f} by municipality")
        for w in au["warnings"]:
            print(f"WARNING: {w}")
            print(f"kazerne: warning: {w}", file=sys.stderr)
    print()


def run_file(path, out_root="out", quiet=False) -> Path:
    """Run a scenario file; results in ``out_root/<name>/``.

    The file is read and validated completely, and the output folder checked (writable, not
    something kazerne did not write), before anything is computed.
    """
    sc = parse_scenario(path)
    check_output_dir(Path(out_root) / sc.name)
    progress = Progress(quiet)
    if sc.study:
        from .studies import run_study
        return run_study(sc, Path(out_root), progress)
    if sc.ems:
        from .ems import run_ems
        return run_ems(sc, Path(out_root), progress)
    return run_baseline(sc, Path(out_root), progress)


def run_main(args) -> int:
    target = run_file(args.scenario, args.out, args.quiet)
    if not args.quiet:
        print(f"outputs in {target}/", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="run_scenario.py", description="Run a kazerne scenario file (TOML)")
    ap.add_argument("scenario")
    ap.add_argument("--out", default="out", help="output folder (default: out/); results go to OUT/<name>/")
    ap.add_argument("--quiet", action="store_true", help="no progress or table on the terminal")
    args = ap.parse_args(argv)
    from ..cli import guarded
    return guarded(run_main, args)
