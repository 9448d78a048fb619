"""Coverage metrics (``kazerne.coverage.metrics``) on hand-made cases.

Every expected number below is worked out by hand in the comments next to it; nothing is taken
from the code under test. The property tests compare ``evaluate`` with a brute-force
recomputation written here from the definitions (plain Python loops).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kazerne.coverage.metrics import evaluate, weighted_percentile, worst_served

INF = math.inf

# ---------------------------------------------------------------------------------------------
# The hand case: 3 sites (A=0, B=1, C=2) x 8 demand points, thresholds 300 s and 600 s.
#
#   point  A     B     C     weight  municipality  no_road_data   first (site)  second (site)
#   d0     200   400   700   10      0 "Noord"                    200 (A)       400 (B)
#   d1     500   500   900   20      0                            500 (A)       500 (B)   tie -> A first
#   d2     inf   350   650    5      1 "Zuid"                     350 (B)       650 (C)
#   d3     inf   inf   inf    7      1                            inf (-1)      inf (-1)  unreachable
#   d4     100   100   100    3      0             yes            nan (-1)      nan (-1)  excluded
#   d5     800   inf   250   15      1                            250 (C)       800 (A)
#   d6     300   601   inf    4      0                            300 (A)       601 (B)   exactly 300
#   d7     inf   inf   590    6      1                            590 (C)       inf (-1)  one unit only
# ---------------------------------------------------------------------------------------------
SECONDS = np.array(
    [
        [200, 500, INF, INF, 100, 800, 300, INF],
        [400, 500, 350, INF, 100, INF, 601, INF],
        [700, 900, 650, INF, 100, 250, INF, 590],
    ],
    dtype=float,
)
WEIGHTS = np.array([10, 20, 5, 7, 3, 15, 4, 6], dtype=float)
MUNI = np.array([0, 0, 1, 1, 0, 1, 0, 1])
NAMES = ["Noord", "Zuid"]
NRD = np.array([False, False, False, False, True, False, False, False])
THRESHOLDS = [600, 300]  # given unsorted on purpose: the report sorts them (300, 600)


@pytest.fixture(scope="module")
def rep():
    return evaluate(
        SECONDS,
        WEIGHTS,
        THRESHOLDS,
        no_road_data=NRD,
        municipality=MUNI,
        municipality_names=NAMES,
        cell_area_km2=0.0625,
    )


def test_thresholds_are_sorted(rep):
    assert list(rep.thresholds_s) == [300.0, 600.0]


def test_first_and_second_arrival_per_point(rep):
    np.testing.assert_array_equal(rep.first_s, [200, 500, 350, INF, np.nan, 250, 300, 590])
    np.testing.assert_array_equal(rep.second_s, [400, 500, 650, INF, np.nan, 800, 601, INF])
    # ties broken by site order: d1 has A=B=500 -> A first, B second
    np.testing.assert_array_equal(rep.first_site, [0, 0, 1, -1, -1, 2, 0, 2])
    np.testing.assert_array_equal(rep.second_site, [1, 1, 2, -1, -1, 0, 1, -1])


def test_totals_exclude_no_road_data(rep):
    # road-data weight: 10+20+5+7+15+4+6 = 67; d4 (3) reported apart
    assert rep.total_weight == 67.0
    assert rep.no_road_data_weight == 3.0
    # unreachable: d3 only
    assert rep.unreached_weight == 7.0


def test_zone_shares_per_threshold(rep):
    # <= 300: d0 (10) + d5 (15) + d6 (4, exactly 300 counts) = 29
    # <= 600: d0 10 + d1 20 + d2 5 + d5 15 + d6 4 + d7 6 = 60   (d3 unreachable, d4 excluded)
    np.testing.assert_allclose(rep.zone_weight_within, [29.0, 60.0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(rep.zone_share, [29 / 67, 60 / 67], rtol=1e-12)


def test_weight_with_no_second_unit(rep):
    # no second unit within 300: no point has a second arrival <= 300 -> all road-data weight 67
    # within 600: d0 (second 400) and d1 (500) have one; d2 650, d3 inf, d5 800, d6 601, d7 none
    #   -> 5 + 7 + 15 + 4 + 6 = 37.  d4 (no road data) is never counted.
    np.testing.assert_allclose(rep.zone_no_second, [67.0, 37.0], rtol=0, atol=1e-12)


def test_per_municipality(rep):
    noord, zuid = rep.municipalities
    assert noord["municipality"] == "Noord" and zuid["municipality"] == "Zuid"
    # Noord = d0, d1, d4, d6: population 10+20+3+4 = 37 of which 3 without road data
    assert noord["population"] == 37.0
    assert noord["no_road_data"] == 3.0
    # road-data weight 34: <=300 d0+d6 = 14; <=600 all 34
    np.testing.assert_allclose(noord["share_within"], [14 / 34, 1.0], rtol=1e-12)
    # no second within 300: 10+20+4 = 34; within 600: only d6 (second 601) -> 4
    np.testing.assert_allclose(noord["no_second_within"], [34.0, 4.0], rtol=0, atol=1e-12)
    # mean (200*10 + 500*20 + 300*4) / 34 = 13200 / 34
    assert noord["mean_s"] == pytest.approx(13200 / 34, rel=1e-12)
    # p90: sorted 200 (cum 10), 300 (14), 500 (34); 0.9 * 34 = 30.6 -> 500
    assert noord["p90_s"] == 500.0

    # Zuid = d2, d3, d5, d7: 5+7+15+6 = 33, all with road data
    assert zuid["population"] == 33.0
    assert zuid["no_road_data"] == 0.0
    # <=300: d5 15; <=600: d2 5 + d5 15 + d7 6 = 26
    np.testing.assert_allclose(zuid["share_within"], [15 / 33, 26 / 33], rtol=1e-12)
    # nobody in Zuid has a second unit within 600 (650, inf, 800, inf)
    np.testing.assert_allclose(zuid["no_second_within"], [33.0, 33.0], rtol=0, atol=1e-12)
    # d3 is unreachable: its weight 7 is above the top 10% (cum 26 of 33 < 29.7) -> p90 inf,
    # and the mean is inf (an unreachable point is not silently dropped from the mean)
    assert zuid["p90_s"] == INF
    assert zuid["mean_s"] == INF


def test_first_due_per_site(rep):
    a, b, c = rep.sites
    # A first for d0 (10), d1 (20, won the tie), d6 (4); d4 is no_road_data -> not counted
    assert (a["first_due_weight"], a["first_due_points"]) == (34.0, 3)
    assert (b["first_due_weight"], b["first_due_points"]) == (5.0, 1)
    assert (c["first_due_weight"], c["first_due_points"]) == (21.0, 2)
    # areas: points x 0.0625 km2
    assert [s["first_due_area_km2"] for s in rep.sites] == pytest.approx([0.1875, 0.0625, 0.125])
    # first-due weights + unreachable = road-data weight: 34 + 5 + 21 + 7 = 67
    assert sum(s["first_due_weight"] for s in rep.sites) + rep.unreached_weight == 67.0


def test_zone_p90_with_unreachable(rep):
    # sorted: 200 (10), 250 (25), 300 (29), 350 (34), 500 (54), 590 (60), inf (67)
    # 0.9 * 67 = 60.3 > 60 -> the p90 is the unreachable point: inf
    assert rep.p90_s == INF
    assert rep.mean_s == INF


def test_no_road_data_point_ignores_its_times():
    # the nrd column has the fastest time (1 s): it must not raise any share nor count for a site
    s = np.array([[1.0, 500.0], [1.0, 700.0]])
    r = evaluate(s, [100.0, 1.0], [600], no_road_data=[True, False])
    assert r.total_weight == 1.0 and r.no_road_data_weight == 100.0
    assert list(r.zone_share) == [1.0]
    assert [x["first_due_weight"] for x in r.sites] == [1.0, 0.0]


def test_mean_and_p90_without_unreachable():
    # first arrivals 60, 120, 180, 240, 300 s with weights 1, 2, 3, 4, 10 (site 1 always later)
    first = np.array([60, 120, 180, 240, 300], dtype=float)
    s = np.vstack([first, first + 1000])
    w = np.array([1, 2, 3, 4, 10], dtype=float)
    r = evaluate(s, w, [200])
    # mean = (60 + 240 + 540 + 960 + 3000) / 20 = 4800 / 20 = 240
    assert r.mean_s == pytest.approx(240.0, rel=1e-12)
    # cum 1, 3, 6, 10, 20; 0.9 * 20 = 18 -> 300
    assert r.p90_s == 300.0
    # share <= 200: 1 + 2 + 3 = 6 of 20
    assert r.zone_share[0] == pytest.approx(0.3, rel=1e-12)
    assert r.municipalities == []
    assert r.unreached_weight == 0.0


def test_ties_broken_by_site_order():
    # column 0: B = C = 3 < A -> first B (1), second C (2); column 1: all 9 -> A then B
    s = np.array([[9.0, 9.0], [3.0, 9.0], [3.0, 9.0]])
    r = evaluate(s, [1.0, 1.0], [5])
    assert list(r.first_site) == [1, 0]
    assert list(r.second_site) == [2, 1]
    assert [x["first_due_points"] for x in r.sites] == [1, 1, 0]


def test_single_site_has_no_second_unit():
    r = evaluate(np.array([[100.0, 200.0]]), [2.0, 3.0], [150, 250])
    assert np.all(np.isinf(r.second_s)) and list(r.second_site) == [-1, -1]
    np.testing.assert_allclose(r.zone_no_second, [5.0, 5.0])
    np.testing.assert_allclose(r.zone_share, [0.4, 1.0])


def test_weighted_percentile_by_hand():
    v = np.array([4.0, 1.0, 3.0, 2.0])
    w = np.ones(4)
    # equal weights: cum 1, 2, 3, 4 over sorted 1, 2, 3, 4
    assert weighted_percentile(v, w, 50) == 2.0
    assert weighted_percentile(v, w, 25) == 1.0
    assert weighted_percentile(v, w, 50.1) == 3.0
    assert weighted_percentile(v, w, 100) == 4.0
    # weights shift it: 1 (w 1), 2 (w 1), 3 (w 1), 4 (w 7): 0.5 * 10 = 5 -> 4
    assert weighted_percentile(v, np.array([7.0, 1.0, 1.0, 1.0]), 50) == 4.0
    # nan values are ignored, inf allowed
    assert weighted_percentile(np.array([np.nan, 5.0, INF]), np.array([100.0, 1.0, 1.0]), 50) == 5.0
    assert weighted_percentile(np.array([np.nan, 5.0, INF]), np.array([100.0, 1.0, 1.0]), 90) == INF
    assert math.isnan(weighted_percentile(np.array([np.nan]), np.array([1.0]), 50))


def test_worst_served(rep):
    # slowest first, unreachable first: d3 (inf), d7 590, d1 500, d2 350, d6 300, d5 250, d0 200;
    # d4 (no road data) never appears
    assert list(worst_served(rep, WEIGHTS, n=3)) == [3, 7, 1]
    assert list(worst_served(rep, WEIGHTS, n=100)) == [3, 7, 1, 2, 6, 5, 0]
    # min_weight 6 keeps d0 (10), d1 (20), d3 (7), d5 (15), d7 (6)
    assert list(worst_served(rep, WEIGHTS, n=100, min_weight=6)) == [3, 7, 1, 5, 0]


# ---------------------------------------------------------------------------------------------
# Property tests against a brute-force recomputation written from the definitions
# ---------------------------------------------------------------------------------------------

times_st = st.one_of(st.integers(0, 30).map(lambda k: 60.0 * k / 2), st.just(INF))


@st.composite
def instances(draw):
    n_s = draw(st.integers(1, 4))
    n_d = draw(st.integers(1, 12))
    s = np.array([[draw(times_st) for _ in range(n_d)] for _ in range(n_s)], dtype=float)
    w = np.array([draw(st.integers(0, 20)) for _ in range(n_d)], dtype=float)
    nrd = np.array([draw(st.booleans()) and draw(st.booleans()) for _ in range(n_d)])
    mun = np.array([draw(st.integers(0, 2)) for _ in range(n_d)])
    th = sorted(set(draw(st.lists(st.integers(1, 16).map(lambda m: 60.0 * m), min_size=1, max_size=4))))
    return s, w, nrd, mun, th


def brute(s, w, nrd, mun, th):
    """Shares and no-second weights by plain loops over the definitions."""
    n_s, n_d = s.shape
    zone_within, zone_nosec, tot = [0.0] * len(th), [0.0] * len(th), 0.0
    mw = {m: [0.0] * len(th) for m in range(3)}
    mt = {m: 0.0 for m in range(3)}
    first_due = [0.0] * n_s
    for j in range(n_d):
        if nrd[j]:
            continue
        col = sorted((s[i, j], i) for i in range(n_s))  # (time, site): ties by site order
        f = col[0][0]
        sec = col[1][0] if n_s > 1 else INF
        tot += w[j]
        mt[mun[j]] += w[j]
        if f < INF:
            first_due[col[0][1]] += w[j]
        for k, t in enumerate(th):
            if f <= t:
                zone_within[k] += w[j]
                mw[mun[j]][k] += w[j]
            if not sec <= t:
                zone_nosec[k] += w[j]
    share = [x / tot if tot > 0 else math.nan for x in zone_within]
    mshare = {m: [x / mt[m] if mt[m] > 0 else math.nan for x in mw[m]] for m in range(3)}
    return share, zone_nosec, mshare, first_due


@settings(max_examples=150, deadline=None)
@given(instances())
def test_matches_brute_force(inst):
    s, w, nrd, mun, th = inst
    r = evaluate(s, w, th, no_road_data=nrd, municipality=mun, municipality_names=["a", "b", "c"])
    share, nosec, mshare, first_due = brute(s, w, nrd, mun, th)
    np.testing.assert_allclose(r.zone_share, share, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r.zone_no_second, nosec, rtol=1e-12, atol=1e-12)
    for m in range(3):
        np.testing.assert_allclose(r.municipalities[m]["share_within"], mshare[m], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose([x["first_due_weight"] for x in r.sites], first_due, rtol=1e-12, atol=1e-12)
    assert r.no_road_data_weight == pytest.approx(float(w[nrd].sum()))


@settings(max_examples=150, deadline=None)
@given(instances())
def test_shares_monotone_in_threshold(inst):
    s, w, nrd, mun, th = inst
    r = evaluate(s, w, th, no_road_data=nrd, municipality=mun, municipality_names=["a", "b", "c"])
    if r.total_weight > 0:
        assert np.all(np.diff(r.zone_share) >= -1e-15)
        assert np.all(np.diff(r.zone_no_second) <= 1e-12)  # more time -> fewer without a 2nd unit
    for m in r.municipalities:
        sh = np.array(m["share_within"])
        if not np.isnan(sh).any():
            assert np.all(np.diff(sh) >= -1e-15)


@settings(max_examples=150, deadline=None)
@given(instances(), st.integers(0, 3))
def test_removing_a_site_never_increases_a_share(inst, drop):
    s, w, nrd, mun, th = inst
    if s.shape[0] < 2:
        return
    drop = drop % s.shape[0]
    kw = dict(no_road_data=nrd, municipality=mun, municipality_names=["a", "b", "c"])
    full = evaluate(s, w, th, **kw)
    less = evaluate(np.delete(s, drop, axis=0), w, th, **kw)
    if full.total_weight > 0:
        assert np.all(less.zone_share <= full.zone_share + 1e-12)
        assert np.all(less.zone_no_second >= full.zone_no_second - 1e-12)
    for a, b in zip(less.municipalities, full.municipalities):
        for x, y in zip(a["share_within"], b["share_within"]):
            assert math.isnan(y) or x <= y + 1e-12


def test_weightless_unreachable_point_does_not_spoil_the_mean():
    # point 1 is unreachable but has weight 0: mean = p90 = 100 (it used to be nan: inf * 0)
    r = evaluate(np.array([[100.0, INF]]), [1.0, 0.0], [60], municipality=np.array([0, 0]), municipality_names=["a"])
    assert r.mean_s == 100.0 and r.p90_s == 100.0
    assert r.municipalities[0]["mean_s"] == 100.0
