"""Scenario files (TOML): schema and validation.

Every problem is reported as one :class:`~kazerne.errors.ScenarioError` line naming the file, the
field and what was expected. See ``scenarios/README.md`` for every field with its unit and default.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ScenarioError

#: Default turnout (seconds) per crew type; see the README for the rationale.
DEFAULT_TURNOUT_S = {"professional": 90.0, "volunteer": 300.0, "mixed": 300.0}
DEFAULT_THRESHOLDS_MIN = [8.0, 10.0, 12.0, 15.0]

TOP_KEYS = {"name", "zone", "description", "profile", "thresholds", "demand", "posts", "turnout", "outputs",
            "worst_n", "study", "ems"}
PROFILE_KEYS = {"name", "period", "emergency_passages", "emergency_passage_kmh", "unknown_direction_factor", "speed_scale", "intersection_delay_s",
                "maxspeed_factor", "vehicle_max_kmh",
                "speeds_kmh", "oneway_reverse_factor"}
DEMAND_KEYS = {"grid_m", "file", "max_snap_m", "road_classes", "density_exponent", "density_radius_m",
               "max_density_km2"}
POSTS_KEYS = {"active", "override", "add"}
OVERRIDE_KEYS = {"closed", "lat", "lon", "street", "municipality", "crew", "turnout_s", "name", "snap"}
ADD_KEYS = {"id", "name", "lat", "lon", "street", "municipality", "crew", "turnout_s", "snap"}
OUTPUT_KEYS = {"geojson", "first_due_areas", "isochrones", "map", "report", "gpkg", "gpkg_epsg"}


def crew_type(label: str) -> str:
    """Normalise a pack's crew label: ``professional``, ``volunteer`` or ``mixed``."""
    s = (label or "").lower()
    if "professional" in s and "volunteer" in s:
        return "mixed"
    if "volunteer" in s:
        return "volunteer"
    if "professional" in s:
        return "professional"
    return s or "volunteer"


@dataclass
class PostSpec:
    """One post of a scenario (resolved against the pack later)."""

    id: str
    name: str | None = None
    lat: float | None = None
    lon: float | None = None
    street: str | None = None
    municipality: str | None = None
    crew: str | None = None
    turnout_s: float | None = None
    new: bool = False
    snap: str = "public"   # "public": nearest public road a vehicle leaves by; "any": nearest node


@dataclass
class Scenario:
    path: Path
    name: str
    zone: str
    description: str = ""
    profile: dict = field(default_factory=lambda: {"name": "fire_engine"})
    thresholds_min: list = field(default_factory=lambda: list(DEFAULT_THRESHOLDS_MIN))
    demand: dict = field(default_factory=lambda: {"grid_m": 250.0, "max_snap_m": 500.0})
    posts: list = field(default_factory=list)          # PostSpec, active ones only
    closed: list = field(default_factory=list)         # ids closed by override
    turnout_s: dict = field(default_factory=lambda: dict(DEFAULT_TURNOUT_S))
    outputs: dict = field(default_factory=lambda: {"geojson": True, "first_due_areas": True, "isochrones": False,
                                                      "map": True})
    worst_n: int = 20
    study: dict | None = None
    ems: dict | None = None
    raw: dict = field(default_factory=dict)


class _V:
    """Small validation helper bound to one file."""

    def __init__(self, path: Path):
        self.src = str(path)

    def fail(self, fld: str, msg: str):
        raise ScenarioError(msg, source=self.src, field=fld)

    def table(self, d, fld, allowed):
        if not isinstance(d, dict):
            self.fail(fld, f"expected a table, got {type(d).__name__}")
        unknown = sorted(set(d) - set(allowed))
        if unknown:
            self.fail(f"{fld}.{unknown[0]}" if fld else unknown[0],
                      f"unknown key; expected one of {', '.join(sorted(allowed))}")
        return d

    def number(self, v, fld, lo=None, lo_open=False, hi=None):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            self.fail(fld, f"expected a number, got {v!r}")
        if lo is not None and (v < lo or (lo_open and v == lo)):
            self.fail(fld, f"expected a number {'>' if lo_open else '>='} {lo:g}, got {v!r}")
        if hi is not None and v > hi:
            self.fail(fld, f"expected a number <= {hi:g}, got {v!r}")
        return float(v)

    def string(self, v, fld):
        if not isinstance(v, str) or not v.strip():
            self.fail(fld, f"expected a non-empty string, got {v!r}")
        return v.strip()

    def boolean(self, v, fld):
        if not isinstance(v, bool):
            self.fail(fld, f"expected true or false, got {v!r}")
        return v


def _position(v: _V, d: dict, fld: str) -> dict:
    out = {}
    has_ll = "lat" in d or "lon" in d
    if has_ll:
        if "lat" not in d or "lon" not in d:
            v.fail(fld, "give both lat and lon")
        out["lat"] = v.number(d["lat"], f"{fld}.lat", lo=-90, hi=90)
        out["lon"] = v.number(d["lon"], f"{fld}.lon", lo=-180, hi=180)
    if "street" in d:
        if has_ll:
            v.fail(fld, "give either lat/lon or street, not both")
        out["street"] = v.string(d["street"], f"{fld}.street")
    if "municipality" in d:
        out["municipality"] = v.string(d["municipality"], f"{fld}.municipality")
    return out


def parse_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (structure and types; ids are checked against the pack by
    :func:`kazerne.scenarios.runner.resolve`)."""
    path = Path(path)
    v = _V(path)
    if not path.is_file():
        raise ScenarioError("file not found", source=str(path))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"TOML syntax error: {exc}", source=str(path)) from None
    except UnicodeDecodeError:
        raise ScenarioError("not a UTF-8 text file", source=str(path)) from None
    v.table(raw, "", TOP_KEYS)
    for req in ("name", "zone") + (() if "ems" in raw else ("posts",)):
        if req not in raw:
            v.fail(req, "missing (required)")
    name = v.string(raw["name"], "name")
    if any(c in name for c in "/\\") or name.startswith("."):
        v.fail("name", f"expected a plain name usable as a folder, got {name!r}")
    sc = Scenario(path=path, name=name, zone=v.string(raw["zone"], "zone"), raw=raw)
    if "description" in raw:
        sc.description = str(raw["description"])

    prof = v.table(raw.get("profile", {}), "profile", PROFILE_KEYS)
    pd = {"name": v.string(prof.get("name", "fire_engine"), "profile.name")}
    for k in ("speed_scale", "maxspeed_factor", "vehicle_max_kmh", "emergency_passage_kmh"):
        if k in prof:
            pd[k] = v.number(prof[k], f"profile.{k}", lo=0, lo_open=True)
    if "oneway_reverse_factor" in prof:
        pd["oneway_reverse_factor"] = v.number(prof["oneway_reverse_factor"], "profile.oneway_reverse_factor",
                                               lo=0, hi=1)
    if "intersection_delay_s" in prof:
        pd["intersection_delay_s"] = v.number(prof["intersection_delay_s"], "profile.intersection_delay_s", lo=0)
    if "unknown_direction_factor" in prof:
        pd["unknown_direction_factor"] = v.number(prof["unknown_direction_factor"], "profile.unknown_direction_factor",
                                                  lo=0, lo_open=True, hi=1)
    if "emergency_passages" in prof:
        pd["emergency_passages"] = v.boolean(prof["emergency_passages"], "profile.emergency_passages")
    if "period" in prof:
        pd["period"] = v.string(prof["period"], "profile.period")
    if "speeds_kmh" in prof:
        sp = prof["speeds_kmh"]
        if not isinstance(sp, dict):
            v.fail("profile.speeds_kmh", "expected a table class = speed or [urban, rural]")
        out = {}
        for cls, val in sp.items():
            f = f"profile.speeds_kmh.{cls}"
            if isinstance(val, list):
                if len(val) != 2:
                    v.fail(f, f"expected [urban, rural] km/h, got {val!r}")
                out[cls] = tuple(v.number(x, f, lo=0, lo_open=True) for x in val)
            else:
                out[cls] = v.number(val, f, lo=0, lo_open=True)
        pd["speeds_kmh"] = out
    sc.profile = pd

    if "thresholds" in raw:
        th = raw["thresholds"]
        if not isinstance(th, list) or not th:
            v.fail("thresholds", f"expected a non-empty list of minutes, got {th!r}")
        sc.thresholds_min = sorted({v.number(t, "thresholds", lo=0, lo_open=True, hi=240) for t in th})

    dm = v.table(raw.get("demand", {}), "demand", DEMAND_KEYS)
    dd = {"max_snap_m": v.number(dm.get("max_snap_m", 500.0), "demand.max_snap_m", lo=0, lo_open=True)}
    if "file" in dm and "grid_m" in dm:
        v.fail("demand", "give either grid_m or file, not both")
    if "file" in dm:
        f = Path(v.string(dm["file"], "demand.file"))
        dd["file"] = str(f if f.is_absolute() else (path.parent / f))
    else:
        dd["grid_m"] = v.number(dm.get("grid_m", 250.0), "demand.grid_m", lo=25, hi=5000)
        if "road_classes" in dm:
            rc = dm["road_classes"]
            if not isinstance(rc, list) or not rc or not all(isinstance(c, str) for c in rc):
                v.fail("demand.road_classes", f"expected a non-empty list of OSM highway classes, got {rc!r}")
            dd["road_classes"] = tuple(rc)
        if "density_exponent" in dm:
            dd["density_exponent"] = v.number(dm["density_exponent"], "demand.density_exponent", lo=0, hi=4)
        for k in ("density_radius_m", "max_density_km2"):
            if k in dm:
                dd[k] = v.number(dm[k], f"demand.{k}", lo=0, lo_open=True)
    sc.demand = dd

    to = raw.get("turnout", {})
    if not isinstance(to, dict):
        v.fail("turnout", "expected a table crew_type = seconds")
    for k, val in to.items():
        sc.turnout_s[str(k)] = v.number(val, f"turnout.{k}", lo=0, hi=3600)

    posts = v.table(raw.get("posts", {"active": []}), "posts", POSTS_KEYS)
    active = posts.get("active")
    if not isinstance(active, list) or not all(isinstance(a, str) for a in active):
        v.fail("posts.active", f"expected a list of post ids, got {active!r}")
    if len(set(active)) != len(active):
        dup = next(a for a in active if active.count(a) > 1)
        v.fail("posts.active", f"duplicate post id {dup!r}")
    overrides = posts.get("override", {})
    if not isinstance(overrides, dict):
        v.fail("posts.override", "expected tables [posts.override.<id>]")
    specs = {a: PostSpec(id=a) for a in active}
    for pid, od in overrides.items():
        fld = f"posts.override.{pid}"
        v.table(od, fld, OVERRIDE_KEYS)
        if pid not in specs:
            v.fail(fld, f"post {pid!r} is not in posts.active")
        spec = specs[pid]
        if od.get("closed") is not None and v.boolean(od["closed"], f"{fld}.closed"):
            sc.closed.append(pid)
        for k, val in _position(v, od, fld).items():
            setattr(spec, k, val)
        if "crew" in od:
            spec.crew = v.string(od["crew"], f"{fld}.crew")
        if "turnout_s" in od:
            spec.turnout_s = v.number(od["turnout_s"], f"{fld}.turnout_s", lo=0, hi=3600)
        if "name" in od:
            spec.name = v.string(od["name"], f"{fld}.name")
        if "snap" in od:
            spec.snap = v.string(od["snap"], f"{fld}.snap")
            if spec.snap not in ("public", "any"):
                v.fail(f"{fld}.snap", f"expected \"public\" or \"any\", got {spec.snap!r}")
    adds = posts.get("add", [])
    if not isinstance(adds, list):
        v.fail("posts.add", "expected [[posts.add]] entries")
    for i, ad in enumerate(adds):
        fld = f"posts.add[{i}]"
        v.table(ad, fld, ADD_KEYS)
        pid = v.string(ad.get("id"), f"{fld}.id")
        if pid in specs:
            v.fail(f"{fld}.id", f"duplicate post id {pid!r}")
        pos = _position(v, ad, fld)
        if "lat" not in pos and "street" not in pos:
            v.fail(fld, "a new post needs lat/lon or street")
        spec = PostSpec(id=pid, name=ad.get("name", pid), new=True, **pos)
        if "crew" in ad:
            spec.crew = v.string(ad["crew"], f"{fld}.crew")
        if "turnout_s" in ad:
            spec.turnout_s = v.number(ad["turnout_s"], f"{fld}.turnout_s", lo=0, hi=3600)
        if "snap" in ad:
            spec.snap = v.string(ad["snap"], f"{fld}.snap")
            if spec.snap not in ("public", "any"):
                v.fail(f"{fld}.snap", f"expected \"public\" or \"any\", got {spec.snap!r}")
        specs[pid] = spec
    sc.posts = [s for s in specs.values() if s.id not in sc.closed]
    study = raw.get("study")
    study_kind = study.get("kind") if isinstance(study, dict) else None     # a non-table is reported below
    if not sc.posts and "ems" not in raw and study_kind not in ("greenfield", "minimum"):
        v.fail("posts.active", "no post left open: give at least one active post")

    out = v.table(raw.get("outputs", {}), "outputs", OUTPUT_KEYS)
    for k in OUTPUT_KEYS - {"gpkg_epsg"}:
        if k in out:
            sc.outputs[k] = v.boolean(out[k], f"outputs.{k}")
    if "gpkg_epsg" in out:
        if out["gpkg_epsg"] not in (31370, 4326) or isinstance(out["gpkg_epsg"], bool):
            v.fail("outputs.gpkg_epsg", f"expected 31370 (Belgian Lambert 72, default) or 4326 (WGS84), "
                                        f"got {out['gpkg_epsg']!r}")
        sc.outputs["gpkg_epsg"] = int(out["gpkg_epsg"])
    if "worst_n" in raw:
        sc.worst_n = int(v.number(raw["worst_n"], "worst_n", lo=0, hi=10000))
    if "study" in raw:
        if not isinstance(raw["study"], dict):
            v.fail("study", "expected a table")
        sc.study = raw["study"]
    if "ems" in raw:
        if not isinstance(raw["ems"], dict):
            v.fail("ems", "expected a table")
        sc.ems = raw["ems"]
    return sc
