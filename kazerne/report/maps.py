"""Print-quality maps with matplotlib (no basemap, no tiles: the zone's own outlines and roads).

Every function takes plain values in EPSG:31370 metres (numpy arrays, shapely geometries, dicts)
and returns a matplotlib figure or bytes; :func:`save_map` writes a PNG (200 dpi) and a PDF.

The council map (:func:`council_map`) draws, in this order: the zone's land (cells without
inhabitants), a surface (first-arrival minutes, or the change between two networks, or a
per-municipality share), the no-road-data area (hatched), main roads, municipality borders and
names, sites (posts by crew type; new / moved / closed sites highlighted) with labels that never
overlap one another or a marker (:func:`place_labels`), a scale bar, a north arrow, a legend that
explains every colour and a readable assumptions block.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from .labels import overlap, place_labels, text_box

#: Print resolution of the PNG maps (dots per inch).
PRINT_DPI = 200

LAND = "#f3efe6"  # zone land without inhabitants
GAP = "#8f8f8f"  # no road data
ROAD_MAJOR = "#4d4d4d"
ROAD_MAIN = "#7a7a7a"
BORDER = "#262626"
ATTRIBUTION = "© OpenStreetMap contributors (roads), Statbel (population), kazerne"

#: First-arrival classes: colours for ≤ t1, t1–t2, ..., > tn, unreachable.
#: First-arrival bands: viridis (perceptually uniform, readable with every common colour-vision
#: deficiency and in greyscale), light yellow = fast to dark purple = slow.
MINUTE_CMAP = "viridis"
UNREACHED = "#0d0d0d"

#: Change classes (before → after), best first.
CHANGE_CLASSES = [
    ("newly", "#08519c", "now within {T:g} min (was not)"),
    ("faster_in", "#6baed6", "faster by ≥ {d:g} min, already within {T:g} min"),
    ("faster_out", "#c6dbef", "faster by ≥ {d:g} min, still beyond {T:g} min"),
    ("same", "#d9d9d9", "no change (less than {d:g} min)"),
    ("slower_out", "#fcbba1", "slower by ≥ {d:g} min, already beyond {T:g} min"),
    ("slower_in", "#fb6a4a", "slower by ≥ {d:g} min, still within {T:g} min"),
    ("lost", "#a50f15", "no longer within {T:g} min"),
]

#: How each kind of site is drawn: marker, size (points²), face, edge, legend text.
SITE_STYLES = {
    "professional": ("^", 110, "#b2182b", "white", "fire post, professional crew (waits in the station)"),
    "volunteer": ("o", 80, "#f4a11d", "#3a2a00", "fire post, volunteer crew (comes from home or work)"),
    "mixed": ("D", 70, "#8c510a", "white", "fire post, volunteers + daytime professionals"),
    "new": ("*", 420, "#2c7bb6", "white", "NEW site (the study's recommendation)"),
    "moved_to": ("*", 420, "#2c7bb6", "white", "post moved here (new position)"),
    "moved_from": ("X", 110, "#9e9e9e", "#404040", "post moved away from here (old position)"),
    "closed": ("X", 150, "#111111", "white", "post CLOSED in this option"),
    "not_chosen": ("X", 90, "#8c8c8c", "#303030", "today's post, not in this network"),
    "best": ("*", 420, "#2c7bb6", "white", "best of the compared sites"),
    "candidate": ("P", 110, "#6a3d9a", "white", "candidate site (compared)"),
    "base": ("s", 40, "#bdbdbd", "#555555", "possible base without a unit"),
    "unit": ("s", 130, "#d62728", "white", "base with unit(s) (count in the label)"),
    "unit_new": ("*", 420, "#2c7bb6", "white", "NEW unit (the study's recommendation)"),
}


@dataclass
class Basemap:
    """What every map of a zone shows, in EPSG:31370 metres.

    ``municipalities``: list of (name, shapely geometry); ``roads``: {"major": (k, 2, 2) segments
    (motorway, trunk), "main": (k, 2, 2) segments (primary, secondary)}; ``gap``: the no-road-data
    area (shapely geometry or None); ``zone_title``: a human name ("Hulpverleningszone Centrum").
    """

    zone: Any  # a shapely geometry
    municipalities: list
    roads: dict = field(default_factory=dict)
    gap: Any = None  # a shapely geometry or None
    zone_title: str = ""


@dataclass
class Site:
    """One marker: position (EPSG:31370), label text and kind (a key of :data:`SITE_STYLES`)."""

    x: float
    y: float
    label: str
    kind: str
    priority: int = 1  # lower is labelled first (gets the best spot)


@dataclass
class MapInfo:
    """What :func:`council_map` placed, in display pixels (for checks): every label's box and text,
    every marker's box, and the legend entries."""

    label_boxes: list
    label_texts: list
    marker_boxes: list
    municipality_boxes: list
    legend_labels: list


def mpl():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _polys(g):
    if g is None or g.is_empty:
        return []
    return list(getattr(g, "geoms", [g]))


def _patch_of(g, **kw):
    """A matplotlib PathPatch of a (Multi)Polygon with holes."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    verts, codes = [], []
    for p in _polys(g):
        if p.geom_type != "Polygon":
            continue
        for ring in [p.exterior, *p.interiors]:
            c = np.asarray(ring.coords)[:, :2]
            if len(c) < 3:
                continue
            verts.append(c)
            codes.append(np.r_[MPath.MOVETO, np.full(len(c) - 2, MPath.LINETO), MPath.CLOSEPOLY])
    if not verts:
        return None
    return PathPatch(MPath(np.vstack(verts), np.concatenate(codes)), **kw)


def _grid(x, y, cell_m):
    """Integer cell indices and the image extent of grid points (cell centres)."""
    x0, y0 = x.min() - cell_m / 2, y.min() - cell_m / 2
    ix = np.round((x - x0 - cell_m / 2) / cell_m).astype(int)
    iy = np.round((y - y0 - cell_m / 2) / cell_m).astype(int)
    shape = (iy.max() + 1, ix.max() + 1)
    ext = (x0, x0 + shape[1] * cell_m, y0, y0 + shape[0] * cell_m)
    return ix, iy, shape, ext


def minute_classes(thresholds) -> tuple[list, list]:
    """Colours and legend labels of first-arrival classes for thresholds (minutes)."""
    import matplotlib
    from matplotlib.colors import to_hex

    th = [float(t) for t in thresholds]
    cmap = matplotlib.colormaps[MINUTE_CMAP]
    cols = [to_hex(cmap(v)) for v in np.linspace(1.0, 0.12, len(th) + 1)]
    labels = [f"≤ {th[0]:g} min"] + [f"{a:g}–{b:g} min" for a, b in zip(th[:-1], th[1:])] + [f"> {th[-1]:g} min"]
    return cols, labels


def change_class(before_min, after_min, threshold_min: float, min_change: float = 0.5) -> np.ndarray:
    """Index into :data:`CHANGE_CLASSES` per cell (-1 where either time is unknown: no road data).

    ``inf`` (not reached) counts as beyond every threshold."""
    b = np.asarray(before_min, dtype=float)
    a = np.asarray(after_min, dtype=float)
    T = float(threshold_min)
    out = np.full(b.shape, 3, dtype=int)
    known = ~(np.isnan(a) | np.isnan(b))
    inb, ina = b <= T, a <= T
    with np.errstate(invalid="ignore"):
        d = np.where(np.isinf(a) & np.isinf(b), 0.0, a - b)
    d = np.where(np.isnan(d), 0.0, d)
    out[(d <= -min_change) & ina] = 1
    out[(d <= -min_change) & ~ina] = 2
    out[(d >= min_change) & ~ina] = 4
    out[(d >= min_change) & ina] = 5
    out[ina & ~inb] = 0
    out[inb & ~ina] = 6
    out[~known] = -1
    return out


def _scale_bar(ax, length_m=None):
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width = x1 - x0
    if length_m is None:
        length_m = 10000.0 if width > 40000 else 5000.0 if width > 15000 else 1000.0
    h = (y1 - y0) * 0.008
    bx, by = x1 - width * 0.04 - length_m, y0 + (y1 - y0) * 0.035
    ax.add_patch(
        Rectangle(
            (bx - width * 0.012, by - h * 2.6),
            length_m + width * 0.024,
            h * 7.6,
            fc="white",
            ec="#888888",
            lw=0.5,
            alpha=0.9,
            zorder=10,
        )
    )
    n = 4
    for k in range(n):
        ax.add_patch(
            Rectangle(
                (bx + k * length_m / n, by),
                length_m / n,
                h,
                fc="black" if k % 2 == 0 else "white",
                ec="black",
                lw=0.6,
                zorder=11,
            )
        )
    for k in (0, n // 2, n):
        v = k * length_m / n / 1000
        ax.text(
            bx + k * length_m / n,
            by + h * 1.8,
            f"{v:g}" + (" km" if k == n else ""),
            ha="center",
            va="bottom",
            fontsize=7,
            zorder=11,
        )
    return length_m


def _north_arrow(ax):
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x = x1 - (x1 - x0) * 0.045
    ya, yb = y1 - (y1 - y0) * 0.13, y1 - (y1 - y0) * 0.05
    ax.annotate(
        "",
        xy=(x, yb),
        xytext=(x, ya),
        zorder=11,
        arrowprops=dict(arrowstyle="-|>,head_width=0.5,head_length=1.0", lw=2.2, color="black"),
    )
    ax.text(x, yb + (y1 - y0) * 0.006, "N", ha="center", va="bottom", fontsize=12, fontweight="bold", zorder=11)


def _wrap_lines(lines, width=58):
    out = []
    for ln in lines:
        out.extend(textwrap.wrap(ln, width=width, subsequent_indent="   ") or [""])
    return out


# ------------------------------------------------------------------------------------------------
# the council map
# ------------------------------------------------------------------------------------------------


def council_map(
    base: Basemap,
    *,
    title: str,
    subtitle: str = "",
    surface: dict | None = None,
    sites: list | None = None,
    moves: list | None = None,
    choropleth: dict | None = None,
    assumptions: list | None = None,
    figsize=(14.0, 9.6),
):
    """A map for a council: returns ``(figure, MapInfo)``.

    Parameters
    ----------
    surface : dict, optional
        ``{"kind": "minutes", "x", "y", "cell_m", "minutes", "population", "no_road_data",
        "thresholds", "label"}`` (optional ``"headline"``: lines of the shares with their intervals) —
        first-arrival minutes per demand cell; or ``{"kind": "change",
        "x", "y", "cell_m", "before", "after", "population", "no_road_data", "threshold",
        "min_change", "label"}`` — what a change of network does per cell. Cells with zero
        population are left as land ("no inhabitants").
    sites : list of :class:`Site`
    moves : list of ((x0, y0), (x1, y1)) arrows from an old to a new position.
    choropleth : dict, optional
        ``{"values": {municipality: share 0..1}, "norm": 0.9, "label": "..."}`` — municipalities
        coloured against a norm (EMS).
    assumptions : list of str
        Short sentences for the assumptions block.
    """
    plt = mpl()
    import matplotlib.patheffects as pe

    sites = sites or []
    fig = plt.figure(figsize=figsize)
    ax = fig.add_axes([0.01, 0.07, 0.635, 0.83])
    side = fig.add_axes([0.655, 0.07, 0.335, 0.83])
    side.axis("off")
    legend: list[tuple[Any, str]] = []  # (handle, label) with None handle for a heading

    # land (cells without inhabitants are not painted: the land colour shows)
    p = _patch_of(base.zone, fc=LAND, ec="none", zorder=0)
    if p is not None:
        ax.add_patch(p)
    if surface is not None and surface["kind"] in ("minutes", "change"):
        _draw_surface(ax, surface, legend)
    if choropleth is not None:
        _draw_choropleth(ax, base, choropleth, legend)
    _draw_no_road_data(ax, base, surface, legend)
    _draw_roads_and_borders(ax, base, legend)
    _frame(ax, base, sites)
    fig.canvas.draw()
    _draw_moves(ax, moves or [])
    renderer = fig.canvas.get_renderer()
    order, sx, sy, marker_boxes = _draw_sites(fig, ax, sites, renderer, legend)
    halo = [pe.withStroke(linewidth=2.6, foreground="white")]
    muni_boxes = _draw_municipality_names(ax, base, renderer, marker_boxes, halo)
    # site labels: the important ones first
    lab_idx = [i for i in order if sites[i].label]
    texts = place_labels(
        ax,
        [(sx[i], sy[i]) for i in lab_idx],
        [sites[i].label for i in lab_idx],
        obstacles=marker_boxes + muni_boxes,
        fontsize=7.2,
        # measured as drawn: the important labels bold
        weights=[
            "bold" if sites[i].kind in ("new", "best", "moved_to", "unit_new", "closed") else "normal" for i in lab_idx
        ],
        path_effects=halo,
        color="#111111",
    )
    label_boxes = [text_box(t, renderer) for t in texts]
    _furniture(fig, ax, title, subtitle)
    labels = _side_panel(fig, side, legend, assumptions, renderer)
    info = MapInfo(
        label_boxes=label_boxes,
        label_texts=[sites[i].label for i in lab_idx],
        marker_boxes=marker_boxes,
        municipality_boxes=muni_boxes,
        legend_labels=labels,
    )
    return fig, info


def _draw_surface(ax, surface: dict, legend: list) -> None:
    """The council map's surface: first-arrival minutes or the change's classes per populated cell."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    x = np.asarray(surface["x"], float)
    y = np.asarray(surface["y"], float)
    pop = np.asarray(surface["population"], float)
    nrd = np.asarray(surface["no_road_data"], bool)
    cell = float(surface["cell_m"])
    ix, iy, shape, ext = _grid(x, y, cell)
    img = np.full(shape, -1, dtype=int)
    show = (pop > 0) & ~nrd
    if surface["kind"] == "minutes":
        cls, cmap_cols = _minute_surface(surface, show, legend)
    else:
        cls, cmap_cols = _change_surface(surface, legend)
        show &= cls >= 0
        present = set(np.unique(cls[show]).tolist())
        T, dmin = float(surface["threshold"]), float(surface.get("min_change", 0.5))
        legend += [
            (Patch(fc=c, ec="none"), lab.format(T=T, d=dmin))
            for k, (_, c, lab) in enumerate(CHANGE_CLASSES)
            if k in present or k in (0, 3, 6)
        ]
    img[iy[show], ix[show]] = cls[show]
    cmap = ListedColormap(cmap_cols)
    ax.imshow(
        np.ma.masked_less(img, 0),
        origin="lower",
        extent=ext,
        cmap=cmap,
        norm=BoundaryNorm(np.arange(len(cmap_cols) + 1) - 0.5, len(cmap_cols)),
        interpolation="nearest",
        zorder=1,
    )
    legend.append((Patch(fc=LAND, ec="#999999", lw=0.5), f"no inhabitants in the {cell:g} m cell"))
    if surface.get("headline"):  # the shares with their intervals (kazerne.report.intervals.legend_lines)
        legend.append((None, "Share of people reached (interval)"))
        legend += [(Patch(fc="none", ec="none"), line) for line in surface["headline"]]


def _minute_surface(surface: dict, show: np.ndarray, legend: list) -> tuple[np.ndarray, list]:
    """The minute class of each cell (``len(thresholds) + 1``: not reached) and the colours, with the legend."""
    from matplotlib.patches import Patch

    m = np.asarray(surface["minutes"], float)
    th = [float(t) for t in surface["thresholds"]]
    cols, labels = minute_classes(th)
    cls = np.searchsorted(np.array(th), m, side="left")  # ≤ t1 → 0, ..., > tn → n
    cls = np.where(np.isfinite(m), cls, len(th) + 1)
    legend.append((None, surface.get("label", "First fire engine on scene (turnout + driving)")))
    legend += [(Patch(fc=c, ec="none"), lab) for c, lab in zip(cols, labels)]
    if (~np.isfinite(m[show])).any():
        legend.append((Patch(fc=UNREACHED, ec="none"), "not reached"))
    return cls, cols + [UNREACHED]


def _change_surface(surface: dict, legend: list) -> tuple[np.ndarray, list]:
    """The change class of each cell (:func:`change_class`, -1: none) and the colours, with the legend's heading."""
    T = float(surface["threshold"])
    dmin = float(surface.get("min_change", 0.5))
    cls = change_class(surface["before"], surface["after"], T, dmin)
    legend.append((None, surface.get("label", "What the change does (where people live)")))
    return cls, [c for _, c, _ in CHANGE_CLASSES]


def _draw_choropleth(ax, base: Basemap, choropleth: dict, legend: list) -> None:
    """Municipalities coloured by their share against the norm (EMS)."""
    from matplotlib.patches import Patch

    norm = float(choropleth.get("norm", 0.9))
    bands = [
        (norm, 1.01, "#1a9850", f"meets the norm (≥ {100 * norm:g} %)"),
        (norm - 0.1, norm, "#fee08b", f"{100 * (norm - 0.1):g}–{100 * norm:g} % (below the norm)"),
        (-0.01, norm - 0.1, "#d73027", f"< {100 * (norm - 0.1):g} % (far below the norm)"),
    ]
    legend.append((None, choropleth.get("label", "Share of calls reached in time")))
    for name, g in base.municipalities:
        v = choropleth["values"].get(name)
        col = "#ffffff" if v is None else next(c for lo, hi, c, _ in bands if lo <= v < hi)
        pp = _patch_of(g, fc=col, ec="none", alpha=0.85, zorder=1)
        if pp is not None:
            ax.add_patch(pp)
    legend += [(Patch(fc=c, ec="none", alpha=0.85), lab) for _, _, c, lab in bands]


def _draw_no_road_data(ax, base: Basemap, surface: dict | None, legend: list) -> None:
    """The pack's network gap and the cells off the road data, grey and hatched; the legend's "Map" heading."""
    from matplotlib.patches import Patch

    nrd_shown = False
    if base.gap is not None and not base.gap.is_empty:
        pp = _patch_of(base.gap, fc="#cfcfcf", ec=GAP, hatch="////", lw=0.5, zorder=2)
        if pp is not None:
            ax.add_patch(pp)
            nrd_shown = True
    if surface is not None and "no_road_data" in surface:
        nrd = np.asarray(surface["no_road_data"], bool)
        if nrd.any():  # cells off the road data outside the pack's gap polygon: grey, hatched too
            x = np.asarray(surface["x"], float)
            y = np.asarray(surface["y"], float)
            cell = float(surface["cell_m"])
            boxes = shapely.box(x[nrd] - cell / 2, y[nrd] - cell / 2, x[nrd] + cell / 2, y[nrd] + cell / 2)
            cells = shapely.coverage_union_all(boxes)
            if base.gap is not None:
                cells = shapely.difference(cells, base.gap)
            pp = _patch_of(cells, fc="#cfcfcf", ec=GAP, hatch="////", lw=0.3, zorder=2)
            if pp is not None:
                ax.add_patch(pp)
            nrd_shown = True
    legend.append((None, "Map"))
    if nrd_shown:
        legend.append(
            (
                Patch(fc="#cfcfcf", ec=GAP, hatch="////", lw=0.5),
                "no road data in the 2017 extract: people here are not counted",
            )
        )


def _draw_roads_and_borders(ax, base: Basemap, legend: list) -> None:
    """Main roads, motorways and the municipality borders."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    for key, colour, lw, lab in (
        ("main", ROAD_MAIN, 0.45, "main road (primary, secondary)"),
        ("major", ROAD_MAJOR, 1.1, "motorway, expressway"),
    ):
        seg = base.roads.get(key)
        if seg is not None and len(seg):
            ax.add_collection(LineCollection(seg, colors=colour, linewidths=lw, alpha=0.75, zorder=3, capstyle="round"))
            legend.append((Line2D([], [], color=colour, lw=lw * 2), lab))
    for _, g in base.municipalities:
        for poly in _polys(g):
            if poly.geom_type == "Polygon":
                xs, ys = poly.exterior.xy
                ax.plot(xs, ys, color=BORDER, lw=0.8, zorder=4)
    legend.append((Line2D([], [], color=BORDER, lw=1.0), "municipality border"))


def _frame(ax, base: Basemap, sites: list) -> None:
    """The map's extent (the zone and every site, padded), equal aspect, no ticks."""
    x0, y0, x1, y1 = base.zone.bounds
    pad = 0.03 * max(x1 - x0, y1 - y0)
    allx = [s.x for s in sites] + [x0, x1]
    ally = [s.y for s in sites] + [y0, y1]
    ax.set_xlim(min(allx) - pad, max(allx) + pad)
    ax.set_ylim(min(ally) - pad * 1.6, max(ally) + pad)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_color("#888888")


def _draw_moves(ax, moves: list) -> None:
    """Arrows from each old position to its new one."""
    for a, b in moves:
        ax.annotate(
            "",
            xy=b,
            xytext=a,
            zorder=6,
            arrowprops=dict(
                arrowstyle="-|>", lw=1.6, color="#2c7bb6", shrinkA=6, shrinkB=10, connectionstyle="arc3,rad=0.15"
            ),
        )


def _draw_sites(fig, ax, sites: list, renderer, legend: list) -> tuple[list, np.ndarray, np.ndarray, list]:
    """Every site's marker at its true position (where markers coincide the larger is drawn below the
    smaller, both visible; the labels move instead, with leader lines) and their legend entries.
    Returns the drawing order (priority), the sites' x and y, and each marker's box (in that order)."""
    from matplotlib.lines import Line2D

    order = sorted(range(len(sites)), key=lambda i: (sites[i].priority, i))
    sx = np.array([s.x for s in sites], dtype=float)
    sy = np.array([s.y for s in sites], dtype=float)
    by_size = sorted(range(len(sites)), key=lambda i: -SITE_STYLES[sites[i].kind][1])
    size_rank = {i: r for r, i in enumerate(by_size)}
    # a marker on top of a larger one at (nearly) the same spot is drawn smaller inside it
    disp = ax.transData.transform(np.column_stack([sx, sy])) if len(sites) else np.zeros((0, 2))
    sizes = {i: float(SITE_STYLES[sites[i].kind][1]) for i in range(len(sites))}
    for r, i in enumerate(by_size):
        for j in by_size[:r]:
            rad_j = np.sqrt(sizes[j]) / 2 * fig.dpi / 72.0
            if np.hypot(*(disp[i] - disp[j])) < rad_j:
                sizes[i] = min(sizes[i], 0.35 * sizes[j])
    marker_boxes = []
    kinds_seen = []
    for i in order:
        s = sites[i]
        mk, _, fc, ec, _ = SITE_STYLES[s.kind]
        size = sizes[i]
        art = ax.scatter(
            [sx[i]], [sy[i]], marker=mk, s=size, c=fc, edgecolors=ec, linewidths=0.9, zorder=8 + 0.01 * size_rank[i]
        )
        art.set_gid(f"site:{i}")  # which Site this marker draws (for checks)
        marker_boxes.append(_marker_box(fig, ax, art, renderer, sx[i], sy[i], size))
        if s.kind not in kinds_seen:
            kinds_seen.append(s.kind)
    if sites:
        legend.append((None, "Posts and sites"))
        for k in SITE_STYLES:
            if k in kinds_seen:
                mk, size, fc, ec, lab = SITE_STYLES[k]
                legend.append((Line2D([], [], ls="", marker=mk, ms=np.sqrt(size) * 0.8, mfc=fc, mec=ec), lab))
    return order, sx, sy, marker_boxes


def _marker_box(fig, ax, art, renderer, x: float, y: float, size: float):
    """The display box of marker ``art`` (from its position and size when matplotlib gives none)."""
    bb = art.get_window_extent(renderer)
    if not np.isfinite([bb.x0, bb.x1]).all() or bb.width == 0:
        px, py = ax.transData.transform((x, y))
        r = np.sqrt(size) / 2 * fig.dpi / 72
        from matplotlib.transforms import Bbox

        bb = Bbox([[px - r, py - r], [px + r, py + r]])
    return bb


def _draw_municipality_names(ax, base: Basemap, renderer, marker_boxes: list, halo: list) -> list:
    """The municipality names at their centres (moved a little if they would cover a marker or
    another name); returns their boxes."""
    muni_xy = []
    for name, g in base.municipalities:
        c = g.representative_point()
        muni_xy.append((c.x, c.y))
    muni_boxes: list = []
    for (mx, my), (name, _) in zip(muni_xy, base.municipalities):
        t = None
        for dy in (0, 14, -14, 28, -28, 42, -42):
            if t is not None:
                t.remove()
            t = ax.annotate(
                name.upper(),
                (mx, my),
                xytext=(0, dy),
                textcoords="offset points",
                ha="center",
                va="center",
                fontsize=6.8,
                color="#3a3a3a",
                fontweight="bold",
                zorder=7,
                path_effects=halo,
            )
            bb = t.get_window_extent(renderer)
            if not any(overlap(bb, o) for o in marker_boxes + muni_boxes):
                break
        assert t is not None
        muni_boxes.append(t.get_window_extent(renderer))
    return muni_boxes


def _furniture(fig, ax, title: str, subtitle: str) -> None:
    """Scale bar, north arrow, title, subtitle and attribution."""
    _scale_bar(ax)
    _north_arrow(ax)
    fig.text(0.01, 0.965, title, fontsize=15, fontweight="bold", va="top")
    if subtitle:
        fig.text(0.01, 0.925, subtitle, fontsize=10, va="top", color="#333333")
    fig.text(
        0.01,
        0.035,
        ATTRIBUTION + ". Positions of posts are approximate (see posts.csv: location grade).",
        fontsize=7.5,
        color="#333333",
    )


def _side_panel(fig, side, legend: list, assumptions: list | None, renderer) -> list[str]:
    """The legend (headings in bold) and the assumptions in the side panel; returns the legend's labels."""
    from matplotlib.patches import Patch

    handles = [h if h is not None else Patch(fc="none", ec="none") for h, _ in legend]
    labels = [lab for _, lab in legend]
    labels_wrapped = ["\n".join(textwrap.wrap(lab, 50)) for lab in labels]
    leg = side.legend(
        handles,
        labels_wrapped,
        loc="upper left",
        bbox_to_anchor=(0.0, 1.0),
        frameon=False,
        fontsize=8,
        handlelength=1.8,
        handleheight=1.1,
        borderaxespad=0.0,
        labelspacing=0.45,
    )
    for (h, _), txt in zip(legend, leg.get_texts()):
        if h is None:
            txt.set_fontweight("bold")
            txt.set_fontsize(9)
            txt.set_x(-30)
    fig.canvas.draw()
    lb = leg.get_window_extent(renderer).transformed(side.transAxes.inverted())
    if assumptions:
        body = _wrap_lines(assumptions, width=64)
        side.text(0.0, lb.y0 - 0.03, "Assumptions", fontsize=9, fontweight="bold", va="top", transform=side.transAxes)
        side.text(
            0.0,
            lb.y0 - 0.065,
            "\n".join(body),
            fontsize=7.8,
            va="top",
            linespacing=1.35,
            transform=side.transAxes,
            color="#222222",
        )
    return labels


def figure_bytes(fig, fmt: str = "png", dpi: int = PRINT_DPI) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, facecolor="white")
    return buf.getvalue()


def save_map(fig, folder, stem: str, dpi: int = PRINT_DPI) -> tuple:
    """Write ``stem.png`` (``dpi``) and ``stem.pdf`` into ``folder`` (atomically); close the figure."""
    from pathlib import Path

    from .atomic import atomic_path

    plt = mpl()
    folder = Path(folder)
    out = []
    try:
        for fmt in ("png", "pdf"):
            with atomic_path(folder / f"{stem}.{fmt}") as tmp:
                Path(tmp).write_bytes(figure_bytes(fig, fmt, dpi))
            out.append(folder / f"{stem}.{fmt}")
    finally:
        plt.close(fig)
    return tuple(out)
