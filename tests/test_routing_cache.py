"""The on-disk network cache: reused, rebuilt on changed source bytes, corrupt files never trusted."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import numpy as np
import osm_fixture as fx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kazerne.errors import ZonePackError
from kazerne.files import temp_prefix
from kazerne.routing import network
from kazerne.routing.network import load_cache, load_network
from kazerne.routing.profiles import get_profile
from kazerne.routing.travel import drive_times

PROFILE = get_profile(
    "fire_engine", speeds_kmh={"residential": (20, 40)}, maxspeed_factor=1.0, intersection_delay_s=3.0
)
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
    fx.write_osm(osm, variant=1)  # same roads, different bytes
    b = load_network(osm, quiet=True)
    assert len(counting_reader) == 2
    assert a.source_sha256 != b.source_sha256
    assert len(_cache_files(tmp_path)) == 2
    _same(a, b)


def test_changed_profile_gives_new_times(tmp_path):
    net = load_network(fx.write_osm(tmp_path / "roads.osm"), use_cache=False, quiet=True)
    ia = int(
        np.flatnonzero(
            np.isclose(net.lon, fx.NODES["A"][0], atol=1e-9) & np.isclose(net.lat, fx.NODES["A"][1], atol=1e-9)
        )[0]
    )
    ib = int(
        np.flatnonzero(
            np.isclose(net.lon, fx.NODES["B"][0], atol=1e-9) & np.isclose(net.lat, fx.NODES["B"][1], atol=1e-9)
        )[0]
    )
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


@pytest.fixture(scope="module")
def good_cache(tmp_path_factory):
    """The bytes of one good cache file of the fixture network, and the network itself."""
    d = tmp_path_factory.mktemp("good-cache")
    osm = fx.write_osm(d / "roads.osm")
    net = load_network(osm, use_cache=False, quiet=True)
    path = d / "cache.npz"
    network.save_cache(net, path)
    assert load_cache(path) is not None
    return path.read_bytes(), net


# Every byte of the file is covered: the zip local headers, the .npy headers, the array data,
# the metadata members, the central directory and the trailer with the digest itself.
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.floats(min_value=0.0, max_value=1.0, exclude_max=True), xor=st.integers(1, 255))
def test_any_flipped_byte_is_a_cache_miss(good_cache, tmp_path_factory, where, xor):
    data, _ = good_cache
    bad = bytearray(data)
    bad[int(where * len(data))] ^= xor
    path = tmp_path_factory.mktemp("flip") / "cache.npz"
    path.write_bytes(bytes(bad))
    assert load_cache(path) is None  # never trusted, never an exception


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keep=st.floats(min_value=0.0, max_value=1.0, exclude_max=True), tail=st.binary(max_size=64))
def test_any_truncated_or_extended_file_is_a_cache_miss(good_cache, tmp_path_factory, keep, tail):
    data, _ = good_cache
    path = tmp_path_factory.mktemp("cut") / "cache.npz"
    path.write_bytes(data[: int(keep * len(data))] + tail)
    assert load_cache(path) is None


def test_flipped_bytes_cache_is_rebuilt(counting_reader, monkeypatch, tmp_path):
    """A damaged cache in the cache folder is rebuilt by load_network, and the new file is good."""
    osm = fx.write_osm(tmp_path / "roads.osm")
    good = load_network(osm, quiet=True)
    (path,) = _cache_files(tmp_path)
    data = bytearray(path.read_bytes())
    for i in (0, 40, len(data) // 3, len(data) - 1):  # a zip header, an array, the digest
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    _same(good, _rebuild_check(osm, tmp_path, counting_reader, monkeypatch))


def test_cache_file_follows_the_umask(tmp_path, good_cache):
    _, net = good_cache
    old = os.umask(0o027)
    try:
        network.save_cache(net, tmp_path / "a.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.npz").stat().st_mode) == 0o640
    old = os.umask(0o002)
    try:
        network.save_cache(net, tmp_path / "b.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "b.npz").stat().st_mode) == 0o664


def test_leftover_temporaries_of_dead_writers_are_removed(tmp_path, good_cache):
    """A writer killed half-way leaves '.NAME.tmp-HOST-PID-xxxx.tmp'; the next load removes it,
    unless its writer is still alive (another process building the same cache right now)."""
    data, _ = good_cache
    path = tmp_path / "network-x-v8.npz"
    path.write_bytes(data)
    dead = _dead_pid()
    host = temp_prefix("x").split("-")[1]
    stale = tmp_path / f".{path.name}.tmp-{host}-{dead}-abc123.tmp"
    live = tmp_path / f".{path.name}.tmp-{host}-{os.getppid()}-def456.tmp"
    other_host = tmp_path / f".{path.name}.tmp-otherhost-{dead}-ghi789.tmp"
    old_style = tmp_path / f"{path.name}q1w2e3.tmp"  # naming of earlier versions
    fresh_old_style = tmp_path / f"{path.name}r4t5y6.tmp"
    for p in (stale, live, other_host, old_style, fresh_old_style):
        p.write_bytes(b"half a cache")
    os.utime(old_style, (1_000_000, 1_000_000))  # 1970: long abandoned
    assert load_cache(path) is not None
    assert not stale.exists() and not old_style.exists()
    assert live.exists() and other_host.exists() and fresh_old_style.exists()


def _dead_pid() -> int:
    """The pid of a process that has exited (and was reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_valid_zip_with_tampered_array_fails_the_digest(counting_reader, monkeypatch, tmp_path):
    """A well-formed .npz whose arrays no longer match the stored digest is not trusted either."""
    osm = fx.write_osm(tmp_path / "roads.osm")
    good = load_network(osm, quiet=True)
    (path,) = _cache_files(tmp_path)
    with np.load(path, allow_pickle=False) as z:
        content = {k: z[k] for k in z.files}
    content["length"] = content["length"] * 2.0  # e.g. a stale or hand-edited cache
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
