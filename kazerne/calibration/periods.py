"""Which speed period a record's call falls in (the periods of :mod:`kazerne.routing.profiles`).

Default rule (:data:`DEFAULT_PERIOD_RULES`, local time of the 112 call): ``rush_hour`` Monday-Friday
07:00-09:00 and 16:00-19:00; ``night`` every day 20:00-07:00; ``free`` otherwise. A zone with its own
definition passes its rules: ``(period, days, start_hour, end_hour)`` tuples, first match wins, an end
below the start wraps past midnight.
"""

from __future__ import annotations

import numpy as np

from ..routing.profiles import PERIOD_NAMES

__all__ = ["DEFAULT_PERIOD_RULES", "period_of"]

WEEKDAYS = (0, 1, 2, 3, 4)
ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)
DEFAULT_PERIOD_RULES = (
    ("rush_hour", WEEKDAYS, 7.0, 9.0),
    ("rush_hour", WEEKDAYS, 16.0, 19.0),
    ("night", ALL_DAYS, 20.0, 7.0),
)


def period_of(weekday, hour, rules=DEFAULT_PERIOD_RULES) -> np.ndarray:
    """Per call: the index into :data:`~kazerne.routing.profiles.PERIOD_NAMES` (0 = ``free``)."""
    wd = np.asarray(weekday, dtype=np.int64)
    hr = np.asarray(hour, dtype=float)
    out = np.zeros(wd.shape, dtype=np.int64)
    done = np.zeros(wd.shape, dtype=bool)
    for period, days, start, end in rules:
        day = np.isin(wd, days)
        if start <= end:
            hit = day & (hr >= start) & (hr < end)
        else:  # wraps past midnight: the early hours belong to the previous day's night
            prev = np.isin((wd - 1) % 7, days)
            hit = (day & (hr >= start)) | (prev & (hr < end))
        hit &= ~done
        out[hit] = PERIOD_NAMES.index(period)
        done |= hit
    return out
