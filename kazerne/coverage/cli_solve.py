"""``kazerne solve``: run one placement model on an instance file.

Wired into the ``kazerne`` command elsewhere; :func:`solve_main` takes the arguments after
``solve`` and returns the exit code (0 ok, 2 user error, 1 no solution within the time limit).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

from ..checks import check_time_limit
from ..errors import InfeasibleError, KazerneError, ModelInputError
from .instances import InstanceTimeLimit, read_long_csv, read_orlib_pmed
from .models import backup, lscp, mclp, pcenter, pmedian
from .problem import from_cost_matrix

__all__ = ["solve_main", "build_parser"]


class _ArgError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, through our own error path
        raise _ArgError(message)


def build_parser() -> argparse.ArgumentParser:
    """Argument parser of ``kazerne solve``."""
    ap = _Parser(prog="kazerne solve", description="Solve a placement model on a cost-matrix instance.")
    ap.add_argument("instance", help="instance file: long CSV demand_id,site_id,cost[,weight] or OR-Library pmed")
    ap.add_argument("--model", required=True, choices=["lscp", "mclp", "pmedian", "pcenter", "backup"])
    ap.add_argument("--p", type=int, help="number of open sites (fixed included); OR-Library files carry one")
    ap.add_argument("--radius", type=float, help="coverage threshold T, same unit as the costs (cost <= T)")
    ap.add_argument("--capacity", type=float, help="MCLP: weight one site can serve (fractional assignment)")
    ap.add_argument("--coverage", type=float, default=1.0, help="LSCP: share of weight to cover (default 1)")
    ap.add_argument("--min-primary", type=float, default=0.0, help="backup: share covered at least once")
    ap.add_argument("--fixed", default="", help="comma-separated site ids that must be open")
    ap.add_argument("--closed", default="", help="comma-separated site ids that may not open")
    ap.add_argument("--demand", help="CSV demand_id,weight (long format only)")
    ap.add_argument("--format", choices=["long", "orlib"], help="default: orlib for pmed*.txt, else long")
    ap.add_argument("--time-limit", type=float, help="seconds")
    ap.add_argument("--solver", type=str.upper, choices=["SCIP", "HIGHS", "CBC"])
    ap.add_argument("--json", action="store_true", help="last line of stdout: JSON summary")
    return ap


def _ids(text: str, site_ids: list) -> list:
    """Comma-separated ids, matched against the instance's ids (ints for OR-Library)."""
    out = []
    as_str = {str(s): s for s in site_ids}
    for tok in (t.strip() for t in text.split(",")):
        if tok:
            out.append(as_str.get(tok, tok))
    return out


#: Model argument -> command-line option, so that an error names what the user typed.
_OPTION = {
    "p": "--p",
    "radius": "--radius",
    "capacity": "--capacity",
    "coverage": "--coverage",
    "min_primary": "--min-primary",
    "time_limit": "--time-limit",
    "fixed": "--fixed",
    "closed": "--closed",
    "solver": "--solver",
}


def _run(argv) -> int:
    t0 = time.perf_counter()  # --time-limit bounds the whole command: reading the instance counts
    args = build_parser().parse_args(argv)
    check_time_limit(args.time_limit, "--time-limit")
    fmt = args.format or ("orlib" if args.instance.lower().endswith(".txt") else "long")
    if fmt == "orlib":
        if args.demand:
            raise ModelInputError("--demand only applies to the long CSV format", field="--demand")
        deadline = None if args.time_limit is None else t0 + args.time_limit
        try:
            pieces = read_orlib_pmed(args.instance, deadline=deadline)
        except InstanceTimeLimit as exc:
            print(
                f"kazerne solve: time limit ({args.time_limit:g} s) reached while reading the instance ({exc}); "
                f"no solution",
                file=sys.stderr,
            )
            return 1
        file_p = pieces.pop("p")
    else:
        pieces = read_long_csv(args.instance, args.demand)
        file_p = None
    problem = from_cost_matrix(
        **pieces, fixed=_ids(args.fixed, pieces["site_ids"]), closed=_ids(args.closed, pieces["site_ids"])
    )
    p = args.p if args.p is not None else file_p
    needs_p = args.model in ("mclp", "pmedian", "pcenter", "backup")
    needs_r = args.model in ("lscp", "mclp", "backup")
    if needs_p and p is None:
        raise ModelInputError(f"model {args.model} needs --p", field="--p")
    if needs_r and args.radius is None:
        raise ModelInputError(f"model {args.model} needs --radius", field="--radius")
    if args.capacity is not None and args.model != "mclp":
        raise ModelInputError("--capacity only applies to --model mclp", field="--capacity")
    left = None if args.time_limit is None else max(0.5, args.time_limit - (time.perf_counter() - t0))
    kw = {"time_limit": left, "solver": args.solver}
    if args.model == "lscp":
        res = lscp(problem, args.radius, coverage=args.coverage, **kw)
    elif args.model == "mclp":
        res = mclp(problem, p, args.radius, capacity=args.capacity, **kw)
    elif args.model == "pmedian":
        res = pmedian(problem, p, **kw)
    elif args.model == "pcenter":
        res = pcenter(problem, p, **kw)
    else:
        res = backup(problem, p, args.radius, min_primary=args.min_primary, **kw)
    summary = res.to_dict()
    bound = "unknown" if math.isnan(res.bound) else f"{res.bound:g}"
    gap = "unknown" if math.isnan(res.gap) else f"{res.gap:.3g}"
    print(
        f"{res.model}: {res.status}, objective {res.objective:g}, bound {bound}, "
        f"gap {gap}, {len(res.sites)} site(s), {res.seconds:.2f} s ({res.solver})"
    )
    print("sites: " + ", ".join(str(s) for s in res.sites))
    if args.json:
        line = {k: summary.get(k) for k in ("model", "status", "objective", "bound", "gap", "sites", "seconds")}
        line["solver"] = summary.get("solver")
        print(json.dumps(line))
    return 0 if res.ok else 1


def solve_main(argv=None) -> int:
    """Entry point of ``kazerne solve``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments after ``solve`` (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 when a solution was found, 1 when stopped without one, 2 on a user error (bad
        arguments, missing file, NaN cost, infeasible model: one line on stderr, no traceback).
    """
    if argv is None:
        argv = sys.argv[1:]
    try:
        return _run(list(argv))
    except _ArgError as exc:
        print(f"kazerne solve: {exc}", file=sys.stderr)
        return 2
    except InfeasibleError as exc:
        print(f"infeasible: {exc}", file=sys.stderr)
        return 2
    except KazerneError as exc:
        if exc.source is None and exc.field in _OPTION:
            exc = type(exc)(exc.detail, field=_OPTION[exc.field])
        print(f"kazerne: error: {exc}", file=sys.stderr)
        return exc.exit_code
