"""The analytical figures beside a simulation: Larson's hypercube on the same units, times and calls.

:func:`hypercube_figures` answers "what would the hypercube approximation say?" for one unit type of
a :class:`~kazerne.coverage.simulation.SimResult`: the same bases, units and demand, the response
time call handling + mean turnout + driving of each speed period, the call rate of the calls that
need this type, and as the service time the mean busy time per mission **measured by the
simulation** (so that both see the same workload). Per period the approximation (infinite queue,
nearest available unit, queued calls not within T) gives the probability of a response within T;
periods are weighted by their share of the calls. Everything else the simulation adds — the
transport, the way back, re-dispatch on the road, the turnout spread, the PIT sent with the
ambulance, calls by hour — is what separates the two figures.
"""

from __future__ import annotations

import numpy as np

from .queueing import hypercube_approx
from .simulation import SECONDS_PER_YEAR, TYPE_NAMES, SimResult

__all__ = ["hypercube_figures"]


def hypercube_figures(res: SimResult, unit_type: str = "ambulance") -> dict | None:
    """Zone and per-municipality share within the norm by the hypercube approximation, the share if
    every unit were always free, and the probability that a call's nearest base has every unit busy
    (busy fractions taken as independent). None when there is no unit of ``unit_type``."""
    from ..checks import check_instance
    from ..errors import ModelInputError

    check_instance(res, SimResult, "res", "a SimResult (kz.simulate(...))")
    if unit_type not in TYPE_NAMES:
        raise ModelInputError(f"expected one of {', '.join(TYPE_NAMES)}, got {unit_type!r}", field="unit_type")
    s, cm = res.system, res.calls
    k = TYPE_NAMES.index(unit_type)
    units = np.flatnonzero(s.unit_type == k)
    if units.size == 0:
        return None
    busy_s = res.units["utilisation"][:, units].sum() * res.days * 86400.0
    missions = res.units["missions_per_year"][:, units].sum() * res.days / 365.0
    if not missions > 0:
        return None
    service = float(busy_s / missions)
    share_needing = sum(p.share for p in cm.priorities if unit_type in p.units)
    total = float(cm.calls_per_year) if cm.calls_per_year is not None else cm.rate_per_1000 * s.weights.sum() / 1000.0
    lam = total * share_needing / SECONDS_PER_YEAR
    ub = s.unit_base[units]
    w = s.weights
    n_m = len(s.municipality_names)
    t = cm.threshold_s
    period_w = np.bincount(s.period_of_hour, weights=cm.hourly, minlength=len(s.period_names))
    period_w = period_w / period_w.sum()
    p_within = np.zeros(w.size)
    p_free = np.zeros(w.size)
    p_near_busy = np.zeros(w.size)
    busy = np.zeros(units.size)
    offset = s.call_handling_s + s.turnout[k].mean()
    for p, wp in enumerate(period_w):
        if wp == 0:
            continue
        cost = offset + s.fwd_bd[p]
        hc = hypercube_approx(cost, w, ub, lam, service, queue=True)
        p_within += wp * hc.prob_within(t)
        p_free += wp * (cost[ub].min(axis=0) <= t)
        nearest = ub[np.argmin(cost[ub], axis=0)]
        all_busy = np.ones(len(s.base_ids))
        for j, b in enumerate(ub):
            all_busy[b] *= hc.busy[j]
        p_near_busy += wp * all_busy[nearest]
        busy += wp * hc.busy

    def share(x, sel=None):
        ww = w if sel is None else w * sel
        return float(np.dot(ww, x) / ww.sum()) if ww.sum() > 0 else None

    return {
        "unit_type": unit_type,
        "method": "Larson hypercube approximation (infinite queue, nearest available unit, queued calls not within T)"
        f" per speed period, weighted by the calls; service time {service / 60:.1f} min = the simulation's mean busy "
        "time per mission",
        "service_time_min": service / 60.0,
        "calls_per_year": total * share_needing,
        "share_within": share(p_within),
        "share_within_if_all_free": share(p_free),
        "share_nearest_base_busy": share(p_near_busy),
        "municipalities": {
            s.municipality_names[j]: {
                "share_within": share(p_within, s.municipality == j),
                "share_within_if_all_free": share(p_free, s.municipality == j),
                "share_nearest_base_busy": share(p_near_busy, s.municipality == j),
            }
            for j in range(n_m)
        },
        "unit_busy": {s.unit_labels[u]: float(b) for u, b in zip(units, busy)},
    }
