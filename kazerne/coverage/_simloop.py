"""The event loop of the dispatch simulation (:mod:`kazerne.coverage.simulation`), one replication.

Written once in plain Python over numpy arrays; :data:`run_compiled` is the same function compiled
with numba (``cache=True``), :func:`run_python` the interpreted original (the benchmark's peer, and
the fallback when numba is not importable). No routing happens here: every travel time is a lookup
in the precomputed matrices.

Events: the calls' dispatch moments (the 112 call + call handling; the array is sorted) and the
moments units end a mission (a binary heap of ``(time, unit)``). A unit is

* *on a mission* while ``t < free_at[u]`` (driving to the call, on scene, transporting, handing over),
* *returning* while ``free_at[u] <= t < ret_end[u]``: free, re-dispatchable; its position is taken as
  linear in time between where it started back (scene or hospital) and its base: the time to a new
  call is ``(1 - f) T(origin -> call) + f T(base -> call)``, ``f`` the share of the way back done;
  from a scene, ``T(scene -> call)`` is the best route through a base or hospital
  (``min_a T(scene -> a) + T(a -> call)``, an upper bound: no scene x scene matrix is kept),
* *at its base* from ``ret_end[u]`` on: the only state in which a turnout is added.

Dispatch: for each unit type the call needs, the free unit of that type with the smallest travel
time (ties: lowest unit index, as the hypercube model). A type in ``wait_mask`` waits in a queue when
no unit of it is free (highest priority first, then the earliest call); other types are simply not
sent. A unit ending a mission takes the best waiting call of its type from where it is.
"""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np

try:  # pragma: no cover - exercised implicitly
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False


def _time_to(u, t, p, d, free_at, ret_end, ret_kind, ret_from, unit_base, fwd_bd, fwd_hd, fwd_ad, rev_ad):
    """(travel time of unit ``u`` at time ``t`` to demand point ``d`` in period ``p``, at its base?)."""
    b = unit_base[u]
    if t >= ret_end[u]:
        return fwd_bd[p, b, d], True
    span = ret_end[u] - free_at[u]
    f = (t - free_at[u]) / span if span > 0 else 1.0
    if ret_kind[u] == 1:
        o = fwd_hd[p, ret_from[u], d]
    else:
        s = ret_from[u]
        o = np.inf
        for a in range(fwd_ad.shape[1]):
            v = rev_ad[p, a, s] + fwd_ad[p, a, d]
            if v < o:
                o = v
    return (1.0 - f) * o + f * fwd_bd[p, b, d], False


def _pop_waiting(wq, wn, k, prio):
    """Take the best waiting call of unit type ``k`` off its queue (highest priority, then the earliest)."""
    best = -1
    for j in range(wn[k]):
        cc = wq[k, j]
        if best < 0 or prio[cc] < prio[wq[k, best]] or (prio[cc] == prio[wq[k, best]] and cc < wq[k, best]):
            best = j
    cw = wq[k, best]
    wq[k, best] = wq[k, wn[k] - 1]
    wn[k] -= 1
    return cw


def _idle_at(nb, m, t, unit_base, unit_type, ret_end, free_at):
    """Whether a unit of one of the types in mask ``m`` stands idle at base ``nb`` at time ``t``."""
    for u in range(unit_base.shape[0]):
        if unit_base[u] == nb and ((m >> unit_type[u]) & 1) == 1 and t >= ret_end[u] and t >= free_at[u]:
            return True
    return False


def _nearest_free(
    k, t, p, d, unit_type, free_at, ret_end, ret_kind, ret_from, unit_base, fwd_bd, fwd_hd, fwd_ad, rev_ad
):
    """The free unit of type ``k`` with the smallest travel time to ``d`` at ``t`` (ties: the lowest index), -1."""
    best_u = -1
    best_t = np.inf
    for u in range(unit_base.shape[0]):
        if unit_type[u] != k or free_at[u] > t:
            continue
        tt, _ = _time_to(u, t, p, d, free_at, ret_end, ret_kind, ret_from, unit_base, fwd_bd, fwd_hd, fwd_ad, rev_ad)
        if tt < best_t:
            best_t = tt
            best_u = u
    return best_u


def _account(u, a, b, t_lo, t_hi, busy):
    lo = a if a > t_lo else t_lo
    hi = b if b < t_hi else t_hi
    if hi > lo:
        busy[u] += hi - lo


def run_python(
    td,
    t_call,
    dem,
    per,
    prio,
    need,
    turn,
    onscene,
    transport,
    handover,
    svc,
    exp_mode,
    wait_mask,
    unit_base,
    unit_type,
    fwd_bd,
    rev_bd,
    fwd_hd,
    hb,
    near_h,
    t_sh,
    fwd_ad,
    rev_ad,
    near_b,
    t_lo,
    t_hi,
    resp,
    first_base,
    wait_s,
    near_busy,
    busy,
    n_missions,
):
    """Simulate one replication; fills ``resp`` (s from the call, inf = never reached), ``first_base``
    (base of the first unit on scene, -1), ``wait_s`` (s a call waited for a unit of a queueing type),
    ``near_busy`` (no unit of the call's types at its nearest staffed base when dispatched), ``busy``
    (s of each unit on a mission or returning within ``[t_lo, t_hi)``) and ``n_missions``."""
    n_units = unit_base.shape[0]
    n_calls = td.shape[0]
    n_types = turn.shape[1]
    free_at = np.zeros(n_units)
    ret_end = np.zeros(n_units)
    ret_kind = np.zeros(n_units, np.int64)
    ret_from = np.zeros(n_units, np.int64)
    busy_from = np.full(n_units, -1.0)
    wq = np.zeros((n_types, n_calls), np.int64)
    wn = np.zeros(n_types, np.int64)
    heap = [(0.0, 0)]
    heap.pop()
    c = 0
    while c < n_calls or len(heap) > 0:
        # the next event: a unit ending its mission (first on ties: it may take the call), or a call
        if len(heap) > 0 and (c >= n_calls or heap[0][0] <= td[c]):
            tf, u = heapq.heappop(heap)
            k = unit_type[u]
            if wn[k] == 0:
                continue
            cw = _pop_waiting(wq, wn, k, prio)
            wait_s[cw] = tf - td[cw]
            _send(
                u, cw, tf, per[cw], dem[cw], t_call, turn, onscene, transport, handover, svc, exp_mode, unit_base,
                unit_type, free_at, ret_end, ret_kind, ret_from, busy_from, busy, t_lo, t_hi, fwd_bd, rev_bd, fwd_hd,
                hb, near_h, t_sh, fwd_ad, rev_ad, resp, first_base, n_missions, heap,
            )  # fmt: skip
            continue
        t = td[c]
        p = per[c]
        d = dem[c]
        m = need[c]
        nb = near_b[p, m - 1, d]
        near_busy[c] = not _idle_at(nb, m, t, unit_base, unit_type, ret_end, free_at)
        for k in range(n_types):
            if ((m >> k) & 1) == 0:
                continue
            best_u = _nearest_free(
                k, t, p, d, unit_type, free_at, ret_end, ret_kind, ret_from, unit_base, fwd_bd, fwd_hd, fwd_ad, rev_ad
            )
            if best_u >= 0:
                _send(
                    best_u, c, t, p, d, t_call, turn, onscene, transport, handover, svc, exp_mode, unit_base,
                    unit_type, free_at, ret_end, ret_kind, ret_from, busy_from, busy, t_lo, t_hi, fwd_bd, rev_bd,
                    fwd_hd, hb, near_h, t_sh, fwd_ad, rev_ad, resp, first_base, n_missions, heap,
                )  # fmt: skip
            elif ((wait_mask >> k) & 1) == 1:
                wq[k, wn[k]] = c
                wn[k] += 1
        c += 1
    for u in range(n_units):
        if busy_from[u] >= 0:
            _account(u, busy_from[u], ret_end[u], t_lo, t_hi, busy)
    return 0


def _send(
    u, c, t, p, d, t_call, turn, onscene, transport, handover, svc, exp_mode, unit_base, unit_type, free_at, ret_end,
    ret_kind, ret_from, busy_from, busy, t_lo, t_hi, fwd_bd, rev_bd, fwd_hd, hb, near_h, t_sh, fwd_ad, rev_ad, resp,
    first_base, n_missions, heap,
):  # fmt: skip
    """Dispatch unit ``u`` to call ``c`` at time ``t``: its mission, its way back, the call's response."""
    k = unit_type[u]
    b = unit_base[u]
    drive, at_base = _time_to(
        u, t, p, d, free_at, ret_end, ret_kind, ret_from, unit_base, fwd_bd, fwd_hd, fwd_ad, rev_ad
    )
    if at_base:  # a new busy stretch (a returning unit's stretch goes on)
        if busy_from[u] >= 0:
            _account(u, busy_from[u], ret_end[u], t_lo, t_hi, busy)
        busy_from[u] = t
    arrive = t + (turn[c, k] if at_base else 0.0) + drive
    r = arrive - t_call[c]
    if r < resp[c]:
        resp[c] = r
        first_base[c] = b
    n_missions[u] += 1
    if exp_mode:
        free_at[u] = t + svc[c, k]
        ret_end[u] = free_at[u]
    else:
        end = arrive + onscene[c]
        if k == 0 and transport[c]:
            h = near_h[p, d]
            free_at[u] = end + t_sh[p, d] + handover[c]
            ret_kind[u] = 1
            ret_from[u] = h
            ret_end[u] = free_at[u] + hb[p, h, b]
        else:
            free_at[u] = end
            ret_kind[u] = 0
            ret_from[u] = d
            ret_end[u] = end + rev_bd[p, b, d]
    heapq.heappush(heap, (free_at[u], u))


run_compiled: Any
if HAVE_NUMBA:
    _time_to_c = njit(cache=True, nogil=True)(_time_to)
    _account_c = njit(cache=True, nogil=True)(_account)
    _send_src = _send
    _run_src = run_python

    # the compiled functions call the compiled helpers: rebind the helpers' names in copies of the
    # functions' globals (the interpreted originals keep calling the interpreted helpers)
    import types

    def _rebound(fn, names):
        g = dict(fn.__globals__)
        g.update(names)
        return types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)

    _send_c = njit(cache=True, nogil=True)(_rebound(_send_src, {"_time_to": _time_to_c, "_account": _account_c}))
    _pop_waiting_c = njit(cache=True, nogil=True)(_pop_waiting)
    _idle_at_c = njit(cache=True, nogil=True)(_idle_at)
    _nearest_free_c = njit(cache=True, nogil=True)(_rebound(_nearest_free, {"_time_to": _time_to_c}))
    run_compiled = njit(cache=True, nogil=True)(
        _rebound(
            _run_src,
            {
                "_time_to": _time_to_c,
                "_account": _account_c,
                "_send": _send_c,
                "_pop_waiting": _pop_waiting_c,
                "_idle_at": _idle_at_c,
                "_nearest_free": _nearest_free_c,
            },
        )
    )
else:  # pragma: no cover
    run_compiled = run_python
