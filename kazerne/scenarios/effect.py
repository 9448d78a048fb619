"""The effect of a scenario's road changes (``[[network.changes]]``): the same scenario without them,
and the difference -- people losing / gaining each threshold (zone, municipality, post), the streets
whose best routes change, a difference map and GeoPackage layers. Called by the baseline runner when
the scenario has changes (``[network] compare = false`` turns it off)."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..coverage.effect import Effect, measure_effect
from ..routing.changes import ChangedNetwork
from ..sites import Sites
from .context import Context

__all__ = ["base_zone", "network_effect", "effect_layers", "effect_section", "effect_console"]


def base_zone(zone):
    """``zone`` without its road changes."""
    return dataclasses.replace(zone, net=zone.net.base) if isinstance(zone.net, ChangedNetwork) else zone


def network_effect(ctx: Context, posts: Sites, scenario_posts: Sites | None = None) -> list[Effect] | None:
    """The effect in the reference situation, and in every time slice a change is limited to."""
    sc = ctx.sc
    if not sc.network["changes"] or not sc.network["compare"] or not isinstance(ctx.zone.net, ChangedNetwork):
        return None
    before = base_zone(ctx.zone)
    ch = sc.call_handling_s
    out = [measure_effect(before, ctx.zone, posts, ctx.demand, ctx.profile, sc.thresholds_min, ch)]
    if any(c.slices for c in sc.network["changes"]) and scenario_posts is not None:
        from .slices import slice_setups

        wanted = {s for c in sc.network["changes"] for s in (c.slices or ())}
        for s in slice_setups(sc, scenario_posts):
            if s.name in wanted:
                out.append(
                    measure_effect(
                        before, ctx.zone, s.sites, ctx.demand, s.profile, sc.thresholds_min, ch, label=s.name
                    )
                )
    return out


def effect_summary(effects: list[Effect]) -> dict:
    return {
        "note": "the same scenario without its road changes (before) against with them (after); first fire engine "
        "from the call; 'losing' = within T before and not after; a point is slower / faster when its first "
        "arrival moves by more than 1 s",
        "zone": [e.zone() for e in effects],
    }


def effect_tables(effects: list[Effect]) -> dict:
    return {
        "effect_municipalities.csv": [r for e in effects for r in e.municipality_rows()],
        "effect_posts.csv": [r for e in effects for r in e.post_rows()],
        "effect_streets.csv": [r for e in effects for r in e.street_rows()],
    }


def effect_layers(ctx: Context, effects: list[Effect]) -> dict:
    """GeoPackage layers: ``effect_cells`` (the demand cells of each situation with their change) and
    ``changed_roads`` (the edges the changes close or slow, and the links they add)."""
    import shapely

    from ..report.gpkg import cell_polygons

    d = ctx.demand
    cols: dict = {}
    geoms = []
    cells = cell_polygons(d.x, d.y, d.cell_m or 250.0)
    for e in effects:
        c = e.cell_columns()
        keep = np.flatnonzero(e.weight > 0)
        part = {"situation": np.full(len(keep), e.label, dtype=object), "population": e.weight[keep]}
        part.update({k: v[keep] for k, v in c.items()})
        for k, v in part.items():
            cols.setdefault(k, []).append(v)
        geoms.append(cells[keep])
    layers: dict[str, tuple] = {
        "effect_cells": ({k: np.concatenate(v) for k, v in cols.items()}, np.concatenate(geoms), "Polygon")
    }
    net = ctx.zone.net
    rows, lines = [], []
    for r in net.resolved if isinstance(net, ChangedNetwork) else []:
        sel = np.flatnonzero(r.close_fwd | r.close_rev) if r.close_fwd is not None else np.zeros(0, dtype=np.int64)
        for edge in sel:
            rows.append({"change": r.change.describe(), "action": r.change.action, "edge": int(edge)})
            lines.append(shapely.LineString(net.edge_geometry(int(edge))))
        for a, b, _ in r.extra:
            rows.append({"change": r.change.describe(), "action": r.change.action, "edge": -1})
            lines.append(shapely.LineString([(net.x[a], net.y[a]), (net.x[b], net.y[b])]))
    if rows:
        layers["changed_roads"] = (rows, np.array(lines, dtype=object), "LineString")
    return layers


def effect_console(summary: dict) -> list:
    eff = summary.get("network_effect")
    if not eff:
        return []
    out = ["effect of the road changes (same scenario without them -> with them):"]
    for z in eff["zone"]:
        th = [k.split("_")[1] for k in z if k.startswith("losing_")]
        parts = ", ".join(f"≤{t}: -{z['losing_' + t]:,.0f} / +{z['gaining_' + t]:,.0f}" for t in th)
        out.append(
            f"  {z['situation']}: {z['people_slower']:,.0f} people slower, {z['people_faster']:,.0f} faster; "
            f"people losing / gaining {parts}"
        )
    return out


def effect_section(summary: dict, effects: list[Effect], png: bytes | None) -> str:
    """The report.html section of the effect."""
    from ..report import html as H

    zone_rows = summary["network_effect"]["zone"]
    th = effects[0].thresholds_min
    cols = [("situation", "situation", None), ("people_slower", "people slower", H.fmt_int)]
    cols += [("people_faster", "people faster", H.fmt_int)]
    for t in th:
        cols += [
            (f"losing_{t:g}min", f"losing ≤ {t:g}", H.fmt_int),
            (f"gaining_{t:g}min", f"gaining ≤ {t:g}", H.fmt_int),
        ]
    mcols = [("situation", "situation", None), ("municipality", "municipality", None)] + cols[1:]
    pcols = [("situation", "situation", None), ("post", "post (first before)", None)] + cols[1:]
    scols = [
        ("situation", "situation", None),
        ("street", "street", None),
        ("municipality", "municipality", None),
        ("people", "people", H.fmt_int),
        ("mean_change_min", "mean change min", lambda v: H.fmt_num(v, 2)),
        ("before_min", "before min", lambda v: H.fmt_num(v, 1)),
        ("after_min", "after min", lambda v: H.fmt_num(v, 1)),
    ]
    changes = summary["assumptions"].get("network_changes", {}).get("applied", [])
    body = H.paragraph(
        "The same scenario without its road changes against with them (first fire engine from the call). "
        "Changes: " + "; ".join(f"{c['change']} ({c['edges']} edges)" for c in changes)
    )
    body += H.table(zone_rows, cols, id="effect-zone")
    if png is not None:
        body += H.figure(png, "Cells slower (red) / faster (blue) with the road changes.", id="map-effect")
    body += H.paragraph("Per municipality", "small") + H.table(
        [r for e in effects for r in e.municipality_rows()], mcols, id="effect-muni"
    )
    body += H.paragraph("Per post (the people it reached first before)", "small") + H.table(
        [r for e in effects for r in e.post_rows()], pcols, id="effect-posts"
    )
    body += H.paragraph("Streets whose best routes change", "small") + H.table(
        [r for e in effects for r in e.street_rows()], scols, id="effect-streets"
    )
    return H.section("Effect of the road changes", body, id="effect")


def effect_map(ctx: Context, effect: Effect, summary: dict):
    """The difference map (cells slower / faster) of one situation: a council map figure."""
    from ..report.council import assumption_lines, basemap, change_surface
    from ..report.maps import council_map

    th = effect.thresholds_min
    T = th[len(th) // 2]
    bm = basemap(ctx.zone)
    z = effect.zone()
    sub = (
        f"{effect.label}: {z['people_slower']:,.0f} people slower, {z['people_faster']:,.0f} faster; within {T:g} min "
        f"{z[f'losing_{T:g}min']:,.0f} lose, {z[f'gaining_{T:g}min']:,.0f} gain"
    )
    surf = change_surface(ctx.demand, effect.before_s, effect.after_s, T, "without → with the road changes")
    surf["min_change"] = 0.1
    fig, _ = council_map(
        bm,
        title=f"{bm.zone_title}: effect of the road changes",
        subtitle=sub,
        surface=surf,
        assumptions=assumption_lines(summary["assumptions"]),
    )
    return fig


def effect_outputs(tmp, ctx: Context, effects: list[Effect], summary: dict, opts: dict) -> dict:
    """Write the effect's CSVs and map into the run folder ``tmp``; return the extra GeoPackage layers and
    report section for the baseline writer."""
    from ..report.maps import figure_bytes, save_map
    from ..report.tables import write_csv

    for name, rows in effect_tables(effects).items():
        if rows:
            write_csv(tmp / name, rows)
    png = None
    if opts.get("maps", True):
        fig = effect_map(ctx, effects[-1] if len(effects) > 1 else effects[0], summary)
        png = figure_bytes(fig, "png") if opts.get("report", True) else None
        save_map(fig, tmp, "effect_map")
    out: dict = {}
    if opts.get("gpkg", True):
        out["extra_layers"] = effect_layers(ctx, effects)
    if opts.get("report", True):
        out["extra_sections"] = (effect_section(summary, effects, png),)
    return out
