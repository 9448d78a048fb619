"""Writing a road-network audit (:mod:`kazerne.routing.audit`): JSON, CSV, GeoJSON and a PNG map."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..jsonsafe import json_safe
from ..routing.network import to_metric
from .atomic import atomic_dir, atomic_path, write_json
from .tables import write_csv


def write_audit(rep, zone, out: str | Path) -> Path:
    """Write ``rep`` into folder ``out`` (replaced atomically): ``audit.json``,
    ``audit_municipalities.csv``, ``audit_posts.csv``, ``implausible.geojson``, ``audit_map.png`` and,
    with the best routes, ``audit_passages.csv`` and ``audit_contraflow.csv`` (street, class, metres
    used, population served, a point)."""
    from .figures import audit_map

    out = Path(out)
    net = zone.net
    imp = rep.implausible
    if imp:
        fx, fy = to_metric([r["from_lon"] for r in imp], [r["from_lat"] for r in imp])
        tx, ty = to_metric([r["to_lon"] for r in imp], [r["to_lat"] for r in imp])
        lines = np.stack([np.column_stack([fx, fy]), np.column_stack([tx, ty])], axis=1)
    else:
        lines = np.zeros((0, 2, 2))
    near = (
        np.column_stack([net.x[rep.near_pairs[:, 0]], net.y[rep.near_pairs[:, 0]]])
        if len(rep.near_pairs)
        else np.zeros((0, 2))
    )
    facing = (
        np.column_stack([net.x[rep.facing_dead_ends[:, 0]], net.y[rep.facing_dead_ends[:, 0]]])
        if len(rep.facing_dead_ends)
        else np.zeros((0, 2))
    )
    d = net.describe()
    footer = (
        f"road data {d['source']} ({d['road_data_date']}), profile {rep.profile}; "
        f"{d['nodes_dropped']} of {d['nodes_source']} nodes dropped; {len(imp)} of the sampled pairs "
        f"have a detour index > {rep.params['max_detour']}"
    )
    png = audit_map(
        net,
        zone.municipalities_metric,
        [m.name for m in zone.pack.municipalities],
        lines,
        near,
        facing,
        title=f"Road network audit — {zone.name}",
        footer=footer,
    )
    with atomic_dir(out) as tmp:
        write_json(tmp / "audit.json", json_safe({**rep.to_dict(), "headline": rep.headline()}))
        write_csv(tmp / "audit_municipalities.csv", rep.municipality_rows())
        write_csv(tmp / "audit_posts.csv", rep.posts)
        if rep.best_routes:
            write_csv(tmp / "audit_passages.csv", rep.best_routes["passages"])
            write_csv(tmp / "audit_contraflow.csv", rep.best_routes["contraflow"])
        write_json(tmp / "implausible.geojson", json_safe(rep.implausible_geojson()))
        with atomic_path(tmp / "audit_map.png") as p:
            Path(p).write_bytes(png)
    return out
