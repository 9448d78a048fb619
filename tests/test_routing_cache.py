"""The on-disk network cache: reused, rebuilt on changed source bytes, corrupt files never trusted."""

from __future__ import annotations

import numpy as np
import pytest

import osm_fixture as fx
from kazerne.errors import ZonePackError
from kazerne.routing import network
from kazerne.routing.network import load_cache, load_network
from kazerne.routing.profiles import get_profile
from kazerne.routing.travel import drive_times

PROFILE = get_profile("fire_engine", speeds_kmh={"residential": (20, 40)}, maxspeed_factor=1.0,
                      intersection_delay_s=3.0)
ARRAYS = ("lon", "lat", "u", "v", "length", "cls", "urban", "geom_offsets", "geom_xy")


@pytest.fixture
def counting_reader(monkeypatch, tmp_path):
    """KAZERNE_CACHE in a temp folder and a count of OSM parses."""
    monkeypatch.setenv("KAZERNE_CACHE", str(tmp_path / "cache"))
    calls = []
    real = network._read_osm

    def reader(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(network, "_read_osm", reader)
    return calls


def _forbid_parsing(monkeypatch):
    def boom(path):
        raise AssertionError(f"OSM file parsed again: {path}")
    monkeypatch.setattr(network, "_read_osm", boom)


def _same(a, b):
    for k in ARRAYS:
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=k)


def _cache_files(tmp_path):
    return sorted((tmp_path / "cache").glob("*.npz"))


def test_second_load_reuses_the_cache(counting_reader, monkeypatch, tmp_path):
    osm = fx.write_osm(tmp_path / "roads.osm")
    first = load_network(osm, quiet=True)
    assert len(counting_reader) == 1
    assert len(_cache_files(tmp_path)) == 1
    _forbid_parsing(monkeypatch)
    second = load_network(osm, quiet=True)
    _same(first, second)
    assert second.n_nodes == 54 and second.n_nodes_source == 57
    assert second.source_sha256 == first.source_sha256


def test_changed_source_bytes_rebuild(counting_reader, tmp_path):
    osm = fx.write_osm(tmp_path / "roads.osm")
    a = load_network(osm, quiet=True)
    fx.write_osm(osm, variant=1)            # same roads, different bytes
    b = load_network(osm, quiet=True)
    assert len(counting_reader) == 2
    assert a.source_sha256 != b.source_sha256
    assert len(_cache_files(tmp_path)) == 2
    _same(a, b)


def test_changed_profile_gives_new_times(tmp_path):
    net = load_network(fx.write_osm(tmp_path / "roads.osm"), use_cache=False, quiet=True)
    ia = int(np.flatnonzero(np.isclose(net.lon, fx.NODES["A"][0], atol=1e-9)
                            & np.isclose(net.lat, fx.NODES["A"][1], atol=1e-9))[0])
    ib = int(np.flatnonzero(np.isclose(net.lon, fx.NODES["B"][0], atol=1e-9)
                            & np.isclose(net.lat, fx.NODES["B"][1], atol=1e-9))[0])
    t1 = drive_times(net, PROFILE, [ia])[0, ib]
    slower = PROFILE.with_overrides(intersection_delay_s=10.0)
    t2 = drive_times(net, slower, [ia])[0, ib]
    assert t2 - t1 == pytest.approx(7.0, abs=1e-9)
    half = PROFILE.with_overrides(speeds_kmh={"residential": (10, 20)})
    t3 = drive_times(net, half, [ia])[0, ib]
    assert t3 - 3.0 == pytest.approx(2 * (t1 - 3.0), rel=1e-9)
    # and back: the first profile's times, not the last computed
    assert drive_times(net, PROFILE, [ia])[0, ib] == t1
    assert net.csr(PROFILE)[ia, ib] == pytest.approx(t1, abs=1e-12)


def _rebuild_check(osm, tmp_path, counting_reader, monkeypatch):
    before = len(counting_reader)
    net = load_network(osm, quiet=True)
    assert len(counting_reader) == before + 1, "corrupt cache trusted instead of rebuilt"
    # the rebuilt file is good again
    _forbid_parsing(monkeypatch)
    _same(net, load_network(osm, quiet=True))
    return net


def test_truncated_cache_is_rebuilt(counting_reader, monkeypatch, tmp_path):
    osm = fx.write_osm(tmp_path / "roads.osm")
    good = load_network(osm, quiet=True)
    (path,) = _cache_files(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert load_cache(path) is None
    _same(good, _rebuild_check(osm, tmp_path, counting_reader, monkeypatch))


def test_flipped_bytes_cache_is_rebuilt(counting_reader, monkeypatch, tmp_path):
    osm = fx.write_osm(tmp_path / "roads.osm")
    good = load_network(osm, quiet=True)
    (path,) = _cache_files(tmp_path)
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 16):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    assert load_cache(path) is None
    _same(good, _rebuild_check(osm, tmp_path, counting_reader, monkeypatch))


def test_valid_zip_with_tampered_array_fails_the_digest(counting_reader, monkeypatch, tmp_path):
    """A well-formed .npz whose arrays no longer match the stored digest is not trusted either."""
    osm = fx.write_osm(tmp_path / "roads.osm")
    good = load_network(osm, quiet=True)
    (path,) = _cache_files(tmp_path)
    with np.load(path, allow_pickle=False) as z:
        content = {k: z[k] for k in z.files}
    content["length"] = content["length"] * 2.0     # e.g. a stale or hand-edited cache
    with open(path, "wb") as fh:
        np.savez(fh, **content)
    assert load_cache(path) is None
    net = _rebuild_check(osm, tmp_path, counting_reader, monkeypatch)
    np.testing.assert_array_equal(net.length, good.length)


def test_unreadable_osm_is_a_zone_pack_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KAZERNE_CACHE", str(tmp_path / "cache"))
    bad = tmp_path / "roads-bad.osm"
    bad.write_text("<osm><node id='1' lat='x'")
    with pytest.raises(ZonePackError) as ei:
        load_network(bad, quiet=True)
    assert str(bad) in str(ei.value)
