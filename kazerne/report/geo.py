"""GeoJSON writing (WGS84), atomically."""

from __future__ import annotations

import json

import numpy as np
import shapely

from ..jsonsafe import json_safe as _clean
from .atomic import write_text


def feature(geometry, **props) -> dict:
    geo = shapely.geometry.mapping(geometry) if geometry is not None else None
    return {"type": "Feature", "properties": {k: _clean(v) for k, v in props.items()}, "geometry": geo}


def write_geojson(path, records: list[dict], metadata: dict | None = None, precision: int = 6) -> None:
    """Write records (dicts with a ``geometry`` key holding a WGS84 shapely geometry) as GeoJSON."""
    feats = []
    for rec in records:
        rec = dict(rec)
        g = rec.pop("geometry")
        if g is not None:
            g = shapely.transform(g, lambda c: np.round(c, precision))
        feats.append(feature(g, **rec))
    coll: dict[str, object] = {"type": "FeatureCollection", "features": feats}
    if metadata:
        coll["kazerne"] = metadata
    write_text(path, json.dumps(coll, ensure_ascii=False, allow_nan=False))


def points_geojson(path, lon, lat, columns: dict, metadata: dict | None = None) -> None:
    """Write points with per-point properties (``columns``: name → array) as GeoJSON, fast."""
    n = len(lon)
    keys = list(columns)
    cols = [np.asarray(columns[k]) for k in keys]
    parts = []
    for i in range(n):
        props = {k: _clean(c[i].item() if hasattr(c[i], "item") else c[i]) for k, c in zip(keys, cols)}
        parts.append(
            json.dumps(
                {
                    "type": "Feature",
                    "properties": props,
                    "geometry": {"type": "Point", "coordinates": [round(float(lon[i]), 6), round(float(lat[i]), 6)]},
                },
                ensure_ascii=False,
                allow_nan=False,
            )
        )
    head: dict[str, object] = {"type": "FeatureCollection"}
    if metadata:
        head["kazerne"] = metadata
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [' + ",\n".join(parts) + "]}"
    write_text(path, text)
