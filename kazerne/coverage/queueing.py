"""Busy fractions and the hypercube queueing model for ambulances and PIT teams.

Everything inside this module is in **seconds** (response times, service times) and
**calls per second** (arrival rates). Minutes and calls per year appear only at the edges,
in :func:`system_busy_fraction` and in the ``*_per_year`` / ``*_minutes`` convenience
arguments.

Queueing discipline
-------------------
Two versions of the hypercube model are implemented, chosen by ``queue``:

``queue=True`` (default) -- Larson (1974), infinite FCFS queue.
    A call that finds every unit busy waits in a first-come-first-served queue and is served
    by the first unit that becomes free. Larson's approximation (1975) with the correction
    factors ``Q(N, rho, j)`` computed from the M/M/N (Erlang C) distribution of the number
    of busy units. Requires ``lambda < N mu``.
``queue=False`` -- loss system (Jarvis 1985).
    A call that finds every unit busy is lost (in practice: handed to a neighbouring zone).
    Correction factors are computed from the M/M/N/N (Erlang B) distribution.

In both versions a call that finds every unit busy is counted as **not** served within any
time standard T: its response time is unknown (queue) or it is served by someone else
(loss). Probabilities "served by rank k" are for calls dispatched immediately on arrival,
so for every demand point ``sum_k dispatch[i, k] + p_all_busy == 1``.

Dispatch rule: nearest available unit. A demand point's preference list is its units sorted
by response time (``cost`` of the unit's base); ties (e.g. two units at one base) are broken
by unit index, the same in the exact model, the approximation and the simulation.

References
----------
Daskin (1983) Transp. Sci. 17:48-70; Larson (1974) Comput. Oper. Res. 1:67-95; Larson (1975)
Oper. Res. 23:845-868; Jarvis (1985) Oper. Res. 33:1153-1167; Larson & Odoni, *Urban
Operations Research* (1981), sections 5.4-5.5 (approximation "within 1 or 2 percent of the
exact results").
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..checks import check_int, check_number
from ..errors import ModelInputError
from .problem import check_weights as _weights
from .queuesim import QueueSimState

SECONDS_PER_YEAR = 8760.0 * 3600.0


# --------------------------------------------------------------------------------------
# System-wide busy fraction (Daskin) and closed-form M/M/N results
# --------------------------------------------------------------------------------------


def system_busy_fraction(calls_per_year: float, mission_minutes: float, n_units: int) -> float:
    """System-wide busy fraction ``q`` of one unit type (Daskin 1983).

    ``q = calls_per_year * mission_hours / (8760 * n_units)``.

    Parameters
    ----------
    calls_per_year : float
        Calls per year for the zone for this unit type (ambulance or PIT), >= 0.
    mission_minutes : float
        Mean time a unit is unavailable per mission (turnout, travel, on scene, transport,
        back in service), minutes, > 0.
    n_units : int
        Number of units of this type, >= 1.

    Returns
    -------
    float
        ``q`` in [0, 1).

    Raises
    ------
    ModelInputError
        On negative / non-finite inputs, or when ``q >= 1`` (the units cannot handle the
        call volume even if they were never idle).
    """
    calls = _finite_scalar(calls_per_year, "calls_per_year", minimum=0.0)
    minutes = _finite_scalar(mission_minutes, "mission_minutes", minimum=0.0, strict=True)
    n = _unit_count(n_units, "n_units")
    q = calls * (minutes / 60.0) / (8760.0 * n)
    if q >= 1.0:
        raise ModelInputError(
            f"system overloaded: {calls:g} calls/year x {minutes:g} min per mission need "
            f"{calls * minutes / 60.0 / 8760.0:.2f} unit-years per year but only {n} units exist "
            f"(busy fraction q = {q:.3f} >= 1); add units or check the call volume",
            field="calls_per_year",
        )
    return float(q)


def erlang_b(n_servers: int, offered_load: float) -> float:
    """Erlang B blocking probability ``B(N, a)`` (M/M/N/N), stable recursion.

    Parameters
    ----------
    n_servers : int
        N >= 0.
    offered_load : float
        ``a = lambda / mu`` (Erlangs).
    """
    n_servers = check_int(n_servers, "n_servers", lo=0, hi=10**6)
    offered_load = check_number(offered_load, "offered_load", lo=0.0)
    b = 1.0
    for k in range(1, int(n_servers) + 1):
        b = offered_load * b / (k + offered_load * b)
    return float(b)


def erlang_c(n_servers: int, offered_load: float) -> float:
    """Erlang C probability of waiting ``C(N, a)`` (M/M/N, infinite queue); needs ``a < N``."""
    n = check_int(n_servers, "n_servers", lo=1, hi=10**6)
    offered_load = check_number(offered_load, "offered_load", lo=0.0)
    if offered_load >= n:
        raise ModelInputError(
            f"offered load {offered_load:.3f} Erlang >= {n} units: the queue grows without bound", field="arrival_rate"
        )
    b = erlang_b(n, offered_load)
    rho = offered_load / n
    return float(b / (1.0 - rho * (1.0 - b)))


def busy_count_distribution(n_units: int, offered_load: float, queue: bool = True) -> np.ndarray:
    """Distribution of the number of busy units ``P(k busy)``, k = 0..N.

    For ``queue=True`` (M/M/N) entry N is the probability that all units are busy (any
    queue length); for ``queue=False`` (M/M/N/N) it is the Erlang B blocking probability.
    """
    n = int(n_units)
    a = float(offered_load)
    logp = np.array(
        [k * math.log(a) - math.lgamma(k + 1) if a > 0 else (0.0 if k == 0 else -np.inf) for k in range(n + 1)]
    )
    if queue:
        if a >= n:
            raise ModelInputError(
                f"offered load {a:.3f} Erlang >= {n} units: the queue grows without bound", field="arrival_rate"
            )
        # all-busy states: P_N * sum_{m>=0} rho^m = P_N / (1 - rho)
        logp[n] = logp[n] - math.log1p(-a / n)
    logp -= logp.max()
    p = np.exp(logp)
    return p / p.sum()


def correction_factors(n_units: int, offered_load: float, queue: bool = True) -> np.ndarray:
    """Larson's (queue) / Jarvis' (loss) correction factors ``Q(N, rho, j)``, j = 0..N-1.

    ``Q_j = sum_{k=j}^{N-1} P_k C(N-j-1, k-j) / C(N, k) / (r^j (1 - r))`` with ``P_k`` the
    distribution of the number of busy units (M/M/N or M/M/N/N) and ``r`` the mean busy
    fraction per unit. For the M/M/N distribution this is Larson's (1975) closed form
    ``sum_k (N-j-1)! (N-k) N^k rho^(k-j) P_0 / ((k-j)! N! (1-rho))``.
    """
    n = int(n_units)
    p = busy_count_distribution(n, offered_load, queue)
    r = float(np.dot(np.arange(n + 1), p) / n)
    if queue:
        # number busy in all-busy states is N (queue does not add busy units)
        r = offered_load / n
    out = np.ones(n)
    if r <= 0.0:
        return out
    den = 1.0
    for j in range(n):
        s = 0.0
        for k in range(j, n):
            # C(N-j-1, k-j) / C(N, k)
            lc = (
                math.lgamma(n - j)
                - math.lgamma(k - j + 1)
                - math.lgamma(n - k)
                - (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1))
            )
            s += p[k] * math.exp(lc)
        den = r**j * (1.0 - r)
        if not den > 0.0:
            break
        out[j] = s / den
    if not den > 0.0 or not np.all(np.isfinite(out)):
        raise ModelInputError(
            f"{n} units at a busy fraction of {r:.2g} each are beyond the hypercube "
            f"approximation (busy fraction ** units underflows); expected fewer units or "
            f"more calls",
            field="arrival_rate",
        )
    return out


# --------------------------------------------------------------------------------------
# Inputs: units, preference lists, rates
# --------------------------------------------------------------------------------------


@dataclass
class HypercubeResult:
    """Outputs of the hypercube model (exact or approximate) or of the simulation.

    Attributes
    ----------
    method : str
        ``"exact"``, ``"approx"`` or ``"simulation"``.
    queue : bool
        True for the infinite-queue (Larson) version, False for the loss (Jarvis) version.
    unit_bases : numpy.ndarray
        (N,) base index of each unit.
    busy : numpy.ndarray
        (N,) long-run probability that each unit is busy (its workload).
    preference : numpy.ndarray
        (n_demand, N) unit indices in each demand point's preference order.
    response : numpy.ndarray
        (n_demand, N) response time of the k-th preferred unit, seconds.
    dispatch : numpy.ndarray
        (n_demand, N) probability that a call from demand i is served immediately by its k-th
        preferred unit. ``None`` for the simulation (see ``rank_share``).
    p_all_busy : float
        Probability a call finds every unit busy (queued or lost).
    weights : numpy.ndarray
        (n_demand,) demand weights (call shares are ``weights / weights.sum()``).
    arrival_rate, service_time : float
        Total call rate, calls per second, and mean service time, seconds.
    extra : dict
        Iterations, state count, standard errors (simulation), ...
    """

    method: str
    queue: bool
    unit_bases: np.ndarray
    busy: np.ndarray
    preference: np.ndarray
    response: np.ndarray
    dispatch: np.ndarray | None
    p_all_busy: float
    weights: np.ndarray
    arrival_rate: float
    service_time: float
    extra: dict[str, Any] = field(default_factory=dict)

    def prob_within(self, t_seconds: float) -> np.ndarray:
        """Per demand point: probability a call is served immediately by a unit whose response
        time is ``<= t_seconds``. Calls finding all units busy count as not within T."""
        if self.dispatch is None:
            raise ModelInputError(
                "per-demand probabilities are not estimated by the simulation; use share_within()", field="method"
            )
        return (self.dispatch * (self.response <= t_seconds)).sum(axis=1)

    def share_within(self, t_seconds: float) -> float:
        """Expected share of all calls served within ``t_seconds`` (weights = call shares)."""
        if self.dispatch is None:
            table = self.extra["share_within"]
            if float(t_seconds) not in table:
                raise ModelInputError(
                    f"the simulation recorded T = {sorted(table)} s only; pass t_values="
                    f"({float(t_seconds):g},) to simulate()",
                    field="t_seconds",
                )
            return float(table[float(t_seconds)])
        w = self.weights / self.weights.sum()
        return float(np.dot(w, self.prob_within(t_seconds)))

    def rank_share(self) -> np.ndarray:
        """(N,) share of all calls served immediately by their k-th preferred unit."""
        if self.dispatch is None:
            return np.asarray(self.extra["rank_share"])
        w = self.weights / self.weights.sum()
        return w @ self.dispatch

    def mean_busy(self) -> float:
        """Mean busy fraction over the units."""
        return float(np.mean(self.busy))


def _prepare(cost, weights, unit_bases, arrival_rate, service_time, queue):
    cost = np.asarray(cost)
    if cost.ndim != 2:
        raise ModelInputError(f"expected a 2-D (n_bases, n_demand) array, got shape {cost.shape}", field="cost")
    cost = cost.astype(np.float64, copy=False)
    if np.isnan(cost).any():
        raise ModelInputError(f"{int(np.isnan(cost).sum())} NaN response times; use inf for unreachable", field="cost")
    if (cost < 0).any():
        raise ModelInputError(f"{int((cost < 0).sum())} negative response times; expected seconds >= 0", field="cost")
    n_bases, n_demand = cost.shape
    w = _weights(weights, n_demand)
    if w.sum() <= 0:
        raise ModelInputError("all demand weights are zero; expected a positive total", field="weights")
    ub = np.asarray(unit_bases)
    if ub.ndim != 1 or ub.size == 0 or not np.issubdtype(ub.dtype, np.integer):
        raise ModelInputError(
            "expected a non-empty 1-D array of integer base indices, one per unit", field="unit_bases"
        )
    if ub.min() < 0 or ub.max() >= n_bases:
        raise ModelInputError(f"base index out of range 0..{n_bases - 1}", field="unit_bases")
    lam = _finite_scalar(arrival_rate, "arrival_rate", minimum=0.0)
    s = _finite_scalar(service_time, "service_time", minimum=0.0, strict=True)
    n = ub.size
    if queue and lam * s >= n:
        raise ModelInputError(
            f"offered load {lam * s:.3f} Erlang >= {n} units: with a queue the backlog grows without "
            f"bound (busy fraction {lam * s / n:.3f} >= 1); add units or use queue=False",
            field="arrival_rate",
        )
    resp_units = cost[ub, :].T  # (n_demand, N)
    pref = np.argsort(resp_units, axis=1, kind="stable")  # ties -> lower unit index first
    resp = np.take_along_axis(resp_units, pref, axis=1)
    return cost, w, ub.astype(np.int64), lam, s, pref, resp


def _unique_prefs(pref: np.ndarray, w: np.ndarray):
    """Group demand points with identical preference lists; returns (lists, rate share, inverse)."""
    uniq, inv = np.unique(pref, axis=0, return_inverse=True)
    inv = inv.ravel()
    share = np.bincount(inv, weights=w / w.sum(), minlength=uniq.shape[0])
    return uniq, share, inv


# --------------------------------------------------------------------------------------
# Exact hypercube
# --------------------------------------------------------------------------------------


def hypercube_exact(
    cost, weights, unit_bases, arrival_rate: float, service_time: float, queue: bool = True, max_units: int = 14
) -> HypercubeResult:
    """Exact hypercube model: 2^N states, balance equations solved with scipy sparse.

    Parameters
    ----------
    cost : array_like
        (n_bases, n_demand) response times, seconds (``inf`` = unreachable; the unit is then
        still dispatched as last resort, with an infinite response time).
    weights : array_like
        (n_demand,) demand; call rate of point i is ``arrival_rate * w_i / sum(w)``.
    unit_bases : array_like of int
        (N,) base index (row of ``cost``) of each unit; several units may share a base.
    arrival_rate : float
        Total call rate, calls per second.
    service_time : float
        Mean service time (time a unit is busy per call), seconds.
    queue : bool
        True: infinite FCFS queue (Larson 1974); False: loss system. See module docstring.
    max_units : int
        Refuse N above this (state space 2^N).

    Returns
    -------
    HypercubeResult
    """
    cost, w, ub, lam, s, pref, resp = _prepare(cost, weights, unit_bases, arrival_rate, service_time, queue)
    n = ub.size
    if n > max_units:
        raise ModelInputError(
            f"{n} units need 2^{n} states; the exact model allows at most {max_units} units, use hypercube_approx()",
            field="unit_bases",
        )
    mu = 1.0 / s
    n_states = 1 << n
    states = np.arange(n_states, dtype=np.int64)
    busy_bits = ((states[:, None] >> np.arange(n)) & 1).astype(bool)  # (S, N)
    uniq, share, inv = _unique_prefs(pref, w)

    # first free rank of each preference list in each state
    up_rate = np.zeros((n_states, n))  # rate state s -> s + unit n
    first_rank = np.empty((uniq.shape[0], n_states), dtype=np.int64)
    for a in range(uniq.shape[0]):
        b = busy_bits[:, uniq[a]]  # (S, N) in preference order
        fr = np.where(b.all(axis=1), n, np.argmin(b, axis=1))
        first_rank[a] = fr
        ok = fr < n
        unit = uniq[a][fr[ok]]
        np.add.at(up_rate, (states[ok], unit), lam * share[a])

    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for u in range(n):
        bit = 1 << u
        free = (states & bit) == 0
        src = states[free]
        r = up_rate[free, u]
        keep = r > 0
        rows.append(src[keep])
        cols.append(src[keep] | bit)
        vals.append(r[keep])
        bsy = states[~free]  # service completion
        rows.append(bsy)
        cols.append(bsy & ~bit)
        vals.append(np.full(bsy.size, mu))
    gen = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_states, n_states)
    )
    out = np.asarray(gen.sum(axis=1)).ravel()
    gen = gen - sp.diags(out)
    # solve pi^T G = 0 with normalisation replacing the last equation
    a_mat = gen.T.tolil()
    a_mat[n_states - 1, :] = np.ones(n_states)
    rhs = np.zeros(n_states)
    rhs[-1] = 1.0
    # symmetric-pattern minimum degree ordering: ~10x faster than COLAMD on the hypercube graph
    pi = spla.spsolve(a_mat.tocsc(), rhs, permc_spec="MMD_AT_PLUS_A")
    pi = np.clip(pi, 0.0, None)
    pi /= pi.sum()
    # the 2^N balance equations are the same for queue and loss (the cut between the full
    # state and the queue states balances); the queue only rescales the full state by 1/(1-rho)
    full = n_states - 1
    if queue:
        rho = lam * s / n
        pi[full] = pi[full] / (1.0 - rho)
        pi /= pi.sum()
    p_full = float(pi[full])
    busy = busy_bits.T.astype(float) @ pi

    dispatch_u = np.zeros((uniq.shape[0], n))
    for a in range(uniq.shape[0]):
        fr = first_rank[a]
        ok = fr < n
        dispatch_u[a] = np.bincount(fr[ok], weights=pi[ok], minlength=n)
    dispatch = dispatch_u[inv]
    return HypercubeResult(
        "exact",
        bool(queue),
        ub,
        busy,
        pref,
        resp,
        dispatch,
        p_full,
        w,
        lam,
        s,
        {"states": n_states, "preference_lists": int(uniq.shape[0])},
    )


# --------------------------------------------------------------------------------------
# Larson / Jarvis approximation
# --------------------------------------------------------------------------------------


def hypercube_approx(
    cost,
    weights,
    unit_bases,
    arrival_rate: float,
    service_time: float,
    queue: bool = True,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> HypercubeResult:
    """Larson's (1975) hypercube approximation (Jarvis 1985 for the loss version).

    Given workloads ``rho``, a call from demand i is dispatched to its k-th preferred unit
    with probability ``f_ik proportional to Q_{k-1} prod_{l<k} rho_{pref_il} (1 - rho_{pref_ik})``,
    normalised so that ``sum_k f_ik = 1 - P_all_busy`` (Erlang C for the queue, Erlang B for
    the loss version). Workloads follow from the dispatches:
    ``rho_n = lambda s sum_i (w_i / W) sum_k [pref_ik = n] f_ik + c`` with
    ``c = lambda s P_all_busy / N`` for the queue version (queued calls are taken by whichever
    unit frees first, uniformly) and ``c = 0`` for the loss version. This is iterated (with
    damping 1/2) to a fixed point; as in Larson's procedure the workloads then sum to the
    M/M/N value (``lambda s`` with a queue, ``lambda s (1 - B)`` with losses).

    Larson & Odoni (1981, 5.5) report errors of 1-2 % against the exact model; on our test
    instances with 3-4 units the workload error is below 0.01, with 12 units at 50 % load
    about 0.024 (largest when several units share a base).

    Parameters are as for :func:`hypercube_exact`; ``tol`` is the maximum absolute change
    of any workload between iterations at convergence.
    """
    cost, w, ub, lam, s, pref, resp = _prepare(cost, weights, unit_bases, arrival_rate, service_time, queue)
    n = ub.size
    a_load = lam * s
    pk = busy_count_distribution(n, a_load, queue)
    p_full = float(pk[n])
    qf = correction_factors(n, a_load, queue)  # (N,)
    uniq, share, inv = _unique_prefs(pref, w)  # (A, N), (A,)
    mean_r = a_load / n if queue else a_load * (1.0 - p_full) / n
    c = a_load * p_full / n if queue else 0.0
    ones = np.ones((uniq.shape[0], 1))

    def dispatch(r):
        rr = r[uniq]  # (A, N) busy prob in pref order
        cum = np.cumprod(np.concatenate([ones, rr[:, :-1]], axis=1), axis=1)
        f = qf[None, :] * cum * (1.0 - rr)
        tot = f.sum(axis=1, keepdims=True)
        return f * ((1.0 - p_full) / np.where(tot > 0, tot, 1.0))

    rho = np.full(n, mean_r)
    it, delta = 0, float("inf")
    for it in range(1, max_iter + 1):
        f = dispatch(rho)
        new = np.bincount(uniq.ravel(), weights=(share[:, None] * f).ravel(), minlength=n) * a_load + c
        new = np.clip(new, 0.0, 1.0)
        delta = float(np.max(np.abs(new - rho)))
        rho = 0.5 * rho + 0.5 * new
        if delta < tol:
            break
    disp = dispatch(rho)
    return HypercubeResult(
        "approx",
        bool(queue),
        ub,
        rho,
        pref,
        resp,
        disp[inv],
        p_full,
        w,
        lam,
        s,
        {
            "iterations": it,
            "converged": delta < tol,
            "preference_lists": int(uniq.shape[0]),
            "workload_sum": float(rho.sum()),
            "expected_workload_sum": float(mean_r * n),
        },
    )


# --------------------------------------------------------------------------------------
# Per-unit busy fractions from a placement
# --------------------------------------------------------------------------------------


def unit_busy_fractions(
    cost,
    weights,
    unit_bases,
    calls_per_year: float,
    mission_minutes: float,
    queue: bool = True,
    exact: bool | None = None,
    method: str = "hypercube",
) -> np.ndarray:
    """Per-unit busy fractions of a placement.

    Parameters
    ----------
    cost, weights, unit_bases
        As for :func:`hypercube_exact`.
    calls_per_year : float
        Calls per year of this unit type for the zone.
    mission_minutes : float
        Mean time per mission, minutes.
    queue : bool
        Queue (Larson) or loss (Jarvis) version (hypercube method only).
    exact : bool, optional
        Exact 2^N model (default when N <= 10) or the approximation (hypercube method only).
    method : str
        ``"hypercube"`` (default): nearest *available* unit, so busy units pass calls to the
        next one. ``"first_choice"``: each unit's workload is the calls of the demand it is
        nearest to, ``calls x mission_hours / 8760`` (units sharing a base share equally);
        ignores that busy units pass calls on, and may exceed 1 for an overloaded unit.

    Returns
    -------
    numpy.ndarray
        (N,) busy fraction of each unit.

    Raises
    ------
    ModelInputError
        When the system-wide busy fraction ``q >= 1`` (see :func:`system_busy_fraction`).
    """
    n = len(np.asarray(unit_bases))
    system_busy_fraction(calls_per_year, mission_minutes, max(n, 1))  # validates, q < 1
    lam = float(calls_per_year) / SECONDS_PER_YEAR
    s = float(mission_minutes) * 60.0
    if method == "first_choice":
        _, w, ub, _, _, pref, _ = _prepare(cost, weights, unit_bases, lam, s, False)
        base_of_first = ub[pref[:, 0]]
        calls_base = np.bincount(base_of_first, weights=w / w.sum(), minlength=int(ub.max()) + 1)
        per_base_units = np.bincount(ub, minlength=int(ub.max()) + 1)
        return calls_base[ub] / per_base_units[ub] * lam * s
    if method != "hypercube":
        raise ModelInputError(f"unknown method {method!r}; expected 'hypercube' or 'first_choice'", field="method")
    if exact is None:
        exact = n <= 10
    fn = hypercube_exact if exact else hypercube_approx
    return fn(cost, weights, unit_bases, lam, s, queue=queue).busy


# --------------------------------------------------------------------------------------
# Discrete-event simulation
# --------------------------------------------------------------------------------------


def simulate(
    cost,
    weights,
    unit_bases,
    arrival_rate: float,
    service_time: float,
    queue: bool = True,
    n_calls: int = 200_000,
    warmup_calls: int = 10_000,
    seed: int = 12345,
    t_values: Sequence[float] = (900.0,),
    n_batches: int = 20,
) -> HypercubeResult:
    """Discrete-event simulation of the same system (for validation).

    Poisson arrivals (rate ``arrival_rate``, calls per second), origin drawn with probability
    ``w_i / sum(w)``, exponential service times with mean ``service_time`` seconds, dispatch of
    the most preferred free unit (same preference lists and tie-break as the analytic
    models). With ``queue=True`` calls finding all units busy join a FCFS queue and are taken
    by the next unit to become free; with ``queue=False`` they are lost. Either way they count
    as not served within T.

    Parameters
    ----------
    n_calls : int
        Calls recorded after the warm-up.
    warmup_calls : int
        Calls simulated first and discarded.
    seed : int
        Seed of ``numpy.random.default_rng``; results are reproducible.
    t_values : sequence of float
        Time standards (seconds) for which the share served within T is recorded.
    n_batches : int
        Batches for batch-means standard errors (``extra["se_busy"]``, ``extra["se_share"]``).

    Returns
    -------
    HypercubeResult
        ``dispatch`` is None; ``extra`` holds ``rank_share`` (N,), ``share_within``
        {T: share}, ``se_busy`` (N,), ``se_share`` {T: se}, ``se_p_all_busy`` and ``n_calls``.
    """
    cost, w, ub, lam, s, pref, resp = _prepare(cost, weights, unit_bases, arrival_rate, service_time, queue)
    if lam <= 0:
        raise ModelInputError("simulation needs a positive arrival rate", field="arrival_rate")
    n = ub.size
    total = int(warmup_calls) + int(n_calls)
    rng = np.random.default_rng(seed)
    inter = rng.exponential(1.0 / lam, total)
    origin = rng.choice(w.size, size=total, p=w / w.sum())
    serv = rng.exponential(s, total)
    tvals = [float(t) for t in t_values]
    pref_l = pref.tolist()
    sim = QueueSimState(n, n_batches, [(resp <= t) for t in tvals], queue)  # (n_demand, N) bools per T
    batch_len = max(1, int(n_calls) // n_batches)
    t = 0.0
    free, events = sim.free, sim.events
    for c in range(total):
        t += inter[c]
        if events and events[0][0] <= t:
            sim.complete_until(t)
        if c == warmup_calls:
            sim.start(t)
        measured = c >= warmup_calls
        if measured:
            b = min((c - warmup_calls) // batch_len, n_batches - 1)
            if b != sim.batch:
                sim.next_batch(b, t)
            sim.calls_in_batch[b] += 1
        i = origin[c]
        row = pref_l[i]
        chosen = -1
        for k in range(n):
            if free[row[k]]:
                chosen = k
                break
        if chosen < 0:
            sim.lost_or_queued(serv[c], measured)
            continue
        u = row[chosen]
        free[u] = False
        sim.busy_since[u] = t
        heapq.heappush(events, (t + serv[c], u))
        if measured:
            sim.record(i, chosen)
    busy, p_all_busy, extra = sim.result(t, tvals, seed)
    return HypercubeResult("simulation", bool(queue), ub, busy, pref, resp, None, p_all_busy, w, lam, s, extra)


# --------------------------------------------------------------------------------------
# small validation helpers (shared with ems.py)
# --------------------------------------------------------------------------------------


def _finite_scalar(x, name: str, minimum: float | None = None, strict: bool = False) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ModelInputError(f"expected a number, got {x!r}", field=name) from None
    if not math.isfinite(v):
        raise ModelInputError(f"expected a finite number, got {x!r}", field=name)
    if minimum is not None and (v < minimum or (strict and v <= minimum)):
        raise ModelInputError(f"expected a number {'>' if strict else '>='} {minimum:g}, got {v:g}", field=name)
    return v


def _unit_count(x, name: str, minimum: int = 1) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        if isinstance(x, (float, np.floating)) and float(x).is_integer():
            x = int(x)
        else:
            raise ModelInputError(f"expected a whole number of units, got {x!r}", field=name)
    if int(x) < minimum:
        raise ModelInputError(f"expected at least {minimum} unit(s), got {int(x)}", field=name)
    return int(x)
