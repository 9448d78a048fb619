"""The outputs of an EMS study (``[ems]``): map of bases and units, ``layers.gpkg`` and ``report.html``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from . import html as H
from .council import (
    assumption_lines,
    assumption_section,
    basemap,
    map_and_figure,
    metric_xy,
    post_label,
    report_footer,
    write_report,
)
from .maps import Site, council_map
from .study_report import generic_cols, solve_table

__all__ = ["write_ems_outputs"]


def write_ems_outputs(
    folder,
    ctx,
    *,
    summary: dict,
    ids,
    names,
    lons,
    lats,
    counts,
    new_counts=None,
    first_s=None,
    p_within=None,
    epsg: int = 31370,
    maps: bool = True,
    report: bool = True,
    gpkg: bool = True,
) -> None:
    """Map, ``layers.gpkg`` and ``report.html`` of an EMS study: bases, units, the per-municipality
    share (busy units included) against the norm. ``first_s``: per demand point, seconds to the
    nearest unit if all were free (NaN without road data); ``p_within``: probability (busy-aware)
    of a unit on scene within T."""
    folder = Path(folder)
    zone, d = ctx.zone, ctx.demand
    e = summary["ems"]
    ev = summary["result"]
    T = float(e["threshold"])
    norm = float(e["norm_share"])
    unit = {"ambulance": "ambulance", "pit": "PIT team", "mug": "MUG team"}.get(e["unit"], e["unit"])
    key = f"share_within_{T:g}min_busy_aware"
    shares = {r["municipality"]: r[key] for r in summary["municipalities"]}
    bm = basemap(zone)
    a = summary["assumptions"]
    lines = assumption_lines(
        a,
        extra=[
            f"Units: {unit}, turnout {e['turnout_s']:g} s, mean mission {e['mission_minutes']:g} min, "
            + (
                f"{e['calls_per_year']:,.0f} calls a year"
                if e.get("calls_per_year")
                else f"busy fraction {e['busy_fraction']:g}"
            )
            + " spread like the population.",
            "Busy units: Larson's hypercube approximation (nearest free unit is sent; a call finding every unit "
            "busy waits and counts as late).",
        ],
    )
    title = f"{bm.zone_title}: {unit} on scene within {T:g} min — the {100 * norm:g} % norm per municipality"
    sub = (
        f"{summary['scenario']['description'] or summary['scenario']['name']} — {ev['units']} unit(s); zone: "
        f"{100 * ev['share_within_busy_aware']:.1f} % of calls within {T:g} min (busy units included), "
        f"{100 * ev['share_within_if_all_free']:.1f} % if every unit were free — norm "
        f"{'met' if ev['meets_norm'] else 'NOT met'}"
    )
    bx, by = metric_xy(lons, lats)
    sites = []
    new_counts = new_counts if new_counts is not None else np.zeros(len(ids), int)
    for i, bid in enumerate(ids):
        c, nc = int(counts[i]), int(new_counts[i])
        if nc > 0:
            sites.append(
                Site(
                    float(bx[i]),
                    float(by[i]),
                    f"NEW +{nc} {post_label(bid, names[i])}" + (f" ({c} in all)" if c != nc else ""),
                    "unit_new",
                    priority=0,
                )
            )
        elif c > 0:
            sites.append(Site(float(bx[i]), float(by[i]), f"{post_label(bid, names[i])}: {c}", "unit", priority=1))
        else:
            sites.append(Site(float(bx[i]), float(by[i]), "", "base", priority=2))
    fig_html = ""
    if maps:
        fig, info = council_map(
            bm,
            title=title,
            subtitle=sub,
            choropleth={
                "values": shares,
                "norm": norm,
                "label": f"Calls reached within {T:g} min (busy units included)",
            },
            sites=sites,
            assumptions=lines,
        )
        fig_html = map_and_figure(
            fig,
            info,
            folder,
            "map",
            f"Municipalities coloured by the share of calls with a "
            f"{unit} on scene within {T:g} min; bases with units labelled with their "
            "count.",
            "map-main",
        )
    if gpkg:
        from .gpkg import cell_polygons, write_gpkg

        mnames = np.array(list(d.municipality_names) + [""], dtype=object)
        fm = np.asarray(first_s, float) / 60.0 if first_s is not None else np.full(len(d.x), np.nan)
        cells = {
            "cell_id": np.arange(len(d.x)),
            "municipality": mnames[d.municipality],
            "population": np.round(d.weight, 3),
            "no_road_data": d.no_road_data.astype(bool),
            "first_min_all_free": np.where(np.isfinite(fm), np.round(fm, 3), np.nan),
            "p_within_busy_aware": np.asarray(p_within, float) if p_within is not None else np.nan,
        }
        brow = [
            {
                "base_id": bid,
                "name": names[i],
                "units": int(counts[i]),
                "new_units": int(new_counts[i]),
                "lon": round(float(lons[i]), 6),
                "lat": round(float(lats[i]), 6),
            }
            for i, bid in enumerate(ids)
        ]
        geoms = {m.name: g for m, g in zip(zone.pack.municipalities, zone.municipalities_metric)}
        mrows = [{"name" if k == "municipality" else k: v for k, v in r.items()} for r in summary["municipalities"]]
        for r in mrows:
            v = r.get(key)
            r["meets_norm"] = None if v is None else bool(v >= norm)
        layers = {
            "demand_cells": (cells, cell_polygons(d.x, d.y, d.cell_m or 250.0), "MultiPolygon"),
            "bases": (brow, [shapely.Point(a_, b_) for a_, b_ in zip(bx, by)], "Point"),
            "municipalities": (mrows, [geoms[r["name"]] for r in mrows], "MultiPolygon"),
        }
        write_gpkg(folder / "layers.gpkg", layers, epsg=epsg)
    if report:
        cards = [
            (H.fmt_pct(ev["share_within_busy_aware"]), f"calls with a {unit} within {T:g} min", "busy units included"),
            (H.fmt_pct(ev["share_within_if_all_free"]), "if every unit were free", ""),
            ("met" if ev["meets_norm"] else "NOT met", f"the {100 * norm:g} % norm", ""),
            (f"{ev['units']}", f"{unit} units", f"mean busy fraction {ev['mean_busy_fraction']:.2f}"),
        ]
        secs = [H.section("Headline", H.cards(cards), id="headline")]
        if fig_html:
            secs.append(H.section("Map", fig_html, id="map"))
        mrows = [
            dict(r, meets=("yes" if (r.get(key) or 0) >= norm else "NO") if r.get(key) is not None else "")
            for r in summary["municipalities"]
        ]
        cols = [
            ("municipality", "municipality", None),
            ("population", "population", H.fmt_int),
            (key, f"≤ {T:g} min, busy-aware", H.fmt_pct),
            (f"share_within_{T:g}min_if_all_free", f"≤ {T:g} min if all free", H.fmt_pct),
            ("meets", f"meets {100 * norm:g} %", None),
        ]
        secs.append(
            H.section(
                "Per municipality",
                H.paragraph("Click a column heading to sort.", "small") + H.table(mrows, cols, id="municipalities"),
                id="per-municipality",
            )
        )
        placed = summary.get("placement", [])
        if placed:
            secs.append(H.section("Units", H.table(placed, generic_cols(placed), id="placement")))
        if summary.get("solve"):
            secs.append(H.section("Solve", solve_table([summary["solve"]])))
        sim = summary.get("simulation")
        if sim:
            scols = [
                ("placement", "placement", None),
                ("simulated_share_within", f"≤ {T:g} min simulated", H.fmt_pct),
                ("simulated_share_within_lo", "95 % low", H.fmt_pct),
                ("simulated_share_within_hi", "95 % high", H.fmt_pct),
                ("meets_norm", "norm", None),
                ("analytical_share_within", "analytical (hypercube)", H.fmt_pct),
                ("change_vs_first", "change vs first row", H.fmt_pct),
                ("change_vs_first_lo", "change 95 % low", H.fmt_pct),
                ("change_vs_first_hi", "change 95 % high", H.fmt_pct),
                ("share_nearest_base_busy", "nearest base busy", H.fmt_pct),
                ("mean_mission_min", "mission (min)", H.fmt_num),
            ]
            note = (
                f"{sim['replications']} replications of {sim['days']:g} days, {sim['calls_per_year']:.0f} calls a year, "
                "the same calls for every placement (paired changes). "
                + sim["note"][:1].upper()
                + sim["note"][1:]
                + "."
            )
            secs.append(
                H.section(
                    "Simulated (dispatch simulation)",
                    H.paragraph(note, "small") + H.table(sim["rows"], scols, id="simulation"),
                    id="simulation",
                )
            )
        secs.append(
            assumption_section(
                lines,
                [f"Bases without a known position (left out): {', '.join(summary.get('bases_without_position', []))}"]
                if summary.get("bases_without_position")
                else [],
            )
        )
        write_report(
            folder,
            title,
            [sub, f"Scenario {summary['scenario']['name']} ({summary['scenario']['file']})"],
            secs,
            report_footer(summary),
        )
