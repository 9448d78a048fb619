"""Running a scenario file: ``python run_scenario.py SCENARIO [--out DIR] [--quiet]``.

Generic over the run kinds (:mod:`kazerne.scenarios.kinds`): a scenario runs its kind (the baseline
when it has no kind section, :mod:`kazerne.scenarios.baseline`), the one writer writes its folder
(:func:`kazerne.scenarios.output.write_run`) and the command line prints the kind's console lines
from the result in memory. ``[study]`` keeps its own dispatch until it is a run kind.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..report.atomic import check_output_dir
from .baseline import post_times, time_line  # noqa: F401  (kept importable from here)
from .context import Progress
from .kinds import Finished, get_kind, kind_of, run_kind_result, summary_kind
from .schema import Scenario, parse_scenario


def execute(sc: Scenario, out_root: Path, progress: Progress) -> Finished | Path:
    """Run a parsed scenario with its kind; the written run (folder and result). A ``[study]``
    (not yet a run kind) gives its folder only."""
    own = kind_of(sc)
    if own is None:
        from .studies import run_study

        return run_study(sc, Path(out_root), progress)
    return run_kind_result(own[0], own[1], sc, Path(out_root), progress)


def run_scenario(sc: Scenario, out_root: Path, progress: Progress) -> Path:
    """Run a parsed scenario with its run kind (:mod:`kazerne.scenarios.kinds`: the baseline, ``[ems]``,
    ``[criticality]`` ...) or its ``[study]``; results in ``out_root/<name>/``. The scenario runner,
    the batch runner and the API all go through here."""
    done = execute(sc, out_root, progress)
    return done.target if isinstance(done, Finished) else done


def run_file(path, out_root="out", quiet=True) -> Path:
    """Run a scenario file; results in ``out_root/<name>/`` (``kz.run_scenario``).

    The file is read and validated completely, and the output folder checked (writable, not
    something kazerne did not write), before anything is computed. Nothing is printed; with
    ``quiet=False`` progress goes to stderr.
    """
    sc = parse_scenario(path)
    check_output_dir(Path(out_root) / sc.name)
    return run_scenario(sc, Path(out_root), Progress(quiet))


def print_lines(kind, summary: dict) -> None:
    """A run's console lines (stdout) and the warnings it repeats on stderr."""
    for line in kind.console(summary):
        print(line)
    for w in getattr(kind, "warnings", lambda s: [])(summary):
        print(f"kazerne: warning: {w}", file=sys.stderr)


def print_result(done: Finished | Path) -> None:
    """The answer of a run just written, from its result in memory (a study's from its folder)."""
    if isinstance(done, Finished):
        print_lines(done.kind, done.result.summary)
    else:
        print_run(done)


def print_run(target: Path) -> None:
    """The answer of a finished run folder (its ``summary.json``) on the terminal: for a folder written
    earlier (``kazerne show``-like uses and commands that get a folder back)."""
    import json

    summary = json.loads((Path(target) / "summary.json").read_text(encoding="utf-8"))
    kind = summary_kind(summary)
    if kind is None and "study" in summary:
        from .studies import print_study

        print_study(summary)
        return
    if kind is None:  # a folder of kazerne before run kinds: the baseline's or an EMS study's
        kind = get_kind("ems" if "ems" in summary else "baseline")
    print_lines(kind, summary)


def run_main(args) -> int:
    sc = parse_scenario(args.scenario)
    check_output_dir(Path(args.out) / sc.name)
    done = execute(sc, Path(args.out), Progress(args.quiet))
    if not args.quiet:
        print_result(done)
        target = done.target if isinstance(done, Finished) else done
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
