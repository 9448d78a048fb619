"""Isochrones and first-due areas (issue 27, item 2): valid MultiPolygons from one code path for the
API, the GeoPackage and the GeoJSON, consistent with the cells, without slivers, one area per post.

Unit tests on rasters whose areas are counted here cell by cell; end to end on the 2019 baseline,
whose expected values are the run's own cells (``first_min``, ``first_post``), not the polygon code.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from kazerne.routing.isochrones import MIN_AREA_M2, _Raster, clean_polygons

TO_LAMBERT = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)


def _parts(g):
    return list(getattr(g, "geoms", [g]))


def _no_slivers(g, holes=True):
    for p in _parts(g):
        assert p.area >= MIN_AREA_M2
        if holes:
            assert all(shapely.Polygon(r).area >= MIN_AREA_M2 for r in p.interiors)


# ------------------------------------------------------------------------------ units
def test_raster_runs_that_meet_on_partial_edges_make_a_valid_polygon():
    # staircase and checkerboard patterns: rows whose runs share only parts of their edges (the
    # pattern that made a coverage union self-intersect)
    rng = np.random.default_rng(7)
    r = _Raster(0.0, 0.0, 1000.0, 1000.0, 50.0)
    for _ in range(20):
        grid = rng.random((r.ny, r.nx)) < 0.45
        g = r.polygons(grid)
        assert g.is_valid
        assert g.area == pytest.approx(grid.sum() * 50.0 * 50.0, rel=1e-12)


def test_clean_drops_small_parts_and_fills_small_holes_only():
    big = shapely.box(0, 0, 1000, 1000)
    small_hole = shapely.box(100, 100, 150, 150)  # 2,500 m²
    big_hole = shapely.box(500, 500, 700, 700)  # 40,000 m²
    sliver = shapely.box(2000, 0, 2020, 100)  # 2,000 m²
    geom = shapely.union_all([shapely.difference(big, shapely.union_all([small_hole, big_hole])), sliver])
    out = clean_polygons(geom)
    assert out.geom_type == "MultiPolygon" and out.is_valid and len(out.geoms) == 1
    assert out.area == pytest.approx(1000 * 1000 - 200 * 200)
    assert len(out.geoms[0].interiors) == 1
    # a self-intersecting bow-tie is repaired, not passed on
    bow = shapely.Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000)])
    assert not bow.is_valid and clean_polygons(bow).is_valid


# ------------------------------------------------------------------------------ the zone
@pytest.fixture(scope="module")
def api(hvz_zone):
    import kazerne as kz

    demand = kz.population_grid(hvz_zone)
    posts = kz.Sites.from_posts(hvz_zone, ["P01", "P05", "P06", "P09"])
    tt = kz.travel_times(hvz_zone, posts, demand, "fire_engine", keep_nodes=True, call_handling_s=90)
    return hvz_zone, demand, posts, tt


def test_api_isochrones_valid_and_hold_every_reached_cell(api):
    zone, demand, posts, tt = api
    minutes = (8, 12, 15)
    iso = tt.isochrones(zone, minutes=minutes, demand=demand)
    assert iso.crs.to_epsg() == 4326 and list(iso.columns[:3]) == ["post", "within_min", "area_km2"]
    assert len(iso) == len(posts) * len(minutes)
    dense = tt.dense()
    for _, row in iso.iterrows():
        g = row.geometry
        assert g.is_valid and g.geom_type == "MultiPolygon"
        k = posts.ids.index(row["post"])
        reached = dense[k] <= row["within_min"] * 60
        if row["post"] == "P09":  # Gavere reaches cells within 12 min (90 s call + 300 s turnout)
            assert reached.sum() > 10 or row["within_min"] == 8
        inside = shapely.contains_xy(g, demand.lon[reached], demand.lat[reached])
        assert inside.all(), (row["post"], row["within_min"], int((~inside).sum()))
        # no slivers: in metres, every part and hole at least 1 ha (a little below after reprojection)
        m = shapely.transform(g, lambda c: np.column_stack(TO_LAMBERT.transform(c[:, 0], c[:, 1])))
        for p in _parts(m):
            assert p.area >= 0.99 * MIN_AREA_M2
            assert all(shapely.Polygon(r).area >= 0.99 * MIN_AREA_M2 for r in p.interiors)
    # nested: each site's polygons grow with T
    for sid in posts.ids:
        a = list(iso[iso["post"] == sid]["area_km2"])
        assert a == sorted(a)


def test_api_first_due_one_per_post_and_the_cells_it_counts(api):
    import kazerne as kz

    zone, demand, posts, tt = api
    fd = tt.first_due_areas(zone, demand=demand)
    rep = kz.evaluate(tt, demand, thresholds_min=[10])
    assert list(fd["first_post"][: len(posts)]) == posts.ids
    assert fd.geometry.is_valid.all() and set(fd.geom_type) == {"MultiPolygon"}
    # P06 stands where P05 stands and never arrives first: an empty area, 0 km², 0 people
    p06 = fd[fd["first_post"] == "P06"].iloc[0]
    assert p06.geometry.is_empty and p06["area_km2"] == 0 and p06["population"] == 0
    ok = ~demand.no_road_data
    for k, sid in enumerate(posts.ids):
        g = fd.geometry.iloc[k]
        mine = ok & (rep.first_site == k)
        # every demand cell of the post has its centre inside its area; no other post's cell does
        assert shapely.contains_xy(g, demand.lon[mine], demand.lat[mine]).all()
        other = ok & (rep.first_site >= 0) & (rep.first_site != k)
        assert not shapely.contains_xy(g, demand.lon[other], demand.lat[other]).any()
        assert fd["population"].iloc[k] == pytest.approx(demand.weight[mine].sum(), abs=0.06)
    # the areas tile the zone (no overlaps; slivers under 1 ha are all that is left out)
    zone_km2 = zone.zone_metric.area / 1e6
    assert fd["area_km2"].sum() == pytest.approx(zone_km2, abs=0.5)
    m = fd.to_crs(31370)
    assert shapely.union_all(m.geometry.values).area / 1e6 == pytest.approx(fd["area_km2"].sum(), rel=1e-4)
    for g in m.geometry:
        for p in _parts(g):
            assert p.area >= 0.99 * MIN_AREA_M2


@pytest.fixture(scope="module")
def baseline(shipped_run):
    """The 2019 baseline, run once per session (conftest ``shipped_run``)."""
    return shipped_run("hvz-centrum-2019")


def test_gpkg_isochrones_hold_every_reached_cell_and_are_valid(baseline):
    import geopandas as gpd

    g = baseline / "layers.gpkg"
    cells = gpd.read_file(g, layer="demand_cells", engine="pyogrio")
    assert set(cells.geom_type) == {"MultiPolygon"}  # as the README says: MultiPolygon throughout
    for layer in ("isochrones", "isochrone_bands", "first_due_areas", "municipalities"):
        gdf = gpd.read_file(g, layer=layer, engine="pyogrio")
        assert gdf.geometry.is_valid.all(), layer
        assert set(gdf.geom_type) <= {"MultiPolygon"}, layer
    iso = gpd.read_file(g, layer="isochrones", engine="pyogrio")
    centres = cells.geometry.centroid
    for _, row in iso.iterrows():
        reached = cells["first_min"].to_numpy() <= row["within_min"]
        assert reached.sum() > 100
        inside = shapely.contains_xy(row.geometry, centres.x[reached], centres.y[reached])
        assert inside.all(), (row["within_min"], int((~inside).sum()))
        _no_slivers(row.geometry)
    for gg in gpd.read_file(g, layer="first_due_areas", engine="pyogrio").geometry:
        _no_slivers(gg, holes=False)
    # nested isochrones, and bands that tile the largest without overlapping
    bands = gpd.read_file(g, layer="isochrone_bands", engine="pyogrio").geometry.values
    geoms = list(iso.geometry.values)
    for a, b in zip(geoms, geoms[1:]):
        assert shapely.difference(a, b).area < 1e-6 * a.area
    assert sum(b.area for b in bands) == pytest.approx(shapely.union_all(bands).area, rel=1e-9)
    assert sum(b.area for b in bands) == pytest.approx(geoms[-1].area, rel=1e-3)


def test_one_first_due_area_per_post_everywhere_with_one_field_name(baseline):
    import geopandas as gpd

    with open(baseline / "posts.csv", newline="", encoding="utf-8") as fh:
        posts_csv = {r["id"]: float(r["first_due_area_km2"]) for r in csv.DictReader(fh)}
    layer = gpd.read_file(baseline / "layers.gpkg", layer="posts", engine="pyogrio")
    posts_layer = dict(zip(layer["post_id"], layer["first_due_area_km2"]))
    fd = gpd.read_file(baseline / "layers.gpkg", layer="first_due_areas", engine="pyogrio")
    fd_gpkg = {p: g.area / 1e6 for p, g in zip(fd["first_post"], fd.geometry) if isinstance(p, str)}
    gj = json.loads((baseline / "first_due.geojson").read_text(encoding="utf-8"))
    feats = [f for f in gj["features"] if f["properties"]["first_post"] is not None]
    assert {f["geometry"]["type"] for f in gj["features"]} == {"MultiPolygon"}
    fd_json = {}
    for f in feats:
        geom = shapely.geometry.shape(f["geometry"])
        assert geom.is_valid
        m = shapely.transform(geom, lambda c: np.column_stack(TO_LAMBERT.transform(c[:, 0], c[:, 1])))
        fd_json[f["properties"]["first_post"]] = m.area / 1e6
    assert list(posts_csv) == list(posts_layer) == list(fd_gpkg) == list(fd_json)  # one row per post
    for pid, a in posts_csv.items():
        assert posts_layer[pid] == a
        assert fd_gpkg[pid] == pytest.approx(a, abs=1e-3)
        assert fd_json[pid] == pytest.approx(a, abs=2e-3)  # 6-decimal GeoJSON coordinates
    # the per-point field has one name in every output
    cells = gpd.read_file(baseline / "layers.gpkg", layer="demand_cells", engine="pyogrio", rows=1)
    pts = json.loads((baseline / "demand.geojson").read_text(encoding="utf-8"))["features"][0]["properties"]
    assert "first_post" in cells.columns and "first_post" in pts and "first_post" in gj["features"][0]["properties"]
