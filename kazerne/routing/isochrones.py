"""Isochrones and first-due areas: one code path for the API, the GeoPackage and the GeoJSON.

An isochrone for threshold T (minutes, from whatever origin the times count from) is the area within
``buffer_m`` (default 100 m) of the road length reached within T: whole edges whose far end is
reached, plus the reached fraction of edges left part-way (time interpolated along the edge
geometry). It is built from reached edges, not a hull of nodes, so rivers, motorways without exits
and the data gap show as they are. Given the demand points and their times (``points=``), every point
reached within T lies inside the T polygon too (a demand point takes the time of its nearest node,
which can be up to ``max_snap_m`` away from its centre).

First-due areas partition the zone into the territories where each site arrives first: the demand
grid's ``cell_m`` cells (aligned with :func:`kazerne.demand.points.population_grid`), each owned by
the first-arriving site at its nearest network node (or, for the demand cells given as ``points=``,
by their own first site), merged per site and clipped to the zone.

Every polygon is valid (``shapely.is_valid``) and a MultiPolygon; parts (and, of isochrones, holes)
smaller than ``min_area_m2`` (default :data:`MIN_AREA_M2`, 1 ha) are dropped (filled): no slivers.
"""

from __future__ import annotations

import numpy as np
import shapely

from ..clock import call_handling_value
from ..errors import ModelInputError
from .network import RoadNetwork, to_wgs84
from .profiles import SpeedProfile

DEFAULT_MINUTES = (8, 10, 12, 15)
#: Parts and holes smaller than this (m²) are dropped / filled: 1 ha.
MIN_AREA_M2 = 10_000.0


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


def clean_polygons(geom, min_area_m2: float = MIN_AREA_M2, fill_holes: bool = True):
    """A valid MultiPolygon of the polygonal parts of ``geom``: parts smaller than ``min_area_m2``
    dropped and, with ``fill_holes``, holes smaller than it filled."""
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    polys: list = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "MultiPolygon" or part.geom_type == "GeometryCollection":
            polys.extend(p for p in shapely.get_parts(part) if p.geom_type == "Polygon")
        elif part.geom_type == "Polygon":
            polys.append(part)
    out = []
    for p in polys:
        if p.area < min_area_m2:
            continue
        if fill_holes and p.interiors:
            keep = [r for r in p.interiors if shapely.Polygon(r).area >= min_area_m2]
            p = shapely.Polygon(p.exterior, keep)
        out.append(p)
    if not out:
        return shapely.MultiPolygon()
    mp = shapely.MultiPolygon(out)
    if not mp.is_valid:  # parts touching after a hole was filled: merge them
        mp = shapely.union_all(out)
        mp = mp if mp.geom_type == "MultiPolygon" else shapely.MultiPolygon([mp])
    return mp


class _Raster:
    """A boolean raster over an extent, turned into valid polygons by merging cell runs."""

    def __init__(self, x0: float, y0: float, x1: float, y1: float, cell_m: float):
        self.cell = float(cell_m)
        self.x0, self.y0 = float(x0), float(y0)
        self.nx = int(np.ceil((x1 - self.x0) / cell_m)) + 1
        self.ny = int(np.ceil((y1 - self.y0) / cell_m)) + 1

    def index(self, x, y):
        ix = ((np.asarray(x, float) - self.x0) // self.cell).astype(np.int64)
        iy = ((np.asarray(y, float) - self.y0) // self.cell).astype(np.int64)
        ok = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        return ix, iy, ok

    def mark(self, pts: np.ndarray, grid: np.ndarray | None = None) -> np.ndarray:
        grid = np.zeros((self.ny, self.nx), dtype=bool) if grid is None else grid
        if len(pts):
            ix, iy, ok = self.index(pts[:, 0], pts[:, 1])
            grid[iy[ok], ix[ok]] = True
        return grid

    def polygons(self, grid: np.ndarray):
        """Union of the True cells (a valid geometry, EPSG:31370)."""
        padded = np.zeros((grid.shape[0], grid.shape[1] + 2), dtype=np.int8)
        padded[:, 1:-1] = grid
        d = np.diff(padded, axis=1)
        rs, cs = np.nonzero(d == 1)
        _, ce = np.nonzero(d == -1)  # same row order as the starts
        if len(rs) == 0:
            return shapely.Polygon()
        c = self.cell
        boxes = shapely.box(self.x0 + cs * c, self.y0 + rs * c, self.x0 + ce * c, self.y0 + (rs + 1) * c)
        # rows meet along partial edges, which a coverage union cannot merge validly: a unary union
        return shapely.union_all(boxes)


def reach_polygons(
    net: RoadNetwork,
    profile: SpeedProfile,
    node_t: np.ndarray,
    minutes=DEFAULT_MINUTES,
    *,
    points=None,
    gap_metric=None,
    buffer_m: float = 100.0,
    cell_m: float = 50.0,
    simplify_m: float = 25.0,
    min_area_m2: float = MIN_AREA_M2,
    with_bands: bool = False,
):
    """Cumulative isochrones (EPSG:31370 MultiPolygons, one per threshold in ascending order) of the
    times ``node_t`` (seconds to every network node, ``inf`` = not reached).

    The road length reached within T is sampled every ``cell_m / 2`` metres, burnt into a ``cell_m``
    raster, dilated by ``buffer_m`` (a disc) and merged into valid polygons; parts and holes under
    ``min_area_m2`` are dropped / filled. The bands between thresholds (exact differences of these
    nested rasters) are simplified together by ``simplify_m`` (a coverage simplification: the
    bands keep their shared edges), each isochrone is the union of its bands, and the no-road-data
    area (``gap_metric``) is cut out. So the isochrones are nested, the bands tile them, and with
    ``points=(x, y, seconds)`` (demand points, EPSG:31370, and their times) every point reached
    within T lies inside the T polygon. Returns the isochrones, or ``(isochrones, bands)`` with
    ``with_bands``.
    """
    from scipy import ndimage

    node_t = np.asarray(node_t, dtype=float)
    if node_t.shape != (net.n_nodes,):
        from ..errors import NodeIdError

        raise NodeIdError(f"expected one time per network node, shape ({net.n_nodes},), got {node_t.shape}")
    minutes = sorted(float(m) for m in minutes)
    edge_t = net.edge_times(profile)
    pad = buffer_m + 2 * cell_m
    raster = _Raster(net.x.min() - pad, net.y.min() - pad, net.x.max() + pad, net.y.max() + pad, cell_m)
    r = int(np.ceil(buffer_m / cell_m))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disc = (xx**2 + yy**2) * cell_m**2 <= buffer_m**2 + 1e-9
    if points is not None:
        px, py, pt = (np.asarray(a, dtype=float) for a in points)
    exact, prev = [], shapely.MultiPolygon()
    for m in minutes:
        grid = raster.mark(_sample_reached(net, edge_t, node_t, m * 60, step_m=cell_m / 2))
        if points is not None:
            sel = pt <= m * 60
            raster.mark(np.column_stack([px[sel], py[sel]]), grid)
        geom = raster.polygons(ndimage.binary_dilation(grid, structure=disc)) if grid.any() else shapely.Polygon()
        geom = clean_polygons(shapely.union(geom, prev), min_area_m2)  # nested: T grows, the area too
        exact.append(geom)
        prev = geom
    bands_ = [exact[0]] + [shapely.difference(exact[k], exact[k - 1]) for k in range(1, len(exact))]
    if simplify_m and any(not g.is_empty for g in bands_):
        bands_ = list(shapely.coverage_simplify(np.array(bands_, dtype=object), simplify_m))
    bands_ = [shapely.make_valid(g) if not g.is_valid else g for g in bands_]
    cums = []
    for k in range(len(bands_)):
        u = shapely.union_all(bands_[: k + 1])
        if gap_metric is not None:
            u = shapely.difference(u, gap_metric)
        cums.append(clean_polygons(u, min_area_m2))
    if gap_metric is not None:
        bands_ = [shapely.difference(g, gap_metric) for g in bands_]
    bands_ = [clean_polygons(g, 0.0, fill_holes=False) for g in bands_]
    return (cums, bands_) if with_bands else cums


def isochrone_polygons(
    net: RoadNetwork,
    profile: SpeedProfile,
    node: int,
    turnout_s: float,
    minutes=DEFAULT_MINUTES,
    node_t: np.ndarray | None = None,
    call_handling_s: float = 0.0,
    **kw,
) -> list:
    """Isochrones (EPSG:31370 MultiPolygons) of one site at ``node`` with its turnout: the response
    times from the alarm, or from the 112 call with ``call_handling_s`` (e.g. ``kz.Clock()``'s 90 s:
    call handling + turnout + driving); ``node_t`` when already known (those times, as they are);
    ``turnout_s = 0`` and no call handling: driving alone. ``kw`` goes to :func:`reach_polygons`
    (``points``, ``gap_metric``, ``buffer_m``, ``cell_m``, ``simplify_m``, ``min_area_m2``)."""
    from ..checks import check_array, check_net, check_number
    from .paths import check_nodes, drive_times
    from .profiles import check_profile

    net, profile = check_net(net), check_profile(profile)
    (node,) = check_nodes([node], net.n_nodes, "node")
    turnout_s = check_number(turnout_s, "turnout_s", lo=0.0)
    call_handling_s = call_handling_value(call_handling_s)
    mins = check_array(
        np.atleast_1d(minutes) if not isinstance(minutes, (str, bytes)) else minutes, "minutes", ndim=1, allow_inf=False
    )
    if not len(mins) or (mins <= 0).any():
        raise ModelInputError(f"expected thresholds in minutes > 0, got {mins.tolist()}", field="minutes")
    for fld in ("buffer_m", "simplify_m", "min_area_m2"):
        if fld in kw:
            check_number(kw[fld], fld, lo=0.0)
    if "cell_m" in kw:
        check_number(kw["cell_m"], "cell_m", lo=0.0, lo_open=True)
    minutes = sorted(float(m) for m in mins)
    if node_t is None:
        offset = turnout_s + call_handling_s  # the alarm is call_handling_s after the call
        tmax = minutes[-1] * 60 - offset
        node_t = drive_times(net, profile, [node], cutoff_s=max(tmax, 0.0))[0] + offset
    return reach_polygons(net, profile, node_t, minutes, **kw)


def polygons_to_wgs84(geoms):
    """EPSG:31370 shapely geometries → WGS84 (validity kept: invalid results are repaired)."""

    def tr(c):
        lon, lat = to_wgs84(c[:, 0], c[:, 1])
        return np.column_stack([lon, lat])

    out = []
    for g in geoms:
        w = shapely.transform(g, tr)
        if not w.is_valid:
            w = shapely.make_valid(w)
        out.append(w)
    return out


def grid_cells(zone_metric, cell_m: float):
    """Centres (x, y) of the ``cell_m`` grid over the zone's bounds whose cell touches the zone, and
    the grid's origin; the same grid (origin, size) as :func:`kazerne.demand.points.population_grid`."""
    x0, y0, x1, y1 = zone_metric.bounds
    xs = np.arange(x0, x1, cell_m) + cell_m / 2
    ys = np.arange(y0, y1, cell_m) + cell_m / 2
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    h = cell_m / 2
    touch = shapely.intersects(shapely.box(gx - h, gy - h, gx + h, gy + h), zone_metric)
    return gx[touch], gy[touch], (x0, y0)


def first_due_areas(
    net: RoadNetwork,
    first_site: np.ndarray,
    zone_metric,
    cell_m: float = 250.0,
    max_snap_m: float = 500.0,
    gap_metric=None,
    points=None,
    min_area_m2: float = MIN_AREA_M2,
) -> dict:
    """Territories (EPSG:31370 MultiPolygons) where each site arrives first.

    Parameters
    ----------
    first_site : array of int, shape (n_nodes,)
        Index of the first-arriving site for every network node (-1 = none).
    zone_metric : shapely geometry
        The zone (EPSG:31370); cells are clipped to it.
    cell_m : float
        Cell size; the grid is the demand grid's (same origin), so demand cells are its cells.
    points : tuple (x, y, site), optional
        Demand points (cell centres, EPSG:31370) with their own first site (-1 = none): their cells
        take that owner, so an area holds exactly the cells the tables count for its site.

    Returns
    -------
    dict
        ``{site_index: MultiPolygon}`` plus key ``-1`` for cells with no road data / no site.
        Parts smaller than ``min_area_m2`` (slivers of the clip) are dropped.
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
    gx, gy, (x0, y0) = grid_cells(zone_metric, cell_m)
    sn = snap_xy(net, gx, gy, max_snap_m=max_snap_m, gap_metric=gap_metric)
    owner = np.where(sn.no_road_data, -1, first_site[sn.node])
    if points is not None:
        px, py, ps = (np.asarray(a) for a in points)
        key = lambda x, y: (
            np.floor((y - y0) / cell_m).astype(np.int64) * 1_000_000
            + np.floor(  # noqa: E731
                (x - x0) / cell_m
            ).astype(np.int64)
        )
        kg, kp = key(gx, gy), key(px.astype(float), py.astype(float))
        order = np.argsort(kg)
        pos = np.searchsorted(kg[order], kp)
        pos = np.minimum(pos, len(kg) - 1)
        hit = kg[order][pos] == kp
        owner[order[pos[hit]]] = ps[hit].astype(owner.dtype)
    boxes = shapely.box(gx - cell_m / 2, gy - cell_m / 2, gx + cell_m / 2, gy + cell_m / 2)
    out = {}
    for s in np.unique(owner):
        merged = shapely.coverage_union_all(boxes[owner == s])  # whole cells of one grid: a valid coverage
        out[int(s)] = clean_polygons(shapely.intersection(merged, zone_metric), min_area_m2, fill_holes=False)
    return out


def first_due_from_times(zone, node_t, demand=None, demand_first=None, cell_m: float | None = None, **kw) -> dict:
    """First-due areas (:func:`first_due_areas`) of the sites whose times to every node are
    ``node_t`` (sites × nodes); with ``demand`` and its first site per point (``demand_first``, -1 =
    none, as :class:`~kazerne.coverage.metrics.CoverageReport` ``first_site``) the demand cells keep
    exactly that owner. ``cell_m``: the demand grid's cell (default: ``demand.cell_m``, else 250 m)."""
    node_t = np.asarray(node_t, dtype=float)
    n = zone.net.n_nodes
    first = np.where(np.isfinite(node_t).any(axis=0), np.argmin(node_t, axis=0), -1) if len(node_t) else np.full(n, -1)
    points = None
    if demand is not None and demand_first is not None:
        own = np.where(np.asarray(demand.no_road_data, dtype=bool), -1, np.asarray(demand_first))
        points = (demand.x, demand.y, own)
    cell = cell_m or (getattr(demand, "cell_m", None) if demand is not None else None) or 250.0
    if demand is not None and "max_snap_m" in getattr(demand, "meta", {}):
        kw.setdefault("max_snap_m", float(demand.meta["max_snap_m"]))
    return first_due_areas(
        zone.net, first, zone.zone_metric, cell_m=cell, gap_metric=zone.gap_metric, points=points, **kw
    )


def first_due_rows(areas: dict, site_ids, names=None, demand=None, demand_first=None) -> tuple[list, list]:
    """One row per site (and one for ``-1``, no road data / not reached, when it has an area): the
    fields every output uses (``first_post``, ``name``, ``area_km2``, ``population``) and the
    EPSG:31370 MultiPolygons. A site that is first nowhere has an empty MultiPolygon and 0 km²."""
    rows, geoms = [], []
    pop = None
    if demand is not None and demand_first is not None:
        w = np.asarray(demand.weight, dtype=float)
        nrd = np.asarray(demand.no_road_data, dtype=bool)
        fs = np.asarray(demand_first)
        pop = {k: float(w[(fs == k) & ~nrd].sum()) for k in range(len(site_ids))}
        pop[-1] = float(w[nrd | (fs < 0)].sum())
    keys = list(range(len(site_ids))) + ([-1] if -1 in areas and not areas[-1].is_empty else [])
    for k in keys:
        g = areas.get(k, shapely.MultiPolygon())
        rows.append(
            {
                "first_post": site_ids[k] if k >= 0 else None,
                "name": (names[k] if names is not None else site_ids[k]) if k >= 0 else "no road data / not reached",
                "area_km2": round(g.area / 1e6, 3),
                "population": None if pop is None else round(pop[k], 1),
            }
        )
        geoms.append(g)
    return rows, geoms
