"""Command line: ``kazerne run | compare | batch | solve | isochrones | fetch-zone``.

User mistakes (:class:`kazerne.errors.KazerneError`) print one line on stderr and exit with 2,
without a traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from .errors import KazerneError


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that temporaries are removed on the way out."""


def _on_sigterm(signum, frame):
    raise Terminated()


def one_line(text: str, limit: int = 2000) -> str:
    """``text`` as one printable line: control characters escaped, at most ``limit`` characters."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    return out if len(out) <= limit else out[: limit - 4] + " ..."


def guarded(fn, *args) -> int:
    """Run ``fn(*args)`` as a command: a user error is one line on stderr and exit code 2, Ctrl-C one
    line and 130, SIGTERM one line and 143; never a traceback for these."""
    try:
        old = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:          # not the main thread (e.g. called from a notebook's worker)
        old = None
    try:
        return fn(*args)
    except KazerneError as exc:
        print(f"kazerne: error: {one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except Terminated:
        print("kazerne: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("kazerne: interrupted", file=sys.stderr)
        return 130
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


def _cmd_isochrones(args) -> int:
    from .report.geo import write_geojson
    from .routing.isochrones import isochrone_polygons, polygons_to_wgs84
    from .routing.profiles import get_profile
    from .routing.zone import load_zone
    from .errors import OutputError, ScenarioError
    from .scenarios.schema import DEFAULT_TURNOUT_S, crew_type

    try:
        minutes = [float(m) for m in args.minutes.split(",") if m.strip()]
    except ValueError:
        raise ScenarioError(f"expected comma-separated minutes like 8,10,12,15, got {args.minutes!r}",
                            field="--minutes") from None
    if not minutes or any(not 0 < m <= 240 for m in minutes):
        raise ScenarioError(f"expected thresholds > 0 and <= 240 minutes, got {args.minutes!r}", field="--minutes")
    if args.turnout is not None and not 0 <= args.turnout <= 3600:
        raise ScenarioError(f"expected seconds from 0 to 3600, got {args.turnout!r}", field="--turnout")
    out = Path(args.output)
    if out.is_dir():
        raise OutputError("is a folder; expected the path of a GeoJSON file to write", source=str(out),
                          field="--output")
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
        turnout = args.turnout if args.turnout is not None else DEFAULT_TURNOUT_S.get(crew_type(site.crew), 300.0)
        polys = polygons_to_wgs84(isochrone_polygons(zone.net, profile, node, turnout, minutes))
        for m, g in zip(sorted(minutes), polys):
            feats.append({"post": pid, "name": site.name, "minutes": m, "turnout_s": turnout,
                          "profile": profile.name, "geometry": g})
    assumptions = {"road_data": zone.net.describe(), "profile": profile.name,
                   "note": "isochrone = roads reached within the threshold incl. turnout, buffered 100 m"}
    try:
        write_geojson(out, feats, metadata=assumptions)
    except OSError as exc:
        raise OutputError(f"cannot write the file ({exc.strerror or exc})", source=str(out), field="--output") from None
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


def _dispatch(argv) -> int:
    if argv and argv[0] == "solve":
        return _cmd_solve(argv[1:])
    args = build_parser().parse_args(argv)
    if args.cmd == "isochrones":
        return _cmd_isochrones(args)
    if args.cmd == "fetch-zone":
        return _cmd_fetch_zone(args)
    if args.cmd == "run":
        return _cmd_run(args)
    return 2


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    return guarded(_dispatch, argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
