"""Build a zone pack from local files (``kazerne build-pack``): OSM XML or PBF road files (one or
several sources), municipality polygons (GeoJSON) and a posts CSV.

The road files are read without simplification, their node ids made distinct per source, merged,
and nodes closer than ``join_m`` (default 2 m) on the same level are joined
(:func:`kazerne.routing.osmread.join_close_nodes`) — this stitches several sources at their seams
and repairs junctions drawn twice. What was joined is written to the pack's README and returned.
"""

from __future__ import annotations

import bz2
import csv
import datetime as _dt
import json
import math
import os
import re
import shutil
import tempfile
from array import array
from pathlib import Path
from typing import NoReturn

from ..errors import ZonePackError
from ..report.atomic import atomic_dir, check_folder_name, check_output_dir
from .fetch import MED_HEADER, POST_HEADER
from .osmread import JOIN_TOLERANCE_M, WAY_TAGS, join_close_nodes, pbf_to_xml

#: OSM ids are signed 64-bit integers (the network cache stores them so).
ID_MAX = 2**63 - 1
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?")


def _fail(path: Path, msg: str) -> NoReturn:
    raise ZonePackError(msg, source=str(path))


def _open_osm(path: Path):
    return bz2.open(path, "rb") if path.name.endswith(".bz2") else open(path, "rb")


def check_osm_xml(path: Path, shown: Path | None = None) -> int:
    """Check the nodes and ways of an OSM XML file (``.osm`` or ``.osm.bz2``) before it is read;
    returns the largest node id.

    Raises :class:`ZonePackError` naming ``shown`` (the user's file) when the file is not OSM XML,
    holds no ``<way>``, a node id that is not a 64-bit integer, coordinates that are not finite
    degrees (lat -90..90, lon -180..180), or one node id twice with different coordinates.
    """
    import xml.parsers.expat as expat

    import numpy as np

    shown = shown or path
    ids, lats, lons = array("q"), array("d"), array("d")
    counts = {"way": 0, "osm": 0, "in_way": 0}  # ways with a highway tag

    def start(tag, attrs):
        if tag == "node":
            nid, fla, flo = _osm_node(attrs, shown)
            ids.append(nid)
            lats.append(fla)
            lons.append(flo)
        elif tag == "way":
            counts["in_way"] = 1
        elif tag == "tag" and counts["in_way"] and attrs.get("k") == "highway":
            counts["way"] += 1
            counts["in_way"] = 0
        elif tag == "osm":
            counts["osm"] += 1

    def end(tag):
        if tag == "way":
            counts["in_way"] = 0

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with _open_osm(path) as fh:
            parser.ParseFile(fh)
    except ZonePackError:
        raise
    except expat.ExpatError as exc:
        _fail(
            shown,
            f"expected OSM XML, the file is not well-formed XML ({expat.ErrorString(exc.code)}, line {exc.lineno})",
        )
    except (OSError, EOFError, ValueError) as exc:
        _fail(shown, f"expected OSM XML, could not read the file ({type(exc).__name__}: {exc})")
    if not counts["osm"]:
        _fail(shown, "expected OSM XML (an <osm> element), found none")
    if not counts["way"]:
        _fail(shown, "holds no roads: expected at least one <way> with a highway tag")
    a = np.frombuffer(ids, dtype=np.int64)
    _check_duplicate_nodes(a, np.frombuffer(lats, dtype=np.float64), np.frombuffer(lons, dtype=np.float64), shown)
    return int(a.max()) if len(a) else 0


def _osm_node(attrs: dict, shown: Path) -> tuple[int, float, float]:
    """(id, lat, lon) of an OSM ``<node>`` element's attributes, checked (:func:`check_osm_xml`)."""
    raw = attrs.get("id", "")
    try:
        nid = int(raw)
    except ValueError:
        _fail(shown, f"node id {raw[:40]!r} is not a whole number")
    if not -ID_MAX <= nid <= ID_MAX:
        _fail(shown, f"node id {nid} does not fit in 64 bits (OSM ids are below 2^63)")
    la, lo = attrs.get("lat", ""), attrs.get("lon", "")
    try:
        fla, flo = float(la), float(lo)
    except ValueError:
        fla = flo = math.nan
    if not (-90.0 <= fla <= 90.0 and -180.0 <= flo <= 180.0):
        _fail(
            shown,
            f"node {nid}: expected lat -90..90 and lon -180..180 degrees, got lat={la[:40]!r} lon={lo[:40]!r}",
        )
    return nid, fla, flo


def _check_duplicate_nodes(a, lats, lons, shown: Path) -> None:
    """No node id twice with different coordinates (the same id with the same place is allowed)."""
    import numpy as np

    order = np.argsort(a, kind="stable")
    same = np.flatnonzero(a[order][1:] == a[order][:-1])
    if len(same):
        la, lo = lats[order], lons[order]
        diff = same[(la[same] != la[same + 1]) | (lo[same] != lo[same + 1])]
        if len(diff):
            k = int(diff[0])
            _fail(
                shown,
                f"node id {int(a[order][k])} appears twice with different coordinates "
                f"({la[k]:.7f}, {lo[k]:.7f}) and ({la[k + 1]:.7f}, {lo[k + 1]:.7f}); "
                "expected each id once (merge the sources with distinct ids, or give them as separate --osm files)",
            )


def _read_source(path: Path, offset: int, scratch: Path):
    import warnings

    import networkx as nx
    import osmnx as ox

    if not path.is_file():
        raise ZonePackError("file not found", source=str(path))
    src = path
    if path.name.endswith(".pbf"):
        try:
            src = pbf_to_xml(path, scratch / (path.name + ".osm"))
        except ZonePackError:
            raise
        except Exception as exc:  # noqa: BLE001 - pyosmium raises RuntimeError and friends on bad input
            raise ZonePackError(
                f"expected an OSM PBF file, could not read it ({type(exc).__name__}: {exc})", source=str(path)
            ) from None
    top = check_osm_xml(src, path)
    if top + offset > ID_MAX:
        raise ZonePackError(
            f"node ids up to {top} do not fit in 64 bits once made distinct from the earlier --osm files "
            "(give this file first, or renumber its nodes)",
            source=str(path),
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G = ox.graph_from_xml(str(src), simplify=False, retain_all=True)
    except Exception as exc:  # osmnx raises many kinds; all mean "this file is not usable"
        raise ZonePackError(f"could not read OSM data ({type(exc).__name__}: {exc})", source=str(path)) from None
    if G.number_of_edges() == 0:
        raise ZonePackError("holds no roads: expected at least one <way> with a highway tag", source=str(path))
    return nx.relabel_nodes(G, {n: int(n) + offset for n in G.nodes})


def build_pack(
    name: str,
    osm_files: list,
    municipalities: Path,
    posts: Path,
    out_dir: Path,
    join_m: float = JOIN_TOLERANCE_M,
    road_data_date: str = "",
    force: bool = False,
) -> tuple:
    """Write zone pack ``out_dir/name``; returns ``(path, JoinReport)``.

    ``name`` is one folder name (no path, no ``.``); the pack is written beside it and renamed
    when complete, with a marker listing its files. An existing ``out_dir/name`` is replaced only
    with ``force`` and only when kazerne wrote it (see :mod:`kazerne.report.atomic`).
    """
    import networkx as nx
    import osmnx as ox

    name = check_folder_name(name, "NAME")
    if not osm_files:
        raise ZonePackError("give at least one --osm file", field="build-pack")
    if not (join_m >= 0 and math.isfinite(join_m)):
        raise ZonePackError(f"expected --join-m >= 0 metres, got {join_m}", field="--join-m")
    if road_data_date and not _DATE.fullmatch(road_data_date):
        raise ZonePackError(f"expected a date YYYY-MM (or YYYY-MM-DD), got {road_data_date!r}", field="--date")
    final = Path(out_dir) / name
    if os.path.lexists(final) and not force:
        raise ZonePackError(f"{final} exists; remove it or pass --force to replace it", field="build-pack")
    check_output_dir(final, field="NAME")  # a folder kazerne did not write is never replaced
    try:
        feats = json.loads(Path(municipalities).read_text(encoding="utf-8"))["features"]
        assert all(f["properties"].get("name") for f in feats)
    except (OSError, ValueError, KeyError, TypeError, AssertionError, AttributeError, RecursionError):
        raise ZonePackError(
            "expected a GeoJSON FeatureCollection of polygons with a 'name' property", source=str(municipalities)
        ) from None
    try:
        with open(posts, newline="", encoding="utf-8") as fh:
            cols = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        raise ZonePackError("expected a UTF-8 CSV file", source=str(posts)) from None
    missing = [c for c in ("id", "name", "lat", "lon") if c not in cols]
    if missing:
        raise ZonePackError(f"missing column(s) {', '.join(missing)}", source=str(posts))

    settings = ox.settings
    old = (settings.all_oneway, list(settings.useful_tags_way))
    settings.all_oneway, settings.useful_tags_way = True, list(WAY_TAGS)
    try:
        with atomic_dir(final, field="NAME") as tmp:
            scratch = Path(tempfile.mkdtemp(prefix=".scratch-", dir=tmp))
            graphs = []
            offset = 0
            for f in osm_files:
                g = _read_source(Path(f), offset, scratch)
                graphs.append(g)
                offset = max(offset, max((int(n) for n in g.nodes), default=0)) + 1
            shutil.rmtree(scratch)
            G = nx.compose_all(graphs) if len(graphs) > 1 else graphs[0]
            G.graph.update(graphs[0].graph)
            G, rep = join_close_nodes(G, join_m) if join_m > 0 else (G, None)
            _write_files(tmp, G, rep, name, osm_files, municipalities, posts, join_m, road_data_date)
        return final, rep
    finally:
        settings.all_oneway, settings.useful_tags_way = old


def _write_files(tmp: Path, G, rep, name, osm_files, municipalities, posts, join_m, road_data_date) -> None:
    import osmnx as ox

    date = road_data_date or _dt.date.today().strftime("%Y-%m")
    osm_path = tmp / f"roads-{date}.osm"
    ox.io.save_graph_xml(G, filepath=str(osm_path))
    with open(osm_path, "rb") as s, bz2.open(str(osm_path) + ".bz2", "wb") as d:
        shutil.copyfileobj(s, d)
    os.unlink(osm_path)
    shutil.copyfile(municipalities, tmp / "municipalities.geojson")
    shutil.copyfile(posts, tmp / "posts.csv")
    with open(tmp / "medical-sites.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow(MED_HEADER)
    joined = rep.describe() if rep else {"nodes_joined": 0}
    with open(tmp / "README.md", "w", encoding="utf-8") as fh:
        fh.write(
            f"# Zone pack {name}\n\nBuilt by `kazerne build-pack` on {_dt.date.today()} from "
            f"{', '.join(Path(f).name for f in osm_files)} (© OpenStreetMap contributors, ODbL).\n"
            f"Nodes closer than {join_m:g} m on the same level joined: {joined['nodes_joined']} "
            f"(pairs on different levels kept apart: {joined.get('pairs_skipped_different_levels', 0)}).\n"
            f"Posts: {Path(posts).name} (columns {', '.join(POST_HEADER)}).\n"
        )
    with open(tmp / "build-report.json", "w", encoding="utf-8") as fh:
        json.dump({"sources": [str(f) for f in osm_files], "join": joined}, fh, indent=2)
