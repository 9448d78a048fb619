"""The outputs people look at, for every run kind: maps (PNG 200 dpi + PDF), ``report.html`` and
``layers.gpkg``.

The runner calls :func:`write_baseline_outputs` here; placement studies and EMS studies have their
writers beside (:mod:`~kazerne.report.study_report`, :mod:`~kazerne.report.ems_report`), built on
the shared pieces of this module (base map, assumption lines, surfaces, layers, report sections).
The functions turn what a run computed into plain values for the writers in
:mod:`~kazerne.report.maps`, :mod:`~kazerne.report.html` and :mod:`~kazerne.report.gpkg`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

from ..clock import Clock
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


def metric_xy(lon, lat):
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


def report_footer(summary: dict) -> str:
    return (
        f"kazerne {summary.get('kazerne_version', '')} — scenario file {summary['scenario']['file']} — created "
        f"{summary.get('created', '')}. Road data © OpenStreetMap contributors (ODbL); population Statbel."
    )


def map_and_figure(fig, info, folder: Path, stem: str, caption: str, fig_id: str) -> str:
    png = figure_bytes(fig, "png")
    save_map(fig, folder, stem)
    return H.figure(png, caption, id=fig_id, pdf_name=f"{stem}.pdf")


def assumption_section(lines, caveats=()) -> str:
    body = H.bullets(lines)
    if caveats:
        body += "<h3>Caveats</h3>" + H.bullets(caveats, cls="assume warn")
    return H.section("Assumptions and data caveats", body, id="assumptions")


def posts_sites(posts, kinds: dict | None = None, extra_label: dict | None = None) -> list:
    px, py = metric_xy(posts.lon, posts.lat)
    out = []
    for i, pid in enumerate(posts.ids):
        kind = (kinds or {}).get(pid) or crew_kind(posts.crew[i])
        lab = post_label(pid, posts.names[i]) + ((extra_label or {}).get(pid, ""))
        out.append(Site(float(px[i]), float(py[i]), lab, kind, priority=0 if kind == "closed" else 1))
    return out


def caveats(summary: dict) -> list:
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
            sites=posts_sites(posts),
            assumptions=lines,
        )
        fig_html = map_and_figure(
            fig,
            info,
            folder,
            "map",
            "First fire engine on scene per 250 m cell, with every post by crew type.",
            "map-main",
        )
    if gpkg:
        from .gpkg import write_gpkg

        px, py = metric_xy(posts.lon, posts.lat)
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
            assumption_section(lines, caveats(summary)),
        ]
        write_report(
            folder,
            title,
            [sub, f"Scenario {summary['scenario']['name']} ({summary['scenario']['file']})"],
            secs,
            report_footer(summary),
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
