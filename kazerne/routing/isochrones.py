"""Isochrones and first-due areas.

An isochrone of a post for threshold T (minutes, turnout included) is the area within
``buffer_m`` (default 120 m) of the road length the post's crew reaches within T: whole edges whose
far end is reached, plus the reached fraction of edges left part-way (time interpolated along the
edge geometry). It is built from reached edges, not a hull of nodes, so rivers, motorways without
exits and the data gap show as they are.

First-due areas partition the zone into the territories where each post arrives first: a grid of
``cell_m`` cells, each given the first-arriving post at its nearest network node, merged per post.
"""

from __future__ import annotations

import numpy as np
import shapely

from ..errors import ModelInputError
from .network import RoadNetwork, to_wgs84
from .profiles import SpeedProfile

DEFAULT_MINUTES = (8, 10, 12, 15)


def _sample_reached(
    net: RoadNetwork, edge_t: np.ndarray, node_t: np.ndarray, limit_s: float, step_m: float
) -> np.ndarray:
    """Points (k, 2) every ``step_m`` along the road length reached within ``limit_s``.

    Each edge is walked from its tail; a point at fraction f of the edge's length is reached when
    ``t(tail) + f * t(edge) <= limit_s`` (time interpolated along the edge).
    """
    du = node_t[net.u]
    ok = np.flatnonzero(np.isfinite(du) & (du <= limit_s))
    if len(ok) == 0:
        return np.zeros((0, 2))
    et = edge_t[ok]
    pos = et > 0  # a zero-length edge without a junction delay takes no time: wholly reached
    frac_lim = np.ones(len(ok))
    frac_lim[pos] = np.minimum(1.0, (limit_s - du[ok][pos]) / et[pos])
    pts, part, along, _ = net.sample_points(ok, step_m)
    keep = along <= frac_lim[part] + 1e-12
    tails = net.u[ok]
    return np.vstack([pts[keep], np.column_stack([net.x[tails], net.y[tails]])])


class _Raster:
    """A boolean raster over the network's extent, turned into polygons by merging cell runs."""

    def __init__(self, net: RoadNetwork, cell_m: float, pad_m: float):
        self.cell = float(cell_m)
        self.x0 = float(net.x.min() - pad_m)
        self.y0 = float(net.y.min() - pad_m)
        self.nx = int(np.ceil((net.x.max() + pad_m - self.x0) / cell_m)) + 1
        self.ny = int(np.ceil((net.y.max() + pad_m - self.y0) / cell_m)) + 1

    def mark(self, pts: np.ndarray) -> np.ndarray:
        grid = np.zeros((self.ny, self.nx), dtype=bool)
        ix = ((pts[:, 0] - self.x0) // self.cell).astype(np.int64)
        iy = ((pts[:, 1] - self.y0) // self.cell).astype(np.int64)
        ok = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        grid[iy[ok], ix[ok]] = True
        return grid

    def polygons(self, grid: np.ndarray):
        """Union of the True cells as a (Multi)Polygon (EPSG:31370)."""
        padded = np.zeros((grid.shape[0], grid.shape[1] + 2), dtype=np.int8)
        padded[:, 1:-1] = grid
        d = np.diff(padded, axis=1)
        rs, cs = np.nonzero(d == 1)
        re, ce = np.nonzero(d == -1)  # same row order as starts
        if len(rs) == 0:
            return shapely.Polygon()
        c = self.cell
        boxes = shapely.box(self.x0 + cs * c, self.y0 + rs * c, self.x0 + ce * c, self.y0 + (rs + 1) * c)
        return shapely.coverage_union_all(boxes)


def isochrone_polygons(
    net: RoadNetwork,
    profile: SpeedProfile,
    node: int,
    turnout_s: float,
    minutes=DEFAULT_MINUTES,
    buffer_m: float = 100.0,
    cell_m: float = 50.0,
    simplify_m: float = 25.0,
    node_t: np.ndarray | None = None,
) -> list:
    """Polygons (EPSG:31370) reached from ``node`` within each threshold (minutes, turnout included).

    The reached road length is sampled every ``cell_m / 2`` metres, burnt into a ``cell_m`` raster,
    dilated by ``buffer_m`` (a disc) and merged into polygons, then simplified by ``simplify_m``.
    A point of the network reached within T is always inside the polygon of T.
    """
    from scipy import ndimage

    from ..checks import check_array, check_net, check_number
    from .paths import check_nodes, drive_times
    from .profiles import check_profile

    net, profile = check_net(net), check_profile(profile)
    (node,) = check_nodes([node], net.n_nodes, "node")
    turnout_s = check_number(turnout_s, "turnout_s", lo=0.0)
    mins = check_array(
        np.atleast_1d(minutes) if not isinstance(minutes, (str, bytes)) else minutes, "minutes", ndim=1, allow_inf=False
    )
    if not len(mins) or (mins <= 0).any():
        raise ModelInputError(f"expected thresholds in minutes > 0, got {mins.tolist()}", field="minutes")
    for val, fld in ((buffer_m, "buffer_m"), (simplify_m, "simplify_m")):
        check_number(val, fld, lo=0.0)
    check_number(cell_m, "cell_m", lo=0.0, lo_open=True)
    minutes = sorted(float(m) for m in mins)
    if node_t is None:
        tmax = minutes[-1] * 60 - turnout_s
        node_t = drive_times(net, profile, [node], cutoff_s=max(tmax, 0.0))[0] + turnout_s
    edge_t = net.edge_times(profile)
    raster = _Raster(net, cell_m, pad_m=buffer_m + 2 * cell_m)
    r = int(np.ceil(buffer_m / cell_m))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disc = (xx**2 + yy**2) * cell_m**2 <= buffer_m**2 + 1e-9
    out = []
    for m in minutes:
        pts = _sample_reached(net, edge_t, node_t, m * 60, step_m=cell_m / 2)
        if len(pts) == 0:
            out.append(shapely.Polygon())
            continue
        grid = raster.mark(pts)
        grid = ndimage.binary_dilation(grid, structure=disc)
        geom = raster.polygons(grid)
        out.append(shapely.simplify(geom, simplify_m) if simplify_m else geom)
    return out


def polygons_to_wgs84(geoms):
    """EPSG:31370 shapely geometries → WGS84."""

    def tr(c):
        lon, lat = to_wgs84(c[:, 0], c[:, 1])
        return np.column_stack([lon, lat])

    return [shapely.transform(g, tr) for g in geoms]


def first_due_areas(
    net: RoadNetwork,
    first_site: np.ndarray,
    zone_metric,
    cell_m: float = 200.0,
    max_snap_m: float = 500.0,
    gap_metric=None,
) -> dict:
    """Territories (EPSG:31370) where each site arrives first.

    Parameters
    ----------
    first_site : array of int, shape (n_nodes,)
        Index of the first-arriving site for every network node (-1 = none).
    zone_metric : shapely geometry
        The zone (EPSG:31370); cells are clipped to it.

    Returns
    -------
    dict
        ``{site_index: polygon}`` plus key ``-1`` for cells with no road data / no site.
    """
    from ..errors import NodeIdError
    from .snapping import snap_xy

    first_site = np.asarray(first_site)
    if first_site.shape != (net.n_nodes,) or first_site.dtype.kind not in "iu":
        raise NodeIdError(
            f"expected one integer site index per network node, shape ({net.n_nodes},), got "
            f"{first_site.dtype} of shape {first_site.shape}",
            field="first_site",
        )
    x0, y0, x1, y1 = zone_metric.bounds
    xs = np.arange(x0, x1 + cell_m, cell_m)
    ys = np.arange(y0, y1 + cell_m, cell_m)
    gx, gy = np.meshgrid(xs[:-1] + cell_m / 2, ys[:-1] + cell_m / 2)
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.intersects_xy(shapely.buffer(zone_metric, cell_m), gx, gy)
    gx, gy = gx[inside], gy[inside]
    sn = snap_xy(net, gx, gy, max_snap_m=max_snap_m, gap_metric=gap_metric)
    owner = np.where(sn.no_road_data, -1, first_site[sn.node])
    boxes = shapely.box(gx - cell_m / 2, gy - cell_m / 2, gx + cell_m / 2, gy + cell_m / 2)
    out = {}
    for s in np.unique(owner):
        merged = shapely.coverage_union_all(boxes[owner == s])
        out[int(s)] = shapely.intersection(merged, zone_metric)
    return out
