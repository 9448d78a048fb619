"""Speed profiles: how fast a vehicle drives on each kind of road.

The speed on an edge (km/h) is::

    v = min(class_speed[highway][urban or rural], maxspeed * maxspeed_factor, vehicle_max) * period_factor[highway]

and its time is ``length / v + intersection_delay_s``. ``maxspeed`` is the OSM tag where present
(the lowest value when a merged edge carries several); ``maxspeed_factor`` is how far above the posted
limit the vehicle drives under blue lights. ``period`` picks a row of time-of-day factors
(``rush_hour``, ``night``); ``None`` means free-flowing daytime traffic.

Rationale of the defaults (see also the README table):

* Emergency vehicles do not reach the posted limit everywhere in town: narrow streets, parked cars,
  crossings, other road users yielding slowly. Urban speeds are therefore below the limits
  (residential 28-30 km/h, primary 45-50 km/h), rural speeds close to them.
* A fire engine (15-26 t) is limited to ~85-90 km/h on the motorway by its speed limiter and accelerates
  slowly; an ambulance (3.5-5 t) can do 110-120 km/h. Dutch and Flemish response-time studies put mean
  fire-engine speeds around 40-50 km/h over a whole trip and ambulances 10-20 % faster.
* ``car`` is a law-abiding private car (no blue lights), useful for comparison and for volunteers
  driving to their post.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from ..checks import show
from ..errors import ModelInputError, ScenarioError

#: OSM highway classes, fastest first. A merged edge carrying several classes gets the slowest
#: of them (conservative). Anything else maps to ``road``.
HIGHWAY_CLASSES = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "motorway_link",
    "trunk_link",
    "tertiary",
    "primary_link",
    "secondary_link",
    "tertiary_link",
    "unclassified",
    "road",
    "residential",
    "living_street",
    "service",
    "track",
    "pedestrian",
    "busway",
)
CLASS_INDEX = {c: i for i, c in enumerate(HIGHWAY_CLASSES)}
#: Road classes whose length is used to spread population (the "residential-type" roads).
RESIDENTIAL_CLASSES = ("residential", "living_street", "unclassified")
#: Road classes whose single-carriageway one-way streets a priority vehicle may drive against.
CONTRAFLOW_CLASSES = ("residential", "unclassified", "tertiary")


def _table(urban: dict, rural: dict | None = None) -> dict:
    rural = rural or {}
    return {c: (float(urban[c]), float(rural.get(c, urban[c]))) for c in HIGHWAY_CLASSES}


_FIRE = _table(
    urban=dict(
        motorway=85,
        trunk=65,
        primary=45,
        secondary=40,
        motorway_link=50,
        trunk_link=40,
        tertiary=35,
        primary_link=35,
        secondary_link=30,
        tertiary_link=30,
        unclassified=30,
        road=30,
        residential=28,
        living_street=15,
        service=15,
        track=15,
        pedestrian=15,
        busway=30,
    ),
    rural=dict(trunk=75, primary=65, secondary=60, tertiary=55, unclassified=45, road=40, residential=40, track=15),
)
_AMBULANCE = _table(
    urban=dict(
        motorway=115,
        trunk=80,
        primary=50,
        secondary=45,
        motorway_link=60,
        trunk_link=50,
        tertiary=40,
        primary_link=40,
        secondary_link=35,
        tertiary_link=35,
        unclassified=35,
        road=35,
        residential=30,
        living_street=15,
        service=20,
        track=20,
        pedestrian=15,
        busway=35,
    ),
    rural=dict(trunk=90, primary=75, secondary=70, tertiary=60, unclassified=50, road=45, residential=45),
)
_CAR = _table(
    urban=dict(
        motorway=110,
        trunk=75,
        primary=45,
        secondary=40,
        motorway_link=60,
        trunk_link=50,
        tertiary=35,
        primary_link=35,
        secondary_link=30,
        tertiary_link=30,
        unclassified=30,
        road=30,
        residential=25,
        living_street=10,
        service=15,
        track=15,
        pedestrian=6,
        busway=30,
    ),
    rural=dict(trunk=85, primary=70, secondary=65, tertiary=60, unclassified=50, road=40, residential=40),
)

#: Time-of-day speed factors per class (1.0 where not listed).
PERIOD_FACTORS = {
    "rush_hour": dict(
        motorway=0.55,
        motorway_link=0.6,
        trunk=0.65,
        trunk_link=0.7,
        primary=0.7,
        primary_link=0.75,
        secondary=0.75,
        secondary_link=0.8,
        tertiary=0.8,
        tertiary_link=0.85,
        unclassified=0.9,
        road=0.9,
        residential=0.9,
    ),
    "night": dict(
        motorway=1.0,
        trunk=1.05,
        primary=1.1,
        secondary=1.1,
        tertiary=1.1,
        unclassified=1.05,
        residential=1.05,
        road=1.05,
    ),
}


@dataclass(frozen=True)
class SpeedProfile:
    """Speeds of one vehicle type.

    Attributes
    ----------
    name : str
        Profile name (``fire_engine``, ``ambulance``, ``car`` or user-defined).
    speeds_kmh : dict
        ``{highway_class: (urban_kmh, rural_kmh)}``.
    vehicle_max_kmh : float
        Top speed of the vehicle, km/h.
    maxspeed_factor : float
        Multiplier on the OSM ``maxspeed`` tag that caps the speed (1.1 = up to 10 % above the limit).
    period : str or None
        Time-of-day period whose factors apply (``rush_hour``, ``night``) or ``None``.
    period_factors : dict
        ``{period: {highway_class: factor}}``.
    speed_scale : float
        A global multiplier on all speeds (sensitivity studies: 0.85 = 15 % slower).
    intersection_delay_s : float
        Fixed delay added when the vehicle reaches a junction: a node where three or more public road
        arms meet (not service roads, car-park aisles, driveways, tracks or passages; not the nodes
        where only a street's name or class changes; not on a roundabout's ring), seconds.
    roundabout_delay_s : float
        Delay when the vehicle enters a roundabout (OSM ``junction=roundabout``) instead of the
        junction delay, seconds: a fire engine slows to ~20 km/h to take it.
    signal_delay_s : float
        Delay at a node tagged ``highway=traffic_signals`` instead of the junction delay, seconds: under
        blue lights the driver crosses a red light at walking pace after checking each arm. (Pack
        hvz-centrum keeps no node tags, so it applies nowhere there.)
    contraflow_classes : tuple of str
        Road classes whose one-way streets the vehicle may drive against their direction (at
        ``oneway_reverse_factor`` of its speed) when they are a single carriageway and not a roundabout
        (:meth:`~kazerne.routing.network.RoadNetwork.contraflow_edges`). Default residential,
        unclassified, tertiary: never a dual carriageway, ramp, motorway (link) or roundabout.
    emergency_passages : bool
        Whether the vehicle may use ways closed to cars but open to emergency vehicles (pedestrian
        streets, modal filters, bus links, private service roads: ``motor_vehicle=no`` and the like,
        see :mod:`kazerne.routing.osmread`). True for the fire engine and the ambulance, False for the car.
    emergency_passage_kmh : float
        The highest speed on such a passage (km/h): bollards to lower, pedestrians, narrow gates.
    unknown_direction_factor : float
        Speed factor on one-way streets whose direction the road data does not know (written two-way
        with a ``fixme``; pack hvz-centrum v2: 1,888 ways). 1 (default) drives them both ways at full
        speed (optimistic); ``oneway_reverse_factor`` (0.5) is the worst case for a priority vehicle
        (as if every such street were driven against its direction). A sensitivity knob.
    oneway_reverse_factor : float
        0 = one-way streets are driven only in their direction. A value > 0 lets the vehicle drive
        against a one-way street at this fraction of its speed there (priority vehicles under blue
        lights may, Belgian road code art. 37/59, and Ghent's 2017 circulation plan otherwise
        sends a fire engine from the HQ around the whole city to reach the next sector).
    """

    name: str
    speeds_kmh: dict = field(hash=False)
    vehicle_max_kmh: float = 90.0
    maxspeed_factor: float = 1.1
    period: str | None = None
    period_factors: dict = field(default_factory=lambda: dict(PERIOD_FACTORS), hash=False)
    speed_scale: float = 1.0
    intersection_delay_s: float = 0.0
    roundabout_delay_s: float = 0.0
    signal_delay_s: float = 0.0
    contraflow_classes: tuple = CONTRAFLOW_CLASSES
    oneway_reverse_factor: float = 0.0
    emergency_passages: bool = False
    emergency_passage_kmh: float = 20.0
    unknown_direction_factor: float = 1.0

    def __post_init__(self):
        from ..checks import check_fields, check_number

        check_fields(self, error=ScenarioError)
        for cls in HIGHWAY_CLASSES:
            if cls not in self.speeds_kmh:
                raise ScenarioError(
                    f"no speed for road class {cls!r}; expected a speed for each of {', '.join(HIGHWAY_CLASSES)}",
                    field="profile.speeds_kmh",
                )
            val = self.speeds_kmh[cls]
            pair = val if isinstance(val, (tuple, list)) and len(val) == 2 else (val, val)
            for x in pair:
                check_number(x, f"profile.speeds_kmh.{cls}", lo=0.0, lo_open=True, error=ScenarioError)
        self.validate()

    def with_overrides(self, **kw) -> "SpeedProfile":
        """A copy with fields replaced. ``speeds_kmh`` may be partial: ``{"primary": (50, 70)}`` or
        ``{"primary": 50}`` (both urban and rural)."""
        kw = dict(kw)
        known = {f.name for f in fields(self)}
        unknown = sorted(set(kw) - known)
        if unknown:
            raise ScenarioError(
                f"unknown speed profile setting(s) {', '.join(unknown)}; expected one of {', '.join(sorted(known))}",
                field="profile",
            )
        if "speeds_kmh" in kw and not isinstance(kw["speeds_kmh"], dict):
            raise ScenarioError("expected a table road class -> km/h or (urban, rural)", field="profile.speeds_kmh")
        if "speeds_kmh" in kw:
            merged = dict(self.speeds_kmh)
            for cls, val in (kw["speeds_kmh"] or {}).items():
                if cls not in CLASS_INDEX:
                    raise ScenarioError(
                        f"unknown road class {cls!r}; expected one of {', '.join(HIGHWAY_CLASSES)}",
                        field="profile.speeds_kmh",
                    )
                if isinstance(val, (int, float)):
                    val = (val, val)
                if len(val) != 2 or any((not isinstance(x, (int, float))) or x <= 0 for x in val):
                    raise ScenarioError(
                        f"expected a positive speed or [urban, rural] pair for {cls!r}, got {val!r}",
                        field="profile.speeds_kmh",
                    )
                merged[cls] = (float(val[0]), float(val[1]))
            kw["speeds_kmh"] = merged
        if "contraflow_classes" in kw:
            kw["contraflow_classes"] = tuple(kw["contraflow_classes"] or ())
        if "period_factors" in kw:
            merged = {k: dict(v) for k, v in self.period_factors.items()}
            for per, facs in (kw["period_factors"] or {}).items():
                merged.setdefault(per, {}).update(facs)
            kw["period_factors"] = merged
        out = replace(self, **kw)
        out.validate()
        return out

    def validate(self) -> None:
        for attr in ("vehicle_max_kmh", "maxspeed_factor", "speed_scale"):
            v = getattr(self, attr)
            if not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
                raise ScenarioError(f"expected a positive number, got {v!r}", field=f"profile.{attr}")
        f = self.oneway_reverse_factor
        if not isinstance(f, (int, float)) or not np.isfinite(f) or f < 0 or f > 1:
            raise ScenarioError(
                f"expected a number from 0 (one-way respected) to 1, got {f!r}", field="profile.oneway_reverse_factor"
            )
        f = self.unknown_direction_factor
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not np.isfinite(f) or not 0 < f <= 1:
            raise ScenarioError(f"expected a number > 0 and <= 1, got {f!r}", field="profile.unknown_direction_factor")
        if not isinstance(self.emergency_passages, bool):
            raise ScenarioError(
                f"expected true or false, got {self.emergency_passages!r}", field="profile.emergency_passages"
            )
        v = self.emergency_passage_kmh
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
            raise ScenarioError(f"expected a positive speed in km/h, got {v!r}", field="profile.emergency_passage_kmh")
        for attr in ("intersection_delay_s", "roundabout_delay_s", "signal_delay_s"):
            d = getattr(self, attr)
            if isinstance(d, bool) or not isinstance(d, (int, float)) or not np.isfinite(d) or d < 0:
                raise ScenarioError(f"expected a number of seconds >= 0, got {d!r}", field=f"profile.{attr}")
        bad = [c for c in self.contraflow_classes if c not in CLASS_INDEX]
        if bad:
            raise ScenarioError(
                f"unknown road class {bad[0]!r}; expected some of {', '.join(HIGHWAY_CLASSES)}",
                field="profile.contraflow_classes",
            )
        if self.period is not None and self.period not in self.period_factors:
            raise ScenarioError(
                f"unknown period {self.period!r}; expected one of {', '.join(sorted(self.period_factors))}",
                field="profile.period",
            )

    # ------------------------------------------------------------------ arrays
    def class_speed_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(urban km/h, rural km/h, period factor) per class index."""
        urb = np.array([self.speeds_kmh[c][0] for c in HIGHWAY_CLASSES], dtype=np.float64)
        rur = np.array([self.speeds_kmh[c][1] for c in HIGHWAY_CLASSES], dtype=np.float64)
        facs = self.period_factors.get(self.period, {}) if self.period else {}
        fac = np.array([float(facs.get(c, 1.0)) for c in HIGHWAY_CLASSES], dtype=np.float64)
        return urb, rur, fac

    def edge_speeds(
        self, cls: np.ndarray, urban: np.ndarray, maxspeed: np.ndarray, emergency: np.ndarray | None = None
    ) -> np.ndarray:
        """Speed in km/h per edge, from class index, urban flag and ``maxspeed`` (km/h, NaN if absent).

        ``emergency`` flags emergency-only passages: capped at ``emergency_passage_kmh``, and 0 (not
        drivable) when the profile has no ``emergency_passages``."""
        urb, rur, fac = self.class_speed_arrays()
        v = np.where(urban, urb[cls], rur[cls])
        cap = np.where(np.isfinite(maxspeed), maxspeed * self.maxspeed_factor, np.inf)
        v = np.minimum(np.minimum(v, cap), self.vehicle_max_kmh)
        v = v * fac[cls] * self.speed_scale
        v = np.minimum(v, self.vehicle_max_kmh)
        if emergency is not None:
            emergency = np.asarray(emergency, dtype=bool)
            lim = self.emergency_passage_kmh * self.speed_scale if self.emergency_passages else 0.0
            v = np.where(emergency, np.minimum(v, lim), v)
        return v

    def edge_times(
        self,
        length_m: np.ndarray,
        cls: np.ndarray,
        urban: np.ndarray,
        maxspeed: np.ndarray,
        speed_factor: float = 1.0,
        emergency: np.ndarray | None = None,
        junction: np.ndarray | None = None,
    ) -> np.ndarray:
        """Traversal time in seconds per edge: ``length / (speed * speed_factor)``, plus the delay at
        its head node. ``junction`` per edge: True / False (a junction or not), or the delay codes of
        :meth:`~kazerne.routing.network.RoadNetwork.delay_codes` (0 none, 1 junction, 2 roundabout
        entry, 3 traffic signals); all edges end at a junction when it is not given. ``inf`` on an edge
        the profile may not drive (see :meth:`edge_speeds`)."""
        v = self.edge_speeds(cls, urban, maxspeed, emergency) * speed_factor / 3.6
        delay = self.delay_seconds(junction)
        with np.errstate(divide="ignore"):
            return np.where(v > 0, length_m / np.where(v > 0, v, 1.0), np.inf) + delay

    def delay_seconds(self, junction) -> np.ndarray | float:
        """Seconds of delay per edge from its head-node kind (see :meth:`edge_times`)."""
        if junction is None:
            return self.intersection_delay_s
        j = np.asarray(junction)
        if j.dtype == bool:
            return np.where(j, self.intersection_delay_s, 0.0)
        table = np.array([0.0, self.intersection_delay_s, self.roundabout_delay_s, self.signal_delay_s])
        return table[j.astype(np.int64)]

    def key(self) -> str:
        """A hash of every parameter: two profiles with equal keys give equal edge times."""
        d = asdict(self)
        d["speeds_kmh"] = {k: list(v) for k, v in sorted(self.speeds_kmh.items())}
        d["period_factors"] = {k: dict(sorted(v.items())) for k, v in sorted(self.period_factors.items())}
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def describe(self) -> dict:
        """JSON-ready description for reports."""
        return {
            "name": self.name,
            "period": self.period,
            "vehicle_max_kmh": self.vehicle_max_kmh,
            "maxspeed_factor": self.maxspeed_factor,
            "speed_scale": self.speed_scale,
            "intersection_delay_s": self.intersection_delay_s,
            "roundabout_delay_s": self.roundabout_delay_s,
            "signal_delay_s": self.signal_delay_s,
            "oneway_reverse_factor": self.oneway_reverse_factor,
            "contraflow_classes": list(self.contraflow_classes) if self.oneway_reverse_factor > 0 else [],
            "emergency_passages": self.emergency_passages,
            "unknown_direction_factor": self.unknown_direction_factor,
            "emergency_passage_kmh": self.emergency_passage_kmh if self.emergency_passages else None,
            "speeds_kmh_urban_rural": {k: list(v) for k, v in self.speeds_kmh.items()},
            "key": self.key(),
        }


PROFILES = {
    "fire_engine": SpeedProfile(
        "fire_engine",
        _FIRE,
        vehicle_max_kmh=90.0,
        maxspeed_factor=1.1,
        intersection_delay_s=2.0,
        roundabout_delay_s=4.0,
        signal_delay_s=5.0,
        oneway_reverse_factor=0.5,
        emergency_passages=True,
        emergency_passage_kmh=20.0,
    ),
    "ambulance": SpeedProfile(
        "ambulance",
        _AMBULANCE,
        vehicle_max_kmh=130.0,
        maxspeed_factor=1.2,
        intersection_delay_s=1.0,
        roundabout_delay_s=3.0,
        signal_delay_s=4.0,
        oneway_reverse_factor=0.5,
        emergency_passages=True,
        emergency_passage_kmh=25.0,
    ),
    "car": SpeedProfile(
        "car",
        _CAR,
        vehicle_max_kmh=120.0,
        maxspeed_factor=1.0,
        intersection_delay_s=4.0,
        roundabout_delay_s=6.0,
        signal_delay_s=15.0,
    ),
}


def get_profile(name: str, **overrides) -> SpeedProfile:
    """A named profile (``fire_engine``, ``ambulance``, ``car``), optionally with overrides; or the path
    of a profile file written by ``kazerne calibrate`` (``.json``, :class:`FactorProfile`)."""
    if isinstance(name, str) and name not in PROFILES and name.endswith(".json"):
        return load_profile_file(name, **overrides)
    if not isinstance(name, str) or name not in PROFILES:
        raise ScenarioError(f"unknown profile {name!r}; expected one of {', '.join(PROFILES)}", field="profile")
    prof = PROFILES[name]
    return prof.with_overrides(**overrides) if overrides else prof


def check_profile(profile, name: str = "profile") -> SpeedProfile:
    """A :class:`SpeedProfile`; a profile name (or a calibrated profile file) gives that profile."""
    if isinstance(profile, str):
        return get_profile(profile)
    if not isinstance(profile, SpeedProfile):
        raise ModelInputError(
            f'expected a SpeedProfile (kz.get_profile("fire_engine")) or its name, got {show(profile)}', field=name
        )
    return profile


def parse_maxspeed(value) -> float:
    """OSM ``maxspeed`` → km/h (NaN when absent or not understood). Lists give their minimum."""
    if value is None:
        return float("nan")
    if isinstance(value, (list, tuple)):
        vals = [parse_maxspeed(v) for v in value]
        vals = [v for v in vals if np.isfinite(v)]
        return min(vals) if vals else float("nan")
    s = str(value).strip().lower()
    if ";" in s:  # OSM multi-value "50;70": the lowest, like a list
        return parse_maxspeed([x for x in s.split(";") if x.strip()])
    named = {
        "be:urban": 50.0,
        "be-vlg:urban": 50.0,
        "be:rural": 90.0,
        "be-vlg:rural": 70.0,
        "be:motorway": 120.0,
        "be:zone30": 30.0,
        "be:living_street": 20.0,
        "walk": 6.0,
    }
    if s in named:
        return named[s]
    mph = s.endswith("mph")
    s = s.replace("mph", "").replace("km/h", "").strip()
    try:
        v = float(s)
    except ValueError:
        return float("nan")
    if v <= 0:
        return float("nan")
    return v * 1.609344 if mph else v


def classify_highway(value) -> int:
    """OSM ``highway`` (string or list) → class index; the slowest listed class wins."""
    if isinstance(value, (list, tuple)):
        idx = [classify_highway(v) for v in value]
        return max(idx) if idx else CLASS_INDEX["road"]
    return CLASS_INDEX.get(str(value), CLASS_INDEX["road"])


# ------------------------------------------------------------------ calibrated speeds (factor layer)
# Calibrated speeds: a layer of named multiplicative factors on top of a speed profile.
#
# A :class:`FactorProfile` drives like its base profile (every rule of :mod:`kazerne.routing.profiles`:
# class speeds, posted-limit caps, period factors, contraflow, emergency passages, junction delays) and
# then multiplies each edge's speed by a factor chosen by
#
# * the edge's **road-class group** (:data:`CLASS_GROUPS`: ``fast`` motorway / trunk, ``main`` primary /
#   secondary, ``local`` tertiary / unclassified / residential, ``minor`` living streets, service roads,
#   tracks, passages),
# * whether the network flags the edge **urban** or rural (``RoadNetwork.urban``, however the network
#   defines it), and
# * the **period** of the profile (``free`` for ``period = None``, ``rush_hour``, ``night``),
#
# and it may replace the junction delay (``intersection_delay_s``). The factors are named
# ``"<group>/<urban|rural>"`` per period; a factor not given is 1. The edge time is therefore::
#
#     length / (v_base * factor[period][group/urban]) + junction delay
#
# so a route's time is linear in the inverse factors and the delay, which is what
# :func:`kazerne.calibrate` fits. A factor may take a speed above the base profile's ``vehicle_max_kmh``:
# the records, not the default, decide.
#
# A profile file (JSON, written by ``kazerne calibrate``) holds the base profile's name, the factors, the
# delay and how they were obtained; ``kz.get_profile("calibrated-profile.json")`` and a scenario's
# ``[profile] file = "calibrated-profile.json"`` read it.

#: Road-class groups of the calibration layer (every class of HIGHWAY_CLASSES in exactly one).
CLASS_GROUPS = {
    "fast": ("motorway", "motorway_link", "trunk", "trunk_link"),
    "main": ("primary", "primary_link", "secondary", "secondary_link"),
    "local": ("tertiary", "tertiary_link", "unclassified", "road", "residential"),
    "minor": ("living_street", "service", "track", "pedestrian", "busway"),
}
GROUP_NAMES = tuple(CLASS_GROUPS)
#: Periods of the layer: ``free`` is the profile's ``period = None``.
PERIOD_NAMES = ("free", "rush_hour", "night")
#: Version of the profile file format.
FILE_VERSION = 1

_CLASS_GROUP = np.array(
    [next(i for i, g in enumerate(GROUP_NAMES) if c in CLASS_GROUPS[g]) for c in HIGHWAY_CLASSES], dtype=np.int64
)


def factor_names() -> list[str]:
    """``["fast/urban", "fast/rural", "main/urban", ...]``: the factor names of one period, in the
    order of :func:`group_index`."""
    return [f"{g}/{u}" for g in GROUP_NAMES for u in ("urban", "rural")]


def group_index(cls: np.ndarray, urban: np.ndarray) -> np.ndarray:
    """Per edge: the index of its factor in :func:`factor_names` (``2 * group + rural``)."""
    return 2 * _CLASS_GROUP[np.asarray(cls, dtype=np.int64)] + (~np.asarray(urban, dtype=bool)).astype(np.int64)


def period_name(period: str | None) -> str:
    return "free" if period in (None, "none", "free") else str(period)


@dataclass(frozen=True)
class FactorProfile(SpeedProfile):
    """A speed profile with calibrated factors (see the module docstring).

    Attributes
    ----------
    factors : dict
        ``{period: {"<group>/<urban|rural>": factor}}``; missing entries are 1.
    base : str
        The name of the profile the factors apply to (``fire_engine``, ``ambulance``, ``car``).
    source : str
        Where the factors come from (the profile file, or ``"calibrate"``).
    uncertainty : dict
        The calibration's standard errors (``drive_rel_se``: of the modelled driving time over the
        records; ``call_handling_median_se_s``; ``turnout_median_se_s`` per crew type), used for the
        intervals of the headlines (:mod:`kazerne.calibration.uncertainty`).
    """

    factors: dict = field(default_factory=dict, hash=False)
    base: str = ""
    source: str = ""
    uncertainty: dict = field(default_factory=dict, hash=False)  # standard errors of the calibration

    def factor_table(self) -> np.ndarray:
        """The factors of this profile's period, in the order of :func:`factor_names`."""
        row = self.factors.get(period_name(self.period), {})
        return np.array([float(row.get(n, 1.0)) for n in factor_names()], dtype=np.float64)

    def edge_speeds(self, cls, urban, maxspeed, emergency=None, *args, **kwargs):
        """The base profile's speeds times the factor of each edge's group, urban flag and period."""
        v = super().edge_speeds(cls, urban, maxspeed, emergency, *args, **kwargs)
        return v * self.factor_table()[group_index(cls, urban)]

    def validate(self) -> None:
        super().validate()
        if not isinstance(self.factors, dict):
            raise ScenarioError(f"expected a table per period, got {self.factors!r}", field="profile.factors")
        names = set(factor_names())
        for per, row in self.factors.items():
            if per not in PERIOD_NAMES or not isinstance(row, dict):
                raise ScenarioError(
                    f"expected periods {', '.join(PERIOD_NAMES)} with a table each, got {per!r}",
                    field="profile.factors",
                )
            for k, f in row.items():
                if k not in names:
                    raise ScenarioError(
                        f"unknown factor {k!r}; expected one of {', '.join(sorted(names))}",
                        field=f"profile.factors.{per}",
                    )
                if isinstance(f, bool) or not isinstance(f, (int, float)) or not math.isfinite(f) or not 0.1 <= f <= 10:
                    raise ScenarioError(
                        f"expected a factor from 0.1 to 10, got {f!r}", field=f"profile.factors.{per}.{k}"
                    )

    def describe(self) -> dict:
        d = super().describe()
        d.update({"base": self.base, "calibration_source": self.source, "factors": self.factors})
        return d


def with_factors(
    base: SpeedProfile,
    factors: dict,
    intersection_delay_s: float | None = None,
    source: str = "",
    uncertainty: dict | None = None,
):
    """``base`` (a plain or factor profile) with the given factors (and delay)."""
    kw = {k: getattr(base, k) for k in SpeedProfile.__dataclass_fields__}
    name = base.base if isinstance(base, FactorProfile) else base.name
    if intersection_delay_s is not None:
        kw["intersection_delay_s"] = float(intersection_delay_s)
    kw["name"] = f"{name} (calibrated)"
    out = FactorProfile(
        **kw,
        factors={p: dict(r) for p, r in factors.items()},
        base=name,
        source=source,
        uncertainty=dict(uncertainty or {}),
    )
    out.validate()
    return out


def profile_file_dict(profile: FactorProfile, provenance: dict | None = None) -> dict:
    """The JSON content of a profile file for ``profile``."""
    return {
        "kazerne_profile": FILE_VERSION,
        "base": profile.base,
        "intersection_delay_s": profile.intersection_delay_s,
        "factors": profile.factors,
        "note": (
            "speed factors per road-class group x urban/rural x period on top of the base profile's speeds, "
            "and the junction delay; read with kz.get_profile(path) or [profile] file = PATH"
        ),
        "uncertainty": profile.uncertainty,
        "class_groups": {g: list(c) for g, c in CLASS_GROUPS.items()},
        "provenance": provenance or {},
    }


def load_profile_file(path: str | Path, **overrides) -> FactorProfile:
    """Read a profile file (JSON written by ``kazerne calibrate``); one-line :class:`ScenarioError`
    naming the file and the field when it is not one."""
    p = Path(path)
    src = str(p)
    if not p.is_file():
        raise ScenarioError("no such profile file; expected a JSON file written by kazerne calibrate", source=src)
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ScenarioError(f"not a JSON profile file ({type(exc).__name__}: {exc})", source=src) from None
    if not isinstance(d, dict) or d.get("kazerne_profile") != FILE_VERSION:
        raise ScenarioError(
            f"expected kazerne_profile = {FILE_VERSION} (a file written by kazerne calibrate)", source=src
        )
    base = d.get("base")
    if base not in PROFILES:
        raise ScenarioError(
            f"unknown base profile {base!r}; expected one of {', '.join(PROFILES)}", source=src, field="base"
        )
    delay = d.get("intersection_delay_s")
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= 600:
        raise ScenarioError(f"expected seconds from 0 to 600, got {delay!r}", source=src, field="intersection_delay_s")
    try:
        unc = d.get("uncertainty") or {}
        if not isinstance(unc, dict):
            raise ScenarioError(f"expected a table, got {unc!r}", field="uncertainty")
        prof = with_factors(PROFILES[base], d.get("factors") or {}, delay, source=p.name, uncertainty=unc)
        return prof.with_overrides(**overrides) if overrides else prof
    except ScenarioError as exc:
        raise ScenarioError(exc.detail, source=src, field=exc.field) from None
    except TypeError as exc:
        raise ScenarioError(f"malformed factors ({exc})", source=src, field="factors") from None
