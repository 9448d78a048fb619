"""Calibrated speeds: a layer of named multiplicative factors on top of a speed profile.

A :class:`FactorProfile` drives like its base profile (every rule of :mod:`kazerne.routing.profiles`:
class speeds, posted-limit caps, period factors, contraflow, emergency passages, junction delays) and
then multiplies each edge's speed by a factor chosen by

* the edge's **road-class group** (:data:`CLASS_GROUPS`: ``fast`` motorway / trunk, ``main`` primary /
  secondary, ``local`` tertiary / unclassified / residential, ``minor`` living streets, service roads,
  tracks, passages),
* whether the network flags the edge **urban** or rural (``RoadNetwork.urban``, however the network
  defines it), and
* the **period** of the profile (``free`` for ``period = None``, ``rush_hour``, ``night``),

and it may replace the junction delay (``intersection_delay_s``). The factors are named
``"<group>/<urban|rural>"`` per period; a factor not given is 1. The edge time is therefore::

    length / (v_base * factor[period][group/urban]) + junction delay

so a route's time is linear in the inverse factors and the delay, which is what
:func:`kazerne.calibrate` fits. A factor may take a speed above the base profile's ``vehicle_max_kmh``:
the records, not the default, decide.

A profile file (JSON, written by ``kazerne calibrate``) holds the base profile's name, the factors, the
delay and how they were obtained; ``kz.get_profile("calibrated-profile.json")`` and a scenario's
``[profile] file = "calibrated-profile.json"`` read it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ScenarioError
from .profiles import HIGHWAY_CLASSES, PROFILES, SpeedProfile

__all__ = [
    "CLASS_GROUPS",
    "FactorProfile",
    "GROUP_NAMES",
    "PERIOD_NAMES",
    "factor_names",
    "group_index",
    "load_profile_file",
    "profile_file_dict",
]

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
