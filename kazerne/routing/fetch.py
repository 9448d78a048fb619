"""Build a zone pack from live OpenStreetMap (``kazerne fetch-zone``).

Needs internet. Municipality polygons come from OSM's geocoder (``osmnx.geocode_to_gdf``), roads
from ``osmnx.graph_from_polygon`` on the union of the municipalities plus a buffer, written as
``roads-<date>.osm.bz2``. Population is not in OSM: give it with ``--population CSV``
(``name,population``), otherwise the municipalities get ``population`` 0 and a warning.
Posts and medical sites are written as empty CSVs with the right columns, to be filled in.
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

from ..errors import NetworkFetchError, ZonePackError
from ..report.atomic import check_folder_name, check_output_dir, commit_dir

#: The Overpass filter of ``fetch-zone``: osmnx's "drive" roads plus the ways closed to cars that
#: emergency vehicles use (pedestrian streets, bus links and bus gates, emergency access roads, modal
#: filters tagged motor_vehicle=no, private service roads), so that the fire engine and ambulance
#: profiles can use them; the car profile never does (see kazerne.routing.osmread).
EMERGENCY_FILTER = (
    '["highway"]["area"!~"yes"]["highway"!~"abandoned|bridleway|construction|corridor|cycleway|elevator|'
    'escalator|footway|no|path|platform|proposed|raceway|razed|steps"]["emergency"!~"no"]'
)

POST_HEADER = ["id", "name", "municipality", "street", "crew", "status", "lat", "lon", "location_grade"]
MED_HEADER = ["id", "name", "municipality", "address", "services", "lat", "lon", "location_grade"]


def _read_population(path: Path | None) -> dict:
    if path is None:
        return {}
    out = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for lineno, row in enumerate(csv.DictReader(fh), start=2):
            try:
                out[row["name"].strip()] = float(row["population"])
            except (KeyError, TypeError, ValueError):
                raise ZonePackError(
                    "expected columns name,population with a number", source=f"{path}:{lineno}"
                ) from None
    return out


def fetch_zone(
    name: str,
    municipalities: list[str],
    out_dir: Path,
    population_csv: Path | None = None,
    buffer_m: float = 2500.0,
    ox=None,
    force: bool = False,
) -> Path:
    """Write zone pack ``out_dir/name`` from live OpenStreetMap; see :func:`_fetch_zone`."""
    if ox is None:
        import osmnx as ox
    settings = getattr(ox, "settings", None)
    old = getattr(settings, "all_oneway", None)
    if settings is not None:
        settings.all_oneway = True  # osmnx needs it to write the graph back as faithful OSM XML
    try:
        return _fetch_zone(name, municipalities, out_dir, population_csv, buffer_m, ox, force)
    finally:
        if settings is not None:
            settings.all_oneway = old


def _fetch_zone(
    name: str, municipalities: list[str], out_dir: Path, population_csv: Path | None, buffer_m: float, ox, force: bool
) -> Path:
    """Write zone pack ``out_dir/name`` from live OSM. ``ox`` is the osmnx module (tests pass a stub).

    Raises
    ------
    NetworkFetchError
        When OpenStreetMap cannot be reached (one clear line, no traceback in the CLI).
    """
    if ox is None:
        import osmnx as ox
    if not municipalities:
        raise ZonePackError("give at least one --municipality", field="municipality")
    name = check_folder_name(name, "NAME")
    if os.path.lexists(Path(out_dir) / name) and not force:
        raise ZonePackError(
            f"{Path(out_dir) / name} exists; it may hold hand-filled posts.csv — "
            f"remove it or pass --force to replace it",
            field="fetch-zone",
        )
    check_output_dir(Path(out_dir) / name, field="NAME")  # a folder kazerne did not write is never replaced
    pops = _read_population(population_csv)
    try:
        gdf = ox.geocode_to_gdf(list(municipalities))
        union = gdf.union_all() if hasattr(gdf, "union_all") else gdf.unary_union
        metric = gdf.to_crs("EPSG:31370")
        area = metric.geometry.area / 1e6
        poly = (
            metric.union_all().buffer(buffer_m) if hasattr(metric, "union_all") else metric.unary_union.buffer(buffer_m)
        )
        import geopandas as gpd

        poly_wgs = gpd.GeoSeries([poly], crs="EPSG:31370").to_crs("EPSG:4326").iloc[0]
        G = ox.graph_from_polygon(poly_wgs, custom_filter=EMERGENCY_FILTER, simplify=False, retain_all=True)
    except (ConnectionError, OSError) as exc:
        raise NetworkFetchError(
            f"cannot reach OpenStreetMap ({type(exc).__name__}); fetch-zone needs internet, "
            f"or use an existing zone pack on KAZERNE_DATA",
            field="fetch-zone",
        ) from None
    except Exception as exc:  # requests' errors subclass OSError; others mean a bad answer
        msg = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        if "connect" in msg.lower() or "resolve" in msg.lower() or "timed out" in msg.lower():
            raise NetworkFetchError(
                f"cannot reach OpenStreetMap ({msg}); fetch-zone needs internet", field="fetch-zone"
            ) from None
        raise NetworkFetchError(f"OpenStreetMap query failed: {msg}", field="fetch-zone") from None
    del union

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out_dir))
    try:
        feats = []
        for i, (_, row) in enumerate(gdf.iterrows()):
            nm = municipalities[i] if i < len(municipalities) else str(row.get("name", i))
            feats.append(
                {
                    "type": "Feature",
                    "properties": {
                        "name": nm,
                        "area_km2": round(float(area.iloc[i]), 3),
                        "population": pops.get(nm, 0),
                    },
                    "geometry": row.geometry.__geo_interface__,
                }
            )
        with open(tmp / "municipalities.geojson", "w", encoding="utf-8") as fh:
            json.dump({"type": "FeatureCollection", "features": feats}, fh)
        date = _dt.date.today().strftime("%Y-%m")
        osm_path = tmp / f"roads-{date}.osm"
        from .osmread import join_close_nodes

        G, joined = join_close_nodes(G)
        ox.io.save_graph_xml(G, filepath=str(osm_path))
        with open(osm_path, "rb") as src, bz2.open(str(osm_path) + ".bz2", "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.unlink(osm_path)
        for fname, header in (("posts.csv", POST_HEADER), ("medical-sites.csv", MED_HEADER)):
            with open(tmp / fname, "w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerow(header)
        with open(tmp / "README.md", "w", encoding="utf-8") as fh:
            fh.write(
                f"# Zone pack {name}\n\nBuilt by `kazerne fetch-zone` on {_dt.date.today()} from "
                f"OpenStreetMap (© OpenStreetMap contributors, ODbL).\nMunicipalities: "
                f"{', '.join(municipalities)}.\nPopulation: "
                f"{'from ' + str(population_csv) if pops else 'NOT SET (0): give --population'}.\n"
                f"Nodes closer than {joined.tolerance_m:g} m on the same level joined: {joined.joined}.\n"
                f"posts.csv and medical-sites.csv are empty: fill them in.\n"
            )
        final = out_dir / name
        commit_dir(tmp, final, field="NAME")  # with its marker; replaces only a folder kazerne wrote
        return final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
