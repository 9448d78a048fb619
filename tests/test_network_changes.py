"""The change layer (kazerne/routing/changes.py) on small generated networks (tests/grid_net.py):
closures against brute-force shortest paths on the network without the edges, slow polygons against
hand-computed fractions, slices, passages, links, and the one-line errors of scenario files."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import shapely
from grid_net import X0, Y0, brute_times, grid_zone, lonlat, node_id

from kazerne.errors import ScenarioError
from kazerne.routing.changes import ChangedNetwork, NetworkChange, in_slice
from kazerne.routing.match import apply_changes
from kazerne.routing.paths import drive_times
from kazerne.routing.profiles import get_profile
from kazerne.scenarios.schema import parse_scenario_data

#: the fire engine without driving against one-way streets: brute force is then plain Dijkstra on the edges
FE = get_profile("fire_engine").with_overrides(oneway_reverse_factor=0.0)
CAR = get_profile("car")
N = 7


@pytest.fixture(scope="module")
def zone():
    return grid_zone(N, seed=3)


def test_empty_change_list_is_the_zone_itself(zone):
    assert apply_changes(zone, []) is zone
    # a change outside its dates is not applied either
    c = NetworkChange("close", edges=(0,), date_from=dt.date(2030, 1, 1))
    assert apply_changes(zone, [c], day=dt.date(2026, 1, 1)) is zone


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closure_matches_brute_force_without_the_edges(seed):
    z = grid_zone(N, seed=seed)
    net = z.net
    rng = np.random.default_rng(seed)
    closed = rng.choice(net.n_edges, 6, replace=False)
    ch = apply_changes(z, [NetworkChange("close", edges=tuple(int(e) for e in closed))])
    src = [0, node_id(N, N - 1, N - 1), node_id(N, 3, 3)]
    got = drive_times(ch.net, FE, src, engine="scipy")
    # brute force: the base edge times of the profile (floored like the routing graph), edges removed
    et = np.maximum(net.edge_times(FE), 1e-3)
    want = brute_times(net, et, src, removed=closed)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    assert np.any(got > brute_times(net, et, src) + 1e-9)  # the closures did change something


def test_close_street_by_name_and_municipality(zone):
    net = zone.net
    c = NetworkChange("close", street="rij 2", municipality="West")
    ch = apply_changes(zone, [c])
    r = ch.net.resolved[0]
    sel = np.flatnonzero(r.close_fwd)
    assert set(net.names[net.name_id[sel]]) == {"Rij 2"}
    mid = (net.x[net.u[sel]] + net.x[net.v[sel]]) / 2
    assert np.all(mid < X0 + 300.0)  # only the west half
    want_all = np.flatnonzero((net.names[net.name_id] == "Rij 2") & ((net.x[net.u] + net.x[net.v]) / 2 < X0 + 300))
    assert np.array_equal(np.sort(sel), want_all)


def test_street_in_two_municipalities_without_municipality_is_ambiguous(zone):
    with pytest.raises(ScenarioError, match=r"s.toml: network.changes\[0\].street: .*lies in Oost, West: ambiguous"):
        apply_changes(zone, [NetworkChange("close", street="Rij 2", source="s.toml", field="network.changes[0]")])


def test_unknown_street_names_the_field(zone):
    with pytest.raises(ScenarioError, match=r"network.changes\[1\].street: street 'Nergensstraat' not found"):
        apply_changes(zone, [NetworkChange("close", street="Nergensstraat", field="network.changes[1]")])


def test_geometry_matching_nothing_is_an_error(zone):
    far = shapely.box(X0 + 5000, Y0 + 5000, X0 + 5100, Y0 + 5100).wkt
    with pytest.raises(ScenarioError, match="matches no road"):
        apply_changes(zone, [NetworkChange("close", geometry=far)])


def test_close_one_direction_between_two_points(zone):
    net = zone.net
    a, b = node_id(N, 1, 4), node_id(N, 3, 4)
    c = NetworkChange("close", between=(lonlat(net, a), lonlat(net, b)), direction="forward")
    ch = apply_changes(zone, [c]).net
    t = np.maximum(net.edge_times(FE), 1e-3)
    m = node_id(N, 2, 4)
    fwd = [e for e in range(net.n_edges) if (net.u[e], net.v[e]) in ((a, m), (m, b))]
    assert len(fwd) == 2
    np.testing.assert_allclose(drive_times(ch, FE, [a, b]), brute_times(net, t, [a, b], removed=fwd), atol=1e-9)
    # the other direction is untouched: b -> a as before
    assert drive_times(ch, FE, [b])[0][a] == drive_times(net, FE, [b])[0][a]


def test_speed_polygon_changes_exactly_the_edges_inside(zone):
    net = zone.net
    # a box over x in [X0+150, X0+350], y in [Y0+150, Y0+350]: straight grid edges, fractions by hand
    x0, x1, y0, y1 = X0 + 150, X0 + 350, Y0 + 150, Y0 + 350
    c = NetworkChange("slow", geometry=shapely.box(x0, y0, x1, y1).wkt, speed_kmh=10.0)
    ch = apply_changes(zone, [c]).net
    base, new = net.edge_times(FE), ch.edge_times(FE)
    ax, bx, ay, by = net.x[net.u], net.x[net.v], net.y[net.u], net.y[net.v]
    horiz = ay == by
    lo = np.where(horiz, np.minimum(ax, bx), np.minimum(ay, by))
    hi = np.where(horiz, np.maximum(ax, bx), np.maximum(ay, by))
    c_lo, c_hi = np.where(horiz, x0, y0), np.where(horiz, x1, y1)
    across = np.where(horiz, ay, ax)
    a_lo, a_hi = np.where(horiz, y0, x0), np.where(horiz, y1, x1)
    inside_across = (across >= a_lo) & (across <= a_hi)
    frac = np.where(inside_across, np.clip(np.minimum(hi, c_hi) - np.maximum(lo, c_lo), 0, None) / (hi - lo), 0.0)
    want = np.where(frac > 0, base * (1 - frac) + np.maximum(base * frac, net.length * frac / (10 / 3.6)), base)
    np.testing.assert_allclose(new, want, rtol=1e-12)
    assert np.array_equal(new != base, frac > 0)
    assert (frac > 0).sum() > 10


def test_factor_scales_the_inside_part():
    z = grid_zone(N, seed=5)
    net = z.net
    poly = shapely.box(X0 - 10, Y0 - 10, X0 + 1000, Y0 + 1000)  # everything
    ch = apply_changes(z, [NetworkChange("slow", geometry=poly.wkt, factor=0.5)]).net
    np.testing.assert_allclose(ch.edge_times(FE), net.edge_times(FE) * 2, rtol=1e-12)
    d0 = drive_times(net, FE, [0])[0]
    d1 = drive_times(ch, FE, [0])[0]
    np.testing.assert_allclose(d1, 2 * d0, rtol=1e-9)


def test_change_in_one_slice_does_not_leak_into_another(zone):
    c = NetworkChange("close", street="Kolom 3", slices=("school",))
    ch = apply_changes(zone, [c]).net
    src = [0, node_id(N, N - 1, 0)]
    base = drive_times(zone.net, FE, src)
    school = drive_times(ch, in_slice(FE, "school"), src)
    other = drive_times(ch, in_slice(FE, "evening"), src)
    untagged = drive_times(ch, FE, src)
    assert np.array_equal(other, base) and np.array_equal(untagged, base)  # to the last bit
    assert np.any(school > base)
    sel = np.flatnonzero(zone.net.names[zone.net.name_id] == "Kolom 3")
    et = np.maximum(zone.net.edge_times(FE), 1e-3)
    np.testing.assert_allclose(school, brute_times(zone.net, et, src, removed=sel), atol=1e-9)


def test_closure_for_cars_only_leaves_fire_engines(zone):
    ch = apply_changes(zone, [NetworkChange("close", street="Kolom 3", profiles=("car",))]).net
    assert np.array_equal(drive_times(ch, FE, [0]), drive_times(zone.net, FE, [0]))
    assert np.any(drive_times(ch, CAR, [0]) > drive_times(zone.net, CAR, [0]))


def test_link_adds_a_road_at_its_class_speed(zone):
    net = zone.net
    a, b = node_id(N, 0, 0), node_id(N, N - 1, N - 1)
    c = NetworkChange("link", between=(lonlat(net, a), lonlat(net, b)), road_class="primary")
    ch = apply_changes(zone, [c]).net
    length = float(np.hypot(net.x[a] - net.x[b], net.y[a] - net.y[b]))
    kmh = FE.speeds_kmh["primary"][0]  # urban speed, no maxspeed
    link_t = length / (min(kmh, FE.vehicle_max_kmh) / 3.6)
    d = drive_times(ch, FE, [a])[0]
    base = drive_times(net, FE, [a, b])
    want = np.minimum(base[0], link_t + base[1])
    np.testing.assert_allclose(d, want, rtol=1e-12)
    assert d[b] == pytest.approx(link_t)


def test_passage_lets_emergency_vehicles_through_only(zone):
    net = zone.net
    a, b = node_id(N, 0, 0), node_id(N, N - 1, N - 1)
    c = NetworkChange("passage", between=(lonlat(net, a), lonlat(net, b)), speed_kmh=20.0)
    ch = apply_changes(zone, [c]).net
    length = float(np.hypot(net.x[a] - net.x[b], net.y[a] - net.y[b]))
    assert drive_times(ch, FE, [a])[0][b] == pytest.approx(min(drive_times(net, FE, [a])[0][b], length / (20 / 3.6)))
    assert np.array_equal(drive_times(ch, CAR, [a]), drive_times(net, CAR, [a]))
    # a passage on a street: cars are kept out, fire engines pass at the passage speed
    ch2 = apply_changes(zone, [NetworkChange("passage", street="Kolom 3", speed_kmh=15.0)]).net
    sel = zone.net.names[zone.net.name_id] == "Kolom 3"
    assert np.all(np.isinf(ch2.edge_times(CAR)[sel]))
    np.testing.assert_allclose(ch2.edge_times(FE)[sel], np.maximum(net.edge_times(FE), net.length / (15 / 3.6))[sel])


def test_changed_network_has_its_own_cache_key(zone):
    ch = apply_changes(zone, [NetworkChange("close", edges=(3,))]).net
    assert isinstance(ch, ChangedNetwork)
    assert ch.source_sha256 != zone.net.source_sha256
    assert ch.describe()["changes"][0]["edges"] == 1


# ----------------------------------------------------------------- scenario files
def _parse(tmp_path, body: str):
    raw = {
        "name": "x",
        "zone": "hvz-centrum",
        "posts": {"active": ["P01"]},
    }
    import tomllib

    raw.update(tomllib.loads(body))
    return parse_scenario_data(raw, tmp_path / "s.toml")


def test_scenario_network_section_parsed(tmp_path):
    sc = _parse(
        tmp_path,
        """
[network]
date = 2026-05-04
[[network.changes]]
action = "close"
street = "Sint-Michielsbrug"
municipality = "Gent"
bridge = true
from = 2026-05-01
until = 2026-06-30
[[network.changes]]
action = "slow"
polygon = [[3.72, 51.05], [3.73, 51.05], [3.73, 51.06]]
speed_kmh = 20
profiles = ["fire_engine"]
""",
    )
    a, b = sc.network["changes"]
    assert a.street == "Sint-Michielsbrug" and a.bridge and a.date_until == dt.date(2026, 6, 30)
    assert sc.network["date"] == dt.date(2026, 5, 4)
    assert b.action == "slow" and b.speed_kmh == 20.0 and b.profiles == ("fire_engine",)
    assert b.geometry.startswith("POLYGON")


@pytest.mark.parametrize(
    "body,field,msg",
    [
        ('action = "shut"\nstreet = "X"', "network.changes[0].action", "expected one of close"),
        ('action = "close"', "network.changes[0]", "give exactly one of"),
        ('action = "close"\nstreet = "X"\nway = 3', "network.changes[0]", "give exactly one of"),
        ('action = "slow"\nstreet = "X"\nfactor = 0.5', "network.changes[0].street", "needs a polygon"),
        ('action = "slow"\npolygon = [[0,0],[1,0],[1,1]]', "network.changes[0]", "either speed_kmh"),
        ('action = "close"\nstreet = "X"\nslices = ["day"]', "network.changes[0].slices", "no [[slices]]"),
        ('action = "close"\nstreet = "X"\nfrom = 2026-01-01', "network.date", "give the day"),
        ('action = "close"\nstreet = "X"\nprofiles = ["bike"]', "network.changes[0].profiles", "expected one of"),
        ('action = "link"\nstreet = "X"', "network.changes[0].between", "a link needs between"),
        ('action = "close"\nstreet = "X"\ndirection = "forward"', "network.changes[0].direction", "needs between"),
        ('action = "close"\nstreet = "X"\nsped = 3', "network.changes[0].sped", "unknown key"),
    ],
)
def test_scenario_network_errors_are_one_line(tmp_path, body, field, msg):
    with pytest.raises(ScenarioError) as e:
        _parse(tmp_path, "[[network.changes]]\n" + body + "\n")
    text = str(e.value)
    assert "\n" not in text
    assert text.startswith(f"{tmp_path / 's.toml'}: {field}: ")
    assert msg in text


def test_closing_a_one_way_street_closes_driving_against_it_too():
    z = grid_zone(N, seed=4, oneway_share=0.5)
    net = z.net
    fe = get_profile("fire_engine").with_overrides(oneway_reverse_factor=0.5)
    e = int(np.flatnonzero(net.oneway)[0])
    ch = apply_changes(z, [NetworkChange("close", edges=(e,))]).net
    m = ch.csr(fe)
    assert m[net.u[e], net.v[e]] == 0 and m[net.v[e], net.u[e]] == 0  # neither way
    assert net.csr(fe)[net.v[e], net.u[e]] > 0  # the base graph had the contraflow entry


def test_changes_applied_twice_compose(zone):
    one = apply_changes(zone, [NetworkChange("close", street="Kolom 3")])
    two = apply_changes(one, [NetworkChange("close", street="Kolom 4")])
    both = apply_changes(zone, [NetworkChange("close", street="Kolom 3"), NetworkChange("close", street="Kolom 4")])
    assert two.net.base is zone.net and len(two.net.resolved) == 2
    assert np.array_equal(drive_times(two.net, FE, [0, 5]), drive_times(both.net, FE, [0, 5]))
    assert two.net.source_sha256 == both.net.source_sha256


def test_geojson_file_of_a_polygon_is_read_relative_to_the_scenario(tmp_path):
    import json

    poly = {"type": "Polygon", "coordinates": [[[3.72, 51.05], [3.73, 51.05], [3.73, 51.06], [3.72, 51.05]]]}
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": poly}]}
    (tmp_path / "zone30.geojson").write_text(json.dumps(fc), encoding="utf-8")
    sc = _parse(tmp_path, '[[network.changes]]\naction = "slow"\ngeojson = "zone30.geojson"\nfactor = 0.6\n')
    g = shapely.from_wkt(sc.network["changes"][0].geometry)
    assert g.geom_type == "Polygon" and g.equals(shapely.Polygon(poly["coordinates"][0]))
    with pytest.raises(ScenarioError, match=r"network.changes\[0\].geojson: file not found"):
        _parse(tmp_path, '[[network.changes]]\naction = "slow"\ngeojson = "nope.geojson"\nfactor = 0.6\n')


def test_cli_criticality_bad_option_is_one_line(tmp_path, capsys):
    from kazerne.cli import main

    p = tmp_path / "s.toml"
    p.write_text('name = "s"\nzone = "hvz-centrum"\n[posts]\nactive = ["P01"]\n', encoding="utf-8")
    assert main(["criticality", str(p), "--profiles", "bike", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "criticality.profiles: expected one of" in err[0]
    assert not (tmp_path / "o").exists()
