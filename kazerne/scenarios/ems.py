"""EMS studies (``[ems]`` in a scenario file): ambulances, PIT and MUG teams.

Kinds:

* ``ems-evaluate`` — a stated placement (``[[ems.units]]``: base and count) against the norm
  (default: on scene within 15 minutes for 90 % of calls), with busy units taken into account by
  Larson's hypercube approximation (nearest available unit; calls finding every unit busy wait and
  count as not within T); per municipality as well;
* ``ems-place`` — where should ``n_units`` units stand (MEXCLP with the system-wide busy fraction,
  then evaluated with the hypercube);
* ``pit-add`` — today's units stay, where does one more unit bring the most (MEXCLP with today's
  units as minimum counts).

Calls per year (for the unit type, in the zone) are spread over the demand like population; with a
mean mission time they give the busy fractions. Bases are the pack's medical sites and fire posts
with a known position, plus ``[[ems.bases]]`` entries (id, name, lat/lon or street) — which also
give a position to a pack site whose position is unknown (e.g. the PIT Merelbeke).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..clock import Clock
from ..coverage import ems as ems_models
from ..coverage.metrics import share_key
from ..coverage.problem import from_cost_matrix
from ..coverage.queueing import hypercube_approx, system_busy_fraction
from ..errors import ScenarioError
from ..jsonsafe import json_safe as _json_safe
from ..progress import Progress
from ..report.geo import write_geojson
from ..report.tables import text_table
from ..routing.travel import travel_times
from ..sites import Sites
from .context import assumptions, load_context
from .kinds import RunResult
from .output import Table
from .resolve import in_file, resolve_site
from .schema import Scenario
from .sections import EmsSection

__all__ = ["EMS", "EmsKind", "console_lines", "ems_bases"]

#: How reports name the placement models.
MODEL_NAMES = {"mexclp": "MEXCLP", "malp": "MALP I", "malp2": "MALP II"}

#: Queueing / model argument -> scenario field, so that an error names what the user wrote.
MODEL_FIELDS = {
    "arrival_rate": "ems.calls_per_year",
    "calls_per_year": "ems.calls_per_year",
    "n_units": "ems.n_units",
    "capacity": "ems.capacity_per_base",
    "min_units": "ems.units",
    "time_limit": "ems.time_limit_s",
    "unit_bases": "ems.units",
    "weights": "demand",
}


def ems_bases(ctx, sc: Scenario) -> tuple[Sites, list[str]]:
    """The EMS bases, each on its street (as every site: the nearest point of the nearest public
    road), and the ids skipped for want of a position: the pack's medical sites and posts (located
    ones), plus the scenario's ``[[ems.bases]]``."""
    e = sc.ems
    assert e is not None  # an [ems] run
    pack = ctx.zone.pack
    entries = {}
    for s in list(pack.medical_sites) + list(pack.posts):
        entries[s.id] = {
            "id": s.id,
            "name": s.name,
            "lat": s.lat,
            "lon": s.lon,
            "street": None,
            "municipality": s.municipality,
        }
    for k, b in enumerate(e.bases):
        fld = f"ems.bases[{k}]"
        cur = entries.get(
            b.id, {"id": b.id, "name": b.id, "lat": None, "lon": None, "street": None, "municipality": None}
        )
        cur = dict(
            cur,
            name=b.name if b.name is not None else cur["name"],
            lat=b.lat,
            lon=b.lon,
            street=b.street,
            municipality=b.municipality if b.municipality is not None else cur["municipality"],
            fld=fld,
        )
        entries[cur["id"]] = cur
    ids, names, nodes, lons, lats, skipped, edges, fracs = [], [], [], [], [], [], [], []
    for bid, b in entries.items():
        if b.get("fld") is None and not (b["lat"] is not None and np.isfinite(b["lat"])):
            skipped.append(bid)  # position unknown and not given
            continue
        lo, la, node, _, edge, frac = resolve_site(
            ctx.zone,
            sc,
            field=b.get("fld", f"base {bid}"),
            lat=b["lat"],
            lon=b["lon"],
            street=b["street"],
            municipality=b["municipality"] if b["street"] else None,
            on_street=True,
        )
        edges.append(edge)
        fracs.append(frac)
        ids.append(bid)
        names.append(b["name"])
        nodes.append(node)
        lons.append(lo)
        lats.append(la)
    bases = Sites(
        ids=ids,
        names=names,
        node=np.array(nodes, dtype=np.int64),
        lon=np.array(lons),
        lat=np.array(lats),
        turnout_s=np.full(len(ids), float(e.turnout_s)),
        edge=np.array(edges, dtype=np.int64),
        frac=np.array(fracs, dtype=float),
    )
    return bases, skipped


def _units(e, ids, sc):
    counts = np.zeros(len(ids), dtype=int)
    for k, u in enumerate(e.units):
        fld = f"ems.units[{k}]"
        if u.base not in ids:
            raise ScenarioError(
                f"unknown or unlocated base {u.base!r}; known: {', '.join(ids)} (give a position under [[ems.bases]])",
                source=str(sc.path),
                field=f"{fld}.base",
            )
        counts[ids.index(u.base)] += u.count
    return counts


def _evaluate(mat, w, counts, e, muni, names):
    unit_bases = np.repeat(np.arange(len(counts)), counts)
    n = len(unit_bases)
    service = e.mission_minutes * 60.0
    if e.calls_per_year is not None:
        rate = e.calls_per_year / (365.0 * 24 * 3600)
    else:
        rate = e.busy_fraction * n / service
    hc = hypercube_approx(mat, w, unit_bases, rate, service, queue=True)
    T = e.threshold * 60
    p = hc.prob_within(T)
    det = (mat[unit_bases].min(axis=0) <= T) if n else np.zeros(mat.shape[1], bool)
    per = []
    for i, nm in enumerate(names):
        sel = muni == i
        ws = w[sel].sum()
        per.append(
            {
                "municipality": nm,
                "population": round(float(ws), 1),
                share_key(e.threshold, "_busy_aware"): float(np.dot(w[sel], p[sel]) / ws) if ws else None,
                share_key(e.threshold, "_if_all_free"): float(w[sel][det[sel]].sum() / ws) if ws else None,
            }
        )
    share = hc.share_within(T)
    return (
        {
            "units": int(n),
            "arrival_rate_per_hour": rate * 3600,
            "mean_busy_fraction": hc.mean_busy(),
            "unit_busy_fraction": [float(b) for b in hc.busy],
            "p_all_busy": hc.p_all_busy,
            "share_within_busy_aware": share,
            "share_within_if_all_free": float(w[det].sum() / w.sum()),
            "norm_share": e.norm_share,
            "meets_norm": bool(share >= e.norm_share),
        },
        per,
        p,
    )


def _simulate_study(ctx, sc, e, bases, mat, w, counts, muni, progress) -> dict:
    """The study's top placements through the dispatch simulation (kazerne.scenarios.ems_sim)."""
    from .ems_sim import pit_add_candidates, simulate_placements

    ids = list(bases.ids)
    n = int(counts.sum())
    if e.busy_fraction is not None:
        q = e.busy_fraction
    else:
        q = system_busy_fraction(e.calls_per_year, e.mission_minutes, max(n, 1))
    kind = e.kind
    if kind == "pit-add":
        today = _units(e, ids, sc)
        added = np.flatnonzero(counts > today)
        chosen = int(added[0]) if added.size else None
        cap = e.capacity_per_base
        cands = pit_add_candidates(mat, w, today, chosen, q, e.threshold * 60.0, e.simulate.candidates, cap)
        placements = [("today", today)]
        for b in cands:
            c = today.copy()
            c[b] += 1
            placements.append(
                (f"today + 1 at {ids[b]}" + (" (model)" if b == chosen else "") + f" {bases.names[b]}", c)
            )
    elif kind == "ems-place":
        placements = [(f"{MODEL_NAMES[e.model]} placement", counts)]
    else:
        placements = [("stated units", counts)]

    def analytical(c):
        return _evaluate(mat, w, c, e, muni, ctx.demand.municipality_names)[0]["share_within_busy_aware"]

    return simulate_placements(ctx, sc, e, bases, placements, analytical, q, progress)


def _write_ems_report(tmp, ctx, sc, summary, ids, names, lons, lats, counts, mat, keep, kind, e, p_within) -> None:
    """Map, report.html and layers.gpkg of the EMS study (kazerne.report.council)."""
    from ..report.ems_report import write_ems_outputs
    from .context import report_options

    opts = report_options(sc)
    if not any(opts[k] for k in ("maps", "report", "gpkg")):
        return
    n = len(ctx.demand)
    first = np.full(n, np.nan)
    pw = np.full(n, np.nan)
    units = np.repeat(np.arange(len(counts)), counts)
    if len(units):
        first[keep] = mat[units].min(axis=0)
        pw[keep] = p_within
    new = np.zeros(len(ids), int)
    if kind == "pit-add":
        today = _units(e, ids, sc)
        new = np.maximum(0, counts - today)
    write_ems_outputs(
        tmp,
        ctx,
        summary=summary,
        ids=ids,
        names=names,
        lons=lons,
        lats=lats,
        counts=counts,
        new_counts=new,
        first_s=first,
        p_within=pw,
        **opts,
    )


def _place(e: EmsSection, mat, w, ids: list, sc: Scenario, progress: Progress):
    """The units per base (stated, or placed by the study's model) and the solve's record (or None)."""
    if e.kind == "ems-evaluate":
        return _units(e, ids, sc), None
    if e.kind == "ems-place":
        assert e.n_units is not None  # required for ems-place (ems_spec)
        n_units = int(e.n_units)
        min_units = None
    else:
        base_counts = _units(e, ids, sc)
        n_units = int(base_counts.sum()) + 1
        min_units = {ids[i]: int(c) for i, c in enumerate(base_counts) if c}
    if e.busy_fraction is not None:
        q = e.busy_fraction
    else:
        assert e.calls_per_year is not None  # one of calls_per_year and busy_fraction is given (ems_spec)
        q = system_busy_fraction(e.calls_per_year, e.mission_minutes, n_units)
    T = e.threshold * 60
    name = MODEL_NAMES[e.model]
    progress.step(f"{name}: {n_units} units, q = {q:.3f}")
    kw: dict[str, Any] = {
        "capacity": int(e.capacity_per_base or n_units),
        "min_units": min_units,
        "time_limit": e.time_limit_s,
    }
    prob = from_cost_matrix(mat, w, site_ids=ids)  # bases x demand with road data
    if e.model == "mexclp":
        res = ems_models.mexclp(prob, n_units, q, T, **kw)
    elif e.model == "malp":
        res = ems_models.malp(prob, n_units, q, e.reliability, T, **kw)
    else:
        # busy units per unit of demand weight: the calls (spread like the weights) x mission time,
        # or the system-wide busy fraction x units when only that is given
        total_w = float(w.sum())
        busy = q * n_units if e.calls_per_year is None else e.calls_per_year * e.mission_minutes / 525_600.0
        res = ems_models.malp2(prob, n_units, busy / total_w if total_w > 0 else 0.0, e.reliability, T, **kw)
    if res.status != "optimal":
        import warnings

        from ..errors import KazerneWarning

        warnings.warn(
            f"{name} stopped by its time limit before proving optimality (status {res.status}, gap {res.gap})",
            KazerneWarning,
            stacklevel=3,
        )
    units = res.extra.get("units", {})
    progress.done("solve")
    return np.array([int(units.get(b, 0)) for b in ids]), res.to_dict()


def _assumptions(ctx, sc: Scenario, e: EmsSection) -> dict:
    a = assumptions(ctx)
    a.pop("turnout_s_by_crew", None)
    a["turnout_model"] = f"deterministic: every unit's turnout fixed at ems.turnout_s = {e.turnout_s:g} s"
    a["ems"] = {
        "norm": f"{e.threshold:g} min counted {Clock(sc.call_handling_s).label('paren')}, as the Belgian EMS "
        "norm (on scene within 15 min of the call for 90 % of calls)",
        "unit": e.unit,
        "turnout_s": e.turnout_s,
        "mission_minutes": e.mission_minutes,
        "calls_per_year": e.calls_per_year,
        "busy_fraction_given": e.busy_fraction,
        "queueing": "Larson hypercube approximation, infinite queue, nearest-available dispatch; "
        "calls finding all units busy count as not within T",
        "calls_spread": "like population (demand weights)",
    }
    return a


class EmsKind:
    """``[ems]``: ambulances, PIT and MUG teams (see the module docstring)."""

    name = "ems"
    title = "EMS studies: evaluate, place or add ambulance / PIT / MUG units against the norm"
    #: the study brings its own turnout: [response] gives call handling only, no [[slices]]
    own_turnout = True

    def parse(self, v, section, sc: Scenario) -> EmsSection:
        from dataclasses import replace

        from .ems_spec import parse_ems

        spec = parse_ems(v, section)
        given = sc.raw.get("profile") or {}
        if "profile" not in given and "name" not in given:  # the unit's own speeds unless [profile] says
            sc.profile = replace(sc.profile, name=spec.profile or "ambulance")
        return spec

    def solve(self, sc: Scenario, e: EmsSection, progress: Progress) -> RunResult:
        ctx = load_context(sc, progress)
        progress.step("EMS bases")
        bases, skipped = ems_bases(ctx, sc)
        ids, names, lons, lats = bases.ids, bases.names, bases.lon, bases.lat
        keep = ~ctx.demand.no_road_data
        w = ctx.demand.weight[keep]
        muni = ctx.demand.municipality[keep]
        progress.step(f"response times from {len(ids)} bases")
        # from the 112 call, like the norm (on scene within 15 min of the call for 90 % of calls)
        tt = travel_times(ctx.zone, bases, ctx.demand, ctx.profile, clock=ctx.clock)
        mat = tt.seconds[:, keep]
        progress.done("matrix")
        with in_file(sc.path, MODEL_FIELDS, default="ems"):  # model errors name scenario fields
            counts, solve = _place(e, mat, w, ids, sc, progress)
            ev, per, p_within = _evaluate(mat, w, counts, e, muni, ctx.demand.municipality_names)
            sim = _simulate_study(ctx, sc, e, bases, mat, w, counts, muni, progress) if e.simulate else None
        placed = [
            {
                "base": ids[i],
                "name": names[i],
                "units": int(c),
                "lon": round(float(lons[i]), 6),
                "lat": round(float(lats[i]), 6),
            }
            for i, c in enumerate(counts)
            if c
        ]
        a = _assumptions(ctx, sc, e)
        summary = {
            "kazerne_version": __version__,
            "scenario": {"name": sc.name, "file": str(sc.path), "description": sc.description},
            "created": _dt.datetime.now().isoformat(timespec="seconds"),
            "ems": e.described(),
            "assumptions": a,
            "bases_without_position": skipped,
            "placement": placed,
            "solve": solve,
            "result": ev,
            "municipalities": per,
            "simulation": sim,
            "timings_s": progress.timings,
        }
        tables = {
            "municipalities.csv": Table(per),
            "placement.csv": Table(placed),
            **({"simulation.csv": Table(sim["rows"])} if sim is not None else {}),
        }

        def placement_geojson(tmp: Path) -> None:
            from shapely.geometry import Point

            write_geojson(
                tmp / "placement.geojson",
                [{**p, "geometry": Point(p["lon"], p["lat"])} for p in placed],
                metadata={"assumptions": _json_safe(a)},
            )

        def report(tmp: Path) -> None:
            _write_ems_report(tmp, ctx, sc, summary, ids, names, lons, lats, counts, mat, keep, e.kind, e, p_within)

        return RunResult(kind=self.name, summary=summary, tables=tables, layers=(placement_geojson, report), value=ev)

    def console(self, summary: dict) -> list[str]:
        return console_lines(summary)


EMS = EmsKind()


def console_lines(summary: dict) -> list[str]:
    """An EMS study's answer: the lines the command line prints."""
    e, ev, solve, placed = summary["ems"], summary["result"], summary["solve"], summary["placement"]
    name = MODEL_NAMES.get(e.get("model", "mexclp"), "MEXCLP")
    lines = [
        f"\n{summary['scenario']['name']}: {e['kind']}, {ev['units']} {e['unit']} unit(s), "
        f"profile {summary['assumptions']['speed_profile']['name']}"
    ]
    if summary["assumptions"].get("call_handling_s") is not None:
        clock = Clock.from_assumptions(summary["assumptions"])
        lines.append("  " + clock.label("console", turnout=f"{e['turnout_s']:g} s"))
    if solve:
        lines.append(f"  {name} {solve['status']}, objective {solve['objective']:.1f}, {solve['seconds']:.2f} s")
    lines.append(text_table([[p["base"], p["name"][:40], p["units"]] for p in placed], ["base", "name", "units"]))
    lines += _simulation_lines(summary.get("simulation"), e)
    lines.append(
        f"  within {e['threshold']:g} min: {100 * ev['share_within_busy_aware']:.1f}% of calls (busy-aware), "
        f"{100 * ev['share_within_if_all_free']:.1f}% if every unit were free; norm "
        f"{100 * e['norm_share']:.0f}%: {'met' if ev['meets_norm'] else 'NOT met'}; "
        f"mean busy fraction {ev['mean_busy_fraction']:.2f}\n"
    )
    return lines


def _simulation_lines(sim, e) -> list[str]:
    """The study's placements simulated: share within the norm with its interval, beside the analytical one."""
    if not sim:
        return []

    def pct(x):
        return "" if x is None else f"{100 * x:.1f}%"

    rows = [
        [
            r["placement"][:48],
            pct(r["simulated_share_within"]),
            f"{pct(r['simulated_share_within_lo'])}-{pct(r['simulated_share_within_hi'])}",
            r["meets_norm"],
            pct(r["analytical_share_within"]),
            ""
            if i == 0
            else f"{100 * r['change_vs_first']:+.1f} [{100 * r['change_vs_first_lo']:+.1f}, "
            f"{100 * r['change_vs_first_hi']:+.1f}]",
            pct(r["share_nearest_base_busy"]),
            "" if r["mean_mission_min"] is None else f"{r['mean_mission_min']:.0f}",
        ]
        for i, r in enumerate(sim["rows"])
    ]
    head = [
        "placement",
        f"≤{e['threshold']:g} min sim",
        "95% interval",
        "norm",
        "analytical",
        "change (points) [95%]",
        "nearest busy",
        "mission min",
    ]
    return [
        f"  simulated ({sim['replications']} x {sim['days']:g} days, {sim['calls_per_year']:.0f} calls/year; "
        f"missions from on-scene time, transport and the way back, not {e['mission_minutes']:g} min):",
        text_table(rows, head),
    ]
