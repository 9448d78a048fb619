"""Command line: ``kazerne isochrones`` on the real zone and ``kazerne fetch-zone`` with a stub osmnx."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx
import pytest
import shapely

from kazerne.cli import main
from kazerne.routing.network import load_network
from kazerne.routing.zonepack import load_pack

REPO = Path(__file__).resolve().parents[1]
ZONE = "hvz-centrum"


# ---------------------------------------------------------------- isochrones
def test_isochrones_geojson_four_features_per_post(hvz_zone, tmp_path, capsys):
    out = tmp_path / "iso.geojson"
    rc = main(
        [
            "isochrones",
            "--zone",
            ZONE,
            "--post",
            "P01",
            "--post",
            "P09",
            "--minutes",
            "8,10,12,15",
            "-o",
            str(out),
            "--quiet",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    data = json.loads(out.read_text())
    feats = data["features"]
    assert len(feats) == 8
    for post, crew_turnout in (("P01", 90.0), ("P09", 300.0)):  # professional / volunteer defaults (README)
        mine = [f for f in feats if f["properties"]["post"] == post]
        assert [f["properties"]["within_min"] for f in mine] == [8, 10, 12, 15]
        assert all(f["properties"]["turnout_s"] == crew_turnout for f in mine)
        geoms = [shapely.geometry.shape(f["geometry"]) for f in mine]
        assert all(g.geom_type == "MultiPolygon" and g.is_valid and not g.is_empty for g in geoms)
        areas = [g.area for g in geoms]
        assert areas == sorted(areas) and areas[0] < areas[-1]
        # WGS84 output, around the post
        p = hvz_zone.pack.post(post)
        assert geoms[0].buffer(1e-3).contains(shapely.Point(p.lon, p.lat))
        assert 3.3 < geoms[-1].bounds[0] and geoms[-1].bounds[2] < 4.1
        assert 50.8 < geoms[-1].bounds[1] and geoms[-1].bounds[3] < 51.4


def test_isochrones_count_from_the_call_by_default(hvz_zone, tmp_path, capsys):
    """kazerne isochrones counts from the 112 call like every command (issue 22): P01 (professional,
    turnout 90 s) within 10 min from the call (call handling 90 s) is P01 within 7 min of driving
    alone; the file says which clock it is on."""
    call, drive = tmp_path / "call.geojson", tmp_path / "drive.geojson"
    args = ["isochrones", "--zone", ZONE, "--post", "P01", "--quiet"]
    assert main([*args, "--minutes", "10", "-o", str(call)]) == 0, capsys.readouterr().err
    assert main([*args, "--minutes", "7", "--from", "drive", "-o", str(drive)]) == 0, capsys.readouterr().err
    c, d = (json.loads(f.read_text()) for f in (call, drive))
    pc, pd = c["features"][0]["properties"], d["features"][0]["properties"]
    assert (pc["counts_from"], pc["call_handling_s"], pc["turnout_s"]) == ("call", 90.0, 90.0)
    assert (pd["counts_from"], pd["call_handling_s"], pd["turnout_s"]) == ("drive", 0.0, 0.0)
    gc, gd = (shapely.geometry.shape(x["features"][0]["geometry"]) for x in (c, d))
    assert gc.symmetric_difference(gd).area < 1e-9 * gc.area
    assert "from the 112 call (call handling 90 s" in c["kazerne"]["note"]
    assert c["kazerne"]["thresholds_from"] == "call" and "driving alone" in d["kazerne"]["note"]
    rc = main([*args, "--from", "alarm", "--call-handling", "60", "-o", str(tmp_path / "x.geojson")])
    assert rc == 2 and "--call-handling" in capsys.readouterr().err


def test_isochrones_unknown_post_exit_2_one_line(hvz_zone, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = tmp_path / "x.geojson"
    r = subprocess.run(
        [sys.executable, "-m", "kazerne.cli", "isochrones", "--zone", ZONE, "--post", "P99", "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "P99" in lines[0] and "unknown post" in lines[0] and "P01" in lines[0]
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_isochrones_bad_minutes_exit_2(hvz_zone, tmp_path, capsys):
    rc = main(["isochrones", "--zone", ZONE, "--post", "P01", "--minutes", "8,abc", "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "--minutes" in err


# ---------------------------------------------------------------- fetch-zone
#: a recorded answer: two municipality squares and a 5-node road graph (centre X + ring N E S W)
_LONLAT = {1: (3.700, 51.050), 2: (3.700, 51.054), 3: (3.706, 51.050), 4: (3.700, 51.046), 5: (3.694, 51.050)}
_PAIRS = [(1, 2), (1, 3), (1, 4), (1, 5), (2, 3), (3, 4), (4, 5), (5, 2)]


def _graph():
    g = nx.MultiDiGraph(crs="epsg:4326", simplified=False)
    for n, (x, y) in _LONLAT.items():
        g.add_node(n, x=x, y=y)
    way = 100
    for a, b in _PAIRS:
        for u, v in ((a, b), (b, a)):
            way += 1
            g.add_edge(u, v, osmid=way, highway="residential", oneway=True, name=f"Straat {way}", length=1.0)
    return g


def _stub(fail: Exception | None = None, fail_at: str = "geocode"):
    calls = {}

    def geocode_to_gdf(names):
        calls["geocode"] = list(names)
        if fail is not None and fail_at == "geocode":
            raise fail
        return gpd.GeoDataFrame(
            {"display_name": names},
            geometry=[shapely.box(3.69, 51.04, 3.70, 51.06), shapely.box(3.70, 51.04, 3.71, 51.06)],
            crs="EPSG:4326",
        )

    def graph_from_polygon(poly, **kw):
        calls["graph"] = kw
        if fail is not None and fail_at == "graph":
            raise fail
        return _graph()

    stub = types.SimpleNamespace(
        geocode_to_gdf=geocode_to_gdf,
        graph_from_polygon=graph_from_polygon,
        io=types.SimpleNamespace(save_graph_xml=osmnx.io.save_graph_xml),
        settings=osmnx.settings,
    )
    return stub, calls


def test_fetch_zone_with_stub_writes_a_loadable_pack(tmp_path, monkeypatch, capsys):
    stub, calls = _stub()
    monkeypatch.setitem(sys.modules, "osmnx", stub)  # what `import osmnx` gives fetch_zone
    monkeypatch.setenv("KAZERNE_CACHE", str(tmp_path / "cache"))
    pop = tmp_path / "pop.csv"
    pop.write_text("name,population\nWestdorp,1500\nOostdorp,2500\n")
    out = tmp_path / "packs"
    rc = main(
        [
            "fetch-zone",
            "stubzone",
            "--municipality",
            "Westdorp",
            "--municipality",
            "Oostdorp",
            "--population",
            str(pop),
            "--out",
            str(out),
        ]
    )
    assert rc == 0, capsys.readouterr().err
    assert calls["geocode"] == ["Westdorp", "Oostdorp"]
    # the custom filter keeps the ways cars may not use but emergency vehicles do
    flt = calls["graph"]["custom_filter"]
    assert "network_type" not in calls["graph"]
    assert '["highway"]' in flt and '["emergency"!~"no"]' in flt
    for kept in ("pedestrian", "busway", "service", "track", "residential"):
        assert kept not in flt
    for dropped in ("footway", "cycleway", "steps", "construction"):
        assert dropped in flt
    monkeypatch.setitem(sys.modules, "osmnx", osmnx)  # loading uses the real one
    pack = load_pack(str(out / "stubzone"))
    assert [m.name for m in pack.municipalities] == ["Westdorp", "Oostdorp"]
    assert [m.population for m in pack.municipalities] == [1500.0, 2500.0]
    # 0.01 deg x 0.02 deg at lat 51.05: about 0.70 km x 2.22 km = 1.56 km2
    assert pack.municipalities[0].area_km2 == pytest.approx(
        0.01 * 111.2 * np.cos(np.radians(51.05)) * 0.02 * 111.2, rel=0.01
    )
    assert pack.posts == [] and pack.medical_sites == []
    assert pack.roads_file.name.endswith(".osm.bz2")
    net = load_network(pack.roads_file, quiet=True)
    assert net.n_nodes == 5 and net.n_edges == 16
    assert sorted(zip(net.lon.round(6), net.lat.round(6))) == sorted(_LONLAT.values())
    assert [p.name for p in out.iterdir()] == ["stubzone"]  # no temp folder left


@pytest.mark.parametrize("fail_at", ["geocode", "graph"])
def test_fetch_zone_connection_error_one_line_no_folder(tmp_path, monkeypatch, capsys, fail_at):
    stub, _ = _stub(ConnectionError("Max retries exceeded with url: nominatim"), fail_at=fail_at)
    monkeypatch.setitem(sys.modules, "osmnx", stub)
    out = tmp_path / "packs"
    rc = main(["fetch-zone", "stubzone", "--municipality", "Westdorp", "--municipality", "Oostdorp", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "cannot reach OpenStreetMap" in err
    assert not (out / "stubzone").exists()
    assert not out.exists() or list(out.iterdir()) == []
