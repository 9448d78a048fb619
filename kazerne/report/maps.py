"""PNG maps with matplotlib (no basemap: the zone's own municipality outlines)."""

from __future__ import annotations

import io

import numpy as np


def response_map(x, y, minutes, no_road_data, municipalities_metric, posts_xy, post_ids, title: str,
                 thresholds=(8, 10, 12, 15), cell_m: float | None = None, footer: str = "") -> bytes:
    """A PNG (bytes): demand points coloured by first-arrival minutes, posts, municipality outlines.

    Coordinates in EPSG:31370 metres. Points without road data are grey crosses.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import BoundaryNorm, ListedColormap

    bounds = [0] + [float(t) for t in thresholds] + [1e9]
    colours = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"][: len(bounds) - 1]
    if len(colours) < len(bounds) - 1:
        colours += ["#7f0000"] * (len(bounds) - 1 - len(colours))
    cmap = ListedColormap(colours)
    norm = BoundaryNorm(bounds, cmap.N)
    fig, ax = plt.subplots(figsize=(9, 9))
    for g in municipalities_metric:
        for poly in getattr(g, "geoms", [g]):
            xs, ys = poly.exterior.xy
            ax.plot(xs, ys, color="#555555", lw=0.6)
    m = np.asarray(minutes, dtype=float)
    nrd = np.asarray(no_road_data, dtype=bool)
    ok = ~nrd & np.isfinite(m)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if cell_m:
        # a grid: paint whole cells as an image (no gaps between markers)
        x0, y0 = x.min() - cell_m / 2, y.min() - cell_m / 2
        ix = np.round((x - x0 - cell_m / 2) / cell_m).astype(int)
        iy = np.round((y - y0 - cell_m / 2) / cell_m).astype(int)
        img = np.full((iy.max() + 1, ix.max() + 1), np.nan)
        img[iy[ok], ix[ok]] = m[ok]
        img[iy[~nrd & ~np.isfinite(m)], ix[~nrd & ~np.isfinite(m)]] = 1e6
        ext = (x0, x0 + (ix.max() + 1) * cell_m, y0, y0 + (iy.max() + 1) * cell_m)
        ax.imshow(np.ma.masked_invalid(img), origin="lower", extent=ext, cmap=cmap, norm=norm,
                  interpolation="nearest", zorder=1)
        gap = np.zeros_like(img)
        gap[iy[nrd], ix[nrd]] = 1
        if nrd.any():
            ax.imshow(np.ma.masked_equal(gap, 0), origin="lower", extent=ext, cmap=ListedColormap(["#bbbbbb"]),
                      interpolation="nearest", zorder=1)
            ax.plot([], [], "s", color="#bbbbbb", label="no road data")
    else:
        ax.scatter(x[ok], y[ok], c=m[ok], cmap=cmap, norm=norm, s=8, linewidths=0)
        unre = ~nrd & ~np.isfinite(m)
        ax.scatter(x[unre], y[unre], c="#7f0000", s=8, linewidths=0)
        if nrd.any():
            ax.scatter(x[nrd], y[nrd], c="#aaaaaa", s=8, marker="x", linewidths=0.5, label="no road data")
    px, py = np.asarray(posts_xy).T if len(posts_xy) else ([], [])
    ax.scatter(px, py, marker="^", s=90, c="black", edgecolors="white", zorder=5, label="posts")
    for i, pid in enumerate(post_ids):
        ax.annotate(pid, (px[i], py[i]), xytext=(4, 4), textcoords="offset points", fontsize=7)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours]
    labels = [f"≤ {bounds[1]:g} min"] + [f"{bounds[i]:g}–{bounds[i + 1]:g} min" for i in range(1, len(bounds) - 2)] \
        + [f"> {bounds[-2]:g} min"]
    leg1 = ax.legend(handles, labels, loc="lower left", title="first arrival", fontsize=8)
    ax.add_artist(leg1)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=11)
    if footer:
        fig.text(0.01, 0.01, footer, fontsize=7, color="#333333")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def audit_map(net, municipalities_metric, names, implausible_xy, near_xy, facing_xy, title: str,
              footer: str = "") -> bytes:
    """A PNG (bytes) of the road network audit: the roads (emergency-only passages in blue), the
    nodes dropped outside the largest strongly connected component (red dots), the straight lines of
    pairs whose fastest route is implausibly long (orange), near-coincident nodes and facing dead ends
    (purple). Coordinates in EPSG:31370."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    fig, ax = plt.subplots(figsize=(10, 10))
    seg = np.stack([np.column_stack([net.x[net.u], net.y[net.u]]), np.column_stack([net.x[net.v], net.y[net.v]])],
                   axis=1)
    em = net.emergency_only()
    ax.add_collection(LineCollection(seg[~em], colors="#9a9a9a", linewidths=0.25, zorder=1))
    ax.add_collection(LineCollection(seg[em], colors="#2b83ba", linewidths=0.6, zorder=2))
    for g, nm in zip(municipalities_metric, names):
        for poly in getattr(g, "geoms", [g]):
            xs, ys = poly.exterior.xy
            ax.plot(xs, ys, color="#333333", lw=0.8, zorder=3)
        c = g.representative_point()
        ax.annotate(nm, (c.x, c.y), fontsize=7, ha="center", color="#222222", zorder=6,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.7))
    if net.dropped_xy is not None and len(net.dropped_xy):
        ax.scatter(net.dropped_xy[:, 0], net.dropped_xy[:, 1], s=3, c="#d7191c", zorder=4)
    if len(implausible_xy):
        ax.add_collection(LineCollection(np.asarray(implausible_xy).reshape(-1, 2, 2), colors="#fd8d3c",
                                         linewidths=0.8, zorder=5))
    for pts in (near_xy, facing_xy):
        if len(pts):
            ax.scatter(np.asarray(pts)[:, 0], np.asarray(pts)[:, 1], s=14, facecolors="none",
                       edgecolors="#7b3294", zorder=5)
    handles = [plt.Line2D([], [], color="#9a9a9a", lw=1, label="road (public)"),
               plt.Line2D([], [], color="#2b83ba", lw=1.5, label="emergency-only passage"),
               plt.Line2D([], [], color="#d7191c", marker=".", ls="", label="node dropped (outside largest component)"),
               plt.Line2D([], [], color="#fd8d3c", lw=1.5, label="pair with implausible detour (straight line)"),
               plt.Line2D([], [], color="#7b3294", marker="o", mfc="none", ls="",
                          label="near-coincident nodes / facing dead ends")]
    ax.legend(handles=handles, loc="lower left", fontsize=8)
    ax.autoscale()
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=11)
    fig.text(0.01, 0.005, (footer + "\n" if footer else "") + "© OpenStreetMap contributors", fontsize=7,
             color="#333333")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
