"""How far a headline may be off: an interval for a baseline's shares and mean from the stated
uncertainty of its parameters.

Three parameters move every response time: the **speed** (all driving times scaled by ``1 / k``), the
**call handling** (added once) and the **turnout** (each post's median scaled, or moved by seconds).
Each is set to the low and to the high end of its range, the others held, and the headline
recomputed from the same driving times (no new search: a uniform speed factor scales every route's
time, junction delays included -- a slight overstatement of the speed's effect); the interval is the
headline minus / plus the root sum of squares of the three one-sided changes.

Ranges (:func:`parameter_ranges`):

* with a **calibrated profile** (``kazerne calibrate``): +-1.96 of the calibration's standard errors
  -- the relative standard error of the modelled driving time over the records (all factors and the
  junction delay, their covariance included), and of the call handling's and each crew type's
  turnout medians;
* otherwise :data:`DEFAULT_RANGES`: speed factor 0.85-1.15 (the engine drives at about 0.7 x the
  posted limits; an independent model of the zone gives 55-83 % within 12 min over 0.65-1.0 x the
  limits, so +-15 % is a middle band, not the edge), call handling 60-120 s (the derivation in
  :mod:`kazerne.response` gives 55-95 s, the Dutch CBS 36-42 s to the alarm plus 20-40 s of intake),
  turnout medians x 0.8-1.25.
"""

from __future__ import annotations

import numpy as np

from ..report.intervals import ranges_text

__all__ = [
    "DEFAULT_RANGES",
    "ENDS",
    "combine",
    "end_settings",
    "headline_interval",
    "interval_of",
    "mix_ends",
    "parameter_ranges",
    "response_ends",
    "turnout_medians",
]

DEFAULT_RANGES = {"speed_factor": (0.85, 1.15), "call_handling_s": (60.0, 120.0), "turnout_factor": (0.8, 1.25)}
Z95 = 1.96


def parameter_ranges(profile, call_handling_s: float) -> dict:
    """The ranges the interval uses: the calibration's (when ``profile`` carries its uncertainty)
    or :data:`DEFAULT_RANGES` (see the module docstring)."""
    unc = getattr(profile, "uncertainty", None) or {}
    if unc.get("drive_rel_se") is not None:
        r = float(unc["drive_rel_se"])
        ch_se = float(unc.get("call_handling_median_se_s") or 0.0)
        tse = {k: float(v) for k, v in (unc.get("turnout_median_se_s") or {}).items()}
        return {
            "source": "calibration",
            "speed_factor": (1.0 / (1.0 + Z95 * r), 1.0 / max(1.0 - Z95 * r, 0.1)),
            "call_handling_s": (max(0.0, call_handling_s - Z95 * ch_se), call_handling_s + Z95 * ch_se),
            "turnout_shift_s": {k: (-Z95 * s, Z95 * s) for k, s in tse.items()},
            "note": "+-1.96 standard errors of the calibration (driving time, call handling, turnout medians)",
        }
    return {
        "source": "default",
        **DEFAULT_RANGES,
        "note": "documented default ranges (kazerne.calibration.uncertainty.DEFAULT_RANGES); no calibrated profile",
    }


#: the six ends the interval evaluates: (name, parameter, side); "fast" ends shorten the times
ENDS = (
    ("speed_fast", "speed", "fast"),
    ("speed_slow", "speed", "slow"),
    ("call_handling_fast", "call_handling", "fast"),
    ("call_handling_slow", "call_handling", "slow"),
    ("turnout_fast", "turnout", "fast"),
    ("turnout_slow", "turnout", "slow"),
)

METHOD = (
    "each of speed, call handling and turnout at the low and high end of its range, the others held; "
    "interval = headline -/+ root sum of squares of the changes; driving times scaled by 1/speed factor"
)


def end_settings(ranges: dict, call_handling_s: float) -> dict:
    """``{end: (speed factor, call handling s, turnout side or None)}`` for ``"central"`` and each of
    :data:`ENDS`: the settings every headline is evaluated at (see :func:`interval_of`)."""
    k_lo, k_hi = ranges["speed_factor"]
    c_lo, c_hi = ranges["call_handling_s"]
    ch = float(call_handling_s)
    return {
        "central": (1.0, ch, None),
        "speed_fast": (float(k_hi), ch, None),
        "speed_slow": (float(k_lo), ch, None),
        "call_handling_fast": (1.0, float(c_lo), None),
        "call_handling_slow": (1.0, float(c_hi), None),
        "turnout_fast": (1.0, ch, "fast"),
        "turnout_slow": (1.0, ch, "slow"),
    }


def turnout_medians(medians, crews, ranges: dict, side: str | None) -> np.ndarray:
    """Each post's median turnout at one end of the range (``side`` "fast" / "slow"; None: as
    given): scaled by the default range's factor, or moved by the calibration's seconds per crew."""
    med = np.asarray(medians, dtype=float)
    if side is None:
        return med
    j = 0 if side == "fast" else 1
    if "turnout_shift_s" in ranges:
        sh = ranges["turnout_shift_s"]
        return np.maximum(med + np.array([sh.get(c, (0.0, 0.0))[j] for c in crews], dtype=float), 0.0)
    return np.maximum(med * float(ranges["turnout_factor"][j]), 0.0)


def combine(ends: dict, thresholds_min, ranges: dict) -> dict:
    """The interval from the headline at each end (``ends``: ``{end: (shares per threshold, mean
    s)}`` for ``"central"`` and every name of :data:`ENDS`): the headline minus / plus the root sum
    of squares of the one-sided changes. Shares clip to [0, 1]."""
    base_s, base_m = np.asarray(ends["central"][0], dtype=float), float(ends["central"][1])
    fast = [ends[n] for n, _, side in ENDS if side == "fast"]
    slow = [ends[n] for n, _, side in ENDS if side == "slow"]

    def rss(vals):
        return np.sqrt(sum(v**2 for v in vals))

    up_s = rss([np.maximum(np.asarray(s, dtype=float) - base_s, 0) for s, _ in fast + slow])
    dn_s = rss([np.maximum(base_s - np.asarray(s, dtype=float), 0) for s, _ in fast + slow])
    finite = [m for _, m in fast + slow if np.isfinite(m)]
    dn_m = float(rss([max(base_m - m, 0.0) for m in finite])) if finite else 0.0
    up_m = float(rss([max(m - base_m, 0.0) for m in finite])) if finite else 0.0
    th = [float(t) for t in thresholds_min]
    return {
        "method": METHOD,
        "assumption": ranges_text(ranges),
        "ranges": {k: v for k, v in ranges.items()},
        "share_within": {
            f"{t:g}": [round(float(max(b - d, 0.0)), 4), round(float(min(b + u, 1.0)), 4)]
            for t, b, d, u in zip(th, base_s, dn_s, up_s)
        },
        "share_within_central": {f"{t:g}": round(float(b), 4) for t, b in zip(th, base_s)},
        "mean_response_min": [round((base_m - dn_m) / 60, 2), round((base_m + up_m) / 60, 2)],
        "mean_response_min_central": round(base_m / 60, 2),
        # the headline at each end, so that two runs on the same ranges can be differenced end by end
        "ends": {
            n: {
                "share_within": {f"{t:g}": round(float(x), 6) for t, x in zip(th, np.atleast_1d(s))},
                "mean_response_min": round(float(m) / 60, 4) if np.isfinite(m) else None,
            }
            for n, (s, m) in ends.items()
        },
    }


def interval_of(evaluate, ranges: dict, call_handling_s: float, thresholds_min) -> dict:
    """THE interval of a headline: ``evaluate(speed_factor, call_handling_s, turnout_side)`` gives
    ``(shares within each of thresholds_min, mean s)`` at one setting; it is called at the centre and
    at each end of :data:`ENDS` (:func:`end_settings`) and the changes combined (:func:`combine`).
    Every interval kazerne prints -- baseline, slice, mix, map legend, report, compare -- comes from
    here."""
    ends = {n: evaluate(*a) for n, a in end_settings(ranges, call_handling_s).items()}
    return combine(ends, thresholds_min, ranges)


def mix_ends(parts, weights) -> dict:
    """The ``ends`` of an hour-weighted mix: each end's shares and mean averaged with ``weights``
    (the mix of a report is linear in its slices' shares and means, :func:`kazerne.mix_reports`)."""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    out = {}
    for n in parts[0]:
        out[n] = (
            sum(wi * np.asarray(p[n][0], dtype=float) for wi, p in zip(w, parts)),
            float(sum(wi * p[n][1] for wi, p in zip(w, parts))),
        )
    return out


def _headline(first: np.ndarray, w: np.ndarray, th_s: np.ndarray):
    ok = np.isfinite(first)
    shares = np.array([w[first <= t].sum() for t in th_s]) / w.sum()
    mean = float(np.average(first[ok], weights=w[ok])) if ok.any() else float("nan")
    return shares, mean


def headline_interval(tt, demand, thresholds_min, call_handling_s: float | None, crews, profile) -> dict:
    """The interval of the zone's shares within each threshold and of the mean response (from the
    call) for the times ``tt`` (from the call: call handling + turnout + drive), posts of ``crews``.
    ``call_handling_s``: None = the times' own (``tt.clock``); another value than theirs is refused."""
    from ..clock import Clock

    if call_handling_s is None:
        call_handling_s = tt.clock.call_handling_s
    Clock(call_handling_s).require(tt.clock, "tt")
    ranges = parameter_ranges(profile, call_handling_s)
    t = np.asarray(tt.dense(), dtype=np.float64)
    turn = np.asarray(tt.turnout_s, dtype=float)
    drive = t - call_handling_s - turn[:, None]
    keep = ~np.asarray(demand.no_road_data, dtype=bool)
    w = np.asarray(demand.weight, dtype=float)[keep]
    drive = drive[:, keep]
    th_s = np.asarray(thresholds_min, dtype=float) * 60.0
    crews = list(crews)

    def evaluate(k, c, side):
        tr = turnout_medians(turn, crews, ranges, side)
        return _headline(np.min(c + tr[:, None] + drive / k, axis=0), w, th_s)

    return interval_of(evaluate, ranges, call_handling_s, thresholds_min)


def response_ends(seconds, dists, crews, demand, thresholds_min, ranges: dict, call_handling_s: float, central=None):
    """The ``ends`` (:func:`combine`) of a headline under the response-time model (expected shares
    and means, :func:`kazerne.evaluate_response`): ``seconds`` from the alarm with each site's median
    turnout (turnout + drive), ``dists`` the sites' turnout distributions, ``crews`` their crew types.
    ``central``: the :class:`kazerne.ResponseReport` already computed at the centre (reused, with its
    expected times: a call handling end moves every expected time by the same seconds)."""
    from ..response import arrival_probability, expected_response, summarise

    m = np.asarray(seconds.dense() if hasattr(seconds, "dense") else seconds, dtype=np.float64)
    med = np.array([d.median_s for d in dists], dtype=float)
    drive = m - med[:, None]
    crews = list(crews)
    th_s = np.asarray(sorted(float(t) for t in thresholds_min)) * 60.0
    ch = float(call_handling_s)

    def report(prob, ev):
        r = summarise(prob, ev, demand.weight, th_s, no_road_data=demand.no_road_data)
        return np.asarray(r.zone_share, dtype=float), float(r.mean_s)

    ev0 = expected_response(m, dists, ch) if central is None else np.asarray(central.expected_s, dtype=float)

    def evaluate(k, c, side):
        if k == 1.0 and side is None and c == ch:
            if central is not None:
                return np.asarray(central.zone_share, dtype=float), float(central.mean_s)
            return report(arrival_probability(m, dists, th_s, c), ev0)
        if k == 1.0 and side is None:  # call handling alone: the same expected times moved by c - ch
            return report(arrival_probability(m, dists, th_s, c), ev0 + (c - ch))
        new = turnout_medians(med, crews, ranges, side)
        ds = [d.moved_to(float(x)) for d, x in zip(dists, new)] if side is not None else list(dists)
        mm = new[:, None] + drive / k
        return report(arrival_probability(mm, ds, th_s, c), expected_response(mm, ds, c))

    return {n: evaluate(*a) for n, a in end_settings(ranges, call_handling_s).items()}
