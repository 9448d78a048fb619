"""The baseline run kind: with these posts, which share of the population does the first fire engine
reach within each threshold, per municipality, and where are the worst-served places?

A scenario without a kind section runs this kind (:data:`kazerne.scenarios.kinds.BASELINE_KIND`).
:meth:`BaselineKind.solve` computes everything (times, coverage, audit, fleet, the response model,
the effect of road changes, the headline's interval) and returns a :class:`~kazerne.scenarios.kinds.RunResult`;
:func:`kazerne.scenarios.output.write_run` writes it. The batch runner's fast path is this kind too:
:meth:`BaselineKind.solve_times` takes the times a batch builds from its shared driving-time matrix
and gives the same summary and tables, without what needs the network (audit, areas, maps).
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..clock import Clock
from ..coverage.metrics import CoverageReport, evaluate, evaluate_travel_times, minutes_key, share_key, worst_served
from ..jsonsafe import json_safe
from ..report.tables import pct, text_table
from ..routing.travel import travel_times
from ..sites import Sites
from .context import Context, Progress, assumptions, first_due, headline, load_context, mins, municipality_rows
from .kinds import RunResult
from .output import Table

__all__ = ["BASELINE", "BaselineKind", "DemandTable", "WORST_COLUMNS", "post_times", "time_line"]

#: Columns of ``worst.csv``.
WORST_COLUMNS = ["rank", "municipality", "lon", "lat", "population", "first_min", "first_post", "second_min"]


@dataclass(frozen=True)
class DemandTable:
    """What the baseline's tables need of the demand: weights, places, municipalities and the notes
    of the demand model. Built from :class:`~kazerne.demand.points.DemandPoints`, or read back from
    the file a batch shares between its runs (:meth:`save`, :meth:`load`)."""

    weight: np.ndarray
    no_road_data: np.ndarray
    municipality: np.ndarray
    municipality_names: list
    lon: np.ndarray
    lat: np.ndarray
    cell_m: float
    population: float
    no_road_data_population: float
    notes: dict
    gap_shadow_meta: dict
    gap_shadow: np.ndarray | None = None

    @classmethod
    def from_points(cls, d) -> DemandTable:
        return cls(
            weight=d.weight,
            no_road_data=d.no_road_data,
            municipality=d.municipality,
            municipality_names=list(d.municipality_names),
            lon=d.lon,
            lat=d.lat,
            cell_m=float(d.cell_m) if d.cell_m else 0.0,
            population=float(d.total),
            no_road_data_population=float(d.total_no_road_data),
            notes=d.meta.get("notes", {}),
            gap_shadow_meta=d.meta.get("gap_shadow", {}),
            gap_shadow=d.gap_shadow,
        )

    def save(self, fh) -> None:
        """Into an open binary file (``.npz``)."""
        arrays: dict[str, Any] = dict(
            weight=self.weight,
            no_road_data=self.no_road_data,
            municipality=self.municipality,
            municipality_names=np.array(self.municipality_names, dtype=str),
            lon=self.lon,
            lat=self.lat,
            cell_m=np.array(self.cell_m),
            population=np.array(self.population),
            no_road_data_population=np.array(self.no_road_data_population),
            notes=np.array(json.dumps(self.notes, default=str)),
            gap_shadow_meta=np.array(json.dumps(self.gap_shadow_meta, default=str)),
        )
        if self.gap_shadow is not None:
            arrays["gap_shadow"] = self.gap_shadow
        np.savez(fh, **arrays)

    @classmethod
    def load(cls, path) -> DemandTable:
        with np.load(path, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
        return cls(
            weight=d["weight"],
            no_road_data=d["no_road_data"],
            municipality=d["municipality"],
            municipality_names=[str(x) for x in d["municipality_names"]],
            lon=d["lon"],
            lat=d["lat"],
            cell_m=float(d["cell_m"]),
            population=float(d["population"]),
            no_road_data_population=float(d["no_road_data_population"]),
            notes=json.loads(str(d["notes"])),
            gap_shadow_meta=json.loads(str(d["gap_shadow_meta"])) if "gap_shadow_meta" in d else {},
            gap_shadow=d.get("gap_shadow"),
        )

    def evaluate(self, seconds: np.ndarray, thresholds_min, cell_area: bool = True, clock=None) -> CoverageReport:
        """Coverage of the sites with response times ``seconds`` (sites x points) on ``clock``."""
        cell = self.cell_m
        return evaluate(
            seconds,
            self.weight,
            np.array(thresholds_min, dtype=float) * 60.0,
            no_road_data=self.no_road_data,
            municipality=self.municipality,
            municipality_names=self.municipality_names,
            cell_area_km2=(cell / 1000.0) ** 2 if cell and cell_area else None,
            gap_shadow=self.gap_shadow if cell_area else None,
            clock=clock,
        )

    def summary(self) -> dict:
        return {
            "points": len(self.weight),
            "population": self.population,
            "no_road_data_points": int(self.no_road_data.sum()),
            "no_road_data_population": self.no_road_data_population,
            "gap_shadow": self.gap_shadow_meta,
            "notes": self.notes,
        }


def post_times(ctx: Context, posts: Sites):
    """The posts' response times from the call (call handling + turnout + drive, s) to the demand and
    to every network node."""
    return travel_times(ctx.zone, posts, ctx.demand, ctx.profile, keep_nodes=True, clock=ctx.clock)


def coverage_part(
    rep: CoverageReport,
    dem: DemandTable,
    post_rows: list,
    turnout_s: np.ndarray,
    thresholds_min: list,
    worst_n: int,
    areas: dict | None = None,
) -> dict:
    """The summary fields every baseline run has (mean drive, demand, posts, zone, municipalities,
    worst served), from its coverage report ``rep``. ``areas`` are the first-due polygons (None:
    not computed, as on the batch's fast path, which leaves out every geometry)."""
    posts = []
    for i, r in enumerate(post_rows):
        area = None if areas is None else (round(areas[i].area / 1e6, 3) if i in areas else 0.0)
        posts.append(
            {
                **r,
                "first_due_population": round(rep.sites[i]["first_due_weight"], 1),
                "first_due_points": rep.sites[i]["first_due_points"],
                "first_due_area_km2": area,
            }
        )
    ids = [r["id"] for r in post_rows]
    names = dem.municipality_names
    worst_rows = [
        {
            "rank": k + 1,
            "municipality": names[dem.municipality[i]],
            "lon": round(float(dem.lon[i]), 6),
            "lat": round(float(dem.lat[i]), 6),
            "population": round(float(dem.weight[i]), 1),
            "first_min": mins(rep.first_s[i]),
            "first_post": ids[rep.first_site[i]] if rep.first_site[i] >= 0 else None,
            "second_min": mins(rep.second_s[i]),
        }
        for k, i in enumerate(worst_served(rep, dem.weight, n=worst_n))
    ]
    mean_drive = rep.mean_drive_s(turnout_s, np.where(dem.no_road_data, 0.0, dem.weight))
    return {
        "mean_drive_min_first_unit": mins(mean_drive),
        "demand": dem.summary(),
        "posts": posts,
        "zone": headline(rep, thresholds_min),
        "municipalities": municipality_rows(rep, thresholds_min),
        "worst_served": worst_rows,
    }


def coverage_tables(part: dict) -> dict:
    """``municipalities.csv``, ``posts.csv`` and ``worst.csv`` of :func:`coverage_part`."""
    return {
        "municipalities.csv": Table(part["municipalities"]),
        "posts.csv": Table(part["posts"]),
        "worst.csv": Table(part["worst_served"], WORST_COLUMNS),
    }


def _comparison(weighting) -> str:
    if weighting == "incidents":
        return (
            "incident-weighted ([demand] incidents): like for like with the published Belgian mean from the call "
            "(11:25 in 2019, over incidents)"
        )
    return (
        "population-weighted: NOT like for like with the published Belgian mean from the call (11:25 in "
        "2019), which is over incidents; [demand] incidents = RECORDS or kazerne validate give that figure"
    )


def _audit(ctx: Context, posts: Sites, progress: Progress) -> dict:
    from ..routing.audit import audit

    progress.step("auditing the road network")
    aud = audit(
        ctx.zone,
        ctx.profile,
        posts=posts,  # a Sites table: the audit states each post's snap distance
        demand=ctx.demand,
        sources_per_municipality=10,
        targets_per_source=10,
    )
    progress.done("audit")
    return {**aud.headline(), "posts": aud.posts}


class BaselineKind:
    """The baseline run (see the module docstring)."""

    name = "baseline"
    title = "coverage of the scenario's posts: shares within each threshold, per municipality, worst served"

    def parse(self, v, section, sc) -> None:
        """The baseline has no section of its own: posts, demand and the common sections."""
        return None

    def solve(self, sc, spec, progress: Progress) -> RunResult:
        from ..calibration.uncertainty import headline_interval
        from .fleet import fleet_outputs
        from .resolve import resolve_posts

        ctx = load_context(sc, progress)
        progress.step("placing posts on the network")
        posts = resolve_posts(ctx.zone, sc)
        progress.done("posts")
        progress.step(f"response times from {len(posts)} posts")
        resp = None
        scenario_posts = posts
        if sc.response is None:
            tt = post_times(ctx, posts)
            rep, node_t = evaluate_travel_times(tt, ctx.demand, sc.thresholds_min, clock=ctx.clock), tt.node_seconds
        else:  # from the call: call handling, turnout distributions, time slices (kazerne.response)
            from .slices import response_baseline

            posts, rep, node_t, resp = response_baseline(ctx, posts, progress)
            tt = post_times(ctx, posts)  # the table's headline: every turnout at its median
        th = list(sc.thresholds_min)
        interval = headline_interval(tt, ctx.demand, th, sc.call_handling_s, posts.crew, ctx.profile)
        if resp is not None:
            interval["note"] = (
                "for the table's headline (every turnout at its median, the scenario's speeds); each time slice "
                "and the mix carry their own (response_model)"
            )
        progress.done("travel_and_metrics")
        areas = first_due(ctx, node_t, rep.first_site)  # one set of areas: posts.csv, geojson, gpkg
        dem = DemandTable.from_points(ctx.demand)
        part = coverage_part(rep, dem, posts.rows(), posts.turnout_s, th, sc.worst_n, areas)
        audit_block = _audit(ctx, posts, progress)
        progress.step("vehicles, full first turnout, neighbouring posts")
        fleet = fleet_outputs(ctx, posts)
        progress.done("fleet")
        summary = {
            "kazerne_version": __version__,
            "scenario": {"name": sc.name, "file": str(sc.path), "description": sc.description},
            "created": _dt.datetime.now().isoformat(timespec="seconds"),
            "assumptions": assumptions(ctx, posts),
            "road_network_audit": audit_block,
            **part,
            "comparison_with_published_figures": _comparison(ctx.demand.meta.get("weighting")),
            "uncertainty": interval,
            "fleet": fleet.summary,
            "timings_s": progress.timings,
        }
        tables = {**coverage_tables(part), **fleet.tables}
        if resp is not None:
            from .slices import assumption_updates, slice_rows

            summary["assumptions"].update(assumption_updates(resp))
            summary["response_model"] = resp
            tables["slices.csv"] = Table(slice_rows(resp, th))
        effects = None
        if sc.network["changes"]:
            from .effect import effect_summary, network_effect

            progress.step("effect of the road changes (the same scenario without them)")
            effects = network_effect(ctx, posts, scenario_posts)
            if effects:
                summary["network_effect"] = effect_summary(effects)
            progress.done("network_effect")
        progress.step("writing outputs")
        layers = _layers(ctx, posts, rep, node_t, areas, summary, effects)
        return RunResult(kind=self.name, summary=summary, tables=tables, layers=layers, value=rep)

    def solve_times(
        self,
        seconds: np.ndarray,
        dem: DemandTable,
        post_rows: list,
        turnout_s,
        call_handling_s: float,
        thresholds_min: list,
        worst_n: int,
        head: dict,
    ) -> RunResult:
        """The baseline from response times a caller already has (the batch's shared matrix plus each
        post's turnout and the call handling): the same coverage fields and tables as :meth:`solve`,
        after ``head`` (version, scenario, assumptions ...); ``value`` is the coverage report."""
        rep = dem.evaluate(seconds, thresholds_min, clock=Clock(call_handling_s))
        part = coverage_part(rep, dem, post_rows, turnout_s, list(thresholds_min), worst_n)
        return RunResult(kind=self.name, summary={**head, **part}, tables=coverage_tables(part), value=rep)

    def console(self, summary: dict) -> list[str]:
        return console_lines(summary)

    def warnings(self, summary: dict) -> list[str]:
        """The warnings the command line repeats on stderr (the road network audit's)."""
        return list((summary.get("road_network_audit") or {}).get("warnings", []))


def _layers(ctx, posts, rep, node_t, areas, summary, effects) -> tuple:
    """The baseline's layer writers: demand and first-due GeoJSON, the maps, report and GeoPackage."""
    from .context import report_options, write_first_due

    sc, d = ctx.sc, ctx.demand
    out = []
    if sc.outputs.geojson:

        def demand_geojson(tmp: Path) -> None:
            from ..report.geo import points_geojson

            pid = np.array(posts.ids + [""], dtype=object)
            points_geojson(
                tmp / "demand.geojson",
                d.lon,
                d.lat,
                {
                    "population": np.round(d.weight, 2),
                    "municipality": np.array(d.municipality_names, dtype=object)[d.municipality],
                    "first_min": np.round(rep.first_s / 60, 2),
                    "first_post": pid[rep.first_site],
                    "second_min": np.round(rep.second_s / 60, 2),
                    "second_post": pid[rep.second_site],
                    "no_road_data": d.no_road_data,
                    "snap_m": np.round(d.snap_m, 1),
                },
                metadata={"assumptions": json_safe(summary["assumptions"])},
            )

        out.append(demand_geojson)
    if sc.outputs.first_due_areas:
        out.append(
            lambda tmp: write_first_due(
                tmp / "first_due.geojson", ctx, posts, areas, summary["assumptions"], rep.first_site
            )
        )

    def council(tmp: Path) -> None:
        from ..report.council import write_baseline_outputs

        extra: dict = {}
        if effects:
            from .effect import effect_outputs

            extra = effect_outputs(tmp, ctx, effects, summary, report_options(sc))
        write_baseline_outputs(tmp, ctx, posts, rep, node_t, summary, first_due=areas, **report_options(sc), **extra)

    out.append(council)
    return tuple(out)


def time_line(a: dict, response_model: bool = False) -> str:
    """The console's line on what the times measure (from the call, or from the alarm): the clock's words."""
    note = " (table below: every turnout at its median; expected shares per time slice further down)"
    return Clock.from_assumptions(a).label("console", note=note if response_model else "")


def _coverage_table(summary: dict, th: list) -> str:
    z = summary["zone"]
    rows = [
        ["zone", round(z["population_with_road_data"])]
        + [pct(z["share_within"][minutes_key(t)]) for t in th]
        + [z["mean_response_min"], z["p90_response_min"]]
    ]
    for m in summary["municipalities"]:
        rows.append(
            [m["municipality"], round(m["population"])]
            + [("" if m[share_key(t)] is None else pct(m[share_key(t)])) for t in th]
            + [m["mean_min"], m["p90_min"]]
        )
    return text_table(rows, ["", "population"] + [f"≤{t:g} min" for t in th] + ["mean min", "p90 min"])


def _interval_line(unc: dict, th: list) -> list[str]:
    if not unc.get("share_within"):
        return []
    cells = ", ".join(
        f"≤{t:g} min {100 * unc['share_within'][minutes_key(t)][0]:.1f}-"
        f"{100 * unc['share_within'][minutes_key(t)][1]:.1f}%"
        for t in th
    )
    lo, hi = unc["mean_response_min"]
    r = unc["ranges"]
    src = (
        "the calibration's standard errors (x1.96)"
        if r["source"] == "calibration"
        else f"default ranges: speed x{r['speed_factor'][0]:g}-{r['speed_factor'][1]:g}, call handling "
        f"{r['call_handling_s'][0]:g}-{r['call_handling_s'][1]:g} s, turnout x{r['turnout_factor'][0]:g}-"
        f"{r['turnout_factor'][1]:g}"
    )
    return [
        "\ninterval of the zone's headline"
        f" from the parameters' uncertainty ({src}): {cells}; mean {lo:.2f}-{hi:.2f} min"
    ]


def _weighting_line(a: dict) -> str:
    if str(a.get("population_model", "")).startswith("incidents"):
        return (
            "these shares and means are incident-weighted ([demand] incidents): like for like with the published "
            "Belgian mean over incidents (11:25 from the call, 2019), for the incidents of these records"
        )
    return (
        "these shares and means are population-weighted; the published Belgian mean (11:25 from the call, 2019) "
        "is over incidents: not like for like ([demand] incidents = RECORDS, or kazerne validate RECORDS "
        "SCENARIO, give the incident-weighted figure)"
    )


def _audit_lines(au: dict | None) -> list[str]:
    if not au:
        return []
    med = [m for m in au["detour_median_by_municipality"].values() if isinstance(m, (int, float))]
    lines = [
        f"road network audit: {au['nodes_dropped_outside_largest_component']} nodes outside the largest "
        f"component, {au['near_coincident_node_pairs']} unjoined near-coincident node pairs, detour "
        + (f"index median {min(med):.2f}-{max(med):.2f} by municipality" if med else "index not measured")
    ]
    n = len(au["warnings"])  # each one line on stderr after the answer (runner.print_lines), not twice
    return lines + ([f"{n} audit warning{'s' if n != 1 else ''}: on stderr below, and in summary.json"] if n else [])


def console_lines(summary: dict) -> list[str]:
    """The baseline's answer on the terminal (the command line prints these lines)."""
    from .effect import effect_console
    from .fleet import fleet_text

    th = sorted(float(t) for t in summary["zone"]["share_within"])
    a = summary["assumptions"]
    lines = [
        f"\n{summary['scenario']['name']}: {len(summary['posts'])} posts, zone {a['zone']}",
        f"road data {a['road_data']['source']} ({a['road_data_date']}), profile {a['speed_profile']['name']}"
        f"{' (' + a['speed_profile']['period'] + ')' if a['speed_profile']['period'] else ''}, "
        f"turnout {a['turnout_s_by_crew']} s, population {a['population_year']}",
        time_line(a, summary.get("response_model") is not None),
        f"population {summary['zone']['population_with_road_data']:,.0f} with road data; "
        f"{summary['zone']['population_no_road_data']:,.0f} without (not counted)\n",
        _coverage_table(summary, th),
        *effect_console(summary),
        *_interval_line(summary.get("uncertainty") or {}, th),
        _weighting_line(a),
    ]
    if isinstance(summary.get("mean_drive_min_first_unit"), (int, float)):
        lines.append(
            f"\nmean driving time of the first unit (population-weighted, no turnout): "
            f"{summary['mean_drive_min_first_unit']:.2f} min"
        )
    if summary.get("fleet"):
        lines.append("\n" + fleet_text(summary["fleet"]))
    if summary.get("response_model"):
        from .slices import response_lines

        lines += response_lines(summary["response_model"], th)
    return lines + _audit_lines(summary.get("road_network_audit")) + [""]


BASELINE = BaselineKind()
