"""The response-time model (kazerne.response): turnout distributions, the probability of arrival
within T, the expected response from the call, time slices.

Expected values come from scipy.stats / scipy.integrate and closed forms written out here, never
from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

import kazerne as kz
from kazerne.coverage.metrics import evaluate
from kazerne.errors import ModelInputError
from kazerne.response import DEFAULT_SLICES, summarise


def lognorm(median, p90, lo):
    """The shifted log-normal with this median and 90th percentile, in scipy.stats terms."""
    sigma = math.log((p90 - lo) / (median - lo)) / stats.norm.ppf(0.9)
    return stats.lognorm(s=sigma, loc=lo, scale=median - lo)


def test_fitted_distribution_has_the_given_median_and_p90():
    d = kz.TurnoutDist(300, 480, 120)
    ref = lognorm(300, 480, 120)
    assert d.quantile(0.5) == pytest.approx(300, abs=1e-9)
    assert d.quantile(0.9) == pytest.approx(480, abs=1e-9)
    t = np.array([0, 119.9, 120, 150, 300, 480, 900, 3000.0])
    np.testing.assert_allclose(d.cdf(t), ref.cdf(t), atol=1e-12)
    assert d.mean() == pytest.approx(ref.mean(), rel=1e-12)
    # without a shift: a plain log-normal
    d0 = kz.TurnoutDist(90, 120)
    np.testing.assert_allclose(d0.cdf([60, 90, 120, 200]), lognorm(90, 120, 0).cdf([60, 90, 120, 200]), atol=1e-12)


def test_fixed_turnout_is_a_point_mass():
    d = kz.TurnoutDist(90)
    assert d.fixed and d.sigma == 0 and d.p90_s == 90 and d.mean() == 90
    assert list(d.cdf([89.999, 90, 90.001])) == [0.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "args, field",
    [((300, 200), "p90_s"), ((300, 480, 300), "min_s"), ((300, 480, 400), "min_s"), ((-1,), "median_s")],
)
def test_bad_distributions_are_refused(args, field):
    with pytest.raises(ModelInputError) as e:
        kz.TurnoutDist(*args)
    assert e.value.field == field


# --------------------------------------------------------------------------- two posts, by hand


def test_two_posts_probability_and_mean_against_scipy():
    """Post A: professional 90/120 s (at least 45 s), 310 s of driving; post B: volunteer 300/480 s (at
    least 120 s), 200 s of driving; call handling 90 s. P(R <= T) = 1 - (1 - F_A(T - 90 - 310)) (1 -
    F_B(T - 90 - 200)); E[R] = 90 + integral of the product of the survival functions."""
    a, b = lognorm(90, 120, 45), lognorm(300, 480, 120)
    da, db, ch = 310.0, 200.0, 90.0
    # the engine takes times from the alarm with each post's median turnout
    seconds = np.array([[da + 90], [db + 300]])
    dists = [kz.TurnoutDist(90, 120, 45), kz.TurnoutDist(300, 480, 120)]
    th = np.array([400.0, 480, 540, 600, 720, 900])
    p = kz.arrival_probability(seconds, dists, th, call_handling_s=ch)[:, 0]
    want = 1 - a.sf(th - ch - da) * b.sf(th - ch - db)
    np.testing.assert_allclose(p, want, atol=1e-12)
    # hand check of one value: at T = 600 s post A alone arrives with P = F_A(200) (~1); B adds nothing
    assert p[3] == pytest.approx(1 - a.sf(200) * b.sf(310), abs=1e-12)
    m, _ = integrate.quad(lambda s: a.sf(s - da) * b.sf(s - db), 0, 5000, points=[da + 45, db + 120], limit=500)
    e = kz.expected_response(seconds, dists, call_handling_s=ch)[0]
    assert e == pytest.approx(ch + m, abs=0.01)


def test_two_identical_exponential_like_posts_closed_form():
    """Two posts with the same fixed driving time and the same plain log-normal turnout: the min of
    two independent copies has P(min <= x) = 1 - S(x)^2 (closed form)."""
    d = kz.TurnoutDist(120, 240)
    ref = lognorm(120, 240, 0)
    seconds = np.array([[500.0 + 120], [500.0 + 120]])
    th = np.array([560.0, 620, 700, 800])
    p = kz.arrival_probability(seconds, d, th)[:, 0]
    np.testing.assert_allclose(p, 1 - ref.sf(th - 500) ** 2, atol=1e-12)
    m, _ = integrate.quad(lambda x: ref.sf(x) ** 2, 0, 20000, points=[120, 240], limit=500)
    assert kz.expected_response(seconds, d)[0] == pytest.approx(500 + m, abs=0.01)


def test_fixed_post_caps_the_expectation():
    """A fixed post arriving at d caps the min: E = d - integral_0^d F(s) ds for one random post
    starting at 0 (plain log-normal turnout, no driving)."""
    ref = lognorm(300, 480, 120)
    seconds = np.array([[400.0], [0.0 + 300]])  # fixed post arrives at 400 s; the random one at X
    dists = [kz.TurnoutDist(400), kz.TurnoutDist(300, 480, 120)]
    want = 400 - integrate.quad(ref.cdf, 0, 400, points=[120])[0]
    assert kz.expected_response(seconds, dists)[0] == pytest.approx(want, abs=0.01)


def test_pruning_is_exact_against_every_post():
    """The engine keeps only the posts that can matter per demand point; the full product over all 25
    posts (scipy.stats) gives the same probabilities and (by quadrature) the same means."""
    rng = np.random.default_rng(7)
    n_s, n_d = 25, 40
    drive = rng.uniform(30, 1500, (n_s, n_d))
    drive[rng.random((n_s, n_d)) < 0.1] = np.inf
    kinds = [(90, 120, 45), (300, 480, 120), (200, 200, 0)]
    pick = rng.integers(0, 3, n_s)
    dists = [kz.TurnoutDist(*kinds[k]) for k in pick]
    seconds = drive + np.array([kinds[k][0] for k in pick])[:, None]
    th = np.array([480.0, 720, 900])
    ch = 60.0
    p = kz.arrival_probability(seconds, dists, th, call_handling_s=ch)

    def cdf(k, x):
        med, p90, lo = kinds[k]
        if med == p90:
            return (x >= med).astype(float)
        return lognorm(med, p90, lo).cdf(x)

    frozen = [lognorm(*k) if k[0] != k[1] else None for k in kinds]

    def sf(k, x):
        """P(turnout > x) of kind k, vectorised over x."""
        return (x < kinds[k][0]).astype(float) if frozen[k] is None else frozen[k].sf(x)

    for j in range(n_d):
        surv = np.ones(len(th))
        for i in range(n_s):
            surv *= sf(pick[i], th - ch - drive[i, j])
        np.testing.assert_allclose(p[:, j], 1 - surv, atol=1e-12)
    e = kz.expected_response(seconds, dists, call_handling_s=ch)
    for j in (0, 13, 27):

        def sf_min(s, j=j):
            out = 1.0
            for k in range(3):
                out *= np.prod(sf(k, s - drive[pick == k, j]))
            return out

        starts = [drive[i, j] + (kinds[pick[i]][2] if frozen[pick[i]] else kinds[pick[i]][0]) for i in range(n_s)]
        lo = min(starts)
        pts = sorted(x for x in starts if lo < x < lo + 4000)
        m = integrate.quad(sf_min, lo, lo + 4000, points=pts[:50], limit=1000)[0]
        assert e[j] == pytest.approx(ch + lo + m, abs=0.02)


# --------------------------------------------------------------------------- zero spread = today


def test_zero_spread_no_call_handling_equals_the_deterministic_metrics_exactly():
    rng = np.random.default_rng(3)
    n_s, n_d = 9, 3000
    seconds = rng.uniform(100, 1500, (n_s, n_d)).astype(np.float32)
    seconds[rng.random((n_s, n_d)) < 0.2] = np.inf
    seconds[:, :5] = np.inf  # nobody reaches these
    w = rng.uniform(0, 50, n_d)
    nrd = rng.random(n_d) < 0.05
    mun = rng.integers(0, 4, n_d)
    th = np.array([480.0, 600, 720, 900])
    dists = [kz.TurnoutDist(float(rng.integers(60, 400))) for _ in range(n_s)]
    old = evaluate(seconds, w, th, no_road_data=nrd, municipality=mun, municipality_names=list("abcd"))
    m = np.where(nrd[None, :], np.inf, seconds)
    p = kz.arrival_probability(m, dists, th)
    assert set(np.unique(p)) <= {0.0, 1.0}
    ev = kz.expected_response(m, dists)
    rep = summarise(p, ev, w, th, 0.0, no_road_data=nrd, municipality=mun, municipality_names=list("abcd"))
    assert rep.zone_share.tolist() == old.zone_share.tolist()
    assert rep.zone_weight_within.tolist() == old.zone_weight_within.tolist()
    assert rep.mean_s == old.mean_s  # inf here: some points are unreached, as in the old mean
    assert [m_["share_within"] for m_ in rep.municipalities] == [m_["share_within"] for m_ in old.municipalities]
    assert [m_["mean_s"] for m_ in rep.municipalities] == [m_["mean_s"] for m_ in old.municipalities]
    ok = ~nrd
    assert np.array_equal(ev[ok], old.first_s[ok])


# --------------------------------------------------------------------------- mix and week


def test_mix_weights_by_hours():
    th = np.array([600.0])
    w = np.array([1.0, 3.0])
    r1 = summarise(np.array([[1.0, 0.0]]), np.array([500.0, 900.0]), w, th, name="day", weight=60 / 168)
    r2 = summarise(np.array([[1.0, 1.0]]), np.array([400.0, 500.0]), w, th, name="night", weight=108 / 168)
    mix = kz.mix_reports([r1, r2])
    # day: 1/4 covered, mean (500 + 2700) / 4 = 800; night: all, mean (400 + 1500) / 4 = 475
    assert mix.zone_share[0] == pytest.approx(60 / 168 * 0.25 + 108 / 168 * 1.0)
    assert mix.mean_s == pytest.approx(60 / 168 * 800 + 108 / 168 * 475)


def test_default_week_split():
    assert kz.check_week([s for s, _ in DEFAULT_SLICES]) == [60.0, 60.0, 48.0]
    night = DEFAULT_SLICES[1][0].minutes()
    assert night[0] and night[6 * 60 + 59] and not night[7 * 60] and night[19 * 60] and not night[5 * 1440]


def test_overlap_and_gap_are_named():
    day = kz.TimeSlice("day", (0, 1, 2, 3, 4), 7, 19)
    night = kz.TimeSlice("night", (0, 1, 2, 3, 4), 18, 7)
    weekend = kz.TimeSlice("weekend", (5, 6), 0, 24)
    with pytest.raises(ModelInputError, match="overlaps slice 'day' from Monday 18:00") as e:
        kz.check_week([day, night, weekend])
    assert e.value.field == "slices[1].hours"
    with pytest.raises(ModelInputError, match="no slice covers Saturday 00:00 to Monday 00:00") as e:
        kz.check_week([day, kz.TimeSlice("night", (0, 1, 2, 3, 4), 19, 7)])
    assert e.value.field == "slices"


def test_travel_times_shifted_to_the_call_is_exact():
    """TravelTimes.shifted(C): every time + C in float64 (a float32 time + 90 s crossing 512 s is not
    rounded), the cutoff and node times move with it, 0 is the identity, a negative C is refused."""
    from kazerne.routing.travel import TravelTimes

    sec = np.array([[np.nextafter(np.float32(480.0), np.float32(1e9)), np.inf], [100.0, 421.5]], dtype=np.float32)
    tt = TravelTimes(site_ids=["a", "b"], turnout_s=np.array([90.0, 300.0]), seconds=sec, cutoff_s=600.0)
    tt.node_seconds = np.array([[1.0, 2.0], [3.0, 4.0]])
    call = tt.shifted(90)
    assert call.seconds.dtype == np.float64
    assert call.seconds[0, 0] == float(sec[0, 0]) + 90.0 and call.seconds[0, 0] > 570.0  # not rounded to 570
    assert np.isinf(call.seconds[0, 1]) and call.seconds[1, 1] == 511.5
    assert call.cutoff_s == 690.0 and call.clock.call_handling_s == 90.0 and "call_handling_s" not in call.meta
    assert call.node_seconds.tolist() == [[91.0, 92.0], [93.0, 94.0]]
    assert (call.dense() <= 570.0).sum() == (sec <= 480.0).sum()
    assert tt.shifted(0) is tt
    for bad in (-1.0, float("nan"), "90", True):
        with pytest.raises(ModelInputError, match="call handling"):
            tt.shifted(bad)
