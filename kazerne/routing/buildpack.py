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
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import ZonePackError
from .fetch import MED_HEADER, POST_HEADER
from .osmread import JOIN_TOLERANCE_M, WAY_TAGS, join_close_nodes, pbf_to_xml


def _read_source(path: Path, offset: int, tmpdir: Path):
    import warnings

    import networkx as nx
    import osmnx as ox

    if not path.is_file():
        raise ZonePackError("file not found", source=str(path))
    src = path
    if path.name.endswith(".pbf"):
        src = pbf_to_xml(path, tmpdir / (path.name + ".osm"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G = ox.graph_from_xml(str(src), simplify=False, retain_all=True)
    except Exception as exc:  # osmnx raises many kinds; all mean "this file is not usable"
        raise ZonePackError(f"could not read OSM data ({type(exc).__name__}: {exc})", source=str(path)) from None
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
    """Write zone pack ``out_dir/name``; returns ``(path, JoinReport)``."""
    import networkx as nx
    import osmnx as ox

    if not osm_files:
        raise ZonePackError("give at least one --osm file", field="build-pack")
    if not (join_m >= 0):
        raise ZonePackError(f"expected --join-m >= 0 metres, got {join_m}", field="--join-m")
    final = Path(out_dir) / name
    if final.exists() and not force:
        raise ZonePackError(f"{final} exists; remove it or pass --force to replace it", field="build-pack")
    try:
        feats = json.loads(Path(municipalities).read_text(encoding="utf-8"))["features"]
        assert all(f["properties"].get("name") for f in feats)
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        raise ZonePackError(
            "expected a GeoJSON FeatureCollection of polygons with a 'name' property", source=str(municipalities)
        ) from None
    try:
        with open(posts, newline="", encoding="utf-8") as fh:
            cols = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError):
        raise ZonePackError("expected a UTF-8 CSV file", source=str(posts)) from None
    missing = [c for c in ("id", "name", "lat", "lon") if c not in cols]
    if missing:
        raise ZonePackError(f"missing column(s) {', '.join(missing)}", source=str(posts))

    settings = ox.settings
    old = (settings.all_oneway, list(settings.useful_tags_way))
    settings.all_oneway, settings.useful_tags_way = True, list(WAY_TAGS)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out_dir))
    try:
        graphs = []
        offset = 0
        for f in osm_files:
            g = _read_source(Path(f), offset, tmp)
            graphs.append(g)
            offset = max(offset, max((int(n) for n in g.nodes), default=0)) + 1
        G = nx.compose_all(graphs) if len(graphs) > 1 else graphs[0]
        G.graph.update(graphs[0].graph)
        G, rep = join_close_nodes(G, join_m) if join_m > 0 else (G, None)
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
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        return final, rep
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        settings.all_oneway, settings.useful_tags_way = old
