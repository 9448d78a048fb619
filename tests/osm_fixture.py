"""A tiny OSM XML road network near Ghent, written by the test suite itself.

Layout (x east, y north, metres from lon 3.70 / lat 51.05; converted to degrees with a flat-earth
factor, the tests compute true lengths from the degrees with the haversine formula)::

    grid  7 x 7 residential streets, 50 m apart, x,y in 0..300  (45 intersections -> "urban")
    g6_3 (300,150) --tertiary 1700 m-- A (2000,150)
    A --> B            one-way residential, 100 m  (B -> A must go round the loop)
    B - D - E - A      the residential loop back: B (2100,150) D (2100,650) E (2000,650), 1100 m
    B - H - C          primary in two ways, maxspeed 70 (B-H) and 50 (H-C): merged into one edge
                       B-C of 500 m whose maxspeed is the list ['70', '50']
    C - F              a straight service road, 400 m, and a primary road bent through K (2800,450),
                       2 x 360.6 m: two parallel edges C-F, the longer primary is the faster one
    F --> M            motorway one-way, maxspeed 70, 2000 m; M --> F the other carriageway, maxspeed 120
    C --> S            one-way dead-end spur (S cannot get back: dropped by the SCC step)
    I1 - I2 - I3       a disconnected island far away (dropped by the SCC step)

No other road lies within 500 m of the rural part, so only grid edges have >= 40 intersections
within 500 m of their midpoint (the engine's "urban" rule).
"""

from __future__ import annotations

import bz2
import math
from pathlib import Path

LON0, LAT0 = 3.70, 51.05
_M_PER_DEG_LAT = 6371009.0 * math.pi / 180.0
_M_PER_DEG_LON = _M_PER_DEG_LAT * math.cos(math.radians(LAT0))


def _deg(x_m: float, y_m: float) -> tuple[float, float]:
    return (round(LON0 + x_m / _M_PER_DEG_LON, 7), round(LAT0 + y_m / _M_PER_DEG_LAT, 7))


#: name -> (x, y) metres in the local frame
LOCAL = {f"g{i}_{j}": (50.0 * i, 50.0 * j) for i in range(7) for j in range(7)}
LOCAL.update(
    {
        "A": (2000.0, 150.0),
        "B": (2100.0, 150.0),
        "D": (2100.0, 650.0),
        "E": (2000.0, 650.0),
        "H": (2350.0, 150.0),
        "C": (2600.0, 150.0),
        "K": (2800.0, 450.0),
        "F": (3000.0, 150.0),
        "M": (5000.0, 150.0),
        "S": (2600.0, -400.0),
        "I1": (6000.0, 3000.0),
        "I2": (6200.0, 3000.0),
        "I3": (6400.0, 3000.0),
    }
)
#: name -> (lon, lat) degrees, exactly as written to the file
NODES = {k: _deg(*v) for k, v in LOCAL.items()}
NODE_ID = {k: i + 1 for i, k in enumerate(NODES)}

WAYS = []  # (way id, [node names], {tag: value})
for j in range(7):
    WAYS.append(([f"g{i}_{j}" for i in range(7)], {"highway": "residential", "name": f"Oost-Weststraat {j}"}))
for i in range(7):
    WAYS.append(([f"g{i}_{j}" for j in range(7)], {"highway": "residential", "name": f"Noord-Zuidstraat {i}"}))
WAYS += [
    (["g6_3", "A"], {"highway": "tertiary", "name": "Verbindingsweg"}),
    (["A", "B"], {"highway": "residential", "name": "Eenrichtingsstraat", "oneway": "yes"}),
    (["B", "D", "E", "A"], {"highway": "residential", "name": "Lusweg"}),
    (["B", "H"], {"highway": "primary", "name": "Steenweg", "maxspeed": "70"}),
    (["H", "C"], {"highway": "primary", "name": "Steenweg", "maxspeed": "50"}),
    (["C", "F"], {"highway": "service", "name": "Dienstweg"}),
    (["C", "K", "F"], {"highway": "primary", "name": "Bochtweg"}),
    (["F", "M"], {"highway": "motorway", "name": "E99", "oneway": "yes", "maxspeed": "70"}),
    (["M", "F"], {"highway": "motorway", "name": "E99", "oneway": "yes", "maxspeed": "120"}),
    (["C", "S"], {"highway": "residential", "name": "Doodlopende straat", "oneway": "yes"}),
    (["I1", "I2", "I3"], {"highway": "residential", "name": "Eilandweg"}),
]
WAYS = [(1000 + k, nodes, tags) for k, (nodes, tags) in enumerate(WAYS)]


def osm_xml(variant: int = 0) -> str:
    """The OSM XML text. ``variant`` != 0 gives different bytes (an XML comment) for the same roads."""
    out = ["<?xml version='1.0' encoding='UTF-8'?>", '<osm version="0.6" generator="kazerne-tests">']
    if variant:
        out.append(f"<!-- variant {variant} -->")
    for name, (lon, lat) in NODES.items():
        out.append(f'<node id="{NODE_ID[name]}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for wid, nodes, tags in WAYS:
        out.append(f'<way id="{wid}" version="1">')
        out += [f'  <nd ref="{NODE_ID[n]}"/>' for n in nodes]
        out += [f'  <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        out.append("</way>")
    out.append("</osm>")
    return "\n".join(out) + "\n"


def write_osm(path, variant: int = 0) -> Path:
    """Write the network to ``path``; bz2-compressed when the name ends in ``.bz2``."""
    path = Path(path)
    data = osm_xml(variant).encode("utf-8")
    if path.suffix == ".bz2":
        with bz2.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)
    return path


def local_nodes(local: dict) -> dict:
    """name -> (lon, lat) degrees (rounded to 7 decimals, as written) of ``local`` name -> (x, y)
    metres east / north of lon 3.70, lat 51.05 (the flat-earth factor of this module)."""
    return {k: _deg(x, y) for k, (x, y) in local.items()}


def write_ways(path, nodes: dict, ways: list, node_tags: dict | None = None) -> Path:
    """Write an OSM XML file of ``nodes`` (name -> (lon, lat)) and ``ways`` ([node names], {tag: value})
    (way ids from 100 in order, node ids from 1 in the order of ``nodes``); ``node_tags`` name -> tags."""
    path = Path(path)
    ids = {k: i + 1 for i, k in enumerate(nodes)}
    out = ["<?xml version='1.0' encoding='UTF-8'?>", '<osm version="0.6" generator="kazerne-tests">']
    for k, (lo, la) in nodes.items():
        tags = (node_tags or {}).get(k)
        if tags:
            out.append(f'<node id="{ids[k]}" version="1" lat="{la:.7f}" lon="{lo:.7f}">')
            out += [f'  <tag k="{a}" v="{b}"/>' for a, b in tags.items()]
            out.append("</node>")
        else:
            out.append(f'<node id="{ids[k]}" version="1" lat="{la:.7f}" lon="{lo:.7f}"/>')
    for i, (way_nodes, tags) in enumerate(ways):
        out.append(f'<way id="{100 + i}" version="1">')
        out += [f'  <nd ref="{ids[n]}"/>' for n in way_nodes]
        out += [f'  <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        out.append("</way>")
    out.append("</osm>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":  # pragma: no cover
    import sys

    write_osm(sys.argv[1] if len(sys.argv) > 1 else "tiny.osm")
