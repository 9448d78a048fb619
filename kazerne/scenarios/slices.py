"""The response-time model of a scenario (``[response]``, ``[[slices]]``): call handling, turnout
distributions and time slices, through :mod:`kazerne.response`.

:func:`response_baseline` is what the baseline runner calls when a scenario has either section;
:func:`slice_setups` gives each slice's sites, turnout distributions and speed profile (the
studies use it too). Without the sections nothing here runs: a scenario is measured from the call
with its ``call_handling_s`` (default 90 s) and fixed turnouts, by the ordinary runner.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..calibration.uncertainty import combine, mix_ends, parameter_ranges, response_ends
from ..clock import Clock
from ..coverage.metrics import CoverageReport, evaluate_travel_times, mins
from ..report.intervals import mean_text, ranges_text, share_text
from ..report.tables import pct
from ..response import (
    DAY_NAMES,
    DEFAULT_TURNOUT_DIST,
    ResponseReport,
    TurnoutDist,
    evaluate_response,
    mix_reports,
    time_definition,
)
from ..routing.profiles import get_profile
from ..routing.travel import travel_times
from ..sites import Sites
from .resolve import in_file
from .schema import Scenario

__all__ = [
    "NATIONAL_MEAN_2019_MIN",
    "SliceSetup",
    "slice_setups",
    "response_baseline",
    "slice_rows",
    "print_response",
    "describe_days",
]

#: Published Belgian mean from the 112 call to the first arrival, 2019 (11:25) and 2020 (11:21), min.
NATIONAL_MEAN_2019_MIN = 11 + 25 / 60
NATIONAL_MEAN_2020_MIN = 11 + 21 / 60


class SliceSetup:
    """One time slice resolved against the zone: its open sites (turnout = each post's median),
    their turnout distributions, its speed profile, its share of the week."""

    def __init__(self, spec: dict, sites: Sites, dists: list, profile, closed: list):
        self.spec = spec
        self.name = spec["name"]
        self.sites = sites
        self.dists = dists
        self.profile = profile
        self.closed = closed
        self.hours_per_week = float(spec["hours_per_week"])
        self.weight = self.hours_per_week / 168.0


def describe_days(days) -> str:
    days = tuple(days)
    named = {(0, 1, 2, 3, 4): "Monday-Friday", (5, 6): "Saturday-Sunday", tuple(range(7)): "every day"}
    return named.get(days, ", ".join(DAY_NAMES[d].capitalize() for d in days))


def _hhmm(h: float) -> str:
    m = int(round(h * 60))
    return f"{m // 60:02d}:{m % 60:02d}"


def _crew_dist(sc: Scenario, spec: dict, crew: str) -> TurnoutDist:
    """The turnout distribution of a crew type in a slice: the slice's, the scenario's
    ``[response.turnout]``, or the default shape moved to the crew's ``[turnout]`` seconds."""
    assert sc.response is not None  # the schema always sets [response]
    if crew in spec.get("turnout", {}):
        return spec["turnout"][crew]
    if crew in sc.response["turnout"]:
        return sc.response["turnout"][crew]
    median = float(sc.turnout_s[crew])
    base = DEFAULT_TURNOUT_DIST.get(crew)
    return base.moved_to(median) if base is not None else TurnoutDist(median)


def _slice_sites(sc: Scenario, posts: Sites, spec: dict) -> tuple[Sites, list, list]:
    """(open sites with median turnouts, their distributions, closed ids) of one slice."""
    assert sc.response is not None  # the schema always sets [response]
    specs = {p.id: p for p in sc.posts}
    keep, dists, crews, closed = [], [], [], []
    for i, pid in enumerate(posts.ids):
        e = spec.get("posts", {}).get(pid, {})
        if e.get("closed"):
            closed.append(pid)
            continue
        crew0 = posts.crew[i]
        crew = e.get("crew", crew0)
        if e.get("dist") is not None:
            d = e["dist"]
        elif crew == crew0 and pid in sc.response["posts"]:
            d = sc.response["posts"][pid]
        else:
            d = _crew_dist(sc, spec, crew)
            own = specs[pid].turnout_s if pid in specs else None
            if crew == crew0 and own is not None:
                d = d.moved_to(own)
        if sc.response["turnout_model"] == "deterministic":
            d = d.deterministic()
        keep.append(i)
        dists.append(d)
        crews.append(crew)
    sites = posts.subset(keep)  # this slice's open posts, with its crews and median turnouts
    sites.turnout_s = np.array([d.median_s for d in dists], dtype=float)
    sites.crew = crews
    return sites, dists, closed


def slice_profile(sc: Scenario, period, slice_name: str | None = None):
    """The scenario's speed profile with the slice's period (``None``: free-flowing traffic), tagged
    with the slice when a road change of the scenario holds only in some slices."""
    pd = dict(sc.profile)
    name = pd.pop("name", "fire_engine")
    pd["period"] = period
    with in_file(sc.path):
        prof = get_profile(name, **pd)
    if slice_name is not None and any(c.slices for c in sc.network["changes"]):
        from ..routing.changes import in_slice

        prof = in_slice(prof, slice_name)
    return prof


def slice_setups(sc: Scenario, posts: Sites) -> list:
    """Every slice of ``sc`` (one whole-week slice when it has none) resolved for the open ``posts``
    (:func:`kazerne.scenarios.resolve.resolve_posts`)."""
    out = []
    assert sc.slices is not None  # resolved by the schema (one whole-week slice when none)
    for spec in sc.slices:
        sites, dists, closed = _slice_sites(sc, posts, spec)
        out.append(SliceSetup(spec, sites, dists, slice_profile(sc, spec["period"], spec["name"]), closed))
    return out


def reference_setup(sc: Scenario, posts: Sites, profile) -> SliceSetup:
    """The scenario's own posts, crews and ``[profile]`` (no slice changes): the median situation
    the maps and tables of a baseline show."""
    spec = {"name": "reference", "posts": {}, "turnout": {}, "hours_per_week": 168.0, "period": profile.period}
    sites, dists, closed = _slice_sites(sc, posts, spec)
    return SliceSetup(spec, sites, dists, profile, closed)


def _munis(rep: ResponseReport, th) -> list:
    rows = []
    for m in rep.municipalities:
        r = {"municipality": m["municipality"], "population": round(m["population"], 1)}
        for t, s in zip(th, m["share_within"]):
            r[f"share_within_{t:g}min"] = s
        r["mean_min"] = mins(m["mean_s"])
        rows.append(r)
    return rows


def _zone(rep: ResponseReport, th) -> dict:
    return {
        "population_with_road_data": rep.total_weight,
        "expected_share_within": {f"{t:g}": float(s) for t, s in zip(th, rep.zone_share)},
        "expected_population_within": {f"{t:g}": float(s) for t, s in zip(th, rep.zone_weight_within)},
        "mean_response_min": mins(rep.mean_s),
    }


def response_baseline(ctx, posts: Sites, progress) -> tuple[Sites, CoverageReport, np.ndarray | None, dict]:
    """The baseline under the response-time model: ``(posts with median turnouts, the deterministic
    report from the call with medians — for the maps and tables —, its node times, the
    ``response_model`` block of summary.json)`` with each slice and the hour-weighted mix."""
    sc = ctx.sc
    th = list(sc.thresholds_min)
    ch = float(sc.call_handling_s)
    d = ctx.demand
    ref = reference_setup(sc, posts, ctx.profile)
    tt_ref = travel_times(ctx.zone, ref.sites, d, ctx.profile, keep_nodes=True)
    alarm = evaluate_travel_times(tt_ref, d, th)  # the old definition: from the alarm, fixed turnout
    from_call = tt_ref.shifted(ch)
    rep = evaluate_travel_times(from_call, d, th)
    setups = slice_setups(sc, posts)
    reports, ends = [], []
    ranges = parameter_ranges(ctx.profile, ch)
    for s in setups:
        progress.step(f"slice {s.name}: {len(s.sites)} posts, speeds {s.profile.period or 'free-flowing'}")
        same = s.profile.key() == ctx.profile.key() and list(s.sites.ids) == list(ref.sites.ids)
        if same and np.array_equal(s.sites.turnout_s, ref.sites.turnout_s):
            tt = tt_ref
        else:
            tt = travel_times(ctx.zone, s.sites, d, s.profile)
        r = evaluate_response(tt, d, s.dists, th, ch, name=s.name)
        r.weight = s.weight
        reports.append(r)
        progress.step(f"slice {s.name}: interval (speed, call handling, turnout at the ends of their ranges)")
        ends.append(response_ends(tt, s.dists, s.sites.crew, d, th, ranges, ch, central=r))
    mix = mix_reports(reports) if len(reports) > 1 else None
    progress.done("response_model")
    slices = []
    for s, r, e in zip(setups, reports, ends):
        sl = s.spec["slice"]
        slices.append(
            {
                "name": s.name,
                "days": describe_days(sl.days),
                "hours": f"{_hhmm(sl.start_h)}-{_hhmm(sl.end_h)}",
                "hours_per_week": s.hours_per_week,
                "week_share": s.weight,
                "speed_period": s.profile.period,
                "open_posts": list(s.sites.ids),
                "closed_posts": s.closed,
                "crew_by_post": dict(zip(s.sites.ids, s.sites.crew)),
                "turnout_by_post": {i: t.describe() for i, t in zip(s.sites.ids, s.dists)},
                "zone": _zone(r, th),
                "uncertainty": combine(e, th, ranges),
                "municipalities": _munis(r, th),
            }
        )
    crews = sorted(set(ref.sites.crew))
    block = {
        "definition": time_definition(ch)["response_time"],
        "call_handling_s": ch,
        "turnout_model": sc.response["turnout_model"],
        "turnout_by_crew": {
            c: _crew_dist(sc, {"turnout": {}}, c).describe()
            if sc.response["turnout_model"] == "distribution"
            else _crew_dist(sc, {"turnout": {}}, c).deterministic().describe()
            for c in crews
        },
        "coverage": "expected shares: per demand point the probability that the first unit arrives within T "
        "(posts' turnouts independent), weighted by population; the mix weights each slice by its hours "
        "per week (calls taken as uniform over the week)",
        "slices": slices,
        "mix": None
        if mix is None
        else {
            "zone": _zone(mix, th),
            "uncertainty": combine(mix_ends(ends, [s.weight for s in setups]), th, ranges),
            "municipalities": _munis(mix, th),
        },
        "uncertainty_assumption": ranges_text(ranges),
        "reference_from_call_median_turnout": {
            "share_within": {f"{t:g}": float(x) for t, x in zip(th, rep.zone_share)},
            "mean_response_min": mins(rep.mean_s),
            "note": "the scenario's posts and [profile], every turnout at its median: the maps and tables",
        },
        "reference_from_alarm": {
            "share_within": {f"{t:g}": float(x) for t, x in zip(th, alarm.zone_share)},
            "mean_response_min": mins(alarm.mean_s),
            "note": "the old definition: fixed turnout (the medians), no call handling",
        },
        "national_mean_from_call_min": {
            "2019": round(NATIONAL_MEAN_2019_MIN, 3),
            "2020": round(NATIONAL_MEAN_2020_MIN, 3),
        },
    }
    return ref.sites, rep, from_call.node_seconds, block


def assumption_updates(block: dict) -> dict:
    """What the response model changes in the ``assumptions`` of summary.json."""
    return {
        **time_definition(block["call_handling_s"]),
        "turnout_s_by_crew": {c: t["median_s"] for c, t in block["turnout_by_crew"].items()},
        "turnout_model": block["turnout_model"],
        "turnout_distribution_by_crew": block["turnout_by_crew"],
        "time_slices": [
            {k: s[k] for k in ("name", "days", "hours", "hours_per_week", "speed_period")} for s in block["slices"]
        ],
    }


def slice_rows(block: dict, th) -> list:
    """``slices.csv``: per slice (and the mix) the zone row and each municipality: expected shares
    within each threshold from the call, mean response from the call (min)."""
    rows = []
    parts = [(s["name"], s["week_share"], s) for s in block["slices"]]
    if block.get("mix"):
        parts.append(("mix", 1.0, block["mix"]))
    for name, share, part in parts:
        z = part["zone"]
        head = {
            "slice": name,
            "week_share": round(share, 4),
            "municipality": "zone",
            "population": round(z["population_with_road_data"], 1),
        }
        unc = part.get("uncertainty")
        for t in th:
            head[f"share_within_{t:g}min"] = z["expected_share_within"][f"{t:g}"]
            if unc:
                head[f"share_within_{t:g}min_low"], head[f"share_within_{t:g}min_high"] = unc["share_within"][f"{t:g}"]
        head["mean_min"] = z["mean_response_min"]
        if unc:
            head["mean_min_low"], head["mean_min_high"] = unc["mean_response_min"]
        rows.append(head)
        for m in part["municipalities"]:
            rows.append({"slice": name, "week_share": round(share, 4), **m})
    return rows


def print_response(block: dict, th) -> None:
    """The console table of the response model (the CLI's runner prints it)."""
    for line in response_lines(block, th):
        print(line)


def response_lines(block: dict, th) -> list[str]:
    """The lines of the response model's console table."""
    lines = []
    from ..report.tables import text_table

    clock = Clock(block["call_handling_s"])
    lines.append("\n" + clock.label("console", turnout=f"({block['turnout_model']})", note="; expected shares"))
    rows = []
    for s in block["slices"]:
        z = s["zone"]
        rows.append(
            [
                s["name"],
                f"{s['days']} {s['hours']}",
                f"{s['hours_per_week']:g}",
                s["speed_period"] or "free",
                len(s["open_posts"]),
            ]
            + [pct(z["expected_share_within"][f"{t:g}"]) for t in th]
            + [z["mean_response_min"]]
        )
    if block.get("mix"):
        z = block["mix"]["zone"]
        rows.append(
            ["mix (hour-weighted)", "", "168", "", ""]
            + [pct(z["expected_share_within"][f"{t:g}"]) for t in th]
            + [z["mean_response_min"]]
        )
    ref = block["reference_from_alarm"]
    rows.append(
        ["from the alarm (0.2)", "from the alarm, fixed turnout", "", "", ""]
        + [pct(ref["share_within"][f"{t:g}"]) for t in th]
        + [ref["mean_response_min"]]
    )
    lines.append(
        text_table(rows, ["slice", "when", "h/week", "speeds", "posts"] + [f"≤{t:g} min" for t in th] + ["mean min"])
    )
    lines.extend(interval_lines(block, th))
    nat = block["national_mean_from_call_min"]
    lines.append(
        f"published Belgian mean from the call to the first arrival: 2019 11:25 ({nat['2019']:.2f} min), 2020 11:21"
    )
    return lines


def interval_lines(block: dict, th) -> list:
    """The console's lines of the slices' and the mix's intervals (with their assumption)."""
    parts = [(s["name"], s.get("uncertainty")) for s in block["slices"]]
    if block.get("mix"):
        parts.append(("mix (hour-weighted)", block["mix"].get("uncertainty")))
    parts = [(n, u) for n, u in parts if u]
    if not parts:
        return []
    out = [f"intervals ({parts[0][1]['assumption']}):"]
    for name, u in parts:
        out.append(f"  {name}: " + ", ".join(share_text(u, t) for t in th) + f"; {mean_text(u)}")
    return out


# ------------------------------------------------------------------------------------------------
# studies: optimise for one slice or the hour-weighted mix (deterministic model, from the call)
# ------------------------------------------------------------------------------------------------


def _study_turnouts(sc: Scenario, st: dict, setup: SliceSetup, cand: Sites, n_posts: int, posts: Sites) -> np.ndarray:
    """Median turnout of every candidate row in one slice (``inf`` marks a post closed in it):
    today's posts as the slice has them, named sites by their own turnout_s / crew, every other
    candidate the slice's median for ``study.new_crew`` (or ``study.new_turnout_s``)."""
    spec = setup.spec
    med = {i: t.median_s for i, t in zip(setup.sites.ids, setup.dists)}
    out = np.empty(len(cand.ids))
    new = st.get("new_turnout_s")
    new = float(new) if new is not None else _crew_dist(sc, spec, st["new_crew"]).median_s
    for r in range(len(cand.ids)):
        out[r] = new
    for r in range(n_posts):
        out[r] = med.get(posts.ids[r], np.inf)
    from ..sites import crew_type

    for k, sd in enumerate(st["sites"]):
        r = n_posts + k
        if "turnout_s" in sd:
            out[r] = float(sd["turnout_s"])
        elif "crew" in sd:
            out[r] = _crew_dist(sc, spec, crew_type(sd["crew"])).median_s
    return out


class SliceTimes:
    """Full response times (from the call, no cutoff) of candidate rows, the slices' columns side by
    side: the ``full`` of a study under the response model."""

    def __init__(self, ctx_zone, demand, cand: Sites, parts: list, call_handling_s: float):
        self.zone, self.demand, self.cand, self.parts, self.ch = ctx_zone, demand, cand, parts, call_handling_s
        self.rows: dict = {}

    def __call__(self, rows) -> np.ndarray:
        rows = [int(r) for r in np.atleast_1d(rows)]
        todo = [r for r in dict.fromkeys(rows) if r not in self.rows]
        if todo:
            blocks = []
            for profile, turnout in self.parts:
                sub = self.cand.subset(todo)
                t = turnout[todo]
                sub.turnout_s = np.where(np.isfinite(t), t, 0.0)
                m = travel_times(self.zone, sub, self.demand, profile, call_handling_s=self.ch).seconds
                m = np.asarray(m, dtype=np.float64)
                m[~np.isfinite(t)] = np.inf
                blocks.append(m)
            full = np.hstack(blocks)
            for k, r in enumerate(todo):
                self.rows[r] = full[k]
        return np.vstack([self.rows[r] for r in rows]) if rows else np.zeros((0, len(self.demand) * len(self.parts)))


def _stack_demand(demand, shares: list):
    """The demand repeated once per slice, weights scaled by each slice's share of the week."""
    from dataclasses import replace

    k = len(shares)
    if k == 1:
        return demand
    rep = {
        f: np.concatenate([getattr(demand, f)] * k)
        for f in ("x", "y", "lon", "lat", "municipality", "node", "snap_m", "no_road_data", "in_gap")
    }
    for f in ("edge", "frac", "gap_shadow", "gap_shadow_estimate_s"):  # issue 23's fields, when known
        if getattr(demand, f) is not None:
            rep[f] = np.concatenate([getattr(demand, f)] * k)
    rep["weight"] = np.concatenate([demand.weight * s for s in shares])
    return replace(demand, **rep, meta={**demand.meta, "stacked_slices": k})


def slice_study(ctx, posts: Sites, cand: Sites, cutoff_s, progress):
    """``(ctx, matrix, full times)`` of a study under the response model: times from the call
    (call handling + the slice's median turnouts + driving at the slice's speeds; posts closed in a
    slice never arrive), for ``study.slice`` or — ``mix`` — every slice's columns side by side with
    the population weighted by the slice's share of the week (the MCLP then maximises the
    hour-weighted covered population). The returned context carries the (stacked) demand and the
    slice's profile (the scenario's for the mix)."""
    from .context import Context

    sc = ctx.sc
    st = sc.study
    ch = float(sc.call_handling_s)
    setups = slice_setups(sc, posts)
    chosen = setups if st["slice"] == "mix" else [s for s in setups if s.name == st["slice"]]
    parts, blocks = [], []
    for s in chosen:
        turnout = _study_turnouts(sc, st, s, cand, len(posts), posts)
        progress.step(f"slice {s.name}: response times from {len(cand.ids)} sites")
        sub = Sites(**{**cand.__dict__, "turnout_s": np.where(np.isfinite(turnout), turnout, 0.0)})
        bar = progress.bar(len(cand.ids), f"travel times ({s.name})")
        try:
            tt = travel_times(ctx.zone, sub, ctx.demand, s.profile, cutoff_s=cutoff_s, progress=bar, call_handling_s=ch)
        finally:
            bar.close()
        m = tt.seconds.astype(np.float32)
        m[~np.isfinite(turnout)] = np.inf
        blocks.append(m)
        parts.append((s.profile, turnout))
    total = sum(c.weight for c in chosen)
    demand = _stack_demand(ctx.demand, [c.weight / total for c in chosen])
    if len(chosen) > 1:  # a cell has one time per slice: no single map or GeoPackage layer of the mix
        sc.outputs = dataclasses.replace(sc.outputs, map=False, gpkg=False)
    profile = chosen[0].profile if len(chosen) == 1 else ctx.profile
    new_ctx = Context(sc=sc, zone=ctx.zone, profile=profile, demand=demand, thresholds_s=ctx.thresholds_s)
    full = SliceTimes(ctx.zone, ctx.demand, cand, parts, ch)
    return new_ctx, np.hstack(blocks) if len(blocks) > 1 else blocks[0], full


def study_assumptions(sc: Scenario) -> dict:
    """What the response model changes in a study's assumptions."""
    st = sc.study
    assert st is not None and sc.slices is not None  # called for a [study] with slices
    sl = [s for s in sc.slices if st["slice"] in ("mix", s["name"])]
    return {
        **time_definition(sc.call_handling_s),
        "turnout_model": "each turnout at its median (the study optimises the deterministic model)",
        "study_slice": st["slice"],
        "time_slices": [
            {
                "name": s["name"],
                "days": describe_days(s["slice"].days),
                "hours": f"{_hhmm(s['slice'].start_h)}-{_hhmm(s['slice'].end_h)}",
                "hours_per_week": s["hours_per_week"],
                "speed_period": s["period"],
            }
            for s in sl
        ],
        "mix": "the population of each slice weighted by its share of the week (hours); shares and means are "
        "hour-weighted; no map or GeoPackage (a cell has one time per slice)"
        if st["slice"] == "mix"
        else None,
    }
