"""Unit checks at the edges of the API: seconds that look like minutes, lat / lon that look swapped.

The models take seconds; a coverage radius or threshold below one minute is almost always minutes
given where seconds were meant (``kz.mclp(prob, p=2, radius=12)``), so it warns
(:class:`UnitsWarning`) and the call goes on as asked. A point more than 1,000 km from the zone is
almost always lat and lon swapped (or a metric coordinate given as degrees); the message says so.
"""

from __future__ import annotations

import warnings

import numpy as np

from .errors import KazerneWarning

#: Below this a time in seconds looks like minutes.
MINUTE_S = 60.0
#: Farther than this from the zone a point looks like lat / lon swapped.
SWAP_HINT_M = 1_000_000.0


class UnitsWarning(KazerneWarning):
    """A value whose unit looks wrong (minutes given as seconds)."""


def warn_if_minutes(seconds: float, field: str, costs=None, stacklevel: int = 3) -> None:
    """Warn when ``0 < seconds < 60``: the models take seconds, and such a value looks like minutes.

    With ``costs`` (the problem's cost matrix) it warns only when the matrix itself looks like
    seconds (median finite cost of a minute or more): a textbook instance in other units (OR-Library
    distances, where a radius of 12 is a radius of 12) stays quiet."""
    s = float(seconds)
    if not 0 < s < MINUTE_S:
        return
    if costs is not None:
        c = np.asarray(costs).ravel()
        c = c[:: max(1, c.size // 100_000)]  # a sample is enough for a median
        c = c[np.isfinite(c)]
        if c.size == 0 or float(np.median(c)) < MINUTE_S:
            return
    warnings.warn(
        f"{field}={s:g} s is under a minute: times are in seconds here; if you meant {s:g} minutes, give {s * 60:g}",
        UnitsWarning,
        stacklevel=stacklevel,
    )


def swap_hint(lon: float, lat: float, distance_m: float) -> str:
    """A clause to add to an error about a point ``distance_m`` metres from the zone or its roads:
    empty unless it is more than 1,000 km away, then a hint that lat / lon may be swapped."""
    if not np.isfinite(distance_m) or distance_m <= SWAP_HINT_M:
        return ""
    return f"; that is more than {SWAP_HINT_M / 1000:,.0f} km from the zone: are lat and lon swapped?"
