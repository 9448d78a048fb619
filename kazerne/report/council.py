"""The outputs people look at, for every run kind: maps (PNG 200 dpi + PDF), ``report.html`` and
``layers.gpkg``.

The runner, the study kinds and the EMS studies each call one function here
(:func:`write_baseline_outputs`, :func:`write_study_outputs`, :func:`write_ems_outputs`) with
what they computed; the functions turn it into plain values for the writers in
:mod:`~kazerne.report.maps`, :mod:`~kazerne.report.html` and :mod:`~kazerne.report.gpkg`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

from ..clock import Clock
from ..coverage.metrics import municipality_rows
from ..sites import site_streets
from . import html as H
from .maps import Basemap, Site, council_map, figure_bytes, save_map

log = logging.getLogger("kazerne")

MAJOR_CLASSES = ("motorway", "trunk")
MAIN_CLASSES = ("primary", "secondary")


# ------------------------------------------------------------------------------------------------
# plain values from a zone
# ------------------------------------------------------------------------------------------------


def zone_title(pack) -> str:
    """A human name of the zone: the pack README's first heading ("Hulpverleningszone Centrum"),
    else the pack's name."""
    try:
        first = (Path(pack.path) / "README.md").read_text(encoding="utf-8").splitlines()[0]
    except (OSError, IndexError, TypeError):
        return pack.name
    t = first.lstrip("#").strip()
    if ":" in t:
        t = t.split(":", 1)[1].strip()
    t = t.split("(")[0].split(",")[0].strip()
    return t or pack.name


def basemap(zone) -> Basemap:
    """Municipalities, main roads and the no-road-data area of a zone, EPSG:31370."""
    from ..routing.profiles import CLASS_INDEX

    net = zone.net
    e = net.undirected_edges()
    seg = np.stack(
        [np.column_stack([net.x[net.u[e]], net.y[net.u[e]]]), np.column_stack([net.x[net.v[e]], net.y[net.v[e]]])],
        axis=1,
    )
    cls = net.cls[e]
    roads = {
        "major": seg[np.isin(cls, [CLASS_INDEX[c] for c in MAJOR_CLASSES])],
        "main": seg[np.isin(cls, [CLASS_INDEX[c] for c in MAIN_CLASSES])],
    }
    munis = [(m.name, g) for m, g in zip(zone.pack.municipalities, zone.municipalities_metric)]
    return Basemap(
        zone=zone.zone_metric, municipalities=munis, roads=roads, gap=zone.gap_metric, zone_title=zone_title(zone.pack)
    )


def crew_kind(label: str) -> str:
    s = (label or "").lower()
    if "professional" in s and "volunteer" in s or s == "mixed":
        return "mixed"
    if "professional" in s:
        return "professional"
    return "volunteer"


def municipality_of(zone, x, y) -> list:
    """Municipality name of each EPSG:31370 point ("" outside the zone)."""
    x = np.atleast_1d(np.asarray(x, float))
    y = np.atleast_1d(np.asarray(y, float))
    out = np.full(len(x), "", dtype=object)
    for m, g in zip(zone.pack.municipalities, zone.municipalities_metric):
        hit = shapely.contains_xy(g, x, y) & (out == "")
        out[hit] = m.name
    if (out == "").any():  # just outside: the nearest municipality within 3 km
        for i in np.flatnonzero(out == ""):
            p = shapely.Point(x[i], y[i])
            d = [g.distance(p) for g in zone.municipalities_metric]
            k = int(np.argmin(d))
            if d[k] <= 3000:
                out[i] = f"{zone.pack.municipalities[k].name} (outside, {d[k]:.0f} m)"
    return list(out)


def _metric(lon, lat):
    from ..routing.network import to_metric

    return to_metric(np.atleast_1d(np.asarray(lon, float)), np.atleast_1d(np.asarray(lat, float)))


def assumption_lines(a: dict, demand_meta: dict | None = None, extra=()) -> list:
    """The assumptions of a run in plain sentences (for maps and the HTML report)."""
    rd = a.get("road_data", {})
    sp = a.get("speed_profile", {})
    out = [
        f"Roads: OpenStreetMap extract of {a.get('road_data_date', '?')} ({rd.get('source', '?')}); roads "
        f"built since are missing; {rd.get('nodes_dropped', 0)} unconnected road nodes left out."
    ]
    spd = sp.get("speeds_kmh_urban_rural", {})
    if spd:
        parts = [
            f"{c} {spd[c][0]:g}/{spd[c][1]:g}" for c in ("motorway", "primary", "secondary", "residential") if c in spd
        ]
        out.append(
            f"Speeds, profile '{sp.get('name', '?').replace('_', ' ')}' (km/h, town/country): "
            + ", ".join(parts)
            + f"; {sp.get('intersection_delay_s', 0):g} s per junction"
            + (f"; period {sp['period']}" if sp.get("period") else "")
            + (f"; speeds x{sp['speed_scale']:g}" if sp.get("speed_scale", 1) != 1 else "")
            + "."
        )
    nc = (a.get("network_changes") or {}).get("applied") or []
    if nc:
        out.append(
            "Road changes: "
            + "; ".join(
                c["change"]
                + ("" if c["slices"] == "all" else f" (slices {', '.join(c['slices'])})")
                + ("" if c["profiles"] == "all" else f" ({', '.join(c['profiles'])})")
                for c in nc
            )
            + (f"; as on {a['network_changes']['date']}" if a["network_changes"].get("date") else "")
            + "."
        )
    tc = a.get("turnout_s_by_crew")
    dist = a.get("turnout_distribution_by_crew")
    if dist:
        out.append(
            "Turnout (alarm to wheels rolling), "
            + ("distribution: " if a.get("turnout_model") == "distribution" else "fixed: ")
            + "; ".join(f"{k} {_dist_text(v)}" for k, v in dist.items())
            + "."
        )
    elif tc:
        out.append("Turnout (alarm to wheels rolling): " + ", ".join(f"{k} {v:g} s" for k, v in tc.items()) + ".")
    where = "each 250 m cell" if "250" in str(a.get("population_model", "")) else "each demand point"
    clock = Clock.from_assumptions(a)
    out.append(clock.label("html", where=where))
    if a.get("call_handling_s"):
        sl = a.get("time_slices") or []
        if len(sl) > 1:
            out.append(
                "Time slices: "
                + "; ".join(
                    f"{s['name']} ({s['days']} {s['hours']}, {s['hours_per_week']:g} h/week, "
                    f"{s['speed_period'] or 'free-flowing'} speeds)"
                    for s in sl
                )
                + "; the mix weights each by its hours."
            )
    pm = a.get("population_model", "")
    if pm:
        out.append(
            f"Population: Statbel {a.get('population_year', '')} per municipality "
            f"({a.get('population_total_pack', 0):,.0f} inhabitants), spread over cells by the length of "
            "residential streets and junction density — a model, not addresses."
        )
    out.append(
        "Shares count only people with road data; people in the no-road-data area are reported apart, "
        "never as covered or uncovered."
    )
    out.extend(extra)
    return out


def _mins(s):
    return None if s is None or not np.isfinite(s) else float(s) / 60.0


def _cells_minutes(seconds):
    m = np.asarray(seconds, float) / 60.0
    return m


def minutes_surface(d, first_s, thresholds, label: str, interval: dict | None = None) -> dict:
    """The first-arrival surface of a map (``interval``: the headline's, shown in the legend)."""
    from .intervals import legend_lines

    return {
        "headline": legend_lines(interval, thresholds) if interval else None,
        "kind": "minutes",
        "x": d.x,
        "y": d.y,
        "cell_m": d.cell_m or 250.0,
        "minutes": _cells_minutes(first_s),
        "population": d.weight,
        "no_road_data": d.no_road_data,
        "thresholds": thresholds,
        "label": label,
    }


def change_surface(d, before_s, after_s, threshold_min: float, label: str) -> dict:
    return {
        "kind": "change",
        "x": d.x,
        "y": d.y,
        "cell_m": d.cell_m or 250.0,
        "before": np.where(d.no_road_data, np.nan, _cells_minutes(before_s)),
        "after": np.where(d.no_road_data, np.nan, _cells_minutes(after_s)),
        "population": d.weight,
        "no_road_data": d.no_road_data,
        "threshold": threshold_min,
        "min_change": 0.5,
        "label": label,
    }


def post_label(pid: str, name: str) -> str:
    name = str(name or "")
    return pid if not name or name == pid else f"{pid} {name}"


# ------------------------------------------------------------------------------------------------
# GeoPackage layers of a network of sites
# ------------------------------------------------------------------------------------------------


def _band_labels(th):
    return [f"<= {th[0]:g} min"] + [f"{a:g}-{b:g} min" for a, b in zip(th[:-1], th[1:])] + [f"> {th[-1]:g} min"]


def network_layers(
    zone,
    profile,
    d,
    rep,
    site_ids,
    site_names,
    node_t,
    thresholds,
    muni_rows: list,
    site_rows: list,
    site_xy,
    site_layer: str = "posts",
    before=None,
    first_due=None,
) -> dict:
    """Layers of one network of sites: demand cells, sites, isochrone bands and cumulative
    isochrones (of the whole network: first unit), first-due areas, municipalities with shares.
    Isochrones and first-due areas come from the same functions as the API's
    (:func:`kazerne.routing.isochrones.reach_polygons`, :func:`~kazerne.routing.isochrones.first_due_from_times`);
    ``first_due``: those areas when the caller already has them."""
    from ..routing.isochrones import first_due_from_times, first_due_rows, reach_polygons
    from .gpkg import cell_polygons

    th = [float(t) for t in thresholds]
    pid = np.array(list(site_ids) + [None], dtype=object)
    first_min = rep.first_s / 60.0  # full precision: threshold tests on the layer match the metrics
    second_min = rep.second_s / 60.0
    band = np.searchsorted(np.array(th), rep.first_s / 60.0, side="left")
    labels = np.array(_band_labels(th) + ["not reached", "no road data"], dtype=object)
    band = np.where(np.isfinite(rep.first_s), band, len(th) + 1)
    band = np.where(d.no_road_data, len(th) + 2, band)
    mnames = np.array(list(d.municipality_names) + [""], dtype=object)
    cells = {
        "cell_id": np.arange(len(d.x)),
        "municipality": mnames[d.municipality],
        "population": d.weight,
        "no_road_data": d.no_road_data.astype(bool),
        "first_min": np.where(np.isfinite(first_min), first_min, np.nan),
        "first_post": pid[rep.first_site],
        "first_band": labels[band],
        "second_min": np.where(np.isfinite(second_min), second_min, np.nan),
        "second_post": pid[rep.second_site],
    }
    if before is not None:
        bm = before / 60.0
        cells["first_min_before"] = np.where(np.isfinite(bm), bm, np.nan)
        cells["change_min"] = np.where(np.isfinite(bm) & np.isfinite(first_min), first_min - bm, np.nan)
    cell_geoms = cell_polygons(d.x, d.y, d.cell_m or 250.0)
    # cumulative isochrones and bands of the network (first unit from any site): every cell
    # reached within T has its centre inside the T polygon
    best = np.min(node_t, axis=0) if len(node_t) else np.full(zone.net.n_nodes, np.inf)
    cum, band_geoms = reach_polygons(
        zone.net, profile, best, th, points=(d.x, d.y, rep.first_s), gap_metric=zone.gap_metric, with_bands=True
    )
    w = np.where(d.no_road_data, 0.0, d.weight)
    iso_rows, band_rows = [], []
    for k, (t, g, b) in enumerate(zip(th, cum, band_geoms)):
        iso_rows.append(
            {
                "within_min": t,
                "label": f"<= {t:g} min",
                "area_km2": round(g.area / 1e6, 3),
                "population_within": round(float(w[rep.first_s <= t * 60].sum()), 1),
            }
        )
        lo = th[k - 1] if k else 0.0
        band_rows.append(
            {
                "from_min": lo,
                "to_min": t,
                "label": labels[k],
                "area_km2": round(b.area / 1e6, 3),
                "population": round(float(w[(rep.first_s > lo * 60) & (rep.first_s <= t * 60)].sum()), 1),
            }
        )
    iso_geoms = cum
    # first-due areas: the same as posts.csv and first_due.geojson
    areas = first_due if first_due is not None else first_due_from_times(zone, node_t, d, rep.first_site)
    fd_rows, fd_geoms = first_due_rows(areas, list(site_ids), list(site_names), d, rep.first_site)
    # municipalities
    geoms = {m.name: g for m, g in zip(zone.pack.municipalities, zone.municipalities_metric)}
    mrows = [{"name" if k == "municipality" else k: v for k, v in r.items()} for r in muni_rows]
    mgeoms = [geoms[r["name"]] for r in mrows]
    sx, sy = site_xy
    return {
        "demand_cells": (cells, cell_geoms, "MultiPolygon"),
        site_layer: (site_rows, [shapely.Point(a, b) for a, b in zip(sx, sy)], "Point"),
        "isochrone_bands": (band_rows, band_geoms, "MultiPolygon"),
        "isochrones": (iso_rows, iso_geoms, "MultiPolygon"),
        "first_due_areas": (fd_rows, fd_geoms, "MultiPolygon"),
        "municipalities": (mrows, mgeoms, "MultiPolygon"),
    }


# ------------------------------------------------------------------------------------------------
# HTML building blocks shared by the run kinds
# ------------------------------------------------------------------------------------------------


def muni_table(rows: list, th, before_rows: list | None = None, t_study: float | None = None) -> str:
    cols = [
        ("municipality", "municipality", None),
        ("population", "population", H.fmt_int),
        ("no_road_data", "no road data", H.fmt_int),
    ]
    for t in th:
        cols.append((f"share_within_{t:g}min", f"≤ {t:g} min", H.fmt_pct))
    cols += [("mean_min", "mean min", lambda v: H.fmt_num(v, 1)), ("p90_min", "p90 min", lambda v: H.fmt_num(v, 1))]
    if th:
        cols.append((f"no_second_unit_{th[-1]:g}min", f"no 2nd unit ≤ {th[-1]:g} min", H.fmt_int))
    rows = [dict(r) for r in rows]
    if before_rows is not None and t_study is not None:
        k = f"share_within_{t_study:g}min"
        bmap = {r["municipality"]: r for r in before_rows}
        for r in rows:
            b = bmap.get(r["municipality"], {})
            r["_before"] = b.get(k)
            r["_delta"] = None if r.get(k) is None or b.get(k) is None else r[k] - b[k]
        cols += [("_before", f"before ≤ {t_study:g} min", H.fmt_pct), ("_delta", "change", H.fmt_signed_pct)]
    return H.table(rows, cols, id="municipalities", zone_first=bool(rows) and rows[0]["municipality"] == "zone (all)")


def zone_row(head: dict, th, label="zone (all)") -> dict:
    r = {
        "municipality": label,
        "population": head["population_with_road_data"] + head["population_no_road_data"],
        "no_road_data": head["population_no_road_data"],
        "mean_min": head["mean_response_min"],
        "p90_min": head["p90_response_min"],
    }
    for t in th:
        r[f"share_within_{t:g}min"] = head["share_within"][f"{t:g}"]
    if th:
        r[f"no_second_unit_{th[-1]:g}min"] = head["population_no_second_unit_within"][f"{th[-1]:g}"]
    return r


def headline_cards(head: dict, th, before: dict | None = None, interval: dict | None = None) -> str:
    """The headline cards; ``interval`` (the run's ``uncertainty``): each share and the mean with it."""
    items = []
    for t in th:
        v = head["share_within"][f"{t:g}"]
        note = (
            f"before: {H.fmt_pct(before['share_within'][f'{t:g}'])}"
            if before
            else f"{H.fmt_int(head['population_within'][f'{t:g}'])} people"
        )
        if interval and f"{t:g}" in interval["share_within"]:
            lo, hi = interval["share_within"][f"{t:g}"]
            note += f"; interval {100 * lo:.1f}–{100 * hi:.1f} %"
        items.append((H.fmt_pct(v), f"reached within {t:g} min", note))
    items.append(
        (
            H.fmt_num(head["mean_response_min"], 1) + " min",
            "mean response time",
            f"p90: {H.fmt_num(head['p90_response_min'], 1)} min"
            + (
                f"; interval {interval['mean_response_min'][0]:.1f}–{interval['mean_response_min'][1]:.1f} min"
                if interval
                else ""
            ),
        )
    )
    items.append((H.fmt_int(head["population_with_road_data"]), "people with road data", ""))
    items.append((H.fmt_int(head["population_no_road_data"]), "people without road data", "not counted"))
    return H.cards(items)


def _files_section(folder: Path) -> str:
    names = sorted(p.name for p in Path(folder).iterdir() if not p.name.startswith("."))
    note = (
        " layers.gpkg opens in QGIS (EPSG:31370 unless the scenario asked for 4326)." if "layers.gpkg" in names else ""
    )
    return H.section(
        "Files of this run", H.paragraph("Beside this report: " + ", ".join(names + ["report.html"]) + "." + note)
    )


def write_report(folder: Path, title: str, subtitle: list, sections: list, footer: str) -> Path:
    from .atomic import write_text

    doc = H.page(title, subtitle, sections + [_files_section(folder)], footer)
    write_text(Path(folder) / "report.html", doc)
    return Path(folder) / "report.html"


def _footer(summary: dict) -> str:
    return (
        f"kazerne {summary.get('kazerne_version', '')} — scenario file {summary['scenario']['file']} — created "
        f"{summary.get('created', '')}. Road data © OpenStreetMap contributors (ODbL); population Statbel."
    )


def _map_and_figure(fig, info, folder: Path, stem: str, caption: str, fig_id: str) -> str:
    png = figure_bytes(fig, "png")
    save_map(fig, folder, stem)
    return H.figure(png, caption, id=fig_id, pdf_name=f"{stem}.pdf")


def _assumption_section(lines, caveats=()) -> str:
    body = H.bullets(lines)
    if caveats:
        body += "<h3>Caveats</h3>" + H.bullets(caveats, cls="assume warn")
    return H.section("Assumptions and data caveats", body, id="assumptions")


def _posts_sites(posts, kinds: dict | None = None, extra_label: dict | None = None) -> list:
    px, py = _metric(posts.lon, posts.lat)
    out = []
    for i, pid in enumerate(posts.ids):
        kind = (kinds or {}).get(pid) or crew_kind(posts.crew[i])
        lab = post_label(pid, posts.names[i]) + ((extra_label or {}).get(pid, ""))
        out.append(Site(float(px[i]), float(py[i]), lab, kind, priority=0 if kind == "closed" else 1))
    return out


def _caveats(summary: dict) -> list:
    out = []
    au = summary.get("road_network_audit") or {}
    out += list(au.get("warnings", []))
    grades = [p for p in summary.get("posts", []) if p.get("location_grade") in ("D", "E")]
    if grades:
        out.append(
            "Positions of " + ", ".join(p["id"] for p in grades) + " are stand-ins (village centre or "
            "name only; 0.3–2 km off): their numbers move when the true address is known."
        )
    return out


# ------------------------------------------------------------------------------------------------
def _dist_text(d: dict) -> str:
    if d.get("kind") == "fixed":
        return f"{d['median_s']:g} s"
    return f"median {d['median_s']:g} s, p90 {d['p90_s']:g} s" + (
        f", at least {d['min_s']:g} s" if d.get("min_s") else ""
    )


def _interval_cells(unc: dict | None, th) -> dict:
    """Table cells of an interval: ``i<T>`` per threshold, ``imean``."""
    if not unc:
        return {}
    out = {f"i{t:g}": "{:.1f}–{:.1f} %".format(*(100 * x for x in unc["share_within"][f"{t:g}"])) for t in th}
    out["imean"] = "{:.2f}–{:.2f}".format(*unc["mean_response_min"])
    return out


def _response_section(summary: dict, th) -> str:
    """report.html: expected shares from the call per time slice and the hour-weighted mix."""
    b = summary.get("response_model")
    if not b:
        return ""
    rows = []
    for s in b["slices"]:
        z = s["zone"]
        r = {
            "slice": s["name"],
            "when": f"{s['days']} {s['hours']}",
            "hours": s["hours_per_week"],
            "speeds": s["speed_period"] or "free-flowing",
            "posts": len(s["open_posts"]),
            "closed": ", ".join(s["closed_posts"]),
            "mean": z["mean_response_min"],
        }
        r.update({f"t{t:g}": z["expected_share_within"][f"{t:g}"] for t in th})
        r.update(_interval_cells(s.get("uncertainty"), th))
        rows.append(r)
    if b.get("mix"):
        z = b["mix"]["zone"]
        r = {"slice": "mix (hour-weighted)", "when": "the whole week", "hours": 168.0, "mean": z["mean_response_min"]}
        r.update({f"t{t:g}": z["expected_share_within"][f"{t:g}"] for t in th})
        r.update(_interval_cells(b["mix"].get("uncertainty"), th))
        rows.append(r)
    ref = b["reference_from_alarm"]
    r = {"slice": "from the alarm (0.2)", "when": "from the alarm, fixed turnout", "mean": ref["mean_response_min"]}
    r.update({f"t{t:g}": ref["share_within"][f"{t:g}"] for t in th})
    rows.append(r)
    cols = [
        ("slice", "slice", None),
        ("when", "when", None),
        ("hours", "h / week", lambda v: H.fmt_num(v, 0)),
        ("speeds", "speeds", None),
        ("posts", "open posts", lambda v: H.fmt_num(v, 0)),
        ("closed", "closed", None),
    ]
    unc = [x.get("uncertainty") for x in b["slices"] if x.get("uncertainty")]
    for t in th:
        cols.append((f"t{t:g}", f"≤ {t:g} min from the call", H.fmt_pct))
        if unc:
            cols.append((f"i{t:g}", "interval", None))
    cols.append(("mean", "mean min from the call", lambda v: H.fmt_num(v, 2)))
    if unc:
        cols.append(("imean", "interval", None))
    nat = b["national_mean_from_call_min"]["2019"]
    mean_mix = (b["mix"] if b.get("mix") else b["slices"][0])["zone"]["mean_response_min"]
    text = (
        f"Times {Clock(b['call_handling_s']).label('map', turnout=' (' + b['turnout_model'] + ')')}. "
        "Shares are expected shares: each place counts with the "
        "probability that its first fire engine arrives in time (turnouts of the posts independent). "
        "The last row is the old definition (from the alarm at the post, every turnout fixed at its median), "
        "for comparison. "
        + (
            f"Mean from the call {H.fmt_num(mean_mix, 2)} min against the published Belgian mean of 11:25 "
            f"({nat:.2f} min, 2019; 2020: 11:21)."
            if mean_mix is not None
            else ""
        )
        + (f" Intervals: {unc[0]['assumption']}." if unc and unc[0].get("assumption") else "")
    )
    return H.section(
        "From the call: time slices",
        H.paragraph(text) + H.table(rows, cols, id="slices", sortable=False),
        id="slices-section",
    )


# baseline
# ------------------------------------------------------------------------------------------------


def write_baseline_outputs(
    folder,
    ctx,
    posts,
    rep,
    node_t,
    summary: dict,
    *,
    epsg: int = 31370,
    maps: bool = True,
    report: bool = True,
    gpkg: bool = True,
    extra_layers: dict | None = None,
    extra_sections: tuple = (),
    first_due=None,
) -> None:
    """Map (``map.png`` / ``map.pdf``), ``layers.gpkg`` and ``report.html`` of a baseline run
    (``first_due``: the run's first-due areas, as its ``posts.csv`` counts them; ``extra_layers`` /
    ``extra_sections``: more GeoPackage layers and report sections, e.g. the effect of road changes)."""
    folder = Path(folder)
    a = summary["assumptions"]
    if getattr(rep, "clock", None) is not None:  # the maps' times must count as the text says they do
        Clock.from_assumptions(a).require(rep.clock, "rep")
    zone, d = ctx.zone, ctx.demand
    th = list(summary["assumptions"]["thresholds_min"])
    bm = basemap(zone)
    lines = assumption_lines(a)
    z = summary["zone"]
    title = f"{bm.zone_title}: where does the first fire engine arrive in time?"
    sub = f"{summary['scenario']['description'] or summary['scenario']['name']} — reached within " + ", ".join(
        f"{t:g} min: {100 * z['share_within'][f'{t:g}']:.1f} %" for t in th
    )
    fig_html = ""
    if maps:
        fig, info = council_map(
            bm,
            title=title,
            subtitle=sub,
            surface=minutes_surface(
                d,
                rep.first_s,
                th,
                Clock.from_assumptions(a).label("surface"),
                summary.get("uncertainty"),
            ),
            sites=_posts_sites(posts),
            assumptions=lines,
        )
        fig_html = _map_and_figure(
            fig,
            info,
            folder,
            "map",
            "First fire engine on scene per 250 m cell, with every post by crew type.",
            "map-main",
        )
    if gpkg:
        from .gpkg import write_gpkg

        px, py = _metric(posts.lon, posts.lat)
        srows = []
        mun = municipality_of(zone, px, py)
        for r, m in zip(summary["posts"], mun):
            srows.append(
                {
                    "post_id": r["id"],
                    "name": r["name"],
                    "crew": r["crew"],
                    "turnout_s": r["turnout_s"],
                    "municipality": m,
                    "snap_road": r.get("snap_road", ""),
                    "location_grade": r.get("location_grade", ""),
                    "first_due_population": r["first_due_population"],
                    "first_due_area_km2": r["first_due_area_km2"],
                    "lon": r["lon"],
                    "lat": r["lat"],
                }
            )
        layers = network_layers(
            zone,
            ctx.profile,
            d,
            rep,
            posts.ids,
            posts.names,
            node_t,
            th,
            summary["municipalities"],
            srows,
            (px, py),
            first_due=first_due,
        )
        write_gpkg(folder / "layers.gpkg", {**layers, **(extra_layers or {})}, epsg=epsg)
    if report:
        head = headline_cards(z, th, interval=summary.get("uncertainty"))
        mrows = [zone_row(z, th)] + summary["municipalities"]
        post_cols = [
            ("id", "post", None),
            ("name", "name", None),
            ("crew", "crew", None),
            ("turnout_s", "turnout s", lambda v: H.fmt_num(v, 0)),
            ("first_due_population", "first-due population", H.fmt_int),
            ("first_due_area_km2", "first-due km²", lambda v: H.fmt_num(v, 1)),
            ("lon", "lon", lambda v: H.fmt_num(v, 5)),
            ("lat", "lat", lambda v: H.fmt_num(v, 5)),
            ("snap_road", "placed on road", None),
            ("location_grade", "position grade", None),
        ]
        worst_cols = [
            ("rank", "rank", lambda v: H.fmt_num(v, 0)),
            ("municipality", "municipality", None),
            ("lon", "lon", lambda v: H.fmt_num(v, 5)),
            ("lat", "lat", lambda v: H.fmt_num(v, 5)),
            ("population", "people in cell", lambda v: H.fmt_num(v, 0)),
            ("first_min", "first unit min", lambda v: H.fmt_num(v, 1)),
            ("first_post", "from post", None),
            ("second_min", "second unit min", lambda v: H.fmt_num(v, 1)),
        ]
        secs = [
            H.section(
                "Headline",
                head
                + H.paragraph(
                    f"Share of the {z['population_with_road_data']:,.0f} people with road data whose first fire "
                    f"engine arrives within each time ("
                    + Clock.from_assumptions(a).label(
                        "map",
                        **(
                            {"turnout": " at its median", "note": "; expected shares per time slice below"}
                            if summary.get("response_model")
                            else {}
                        ),
                    )
                    + "). Mean driving time of the first unit "
                    f"(no turnout): {H.fmt_num(summary.get('mean_drive_min_first_unit'), 2)} min."
                )
                + (
                    H.paragraph("Intervals: " + summary["uncertainty"]["assumption"] + ".", "small")
                    if (summary.get("uncertainty") or {}).get("assumption")
                    else ""
                ),
                id="headline",
            )
        ]
        resp = _response_section(summary, th)
        if resp:
            secs.append(resp)
        if fig_html:
            secs.append(H.section("Map", fig_html, id="map"))
        secs += list(extra_sections)
        secs += [
            H.section(
                "Per municipality",
                H.paragraph("Click a column heading to sort.", "small") + muni_table(mrows, th),
                id="per-municipality",
            ),
            H.section("Posts", H.table(summary["posts"], post_cols, id="posts"), id="posts-section"),
            *([fleet_section(summary["fleet"])] if summary.get("fleet") else []),
            H.section(
                "Worst-served places", H.table(summary["worst_served"], worst_cols, id="worst"), id="worst-section"
            ),
            _assumption_section(lines, _caveats(summary)),
        ]
        write_report(
            folder,
            title,
            [sub, f"Scenario {summary['scenario']['name']} ({summary['scenario']['file']})"],
            secs,
            _footer(summary),
        )


def fleet_section(fs: dict) -> str:
    """The report's section on vehicles, the full first turnout and neighbouring posts (the
    ``fleet`` block of a baseline's summary)."""
    th = list(fs["thresholds_min"])
    zrows = [
        {
            "label": m["label"],
            **{f"s{t:g}": m["share_within"][f"{t:g}"] for t in th},
            "mean": m["mean_min"],
            "p90": m["p90_min"],
        }
        for m in fs["zone"].values()
    ]
    zcols: list[tuple[str, str, Callable | None]] = [("label", "measure (zone)", None)]
    zcols += [(f"s{t:g}", f"≤ {t:g} min", H.fmt_pct) for t in th]
    zcols += [("mean", "mean min", lambda v: H.fmt_num(v, 1)), ("p90", "p90 min", lambda v: H.fmt_num(v, 1))]
    T = th[len(th) // 2]
    names = list(fs["zone"])
    by: dict = {}
    for r in fs["municipalities"]:
        by.setdefault(r["municipality"], {"municipality": r["municipality"]})[r["measure"]] = r[
            f"share_within_{T:g}min"
        ]
    for r in fs["first_arriving"]:
        if r["municipality"] in by:
            by[r["municipality"]]["neighbour"] = r["first_engine_neighbour_share"]
    mcols: list[tuple[str, str, Callable | None]] = [("municipality", "municipality", None)]
    mcols += [(n, fs["zone"][n]["label"], H.fmt_pct) for n in names]
    mcols += [("neighbour", "first engine from a neighbouring zone", H.fmt_pct)]
    frows = fs["posts"]
    fcols = [(k, k, None if k in ("id", "name", "crew", "zone") else lambda v: H.fmt_num(v, 0)) for k in frows[0]]
    a = fs["assumptions"]
    notes = list(a["rules"]) + ([a["neighbour_posts"]] if "neighbour_posts" in a else []) + [f"fleet: {a['fleet']}"]
    body = (
        H.paragraph(
            "Each vehicle type from its own nearest posts ("
            + Clock.from_assumptions(a).label("map")
            + " with the type's speed profile); an "
            "adequate response is complete when its last required vehicle arrives; the crew of "
            f"{a['full_crew']} counts the crew per turnout of the posts arrived so far. Posts of neighbouring "
            "zones count under the fastest-adequate-help rule."
        )
        + H.table(zrows, zcols, id="fleet-zone")
        + "<h3>"
        + H.esc(f"Per municipality: share within {T:g} min")
        + "</h3>"
        + H.table([by[k] for k in by], mcols, id="fleet-municipalities", zone_first=True)
        + "<h3>Fleet per post</h3>"
        + H.table(frows, fcols, id="fleet-posts")
        + H.bullets(notes)
    )
    return H.section("Vehicles, full first turnout and neighbouring posts", body, id="fleet")


# ------------------------------------------------------------------------------------------------
# studies
# ------------------------------------------------------------------------------------------------

STUDY_TITLES = {
    "add": "where should {k} stand?",
    "close": "what does closing each post cost?",
    "relocate": "which post should move, and where?",
    "greenfield": "how many posts, and where, if we started from scratch?",
    "minimum": "the fewest posts that reach the target",
    "compare": "which candidate site serves the population best?",
    "add-vehicle": "where should {k} stand?",
}


def _solve_table(solves: list) -> str:
    rows = []
    for s in solves:
        rows.append(
            {
                "model": s.get("model"),
                "which": ", ".join(str(s[k]) for k in ("p", "moved") if k in s),
                "status": s.get("status"),
                "objective": s.get("objective"),
                "bound": s.get("bound"),
                "gap": s.get("gap"),
                "seconds": s.get("seconds"),
                "solver": s.get("solver"),
            }
        )
    cols = [
        ("model", "model", None),
        ("which", "case", None),
        ("status", "status", None),
        ("objective", "objective", lambda v: H.fmt_num(v, 1)),
        ("bound", "bound", lambda v: H.fmt_num(v, 1)),
        ("gap", "gap", lambda v: H.fmt_pct(v, 3)),
        ("seconds", "seconds", lambda v: H.fmt_num(v, 2)),
        ("solver", "solver", None),
    ]
    return H.table(rows, cols, id="solves")


def _generic_cols(rows: list) -> list:
    cols: list[tuple[str, str, Callable | None]] = []
    for k in dict.fromkeys(k for r in rows for k in r):
        vals = [r.get(k) for r in rows if r.get(k) is not None]
        if vals and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            if k.startswith("share") or k.endswith("_share") or "share_" in k:
                f: Callable = H.fmt_pct
            elif k in ("lon", "lat"):
                f = lambda v: H.fmt_num(v, 5)
            elif k.endswith("_min") or k.endswith("min_after") or k.endswith("min_before"):
                f = lambda v: H.fmt_num(v, 2)
            else:
                f = lambda v: H.fmt_num(v, 1) if abs(float(v)) < 100 else H.fmt_int(v)
            cols.append((k, k.replace("_", " "), f))
        elif vals and all(isinstance(v, (dict, list)) for v in vals):
            continue
        else:
            cols.append((k, k.replace("_", " "), None))
    return cols


def _site_words(r: dict) -> str:
    where = ", ".join(x for x in (r.get("street"), r.get("municipality")) if x)
    name = r.get("name") or r.get("site", "")
    return f"{name} ({r.get('site', '')}{'; ' + where if where and where not in name else ''})"


def recommendation(kind: str, res: dict, summary: dict | None = None) -> str:
    """The study's answer in one sentence for the report's headline: which site(s) it recommends."""
    new = list(res.get("new_sites") or [])
    if kind == "add":
        return "Recommended: a new post at " + "; ".join(_site_words(r) for r in new) + "." if new else ""
    if kind == "add-vehicle":
        return (
            f"Recommended: one more {res.get('vehicle', 'vehicle')} at " + "; ".join(_site_words(r) for r in new) + "."
            if new
            else ""
        )
    if kind == "relocate":
        moves = [f"{a} to {_site_words(r)}" for a, r in zip(res.get("moved_posts", []), new)]
        return ("Recommended: move " + "; ".join(moves) + ".") if moves else "Recommended: keep today's posts."
    if kind == "close" and res.get("ranking"):
        r = res["ranking"][0]
        return f"Least harmful closure: {r['post']} {r.get('name', '')} ({r[res['ranking_by']]:,.0f} people fewer)."
    if kind == "compare" and len(res.get("rows", [])) > 1:
        r = res["rows"][1]
        return f"Best of the compared sites: {_site_words(r)}."
    if kind in ("greenfield", "minimum"):
        sites = res.get("sites") or (res.get("curve") or [{}])[-1].get("sites", "").split()
        words = _network_words(summary or {}, len(sites)).replace(" — ", "", 1)
        return f"Recommended: {words}: {', '.join(sites)}." if sites else ""
    return ""


def _network_words(summary: dict, n: int) -> str:
    """ " — the best network of n posts" only when the solve that chose it is proven optimal; else
    what it is (feasible, with its gap)."""
    from .maps import proven

    solves = [x for x in summary.get("solves", []) if x.get("p", n) == n] or summary.get("solves", [])
    last = solves[-1] if solves else {}
    status = last.get("status", "optimal")
    if proven(status):
        return f" — the best network of {n} posts"
    gap = last.get("gap")
    gap_txt = f", gap {100 * gap:.2g} %" if isinstance(gap, (int, float)) and np.isfinite(gap) else ""
    return f" — a network of {n} posts ({status}{gap_txt}: not proven best)"


def write_study_outputs(
    folder,
    ctx,
    *,
    summary: dict,
    tables: dict,
    posts,
    cand,
    chosen_rows,
    base_rep,
    after_rep,
    node_t,
    frontier: dict | None = None,
    change_rows=None,
    change_first_s=None,
    epsg: int = 31370,
    maps: bool = True,
    report: bool = True,
    gpkg: bool = True,
) -> None:
    """Map, ``layers.gpkg`` and ``report.html`` of a placement study.

    ``base_rep``: today's network (None without posts); ``after_rep``: the recommended network
    (sites ``chosen_rows`` of the candidates); ``change_rows``: for ``close`` and ``compare`` the
    candidate rows of the option drawn as a change (closed post / compared site)."""
    folder = Path(folder)
    zone, d = ctx.zone, ctx.demand
    st = summary["study"]
    kind = st["kind"]
    T = float(st["threshold"])
    th = list(summary["assumptions"]["thresholds_min"])
    res = summary["result"]
    bm = basemap(zone)
    a = summary["assumptions"]
    cx, cy = _metric(cand.lon, cand.lat)
    n_posts = len(posts)
    chosen = [int(r) for r in chosen_rows]
    chosen_ids = [cand.ids[r] for r in chosen]
    extra = [
        f"Candidate sites: {summary['candidates']['total']} ({summary['candidates']['today_posts']} today's "
        f"posts, {summary['candidates']['user']} named, {summary['candidates']['generated']} road junctions on "
        f"{', '.join(summary['candidates']['classes'])} roads, one per {summary['candidates']['spacing_m']:g} m "
        f"square; {summary['candidates']['generated_excluded_in_gap']} left out in the no-road-data area).",
        f"New posts get a {st['new_crew']} crew"
        + (f" ({st['new_turnout_s']:g} s turnout)." if st.get("new_turnout_s") is not None else "."),
    ]
    lines = assumption_lines(a, extra=extra)
    k = int(st.get("k", 1))
    if kind == "add-vehicle":
        what = f"{'one' if k == 1 else k} more {st['vehicle']}"
    else:
        what = "one new post" if k == 1 else f"{k} new posts"
    title = f"{bm.zone_title}: " + STUDY_TITLES[kind].format(k=what)
    sub = (
        f"{summary['scenario']['description'] or summary['scenario']['name']} — threshold {T:g} min"
        + (_network_words(summary, len(chosen_rows)) if kind in ("greenfield", "minimum") else "")
        + (
            f" — in brackets: people no longer reached within {T:g} min if that post closes"
            if kind == "close"
            else f" — in brackets: the share reached within {T:g} min with that site"
            if kind == "compare"
            else ""
        )
    )
    # sites and surface per kind
    sites, moves, surface, caption = [], [], None, ""
    post_ids = list(posts.ids)
    label_extra = {}
    kinds = {}
    if kind == "close":
        key = res["ranking_by"]
        for r in res["ranking"]:
            label_extra[r["post"]] = f" (−{r[key]:,.0f})" if r[key] > 0.5 else " (no loss)"
    if kind in ("add", "relocate", "greenfield", "minimum"):
        for i, pid in enumerate(post_ids):
            if pid not in chosen_ids:
                kinds[pid] = {"relocate": "moved_from", "add": "closed"}.get(kind, "not_chosen")
    if kind == "close" and change_rows is not None:
        for r in change_rows:
            kinds[cand.ids[r]] = "closed"
    if kind == "add-vehicle":
        for r in res["new_sites"]:
            label_extra[r["site"]] = f" + 1 {st['vehicle']} (NEW)"
            kinds[r["site"]] = "best"
    sites += _posts_sites(posts, kinds, label_extra) if n_posts else []
    new_ids = [s for s in chosen_ids if s not in post_ids]  # (add-vehicle: new sites beside the posts)
    moved = list(res.get("moved_posts", [])) if kind == "relocate" else []
    for k, s in enumerate(new_ids):
        j = cand.ids.index(s)
        if kind == "relocate" and k < len(moved):
            sites.append(
                Site(
                    float(cx[j]),
                    float(cy[j]),
                    f"{moved[k]} MOVES TO {post_label(s, cand.names[j])}",
                    "moved_to",
                    priority=0,
                )
            )
        else:
            sites.append(Site(float(cx[j]), float(cy[j]), f"NEW {post_label(s, cand.names[j])}", "new", priority=0))
    if kind == "relocate":
        for pid, s in zip(res.get("moved_posts", []), new_ids):
            i, j = post_ids.index(pid), cand.ids.index(s)
            px, py = _metric([posts.lon[i]], [posts.lat[i]])
            moves.append(((float(px[0]), float(py[0])), (float(cx[j]), float(cy[j]))))
    if kind == "compare":
        best = change_rows[0] if change_rows is not None and len(change_rows) else None
        for k, r in enumerate(res["rows"][1:]):
            j = cand.ids.index(r["site"])
            lab = (
                f"{'BEST ' if j == best else ''}{post_label(r['site'], cand.names[j])} "
                f"({100 * r[f'share_within_{T:g}min']:.1f} %)"
            )
            sites.append(Site(float(cx[j]), float(cy[j]), lab, "best" if j == best else "candidate", priority=0))
    after_first = after_rep.first_s if after_rep is not None else None
    before_first = base_rep.first_s if base_rep is not None else None
    if kind in ("close", "compare") and change_rows is not None and len(change_rows):
        after_first = change_first_s
    if before_first is not None and after_first is not None and kind != "greenfield" and kind != "minimum":
        lab = {
            "add": "What the new post(s) change (today → with the new post)",
            "relocate": "What the move changes (today → after the move)",
            "close": "What closing {c} changes (today → without it)",
            "compare": "What the best site changes (today → with it)",
            "add-vehicle": f"What the new {st.get('vehicle')} changes for the {res.get('measure')} (today → with it)",
        }[kind]
        lab = lab.format(c=", ".join(cand.ids[r] for r in (change_rows if change_rows is not None else [])))
        surface = change_surface(d, before_first, after_first, T, lab)
        caption = lab + f"; threshold {T:g} min."
    elif after_rep is not None:
        surface = minutes_surface(
            d,
            after_rep.first_s,
            th,
            "First fire engine on scene with the recommended posts",
            summary.get("uncertainty"),
        )
        caption = (
            f"First fire engine on scene with the recommended {len(chosen)} posts (new ones starred); "
            "today's posts that are not in this network are crossed."
        )
    fig_htmls = []
    if surface is not None and summary.get("uncertainty") and not surface.get("headline"):
        from .intervals import legend_lines  # the recommended network's shares with their intervals

        surface["headline"] = legend_lines(summary["uncertainty"], th)
    if maps:
        fig, info = council_map(
            bm, title=title, subtitle=sub, surface=surface, sites=sites, moves=moves, assumptions=lines
        )
        fig_htmls.append(_map_and_figure(fig, info, folder, "map", caption, "map-main"))
        if frontier is not None:
            from .maps import frontier_figure, proven

            all_proven = all(proven(x) for x in frontier.get("status") or ["optimal"])

            ff = frontier_figure(
                frontier["p"],
                frontier["share"],
                frontier.get("today_p"),
                frontier.get("today_share"),
                T,
                title=(
                    f"{bm.zone_title}: {'best ' if all_proven else ''}share within {T:g} min for "
                    f"{min(frontier['p'])}..{max(frontier['p'])} posts"
                    + ("" if all_proven else " (best only where proven)")
                ),
                new_crew=f"{st['new_crew']} crews",
                today_note=frontier["note"],
                curve_status=frontier.get("status"),
                curve_gap=frontier.get("gap"),
            )
            png = figure_bytes(ff, "png")
            save_map(ff, folder, "frontier")
            fig_htmls.append(
                H.figure(
                    png,
                    "The frontier: the best share reachable with p posts."
                    if all_proven
                    else "The frontier: the share reachable with p posts — best where proven (filled dots); "
                    "hollow dots were stopped by the time limit before their proof.",
                    id="frontier",
                    pdf_name="frontier.pdf",
                )
            )
    if gpkg and after_rep is not None:
        from .gpkg import write_gpkg

        sx, sy = cx[chosen], cy[chosen]
        streets = site_streets(zone, cand.node[chosen])
        mun = municipality_of(zone, sx, sy)
        srows = [
            {
                "site_id": cand.ids[r],
                "name": cand.names[r],
                "status": ("today" if cand.origin[r] == "post" else "new"),
                "origin": cand.origin[r],
                "turnout_s": float(cand.turnout_s[r]),
                "street": s,
                "municipality": m,
                "lon": round(float(cand.lon[r]), 6),
                "lat": round(float(cand.lat[r]), 6),
            }
            for r, s, m in zip(chosen, streets, mun)
        ]
        muni_rows = municipality_rows(after_rep, th)
        layers = network_layers(
            zone,
            ctx.profile,
            d,
            after_rep,
            chosen_ids,
            [cand.names[r] for r in chosen],
            node_t,
            th,
            muni_rows,
            srows,
            (sx, sy),
            site_layer="sites",
            before=before_first,
        )
        if n_posts:
            px, py = _metric(posts.lon, posts.lat)
            prow = [
                {
                    "post_id": pid,
                    "name": posts.names[i],
                    "crew": posts.crew[i],
                    "status": "kept" if pid in chosen_ids else ("moved" if kind == "relocate" else "not chosen"),
                    "lon": round(float(posts.lon[i]), 6),
                    "lat": round(float(posts.lat[i]), 6),
                }
                for i, pid in enumerate(post_ids)
            ]
            layers["posts_today"] = (prow, [shapely.Point(a_, b_) for a_, b_ in zip(px, py)], "Point")
        write_gpkg(folder / "layers.gpkg", layers, epsg=epsg)
    if report:
        secs = []
        bh, ah = res.get("before"), res.get("after")
        rec = recommendation(kind, res, summary)
        rec_html = H.paragraph(rec, "recommendation") if rec else ""
        if ah:
            secs.append(
                H.section(
                    "Headline",
                    rec_html
                    + headline_cards(ah, th, before=bh, interval=summary.get("uncertainty"))
                    + H.paragraph("With the recommended network" + (" (before: today's posts)." if bh else ".")),
                )
            )
        elif rec:
            secs.append(H.section("Headline", rec_html))
        if fig_htmls:
            secs.append(H.section("Map", "".join(fig_htmls), id="map"))
        if chosen and kind != "close":
            streets = site_streets(zone, cand.node[chosen])
            mun = municipality_of(zone, cx[chosen], cy[chosen])
            srows = [
                {
                    "site": cand.ids[r],
                    "name": cand.names[r],
                    "status": "today's post" if cand.origin[r] == "post" else "NEW",
                    "street": st_,
                    "municipality": m_,
                    "lon": float(cand.lon[r]),
                    "lat": float(cand.lat[r]),
                    "turnout_s": float(cand.turnout_s[r]),
                }
                for r, st_, m_ in zip(chosen, streets, mun)
            ]
            srows.sort(key=lambda r: (r["status"] != "NEW", r["site"]))
            cols = [
                ("site", "site", None),
                ("name", "name", None),
                ("status", "status", None),
                ("street", "street", None),
                ("municipality", "municipality", None),
                ("lon", "lon", lambda v: H.fmt_num(v, 5)),
                ("lat", "lat", lambda v: H.fmt_num(v, 5)),
                ("turnout_s", "turnout s", lambda v: H.fmt_num(v, 0)),
            ]
            secs.append(
                H.section(
                    f"The {'recommended' if kind != 'compare' else 'reference'} network ({len(chosen)} sites)",
                    H.table(srows, cols, id="chosen-sites"),
                    id="chosen",
                )
            )
        for name, rows in tables.items():
            if rows:
                secs.append(
                    H.section(
                        name.replace(".csv", "").replace("_", " ").capitalize(),
                        H.table(rows, _generic_cols(rows), id=name.replace(".", "-")),
                        id="table-" + name.replace(".", "-"),
                    )
                )
        if after_rep is not None:
            mrows = municipality_rows(after_rep, th)
            brows = municipality_rows(base_rep, th) if base_rep is not None else None
            if T not in th:
                _add_share(mrows, after_rep, d, T)
                if brows:
                    _add_share(brows, base_rep, d, T)
            secs.append(
                H.section(
                    "Per municipality (recommended network)",
                    H.paragraph("Click a column heading to sort.", "small")
                    + muni_table(mrows, th, before_rows=brows, t_study=T),
                    id="per-municipality",
                )
            )
        secs.append(
            H.section(
                "Solves",
                H.paragraph("Every solve's status, objective, bound and gap: 'optimal' with gap 0 is proven best.")
                + _solve_table(summary["solves"]),
                id="solves-section",
            )
        )
        if res.get("band"):  # does the recommendation hold across the speed range (kazerne.scenarios.band)
            b = res["band"]
            brows = [
                {
                    "variant": v["variant"],
                    "sites": " ".join(v["sites"] or []),
                    "same": {True: "yes", False: "NO", None: "not run"}[v["same_sites"]],
                }
                for v in b.get("variants", [])
            ]
            secs.append(
                H.section(
                    "Does the recommendation hold across the speed band?",
                    H.paragraph(b["verdict"][:1].upper() + b["verdict"][1:] + ".")
                    + (
                        H.table(brows, [(k, k, None) for k in ("variant", "same", "sites")], id="band") if brows else ""
                    ),
                    id="band-section",
                )
            )
        if "sensitivity" in res:
            s = res["sensitivity"]
            rows = [
                {
                    "variant": v["variant"],
                    "sites": " ".join(v["sites"]),
                    "same": "yes" if v["same_sites"] else "NO",
                    "status": v["status"],
                }
                for v in s["variants"]
            ]
            secs.append(
                H.section(
                    "Sensitivity",
                    H.paragraph(
                        "Recommendation "
                        + ("CHANGES" if s["recommendation_changes"] else "is stable")
                        + " under speed ±15 %, turnout ±60 s and threshold ±1 min."
                    )
                    + H.table(rows, [(k, k, None) for k in ("variant", "sites", "same", "status")], id="sensitivity"),
                )
            )
        secs.append(_assumption_section(lines, _caveats(summary)))
        write_report(
            folder,
            title,
            [sub, f"Scenario {summary['scenario']['name']} ({summary['scenario']['file']})"],
            secs,
            _footer(summary),
        )


def _add_share(rows, rep, d, T):
    w = np.where(d.no_road_data, 0.0, d.weight)
    idx = {n: i for i, n in enumerate(d.municipality_names)}
    for r in rows:
        sel = d.municipality == idx[r["municipality"]]
        tot = w[sel].sum()
        r[f"share_within_{T:g}min"] = float(w[sel & (rep.first_s <= T * 60)].sum() / tot) if tot > 0 else None


# ------------------------------------------------------------------------------------------------
# EMS
# ------------------------------------------------------------------------------------------------


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
    bx, by = _metric(lons, lats)
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
        fig_html = _map_and_figure(
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
            secs.append(H.section("Units", H.table(placed, _generic_cols(placed), id="placement")))
        if summary.get("solve"):
            secs.append(H.section("Solve", _solve_table([summary["solve"]])))
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
            _assumption_section(
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
            _footer(summary),
        )
