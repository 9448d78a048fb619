"""What every study kind works with: candidate sites, their response-time matrix, full times on
demand, the models' solves under one deadline, and the input / outcome / result records.

The study kinds (:mod:`kazerne.scenarios.study_kinds`) import this module; the pipeline that runs
them (prepare, sensitivity, write, print) is :mod:`kazerne.scenarios.studies`.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import numpy as np

from ..coverage import models
from ..coverage.metrics import CoverageReport, evaluate
from ..coverage.problem import from_cost_matrix
from ..errors import ScenarioError
from ..progress import Progress
from ..routing.travel import travel_times
from ..sites import Sites
from .context import Context
from .resolve import resolve_site, turnout_for
from .schema import Scenario, crew_type
from .study_kinds import StudySpec

__all__ = [
    "Deadline",
    "FullTimes",
    "StudyInput",
    "StudyOutcome",
    "StudyResult",
    "Variant",
    "build_candidates",
    "candidate_matrix",
    "closed_note",
    "demand_weights",
    "evaluate_rows",
    "place",
    "relocate_search",
    "rows_of",
    "site_row",
    "solve_model",
    "warn",
    "warn_status",
]


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
    assert posts.edge is not None and posts.frac is not None  # set by Sites.__post_init__
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
        self.rows: dict[int, np.ndarray] = {}

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


def evaluate_rows(ctx: Context, full: FullTimes, rows) -> CoverageReport:
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


def demand_weights(ctx):
    return np.where(ctx.demand.no_road_data, 0.0, ctx.demand.weight)


def solve_model(kind, mat, w, cand, st, deadline: Deadline, *, p=None, fixed=(), closed=(), radius=None):
    prob = from_cost_matrix(mat, w, site_ids=cand.ids, fixed=list(fixed), closed=list(closed))
    tl = max(deadline.left(), 0.5)  # a solve that is started gets at least half a second
    if kind == "mclp":
        return models.mclp(prob, p, radius, time_limit=tl)
    if kind == "pmedian":
        return models.pmedian(prob, p, time_limit=tl, heuristic_seconds=min(10.0, tl / 4))
    if kind == "lscp":
        return models.lscp(prob, radius, coverage=st["share"], time_limit=tl)
    raise ValueError(kind)


def warn(msg: str) -> None:
    """A study result the user must know about (a time limit, an incomplete sweep): ``warnings.warn``;
    the command line shows it as one ``kazerne: warning:`` line."""
    import warnings

    from ..errors import KazerneWarning

    warnings.warn(msg, KazerneWarning, stacklevel=2)


def warn_status(res, what: str, progress: Progress) -> None:
    if res.status != "optimal":
        gap = f"{100 * res.gap:.2f}%" if res.gap == res.gap else "unknown"
        warn(
            f"{what}: solve stopped by the study time limit before proving optimality (status {res.status}, gap {gap})"
        )


def place(ctx, mat, cand, st, fixed_ids, n_open, progress, what, deadline, closed=()):
    w = demand_weights(ctx)
    if st["objective"] == "pmedian":
        full = np.where(np.isfinite(mat), mat, 10 * 3600.0).astype(np.float64)  # unreachable: 10 h penalty
        res = solve_model("pmedian", full, w, cand, st, deadline, p=n_open, fixed=fixed_ids, closed=closed)
    else:
        radius = st["threshold"] * 60
        res = solve_model("mclp", mat, w, cand, st, deadline, p=n_open, fixed=fixed_ids, closed=closed, radius=radius)
    warn_status(res, what, progress)
    return res


def relocate_search(ctx, mat, cand, st, posts, progress, deadline, label="", closed=()):
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
            res = place(
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
    def base_report(self) -> CoverageReport:
        """Today's coverage, for a kind that has today's posts (``needs_posts``, or ``n_posts`` checked)."""
        assert self.base is not None, "today's coverage needs today's posts"
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
        return demand_weights(self.ctx)

    def eval(self, rows) -> CoverageReport:
        return evaluate_rows(self.ctx, self.full, rows)

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


def site_row(cand, j) -> dict:
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


def closed_note(inp: StudyInput, what: str) -> dict:
    """The result keys naming the posts a slice study left out because the slice closes them."""
    if not inp.closed:
        return {}
    where = "every slice of the mix" if inp.st["slice"] == "mix" else f"time slice {inp.st['slice']!r}"
    return {
        "closed_in_slice": list(inp.closed),
        "closed_note": f"{', '.join(inp.closed)} {'is' if len(inp.closed) == 1 else 'are'} closed in {where}: {what}",
    }


@dataclass
class Variant:
    """One sensitivity variant a kind re-solves (:meth:`StudyKind.resolve`): the perturbed
    candidates and their matrix, the spec with the perturbed threshold, today's posts, the sites the
    study recommended, the variant's label ("speed -15%"), the deadline, the posts closed in the slice."""

    ctx: Context
    mat: np.ndarray
    cand: Sites
    st: StudySpec
    posts: Sites
    base_sites: list
    label: str
    deadline: Deadline
    closed: tuple = ()
    progress: Progress = field(default_factory=lambda: Progress(True))


def rows_of(cand: Sites, ids) -> np.ndarray:
    """The candidate rows of site ids ``ids`` (in their order)."""
    return np.array([cand.ids.index(s) for s in ids], dtype=np.int64)
