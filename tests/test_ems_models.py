"""MEXCLP, MALP and DSM against brute force over every integer placement of units.

Expected values are computed here, by enumerating all unit vectors x (0..cap_j per base,
sum = n) on 4-6 bases and evaluating the model definitions directly -- never by the code
under test.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from kazerne.coverage.ems import dsm, local_units_for_reliability, malp, malp2, mexclp, units_for_reliability
from kazerne.coverage.problem import from_cost_matrix
from kazerne.errors import InfeasibleError, ModelInputError


def P(cost, w, **kw):
    """The models' input: the shared validated problem (bases = sites)."""
    return from_cost_matrix(cost, w, **kw)


def placements(caps, n, lo=None):
    lo = lo or [0] * len(caps)
    for x in itertools.product(*[range(a, c + 1) for a, c in zip(lo, caps)]):
        if sum(x) == n:
            yield np.array(x)


def instance(seed, nb, nd, dtype=np.float64):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(60.0, 1500.0, (nb, nd)).astype(dtype)
    cost[rng.random((nb, nd)) < 0.1] = np.inf
    w = rng.integers(0, 20, nd).astype(float)
    return cost, w


# ---------------------------------------------------------------- MEXCLP


@pytest.mark.parametrize("seed,nb,n,q", [(1, 4, 3, 0.3), (2, 5, 4, 0.5), (3, 6, 5, 0.2), (4, 6, 3, 0.7)])
def test_mexclp_matches_brute_force(seed, nb, n, q):
    cost, w = instance(seed, nb, 40, np.float32 if seed % 2 else np.float64)
    t = 800.0
    cover = cost <= t
    best = max(float((w * (1 - q ** (x[:, None] * cover).sum(0))).sum()) for x in placements([n] * nb, n))
    res = mexclp(P(cost, w), n, q, t)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, rel=1e-7)
    # the returned placement achieves the reported objective
    x = np.zeros(nb, dtype=int)
    for b, k in res.extra["units"].items():
        x[b] = k
    assert x.sum() == n
    assert float((w * (1 - q ** (x[:, None] * cover).sum(0))).sum()) == pytest.approx(res.objective, rel=1e-7)
    assert res.sites == [b for b in range(nb) if x[b] > 0]
    red = res.extra["reduction"]
    assert red["demand_points"] == 40 and red["demand_atoms"] <= 40


def test_mexclp_expected_value_by_hand():
    # one demand point of weight 10 reachable from bases 0 and 1 only; q = 0.5, 2 units.
    # two units covering it: 10 * (1 - 0.25) = 7.5 (best); one unit: 5.
    cost = np.array([[100.0], [200.0], [2000.0]])
    res = mexclp(P(cost, [10.0]), 2, 0.5, 900.0)
    assert res.objective == pytest.approx(7.5)
    assert sum(res.extra["units"].get(b, 0) for b in (0, 1)) == 2


def test_mexclp_min_units_closed_and_capacity_match_brute_force():
    cost, w = instance(7, 5, 50)
    t, q, n = 900.0, 0.4, 5
    caps = [2, 0, 3, 2, 2]  # base 1 closed
    lo = [1, 0, 0, 0, 1]  # today's units at bases 0 and 4
    cover = cost <= t
    best = max(float((w * (1 - q ** (x[:, None] * cover).sum(0))).sum()) for x in placements(caps, n, lo))
    res = mexclp(
        P(cost, w, site_ids=["A", "B", "C", "D", "E"], closed=["B"]),
        n,
        q,
        t,
        capacity={"A": 2, "B": 5, "C": 3, "D": 2, "E": 2},
        min_units={"A": 1, "E": 1},
    )
    assert res.objective == pytest.approx(best, rel=1e-7)
    units = res.extra["units"]
    assert "B" not in units and units["A"] >= 1 and units["E"] >= 1 and sum(units.values()) == n
    assert all(units[b] <= c for b, c in zip("ACDE", [2, 3, 2, 2]) if b in units)


# ---------------------------------------------------------------- MALP


@pytest.mark.parametrize(
    "q,alpha,b", [(0.4, 0.9, 3), (0.4, 0.84, 2), (0.1, 0.9, 1), (0.3, 0.95, 3), (0.0, 0.99, 1), (0.5, 0.875, 3)]
)
def test_units_for_reliability_by_hand(q, alpha, b):
    # 1 - 0.4^2 = 0.84 < 0.9 <= 1 - 0.4^3 = 0.936;  1 - 0.3^2 = 0.91 < 0.95 <= 0.973;  1 - 0.5^3 = 0.875
    assert units_for_reliability(q, alpha) == b


@pytest.mark.parametrize("seed,nb,n,q,alpha", [(11, 4, 4, 0.4, 0.8), (12, 5, 5, 0.3, 0.9), (13, 6, 4, 0.5, 0.7)])
def test_malp_matches_brute_force(seed, nb, n, q, alpha):
    cost, w = instance(seed, nb, 40)
    t = 900.0
    b = next(k for k in range(1, 50) if 1 - q**k >= alpha)
    cover = cost <= t
    best = max(float(w[(x[:, None] * cover).sum(0) >= b].sum()) for x in placements([n] * nb, n))
    res = malp(P(cost, w), n, q, alpha, t)
    assert res.extra["b"] == b
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best)
    x = np.zeros(nb, dtype=int)
    for k, v in res.extra["units"].items():
        x[k] = v
    assert float(w[(x[:, None] * cover).sum(0) >= b].sum()) == pytest.approx(res.objective)


def test_malp_capacity_brute_force():
    cost, w = instance(14, 5, 40)
    q, alpha, n, t = 0.45, 0.75, 5, 1000.0  # 1 - 0.45 = 0.55 < 0.75 <= 1 - 0.45^2 = 0.7975: b = 2
    caps = [1, 2, 1, 2, 1]
    cover = cost <= t
    best = max(float(w[(x[:, None] * cover).sum(0) >= 2].sum()) for x in placements(caps, n))
    res = malp(P(cost, w), n, q, alpha, t, capacity=caps)
    assert res.extra["b"] == 2
    assert res.objective == pytest.approx(best)


# ---------------------------------------------------------------- MALP II


def malp2_brute(cost, w, n, lpw, alpha, t, caps, nbh=None):
    """Best MALP II placement by enumeration, from the definitions: rho_i = lpw * weight of M_i,
    b_i = smallest b in 1..n with rho_i / b < 1 and 1 - (rho_i / b)^b >= alpha."""
    cover = cost <= t
    open_b = [j for j in range(len(cost)) if caps[j] > 0]
    nd = cost.shape[1]
    if nbh is None:  # the default: points some open base within T of i also covers
        nbh = np.array([[any(cover[j, i] and cover[j, k] for j in open_b) for k in range(nd)] for i in range(nd)])
    rho = lpw * (nbh.astype(float) @ w)
    b = np.array(
        [next((k for k in range(1, n + 1) if r / k < 1 and 1 - (r / k) ** k >= alpha - 1e-12), n + 1) for r in rho]
    )
    best = max(float(w[(x[:, None] * cover).sum(0) >= b].sum()) for x in placements(caps, n))
    return best, b


@pytest.mark.parametrize(
    "seed,nb,n,lpw,alpha",
    [(41, 4, 4, 0.004, 0.8), (42, 5, 5, 0.003, 0.9), (43, 6, 4, 0.006, 0.7), (44, 5, 6, 0.002, 0.95)],
)
def test_malp2_matches_brute_force(seed, nb, n, lpw, alpha):
    cost, w = instance(seed, nb, 40)
    t = 900.0
    best, b = malp2_brute(cost, w, n, lpw, alpha, t, [n] * nb)
    assert len(set(b.tolist())) > 1  # local busy fractions really differ between points
    res = malp2(P(cost, w), n, lpw, alpha, t)
    assert res.status == "optimal"
    assert res.extra["b_by_demand"] == b.tolist()
    assert res.objective == pytest.approx(best)
    x = np.zeros(nb, dtype=int)
    for k, v in res.extra["units"].items():
        x[k] = v
    assert x.sum() == n
    assert float(w[(x[:, None] * (cost <= t)).sum(0) >= b].sum()) == pytest.approx(res.objective)


def test_malp2_given_neighbourhood_capacity_and_closed_match_brute_force():
    cost, w = instance(45, 5, 30)
    rng = np.random.default_rng(45)
    pts = rng.uniform(0, 10, (30, 2))
    nbh = np.linalg.norm(pts[:, None] - pts[None], axis=2) <= 4.0  # "within T" between points
    n, lpw, alpha, t = 5, 0.01, 0.85, 1000.0
    caps = [2, 0, 3, 2, 2]  # base 1 closed
    best, b = malp2_brute(cost, w, n, lpw, alpha, t, caps, nbh)
    assert len(set(b.tolist())) > 1
    res = malp2(P(cost, w, closed=[1]), n, lpw, alpha, t, neighbourhood=nbh, capacity={0: 2, 1: 9, 2: 3, 3: 2, 4: 2})
    assert res.extra["b_by_demand"] == b.tolist()
    assert res.objective == pytest.approx(best)
    assert 1 not in res.extra["units"]


def test_malp2_with_uniform_load_is_malp1_at_its_busy_fraction():
    """Every point's neighbourhood is every point, so every point carries the whole load, 1.2
    Erlangs; by hand, alpha 0.9: b = 1: 1.2 / 1 >= 1, no; b = 2: 1 - 0.6^2 = 0.64, no;
    b = 3: 1 - 0.4^3 = 0.936, yes. Load 0 needs one unit; 5 Erlangs cannot be met by 4 units (5)."""
    assert local_units_for_reliability([1.2, 0.0, 5.0], 0.9, 4).tolist() == [3, 1, 5]
    cost, w = instance(46, 4, 20)
    res = malp2(P(cost, w), 4, 1.2 / w.sum(), 0.9, 900.0, neighbourhood=np.ones((20, 20), dtype=bool))
    assert set(res.extra["b_by_demand"]) == {3}
    cover = cost <= 900.0
    best = max(float(w[(x[:, None] * cover).sum(0) >= 3].sum()) for x in placements([4] * 4, 4))
    assert res.objective == pytest.approx(best)


def test_malp2_bad_inputs():
    cost = np.array([[100.0, 200.0], [300.0, 400.0]])
    with pytest.raises(ModelInputError, match="load_per_weight"):
        malp2(P(cost, [1.0, 1.0]), 2, -1.0)
    with pytest.raises(ModelInputError, match="alpha"):
        malp2(P(cost, [1.0, 1.0]), 2, 0.1, alpha=1.0)
    with pytest.raises(ModelInputError, match="neighbourhood"):
        malp2(P(cost, [1.0, 1.0]), 2, 0.1, neighbourhood=np.ones((3, 3), dtype=bool))


# ---------------------------------------------------------------- DSM


def dsm_brute(cost, w, n, r1, r2, alpha, caps):
    c1 = cost <= r1
    c2 = cost <= r2
    best = None
    for x in placements(caps, n):
        k1 = (x[:, None] * c1).sum(0)
        k2 = (x[:, None] * c2).sum(0)
        if ((k2 < 1) & (w > 0)).any():
            continue
        if w[k1 >= 1].sum() < alpha * w.sum() - 1e-9:
            continue
        v = float(w[k1 >= 2].sum())
        best = v if best is None else max(best, v)
    return best


@pytest.mark.parametrize("seed,nb,n,alpha", [(21, 5, 4, 0.5), (22, 6, 5, 0.6), (23, 4, 4, 0.3), (24, 6, 3, 0.4)])
def test_dsm_matches_brute_force(seed, nb, n, alpha):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(60.0, 1100.0, (nb, 30))
    w = rng.integers(1, 20, 30).astype(float)
    r1, r2 = 500.0, 1000.0
    best = dsm_brute(cost, w, n, r1, r2, alpha, [2] * nb)
    if best is None:
        with pytest.raises(InfeasibleError):
            dsm(P(cost, w), n, r1, r2, alpha)
        return
    res = dsm(P(cost, w), n, r1, r2, alpha)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best)
    units = res.extra["units"]
    assert max(units.values()) <= 2 and sum(units.values()) == n
    assert res.extra["covered_r2_share"] == pytest.approx(1.0)
    assert res.extra["covered_r1_share"] >= alpha - 1e-9


def test_dsm_brute_force_found_feasible_cases():
    # guard: at least one parametrised DSM case above is feasible (so the optimum is checked)
    rng = np.random.default_rng(21)
    cost = rng.uniform(60.0, 1100.0, (5, 30))
    w = rng.integers(1, 20, 30).astype(float)
    assert dsm_brute(cost, w, 4, 500.0, 1000.0, 0.5, [2] * 5) is not None


def test_dsm_names_unreachable_demand():
    cost = np.array([[100.0, 300.0, 2000.0, 50.0, np.inf], [200.0, 100.0, 1900.0, 60.0, np.inf]])
    with pytest.raises(InfeasibleError) as e:
        dsm(P(cost, [1, 1, 1, 1, 1], demand_ids=["a", "b", "c", "d", "e"]), 2, 300.0, 900.0, 0.5)
    msg = str(e.value)
    assert "'c'" in msg and "'e'" in msg and "'a'" not in msg and "r2" in msg and "2 demand point" in msg


def test_dsm_too_few_units():
    # three far-apart clusters, each reachable within r2 only from its own base: 2 units can't do it
    cost = np.array([[100.0, 2000.0, 2000.0], [2000.0, 100.0, 2000.0], [2000.0, 2000.0, 100.0]])
    with pytest.raises(InfeasibleError) as e:
        dsm(P(cost, [1, 1, 1]), 2, 300.0, 900.0, 0.5)
    assert "n_units" in str(e.value) and "too few" in str(e.value)


def test_dsm_alpha_unreachable():
    cost = np.array([[100.0, 800.0, 800.0], [800.0, 800.0, 800.0]])
    with pytest.raises(InfeasibleError) as e:
        dsm(P(cost, [1, 1, 1]), 2, 300.0, 900.0, 0.9)
    assert "alpha" in str(e.value) and "33.3%" in str(e.value)


def test_dsm_closed_base_makes_demand_unreachable():
    cost = np.array([[100.0, 2000.0], [2000.0, 100.0]])
    with pytest.raises(InfeasibleError, match="1 demand point.*no open base within r2.*: 1$"):
        dsm(P(cost, [1, 1], site_ids=["x", "y"], closed=["y"]), 2, 300.0, 900.0, 0.0)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("model", ["mexclp", "malp", "dsm"])
def test_bad_inputs_raise_model_input_error(model):
    def call(cost=None, w=None, n=2, **kw):
        cost = np.array([[100.0, 200.0], [300.0, 400.0]]) if cost is None else cost
        w = [1.0, 1.0] if w is None else w
        prob = P(cost, w, closed=kw.pop("closed", None))
        if model == "mexclp":
            return mexclp(prob, n, kw.pop("q", 0.3), **kw)
        if model == "malp":
            return malp(prob, n, kw.pop("q", 0.3), 0.8, **kw)
        kw.pop("q", None)
        return dsm(prob, n, 300.0, 900.0, 0.5, **kw)

    with pytest.raises(ModelInputError, match="cost.*NaN"):
        call(cost=np.array([[np.nan, 1.0], [1.0, 1.0]]))
    with pytest.raises(ModelInputError, match="cost.*negative"):
        call(cost=np.array([[-5.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(ModelInputError, match="weights.*negative"):
        call(w=[1.0, -1.0])
    with pytest.raises(ModelInputError, match="weights.*shape"):
        call(w=[1.0, 1.0, 1.0])
    for bad in (0, -1, 2.5, True, "2"):
        with pytest.raises(ModelInputError, match="n_units"):
            call(n=bad)
    with pytest.raises(ModelInputError, match="n_units.*capacity"):
        call(n=9, capacity=2)
    with pytest.raises(ModelInputError, match="closed.*unknown site id 'zz'"):
        call(closed=["zz"])
    with pytest.raises(ModelInputError, match="min_units"):
        call(min_units=[3, 0], capacity=2)
    if model != "dsm":
        with pytest.raises(ModelInputError, match="q.*overloaded"):
            call(q=1.0)


@pytest.mark.parametrize("seed,tol", [(31, 1e-2), (32, 0.03), (33, 0.3)])
def test_mexclp_tail_truncation_keeps_a_proven_bound(seed, tol):
    cost, w = instance(seed, 5, 40)
    n, q, t = 5, 0.3, 1000.0
    cover = cost <= t
    best = max(float((w * (1 - q ** (x[:, None] * cover).sum(0))).sum()) for x in placements([n] * 5, n))
    res = mexclp(P(cost, w), n, q, t, tail_tolerance=tol)
    levels = next(k for k in range(1, n + 1) if q**k <= tol)
    assert res.extra["levels"] == levels
    x = np.zeros(5, dtype=int)
    for b, k in res.extra["units"].items():
        x[b] = k
    exact_value = float((w * (1 - q ** (x[:, None] * cover).sum(0))).sum())
    assert res.objective == pytest.approx(exact_value, rel=1e-9)  # exact value, not the truncated one
    assert res.bound >= best - 1e-7  # bound is valid
    assert best - res.objective <= res.gap * res.objective + 1e-7
    assert res.bound - best <= float(w[cover.any(0)].sum()) * q**levels + 1e-6 * best


def test_mexclp_without_warm_start_same_optimum():
    cost, w = instance(41, 6, 50)
    a = mexclp(P(cost, w), 4, 0.25, 900.0, warm_start=True)
    b = mexclp(P(cost, w), 4, 0.25, 900.0, warm_start=False)
    assert a.objective == pytest.approx(b.objective, rel=1e-7)
    assert a.extra["heuristic_objective"] <= a.objective + 1e-9


def test_dominated_bases_are_dropped_without_changing_the_optimum():
    # base 1 reaches a subset of what base 0 reaches, base 3 is a copy of base 2
    cost = np.array(
        [
            [100, 200, 300, 2000, 2000, 2000],
            [150, 250, 2000, 2000, 2000, 2000],
            [2000, 2000, 2000, 100, 200, 300],
            [2000, 2000, 2000, 120, 220, 320],
            [2000, 500, 2000, 500, 2000, 2000],
        ],
        dtype=float,
    )
    w = np.array([3.0, 1.0, 2.0, 5.0, 1.0, 1.0])
    q, n, t = 0.35, 3, 600.0
    cover = cost <= t
    best = max(float((w * (1 - q ** (x[:, None] * cover).sum(0))).sum()) for x in placements([n] * 5, n))
    res = mexclp(P(cost, w), n, q, t)
    assert res.extra["reduction"]["dominated_bases_dropped"] == 2
    assert res.extra["reduction"]["model_bases"] == 3
    assert res.objective == pytest.approx(best)
    # with a capacity below n the move is not allowed: nothing dropped, same optimum by brute force
    best_cap = max(float((w * (1 - q ** (x[:, None] * cover).sum(0))).sum()) for x in placements([1] * 5, n))
    res_cap = mexclp(P(cost, w), n, q, t, capacity=1)
    assert res_cap.extra["reduction"]["dominated_bases_dropped"] == 0
    assert res_cap.objective == pytest.approx(best_cap)


@pytest.mark.parametrize("model", [mexclp, malp, malp2, dsm])
def test_models_take_the_shared_problem_type(model):
    """A raw matrix is refused with a line that says what to pass (the one seam of the models)."""
    with pytest.raises(ModelInputError, match="expected a Problem .*from_cost_matrix.*got ndarray"):
        model(np.array([[100.0, 200.0]]), 1, 0.3)


def test_fixed_bases_keep_a_unit_and_optimal_means_a_zero_gap():
    """``fixed`` in the problem = at least one unit there (brute force over placements with it)."""
    cost, w = instance(8, 5, 40)
    n, q, t = 4, 0.35, 900.0
    cover = cost <= t
    best = max(
        float((w * (1 - q ** (x[:, None] * cover).sum(0))).sum()) for x in placements([n] * 5, n, [0, 0, 0, 1, 0])
    )
    free = mexclp(P(cost, w), n, q, t)
    assert 3 not in free.extra["units"]  # without the constraint base 3 gets no unit
    res = mexclp(P(cost, w, fixed=[3]), n, q, t)
    assert res.extra["units"][3] >= 1
    assert res.objective < free.objective
    assert res.status == "optimal" and res.gap == 0.0
    assert res.objective == pytest.approx(best, rel=1e-9)
