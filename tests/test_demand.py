"""Demand points on the real zone pack: user files (CSV / GeoJSON) and the population grid.

Expected values come from the pack's own files read here (municipalities.geojson,
network-gap.geojson, posts.csv positions) with json / shapely / pyproj, not from the code under
test. The zone pack must be present (``zone_data_dir`` from conftest fails otherwise).
"""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from kazerne.demand.points import demand_from_file, population_grid
from kazerne.errors import ScenarioError

# posts.csv positions: P01 Gent (Roggestraat), P08 Deinze (Markt), P14 Zelzate
GENT = (3.709892, 51.068441)
DEINZE = (3.52598, 50.98531)
ZELZATE = (3.817337, 51.196704)
BRUSSELS = (4.3517, 50.8466)
# inside the pack's network-gap polygon (south of Gent-Melle, lon 3.69-3.83 / lat 50.96-51.0 block)
IN_GAP = (3.76, 50.975)


@pytest.fixture(scope="module")
def zone(zone_data_dir):
    from kazerne.routing.zone import load_zone

    return load_zone("hvz-centrum", quiet=True)


@pytest.fixture(scope="module")
def pack_geo(zone_data_dir):
    d = zone_data_dir / "hvz-centrum"
    munis = json.loads((d / "municipalities.geojson").read_text(encoding="utf-8"))["features"]
    gap = json.loads((d / "network-gap.geojson").read_text(encoding="utf-8"))
    gap_geom = shape(gap["geometry"] if gap.get("type") == "Feature" else gap["features"][0]["geometry"])
    return {
        "pop": {f["properties"]["name"]: float(f["properties"]["population_2020"]) for f in munis},
        "geom": {f["properties"]["name"]: shape(f["geometry"]) for f in munis},
        "gap": gap_geom,
    }


@pytest.fixture(scope="module")
def grid(zone):
    return population_grid(zone, cell_m=250.0)


def test_in_gap_point_really_is_in_the_gap(pack_geo):
    assert pack_geo["gap"].buffer(-0.005).contains(shapely.Point(*IN_GAP))
    assert not pack_geo["gap"].buffer(0.005).contains(shapely.Point(*GENT))


# ---------------------------------------------------------------- user files: happy paths


def test_csv_happy_path(zone, tmp_path):
    f = tmp_path / "incidents.csv"
    f.write_text(
        "lon,lat,weight\n"
        f"{GENT[0]},{GENT[1]},10\n{DEINZE[0]},{DEINZE[1]},2.5\n{ZELZATE[0]},{ZELZATE[1]},0\n"
        f"{IN_GAP[0]},{IN_GAP[1]},4\n",
        encoding="utf-8",
    )
    d = demand_from_file(zone, f)
    assert len(d) == 4
    np.testing.assert_array_equal(d.weight, [10.0, 2.5, 0.0, 4.0])
    np.testing.assert_allclose(d.lon, [GENT[0], DEINZE[0], ZELZATE[0], IN_GAP[0]])
    np.testing.assert_allclose(d.lat, [GENT[1], DEINZE[1], ZELZATE[1], IN_GAP[1]])
    names = [d.municipality_names[i] for i in d.municipality]
    assert names[:3] == ["Gent", "Deinze", "Zelzate"]
    # the three posts stand on roads; the gap point has no road data and is flagged
    assert list(d.no_road_data) == [False, False, False, True]
    assert bool(d.in_gap[3]) and not d.in_gap[:3].any()
    assert np.all(d.snap_m[:3] < 500)
    assert np.all((d.node >= 0) & (d.node < zone.net.n_nodes))
    assert d.total == 16.5 and d.total_no_road_data == 4.0
    assert d.cell_m is None
    assert "incidents.csv" in d.model and "4 points" in d.model


def test_csv_without_weight_column_weighs_one(zone, tmp_path):
    f = tmp_path / "calls.csv"
    f.write_text(f"lat,lon\n{GENT[1]},{GENT[0]}\n{DEINZE[1]},{DEINZE[0]}\n", encoding="utf-8")
    d = demand_from_file(zone, f)
    np.testing.assert_array_equal(d.weight, [1.0, 1.0])
    assert [d.municipality_names[i] for i in d.municipality] == ["Gent", "Deinze"]


def test_geojson_happy_path(zone, tmp_path):
    f = tmp_path / "calls.geojson"
    f.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"weight": 7},
                        "geometry": {"type": "Point", "coordinates": list(ZELZATE)},
                    },
                    {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": list(GENT)}},
                ],
            }
        ),
        encoding="utf-8",
    )
    d = demand_from_file(zone, f)
    np.testing.assert_array_equal(d.weight, [7.0, 1.0])  # no weight property -> 1
    assert [d.municipality_names[i] for i in d.municipality] == ["Zelzate", "Gent"]
    assert not d.no_road_data.any()


# ---------------------------------------------------------------- user files: errors


def _geojson(features):
    return json.dumps({"type": "FeatureCollection", "features": features})


def _pt(coords, **props):
    return {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": coords}}


ERRORS = [
    ("missing-lat.csv", "lon,weight\n3.7,5\n", ["missing column 'lat'"]),
    ("missing-lon.csv", "lat,weight\n51.05,5\n", ["missing column 'lon'"]),
    (
        "outside.csv",
        f"lon,lat,weight\n{GENT[0]},{GENT[1]},1\n{BRUSSELS[0]},{BRUSSELS[1]},3\n",
        ["point 2", "outside the zone"],
    ),
    ("not-a-number.csv", f"lon,lat,weight\n{GENT[0]},{GENT[1]},1\n{GENT[0]},north,1\n", [":3", "expected numbers"]),
    ("negative.csv", f"lon,lat,weight\n{GENT[0]},{GENT[1]},-1\n", ["finite and >= 0"]),
    ("nan-weight.csv", f"lon,lat,weight\n{GENT[0]},{GENT[1]},nan\n", ["finite and >= 0"]),
    ("empty.csv", "lon,lat,weight\n", ["no demand points"]),
    ("latin1.csv", "lon,lat,weight,note\n3.7,51.05,1,caf\u00e9\n", ["UTF-8"]),
    ("outside.geojson", _geojson([_pt(list(BRUSSELS), weight=1)]), ["point 1", "outside the zone"]),
    (
        "line.geojson",
        _geojson(
            [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "LineString", "coordinates": [[3.7, 51.0], [3.8, 51.1]]},
                }
            ]
        ),
        ["feature 0", "Point"],
    ),
    (
        "no-coordinates.geojson",
        _geojson([{"type": "Feature", "properties": {}, "geometry": {"type": "Point"}}]),
        ["feature 0", "coordinates"],
    ),
    ("text-coordinates.geojson", _geojson([_pt(["3.7", "51.05"])]), ["feature 0", "coordinates"]),
    ("not-a-collection.geojson", json.dumps([1, 2]), ["FeatureCollection"]),
    ("bad-json.geojson", '{"type": "FeatureCollection", "features": [', ["not valid JSON"]),
    ("bad-weight.geojson", _geojson([_pt(list(GENT), weight="heavy")]), ["feature 0", "expected a number as weight"]),
]


@pytest.mark.parametrize("fname,content,keywords", ERRORS, ids=[e[0] for e in ERRORS])
def test_demand_file_errors(zone, tmp_path, fname, content, keywords):
    f = tmp_path / fname
    f.write_bytes(content.encode("latin-1" if fname.startswith("latin1") else "utf-8"))
    with pytest.raises(ScenarioError) as ei:
        demand_from_file(zone, f)
    msg = str(ei.value)
    assert "\n" not in msg
    assert str(f) in msg, msg
    for k in keywords:
        assert k in msg, (k, msg)


def test_missing_file_names_the_field(zone, tmp_path):
    with pytest.raises(ScenarioError) as ei:
        demand_from_file(zone, tmp_path / "nowhere.csv")
    assert ei.value.field == "demand.file" and "file not found" in str(ei.value)


# ---------------------------------------------------------------- population grid


def test_grid_weights_per_municipality_sum_to_the_pack(grid, pack_geo):
    per = defaultdict(float)
    for m, w in zip(grid.municipality, grid.weight):
        per[grid.municipality_names[m]] += w
    assert sorted(per) == sorted(pack_geo["pop"])
    for name, pop in pack_geo["pop"].items():
        assert per[name] == pytest.approx(pop, rel=1e-9), name
    assert grid.total == pytest.approx(562_055, rel=1e-12)
    assert np.all(grid.weight > 0)


def test_grid_is_a_250m_lattice_inside_the_municipalities(grid, pack_geo):
    assert grid.cell_m == 250.0
    for a in (grid.x, grid.y):
        off = (a - a.min()) / 250.0
        np.testing.assert_allclose(off, np.round(off), atol=1e-6)
    # each point's municipality holds the point (WGS84 check, skipping points within ~100 m of a border)
    for name, g in pack_geo["geom"].items():
        inner = g.buffer(-0.0015)
        sel = np.array([grid.municipality_names[m] == name for m in grid.municipality])
        pts = shapely.points(grid.lon[sel], grid.lat[sel])
        assert shapely.contains(g.buffer(0.0015), pts).all(), name
        others = shapely.points(grid.lon[~sel], grid.lat[~sel])
        assert not shapely.contains(inner, others).any(), name


def test_grid_points_in_the_gap_are_no_road_data(grid, pack_geo):
    pts = shapely.points(grid.lon, grid.lat)
    clearly_in = shapely.contains(pack_geo["gap"].buffer(-0.002), pts)
    clearly_out = ~shapely.contains(pack_geo["gap"].buffer(0.002), pts)
    assert clearly_in.sum() > 100
    assert grid.no_road_data[clearly_in].all()
    assert grid.in_gap[clearly_in].all()
    assert not grid.in_gap[clearly_out].any()
    # outside the gap, no_road_data means "farther than max_snap_m from a road" or (issue 23) in the
    # gap's shadow: a route the missing roads distort (kazerne.demand.shadow)
    expected = (grid.snap_m[clearly_out] > 500.0) | grid.gap_shadow[clearly_out]
    np.testing.assert_array_equal(grid.no_road_data[clearly_out], expected)
    assert grid.total_no_road_data == pytest.approx(grid.weight[grid.no_road_data].sum())


def test_gap_part_gets_the_area_share_of_the_population(grid, pack_geo):
    """Melle's cells in the gap carry population x area(Melle in gap) / area(Melle)."""
    tr = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
    to_lambert = lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))  # noqa: E731
    melle = shapely.transform(pack_geo["geom"]["Melle"], to_lambert)
    gap = shapely.transform(pack_geo["gap"], to_lambert)
    share = melle.intersection(gap).area / melle.area
    assert 0.3 < share < 1.0  # "most of Melle" per the pack's README
    sel = np.array([grid.municipality_names[m] == "Melle" for m in grid.municipality])
    in_gap_weight = grid.weight[sel & grid.in_gap].sum()
    assert in_gap_weight == pytest.approx(pack_geo["pop"]["Melle"] * share, rel=1e-6)
    # uniform density inside the gap: every Melle gap cell has the same weight
    w = grid.weight[sel & grid.in_gap]
    assert np.ptp(w) <= 1e-9 * w.max()


def test_kept_grid_is_the_computed_grid(zone, grid):
    """The population grid through the demand cache (memo or file, gap's shadow and its rule included)
    is the grid computed afresh, field by field and bit for bit."""
    import dataclasses

    fresh = population_grid(zone, cell_m=250.0, use_cache=False)
    assert fresh.gap_shadow.any()  # the shadow is part of what is kept
    for f in dataclasses.fields(fresh):
        a, b = getattr(fresh, f.name), getattr(grid, f.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), f.name
        else:
            assert a == b, f.name
