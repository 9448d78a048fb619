"""One CRS story for what the API returns and plots.

Every GeoDataFrame the API returns is EPSG:4326 unless a ``to_crs=`` asks for another; every plot
draws in EPSG:4326 on a new figure, and on an analyst's axes in the CRS of what is already drawn
there (:func:`axes_crs`: their layers' extent tells degrees from Belgian Lambert 72, Web Mercator,
ETRS89-LAEA or UTM 31N metres), or in the ``crs=`` given.
"""

from __future__ import annotations

import numpy as np

#: The CRSs :func:`axes_crs` recognises from an axes' extent, in the order tried.
KNOWN_CRS = ("EPSG:4326", "EPSG:31370", "EPSG:3857", "EPSG:3035", "EPSG:32631")


def project(lon, lat, crs: str):
    """WGS84 lon / lat (degrees) → ``crs`` x / y."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if str(crs).upper() in ("EPSG:4326", "WGS84"):
        return lon, lat
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return tr.transform(lon, lat)


def axes_crs(ax, lon, lat) -> str:
    """The CRS of what is already drawn on ``ax``, told from its data extent: the first of
    :data:`KNOWN_CRS` in which the points ``lon`` / ``lat`` fall inside (or near) that extent;
    EPSG:4326 for empty axes or when none fits."""
    if ax is None or not ax.has_data():
        return "EPSG:4326"
    lim = ax.dataLim
    if not np.all(np.isfinite([lim.x0, lim.x1, lim.y0, lim.y1])):
        return "EPSG:4326"
    lon0, lon1 = float(np.nanmin(lon)), float(np.nanmax(lon))
    lat0, lat1 = float(np.nanmin(lat)), float(np.nanmax(lat))
    for crs in KNOWN_CRS:
        xs, ys = project([lon0, lon1, lon0, lon1], [lat0, lat0, lat1, lat1], crs)
        w = max(lim.x1 - lim.x0, float(np.ptp(xs)), 1e-9)
        h = max(lim.y1 - lim.y0, float(np.ptp(ys)), 1e-9)
        if (
            min(xs) <= lim.x1 + w
            and max(xs) >= lim.x0 - w
            and min(ys) <= lim.y1 + h
            and max(ys) >= lim.y0 - h
            and np.ptp(xs) <= 10 * w
        ):
            return crs
    return "EPSG:4326"


def set_geo_aspect(ax, crs: str, lat) -> None:
    """Equal scale on the ground: 1 / cos(latitude) for degrees, 1 for metres (as geopandas does)."""
    if str(crs).upper() == "EPSG:4326":
        ax.set_aspect(1.0 / np.cos(np.radians(float(np.nanmean(lat)))))
    else:
        ax.set_aspect("equal")


def to_crs(gdf, crs=None):
    """``gdf`` (EPSG:4326) in ``crs`` when asked, else unchanged."""
    return gdf if crs is None else gdf.to_crs(crs)
