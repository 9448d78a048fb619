"""The outputs of a placement study: map, frontier or other figures, ``layers.gpkg`` and ``report.html``.

One writer for every study kind (:func:`write_study_outputs`); what differs between the kinds —
the title, the markers, the surface drawn, the headline sentence — is the kind's
:class:`StudyView`, built by its module in :mod:`kazerne.scenarios.study_kinds`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from ..coverage.metrics import municipality_rows
from ..sites import site_streets
from . import html as H
from .council import (
    assumption_lines,
    assumption_section,
    basemap,
    caveats,
    change_surface,
    headline_cards,
    map_and_figure,
    metric_xy,
    minutes_surface,
    muni_table,
    municipality_of,
    network_layers,
    post_label,
    posts_sites,
    report_footer,
    write_report,
)
from .maps import Site, council_map

__all__ = [
    "StudyView",
    "add_share",
    "generic_cols",
    "network_sites",
    "network_words",
    "site_words",
    "solve_table",
    "write_study_outputs",
]


@dataclass
class StudyView:
    """What a study kind shows (its module builds it; :func:`write_study_outputs` draws it).

    ``title`` follows the zone's name; ``subtitle`` follows "— threshold T min". ``sites`` and
    ``moves`` are the map's markers and arrows. With ``change_label`` the map shows the change from
    today to ``change_first_s`` (default: the recommended network), else the recommended network's
    minutes. ``figures`` are writers ``(folder, basemap) -> html`` of the kind's own figures (shown
    below the map). ``network_heading``: the heading of the chosen sites' table (None: no table);
    ``not_chosen``: the layers' status of today's posts left out of the recommended network.
    """

    title: str
    subtitle: str = ""
    sites: list = field(default_factory=list)
    moves: list = field(default_factory=list)
    change_label: str | None = None
    change_first_s: np.ndarray | None = None
    recommendation: str = ""
    figures: list[Callable] = field(default_factory=list)
    network_heading: str | None = "recommended"
    not_chosen: str = "not chosen"


def new_network_view(kind, res, figures=()) -> StudyView:
    """The view of a study that draws a whole network (greenfield, minimum): the chosen sites, today's
    posts not in it marked, the network in words, the kind's recommendation and ``figures``."""
    inp, rows = res.inp, res.outcome.chosen_rows
    chosen = {inp.cand.ids[r] for r in rows}
    return StudyView(
        title=kind.title,
        subtitle=network_words(res.summary, len(rows)),
        sites=network_sites(inp.posts, inp.cand, rows, {p: "not_chosen" for p in inp.posts.ids if p not in chosen}),
        recommendation=kind.recommendation(res.result, res.summary),
        figures=list(figures),
    )


def network_sites(posts, cand, chosen_rows, kinds: dict, label_extra: dict | None = None, moved=()) -> list:
    """Map markers of today's posts (``kinds``: post id -> marker kind where it is not the crew's)
    and of the chosen sites that are not posts ("NEW ..." or, for ``moved`` posts in order, "P MOVES TO ...")."""
    cx, cy = metric_xy(cand.lon, cand.lat)
    out = posts_sites(posts, kinds, label_extra) if len(posts) else []
    new_ids = [cand.ids[int(r)] for r in chosen_rows if cand.ids[int(r)] not in list(posts.ids)]
    for k, s in enumerate(new_ids):
        j = cand.ids.index(s)
        if k < len(moved):
            lab, kind = f"{moved[k]} MOVES TO {post_label(s, cand.names[j])}", "moved_to"
        else:
            lab, kind = f"NEW {post_label(s, cand.names[j])}", "new"
        out.append(Site(float(cx[j]), float(cy[j]), lab, kind, priority=0))
    return out


def solve_table(solves: list) -> str:
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


def _number_format(k: str):
    if k.startswith("share") or k.endswith("_share") or "share_" in k:
        return H.fmt_pct
    if k in ("lon", "lat"):
        return lambda v: H.fmt_num(v, 5)
    if k.endswith("_min") or k.endswith("min_after") or k.endswith("min_before"):
        return lambda v: H.fmt_num(v, 2)
    return lambda v: H.fmt_num(v, 1) if abs(float(v)) < 100 else H.fmt_int(v)


def generic_cols(rows: list) -> list:
    cols = []
    for k in dict.fromkeys(k for r in rows for k in r):
        vals = [r.get(k) for r in rows if r.get(k) is not None]
        if vals and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            cols.append((k, k.replace("_", " "), _number_format(k)))
        elif vals and all(isinstance(v, (dict, list)) for v in vals):
            continue
        else:
            cols.append((k, k.replace("_", " "), None))
    return cols


def site_words(r: dict) -> str:
    where = ", ".join(x for x in (r.get("street"), r.get("municipality")) if x)
    name = r.get("name") or r.get("site", "")
    return f"{name} ({r.get('site', '')}{'; ' + where if where and where not in name else ''})"


def network_words(summary: dict, n: int) -> str:
    """ " — the best network of n posts" only when the solve that chose it is proven optimal; else
    what it is (feasible, with its gap)."""
    from .figures import proven

    solves = [x for x in summary.get("solves", []) if x.get("p", n) == n] or summary.get("solves", [])
    last = solves[-1] if solves else {}
    status = last.get("status", "optimal")
    if proven(status):
        return f" — the best network of {n} posts"
    gap = last.get("gap")
    gap_txt = f", gap {100 * gap:.2g} %" if isinstance(gap, (int, float)) and np.isfinite(gap) else ""
    return f" — a network of {n} posts ({status}{gap_txt}: not proven best)"


def add_share(rows, rep, d, T):
    w = np.where(d.no_road_data, 0.0, d.weight)
    idx = {n: i for i, n in enumerate(d.municipality_names)}
    for r in rows:
        sel = d.municipality == idx[r["municipality"]]
        tot = w[sel].sum()
        r[f"share_within_{T:g}min"] = float(w[sel & (rep.first_s <= T * 60)].sum() / tot) if tot > 0 else None


def _surface(view: StudyView, d, base_rep, after_rep, th, T, n_chosen, interval=None):
    """The map's surface and caption: the change today -> after, or the recommended network's minutes."""
    before_first = base_rep.first_s if base_rep is not None else None
    after_first = view.change_first_s if view.change_first_s is not None else None
    if after_first is None and after_rep is not None:
        after_first = after_rep.first_s
    if view.change_label and before_first is not None and after_first is not None:
        return change_surface(d, before_first, after_first, T, view.change_label), view.change_label + (
            f"; threshold {T:g} min."
        )
    if after_rep is not None:
        return (
            minutes_surface(
                d, after_rep.first_s, th, "First fire engine on scene with the recommended posts", interval
            ),
            f"First fire engine on scene with the recommended {n_chosen} posts (new ones starred); "
            "today's posts that are not in this network are crossed.",
        )
    return None, ""


def _chosen_rows_table(zone, cand, chosen: list) -> list:
    cx, cy = metric_xy(cand.lon, cand.lat)
    streets = site_streets(zone, cand.node[chosen])
    mun = municipality_of(zone, cx[chosen], cy[chosen])
    rows = [
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
    rows.sort(key=lambda r: (r["status"] != "NEW", r["site"]))
    return rows


def _write_layers(folder, ctx, view, posts, cand, chosen, after_rep, base_rep, node_t, th, epsg):
    from .gpkg import write_gpkg

    zone = ctx.zone
    cx, cy = metric_xy(cand.lon, cand.lat)
    chosen_ids = [cand.ids[r] for r in chosen]
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
    layers = network_layers(
        zone,
        ctx.profile,
        ctx.demand,
        after_rep,
        chosen_ids,
        [cand.names[r] for r in chosen],
        node_t,
        th,
        municipality_rows(after_rep, th),
        srows,
        (sx, sy),
        site_layer="sites",
        before=base_rep.first_s if base_rep is not None else None,
    )
    if len(posts):
        px, py = metric_xy(posts.lon, posts.lat)
        prow = [
            {
                "post_id": pid,
                "name": posts.names[i],
                "crew": posts.crew[i],
                "status": "kept" if pid in chosen_ids else view.not_chosen,
                "lon": round(float(posts.lon[i]), 6),
                "lat": round(float(posts.lat[i]), 6),
            }
            for i, pid in enumerate(posts.ids)
        ]
        layers["posts_today"] = (prow, [shapely.Point(a_, b_) for a_, b_ in zip(px, py)], "Point")
    write_gpkg(folder / "layers.gpkg", layers, epsg=epsg)


def _headline_section(view: StudyView, res: dict, th, interval=None) -> list:
    bh, ah = res.get("before"), res.get("after")
    rec_html = H.paragraph(view.recommendation, "recommendation") if view.recommendation else ""
    if ah:
        return [
            H.section(
                "Headline",
                rec_html
                + headline_cards(ah, th, before=bh, interval=interval)
                + H.paragraph("With the recommended network" + (" (before: today's posts)." if bh else ".")),
            )
        ]
    return [H.section("Headline", rec_html)] if view.recommendation else []


def _table_sections(tables: dict) -> list:
    return [
        H.section(
            name.replace(".csv", "").replace("_", " ").capitalize(),
            H.table(rows, generic_cols(rows), id=name.replace(".", "-")),
            id="table-" + name.replace(".", "-"),
        )
        for name, rows in tables.items()
        if rows
    ]


def _municipality_section(d, after_rep, base_rep, th, T) -> str:
    mrows = municipality_rows(after_rep, th)
    brows = municipality_rows(base_rep, th) if base_rep is not None else None
    if T not in th:
        add_share(mrows, after_rep, d, T)
        if brows:
            add_share(brows, base_rep, d, T)
    return H.section(
        "Per municipality (recommended network)",
        H.paragraph("Click a column heading to sort.", "small") + muni_table(mrows, th, before_rows=brows, t_study=T),
        id="per-municipality",
    )


def sensitivity_section(s: dict) -> str:
    """The sensitivity re-solves: which sites each variant chose, and whether they are the study's."""
    rows = [
        {
            "variant": v["variant"],
            "sites": " ".join(v["sites"] or ()),  # a variant the time limit left out has none
            "same": "" if v["same_sites"] is None else "yes" if v["same_sites"] else "NO",
            "status": v["status"],
        }
        for v in s["variants"]
    ]
    return H.section(
        "Sensitivity",
        H.paragraph(
            "Recommendation "
            + ("CHANGES" if s["recommendation_changes"] else "is stable")
            + " under speed ±15 %, turnout ±60 s and threshold ±1 min."
        )
        + H.table(rows, [(k, k, None) for k in ("variant", "sites", "same", "status")], id="sensitivity"),
    )


def _candidate_lines(summary: dict) -> list:
    c, st = summary["candidates"], summary["study"]
    return [
        f"Candidate sites: {c['total']} ({c['today_posts']} today's posts, {c['user']} named, {c['generated']} "
        f"road junctions on {', '.join(c['classes'])} roads, one per {c['spacing_m']:g} m square; "
        f"{c['generated_excluded_in_gap']} left out in the no-road-data area).",
        f"New posts get a {st['new_crew']} crew"
        + (f" ({st['new_turnout_s']:g} s turnout)." if st.get("new_turnout_s") is not None else "."),
    ]


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
    view: StudyView,
    epsg: int = 31370,
    maps: bool = True,
    report: bool = True,
    gpkg: bool = True,
) -> None:
    """Map, ``layers.gpkg`` and ``report.html`` of a placement study of any kind.

    ``base_rep``: today's network (None without posts); ``after_rep``: the recommended network
    (sites ``chosen_rows`` of the candidates); ``view``: what the kind shows."""
    folder = Path(folder)
    T = float(summary["study"]["threshold"])
    th = list(summary["assumptions"]["thresholds_min"])
    res = summary["result"]
    bm = basemap(ctx.zone)
    lines = assumption_lines(summary["assumptions"], extra=_candidate_lines(summary))
    chosen = [int(r) for r in chosen_rows]
    title = f"{bm.zone_title}: {view.title}"
    sub = f"{summary['scenario']['description'] or summary['scenario']['name']} — threshold {T:g} min{view.subtitle}"
    interval = summary.get("uncertainty")
    surface, caption = _surface(view, ctx.demand, base_rep, after_rep, th, T, len(chosen), interval)
    if surface is not None and interval and not surface.get("headline"):
        from .intervals import legend_lines  # the recommended network's shares with their intervals

        surface["headline"] = legend_lines(interval, th)
    fig_htmls = []
    if maps:
        fig, info = council_map(
            bm, title=title, subtitle=sub, surface=surface, sites=view.sites, moves=view.moves, assumptions=lines
        )
        fig_htmls.append(map_and_figure(fig, info, folder, "map", caption, "map-main"))
        fig_htmls += [figure(folder, bm) for figure in view.figures]
    if gpkg and after_rep is not None:
        _write_layers(folder, ctx, view, posts, cand, chosen, after_rep, base_rep, node_t, th, epsg)
    if not report:
        return
    secs = _headline_section(view, res, th, interval)
    if fig_htmls:
        secs.append(H.section("Map", "".join(fig_htmls), id="map"))
    if chosen and view.network_heading:
        secs.append(
            H.section(
                f"The {view.network_heading} network ({len(chosen)} sites)",
                H.table(_chosen_rows_table(ctx.zone, cand, chosen), _CHOSEN_COLS, id="chosen-sites"),
                id="chosen",
            )
        )
    secs += _table_sections(tables)
    if after_rep is not None:
        secs.append(_municipality_section(ctx.demand, after_rep, base_rep, th, T))
    secs.append(
        H.section(
            "Solves",
            H.paragraph("Every solve's status, objective, bound and gap: 'optimal' with gap 0 is proven best.")
            + solve_table(summary["solves"]),
            id="solves-section",
        )
    )
    if res.get("band"):  # does the recommendation hold across the speed range (kazerne.scenarios.band)
        secs.append(_band_section(res["band"]))
    if "sensitivity" in res:
        secs.append(sensitivity_section(res["sensitivity"]))
    secs.append(assumption_section(lines, caveats(summary)))
    write_report(
        folder,
        title,
        [sub, f"Scenario {summary['scenario']['name']} ({summary['scenario']['file']})"],
        secs,
        report_footer(summary),
    )


_CHOSEN_COLS = [
    ("site", "site", None),
    ("name", "name", None),
    ("status", "status", None),
    ("street", "street", None),
    ("municipality", "municipality", None),
    ("lon", "lon", lambda v: H.fmt_num(v, 5)),
    ("lat", "lat", lambda v: H.fmt_num(v, 5)),
    ("turnout_s", "turnout s", lambda v: H.fmt_num(v, 0)),
]


def _band_section(b: dict) -> str:
    """The report's section on the study's speed band: the verdict and each variant's sites."""
    brows = [
        {
            "variant": v["variant"],
            "sites": " ".join(v["sites"] or []),
            "same": {True: "yes", False: "NO", None: "not run"}[v["same_sites"]],
        }
        for v in b.get("variants", [])
    ]
    return H.section(
        "Does the recommendation hold across the speed band?",
        H.paragraph(b["verdict"][:1].upper() + b["verdict"][1:] + ".")
        + (H.table(brows, [(k, k, None) for k in ("variant", "same", "sites")], id="band") if brows else ""),
        id="band-section",
    )
