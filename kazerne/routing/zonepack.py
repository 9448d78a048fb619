"""Zone packs: the data of one rescue zone, found by name on a search path.

A zone pack is a folder ``<name>/`` holding

=========================  =====================================================================
``roads-*.osm[.bz2]``      drivable road network as OSM XML (loaded with ``osmnx.graph_from_xml``)
``municipalities.geojson`` municipality polygons (WGS84) with ``name`` and ``population_*``
``posts.csv``              fire posts: ``id,name,municipality,street,crew,status,lat,lon`` (+ extra)
``medical-sites.csv``      hospitals, PIT and ambulance posts: ``id,name,municipality,lat,lon``…
``ems-bases.csv``          optional: departure locations of the 112 ambulance / PIT services
                           (``id,name,teams,lat,lon``…; ``teams`` lists the services, ``|``-separated)
``network-gap.geojson``    optional: where the road extract has no data
``README.md``              optional: provenance
=========================  =====================================================================

The search path is ``KAZERNE_DATA`` (a ``:``-separated list of folders), then the repository's
``data/`` folder.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

from ..errors import ZonePackError

REPO_DATA = Path(__file__).resolve().parents[2] / "data"

POST_COLUMNS = ("id", "name", "municipality", "crew", "status", "lat", "lon")
MEDICAL_COLUMNS = ("id", "name", "municipality", "lat", "lon")
EMS_BASE_COLUMNS = ("id", "name", "teams", "lat", "lon")


def crew_type(label: str) -> str:
    """Normalise a pack's crew label: ``professional``, ``volunteer`` or ``mixed``."""
    s = (label or "").lower()
    if "professional" in s and "volunteer" in s:
        return "mixed"
    if "volunteer" in s:
        return "volunteer"
    if "professional" in s:
        return "professional"
    return s or "professional"


#: Belgium roughly, WGS84; a pack coordinate outside this box is a data error.
_LON_RANGE = (-180.0, 180.0)
_LAT_RANGE = (-90.0, 90.0)


def search_path() -> list[Path]:
    """Folders searched for zone packs, in order: ``KAZERNE_DATA`` entries, then ``data/``."""
    paths = [Path(p) for p in os.environ.get("KAZERNE_DATA", "").split(os.pathsep) if p.strip()]
    paths.append(REPO_DATA)
    return paths


def find_pack(name: str) -> Path:
    """Return the folder of zone pack ``name`` (first match on :func:`search_path`)."""
    if not name or "/" in name or name.startswith("."):
        p = Path(name)
        if p.is_dir():
            return p
    for base in search_path():
        cand = base / name
        if cand.is_dir():
            return cand
    where = ", ".join(str(p) for p in search_path())
    raise ZonePackError(
        f"zone pack {name!r} not found; searched {where} (set KAZERNE_DATA to the folder holding it)", field="zone"
    )


@dataclass
class Site:
    """A fire post or medical site as listed in the pack (WGS84 degrees)."""

    id: str
    name: str
    municipality: str
    lat: float
    lon: float
    crew: str = ""
    status: str = ""
    services: str = ""
    location_grade: str = ""
    street: str = ""
    teams: str = ""  # ems-bases.csv: the 112 services departing here ("ZW GENT 1 (Team: AOGENT01A) | ...")

    @property
    def located(self) -> bool:
        """False when the pack does not know where the site stands (lat/lon empty)."""
        return bool(np.isfinite(self.lat) and np.isfinite(self.lon))


@dataclass
class Municipality:
    name: str
    population: float
    geometry: object  # shapely (Multi)Polygon in WGS84
    nis_code: str = ""
    area_km2: float = float("nan")


@dataclass
class ZonePack:
    """Everything a zone pack holds, validated."""

    name: str
    path: Path
    roads_file: Path
    municipalities: list[Municipality]
    posts: list[Site]
    medical_sites: list[Site]
    gap: object | None = None  # shapely geometry (WGS84) or None
    population_year: str = ""
    road_data_date: str = ""
    extra: dict = field(default_factory=dict)
    ems_bases: list[Site] = field(default_factory=list)  # ems-bases.csv (pack version 3), [] when absent

    @property
    def total_population(self) -> float:
        return float(sum(m.population for m in self.municipalities))

    def post(self, post_id: str) -> Site:
        for p in self.posts:
            if p.id == post_id:
                return p
        raise KeyError(post_id)

    def site(self, site_id: str) -> Site:
        for p in list(self.posts) + list(self.medical_sites):
            if p.id == site_id:
                return p
        raise KeyError(site_id)

    def zone_polygon(self):
        """Union of the municipality polygons (WGS84)."""
        return shapely.union_all([m.geometry for m in self.municipalities])


def _roads_file(folder: Path) -> Path:
    cands = sorted(list(folder.glob("roads*.osm.bz2")) + list(folder.glob("roads*.osm")))
    if not cands:
        raise ZonePackError(
            "no road network file (expected roads-<date>.osm or roads-<date>.osm.bz2)", source=str(folder)
        )
    return cands[0]


def _read_sites(path: Path, required: tuple[str, ...]) -> list[Site]:
    if not path.is_file():
        raise ZonePackError("file missing", source=str(path))
    try:
        return _read_sites_rows(path, required)
    except UnicodeDecodeError:
        raise ZonePackError("not a UTF-8 text file", source=str(path)) from None
    except csv.Error as exc:
        raise ZonePackError(f"not a CSV file ({exc})", source=str(path)) from None


def _read_sites_rows(path: Path, required: tuple[str, ...]) -> list[Site]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        missing = [c for c in required if c not in cols]
        if missing:
            raise ZonePackError(
                f"missing column(s) {', '.join(missing)}; expected at least {', '.join(required)}", source=str(path)
            )
        sites, seen = [], set()
        for lineno, row in enumerate(reader, start=2):
            where = f"{path}:{lineno}"
            sid = (row.get("id") or "").strip()
            if not sid:
                raise ZonePackError("empty id", source=where, field="id")
            if sid in seen:
                raise ZonePackError(f"duplicate id {sid!r}", source=where, field="id")
            seen.add(sid)
            raw_lat, raw_lon = (row.get("lat") or "").strip(), (row.get("lon") or "").strip()
            if not raw_lat and not raw_lon:
                # Position not known (e.g. a PIT whose base is not public): kept, unusable until a
                # scenario gives lat/lon or a street for it.
                lat = lon = float("nan")
            else:
                try:
                    lat = float(raw_lat)
                    lon = float(raw_lon)
                except (TypeError, ValueError):
                    raise ZonePackError(
                        f"expected numbers (or both empty), got lat={raw_lat!r} lon={raw_lon!r}",
                        source=where,
                        field="lat/lon",
                    ) from None
                if not (np.isfinite(lat) and np.isfinite(lon)) or not (
                    _LAT_RANGE[0] <= lat <= _LAT_RANGE[1] and _LON_RANGE[0] <= lon <= _LON_RANGE[1]
                ):
                    raise ZonePackError(f"coordinates out of range: lat={lat} lon={lon}", source=where, field="lat/lon")
            sites.append(
                Site(
                    id=sid,
                    name=(row.get("name") or sid).strip(),
                    municipality=(row.get("municipality") or "").strip(),
                    lat=lat,
                    lon=lon,
                    crew=(row.get("crew") or "").strip(),
                    status=(row.get("status") or "").strip(),
                    services=(row.get("services") or "").strip(),
                    location_grade=(row.get("location_grade") or "").strip(),
                    street=(row.get("street") or row.get("address") or "").strip(),
                    teams=(row.get("teams") or "").strip(),
                )
            )
    return sites


def _read_geojson(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise ZonePackError(f"not valid JSON ({exc.msg} at line {exc.lineno})", source=str(path)) from None
    except UnicodeDecodeError:
        raise ZonePackError("not a UTF-8 text file", source=str(path)) from None
    except RecursionError:
        raise ZonePackError("JSON nested too deeply", source=str(path)) from None
    if not isinstance(data, dict):
        raise ZonePackError("expected a GeoJSON FeatureCollection or Feature", source=str(path))
    if data.get("type") == "Feature":
        data = {"type": "FeatureCollection", "features": [data]}
    if (
        data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
        or not all(isinstance(f, dict) for f in data["features"])
    ):
        raise ZonePackError("expected a GeoJSON FeatureCollection or Feature", source=str(path))
    return data


def _polygon(feat: dict, where: str):
    """The feature's (Multi)Polygon, repaired when self-intersecting; ZonePackError otherwise."""
    try:
        geom = shape(feat["geometry"])
    except Exception:  # noqa: BLE001 - shapely raises many kinds on malformed GeoJSON
        raise ZonePackError("invalid geometry", source=where) from None
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ZonePackError(f"expected a Polygon or MultiPolygon, got {geom.geom_type}", source=where)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        polys = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(polys) if polys else shapely.Polygon()
        if geom.is_empty:
            raise ZonePackError("invalid geometry (no area left after repair)", source=where)
    return geom


def _read_municipalities(path: Path) -> tuple[list[Municipality], str]:
    if not path.is_file():
        raise ZonePackError("file missing", source=str(path))
    data = _read_geojson(path)
    out = []
    year = ""
    for i, feat in enumerate(data["features"]):
        props = feat.get("properties") or {}
        where = f"{path}: feature {i}"
        name = props.get("name")
        if not name:
            raise ZonePackError("missing property 'name'", source=where)
        pop_keys = sorted(k for k in props if re.fullmatch(r"population(_\d{4})?", k))
        if not pop_keys:
            raise ZonePackError("missing property 'population' or 'population_<year>'", source=where)
        key = pop_keys[-1]
        year = key.split("_")[1] if "_" in key else year
        try:
            pop = float(props[key])
        except (TypeError, ValueError):
            raise ZonePackError(f"expected a number for {key}, got {props[key]!r}", source=where) from None
        if not np.isfinite(pop) or pop < 0:
            raise ZonePackError(f"expected a non-negative number for {key}, got {pop}", source=where)
        geom = _polygon(feat, where)
        out.append(
            Municipality(
                name=str(name),
                population=pop,
                geometry=geom,
                nis_code=str(props.get("nis_code", "")),
                area_km2=float(props.get("area_km2", float("nan")) or float("nan")),
            )
        )
    if not out:
        raise ZonePackError("no municipalities", source=str(path))
    return out, year


def load_pack(name: str) -> ZonePack:
    """Load and validate zone pack ``name`` (a name on the search path, or a folder).

    Raises
    ------
    ZonePackError
        Missing folder or file, bad CSV row, missing column, bad geometry.
    """
    folder = find_pack(name)
    roads = _roads_file(folder)
    munis, year = _read_municipalities(folder / "municipalities.geojson")
    posts = _read_sites(folder / "posts.csv", POST_COLUMNS)
    med_path = folder / "medical-sites.csv"
    medical = _read_sites(med_path, MEDICAL_COLUMNS) if med_path.is_file() else []
    ems_path = folder / "ems-bases.csv"
    ems = _read_sites(ems_path, EMS_BASE_COLUMNS) if ems_path.is_file() else []
    gap = None
    gap_path = folder / "network-gap.geojson"
    if gap_path.is_file():
        feats = _read_geojson(gap_path)["features"]
        geoms = [_polygon(f, f"{gap_path}: feature {i}") for i, f in enumerate(feats) if f.get("geometry")]
        gap = shapely.union_all(geoms) if geoms else None
    m = re.search(r"(\d{4}(?:-\d{2})?)", roads.name)
    return ZonePack(
        name=folder.name,
        path=folder,
        roads_file=roads,
        municipalities=munis,
        posts=posts,
        medical_sites=medical,
        gap=gap,
        population_year=year,
        road_data_date=m.group(1) if m else "unknown",
        ems_bases=ems,
    )
