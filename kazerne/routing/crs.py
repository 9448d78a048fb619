"""Coordinates: WGS84 at the edges, Belgian Lambert 72 (EPSG:31370, metres) inside the engine."""

from __future__ import annotations

import numpy as np

#: Metric CRS used inside the engine.
METRIC_CRS = "EPSG:31370"

_TR: dict = {}


def _transformer(a, b):
    from pyproj import Transformer

    if (a, b) not in _TR:
        _TR[(a, b)] = Transformer.from_crs(a, b, always_xy=True)
    return _TR[(a, b)]


def to_metric(lon, lat):
    """WGS84 lon/lat (degrees) → EPSG:31370 x/y (metres)."""
    tr = _transformer("EPSG:4326", METRIC_CRS)
    return tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))


def to_wgs84(x, y):
    """EPSG:31370 x/y (metres) → WGS84 lon/lat (degrees)."""
    tr = _transformer(METRIC_CRS, "EPSG:4326")
    return tr.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
