"""Busy fractions and the hypercube model.

Expected values come from hand calculation, closed-form M/M/N results written out here
(Erlang B / C by their textbook sums, ordered-hunt overflow), the correction factors printed
in Larson & Odoni, *Urban Operations Research*, section 5.5.3, or from the exact model when
checking the approximation and the simulation against it.

Tolerances
----------
approximation vs exact: 0.02 absolute on workloads and dispatch shares. Larson & Odoni (5.5)
    report the approximation "within 1 or 2 percent of the exact results" (their 3-unit
    example: max workload error 0.0053).
simulation vs exact: 100,000 recorded calls. A share p estimated from n calls has binomial
    standard error sqrt(p (1-p) / n) <= 0.0016; busy fractions are time averages with
    positive autocorrelation, and the batch-means standard errors the simulation reports
    are 0.002-0.0035 for these instances. We allow 0.01 (about 6 binomial / 3-5 batch-means
    standard errors) and additionally check |diff| < 5 batch-means standard errors + 0.002.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from kazerne.coverage.queueing import (
    correction_factors,
    erlang_b,
    erlang_c,
    hypercube_approx,
    hypercube_exact,
    simulate,
    system_busy_fraction,
    unit_busy_fractions,
)
from kazerne.errors import ModelInputError


def erlang_b_sum(n, a):
    """Erlang B from the textbook sum (a^N/N!) / sum_k a^k/k!."""
    return (a**n / math.factorial(n)) / sum(a**k / math.factorial(k) for k in range(n + 1))


def erlang_c_sum(n, a):
    """Erlang C from the textbook formula."""
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


# ------------------------------------------------------------------ Daskin busy fraction


def test_system_busy_fraction_by_hand():
    # 8760 calls/year of 60 min on 2 units: 8760 unit-hours / (2 * 8760 h) = 0.5
    assert system_busy_fraction(8760, 60, 2) == pytest.approx(0.5)
    # 3000 calls of 70 min on 5 units: 3500 h / 43800 h
    assert system_busy_fraction(3000, 70, 5) == pytest.approx(3500 / 43800)


def test_system_busy_fraction_overloaded_and_bad_inputs():
    with pytest.raises(ModelInputError, match="overloaded.*q = 1.000"):
        system_busy_fraction(8760, 60, 1)
    with pytest.raises(ModelInputError, match="calls_per_year"):
        system_busy_fraction(-1, 60, 1)
    with pytest.raises(ModelInputError, match="mission_minutes"):
        system_busy_fraction(100, 0, 1)
    with pytest.raises(ModelInputError, match="n_units"):
        system_busy_fraction(100, 30, 0)
    with pytest.raises(ModelInputError, match="n_units"):
        system_busy_fraction(100, 30, 1.5)


def test_erlang_formulas_by_hand():
    assert erlang_b(2, 1.0) == pytest.approx(0.2)  # (1/2) / (1 + 1 + 1/2)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)  # 1 / (1 + 1 + 1) ... textbook
    for n, a in [(3, 1.5), (5, 3.7), (12, 9.0)]:
        assert erlang_b(n, a) == pytest.approx(erlang_b_sum(n, a), rel=1e-10)
        assert erlang_c(n, a) == pytest.approx(erlang_c_sum(n, a), rel=1e-10)


def test_correction_factors_match_larson_odoni_example():
    # Urban Operations Research 5.5.3: N = 3, rho = 0.5 -> Q = 1, 0.73684, 0.63158
    assert correction_factors(3, 1.5, queue=True) == pytest.approx([1.0, 0.73684, 0.63158], abs=5e-6)


# ------------------------------------------------------------------ exact model, closed forms


@pytest.mark.parametrize("n,a", [(1, 0.4), (3, 1.2), (4, 2.5), (6, 4.0)])
def test_exact_single_base_loss_is_erlang_b_with_ordered_hunt(n, a):
    s = 600.0
    cost = np.array([[100.0, 300.0, 700.0]])
    res = hypercube_exact(cost, [1.0, 2.0, 3.0], np.zeros(n, dtype=int), a / s, s, queue=False)
    b = erlang_b_sum(n, a)
    assert res.p_all_busy == pytest.approx(b, abs=1e-10)
    assert res.busy.mean() == pytest.approx(a * (1 - b) / n, abs=1e-10)
    # units at one base are hunted in index order: unit k carries a (B(k-1) - B(k))
    expected = [a * (erlang_b_sum(k - 1, a) - erlang_b_sum(k, a)) for k in range(1, n + 1)]
    assert res.busy == pytest.approx(expected, abs=1e-10)
    # every call not lost is served by the base: within T=300 only for demand 0 and 1
    assert res.share_within(300.0) == pytest.approx((3 / 6) * (1 - b), abs=1e-10)


@pytest.mark.parametrize("n,a", [(1, 0.4), (3, 1.2), (4, 2.5), (5, 4.2)])
def test_exact_single_base_queue_is_erlang_c(n, a):
    s = 900.0
    cost = np.array([[100.0, 300.0]])
    res = hypercube_exact(cost, [1.0, 1.0], np.zeros(n, dtype=int), a / s, s, queue=True)
    assert res.p_all_busy == pytest.approx(erlang_c_sum(n, a), abs=1e-10)
    assert res.busy.mean() == pytest.approx(a / n, abs=1e-10)
    assert res.dispatch.sum(axis=1) == pytest.approx(np.full(2, 1 - erlang_c_sum(n, a)), abs=1e-10)


def test_exact_two_units_two_districts_by_hand():
    # two bases, each demand point prefers its own base; symmetric rates -> the number busy is
    # M/M/2/2: P0 = 1/(1+a+a^2/2), P1 = a P0 (split equally over the two units), P2 = a^2/2 P0.
    a, s = 0.8, 1200.0
    cost = np.array([[200.0, 1000.0], [1000.0, 200.0]])
    res = hypercube_exact(cost, [5.0, 5.0], np.array([0, 1]), a / s, s, queue=False)
    p0 = 1 / (1 + a + a * a / 2)
    p1, p2 = a * p0, a * a / 2 * p0
    assert res.busy == pytest.approx([p1 / 2 + p2] * 2, abs=1e-12)
    assert res.dispatch[0] == pytest.approx([p0 + p1 / 2, p1 / 2], abs=1e-12)
    assert res.p_all_busy == pytest.approx(p2, abs=1e-12)
    assert res.prob_within(900.0) == pytest.approx([p0 + p1 / 2] * 2, abs=1e-12)
    assert res.share_within(900.0) == pytest.approx(p0 + p1 / 2, abs=1e-12)
    assert res.share_within(1000.0) == pytest.approx(1 - p2, abs=1e-12)


def test_unit_busy_fractions_by_hand():
    # 4380 calls/year of 60 min: a = 0.5 Erlang on one unit
    cost = np.array([[100.0, 200.0]])
    loss = unit_busy_fractions(cost, [1, 1], np.array([0]), 4380, 60, queue=False)
    queue = unit_busy_fractions(cost, [1, 1], np.array([0]), 4380, 60, queue=True)
    assert loss == pytest.approx([0.5 / 1.5])
    assert queue == pytest.approx([0.5])
    with pytest.raises(ModelInputError, match="overloaded"):
        unit_busy_fractions(cost, [1, 1], np.array([0]), 9000, 60)


def test_hypercube_bad_inputs():
    cost = np.array([[100.0, 200.0]])
    with pytest.raises(ModelInputError, match="arrival_rate.*grows without bound"):
        hypercube_exact(cost, [1, 1], np.array([0]), 1 / 100, 200.0, queue=True)
    with pytest.raises(ModelInputError, match="unit_bases"):
        hypercube_exact(cost, [1, 1], np.array([3]), 1 / 1000, 200.0)
    with pytest.raises(ModelInputError, match="cost.*NaN"):
        hypercube_approx(np.array([[np.nan, 1.0]]), [1, 1], np.array([0]), 1 / 1000, 200.0)
    with pytest.raises(ModelInputError, match="weights.*negative"):
        hypercube_approx(cost, [1, -1], np.array([0]), 1 / 1000, 200.0)
    with pytest.raises(ModelInputError, match="hypercube_approx"):
        hypercube_exact(cost, [1, 1], np.zeros(20, dtype=int), 1 / 1000, 200.0, max_units=12)


# ------------------------------------------------------------------ approximation vs exact


def spatial_instance(seed, n_bases=6, n_demand=60):
    rng = np.random.default_rng(seed)
    bases = rng.uniform(0, 20_000, (n_bases, 2))
    pts = rng.uniform(0, 20_000, (n_demand, 2))
    d = np.linalg.norm(bases[:, None, :] - pts[None, :, :], axis=2)
    cost = d * 1.4 / (60 / 3.6) + 90.0
    w = rng.gamma(2.0, 1.0, n_demand)
    return cost, w


@pytest.mark.parametrize("queue", [True, False])
@pytest.mark.parametrize("seed,units,load", [(1, [0, 2, 3, 5], 2.0), (2, [1, 2, 4], 1.4), (3, [0, 1, 3, 4], 2.8)])
def test_approx_within_two_percent_of_exact(seed, units, load, queue):
    cost, w = spatial_instance(seed)
    s = 2400.0
    ub = np.array(units)
    ex = hypercube_exact(cost, w, ub, load / s, s, queue=queue)
    ap = hypercube_approx(cost, w, ub, load / s, s, queue=queue)
    assert ap.extra["converged"]
    assert np.max(np.abs(ap.busy - ex.busy)) < 0.02
    assert np.max(np.abs(ap.rank_share() - ex.rank_share())) < 0.02
    assert ap.p_all_busy == pytest.approx(ex.p_all_busy, abs=1e-12)  # both Erlang
    for t in (600.0, 900.0):
        assert abs(ap.share_within(t) - ex.share_within(t)) < 0.02


def test_approx_fast_for_twenty_five_units():
    cost, w = spatial_instance(5, n_bases=40, n_demand=3000)
    ub = np.arange(0, 40, 2)[:20].copy()
    ub = np.concatenate([ub, ub[:5]])  # 25 units, some bases with two
    s = 3000.0
    t0 = time.perf_counter()
    ap = hypercube_approx(cost, w, ub, 12.0 / s, s, queue=True)
    assert time.perf_counter() - t0 < 5.0
    assert ap.extra["converged"]
    assert np.all((ap.busy > 0) & (ap.busy < 1))
    assert ap.dispatch.sum(axis=1) == pytest.approx(np.full(3000, 1 - erlang_c_sum(25, 12.0)), abs=1e-9)


# ------------------------------------------------------------------ simulation vs exact / approx


@pytest.mark.parametrize("queue", [True, False])
def test_simulation_agrees_with_exact_and_approx(queue):
    cost, w = spatial_instance(1)
    s, load = 2400.0, 2.0
    ub = np.array([0, 2, 3, 5])
    ex = hypercube_exact(cost, w, ub, load / s, s, queue=queue)
    ap = hypercube_approx(cost, w, ub, load / s, s, queue=queue)
    sim = simulate(cost, w, ub, load / s, s, queue=queue, n_calls=100_000, seed=2024, t_values=(600.0, 900.0))
    assert sim.extra["n_calls"] == 100_000
    se_b = sim.extra["se_busy"]
    assert np.all(np.abs(sim.busy - ex.busy) < 0.01)
    assert np.all(np.abs(sim.busy - ex.busy) < 5 * se_b + 0.002)
    assert np.all(np.abs(sim.rank_share() - ex.rank_share()) < 0.01)
    assert abs(sim.p_all_busy - ex.p_all_busy) < 0.01
    for t in (600.0, 900.0):
        assert abs(sim.share_within(t) - ex.share_within(t)) < 0.01
        assert abs(sim.share_within(t) - ex.share_within(t)) < 5 * sim.extra["se_share"][t] + 0.002
        # the approximation: its own 0.02 plus the simulation's 0.01
        assert abs(sim.share_within(t) - ap.share_within(t)) < 0.03
    assert np.all(np.abs(sim.busy - ap.busy) < 0.03)


def test_simulation_is_reproducible_with_seed():
    cost, w = spatial_instance(4)
    ub = np.array([0, 1])
    a = simulate(cost, w, ub, 1 / 3000, 1500.0, n_calls=3000, warmup_calls=100, seed=7)
    b = simulate(cost, w, ub, 1 / 3000, 1500.0, n_calls=3000, warmup_calls=100, seed=7)
    c = simulate(cost, w, ub, 1 / 3000, 1500.0, n_calls=3000, warmup_calls=100, seed=8)
    assert np.array_equal(a.busy, b.busy) and a.share_within(900.0) == b.share_within(900.0)
    assert not np.array_equal(a.busy, c.busy)


def test_simulation_single_unit_queue_matches_mm1():
    # M/M/1: busy = rho, P(wait) = rho (hand formula)
    cost = np.array([[100.0, 300.0]])
    sim = simulate(cost, [1, 1], np.array([0]), 0.6 / 600, 600.0, queue=True, n_calls=100_000, seed=3)
    assert sim.busy[0] == pytest.approx(0.6, abs=0.01)
    assert sim.p_all_busy == pytest.approx(0.6, abs=0.01)
    assert sim.share_within(900.0) == pytest.approx(0.4, abs=0.01)


def test_simulation_share_for_unrecorded_t_is_a_clear_error():
    cost = np.array([[100.0, 300.0]])
    sim = simulate(
        cost, [1, 1], np.array([0]), 0.3 / 600, 600.0, n_calls=2000, warmup_calls=100, seed=1, t_values=(900.0,)
    )
    with pytest.raises(ModelInputError, match="t_values"):
        sim.share_within(600.0)


@pytest.mark.parametrize("queue", [True, False])
def test_approx_workloads_sum_to_the_mmn_value(queue):
    # Larson's procedure conserves total workload: a with a queue, a (1 - B(N, a)) with losses
    cost, w = spatial_instance(6, n_bases=8, n_demand=200)
    ub = np.array([0, 1, 1, 3, 4, 6, 7])
    a, s = 3.1, 1800.0
    ap = hypercube_approx(cost, w, ub, a / s, s, queue=queue)
    expected = a if queue else a * (1 - erlang_b_sum(7, a))
    assert ap.busy.sum() == pytest.approx(expected, abs=1e-8)


def test_first_choice_workloads_by_hand():
    # demand 0 (weight 3) nearest to base 0 (two units), demand 1 (weight 1) nearest to base 1.
    # 8760 calls/year x 30 min = 4380 unit-hours/year = 0.5 Erlang; shares 3/4 and 1/4.
    cost = np.array([[100.0, 900.0], [800.0, 200.0]])
    busy = unit_busy_fractions(cost, [3.0, 1.0], np.array([0, 0, 1]), 8760, 30, method="first_choice")
    assert busy == pytest.approx([0.5 * 0.75 / 2, 0.5 * 0.75 / 2, 0.5 * 0.25])
    with pytest.raises(ModelInputError, match="method"):
        unit_busy_fractions(cost, [3.0, 1.0], np.array([0, 1]), 8760, 30, method="nearest")
