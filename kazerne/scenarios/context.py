"""What every scenario run shares: progress on stderr, the loaded context (zone, profile, demand),
the assumptions block of every report, headline and per-municipality tables, first-due areas.

Used by the runner, the studies and the EMS studies alike (no module of the three imports another's
internals; the runner dispatches to the others).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..coverage.metrics import CoverageReport, mins, municipality_rows
from ..demand.points import DemandPoints, demand_from_file, population_grid
from ..errors import ScenarioError
from ..jsonsafe import json_safe as _json_safe
from ..progress import Progress
from ..report.geo import write_geojson
from ..response import DEFAULT_CALL_HANDLING_S, time_definition
from ..routing.zone import Zone, load_zone
from ..sites import Sites
from .resolve import in_file, profile_of
from .schema import Scenario

__all__ = [
    "Context",
    "Progress",
    "assumptions",
    "headline",
    "load_context",
    "mins",
    "municipality_rows",
    "report_options",
    "write_first_due",
]


@dataclass
class Context:
    """Everything loaded for a scenario: zone, profile, demand."""

    sc: Scenario
    zone: Zone
    profile: object
    demand: DemandPoints
    thresholds_s: np.ndarray


def load_context(sc: Scenario, progress: Progress) -> Context:
    progress.step(f"loading zone {sc.zone}")
    with in_file(sc.path):
        zone = load_zone(sc.zone, quiet=progress.quiet)
    progress.done("load_zone")
    profile = profile_of(sc)
    progress.step("building demand points")
    with in_file(sc.path):
        if "file" in sc.demand:
            demand = demand_from_file(
                zone, sc.demand["file"], max_snap_m=sc.demand["max_snap_m"], shadow_profile=profile
            )
        else:
            kw = {
                k: sc.demand[k]
                for k in ("road_classes", "density_exponent", "density_radius_m", "max_density_km2")
                if k in sc.demand
            }
            demand = population_grid(
                zone, cell_m=sc.demand["grid_m"], max_snap_m=sc.demand["max_snap_m"], shadow_profile=profile, **kw
            )
    progress.done("demand")
    w = demand.weight[~demand.no_road_data]
    if not (w.sum() > 0):
        fld = "demand.file" if "file" in sc.demand else "demand.grid_m"
        raise ScenarioError(
            f"the demand has no weight where there is road data ({len(demand)} points, total weight "
            f"{float(demand.weight.sum()):g}, {int(demand.no_road_data.sum())} without road data); "
            f"expected some positive weight to measure coverage against",
            source=str(sc.path),
            field=fld,
        )
    return Context(
        sc=sc, zone=zone, profile=profile, demand=demand, thresholds_s=np.array(sc.thresholds_min, dtype=float) * 60.0
    )


def assumptions(ctx: Context, posts: Sites | None = None) -> dict:
    """What produced the numbers: road data and date, speed profile, turnout, population model."""
    z = ctx.zone
    out = {
        "zone": z.name,
        "road_data": {**z.net.describe(), "note": "OpenStreetMap extract; newer roads are absent"},
        "road_data_date": z.pack.road_data_date,
        "network_gap": "points inside the pack's network-gap polygon or > "
        f"{ctx.demand.meta.get('max_snap_m', 500):g} m from a road are no_road_data: "
        "reported apart, never counted as covered or uncovered; so are "
        + (ctx.demand.meta.get("gap_shadow", {}).get("rule") or "no points in the gap's shadow"),
        "demand_snapping": ctx.demand.meta.get("snap", ""),
        "speed_profile": ctx.profile.describe(),
        "turnout_s_by_crew": dict(ctx.sc.turnout_s),
        "population_model": ctx.demand.model,
        "population_year": z.pack.population_year,
        "population_total_pack": z.pack.total_population,
        "thresholds_min": list(ctx.sc.thresholds_min),
        **time_definition(ctx.sc.call_handling_s),
        "call_handling_note": "112 call -> alarm at the post, one constant per run: [response] call_handling_s "
        f"(default {DEFAULT_CALL_HANDLING_S:g} s, a documented estimate from the published Belgian figures; see "
        "kazerne.response); 0 gives the times from the alarm",
        "turnout_model": "deterministic: each post's turnout fixed (its crew's turnout_s)",
    }
    if posts is not None:
        out["turnout_s_by_post"] = {i: float(t) for i, t in zip(posts.ids, posts.turnout_s)}
    return out


def headline(rep: CoverageReport, th_min) -> dict:
    return {
        "population_with_road_data": rep.total_weight,
        "population_no_road_data": rep.no_road_data_weight,
        "share_within": {f"{t:g}": float(s) for t, s in zip(th_min, rep.zone_share)},
        "population_within": {f"{t:g}": float(s) for t, s in zip(th_min, rep.zone_weight_within)},
        "population_no_second_unit_within": {f"{t:g}": float(s) for t, s in zip(th_min, rep.zone_no_second)},
        "mean_response_min": mins(rep.mean_s),
        "p90_response_min": mins(rep.p90_s),
        "population_unreachable": rep.unreached_weight,
    }


def report_options(sc: Scenario) -> dict:
    """What the scenario's ``[outputs]`` asks of the report writers (maps, report.html, layers.gpkg)."""
    o = sc.outputs
    return {
        "maps": o.get("map", True),
        "report": o.get("report", True),
        "gpkg": o.get("gpkg", True),
        "epsg": int(o.get("gpkg_epsg", 31370)),
    }


def write_first_due(path, ctx: Context, posts: Sites, node_t: np.ndarray, assumptions_: dict) -> None:
    """``first_due.geojson``: where each post arrives first (:meth:`TravelTimes.first_due_areas`)."""
    from ..routing.travel import TravelTimes

    tt = TravelTimes(
        site_ids=list(posts.ids),
        turnout_s=np.asarray(posts.turnout_s, dtype=float),
        seconds=np.zeros((len(posts), 0), dtype=np.float32),
        node_seconds=node_t,
    )
    gdf = tt.first_due_areas(ctx.zone)
    names = dict(zip(posts.ids, posts.names))
    recs = [
        {
            "post": site if isinstance(site, str) else None,
            "name": names[site] if isinstance(site, str) else "no road data",
            "area_km2": area,
            "geometry": geom,
        }
        for site, area, geom in zip(gdf["site"], gdf["area_km2"], gdf.geometry)
    ]
    write_geojson(path, recs, metadata={"assumptions": _json_safe(assumptions_)})
