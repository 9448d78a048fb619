"""Zone packs: a synthetic pack written here (no copy of the real data), its loading and its errors."""

from __future__ import annotations

import json

import numpy as np
import osm_fixture as fx
import pytest

from kazerne.errors import SnapError, ZonePackError
from kazerne.routing.zone import load_zone
from kazerne.routing.zonepack import find_pack, load_pack

POSTS = """id,name,municipality,street,crew,status,lat,lon
T1,Post Grid,Gemeente West,Oost-Weststraat 3,professional,active,{g[1]},{g[0]}
T2,Post Oost,Gemeente Oost,Eenrichtingsstraat,volunteer,active,{a[1]},{a[0]}
"""
MEDICAL = "id,name,municipality,lat,lon\nH1,Ziekenhuis,Gemeente West,,\n"


def _square(lon0, lat0, lon1, lat1):
    return {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]}


def write_pack(base, name="tinyzone"):
    d = base / name
    d.mkdir(parents=True)
    fx.write_osm(d / "roads-2020-05.osm.bz2")
    munis = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Gemeente West", "nis_code": "99001", "population_2020": 1200},
                "geometry": _square(3.695, 51.045, 3.72, 51.06),
            },
            {
                "type": "Feature",
                "properties": {"name": "Gemeente Oost", "nis_code": "99002", "population_2020": 800},
                "geometry": _square(3.72, 51.045, 3.78, 51.06),
            },
        ],
    }
    (d / "municipalities.geojson").write_text(json.dumps(munis))
    (d / "posts.csv").write_text(POSTS.format(g=fx.NODES["g3_3"], a=fx.NODES["A"]))
    (d / "medical-sites.csv").write_text(MEDICAL)
    f = fx.NODES["F"]
    gap = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": _square(f[0] - 0.003, f[1] - 0.003, f[0] + 0.003, f[1] + 0.003),
            }
        ],
    }
    (d / "network-gap.geojson").write_text(json.dumps(gap))
    return d


@pytest.fixture
def pack_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KAZERNE_DATA", str(tmp_path / "packs"))
    monkeypatch.setenv("KAZERNE_CACHE", str(tmp_path / "cache"))
    return write_pack(tmp_path / "packs")


def test_synthetic_pack_loads_by_name(pack_dir):
    assert find_pack("tinyzone") == pack_dir
    p = load_pack("tinyzone")
    assert [m.name for m in p.municipalities] == ["Gemeente West", "Gemeente Oost"]
    assert p.total_population == 2000.0
    assert p.population_year == "2020"
    assert p.road_data_date == "2020-05"
    assert p.roads_file == pack_dir / "roads-2020-05.osm.bz2"
    assert [s.id for s in p.posts] == ["T1", "T2"]
    assert p.post("T2").lat == fx.NODES["A"][1] and p.post("T2").crew == "volunteer"
    assert not p.site("H1").located  # empty lat/lon = position unknown, kept
    assert p.gap is not None and p.gap.contains(__import__("shapely").Point(*fx.NODES["F"]))
    # a folder path works as well as a name
    assert load_pack(str(pack_dir)).name == "tinyzone"


def test_zone_site_node_and_snap_errors(pack_dir):
    z = load_zone("tinyzone", quiet=True)
    assert z.net.n_nodes == 54
    a = z.pack.post("T2")
    n = z.site_node(a.lon, a.lat, what="post T2")
    assert (z.net.lon[n], z.net.lat[n]) == pytest.approx(fx.NODES["A"], abs=1e-9)
    f = fx.NODES["F"]
    with pytest.raises(SnapError, match="gap"):
        z.site_node(f[0], f[1], what="post X")  # on a node, but inside the gap polygon
    with pytest.raises(SnapError, match="from the nearest road"):
        z.site_node(3.70, 51.10, what="post Y")  # ~5.5 km north of the grid
    with pytest.raises(SnapError, match="position unknown"):
        z.site_node(np.nan, np.nan, what="site H1")


def _err(name="tinyzone") -> str:
    with pytest.raises(ZonePackError) as ei:
        load_pack(name)
    return str(ei.value)


def test_missing_posts_file(pack_dir):
    (pack_dir / "posts.csv").unlink()
    msg = _err()
    assert str(pack_dir / "posts.csv") in msg and "missing" in msg


def test_missing_municipalities_file(pack_dir):
    (pack_dir / "municipalities.geojson").unlink()
    assert str(pack_dir / "municipalities.geojson") in _err()


def test_missing_roads_file(pack_dir):
    (pack_dir / "roads-2020-05.osm.bz2").unlink()
    msg = _err()
    assert str(pack_dir) in msg and "road network file" in msg


def test_bad_csv_row_non_numeric_lat(pack_dir):
    lines = (pack_dir / "posts.csv").read_text().splitlines()
    lines[2] = lines[2].replace(f",{fx.NODES['A'][1]},", ",51.0x,")
    (pack_dir / "posts.csv").write_text("\n".join(lines) + "\n")
    msg = _err()
    assert f"{pack_dir / 'posts.csv'}:3" in msg  # file and line of the bad row
    assert "51.0x" in msg and "lat" in msg


def test_missing_column(pack_dir):
    text = (pack_dir / "posts.csv").read_text().replace(",lon\n", ",longitude\n", 1)
    (pack_dir / "posts.csv").write_text(text)
    msg = _err()
    assert str(pack_dir / "posts.csv") in msg and "missing column" in msg and "lon" in msg


def test_duplicate_id(pack_dir):
    text = (pack_dir / "posts.csv").read_text().replace("\nT2,", "\nT1,")
    (pack_dir / "posts.csv").write_text(text)
    msg = _err()
    assert f"{pack_dir / 'posts.csv'}:3" in msg and "duplicate id 'T1'" in msg


def test_duplicate_id_in_medical_sites(pack_dir):
    (pack_dir / "medical-sites.csv").write_text(MEDICAL + "H1,Ander,Gemeente Oost,51.05,3.75\n")
    assert f"{pack_dir / 'medical-sites.csv'}:3" in _err()


def test_unknown_pack_name(pack_dir):
    msg = _err("no-such-zone")
    assert "'no-such-zone'" in msg and "not found" in msg
    assert str(pack_dir.parent) in msg  # says where it looked
