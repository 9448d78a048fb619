"""The demand cache (kazerne.demand.cache, kazerne.routing.diskcache) on a generated grid zone (no pack).

What a cache must never do is return something else than the computation: every test compares with
``population_grid(..., use_cache=False)``, field by field and bit for bit. The file format is checked
from outside: the body's SHA-256 (hashlib here) sits at the end of the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os

import numpy as np
import pytest
import shapely
from grid_net import grid_zone

from kazerne.demand import cache
from kazerne.demand.points import demand_from_file, population_grid


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("KAZERNE_CACHE", str(d))
    cache.forget()
    yield d
    cache.forget()


def same(a, b) -> None:
    """Every field equal: arrays in dtype, shape and every bit (NaN where NaN), the rest by ==."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            assert isinstance(x, np.ndarray) and isinstance(y, np.ndarray), f.name
            assert x.dtype == y.dtype and x.shape == y.shape, f.name
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f.name
        else:
            assert x == y, f.name


def entries(d):
    return sorted(d.glob("demand-*.npz")) if d.is_dir() else []


def test_kept_points_are_the_computed_points(cache_dir):
    z = grid_zone(12, seed=1)
    fresh = population_grid(z, cell_m=150.0, use_cache=False)
    assert not entries(cache_dir)  # use_cache=False writes nothing
    first = population_grid(z, cell_m=150.0)
    assert len(entries(cache_dir)) == 1
    again = population_grid(z, cell_m=150.0)  # from the memo
    cache.forget()
    disk = population_grid(z, cell_m=150.0)  # from the file
    for d in (first, again, disk):
        same(fresh, d)
    assert len(fresh) > 0 and fresh.total == pytest.approx(2.0)


def test_every_caller_gets_its_own_copy(cache_dir):
    z = grid_zone(10, seed=2)
    a = population_grid(z, cell_m=150.0)
    want = population_grid(z, cell_m=150.0, use_cache=False)
    a.weight[:] = -1.0
    a.meta["notes"]["x"] = "changed"
    a.municipality_names.append("nowhere")
    same(want, population_grid(z, cell_m=150.0))


def test_other_parameters_or_network_are_other_entries(cache_dir):
    z = grid_zone(10, seed=3)
    a = population_grid(z, cell_m=150.0)
    b = population_grid(z, cell_m=200.0)
    assert len(entries(cache_dir)) == 2 and len(a) != len(b)
    z2 = grid_zone(10, seed=3)
    z2.net.length[0] *= 2.0  # one edge changed: not the same network
    c = population_grid(z2, cell_m=150.0)
    assert len(entries(cache_dir)) == 3
    same(population_grid(z2, cell_m=150.0, use_cache=False), c)


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage"])
def test_a_damaged_file_is_rebuilt_not_trusted(cache_dir, damage):
    z = grid_zone(10, seed=4)
    want = population_grid(z, cell_m=150.0, use_cache=False)
    population_grid(z, cell_m=150.0)
    (path,) = entries(cache_dir)
    good = path.read_bytes()
    body = good[: -(len(b"KAZERNE-ENTRY-SHA256:") + 32)]
    assert good.endswith(hashlib.sha256(body).digest())  # the format: body, tag, SHA-256 of the body
    bad = {
        "truncate": good[: len(good) // 2],
        "flip": good[:100] + bytes([good[100] ^ 0xFF]) + good[101:],
        "empty": b"",
        "garbage": b"PK\x03\x04" + os.urandom(64),
    }[damage]
    path.write_bytes(bad)
    cache.forget()
    same(want, population_grid(z, cell_m=150.0))
    assert path.read_bytes() == good  # rewritten whole


def test_a_file_written_for_another_key_is_not_used(cache_dir):
    z = grid_zone(10, seed=5)
    population_grid(z, cell_m=150.0)
    population_grid(z, cell_m=200.0)
    p150, p200 = entries(cache_dir)
    p200.write_bytes(p150.read_bytes())  # a whole, valid file under the wrong name
    cache.forget()
    same(population_grid(z, cell_m=200.0, use_cache=False), population_grid(z, cell_m=200.0))


def test_an_unwritable_cache_folder_only_costs_the_recomputation(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("KAZERNE_CACHE", str(blocker / "cache"))
    cache.forget()
    z = grid_zone(10, seed=6)
    same(population_grid(z, cell_m=150.0, use_cache=False), population_grid(z, cell_m=150.0))
    cache.forget()


def test_a_user_file_is_keyed_by_its_content(cache_dir, tmp_path):
    z = grid_zone(10, seed=7)
    lon, lat = z.net.lon, z.net.lat
    f = tmp_path / "calls.csv"
    f.write_text(f"lon,lat,weight\n{lon[3]},{lat[3]},2\n{lon[40]},{lat[40]},5\n", encoding="utf-8")
    a = demand_from_file(z, f)
    same(demand_from_file(z, f, use_cache=False), a)
    f.write_text(f"lon,lat,weight\n{lon[3]},{lat[3]},2\n{lon[40]},{lat[40]},7\n", encoding="utf-8")
    b = demand_from_file(z, f)  # same name, new content: not the kept points
    np.testing.assert_array_equal(b.weight, [2.0, 7.0])
    same(demand_from_file(z, f, use_cache=False), b)


# ---------------------------------------------------------------- the road-network audit (kept in the process)


def audit_fields(rep) -> dict:
    """The audit's findings as plain data (arrays as lists) for comparison."""
    return {
        f.name: getattr(rep, f.name).tolist() if isinstance(getattr(rep, f.name), np.ndarray) else getattr(rep, f.name)
        for f in dataclasses.fields(rep)
    }


def test_a_kept_audit_is_the_computed_audit_and_a_copy():
    from kazerne.routing.audit import audit, audit_network

    z = grid_zone(12, seed=8)
    posts = [("A", 0, 60.0), ("B", 143, 90.0)]
    kw = dict(sources_per_municipality=3, targets_per_source=4, pair_min_m=150.0, pair_max_m=900.0)
    fresh = audit_fields(audit_network(z, "fire_engine", posts=posts, **kw))
    first = audit(z, "fire_engine", posts=posts, **kw)
    assert first.posts and first.municipalities[0]["pairs"] > 0  # something was measured
    assert audit_fields(first) == fresh
    first.posts[0]["detour_median"] = -1.0
    first.municipalities.clear()
    assert audit_fields(audit(z, "fire_engine", posts=posts, **kw)) == fresh  # kept: unchanged by the caller
    other = audit(z, "fire_engine", posts=posts[:1], **kw)  # other posts: audited anew
    assert [r["post"] for r in other.posts] == ["A"]
    assert audit_fields(other) == audit_fields(audit_network(z, "fire_engine", posts=posts[:1], **kw))


def test_only_the_latest_entries_stay_on_disk(cache_dir, monkeypatch):
    monkeypatch.setattr(cache, "KEEP_ON_DISK", 2)
    z = grid_zone(8, seed=9)
    for i, cell in enumerate((150.0, 175.0, 200.0)):
        population_grid(z, cell_m=cell)
        assert len(entries(cache_dir)) == min(i + 1, 2)
    cache.forget()
    same(population_grid(z, cell_m=150.0, use_cache=False), population_grid(z, cell_m=150.0))  # rebuilt


def test_a_key_refuses_values_whose_repr_may_not_tell_them_apart():
    import pandas as pd

    from kazerne.routing import diskcache

    a = pd.DataFrame({"x": range(1000)})
    b = a.copy()
    b.loc[500, "x"] = -1  # the same repr (truncated), another table
    assert repr(a) == repr(b)
    for v in (a, object(), {"k": a}, [1, object()]):
        with pytest.raises(TypeError):
            diskcache.fingerprint(v)
    # what keys are made of: equal content, equal key; one bit changed, another key
    x = {"a": np.arange(5.0), "b": [1, "two", None, 2.5], "c": shapely.box(0, 0, 1, 1)}
    y = {"a": np.arange(5.0), "b": [1, "two", None, 2.5], "c": shapely.box(0, 0, 1, 1)}
    assert diskcache.fingerprint(x) == diskcache.fingerprint(y)
    y["a"][2] = np.nextafter(2.0, 3.0)
    assert diskcache.fingerprint(x) != diskcache.fingerprint(y)
    assert diskcache.fingerprint([1, 2]) != diskcache.fingerprint([1.0, 2.0])  # types count too
