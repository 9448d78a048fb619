"""Labels that overlap neither one another nor the markers (:func:`place_labels`), for the maps of
:mod:`kazerne.report.maps`."""

from __future__ import annotations

_DIRS = [
    (1, 0, "left", "center"),
    (1, 1, "left", "bottom"),
    (1, -1, "left", "top"),
    (-1, 0, "right", "center"),
    (0, 1, "center", "bottom"),
    (0, -1, "center", "top"),
    (-1, 1, "right", "bottom"),
    (-1, -1, "right", "top"),
]
_RADII = (7, 14, 24, 36, 52, 72, 96, 124)


def overlap(a, b, pad=1.5) -> bool:
    return not (a.x1 + pad <= b.x0 or b.x1 + pad <= a.x0 or a.y1 + pad <= b.y0 or b.y1 + pad <= a.y0)


def area_overlap(a, boxes) -> float:
    s = 0.0
    for b in boxes:
        w = min(a.x1, b.x1) - max(a.x0, b.x0)
        h = min(a.y1, b.y1) - max(a.y0, b.y0)
        if w > 0 and h > 0:
            s += w * h
    return s


def text_box(t, renderer):
    """The box of a label's text alone (an annotation's own extent includes its leader line)."""
    from matplotlib.text import Text

    if hasattr(t, "update_positions"):
        t.update_positions(renderer)
    return Text.get_window_extent(t, renderer)


def place_labels(ax, xy, texts, obstacles=(), fontsize=7.5, leader_from: int = 1, weights=None, **text_kw) -> list:
    """Annotate points ``xy`` (data coordinates) with ``texts`` so that no label overlaps another
    label, an obstacle box (display pixels: markers, names) or leaves the axes.

    Each label tries positions around its point (right, upper right, lower right, left, above,
    below, ...) at growing distances and takes the first free one; a label pushed beyond the first
    ring gets a thin leader line to its point. When no free spot exists (never on the maps this
    project draws; the tests check that) the spot with the least overlap is used. Returns the
    matplotlib Text artists in input order.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    axbox = ax.get_window_extent(renderer)
    placed = list(obstacles)
    out = []
    scale = fig.dpi / 72.0
    weights = list(weights) if weights is not None else ["normal"] * len(texts)
    for (x, y), s, fw in zip(xy, texts, weights):
        best: tuple | None = None
        for k, r in enumerate(_RADII):
            for dx, dy, ha, va in _DIRS:
                f = 1.0 if (dx == 0 or dy == 0) else 0.75
                t = ax.annotate(
                    s,
                    (x, y),
                    xytext=(dx * r * f, dy * r * f),
                    textcoords="offset points",
                    ha=ha,
                    va=va,
                    fontsize=fontsize,
                    fontweight=fw,
                    zorder=9,
                    annotation_clip=False,
                    **text_kw,
                )
                bb = text_box(t, renderer)
                inside = (
                    bb.x0 >= axbox.x0 + 2 and bb.x1 <= axbox.x1 - 2 and bb.y0 >= axbox.y0 + 2 and bb.y1 <= axbox.y1 - 2
                )
                cost = area_overlap(bb, placed) + (0 if inside else 1e9)
                free = inside and not any(overlap(bb, p) for p in placed)
                if free:
                    if best is not None:
                        best[1].remove()
                    best = (0.0, t, bb, k)
                    break
                if best is None or cost < best[0]:
                    if best is not None:
                        best[1].remove()
                    best = (cost, t, bb, k)
                else:
                    t.remove()
            if best is not None and best[0] == 0.0:
                break
        assert best is not None  # _RADII and _DIRS are not empty
        cost, t, bb, k = best
        if k >= leader_from:
            t.remove()
            off = t.xyann
            t = ax.annotate(
                s,
                (x, y),
                xytext=off,
                textcoords="offset points",
                ha=t.get_ha(),
                va=t.get_va(),
                fontsize=fontsize,
                fontweight=fw,
                zorder=9,
                annotation_clip=False,
                arrowprops=dict(arrowstyle="-", lw=0.6, color="#333333", shrinkA=0, shrinkB=4 * scale),
                **text_kw,
            )
            bb = text_box(t, renderer)
        placed.append(bb)
        out.append(t)
    return out


# ------------------------------------------------------------------------------------------------
# map furniture
# ------------------------------------------------------------------------------------------------
