"""A scenario's vehicles, full first turnout and neighbouring posts, for the baseline run.

The scenario fields (``[vehicles]``, ``[posts.vehicles]``, ``[[posts.neighbours]]``; see
``scenarios/README.md``) become a :class:`~kazerne.coverage.fleet.Fleet` over the open posts and the
neighbouring zones' posts; :func:`fleet_outputs` measures it (:func:`kazerne.evaluate_fleet`) and
returns the summary block and tables of the baseline kind's answer (:mod:`kazerne.scenarios.baseline`)
and :func:`fleet_text` its console lines. The baseline's
own headline (``municipalities.csv``, the map) stays the zone's own posts; the neighbours' help is
reported here, next to the own zone alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..coverage.fleet import Fleet, FleetReport, evaluate_fleet, fleet_times, vehicle_profile
from ..errors import ScenarioError
from ..report.tables import pct, text_table
from ..response import time_definition
from ..sites import Sites, node_road, site_streets
from .output import Table
from .resolve import in_file, resolve_site
from .schema import Scenario

__all__ = ["FleetOutputs", "fleet_outputs", "fleet_text", "resolve_neighbours", "scenario_fleet"]


def resolve_neighbours(zone, sc: Scenario) -> Sites:
    """The ``[[posts.neighbours]]`` of ``sc`` placed on the road network (anywhere the road data
    reaches; a point farther than the snapping distance from every road is refused with one line)."""
    rows = sc.fleet.neighbours
    ids, names, crews, lons, lats, nodes, turnouts, snaps, places = ([] for _ in range(9))
    for i, n in enumerate(rows):
        fld = f"posts.neighbours[{i}]"
        try:
            lo, la, node, snap, *place = resolve_site(
                zone,
                sc,
                field=fld,
                lat=n.get("lat"),
                lon=n.get("lon"),
                street=n.get("street"),
                municipality=n.get("municipality"),
                snap=n.get("snap", "public"),
                outside_m=None,
                on_street=True,
            )
        except ScenarioError as exc:
            if "from the nearest road" not in exc.detail:
                raise
            detail = exc.detail.removeprefix(f"{fld}: ")
            raise ScenarioError(
                f"{detail}: the zone's road data does not reach this post; a neighbouring post must "
                f"stand within the road network of zone {zone.name}",
                source=str(sc.path),
                field=fld,
            ) from None
        if "turnout_s" in n:
            t = float(n["turnout_s"])
        elif n["crew"] in sc.turnout_s:
            t = float(sc.turnout_s[n["crew"]])
        else:  # the schema checks this; a scenario built in Python may not have
            raise ScenarioError(f"no turnout time for crew type {n['crew']!r}", source=str(sc.path), field=fld)
        ids.append(n["id"])
        names.append(n.get("name", n["id"]))
        crews.append(n["crew"])
        lons.append(lo)
        lats.append(la)
        nodes.append(node)
        turnouts.append(t)
        snaps.append(snap)
        places.append(place)  # (edge, frac): it leaves from its street
    return Sites(
        ids=ids,
        names=names,
        node=np.array(nodes, dtype=np.int64),
        lon=np.array(lons),
        lat=np.array(lats),
        turnout_s=np.array(turnouts, dtype=float),
        crew=crews,
        snap_m=np.array(snaps),
        road=[node_road(zone.net, int(k)) for k in nodes],
        origin=["neighbour"] * len(ids),
        grade=["user"] * len(ids),
        street=site_streets(zone, nodes) if ids else [],
        edge=np.array([p[0] for p in places], dtype=np.int64),
        frac=np.array([p[1] for p in places], dtype=float),
    )


def scenario_fleet(zone, sc: Scenario, posts: Sites) -> tuple[Sites, Fleet]:
    """The open posts followed by the neighbouring posts, and their :class:`Fleet` (one AP per post
    unless ``[posts.vehicles]`` / the neighbour's ``vehicles`` say otherwise)."""
    f = sc.fleet
    nb = resolve_neighbours(zone, sc)
    sites = posts.concat(nb) if len(nb) else posts
    nbrows = f.neighbours
    vehicles = {**f.vehicles, **{n["id"]: n["vehicles"] for n in nbrows}}
    crew_by = {**f.crew_by_post, **{n["id"]: n["crew_size"] for n in nbrows if "crew_size" in n}}
    with in_file(sc.path, default="vehicles.crew"):
        fleet = Fleet.from_vehicles(
            sites,
            vehicles,
            crew_per_turnout=dict(f.crew),
            crew_by_site=crew_by,
            zones={n["id"]: n["zone"] for n in nbrows},
            own_zone=zone.name,
            types=dict(f.types),
        )
    return sites, fleet


@dataclass
class FleetOutputs:
    """What the baseline writes about the fleet: the report, its summary block and its tables."""

    report: FleetReport
    sites: Sites
    fleet: Fleet
    summary: dict
    tables: dict = field(default_factory=dict)  # file name -> Table (written by the one writer, empty or not)


def fleet_outputs(ctx, posts: Sites) -> FleetOutputs:
    """Measure the scenario's fleet: first vehicle of each type, adequate responses, second engine,
    crew of six, first-arriving zone; per demand point, per municipality and for the zone."""
    sc, zone, d = ctx.sc, ctx.zone, ctx.demand
    f = sc.fleet
    engine = f.engine
    responses = f.responses
    sites, fleet = scenario_fleet(zone, sc, posts)
    need = list(dict.fromkeys([engine, *(t for t in fleet.counts if fleet.total(t) > 0)]))
    with in_file(sc.path, default="vehicles"):
        times = fleet_times(zone, sites, d, fleet, ctx.profile, vtypes=need, call_handling_s=sc.call_handling_s)
        rep = evaluate_fleet(
            times,
            fleet,
            d,
            sc.thresholds_min,
            responses=responses,
            engine=engine,
            full_crew=f.full_crew,
        )
    th = list(sc.thresholds_min)
    head = rep.headline()
    nb = [i for i, o in enumerate(sites.origin) if o == "neighbour"]
    assumptions = {
        "fleet": "from the scenario ([posts.vehicles], [[posts.neighbours]])"
        if f.vehicles or f.neighbours
        else "one AP per post (no [posts.vehicles] in the scenario)",
        "vehicle_types": {
            t: {**vt.describe(), "speed_profile_key": vehicle_profile(ctx.profile, vt).key()}
            for t, vt in fleet.types.items()
            if t in need or any(t in r for r in responses.values())
        },
        "engine": engine,
        "full_crew": f.full_crew,
        "crew_per_turnout_by_crew_type": dict(f.crew),
        "crew_per_turnout_by_post": {s: float(c) for s, c in zip(fleet.site_ids, fleet.crew_size)},
        "responses": {k: dict(v) for k, v in responses.items()},
        "rules": [
            "every vehicle listed is staffed and leaves with its post's turnout; vehicles are never busy",
            "an adequate response is complete when the last required vehicle arrives, each type from its own "
            "nearest posts",
            f"a post brings its crew per turnout on its {engine}(s): only posts with an {engine} count towards "
            f"the crew of {f.full_crew}",
            f"second engine = the second {engine} to arrive (two at one post arrive together)",
            "fastest adequate help: the nearest post sends, whatever its zone",
        ],
    }
    assumptions.update(time_definition(sc.call_handling_s))
    if sc.response is not None or sc.slices is not None:
        assumptions["response_model"] = (
            f"with [response] / [[slices]] the vehicles are measured with call handling {sc.call_handling_s:g} s "
            "and each post's turnout of posts.csv (fixed at its median), for one situation, not per time slice"
        )
    if nb:
        assumptions["neighbour_posts"] = (
            "posts of neighbouring zones drive on the road data of this zone's pack only (the zone and a "
            "border strip): a shorter route outside it is unknown, so their times are upper bounds; their "
            "positions, crews and vehicles are the scenario's assumptions"
        )
    summary = {
        "assumptions": assumptions,
        "posts": fleet.rows(sites),
        "zone": head["measures"],
        "first_engine_by_zone": head["first_engine_by_zone"],
    }
    pts = rep.point_columns()
    names = np.array(list(d.municipality_names) + [""], dtype=object)
    point_rows = []
    cols = list(pts)
    for i in range(len(d)):
        r = {
            "lon": round(float(d.lon[i]), 6),
            "lat": round(float(d.lat[i]), 6),
            "municipality": names[d.municipality[i]],
            "population": round(float(d.weight[i]), 2),
            "no_road_data": bool(d.no_road_data[i]),
        }
        for c in cols:
            v = pts[c][i]
            r[c] = None if isinstance(v, float) and np.isnan(v) else v
        point_rows.append(r)
    tables = {
        "fleet.csv": Table(fleet.rows(sites)),
        "fleet_municipalities.csv": Table(rep.municipality_rows()),
        "first_arriving.csv": Table(rep.first_arriving_rows()),
        "fleet_points.csv": Table(point_rows),
    }
    summary["municipalities"] = rep.municipality_rows()
    summary["first_arriving"] = rep.first_arriving_rows()
    summary["thresholds_min"] = th
    return FleetOutputs(report=rep, sites=sites, fleet=fleet, summary=summary, tables=tables)


def fleet_text(fs: dict) -> str:
    """The zone lines of the fleet block for the terminal."""
    th = fs["thresholds_min"]
    rows = []
    for name, m in fs["zone"].items():
        rows.append(
            [m["label"]]
            + [pct(m["share_within"][f"{t:g}"]) for t in th]
            + ["" if m["mean_min"] is None else m["mean_min"], "" if m["p90_min"] is None else m["p90_min"]]
        )
    out = text_table(rows, ["vehicles (zone)"] + [f"≤{t:g} min" for t in th] + ["mean min", "p90 min"])
    split = fs["first_engine_by_zone"]
    if len(split) > 1:
        parts = [f"{z} {pct(v['share'] or 0)}" for z, v in split.items()]
        out += "\nfirst engine sent by: " + ", ".join(parts)
    return out


@dataclass
class VehicleStudyBase:
    """What an ``add-vehicle`` study starts from: today's fleet (neighbours included), the rows of
    the sites that already hold the vehicle type, their full response times with the type's profile,
    and, for an adequate response, when its other required vehicles are on scene."""

    sites: Sites
    fleet: Fleet
    vehicle: str
    response: str
    profile: object
    holders: list  # row indices into sites
    holder_s: np.ndarray  # (len(holders), n_demand) seconds, full
    other_s: np.ndarray | None  # per demand point, or None (the first vehicle of the type alone)
    before_s: np.ndarray  # the measure today, per demand point
    label: str


def vehicle_study_base(ctx, posts: Sites) -> VehicleStudyBase:
    """Today's fleet measured for ``[study] vehicle`` (and ``response``): see :class:`VehicleStudyBase`."""
    sc, zone, d = ctx.sc, ctx.zone, ctx.demand
    st = sc.study
    vt, rname = st["vehicle"], st.get("response", "")
    sites, fleet = scenario_fleet(zone, sc, posts)
    resp = dict(sc.fleet.responses[rname]) if rname else {vt: 1}
    others = {t: c for t, c in resp.items() if t != vt}
    prof = vehicle_profile(ctx.profile, fleet.types[vt])
    with in_file(sc.path, default="study.vehicle"):
        need = [t for t in dict.fromkeys([vt, *others]) if fleet.total(t) > 0]
        times = fleet_times(zone, sites, d, fleet, ctx.profile, vtypes=need, call_handling_s=sc.call_handling_s)
        rep = evaluate_fleet(
            times, fleet, d, sc.thresholds_min, responses={"other": others} if others else None, engine=vt
        )
    counts = fleet.counts.get(vt, np.zeros(len(sites), dtype=np.int64))
    holders = [int(i) for i in np.flatnonzero(counts > 0)]
    holder_s = (
        np.asarray(times[vt].dense(), dtype=np.float64)[holders] if holders else np.zeros((0, len(d)), dtype=float)
    )
    other = rep.measures["response_other"].seconds if others else None
    first = rep.measures[f"first_{vt}"].seconds
    before = first if other is None else np.maximum(first, np.where(np.isnan(other), np.nan, other))
    label = (
        f"adequate response {rname} ({' + '.join(f'{c} {t}' if c > 1 else t for t, c in resp.items())})"
        if rname
        else f"first {fleet.types[vt].label or vt}"
    )
    return VehicleStudyBase(sites, fleet, vt, rname, prof, holders, holder_s, other, before, label)
