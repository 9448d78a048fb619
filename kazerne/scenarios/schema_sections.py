"""The scenario's common sections: ``[profile]``, ``thresholds``, ``[demand]``, ``[turnout]``,
``[posts]`` and ``[outputs]``, each validated once into its typed value
(:mod:`kazerne.scenarios.sections`, :class:`PostSpec`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ScenarioError
from ..routing.profiles import CLASS_INDEX, PERIOD_FACTORS, PROFILES
from ..sites import DEFAULT_TURNOUT_S
from .schema_check import (
    MAX_SITES,
    MAX_THRESHOLD_MIN,
    MAX_TURNOUT_S,
    MIN_SPEED_KMH,
    MIN_SPEED_SCALE,
    Validator,
    key_text,
    position,
    show,
)
from .sections import DemandSection, OutputsSection, ProfileSection

#: Default thresholds (minutes).
DEFAULT_THRESHOLDS_MIN = [8.0, 10.0, 12.0, 15.0]

PROFILE_KEYS = {
    "name",
    "file",
    "period",
    "emergency_passages",
    "emergency_passage_kmh",
    "unknown_direction_factor",
    "speed_scale",
    "intersection_delay_s",
    "roundabout_delay_s",
    "signal_delay_s",
    "contraflow_classes",
    "maxspeed_factor",
    "vehicle_max_kmh",
    "speeds_kmh",
    "oneway_reverse_factor",
}
DEMAND_KEYS = {
    "grid_m",
    "file",
    "incidents",
    "max_snap_m",
    "road_classes",
    "density_exponent",
    "density_radius_m",
    "max_density_km2",
}
POSTS_KEYS = {"active", "override", "add", "vehicles", "neighbours"}
OVERRIDE_KEYS = {"closed", "lat", "lon", "street", "municipality", "crew", "turnout_s", "name", "snap"}
ADD_KEYS = {"id", "name", "lat", "lon", "street", "municipality", "crew", "turnout_s", "snap"}
OUTPUT_KEYS = {"geojson", "first_due_areas", "isochrones", "map", "report", "gpkg", "gpkg_epsg"}


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
    snap: str = "public"  # "public": nearest public road a vehicle leaves by; "any": nearest node


#: ``[profile]`` numbers: field -> (lowest, lowest excluded, highest), checked in this order
PROFILE_NUMBERS = {
    "speed_scale": (MIN_SPEED_SCALE, False, 10),
    "maxspeed_factor": (MIN_SPEED_SCALE, False, 10),
    "vehicle_max_kmh": (MIN_SPEED_KMH, False, 300),
    "oneway_reverse_factor": (0, False, 1),
    "intersection_delay_s": (0, False, 600),
    "roundabout_delay_s": (0, False, 600),
    "signal_delay_s": (0, False, 600),
    "unknown_direction_factor": (0, True, 1),
    "emergency_passage_kmh": (MIN_SPEED_KMH, False, 300),
}


def profile_section(v: Validator, raw: dict, path: Path) -> ProfileSection:
    """The validated ``[profile]`` table (speed profile name and overrides; ``file`` = a calibrated
    profile file, anchored at the scenario's folder, which replaces ``name``)."""
    prof = v.table(raw.get("profile", {}), "profile", PROFILE_KEYS)
    pd: dict[str, Any] = {"name": _profile_name(v, prof, path)}
    for k, (lo, lo_open, hi) in PROFILE_NUMBERS.items():
        if k in prof:
            pd[k] = v.number(prof[k], f"profile.{k}", lo=lo, lo_open=lo_open, hi=hi)
    if "contraflow_classes" in prof:
        cc = prof["contraflow_classes"]
        if not isinstance(cc, list) or any(c not in CLASS_INDEX for c in cc):
            v.fail(
                "profile.contraflow_classes",
                f"expected a list of road classes from {', '.join(CLASS_INDEX)}, got {show(cc)}",
            )
        pd["contraflow_classes"] = tuple(cc)
    if "emergency_passages" in prof:
        pd["emergency_passages"] = v.boolean(prof["emergency_passages"], "profile.emergency_passages")
    if "period" in prof:
        pd["period"] = v.choice(prof["period"], "profile.period", tuple(PERIOD_FACTORS))
    if "speeds_kmh" in prof:
        pd["speeds_kmh"] = _speeds(v, prof["speeds_kmh"])
    return ProfileSection(**pd)


def _profile_name(v: Validator, prof: dict, path: Path) -> str:
    if "file" not in prof:
        return v.choice(prof.get("name", ProfileSection.name), "profile.name", tuple(PROFILES))
    if "name" in prof:
        v.fail("profile", "give either name or file, not both")
    f = Path(v.string(prof["file"], "profile.file", max_len=4096))
    f = f if f.is_absolute() else path.parent / f
    from ..routing.profiles import load_profile_file

    try:
        load_profile_file(f)
    except ScenarioError as exc:
        v.fail("profile.file", str(exc))
    return str(f)


def _speeds(v: Validator, sp) -> dict:
    if not isinstance(sp, dict):
        v.fail("profile.speeds_kmh", "expected a table class = speed or [urban, rural]")
    out = {}
    for cls, val in sp.items():
        f = f"profile.speeds_kmh.{key_text(cls)}"
        if cls not in CLASS_INDEX:
            v.fail(f, f"unknown road class; expected one of {', '.join(CLASS_INDEX)}")
        if isinstance(val, list):
            if len(val) != 2:
                v.fail(f, f"expected [urban, rural] km/h, got {show(val)}")
            out[cls] = tuple(v.number(x, f, lo=MIN_SPEED_KMH, hi=300) for x in val)
        else:
            out[cls] = v.number(val, f, lo=MIN_SPEED_KMH, hi=300)
    return out


def thresholds_section(v: Validator, raw: dict) -> list:
    """The sorted, de-duplicated ``thresholds`` in minutes."""
    if "thresholds" in raw:
        th = raw["thresholds"]
        if not isinstance(th, list) or not th or len(th) > 100:
            v.fail("thresholds", f"expected a non-empty list of minutes (at most 100), got {show(th)}")
        return sorted({v.number(t, "thresholds", lo=0, lo_open=True, hi=MAX_THRESHOLD_MIN) for t in th})
    return list(DEFAULT_THRESHOLDS_MIN)


def _demand_file(v: Validator, dm: dict, key: str, path: Path, expected: str) -> str:
    f = Path(v.string(dm[key], f"demand.{key}", max_len=4096))
    f = f if f.is_absolute() else (path.parent / f)
    if f.is_dir():
        v.fail(f"demand.{key}", f"{f} is a folder; expected {expected}")
    return str(f)


def demand_section(v: Validator, raw: dict, path: Path) -> DemandSection:
    """The validated ``[demand]`` table; a relative ``file`` is anchored at the scenario's folder."""
    d = DemandSection()
    dm = v.table(raw.get("demand", {}), "demand", DEMAND_KEYS)
    snap = v.number(dm.get("max_snap_m", d.max_snap_m), "demand.max_snap_m", lo=0, lo_open=True, hi=100000)
    if sum(k in dm for k in ("file", "grid_m", "incidents")) > 1:
        v.fail("demand", "give one of grid_m, file or incidents, not several")
    if "incidents" in dm:
        expected = "a dispatch-records file (CSV, GeoPackage, Parquet)"
        return DemandSection(max_snap_m=snap, grid_m=None, incidents=_demand_file(v, dm, "incidents", path, expected))
    if "file" in dm:
        expected = "a CSV (lon,lat,weight) or GeoJSON file"
        return DemandSection(max_snap_m=snap, grid_m=None, file=_demand_file(v, dm, "file", path, expected))
    dd: dict[str, Any] = {"grid_m": v.number(dm.get("grid_m", d.grid_m), "demand.grid_m", lo=25, hi=5000)}
    if "road_classes" in dm:
        rc = dm["road_classes"]
        if not isinstance(rc, list) or not rc or not all(isinstance(c, str) and c in CLASS_INDEX for c in rc):
            v.fail(
                "demand.road_classes",
                f"expected a non-empty list of OSM highway classes from {', '.join(CLASS_INDEX)}, got {show(rc)}",
            )
        dd["road_classes"] = tuple(rc)
    if "density_exponent" in dm:
        dd["density_exponent"] = v.number(dm["density_exponent"], "demand.density_exponent", lo=0, hi=4)
    for k in ("density_radius_m", "max_density_km2"):
        if k in dm:
            dd[k] = v.number(dm[k], f"demand.{k}", lo=0, lo_open=True, hi=1e6)
    return DemandSection(max_snap_m=snap, **dd)


def turnout_section(v: Validator, raw: dict) -> dict:
    """Turnout seconds by crew type: the defaults overridden by ``[turnout]``."""
    turnout = dict(DEFAULT_TURNOUT_S)
    to = raw.get("turnout", {})
    if not isinstance(to, dict):
        v.fail("turnout", "expected a table crew_type = seconds")
    for k, val in to.items():
        turnout[str(k)] = v.number(val, f"turnout.{key_text(k)}", lo=0, hi=MAX_TURNOUT_S)
    return turnout


def _post_fields(v: Validator, d: dict, fld: str, spec: PostSpec) -> None:
    """A post's crew, turnout and snapping (an override's or an addition's)."""
    if "crew" in d:
        spec.crew = v.string(d["crew"], f"{fld}.crew")
    if "turnout_s" in d:
        spec.turnout_s = v.number(d["turnout_s"], f"{fld}.turnout_s", lo=0, hi=MAX_TURNOUT_S)


def _active(v: Validator, posts: dict) -> list:
    active = posts.get("active")
    if not isinstance(active, list) or not all(isinstance(a, str) for a in active) or len(active) > MAX_SITES:
        v.fail("posts.active", f"expected a list of post ids, got {show(active)}")
    for a in active:
        v.string(a, "posts.active")
    if len(set(active)) != len(active):
        dup = next(a for a in active if active.count(a) > 1)
        v.fail("posts.active", f"duplicate post id {dup!r}")
    return active


def _overrides(v: Validator, posts: dict, specs: dict) -> list:
    """Apply ``[posts.override.<id>]`` to ``specs``; the ids closed."""
    closed = []
    overrides = posts.get("override", {})
    if not isinstance(overrides, dict):
        v.fail("posts.override", "expected tables [posts.override.<id>]")
    for pid, od in overrides.items():
        fld = f"posts.override.{key_text(pid)}"
        v.table(od, fld, OVERRIDE_KEYS)
        if pid not in specs:
            v.fail(fld, f"post {pid!r} is not in posts.active")
        spec = specs[pid]
        if od.get("closed") is not None and v.boolean(od["closed"], f"{fld}.closed"):
            closed.append(pid)
        for k, val in position(v, od, fld).items():
            setattr(spec, k, val)
        _post_fields(v, od, fld, spec)
        if "name" in od:
            spec.name = v.string(od["name"], f"{fld}.name")
        if "snap" in od:
            spec.snap = v.choice(od["snap"], f"{fld}.snap", ("public", "any"))
    return closed


def _additions(v: Validator, posts: dict, specs: dict) -> None:
    """Add ``[[posts.add]]`` to ``specs``."""
    for i, ad in enumerate(v.tables(posts.get("add", []), "posts.add", ADD_KEYS)):
        fld = f"posts.add[{i}]"
        pid = v.string(ad.get("id"), f"{fld}.id")
        if pid in specs:
            v.fail(f"{fld}.id", f"duplicate post id {pid!r}")
        pos = position(v, ad, fld)
        if "lat" not in pos and "street" not in pos:
            v.fail(fld, "a new post needs lat/lon or street")
        spec = PostSpec(id=pid, name=v.string(ad["name"], f"{fld}.name") if "name" in ad else pid, new=True, **pos)
        _post_fields(v, ad, fld, spec)
        if "snap" in ad:
            spec.snap = v.choice(ad["snap"], f"{fld}.snap", ("public", "any"))
        specs[pid] = spec


def posts_section(v: Validator, raw: dict) -> tuple[list, list]:
    """``[posts]``: the open :class:`PostSpec` list (overrides and additions applied) and the closed ids."""
    posts = v.table(raw.get("posts", {"active": []}), "posts", POSTS_KEYS)
    specs = {a: PostSpec(id=a) for a in _active(v, posts)}
    closed = _overrides(v, posts, specs)
    _additions(v, posts, specs)
    open_posts = [s for s in specs.values() if s.id not in closed]
    study = raw.get("study")
    study_kind = study.get("kind") if isinstance(study, dict) else None  # a non-table is reported below
    from .kinds import kind_names

    own_kind = any(k in raw for k in kind_names())  # a registered kind ([ems] ...) checks its own sites
    from .study_kinds import STUDY_KIND_MODULES, get_study_kind

    from_scratch = (  # a study kind that places posts from nothing (greenfield, minimum)
        isinstance(study_kind, str) and study_kind in STUDY_KIND_MODULES and not get_study_kind(study_kind).needs_posts
    )
    if not open_posts and not own_kind and not from_scratch:
        v.fail("posts.active", "no post left open: give at least one active post")
    return open_posts, closed


def outputs_section(v: Validator, raw: dict) -> OutputsSection:
    """``[outputs]``: the defaults (:class:`OutputsSection`) with the given switches."""
    out = v.table(raw.get("outputs", {}), "outputs", OUTPUT_KEYS)
    given = {}
    for k in sorted(OUTPUT_KEYS - {"gpkg_epsg"}):
        if k in out:
            given[k] = v.boolean(out[k], f"outputs.{k}")
    if "gpkg_epsg" in out:
        if out["gpkg_epsg"] not in (31370, 4326) or isinstance(out["gpkg_epsg"], bool):
            v.fail(
                "outputs.gpkg_epsg",
                f"expected 31370 (Belgian Lambert 72, default) or 4326 (WGS84), got {out['gpkg_epsg']!r}",
            )
        given["gpkg_epsg"] = int(out["gpkg_epsg"])
    return OutputsSection(**given)
