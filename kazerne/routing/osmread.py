"""Reading OSM road data for the engine: which ways a vehicle may use, and joining stray nodes.

Every way of an OSM file falls in one of three **access classes** (:func:`way_access`):

* ``public`` (0): a road every motor vehicle may use;
* ``emergency`` (1): an **emergency passage**, a way cars may not use but fire engines and ambulances
  do. By rule (:func:`way_access`), these count: pedestrian streets (``highway=pedestrian``), bus
  gates and bus links (``busway``, ``bus_guideway``, or ``bus``/``psv=yes`` where motor vehicles are
  barred), filters on public streets (a street class — ``living_street``, ``residential``,
  ``unclassified``, ``road``, ``tertiary`` up to ``trunk`` and their links — with
  ``motor_vehicle=no`` or ``motorcar=no``), and every way tagged ``emergency=yes|designated`` or
  ``service=emergency_access``;
* ``none`` (2): nobody drives it — ``emergency=no``; footways, cycleways, paths, steps and ways under
  construction; and, unless tagged for emergency access, **tracks, service roads and private
  grounds closed to motor vehicles** (``highway=track|service`` with ``motor_vehicle=no``, any way
  with ``access=no|private``): field tracks, park lanes, walled courtyards and campus roads are not
  routes a fire engine is known to use (pack hvz-centrum keeps only ``highway``, ``motor_vehicle``,
  ``junction`` … so bollards cannot be told from camera gates: the rule errs on the side of not
  driving through).

Profiles decide what they do with class 1 (``SpeedProfile.emergency_passages``): the fire engine and
the ambulance drive them at the passage speed of their profile, the car never does.

The graph is simplified with osmnx, keeping a node wherever the road class, the street name, the
access class, the level or the ``fixme`` flag changes, so that each engine edge is one kind of road.

:func:`join_close_nodes` merges nodes closer than a tolerance that are on the same level (a bridge
or a tunnel never joins the ground): road extracts stitched from several sources often leave two
nodes a few centimetres apart where one junction should be. Packs built by the project
(``fetch-zone``, ``build-pack``) are joined; the engine's loader reads a pack as it is and the audit
reports what is left.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger("kazerne")

PUBLIC, EMERGENCY, NO_ACCESS = 0, 1, 2
ACCESS_NAMES = ("public", "emergency", "none")

#: OSM way tags the engine reads (osmnx drops all others).
WAY_TAGS = (
    "highway",
    "name",
    "maxspeed",
    "oneway",
    "junction",
    "motor_vehicle",
    "motorcar",
    "access",
    "emergency",
    "service",
    "bus",
    "psv",
    "bridge",
    "tunnel",
    "layer",
    "fixme",
    "FIXME",
    "ref",
)
#: Tags whose change along a way keeps a node when the graph is simplified.
SPLIT_TAGS = ("highway", "name", "junction", "kz_access", "kz_level", "kz_fixme")

_NOT_FOR_VEHICLES = {
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
_EMERGENCY_HIGHWAYS = {"pedestrian", "busway", "bus_guideway"}
#: Street classes on which ``motor_vehicle=no`` is a filter (a public street closed to cars).
_STREET_CLASSES = {
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "road",
}
_NO = {"no", "private"}
_YES = {"yes", "designated", "official", "permissive"}

#: Default tolerance for joining nodes (metres). The zone pack v2 joined vertices closer than 2 m.
JOIN_TOLERANCE_M = 2.0


def _first(v):
    if isinstance(v, (list, tuple)):
        v = sorted(str(x) for x in v)[0] if v else None
    return None if v is None else str(v).strip().lower()


def way_access(tags: dict) -> int:
    """Access class (``PUBLIC``, ``EMERGENCY`` or ``NO_ACCESS``) of a way from its OSM tags (the rule
    of the module docstring)."""
    hw = _first(tags.get("highway")) or ""
    emergency = _first(tags.get("emergency"))
    if emergency == "no":
        return NO_ACCESS
    tagged = emergency in _YES or _first(tags.get("service")) == "emergency_access"
    if hw in _NOT_FOR_VEHICLES:
        return EMERGENCY if tagged else NO_ACCESS
    if tagged or hw in _EMERGENCY_HIGHWAYS:
        return EMERGENCY
    mv = _first(tags.get("motor_vehicle")) or _first(tags.get("motorcar"))
    access = _first(tags.get("access"))
    bus = _first(tags.get("bus")) in _YES or _first(tags.get("psv")) in _YES
    if access in _NO and mv not in _YES:
        return EMERGENCY if bus else NO_ACCESS  # private grounds; a bus gate stays a passage
    if mv in _NO:
        return EMERGENCY if (hw in _STREET_CLASSES or bus) else NO_ACCESS
    return PUBLIC


def way_level(tags: dict) -> int:
    """Vertical level of a way: OSM ``layer`` when given, else +1 for a bridge, -1 for a tunnel, 0."""
    layer = _first(tags.get("layer"))
    if layer is not None:
        try:
            return int(float(layer.split(";")[0]))
        except ValueError:
            pass
    if (_first(tags.get("bridge")) or "no") not in ("no", "false", "0"):
        return 1
    tunnel = _first(tags.get("tunnel")) or "no"
    if tunnel not in ("no", "false", "0", "building_passage"):
        return -1
    return 0


def has_fixme_direction(tags: dict) -> bool:
    """True when the way carries a ``fixme`` about its one-way direction (pack v2: direction unknown)."""
    for k in ("fixme", "FIXME"):
        v = tags.get(k)
        if v is None:
            continue
        s = " ".join(str(x) for x in v) if isinstance(v, (list, tuple)) else str(v)
        if "one-way" in s.lower() or "oneway" in s.lower():
            return True
    return False


def pbf_to_xml(pbf: Path, xml: Path) -> Path:
    """Convert an OSM PBF file to OSM XML with pyosmium (``pip install 'kazerne[pbf]'``)."""
    try:
        import osmium
    except ImportError:
        from ..errors import ZonePackError

        raise ZonePackError(
            "reading .osm.pbf needs pyosmium: pip install 'kazerne[pbf]' (or give OSM XML)", source=str(pbf)
        ) from None
    writer = osmium.SimpleWriter(str(xml))
    try:
        for obj in osmium.FileProcessor(str(pbf)):
            if isinstance(obj, osmium.osm.Node):
                writer.add_node(obj)
            elif isinstance(obj, osmium.osm.Way):
                writer.add_way(obj)
    finally:
        writer.close()
    return xml


def read_osm_graph(path: Path, simplify: bool = True):
    """An osmnx ``MultiDiGraph`` (WGS84) of the ways a vehicle may use, with engine attributes.

    Every edge carries ``kz_access`` (access class), ``kz_level`` (vertical level) and ``kz_fixme``
    (direction unknown) besides the OSM tags of :data:`WAY_TAGS`. Ways of class ``NO_ACCESS`` are
    removed. With ``simplify`` the graph is simplified keeping nodes where :data:`SPLIT_TAGS` change.
    """
    import osmnx as ox

    old_tags = list(ox.settings.useful_tags_way)
    try:
        ox.settings.useful_tags_way = list(WAY_TAGS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G = ox.graph_from_xml(str(path), simplify=False, retain_all=True)
    finally:
        ox.settings.useful_tags_way = old_tags
    drop = []
    for a, b, k, d in G.edges(keys=True, data=True):
        acc = way_access(d)
        if acc == NO_ACCESS:
            drop.append((a, b, k))
            continue
        d["kz_access"] = acc
        d["kz_level"] = way_level(d)
        d["kz_fixme"] = has_fixme_direction(d)
    G.remove_edges_from(drop)
    G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
    if simplify and G.number_of_edges():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G = ox.simplify_graph(G, edge_attrs_differ=list(SPLIT_TAGS))
    return G


@dataclass
class JoinReport:
    """What :func:`join_close_nodes` merged."""

    tolerance_m: float
    pairs_within: int = 0
    joined: int = 0
    skipped_levels: int = 0
    examples: list = field(default_factory=list)  # (lon, lat, distance_m) of joined pairs, first 20

    def describe(self) -> dict:
        return {
            "tolerance_m": self.tolerance_m,
            "pairs_within_tolerance": self.pairs_within,
            "nodes_joined": self.joined,
            "pairs_skipped_different_levels": self.skipped_levels,
            "examples": self.examples,
        }


def join_close_nodes(G, tolerance_m: float = JOIN_TOLERANCE_M):
    """Merge nodes of an unsimplified osmnx graph closer than ``tolerance_m`` on the same level.

    Two nodes are on the same level when the sets of levels (:func:`way_level`) of their edges
    intersect; a bridge node above a street is never joined with it. Each group of nodes within
    tolerance of each other (transitively) becomes its first node (lowest id). Returns ``(G, report)``;
    ``G`` is modified in place.
    """
    from scipy.spatial import cKDTree

    from .crs import to_metric

    rep = JoinReport(tolerance_m=float(tolerance_m))
    nodes = sorted(G.nodes)
    if len(nodes) < 2:
        return G, rep
    lon = np.array([G.nodes[n]["x"] for n in nodes])
    lat = np.array([G.nodes[n]["y"] for n in nodes])
    x, y = to_metric(lon, lat)
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(r=float(tolerance_m), output_type="ndarray")
    rep.pairs_within = int(len(pairs))
    if not len(pairs):
        return G, rep

    def levels(n):
        s = {int(d.get("kz_level", way_level(d))) for _, _, d in G.edges(n, data=True)}
        s |= {int(d.get("kz_level", way_level(d))) for _, _, d in G.in_edges(n, data=True)}
        return s or {0}

    parent = list(range(len(nodes)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in sorted(map(tuple, pairs.tolist())):
        if not (levels(nodes[i]) & levels(nodes[j])):
            rep.skipped_levels += 1
            continue
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
            if len(rep.examples) < 20:
                rep.examples.append(
                    (
                        round(float(lon[j]), 7),
                        round(float(lat[j]), 7),
                        round(float(np.hypot(x[i] - x[j], y[i] - y[j])), 3),
                    )
                )
    mapping = {nodes[i]: nodes[find(i)] for i in range(len(nodes)) if find(i) != i}
    rep.joined = len(mapping)
    for old, new in mapping.items():
        for _, b, k, d in list(G.out_edges(old, keys=True, data=True)):
            G.add_edge(new, mapping.get(b, b), **d)
        for a, _, k, d in list(G.in_edges(old, keys=True, data=True)):
            if a not in mapping:
                G.add_edge(a, new, **d)
        G.remove_node(old)
    # joining can turn a short segment into a self-loop: drop those
    G.remove_edges_from([(a, b, k) for a, b, k in G.edges(keys=True) if a == b])
    log.info(
        "joined %d nodes closer than %.1f m (%d pairs on different levels kept apart)",
        rep.joined,
        tolerance_m,
        rep.skipped_levels,
    )
    return G, rep
