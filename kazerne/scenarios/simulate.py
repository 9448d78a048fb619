"""``[simulate]``: the dispatch simulation as a run kind (glue; the engine is kazerne.coverage.simulation).

A section of its own rather than ``[ems] simulate = {...}``: the simulation brings its own bases (the
pack's 112 departure locations, not an ``[ems]`` placement), its own call and mission model and its
own outputs, and a top-level section is what the run-kind protocol (one module, one registry line)
dispatches on; the EMS studies call the same engine through the API for their candidates.

Fields (every one optional; scenarios/README.md): ``pack`` (use the pack's ``ems-bases.csv``), ``teams``,
``neighbours``, ``[[simulate.bases]]`` (id, name, lat/lon or street), ``[[simulate.units]]`` (base,
type, count), ``rate_per_1000`` or ``calls_per_year``, ``hourly``, ``[[simulate.priorities]]``
(name, share, units), ``onscene`` / ``handover`` / ``turnout`` (``{median_s, p90_s, min_s}``),
``transport_share``, ``queue``, ``threshold`` (min), ``norm_share``, ``replications``, ``seed``,
``days``, ``warmup_days``, ``periods``, ``profile``, ``analytical``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from ..clock import Clock
from ..coverage.simulation import DEFAULT_PRIORITIES, TYPE_NAMES, CallModel, Priority
from ..errors import ModelInputError, ScenarioError, SnapError
from ..response import DEFAULT_TURNOUT_DIST, TurnoutDist
from .kinds import RunResult
from .resolve import in_file

KEYS = {
    "pack", "teams", "neighbours", "bases", "units", "rate_per_1000", "calls_per_year", "hourly",
    "priorities", "onscene", "handover", "turnout", "transport_share", "queue", "threshold", "norm_share",
    "replications", "seed", "days", "warmup_days", "periods", "profile", "analytical", "records",
}  # fmt: skip
DIST_KEYS = {"median_s", "p90_s", "min_s"}
#: engine argument -> scenario field, so that an error names what the user wrote
MODEL_FIELDS = {
    "units": "simulate.units",
    "transport_share": "simulate.transport_share",
    "calls_per_year": "simulate.calls_per_year",
    "rate_per_1000": "simulate.rate_per_1000",
    "weights": "simulate.records",
    "priorities": "simulate.priorities",
}
MAX_UNITS = 500


@dataclass(frozen=True)
class SimulateSpec:
    """The validated ``[simulate]`` section."""

    pack: bool
    teams: str
    neighbours: bool
    extra_bases: tuple  # (field, id, name, lat, lon, street, municipality)
    units: tuple  # (field, base, type, count)
    calls: CallModel
    replications: int
    seed: int
    days: float
    warmup_days: float
    periods: str
    profile: str
    analytical: bool
    turnout: TurnoutDist
    records: str | None = (
        None  # dispatch records (as calibrate reads them): calls per year, hour of week and places from them
    )


def _dist(v, d, fld, default: TurnoutDist) -> TurnoutDist:
    if d is None:
        return default
    v.table(d, fld, DIST_KEYS)
    med = v.number(d.get("median_s", default.median_s), f"{fld}.median_s", lo=0, hi=86400)
    p90 = v.number(
        d.get("p90_s", max(med, default.p90_s if "median_s" not in d else med)), f"{fld}.p90_s", lo=0, hi=86400
    )
    lo = v.number(d.get("min_s", min(default.min_s, med)), f"{fld}.min_s", lo=0, hi=86400)
    if p90 < med:
        v.fail(f"{fld}.p90_s", f"expected p90_s >= median_s ({med:g}), got {p90:g}")
    if lo > med or (lo == med and p90 > med):
        v.fail(f"{fld}.min_s", f"expected min_s below the median ({med:g}) of a time with spread, got {lo:g}")
    return TurnoutDist(med, p90, lo)


def _extra_bases(v, s: dict) -> list:
    """``[[simulate.bases]]``: (field, id, name, lat, lon, street, municipality) each."""
    extra = []
    for i, b in enumerate(
        v.tables(s.get("bases", []), "simulate.bases", {"id", "name", "lat", "lon", "street", "municipality"})
    ):
        fld = f"simulate.bases[{i}]"
        bid = v.string(b["id"], f"{fld}.id") if "id" in b else v.fail(f"{fld}.id", "missing (required)")
        if not any(k in b for k in ("lat", "street")):
            v.fail(fld, "give a position: lat/lon or street")
        lat = v.number(b["lat"], f"{fld}.lat", lo=-90, hi=90) if "lat" in b else None
        lon = v.number(b.get("lon"), f"{fld}.lon", lo=-180, hi=180) if "lat" in b else None
        street = v.string(b["street"], f"{fld}.street") if "street" in b else None
        muni = v.string(b["municipality"], f"{fld}.municipality") if "municipality" in b else None
        extra.append((fld, bid, b.get("name", bid), lat, lon, street, muni))
    return extra


def _units(v, s: dict) -> list:
    """``[[simulate.units]]``: (field, base, type, count) each."""
    units = []
    for i, u in enumerate(v.tables(s.get("units", []), "simulate.units", {"base", "type", "count"}, limit=MAX_UNITS)):
        fld = f"simulate.units[{i}]"
        base = v.string(u["base"], f"{fld}.base") if "base" in u else v.fail(f"{fld}.base", "missing (required)")
        units.append(
            (
                fld,
                base,
                v.choice(u.get("type", "ambulance"), f"{fld}.type", TYPE_NAMES),
                v.integer(u.get("count", 1), f"{fld}.count", 1, MAX_UNITS),
            )
        )
    return units


def _call_volume(v, s: dict) -> dict:
    """``calls_per_year`` and ``hourly`` intensities, as CallModel keywords."""
    calls_kw: dict = {}
    if "calls_per_year" in s:
        calls_kw["calls_per_year"] = v.number(
            s["calls_per_year"], "simulate.calls_per_year", lo=0, lo_open=True, hi=1e7
        )
    if "hourly" in s:
        h = s["hourly"]
        if not isinstance(h, list) or len(h) not in (24, 168):
            v.fail("simulate.hourly", "expected 24 (hours of the day) or 168 (hours of the week) intensities")
        hv = [v.number(x, f"simulate.hourly[{i}]", lo=0, hi=1e6) for i, x in enumerate(h)]
        if sum(hv) <= 0:
            v.fail("simulate.hourly", "expected some positive intensity")
        calls_kw["hourly"] = np.array(hv)
    return calls_kw


def _records_file(v, s: dict, sc) -> str | None:
    """``simulate.records``: the dispatch-records file the calls are drawn from (None: none)."""
    records = None
    if "records" in s:
        from pathlib import Path

        rp = Path(v.string(s["records"], "simulate.records", max_len=1000))
        rp = rp if rp.is_absolute() else Path(sc.path).parent / rp
        if rp.is_dir():
            v.fail("simulate.records", f"{rp} is a folder; expected a dispatch-records file (CSV, GeoPackage, Parquet)")
        if not rp.is_file():
            v.fail("simulate.records", f"file not found: {rp}")
        if "calls_per_year" in s or "hourly" in s:
            v.fail("simulate.records", "give records or calls_per_year / hourly, not both")
        records = str(rp)
    return records


def _priorities(v, raw) -> tuple:
    if raw is None:
        return DEFAULT_PRIORITIES
    out = []
    for i, p in enumerate(v.tables(raw, "simulate.priorities", {"name", "share", "units"}, limit=20)):
        fld = f"simulate.priorities[{i}]"
        units = p.get("units", ["ambulance"])
        if not isinstance(units, list) or not units:
            v.fail(f"{fld}.units", f"expected a list of unit types from {', '.join(TYPE_NAMES)}")
        out.append(
            Priority(
                v.string(p.get("name", f"P{i + 1}"), f"{fld}.name"),
                v.number(p.get("share"), f"{fld}.share", lo=0, hi=1)
                if "share" in p
                else v.fail(f"{fld}.share", "missing"),
                tuple(v.choice(u, f"{fld}.units", TYPE_NAMES) for u in units),
            )
        )
    tot = sum(p.share for p in out)
    if abs(tot - 1.0) > 1e-6:
        v.fail("simulate.priorities", f"the shares sum to {tot:g}; expected 1")
    return tuple(out)


class SimulateKind:
    name = "simulate"
    title = "dispatch simulation of 112 ambulance / PIT calls against the 15 min / 90 % norm"

    def parse(self, v, section, sc) -> SimulateSpec:
        s = v.table(section, "simulate", KEYS)
        if "slices" in sc.raw:
            v.fail("slices", "not for [simulate] (its speeds follow simulate.periods)")
        extra = _extra_bases(v, s)
        units = _units(v, s)
        pack = v.boolean(s.get("pack", True), "simulate.pack")
        if not pack and not units:
            v.fail("simulate.units", "pack = false and no [[simulate.units]]: expected at least one unit (zero units)")
        calls_kw = _call_volume(v, s)
        d = CallModel()
        calls = CallModel(
            rate_per_1000=v.number(s.get("rate_per_1000", 35.0), "simulate.rate_per_1000", lo=0, lo_open=True, hi=1000),
            priorities=_priorities(v, s.get("priorities")),
            onscene=_dist(v, s.get("onscene"), "simulate.onscene", d.onscene),
            handover=_dist(v, s.get("handover"), "simulate.handover", d.handover),
            transport_share=v.number(s.get("transport_share", 0.7), "simulate.transport_share", lo=0, hi=1),
            queue=v.boolean(s.get("queue", True), "simulate.queue"),
            threshold_s=60.0 * v.number(s.get("threshold", 15.0), "simulate.threshold", lo=0, lo_open=True, hi=240),
            norm_share=v.number(s.get("norm_share", 0.9), "simulate.norm_share", lo=0, lo_open=True, hi=1),
            **calls_kw,
        )
        if not pack and not any(u[2] == "ambulance" for u in units):
            if any("ambulance" in p.units for p in calls.priorities if p.share > 0):
                v.fail(
                    "simulate.units", "no ambulance, but the priorities send ambulances; add one or change priorities"
                )
        from ..routing.profiles import PROFILES

        records = _records_file(v, s, sc)
        return SimulateSpec(
            records=records,
            pack=pack,
            teams=v.choice(s.get("teams", "service"), "simulate.teams", ("service", "location")),
            neighbours=v.boolean(s.get("neighbours", True), "simulate.neighbours"),
            extra_bases=tuple(extra),
            units=tuple(units),
            calls=calls,
            replications=v.integer(s.get("replications", 30), "simulate.replications", 1, 1000),
            seed=v.integer(s.get("seed", 2026), "simulate.seed", 0, 2**63 - 1),
            days=v.number(s.get("days", 365.0), "simulate.days", lo=0, lo_open=True, hi=3660),
            warmup_days=v.number(s.get("warmup_days", 1.0), "simulate.warmup_days", lo=0, hi=365),
            periods=v.choice(s.get("periods", "week"), "simulate.periods", ("week", "one")),
            profile=v.choice(s.get("profile", "ambulance"), "simulate.profile", tuple(PROFILES)),
            analytical=v.boolean(s.get("analytical", True), "simulate.analytical"),
            turnout=_dist(v, s.get("turnout"), "simulate.turnout", DEFAULT_TURNOUT_DIST["professional"]),
        )

    def solve(self, sc, spec: SimulateSpec, progress) -> RunResult:
        from dataclasses import replace

        ctx, system, base_rows = build_system(sc, spec, progress)
        rec = None
        if spec.records:
            from ..calibration.records import call_records

            progress.step(f"calls from incident records {spec.records}")
            keep = ~ctx.demand.no_road_data
            rec = call_records(ctx.zone, spec.records, ctx.demand.lon[keep], ctx.demand.lat[keep])
            system = replace(system, weights=rec.weights)
            spec = replace(spec, calls=replace(spec.calls, calls_per_year=rec.calls_per_year, hourly=rec.hourly))
            progress.done("records")
        return run_summary(ctx, sc, spec, system, base_rows, progress, rec)

    def console(self, summary) -> list[str]:
        return console_lines(summary)


KIND = SimulateKind()


def _site_rows(zone, sites, what: str, rows: list, keep_outside: bool = True):
    """Snap pack sites (bases or hospitals); those off the road data are listed in ``rows``, not used."""
    ids, names, nodes, lons, lats = [], [], [], [], []
    for b in sites:
        row = {"id": b.id, "name": b.name, "kind": what, "lon": b.lon, "lat": b.lat, "used": False, "note": ""}
        rows.append(row)
        if not keep_outside and not zone.contains_lonlat(b.lon, b.lat):
            row["note"] = "neighbouring zone (simulate.neighbours = false)"
            continue
        try:
            node = zone.site_node(b.lon, b.lat, what=b.id)
        except SnapError as exc:
            row["note"] = f"not simulated: {exc.detail}"
            continue
        row["used"] = True
        ids.append(b.id)
        names.append(b.name)
        nodes.append(node)
        lons.append(b.lon)
        lats.append(b.lat)
    return ids, names, nodes, lons, lats


def build_system(sc, spec: SimulateSpec, progress):
    """The scenario's zone, demand, bases, units and hospitals as an :class:`EmsSystem`; base rows for the report."""
    from ..coverage.simbuild import emergency_departments, pack_units
    from .context import load_context
    from .resolve import profile_of, resolve_site

    ctx = load_context(sc, progress)
    zone = ctx.zone
    profile = profile_of(sc, spec.profile)
    progress.step("bases, units and emergency departments")
    rows: list = []
    ids, names, nodes, lons, lats = _site_rows(
        zone, zone.pack.ems_bases if spec.pack else [], "base", rows, spec.neighbours
    )
    for fld, bid, name, lat, lon, street, muni in spec.extra_bases:
        lo, la, node, _ = resolve_site(
            zone, sc, field=fld, lat=lat, lon=lon, street=street, municipality=muni, outside_m=None
        )
        if bid in ids:
            j = ids.index(bid)
            names[j], nodes[j], lons[j], lats[j] = name, node, lo, la
        else:
            ids.append(bid), names.append(name), nodes.append(node), lons.append(lo), lats.append(la)
        rows.append(
            {"id": bid, "name": name, "kind": "base (scenario)", "lon": lo, "lat": la, "used": True, "note": fld}
        )
    unit_base, unit_type, labels = [], [], []
    if spec.pack:
        for bid, t, label in pack_units(zone.pack, spec.teams):
            if bid in ids:
                unit_base.append(bid)
                unit_type.append(t)
                labels.append(f"{label} @ {bid}")
    for fld, bid, t, count in spec.units:
        if bid not in ids:
            raise ScenarioError(
                f"unknown or unused base {bid!r}; known: {', '.join(ids) or '(none)'} (give it under [[simulate.bases]])",
                source=str(sc.path),
                field=f"{fld}.base",
            )
        for k in range(count):
            unit_base.append(bid)
            unit_type.append(t)
            labels.append(f"{t} {bid} #{k + 1} (scenario)")
    if not unit_base:
        raise ScenarioError(
            "no units to simulate (zero units); expected at least one", source=str(sc.path), field="simulate.units"
        )
    hrows: list = []
    h_ids, h_names, h_nodes, h_lons, h_lats = _site_rows(
        zone, emergency_departments(zone.pack), "emergency department", hrows
    )
    rows.extend(hrows)
    if not h_ids and spec.calls.transport_share > 0:
        raise ScenarioError(
            "the pack has no emergency department on the network; expected one for transports",
            source=str(sc.path),
            field="simulate.transport_share",
        )
    progress.done("bases")
    progress.step(
        f"travel times: {len(ids)} bases + {len(h_ids)} hospitals x {int((~ctx.demand.no_road_data).sum())} demand points, both ways, {'3 speed periods' if spec.periods == 'week' else '1 speed period'}"
    )

    hosp = _sites(h_ids, h_names, h_nodes, h_lons, h_lats)
    with in_file(sc.path, MODEL_FIELDS, default="simulate"):
        system = _system(
            zone, ids, names, nodes, lons, lats, unit_base, unit_type, labels, ctx, hosp, profile, sc, spec
        )
    for r in rows:
        if r["kind"] != "emergency department" and r["used"] and r["id"] not in set(unit_base):
            r["used"], r["note"] = False, "no unit here"
    progress.done("travel_times")
    return ctx, system, rows


def _sites(i, n, nd, lo, la):
    from ..sites import Sites

    return Sites(
        ids=i,
        names=n,
        node=np.array(nd, dtype=np.int64),
        lon=np.array(lo),
        lat=np.array(la),
        turnout_s=np.zeros(len(i)),
    )


def _system(zone, ids, names, nodes, lons, lats, unit_base, unit_type, labels, ctx, hosp, profile, sc, spec):
    """The :class:`EmsSystem` of the bases that hold a unit (only those enter the matrices)."""
    from ..coverage.simbuild import ems_system

    used = sorted(set(unit_base), key=ids.index)
    keep = [ids.index(b) for b in used]
    return ems_system(
        zone,
        _sites(
            [ids[j] for j in keep],
            [names[j] for j in keep],
            [nodes[j] for j in keep],
            [lons[j] for j in keep],
            [lats[j] for j in keep],
        ),
        unit_base,
        unit_type,
        ctx.demand,
        hosp,
        profile,
        call_handling_s=sc.call_handling_s,
        turnout=dict.fromkeys(TYPE_NAMES, spec.turnout),
        periods=spec.periods,
        unit_labels=labels,
    )


def _r(x, nd=4):
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


def _rows(res, rows: list[dict], analytical: dict | None, key: str | None) -> list[dict]:
    """Rounded figures with intervals, the norm verdict and the hypercube's figure beside."""
    out = []
    for r in rows:
        row = {key: r[key]} if key else {}
        row["calls_per_year"] = _r(r["calls"] * 365.0 / res.days, 1)
        for k in ("share_within", "mean_min", "p90_min", "share_nearest_base_busy", "share_not_nearest_base",
                  "share_waited", "mean_wait_min_if_waited", "share_not_reached"):  # fmt: skip
            lo, hi = r[f"{k}_lo"], r[f"{k}_hi"]
            if k.startswith("share") and lo is not None:  # a share's interval stays inside [0, 1]
                lo, hi = max(0.0, lo), min(1.0, hi)
            row[k], row[f"{k}_lo"], row[f"{k}_hi"] = _r(r[k]), _r(lo), _r(hi)
        row["meets_norm"] = res.meets_norm(r) if r["calls"] else "no calls"
        if analytical is not None:
            a = analytical if key is None else analytical["municipalities"].get(r[key], {})
            row["hypercube_share_within"] = _r(a.get("share_within"))
            row["hypercube_share_within_if_all_free"] = _r(a.get("share_within_if_all_free"))
            row["hypercube_share_nearest_base_busy"] = _r(a.get("share_nearest_base_busy"))
        out.append(row)
    return out


def run_summary(ctx, sc, spec: SimulateSpec, system, base_rows, progress, records=None) -> RunResult:
    from ..coverage.simcompare import hypercube_figures
    from ..coverage.simulation import simulate
    from .context import assumptions

    progress.step(f"simulating {spec.days:g} days x {spec.replications} replications, {system.n_units} units")
    bar = progress.bar(spec.replications, "replications")
    try:
        with in_file(sc.path, MODEL_FIELDS, default="simulate"):  # model errors name the scenario's fields
            res = simulate(
                system, spec.calls, replications=spec.replications, seed=spec.seed, days=spec.days,
                warmup_days=spec.warmup_days, progress=bar,
            )  # fmt: skip
    finally:
        bar.close()
    progress.done("simulate")
    analytical, analytical_note = None, None
    if spec.analytical:
        progress.step("the hypercube approximation beside it")
        try:
            analytical = hypercube_figures(res, "ambulance")
        except ModelInputError as exc:  # e.g. an offered load the infinite-queue model cannot carry
            analytical_note = f"no hypercube figure: {exc.detail}"
        progress.done("hypercube")
    zone = _rows(res, [res.zone_row()], analytical, None)[0]
    munis = _rows(res, res.municipality_rows(), analytical, "municipality")
    units = [
        {
            "unit": u["unit"], "type": u["type"], "base": u["base"], "base_name": u["base_name"],
            "utilisation": _r(u["utilisation"]), "utilisation_lo": _r(u["utilisation_lo"]),
            "utilisation_hi": _r(u["utilisation_hi"]), "missions_per_year": _r(u["missions_per_year"], 1),
            "hypercube_busy": _r((analytical or {}).get("unit_busy", {}).get(u["unit"])),
        }
        for u in res.unit_rows()
    ]  # fmt: skip
    a = assumptions(ctx)
    for k in ("turnout_s_by_crew", "turnout_model", "thresholds_min"):
        a.pop(k, None)
    a["speed_profile"] = system.meta["profile"]
    a["simulation"] = {
        "calls": spec.calls.describe(),
        "units": f"{system.n_units} units ({', '.join(f'{int((system.unit_type == k).sum())} {t}' for k, t in enumerate(TYPE_NAMES))}) "
        f"on {len(system.base_ids)} bases; pack's ems-bases.csv: {'one unit per service (teams = service)' if spec.teams == 'service' else 'one unit per listed team'}"
        if spec.pack
        else f"{system.n_units} units of the scenario",
        "turnout": system.meta["turnout"],
        "call_handling_s": sc.call_handling_s,
        "speed_periods": system.meta["speed_periods"],
        "travel_times": system.meta["travel_times"],
        "way_back": "a unit returning to its base is free for a new call; its position is linear in time between where it "
        "started back (scene or hospital) and its base; from a scene, the time to a new call goes through the best base or "
        "hospital (an upper bound)",
        "dispatch": "nearest free unit of each type the priority needs by travel time (no turnout from the road); "
        "ambulances wait in a queue when none is free, a PIT is sent only when free; no MUG",
        "neighbouring_zones": "units of neighbouring zones' bases within the road data answer the zone's calls; their own "
        "zones' calls are not simulated, so they are free more often than in reality (optimistic)",
        "hospitals": "the pack's medical sites with an emergency department; a transport goes to the nearest one",
        "replications": f"{spec.replications} x {spec.days:g} days after a {spec.warmup_days:g}-day warm-up; 95 % Student-t "
        "intervals over the replications; seed " + str(spec.seed),
        "demand": "calls from demand points with road data in proportion to their population; points in the road-data gap "
        "make no calls"
        if records is None
        else f"calls from the dispatch records {spec.records} (read as by calibrate: same columns and rejects): calls per "
        "year, hour of the week and places (one call per incident at its earliest call time, on its nearest demand point "
        "with road data within 1 km)",
        "records": None if records is None else records.describe(),
        "nearest_base_busy": "the call's nearest base (holding a unit of a type it needs) has no such unit idle at the base when "
        "the call is dispatched (units on their way back count as away)",
    }
    summary = {
        "kazerne_version": __version__,
        "scenario": {"name": sc.name, "file": str(sc.path), "description": sc.description},
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "kind": "simulate",
        "assumptions": a,
        "simulate": {
            "replications": spec.replications,
            "seed": spec.seed,
            "days": spec.days,
            "engine": res.engine,
            "seconds": round(res.seconds, 2),
            "units": system.n_units,
            "bases": len(system.base_ids),
            "norm_share": spec.calls.norm_share,
            "threshold_min": spec.calls.threshold_s / 60.0,
        },  # fmt: skip
        "zone": zone,
        "municipalities": munis,
        "units": units,
        "bases": base_rows,
        "analytical": analytical and {k: v for k, v in analytical.items() if k not in ("municipalities", "unit_busy")},
        "analytical_note": analytical_note,
        "timings_s": progress.timings,
    }

    def layer(tmp):
        from shapely.geometry import Point

        from ..report.geo import write_geojson

        write_geojson(
            tmp / "bases.geojson",
            [{**r, "geometry": Point(r["lon"], r["lat"])} for r in base_rows if np.isfinite(r["lon"])],
            metadata={"assumptions": a["simulation"]},
        )

    from .context import report_options

    layers = (layer, lambda tmp: write_html(tmp, summary)) if report_options(sc)["report"] else (layer,)
    return RunResult(
        kind="simulate",
        summary=summary,
        tables={"municipalities.csv": munis, "units.csv": units, "bases.csv": base_rows},
        layers=layers,
        value=res,
    )


def write_html(folder, summary: dict) -> None:
    """``report.html``: the headline against the norm, per municipality and per unit, with intervals,
    beside the hypercube; the bases and the assumptions (one self-contained page)."""
    from ..report import html as H
    from ..report.council import write_report

    s, z, a = summary["simulate"], summary["zone"], summary["assumptions"]["simulation"]
    t, norm = s["threshold_min"], s["norm_share"]
    cards = [
        (H.fmt_pct(z["share_within"]), f"calls with a unit on scene within {t:g} min of the call",
         f"95 %: {H.fmt_pct(z['share_within_lo'])} – {H.fmt_pct(z['share_within_hi'])}"),
        (z["meets_norm"], f"meets the {100 * norm:g} % norm", "yes / no: the whole interval; else uncertain"),
        (H.fmt_pct(z.get("hypercube_share_within")), "hypercube (analytical)", "ambulances, same workload"),
        (H.fmt_pct(z["share_nearest_base_busy"]), "nearest base had no unit in", "when the call was dispatched"),
    ]  # fmt: skip
    pct = H.fmt_pct
    mcols = [
        ("municipality", "municipality", None), ("calls_per_year", "calls / year", H.fmt_int),
        ("share_within", f"≤ {t:g} min", pct), ("share_within_lo", "95 % low", pct), ("share_within_hi", "95 % high", pct),
        ("meets_norm", "norm", None), ("hypercube_share_within", "hypercube", pct), ("mean_min", "mean min", H.fmt_num),
        ("p90_min", "p90 min", H.fmt_num), ("share_nearest_base_busy", "nearest base busy", pct),
        ("share_not_nearest_base", "not the nearest base's unit", pct), ("share_waited", "waited", pct),
    ]  # fmt: skip
    ucols = [
        ("unit", "unit", None), ("type", "type", None), ("base_name", "base", None), ("utilisation", "utilisation", pct),
        ("utilisation_lo", "95 % low", pct), ("utilisation_hi", "95 % high", pct),
        ("missions_per_year", "missions / year", H.fmt_int), ("hypercube_busy", "hypercube busy", pct),
    ]  # fmt: skip
    bcols = [
        ("id", "id", None),
        ("name", "name", None),
        ("kind", "kind", None),
        ("used", "used", None),
        ("note", "note", None),
    ]
    zone_row = dict(z, municipality="zone")
    secs = [
        H.section("Headline", H.cards(cards), id="headline"),
        H.section(
            "Per municipality",
            H.table([zone_row, *summary["municipalities"]], mcols, id="municipalities", zone_first=True),
        ),
        H.section("Units", H.table(summary["units"], ucols, id="units")),
        H.section("Bases and emergency departments", H.table(summary["bases"], bcols, id="bases")),
        H.section(
            "Assumptions", H.bullets([f"{k.replace('_', ' ')}: {v}" for k, v in a.items() if isinstance(v, str)])
        ),
    ]
    write_report(
        folder,
        f"Dispatch simulation: {summary['scenario']['name']}",
        [a["units"], f"{s['replications']} replications x {s['days']:g} days, seed {s['seed']}"],
        secs,
        f"kazerne {summary['kazerne_version']} — scenario file {summary['scenario']['file']} — created {summary['created']}. "
        "Road data © OpenStreetMap contributors (ODbL); population Statbel; 112 departure locations FOD Volksgezondheid.",
    )


def _pct(x) -> str:
    return "" if x is None else f"{100 * x:.1f}%"


def _m(x) -> str:
    return "" if x is None else f"{x:.2f}"


def console_lines(summary: dict) -> list[str]:
    s, z, a = summary["simulate"], summary["zone"], summary["assumptions"]
    from ..report.tables import text_table

    lines = [
        f"\n{summary['scenario']['name']}: dispatch simulation, {s['units']} units on {s['bases']} bases, "
        f"{s['replications']} x {s['days']:g} days ({s['seconds']:.1f} s, {s['engine']})",
        f"  {a['simulation']['units']}",
        "  "
        + Clock(a["simulation"]["call_handling_s"]).label(
            "console",
            note=f"; norm: on scene within {s['threshold_min']:g} min for {100 * s['norm_share']:g} % of calls",
        ),
        "  intervals: 95 % over the replications; 'hypercube' = the analytical figure (ambulances, same workload)",
    ]
    head = [
        "",
        "calls/yr",
        f"≤{s['threshold_min']:g} min",
        "95% interval",
        "norm",
        "hypercube",
        "mean",
        "p90",
        "nearest busy",
        "not nearest",
        "waited",
    ]

    def row(name, r):
        return [
            name, f"{r['calls_per_year']:.0f}", _pct(r["share_within"]),
            f"{_pct(r['share_within_lo'])}-{_pct(r['share_within_hi'])}", r["meets_norm"],
            _pct(r.get("hypercube_share_within")), _m(r["mean_min"]), _m(r["p90_min"]), _pct(r["share_nearest_base_busy"]),
            _pct(r["share_not_nearest_base"]), _pct(r["share_waited"]),
        ]  # fmt: skip

    rows = [row("zone", z)] + [row(m["municipality"], m) for m in summary["municipalities"]]
    lines.append(text_table(rows, head))
    busiest = sorted(summary["units"], key=lambda u: -(u["utilisation"] or 0))[:5]
    lines.append("  busiest units: " + "; ".join(f"{u['unit']} {_pct(u['utilisation'])}" for u in busiest))
    skipped = [b["id"] for b in summary["bases"] if not b["used"] and b["kind"] == "base"]
    if skipped:
        lines.append(f"  bases not simulated (outside the road data or without a unit): {', '.join(skipped)}")
    lines.append("")
    return lines


def simulate_main(args) -> Path:
    """``kazerne simulate [SCENARIO] [--zone Z] [--replications N] [--seed S] [--days D] [--out DIR]``: the
    scenario's ``[simulate]`` (an empty one when it has none: every default), with the options written
    into it, validated and run like ``kazerne run`` (same spec, same solve, same writer); returns the
    run folder (the command line prints it)."""
    from ..progress import Progress
    from ..report.atomic import check_output_dir
    from .kinds import run_kind
    from .schema import parse_scenario_data, read_toml

    if args.scenario:
        raw = read_toml(args.scenario)
        path = Path(args.scenario)
        if args.zone:
            raw["zone"] = args.zone
    else:
        if not args.zone:
            raise ScenarioError("give a scenario file or --zone", field="--zone")
        raw = {"name": f"simulate-{Path(args.zone).name}", "zone": args.zone}
        path = Path("<command line>")
    sim = raw.get("simulate", {})
    if not isinstance(sim, dict):
        raise ScenarioError("expected a table", source=str(path), field="simulate")
    raw = dict(raw, simulate=dict(sim))
    for opt in ("replications", "seed", "days"):
        val = getattr(args, opt)
        if val is not None:
            raw["simulate"][opt] = val
    sc = parse_scenario_data(raw, path)
    if "simulate" not in sc.kinds:  # pragma: no cover - the section is always there
        raise ScenarioError("no [simulate] section", source=str(path), field="simulate")
    check_output_dir(Path(args.out) / sc.name)
    return run_kind(KIND, sc.kinds["simulate"], sc, Path(args.out), Progress(args.quiet))
