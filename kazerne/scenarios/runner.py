"""Running a scenario file: ``python run_scenario.py SCENARIO [--out DIR] [--quiet]``.

The baseline run answers "with these posts, which share of the population does the first fire
engine reach within 8, 10, 12 and 15 minutes, per municipality, and where are the worst-served
places?". Scenario files with a ``[study]`` or ``[ems]`` section run those studies instead.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path

import numpy as np

from .. import __version__
from ..coverage.metrics import CoverageReport, evaluate_travel_times, worst_served
from ..jsonsafe import json_safe as _json_safe
from ..report.atomic import atomic_dir, check_output_dir, write_json
from ..report.geo import points_geojson
from ..report.tables import pct, text_table, write_csv
from ..routing.travel import travel_times
from ..sites import Sites
from .context import (  # noqa: F401
    Context,
    Progress,
    assumptions,
    first_due,
    headline,
    load_context,
    mins,
    municipality_rows,
    report_options,
    write_first_due,
)
from .resolve import resolve_posts
from .schema import Scenario, parse_scenario


def post_times(ctx: Context, posts: Sites):
    """The posts' response times from the call (call handling + turnout + drive, s) to the demand and
    to every network node."""
    return travel_times(
        ctx.zone, posts, ctx.demand, ctx.profile, keep_nodes=True, call_handling_s=ctx.sc.call_handling_s
    )


def evaluate_posts(ctx: Context, posts: Sites) -> tuple[CoverageReport, np.ndarray]:
    """Coverage of ``posts`` at the scenario's thresholds, and the times to every node (first-due areas)."""
    tt = post_times(ctx, posts)
    return evaluate_travel_times(tt, ctx.demand, ctx.sc.thresholds_min), tt.node_seconds


def run_baseline(sc: Scenario, out_root: Path, progress: Progress) -> Path:
    ctx = load_context(sc, progress)
    progress.step("placing posts on the network")
    posts = resolve_posts(ctx.zone, sc)
    progress.done("posts")
    progress.step(f"response times from {len(posts)} posts")
    from ..calibration.uncertainty import headline_interval

    resp = None
    scenario_posts = posts
    if sc.response is None:
        tt = post_times(ctx, posts)
        rep, node_t = evaluate_travel_times(tt, ctx.demand, sc.thresholds_min), tt.node_seconds
    else:  # from the call: call handling, turnout distributions, time slices (kazerne.response)
        from .slices import response_baseline

        posts, rep, node_t, resp = response_baseline(ctx, posts, progress)
        tt = post_times(ctx, posts)  # the table's headline: every turnout at its median
    interval = headline_interval(tt, ctx.demand, sc.thresholds_min, sc.call_handling_s, posts.crew, ctx.profile)
    if resp is not None:
        interval["note"] = (
            "for the table's headline (every turnout at its median, the scenario's speeds); each time slice and "
            "the mix carry their own (response_model)"
        )
    progress.done("travel_and_metrics")
    th = list(sc.thresholds_min)
    d = ctx.demand

    areas = first_due(ctx, node_t, rep.first_site)  # one set of areas: posts.csv, geojson, gpkg
    post_rows = []
    for i, r in enumerate(posts.rows()):
        r.update(
            {
                "first_due_population": round(rep.sites[i]["first_due_weight"], 1),
                "first_due_points": rep.sites[i]["first_due_points"],
                "first_due_area_km2": round(areas[i].area / 1e6, 3) if i in areas else 0.0,
            }
        )
        post_rows.append(r)
    worst = worst_served(rep, d.weight, n=sc.worst_n)
    worst_rows = [
        {
            "rank": k + 1,
            "municipality": d.municipality_names[d.municipality[i]],
            "lon": round(float(d.lon[i]), 6),
            "lat": round(float(d.lat[i]), 6),
            "population": round(float(d.weight[i]), 1),
            "first_min": mins(rep.first_s[i]),
            "first_post": posts.ids[rep.first_site[i]] if rep.first_site[i] >= 0 else None,
            "second_min": mins(rep.second_s[i]),
        }
        for k, i in enumerate(worst)
    ]
    progress.step("auditing the road network")
    from ..routing.audit import audit

    aud = audit(
        ctx.zone,
        ctx.profile,
        posts=list(zip(posts.ids, posts.node.tolist(), posts.turnout_s.tolist())),
        demand=d,
        sources_per_municipality=10,
        targets_per_source=10,
    )
    progress.done("audit")
    progress.step("vehicles, full first turnout, neighbouring posts")
    from .fleet import fleet_outputs

    fleet = fleet_outputs(ctx, posts)
    progress.done("fleet")
    ok = np.isfinite(rep.first_s) & (rep.first_site >= 0) & ~d.no_road_data
    drive = rep.first_s[ok] - posts.turnout_s[rep.first_site[ok]] - sc.call_handling_s
    mean_drive = float(np.average(drive, weights=d.weight[ok])) if ok.any() and d.weight[ok].sum() > 0 else None
    summary = {
        "kazerne_version": __version__,
        "scenario": {"name": sc.name, "file": str(sc.path), "description": sc.description},
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "assumptions": assumptions(ctx, posts),
        "road_network_audit": {**aud.headline(), "posts": aud.posts},
        "mean_drive_min_first_unit": mins(mean_drive),
        "demand": {
            "points": len(d),
            "population": d.total,
            "no_road_data_points": int(d.no_road_data.sum()),
            "no_road_data_population": d.total_no_road_data,
            "gap_shadow": d.meta.get("gap_shadow", {}),
            "notes": d.meta.get("notes", {}),
        },
        "posts": post_rows,
        "zone": headline(rep, th),
        "comparison_with_published_figures": (
            "incident-weighted ([demand] incidents): like for like with the published Belgian mean from the call "
            "(11:25 in 2019, over incidents)"
            if d.meta.get("weighting") == "incidents"
            else "population-weighted: NOT like for like with the published Belgian mean from the call (11:25 in "
            "2019), which is over incidents; [demand] incidents = RECORDS or kazerne validate give that figure"
        ),
        "uncertainty": interval,
        "municipalities": municipality_rows(rep, th),
        "worst_served": worst_rows,
        "fleet": fleet.summary,
        "timings_s": progress.timings,
    }
    if resp is not None:
        from .slices import assumption_updates

        summary["assumptions"].update(assumption_updates(resp))
        summary["response_model"] = resp
    effects = None
    if sc.network["changes"]:
        from .effect import effect_summary, network_effect

        progress.step("effect of the road changes (the same scenario without them)")
        effects = network_effect(ctx, posts, scenario_posts)
        if effects:
            summary["network_effect"] = effect_summary(effects)
        progress.done("network_effect")
    progress.step("writing outputs")
    target = out_root / sc.name
    with atomic_dir(target) as tmp:
        write_json(tmp / "summary.json", _json_safe(summary))
        write_csv(tmp / "municipalities.csv", summary["municipalities"])
        write_csv(tmp / "posts.csv", post_rows)
        fleet.write(tmp)
        if resp is not None:
            from .slices import slice_rows

            write_csv(tmp / "slices.csv", slice_rows(resp, th))
        write_csv(
            tmp / "worst.csv",
            worst_rows,
            columns=["rank", "municipality", "lon", "lat", "population", "first_min", "first_post", "second_min"],
        )
        if sc.outputs.get("geojson", True):
            pid = np.array(posts.ids + [""], dtype=object)
            points_geojson(
                tmp / "demand.geojson",
                d.lon,
                d.lat,
                {
                    "population": np.round(d.weight, 2),
                    "municipality": np.array(d.municipality_names, dtype=object)[d.municipality],
                    "first_min": np.round(rep.first_s / 60, 2),
                    "first_post": pid[rep.first_site],
                    "second_min": np.round(rep.second_s / 60, 2),
                    "second_post": pid[rep.second_site],
                    "no_road_data": d.no_road_data,
                    "snap_m": np.round(d.snap_m, 1),
                },
                metadata={"assumptions": _json_safe(summary["assumptions"])},
            )
        if sc.outputs.get("first_due_areas", True):
            write_first_due(tmp / "first_due.geojson", ctx, posts, areas, summary["assumptions"], rep.first_site)
        from ..report.council import write_baseline_outputs

        extra: dict = {}
        if effects:
            from .effect import effect_outputs

            extra = effect_outputs(tmp, ctx, effects, summary, report_options(sc))
        write_baseline_outputs(tmp, ctx, posts, rep, node_t, summary, first_due=areas, **report_options(sc), **extra)
    progress.done("write")
    return target


def time_line(a: dict, response_model: bool = False) -> str:
    """The console's line on what the times measure (from the call, or from the alarm)."""
    ch = a.get("call_handling_s")
    if ch is None:  # a run of kazerne before 0.3
        return "times from the alarm at the post: turnout + driving (no call handling)"
    if ch == 0:
        return "times FROM THE ALARM at the post (call_handling_s = 0): turnout + driving"
    return (
        f"times FROM THE 112 CALL: call handling {ch:g} s + turnout + driving; every threshold counts from the call"
        + (
            " (table below: every turnout at its median; expected shares per time slice further down)"
            if response_model
            else ""
        )
    )


def print_summary(summary: dict, th) -> None:
    z = summary["zone"]
    a = summary["assumptions"]
    print(f"\n{summary['scenario']['name']}: {len(summary['posts'])} posts, zone {a['zone']}")
    print(
        f"road data {a['road_data']['source']} ({a['road_data_date']}), profile {a['speed_profile']['name']}"
        f"{' (' + a['speed_profile']['period'] + ')' if a['speed_profile']['period'] else ''}, "
        f"turnout {a['turnout_s_by_crew']} s, population {a['population_year']}"
    )
    print(time_line(a, summary.get("response_model") is not None))
    print(
        f"population {z['population_with_road_data']:,.0f} with road data; "
        f"{z['population_no_road_data']:,.0f} without (not counted)\n"
    )
    rows = [
        ["zone", round(z["population_with_road_data"])]
        + [pct(z["share_within"][f"{t:g}"]) for t in th]
        + [z["mean_response_min"], z["p90_response_min"]]
    ]
    for m in summary["municipalities"]:
        rows.append(
            [m["municipality"], round(m["population"])]
            + [("" if m[f"share_within_{t:g}min"] is None else pct(m[f"share_within_{t:g}min"])) for t in th]
            + [m["mean_min"], m["p90_min"]]
        )
    print(text_table(rows, ["", "population"] + [f"≤{t:g} min" for t in th] + ["mean min", "p90 min"]))
    from .effect import effect_console

    for line in effect_console(summary):
        print(line)
    unc = summary.get("uncertainty") or {}
    if unc.get("share_within"):
        cells = ", ".join(
            f"≤{t:g} min {100 * unc['share_within'][f'{t:g}'][0]:.1f}-{100 * unc['share_within'][f'{t:g}'][1]:.1f}%"
            for t in th
        )
        lo, hi = unc["mean_response_min"]
        r = unc["ranges"]
        src = (
            "the calibration's standard errors (x1.96)"
            if r["source"] == "calibration"
            else f"default ranges: speed x{r['speed_factor'][0]:g}-{r['speed_factor'][1]:g}, call handling "
            f"{r['call_handling_s'][0]:g}-{r['call_handling_s'][1]:g} s, turnout x{r['turnout_factor'][0]:g}-"
            f"{r['turnout_factor'][1]:g}"
        )
        print(
            "\ninterval of the zone's headline"
            f" from the parameters' uncertainty ({src}): {cells}; mean {lo:.2f}-{hi:.2f} min"
        )
    if str(a.get("population_model", "")).startswith("incidents"):
        print(
            "these shares and means are incident-weighted ([demand] incidents): like for like with the published "
            "Belgian mean over incidents (11:25 from the call, 2019), for the incidents of these records"
        )
    else:
        print(
            "these shares and means are population-weighted; the published Belgian mean (11:25 from the call, 2019) "
            "is over incidents: not like for like ([demand] incidents = RECORDS, or kazerne validate RECORDS "
            "SCENARIO, give the incident-weighted figure)"
        )
    if isinstance(summary.get("mean_drive_min_first_unit"), (int, float)):
        print(
            f"\nmean driving time of the first unit (population-weighted, no turnout): "
            f"{summary['mean_drive_min_first_unit']:.2f} min"
        )
    if summary.get("fleet"):
        from .fleet import fleet_text

        print("\n" + fleet_text(summary["fleet"]))
    if summary.get("response_model"):
        from .slices import print_response

        print_response(summary["response_model"], th)
    au = summary.get("road_network_audit")
    if au:
        med = [m for m in au["detour_median_by_municipality"].values() if isinstance(m, (int, float))]
        print(
            f"road network audit: {au['nodes_dropped_outside_largest_component']} nodes outside the largest "
            f"component, {au['near_coincident_node_pairs']} unjoined near-coincident node pairs, detour "
            + (f"index median {min(med):.2f}-{max(med):.2f} by municipality" if med else "index not measured")
        )
        for w in au["warnings"]:
            print(f"WARNING: {w}")
            print(f"kazerne: warning: {w}", file=sys.stderr)
    print()


def run_scenario(sc: Scenario, out_root: Path, progress: Progress) -> Path:
    """Run a parsed scenario: its ``[study]`` (:func:`kazerne.scenarios.studies.run_study`), its
    ``[ems]`` (:func:`kazerne.scenarios.ems.run_ems`) or the baseline; results in ``out_root/<name>/``.
    The scenario runner, the batch runner and the API all go through here."""
    from .kinds import kind_of, run_kind

    own = kind_of(sc)
    if own is not None:
        return run_kind(own[0], own[1], sc, Path(out_root), progress)
    if sc.study:
        from .studies import run_study

        return run_study(sc, Path(out_root), progress)
    if sc.ems:
        from .ems import run_ems

        return run_ems(sc, Path(out_root), progress)
    return run_baseline(sc, Path(out_root), progress)


def run_file(path, out_root="out", quiet=True) -> Path:
    """Run a scenario file; results in ``out_root/<name>/`` (``kz.run_scenario``).

    The file is read and validated completely, and the output folder checked (writable, not
    something kazerne did not write), before anything is computed. Nothing is printed; with
    ``quiet=False`` progress goes to stderr.
    """
    sc = parse_scenario(path)
    check_output_dir(Path(out_root) / sc.name)
    return run_scenario(sc, Path(out_root), Progress(quiet))


def print_run(target: Path) -> None:
    """The answer of a finished run (its ``summary.json``) on the terminal: the command line's view."""
    import json

    from .kinds import get_kind, kind_names

    summary = json.loads((Path(target) / "summary.json").read_text(encoding="utf-8"))
    if summary.get("kind") in kind_names():
        for line in get_kind(summary["kind"]).console(summary):
            print(line)
    elif "study" in summary:
        from .studies import print_study

        print_study(summary)
    elif "ems" in summary:
        from .ems import print_ems

        print_ems(summary)
    else:
        print_summary(summary, sorted(float(t) for t in summary["zone"]["share_within"]))


def run_main(args) -> int:
    target = run_file(args.scenario, args.out, args.quiet)
    if not args.quiet:
        print_run(target)
        print(f"outputs in {target}/", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="run_scenario.py", description="Run a kazerne scenario file (TOML)")
    ap.add_argument("scenario")
    ap.add_argument("--out", default="out", help="output folder (default: out/); results go to OUT/<name>/")
    ap.add_argument("--quiet", action="store_true", help="no progress or table on the terminal")
    args = ap.parse_args(argv)
    from ..console import guarded

    return guarded(run_main, args, quiet=args.quiet)
