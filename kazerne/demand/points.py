"""Demand points: where the people (or incidents) are.

Default model (stated in every report, see :data:`GRID_MODEL`): a regular grid of ``cell_m`` cells
(250 m) in EPSG:31370 over the zone. Each cell belongs to the municipality that holds its centre.
A municipality's population is split in two:

* the part of the municipality inside the pack's network-gap polygon gets the population share of its
  area (uniform density, since the extract has no roads there to tell better); those cells are
  flagged ``no_road_data``;
* the rest is spread over the other cells in proportion to the length of residential-type roads
  (``residential``, ``living_street``, ``unclassified``; each street counted once) in the cell; a
  municipality without such roads outside the gap spreads it uniformly.

So the cells' weights add up to the pack's population exactly. Cells with zero weight are dropped.
Every point is snapped onto the nearest point of the nearest street (a public road, not a service road,
track or passage; :func:`kazerne.routing.snapping.snap_to_edges`); a point more than ``max_snap_m``
(500 m) from any road, or inside the gap, is ``no_road_data`` and is reported apart, never as covered
or uncovered.

A user file can replace the grid: CSV ``lon,lat,weight`` or GeoJSON points with a ``weight``
property (population or incidents).
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from ..checks import check_number, check_zone, show
from ..errors import ScenarioError
from ..routing.network import to_metric, to_wgs84
from ..routing.profiles import CLASS_INDEX, RESIDENTIAL_CLASSES
from ..routing.snapping import DEFAULT_MAX_SNAP_M, snap_onto_streets
from ..routing.zone import municipality_of  # noqa: F401  (re-exported)
from .cache import cached

GRID_MODEL = (
    "population per municipality ({year}) spread over {cell:g} m grid cells in proportion to "
    "residential-type road length ({classes}) per cell times (1 + junctions within {radius:g} m)^{beta:g}, "
    "at most {cap:,.0f} inhabitants/km2 per cell; the part of "
    "a municipality inside the road-data gap gets its area share of the population, flagged no_road_data"
)
SNAP_RULE = (
    "each point snapped onto the nearest point of the nearest public street (not a service road, track or "
    "passage; else the nearest road) within {m:g} m, reached along that street from either end"
)
#: Defaults of the density weighting (see :func:`population_grid`).
DENSITY_EXPONENT = 1.0
DENSITY_RADIUS_M = 500.0
MAX_DENSITY_KM2 = 20000.0
#: the largest total demand weight of a file: far beyond any population or call count, and small
#: enough that every sum, share and mean stays a finite number
MAX_TOTAL_WEIGHT = 1e12


def cap_weights(w: np.ndarray, cap: float, total: float | None = None) -> np.ndarray:
    """Scale ``w`` to ``total`` (default its sum) with no entry above ``cap``: the excess of capped
    entries is spread over the others in proportion to their weight, until none exceeds the cap
    (water-filling). ``total`` must not exceed ``cap * len(w)``."""
    w = np.asarray(w, dtype=float).copy()
    total = float(w.sum()) if total is None else float(total)
    if w.sum() <= 0:
        return w
    if total > cap * len(w) * (1 + 1e-12):
        raise ValueError(f"cannot place {total:.0f} in {len(w)} cells of at most {cap:.0f}")
    w *= total / w.sum()
    fixed = np.zeros(len(w), dtype=bool)
    while True:
        over = (w > cap * (1 + 1e-12)) & ~fixed
        if not over.any():
            return w
        fixed |= over
        w[fixed] = cap
        rest = total - cap * fixed.sum()
        free = ~fixed
        if w[free].sum() > 0:
            w[free] *= rest / w[free].sum()
        else:
            w[free] = rest / max(free.sum(), 1)


@dataclass
class DemandPoints:
    """Weighted demand points.

    Attributes
    ----------
    x, y : ndarray
        EPSG:31370 metres. ``lon``, ``lat``: WGS84 degrees.
    weight : ndarray
        Population (or incidents) per point.
    municipality : ndarray of int
        Index into ``municipality_names`` (-1 = outside every municipality).
    node : ndarray of int
        The network node standing for the point in node-based code: the nearer end (along it) of its
        edge. ``snap_m``: the distance to the street, metres.
    no_road_data : ndarray of bool
        Farther than ``max_snap_m`` from a street, or inside the gap: reported apart.
    edge, frac : ndarray, optional
        The edge the point is snapped onto (nearest point of the nearest street,
        :func:`~kazerne.routing.snapping.snap_to_edges`) and the fraction along it from its tail; a
        route ends there, with the partial edge time from either end (``None``: at ``node``).
    model : str
        The demand model, in words (goes into every report).
    """

    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    weight: np.ndarray
    municipality: np.ndarray
    municipality_names: list
    node: np.ndarray
    snap_m: np.ndarray
    no_road_data: np.ndarray
    in_gap: np.ndarray
    model: str
    cell_m: float | None = None
    meta: dict = field(default_factory=dict)
    edge: np.ndarray | None = None
    frac: np.ndarray | None = None
    gap_shadow: np.ndarray | None = None  # in the road-data gap's shadow (kazerne.demand.shadow): no_road_data too
    gap_shadow_estimate_s: np.ndarray | None = None  # there: the stated estimate of the drive, seconds

    def __post_init__(self):
        from ..checks import check_array, check_fields, check_same_lengths

        check_fields(self)
        for name in ("x", "y", "lon", "lat", "weight", "municipality", "node", "snap_m"):
            setattr(
                self, name, check_array(getattr(self, name), f"DemandPoints.{name}", ndim=1, dtype=None, allow_nan=True)
            )
        self.no_road_data = np.asarray(self.no_road_data, dtype=bool)
        self.in_gap = np.asarray(self.in_gap, dtype=bool)
        fields_ = ("y", "lon", "lat", "weight", "municipality", "node", "snap_m", "no_road_data", "in_gap")
        check_same_lengths(self, fields_, len(self.x), "one per demand point, as x")

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def total(self) -> float:
        return float(self.weight.sum())

    @property
    def total_no_road_data(self) -> float:
        return float(self.weight[self.no_road_data].sum())

    def to_geodataframe(self, to_crs=None):
        """A ``geopandas.GeoDataFrame`` of the points (EPSG:4326, or ``to_crs``): ``weight``,
        ``municipality``, ``node``, ``snap_m``, ``no_road_data``, ``in_gap``."""
        import geopandas as gpd
        import pandas as pd

        from ..report.plotcrs import to_crs as _to_crs

        names = np.array(list(self.municipality_names) + [None], dtype=object)
        df = pd.DataFrame(
            {
                "weight": self.weight,
                "municipality": names[self.municipality],
                "node": self.node,
                "snap_m": self.snap_m,
                "no_road_data": np.asarray(self.no_road_data, dtype=bool),
                "in_gap": np.asarray(self.in_gap, dtype=bool),
            }
        )
        return _to_crs(gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(self.lon, self.lat), crs="EPSG:4326"), to_crs)

    def flag_gap_shadow(self, zone, profile="fire_engine") -> "DemandPoints":
        """These points with the road-data gap's shadow flagged for ``profile``
        (:func:`kazerne.demand.shadow.gap_shadow`); ``None`` or a zone without a gap: unchanged."""
        if profile is None or getattr(zone, "gap_metric", None) is None:
            return self
        from .shadow import gap_shadow

        return gap_shadow(zone, self, profile)


def _spread_population(zone, muni: np.ndarray, in_gap: np.ndarray, road_len: np.ndarray, cap: float):
    """Each municipality's population over its cells (:func:`population_grid`): the gap's share of
    its area evenly over its cells in the gap, the rest by weighted road length, at most ``cap`` per
    cell. Returns (weight per cell, notes per municipality)."""
    weight = np.zeros(len(muni))
    notes: dict[str, str] = {}
    for i, (m, g) in enumerate(zip(zone.pack.municipalities, zone.municipalities_metric)):
        mine = muni == i
        if not mine.any():
            notes[m.name] = "no grid cell centre inside the municipality: population not placed"
            continue
        gap_share = 0.0
        if zone.gap_metric is not None:
            gap_share = float(shapely.intersection(g, zone.gap_metric).area / g.area) if g.area else 0.0
        gap_cells = mine & in_gap
        road_cells = mine & ~in_gap
        if not gap_cells.any():
            gap_share = 0.0
        if not road_cells.any():
            gap_share = 1.0
        pop = m.population
        if gap_cells.any():
            weight[gap_cells] = pop * gap_share / gap_cells.sum()
        rest = pop * (1 - gap_share)
        rl = np.where(road_cells, road_len, 0.0)
        if rl.sum() > 0:
            have = road_cells & (rl > 0)
            if rest > cap * have.sum():
                weight += rest * rl / rl.sum()
                notes[m.name] = "more people than the density cap allows on its road cells: cap not applied"
            else:
                weight[have] += cap_weights(rl[have], cap, rest)
        elif road_cells.any():
            weight[road_cells] += rest / road_cells.sum()
            notes[m.name] = "no residential roads outside the gap: spread uniformly"
    return weight, notes


def population_grid(
    zone,
    cell_m: float = 250.0,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    road_classes=RESIDENTIAL_CLASSES,
    density_exponent: float = DENSITY_EXPONENT,
    density_radius_m: float = DENSITY_RADIUS_M,
    max_density_km2: float = MAX_DENSITY_KM2,
    shadow_profile="fire_engine",
    use_cache: bool = True,
) -> DemandPoints:
    """Population on a ``cell_m`` grid per the model in the module docstring.

    ``shadow_profile`` (a profile or its name; ``None``: not flagged) flags the road-data gap's shadow
    for that profile (:func:`kazerne.demand.shadow.gap_shadow`): those points are ``no_road_data``
    too, with ``gap_shadow`` saying why — the scenario runner passes the scenario's profile, so a
    notebook and a run give the same numbers.

    ``road_classes`` are the OSM highway classes whose length spreads the population (default
    residential, living_street, unclassified; adding ``tertiary`` puts more people in town centres
    whose streets are tagged tertiary, and along Flemish ribbon development).

    Road length alone spreads a city too evenly: a suburban street of detached houses is as long as a
    street of terraced houses and flats. Each cell's road length is therefore weighted by
    ``(1 + J) ** density_exponent``, ``J`` the number of junctions (three or more streets) within
    ``density_radius_m`` of the cell centre — the street grid is densest where people live densest —
    and no cell gets more than ``max_density_km2`` inhabitants per km² (the densest Ghent
    neighbourhoods have 15,000-20,000 at this scale); the excess goes to the municipality's other
    cells. ``density_exponent = 0`` gives the plain road-length proxy. With the defaults, 48.7 % of
    Ghent's residents live within 2.5 km of the Korenmarkt and 54.8 % within 2.8 km (15.8 % of its
    territory; the city publishes 58 % on 16 %); road length alone put 26.4 % / 31.1 % there.

    The result is kept (in this process and beside the network cache, :mod:`kazerne.demand.cache`):
    the same zone, parameters and profile give the same points without recomputing them;
    ``use_cache=False`` computes them afresh.
    """
    check_zone(zone)
    cell_m = check_number(cell_m, "demand.grid_m", lo=0.0, lo_open=True, error=ScenarioError)
    max_snap_m = check_number(max_snap_m, "demand.max_snap_m", lo=0.0, lo_open=True, error=ScenarioError)
    for val, fld, lo in (
        (density_exponent, "demand.density_exponent", 0.0),
        (density_radius_m, "demand.density_radius_m", 1e-9),
        (max_density_km2, "demand.max_density_km2", 1e-9),
    ):
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not np.isfinite(val) or val < lo:
            raise ScenarioError(f"expected a finite number >= {lo:g}, got {val!r}", field=fld)
    unknown = [c for c in road_classes if c not in CLASS_INDEX]
    if unknown or not road_classes:
        raise ScenarioError(
            f"expected road classes from {', '.join(CLASS_INDEX)}, got {list(road_classes)!r}",
            field="demand.road_classes",
        )
    params = {
        "cell_m": cell_m,
        "max_snap_m": max_snap_m,
        "road_classes": list(road_classes),
        "density_exponent": density_exponent,
        "density_radius_m": density_radius_m,
        "max_density_km2": max_density_km2,
    }
    build = lambda: _grid(zone, shadow_profile=shadow_profile, **{**params, "road_classes": road_classes})  # noqa: E731
    return cached("grid", zone, params, shadow_profile, build, use_cache, DemandPoints)


def _grid(
    zone, cell_m, max_snap_m, road_classes, density_exponent, density_radius_m, max_density_km2, shadow_profile
) -> DemandPoints:
    """:func:`population_grid` computed (arguments checked)."""
    net = zone.net
    x0, y0, x1, y1 = zone.zone_metric.bounds
    xs = np.arange(x0, x1, cell_m) + cell_m / 2
    ys = np.arange(y0, y1, cell_m) + cell_m / 2
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    muni = municipality_of(zone, gx, gy)
    keep = muni >= 0
    gx, gy, muni = gx[keep], gy[keep], muni[keep]
    in_gap = shapely.contains_xy(zone.gap_metric, gx, gy) if zone.gap_metric is not None else np.zeros(len(gx), bool)

    # residential-type road length per cell (each street once)
    res_cls = np.array([CLASS_INDEX[c] for c in road_classes])
    edges = net.undirected_edges()
    edges = edges[np.isin(net.cls[edges], res_cls)]
    pts, _, _, w = net.sample_points(edges, step_m=cell_m / 5)
    ncols = len(xs)
    cell_of = lambda px, py: ((py - y0) // cell_m).astype(np.int64) * ncols + ((px - x0) // cell_m).astype(np.int64)
    road = np.zeros(len(ys) * ncols)
    ok = (pts[:, 0] >= x0) & (pts[:, 1] >= y0) & (pts[:, 0] < x0 + ncols * cell_m) & (pts[:, 1] < y0 + len(ys) * cell_m)
    np.add.at(road, cell_of(pts[ok, 0], pts[ok, 1]), w[ok])
    road_len = road[cell_of(gx, gy)]
    if density_exponent > 0:
        from scipy.spatial import cKDTree

        from ..routing.network import street_degree

        junc = np.flatnonzero(street_degree(net.u, net.v, net.length, net.n_nodes) >= 3)
        jt = cKDTree(np.column_stack([net.x[junc], net.y[junc]]))
        jcount = jt.query_ball_point(np.column_stack([gx, gy]), r=density_radius_m, return_length=True)
        road_len = road_len * (1.0 + np.asarray(jcount, dtype=float)) ** density_exponent
    cap = max_density_km2 * (cell_m / 1000.0) ** 2

    weight, notes = _spread_population(zone, muni, in_gap, road_len, cap)
    pos = weight > 0
    gx, gy, muni, weight, in_gap = gx[pos], gy[pos], muni[pos], weight[pos], in_gap[pos]
    sn = snap_onto_streets(net, gx, gy, max_snap_m=max_snap_m, gap_metric=zone.gap_metric)
    lon, lat = to_wgs84(gx, gy)
    model = GRID_MODEL.format(
        year=zone.pack.population_year or "pack",
        cell=cell_m,
        classes=", ".join(road_classes),
        radius=density_radius_m,
        beta=density_exponent,
        cap=max_density_km2,
    )
    if density_exponent == 0:
        model = model.replace(f" times (1 + junctions within {density_radius_m:g} m)^0", "")
    return DemandPoints(
        x=gx,
        y=gy,
        lon=lon,
        lat=lat,
        weight=weight,
        municipality=muni,
        municipality_names=[m.name for m in zone.pack.municipalities],
        node=sn.node,
        snap_m=sn.distance_m,
        no_road_data=sn.no_road_data,
        in_gap=sn.in_gap,
        model=model,
        cell_m=cell_m,
        meta={"notes": notes, "max_snap_m": max_snap_m, "snap": SNAP_RULE.format(m=max_snap_m)},
        edge=sn.edge,
        frac=sn.frac,
    ).flag_gap_shadow(zone, shadow_profile)


def _read_geojson(path: Path) -> tuple[list, list, list]:
    """``(lons, lats, weights)`` of a GeoJSON FeatureCollection of points (``weight`` property, 1 if absent)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"not valid JSON ({exc.msg} at line {exc.lineno})", source=str(path)) from None
    except UnicodeDecodeError:
        raise ScenarioError("not a UTF-8 text file", source=str(path)) from None
    except RecursionError:
        raise ScenarioError("JSON nested too deeply; expected a GeoJSON FeatureCollection", source=str(path)) from None
    feats = data.get("features", []) if isinstance(data, dict) else None
    if not isinstance(feats, list):
        raise ScenarioError("expected a GeoJSON FeatureCollection", source=str(path))
    lons, lats, ws = [], [], []
    for i, f in enumerate(feats):
        if not isinstance(f, dict):
            raise ScenarioError(f"feature {i}: expected a GeoJSON Feature object, got {show(f)}", source=str(path))
        geom = f.get("geometry")
        if not isinstance(geom, dict) or geom.get("type") != "Point":
            raise ScenarioError(f"feature {i}: expected a Point geometry, got {show(geom)}", source=str(path))
        c = geom.get("coordinates")
        if not isinstance(c, list) or len(c) < 2 or not all(_real(a) for a in c[:2]):
            raise ScenarioError(
                f"feature {i}: expected coordinates [lon, lat] as numbers, got {show(c)}", source=str(path)
            )
        props = f.get("properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            raise ScenarioError(f"feature {i}: expected properties as an object, got {show(props)}", source=str(path))
        w = props.get("weight", 1.0)
        if not _real(w):
            raise ScenarioError(f"feature {i}: expected a number as weight, got {show(w)}", source=str(path))
        lons.append(float(c[0]))
        lats.append(float(c[1]))
        ws.append(float(w))
    return lons, lats, ws


def _real(a) -> bool:
    return isinstance(a, (int, float)) and not isinstance(a, bool)


def _read_csv(path: Path) -> tuple[list, list, list]:
    """``(lons, lats, weights)`` of a CSV file ``lon,lat[,weight]``."""
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("not a UTF-8 text file", source=str(path)) from None
    lons, lats, ws = [], [], []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        try:
            cols = reader.fieldnames or []
            for c in ("lon", "lat"):
                if c not in cols:
                    raise ScenarioError(f"missing column {c!r}; expected lon,lat[,weight]", source=str(path))
            for lineno, row in enumerate(reader, start=2):
                try:
                    lons.append(float(row["lon"]))
                    lats.append(float(row["lat"]))
                    ws.append(float(row.get("weight") or 1.0))
                except (TypeError, ValueError):
                    raise ScenarioError("expected numbers in lon, lat, weight", source=f"{path}:{lineno}") from None
        except csv.Error as exc:
            raise ScenarioError(f"not a readable CSV file ({exc})", source=str(path)) from None
    return lons, lats, ws


def demand_from_file(
    zone,
    path: str | Path,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    field: str = "demand.file",
    shadow_profile="fire_engine",
    use_cache: bool = True,
) -> DemandPoints:
    """Demand from a CSV (``lon,lat,weight``) or GeoJSON (points with a ``weight`` property);
    ``shadow_profile`` as in :func:`population_grid`.

    Weights are finite, >= 0 and total at most :data:`MAX_TOTAL_WEIGHT` (shares of a larger total
    would overflow); coordinates are finite degrees. Kept like :func:`population_grid`'s points (keyed by
    the file's name and content)."""
    check_zone(zone)
    max_snap_m = check_number(max_snap_m, "max_snap_m", lo=0.0, lo_open=True, error=ScenarioError)
    if not isinstance(path, (str, Path)):
        raise ScenarioError(f"expected a file name, got {show(path)}", field=field)
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"file not found: {path}", field=field)
    build = lambda: _from_file(zone, path, max_snap_m, shadow_profile)  # noqa: E731
    try:
        content = path.read_bytes()
    except OSError:  # unreadable: the readers say so
        return build()
    params = {
        "name": path.name,
        "suffix": path.suffix.lower(),
        "sha256": hashlib.sha256(content).hexdigest(),
        "max_snap_m": max_snap_m,
    }
    return cached("file", zone, params, shadow_profile, build, use_cache, DemandPoints)


def _from_file(zone, path: Path, max_snap_m: float, shadow_profile) -> DemandPoints:
    """:func:`demand_from_file` computed (arguments checked)."""
    if path.suffix.lower() in (".geojson", ".json"):
        lons, lats, ws = _read_geojson(path)
    else:
        lons, lats, ws = _read_csv(path)
    w = np.asarray(ws, dtype=float)
    if len(w) == 0:
        raise ScenarioError("no demand points", source=str(path))
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise ScenarioError("weights must be finite and >= 0", source=str(path))
    with np.errstate(over="ignore"):  # 1e308 + 1e308 is inf: refused below, not warned about
        total = float(np.sum(w))
    if not total <= MAX_TOTAL_WEIGHT:
        raise ScenarioError(
            f"the weights total {total:.3g}; expected a total of at most {MAX_TOTAL_WEIGHT:g} (people or calls)",
            source=str(path),
        )
    bad = ~(np.isfinite(lons) & np.isfinite(lats) & (np.abs(lons) <= 180) & (np.abs(lats) <= 90))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ScenarioError(
            f"point {k + 1}: expected lon in [-180, 180] and lat in [-90, 90], got lon={lons[k]}, lat={lats[k]}",
            source=str(path),
        )
    x, y = to_metric(np.asarray(lons), np.asarray(lats))
    muni = municipality_of(zone, x, y)
    if (muni < 0).any():
        from ..units import swap_hint

        k = int(np.flatnonzero(muni < 0)[0])
        far = float(shapely.distance(zone.zone_metric, shapely.Point(x[k], y[k])))
        raise ScenarioError(
            f"point {k + 1} (lon={lons[k]}, lat={lats[k]}) lies outside the zone's municipalities"
            + swap_hint(lons[k], lats[k], far),
            source=str(path),
        )
    sn = snap_onto_streets(zone.net, x, y, max_snap_m=max_snap_m, gap_metric=zone.gap_metric)
    return DemandPoints(
        x=x,
        y=y,
        lon=np.asarray(lons),
        lat=np.asarray(lats),
        weight=w,
        municipality=muni,
        municipality_names=[m.name for m in zone.pack.municipalities],
        node=sn.node,
        snap_m=sn.distance_m,
        no_road_data=sn.no_road_data,
        in_gap=sn.in_gap,
        model=f"user file {path.name}: {len(w)} points, weights as given",
        cell_m=None,
        meta={"max_snap_m": max_snap_m, "snap": SNAP_RULE.format(m=max_snap_m)},
        edge=sn.edge,
        frac=sn.frac,
    ).flag_gap_shadow(zone, shadow_profile)
