"""The dispatch simulation (kazerne.coverage.simulation): queueing theory, the exact hypercube, hand-worked
missions (a unit at the hospital, a unit on its way back), reproducibility, and one-line input errors."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import kazerne as kz
from kazerne.coverage.queueing import erlang_b, hypercube_exact
from kazerne.coverage.simbuild import pack_units, parse_teams
from kazerne.coverage.simulation import CallModel, EmsSystem, Priority, replay, simulate
from kazerne.errors import ModelInputError
from kazerne.response import TurnoutDist

YEAR = 365 * 86400.0
ONLY_AMB = (Priority("all", 1.0, ("ambulance",)),)


def hypercube_calls(lam, s, queue=False):
    """The hypercube's assumptions: constant Poisson rate, exponential service, no transport."""
    return CallModel(
        calls_per_year=lam * YEAR,
        hourly=np.ones(24),
        priorities=ONLY_AMB,
        exponential_service_s=s,
        queue=queue,
        transport_share=0.0,
    )


def test_one_unit_erlang_b_loss_and_utilisation():
    # M/M/1/1: a call is lost with probability B(1, a) = a / (1 + a); the unit is busy a (1 - B)
    s, a = 1200.0, 0.5
    sysm = EmsSystem.from_matrices(np.array([[300.0, 1000.0]]), [1.0, 3.0], np.array([0]))
    res = simulate(sysm, hypercube_calls(a / s, s), replications=20, days=365, seed=11)
    b = erlang_b(1, a)
    assert b == pytest.approx(1 / 3)
    z = res.zone_row()
    assert z["share_not_reached_lo"] <= b <= z["share_not_reached_hi"]
    assert z["share_not_reached_hi"] - z["share_not_reached_lo"] < 0.01  # the interval has teeth
    u = res.unit_rows()[0]
    assert u["utilisation_lo"] <= a * (1 - b) <= u["utilisation_hi"]
    assert u["utilisation_hi"] - u["utilisation_lo"] < 0.01
    # T = 900 s: the calls of the point at 300 s (weight 1/4) that are not lost
    assert z["share_within_lo"] <= 0.25 * (1 - b) <= z["share_within_hi"]


@pytest.mark.parametrize("seed", [3, 4])
def test_agrees_with_the_exact_hypercube(seed):
    # 5 units on 4 bases (two share one), 30 demand points, 2 Erlang offered, loss system
    rng = np.random.default_rng(seed)
    cost = rng.uniform(100, 1500, (4, 30))
    w = rng.uniform(1, 10, 30)
    ub = np.array([0, 1, 2, 3, 3])
    s = 1800.0
    lam = 2.0 / s
    hc = hypercube_exact(cost, w, ub, lam, s, queue=False)
    res = simulate(EmsSystem.from_matrices(cost, w, ub), hypercube_calls(lam, s), replications=30, seed=seed)
    # 7 comparisons: each at 1 - 0.05 / 7 (Bonferroni), so that all hold together with 95 % probability
    level = 1 - 0.05 / 7
    for u, row in enumerate(res.unit_rows(level)):
        assert row["utilisation_lo"] <= hc.busy[u] <= row["utilisation_hi"], u
        assert row["utilisation_hi"] - row["utilisation_lo"] < 0.01
    z = res.zone_row(level)
    assert z["share_within_lo"] <= hc.share_within(900.0) <= z["share_within_hi"]
    assert z["share_not_reached_lo"] <= hc.p_all_busy <= z["share_not_reached_hi"]
    assert z["share_within_hi"] - z["share_within_lo"] < 0.01


def test_same_seed_same_output_and_engines_agree():
    rng = np.random.default_rng(1)
    cost = rng.uniform(100, 1500, (3, 12))
    sysm = EmsSystem.from_matrices(
        cost, np.ones(12), np.array([0, 1, 2]), hospital_drive=rng.uniform(200, 900, (1, 12)),
        hospital_to_base=rng.uniform(200, 900, (1, 3)), turnout=TurnoutDist(90.0, 120.0, 45.0),
    )  # fmt: skip
    cm = CallModel(calls_per_year=3000, priorities=ONLY_AMB)
    a = simulate(sysm, cm, replications=3, days=30, seed=5)
    b = simulate(sysm, cm, replications=3, days=30, seed=5)
    c = simulate(sysm, cm, replications=3, days=30, seed=6)
    p = simulate(sysm, cm, replications=3, days=30, seed=5, engine="python")
    for k in a.zone:
        np.testing.assert_array_equal(a.zone[k], b.zone[k])
        np.testing.assert_array_equal(a.zone[k], p.zone[k])
    np.testing.assert_array_equal(a.units["utilisation"], p.units["utilisation"])
    assert not np.array_equal(a.zone["mean_min"], c.zone["mean_min"])


def two_base_system():
    """One ambulance at base 0 (base 1 empty), 3 demand points, one hospital; same times both ways."""
    drive = np.array([[300.0, 600.0, 900.0], [50.0, 50.0, 50.0]])
    return EmsSystem.from_matrices(
        drive,
        np.ones(3),
        np.array([0]),
        hospital_drive=np.array([[1200.0, 1500.0, 100.0]]),
        hospital_to_base=np.array([[1000.0, 2000.0]]),
        turnout=TurnoutDist(60.0),
    )


def test_a_unit_at_the_hospital_is_not_dispatched_from_its_base():
    cm = CallModel(
        calls_per_year=1.0,
        priorities=ONLY_AMB,
        onscene=TurnoutDist(600.0),
        handover=TurnoutDist(300.0),
        transport_share=1.0,
    )
    out = replay(two_base_system(), [0.0, 1000.0, 4060.0, 10000.0], [0, 2, 1, 1], calls=cm)
    # call 0: turnout 60 + 300 on the way; scene until 960; hospital at 960 + 1200; handover until 2460
    assert out["response_s"][0] == pytest.approx(360.0)
    # call 1 waits for the only unit, which is free at the hospital at 2460 and drives 100 s from there
    # (from its base it would need 60 + 900 s after coming back at 3460)
    assert out["wait_s"][1] == pytest.approx(1460.0)
    assert out["response_s"][1] == pytest.approx(2460.0 + 100.0 - 1000.0)
    assert out["nearest_base_busy"][1] and not out["nearest_base_busy"][3]
    # call 1's unit: scene 2560-3160, hospital at 3260, handover until 3560, back at base at 4560.
    # Call 2 at 4060 finds it half way back: 0.5 x 1500 (from the hospital) + 0.5 x 600 (from the base),
    # no turnout on the road
    assert out["response_s"][2] == pytest.approx(0.5 * 1500.0 + 0.5 * 600.0)
    # call 3: the unit is at its base again: turnout + drive
    assert out["response_s"][3] == pytest.approx(660.0)
    assert list(out["first_base"]) == [0, 0, 0, 0]
    assert list(out["missions"]) == [4]


def test_a_pit_is_sent_with_the_ambulance_and_arrives_first():
    drive = np.array([[600.0, 600.0], [200.0, 900.0]])
    sysm = EmsSystem.from_matrices(drive, np.ones(2), np.array([0, 1]), np.array([0, 1]))
    cm = CallModel(calls_per_year=1.0, priorities=(Priority("P1", 1.0, ("ambulance", "pit")),), transport_share=0)
    out = replay(sysm, [0.0, 100000.0], [0, 1], calls=cm)
    assert list(out["response_s"]) == [200.0, 600.0]  # the PIT from base 1 first at point 0
    assert list(out["first_base"]) == [1, 0]
    assert list(out["missions"]) == [2, 2]


def test_bad_inputs_name_their_field():
    for kw, fld in (
        ({"rate_per_1000": 0}, "rate_per_1000"),
        ({"rate_per_1000": -3}, "rate_per_1000"),
        ({"transport_share": 1.2}, "transport_share"),
        ({"calls_per_year": 0}, "calls_per_year"),
    ):
        with pytest.raises(ModelInputError) as e:
            CallModel(**kw)
        assert e.value.field == fld
    with pytest.raises(ModelInputError) as e:
        EmsSystem.from_matrices(np.ones((2, 3)), np.ones(3), np.array([], dtype=int))
    assert e.value.field == "units"
    with pytest.raises(ModelInputError) as e:
        CallModel(priorities=(Priority("a", 0.5), Priority("b", 0.4)))
    assert e.value.field == "priorities"


def test_teams_of_the_federal_list():
    assert parse_teams("ZW GENT 1 (Team: AOGENT01A) | PIT GENT 2 (Team: POGENT02A) | MUG X (Team: M1)") == [
        ("ambulance", "ZW GENT 1", "AOGENT01A"),
        ("pit", "PIT GENT 2", "POGENT02A"),
    ]
    pack = SimpleNamespace(
        ems_bases=[
            SimpleNamespace(id="E1", teams="PIT GENT 2 (Team: POGENT02B)"),
            SimpleNamespace(id="E2", teams="PIT GENT 2 (Team: POGENT02A) | ZW GENT 1 (Team: AOGENT01A)"),
            SimpleNamespace(id="E3", teams="ZW A 1 (Team: AOA01A) | ZW A 2 (Team: AOA02A)"),
        ]
    )
    # one PIT GENT 2 at its A location, and every ambulance service once
    assert [(b, t) for b, t, _ in pack_units(pack)] == [
        ("E2", "ambulance"),
        ("E2", "pit"),
        ("E3", "ambulance"),
        ("E3", "ambulance"),
    ]
    assert len(pack_units(pack, teams="location")) == 5


def test_hypercube_figures_beside_a_simulation():
    # hypercube assumptions with a queue at a light load: the analytical figure beside the simulation
    # uses the simulated mean busy time (here the exponential mean) and lands within the approximation's error
    from kazerne.coverage.simcompare import hypercube_figures

    rng = np.random.default_rng(8)
    cost = rng.uniform(100, 1500, (4, 30))
    w = rng.uniform(1, 10, 30)
    ub = np.array([0, 1, 2, 3, 3])
    s, lam = 1800.0, 1.0 / 1800.0
    res = simulate(EmsSystem.from_matrices(cost, w, ub), hypercube_calls(lam, s, queue=True), replications=10, seed=2)
    hc = hypercube_figures(res)
    assert hc["service_time_min"] == pytest.approx(s / 60.0, rel=0.02)
    direct = hypercube_exact(cost, w, ub, lam, s, queue=True)
    assert hc["share_within"] == pytest.approx(direct.share_within(900.0), abs=0.02)
    assert hc["share_within_if_all_free"] == pytest.approx(float(np.dot(w, cost[ub].min(0) <= 900) / w.sum()))
    assert abs(res.zone_row()["share_within"] - hc["share_within"]) < 0.02


def test_queue_waits_as_erlang_c():
    # M/M/3 with a FCFS queue: a call waits with probability C(3, a) (Erlang C)
    from kazerne.coverage.queueing import erlang_c

    s, a = 1500.0, 1.5
    sysm = EmsSystem.from_matrices(np.array([[300.0, 600.0], [400.0, 200.0]]), [1.0, 1.0], np.array([0, 0, 1]))
    res = simulate(sysm, hypercube_calls(a / s, s, queue=True), replications=20, seed=4)
    z = res.zone_row(1 - 0.05 / 2)  # two comparisons with the theory, 95 % together (Bonferroni)
    c = erlang_c(3, a)
    assert z["share_waited_lo"] <= c <= z["share_waited_hi"]
    assert z["share_waited_hi"] - z["share_waited_lo"] < 0.01
    # mean wait of the calls that waited: exponential with mean s / (N - a) (M/M/N)
    assert z["mean_wait_min_if_waited_lo"] <= s / (3 - a) / 60 <= z["mean_wait_min_if_waited_hi"]
    assert z["share_not_reached"] == 0.0  # nobody is lost in a queue


def test_located_sites_keeps_the_sites_on_the_road_data(hvz_zone):
    """Sites that snap onto the road data are kept in order with their node; one far off it (Liège) is left out."""
    on = [hvz_zone.pack.site("P01"), hvz_zone.pack.site("P02")]
    off = SimpleNamespace(id="X", name="far", lat=50.63, lon=5.57)
    got = kz.located_sites(hvz_zone, [on[0], off, on[1]])
    assert got.ids == ["P01", "P02"]
    assert list(got.node) == [hvz_zone.site_node(s.lon, s.lat, what=s.id) for s in on]
    assert list(got.lon) == [on[0].lon, on[1].lon] and list(got.turnout_s) == [0.0, 0.0]
