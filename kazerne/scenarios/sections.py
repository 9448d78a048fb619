"""The scenario's sections as typed, frozen values: every default in one place (the dataclass).

The schema (:mod:`kazerne.scenarios.schema`) validates each TOML table once and builds these; the
runner, the run kinds and the report writers read attributes (``sc.demand.max_snap_m``,
``sc.outputs.map``, ``sc.fleet.engine``), never a dict with a default repeated where it is read.
A scenario built in Python without a file gets the same defaults as an empty TOML table.

Each section also reads like a small read-only mapping (``"file" in sc.demand``,
``sc.profile["name"]``, ``dict(sc.profile)``: a field is *in* the section, and among its keys, when
it is not ``None``; ``section[field]`` gives any field, ``None`` included),
so code that still indexes the old dicts keeps working while it moves to attributes. Change a
section with :func:`dataclasses.replace`, never in place.

Column names of coverage tables come from one function, :func:`kazerne.coverage.metrics.share_key`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..response import DEFAULT_CALL_HANDLING_S

__all__ = [
    "DemandSection",
    "EmsBase",
    "EmsSection",
    "EmsSimulate",
    "EmsUnit",
    "FleetSection",
    "OutputsSection",
    "ProfileSection",
    "ResponseSection",
    "SectionView",
]


class SectionView:
    """Read-only mapping access to a frozen section: the fields that are not ``None``."""

    def keys(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self) if getattr(self, f.name) is not None]  # type: ignore[arg-type]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.keys()

    def __getitem__(self, key: str) -> Any:
        if not any(f.name == key for f in dataclasses.fields(self)):  # type: ignore[arg-type]
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in self else default

    def items(self) -> list[tuple[str, Any]]:
        return [(k, getattr(self, k)) for k in self.keys()]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())


@dataclass(frozen=True)
class ProfileSection(SectionView):
    """``[profile]``: the speed profile (a name, or a calibrated profile file's path) and its
    overrides (``None``: the profile's own value)."""

    name: str = "fire_engine"
    period: str | None = None
    speed_scale: float | None = None
    maxspeed_factor: float | None = None
    vehicle_max_kmh: float | None = None
    oneway_reverse_factor: float | None = None
    intersection_delay_s: float | None = None
    roundabout_delay_s: float | None = None
    signal_delay_s: float | None = None
    contraflow_classes: tuple | None = None
    unknown_direction_factor: float | None = None
    emergency_passages: bool | None = None
    emergency_passage_kmh: float | None = None
    speeds_kmh: Mapping | None = None

    def overrides(self) -> dict:
        """The given overrides as keyword arguments of :func:`kazerne.routing.profiles.get_profile`."""
        return {k: v for k, v in self.items() if k != "name"}


@dataclass(frozen=True)
class DemandSection(SectionView):
    """``[demand]``: where the demand comes from (a population grid, a file of points, or dispatch
    records) and how far a point may be from a road. ``grid_m`` is ``None`` when a file replaces the grid."""

    max_snap_m: float = 500.0
    grid_m: float | None = 250.0
    file: str | None = None
    incidents: str | None = None
    road_classes: tuple | None = None
    density_exponent: float | None = None
    density_radius_m: float | None = None
    max_density_km2: float | None = None

    @property
    def field(self) -> str:
        """The scenario field that names the demand's source (for error lines)."""
        return "demand.incidents" if self.incidents else "demand.file" if self.file else "demand.grid_m"

    def grid_options(self) -> dict:
        """The population grid's optional settings, as keyword arguments of ``population_grid``."""
        keys = ("road_classes", "density_exponent", "density_radius_m", "max_density_km2")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


@dataclass(frozen=True)
class OutputsSection(SectionView):
    """``[outputs]``: which layers, maps and reports a run writes."""

    geojson: bool = True
    first_due_areas: bool = True
    isochrones: bool = False
    map: bool = True
    report: bool = True
    gpkg: bool = True
    gpkg_epsg: int = 31370

    def report_options(self) -> dict:
        """What the report writers are asked for (maps, report.html, layers.gpkg and its CRS)."""
        return {"maps": self.map, "report": self.report, "gpkg": self.gpkg, "epsg": int(self.gpkg_epsg)}

    def lean(self, geojson: bool = False, first_due_areas: bool = False) -> OutputsSection:
        """The switches of a batch run: no maps, report or GeoPackage; the GeoJSON layers only if asked."""
        return dataclasses.replace(
            self, map=False, report=False, gpkg=False, geojson=geojson, first_due_areas=first_due_areas
        )


def _default_types() -> dict:
    from ..coverage.fleet import DEFAULT_VEHICLE_TYPES

    return dict(DEFAULT_VEHICLE_TYPES)


def _default_crew() -> dict:
    from ..coverage.fleet import DEFAULT_CREW_PER_TURNOUT

    return dict(DEFAULT_CREW_PER_TURNOUT)


@dataclass(frozen=True)
class FleetSection(SectionView):
    """``[vehicles]``, ``[posts.vehicles]`` and ``[[posts.neighbours]]``: vehicle types, crews,
    adequate responses, which post holds which vehicles (a post not listed: one engine) and the
    posts of neighbouring zones. ``declared``: the scenario gives any of them (else a run equals today's)."""

    types: Mapping = field(default_factory=_default_types)
    engine: str = "AP"
    full_crew: int = 6
    crew: Mapping = field(default_factory=_default_crew)
    crew_by_post: Mapping = field(default_factory=dict)
    responses: Mapping = field(default_factory=dict)
    vehicles: Mapping = field(default_factory=dict)
    neighbours: tuple = ()
    declared: bool = False


@dataclass(frozen=True)
class ResponseSection(SectionView):
    """``[response]``: call handling (s, every time counts from the 112 call; 0 = from the alarm),
    the turnout model and turnout distributions per crew type and per post
    (:class:`kazerne.response.TurnoutDist`)."""

    call_handling_s: float = DEFAULT_CALL_HANDLING_S
    turnout_model: str = "deterministic"
    turnout: Mapping = field(default_factory=dict)
    posts: Mapping = field(default_factory=dict)

    @property
    def tables(self) -> bool:
        """Turnout distributions are given (per crew or per post)."""
        return bool(self.turnout or self.posts)


@dataclass(frozen=True)
class EmsUnit(SectionView):
    """An ``[[ems.units]]`` entry: a base id and how many units stand there."""

    base: str
    count: int = 1


@dataclass(frozen=True)
class EmsBase(SectionView):
    """An ``[[ems.bases]]`` entry: an id and a position (lat/lon or street)."""

    id: str
    name: str | None = None
    lat: float | None = None
    lon: float | None = None
    street: str | None = None
    municipality: str | None = None


@dataclass(frozen=True)
class EmsSimulate(SectionView):
    """``[ems] simulate``: the study's placements through the dispatch simulation too."""

    replications: int = 10
    days: float = 365.0
    seed: int = 2026
    candidates: int = 3


#: Default turnout (s) of an EMS unit by type.
DEFAULT_EMS_TURNOUT_S = {"ambulance": 120.0, "pit": 120.0, "mug": 120.0}


@dataclass(frozen=True)
class EmsSection(SectionView):
    """``[ems]``: an EMS study (``ems-evaluate``, ``ems-place``, ``pit-add``). ``None`` for absent
    optional numbers (``calls_per_year`` or ``busy_fraction`` is given, not both); ``turnout_s`` is
    the unit type's default unless given."""

    kind: str
    unit: str = "ambulance"
    threshold: float = 15.0
    norm_share: float = 0.9
    calls_per_year: float | None = None
    mission_minutes: float = 60.0
    busy_fraction: float | None = None
    turnout_s: float = 120.0
    time_limit_s: float = 120.0
    profile: str | None = None
    model: str = "mexclp"
    reliability: float = 0.9
    simulate: EmsSimulate | None = field(default_factory=EmsSimulate)
    units: tuple = ()
    n_units: int | None = None
    capacity_per_base: int | None = None
    bases: tuple = ()

    def described(self) -> dict:
        """The study's settings as its summary shows them (without units and bases)."""
        out = {k: v for k, v in self.items() if k not in ("units", "bases", "simulate")}
        out["simulate"] = dataclasses.asdict(self.simulate) if self.simulate is not None else None
        for k in ("calls_per_year", "busy_fraction"):
            out.setdefault(k, None)
        return out
