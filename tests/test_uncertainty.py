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
    # times from the call: their clock says so (kz.Clock), as TravelTimes' does
    return SimpleNamespace(dense=lambda: CALL + TURN[:, None] + DRIVE, turnout_s=TURN, clock=kz.Clock(CALL))


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


# ------------------------------------------------------------------ time slices (expected shares)
from scipy import stats  # noqa: E402

from kazerne.calibration.uncertainty import combine, mix_ends, response_ends  # noqa: E402
from kazerne.response import TurnoutDist  # noqa: E402

DISTS = [TurnoutDist(90.0, 120.0, 45.0), TurnoutDist(300.0, 480.0, 120.0)]
CREWS = ["professional", "volunteer"]
TH = [10, 12]


def _alarm_times():  # from the alarm, each post's median turnout + driving (what a slice's tt holds)
    return np.array([d.median_s for d in DISTS])[:, None] + DRIVE


def _by_hand(k, c, tf):
    """Expected shares within TH and expected mean from the call, with plain scipy / numpy: the turnouts
    shifted log-normals (min + LogNormal(ln(median - min), sigma)), every median x tf, drive / k."""
    sh, means = [], []
    dists = [d.moved_to(d.median_s * tf) for d in DISTS]
    surv = []
    for d in dists:
        s = np.log((d.p90_s - d.min_s) / (d.median_s - d.min_s)) / stats.norm.ppf(0.9)
        surv.append(stats.lognorm(s=s, scale=d.median_s - d.min_s, loc=d.min_s))
    for j in range(DRIVE.shape[1]):
        a = c + DRIVE[:, j] / k  # arrival = a_i + turnout_i
        p = [1 - np.prod([1 - surv[i].cdf(t * 60 - a[i]) for i in range(2)]) for t in TH]
        sh.append(p)
        lo = min(a[i] + dists[i].min_s for i in range(2))
        grid = lo + np.linspace(0.0, 4000.0, 80001)  # the survival of the first arrival, trapezoids of 0.05 s
        surv_first = np.prod([surv[i].sf(grid - a[i]) for i in range(2)], axis=0)
        tail = float(np.sum((surv_first[1:] + surv_first[:-1]) / 2) * (grid[1] - grid[0]))
        means.append(lo + tail)
    sh = np.array(sh)
    return (W @ sh) / W.sum(), float(np.average(means, weights=W))


def _interval_by_hand(rng):
    k_lo, k_hi = rng["speed_factor"]
    c_lo, c_hi = rng["call_handling_s"]
    f_lo, f_hi = rng["turnout_factor"]
    base = _by_hand(1.0, CALL, 1.0)
    ends = [_by_hand(k_hi, CALL, 1.0), _by_hand(k_lo, CALL, 1.0), _by_hand(1.0, c_lo, 1.0)]
    ends += [_by_hand(1.0, c_hi, 1.0), _by_hand(1.0, CALL, f_lo), _by_hand(1.0, CALL, f_hi)]
    up = np.sqrt(sum(np.maximum(s - base[0], 0) ** 2 for s, _ in ends))
    dn = np.sqrt(sum(np.maximum(base[0] - s, 0) ** 2 for s, _ in ends))
    mup = np.sqrt(sum(max(m - base[1], 0) ** 2 for _, m in ends))
    mdn = np.sqrt(sum(max(base[1] - m, 0) ** 2 for _, m in ends))
    return base, np.clip(base[0] - dn, 0, 1), np.clip(base[0] + up, 0, 1), (base[1] - mdn) / 60, (base[1] + mup) / 60


def test_slice_interval_by_hand_contains_the_point_and_widens():
    """A slice's interval (expected shares, turnout distributions) from the function the slices use
    equals the one recomputed with scipy at each end of the range; it contains the slice's point
    figure; and a wider range gives a wider interval."""
    narrow = {"source": "default", **DEFAULT_RANGES}
    wide = {
        "source": "default",
        "speed_factor": (0.7, 1.3),
        "call_handling_s": (30.0, 150.0),
        "turnout_factor": (0.6, 1.5),
    }
    got = {}
    for name, rng in (("narrow", narrow), ("wide", wide)):
        ends = response_ends(_alarm_times(), DISTS, CREWS, _demand(), TH, rng, CALL)
        out = combine(ends, TH, rng)
        (point, mean), lo, hi, mlo, mhi = _interval_by_hand(rng)
        for j, t in enumerate(TH):
            assert out["share_within_central"][f"{t}"] == pytest.approx(point[j], abs=1e-4)
            assert out["share_within"][f"{t}"] == pytest.approx([lo[j], hi[j]], abs=1e-4)
            assert out["share_within"][f"{t}"][0] <= point[j] <= out["share_within"][f"{t}"][1]
        assert out["mean_response_min"] == pytest.approx([mlo, mhi], abs=0.011)
        assert out["mean_response_min"][0] < mean / 60 < out["mean_response_min"][1]
        got[name] = out
    for t in ("10", "12"):
        n, w = got["narrow"]["share_within"][t], got["wide"]["share_within"][t]
        assert w[0] <= n[0] and w[1] >= n[1] and (w[1] - w[0]) > (n[1] - n[0])
    n, w = got["narrow"]["mean_response_min"], got["wide"]["mean_response_min"]
    assert w[0] < n[0] and w[1] > n[1]


def test_mix_interval_is_the_hour_weighted_ends():
    """The mix's interval: at every end the slices' shares and means weighted by their hours."""
    rng = {"source": "default", **DEFAULT_RANGES}
    a = response_ends(_alarm_times(), DISTS, CREWS, _demand(), TH, rng, CALL)
    b = response_ends(_alarm_times() * 1.2, DISTS, CREWS, _demand(), TH, rng, CALL)
    mix = combine(mix_ends([a, b], [60, 108]), TH, rng)
    for name in a:
        want = (60 * a[name][0] + 108 * b[name][0]) / 168
        assert [mix["ends"][name]["share_within"][f"{t}"] for t in TH] == pytest.approx(want, abs=1e-6)
    lo, hi = mix["share_within"]["12"]
    assert lo <= mix["share_within_central"]["12"] <= hi


# ------------------------------------------------------------------ compare: the difference and the uncertainty
from kazerne.report.intervals import difference  # noqa: E402


def _block(lo, hi, central, ends=None):
    b = {
        "share_within": {"12": [lo, hi]},
        "share_within_central": {"12": central},
        "mean_response_min": [10.0, 12.0],
        "mean_response_min_central": 11.0,
        "ranges": {"source": "default", **{k: list(v) for k, v in DEFAULT_RANGES.items()}},
    }
    if ends is not None:
        b["ends"] = {n: {"share_within": {"12": v}, "mean_response_min": 11.0} for n, v in ends.items()}
    return b


def test_compare_verdict_inside_and_outside_the_uncertainty():
    """Inside: the difference is no larger than the intervals' overlap; outside: it is."""
    a = _block(0.46, 0.74, 0.61)
    inside = difference(a, _block(0.48, 0.77, 0.63), 12, 0.61, 0.63)  # overlap 0.26 >= 0.02
    assert inside["inside_uncertainty"] and inside["overlap"] == pytest.approx(0.26)
    assert "INSIDE the uncertainty" in inside["verdict"] and "+2.0 pt" in inside["verdict"]
    outside = difference(a, _block(0.70, 0.90, 0.80), 12, 0.61, 0.80)  # overlap 0.04 < 0.19
    assert not outside["inside_uncertainty"] and outside["overlap"] == pytest.approx(0.04)
    assert "larger than the uncertainty" in outside["verdict"]
    apart = difference(a, _block(0.80, 0.95, 0.88), 12, 0.61, 0.88)
    assert not apart["inside_uncertainty"] and apart["overlap"] == 0.0


def test_compare_paired_change_at_each_end():
    """Both runs under the same moved assumption: the change at each end, combined like an interval."""
    names = ["central", "speed_fast", "speed_slow", "call_handling_fast", "call_handling_slow"]
    names += ["turnout_fast", "turnout_slow"]
    sa = [0.61, 0.74, 0.46, 0.66, 0.55, 0.64, 0.58]
    sb = [0.63, 0.77, 0.47, 0.69, 0.56, 0.66, 0.60]  # b above a at every end
    a = _block(0.46, 0.74, 0.61, dict(zip(names, sa)))
    b = _block(0.47, 0.77, 0.63, dict(zip(names, sb)))
    d = difference(a, b, 12, 0.61, 0.63)
    dd = np.array(sb) - np.array(sa)
    up = np.sqrt(np.sum(np.maximum(dd[1:] - dd[0], 0) ** 2))
    dn = np.sqrt(np.sum(np.maximum(dd[0] - dd[1:], 0) ** 2))
    assert d["inside_uncertainty"]  # the two intervals overlap widely ...
    assert d["paired"]["difference"] == pytest.approx([dd[0] - dn, dd[0] + up], abs=1e-4)
    assert d["paired"]["same_sign_at_every_end"]  # ... yet b is ahead whatever the assumption
    assert "its sign holds at every end" in d["verdict"]
    other = _block(0.47, 0.77, 0.63, dict(zip(names, sb)))
    other["ranges"] = {**other["ranges"], "speed_factor": [0.9, 1.1]}
    assert difference(a, other, 12, 0.61, 0.63)["paired"] is None  # different ranges: no paired change


def test_legend_and_console_words_carry_the_interval_and_its_assumption():
    from kazerne.report.intervals import legend_lines, share_text

    out = headline_interval(
        _tt(), _demand(), [10, 12], CALL, ["professional", "volunteer"], kz.get_profile("fire_engine")
    )
    lo, hi = out["share_within"]["12"]
    c = out["share_within_central"]["12"]
    assert share_text(out, 12) == f"{100 * c:.1f} % within 12 min ({100 * lo:.1f}-{100 * hi:.1f} %)"
    lines = legend_lines(out, [10, 12])
    assert lines[1] == f"{100 * c:.1f} % within 12 min ({100 * lo:.1f}–{100 * hi:.1f} %)"
    assert lines[-1] == "range: speed x0.85-1.15, call handling 60-120 s, turnout x0.8-1.25"
    assert "documented default ranges" in out["assumption"] and "x0.85-1.15" in out["assumption"]
