"""Which roads are "urban": where people live densely, not where intersections are many.

Speeds differ between urban and rural roads (:mod:`kazerne.routing.profiles`). A loaded zone flags an
edge **urban** when the residential population density within :data:`URBAN_RADIUS_M` (500 m) of its
midpoint is at least :data:`URBAN_MIN_DENSITY_KM2` (1,500 inhabitants per km², Eurostat's threshold
for a high-density grid cell in the degree of urbanisation; a Flemish village centre of terraced
houses reaches it, ribbon development and fields between villages do not).

The population comes from the zone pack, spread as the demand model spreads it
(:func:`kazerne.demand.points.population_grid`): each municipality's population outside the
road-data gap over the length of its residential-type roads (``residential``, ``living_street``,
``unclassified``) weighted by ``1 + J``, ``J`` the junctions within 500 m (the street grid is densest
where people live densest; the weighting puts 49 % of Ghent's residents within 2.5 km of the
Korenmarkt, the city publishes 58 % on 16 % of its territory). So the rule follows where people are,
scaled by the pack's population: an intersection-rich but thinly populated municipality is not
urban by its street count alone. A network loaded without its pack
keeps the build's fallback (:data:`kazerne.routing.network.URBAN_MIN_NODES` intersections within
500 m).
"""

from __future__ import annotations

import numpy as np
import shapely

from .profiles import CLASS_INDEX, RESIDENTIAL_CLASSES

#: Inhabitants per km² within URBAN_RADIUS_M of an edge's midpoint from which the edge is urban.
URBAN_MIN_DENSITY_KM2 = 1500.0
URBAN_RADIUS_M = 500.0
#: Raster of the density computation, metres.
_CELL_M = 50.0

URBAN_RULE = (
    "urban where the residential population density within {radius:g} m of the edge is at least "
    "{density:,.0f} inhabitants/km2 (each municipality's population outside the road-data gap spread "
    "over its residential-type road length)"
)


def population_samples(
    net, municipalities_metric, populations, gap_metric=None, step_m: float = 25.0, density_exponent: float = 1.0
):
    """Points along the residential-type roads (EPSG:31370) and the inhabitants each stands for:
    ``(xy, people)``. A municipality's population outside the gap (its area share inside the gap
    removed) is spread over its residential road length weighted by ``(1 + J) ** density_exponent``,
    ``J`` the junctions within 500 m — the demand model's proxy (:mod:`kazerne.demand.points`)."""
    from .network import street_degree

    edges = net.undirected_edges()
    edges = edges[np.isin(net.cls[edges], [CLASS_INDEX[c] for c in RESIDENTIAL_CLASSES])]
    pts, _, _, w = net.sample_points(edges, step_m)
    if density_exponent > 0 and len(pts):
        junc = np.flatnonzero(street_degree(net.u, net.v, net.length, net.n_nodes) >= 3)
        jxy = np.column_stack([net.x[junc], net.y[junc]])
        area_km2 = np.pi * 0.25  # the junctions within 500 m from their density per km2
        w = w * (1.0 + density_at((jxy, np.ones(len(jxy))), pts, 500.0) * area_km2) ** density_exponent
    people = np.zeros(len(pts))
    inside_gap = shapely.contains_xy(gap_metric, pts[:, 0], pts[:, 1]) if gap_metric is not None else None
    for g, pop in zip(municipalities_metric, populations):
        mine = shapely.contains_xy(g, pts[:, 0], pts[:, 1])
        gap_share = 0.0
        if inside_gap is not None:
            mine &= ~inside_gap
            gap_share = float(shapely.intersection(g, gap_metric).area / g.area) if g.area else 0.0
        total = w[mine].sum()
        if total > 0:
            people[mine] = float(pop) * (1.0 - gap_share) * w[mine] / total
    return pts, people


def density_at(xy_people, points, radius_m: float = URBAN_RADIUS_M) -> np.ndarray:
    """Inhabitants per km² within ``radius_m`` of each of ``points`` (k, 2), from the samples
    ``(xy, people)`` (rasterised at 50 m and summed over a disc)."""
    xy, people = xy_people
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(xy) == 0 or len(points) == 0:
        return np.zeros(len(points))
    pad = radius_m + 2 * _CELL_M
    x0 = min(xy[:, 0].min(), points[:, 0].min()) - pad
    y0 = min(xy[:, 1].min(), points[:, 1].min()) - pad
    nx = int(np.ceil((max(xy[:, 0].max(), points[:, 0].max()) + pad - x0) / _CELL_M))
    ny = int(np.ceil((max(xy[:, 1].max(), points[:, 1].max()) + pad - y0) / _CELL_M))
    grid = np.zeros((ny, nx))
    np.add.at(grid, (((xy[:, 1] - y0) // _CELL_M).astype(int), ((xy[:, 0] - x0) // _CELL_M).astype(int)), people)
    r = int(np.ceil(radius_m / _CELL_M))
    k = np.arange(-r, r + 1) * _CELL_M
    disc = (np.hypot(*np.meshgrid(k, k)) <= radius_m).astype(float)
    shape = (ny + 2 * r, nx + 2 * r)  # linear, not circular, convolution (numpy's FFT: no scipy.signal import)
    full = np.fft.irfft2(np.fft.rfft2(grid, shape) * np.fft.rfft2(disc, shape), shape)
    summed = full[r : r + ny, r : r + nx]
    area_km2 = disc.sum() * (_CELL_M / 1000.0) ** 2
    iy = ((points[:, 1] - y0) // _CELL_M).astype(int)
    ix = ((points[:, 0] - x0) // _CELL_M).astype(int)
    return np.maximum(summed[iy, ix], 0.0) / area_km2


def urban_edges(
    net,
    municipalities_metric,
    populations,
    gap_metric=None,
    min_density_km2: float = URBAN_MIN_DENSITY_KM2,
    radius_m: float = URBAN_RADIUS_M,
) -> tuple[np.ndarray, np.ndarray]:
    """Per edge: ``(urban, density)`` — the rule of the module docstring and the density (inhabitants
    per km²) at the edge's midpoint along its geometry."""
    samples = population_samples(net, municipalities_metric, populations, gap_metric)
    mid = _midpoints(net)
    dens = density_at(samples, mid, radius_m)
    return dens >= min_density_km2, dens


def _midpoints(net) -> np.ndarray:
    """The point halfway along each edge's geometry (EPSG:31370), (n_edges, 2)."""
    idx = np.repeat(np.arange(net.n_edges), np.diff(net.geom_offsets))
    lines = shapely.linestrings(net.geom_xy, indices=idx)
    return shapely.get_coordinates(shapely.line_interpolate_point(lines, 0.5, normalized=True))


def zone_urban(net, municipalities_metric, populations, gap_metric=None) -> np.ndarray:
    """:func:`urban_edges` of a zone through a small on-disk cache (beside the network cache), keyed by
    the road file, the municipalities' geometry and population, the gap and the rule's parameters."""
    import hashlib
    import os
    import tempfile

    from .network import BUILD_VERSION, cache_dir

    h = hashlib.sha256()
    h.update(f"{net.source_sha256}|{BUILD_VERSION}|{URBAN_MIN_DENSITY_KM2}|{URBAN_RADIUS_M}|{_CELL_M}".encode())
    for g, pop in zip(municipalities_metric, populations):
        h.update(shapely.to_wkb(g) + repr(float(pop)).encode())
    if gap_metric is not None:
        h.update(shapely.to_wkb(gap_metric))
    path = cache_dir() / f"urban-{h.hexdigest()[:24]}.npy"
    try:
        u = np.load(path, allow_pickle=False)
        if u.shape == (net.n_edges,) and u.dtype == bool:
            return u
    except Exception:  # noqa: BLE001 - missing or damaged: recompute
        pass
    u, _ = urban_edges(net, municipalities_metric, populations, gap_metric)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, u, allow_pickle=False)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache folder: recomputed next time
    return u
