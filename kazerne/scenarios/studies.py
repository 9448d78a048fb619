"""Kazerne placement studies on a zone (``[study]`` in a scenario file): the pipeline every kind shares.

The kinds (``add``, ``close``, ``relocate``, ``greenfield``, ``minimum``, ``compare``,
``add-vehicle``) are one module each in :mod:`kazerne.scenarios.study_kinds`, registered in
``STUDY_KIND_MODULES``. This module prepares what they all work on (today's posts, the candidate
sites, their response-time matrix, the deadline), runs the kind, the sensitivity re-solves where the
kind supports them, writes the folder through the one writer and prints the kind's console lines.

All solves run on a sites × demand response-time matrix (seconds, turnout included) through
:mod:`kazerne.coverage.models`; every solve's status, bound and gap are reported, and a time limit
that stopped a solve before optimality is said in one clear line.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
from shapely.geometry import Point

from .. import __version__
from ..clock import Clock
from ..errors import ScenarioError
from ..jsonsafe import json_safe as _json_safe
from ..limits import require_memory
from ..progress import Progress
from ..report.geo import write_geojson
from ..report.tables import write_csv
from ..routing.travel import kth_nearest, travel_times
from ..sites import Sites
from .band import band_lines, run_band, study_interval
from .context import assumptions, first_due, load_context, municipality_rows, write_first_due
from .output import write_run
from .resolve import in_file, resolve_posts
from .schema import DEFAULT_CANDIDATE_CLASSES, STUDY_KINDS, Scenario
from .slices import study_assumptions
from .study_common import (
    Deadline,
    FullTimes,
    StudyInput,
    StudyOutcome,
    StudyResult,
    Variant,
    build_candidates,
    candidate_matrix,
    evaluate_rows,
    warn,
)
from .study_kinds import STUDY_KIND_MODULES, StudyKind, StudySpec, get_study_kind, study_kind_names

__all__ = [
    "DEFAULT_CANDIDATE_CLASSES",
    "KINDS",
    "STUDIES",
    "Deadline",
    "StudyInput",
    "StudyOutcome",
    "StudyResult",
    "StudySpec",
    "build_candidates",
    "candidate_matrix",
    "prepare_study",
    "print_study",
    "run_study",
    "solve_study",
    "write_study",
]

KINDS = STUDY_KINDS
#: Model argument -> scenario field, for the rare model error a study's own checks let through.
MODEL_FIELDS = {
    "p": "study.p_max",
    "radius": "study.threshold",
    "coverage": "study.share",
    "time_limit": "study.time_limit_s",
    "fixed": "posts.active",
    "weights": "demand",
}


class _Studies(Mapping):
    """``STUDIES[kind]``: the kind's solve (``StudyInput -> StudyOutcome``), over the registry
    :data:`kazerne.scenarios.study_kinds.STUDY_KIND_MODULES` (a kind registered there is here)."""

    def __getitem__(self, name: str):
        if name not in STUDY_KIND_MODULES:
            raise KeyError(name)
        return get_study_kind(name).solve

    def __iter__(self) -> Iterator[str]:
        return iter(study_kind_names())

    def __len__(self) -> int:
        return len(STUDY_KIND_MODULES)


#: The study kinds: ``[study] kind`` -> the function solving it.
STUDIES: Mapping = _Studies()


def _check_sizes(sc: Scenario, kind: StudyKind, st: StudySpec, cand: Sites, n_posts: int, n_demand: int) -> None:
    """Refuse, before the matrix is computed, a study that asks for more sites than there are
    candidates (the kind's check) or for a matrix that cannot fit in memory."""
    n = len(cand.ids)
    kind.check_sizes(sc, st, n, n_posts)
    copies = (2 if st["sensitivity"] else 1) * (8.0 if st["objective"] == "pmedian" else 1.5)
    require_memory(
        4.0 * n * n_demand * copies,
        f"the response-time matrix of {n:,} candidate sites x {n_demand:,} demand points"
        f"{' (p-median copies included)' if st['objective'] == 'pmedian' else ''}",
        source=str(sc.path),
        field="study.spacing_m",
        error=ScenarioError,
    )


def prepare_study(sc: Scenario, progress: Progress) -> StudyInput:
    """Load the zone, resolve today's posts, build the candidates and their response-time matrix."""
    st = sc.study
    if st is None:
        raise ScenarioError("the scenario has no [study] section", source=str(sc.path), field="study")
    kind = get_study_kind(st["kind"])
    ctx = load_context(sc, progress)
    posts = resolve_posts(ctx.zone, sc) if sc.posts else None
    if posts is None:
        posts = Sites(ids=[], names=[], node=np.zeros(0), lon=np.zeros(0), lat=np.zeros(0), turnout_s=np.zeros(0))
    progress.step("candidate sites")
    cand = build_candidates(ctx, posts, st)
    _check_sizes(sc, kind, st, cand, len(posts), len(ctx.demand))
    progress.done("candidates")
    cutoff = (
        None
        if st["objective"] == "pmedian" or kind.full_matrix
        else max(st["threshold"], max(sc.thresholds_min)) * 60.0
    )
    progress.step(f"response times from {len(cand.ids)} sites to {len(ctx.demand)} demand points")
    if st["slice"] is None:
        mat = candidate_matrix(ctx, cand, cutoff, progress, profile=kind.profile(ctx, sc))
        full = FullTimes(ctx, cand)
    else:  # from the call, for one time slice or the hour-weighted mix (kazerne.scenarios.slices)
        from .slices import slice_study

        ctx, mat, full = slice_study(ctx, posts, cand, cutoff, progress)
    progress.done("matrix")
    if kind.reach_check:
        _check_threshold(sc, st, mat)
    base = evaluate_rows(ctx, full, np.arange(len(posts))) if len(posts) else None
    closed = _closed_in_study(sc, posts) if st["slice"] is not None and len(posts) else []
    return StudyInput(sc, st, ctx, posts, cand, mat, full, base, Deadline(st["time_limit_s"]), progress, closed)


def _closed_in_study(sc: Scenario, posts: Sites) -> list:
    """Today's posts closed in the optimised slice (in every slice of the mix), in post order."""
    from .slices import slice_setups

    assert sc.study is not None  # called for a study
    chosen = [s for s in slice_setups(sc, posts) if sc.study["slice"] in ("mix", s.name)]
    return [p for p in posts.ids if chosen and all(p in s.closed for s in chosen)]


def _check_threshold(sc: Scenario, st: StudySpec, mat: np.ndarray) -> None:
    """Refuse a study threshold within which no candidate site reaches anyone (e.g. 0.1 min from the
    call, shorter than the call handling alone): every placement would be an arbitrary pick."""
    if mat.size == 0:
        return
    fastest = float(np.min(mat))
    T = float(st["threshold"])
    if not fastest <= T * 60.0:
        reach = (
            f"the fastest response of any candidate site is {fastest / 60:.2f} min"
            if np.isfinite(fastest)
            else ("no candidate site reaches any demand point")
        )
        raise ScenarioError(
            f"no candidate site reaches anyone within {T:g} min ({reach}"
            f"{', call handling included' if sc.call_handling_s else ''}); expected a larger threshold",
            source=str(sc.path),
            field="study.threshold",
        )


def solve_study(sc: Scenario, progress: Progress | None = None) -> StudyResult:
    """Run the scenario's ``[study]``: its kind's ``solve``, then the sensitivity analysis when
    asked (and the kind supports it); nothing is written (see :func:`write_study`)."""
    from ..checks import check_instance

    check_instance(sc, Scenario, "sc", "a Scenario (kz.parse_scenario(path))", error=ScenarioError)
    progress = progress or Progress(True)
    inp = prepare_study(sc, progress)
    st, name = inp.st, inp.st["kind"]
    kind = get_study_kind(name)
    progress.step(f"study {name}")
    with in_file(sc.path, MODEL_FIELDS, default="study"):  # model errors name scenario fields
        outcome = kind.solve(inp)
        progress.done("study")
        if st.band and kind.sensitivity and st.slice is None:
            progress.step(
                "band: speed at the ends of its range" + (", turnout ±60 s, threshold ±1 min" * st.sensitivity)
            )
            base = [inp.cand.ids[r] for r in outcome.chosen_rows]
            sens, band = run_band(
                lambda vs: _sensitivity(
                    inp.ctx, inp.posts, inp.cand, st, progress, name, base, Deadline(st.time_limit_s), inp.closed, vs
                ),
                inp.ctx.profile,
                sc.call_handling_s,
                base,
                inp.posts.ids if name == "add" else (),
            )
            outcome.result["band"] = band.summary()
            if st.sensitivity:
                outcome.result["sensitivity"] = sens
            progress.done("sensitivity")
        elif st.band and kind.sensitivity:
            outcome.result["band"] = {"verdict": "the speed band is not yet computed for a study of a time slice"}
    summary = _summary(inp, outcome, progress)
    if kind.sensitivity and st.slice is None and len(outcome.chosen_rows):  # the headline's interval
        prof = outcome.profile or inp.ctx.profile
        summary["uncertainty"] = study_interval(inp.ctx, inp.cand, outcome.chosen_rows, sc.call_handling_s, prof)
    return StudyResult(inp, outcome, summary)


def _summary(inp: StudyInput, outcome: StudyOutcome, progress: Progress) -> dict:
    """``summary.json`` of a study: scenario, spec, assumptions, candidates, solves, the kind's result."""
    sc, st, cand, n_posts = inp.sc, inp.st, inp.cand, inp.n_posts
    return {
        "kazerne_version": __version__,
        "scenario": {"name": sc.name, "file": str(sc.path), "description": sc.description},
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "study": st.summary(),
        "assumptions": assumptions(inp.ctx, inp.posts if n_posts else None)
        | (study_assumptions(sc) if st["slice"] is not None else {}),
        "candidates": {
            "total": len(cand.ids),
            "today_posts": n_posts,
            "user": cand.origin.count("user"),
            "generated": cand.origin.count("generated"),
            "generated_excluded_in_gap": cand.excluded_in_gap,
            "classes": st["candidate_classes"],
            "spacing_m": st["spacing_m"],
        },
        "solves": outcome.solves,
        "result": outcome.result,
        "chosen_sites": [cand.ids[r] for r in outcome.chosen_rows],
        "timings_s": progress.timings,
    }


def write_study(res: StudyResult, out_root: Path) -> Path:
    """Write a finished study to ``out_root/<name>/`` (all or nothing): summary.json, the kind's
    tables, the chosen sites' coverage per municipality, GeoJSON layers, maps and report."""
    inp, sc, ctx, cand = res.inp, res.inp.sc, res.inp.ctx, res.inp.cand
    chosen_rows, summary = res.outcome.chosen_rows, res.summary
    progress = inp.progress
    progress.step("writing outputs")

    def layers(tmp: Path) -> None:
        if not len(chosen_rows):
            return
        after = res.outcome.reports.get("after")
        mrows = municipality_rows(after or inp.eval(chosen_rows), inp.th)
        if after is not None:  # one measure per point (add-vehicle): no second unit to count
            mrows = [{k: v for k, v in r.items() if not k.startswith("no_second_unit")} for r in mrows]
        write_csv(tmp / "municipalities.csv", mrows)
        write_geojson(
            tmp / "chosen_sites.geojson",
            [
                {
                    "id": cand.ids[r],
                    "name": cand.names[r],
                    "origin": cand.origin[r],
                    "street": cand.street[r],
                    "municipality": cand.municipality[r],
                    "turnout_s": cand.turnout_s[r],
                    "geometry": Point(cand.lon[r], cand.lat[r]),
                }
                for r in chosen_rows
            ],
            metadata={"assumptions": _json_safe(summary["assumptions"])},
        )
        if sc.outputs.get("first_due_areas", True):
            sel = cand.subset(chosen_rows)
            prof = res.outcome.profile or ctx.profile
            tt_sel = travel_times(ctx.zone, sel, ctx.demand, prof, keep_nodes=True, clock=ctx.clock)
            assert tt_sel.node_seconds is not None  # keep_nodes=True
            fs = kth_nearest(tt_sel.dense(), k=1)[1][0]
            areas = first_due(ctx, tt_sel.node_seconds, fs)
            write_first_due(tmp / "first_due.geojson", ctx, sel, areas, summary["assumptions"], fs)

    target = write_run(
        out_root / sc.name,
        summary,
        res.outcome.tables,
        extra=[layers, lambda tmp: _write_study_report(tmp, res)],
    )
    progress.done("write")
    return target


def run_study(sc: Scenario, out_root: Path, progress: Progress) -> Path:
    """Solve the scenario's study and write it to ``out_root/<name>/``."""
    return write_study(solve_study(sc, progress), Path(out_root))


def _sensitivity(ctx, posts, cand, st, progress, kind, base_sites, deadline: Deadline, closed=(), band=None):
    """Re-solve under perturbed speed, turnout and threshold; report whether the recommended sites
    (``base_sites``: the study's answer) change. ``kind``: the study kind's name; its module's
    ``resolve`` is the study's solve under a variant. Variants not started before ``deadline`` are
    reported as not run (and do not count either way)."""
    study_kind = get_study_kind(kind)
    variants = [
        ("speed -15%", {"speed_scale": ctx.profile.speed_scale * 0.85}, 0, 0),
        ("speed +15%", {"speed_scale": ctx.profile.speed_scale * 1.15}, 0, 0),
        ("turnout -60 s", {}, -60, 0),
        ("turnout +60 s", {}, 60, 0),
        ("threshold -1 min", {}, 0, -1),
        ("threshold +1 min", {}, 0, 1),
    ]
    if band is not None:  # the speed band (kazerne.scenarios.band): its pair, alone unless sensitivity = true
        variants = list(band) + (variants[2:] if st["sensitivity"] else [])
    if st["threshold"] <= 1.0:  # T - 1 min would be no threshold at all
        variants = [v for v in variants if v[0] != "threshold -1 min"]
    out: list[dict] = []
    bar = progress.bar(len(variants), "sensitivity")
    for label, prof_kw, dturn, dth in variants:
        if out and deadline.expired():
            out.append({"variant": label, "sites": None, "status": "not run (study time limit)", "same_sites": None})
            bar.update(1)
            continue
        prof = ctx.profile.with_overrides(**prof_kw) if prof_kw else ctx.profile
        c2 = cand.subset(range(len(cand)))
        c2.turnout_s = np.maximum(0.0, cand.turnout_s + dturn)
        st2 = st.replace(threshold=st["threshold"] + dth)
        cutoff = None if st["objective"] == "pmedian" else (st2["threshold"]) * 60.0
        mat = candidate_matrix(ctx, c2, cutoff, Progress(True), profile=prof)
        res = study_kind.resolve(Variant(ctx, mat, c2, st2, posts, base_sites, label, deadline, tuple(closed)))
        out.append(
            {
                "variant": label,
                "sites": res.sites,
                "status": res.status,
                "same_sites": sorted(res.sites) == sorted(base_sites),
            }
        )
        bar.update(1)
    bar.close()
    run = [v for v in out if v["same_sites"] is not None]
    if len(run) < len(out):
        warn(
            f"sensitivity: the study time limit ({deadline.seconds:g} s) ran out after {len(run)} of "
            f"{len(out)} variants"
        )
    return {
        "base_sites": base_sites,
        "variants": out,
        "variants_run": len(run),
        "complete": len(run) == len(out),
        "recommendation_changes": any(not v["same_sites"] for v in run),
    }


def _write_study_report(tmp: Path, res: StudyResult) -> None:
    """Maps, report.html and layers.gpkg of the study (:mod:`kazerne.report.study_report`), drawn
    from the kind's view (:meth:`StudyKind.view`)."""
    from ..report.study_report import write_study_outputs
    from .context import report_options

    inp, outcome, chosen_rows = res.inp, res.outcome, res.outcome.chosen_rows
    opts = report_options(inp.sc)
    if not any(opts[k] for k in ("maps", "report", "gpkg")):
        return
    after = inp.eval(chosen_rows) if len(chosen_rows) else None
    base, after = outcome.reports.get("before", inp.base), outcome.reports.get("after", after)
    prof = outcome.profile or inp.ctx.profile
    node_t = (
        travel_times(
            inp.ctx.zone,
            inp.cand.subset(chosen_rows),
            inp.ctx.demand,
            prof,
            keep_nodes=True,
            clock=inp.ctx.clock,
        ).node_seconds
        if len(chosen_rows) and opts["gpkg"]
        else None
    )
    write_study_outputs(
        tmp,
        inp.ctx,
        summary=res.summary,
        tables=outcome.tables,
        posts=inp.posts,
        cand=inp.cand,
        chosen_rows=chosen_rows,
        base_rep=base,
        after_rep=after,
        node_t=node_t,
        view=get_study_kind(inp.st["kind"]).view(res, after),
        **opts,
    )


def study_lines(summary: dict) -> list[str]:
    """The study's answer as terminal lines: the common header and solves, the kind's own lines,
    the slice's closed posts and the sensitivity verdict."""
    st, res = summary["study"], summary["result"]
    out = [
        f"\n{summary['scenario']['name']}: study {st['kind']} at {st['threshold']:g} min, "
        f"{summary['candidates']['total']} candidate sites"
    ]
    a = summary.get("assumptions", {})
    if a.get("thresholds_from") in ("call", "alarm"):
        note = (f", time slice: {a['study_slice']}" if a.get("study_slice") else "") + (
            " (hour-weighted population of every slice)" if a.get("study_slice") == "mix" else ""
        )
        out.append("  " + Clock.from_assumptions(a).label("console", note=note))
    for s in summary["solves"][:3]:
        obj = "none" if s["objective"] is None else f"{s['objective']:,.1f}"
        gap = "n/a" if s["gap"] is None else f"{100 * s['gap']:.3g}%"
        out.append(
            f"  solve {s['model']}: {s['status']}, objective {obj}, gap {gap}, {s['seconds']:.2f} s ({s['solver']})"
        )
    out += get_study_kind(st["kind"]).console(summary)
    if res.get("closed_note"):
        out.append(f"  {res['closed_note']}")
    if "band" in res:
        out += band_lines(res["band"], summary.get("uncertainty"))
    if "sensitivity" in res:
        out.append(
            f"  sensitivity: recommendation {'CHANGES' if res['sensitivity']['recommendation_changes'] else 'is stable'}"
            f" under speed ±15 %, turnout ±60 s, threshold ±1 min"
        )
    return out


def print_study(summary: dict) -> None:
    """The study's answer on the terminal (the command line calls this; the library never prints)."""
    for line in study_lines(summary):
        print(line)
    print()
