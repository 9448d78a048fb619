"""Unit checks (issue 27, item 5): seconds that look like minutes warn; lat / lon swapped is said."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import kazerne as kz
from kazerne.errors import ScenarioError, SnapError

# 3 sites x 5 demand points, response times in seconds (as travel_times gives them)
SECONDS = np.array(
    [
        [300.0, 500.0, 900.0, 1200.0, 700.0],
        [800.0, 350.0, 400.0, 650.0, 1000.0],
        [1100.0, 900.0, 600.0, 250.0, 450.0],
    ]
)
W = np.array([10.0, 20.0, 30.0, 40.0, 50.0])


def _units_warnings(rec) -> list:
    return [w for w in rec if issubclass(w.category, kz.UnitsWarning)]


def test_mclp_radius_in_minutes_warns_and_says_the_seconds():
    prob = kz.from_cost_matrix(SECONDS, W)
    with pytest.warns(kz.UnitsWarning, match=r"radius=12 s .* give 720"):
        res = kz.mclp(prob, p=2, radius=12)
    assert res.objective == 0  # the call still does what was asked: nothing is within 12 s


@pytest.mark.parametrize("model", ["lscp", "mclp", "backup"])
def test_seconds_radius_is_quiet(model):
    prob = kz.from_cost_matrix(SECONDS, W)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        if model == "lscp":
            kz.lscp(prob, 900)
        elif model == "mclp":
            kz.mclp(prob, p=2, radius=600)
        else:
            kz.backup(prob, 2, 900)
    assert _units_warnings(rec) == []


def test_textbook_costs_in_other_units_stay_quiet():
    # an OR-Library-like instance: distances of a few units, radius 2 is meant as 2
    cost = np.array([[1.0, 3.0, 5.0], [4.0, 1.0, 2.0]])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        kz.mclp(kz.from_cost_matrix(cost, np.ones(3)), p=1, radius=2.0)
    assert _units_warnings(rec) == []


def test_ems_time_in_minutes_warns():
    prob = kz.from_cost_matrix(SECONDS, W)
    with pytest.warns(kz.UnitsWarning, match="t_seconds=15 s"):
        kz.mexclp(prob, n_units=1, q=0.2, t_seconds=15)


def test_evaluate_threshold_in_minutes_warns():
    from kazerne.coverage.metrics import evaluate

    with pytest.warns(kz.UnitsWarning, match="thresholds_s=10 s"):
        evaluate(SECONDS, W, [10.0, 600.0])


def test_swapped_lat_lon_is_named(hvz_zone):
    p01 = hvz_zone.pack.site("P01")  # lon ~3.7, lat ~51.05
    with pytest.raises(SnapError, match="swapped") as e:
        hvz_zone.site_node(p01.lat, p01.lon, what="site X")  # lon and lat given the wrong way round
    assert "site X" in str(e.value) and "\n" not in str(e.value)
    # a point a few km outside the zone is off the network, and nothing is said about swapping
    with pytest.raises(SnapError) as e2:
        hvz_zone.site_node(p01.lon + 0.5, p01.lat, what="site Y")
    assert "swapped" not in str(e2.value)
    assert hvz_zone.site_node(p01.lon, p01.lat, what="P01") >= 0


def test_swapped_demand_file_is_named(hvz_zone, tmp_path):
    p01 = hvz_zone.pack.site("P01")
    f = tmp_path / "calls.csv"
    f.write_text(f"lon,lat,weight\n{p01.lon},{p01.lat},1\n{p01.lat},{p01.lon},2\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"point 2 .*swapped"):
        kz.demand_from_file(hvz_zone, f)
