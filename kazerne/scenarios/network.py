"""``[network]`` of a scenario: the road changes of a measure (``[[network.changes]]``) and the day it
describes. Parsed into :class:`kazerne.routing.changes.NetworkChange` (fields typed and range-checked
here; whether each change matches a road is checked against the zone by
:func:`kazerne.routing.match.apply_changes` when the context loads)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ..routing.changes import ACTIONS, NetworkChange
from ..routing.profiles import CLASS_INDEX, PROFILES
from .schema_check import Validator  # below the schema, which imports this module to parse [network]

__all__ = ["NETWORK_KEYS", "CHANGE_KEYS", "parse_network"]

NETWORK_KEYS = {"date", "changes", "compare"}
CHANGE_KEYS = {
    "action",
    "name",
    "street",
    "municipality",
    "bridge",
    "near",
    "way",
    "line",
    "polygon",
    "wkt",
    "geojson",
    "between",
    "direction",
    "speed_kmh",
    "factor",
    "road_class",
    "profiles",
    "slices",
    "from",
    "until",
}
SELECTORS = ("street", "way", "line", "polygon", "wkt", "geojson", "between")
MAX_CHANGES = 200


def _date(v: Validator, x, fld) -> dt.date:
    if isinstance(x, dt.datetime):
        return x.date()
    if isinstance(x, dt.date):
        return x
    if isinstance(x, str):
        try:
            return dt.date.fromisoformat(x.strip())
        except ValueError:
            pass
    v.fail(fld, f"expected a date such as 2026-05-04, got {x!r}"[:200])


def _point(v, p, fld) -> tuple:
    if not isinstance(p, list) or len(p) != 2:
        v.fail(fld, f"expected [lon, lat] (or [x, y] in EPSG:31370 metres), got {p!r}"[:200])
    return tuple(v.number(c, fld) for c in p)


def _points(v, pts, fld, least: int) -> list:
    if not isinstance(pts, list) or len(pts) < least or len(pts) > 10000:
        v.fail(fld, f"expected a list of at least {least} [lon, lat] points, got {pts!r}"[:200])
    return [_point(v, p, f"{fld}[{i}]") for i, p in enumerate(pts)]


def _names(v, x, fld, options) -> tuple:
    if not isinstance(x, list) or not x:
        v.fail(fld, f"expected a list such as [{', '.join(repr(o) for o in list(options)[:2])}], got {x!r}"[:200])
    return tuple(v.choice(s, fld, tuple(options)) for s in x)


def _geojson_wkt(v, path: Path, fld: str) -> str:
    """The geometries of a GeoJSON file (a QGIS export) as one WKT (their union as a collection)."""
    import shapely

    if not path.is_file():
        v.fail(fld, f"file not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        feats = data.get("features", [data]) if data.get("type") == "FeatureCollection" else [data]
        geoms = [shapely.geometry.shape(f.get("geometry", f)) for f in feats]
    except Exception as exc:  # noqa: BLE001 - any unreadable file gives one line
        v.fail(fld, f"not a GeoJSON file with geometries ({type(exc).__name__}): {path}")
    if not geoms:
        v.fail(fld, f"no geometry in {path}")
    g = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
    return g.wkt


def _geometry(v, c: dict, fld: str, base: Path) -> str | None:
    import shapely

    if "line" in c:
        return shapely.LineString(_points(v, c["line"], f"{fld}.line", 2)).wkt
    if "polygon" in c:
        pts = _points(v, c["polygon"], f"{fld}.polygon", 3)
        poly = shapely.Polygon(pts)
        if not poly.is_valid or poly.area == 0:
            v.fail(f"{fld}.polygon", "not a valid polygon (its edges cross, or it has no area)")
        return poly.wkt
    if "wkt" in c:
        w = v.string(c["wkt"], f"{fld}.wkt", max_len=1_000_000)
        try:
            g = shapely.from_wkt(w)
        except Exception:  # noqa: BLE001
            v.fail(f"{fld}.wkt", f"not a WKT geometry: {w[:60]!r}")
        if g.is_empty or g.geom_type not in ("LineString", "MultiLineString", "Polygon", "MultiPolygon"):
            v.fail(f"{fld}.wkt", f"expected a (multi)line or (multi)polygon, got {g.geom_type}")
        return w
    if "geojson" in c:
        p = Path(v.string(c["geojson"], f"{fld}.geojson"))
        return _geojson_wkt(v, p if p.is_absolute() else base / p, f"{fld}.geojson")
    return None


def _change(v, c: dict, fld: str, sc) -> NetworkChange:
    if "action" not in c:
        v.fail(f"{fld}.action", f"missing (required): one of {', '.join(ACTIONS)}")
    action = v.choice(c["action"], f"{fld}.action", ACTIONS)
    given = [k for k in SELECTORS if k in c]
    if len(given) != 1:
        v.fail(fld, f"give exactly one of {', '.join(SELECTORS)}, got {', '.join(given) or 'none'}")
    kw: dict = {"action": action, "field": fld, "source": str(sc.path)}
    if "name" in c:
        kw["label"] = v.string(c["name"], f"{fld}.name", max_len=120)
    kw.update(_change_where(v, c, fld, sc))
    kw.update(_change_how(v, c, fld, action, given[0]))
    kw.update(_change_when(v, c, fld, sc))
    return NetworkChange(**kw)


def _change_where(v, c: dict, fld: str, sc) -> dict:
    """The roads a change touches: street (+ municipality, bridge, near), way ids, two points
    between, a geometry; and the direction."""
    kw: dict = {}
    if "street" in c:
        kw["street"] = v.string(c["street"], f"{fld}.street")
        if "municipality" in c:
            kw["municipality"] = v.string(c["municipality"], f"{fld}.municipality")
        kw["bridge"] = v.boolean(c.get("bridge", False), f"{fld}.bridge")
        if "near" in c:
            kw["near"] = _point(v, c["near"], f"{fld}.near")
    else:
        for k in ("municipality", "bridge", "near"):
            if k in c:
                v.fail(f"{fld}.{k}", "only with street")
    if "way" in c:
        w = c["way"] if isinstance(c["way"], list) else [c["way"]]
        kw["way"] = tuple(v.integer(x, f"{fld}.way", 1, 2**62) for x in w)
    if "between" in c:
        pts = _points(v, c["between"], f"{fld}.between", 2)
        if len(pts) != 2:
            v.fail(f"{fld}.between", f"expected two points [[lon, lat], [lon, lat]], got {len(pts)}")
        kw["between"] = tuple(pts)
    kw["geometry"] = _geometry(v, c, fld, Path(sc.path).parent)
    kw["direction"] = v.choice(c.get("direction", "both"), f"{fld}.direction", ("both", "forward"))
    if kw["direction"] == "forward" and "between" not in c:
        v.fail(f"{fld}.direction", 'one direction ("forward": from the first point to the second) needs between')
    return kw


def _change_how(v, c: dict, fld: str, action: str, selector: str) -> dict:
    """What a change does to its roads: a slow area's cap or factor, a link's road class."""
    kw: dict = {}
    if action == "slow":
        if ("speed_kmh" in c) == ("factor" in c):
            v.fail(fld, "a slow area needs either speed_kmh (a cap) or factor (on the speed), not both")
        if selector not in ("polygon", "wkt", "geojson"):
            v.fail(f"{fld}.{selector}", "a slow area needs a polygon (polygon, wkt or geojson)")
    elif "factor" in c:
        v.fail(f"{fld}.factor", "only for action = slow")
    if "speed_kmh" in c:
        kw["speed_kmh"] = v.number(c["speed_kmh"], f"{fld}.speed_kmh", lo=0, lo_open=True, hi=200)
    if "factor" in c:
        kw["factor"] = v.number(c["factor"], f"{fld}.factor", lo=0, lo_open=True, hi=1)
    if action in ("link", "passage") and "between" not in c and action == "link":
        v.fail(f"{fld}.between", "a link needs between = [[lon, lat], [lon, lat]]")
    if "road_class" in c:
        if action != "link":
            v.fail(f"{fld}.road_class", "only for action = link")
        kw["road_class"] = v.choice(c["road_class"], f"{fld}.road_class", tuple(CLASS_INDEX))
    return kw


def _change_when(v, c: dict, fld: str, sc) -> dict:
    """For whom and when a change holds: profiles, time slices, dates."""
    kw: dict = {}
    if "profiles" in c:
        kw["profiles"] = _names(v, c["profiles"], f"{fld}.profiles", PROFILES)
    if "slices" in c:
        known = [s["name"] for s in sc.slices or []] if "slices" in sc.raw else []
        if not known:
            v.fail(f"{fld}.slices", "the scenario has no [[slices]]; define them or drop slices")
        kw["slices"] = _names(v, c["slices"], f"{fld}.slices", known)
    if "from" in c:
        kw["date_from"] = _date(v, c["from"], f"{fld}.from")
    if "until" in c:
        kw["date_until"] = _date(v, c["until"], f"{fld}.until")
    if kw.get("date_from") and kw.get("date_until") and kw["date_until"] < kw["date_from"]:
        v.fail(f"{fld}.until", f"before from ({kw['date_from'].isoformat()})")
    return kw


def parse_network(v, raw: dict, sc) -> dict:
    """``[network]``: ``{"date": date or None, "changes": [NetworkChange], "compare": bool}``."""
    if "network" not in raw:
        return {"date": None, "changes": [], "compare": False}
    n = v.table(raw["network"], "network", NETWORK_KEYS)
    day = _date(v, n["date"], "network.date") if "date" in n else None
    changes = [
        _change(v, c, f"network.changes[{i}]", sc)
        for i, c in enumerate(v.tables(n.get("changes", []), "network.changes", CHANGE_KEYS, limit=MAX_CHANGES))
    ]
    for c in changes:
        if (c.date_from or c.date_until) and day is None:
            v.fail("network.date", f"{c.field} holds from / until a date: give the day the scenario describes")
    return {"date": day, "changes": changes, "compare": v.boolean(n.get("compare", True), "network.compare")}
