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
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ..errors import ScenarioError

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

    def with_overrides(self, **kw) -> "SpeedProfile":
        """A copy with fields replaced. ``speeds_kmh`` may be partial: ``{"primary": (50, 70)}`` or
        ``{"primary": 50}`` (both urban and rural)."""
        kw = dict(kw)
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
    """A named profile (``fire_engine``, ``ambulance``, ``car``), optionally with overrides."""
    if name not in PROFILES:
        raise ScenarioError(f"unknown profile {name!r}; expected one of {', '.join(PROFILES)}", field="profile")
    prof = PROFILES[name]
    return prof.with_overrides(**overrides) if overrides else prof


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
