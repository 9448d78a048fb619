"""The EMS studies' placements evaluated by the dispatch simulation (``[ems] simulate``, on by default).

The analytical figure of an EMS study (MEXCLP / MALP placement, then Larson's hypercube) assumes the
nearest free unit, busy times independent of place, no transport and no way back. Here each of the
study's top placements is also simulated (:func:`kazerne.simulate`) on the same bases, demand, speed
profile and call rate: a year of calls, ``replications`` times, the same seeds for every placement
(common random numbers: the same calls at the same moments), so that the change from the first
placement (today's units, for ``pit-add``) has a paired, narrow interval.

What the simulation adds: turnout as a distribution (the professional shape of
:mod:`kazerne.response` moved to the study's ``turnout_s`` median), calls by hour of the day, time on
scene, for ambulances the transport to the nearest emergency department (70 %) and the handover,
the way back during which a unit can be sent again, and lost calls when no unit is free (a PIT is
never waited for; an ambulance call waits). Its mission times come from these phases, not from
``mission_minutes``: the simulated mean busy time per mission is reported beside it.
"""

from __future__ import annotations

import numpy as np

from ..coverage.simbuild import emergency_departments, ems_system, located_sites
from ..coverage.simulation import CallModel, Priority, simulate
from ..response import DEFAULT_TURNOUT_DIST
from ..sites import Sites
from .sections import EmsSection

__all__ = ["pit_add_candidates", "simulate_placements"]


def pit_add_candidates(mat, w, today, chosen, q: float, t_s: float, k: int, capacity=None) -> list[int]:
    """The ``k`` bases where one more unit gains most by MEXCLP's expected coverage
    (``sum_d w_d [cover] q^n_d (1 - q)``), the solver's choice ``chosen`` first."""
    cover = np.asarray(mat) <= t_s
    n_cov = today @ cover
    gain = cover.astype(float) @ (w * q**n_cov * (1.0 - q))
    if capacity is not None:
        gain[today >= capacity] = -np.inf
    order = [int(b) for b in np.argsort(-gain, kind="stable") if np.isfinite(gain[b])]
    out = [int(chosen)] if chosen is not None else []
    out += [b for b in order if b != chosen]
    return out[:k]


def simulate_placements(ctx, sc, e: EmsSection, bases: Sites, placements: list, analytical, q: float, progress) -> dict:
    """Simulate each ``(label, counts per base)`` of ``placements``; ``analytical(counts)`` gives the
    study's own (hypercube) share within the norm. Returns the summary block with its ``rows``."""
    cfg = e.simulate
    assert cfg is not None  # called only with [ems.simulate] (ems.py)
    unit = "ambulance" if e.unit == "ambulance" else "pit"
    service_s = e.mission_minutes * 60.0
    n0 = int(placements[0][1].sum())
    calls = e.calls_per_year if e.calls_per_year is not None else q * n0 * 365 * 86400.0 / service_s
    cm = CallModel(
        calls_per_year=calls,
        priorities=(Priority("all", 1.0, (unit,)),),
        transport_share=0.7 if unit == "ambulance" else 0.0,
        threshold_s=e.threshold * 60.0,
        norm_share=e.norm_share,
    )
    turnout = DEFAULT_TURNOUT_DIST["professional"].moved_to(e.turnout_s)
    hosp = located_sites(ctx.zone, emergency_departments(ctx.zone.pack))

    def units_of(counts):
        ub = np.repeat(np.arange(len(counts)), counts)
        return [bases.ids[b] for b in ub], [unit] * ub.size

    progress.step(f"simulating {len(placements)} placement(s): {cfg.replications} x {cfg.days:g} days each")
    ub0, ut0 = units_of(placements[0][1])
    system = ems_system(
        ctx.zone, bases, ub0, ut0, ctx.demand, hosp if unit == "ambulance" else None, ctx.profile,
        call_handling_s=sc.call_handling_s, turnout={unit: turnout}, periods="one",
    )  # fmt: skip
    rows, first = [], None
    for label, counts in placements:
        ub = np.repeat(np.arange(len(counts)), counts)
        res = simulate(
            system.with_units(ub, np.zeros(ub.size, np.int64) + (0 if unit == "ambulance" else 1)),
            cm, replications=cfg.replications, seed=cfg.seed, days=cfg.days,
        )  # fmt: skip
        z = res.zone_row()
        share = res.zone["share_within"]
        first = share if first is None else first
        d_mean, d_lo, d_hi = res.interval(share - first)
        busy = res.units["utilisation"].sum() * res.days * 86400.0
        missions = res.units["missions_per_year"].sum() * res.days / 365.0
        rows.append(
            {
                "placement": label,
                "units": ", ".join(f"{bases.ids[b]}:{int(c)}" for b, c in enumerate(counts) if c),
                "simulated_share_within": z["share_within"],
                "simulated_share_within_lo": max(0.0, z["share_within_lo"]),
                "simulated_share_within_hi": min(1.0, z["share_within_hi"]),
                "meets_norm": res.meets_norm(z),
                "analytical_share_within": float(analytical(counts)),
                "change_vs_first": d_mean,
                "change_vs_first_lo": d_lo,
                "change_vs_first_hi": d_hi,
                "mean_min": z["mean_min"],
                "p90_min": z["p90_min"],
                "share_nearest_base_busy": z["share_nearest_base_busy"],
                "share_not_reached": z["share_not_reached"],
                "mean_utilisation": float(res.units["utilisation"].mean()),
                "mean_mission_min": float(busy / missions / 60.0) if missions > 0 else None,
            }
        )
    progress.done("simulate")
    return {
        "method": "dispatch simulation (kazerne.simulate) of each placement: same bases, demand, speed profile "
        "and calls as the study; common random numbers across placements (change intervals are paired)",
        "unit": unit,
        "calls_per_year": calls,
        "replications": cfg.replications,
        "days": cfg.days,
        "seed": cfg.seed,
        "turnout": turnout.describe(),
        "calls": cm.describe(),
        "mission_minutes_assumed_by_the_study": e.mission_minutes,
        "note": "the simulated missions come from on-scene time, transport (ambulances) and the way back, not from "
        "mission_minutes; a call finding no free unit waits (ambulance) or is lost (PIT) and counts as late / not "
        "reached",
        "rows": rows,
    }
