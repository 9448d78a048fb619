"""Vehicle types, adequate responses, the full first turnout and neighbouring zones' posts
(``kazerne.coverage.fleet``) on small hand-made matrices: every expected value is worked out by
hand in the test or by an independent brute force, never by the code under test."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

import kazerne as kz
from kazerne.coverage.fleet import (
    DEFAULT_VEHICLE_TYPES,
    Fleet,
    VehicleType,
    arrival_time,
    evaluate_fleet,
    placement_costs,
    vehicle_profile,
)
from kazerne.coverage.metrics import evaluate
from kazerne.errors import ModelInputError

INF = np.inf


def sites(ids, crew):
    return SimpleNamespace(ids=list(ids), crew=list(crew), names=list(ids), turnout_s=np.zeros(len(ids)))


def demand(weight, no_road_data=None, municipality=None, names=None):
    w = np.asarray(weight, dtype=float)
    return SimpleNamespace(
        weight=w,
        no_road_data=np.zeros(len(w), bool) if no_road_data is None else np.asarray(no_road_data, bool),
        municipality=None if municipality is None else np.asarray(municipality),
        municipality_names=names or [],
    )


def test_arrival_time_by_hand():
    # 3 sites x 4 points; amounts 4, 4, 6 (crew): need 6
    t = np.array(
        [
            [100.0, 300.0, 500.0, INF],
            [200.0, 100.0, 600.0, INF],
            [400.0, 400.0, 100.0, INF],
        ]
    )
    times, site = arrival_time(t, [4, 4, 6], 6)
    # point 0: 4 at 100, 8 at 200 -> 200 (site 1); point 1: 4 at 100, 8 at 300 -> 300 (site 0)
    # point 2: the professional site alone at 100; point 3: nobody comes
    assert times.tolist() == [200.0, 300.0, 100.0, INF]
    assert site.tolist() == [1, 0, 2, -1]
    # first vehicle; a site without any (amount 0) never counts, even when it is the fastest
    times, site = arrival_time(t, [0, 1, 1], 1)
    assert times.tolist() == [200.0, 100.0, 100.0, INF]
    assert site.tolist() == [1, 1, 2, -1]
    # two vehicles at one site: the second arrives with the first
    times, _ = arrival_time(t, [2, 1, 0], 2)
    assert times.tolist() == [100.0, 300.0, 500.0, INF]
    # more than all sites together bring
    times, site = arrival_time(t, [1, 1, 1], 4)
    assert np.isinf(times).all() and (site == -1).all()


def test_arrival_time_keeps_no_road_data_columns_nan():
    t = np.array([[100.0, np.nan], [50.0, np.nan]])
    times, site = arrival_time(t, [1, 1], 1)
    assert times[0] == 50.0 and np.isnan(times[1]) and site.tolist() == [1, -1]


@pytest.mark.parametrize("seed", range(5))
def test_one_engine_per_site_equals_todays_first_and_second_arrival(seed):
    """The default fleet (one AP per post): first and second engine are exactly what
    coverage.metrics.evaluate reports today (ties and unreachable points included)."""
    rng = np.random.default_rng(seed)
    t = rng.integers(60, 900, size=(6, 40)).astype(np.float32)  # integer seconds: many ties
    t[rng.random(t.shape) < 0.2] = np.inf
    nrd = rng.random(40) < 0.1
    w = rng.random(40) * 100
    crew = ["professional", "volunteer", "mixed", "volunteer", "professional", "volunteer"]
    fl = Fleet.default(sites([f"P{i}" for i in range(6)], crew), own_zone="z")
    rep = evaluate(t, w, [600.0], no_road_data=nrd)
    fr = evaluate_fleet({"AP": t}, fl, demand(w, nrd), [10])
    assert list(fr.measures) == ["first_AP", "second_engine", "full_crew"]
    for name, ref, ref_site in (
        ("first_AP", rep.first_s, rep.first_site),
        ("second_engine", rep.second_s, rep.second_site),
    ):
        got = fr.measures[name]
        np.testing.assert_array_equal(got.seconds, ref)
        np.testing.assert_array_equal(got.site, ref_site)
    head = fr.headline()["measures"]["first_AP"]
    assert head["share_within"]["10"] == pytest.approx(float(rep.zone_share[0]), abs=1e-12)


def test_adequate_response_is_the_last_type_each_from_its_nearest_post():
    # P1: AP only, P2: AP + aerial, P3: aerial only; 3 points
    ap = np.array([[100.0, 500.0, 300.0], [200.0, 150.0, 900.0], [50.0, 50.0, 50.0]])
    fl = Fleet.from_vehicles(
        sites(["P1", "P2", "P3"], ["professional"] * 3),
        {"P1": {"AP": 1}, "P2": {"AP": 1, "aerial": 1}, "P3": {"aerial": 1}},
    )
    aer = ap * 1.5  # the aerial drives slower
    fr = evaluate_fleet({"AP": ap, "aerial": aer}, fl, demand([1, 1, 1]), [5], responses={"fire": ["AP", "aerial"]})
    # first AP: P1 or P2 (P3 has none): [100, 150, 300]; first aerial: P2 or P3: [75, 75, 75]
    np.testing.assert_array_equal(fr.measures["first_AP"].seconds, [100.0, 150.0, 300.0])
    np.testing.assert_array_equal(fr.measures["first_aerial"].seconds, [75.0, 75.0, 75.0])
    np.testing.assert_array_equal(fr.measures["response_fire"].seconds, [100.0, 150.0, 300.0])
    np.testing.assert_array_equal(fr.measures["response_fire"].site, [0, 1, 0])
    # two aerials needed: the second one is P2's (300, 225, 1350)
    fr2 = evaluate_fleet({"AP": ap, "aerial": aer}, fl, demand([1, 1, 1]), [5], responses={"two": {"aerial": 2}})
    np.testing.assert_array_equal(fr2.measures["response_two"].seconds, [300.0, 225.0, 1350.0])
    # a response needing a type nobody has is never complete
    fr3 = evaluate_fleet(
        {"AP": ap},
        fl.__class__.default(sites(["P1", "P2", "P3"], ["volunteer"] * 3)),
        demand([1, 1, 1]),
        [5],
        responses={"f": ["AP", "tanker"]},
    )
    assert np.isinf(fr3.measures["response_f"].seconds).all()
    assert fr3.headline()["measures"]["response_f"]["mean_min"] is None
    assert fr3.headline()["measures"]["response_f"]["population_not_reached"] == 3.0


def test_full_crew_combines_volunteer_posts_and_counts_only_posts_with_an_engine():
    t = np.array([[60.0, 60.0], [120.0, 400.0], [180.0, 90.0], [30.0, 30.0]])
    s = sites(["V1", "V2", "P", "X"], ["volunteer", "volunteer", "professional", "professional"])
    # X (professional, the fastest) has only an aerial: its crew does not come on an engine
    fl = Fleet.from_vehicles(s, {"X": {"aerial": 1}})
    fr = evaluate_fleet({"AP": t, "aerial": t}, fl, demand([1, 1]), [2])
    # point 0: V1 (4) at 60 + V2 (4) at 120 -> 8 >= 6 at 120; point 1: V1 (4) at 60, P (6) at 90 -> 90
    np.testing.assert_array_equal(fr.measures["full_crew"].seconds, [120.0, 90.0])
    np.testing.assert_array_equal(fr.measures["full_crew"].site, [1, 2])
    # a volunteer post with a crew of 6 (crew_by_site) fills the AP6 alone
    fl6 = Fleet.from_vehicles(s, {"X": {"aerial": 1}}, crew_by_site={"V1": 6})
    fr6 = evaluate_fleet({"AP": t, "aerial": t}, fl6, demand([1, 1]), [2])
    np.testing.assert_array_equal(fr6.measures["full_crew"].seconds, [60.0, 60.0])
    # crew per turnout by crew type from the caller
    flc = Fleet.from_vehicles(s, {"X": {"aerial": 1}}, crew_per_turnout={"volunteer": 2})
    frc = evaluate_fleet({"AP": t, "aerial": t}, flc, demand([1, 1]), [2])
    np.testing.assert_array_equal(frc.measures["full_crew"].seconds, [180.0, 90.0])


def test_neighbour_posts_first_zone_and_own_zone_alone():
    t = np.array([[100.0, 100.0, 100.0], [50.0, 200.0, 50.0]])
    s = sites(["P01", "N1"], ["professional", "volunteer"])
    fl = Fleet.from_vehicles(s, zones={"N1": "Meetjesland"}, own_zone="centrum")
    d = demand([10, 30, 60], municipality=[0, 0, 1], names=["A", "B"])
    fr = evaluate_fleet({"AP": t}, fl, d, [1.5])
    np.testing.assert_array_equal(fr.measures["first_AP"].seconds, [50.0, 100.0, 50.0])
    np.testing.assert_array_equal(fr.measures["first_engine_own_zone"].seconds, [100.0, 100.0, 100.0])
    assert fr.first_zone.tolist() == ["Meetjesland", "centrum", "Meetjesland"]
    rows = {r["municipality"]: r for r in fr.first_arriving_rows()}
    assert rows["zone (all)"]["first_engine_neighbour_share"] == pytest.approx(0.7)
    assert rows["A"]["first_engine_neighbour_share"] == pytest.approx(0.25)
    assert rows["A"]["first_engine_from_Meetjesland_share"] == pytest.approx(0.25)
    assert rows["B"]["first_engine_own_zone_share"] == pytest.approx(0.0)
    # within 90 s: only the neighbour's points; the own zone alone reaches none
    assert rows["zone (all)"]["within_1.5min_with_neighbours"] == pytest.approx(0.7)
    assert rows["zone (all)"]["within_1.5min_own_zone"] == pytest.approx(0.0)
    long = [r for r in fr.municipality_rows() if r["municipality"] == "B" and r["measure"] == "first_AP"]
    assert long[0]["share_within_1.5min"] == pytest.approx(1.0) and long[0]["mean_min"] == pytest.approx(
        50 / 60, abs=0.01
    )


def test_unknown_vehicle_type_is_refused():
    s = sites(["P1"], ["professional"])
    with pytest.raises(ModelInputError, match="unknown vehicle type 'ladder'"):
        Fleet.from_vehicles(s, {"P1": {"ladder": 1}})
    fl = Fleet.default(s)
    with pytest.raises(ModelInputError, match="unknown vehicle type 'ladder'"):
        evaluate_fleet({"AP": np.ones((1, 2))}, fl, demand([1, 1]), [1], responses={"x": ["AP", "ladder"]})
    with pytest.raises(ModelInputError, match="unknown vehicle type 'ladder'") as e:
        evaluate_fleet({"AP": np.ones((1, 2))}, fl, demand([1, 1]), [1], engine="ladder")
    assert e.value.field == "engine"
    with pytest.raises(ModelInputError, match="whole numbers"):
        Fleet.from_vehicles(s, {"P1": {"AP": 1.5}})
    with pytest.raises(ModelInputError, match="no crew size for crew type 'part-time'"):
        Fleet.default(sites(["P1"], ["part-time"]))


def test_vehicle_profiles():
    base = kz.get_profile("fire_engine", period="rush_hour", speed_scale=0.8)
    assert vehicle_profile(base, DEFAULT_VEHICLE_TYPES["AP"]) is base  # the AP drives the run's profile itself
    aer = vehicle_profile(base, DEFAULT_VEHICLE_TYPES["aerial"])
    assert aer.speed_scale == pytest.approx(0.8 * 0.9) and aer.period == "rush_hour"
    assert aer.speeds_kmh == base.speeds_kmh and aer.vehicle_max_kmh == base.vehicle_max_kmh
    hv = vehicle_profile(base, VehicleType("HV", profile="ambulance", vehicle_max_kmh=100.0))
    assert hv.name == "ambulance" and hv.period == "rush_hour" and hv.speed_scale == pytest.approx(0.8)
    assert hv.vehicle_max_kmh == 100.0


@pytest.mark.parametrize("seed", range(4))
def test_second_aerial_placement_equals_brute_force(seed):
    """Where should one more aerial stand for the building fire (AP + aerial)? The MCLP on
    placement_costs must find the best candidate that an enumeration finds by adding an aerial to
    each candidate post in turn and evaluating the whole fleet (a different code path)."""
    rng = np.random.default_rng(100 + seed)
    n_sites, n_d = 7, 30
    t = rng.uniform(60, 1200, size=(n_sites, n_d))
    w = rng.integers(1, 50, size=n_d).astype(float)
    ids = [f"P{i}" for i in range(n_sites)]
    s = sites(ids, ["volunteer"] * n_sites)
    have = {"P0": {"AP": 1, "aerial": 1}}
    T = 600.0
    d = demand(w)

    def covered(vehicles):
        fl = Fleet.from_vehicles(s, vehicles)
        fr = evaluate_fleet({"AP": t, "aerial": t * 1.1}, fl, d, [T / 60], responses={"fire": ["AP", "aerial"]})
        r = fr.measures["response_fire"].seconds
        return float(w[r <= T].sum())

    brute = {}
    for c in ids[1:]:
        veh = dict(have)
        veh[c] = {"AP": 1, "aerial": 1}
        brute[c] = covered(veh)
    best = max(brute.values())

    fl = Fleet.from_vehicles(s, have)
    fr = evaluate_fleet({"AP": t}, fl, d, [T / 60])
    other = fr.measures["first_AP"].seconds
    costs = placement_costs((t * 1.1)[1:], (t * 1.1)[:1], other_s=other)
    prob = kz.from_cost_matrix(costs, w, site_ids=["have:P0"] + ids[1:], fixed=["have:P0"])
    res = kz.mclp(prob, p=2, radius=T)
    chosen = [x for x in res.sites if x != "have:P0"]
    assert res.objective == pytest.approx(best)
    assert brute[chosen[0]] == pytest.approx(best)
    # and for the first aerial alone (no other type): the same brute force on first_aerial
    costs1 = placement_costs((t * 1.1)[1:], (t * 1.1)[:1])
    res1 = kz.mclp(kz.from_cost_matrix(costs1, w, site_ids=["have:P0"] + ids[1:], fixed=["have:P0"]), p=2, radius=T)
    by_site = {c: float(w[np.minimum((t * 1.1)[0], (t * 1.1)[ids.index(c)]) <= T].sum()) for c in ids[1:]}
    assert res1.objective == pytest.approx(max(by_site.values()))


def test_placement_costs_min_max_identity():
    # max(other, min(a, b)) == min(max(other, a), max(other, b)) row-wise, by enumeration
    vals = [10.0, 20.0, 30.0, INF]
    for o, a, b in itertools.product(vals, repeat=3):
        m = placement_costs(np.array([[b]]), np.array([[a]]), other_s=np.array([o]))
        assert m.min(axis=0)[0] == max(o, min(a, b))
