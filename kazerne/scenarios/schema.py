"""Scenario files (TOML): schema and validation.

Every problem is reported as one :class:`~kazerne.errors.ScenarioError` line naming the file, the
field and what was expected. See ``scenarios/README.md`` for every field with its unit and default.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from ..errors import ScenarioError
from ..routing.profiles import CLASS_INDEX, PERIOD_FACTORS, PROFILES
from ..sites import DEFAULT_CANDIDATE_CLASSES, DEFAULT_TURNOUT_S, crew_type  # noqa: F401  (re-exported)
from .study_kinds import STUDY_KIND_MODULES, StudySpec, get_study_kind

#: Default turnout (seconds) per crew type; see the README for the rationale.
DEFAULT_THRESHOLDS_MIN = [8.0, 10.0, 12.0, 15.0]

TOP_KEYS = {
    "name",
    "zone",
    "description",
    "profile",
    "thresholds",
    "demand",
    "posts",
    "turnout",
    "outputs",
    "worst_n",
    "study",
    "ems",
    "vehicles",
    "response",
    "slices",
    "network",
}
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

#: ``[vehicles]`` (types, crews, adequate responses) and ``[[posts.neighbours]]`` fields.
VEHICLES_KEYS = {"engine", "full_crew", "crew", "crew_by_post", "types", "responses"}
VEHICLE_TYPE_KEYS = {"label", "profile", "speed_scale", "vehicle_max_kmh"}
NEIGHBOUR_KEYS = {
    "id",
    "name",
    "zone",
    "lat",
    "lon",
    "street",
    "municipality",
    "crew",
    "turnout_s",
    "crew_size",
    "vehicles",
    "snap",
}
MAX_VEHICLES = 100  # of one type at one post; also the most crew per turnout and the full crew
MAX_VEHICLE_TYPES = 50
MAX_RESPONSES = 50

#: ``[study]`` fields every kind has, and its kinds (see scenarios/README.md).
STUDY_KEYS = {
    "kind",
    "threshold",
    "k",
    "m",
    "p_min",
    "p_max",
    "share",
    "objective",
    "new_crew",
    "new_turnout_s",
    "spacing_m",
    "buffer_m",
    "candidate_classes",
    "sites",
    "time_limit_s",
    "sensitivity",
    "include_generated",
    "slice",
}
#: the registered study kinds (:mod:`kazerne.scenarios.study_kinds`; a kind's own fields come with it)
STUDY_KINDS = tuple(STUDY_KIND_MODULES)
STUDY_SITE_KEYS = {"id", "name", "lat", "lon", "street", "municipality", "crew", "turnout_s"}
#: ``[ems]`` fields, kinds and unit types.
EMS_KEYS = {
    "kind",
    "unit",
    "threshold",
    "norm_share",
    "calls_per_year",
    "mission_minutes",
    "busy_fraction",
    "turnout_s",
    "units",
    "bases",
    "n_units",
    "profile",
    "time_limit_s",
    "capacity_per_base",
    "model",
    "reliability",
    "simulate",
}
#: ``[ems] simulate = {...}``: the study's placements evaluated by the dispatch simulation too
EMS_SIMULATE_KEYS = {"replications", "days", "seed", "candidates"}
EMS_SIMULATE_DEFAULT = {"replications": 10, "days": 365.0, "seed": 2026, "candidates": 3}
EMS_KINDS = ("ems-evaluate", "ems-place", "pit-add")
#: Placement models of ems-place / pit-add and their names in reports.
EMS_MODELS = ("mexclp", "malp", "malp2")
EMS_UNIT_TYPES = ("ambulance", "pit", "mug")
EMS_UNIT_KEYS = {"base", "count"}
EMS_BASE_KEYS = {"id", "name", "lat", "lon", "street", "municipality"}
DEFAULT_EMS_TURNOUT_S = {"ambulance": 120.0, "pit": 120.0, "mug": 120.0}

#: Limits of what a scenario may ask for (beyond them the models or the memory give out).
MAX_FILE_BYTES = 4 << 20  # a scenario file is at most 4 MiB of TOML
MAX_NAME_CHARS = 100  # the run name is a folder name (with temporaries: < 255 bytes)
MAX_NAME_BYTES = 150
MAX_TEXT_CHARS = 200  # ids, names, streets, crew types
MAX_THRESHOLD_MIN = 240.0
MAX_TURNOUT_S = 3600.0
MAX_TIME_LIMIT_S = 7 * 86400.0
MAX_SITES = 10000  # [[study.sites]], [[posts.add]], [[ems.bases]] entries
MAX_P = 10000  # posts in a study (k, p_min, p_max)
#: Most EMS units of one type: the hypercube approximation's correction factors (busy fraction
#: to the power N) underflow beyond, and its matrices grow with demand points x units.
MAX_EMS_UNITS = 100
#: the slowest speeds a scenario may set: below them every response takes hours and no threshold
#: means anything (a tenth of the normal speeds; walking pace is 5 km/h)
MIN_SPEED_SCALE = 0.1
MIN_SPEED_KMH = 1.0


class StudySite(TypedDict, total=False):
    """A ``[[study.sites]]`` entry: ``id`` and a position (lat/lon or street), optional name, crew, turnout."""

    id: str
    name: str
    lat: float
    lon: float
    street: str
    municipality: str
    crew: str
    turnout_s: float


class EmsUnit(TypedDict):
    base: str
    count: int


class EmsSpec(TypedDict, total=False):
    """``[ems]`` as read and checked by :func:`parse_scenario` (``None`` for absent optional numbers;
    ``profile``, ``n_units`` and ``capacity_per_base`` only when given or required)."""

    kind: str  # one of EMS_KINDS
    unit: str  # one of EMS_UNIT_TYPES
    threshold: float  # minutes
    norm_share: float
    calls_per_year: float | None
    mission_minutes: float
    busy_fraction: float | None
    turnout_s: float
    time_limit_s: float
    profile: str
    model: str  # one of EMS_MODELS
    reliability: float
    simulate: dict | None  # replications, days, seed, candidates; None = no simulation
    units: list[EmsUnit]
    n_units: int
    capacity_per_base: int
    bases: list[dict]


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


@dataclass
class Scenario:
    path: Path
    name: str
    zone: str
    description: str = ""
    profile: dict = field(default_factory=lambda: {"name": "fire_engine"})
    thresholds_min: list = field(default_factory=lambda: list(DEFAULT_THRESHOLDS_MIN))
    demand: dict = field(default_factory=lambda: {"grid_m": 250.0, "max_snap_m": 500.0})
    posts: list = field(default_factory=list)  # PostSpec, active ones only
    closed: list = field(default_factory=list)  # ids closed by override
    turnout_s: dict = field(default_factory=lambda: dict(DEFAULT_TURNOUT_S))
    outputs: dict = field(
        default_factory=lambda: {"geojson": True, "first_due_areas": True, "isochrones": False, "map": True}
    )
    worst_n: int = 20
    study: StudySpec | None = None
    ems: EmsSpec | None = None
    fleet: dict = field(default_factory=dict)  # [vehicles], [posts.vehicles], [[posts.neighbours]]
    response: dict | None = None  # [response]: call handling and turnout distributions (None: no section)
    slices: list | None = None  # [[slices]] (None: one slice, the whole week)
    #: 112 call -> alarm at the post (s): every time and threshold counts from the call; 0 = from the alarm
    call_handling_s: float = 90.0
    #: [network]: road changes of a measure (:mod:`kazerne.scenarios.network`): date, changes, compare
    network: dict = field(default_factory=lambda: {"date": None, "changes": [], "compare": False})
    #: sections of registered run kinds (:mod:`kazerne.scenarios.kinds`): section name -> typed spec
    kinds: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)


def _show(v, limit: int = 60) -> str:
    """``repr(v)`` cut to ``limit`` characters (a hostile value must not flood the error line)."""
    r = repr(v)
    return r if len(r) <= limit else r[: limit - 4] + " ..."


def _plain(text: str) -> bool:
    return not any(ord(c) < 32 or ord(c) == 127 for c in text)


def _key(k) -> str:
    """A table key as it appears in a field name: itself when plain and short, else its cut ``repr``."""
    return k if isinstance(k, str) and _plain(k) and len(k) <= 60 else _show(k)


class Validator:
    """Small validation helper bound to one file (run kinds validate their sections with it)."""

    def __init__(self, path: Path):
        self.src = str(path)

    def fail(self, fld: str, msg: str):
        raise ScenarioError(msg, source=self.src, field=fld or None)

    def table(self, d, fld, allowed):
        if not isinstance(d, dict):
            self.fail(fld, f"expected a table, got {type(d).__name__}")
        unknown = sorted(set(d) - set(allowed))
        if unknown:
            key = _key(unknown[0])
            self.fail(f"{fld}.{key}" if fld else key, f"unknown key; expected one of {', '.join(sorted(allowed))}")
        return d

    def tables(self, v, fld, allowed, limit: int = MAX_SITES) -> list:
        """A list of tables (``[[fld]]`` entries), each with keys from ``allowed``."""
        if not isinstance(v, list):
            self.fail(fld, f"expected [[{fld}]] entries (a list of tables), got {type(v).__name__}")
        if len(v) > limit:
            self.fail(fld, f"expected at most {limit} entries, got {len(v)}")
        for i, d in enumerate(v):
            self.table(d, f"{fld}[{i}]", allowed)
        return v

    def number(self, v, fld, lo=None, lo_open=False, hi=None):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(fld, f"expected a number, got {_show(v)}")
        if not math.isfinite(v):
            self.fail(fld, f"expected a finite number, got {_show(v)}")
        if lo is not None and (v < lo or (lo_open and v == lo)):
            rng = f"{'>' if lo_open else '>='} {lo:g}" + (f" and <= {hi:g}" if hi is not None else "")
            self.fail(fld, f"expected a number {rng}, got {_show(v)}")
        if hi is not None and v > hi:
            self.fail(fld, f"expected a number <= {hi:g}, got {_show(v)}")
        return float(v)

    def integer(self, v, fld, lo: int, hi: int) -> int:
        """A whole number in ``[lo, hi]`` (a TOML integer, or a float with no fraction)."""
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float))
            or (isinstance(v, float) and not (math.isfinite(v) and v.is_integer()))
        ):
            self.fail(fld, f"expected a whole number from {lo} to {hi}, got {_show(v)}")
        if not lo <= v <= hi:
            self.fail(fld, f"expected a whole number from {lo} to {hi}, got {_show(v)}")
        return int(v)

    def string(self, v, fld, max_len: int = MAX_TEXT_CHARS):
        if not isinstance(v, str) or not v.strip():
            self.fail(fld, f"expected a non-empty string, got {_show(v)}")
        if not _plain(v):
            self.fail(fld, f"expected text without control characters (newline, tab, NUL ...), got {_show(v)}")
        if len(v) > max_len:
            self.fail(fld, f"expected at most {max_len} characters, got {len(v)}")
        return v.strip()

    def boolean(self, v, fld):
        if not isinstance(v, bool):
            self.fail(fld, f"expected true or false (a TOML boolean, without quotes), got {_show(v)}")
        return v

    def choice(self, v, fld, options):
        if not isinstance(v, str) or v not in options:
            self.fail(fld, f"expected one of {', '.join(options)}, got {_show(v)}")
        return v


_V = Validator


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


def _read_toml(path: Path) -> dict:
    src = str(path)
    if path.is_dir():
        raise ScenarioError("is a folder; expected a scenario file (TOML)", source=src)
    if not path.exists():
        raise ScenarioError("file not found", source=src)
    if not path.is_file():
        raise ScenarioError("is not a regular file; expected a scenario file (TOML)", source=src)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(
                f"file of {size / 2**20:.1f} MiB; a scenario file is at most {MAX_FILE_BYTES >> 20} MiB of TOML",
                source=src,
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"cannot read the file ({exc.strerror})", source=src) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("not a UTF-8 text file", source=src) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"TOML syntax error: {exc}", source=src) from None
    except RecursionError:
        raise ScenarioError(
            "TOML nested too deeply (arrays or tables inside each other); expected the fields of scenarios/README.md",
            source=src,
        ) from None


def _name(v: _V, raw) -> str:
    name = v.string(raw, "name", max_len=MAX_NAME_CHARS)
    if any(c in name for c in "/\\") or name.startswith(".") or len(name.encode("utf-8")) > MAX_NAME_BYTES:
        v.fail(
            "name",
            f"expected a plain name usable as a folder (at most {MAX_NAME_CHARS} characters, "
            f"no / or \\, not starting with '.'), got {_show(name)}",
        )
    return name


def parse_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file: every field typed and range-checked, ``[study]`` and
    ``[ems]`` included (ids and places are checked against the pack by
    :func:`kazerne.scenarios.resolve.resolve_posts` and the study runners)."""
    return parse_scenario_data(_read_toml(_scenario_path(path)), Path(path))


def _scenario_path(path) -> Path:
    import os

    if not isinstance(path, (str, os.PathLike)):
        raise ScenarioError(f"expected the path of a scenario file (TOML), got {path!r}", field="path")
    return Path(path)


def read_toml(path: str | Path) -> dict:
    """A TOML file as a dict, with the checks and one-line errors of scenario files (size, UTF-8, syntax)."""
    return _read_toml(_scenario_path(path))


def parse_scenario_data(raw: dict, path: str | Path) -> Scenario:
    """Validate a scenario given as a dict (as ``tomllib`` reads it); ``path`` names it in errors and
    anchors relative paths (``demand.file``). :func:`parse_scenario` reads the file and calls this."""
    path = Path(path)
    v = _V(path)
    from .kinds import get_kind, kind_names

    v.table(raw, "", TOP_KEYS | set(kind_names()))
    own = [k for k in kind_names() if k in raw]
    for k in own:
        if len(own) > 1 or "study" in raw or "ems" in raw:
            other = next(o for o in [*own, "study", "ems"] if o != k and o in raw)
            v.fail(k, f"give one kind of run per scenario: [{k}] or [{other}], not both")
    # [ems] and registered run kinds bring their own sites; a kind that needs posts checks for them
    for req in ("name", "zone") + (() if "ems" in raw or any(k in raw for k in kind_names()) else ("posts",)):
        if req not in raw:
            v.fail(req, "missing (required)")
    name = _name(v, raw["name"])
    sc = Scenario(path=path, name=name, zone=v.string(raw["zone"], "zone"), raw=raw)
    if "description" in raw:
        d = raw["description"]
        if not isinstance(d, str) or "\x00" in d or len(d) > 10000:
            v.fail("description", f"expected text of at most 10000 characters, got {_show(d)}")
        sc.description = d

    sc.profile = _profile_section(v, raw, path)
    sc.thresholds_min = _thresholds(v, raw)
    sc.demand = _demand_section(v, raw, path)
    sc.turnout_s = _turnout_section(v, raw)
    sc.posts, sc.closed = _posts_section(v, raw)
    sc.fleet = _fleet_section(v, raw, sc)
    sc.outputs = _outputs_section(v, raw, sc.outputs)
    if "worst_n" in raw:
        sc.worst_n = v.integer(raw["worst_n"], "worst_n", 0, 10000)
    if "study" in raw and "ems" in raw:
        v.fail("ems", "give either [study] or [ems], not both")
    if "study" in raw:
        sc.study = _study_section(v, raw["study"], sc)
    if "ems" in raw:
        sc.ems = _ems_section(v, raw["ems"])
    from ..response import DEFAULT_CALL_HANDLING_S

    sc.call_handling_s = float(DEFAULT_CALL_HANDLING_S)
    if "ems" in raw:
        if "slices" in raw:
            v.fail("slices", "not for [ems] studies (they have their own turnout)")
        if "response" in raw:  # call handling only: the EMS norm counts from the call too
            r = v.table(raw["response"], "response", RESPONSE_KEYS)
            for k in sorted(set(r) - {"call_handling_s"}):
                v.fail(f"response.{k}", "not for [ems] studies (they have their own turnout); only call_handling_s")
            sc.call_handling_s = _call_handling(v, r)
    elif "response" in raw or "slices" in raw:
        sc.response = _response_section(v, raw, sc)
        sc.slices = _slices_section(v, raw, sc)
        sc.call_handling_s = float(sc.response["call_handling_s"])
    from .network import parse_network

    sc.network = parse_network(v, raw, sc)
    for k in own:
        sc.kinds[k] = get_kind(k).parse(v, raw[k], sc)
    if sc.study is not None:
        sc.study = sc.study.replace(slice=_study_slice(v, raw["study"], sc))
        if sc.study.slice is not None and sc.study.sensitivity:
            v.fail("study.sensitivity", "not yet with [[slices]] or turnout tables; expected false (or drop those)")
        if sc.study.slice is not None and not get_study_kind(sc.study.kind).slices:
            v.fail("study.kind", f"{sc.study.kind} is not yet available with [[slices]] or turnout tables (drop those)")
    return sc


def _call_handling(v: _V, r: dict) -> float:
    from ..response import DEFAULT_CALL_HANDLING_S

    return v.number(
        r.get("call_handling_s", DEFAULT_CALL_HANDLING_S), "response.call_handling_s", lo=0, hi=MAX_TURNOUT_S
    )


def _profile_section(v: _V, raw: dict, path: Path) -> dict:
    """The validated ``[profile]`` table (speed profile name and overrides; ``file`` = a calibrated
    profile file, anchored at the scenario's folder, which replaces ``name``)."""
    prof = v.table(raw.get("profile", {}), "profile", PROFILE_KEYS)
    if "file" in prof:
        if "name" in prof:
            v.fail("profile", "give either name or file, not both")
        f = Path(v.string(prof["file"], "profile.file", max_len=4096))
        f = f if f.is_absolute() else path.parent / f
        from ..routing.profiles import load_profile_file

        try:
            load_profile_file(f)
        except ScenarioError as exc:
            v.fail("profile.file", str(exc))
        pd = {"name": str(f)}
    else:
        pd = {"name": v.choice(prof.get("name", "fire_engine"), "profile.name", tuple(PROFILES))}
    for k in ("speed_scale", "maxspeed_factor"):
        if k in prof:
            pd[k] = v.number(prof[k], f"profile.{k}", lo=MIN_SPEED_SCALE, hi=10)
    if "vehicle_max_kmh" in prof:
        pd["vehicle_max_kmh"] = v.number(prof["vehicle_max_kmh"], "profile.vehicle_max_kmh", lo=MIN_SPEED_KMH, hi=300)
    if "oneway_reverse_factor" in prof:
        pd["oneway_reverse_factor"] = v.number(
            prof["oneway_reverse_factor"], "profile.oneway_reverse_factor", lo=0, hi=1
        )
    for k in ("intersection_delay_s", "roundabout_delay_s", "signal_delay_s"):
        if k in prof:
            pd[k] = v.number(prof[k], f"profile.{k}", lo=0, hi=600)
    if "contraflow_classes" in prof:
        cc = prof["contraflow_classes"]
        if not isinstance(cc, list) or any(c not in CLASS_INDEX for c in cc):
            v.fail(
                "profile.contraflow_classes",
                f"expected a list of road classes from {', '.join(CLASS_INDEX)}, got {_show(cc)}",
            )
        pd["contraflow_classes"] = tuple(cc)
    if "unknown_direction_factor" in prof:
        pd["unknown_direction_factor"] = v.number(
            prof["unknown_direction_factor"], "profile.unknown_direction_factor", lo=0, lo_open=True, hi=1
        )
    if "emergency_passages" in prof:
        pd["emergency_passages"] = v.boolean(prof["emergency_passages"], "profile.emergency_passages")
    if "emergency_passage_kmh" in prof:
        pd["emergency_passage_kmh"] = v.number(
            prof["emergency_passage_kmh"], "profile.emergency_passage_kmh", lo=MIN_SPEED_KMH, hi=300
        )
    if "period" in prof:
        pd["period"] = v.choice(prof["period"], "profile.period", tuple(PERIOD_FACTORS))
    if "speeds_kmh" in prof:
        sp = prof["speeds_kmh"]
        if not isinstance(sp, dict):
            v.fail("profile.speeds_kmh", "expected a table class = speed or [urban, rural]")
        out = {}
        for cls, val in sp.items():
            f = f"profile.speeds_kmh.{_key(cls)}"
            if cls not in CLASS_INDEX:
                v.fail(f, f"unknown road class; expected one of {', '.join(CLASS_INDEX)}")
            if isinstance(val, list):
                if len(val) != 2:
                    v.fail(f, f"expected [urban, rural] km/h, got {_show(val)}")
                out[cls] = tuple(v.number(x, f, lo=MIN_SPEED_KMH, hi=300) for x in val)
            else:
                out[cls] = v.number(val, f, lo=MIN_SPEED_KMH, hi=300)
        pd["speeds_kmh"] = out
    return pd


def _thresholds(v: _V, raw: dict) -> list:
    """The sorted, de-duplicated ``thresholds`` in minutes."""
    if "thresholds" in raw:
        th = raw["thresholds"]
        if not isinstance(th, list) or not th or len(th) > 100:
            v.fail("thresholds", f"expected a non-empty list of minutes (at most 100), got {_show(th)}")
        return sorted({v.number(t, "thresholds", lo=0, lo_open=True, hi=MAX_THRESHOLD_MIN) for t in th})

    return list(DEFAULT_THRESHOLDS_MIN)


def _demand_section(v: _V, raw: dict, path: Path) -> dict:
    """The validated ``[demand]`` table; a relative ``file`` is anchored at the scenario's folder."""
    dm = v.table(raw.get("demand", {}), "demand", DEMAND_KEYS)
    dd = {"max_snap_m": v.number(dm.get("max_snap_m", 500.0), "demand.max_snap_m", lo=0, lo_open=True, hi=100000)}
    if sum(k in dm for k in ("file", "grid_m", "incidents")) > 1:
        v.fail("demand", "give one of grid_m, file or incidents, not several")
    if "incidents" in dm:
        f = Path(v.string(dm["incidents"], "demand.incidents", max_len=4096))
        f = f if f.is_absolute() else (path.parent / f)
        if f.is_dir():
            v.fail("demand.incidents", f"{f} is a folder; expected a dispatch-records file (CSV, GeoPackage, Parquet)")
        dd["incidents"] = str(f)
    elif "file" in dm:
        f = Path(v.string(dm["file"], "demand.file", max_len=4096))
        f = f if f.is_absolute() else (path.parent / f)
        if f.is_dir():
            v.fail("demand.file", f"{f} is a folder; expected a CSV (lon,lat,weight) or GeoJSON file")
        dd["file"] = str(f)
    else:
        dd["grid_m"] = v.number(dm.get("grid_m", 250.0), "demand.grid_m", lo=25, hi=5000)
        if "road_classes" in dm:
            rc = dm["road_classes"]
            if not isinstance(rc, list) or not rc or not all(isinstance(c, str) and c in CLASS_INDEX for c in rc):
                v.fail(
                    "demand.road_classes",
                    f"expected a non-empty list of OSM highway classes from {', '.join(CLASS_INDEX)}, got {_show(rc)}",
                )
            dd["road_classes"] = tuple(rc)
        if "density_exponent" in dm:
            dd["density_exponent"] = v.number(dm["density_exponent"], "demand.density_exponent", lo=0, hi=4)
        for k in ("density_radius_m", "max_density_km2"):
            if k in dm:
                dd[k] = v.number(dm[k], f"demand.{k}", lo=0, lo_open=True, hi=1e6)
    return dd


def _turnout_section(v: _V, raw: dict) -> dict:
    """Turnout seconds by crew type: the defaults overridden by ``[turnout]``."""
    turnout = dict(DEFAULT_TURNOUT_S)
    to = raw.get("turnout", {})
    if not isinstance(to, dict):
        v.fail("turnout", "expected a table crew_type = seconds")
    for k, val in to.items():
        fk = f"turnout.{_key(k)}"
        turnout[str(k)] = v.number(val, fk, lo=0, hi=MAX_TURNOUT_S)

    return turnout


def _posts_section(v: _V, raw: dict) -> tuple[list, list]:
    """``[posts]``: the open :class:`PostSpec` list (overrides and additions applied) and the closed ids."""
    closed: list = []
    posts = v.table(raw.get("posts", {"active": []}), "posts", POSTS_KEYS)
    active = posts.get("active")
    if not isinstance(active, list) or not all(isinstance(a, str) for a in active) or len(active) > MAX_SITES:
        v.fail("posts.active", f"expected a list of post ids, got {_show(active)}")
    for a in active:
        v.string(a, "posts.active")
    if len(set(active)) != len(active):
        dup = next(a for a in active if active.count(a) > 1)
        v.fail("posts.active", f"duplicate post id {dup!r}")
    overrides = posts.get("override", {})
    if not isinstance(overrides, dict):
        v.fail("posts.override", "expected tables [posts.override.<id>]")
    specs = {a: PostSpec(id=a) for a in active}
    for pid, od in overrides.items():
        fld = f"posts.override.{_key(pid)}"
        v.table(od, fld, OVERRIDE_KEYS)
        if pid not in specs:
            v.fail(fld, f"post {pid!r} is not in posts.active")
        spec = specs[pid]
        if od.get("closed") is not None and v.boolean(od["closed"], f"{fld}.closed"):
            closed.append(pid)
        for k, val in _position(v, od, fld).items():
            setattr(spec, k, val)
        if "crew" in od:
            spec.crew = v.string(od["crew"], f"{fld}.crew")
        if "turnout_s" in od:
            spec.turnout_s = v.number(od["turnout_s"], f"{fld}.turnout_s", lo=0, hi=MAX_TURNOUT_S)
        if "name" in od:
            spec.name = v.string(od["name"], f"{fld}.name")
        if "snap" in od:
            spec.snap = v.choice(od["snap"], f"{fld}.snap", ("public", "any"))
    adds = v.tables(posts.get("add", []), "posts.add", ADD_KEYS)
    for i, ad in enumerate(adds):
        fld = f"posts.add[{i}]"
        pid = v.string(ad.get("id"), f"{fld}.id")
        if pid in specs:
            v.fail(f"{fld}.id", f"duplicate post id {pid!r}")
        pos = _position(v, ad, fld)
        if "lat" not in pos and "street" not in pos:
            v.fail(fld, "a new post needs lat/lon or street")
        spec = PostSpec(id=pid, name=v.string(ad["name"], f"{fld}.name") if "name" in ad else pid, new=True, **pos)
        if "crew" in ad:
            spec.crew = v.string(ad["crew"], f"{fld}.crew")
        if "turnout_s" in ad:
            spec.turnout_s = v.number(ad["turnout_s"], f"{fld}.turnout_s", lo=0, hi=MAX_TURNOUT_S)
        if "snap" in ad:
            spec.snap = v.choice(ad["snap"], f"{fld}.snap", ("public", "any"))
        specs[pid] = spec
    open_posts = [s for s in specs.values() if s.id not in closed]
    study = raw.get("study")
    study_kind = study.get("kind") if isinstance(study, dict) else None  # a non-table is reported below
    from .kinds import kind_names

    own_kind = any(k in raw for k in kind_names())  # a registered kind checks its own sites
    from_scratch = (
        isinstance(study_kind, str) and study_kind in STUDY_KIND_MODULES and not get_study_kind(study_kind).needs_posts
    )
    if not open_posts and "ems" not in raw and not own_kind and not from_scratch:
        v.fail("posts.active", "no post left open: give at least one active post")

    return open_posts, closed


def _outputs_section(v: _V, raw: dict, defaults: dict) -> dict:
    """``[outputs]``: the defaults with the given switches."""
    outputs = dict(defaults)
    out = v.table(raw.get("outputs", {}), "outputs", OUTPUT_KEYS)
    for k in OUTPUT_KEYS - {"gpkg_epsg"}:
        if k in out:
            outputs[k] = v.boolean(out[k], f"outputs.{k}")
    if "gpkg_epsg" in out:
        if out["gpkg_epsg"] not in (31370, 4326) or isinstance(out["gpkg_epsg"], bool):
            v.fail(
                "outputs.gpkg_epsg",
                f"expected 31370 (Belgian Lambert 72, default) or 4326 (WGS84), got {out['gpkg_epsg']!r}",
            )
        outputs["gpkg_epsg"] = int(out["gpkg_epsg"])
    return outputs


def _study_section(v: _V, raw, sc: Scenario) -> StudySpec:
    """The validated ``[study]`` table: the common fields (defaults in :class:`StudySpec`), the sites,
    then the kind's own fields and checks (its module's ``parse``)."""
    from .study_kinds import study_kind_names, study_kinds

    kinds = study_kinds()
    own_keys = {k: kd for kd in kinds for k in kd.keys}
    v.table(raw, "study", STUDY_KEYS | set(own_keys))
    names = study_kind_names()
    if "kind" not in raw:
        v.fail("study.kind", f"missing (required); expected one of {', '.join(names)}")
    kind = get_study_kind(v.choice(raw["kind"], "study.kind", tuple(names)))
    for k in sorted(set(raw) & set(own_keys)):
        if k not in kind.keys:
            v.fail(f"study.{k}", f'only for kind = "{own_keys[k].name}" ({own_keys[k].purpose}), not {kind.name}')
    st = _study_common(v, raw, sc, kind)
    return st.replace(params=kind.parse(v, raw, sc, st))


def _study_common(v: _V, raw: dict, sc: Scenario, kind) -> StudySpec:
    """The fields every study has (the sizing fields k, m, p_min, p_max, share too: each kind uses
    its own, all are checked and reported)."""
    d = StudySpec(kind=kind.name)
    th = sc.thresholds_min
    n_posts = len(sc.posts)
    threshold = v.number(raw.get("threshold", th[len(th) // 2]), "study.threshold", lo=0.1, hi=MAX_THRESHOLD_MIN)
    k = v.integer(raw.get("k", d.k), "study.k", 1, MAX_P)
    m = v.integer(raw.get("m", d.m), "study.m", 1, 2)
    p_min = v.integer(raw.get("p_min", d.p_min), "study.p_min", 1, MAX_P)
    p_max = v.integer(raw.get("p_max", max(p_min, n_posts)), "study.p_max", 1, MAX_P)
    if p_max < p_min:
        v.fail("study.p_max", f"expected p_max >= p_min ({p_min}), got {p_max}")
    new_turnout = None
    if "new_turnout_s" in raw:
        new_turnout = v.number(raw["new_turnout_s"], "study.new_turnout_s", lo=0, hi=MAX_TURNOUT_S)
    classes = raw.get("candidate_classes", list(d.candidate_classes))
    if (
        not isinstance(classes, list)
        or not classes
        or any(not isinstance(c, str) or c not in CLASS_INDEX for c in classes)
    ):
        v.fail(
            "study.candidate_classes",
            f"expected a non-empty list of road classes from {', '.join(CLASS_INDEX)}, got {_show(classes)}",
        )
    return StudySpec(
        kind=kind.name,
        threshold=threshold,
        k=k,
        m=m,
        p_min=p_min,
        p_max=p_max,
        share=v.number(raw.get("share", d.share), "study.share", lo=0.0, lo_open=True, hi=1.0),
        spacing_m=v.number(raw.get("spacing_m", d.spacing_m), "study.spacing_m", lo=50, hi=100000),
        buffer_m=v.number(raw.get("buffer_m", d.buffer_m), "study.buffer_m", lo=0, hi=100000),
        time_limit_s=v.number(raw.get("time_limit_s", d.time_limit_s), "study.time_limit_s", lo=1, hi=MAX_TIME_LIMIT_S),
        objective=v.choice(raw.get("objective", d.objective), "study.objective", ("coverage", "pmedian")),
        new_crew=crew_type(v.string(raw.get("new_crew", d.new_crew), "study.new_crew")),
        new_turnout_s=new_turnout,
        sensitivity=v.boolean(raw.get("sensitivity", d.sensitivity), "study.sensitivity"),
        include_generated=v.boolean(raw.get("include_generated", kind.generated), "study.include_generated"),
        candidate_classes=tuple(classes),
        sites=tuple(_study_sites(v, raw, sc)),
    )


def _study_sites(v: _V, raw: dict, sc: Scenario) -> list[StudySite]:
    """``[[study.sites]]``: id (unique among posts, neighbours and sites) and a position."""
    sites: list[StudySite] = []
    seen = {p.id for p in sc.posts} | {n["id"] for n in sc.fleet.get("neighbours", [])}
    for k, sd in enumerate(v.tables(raw.get("sites", []), "study.sites", STUDY_SITE_KEYS)):
        fld = f"study.sites[{k}]"
        if "id" not in sd:
            v.fail(f"{fld}.id", "missing (required)")
        sid = v.string(sd["id"], f"{fld}.id")
        if sid in seen:
            v.fail(f"{fld}.id", f"duplicate site id {sid!r} (a post or an earlier site has it)")
        seen.add(sid)
        site: StudySite = {"id": sid, **_position(v, sd, fld)}  # type: ignore[typeddict-item]
        if "lat" not in site and "street" not in site:
            v.fail(fld, "a site needs lat/lon or street")
        if "name" in sd:
            site["name"] = v.string(sd["name"], f"{fld}.name")
        if "crew" in sd:
            site["crew"] = v.string(sd["crew"], f"{fld}.crew")
        if "turnout_s" in sd:
            site["turnout_s"] = v.number(sd["turnout_s"], f"{fld}.turnout_s", lo=0, hi=MAX_TURNOUT_S)
        sites.append(site)
    return sites


def _ems_section(v: _V, raw) -> EmsSpec:
    """The validated ``[ems]`` table, defaults filled in (``None`` for absent optional numbers)."""
    v.table(raw, "ems", EMS_KEYS)
    if "kind" not in raw:
        v.fail("ems.kind", f"missing (required); expected one of {', '.join(EMS_KINDS)}")
    e: EmsSpec = {"kind": v.choice(raw["kind"], "ems.kind", EMS_KINDS)}
    e["unit"] = v.choice(raw.get("unit", "ambulance"), "ems.unit", EMS_UNIT_TYPES)
    e["threshold"] = v.number(raw.get("threshold", 15.0), "ems.threshold", lo=0, lo_open=True, hi=MAX_THRESHOLD_MIN)
    e["norm_share"] = v.number(raw.get("norm_share", 0.9), "ems.norm_share", lo=0, lo_open=True, hi=1.0)
    e["calls_per_year"] = (
        v.number(raw["calls_per_year"], "ems.calls_per_year", lo=0, lo_open=True, hi=1e8)
        if "calls_per_year" in raw
        else None
    )
    e["mission_minutes"] = v.number(
        raw.get("mission_minutes", 60.0), "ems.mission_minutes", lo=0, lo_open=True, hi=1440
    )
    e["busy_fraction"] = (
        v.number(raw["busy_fraction"], "ems.busy_fraction", lo=0, hi=0.99) if "busy_fraction" in raw else None
    )
    e["turnout_s"] = v.number(
        raw.get("turnout_s", DEFAULT_EMS_TURNOUT_S[e["unit"]]), "ems.turnout_s", lo=0, hi=MAX_TURNOUT_S
    )
    e["time_limit_s"] = v.number(
        raw.get("time_limit_s", 120.0), "ems.time_limit_s", lo=0, lo_open=True, hi=MAX_TIME_LIMIT_S
    )
    if "profile" in raw:
        e["profile"] = v.choice(raw["profile"], "ems.profile", tuple(PROFILES))
    e["model"] = v.choice(raw.get("model", "mexclp"), "ems.model", EMS_MODELS)
    e["reliability"] = v.number(raw.get("reliability", 0.9), "ems.reliability", lo=0, lo_open=True, hi=0.999)
    if e["calls_per_year"] is None and e["busy_fraction"] is None:
        v.fail("ems.calls_per_year", "give calls_per_year (with mission_minutes) or a system-wide busy_fraction")
    if e["calls_per_year"] is not None and e["busy_fraction"] is not None:
        v.fail(
            "ems.busy_fraction",
            "give either calls_per_year (with mission_minutes) or a system-wide busy_fraction, not both",
        )
    units: list[EmsUnit] = []
    for k, u in enumerate(v.tables(raw.get("units", []), "ems.units", EMS_UNIT_KEYS, limit=MAX_EMS_UNITS)):
        fld = f"ems.units[{k}]"
        if "base" not in u:
            v.fail(f"{fld}.base", "missing (required): the id of the base")
        units.append(
            {
                "base": v.string(u["base"], f"{fld}.base"),
                "count": v.integer(u.get("count", 1), f"{fld}.count", 1, MAX_EMS_UNITS),
            }
        )
    e["units"] = units
    today = sum(u["count"] for u in units)
    if e["kind"] in ("ems-evaluate", "pit-add") and not units:
        v.fail("ems.units", 'list today\'s units as [[ems.units]] base = "H01", count = 1')
    if e["kind"] == "ems-place":
        if "n_units" not in raw:
            v.fail(
                "ems.n_units", f"missing (required for ems-place); expected a whole number from 1 to {MAX_EMS_UNITS}"
            )
        e["n_units"] = v.integer(raw["n_units"], "ems.n_units", 1, MAX_EMS_UNITS)
        n_total, n_fld = e["n_units"], "ems.n_units"
    else:
        if "n_units" in raw:
            v.fail("ems.n_units", f'only for kind = "ems-place"; {e["kind"]} counts [[ems.units]]')
        n_total, n_fld = today + (1 if e["kind"] == "pit-add" else 0), "ems.units"
    if n_total > MAX_EMS_UNITS:
        v.fail(
            n_fld,
            f"{n_total} units; at most {MAX_EMS_UNITS} units of one type are supported (the hypercube "
            f"approximation of busy units)",
        )
    if "capacity_per_base" in raw:
        e["capacity_per_base"] = v.integer(raw["capacity_per_base"], "ems.capacity_per_base", 1, MAX_EMS_UNITS)
    if e["calls_per_year"] is not None:
        load = e["calls_per_year"] * e["mission_minutes"] / 60.0 / 8760.0  # units busy on average
        if load >= n_total:
            v.fail(
                "ems.calls_per_year",
                f"{e['calls_per_year']:g} calls/year x {e['mission_minutes']:g} min keep "
                f"{load:.2f} units busy on average, but there are {n_total}: the queue "
                f"grows without bound; expected fewer calls or shorter missions, or more "
                f"units",
            )
    bases = []
    for k, b in enumerate(v.tables(raw.get("bases", []), "ems.bases", EMS_BASE_KEYS)):
        fld = f"ems.bases[{k}]"
        if "id" not in b:
            v.fail(f"{fld}.id", "missing (required)")
        base = {"id": v.string(b["id"], f"{fld}.id"), **_position(v, b, fld)}
        if any(o["id"] == base["id"] for o in bases):
            v.fail(f"{fld}.id", f"duplicate base id {base['id']!r} (an earlier [[ems.bases]] entry has it)")
        if "lat" not in base and "street" not in base:
            v.fail(fld, "a base needs lat/lon or street")
        if "name" in b:
            base["name"] = v.string(b["name"], f"{fld}.name")
        bases.append(base)
    e["bases"] = bases
    e["simulate"] = _ems_simulate(v, raw.get("simulate", True))
    return e


def _ems_simulate(v: _V, raw) -> dict | None:
    """``[ems] simulate``: true (the defaults), false (analytical only) or a table of
    replications, days, seed and candidates (how many placements of a pit-add study)."""
    if isinstance(raw, bool):
        return dict(EMS_SIMULATE_DEFAULT) if raw else None
    v.table(raw, "ems.simulate", EMS_SIMULATE_KEYS)
    d = EMS_SIMULATE_DEFAULT
    return {
        "replications": v.integer(raw.get("replications", d["replications"]), "ems.simulate.replications", 2, 1000),
        "days": v.number(raw.get("days", d["days"]), "ems.simulate.days", lo=0, lo_open=True, hi=3660),
        "seed": v.integer(raw.get("seed", d["seed"]), "ems.simulate.seed", 0, 2**63 - 1),
        "candidates": v.integer(raw.get("candidates", d["candidates"]), "ems.simulate.candidates", 1, 20),
    }


def _fleet_name(v: _V, name, fld: str, what: str) -> str:
    """A vehicle type or response name: it becomes a column name (letters, digits, _ or -)."""
    from ..coverage.fleet import NAME_RE

    if not isinstance(name, str) or not NAME_RE.match(name):
        v.fail(
            fld,
            f"expected a {what} name of letters, digits, _ or - (at most 40, starting with a letter), got {_show(name)}",
        )
    return name


def _vehicle_counts(v: _V, d, fld: str, types: dict) -> dict:
    """``{type: count}`` of one post: known types, whole numbers 0-100, at least one vehicle."""
    if not isinstance(d, dict):
        v.fail(fld, f"expected a table type = count, e.g. {{AP = 1, aerial = 1}}, got {_show(d)}")
    out = {}
    for t, c in d.items():
        f = f"{fld}.{_key(t)}"
        if t not in types:
            v.fail(
                f,
                f"unknown vehicle type; expected one of {', '.join(types)} (or define it under [vehicles.types.<name>])",
            )
        out[t] = v.integer(c, f, 0, MAX_VEHICLES)
    if not any(out.values()):
        v.fail(fld, "expected at least one vehicle (a post without vehicles sends nothing; close it instead)")
    return out


def _fleet_section(v: _V, raw: dict, sc: Scenario) -> dict:
    """``[vehicles]`` (vehicle types, crew per turnout, full crew, engine type, adequate responses),
    ``[posts.vehicles]`` (which post has which vehicles; a post not listed has one AP) and
    ``[[posts.neighbours]]`` (posts of neighbouring zones). Defaults: the built-in types, one AP per
    post, no responses, no neighbours (the results of a run without them equal today's)."""
    from ..coverage.fleet import (
        DEFAULT_CREW_PER_TURNOUT,
        DEFAULT_ENGINE,
        DEFAULT_FULL_CREW,
        DEFAULT_VEHICLE_TYPES,
        VehicleType,
    )

    vd = v.table(raw.get("vehicles", {}), "vehicles", VEHICLES_KEYS)
    types = dict(DEFAULT_VEHICLE_TYPES)
    td = vd.get("types", {})
    if not isinstance(td, dict):
        v.fail("vehicles.types", "expected tables [vehicles.types.<name>]")
    if len(td) > MAX_VEHICLE_TYPES:
        v.fail("vehicles.types", f"expected at most {MAX_VEHICLE_TYPES} types, got {len(td)}")
    for name, t in td.items():
        fld = f"vehicles.types.{_key(name)}"
        _fleet_name(v, name, fld, "vehicle type")
        v.table(t, fld, VEHICLE_TYPE_KEYS)
        old = types.get(name, VehicleType(name))
        types[name] = VehicleType(
            name,
            label=v.string(t["label"], f"{fld}.label") if "label" in t else (old.label or name),
            profile=v.choice(t["profile"], f"{fld}.profile", tuple(PROFILES)) if "profile" in t else old.profile,
            speed_scale=v.number(t["speed_scale"], f"{fld}.speed_scale", lo=MIN_SPEED_SCALE, hi=10)
            if "speed_scale" in t
            else old.speed_scale,
            vehicle_max_kmh=v.number(t["vehicle_max_kmh"], f"{fld}.vehicle_max_kmh", lo=MIN_SPEED_KMH, hi=300)
            if "vehicle_max_kmh" in t
            else old.vehicle_max_kmh,
        )
    engine = v.choice(vd.get("engine", DEFAULT_ENGINE), "vehicles.engine", tuple(types))
    full_crew = v.integer(vd.get("full_crew", DEFAULT_FULL_CREW), "vehicles.full_crew", 1, MAX_VEHICLES)
    crew = dict(DEFAULT_CREW_PER_TURNOUT)
    cd = vd.get("crew", {})
    if not isinstance(cd, dict):
        v.fail("vehicles.crew", "expected a table crew_type = people per turnout")
    for k, val in cd.items():
        crew[str(k)] = v.integer(val, f"vehicles.crew.{_key(k)}", 0, MAX_VEHICLES)
    own = {p.id for p in sc.posts}
    closed = set(sc.closed)
    responses = {}
    rd = vd.get("responses", {})
    if not isinstance(rd, dict):
        v.fail("vehicles.responses", 'expected a table name = ["AP", "aerial"] or name = {AP = 2, aerial = 1}')
    if len(rd) > MAX_RESPONSES:
        v.fail("vehicles.responses", f"expected at most {MAX_RESPONSES} responses, got {len(rd)}")
    for name, spec in rd.items():
        fld = f"vehicles.responses.{_key(name)}"
        _fleet_name(v, name, fld, "response")
        if isinstance(spec, list):
            if not spec or len(spec) > MAX_VEHICLE_TYPES + 10:
                v.fail(fld, f'expected a non-empty list of vehicle types, e.g. ["AP", "aerial"], got {_show(spec)}')
            counts: dict = {}
            for t in spec:
                if not isinstance(t, str) or t not in types:
                    v.fail(fld, f"unknown vehicle type {_show(t)}; expected one of {', '.join(types)}")
                counts[t] = counts.get(t, 0) + 1
        elif isinstance(spec, dict):
            counts = {}
            for t, c in spec.items():
                f = f"{fld}.{_key(t)}"
                if t not in types:
                    v.fail(f, f"unknown vehicle type; expected one of {', '.join(types)}")
                counts[t] = v.integer(c, f, 1, MAX_VEHICLES)
            if not counts:
                v.fail(fld, "expected at least one vehicle type")
        else:
            v.fail(fld, f'expected a list of vehicle types ["AP", "aerial"] or a table {{AP = 2}}, got {_show(spec)}')
        responses[name] = counts
    posts = raw.get("posts", {}) if isinstance(raw.get("posts", {}), dict) else {}
    vehicles = {}
    pv = posts.get("vehicles", {})
    if not isinstance(pv, dict):
        v.fail("posts.vehicles", "expected a table post_id = {AP = 1, aerial = 1}")
    for pid, d in pv.items():
        fld = f"posts.vehicles.{_key(pid)}"
        if pid not in own and pid not in closed:
            v.fail(
                fld,
                "not an open post of this scenario (posts.active or [[posts.add]]); neighbouring posts "
                "give their vehicles in their [[posts.neighbours]] entry",
            )
        counts = _vehicle_counts(v, d, fld, types)
        if pid in own:
            vehicles[pid] = counts
    if own and not any(vehicles.get(pid, {DEFAULT_ENGINE: 1}).get(engine, 0) > 0 for pid in own):
        # every headline ("first fire engine", the map, the studies) counts the posts' engines
        v.fail(
            "posts.vehicles" if pv else "vehicles.engine",
            f"no open post has a {engine} (vehicles.engine, the fire engine every headline counts); "
            f"give at least one post one, e.g. {sorted(own)[0]} = {{ {engine} = 1 }}",
        )
    neighbours = []
    seen = own | closed
    for i, nd in enumerate(v.tables(posts.get("neighbours", []), "posts.neighbours", NEIGHBOUR_KEYS)):
        fld = f"posts.neighbours[{i}]"
        for req in ("id", "zone", "crew"):
            if req not in nd:
                v.fail(
                    f"{fld}.{req}",
                    "missing (required)" + (": professional, volunteer or mixed" if req == "crew" else ""),
                )
        nid = v.string(nd["id"], f"{fld}.id")
        if nid in seen:
            v.fail(f"{fld}.id", f"duplicate post id {nid!r} (a post or an earlier neighbour has it)")
        seen.add(nid)
        pos = _position(v, nd, fld)
        if "lat" not in pos and "street" not in pos:
            v.fail(fld, "a neighbouring post needs lat/lon or street")
        n = {
            "id": nid,
            "name": v.string(nd["name"], f"{fld}.name") if "name" in nd else nid,
            "zone": v.string(nd["zone"], f"{fld}.zone"),
            "crew": crew_type(v.string(nd["crew"], f"{fld}.crew")),
            **pos,
        }
        if "turnout_s" in nd:
            n["turnout_s"] = v.number(nd["turnout_s"], f"{fld}.turnout_s", lo=0, hi=MAX_TURNOUT_S)
        if "crew_size" in nd:
            n["crew_size"] = v.integer(nd["crew_size"], f"{fld}.crew_size", 0, MAX_VEHICLES)
        elif n["crew"] not in crew:
            v.fail(
                f"{fld}.crew",
                f"no crew size for crew type {n['crew']!r}; give crew_size or add it under [vehicles.crew]",
            )
        if "turnout_s" not in nd and n["crew"] not in sc.turnout_s:
            v.fail(
                f"{fld}.crew", f"no turnout time for crew type {n['crew']!r}; give turnout_s or add it under [turnout]"
            )
        n["vehicles"] = (
            _vehicle_counts(v, nd["vehicles"], f"{fld}.vehicles", types) if "vehicles" in nd else {DEFAULT_ENGINE: 1}
        )
        n["snap"] = v.choice(nd.get("snap", "public"), f"{fld}.snap", ("public", "any"))
        neighbours.append(n)
    crew_by_post = {}
    cb = vd.get("crew_by_post", {})
    if not isinstance(cb, dict):
        v.fail("vehicles.crew_by_post", "expected a table post_id = people per turnout")
    for pid, val in cb.items():
        fld = f"vehicles.crew_by_post.{_key(pid)}"
        if pid not in own and pid not in closed:
            v.fail(fld, "not an open post of this scenario (neighbouring posts give crew_size in their entry)")
        c = v.integer(val, fld, 0, MAX_VEHICLES)
        if pid in own:
            crew_by_post[pid] = c
    return {
        "types": types,
        "engine": engine,
        "full_crew": full_crew,
        "crew": crew,
        "crew_by_post": crew_by_post,
        "responses": responses,
        "vehicles": vehicles,
        "neighbours": neighbours,
        "declared": bool(raw.get("vehicles")) or bool(pv) or bool(neighbours),
    }


# ------------------------------------------------------------------------------------------------
# [response] and [[slices]]: the response time as the zone measures it (kazerne.response)
# ------------------------------------------------------------------------------------------------

RESPONSE_KEYS = {"call_handling_s", "turnout_model", "turnout", "posts"}
DIST_KEYS = {"median_s", "p90_s", "min_s"}
SLICE_KEYS = {"name", "days", "hours", "period", "posts", "turnout"}
SLICE_POST_KEYS = {"crew", "closed", "median_s", "p90_s", "min_s"}
TURNOUT_MODELS = ("distribution", "deterministic")
DAY_SETS = {"weekday": (0, 1, 2, 3, 4), "weekend": (5, 6), "all": (0, 1, 2, 3, 4, 5, 6)}
MAX_SLICES = 48


def _dist(v: _V, d, fld: str, keys=DIST_KEYS):
    """A turnout distribution table ``{median_s, p90_s, min_s}`` as a TurnoutDist (None when ``d``
    gives none of the three, e.g. a slice's post entry with only ``crew``)."""
    from ..errors import ModelInputError
    from ..response import TurnoutDist

    v.table(d, fld, keys)
    if not DIST_KEYS & set(d):
        return None
    if "median_s" not in d:
        v.fail(f"{fld}.median_s", "missing (required with p90_s / min_s): the median turnout in seconds")
    nums = {k: v.number(d[k], f"{fld}.{k}", lo=0, hi=MAX_TURNOUT_S) for k in DIST_KEYS if k in d}
    try:
        return TurnoutDist(nums["median_s"], nums.get("p90_s"), nums.get("min_s", 0.0))
    except ModelInputError as exc:
        v.fail(f"{fld}.{exc.field}", exc.detail)


def _response_section(v: _V, raw: dict, sc: Scenario) -> dict:
    """``[response]``: call handling (s), the turnout model (default deterministic: each turnout fixed
    at its median) and distributions per crew / post."""
    r = v.table(raw.get("response", {}), "response", RESPONSE_KEYS)
    out = {
        "call_handling_s": _call_handling(v, r),
        "turnout_model": v.choice(r.get("turnout_model", "deterministic"), "response.turnout_model", TURNOUT_MODELS),
    }
    tables = {}
    for kind in ("turnout", "posts"):
        t = r.get(kind, {})
        if not isinstance(t, dict):
            v.fail(f"response.{kind}", f"expected tables [response.{kind}.<{'crew' if kind == 'turnout' else 'id'}>]")
        tables[kind] = {}
        for k, d in t.items():
            fld = f"response.{kind}.{_key(k)}"
            if kind == "turnout" and k not in sc.turnout_s:
                v.fail(
                    fld,
                    f"unknown crew type; expected one of {', '.join(sorted(sc.turnout_s))} (or add it to [turnout])",
                )
            if kind == "posts" and k not in {p.id for p in sc.posts} | set(sc.closed):
                v.fail(fld, f"post {k!r} is not in posts.active or posts.add")
            dist = _dist(v, d, fld)
            if dist is None:
                v.fail(f"{fld}.median_s", "missing (required): the median turnout in seconds")
            tables[kind][k] = dist
    out["turnout"], out["posts"] = tables["turnout"], tables["posts"]
    return out


def _days(v: _V, d, fld: str) -> tuple:
    if isinstance(d, str):
        if d not in DAY_SETS:
            v.fail(fld, f"expected weekday, weekend, all or a list of day names, got {_show(d)}")
        return DAY_SETS[d]
    from ..response import DAY_NAMES

    if not isinstance(d, list) or not d or not all(isinstance(x, str) and x.lower() in DAY_NAMES for x in d):
        v.fail(fld, f"expected weekday, weekend, all or a list of day names ({', '.join(DAY_NAMES)}), got {_show(d)}")
    days = [DAY_NAMES.index(x.lower()) for x in d]
    if len(set(days)) != len(days):
        v.fail(fld, f"day listed twice in {_show(d)}")
    return tuple(sorted(days))


def _slices_section(v: _V, raw: dict, sc: Scenario) -> list:
    """``[[slices]]``: parts of the week with their own posts, crews, turnouts and speed period,
    covering each hour of the week exactly once (one whole-week slice when absent)."""
    from ..errors import ModelInputError
    from ..response import TimeSlice, check_week

    open_ids = [p.id for p in sc.posts]
    if "slices" not in raw:
        return [
            {
                "name": "week",
                "slice": TimeSlice("week"),
                "period": sc.profile.get("period"),
                "posts": {},
                "turnout": {},
                "hours_per_week": 168.0,
            }
        ]
    out = []
    for i, sd in enumerate(v.tables(raw["slices"], "slices", SLICE_KEYS, limit=MAX_SLICES)):
        fld = f"slices[{i}]"
        if "name" not in sd:
            v.fail(f"{fld}.name", "missing (required): a name such as weekday-day")
        name = v.string(sd["name"], f"{fld}.name", max_len=60)
        if name == "mix" or any(name == o["name"] for o in out):
            v.fail(f"{fld}.name", f"{'duplicate slice name' if name != 'mix' else 'reserved name'} {name!r}")
        days = _days(v, sd.get("days", "all"), f"{fld}.days")
        hrs = sd.get("hours", [0, 24])
        if not isinstance(hrs, list) or len(hrs) != 2:
            v.fail(
                f"{fld}.hours",
                f"expected [start, end] in hours 0..24 (end <= start wraps past midnight), got {_show(hrs)}",
            )
        h = [v.number(x, f"{fld}.hours", lo=0, hi=24) for x in hrs]
        period = sd.get("period", sc.profile.get("period") or "none")
        period = v.choice(period, f"{fld}.period", ("none", *PERIOD_FACTORS))
        posts = {}
        pt = sd.get("posts", {})
        if not isinstance(pt, dict):
            v.fail(f"{fld}.posts", "expected tables [slices.posts.<id>] (crew, closed, median_s, p90_s, min_s)")
        for pid, pd in pt.items():
            pf = f"{fld}.posts.{_key(pid)}"
            if pid not in open_ids:
                v.fail(pf, f"post {pid!r} is not an open post of the scenario (posts.active, posts.add)")
            dist = _dist(v, pd, pf, SLICE_POST_KEYS)
            e = {"dist": dist}
            if "crew" in pd:
                crew = crew_type(v.string(pd["crew"], f"{pf}.crew"))
                if crew not in sc.turnout_s:
                    v.fail(
                        f"{pf}.crew",
                        f"no turnout for crew type {crew!r}; expected one of {', '.join(sorted(sc.turnout_s))}",
                    )
                e["crew"] = crew
            e["closed"] = v.boolean(pd.get("closed", False), f"{pf}.closed")
            if e["closed"] and (dist is not None or "crew" in pd):
                v.fail(pf, "a closed post has no crew or turnout; give closed = true alone")
            posts[pid] = e
        if open_ids and all(posts.get(p, {}).get("closed") for p in open_ids):
            v.fail(f"{fld}.posts", f"every post is closed in slice {name!r}; expected at least one open post")
        turn = {}
        tt = sd.get("turnout", {})
        if not isinstance(tt, dict):
            v.fail(f"{fld}.turnout", "expected tables [slices.turnout.<crew>] (median_s, p90_s, min_s)")
        for crew, d in tt.items():
            tf = f"{fld}.turnout.{_key(crew)}"
            if crew not in sc.turnout_s:
                v.fail(tf, f"unknown crew type; expected one of {', '.join(sorted(sc.turnout_s))}")
            dist = _dist(v, d, tf)
            if dist is None:
                v.fail(f"{tf}.median_s", "missing (required): the median turnout in seconds")
            turn[crew] = dist
        try:
            sl = TimeSlice(name, days, h[0], h[1])
            sl.minutes()
        except ModelInputError as exc:
            v.fail(f"{fld}.hours", exc.detail)
        out.append(
            {"name": name, "slice": sl, "period": None if period == "none" else period, "posts": posts, "turnout": turn}
        )
    try:
        hours = check_week([o["slice"] for o in out])
    except ModelInputError as exc:
        v.fail(exc.field, exc.detail)
    for o, hh in zip(out, hours):
        o["hours_per_week"] = hh
    return out


def _study_slice(v: _V, st: dict, sc: Scenario) -> str | None:
    """``study.slice``: the time slice a study optimises for, ``mix`` (hour-weighted), or None (no
    [[slices]] and no turnout tables in [response]: the study runs on the scenario's posts and
    turnouts, from the call with ``call_handling_s``, like every study)."""
    timed = "slices" in sc.raw or bool(sc.response and (sc.response["turnout"] or sc.response["posts"]))
    if "slice" not in st:
        if not timed:
            return None
        return "mix" if len(sc.slices) > 1 else sc.slices[0]["name"]
    if not timed:
        v.fail("study.slice", "only with [[slices]] (or [response] turnout tables) in the scenario")
    names = [s["name"] for s in sc.slices]
    return v.choice(st["slice"], "study.slice", (*names, "mix"))
