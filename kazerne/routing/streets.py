"""Placing a site on a named street (OSM ``name`` tags of the road extract)."""

from __future__ import annotations

import unicodedata

import numpy as np
import shapely

from ..errors import SnapError
from .network import to_wgs84


def _norm(s: str) -> str:
    s = unicodedata.normalize("NFKD", str(s)).encode("ascii", "ignore").decode()
    return " ".join(s.lower().replace("-", " ").replace(".", " ").split())


def find_street(zone, street: str, municipality: str | None = None, field: str = "street"):
    """(lon, lat) on a named street: the edge midpoint closest to the centre of the street's length.

    The street is matched case- and accent-insensitively; with ``municipality`` only edges whose
    midpoint lies in that municipality count. Raises :class:`SnapError` naming what was not found.
    """
    net = zone.net
    want = _norm(street)
    names = np.array([_norm(n) for n in net.names])
    ids = np.flatnonzero(names == want)
    if len(ids) == 0:
        raise SnapError(f"street {street!r} not found in the road data", field=field)
    sel = np.flatnonzero(np.isin(net.name_id, ids))
    mx = (net.x[net.u[sel]] + net.x[net.v[sel]]) / 2
    my = (net.y[net.u[sel]] + net.y[net.v[sel]]) / 2
    if municipality:
        geoms = [
            g
            for m, g in zip(zone.pack.municipalities, zone.municipalities_metric)
            if _norm(m.name) == _norm(municipality)
        ]
        if not geoms:
            raise SnapError(f"municipality {municipality!r} is not in zone {zone.name}", field=field)
        inside = shapely.contains_xy(geoms[0], mx, my)
        if not inside.any():
            raise SnapError(f"street {street!r} not found in {municipality}", field=field)
        sel, mx, my = sel[inside], mx[inside], my[inside]
    w = net.length[sel]
    cx, cy = np.average(mx, weights=w), np.average(my, weights=w)
    k = int(np.argmin(np.hypot(mx - cx, my - cy)))
    lon, lat = to_wgs84([mx[k]], [my[k]])
    return float(lon[0]), float(lat[0])
