"""The ``[ems]`` section: fields, kinds and limits, validated once into an :class:`EmsSection`.

The EMS run kind (:mod:`kazerne.scenarios.ems`) calls :func:`parse_ems` from its ``parse``; every
problem is one :class:`~kazerne.errors.ScenarioError` line naming the file and the field.
"""

from __future__ import annotations

from ..routing.profiles import PROFILES
from .schema_check import MAX_SITES, MAX_THRESHOLD_MIN, MAX_TIME_LIMIT_S, MAX_TURNOUT_S, Validator, position
from .sections import DEFAULT_EMS_TURNOUT_S, EmsBase, EmsSection, EmsSimulate, EmsUnit

__all__ = ["EMS_KEYS", "EMS_KINDS", "EMS_MODELS", "EMS_UNIT_TYPES", "MAX_EMS_UNITS", "parse_ems"]

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
EMS_KINDS = ("ems-evaluate", "ems-place", "pit-add")
#: Placement models of ems-place / pit-add and their names in reports.
EMS_MODELS = ("mexclp", "malp", "malp2")
EMS_UNIT_TYPES = ("ambulance", "pit", "mug")
EMS_UNIT_KEYS = {"base", "count"}
EMS_BASE_KEYS = {"id", "name", "lat", "lon", "street", "municipality"}
#: Most EMS units of one type: the hypercube approximation's correction factors (busy fraction
#: to the power N) underflow beyond, and its matrices grow with demand points x units.
MAX_EMS_UNITS = 100


def parse_ems(v: Validator, raw) -> EmsSection:
    """The validated ``[ems]`` table, defaults (:class:`EmsSection`) filled in."""
    v.table(raw, "ems", EMS_KEYS)
    if "kind" not in raw:
        v.fail("ems.kind", f"missing (required); expected one of {', '.join(EMS_KINDS)}")
    d = EmsSection(kind="ems-evaluate")
    kind = v.choice(raw["kind"], "ems.kind", EMS_KINDS)
    unit = v.choice(raw.get("unit", d.unit), "ems.unit", EMS_UNIT_TYPES)
    fields = _numbers(v, raw, d, unit)
    profile = v.choice(raw["profile"], "ems.profile", tuple(PROFILES)) if "profile" in raw else None
    model = v.choice(raw.get("model", d.model), "ems.model", EMS_MODELS)
    _check_rate(v, fields)
    units = _units(v, raw)
    n_units = _unit_count(v, raw, kind, units)
    capacity = (
        v.integer(raw["capacity_per_base"], "ems.capacity_per_base", 1, MAX_EMS_UNITS)
        if "capacity_per_base" in raw
        else None
    )
    n_total = n_units if n_units is not None else sum(u.count for u in units) + (1 if kind == "pit-add" else 0)
    _check_load(v, fields["calls_per_year"], fields["mission_minutes"], n_total)
    return EmsSection(
        kind=kind,
        unit=unit,
        profile=profile,
        model=model,
        units=units,
        n_units=n_units,
        capacity_per_base=capacity,
        bases=_bases(v, raw),
        simulate=_simulate(v, raw.get("simulate", True)),
        **fields,
    )


def _numbers(v: Validator, raw: dict, d: EmsSection, unit: str) -> dict:
    out = {
        "threshold": v.number(
            raw.get("threshold", d.threshold), "ems.threshold", lo=0, lo_open=True, hi=MAX_THRESHOLD_MIN
        ),
        "norm_share": v.number(raw.get("norm_share", d.norm_share), "ems.norm_share", lo=0, lo_open=True, hi=1.0),
        "calls_per_year": v.number(raw["calls_per_year"], "ems.calls_per_year", lo=0, lo_open=True, hi=1e8)
        if "calls_per_year" in raw
        else None,
        "mission_minutes": v.number(
            raw.get("mission_minutes", d.mission_minutes), "ems.mission_minutes", lo=0, lo_open=True, hi=1440
        ),
        "busy_fraction": v.number(raw["busy_fraction"], "ems.busy_fraction", lo=0, hi=0.99)
        if "busy_fraction" in raw
        else None,
        "turnout_s": v.number(
            raw.get("turnout_s", DEFAULT_EMS_TURNOUT_S[unit]), "ems.turnout_s", lo=0, hi=MAX_TURNOUT_S
        ),
        "time_limit_s": v.number(
            raw.get("time_limit_s", d.time_limit_s), "ems.time_limit_s", lo=0, lo_open=True, hi=MAX_TIME_LIMIT_S
        ),
        "reliability": v.number(raw.get("reliability", d.reliability), "ems.reliability", lo=0, lo_open=True, hi=0.999),
    }
    return out


def _check_rate(v: Validator, out: dict) -> None:
    if out["calls_per_year"] is None and out["busy_fraction"] is None:
        v.fail("ems.calls_per_year", "give calls_per_year (with mission_minutes) or a system-wide busy_fraction")
    if out["calls_per_year"] is not None and out["busy_fraction"] is not None:
        v.fail(
            "ems.busy_fraction",
            "give either calls_per_year (with mission_minutes) or a system-wide busy_fraction, not both",
        )


def _units(v: Validator, raw: dict) -> tuple:
    units = []
    for k, u in enumerate(v.tables(raw.get("units", []), "ems.units", EMS_UNIT_KEYS, limit=MAX_EMS_UNITS)):
        fld = f"ems.units[{k}]"
        if "base" not in u:
            v.fail(f"{fld}.base", "missing (required): the id of the base")
        units.append(
            EmsUnit(
                base=v.string(u["base"], f"{fld}.base"),
                count=v.integer(u.get("count", 1), f"{fld}.count", 1, MAX_EMS_UNITS),
            )
        )
    return tuple(units)


def _unit_count(v: Validator, raw: dict, kind: str, units: tuple) -> int | None:
    """``n_units`` of an ems-place study (None for the others); the total within the limit."""
    if kind in ("ems-evaluate", "pit-add") and not units:
        v.fail("ems.units", 'list today\'s units as [[ems.units]] base = "H01", count = 1')
    if kind == "ems-place":
        if "n_units" not in raw:
            v.fail(
                "ems.n_units", f"missing (required for ems-place); expected a whole number from 1 to {MAX_EMS_UNITS}"
            )
        return v.integer(raw["n_units"], "ems.n_units", 1, MAX_EMS_UNITS)
    if "n_units" in raw:
        v.fail("ems.n_units", f'only for kind = "ems-place"; {kind} counts [[ems.units]]')
    n_total = sum(u.count for u in units) + (1 if kind == "pit-add" else 0)
    if n_total > MAX_EMS_UNITS:
        v.fail(
            "ems.units",
            f"{n_total} units; at most {MAX_EMS_UNITS} units of one type are supported (the hypercube "
            f"approximation of busy units)",
        )
    return None


def _check_load(v: Validator, calls, mission_minutes: float, n_total: int) -> None:
    if calls is None:
        return
    load = calls * mission_minutes / 60.0 / 8760.0  # units busy on average
    if load >= n_total:
        v.fail(
            "ems.calls_per_year",
            f"{calls:g} calls/year x {mission_minutes:g} min keep "
            f"{load:.2f} units busy on average, but there are {n_total}: the queue "
            f"grows without bound; expected fewer calls or shorter missions, or more "
            f"units",
        )


def _bases(v: Validator, raw: dict) -> tuple:
    bases: list = []
    for k, b in enumerate(v.tables(raw.get("bases", []), "ems.bases", EMS_BASE_KEYS, limit=MAX_SITES)):
        fld = f"ems.bases[{k}]"
        if "id" not in b:
            v.fail(f"{fld}.id", "missing (required)")
        bid = v.string(b["id"], f"{fld}.id")
        pos = position(v, b, fld)
        if any(o.id == bid for o in bases):
            v.fail(f"{fld}.id", f"duplicate base id {bid!r} (an earlier [[ems.bases]] entry has it)")
        if "lat" not in pos and "street" not in pos:
            v.fail(fld, "a base needs lat/lon or street")
        name = v.string(b["name"], f"{fld}.name") if "name" in b else None
        bases.append(EmsBase(id=bid, name=name, **pos))
    return tuple(bases)


def _simulate(v: Validator, raw) -> EmsSimulate | None:
    """``[ems] simulate``: true (the defaults), false (analytical only) or a table of
    replications, days, seed and candidates (how many placements of a pit-add study)."""
    if isinstance(raw, bool):
        return EmsSimulate() if raw else None
    v.table(raw, "ems.simulate", EMS_SIMULATE_KEYS)
    d = EmsSimulate()
    return EmsSimulate(
        replications=v.integer(raw.get("replications", d.replications), "ems.simulate.replications", 2, 1000),
        days=v.number(raw.get("days", d.days), "ems.simulate.days", lo=0, lo_open=True, hi=3660),
        seed=v.integer(raw.get("seed", d.seed), "ems.simulate.seed", 0, 2**63 - 1),
        candidates=v.integer(raw.get("candidates", d.candidates), "ems.simulate.candidates", 1, 20),
    )
