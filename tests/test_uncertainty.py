"""Intervals of a baseline's headline from the stated parameter ranges (kazerne/calibration/uncertainty.py),
checked by hand on a tiny instance: 2 posts x 4 demand points, times written out."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import kazerne as kz
from kazerne.calibration.uncertainty import DEFAULT_RANGES, headline_interval, parameter_ranges
from kazerne.routing.profiles import with_factors

CALL = 90.0
TURN = np.array([90.0, 300.0])  # a professional and a volunteer post
DRIVE = np.array([[300.0, 420.0, 700.0, 900.0], [600.0, 200.0, 400.0, 500.0]])
W = np.array([10.0, 20.0, 30.0, 40.0])


def _tt():
    return SimpleNamespace(dense=lambda: CALL + TURN[:, None] + DRIVE, turnout_s=TURN)


def _demand():
    return SimpleNamespace(no_road_data=np.zeros(4, dtype=bool), weight=W)


def _share(first, t_min):
    return float(W[first <= t_min * 60].sum() / W.sum())


def test_default_interval_by_hand():
    prof = kz.get_profile("fire_engine")
    out = headline_interval(_tt(), _demand(), [10, 12], CALL, ["professional", "volunteer"], prof)
    assert out["ranges"]["source"] == "default"
    first = np.min(CALL + TURN[:, None] + DRIVE, axis=0)  # 480, 590, 790, 890
    assert out["share_within_central"] == {"10": _share(first, 10), "12": _share(first, 12)}
    lo_k, hi_k = DEFAULT_RANGES["speed_factor"]
    lo_c, hi_c = DEFAULT_RANGES["call_handling_s"]
    lo_f, hi_f = DEFAULT_RANGES["turnout_factor"]
    for t in (10, 12):
        base = _share(first, t)
        fast = [
            _share(np.min(CALL + TURN[:, None] + DRIVE / hi_k, axis=0), t),
            _share(np.min(lo_c + TURN[:, None] + DRIVE, axis=0), t),
            _share(np.min(CALL + lo_f * TURN[:, None] + DRIVE, axis=0), t),
        ]
        slow = [
            _share(np.min(CALL + TURN[:, None] + DRIVE / lo_k, axis=0), t),
            _share(np.min(hi_c + TURN[:, None] + DRIVE, axis=0), t),
            _share(np.min(CALL + hi_f * TURN[:, None] + DRIVE, axis=0), t),
        ]
        up = sum(max(s - base, 0) ** 2 for s in fast) ** 0.5
        dn = sum(max(base - s, 0) ** 2 for s in slow) ** 0.5
        assert out["share_within"][f"{t}"] == [round(max(base - dn, 0), 4), round(min(base + up, 1), 4)]
        lo, hi = out["share_within"][f"{t}"]
        assert lo <= base <= hi
    assert out["share_within"]["10"] == [0.0, 0.3]  # by hand: 10 and 20 of 100 fall out at the slow ends
    mean = float(np.average(first, weights=W)) / 60
    lo, hi = out["mean_response_min"]
    assert lo < mean < hi and out["mean_response_min_central"] == pytest.approx(round(mean, 2))


def test_calibrated_profile_gives_the_calibrations_ranges():
    unc = {"drive_rel_se": 0.01, "call_handling_median_se_s": 2.0, "turnout_median_se_s": {"volunteer": 5.0}}
    prof = with_factors(kz.get_profile("fire_engine"), {}, 4.0, uncertainty=unc)
    r = parameter_ranges(prof, CALL)
    assert r["source"] == "calibration"
    assert r["speed_factor"] == pytest.approx((1 / 1.0196, 1 / 0.9804))
    assert r["call_handling_s"] == pytest.approx((CALL - 3.92, CALL + 3.92))
    out = headline_interval(_tt(), _demand(), [10, 12], CALL, ["professional", "volunteer"], prof)
    wide = headline_interval(
        _tt(), _demand(), [10, 12], CALL, ["professional", "volunteer"], kz.get_profile("fire_engine")
    )
    for t in ("10", "12"):  # the calibration's interval is narrower than the default one
        assert (
            out["share_within"][t][1] - out["share_within"][t][0]
            <= wide["share_within"][t][1] - wide["share_within"][t][0]
        )


def test_zone_interval_is_centred_on_the_engines_headline(hvz_zone):
    demand = kz.population_grid(hvz_zone)
    posts = kz.Sites.from_posts(hvz_zone, ["P01", "P02", "P05", "P07", "P08", "P10"])
    tt = kz.travel_times(hvz_zone, posts, demand, "fire_engine", call_handling_s=90)
    rep = kz.evaluate(tt, demand, thresholds_min=[10, 12, 15])
    out = headline_interval(tt, demand, [10, 12, 15], 90.0, posts.crew, kz.get_profile("fire_engine"))
    for t, share in zip(("10", "12", "15"), rep.zone_share):
        assert out["share_within_central"][t] == round(float(share), 4)
        lo, hi = out["share_within"][t]
        assert lo < share < hi
    assert out["mean_response_min_central"] == pytest.approx(rep.mean_s / 60, abs=0.006)
