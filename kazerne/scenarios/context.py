"""What every scenario run shares: progress on stderr, the loaded context (zone, profile, demand),
the assumptions block of every report, headline and per-municipality tables, first-due areas.

Used by the runner, the studies and the EMS studies alike (no module of the three imports another's
internals; the runner dispatches to the others).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..clock import DEFAULT_CALL_HANDLING_S, Clock
from ..coverage.metrics import CoverageReport, mins, municipality_rows
from ..demand.points import DemandPoints, demand_from_file, population_grid
from ..errors import ScenarioError
from ..jsonsafe import json_safe as _json_safe
from ..progress import Progress
from ..report.geo import write_geojson
from ..routing.profiles import SpeedProfile
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
    "first_due",
    "write_first_due",
]


@dataclass
class Context:
    """Everything loaded for a scenario: zone, profile, demand."""

    sc: Scenario
    zone: Zone
    profile: SpeedProfile
    demand: DemandPoints
    thresholds_s: np.ndarray

    @cached_property
    def clock(self) -> Clock:
        """The run's time base (call handling, turnout per crew type and post), resolved once from
        the scenario: every layer of the run counts on it (:class:`kazerne.Clock`)."""
        return Clock.from_scenario(self.sc)


def load_context(sc: Scenario, progress: Progress) -> Context:
    progress.step(f"loading zone {sc.zone}")
    with in_file(sc.path):
        zone = load_zone(sc.zone, quiet=progress.quiet)
    progress.done("load_zone")
    zone = changed_zone(sc, zone, progress)
    profile = profile_of(sc)
    progress.step("building demand points")
    with in_file(sc.path):
        dm = sc.demand
        if dm.incidents:
            from ..calibration.records import incident_demand

            demand = incident_demand(zone, dm.incidents, max_snap_m=dm.max_snap_m)
        elif dm.file:
            demand = demand_from_file(zone, dm.file, max_snap_m=dm.max_snap_m, shadow_profile=profile)
        else:
            assert dm.grid_m is not None  # None only when a file or incidents replace the grid
            demand = population_grid(
                zone, cell_m=dm.grid_m, max_snap_m=dm.max_snap_m, shadow_profile=profile, **dm.grid_options()
            )
    progress.done("demand")
    w = demand.weight[~demand.no_road_data]
    far = (demand.weight > 0) & demand.no_road_data & ~demand.in_gap  # weighted, but too far from a road
    if not (w.sum() > 0) and far.any():  # the snap distance, not the demand, leaves nothing to measure
        raise ScenarioError(
            f"every demand point with weight is farther than {sc.demand.max_snap_m:g} m from a road node or "
            f"in the road-data gap (the nearest weighted point outside the gap is "
            f"{float(demand.snap_m[far].min()):.3g} m from one); expected a larger max_snap_m",
            source=str(sc.path),
            field="demand.max_snap_m",
        )
    if not (w.sum() > 0):
        fld = "demand.file" if sc.demand.file else "demand.grid_m"
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


def changed_zone(sc: Scenario, zone: Zone, progress: Progress | None = None) -> Zone:
    """The zone with the scenario's ``[[network.changes]]`` that hold on its ``[network] date`` (the one
    place a scenario's road changes enter: every travel time of every run kind is computed on it);
    ``zone`` itself when there are none."""
    from ..routing.match import apply_changes

    ch = sc.network["changes"]
    if not ch:
        return zone
    if progress is not None:
        progress.step(f"applying {len(ch)} road change(s)")
    out = apply_changes(zone, ch, day=sc.network["date"], roads_file=zone.pack.roads_file)
    if progress is not None:
        progress.done("network changes")
    return out


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
        **ctx.clock.definition(),
        "clock": ctx.clock.label("detail"),
        "call_handling_note": "112 call -> alarm at the post, one constant per run: [response] call_handling_s "
        f"(default {DEFAULT_CALL_HANDLING_S:g} s, a documented estimate from the published Belgian figures; see "
        "kazerne.response); 0 gives the times from the alarm",
        "turnout_model": "deterministic: each post's turnout fixed (its crew's turnout_s)",
    }
    if ctx.sc.network["changes"]:
        out["network_changes"] = {
            "date": ctx.sc.network["date"].isoformat() if ctx.sc.network["date"] else None,
            "changes": [c.describe() for c in ctx.sc.network["changes"]],
            "applied": z.net.describe().get("changes", []),
            "note": "closures, slow areas, passages and links applied to the built road network per profile; "
            "a change limited to time slices holds only in those slices",
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
    return sc.outputs.report_options()


def first_due(ctx: Context, node_t: np.ndarray, demand_first: np.ndarray) -> dict:
    """First-due areas (EPSG:31370, ``{site index: MultiPolygon}``) of the sites with times
    ``node_t`` to every node and first site ``demand_first`` per demand point: the one set of areas
    behind ``posts.csv``, ``first_due.geojson`` and the ``first_due_areas`` layer."""
    from ..routing.isochrones import first_due_from_times

    return first_due_from_times(ctx.zone, node_t, ctx.demand, demand_first)


def write_first_due(path, ctx: Context, posts: Sites, areas: dict, assumptions_: dict, demand_first=None) -> None:
    """``first_due.geojson``: where each post arrives first (:func:`first_due`; the fields of
    :func:`kazerne.routing.isochrones.first_due_rows`), WGS84 MultiPolygons."""
    from ..routing.isochrones import first_due_rows, polygons_to_wgs84

    rows, geoms = first_due_rows(areas, list(posts.ids), list(posts.names), ctx.demand, demand_first)
    recs = [{**r, "geometry": g} for r, g in zip(rows, polygons_to_wgs84(geoms))]
    write_geojson(path, recs, metadata={"assumptions": _json_safe(assumptions_)})
