"""An independent reading of the zone pack's OSM file, for the zone tests: the standard library's XML
parser and networkx, none of the engine's code.

Rules (the documented ones, written out again here): a way nobody drives (``emergency=no``; footway,
cycleway, path, steps … without ``emergency=yes``) is left out, and so (issue 23's passage rule) is a
track or service road closed to motor vehicles (``motor_vehicle=no``) not tagged for emergency access;
every other way is a road for the fire engine. ``oneway=yes|true|1`` runs along the way, ``oneway=-1|reverse`` against it,
``junction=roundabout`` along it; anything else is two-way.
"""

from __future__ import annotations

import bz2
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx

NOT_FOR_VEHICLES = {
    "footway",
    "cycleway",
    "path",
    "steps",
    "bridleway",
    "construction",
    "proposed",
    "platform",
    "corridor",
    "elevator",
    "escalator",
    "abandoned",
    "raceway",
}


def read_raw(path: Path):
    """(coords {osm id: (lon, lat)}, DiGraph of way segments for the fire engine)."""
    opener = bz2.open if str(path).endswith(".bz2") else open
    coords, g = {}, nx.DiGraph()
    with opener(path, "rb") as fh:
        for _, el in ET.iterparse(fh, events=("end",)):
            if el.tag == "node":
                coords[int(el.get("id"))] = (float(el.get("lon")), float(el.get("lat")))
                el.clear()
            elif el.tag == "way":
                tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
                refs = [int(n.get("ref")) for n in el.findall("nd")]
                el.clear()
                hw = tags.get("highway")
                if hw is None or tags.get("emergency") == "no":
                    continue
                if hw in NOT_FOR_VEHICLES and tags.get("emergency") not in ("yes", "designated"):
                    continue
                if hw in ("track", "service") and tags.get("motor_vehicle") == "no":
                    if tags.get("emergency") not in ("yes", "designated") and tags.get("service") != "emergency_access":
                        if tags.get("bus") != "yes" and tags.get("psv") != "yes":
                            continue
                ow = tags.get("oneway", "no")
                fwd = ow in ("yes", "true", "1") or tags.get("junction") == "roundabout"
                rev = ow in ("-1", "reverse")
                for a, b in zip(refs[:-1], refs[1:]):
                    if a == b:
                        continue
                    if not rev:
                        g.add_edge(a, b)
                    if not fwd:
                        g.add_edge(b, a)
    return coords, g


def junctions_and_dead_ends(g: nx.DiGraph) -> set:
    """Nodes with one, or three and more, distinct neighbours (either direction)."""
    out = set()
    for n in g.nodes:
        k = len(set(g.successors(n)) | set(g.predecessors(n)))
        if k != 2:
            out.add(n)
    return out


def summary(path: Path) -> dict:
    coords, g = read_raw(path)
    scc = max(nx.strongly_connected_components(g), key=len)
    jd = junctions_and_dead_ends(g)
    return {
        "file_nodes": len(coords),
        "raw_nodes": g.number_of_nodes(),
        "raw_scc_nodes": len(scc),
        "junctions_dead_ends": len(jd),
        "junctions_dead_ends_in_scc": len(jd & scc),
        "coords": coords,
        "scc": scc,
        "jd": jd,
    }


if __name__ == "__main__":  # prints the figures the zone tests assert
    import sys

    s = summary(Path(sys.argv[1]))
    print({k: v for k, v in s.items() if isinstance(v, int)})
