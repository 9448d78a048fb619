"""The words of an interval: how a headline's interval (:func:`kazerne.calibration.uncertainty.interval_of`,
stored as the ``uncertainty`` block of summary.json) reads in the console, the report, a map legend
and ``kazerne compare`` -- one place, so every output says the same thing.

An interval block holds ``share_within`` ({threshold: [low, high]}), ``share_within_central``,
``mean_response_min`` ([low, high]), ``mean_response_min_central``, ``ranges`` (with ``source``
"default" or "calibration") and ``ends`` (the headline at each end of every range, so that two runs
on the same ranges can be differenced end by end: :func:`difference`).
"""

from __future__ import annotations

import math

__all__ = ["difference", "legend_lines", "mean_text", "ranges_text", "share_text", "short_assumption"]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def ranges_text(ranges: dict) -> str:
    """The interval's assumption in one line (printed beside every interval)."""
    if ranges.get("source") == "calibration":
        k = ranges["speed_factor"]
        c = ranges["call_handling_s"]
        return (
            f"interval from the calibration's standard errors (x1.96): driving time x{1 / k[1]:.3f}-{1 / k[0]:.3f}, "
            f"call handling {c[0]:.0f}-{c[1]:.0f} s, turnout medians +-1.96 SE; each varied alone, the changes "
            "combined by root sum of squares"
        )
    k, c, f = ranges["speed_factor"], ranges["call_handling_s"], ranges["turnout_factor"]
    return (
        f"interval from the documented default ranges (no calibrated profile): speed x{k[0]:g}-{k[1]:g}, call "
        f"handling {c[0]:g}-{c[1]:g} s, turnout medians x{f[0]:g}-{f[1]:g}; each varied alone, the changes "
        "combined by root sum of squares"
    )


def short_assumption(ranges: dict) -> str:
    """The assumption in a few words (map legends)."""
    if ranges.get("source") == "calibration":
        return "range: the calibration's 95 % (speeds, call handling, turnout)"
    k, c, f = ranges["speed_factor"], ranges["call_handling_s"], ranges["turnout_factor"]
    return f"range: speed x{k[0]:g}-{k[1]:g}, call handling {c[0]:g}-{c[1]:g} s, turnout x{f[0]:g}-{f[1]:g}"


def share_text(interval: dict, threshold_min: float, share: float | None = None, dash: str = "-") -> str:
    """``62.0 % within 12 min (45.7-74.1 %)`` (``share``: the point figure; default the interval's centre)."""
    tk = f"{float(threshold_min):g}"
    lo, hi = interval["share_within"][tk]
    s = interval["share_within_central"][tk] if share is None else share
    return f"{_pct(s)} % within {tk} min ({_pct(lo)}{dash}{_pct(hi)} %)"


def mean_text(interval: dict, mean_min: float | None = None, dash: str = "-") -> str:
    """``mean 11.4 min (10.2-13.0)``."""
    lo, hi = interval["mean_response_min"]
    m = interval["mean_response_min_central"] if mean_min is None else mean_min
    return f"mean {m:.1f} min ({lo:.1f}{dash}{hi:.1f})"


def legend_lines(interval: dict, thresholds) -> list:
    """Lines for a map legend: each share with its interval, the mean, the assumption."""
    lines = [share_text(interval, t, dash="–") for t in thresholds if f"{float(t):g}" in interval["share_within"]]
    lines.append(mean_text(interval, dash="–") + " from the call")
    lines.append(short_assumption(interval["ranges"]))
    return lines


def _same_ranges(a: dict, b: dict) -> bool:
    ra = {k: v for k, v in a["ranges"].items() if k != "note"}
    rb = {k: v for k, v in b["ranges"].items() if k != "note"}
    return ra == rb


def difference(a: dict, b: dict, threshold_min: float, share_a: float, share_b: float) -> dict:
    """Whether run B's share within ``threshold_min`` differs from run A's by more than the uncertainty.

    ``a``, ``b``: the two runs' interval blocks; ``share_a``, ``share_b``: their point figures.
    The difference is **inside the uncertainty** when it is no larger than the overlap of the two
    intervals (``overlap = min(highs) - max(lows)``, 0 when they do not overlap). When both runs
    carry their headline at each end of the same ranges, the **paired** change is given too: the
    change at each end (both runs under the same moved assumption), combined like an interval --
    the parameter uncertainty moves both runs together, so the paired change is usually narrower
    than the two intervals suggest.
    """
    tk = f"{float(threshold_min):g}"
    alo, ahi = a["share_within"][tk]
    blo, bhi = b["share_within"][tk]
    diff = float(share_b) - float(share_a)
    overlap = max(0.0, min(ahi, bhi) - max(alo, blo))
    inside = abs(diff) <= overlap + 1e-12
    out = {
        "threshold_min": float(threshold_min),
        "difference": round(diff, 4),
        "interval_a": [alo, ahi],
        "interval_b": [blo, bhi],
        "overlap": round(overlap, 4),
        "inside_uncertainty": bool(inside),
        "paired": None,
    }
    ea, eb = a.get("ends"), b.get("ends")
    if ea and eb and set(ea) == set(eb) and _same_ranges(a, b) and all(tk in ea[n]["share_within"] for n in ea):
        d0 = eb["central"]["share_within"][tk] - ea["central"]["share_within"][tk]
        ds = [eb[n]["share_within"][tk] - ea[n]["share_within"][tk] for n in ea if n != "central"]
        up = math.sqrt(sum(max(d - d0, 0.0) ** 2 for d in ds))
        dn = math.sqrt(sum(max(d0 - d, 0.0) ** 2 for d in ds))
        lo, hi = d0 - dn, d0 + up
        out["paired"] = {
            "difference": [round(lo, 4), round(hi, 4)],
            "same_sign_at_every_end": bool(all(d > 0 for d in ds + [d0]) or all(d < 0 for d in ds + [d0])),
        }
    out["verdict"] = verdict_text(out)
    return out


def verdict_text(d: dict) -> str:
    """The plain sentence of :func:`difference`."""
    tk = f"{d['threshold_min']:g}"
    pt = 100 * d["difference"]
    a, b = d["interval_a"], d["interval_b"]
    ints = f"intervals {_pct(a[0])}-{_pct(a[1])} % and {_pct(b[0])}-{_pct(b[1])} %"
    if d["inside_uncertainty"]:
        s = (
            f"the difference within {tk} min ({pt:+.1f} pt) lies INSIDE the uncertainty: it is no larger than the "
            f"overlap of the {ints} ({100 * d['overlap']:.1f} pt)"
        )
    else:
        s = (
            f"the difference within {tk} min ({pt:+.1f} pt) is larger than the uncertainty: the {ints} overlap by "
            f"{100 * d['overlap']:.1f} pt only"
        )
    p = d.get("paired")
    if p:
        lo, hi = p["difference"]
        s += (
            f"; with both runs under the same assumptions at each end of the ranges the change is {100 * lo:+.1f} to "
            f"{100 * hi:+.1f} pt"
            + (" (its sign holds at every end)" if p["same_sign_at_every_end"] else " (its sign changes at some end)")
        )
    return s
