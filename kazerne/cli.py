"""Command line: ``kazerne run | compare | batch | solve | isochrones | fetch-zone``.

User mistakes (:class:`kazerne.errors.KazerneError`) print one line on stderr and exit with 2,
without a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import KazerneError


def _cmd_isochrones(args) -> int:
    from .report.geo import write_geojson
    from .routing.isochrones import isochrone_polygons, polygons_to_wgs84
    from .routing.profiles import get_profile
    from .routing.zone import load_zone
    from .errors import ScenarioError
    from .scenarios.schema import DEFAULT_TURNOUT_S, crew_type

    zone = load_zone(args.zone, quiet=args.quiet)
    try:
        minutes = [float(m) for m in args.minutes.split(",") if m.strip()]
    except ValueError:
        raise ScenarioError(f"expected comma-separated minutes like 8,10,12,15, got {args.minutes!r}",
                            field="--minutes") from None
    if not minutes or any(m <= 0 for m in minutes):
        raise ScenarioError("thresholds must be > 0 minutes", field="--minutes")
    profile = get_profile(args.profile)
    feats = []
    for pid in args.post:
        try:
            site = zone.pack.site(pid)
        except KeyError:
            known = ", ".join(p.id for p in zone.pack.posts)
            raise ScenarioError(f"unknown post {pid!r}; known: {known}", field="--post") from None
        node = zone.site_node(site.lon, site.lat, what=f"post {pid}")
        turnout = args.turnout if args.turnout is not None else DEFAULT_TURNOUT_S.get(crew_type(site.crew), 300.0)
        polys = polygons_to_wgs84(isochrone_polygons(zone.net, profile, node, turnout, minutes))
        for m, g in zip(sorted(minutes), polys):
            feats.append({"post": pid, "name": site.name, "minutes": m, "turnout_s": turnout,
                          "profile": profile.name, "geometry": g})
    assumptions = {"road_data": zone.net.describe(), "profile": profile.name,
                   "note": "isochrone = roads reached within the threshold incl. turnout, buffered 100 m"}
    write_geojson(args.output, feats, metadata=assumptions)
    if not args.quiet:
        print(f"wrote {len(feats)} isochrones to {args.output}", file=sys.stderr)
    return 0


def _cmd_fetch_zone(args) -> int:
    from .routing.fetch import fetch_zone
    path = fetch_zone(args.name, args.municipality, Path(args.out), population_csv=args.population,
                      force=args.force)
    print(f"wrote zone pack {path}")
    return 0


def _cmd_solve(argv) -> int:
    from .coverage.cli_solve import solve_main
    return solve_main(argv)


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

    i = sub.add_parser("isochrones", help="isochrone polygons of posts as GeoJSON")
    i.add_argument("--zone", required=True)
    i.add_argument("--post", required=True, action="append", help="post id (repeatable)")
    i.add_argument("--minutes", default="8,10,12,15")
    i.add_argument("--profile", default="fire_engine")
    i.add_argument("--turnout", type=float, default=None, help="turnout seconds (default by crew type: professional 90, volunteer/mixed 300)")
    i.add_argument("-o", "--output", required=True)
    i.add_argument("--quiet", action="store_true")

    f = sub.add_parser("fetch-zone", help="build a zone pack from live OpenStreetMap (needs internet)")
    f.add_argument("name")
    f.add_argument("--municipality", action="append", required=True)
    f.add_argument("--population", type=Path, default=None, help="CSV name,population")
    f.add_argument("--out", default="data")
    f.add_argument("--force", action="store_true", help="replace an existing pack folder of that name")

    sub.add_parser("solve", help="solve a placement model on a cost-matrix instance (see kazerne solve -h)",
                   add_help=False)
    return ap


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "solve":
            return _cmd_solve(argv[1:])
        args = build_parser().parse_args(argv)
        if args.cmd == "isochrones":
            return _cmd_isochrones(args)
        if args.cmd == "fetch-zone":
            return _cmd_fetch_zone(args)
        if args.cmd == "run":
            return _cmd_run(args)
    except KazerneError as exc:
        print(f"kazerne: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("kazerne: interrupted", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
