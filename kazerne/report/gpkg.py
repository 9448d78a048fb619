"""GeoPackage writing (``layers.gpkg``) for QGIS users.

Takes plain values: per layer a list of dicts (fields) plus shapely geometries in EPSG:31370.
Polygons of area layers are written as MultiPolygon throughout (one geometry type per layer, as
QGIS expects); field names are lower-case ASCII with underscores, at most 30 characters; floats
stay floats, counts integers, flags integers 0/1.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import shapely

#: Default CRS of the GeoPackage: Belgian Lambert 72 (metres).
DEFAULT_EPSG = 31370
SUPPORTED_EPSG = (31370, 4326)


def field_name(name: str) -> str:
    """A QGIS-friendly field name: lower-case ASCII, underscores, at most 30 characters."""
    s = re.sub(r"[^0-9a-zA-Z_]+", "_", str(name)).strip("_").lower()
    if not s or s[0].isdigit():
        s = "f_" + s
    return s[:30]


def as_multipolygon(g):
    """A (Multi)Polygon or collection as a MultiPolygon (empty when nothing polygonal)."""
    if g is None or g.is_empty:
        return shapely.MultiPolygon()
    if g.geom_type == "MultiPolygon":
        return g
    if g.geom_type == "Polygon":
        return shapely.MultiPolygon([g])
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = []
    for p in parts:
        polys.extend(list(getattr(p, "geoms", [p])))
    return shapely.MultiPolygon(polys)


def cell_polygons(x, y, cell_m: float) -> np.ndarray:
    """Square cells (EPSG:31370) of side ``cell_m`` centred on the points."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    h = cell_m / 2.0
    return shapely.box(x - h, y - h, x + h, y + h)


def write_gpkg(path, layers: dict, epsg: int = DEFAULT_EPSG) -> list:
    """Write ``layers`` ({name: (rows, geometries, kind)}) into one GeoPackage at ``path``.

    ``rows``: list of dicts (field → value) or dict of columns; ``geometries``: shapely geometries
    in EPSG:31370; ``kind``: "Point", "Polygon" or "MultiPolygon" (polygons of a MultiPolygon layer
    are promoted). Written to a temporary file and renamed. Returns the layer names.
    """
    import geopandas as gpd
    import pandas as pd

    if epsg not in SUPPORTED_EPSG:
        raise ValueError(f"expected EPSG {' or '.join(map(str, SUPPORTED_EPSG))}, got {epsg}")
    path = Path(path)
    names = []
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".gpkg", dir=path.parent)  # GDAL wants .gpkg
    os.close(fd)
    os.unlink(tmp)
    try:
        for lname, (rows, geoms, kind) in layers.items():
            df = pd.DataFrame(rows)
            df.columns = [field_name(c) for c in df.columns]
            for c in df.columns:
                if df[c].dtype == bool:
                    df[c] = df[c].astype("int16")
                elif df[c].dtype == object:
                    vals = [v for v in df[c] if v is not None]
                    if vals and all(isinstance(v, (bool, np.bool_)) for v in vals):
                        df[c] = df[c].map(lambda v: None if v is None else int(v)).astype("Int16")
                    elif vals and all(
                        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in vals
                    ):
                        df[c] = pd.to_numeric(df[c])
            g = list(geoms)
            if kind == "MultiPolygon":
                g = [as_multipolygon(x) for x in g]
            gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(g, crs=f"EPSG:{DEFAULT_EPSG}"))
            if epsg != DEFAULT_EPSG:
                gdf = gdf.to_crs(epsg=epsg)
            gdf.to_file(tmp, layer=lname, driver="GPKG", engine="pyogrio", geometry_type=kind, promote_to_multi=False)
            names.append(lname)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return names
