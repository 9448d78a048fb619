"""Figures beside the council map: the greenfield frontier (:func:`frontier_figure`) and the road
network audit's map (:func:`audit_map`); :func:`proven` says which solves prove their network best."""

from __future__ import annotations

import io
import textwrap

import numpy as np

from .maps import mpl


def proven(status) -> bool:
    """A solve's status proves its network best (``"optimal"``: zero gap)."""
    return str(status) == "optimal"


def frontier_figure(
    curve_p,
    curve_share,
    today_p,
    today_share,
    threshold_min: float,
    *,
    title: str,
    new_crew: str,
    today_note: str,
    curve_status=None,
    curve_gap=None,
):
    """The greenfield frontier: share within T for p posts (new posts of crew ``new_crew``) and
    today's network as a star. Only points whose solve is proven optimal are called best (filled
    dots); a point stopped before its proof (``curve_status`` not ``"optimal"``) is drawn hollow
    and labelled with its status and gap. Returns a figure."""
    plt = mpl()
    from matplotlib.ticker import MaxNLocator

    status = list(curve_status) if curve_status is not None else ["optimal"] * len(curve_p)
    gaps = list(curve_gap) if curve_gap is not None else [0.0] * len(curve_p)
    ok = np.array([proven(s) for s in status], dtype=bool)
    fig, ax = plt.subplots(figsize=(8.0, 6.4))
    fig.subplots_adjust(top=0.86, bottom=0.36, left=0.1, right=0.97)
    ys = np.array([100 * s for s in curve_share], dtype=float)
    ps = np.asarray(curve_p)
    ax.plot(ps, ys, "-", color="#2c7bb6", lw=1.5, zorder=2)
    ax.plot(ps[ok], ys[ok], "o", color="#2c7bb6", zorder=3, label=f"best p posts from scratch (all {new_crew}; proven)")
    if (~ok).any():
        ax.plot(
            ps[~ok],
            ys[~ok],
            "o",
            mfc="white",
            mec="#2c7bb6",
            mew=1.6,
            zorder=3,
            label="p posts, feasible: not proven best (time limit; gap in the label)",
        )
    for p, y, good, st, g in zip(ps, ys, ok, status, gaps):
        if good:  # above the curve
            ax.annotate(
                f"{y:.1f} %",
                (p, y),
                xytext=(0, 8),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                color="#2c7bb6",
            )
        else:  # below it, where a rising curve leaves room for two lines
            ax.annotate(
                f"{y:.1f} %\n{st}\ngap {100 * (g or 0):.2g} %",
                (p, y),
                xytext=(0, -9),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=7.5,
                color="#2c7bb6",
            )
    lo = min(list(ys) + ([100 * today_share] if today_p is not None else []))
    if today_p is not None:
        ax.plot([today_p], [100 * today_share], "*", color="#b2182b", ms=16, label="today's network")
        ax.annotate(
            f"today: {100 * today_share:.1f} %",
            (today_p, 100 * today_share),
            xytext=(0, 12),
            textcoords="offset points",
            ha="center",
            fontsize=9,
            color="#b2182b",
            fontweight="bold",
        )
    ax.set_ylim(max(0.0, lo - 8), min(100.0, max(ys) + 8) if max(ys) < 99 else 102)
    lo_p = min(list(ps) + ([today_p] if today_p is not None else []))
    hi_p = max(list(ps) + ([today_p] if today_p is not None else []))
    ax.set_xlim(lo_p - 0.7, hi_p + 0.7)  # room for the first and last labels
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("number of posts")
    ax.set_ylabel(f"population reached within {threshold_min:g} min (%)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(-0.08, -0.13), fontsize=8.5, frameon=False)
    fig.suptitle("\n".join(textwrap.wrap(title, 75)), fontsize=12, fontweight="bold", x=0.02, ha="left")
    fig.text(0.02, 0.02, "\n".join(textwrap.wrap(today_note, 120)), fontsize=8, color="#333333")
    return fig


def audit_map(
    net, municipalities_metric, names, implausible_xy, near_xy, facing_xy, title: str, footer: str = ""
) -> bytes:
    """A PNG (bytes) of the road network audit: the roads (emergency-only passages in blue), the
    nodes dropped outside the largest strongly connected component (red dots), the straight lines of
    pairs whose fastest route is implausibly long (orange), near-coincident nodes and facing dead ends
    (purple). Coordinates in EPSG:31370."""
    plt = mpl()
    from matplotlib.collections import LineCollection

    fig, ax = plt.subplots(figsize=(10, 10))
    seg = np.stack(
        [np.column_stack([net.x[net.u], net.y[net.u]]), np.column_stack([net.x[net.v], net.y[net.v]])], axis=1
    )
    em = net.emergency_only()
    ax.add_collection(LineCollection(seg[~em], colors="#9a9a9a", linewidths=0.25, zorder=1))
    ax.add_collection(LineCollection(seg[em], colors="#2b83ba", linewidths=0.6, zorder=2))
    for g, nm in zip(municipalities_metric, names):
        for poly in getattr(g, "geoms", [g]):
            xs, ys = poly.exterior.xy
            ax.plot(xs, ys, color="#333333", lw=0.8, zorder=3)
        c = g.representative_point()
        ax.annotate(
            nm,
            (c.x, c.y),
            fontsize=7,
            ha="center",
            color="#222222",
            zorder=6,
            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.7),
        )
    if net.dropped_xy is not None and len(net.dropped_xy):
        ax.scatter(net.dropped_xy[:, 0], net.dropped_xy[:, 1], s=3, c="#d7191c", zorder=4)
    if len(implausible_xy):
        ax.add_collection(
            LineCollection(
                list(np.asarray(implausible_xy).reshape(-1, 2, 2)), colors="#fd8d3c", linewidths=0.8, zorder=5
            )
        )
    for pts in (near_xy, facing_xy):
        if len(pts):
            ax.scatter(
                np.asarray(pts)[:, 0], np.asarray(pts)[:, 1], s=14, facecolors="none", edgecolors="#7b3294", zorder=5
            )
    handles = [
        plt.Line2D([], [], color="#9a9a9a", lw=1, label="road (public)"),
        plt.Line2D([], [], color="#2b83ba", lw=1.5, label="emergency-only passage"),
        plt.Line2D([], [], color="#d7191c", marker=".", ls="", label="node dropped (outside largest component)"),
        plt.Line2D([], [], color="#fd8d3c", lw=1.5, label="pair with implausible detour (straight line)"),
        plt.Line2D(
            [], [], color="#7b3294", marker="o", mfc="none", ls="", label="near-coincident nodes / facing dead ends"
        ),
    ]
    ax.legend(handles=handles, loc="lower left", fontsize=8)
    ax.autoscale()
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=11)
    fig.text(
        0.01, 0.005, (footer + "\n" if footer else "") + "© OpenStreetMap contributors", fontsize=7, color="#333333"
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
