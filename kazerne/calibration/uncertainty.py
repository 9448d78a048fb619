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

__all__ = ["DEFAULT_RANGES", "headline_interval", "parameter_ranges"]

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

    def head(k=1.0, c=call_handling_s, tr=turn):
        return _headline(np.min(c + tr[:, None] + drive / k, axis=0), w, th_s)

    base_s, base_m = head()
    crew = np.array(list(crews), dtype=object)
    if "turnout_shift_s" in ranges:
        sh = ranges["turnout_shift_s"]
        lo_t = turn + np.array([sh.get(c, (0.0, 0.0))[0] for c in crew])
        hi_t = turn + np.array([sh.get(c, (0.0, 0.0))[1] for c in crew])
    else:
        lo_t, hi_t = turn * ranges["turnout_factor"][0], turn * ranges["turnout_factor"][1]
    # each parameter at its favourable (fast) and unfavourable (slow) end
    fast = [head(k=ranges["speed_factor"][1]), head(c=ranges["call_handling_s"][0]), head(tr=np.maximum(lo_t, 0))]
    slow = [head(k=ranges["speed_factor"][0]), head(c=ranges["call_handling_s"][1]), head(tr=hi_t)]
    up_s = np.sqrt(sum(np.maximum(s - base_s, 0) ** 2 for s, _ in fast))
    dn_s = np.sqrt(sum(np.maximum(base_s - s, 0) ** 2 for s, _ in slow))
    dn_m = np.sqrt(sum(max(base_m - m, 0) ** 2 for _, m in fast))
    up_m = np.sqrt(sum(max(m - base_m, 0) ** 2 for _, m in slow))
    rng = {k: v for k, v in ranges.items() if k not in ("turnout_shift_s",)}
    if "turnout_shift_s" in ranges:
        rng["turnout_shift_s"] = ranges["turnout_shift_s"]
    return {
        "method": (
            "each of speed, call handling and turnout at the low and high end of its range, the others held; "
            "interval = headline -/+ root sum of squares of the changes; driving times scaled by 1/speed factor"
        ),
        "ranges": rng,
        "share_within": {
            f"{t:g}": [round(float(max(b - d, 0.0)), 4), round(float(min(b + u, 1.0)), 4)]
            for t, b, d, u in zip(thresholds_min, base_s, dn_s, up_s)
        },
        "share_within_central": {f"{t:g}": round(float(b), 4) for t, b in zip(thresholds_min, base_s)},
        "mean_response_min": [round((base_m - dn_m) / 60, 2), round((base_m + up_m) / 60, 2)],
        "mean_response_min_central": round(base_m / 60, 2),
    }
