"""Discrete-event simulation of 112 ambulance and PIT dispatch: what the norm measures, as it happens.

The analytical EMS models (MEXCLP, MALP, the hypercube) assume the nearest free unit is sent, busy
times independent of place, no transport and no way back. :func:`simulate` plays a period of calls
(default a year, after a one-day warm-up) instead, ``replications`` times with independent random
streams (``numpy.random.SeedSequence(seed).spawn``), on an :class:`EmsSystem` (units, bases,
hospitals and the precomputed travel-time matrices, :func:`kazerne.coverage.simbuild.ems_system`):

* **calls**: Poisson by hour of the week, ``rate(h) = calls_per_year / 8760 x hourly[h]`` (the shape
  has mean 1), placed on the demand points in proportion to their weight (population, or incident
  records); a priority per call with the stated shares (:class:`CallModel`);
* **dispatch** at the call + call handling, of the nearest free unit of each type the priority
  needs (by travel time, from the base or from where a returning unit is), units of every listed
  base (neighbouring zones' too); ambulances wait in a queue when none is free (highest priority
  first), a PIT that is not free is not sent;
* **missions**: turnout (only from the base; drawn from :class:`kazerne.response.TurnoutDist`) +
  driving, on scene, for an ambulance with probability ``transport_share`` the drive to the nearest
  emergency department and the handover, then the drive back to the base, during which the unit
  can be sent again (see :mod:`kazerne.coverage._simloop` for the position on the way);
* or, with ``exponential_service_s``, the hypercube's assumptions: the unit is busy an exponential
  time from its dispatch and then at its base (the validation mode).

Travel times are looked up in the system's matrices for the call's speed period; nothing is routed
during the simulation. Results (:class:`SimResult`) are per municipality and zone with a 95 %
confidence interval over the replications (Student t).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..clock import DEFAULT_CALL_HANDLING_S, DEFAULT_TURNOUT_DIST
from ..errors import ModelInputError
from ..response import TurnoutDist

__all__ = [
    "TYPE_NAMES",
    "DEFAULT_HOURLY_SHAPE",
    "DEFAULT_PRIORITIES",
    "Priority",
    "CallModel",
    "EmsSystem",
    "SimResult",
    "simulate",
    "replay",
]

#: Unit types, in the order of the matrices' type index.
TYPE_NAMES = ("ambulance", "pit")
SECONDS_PER_DAY = 86400.0
SECONDS_PER_YEAR = 365.0 * SECONDS_PER_DAY
#: Relative call intensity by hour of the day (mean 1): a typical ambulance demand curve (lowest at
#: 04-06 h at ~40 % of the mean, highest late morning at ~135 %, a plateau through the afternoon), the
#: shape reported for Belgian and Dutch ambulance services; a stated assumption, not the zone's data
#: (incident records replace it with their own hour-of-week counts).
DEFAULT_HOURLY_SHAPE = np.array(
    [0.70, 0.60, 0.52, 0.46, 0.42, 0.42, 0.52, 0.78, 1.05, 1.25, 1.35, 1.35,
     1.30, 1.25, 1.22, 1.20, 1.20, 1.22, 1.20, 1.12, 1.05, 0.98, 0.90, 0.79]
)  # fmt: skip
DEFAULT_HOURLY_SHAPE = DEFAULT_HOURLY_SHAPE / DEFAULT_HOURLY_SHAPE.mean()


@dataclass(frozen=True)
class Priority:
    """A call priority: its share of the calls and the unit types sent (``"ambulance"``, ``"pit"``).
    Priorities are ranked in the order given (the first is the highest) when calls wait."""

    name: str
    share: float
    units: tuple = ("ambulance",)

    def __post_init__(self):
        from ..checks import check_fields, check_number

        check_fields(self)
        check_number(self.share, "Priority.share", lo=0, hi=1)
        if not self.units or any(u not in TYPE_NAMES for u in self.units):
            raise ModelInputError(
                f"expected unit types from {', '.join(TYPE_NAMES)}, got {self.units!r}", field="Priority.units"
            )
        object.__setattr__(self, "units", tuple(self.units))


#: Default priorities (estimates, not the zone's figures): a quarter of the calls life-threatening
#: (PIT and ambulance together), half urgent, a quarter not urgent (ambulance alone).
DEFAULT_PRIORITIES = (
    Priority("P1", 0.25, ("ambulance", "pit")),
    Priority("P2", 0.50, ("ambulance",)),
    Priority("P3", 0.25, ("ambulance",)),
)


def _indices(v, fld: str) -> np.ndarray:
    """``v`` as a 1-D int64 array of whole numbers (one line naming ``fld`` otherwise)."""
    from ..checks import check_array

    a = check_array(np.atleast_1d(v) if np.ndim(v) == 0 and not isinstance(v, str) else v, fld, ndim=1, dtype=None)
    if a.size and a.dtype.kind == "f" and not np.all(a == np.round(a)):
        raise ModelInputError("expected whole numbers (indices)", field=fld)
    return a.astype(np.int64)


def _num(v, fld, lo=None, lo_open=False, hi=None) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ModelInputError(f"expected a number, got {v!r}", field=fld) from None
    if not math.isfinite(x) or (lo is not None and (x < lo or (lo_open and x == lo))) or (hi is not None and x > hi):
        rng = (f" {'>' if lo_open else '>='} {lo:g}" if lo is not None else "") + (
            f" and <= {hi:g}" if hi is not None else ""
        )
        raise ModelInputError(f"expected a finite number{rng}, got {v!r}", field=fld)
    return x


@dataclass(frozen=True)
class CallModel:
    """The calls and the missions they make (all times in seconds).

    Parameters
    ----------
    calls_per_year : float, optional
        Calls per year from the demand; default ``rate_per_1000 x`` the demand's weight / 1000.
    rate_per_1000 : float
        Ambulance interventions per 1,000 inhabitants per year (Flanders 2020: 35).
    hourly : array of 24 or 168 floats
        Relative intensity by hour of the day or of the week (Monday 00-01 h first); rescaled to mean 1.
    priorities : tuple of :class:`Priority`
    onscene, handover : TurnoutDist
        Time on scene (each unit, from its own arrival) and the handover at the emergency department.
    transport_share : float
        Share of the calls whose ambulance takes the patient to the nearest emergency department.
    exponential_service_s : float, optional
        The hypercube's assumptions instead of the mission phases: busy an exponential time of this
        mean from the dispatch, then at the base.
    queue : bool
        True: ambulances wait for a free unit (a PIT is never waited for); False: a call finding no
        free unit of a type is lost for that type (a loss system).
    threshold_s, norm_share : float
        The norm: on scene within 15 min of the call for 90 % of the calls.
    """

    calls_per_year: float | None = None
    rate_per_1000: float = 35.0
    hourly: Any = None
    priorities: tuple = DEFAULT_PRIORITIES
    onscene: TurnoutDist = TurnoutDist(900.0, 1800.0, 180.0)
    transport_share: float = 0.7
    handover: TurnoutDist = TurnoutDist(900.0, 1800.0, 300.0)
    exponential_service_s: float | None = None
    queue: bool = True
    threshold_s: float = 900.0
    norm_share: float = 0.9

    def __post_init__(self):
        from ..checks import check_array, check_instance

        check_instance(self.onscene, TurnoutDist, "onscene", "a TurnoutDist")
        check_instance(self.handover, TurnoutDist, "handover", "a TurnoutDist")
        check_instance(self.priorities, (tuple, list), "priorities", "a tuple of Priority")
        for i, p in enumerate(self.priorities):
            check_instance(p, Priority, f"priorities[{i}]", "a Priority")
        if self.hourly is not None:
            check_array(self.hourly, "hourly", ndim=1)
        if self.calls_per_year is not None:
            _num(self.calls_per_year, "calls_per_year", 0, True, 1e8)
        _num(self.rate_per_1000, "rate_per_1000", 0, True, 1e4)
        _num(self.transport_share, "transport_share", 0, False, 1)
        _num(self.threshold_s, "threshold_s", 0, True, 86400)
        _num(self.norm_share, "norm_share", 0, True, 1)
        if self.exponential_service_s is not None:
            _num(self.exponential_service_s, "exponential_service_s", 0, True, 1e7)
        h = DEFAULT_HOURLY_SHAPE if self.hourly is None else np.asarray(self.hourly, dtype=float)
        if h.shape not in ((24,), (168,)) or not np.all(np.isfinite(h)) or (h < 0).any() or h.sum() <= 0:
            raise ModelInputError("expected 24 or 168 non-negative intensities, not all 0", field="hourly")
        object.__setattr__(self, "hourly", np.tile(h, 7 if h.size == 24 else 1) / h.mean())
        if not self.priorities:
            raise ModelInputError("expected at least one priority", field="priorities")
        for i, p in enumerate(self.priorities):
            _num(p.share, f"priorities[{i}].share", 0, False, 1)
            if not p.units or any(u not in TYPE_NAMES for u in p.units):
                raise ModelInputError(
                    f"expected unit types from {', '.join(TYPE_NAMES)}, got {p.units!r}", field=f"priorities[{i}].units"
                )
        tot = sum(p.share for p in self.priorities)
        if abs(tot - 1.0) > 1e-6:
            raise ModelInputError(f"the priorities' shares sum to {tot:g}; expected 1", field="priorities")

    def describe(self) -> dict:
        return {
            "calls_per_year": self.calls_per_year,
            "rate_per_1000_inhabitants_per_year": None if self.calls_per_year is not None else self.rate_per_1000,
            "arrivals": "Poisson by hour of the week (rate x relative intensity of the hour, mean 1)",
            "hourly_intensity_by_hour_of_day_monday": [round(float(x), 3) for x in self.hourly[:24]],
            "priorities": [{"name": p.name, "share": p.share, "units": list(p.units)} for p in self.priorities],
            "onscene": self.onscene.describe(),
            "transport_share": self.transport_share,
            "handover": self.handover.describe(),
            "exponential_service_s": self.exponential_service_s,
            "queue": "ambulances wait for the next free unit (highest priority first); a PIT is sent only when free"
            if self.queue
            else "loss system: a call finding no free unit of a type is lost for that type",
            "norm": f"on scene within {self.threshold_s / 60:g} min of the call for {100 * self.norm_share:g} % of calls",
        }


@dataclass
class EmsSystem:
    """Units, bases, hospitals and travel times: everything the event loop looks up.

    Matrices are driving times in seconds (no turnout, no call handling) per speed period ``p``:
    ``fwd_bd[p, b, d]`` base -> demand point, ``rev_bd`` demand point -> base, ``fwd_hd`` / ``rev_hd``
    hospital <-> demand point, ``hb[p, h, b]`` hospital -> base. ``period_of_hour`` (168) gives the
    period of each hour of the week. Build it from a zone with
    :func:`kazerne.coverage.simbuild.ems_system` or from matrices with :meth:`from_matrices`.
    """

    base_ids: list
    base_names: list
    unit_base: np.ndarray  # (U,) base index
    unit_type: np.ndarray  # (U,) index into TYPE_NAMES
    unit_labels: list
    weights: np.ndarray  # (D,) demand weight
    municipality: np.ndarray  # (D,) index into municipality_names
    municipality_names: list
    fwd_bd: np.ndarray
    rev_bd: np.ndarray
    fwd_hd: np.ndarray
    rev_hd: np.ndarray
    hb: np.ndarray
    period_names: list
    period_of_hour: np.ndarray
    turnout: tuple = (DEFAULT_TURNOUT_DIST["professional"], DEFAULT_TURNOUT_DIST["professional"])
    call_handling_s: float = DEFAULT_CALL_HANDLING_S
    hospital_ids: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        from ..checks import check_array, check_fields

        check_fields(self)
        self.unit_base = _indices(self.unit_base, "unit_base")
        self.unit_type = _indices(self.unit_type, "unit_type")
        if self.unit_base.size == 0:
            raise ModelInputError("no units: expected at least one ambulance or PIT", field="units")
        nb = len(self.base_ids)
        if self.unit_base.min() < 0 or self.unit_base.max() >= nb or self.unit_type.shape != self.unit_base.shape:
            raise ModelInputError(f"expected base indices 0..{nb - 1} and a type per unit", field="units")
        if not np.isin(self.unit_type, np.arange(len(TYPE_NAMES))).all():
            raise ModelInputError(f"expected type indices 0..{len(TYPE_NAMES) - 1}", field="units")
        self.weights = check_array(self.weights, "weights", ndim=1)
        if self.weights.ndim != 1 or not np.all(np.isfinite(self.weights)) or (self.weights < 0).any():
            raise ModelInputError("expected finite non-negative weights, one per demand point", field="weights")
        if not self.weights.sum() > 0:
            raise ModelInputError("all demand weights are zero; expected a positive total", field="weights")
        n_p, n_d = len(self.period_names), self.weights.size
        for name in ("fwd_bd", "rev_bd"):
            a = check_array(getattr(self, name), name, allow_nan=True)
            if a.shape != (n_p, nb, n_d) or np.isnan(a).any() or (a < 0).any():
                raise ModelInputError(f"expected {(n_p, nb, n_d)} seconds >= 0 (inf = no route)", field=name)
            setattr(self, name, a)
        n_h = np.asarray(self.fwd_hd).shape[1] if np.ndim(self.fwd_hd) == 3 else 0
        for name, shape in (("fwd_hd", (n_p, n_h, n_d)), ("rev_hd", (n_p, n_h, n_d)), ("hb", (n_p, n_h, nb))):
            a = check_array(getattr(self, name), name, allow_nan=True)
            if a.shape != shape or np.isnan(a).any() or (a < 0).any():
                raise ModelInputError(f"expected {shape} seconds >= 0", field=name)
            setattr(self, name, a)
        self.period_of_hour = _indices(self.period_of_hour, "period_of_hour")
        if self.period_of_hour.shape != (168,) or self.period_of_hour.min() < 0 or self.period_of_hour.max() >= n_p:
            raise ModelInputError(f"expected 168 period indices 0..{n_p - 1}", field="period_of_hour")
        self.municipality = _indices(self.municipality, "municipality")

    @classmethod
    def from_matrices(
        cls,
        drive,
        weights,
        unit_base,
        unit_type=None,
        *,
        reverse=None,
        hospital_drive=None,
        hospital_reverse=None,
        hospital_to_base=None,
        turnout=None,
        call_handling_s: float = 0.0,
        municipality=None,
        municipality_names=None,
        base_ids=None,
    ) -> "EmsSystem":
        """One speed period from plain matrices (seconds): ``drive`` (bases x demand), optional
        ``reverse`` (bases x demand, demand -> base; default ``drive``: the same both ways),
        hospitals (``hospital_drive`` hospitals x demand, ``hospital_reverse``, ``hospital_to_base``
        hospitals x bases). ``turnout`` defaults to none (0 s) and call handling to 0: with
        ``exponential_service_s`` this is exactly the hypercube's system with ``cost = drive``."""
        from ..checks import check_array

        drive = check_array(drive, "drive", allow_nan=True)
        if drive.ndim != 2:
            raise ModelInputError(f"expected a 2-D (bases, demand) array, got shape {drive.shape}", field="drive")
        nb, nd = drive.shape
        ub = np.asarray(unit_base)
        ut = np.zeros(ub.shape, np.int64) if unit_type is None else np.asarray(unit_type)
        hd = np.zeros((0, nd)) if hospital_drive is None else check_array(hospital_drive, "hospital_drive", ndim=2)
        hr = hd if hospital_reverse is None else check_array(hospital_reverse, "hospital_reverse", ndim=2)
        hb = (
            np.zeros((hd.shape[0], nb))
            if hospital_to_base is None
            else check_array(hospital_to_base, "hospital_to_base", ndim=2)
        )
        if reverse is not None:
            reverse = check_array(reverse, "reverse", ndim=2, allow_nan=True)
        if turnout is not None:
            from ..checks import check_instance

            check_instance(turnout, TurnoutDist, "turnout", "a TurnoutDist")
        zero = TurnoutDist(0.0)
        return cls(
            base_ids=list(base_ids) if base_ids is not None else [str(i) for i in range(nb)],
            base_names=list(base_ids) if base_ids is not None else [str(i) for i in range(nb)],
            unit_base=ub,
            unit_type=ut,
            unit_labels=[f"unit {i}" for i in range(ub.size)],
            weights=weights,
            municipality=np.zeros(nd, np.int64) if municipality is None else municipality,
            municipality_names=list(municipality_names) if municipality_names is not None else ["all"],
            fwd_bd=drive[None],
            rev_bd=(drive if reverse is None else np.asarray(reverse, dtype=float))[None],
            fwd_hd=hd[None],
            rev_hd=hr[None],
            hb=hb[None],
            period_names=["all week"],
            period_of_hour=np.zeros(168, np.int64),
            turnout=(turnout or zero, turnout or zero),
            call_handling_s=float(call_handling_s),
            hospital_ids=[str(i) for i in range(hd.shape[0])],
        )

    @property
    def n_units(self) -> int:
        return int(self.unit_base.size)

    def with_units(self, unit_base, unit_type, unit_labels=None) -> "EmsSystem":
        """The same bases, hospitals and times with other units (a study's candidate placements)."""
        ub = np.asarray(unit_base, dtype=np.int64)
        labels = unit_labels or [f"{TYPE_NAMES[t]} {self.base_ids[b]}" for b, t in zip(ub, unit_type)]
        return replace(self, unit_base=ub, unit_type=np.asarray(unit_type, dtype=np.int64), unit_labels=labels)


# --------------------------------------------------------------------------------------
# derived lookup tables (vectorised, once per run)
# --------------------------------------------------------------------------------------


def _tables(sysm: EmsSystem):
    """Nearest emergency department per scene and period, nearest staffed base per type mask, anchors."""
    n_p, _, n_d = sysm.fwd_bd.shape
    if sysm.fwd_hd.shape[1]:
        near_h = np.argmin(sysm.rev_hd, axis=1)  # scene -> hospital, the direction driven
        t_sh = np.take_along_axis(sysm.rev_hd, near_h[:, None, :], axis=1)[:, 0, :]
    else:
        near_h = np.zeros((n_p, n_d), np.int64)
        t_sh = np.full((n_p, n_d), np.inf)
    near_b = np.zeros((n_p, 3, n_d), np.int64)
    for m in (1, 2, 3):
        staffed = np.zeros(len(sysm.base_ids), bool)
        sel = ((m >> sysm.unit_type) & 1) == 1
        staffed[sysm.unit_base[sel]] = True
        if not staffed.any():
            continue
        t = np.where(staffed[None, :, None], sysm.fwd_bd, np.inf)
        near_b[:, m - 1, :] = np.argmin(t, axis=1)
    fwd_ad = np.ascontiguousarray(np.concatenate([sysm.fwd_bd, sysm.fwd_hd], axis=1))
    rev_ad = np.ascontiguousarray(np.concatenate([sysm.rev_bd, sysm.rev_hd], axis=1))
    return near_h.astype(np.int64), np.ascontiguousarray(t_sh), near_b, fwd_ad, rev_ad


def _calls(rng, sysm: EmsSystem, cm: CallModel, rate_s: float, horizon_s: float):
    """One replication's calls, sorted by time: (t, demand, period, priority, need mask, draws)."""
    n_hours = int(math.ceil(horizon_s / 3600.0))
    how = np.arange(n_hours) % 168
    lam = rate_s * 3600.0 * cm.hourly[how]
    counts = rng.poisson(lam)
    n = int(counts.sum())
    t = np.repeat(np.arange(n_hours) * 3600.0, counts) + rng.random(n) * 3600.0
    t.sort()
    t = t[t < horizon_s]
    w = sysm.weights / sysm.weights.sum()
    dem = np.searchsorted(np.cumsum(w), rng.random(t.size) * (1 - 1e-12), side="right").clip(0, w.size - 1)
    shares = np.array([p.share for p in cm.priorities])
    prio = np.searchsorted(np.cumsum(shares), rng.random(t.size) * (1 - 1e-12), side="right").clip(0, shares.size - 1)
    return (t, dem.astype(np.int64), prio.astype(np.int64), *_draws(rng, sysm, cm, t, prio))


def _draws(rng, sysm: EmsSystem, cm: CallModel, t, prio):
    """Period, unit types needed and the random times of each call."""
    n = t.size
    per = sysm.period_of_hour[(t // 3600.0).astype(np.int64) % 168]
    masks = np.array([sum(1 << TYPE_NAMES.index(u) for u in set(p.units)) for p in cm.priorities], np.int64)
    need = masks[prio]
    turn = np.column_stack([sysm.turnout[k].quantile(rng.random(n)) for k in range(len(TYPE_NAMES))])
    onscene = np.asarray(cm.onscene.quantile(rng.random(n)), dtype=float)
    transport = rng.random(n) < cm.transport_share
    handover = np.asarray(cm.handover.quantile(rng.random(n)), dtype=float)
    svc = rng.exponential(cm.exponential_service_s or 1.0, (n, len(TYPE_NAMES)))
    return per, need, turn, onscene, transport, handover, svc


@dataclass
class SimResult:
    """Per-replication figures of a simulation; :meth:`summary` gives means with 95 % intervals.

    ``zone`` and ``municipalities`` map a figure name to an array (replications,) / (replications,
    municipalities); ``units`` maps a figure to (replications, units)."""

    system: EmsSystem
    calls: CallModel
    replications: int
    seed: int
    days: float
    zone: dict
    municipalities: dict
    units: dict
    seconds: float
    engine: str

    def __post_init__(self):
        from ..checks import check_fields

        check_fields(self)

    def interval(self, x, level: float = 0.95) -> tuple:
        """(mean, low, high) of a per-replication figure: Student-t interval over the replications
        (``level`` 0.95 by default)."""
        from scipy.stats import t as student

        x = np.asarray(x, dtype=float)
        x = x[np.isfinite(x)]
        if x.size == 0:
            return (None, None, None)
        m = float(x.mean())
        if x.size < 2:
            return (m, None, None)
        h = float(student.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
        return (m, m - h, m + h)

    def _row(self, figs: dict, j=None, level: float = 0.95) -> dict:
        out = {}
        for k, v in figs.items():
            m, lo, hi = self.interval(v if j is None else v[:, j], level)
            out[k] = m
            out[f"{k}_lo"] = lo
            out[f"{k}_hi"] = hi
        return out

    def zone_row(self, level: float = 0.95) -> dict:
        """Every zone figure with its interval (``<figure>_lo``, ``<figure>_hi``)."""
        return self._row(self.zone, level=level)

    def municipality_rows(self, level: float = 0.95) -> list[dict]:
        names = self.system.municipality_names
        return [{"municipality": nm, **self._row(self.municipalities, j, level)} for j, nm in enumerate(names)]

    def unit_rows(self, level: float = 0.95) -> list[dict]:
        s = self.system
        return [
            {
                "unit": s.unit_labels[u],
                "type": TYPE_NAMES[s.unit_type[u]],
                "base": s.base_ids[s.unit_base[u]],
                "base_name": s.base_names[s.unit_base[u]],
                **self._row(self.units, u, level),
            }
            for u in range(s.n_units)
        ]

    def meets_norm(self, row: dict) -> str:
        """``"yes"`` / ``"no"`` when the whole interval is above / below the norm, else ``"uncertain"``."""
        lo, hi, n = row.get("share_within_lo"), row.get("share_within_hi"), self.calls.norm_share
        if lo is None or hi is None:
            return "uncertain"
        return "yes" if lo >= n else ("no" if hi < n else "uncertain")


def _stats(resp, first_base, wait_s, near_busy, near_base, dem, t, t_lo, sysm: EmsSystem, cm: CallModel):
    """Per-zone and per-municipality figures of one replication (calls after the warm-up)."""
    sel = t >= t_lo
    r, fb, ws, nbz, d = resp[sel], first_base[sel], wait_s[sel], near_busy[sel], dem[sel]
    nb = near_base[sel]
    muni = sysm.municipality[d]
    n_m = len(sysm.municipality_names)
    reached = np.isfinite(r)

    def figures(mask) -> dict:
        n = int(mask.sum())
        if n == 0:
            return {**dict.fromkeys(FIGURES, np.nan), "calls": 0.0}
        rr = r[mask]
        ok = reached[mask]
        return {
            "calls": float(n),
            "share_within": float((rr <= cm.threshold_s).mean()),
            "mean_min": float(rr[ok].mean() / 60.0) if ok.any() else np.nan,
            "p90_min": float(np.quantile(rr, 0.9, method="inverted_cdf") / 60.0),
            "share_not_nearest_base": float((fb[mask][ok] != nb[mask][ok]).mean()) if ok.any() else np.nan,
            "share_nearest_base_busy": float(nbz[mask].mean()),
            "share_waited": float((ws[mask] > 0).mean()),
            "mean_wait_min_if_waited": float(ws[mask][ws[mask] > 0].mean() / 60.0) if (ws[mask] > 0).any() else 0.0,
            "share_not_reached": float((~ok).mean()),
        }

    zone = figures(np.ones(r.size, bool))
    per = [figures(muni == j) for j in range(n_m)]
    return zone, {k: np.array([p[k] for p in per]) for k in FIGURES}


FIGURES = (
    "calls",
    "share_within",
    "mean_min",
    "p90_min",
    "share_not_nearest_base",
    "share_nearest_base_busy",
    "share_waited",
    "mean_wait_min_if_waited",
    "share_not_reached",
)


def simulate(
    system: EmsSystem,
    calls: CallModel | None = None,
    *,
    replications: int = 30,
    seed: int = 2026,
    days: float = 365.0,
    warmup_days: float = 1.0,
    engine: str = "auto",
    progress=None,
) -> SimResult:
    """Simulate ``days`` of calls ``replications`` times (after ``warmup_days`` not counted).

    Parameters
    ----------
    system : EmsSystem
    calls : CallModel, optional
        Default: :class:`CallModel` () (35 calls per 1,000 inhabitants a year, default priorities).
    replications : int
        Independent replications (``SeedSequence(seed).spawn(replications)``, one Generator each).
    engine : str
        ``"numba"`` (compiled event loop), ``"python"`` (the same loop interpreted; slow) or ``"auto"``.
    progress : object with ``update(n)``, optional
        Advanced by one per replication.

    Returns
    -------
    SimResult
        Same seed and inputs -> identical figures.
    """
    from ..checks import check_instance, check_progress
    from . import _simloop

    check_instance(system, EmsSystem, "system", "an EmsSystem (kz.ems_system(...) or EmsSystem.from_matrices)")
    if calls is not None:
        check_instance(calls, CallModel, "calls", "a CallModel")
    progress = check_progress(progress)
    cm = calls or CallModel()
    if isinstance(replications, bool) or not isinstance(replications, (int, np.integer)) or replications < 1:
        raise ModelInputError(f"expected a whole number >= 1, got {replications!r}", field="replications")
    _num(days, "days", 0, True, 3660)
    _num(warmup_days, "warmup_days", 0, False, 365)
    if engine not in ("auto", "numba", "python"):
        raise ModelInputError(f"expected auto, numba or python, got {engine!r}", field="engine")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ModelInputError(f"expected a whole number >= 0, got {seed!r}", field="seed")
    needs = {u for p in cm.priorities if p.share > 0 for u in p.units}
    present = {TYPE_NAMES[k] for k in np.unique(system.unit_type)}
    if "ambulance" in needs and "ambulance" not in present and cm.exponential_service_s is None:
        raise ModelInputError("the priorities send ambulances but there is none", field="units")
    if cm.transport_share > 0 and cm.exponential_service_s is None and system.fwd_hd.shape[1] == 0:
        raise ModelInputError("a transport share > 0 needs at least one hospital", field="transport_share")
    use = _simloop.run_compiled if engine in ("auto", "numba") else _simloop.run_python
    rate = (
        float(cm.calls_per_year) if cm.calls_per_year is not None else cm.rate_per_1000 * system.weights.sum() / 1000.0
    )
    rate_s = rate / SECONDS_PER_YEAR
    tabs = _tables(system)
    near_b = tabs[2]
    t_lo = warmup_days * SECONDS_PER_DAY
    horizon = t_lo + days * SECONDS_PER_DAY
    wait_mask = _wait_mask(cm)
    zone_r: dict = {k: [] for k in FIGURES}
    muni_r: dict = {k: [] for k in FIGURES}
    util, missions = [], []
    t0 = time.perf_counter()
    for ss in np.random.SeedSequence(int(seed)).spawn(int(replications)):
        rng = np.random.default_rng(ss)
        t, dem, prio, per, need, turn, onscene, transport, handover, svc = _calls(rng, system, cm, rate_s, horizon)
        resp, first_base, wait_s, near_busy, busy, n_missions = _run(
            use, system, cm, tabs, wait_mask, t_lo, horizon, t, dem, prio, per, need, turn, onscene, transport,
            handover, svc,
        )  # fmt: skip
        near_base = near_b[per, need - 1, dem]
        z, m = _stats(resp, first_base, wait_s, near_busy, near_base, dem, t, t_lo, system, cm)
        for k in FIGURES:
            zone_r[k].append(z[k])
            muni_r[k].append(m[k])
        util.append(busy / (horizon - t_lo))
        missions.append(n_missions * (365.0 / (days + warmup_days)))
        if progress is not None:
            progress.update(1)
    return SimResult(
        system=system,
        calls=cm,
        replications=int(replications),
        seed=int(seed),
        days=float(days),
        zone={k: np.array(v) for k, v in zone_r.items()},
        municipalities={k: np.array(v) for k, v in muni_r.items()},
        units={"utilisation": np.array(util), "missions_per_year": np.array(missions)},
        seconds=time.perf_counter() - t0,
        engine="numba" if use is _simloop.run_compiled and _simloop.HAVE_NUMBA else "python",
    )


def _wait_mask(cm: CallModel) -> int:
    if not cm.queue:
        return 0
    if cm.exponential_service_s is not None:
        return (1 << len(TYPE_NAMES)) - 1  # the hypercube's queue: every type waits
    return 1 << TYPE_NAMES.index("ambulance")


def _run(
    use, system, cm, tabs, wait_mask, t_lo, t_hi, t, dem, prio, per, need, turn, onscene, transport, handover, svc
):
    near_h, t_sh, near_b, fwd_ad, rev_ad = tabs
    n, nu = t.size, system.n_units
    resp = np.full(n, np.inf)
    first_base = np.full(n, -1, np.int64)
    wait_s = np.zeros(n)
    near_busy = np.zeros(n, bool)
    busy = np.zeros(nu)
    n_missions = np.zeros(nu, np.int64)
    use(
        t + system.call_handling_s, t, dem, per, prio, need, turn, onscene, transport, handover, svc,
        cm.exponential_service_s is not None, wait_mask, system.unit_base, system.unit_type,
        system.fwd_bd, system.rev_bd, system.fwd_hd, system.hb, near_h, t_sh, fwd_ad, rev_ad, near_b,
        float(t_lo), float(t_hi), resp, first_base, wait_s, near_busy, busy, n_missions,
    )  # fmt: skip
    return resp, first_base, wait_s, near_busy, busy, n_missions


def replay(system: EmsSystem, t_call, demand, priority=None, calls: CallModel | None = None, *, seed: int = 0) -> dict:
    """Simulate a given list of calls (times in seconds from Monday 00:00, demand point indices,
    priority indices into ``calls.priorities``, default 0): incident records replayed, or a test's
    hand-made sequence. The random times (turnout, on scene, transport, handover) are drawn with
    ``seed``; fixed distributions make the run deterministic.

    Returns a dict of per-call arrays: ``response_s`` (from the call; inf = no unit came),
    ``first_base`` (base index of the first unit on scene, -1), ``wait_s``, ``nearest_base_busy``;
    and per unit ``busy_s`` (until the last unit is back) and ``missions``."""
    from ..checks import check_array, check_instance, check_int
    from . import _simloop

    check_instance(system, EmsSystem, "system", "an EmsSystem (kz.ems_system(...) or EmsSystem.from_matrices)")
    if calls is not None:
        check_instance(calls, CallModel, "calls", "a CallModel")
    seed = check_int(seed, "seed", lo=0)
    cm = calls or CallModel()
    t = check_array(t_call, "t_call", allow_nan=True)
    order = np.argsort(t, kind="stable")
    demand = _indices(demand, "demand")
    if priority is not None:
        priority = _indices(priority, "priority")
    if t.ndim != 1 or not np.all(np.isfinite(t)) or (t < 0).any():
        raise ModelInputError("expected finite call times >= 0 seconds", field="t_call")
    dem = np.asarray(demand, dtype=np.int64)
    if dem.shape != t.shape or (t.size and (dem.min() < 0 or dem.max() >= system.weights.size)):
        raise ModelInputError(f"expected one demand index 0..{system.weights.size - 1} per call", field="demand")
    prio = np.zeros(t.size, np.int64) if priority is None else np.asarray(priority, dtype=np.int64)
    if prio.shape != t.shape or (t.size and (prio.min() < 0 or prio.max() >= len(cm.priorities))):
        raise ModelInputError(f"expected priority indices 0..{len(cm.priorities) - 1}", field="priority")
    t, dem, prio = t[order], dem[order], prio[order]
    rng = np.random.default_rng(seed)
    draws = _draws(rng, system, cm, t, prio)
    t_hi = float(t.max() + 1e9) if t.size else 1.0
    use = _simloop.run_compiled
    resp, fb, ws, nbz, busy, nm = _run(
        use, system, cm, _tables(system), _wait_mask(cm), 0.0, t_hi, t, dem, prio, *draws
    )
    back = np.empty(t.size, np.int64)
    back[order] = np.arange(t.size)
    return {
        "response_s": resp[back],
        "first_base": fb[back],
        "wait_s": ws[back],
        "nearest_base_busy": nbz[back],
        "busy_s": busy,
        "missions": nm,
    }
