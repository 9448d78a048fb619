"""One CRS story (issue 27, item 3): the API returns and plots EPSG:4326 unless asked; on an
analyst's axes a plot draws in the CRS of the layers already there; readable colorbar ticks.

Expected coordinates come from pyproj directly (an own Transformer here), not from kazerne."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pytest
from pyproj import Transformer

from kazerne.coverage.metrics import evaluate
from kazerne.demand.points import DemandPoints

LON = np.array([3.70, 3.72, 3.75, 3.66, 3.80, 3.69])
LAT = np.array([51.05, 51.06, 51.03, 51.08, 51.00, 51.04])
TO_LAMBERT = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
TO_MERCATOR = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)


@pytest.fixture()
def demand():
    x, y = TO_LAMBERT.transform(LON, LAT)
    n = len(LON)
    return DemandPoints(
        x=np.asarray(x),
        y=np.asarray(y),
        lon=LON,
        lat=LAT,
        weight=np.array([10.0, 20.0, 5.0, 7.0, 1.0, 3.0]),
        municipality=np.array([0, 0, 1, 1, 1, 0]),
        municipality_names=["Gent", "Merelbeke"],
        node=np.arange(n),
        snap_m=np.zeros(n),
        no_road_data=np.array([False, False, False, False, False, True]),
        in_gap=np.array([False, False, False, False, False, True]),
        model="test points",
    )


@pytest.fixture()
def report():
    # two sites; first arrivals 5, 9, 11, 14, 20 min (+ one no-road-data point)
    sec = np.array([[300.0, 540.0, 660.0, 840.0, 1200.0, 100.0], [900.0, 900.0, 900.0, 900.0, 1500.0, 100.0]])
    nrd = np.array([False, False, False, False, False, True])
    return evaluate(sec, np.ones(6), [480.0, 600.0, 720.0, 900.0], no_road_data=nrd)


def _scatter_points(ax):
    return np.vstack([c.get_offsets() for c in ax.collections if len(c.get_offsets())])


def test_plot_on_a_new_figure_is_lon_lat_with_readable_colorbar(report, demand):
    fig = report.plot(demand)
    ax = fig.axes[0]
    got = _scatter_points(ax)
    np.testing.assert_allclose(np.sort(got[:, 0]), np.sort(LON))
    np.testing.assert_allclose(np.sort(got[:, 1]), np.sort(LAT))
    cbar_ax = fig.axes[1]
    fig.canvas.draw()
    labels = [t.get_text() for t in cbar_ax.get_yticklabels()]
    assert labels == ["≤ 8 min", "8–10 min", "10–12 min", "12–15 min", "> 15 min"]
    assert cbar_ax.yaxis.get_offset_text().get_text() == ""  # no "×1e9"
    # the bands: 5 -> 0, 9 -> 1, 11 -> 2, 14 -> 3, 20 -> 4
    first = [c for c in ax.collections if len(c.get_offsets()) == 5][0]
    assert list(np.asarray(first.get_array())) == [0, 1, 2, 3, 4]
    plt.close(fig)


def test_plot_on_an_analysts_lambert_axes_draws_in_lambert(report, demand):
    fig, ax = plt.subplots()
    sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy([3.71, 3.74], [51.05, 51.02]), crs="EPSG:4326")
    sites.to_crs("EPSG:31370").plot(ax=ax, color="k")
    report.plot(demand, ax=ax)
    x, y = TO_LAMBERT.transform(LON, LAT)
    pts = [c.get_offsets() for c in ax.collections[1:]]
    got = np.vstack(pts)
    np.testing.assert_allclose(np.sort(got[:, 0]), np.sort(x), rtol=0, atol=0.01)
    np.testing.assert_allclose(np.sort(got[:, 1]), np.sort(y), rtol=0, atol=0.01)
    plt.close(fig)


@pytest.mark.parametrize("layer_crs", ["EPSG:4326", "EPSG:3857"])
def test_plot_follows_other_layer_crs_and_explicit_crs(report, demand, layer_crs):
    fig, ax = plt.subplots()
    gpd.GeoDataFrame(geometry=gpd.points_from_xy([3.71], [51.05]), crs="EPSG:4326").to_crs(layer_crs).plot(ax=ax)
    report.plot(demand, ax=ax)
    got = np.vstack([c.get_offsets() for c in ax.collections[1:]])
    ex, ey = (LON, LAT) if layer_crs == "EPSG:4326" else TO_MERCATOR.transform(LON, LAT)
    np.testing.assert_allclose(np.sort(got[:, 0]), np.sort(ex), rtol=1e-9)
    plt.close(fig)
    fig2 = report.plot(demand, crs="EPSG:31370")
    got2 = _scatter_points(fig2.axes[0])
    np.testing.assert_allclose(np.sort(got2[:, 0]), np.sort(TO_LAMBERT.transform(LON, LAT)[0]), atol=0.01)
    plt.close(fig2)


def test_demand_points_to_geodataframe(demand):
    g = demand.to_geodataframe()
    assert g.crs.to_epsg() == 4326
    np.testing.assert_allclose(g.geometry.x, LON)
    np.testing.assert_allclose(g.geometry.y, LAT)
    assert list(g["municipality"]) == ["Gent", "Gent", "Merelbeke", "Merelbeke", "Merelbeke", "Gent"]
    assert list(g["weight"]) == [10.0, 20.0, 5.0, 7.0, 1.0, 3.0] and g["no_road_data"].sum() == 1
    m = demand.to_geodataframe(to_crs="EPSG:31370")
    x, y = TO_LAMBERT.transform(LON, LAT)
    assert m.crs.to_epsg() == 31370
    np.testing.assert_allclose(m.geometry.x, x, atol=0.01)
    np.testing.assert_allclose(m.geometry.y, y, atol=0.01)


def test_report_geodataframe_first_post_and_to_crs(report, demand):
    g = report.to_geodataframe(demand, site_ids=["P01", "P02"])
    assert g.crs.to_epsg() == 4326 and list(g["first_post"][:5]) == ["P01"] * 5
    assert g["first_post"].isna().iloc[5]  # no road data
    m = report.to_geodataframe(demand, site_ids=["P01", "P02"], to_crs=31370)
    np.testing.assert_allclose(m.geometry.x, TO_LAMBERT.transform(LON, LAT)[0], atol=0.01)
