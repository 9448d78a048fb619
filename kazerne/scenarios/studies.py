"""Kazerne placement studies on a zone (``[study]`` in a scenario file).

Kinds: ``add`` (keep today's posts, open k new), ``close`` (ranking of the loss per closed post),
``relocate`` (move m of today's posts), ``greenfield`` (best p posts from scratch, for a range of p,
with today's network on the curve), ``minimum`` (fewest posts reaching everyone or a share within
T), ``compare`` (planners' comparison of named candidate sites, today as reference row).

All solves run on a sites × demand response-time matrix (seconds, turnout included) through
:mod:`kazerne.coverage.models`; every solve's status, bound and gap are reported, and a time limit
that stopped a solve before optimality is said in one clear line.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from shapely.geometry import Point

from .. import __version__
from ..coverage import models
from ..coverage.metrics import CoverageReport, evaluate
from ..coverage.problem import from_cost_matrix
from ..errors import ScenarioError
from ..jsonsafe import json_safe as _json_safe
from ..limits import require_memory
from ..progress import Progress
from ..report.geo import write_geojson
from ..report.tables import pct, text_table, write_csv
from ..routing.travel import kth_nearest, travel_times
from ..sites import Sites
from .band import BAND_KINDS, band_lines, run_band, study_interval
from .context import (
    Context,
    assumptions,
    first_due,
    headline,
    load_context,
    mins,
    municipality_rows,
    write_first_due,
)
from .output import write_run
from .resolve import in_file, resolve_posts, resolve_site, turnout_for
from .schema import DEFAULT_CANDIDATE_CLASSES, STUDY_KINDS, Scenario, StudySpec, crew_type
from .slices import study_assumptions

__all__ = [
    "DEFAULT_CANDIDATE_CLASSES",
    "KINDS",
    "STUDIES",
    "Deadline",
    "StudyInput",
    "StudyOutcome",
    "StudyResult",
    "build_candidates",
    "candidate_matrix",
    "prepare_study",
    "print_study",
    "run_study",
    "solve_study",
    "study_kind",
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


class Deadline:
    """What is left of a study step's time limit.

    ``time_limit_s`` bounds a whole step (the placement solves of the study, then again the
    re-solves of the sensitivity analysis), not each solve: every solve gets the time left, and
    a loop of solves (relocate's combinations, greenfield's values of p, the sensitivity
    variants) starts no new solve once it is spent; what was not run is reported as such.
    """

    def __init__(self, seconds: float, clock=time.monotonic):
        self.seconds = float(seconds)
        self._clock = clock
        self._end = clock() + self.seconds

    def left(self) -> float:
        """Seconds left (<= 0 once spent)."""
        return self._end - self._clock()

    def expired(self) -> bool:
        return self.left() <= 0.0


def build_candidates(ctx: Context, posts: Sites, st: StudySpec) -> Sites:
    """Today's posts, then the scenario's named sites, then generated candidates (see :meth:`Sites.candidates`)."""
    sc = ctx.sc
    new_turnout = st.get("new_turnout_s", None)
    if new_turnout is None:
        new_turnout = turnout_for(sc, st["new_crew"], "study.new_crew")
    ids, names, nodes, turnout, origin = [], [], [], [], []
    lons, lats, edges, fracs = [], [], list(posts.edge), list(posts.frac)
    for i in range(len(posts)):
        ids.append(posts.ids[i])
        names.append(posts.names[i])
        nodes.append(posts.node[i])
        turnout.append(posts.turnout_s[i])
        origin.append("post")
        lons.append(posts.lon[i])
        lats.append(posts.lat[i])
    for k, sd in enumerate(st["sites"]):
        fld = f"study.sites[{k}]"
        if not isinstance(sd, dict) or "id" not in sd:
            raise ScenarioError("expected a table with id, name and lat/lon or street", source=str(sc.path), field=fld)
        sid = str(sd["id"])
        if sid in ids:
            raise ScenarioError(f"duplicate site id {sid!r}", source=str(sc.path), field=f"{fld}.id")
        lo, la, node, _, edge, frac = resolve_site(
            ctx.zone,
            sc,
            field=fld,
            lat=sd.get("lat"),
            lon=sd.get("lon"),
            street=sd.get("street"),
            municipality=sd.get("municipality"),
            on_street=True,
        )
        edges.append(edge)
        fracs.append(frac)
        t = sd.get("turnout_s")
        if t is None:
            t = (
                turnout_for(sc, crew_type(sd.get("crew", st["new_crew"])), f"{fld}.crew")
                if "crew" in sd
                else new_turnout
            )
        ids.append(sid)
        names.append(str(sd.get("name", sid)))
        nodes.append(node)
        turnout.append(float(t))
        origin.append("user")
        lons.append(lo)
        lats.append(la)
    from ..report.council import municipality_of
    from ..sites import site_streets

    node_arr = np.array(nodes, dtype=np.int64)
    user = Sites(
        ids=ids,
        names=names,
        node=node_arr,
        lon=np.array(lons),
        lat=np.array(lats),
        turnout_s=np.array(turnout, dtype=float),
        origin=origin,
        street=site_streets(ctx.zone, node_arr) if len(node_arr) else [],
        municipality=list(municipality_of(ctx.zone, ctx.zone.net.x[node_arr], ctx.zone.net.y[node_arr]))
        if len(node_arr)
        else [],
        edge=np.array(edges, dtype=np.int64),
        frac=np.array(fracs, dtype=float),
    )
    if not st["include_generated"]:
        return user
    gen = Sites.candidates(
        ctx.zone,
        spacing_m=st["spacing_m"],
        classes=st["candidate_classes"],
        turnout_s=float(new_turnout),
        crew=st["new_crew"],
        buffer_m=st["buffer_m"],
    )
    excluded = gen.excluded_in_gap
    have = set(nodes)
    gen = gen.subset([i for i, n in enumerate(gen.node.tolist()) if n not in have])
    taken = set(ids)
    gen.ids = [g if g not in taken else f"{g}-generated" for g in gen.ids]  # a user site may be called C123
    out = user.concat(gen)
    out.excluded_in_gap = excluded
    return out


def candidate_matrix(ctx: Context, cand: Sites, cutoff_s: float | None, progress: Progress, profile=None) -> np.ndarray:
    """Candidates × demand response times from the call (s; call handling + turnout + drive), float32,
    ``inf`` beyond the cutoff (from the call) or without road data
    (:func:`kazerne.routing.travel.travel_times`)."""
    bar = progress.bar(len(cand.ids), "travel times")
    try:
        tt = travel_times(
            ctx.zone,
            cand,
            ctx.demand,
            profile or ctx.profile,
            cutoff_s=cutoff_s,
            progress=bar,
            clock=ctx.clock,
        )
        return tt.seconds.astype(np.float32, copy=False)
    finally:
        bar.close()


class FullTimes:
    """Response times without cutoff for the few sites a study evaluates (cached per site).

    The solve matrix is cut at the covering threshold; the reported metrics (mean, p90, the
    thresholds above T, second arrivals) need every site's full times.
    """

    def __init__(self, ctx: Context, cand: Sites):
        self.ctx, self.cand = ctx, cand
        self.rows: dict = {}

    def __call__(self, rows) -> np.ndarray:
        rows = [int(r) for r in np.atleast_1d(rows)]
        todo = [r for r in dict.fromkeys(rows) if r not in self.rows]
        if todo:
            d = travel_times(
                self.ctx.zone, self.cand.subset(todo), self.ctx.demand, self.ctx.profile, clock=self.ctx.clock
            ).seconds
            for k, r in enumerate(todo):
                self.rows[r] = d[k].astype(np.float64)
        return np.vstack([self.rows[r] for r in rows]) if rows else np.zeros((0, len(self.ctx.demand)))


def _eval(ctx: Context, full: FullTimes, rows) -> CoverageReport:
    """Coverage metrics of the sites ``rows`` (candidate indices), from full response times."""
    cell_km2 = (ctx.demand.cell_m / 1000.0) ** 2 if ctx.demand.cell_m else None
    return evaluate(
        full(rows),
        ctx.demand.weight,
        ctx.thresholds_s,
        no_road_data=ctx.demand.no_road_data,
        municipality=ctx.demand.municipality,
        municipality_names=ctx.demand.municipality_names,
        cell_area_km2=cell_km2,
    )


def _weights(ctx):
    return np.where(ctx.demand.no_road_data, 0.0, ctx.demand.weight)


def _solve(kind, mat, w, cand, st, deadline: Deadline, *, p=None, fixed=(), closed=(), radius=None):
    prob = from_cost_matrix(mat, w, site_ids=cand.ids, fixed=list(fixed), closed=list(closed))
    tl = max(deadline.left(), 0.5)  # a solve that is started gets at least half a second
    if kind == "mclp":
        return models.mclp(prob, p, radius, time_limit=tl)
    if kind == "pmedian":
        return models.pmedian(prob, p, time_limit=tl, heuristic_seconds=min(10.0, tl / 4))
    if kind == "lscp":
        return models.lscp(prob, radius, coverage=st["share"], time_limit=tl)
    raise ValueError(kind)


def _warn(msg: str) -> None:
    """A study result the user must know about (a time limit, an incomplete sweep): ``warnings.warn``;
    the command line shows it as one ``kazerne: warning:`` line."""
    import warnings

    from ..errors import KazerneWarning

    warnings.warn(msg, KazerneWarning, stacklevel=2)


def _warn_status(res, what: str, progress: Progress) -> None:
    if res.status != "optimal":
        gap = f"{100 * res.gap:.2f}%" if res.gap == res.gap else "unknown"
        _warn(
            f"{what}: solve stopped by the study time limit before proving optimality (status {res.status}, gap {gap})"
        )


def _place(ctx, mat, cand, st, fixed_ids, n_open, progress, what, deadline, closed=()):
    w = _weights(ctx)
    if st["objective"] == "pmedian":
        full = np.where(np.isfinite(mat), mat, 10 * 3600.0).astype(np.float64)  # unreachable: 10 h penalty
        res = _solve("pmedian", full, w, cand, st, deadline, p=n_open, fixed=fixed_ids, closed=closed)
    else:
        radius = st["threshold"] * 60
        res = _solve("mclp", mat, w, cand, st, deadline, p=n_open, fixed=fixed_ids, closed=closed, radius=radius)
    _warn_status(res, what, progress)
    return res


def _relocate(ctx, mat, cand, st, posts, progress, deadline, label="", closed=()):
    """Best move of ``st["m"]`` of today's posts: one placement solve per combination of moved posts.

    ``closed``: posts closed in the optimised time slice; they are neither moved nor opened (moving
    one would re-open it). Returns ``(moved post indices, SolveResult, list of solve dicts,
    combinations tried, total)``; once ``deadline`` is spent no further combination is tried (the
    best of those tried is returned).
    """
    open_rows = [i for i in range(len(posts)) if posts.ids[i] not in closed]
    best, solves = None, []
    combos = list(itertools.combinations(open_rows, st["m"]))
    with progress.bar(len(combos), f"relocate{label}") as bar:
        for moved in combos:
            if best is not None and deadline.expired():
                break
            keep = [posts.ids[i] for i in open_rows if i not in moved]
            res = _place(
                ctx,
                mat,
                cand,
                st,
                keep,
                len(open_rows),
                progress,
                f"relocate {','.join(posts.ids[i] for i in moved)}{label}",
                deadline,
                closed=closed,
            )
            solves.append({**res.to_dict(), "moved": [posts.ids[i] for i in moved]})
            score = res.objective if st["objective"] == "coverage" else -res.objective
            if best is None or score > best[0] + 1e-9:
                best = (score, moved, res)
            bar.update(1)
    return best[1], best[2], solves, len(solves), len(combos)


def _check_share(sc: Scenario, st: StudySpec, mat: np.ndarray, w: np.ndarray) -> None:
    """``minimum``: refuse a share no choice of sites can reach (instead of an infeasible model)."""
    T = st["threshold"]
    reach = (mat <= T * 60.0).any(axis=0)
    total = float(w.sum())
    best = float(w[reach].sum()) / total if total > 0 else 0.0
    if st["share"] > best * (1 + 1e-9):
        raise ScenarioError(
            f"only {100 * best:.2f} % of the population with road data can be reached within "
            f"{T:g} min from any candidate site (all of them open); expected a share <= "
            f"{math.floor(best * 1e4) / 1e4:g} (or a larger threshold), got {st['share']:g}",
            source=str(sc.path),
            field="study.share",
        )


def _check_sizes(sc: Scenario, st: StudySpec, cand: Sites, n_posts: int, n_demand: int) -> None:
    """Refuse, before the matrix is computed, a study that asks for more sites than there are
    candidates or for a matrix that cannot fit in memory."""
    src = str(sc.path)
    n = len(cand.ids)
    if st["kind"] == "add" and n_posts + st["k"] > n:
        raise ScenarioError(
            f"expected at most {n - n_posts} new posts: there are {n} candidate sites of which "
            f"{n_posts} are today's posts, got k = {st['k']}",
            source=src,
            field="study.k",
        )
    if st["kind"] == "greenfield" and st["p_max"] > n:
        raise ScenarioError(
            f"expected at most {n} posts (the number of candidate sites), got p_max = {st['p_max']}",
            source=src,
            field="study.p_max",
        )
    copies = (2 if st["sensitivity"] else 1) * (8.0 if st["objective"] == "pmedian" else 1.5)
    require_memory(
        4.0 * n * n_demand * copies,
        f"the response-time matrix of {n:,} candidate sites x {n_demand:,} demand points"
        f"{' (p-median copies included)' if st['objective'] == 'pmedian' else ''}",
        source=src,
        field="study.spacing_m",
        error=ScenarioError,
    )


@dataclass
class StudyInput:
    """What every study kind works on: the scenario and its ``[study]`` spec, the zone context,
    today's posts, the candidate sites (today's posts first), their response-time matrix (cut at
    the covering threshold), full times on demand, today's coverage, the time limit and progress."""

    sc: Scenario
    st: StudySpec
    ctx: Context
    posts: Sites
    cand: Sites
    mat: np.ndarray
    full: FullTimes
    base: CoverageReport | None
    deadline: Deadline
    progress: Progress
    #: today's posts closed in the optimised time slice (closed in every slice of the mix): a
    #: relocate study does not move them and a close study does not rank them
    closed: list = field(default_factory=list)

    @property
    def n_posts(self) -> int:
        return len(self.posts)

    @property
    def today(self) -> CoverageReport:
        """Today's coverage (``base``), for a study with today's posts."""
        assert self.base is not None, "a study without today's posts has no coverage today"
        return self.base

    @property
    def post_rows(self) -> np.ndarray:
        return np.arange(self.n_posts)

    @property
    def th(self) -> list:
        return list(self.sc.thresholds_min)

    @property
    def T(self) -> float:
        return float(self.st["threshold"])

    @property
    def tkey(self) -> str:
        return f"{self.T:g}"

    @property
    def weights(self) -> np.ndarray:
        return _weights(self.ctx)

    def eval(self, rows) -> CoverageReport:
        return _eval(self.ctx, self.full, rows)

    def share_at(self, rep: CoverageReport, t: float | None = None) -> float:
        """Share of the population within ``t`` minutes (default the study's threshold)."""
        t = self.T if t is None else t
        ts = list(rep.thresholds_s)
        if t * 60 in ts:
            return float(rep.zone_weight_within[ts.index(t * 60)] / rep.total_weight)
        return float(np.sum(self.weights[rep.first_s <= t * 60]) / rep.total_weight)


@dataclass
class StudyOutcome:
    """What a study kind returns: its result (``summary.json``'s ``result``), its tables (CSV name
    -> rows), the solves it ran, and the sites it recommends (rows of the candidate table)."""

    result: dict
    tables: dict = field(default_factory=dict)
    solves: list = field(default_factory=list)
    chosen_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: a kind measuring something else than the first engine (add-vehicle): its before / after
    #: reports and the speed profile of its sites, for the per-municipality table, maps and layers
    reports: dict = field(default_factory=dict)
    profile: object = None


@dataclass
class StudyResult:
    """A finished study: its input, the kind's outcome and the summary written to ``summary.json``."""

    inp: StudyInput
    outcome: StudyOutcome
    summary: dict

    @property
    def result(self) -> dict:
        return self.outcome.result

    @property
    def chosen_sites(self) -> list:
        return [self.inp.cand.ids[r] for r in self.outcome.chosen_rows]


#: The study kinds: ``[study] kind`` -> the function solving it (see :func:`study_kind`).
STUDIES: dict[str, Callable[[StudyInput], StudyOutcome]] = {}


def study_kind(name: str):
    """Register a study kind: ``@study_kind("add")`` on a function ``StudyInput -> StudyOutcome``."""

    def deco(fn):
        STUDIES[name] = fn
        return fn

    return deco


@study_kind("add")
def study_add(inp: StudyInput) -> StudyOutcome:
    """Keep today's posts, open ``k`` new ones: the MCLP (or p-median) with today's posts fixed."""
    st, ctx, cand, posts, base, T, tkey = inp.st, inp.ctx, inp.cand, inp.posts, inp.today, inp.T, inp.tkey
    res = _place(ctx, inp.mat, cand, st, posts.ids, inp.n_posts + st["k"], inp.progress, "add", inp.deadline)
    new = [s for s in res.sites if s not in posts.ids]
    chosen_rows = np.array([cand.ids.index(s) for s in posts.ids + new])
    after = inp.eval(chosen_rows)
    w = inp.weights
    rows = []
    for s in new:
        j = cand.ids.index(s)
        rep1 = inp.eval(np.append(inp.post_rows, j))
        gained = (rep1.first_s <= T * 60) & ~(base.first_s <= T * 60)
        per_m = {}
        for mi, mname in enumerate(ctx.demand.municipality_names):
            g = float(w[(ctx.demand.municipality == mi) & gained].sum())
            if g > 0:
                per_m[mname] = round(g, 1)
        rows.append(
            {
                "site": s,
                "name": cand.names[j],
                "street": cand.street[j],
                "municipality": cand.municipality[j],
                "lon": round(cand.lon[j], 6),
                "lat": round(cand.lat[j], 6),
                "turnout_s": cand.turnout_s[j],
                f"newly_within_{tkey}min": round(float(w[gained].sum()), 1),
                f"share_within_{tkey}min_before": inp.share_at(base),
                f"share_within_{tkey}min_after": inp.share_at(rep1),
                "by_municipality": per_m,
            }
        )
    tables = {
        "new_sites.csv": [{k: v for k, v in r.items() if k != "by_municipality"} for r in rows],
        "new_sites_by_municipality.csv": [
            {"site": r["site"], "municipality": mname, f"newly_within_{tkey}min": g}
            for r in rows
            for mname, g in sorted(r["by_municipality"].items(), key=lambda kv: -kv[1])
        ],
    }
    result = {"new_sites": rows, "before": headline(base, inp.th), "after": headline(after, inp.th)}
    return StudyOutcome(result, tables, [res.to_dict()], chosen_rows)


@study_kind("close")
def study_close(inp: StudyInput) -> StudyOutcome:
    """Rank today's posts by the coverage lost when each one alone closes."""
    base, th, T, tkey, wt = inp.today, inp.th, inp.T, inp.tkey, inp.weights
    rows = []
    for i in range(inp.n_posts):
        if inp.posts.ids[i] in inp.closed:  # closing a post the slice has closed already loses nothing
            continue
        rep = inp.eval(np.delete(inp.post_rows, i))
        r = {"post": inp.posts.ids[i], "name": inp.posts.names[i]}
        for t, a, b in zip(th, base.zone_weight_within, rep.zone_weight_within):
            r[f"loss_within_{t:g}min"] = round(float(a - b), 1)
        if T not in th:  # rank on the study's threshold even when it is not a report threshold
            r[f"loss_within_{tkey}min"] = round(
                float(wt[base.first_s <= T * 60].sum() - wt[rep.first_s <= T * 60].sum()), 1
            )
        r[f"population_within_{tkey}min_before"] = round(float(wt[base.first_s <= T * 60].sum()), 1)
        r[f"population_within_{tkey}min_after"] = round(float(wt[rep.first_s <= T * 60].sum()), 1)
        r["mean_min_before"] = mins(base.mean_s)
        r["mean_min_after"] = mins(rep.mean_s)
        rows.append(r)
    key = f"loss_within_{tkey}min"
    rows.sort(key=lambda r: (r[key], r["post"]))
    for k, r in enumerate(rows):
        r["rank"] = k + 1
    result = {"ranking_by": key, "least_loss": rows[0]["post"], "most_loss": rows[-1]["post"], "ranking": rows}
    result.update(_closed_note(inp, "not ranked"))
    return StudyOutcome(result, {"close_ranking.csv": rows}, [], inp.post_rows)


def _closed_note(inp: StudyInput, what: str) -> dict:
    """The result keys naming the posts a slice study left out because the slice closes them."""
    if not inp.closed:
        return {}
    where = "every slice of the mix" if inp.st["slice"] == "mix" else f"time slice {inp.st['slice']!r}"
    return {
        "closed_in_slice": list(inp.closed),
        "closed_note": f"{', '.join(inp.closed)} {'is' if len(inp.closed) == 1 else 'are'} closed in {where}: {what}",
    }


@study_kind("relocate")
def study_relocate(inp: StudyInput) -> StudyOutcome:
    """Move ``m`` of today's posts: the best placement for every combination of moved posts."""
    st, cand, posts, tkey = inp.st, inp.cand, inp.posts, inp.tkey
    n_open = inp.n_posts - len(inp.closed)
    if st["m"] > n_open:
        raise ScenarioError(
            f"expected at most {n_open} moved post(s): {len(inp.closed)} of the {inp.n_posts} posts are closed in "
            f"the optimised time slice ({', '.join(inp.closed)}), got m = {st['m']}",
            source=str(inp.sc.path),
            field="study.m",
        )
    moved, res, solves, tried, total = _relocate(
        inp.ctx, inp.mat, cand, st, posts, inp.progress, inp.deadline, closed=inp.closed
    )
    if tried < total:
        _warn(
            f"relocate: the study time limit ({st['time_limit_s']:g} s) ran out after {tried} of {total} "
            f"combinations of moved posts; the answer is the best of those tried"
        )
    chosen_rows = np.array([cand.ids.index(s) for s in res.sites])
    after = inp.eval(chosen_rows)
    new_ids = [s for s in res.sites if s not in posts.ids]
    result = {
        "moved_posts": [posts.ids[i] for i in moved],
        "new_sites": [
            {
                "site": s,
                "name": cand.names[cand.ids.index(s)],
                "lon": round(cand.lon[cand.ids.index(s)], 6),
                "lat": round(cand.lat[cand.ids.index(s)], 6),
            }
            for s in new_ids
        ],
        "before": headline(inp.today, inp.th),
        "after": headline(after, inp.th),
        "combinations_tried": tried,
        "combinations_total": total,
        "complete": tried == total,
        **_closed_note(inp, "not moved (moving one would re-open it)"),
    }
    table = [
        {
            "moved_post": posts.ids[i],
            "post_name": posts.names[i],
            "to_site": s,
            "to_name": cand.names[cand.ids.index(s)],
            "to_street": cand.street[cand.ids.index(s)],
            "to_municipality": cand.municipality[cand.ids.index(s)],
            "to_lon": round(cand.lon[cand.ids.index(s)], 6),
            "to_lat": round(cand.lat[cand.ids.index(s)], 6),
            f"share_within_{tkey}min_before": inp.share_at(inp.today),
            f"share_within_{tkey}min_after": inp.share_at(after),
        }
        for i, s in zip(moved, new_ids)
    ]
    return StudyOutcome(result, {"relocation.csv": table}, solves, chosen_rows)


def frontier_workers(n_points: int) -> int:
    """Processes for a greenfield frontier: two where there are two cores and more than one point
    (the longest proof on one, the other points on the other: 53 s instead of 93 s for p = 8..16 on
    the zone, ``benchmarks/placement.py``); one on one core, and inside a worker process (a batch
    pool's or Dask's: its pool already uses the cores, and a daemonic process may not start any)."""
    import multiprocessing as mp
    import os

    if n_points < 2 or (os.cpu_count() or 1) < 2 or mp.parent_process() is not None or mp.current_process().daemon:
        return 1
    return 2


@study_kind("greenfield")
def study_greenfield(inp: StudyInput) -> StudyOutcome:
    """The best ``p`` posts from scratch for ``p = p_min..p_max`` (the MCLP frontier in one pass, or
    one p-median per ``p``), with today's network on the curve."""
    st, ctx, cand, deadline, tkey, T = inp.st, inp.ctx, inp.cand, inp.deadline, inp.tkey, inp.T
    curve: list[dict] = []
    solves: list = []
    chosen_rows = np.zeros(0, dtype=np.int64)
    ps = list(range(st["p_min"], st["p_max"] + 1))
    frontier = None
    with inp.progress.bar(len(ps), "greenfield p") as bar:
        if st["objective"] != "pmedian":
            # every p in one pass (shared reduction, each optimum the start of the next); the study's
            # time limit is shared evenly between the points; the bar advances as each point is solved

            def solved(p, status):
                bar.set_postfix_str(f"p={p} {status}")
                bar.update(1)

            prob = from_cost_matrix(inp.mat, inp.weights, site_ids=cand.ids)
            frontier = models.mclp_frontier(
                prob,
                ps,
                T * 60,
                time_limit=max(deadline.left(), 0.5) / len(ps),
                workers=frontier_workers(len(ps)),
                on_point=solved,
            )
        for k, p in enumerate(ps):
            if frontier is None and curve and deadline.expired():
                _warn(
                    f"greenfield: the study time limit ({st['time_limit_s']:g} s) ran out after p = {p - 1}; "
                    f"p = {p}..{st['p_max']} not solved"
                )
                break
            if frontier is None:
                bar.set_postfix_str(f"p={p}")
                res = _place(ctx, inp.mat, cand, st, [], p, inp.progress, f"greenfield p={p}", deadline)
                bar.update(1)
            else:
                res = frontier[k]
                _warn_status(res, f"greenfield p={p}", inp.progress)
            solves.append({**res.to_dict(), "p": p})
            chosen_rows = np.array([cand.ids.index(s) for s in res.sites])
            curve.append(
                {
                    "p": p,
                    f"share_within_{tkey}min": inp.share_at(inp.eval(chosen_rows)),
                    "status": res.status,
                    "gap": res.gap,
                    "sites": " ".join(res.sites),
                }
            )
    today = {"p": inp.n_posts, f"share_within_{tkey}min": inp.share_at(inp.today)} if inp.n_posts else None
    result = {"curve": curve, "today": today, "threshold_min": T, "complete": len(curve) == len(ps)}
    table = curve + ([{**today, "status": "today", "sites": " ".join(inp.posts.ids)}] if today else [])
    return StudyOutcome(result, {"frontier.csv": table}, solves, chosen_rows)


@study_kind("minimum")
def study_minimum(inp: StudyInput) -> StudyOutcome:
    """The fewest posts reaching everyone (or ``share``) within the threshold: the LSCP."""
    st, cand, T = inp.st, inp.cand, inp.T
    _check_share(inp.sc, st, inp.mat, inp.weights)
    res = _solve("lscp", inp.mat, inp.weights, cand, st, inp.deadline, radius=T * 60)
    _warn_status(res, "minimum", inp.progress)
    chosen_rows = np.array([cand.ids.index(s) for s in res.sites])
    result = {
        "posts_needed": len(res.sites),
        "share_required": st["share"],
        "threshold_min": T,
        "sites": res.sites,
        "after": headline(inp.eval(chosen_rows), inp.th),
    }
    if inp.n_posts:
        result["before"] = headline(inp.today, inp.th)
    table = [_site_row(cand, cand.ids.index(s)) for s in res.sites]
    return StudyOutcome(result, {"sites.csv": table}, [res.to_dict()], chosen_rows)


@study_kind("compare")
def study_compare(inp: StudyInput) -> StudyOutcome:
    """Planners' comparison of named sites, each added alone to today's posts; today as reference row."""
    ctx, cand, base, th, T, tkey = inp.ctx, inp.cand, inp.today, inp.th, inp.T, inp.tkey
    rows = [_compare_row(ctx, base, base, "today", "(today's posts)", th, T)]
    for j in range(inp.n_posts, inp.n_posts + len(inp.st["sites"])):
        rep = inp.eval(np.append(inp.post_rows, j))
        rows.append(_compare_row(ctx, base, rep, cand.ids[j], cand.names[j], th, T, cand))
    key = f"share_within_{tkey}min"
    for r in rows:
        r[f"change_vs_today_{tkey}min"] = r[key] - rows[0][key]
        r[f"population_gain_{tkey}min"] = round((r[key] - rows[0][key]) * base.total_weight, 1)
    rows[1:] = sorted(rows[1:], key=lambda r: -r[key])
    tables = {
        "comparison.csv": [{k: v for k, v in r.items() if k != "gain_by_municipality"} for r in rows],
        "comparison_by_municipality.csv": [
            {"site": r["site"], "municipality": mname, f"share_gain_within_{tkey}min": g}
            for r in rows[1:]
            for mname, g in sorted(r["gain_by_municipality"].items(), key=lambda kv: -kv[1])
        ],
    }
    return StudyOutcome({"sorted_by": key, "rows": rows}, tables, [], inp.post_rows)


@study_kind("add-vehicle")
def study_add_vehicle(inp: StudyInput) -> StudyOutcome:
    """Where should ``k`` more vehicles of one type stand (``[study] vehicle``)? Today's fleet stays
    (neighbouring posts included); candidates are today's posts without that type, the named sites
    and, when asked, generated sites; coverage is the first vehicle of the type, or the adequate
    ``response`` (complete when its last vehicle arrives: :func:`kazerne.placement_costs`)."""
    from ..coverage.fleet import placement_costs
    from .fleet import vehicle_study_base

    st, ctx, cand, posts, T, tkey = inp.st, inp.ctx, inp.cand, inp.posts, inp.T, inp.tkey
    vb = vehicle_study_base(ctx, posts)
    holder_ids = [vb.sites.ids[i] for i in vb.holders]
    rows = [j for j, sid in enumerate(cand.ids) if sid not in holder_ids]
    if st["k"] > len(rows):
        raise ScenarioError(
            f"k = {st['k']}: only {len(rows)} candidate sites without a {vb.vehicle}; add [[study.sites]] or "
            f"include_generated = true",
            source=str(inp.sc.path),
            field="study.k",
        )
    costs = placement_costs(inp.mat[rows], vb.holder_s, other_s=vb.other_s)
    sites = vb.sites.subset(vb.holders).concat(cand.subset(rows))
    res = _place(
        ctx, costs, sites, st, holder_ids, len(holder_ids) + st["k"], inp.progress, "add-vehicle", inp.deadline
    )
    new = [x for x in res.sites if x not in holder_ids]
    new_rows = [cand.ids.index(x) for x in new]
    full = travel_times(ctx.zone, cand.subset(new_rows), ctx.demand, vb.profile, clock=ctx.clock).seconds.astype(
        np.float64
    )
    nrd = ctx.demand.no_road_data

    def measure(extra):
        t = vb.holder_s if not len(extra) else np.vstack([vb.holder_s, full[extra]])
        first = t.min(axis=0) if len(t) else np.full(len(nrd), np.inf)
        out = first if vb.other_s is None else np.maximum(first, np.where(np.isnan(vb.other_s), np.inf, vb.other_s))
        return np.where(nrd, np.nan, out)

    def report(s):
        return evaluate(
            s[None, :],
            ctx.demand.weight,
            ctx.thresholds_s,
            no_road_data=nrd,
            municipality=ctx.demand.municipality,
            municipality_names=ctx.demand.municipality_names,
        )

    before = report(np.where(nrd, np.nan, vb.before_s))
    after = report(measure(list(range(len(new)))))
    w = inp.weights
    out_rows = []
    for k, sid in enumerate(new):
        j = new_rows[k]
        one = report(measure([k]))
        gained = (one.first_s <= T * 60) & ~(before.first_s <= T * 60)
        out_rows.append(
            {
                **_site_row(cand, j),
                "vehicle": vb.vehicle,
                f"newly_within_{tkey}min": round(float(w[gained].sum()), 1),
                f"share_within_{tkey}min_before": inp.share_at(before),
                f"share_within_{tkey}min_after": inp.share_at(one),
            }
        )
    post_rows = [cand.ids.index(x) for x in holder_ids if x in cand.ids]
    mrows = []
    for b, a in zip(municipality_rows(before, inp.th), municipality_rows(after, inp.th)):
        r = {"municipality": b["municipality"], "population": b["population"]}
        for t in inp.th:
            r[f"share_within_{t:g}min_before"] = b[f"share_within_{t:g}min"]
            r[f"share_within_{t:g}min_after"] = a[f"share_within_{t:g}min"]
        r["mean_min_before"], r["mean_min_after"] = b["mean_min"], a["mean_min"]
        mrows.append(r)
    result = {
        "measure": vb.label,
        "vehicle": vb.vehicle,
        "response": vb.response or None,
        "existing": holder_ids,
        "new_sites": out_rows,
        "before": headline(before, inp.th),
        "after": headline(after, inp.th),
        "fleet": vb.fleet.rows(vb.sites),
    }
    tables = {"new_vehicle_sites.csv": out_rows, "vehicle_municipalities.csv": mrows}
    return StudyOutcome(
        result,
        tables,
        [res.to_dict()],
        np.array(post_rows + new_rows, dtype=np.int64),
        reports={"before": before, "after": after},
        profile=vb.profile,
    )


def prepare_study(sc: Scenario, progress: Progress) -> StudyInput:
    """Load the zone, resolve today's posts, build the candidates and their response-time matrix."""
    st = sc.study
    if st is None:
        raise ScenarioError("the scenario has no [study] section", source=str(sc.path), field="study")
    ctx = load_context(sc, progress)
    posts = resolve_posts(ctx.zone, sc) if sc.posts else None
    if posts is None:
        posts = Sites(ids=[], names=[], node=np.zeros(0, int), lon=np.zeros(0), lat=np.zeros(0), turnout_s=np.zeros(0))
    progress.step("candidate sites")
    cand = build_candidates(ctx, posts, st)
    _check_sizes(sc, st, cand, len(posts), len(ctx.demand))
    progress.done("candidates")
    cutoff = (
        None
        if st["objective"] == "pmedian" or st["kind"] in ("close", "compare")
        else max(st["threshold"], max(sc.thresholds_min)) * 60.0
    )
    progress.step(f"response times from {len(cand.ids)} sites to {len(ctx.demand)} demand points")
    prof = None
    if st["kind"] == "add-vehicle":  # the candidates' times with the vehicle type's speed profile
        from ..coverage.fleet import vehicle_profile

        prof = vehicle_profile(ctx.profile, sc.fleet["types"][st["vehicle"]])
    if st["slice"] is None:
        mat = candidate_matrix(ctx, cand, cutoff, progress, profile=prof)
        full = FullTimes(ctx, cand)
    else:  # from the call, for one time slice or the hour-weighted mix (kazerne.scenarios.slices)
        from .slices import slice_study

        ctx, mat, full = slice_study(ctx, posts, cand, cutoff, progress)
    progress.done("matrix")
    _check_threshold(sc, st, mat)
    base = _eval(ctx, full, np.arange(len(posts))) if len(posts) else None
    closed = _closed_in_study(sc, posts) if st["slice"] is not None and len(posts) else []
    return StudyInput(sc, st, ctx, posts, cand, mat, full, base, Deadline(st["time_limit_s"]), progress, closed)


def _closed_in_study(sc: Scenario, posts: Sites) -> list:
    """Today's posts closed in the optimised slice (in every slice of the mix), in post order."""
    from .slices import slice_setups

    assert sc.study is not None
    chosen = [s for s in slice_setups(sc, posts) if sc.study["slice"] in ("mix", s.name)]
    return [p for p in posts.ids if chosen and all(p in s.closed for s in chosen)]


def _check_threshold(sc: Scenario, st: StudySpec, mat: np.ndarray) -> None:
    """Refuse a study threshold within which no candidate site reaches anyone (e.g. 0.1 min from the
    call, shorter than the call handling alone): every placement would be an arbitrary pick."""
    if st["kind"] in ("compare", "add-vehicle", "minimum") or mat.size == 0:  # minimum: its share check says it
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
    """Run the scenario's ``[study]``: the kind's function from :data:`STUDIES`, then the sensitivity
    analysis when asked; nothing is written (see :func:`write_study`)."""
    from ..checks import check_instance

    check_instance(sc, Scenario, "sc", "a Scenario (kz.parse_scenario(path))", error=ScenarioError)
    progress = progress or Progress(True)
    inp = prepare_study(sc, progress)
    st, kind = inp.st, inp.st["kind"]
    progress.step(f"study {kind}")
    with in_file(sc.path, MODEL_FIELDS, default="study"):  # model errors name scenario fields
        outcome = STUDIES[kind](inp)
        progress.done("study")
        if st.get("band", st["sensitivity"]) and kind in BAND_KINDS and st["slice"] is None:
            progress.step(
                "band: speed at the ends of its range" + (", turnout ±60 s, threshold ±1 min" * st["sensitivity"])
            )
            base = [inp.cand.ids[r] for r in outcome.chosen_rows]
            sens, band = run_band(
                lambda vs: _sensitivity(
                    inp.ctx, inp.posts, inp.cand, st, progress, kind, base, Deadline(st["time_limit_s"]), inp.closed, vs
                ),
                inp.ctx.profile,
                sc.call_handling_s,
                base,
                inp.posts.ids if kind == "add" else (),
            )
            outcome.result["band"] = band.summary()
            if st["sensitivity"]:
                outcome.result["sensitivity"] = sens
            progress.done("sensitivity")
        elif st.get("band") and kind in BAND_KINDS:
            outcome.result["band"] = {"verdict": "the speed band is not yet computed for a study of a time slice"}
    cand, n_posts = inp.cand, inp.n_posts
    summary = {
        "kazerne_version": __version__,
        "scenario": {"name": sc.name, "file": str(sc.path), "description": sc.description},
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "study": {k: v for k, v in st.items() if k != "sites"},
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
    if kind in BAND_KINDS and st["slice"] is None and len(outcome.chosen_rows):  # the headline's interval
        prof = outcome.profile or inp.ctx.profile
        summary["uncertainty"] = study_interval(inp.ctx, cand, outcome.chosen_rows, sc.call_handling_s, prof)
    return StudyResult(inp, outcome, summary)


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
            fs = kth_nearest(tt_sel.dense(), k=1)[1][0]
            assert tt_sel.node_seconds is not None  # keep_nodes=True
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


def _compare_row(ctx, base, rep, sid, name, th, t_study, cand=None):
    cand_ids = cand.ids if cand is not None else []
    w = _weights(ctx)
    r = {"site": sid, "name": name}
    if sid in cand_ids:
        j = cand_ids.index(sid)
        r.update(
            {
                "street": cand.street[j],
                "municipality": cand.municipality[j],
                "lon": round(float(cand.lon[j]), 6),
                "lat": round(float(cand.lat[j]), 6),
            }
        )
    for t, s in zip(th, rep.zone_share):
        r[f"share_within_{t:g}min"] = float(s)
    if t_study not in th:  # the study's threshold, sorted on, even when it is not a report threshold
        r[f"share_within_{t_study:g}min"] = float(w[rep.first_s <= t_study * 60].sum() / rep.total_weight)
    r["mean_min"] = mins(rep.mean_s)
    r["p90_min"] = mins(rep.p90_s)
    r[f"second_unit_within_{th[-1]:g}min"] = round(float(w[rep.second_s <= th[-1] * 60].sum()), 1)
    gains = {}  # share within the study's threshold T (which need not be in thresholds)
    in_now, in_base = rep.first_s <= t_study * 60, base.first_s <= t_study * 60
    for mi, mname in enumerate(ctx.demand.municipality_names):
        sel = ctx.demand.municipality == mi
        pop = float(w[sel].sum())
        if pop > 0:
            d = (float(w[sel & in_now].sum()) - float(w[sel & in_base].sum())) / pop
            if abs(d) > 1e-12:
                gains[mname] = round(d, 4)
    r["gain_by_municipality"] = gains
    return r


def _sensitivity(ctx, posts, cand, st, progress, kind, base_sites, deadline: Deadline, closed=(), band=None):
    """Re-solve under perturbed speed, turnout and threshold; report whether the recommended sites
    (``base_sites``: the study's answer) change. Variants not started before ``deadline`` are
    reported as not run (and do not count either way). ``band`` (:func:`kazerne.scenarios.band.band_variants`):
    the speed pair, alone unless ``study.sensitivity`` asks for the whole analysis."""
    variants = [
        ("speed -15%", {"speed_scale": ctx.profile.speed_scale * 0.85}, 0, 0),
        ("speed +15%", {"speed_scale": ctx.profile.speed_scale * 1.15}, 0, 0),
        ("turnout -60 s", {}, -60, 0),
        ("turnout +60 s", {}, 60, 0),
        ("threshold -1 min", {}, 0, -1),
        ("threshold +1 min", {}, 0, 1),
    ]
    if band is not None:
        variants = list(band) + (variants[2:] if st["sensitivity"] else [])
    if st["threshold"] <= 1.0:  # T - 1 min would be no threshold at all
        variants = [v for v in variants if v[0] != "threshold -1 min"]
    out: list[dict] = []
    n_posts = len(posts)
    bar = progress.bar(len(variants), "sensitivity")
    for label, prof_kw, dturn, dth in variants:
        if out and deadline.expired():
            out.append({"variant": label, "sites": None, "status": "not run (study time limit)", "same_sites": None})
            bar.update(1)
            continue
        prof = ctx.profile.with_overrides(**prof_kw) if prof_kw else ctx.profile
        c2 = cand.subset(range(len(cand)))
        c2.turnout_s = np.maximum(0.0, cand.turnout_s + dturn)
        st2 = dict(st, threshold=st["threshold"] + dth)
        cutoff = None if st["objective"] == "pmedian" else (st2["threshold"]) * 60.0
        mat = candidate_matrix(ctx, c2, cutoff, Progress(True), profile=prof)
        if kind == "add":
            res = _place(ctx, mat, c2, st2, posts.ids, n_posts + st["k"], progress, f"sensitivity {label}", deadline)
        elif kind == "greenfield":  # the largest p the study solved
            res = _place(ctx, mat, c2, st2, [], len(base_sites), progress, f"sensitivity {label}", deadline)
        elif kind == "minimum":
            res = _solve("lscp", mat, _weights(ctx), c2, st2, deadline, radius=st2["threshold"] * 60)
        else:  # relocate: the same search over which posts move, under the variant
            _, res, _, tried, total = _relocate(
                ctx, mat, c2, st2, posts, Progress(True), deadline, f" ({label})", closed=closed
            )
            if tried < total:
                _warn(f"sensitivity {label}: the time limit ran out after {tried} of {total} combinations")
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
        _warn(
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


def _write_study_report(tmp: Path, study: StudyResult) -> None:
    """Maps, report.html and layers.gpkg of the study (kazerne.report.council)."""
    from ..report.council import write_study_outputs
    from .context import report_options

    inp, summary, tables, chosen_rows = study.inp, study.summary, study.outcome.tables, study.outcome.chosen_rows
    outcome = study.outcome
    ctx, sc, posts, cand, base, full = inp.ctx, inp.sc, inp.posts, inp.cand, inp.base, inp.full

    opts = report_options(sc)
    if not any(opts[k] for k in ("maps", "report", "gpkg")):
        return
    res, st = summary["result"], summary["study"]
    kind, T = st["kind"], st["threshold"]
    n_posts = len(posts)
    after = _eval(ctx, full, chosen_rows) if len(chosen_rows) else None
    base, after = outcome.reports.get("before", base), outcome.reports.get("after", after)
    prof = outcome.profile or ctx.profile
    node_t = (
        travel_times(
            ctx.zone, cand.subset(chosen_rows), ctx.demand, prof, keep_nodes=True, clock=ctx.clock
        ).node_seconds
        if len(chosen_rows) and opts["gpkg"]
        else None
    )
    change_rows = change_first = None
    if kind == "close" and res.get("ranking"):
        i = posts.ids.index(res["ranking"][0]["post"])  # the cheapest closure
        change_rows = [i]
        change_first = _eval(ctx, full, np.delete(np.arange(n_posts), i)).first_s
    elif kind == "compare" and len(res.get("rows", [])) > 1:
        j = cand.ids.index(res["rows"][1]["site"])  # the best option
        change_rows = [j]
        change_first = _eval(ctx, full, np.append(np.arange(n_posts), j)).first_s
    frontier = None
    if kind == "greenfield":
        tk = f"share_within_{T:g}min"
        today = res.get("today")
        crews = sorted(set(_crew_kinds(posts)))
        frontier = {
            "p": [c["p"] for c in res["curve"]],
            "share": [c[tk] for c in res["curve"]],
            "status": [c["status"] for c in res["curve"]],
            "gap": [c["gap"] for c in res["curve"]],
            "today_p": today["p"] if today else None,
            "today_share": today[tk] if today else None,
            "note": f"Every post on the curve is assumed to have a {st['new_crew']} crew "
            f"({cand.turnout_s[len(posts)] if len(cand.ids) > n_posts else 0:g} s turnout)"
            + (
                f"; today's network (star) has {', '.join(crews)} posts (turnout by crew: "
                f"{', '.join(f'{k} {v:g} s' for k, v in sc.turnout_s.items())}), so part of the "
                "distance between the star and the curve is the crews, not the places."
                if today
                else "."
            ),
        }
    write_study_outputs(
        tmp,
        ctx,
        summary=summary,
        tables=tables,
        posts=posts,
        cand=cand,
        chosen_rows=chosen_rows,
        base_rep=base,
        after_rep=after,
        node_t=node_t,
        frontier=frontier,
        change_rows=change_rows,
        change_first_s=change_first,
        **opts,
    )


def _crew_kinds(posts) -> list:
    from ..report.council import crew_kind

    return [crew_kind(c) for c in posts.crew]


def _site_row(cand, j) -> dict:
    return {
        "site": cand.ids[j],
        "name": cand.names[j],
        "origin": cand.origin[j],
        "street": cand.street[j],
        "municipality": cand.municipality[j],
        "lon": round(float(cand.lon[j]), 6),
        "lat": round(float(cand.lat[j]), 6),
        "turnout_s": float(cand.turnout_s[j]),
    }


def print_study(summary: dict) -> None:
    """The study's answer on the terminal (the command line calls this; the library never prints)."""
    st = summary["study"]
    res = summary["result"]
    print(
        f"\n{summary['scenario']['name']}: study {st['kind']} at {st['threshold']:g} min, "
        f"{summary['candidates']['total']} candidate sites"
    )
    a = summary.get("assumptions", {})
    if a.get("thresholds_from") in ("call", "alarm"):
        from ..clock import Clock

        note = (f", time slice: {a['study_slice']}" if a.get("study_slice") else "") + (
            " (hour-weighted population of every slice)" if a.get("study_slice") == "mix" else ""
        )
        print("  " + Clock.from_assumptions(a).label("console", note=note))
    for s in summary["solves"][:3]:
        obj = "none" if s["objective"] is None else f"{s['objective']:,.1f}"
        gap = "n/a" if s["gap"] is None else f"{100 * s['gap']:.3g}%"
        print(f"  solve {s['model']}: {s['status']}, objective {obj}, gap {gap}, {s['seconds']:.2f} s ({s['solver']})")
    kind = st["kind"]
    if kind == "add":
        for r in res["new_sites"]:
            gain = r[f"newly_within_{st['threshold']:g}min"]
            print(
                f"  new site {r['site']} {r['name']} (lon {r['lon']}, lat {r['lat']}): "
                f"+{gain:,.0f} people within {st['threshold']:g} min"
            )
        tk = f"{st['threshold']:g}"
        if tk in res["after"]["share_within"]:
            print(
                f"  zone share within {tk} min: {pct(res['before']['share_within'][tk])} -> "
                f"{pct(res['after']['share_within'][tk])}"
            )
    elif kind == "add-vehicle":
        print(f"  measure: {res['measure']}; today's {st['vehicle']} at {', '.join(res['existing']) or 'no post'}")
        for r in res["new_sites"]:
            gain = r[f"newly_within_{st['threshold']:g}min"]
            print(
                f"  one more {st['vehicle']} at {r['site']} {r['name']} ({r['origin']}; lon {r['lon']}, lat {r['lat']}): "
                f"+{gain:,.0f} people within {st['threshold']:g} min"
            )
        rows = [
            [k]
            + [pct(res[k]["share_within"][f"{t:g}"]) for t in summary["assumptions"]["thresholds_min"]]
            + [res[k]["mean_response_min"]]
            for k in ("before", "after")
        ]
        hdr = ["", *(f"≤{t:g} min" for t in summary["assumptions"]["thresholds_min"]), "mean min"]
        print(text_table(rows, hdr))
    elif kind == "close":
        rows = [
            [r["rank"], r["post"], r["name"]] + [v for k, v in r.items() if k.startswith("loss_")]
            for r in res["ranking"]
        ]
        hdr = ["rank", "post", "name"] + [k for k in res["ranking"][0] if k.startswith("loss_")]
        print(text_table(rows, hdr))
    elif kind == "greenfield":
        for c in res["curve"]:
            print(f"  p={c['p']:3d}: {pct(list(c.values())[1])}  ({c['status']})")
        if res["today"]:
            print(f"  today p={res['today']['p']}: {pct(list(res['today'].values())[1])}")
    elif kind == "minimum":
        print(f"  posts needed: {res['posts_needed']}")
    elif kind == "relocate":
        print(f"  move {', '.join(res['moved_posts'])} to {', '.join(s['site'] for s in res['new_sites'])}")
    elif kind == "compare":
        print(
            text_table(
                [
                    [r["site"], r["name"][:30]]
                    + [pct(v) for k, v in r.items() if k.startswith("share_")]
                    + [r["mean_min"], r["p90_min"]]
                    for r in res["rows"]
                ],
                ["site", "name"] + [k for k in res["rows"][0] if k.startswith("share_")] + ["mean", "p90"],
            )
        )
    if res.get("closed_note"):
        print(f"  {res['closed_note']}")
    if "band" in res:
        print("\n".join(band_lines(res["band"], summary.get("uncertainty"))))
    if "sensitivity" in res:
        print(
            f"  sensitivity: recommendation {'CHANGES' if res['sensitivity']['recommendation_changes'] else 'is stable'}"
            f" under speed ±15 %, turnout ±60 s, threshold ±1 min"
        )
    print()
