"""One clock (issue 22): the time base every layer counts on, and the refusals that keep call handling
from being counted twice or missed.

Pack-free: small hand-made matrices and demand, and a generated grid network (tests/grid_net.py)
whose shortest times are recomputed with plain scipy. The scenario-run outputs (summary.json, report,
console) are checked in tests/test_baseline_e2e.py on the shipped baseline run.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
import shapely
from grid_net import brute_times, grid_net, grid_zone

import kazerne as kz
from kazerne.calibration.uncertainty import headline_interval
from kazerne.clock import DEFAULT_TURNOUT_DIST, DEFAULT_TURNOUT_S, Clock, clock_inputs
from kazerne.coverage.metrics import evaluate_travel_times
from kazerne.demand.points import DemandPoints
from kazerne.errors import ModelInputError
from kazerne.response import arrival_probability, evaluate_response, expected_response
from kazerne.routing.isochrones import isochrone_polygons
from kazerne.routing.profiles import get_profile
from kazerne.routing.travel import TravelTimes
from kazerne.scenarios.schema import parse_scenario

REPO = Path(__file__).resolve().parents[1]
PKG = REPO / "kazerne"


def demand(n: int) -> DemandPoints:
    rng = np.random.default_rng(3)
    return DemandPoints(
        x=np.zeros(n),
        y=np.zeros(n),
        lon=np.zeros(n),
        lat=np.zeros(n),
        weight=rng.integers(1, 50, n).astype(float),
        node=np.zeros(n, dtype=np.int64),
        snap_m=np.zeros(n),
        no_road_data=np.zeros(n, dtype=bool),
        in_gap=np.zeros(n, dtype=bool),
        municipality=np.zeros(n, dtype=np.int64),
        municipality_names=["A"],
        model="test points",
    )


def alarm_times(n_sites: int = 3, n_demand: int = 40) -> TravelTimes:
    """Times from the alarm (turnout 90 s + a drive), float32 as kz.travel_times gives them."""
    rng = np.random.default_rng(7)
    sec = (90.0 + rng.uniform(30.0, 900.0, (n_sites, n_demand))).astype(np.float32)
    return TravelTimes(site_ids=[f"S{i}" for i in range(n_sites)], turnout_s=np.full(n_sites, 90.0), seconds=sec)


# ------------------------------------------------------------------------------------------------ the clock


def test_one_default_turnout_table():
    """The fixed turnouts everywhere are the medians of the one distribution table."""
    assert DEFAULT_TURNOUT_S == {"professional": 90.0, "volunteer": 300.0, "mixed": 300.0}
    assert kz.sites.DEFAULT_TURNOUT_S == DEFAULT_TURNOUT_S
    assert {k: d.median_s for k, d in DEFAULT_TURNOUT_DIST.items()} == DEFAULT_TURNOUT_S
    from kazerne.scenarios.schema import DEFAULT_TURNOUT_S as schema_table

    assert schema_table == DEFAULT_TURNOUT_S
    # no other module spells a turnout table of its own
    table = re.compile(
        r"\"professional\": 90|\"volunteer\": 300|TurnoutDist\(90(\.0)?, 120|TurnoutDist\(300(\.0)?, 480"
    )
    owners = sorted(str(f.relative_to(PKG)) for f in PKG.rglob("*.py") if table.search(f.read_text(encoding="utf-8")))
    assert owners == ["clock.py"]


def test_clock_from_a_scenario_reads_the_file():
    """Call handling, turnouts per crew type and per post, model and slice, against the TOML read here."""
    path = REPO / "scenarios" / "hvz-centrum-2019.toml"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    sc = parse_scenario(path)
    c = Clock.from_scenario(sc)
    want_ch = raw.get("response", {}).get("call_handling_s", 90.0)
    assert c.call_handling_s == want_ch and c.counts_from == "call"
    for crew, median in {**DEFAULT_TURNOUT_S, **raw.get("turnout", {})}.items():
        assert c.turnout_s(crew) == median
        assert c.turnout(crew).fixed  # deterministic model: each turnout fixed at its median
    assert c.turnout_model == "deterministic" and c.slice == "week"
    assert Clock(**clock_inputs(sc)) == c


def test_clock_with_a_response_section_and_post_overrides(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(
        'name = "s"\nzone = "hvz-centrum"\n[posts]\nactive = ["P01", "P09"]\n'
        "[posts.override.P09]\nturnout_s = 240\n"
        '[response]\ncall_handling_s = 75\nturnout_model = "distribution"\n'
        "[response.turnout.professional]\nmedian_s = 80\np90_s = 110\nmin_s = 40\n",
        encoding="utf-8",
    )
    c = Clock.from_scenario(parse_scenario(f))
    assert c.call_handling_s == 75.0
    assert c.turnout("professional") == kz.TurnoutDist(80.0, 110.0, 40.0)
    # a crew without its own table: the default shape moved to its [turnout] median
    assert c.turnout("volunteer") == DEFAULT_TURNOUT_DIST["volunteer"]
    assert c.turnout("professional", "P09").median_s == 240.0 and c.turnout_s("volunteer", "P01") == 300.0
    assert "call handling 75 s" in c.describe() and "professional median 80 s" in c.label("detail")


def test_clock_from_args_and_from_assumptions():
    c = Clock.from_args(60, 120, crew="volunteer")
    assert c.call_handling_s == 60 and c.turnout_s("volunteer") == 120 and c.turnout_s("professional") == 90
    assert Clock.from_args().call_handling_s == 90.0 and Clock.from_args(turnout_s=45).turnout_s("mixed") == 45
    a = {"call_handling_s": 90.0, "turnout_s_by_crew": {"professional": 90.0, "volunteer": 300.0}}
    assert Clock.from_assumptions(a).definition()["response_time"] == kz.time_definition(90.0)["response_time"]
    assert Clock.from_assumptions({}).counts_from == "alarm"  # a run of kazerne 0.2: no call handling


# ------------------------------------------------------------------------------------------------ refusals


def test_travel_times_carry_their_clock_and_refuse_a_second_shift():
    tt = alarm_times()
    assert tt.clock == Clock.alarm()
    call = tt.shifted(Clock(90))
    assert call.clock.call_handling_s == 90.0
    assert np.array_equal(call.seconds, tt.seconds.astype(np.float64) + 90.0)
    with pytest.raises(ModelInputError, match="twice") as e:
        call.shifted(90)
    assert e.value.field == "call_handling_s" and "\n" not in str(e.value)
    assert call.rows([1]).clock == call.clock  # a subset keeps its clock


def test_evaluate_refuses_times_on_another_clock():
    tt, d = alarm_times(), demand(40)
    call = tt.shifted(90)
    with pytest.raises(ModelInputError, match="from the alarm .* from the 112 call") as e:
        evaluate_travel_times(tt, d, [10], clock=Clock(90))
    assert e.value.field == "tt"
    with pytest.raises(ModelInputError, match="count from the 112 call"):
        evaluate_travel_times(call, d, [10], clock=Clock.alarm())
    with pytest.raises(ModelInputError, match="twice"):
        evaluate_travel_times(call, d, [10], clock=Clock(60))
    rep = evaluate_travel_times(call, d, [10], clock=Clock(90))
    assert rep.clock.call_handling_s == 90.0
    # a share within T + C from the call = the share within T from the alarm (computed here)
    first = tt.seconds.astype(np.float64).min(axis=0)
    assert rep.zone_share[0] == pytest.approx(d.weight[first <= 600.0 - 90.0].sum() / d.weight.sum(), abs=0)


def test_mean_drive_is_taken_out_on_the_reports_clock():
    tt, d = alarm_times(), demand(40)
    rep = evaluate_travel_times(tt.shifted(90), d, [10])
    first = tt.seconds.astype(np.float64).min(axis=0)
    want = float(np.average(first - 90.0, weights=d.weight))  # turnout 90 s, no call handling inside tt
    assert rep.mean_drive_s(tt.turnout_s, d.weight) == pytest.approx(want, rel=1e-12)


def test_evaluate_response_never_counts_call_handling_twice():
    tt, d = alarm_times(), demand(40)
    dists = [kz.TurnoutDist(90.0, 150.0, 40.0)] * 3
    ref = evaluate_response(tt, d, dists, [8, 10], call_handling_s=90)
    call = tt.shifted(90)
    with pytest.raises(ModelInputError, match="twice") as e:
        evaluate_response(call, d, dists, [8, 10], call_handling_s=90)
    assert e.value.field == "call_handling_s"
    with pytest.raises(ModelInputError, match="count from the 112 call"):
        evaluate_response(call, d, dists, [8, 10], call_handling_s=0)
    with pytest.raises(ModelInputError, match="twice"):
        evaluate_response(call, d, dists, [8, 10], clock=Clock(60))
    with pytest.raises(ModelInputError, match="disagrees"):
        evaluate_response(tt, d, dists, [8, 10], call_handling_s=60, clock=Clock(90))
    # times from the call, their own clock: the same figures as from the alarm + 90 s, to the bit
    for rep in (evaluate_response(call, d, dists, [8, 10]), evaluate_response(tt, d, dists, [8, 10], clock=Clock(90))):
        assert np.array_equal(rep.probability, ref.probability) and np.array_equal(rep.expected_s, ref.expected_s)
        assert rep.call_handling_s == 90.0
    # the old default (90 s) on times from the alarm is kept
    assert np.array_equal(evaluate_response(tt, d, dists, [8, 10]).expected_s, ref.expected_s)


def test_probability_functions_read_the_times_clock():
    tt = alarm_times()
    dists = kz.TurnoutDist(90.0)
    call = tt.shifted(90)
    th = np.array([600.0])
    assert np.array_equal(arrival_probability(call, dists, th), arrival_probability(tt, dists, th, 90.0))
    assert np.array_equal(expected_response(call, dists), expected_response(tt, dists, 90.0))
    # fixed turnouts: exactly min + C, computed here
    assert np.array_equal(expected_response(call, dists), tt.seconds.astype(np.float64).min(axis=0) + 90.0)
    with pytest.raises(ModelInputError, match="twice"):
        expected_response(call, dists, 90.0)


def test_travel_times_refuse_two_call_handlings():
    net_zone = grid_zone(8, seed=1)
    sites = kz.Sites(
        ids=["A"],
        names=["A"],
        node=np.array([0]),
        lon=net_zone.net.lon[:1],
        lat=net_zone.net.lat[:1],
        turnout_s=np.array([90.0]),
        crew=["professional"],
    )
    d = demand(3)
    d.node[:] = [5, 20, 40]
    with pytest.raises(ModelInputError, match="disagrees") as e:
        kz.travel_times(net_zone, sites, d, "fire_engine", call_handling_s=60, clock=Clock(90))
    assert e.value.field == "call_handling_s"
    a = kz.travel_times(net_zone, sites, d, "fire_engine")
    b = kz.travel_times(net_zone, sites, d, "fire_engine", clock=Clock(90))
    c = kz.travel_times(net_zone, sites, d, "fire_engine", call_handling_s=90)
    assert a.clock.counts_from == "alarm" and b.clock == Clock(90) and c.clock.call_handling_s == 90
    assert np.array_equal(b.seconds, a.seconds.astype(np.float64) + 90.0) and np.array_equal(b.seconds, c.seconds)


def test_headline_interval_refuses_another_call_handling():
    tt, d = alarm_times(), demand(40)
    prof = get_profile("fire_engine")
    call = tt.shifted(90)
    with pytest.raises(ModelInputError, match="twice"):
        headline_interval(call, d, [10], 60.0, ["professional"] * 3, prof)
    with pytest.raises(ModelInputError, match="from the alarm"):
        headline_interval(tt, d, [10], 90.0, ["professional"] * 3, prof)
    assert headline_interval(call, d, [10], None, ["professional"] * 3, prof) == headline_interval(
        call, d, [10], 90.0, ["professional"] * 3, prof
    )


# ------------------------------------------------------------------------------------------------ wording


def test_no_other_module_words_the_definition():
    """The phrases of the definition live in kazerne/clock.py only: every output takes them from
    Clock.describe / Clock.label."""
    phrases = [
        r"FROM THE 112 CALL",
        r"FROM THE ALARM",
        r"FROM THE CALL",
        r"from the 112 call: call handling",
        r"from the 112 call \(call handling",
        r"from the alarm: turnout",
        r"from the alarm \(turnout",
        r"from the alarm \(no call handling",
        r"from the alarm at the post \(",
        r"response time from the 112 call: call handling",
    ]
    pat = re.compile("|".join(phrases))
    owners = sorted(str(f.relative_to(PKG)) for f in PKG.rglob("*.py") if pat.search(f.read_text(encoding="utf-8")))
    assert owners == ["clock.py"]


def test_every_form_states_the_call_handling_or_the_alarm():
    call, alarm = Clock(75), Clock.alarm()
    forms = ["sentence", "detail", "console", "short", "paren", "map", "html"]
    for f in forms:
        assert "75 s" in call.label(f) and "call" in call.label(f).lower(), f
        assert "alarm" in alarm.label(f).lower(), f
    assert call.describe() == call.label("sentence") == kz.time_definition(75)["response_time"]
    assert call.definition() == {"call_handling_s": 75.0, "thresholds_from": "call", "response_time": call.describe()}


# ------------------------------------------------------------------------------------------------ isochrones


def test_isochrones_from_the_call_are_drive_only_isochrones_shifted():
    """On a generated 25 x 25 grid: the isochrone from the call within T (call handling 60 s +
    turnout 120 s) is the drive-only isochrone within T - 3 min; the nodes plain scipy finds within
    the driving budget lie inside it, those far beyond it outside, and from the alarm the area is larger."""
    net = grid_net(25, seed=4)
    prof = get_profile("fire_engine")
    node = 12 * 25 + 12
    call = isochrone_polygons(net, prof, node, 120.0, [4, 5], call_handling_s=60.0, min_area_m2=0.0)
    drive = isochrone_polygons(net, prof, node, 0.0, [1, 2], min_area_m2=0.0)
    alarm = isochrone_polygons(net, prof, node, 120.0, [4, 5], min_area_m2=0.0)
    t = brute_times(net, net.edge_times(prof), [node])[0]
    xy = shapely.points(net.x, net.y)
    for m, c, dr, al in zip([4, 5], call, drive, alarm):
        assert c.symmetric_difference(dr).area < 1e-6 * c.area
        budget = m * 60.0 - 180.0
        reached = t <= budget
        assert 5 < reached.sum() < net.n_nodes
        assert shapely.intersects(c, xy[reached]).all()
        # the polygon is the reached road buffered by 100 m: a node 250 m beyond every reached one is out
        far = np.array(
            [np.hypot(net.x[reached] - net.x[k], net.y[reached] - net.y[k]).min() > 250 for k in range(net.n_nodes)]
        )
        assert far.any() and not shapely.intersects(c, xy[far]).any()
        assert al.area > c.area * 1.2  # 60 s more driving


def test_the_report_writer_refuses_a_report_on_another_clock(tmp_path):
    """write_baseline_outputs checks the clock of the report it draws against the assumptions it states."""
    from kazerne.report.council import write_baseline_outputs

    tt, d = alarm_times(), demand(40)
    rep = evaluate_travel_times(tt, d, [10])  # from the alarm
    summary = {"assumptions": {"thresholds_min": [10], "call_handling_s": 90.0}}
    with pytest.raises(ModelInputError, match="from the alarm .* from the 112 call") as e:
        write_baseline_outputs(tmp_path, None, None, rep, None, summary)
    assert e.value.field == "rep"
