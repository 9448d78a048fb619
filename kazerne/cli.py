"""Command line: ``kazerne run | batch | compare | criticality | simulate | calibrate | validate |
synthetic-records | solve | isochrones | route | audit | fetch-zone | build-pack``.

User mistakes (:class:`kazerne.errors.KazerneError`) print one line on stderr and exit with 2,
without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .console import Terminated, guarded, one_line  # noqa: F401  (re-exported)


def _cmd_isochrones(args) -> int:
    from .clock import Clock
    from .errors import OutputError, ScenarioError
    from .report.geo import write_geojson
    from .routing.isochrones import isochrone_polygons, polygons_to_wgs84
    from .routing.profiles import get_profile
    from .routing.zone import load_zone
    from .sites import crew_type

    try:
        minutes = [float(m) for m in args.minutes.split(",") if m.strip()]
    except ValueError:
        raise ScenarioError(
            f"expected comma-separated minutes like 8,10,12,15, got {args.minutes!r}", field="--minutes"
        ) from None
    if not minutes or any(not 0 < m <= 240 for m in minutes):
        raise ScenarioError(f"expected thresholds > 0 and <= 240 minutes, got {args.minutes!r}", field="--minutes")
    for flag, v in (("--turnout", args.turnout), ("--call-handling", args.call_handling)):
        if v is not None and not 0 <= v <= 3600:
            raise ScenarioError(f"expected seconds from 0 to 3600, got {v!r}", field=flag)
    if args.origin != "call" and args.call_handling is not None:
        raise ScenarioError(f"is for times from the call; with --from {args.origin} drop it", field="--call-handling")
    if args.origin == "drive" and args.turnout is not None:
        raise ScenarioError("is not counted with --from drive (driving alone); drop it", field="--turnout")
    clock = Clock.from_args(args.call_handling, args.turnout)
    if args.origin != "call":
        clock = clock.with_call_handling(0.0)
    out = Path(args.output)
    if out.is_dir():
        raise OutputError(
            "is a folder; expected the path of a GeoJSON file to write", source=str(out), field="--output"
        )
    zone = load_zone(args.zone, quiet=args.quiet)
    profile = get_profile(args.profile)
    feats = []
    for pid in args.post:
        try:
            site = zone.pack.site(pid)
        except KeyError:
            known = ", ".join(p.id for p in zone.pack.posts)
            raise ScenarioError(f"unknown post {pid!r}; known: {known}", field="--post") from None
        node = zone.site_node(site.lon, site.lat, what=f"post {pid}")
        turnout = 0.0 if args.origin == "drive" else clock.turnout_s(crew_type(site.crew))
        metric = isochrone_polygons(
            zone.net, profile, node, turnout, minutes, call_handling_s=clock.call_handling_s, gap_metric=zone.gap_metric
        )
        for m, g, gm in zip(sorted(minutes), polygons_to_wgs84(metric), metric):
            feats.append(
                {
                    "post": pid,
                    "name": site.name,
                    "within_min": m,
                    "area_km2": round(gm.area / 1e6, 3),
                    "counts_from": args.origin,
                    "call_handling_s": clock.call_handling_s,
                    "turnout_s": turnout,
                    "profile": profile.name,
                    "geometry": g,
                }
            )
    assumptions = {
        "road_data": zone.net.describe(),
        "profile": profile.name,
        **clock.definition(),
        "counts_from": args.origin,
        "note": clock.label("isochrone", origin=args.origin)
        + ", buffered 100 m, the no-road-data area cut out; valid MultiPolygons, no part or hole under 1 ha",
    }
    try:
        write_geojson(out, feats, metadata=assumptions)
    except OSError as exc:
        raise OutputError(f"cannot write the file ({exc.strerror or exc})", source=str(out), field="--output") from None
    if not args.quiet:
        print(
            f"wrote {len(feats)} isochrones to {args.output} ({clock.label('isochrone', origin=args.origin)})",
            file=sys.stderr,
        )
    return 0


def _lonlat(text: str):
    """``(lon, lat)`` when ``text`` is ``LON,LAT`` (numbers), else ``None``."""
    parts = text.split(",")
    if len(parts) != 2:
        return None
    try:
        return float(parts[0]), float(parts[1])
    except ValueError:
        return None


def _site_arg(zone, text: str, what: str):
    """A post / site id of the pack, or ``LON,LAT``: ``(label, point on its street)`` — a site stands
    on its public road, a place on the street nearest it (issue 23)."""
    from .errors import ScenarioError
    from .routing.snapping import edge_point

    parts = text.split(",")
    if len(parts) == 2:
        try:
            lonlat: tuple[float, float] | None = (float(parts[0]), float(parts[1]))
        except ValueError:
            lonlat = None
        if lonlat is not None:
            lon, lat = lonlat
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ScenarioError(f"expected LON,LAT in degrees, got {text!r}", field=what)
            return f"{lon:.6f},{lat:.6f}", zone.street_point(lon, lat, what=what)
    try:
        site = zone.pack.site(text)
    except KeyError:
        known = ", ".join(p.id for p in zone.pack.posts)
        raise ScenarioError(f"expected a post id ({known}) or LON,LAT, got {text!r}", field=what) from None
    node, e, f, dist = zone.site_point(site.lon, site.lat, what=what)
    return f"{site.id} {site.name}", edge_point(zone.net, node, e, f, dist)


def _cmd_route(args) -> int:
    from .errors import OutputError
    from .report.atomic import write_json
    from .report.tables import text_table
    from .routing.profiles import get_profile
    from .routing.routes import route
    from .routing.zone import load_zone

    if args.output and Path(args.output).is_dir():
        raise OutputError(
            "is a folder; expected the path of a GeoJSON file to write", source=args.output, field="--output"
        )
    zone = load_zone(args.zone, quiet=args.quiet)
    profile = get_profile(args.profile)
    a_label, a = _site_arg(zone, args.from_, "--from")
    b_label, b = _site_arg(zone, args.to, "--to")
    r = route(zone.net, profile, a, b)  # from and to the points on their streets (issue 23)
    rows = [
        [
            leg.street,
            leg.road_class,
            f"{leg.length_m:.0f}",
            f"{leg.speed_kmh:.0f}",
            f"{leg.time_s:.0f}",
            ("CONTRAFLOW (against one-way) " if leg.against_oneway else "")
            + ("emergency passage " if leg.emergency_passage else "")
            + ("direction unknown" if leg.unknown_direction else ""),
        ]
        for leg in r.legs
    ]
    s = r.summary()
    print(f"{a_label} -> {b_label}, profile {profile.name} (driving only, no turnout)")
    print(text_table(rows, ["street", "class", "m", "km/h", "s", "note"]))
    print(
        f"\ndriving time {s['drive_min']:.1f} min over {s['length_km']:.2f} km; straight line "
        f"{s['straight_km']:.2f} km; detour index {s['detour_index']:.2f}; effective speed {s['effective_kmh']:.0f} km/h"
    )
    if "starts_on" in s:
        print(
            f"starts on {s['starts_on']} ({s['starts_on_class']}), {s['starts_snap_distance_m']:.0f} m from "
            f"{'the post' if _lonlat(args.from_) is None else 'the place'}"
        )
    if "ends_on" in s:
        print(
            f"ends on {s['ends_on']} ({s['ends_on_class']}), the street nearest the "
            f"{'post' if _lonlat(args.to) is None else 'place'} ({s['snap_distance_m']:.0f} m away): "
            f"{s['partial_edge_m']:.0f} m along it from the last junction"
        )
    d = zone.net.describe()
    print(
        f"road data {d['source']} ({d['road_data_date']}); contraflow (against one-way) {s['against_oneway_m']:.0f} m, "
        f"emergency passages {s['emergency_passage_m']:.0f} m, one-way streets of unknown direction "
        f"{s['unknown_direction_m']:.0f} m"
    )
    if args.output:
        from .jsonsafe import json_safe

        feat = r.to_geojson()
        feat["properties"].update({"from": a_label, "to": b_label, "road_data": d})
        try:
            write_json(args.output, json_safe({"type": "FeatureCollection", "features": [feat]}))
        except OSError as exc:
            raise OutputError(
                f"cannot write the file ({exc.strerror or exc})", source=args.output, field="--output"
            ) from None
        if not args.quiet:
            print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _cmd_audit(args) -> int:
    from .checks import check_int
    from .demand.points import population_grid
    from .report.atomic import check_output_dir
    from .report.audit_report import write_audit
    from .report.tables import text_table
    from .routing.audit import audit
    from .routing.profiles import get_profile
    from .routing.zone import load_zone
    from .sites import Sites

    check_int(args.seed, "--seed", lo=0, hi=2**32 - 1)  # before the zone is loaded
    check_output_dir(Path(args.out) / f"audit-{Path(args.zone).name}")  # before the audit, not after
    zone = load_zone(args.zone, quiet=args.quiet)
    prof = get_profile(args.profile)
    demand = population_grid(zone, shadow_profile=prof)  # with the gap's shadow for this profile
    posts = Sites.from_posts(zone)
    rep = audit(
        zone,
        profile=prof,
        posts=posts,  # a Sites table: the audit states each post's snap distance
        demand=demand,
        seed=args.seed,
    )
    out = write_audit(rep, zone, Path(args.out) / f"audit-{zone.name}")
    n = rep.network
    print(f"road network audit of {zone.name} ({n['source']}, {n['road_data_date']}), profile {rep.profile}")
    print(
        f"largest strongly connected component: {n['nodes_kept']} of {n['nodes_source']} nodes kept "
        f"({n['nodes_dropped']} dropped), {n['edges_kept']} of {n['edges_source']} edges"
    )
    print(
        f"near-coincident unjoined node pairs (< {rep.params['near_m']:g} m): {len(rep.near_pairs)}; "
        f"facing dead ends (< {rep.params['dead_end_m']:g} m): {len(rep.facing_dead_ends)}"
    )
    print(
        f"emergency-only passages: {n['emergency_passages_km']} km; one-way streets of unknown direction "
        f"(two-way): {n['unknown_oneway_direction_km']} km of edges\n"
    )
    rows = [
        [
            m["municipality"],
            m["pairs"],
            m.get("detour_median", ""),
            m.get("detour_p95", ""),
            m.get("speed_kmh_median", ""),
            "yes" if m.get("plausible", True) else "NO",
            f"{m['urban_share']:.0%}" if m.get("urban_share") is not None else "",
            f"{(rep.gap_shadow or {}).get('municipalities', {}).get(m['municipality'], 0):,.0f}",
        ]
        for m in rep.municipalities
    ]
    print(
        text_table(
            rows,
            ["municipality", "pairs", "detour median", "detour p95", "km/h median", "plausible", "urban", "shadow"],
        )
    )
    print(f"urban: {rep.urban_rule}")
    b = rep.best_routes
    if b:
        print(
            f"fastest routes from today's posts ({b['points']} demand points): contraflow on {b['contraflow_edges']} "
            f"edges ({b['contraflow_km']} km; {b['contraflow_population']:,.0f} people's routes, "
            f"{b['contraflow_on_dual_carriageways_edges']} on dual carriageways); emergency passages "
            f"{b['passage_edges']} edges ({b['passage_km']} km; {b['passage_population']:,.0f} people's routes, "
            f"{b['track_passage_edges']} tracks) — audit_passages.csv, audit_contraflow.csv"
        )
    if rep.gap_shadow:
        print(f"gap's shadow: {rep.gap_shadow['population']:,.0f} people ({rep.gap_shadow['rule']})")
    for w in rep.warnings:
        print(f"kazerne: warning: {w}", file=sys.stderr)
    print(f"\noutputs in {out}/")
    return 0


def _cmd_build_pack(args) -> int:
    from .routing.buildpack import build_pack

    path, rep = build_pack(
        args.name,
        args.osm,
        Path(args.municipalities),
        Path(args.posts),
        Path(args.out),
        join_m=args.join_m,
        road_data_date=args.date or "",
        force=args.force,
    )
    joined = rep.joined if rep else 0
    print(f"wrote zone pack {path} ({joined} nodes joined within {args.join_m:g} m)")
    return 0


def _cmd_fetch_zone(args) -> int:
    from .routing.fetch import fetch_zone

    path = fetch_zone(args.name, args.municipality, Path(args.out), population_csv=args.population, force=args.force)
    print(f"wrote zone pack {path}")
    return 0


def _cmd_solve(argv) -> int:
    from .coverage.cli_solve import solve_main

    return solve_main(argv)


def _cmd_compare(args) -> int:
    from .report.compare import compare_runs, compare_text

    target = compare_runs(args.runs, args.out, threshold=args.threshold, name=args.name)
    import json

    meta = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    for r in meta["runs"]:
        if r.get("road_changes"):
            print(f"{r['name']}: road changes: {r['road_changes']}")
    print(compare_text(target))
    print(f"comparison of {len(args.runs)} runs in {target}/ (compare.csv, report.html, difference map)")
    return 0


def _cmd_criticality(args) -> int:
    import dataclasses

    from .errors import ScenarioError
    from .progress import Progress
    from .report.atomic import check_output_dir
    from .scenarios.criticality import CRITICALITY, criticality_spec
    from .scenarios.kinds import run_kind_result
    from .scenarios.runner import print_result
    from .scenarios.schema import Validator, parse_scenario

    sc = parse_scenario(args.scenario)
    if sc.study is not None or sc.ems is not None or (sc.kinds and "criticality" not in sc.kinds):
        raise ScenarioError(
            "expected a baseline scenario (posts, demand) or one with [criticality]", source=args.scenario
        )
    table = dict(sc.raw.get("criticality", {}))
    for key, val in (("threshold_min", args.threshold), ("top", args.top), ("pairs_top", args.pairs)):
        if val is not None:
            table[key] = val
    if args.profiles is not None:
        table["profiles"] = [p.strip() for p in args.profiles.split(",") if p.strip()]
    spec = criticality_spec(Validator("kazerne criticality (command line)"), table, "criticality")
    if "criticality" not in sc.kinds:
        sc = dataclasses.replace(sc, name=f"{sc.name}-criticality")
    check_output_dir(Path(args.out) / sc.name)
    done = run_kind_result(CRITICALITY, spec, sc, Path(args.out), Progress(args.quiet))
    if not args.quiet:
        print_result(done)
        print(f"outputs in {done.target}/", file=sys.stderr)
    return 0


def _cmd_calibrate(args) -> int:
    from .calibration.records import check_records_path
    from .progress import Progress
    from .report.atomic import check_output_dir
    from .scenarios.kinds import get_kind, run_kind_result
    from .scenarios.runner import print_result
    from .scenarios.schema import parse_scenario_data

    rec = Path(args.records).resolve()
    check_records_path(rec)  # named as the file itself, before the section is built around it
    name = f"calibration-{rec.stem}"[:100]
    prof = {"file": args.profile} if args.profile.endswith(".json") else {"name": args.profile}
    raw = {"name": name, "zone": args.zone, "profile": prof, "calibration": {"records": str(rec), "folds": args.folds}}
    sc = parse_scenario_data(raw, Path.cwd() / "kazerne-calibrate")
    out = Path(args.out)
    check_output_dir(out / name)  # before the work, not after
    kind = get_kind("calibration")
    done = run_kind_result(kind, sc.kinds["calibration"], sc, out, Progress(args.quiet))
    print_result(done)
    if not args.quiet:
        print(f"outputs in {done.target}/", file=sys.stderr)
    return 0


def _cmd_validate(args) -> int:
    from .calibration.records import check_records_path
    from .progress import Progress
    from .report.atomic import check_output_dir
    from .scenarios.kinds import get_kind
    from .scenarios.output import write_run
    from .scenarios.schema import parse_scenario
    from .scenarios.validate import ValidateSpec

    sc = parse_scenario(args.scenario)
    rec = Path(args.records).resolve()
    check_records_path(rec)  # named as the file itself
    target = Path(args.out) / f"validate-{sc.name}"
    check_output_dir(target)
    kind = get_kind("validate")  # the [validate] run kind: the scenario file, the command and the API agree
    res = kind.solve(sc, ValidateSpec(records=str(rec)), Progress(args.quiet))
    write_run(target, res.summary, res.tables)
    for line in kind.console(res.summary):
        print(line)
    if not args.quiet:
        print(f"outputs in {target}/", file=sys.stderr)
    return 0


def _cmd_synthetic(args) -> int:
    from .calibration.synthetic import DEFAULT_TRUTH, write_synthetic_records
    from .errors import OutputError
    from .routing.zone import load_zone
    from .scenarios.schema import parse_scenario

    sc = parse_scenario(args.scenario)
    out = Path(args.output)
    if out.is_dir():
        raise OutputError("is a folder; expected the path of a CSV file to write", source=str(out), field="--output")
    zone = load_zone(sc.zone, quiet=args.quiet)
    df = write_synthetic_records(out, zone, sc, n=args.n, seed=args.seed)
    bad = int((df["synthetic_defect"] != "").sum())
    t = DEFAULT_TRUTH
    print(f"wrote {len(df)} synthetic records ({args.n} incidents, {bad} with a named defect) to {out}")
    print(
        f"truth: junction delay {t.junction_delay_s:g} s, call handling {t.call_handling.label()}, turnout "
        + "; ".join(f"{k} {d.label()}" for k, d in t.turnout.items())
        + "; speed factors: "
        + "; ".join(f"{p}: " + ", ".join(f"{k} {v:g}" for k, v in f.items()) for p, f in t.factors.items())
    )
    return 0


def _cmd_run(args) -> int:
    from .scenarios.runner import run_main

    return run_main(args)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="kazerne", description="Fire post and EMS coverage engine")
    sub = ap.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="run a scenario file (TOML)")
    r.add_argument("scenario")
    r.add_argument("--out", default="out", help="output folder (default: out/)")
    r.add_argument("--quiet", action="store_true", help="no progress on stderr")

    bt = sub.add_parser("batch", help="run a batch file: sweeps of a base scenario, or a list of scenarios")
    bt.add_argument("file")
    bt.add_argument("--out", default="out", help="output folder (default: out/; results in OUT/<batch name>/)")
    bt.add_argument("--workers", type=int, default=1, help="processes (default 1: in this process)")
    bt.add_argument("--scheduler", default=None, help="a running Dask scheduler, tcp://host:port (needs kazerne[dask])")
    bt.add_argument("--dask-local", action="store_true", help="start a local Dask cluster of --workers processes")
    bt.add_argument("--dry-run", action="store_true", help="list the runs and what is already recorded; run nothing")
    bt.add_argument("--retry-failed", action="store_true", help="also re-run runs recorded as failed")
    bt.add_argument("--council", action="store_true", help="per-run maps, report.html and layers.gpkg (slow)")
    bt.add_argument("--quiet", action="store_true", help="no progress bar or summary on stderr")

    c = sub.add_parser("compare", help="compare finished runs side by side (table, difference map, HTML, CSV)")
    c.add_argument("runs", nargs="+", help="run folders (out/NAME); the first is the reference")
    c.add_argument("--out", default="out", help="output folder (default: out/; results in OUT/compare-A-vs-B/)")
    c.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="minutes for the map and the headline (default: the middle report threshold)",
    )
    c.add_argument("--name", default=None, help="name of the result folder")

    cr = sub.add_parser("criticality", help="rank the street segments by the coverage lost if each were closed")
    cr.add_argument("scenario", help="a baseline scenario (its posts, demand, road changes) or one with [criticality]")
    cr.add_argument("--threshold", type=float, default=None, help="minutes from the call (default 12)")
    cr.add_argument("--profiles", default=None, help="comma-separated (default fire_engine,ambulance)")
    cr.add_argument("--top", type=int, default=None, help="stretches listed per profile (default 20)")
    cr.add_argument("--pairs", type=int, default=None, help="top stretches closed two by two (default 6)")
    cr.add_argument("--out", default="out", help="output folder (default: out/; results in OUT/<name>-criticality/)")
    cr.add_argument("--quiet", action="store_true")

    i = sub.add_parser("isochrones", help="isochrone polygons of posts as GeoJSON")
    i.add_argument("--zone", required=True)
    i.add_argument("--post", required=True, action="append", help="post id (repeatable)")
    i.add_argument("--minutes", default="8,10,12,15")
    i.add_argument("--profile", default="fire_engine")
    i.add_argument(
        "--turnout",
        type=float,
        default=None,
        help="turnout seconds (default by crew type, the medians of kazerne.clock.DEFAULT_TURNOUT_DIST)",
    )
    i.add_argument(
        "--from",
        dest="origin",
        choices=("call", "alarm", "drive"),
        default="call",
        help="what the minutes count from: the 112 call (default: call handling + turnout + driving), the alarm "
        "at the post (turnout + driving) or driving alone",
    )
    i.add_argument(
        "--call-handling", type=float, default=None, help="call handling seconds with --from call (default 90)"
    )
    i.add_argument("-o", "--output", required=True)
    i.add_argument("--quiet", action="store_true")

    rt = sub.add_parser("route", help="the fastest route between two places, street by street")
    rt.add_argument("--zone", required=True)
    rt.add_argument("--from", dest="from_", required=True, help="post id or LON,LAT")
    rt.add_argument("--to", required=True, help="post id or LON,LAT")
    rt.add_argument("--profile", default="fire_engine")
    rt.add_argument("-o", "--output", default=None, help="write the route as GeoJSON")
    rt.add_argument("--quiet", action="store_true")

    au = sub.add_parser("audit", help="plausibility audit of a zone's road network")
    au.add_argument("--zone", required=True)
    au.add_argument("--profile", default="fire_engine")
    au.add_argument("--seed", type=int, default=20261201, help="seed of the random pairs")
    au.add_argument("--out", default="out", help="output folder (default: out/; results in OUT/audit-ZONE/)")
    au.add_argument("--quiet", action="store_true")

    f = sub.add_parser("fetch-zone", help="build a zone pack from live OpenStreetMap (needs internet)")
    f.add_argument("name")
    f.add_argument("--municipality", action="append", required=True)
    f.add_argument("--population", type=Path, default=None, help="CSV name,population")
    f.add_argument("--out", default="data")
    f.add_argument("--force", action="store_true", help="replace an existing pack folder of that name")

    b = sub.add_parser("build-pack", help="build a zone pack from local OSM files (XML or PBF)")
    b.add_argument("name")
    b.add_argument("--osm", action="append", required=True, help="OSM XML (.osm, .osm.bz2) or PBF; repeatable")
    b.add_argument("--municipalities", required=True, help="GeoJSON polygons with name and population_<year>")
    b.add_argument("--posts", required=True, help="posts CSV (id,name,municipality,street,crew,status,lat,lon,...)")
    b.add_argument("--out", default="data")
    b.add_argument("--join-m", type=float, default=2.0, help="join nodes closer than this (metres, same level)")
    b.add_argument("--date", default=None, help="road data date for the file name (default: this month)")
    b.add_argument("--force", action="store_true")

    sm = sub.add_parser(
        "simulate", help="dispatch simulation of 112 ambulance / PIT calls ([simulate] of a scenario, or --zone)"
    )
    sm.add_argument("scenario", nargs="?", default=None, help="scenario file (TOML); its [simulate] section")
    sm.add_argument("--zone", default=None, help="zone pack (without a scenario: every default of [simulate])")
    sm.add_argument("--replications", type=int, default=None, help="replications (default 30)")
    sm.add_argument("--seed", type=int, default=None, help="seed (default 2026)")
    sm.add_argument("--days", type=float, default=None, help="days simulated per replication (default 365)")
    sm.add_argument("--out", default="out", help="output folder (default: out/; results in OUT/<name>/)")
    sm.add_argument("--quiet", action="store_true", help="no progress or table on the terminal")
    ca = sub.add_parser("calibrate", help="fit speeds, junction delay, call handling and turnout to dispatch records")
    ca.add_argument("records", help="CSV, GeoPackage or Parquet: one row per vehicle per incident")
    ca.add_argument("--zone", required=True)
    ca.add_argument("--profile", default="fire_engine", help="base profile name, or a profile file (.json)")
    ca.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    ca.add_argument("--out", default="out", help="output folder (default: out/; results in OUT/calibration-NAME/)")
    ca.add_argument("--quiet", action="store_true")

    va = sub.add_parser("validate", help="a scenario's model against dispatch records, record by record and headline")
    va.add_argument("records")
    va.add_argument("scenario")
    va.add_argument("--out", default="out", help="output folder (default: out/; results in OUT/validate-NAME/)")
    va.add_argument("--quiet", action="store_true")

    sy = sub.add_parser("synthetic-records", help="write synthetic dispatch records with a known truth (CSV)")
    sy.add_argument("scenario", help="scenario file: its zone, posts, demand grid and profile")
    sy.add_argument("-o", "--output", required=True)
    sy.add_argument("--n", type=int, default=2000, help="incidents (default 2000)")
    sy.add_argument("--seed", type=int, default=0)
    sy.add_argument("--quiet", action="store_true")

    sub.add_parser(
        "solve", help="solve a placement model on a cost-matrix instance (see kazerne solve -h)", add_help=False
    )
    return ap


def _cmd_simulate(args) -> int:
    from .scenarios.runner import print_run
    from .scenarios.simulate import simulate_main

    target = simulate_main(args)
    if not args.quiet:
        print_run(target)
        print(f"outputs in {target}/", file=sys.stderr)
    return 0


def _cmd_batch(args) -> int:
    from .scenarios.batch import batch_main

    return batch_main(args)


#: the command of each subcommand (``solve`` has its own parser)
COMMANDS = {
    "isochrones": _cmd_isochrones,
    "route": _cmd_route,
    "audit": _cmd_audit,
    "build-pack": _cmd_build_pack,
    "fetch-zone": _cmd_fetch_zone,
    "run": _cmd_run,
    "calibrate": _cmd_calibrate,
    "validate": _cmd_validate,
    "synthetic-records": _cmd_synthetic,
    "compare": _cmd_compare,
    "criticality": _cmd_criticality,
    "simulate": _cmd_simulate,
    "batch": _cmd_batch,
}


def _dispatch(argv) -> int:
    if argv and argv[0] == "solve":
        return _cmd_solve(argv[1:])
    args = build_parser().parse_args(argv)
    cmd = COMMANDS.get(args.cmd)
    return cmd(args) if cmd is not None else 2


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    return guarded(_dispatch, argv, quiet="--quiet" in argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
