"""Argument checks of the public API, in one place.

Every exported function and class checks what a caller hands it with these helpers: a bad value
raises a :class:`~kazerne.errors.KazerneError` subclass (:class:`~kazerne.errors.ModelInputError`
unless the caller names another) with one line naming the argument and what was expected — never a
``TypeError``, ``IndexError`` or ``AttributeError`` from deep inside numpy or OR-Tools.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import KazerneError, ModelInputError

__all__ = [
    "MAX_TIME_LIMIT_S",
    "check_array",
    "check_instance",
    "check_int",
    "check_length",
    "check_number",
    "check_time_limit",
    "show",
]

#: the longest time limit any solve accepts (a week); longer is no limit at all, and OR-Tools keeps
#: its limit in integer milliseconds (1e300 s would overflow)
MAX_TIME_LIMIT_S = 7 * 86400.0


def show(value, limit: int = 60) -> str:
    """A short one-line ``repr`` of ``value`` for an error message."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} ({value.dtype})"
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ of a caller's object
        text = f"a {type(value).__name__}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _range(lo, hi, lo_open, hi_open) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {lo:g}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {hi:g}")
    return (" " + " and ".join(parts)) if parts else ""


def check_number(
    value,
    name: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    finite: bool = True,
    error: type[KazerneError] = ModelInputError,
) -> float:
    """``value`` as a float: a real number (not a bool), finite unless ``finite=False`` (NaN never),
    within ``[lo, hi]`` (open ends with ``lo_open`` / ``hi_open``)."""
    what = f"a {'finite ' if finite else ''}number{_range(lo, hi, lo_open, hi_open)}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise error(f"expected {what}, got {show(value)}", field=name)
    v = float(value)
    if math.isnan(v) or (finite and not math.isfinite(v)):
        raise error(f"expected {what}, got {show(value)}", field=name)
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise error(f"expected {what}, got {show(value)}", field=name)
    if hi is not None and (v > hi or (hi_open and v == hi)):
        raise error(f"expected {what}, got {show(value)}", field=name)
    return v


def check_int(
    value,
    name: str,
    *,
    lo: int | None = None,
    hi: int | None = None,
    error: type[KazerneError] = ModelInputError,
) -> int:
    """``value`` as an int: a whole number (an integer, or a float without fraction; not a bool)
    within ``[lo, hi]``."""
    what = f"a whole number{_range(lo, hi, False, False)}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise error(f"expected {what}, got {show(value)}", field=name)
    if not isinstance(value, numbers.Integral):
        v = float(value)
        if not (math.isfinite(v) and v.is_integer()):
            raise error(f"expected {what}, got {show(value)}", field=name)
    n = int(value)
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise error(f"expected {what}, got {show(value)}", field=name)
    return n


def check_time_limit(value, name: str = "time_limit", error: type[KazerneError] = ModelInputError) -> float | None:
    """A solve's time limit in seconds: ``None`` (no limit) or a number in ``(0, MAX_TIME_LIMIT_S]``."""
    if value is None:
        return None
    return check_number(value, name, lo=0.0, lo_open=True, hi=MAX_TIME_LIMIT_S, error=error)


def check_instance(value, types, name: str, what: str, error: type[KazerneError] = ModelInputError):
    """``value`` itself when it is an instance of ``types``; else one line saying ``what`` was expected."""
    if not isinstance(value, types):
        raise error(f"expected {what}, got {show(value)}", field=name)
    return value


def check_array(
    value,
    name: str,
    *,
    ndim: int | None = None,
    dtype=np.float64,
    nonneg: bool = False,
    allow_inf: bool = True,
    allow_nan: bool = False,
    error: type[KazerneError] = ModelInputError,
) -> np.ndarray:
    """``value`` as a numeric numpy array of ``ndim`` dimensions (a copy only when needed): no text or
    objects, no NaN unless ``allow_nan``, no ``inf`` unless ``allow_inf``, no negative values when
    ``nonneg``."""
    dims = {1: "a 1-d array", 2: "a 2-d array"}.get(ndim, "an array") if ndim is not None else "an array"
    kind = "of numbers"
    if isinstance(value, (str, bytes, dict, set)) or value is None:
        raise error(f"expected {dims} {kind}, got {show(value)}", field=name)
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested lists
        raise error(f"expected {dims} {kind}, got {show(value)}", field=name) from None
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.number)):
        raise error(f"expected {dims} {kind}, got {show(value)}", field=name)
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise error(f"expected {dims} of real numbers, got complex values", field=name)
    if ndim is not None and arr.ndim != ndim:
        raise error(f"expected {dims} {kind}, got {arr.ndim} dimension(s) (shape {arr.shape})", field=name)
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    if np.issubdtype(arr.dtype, np.floating) and arr.size:
        if not allow_nan and np.isnan(arr).any():
            raise error(f"expected numbers without NaN ({int(np.isnan(arr).sum())} NaN)", field=name)
        if not allow_inf and np.isinf(arr).any():
            raise error(f"expected finite numbers ({int(np.isinf(arr).sum())} infinite)", field=name)
    if nonneg and arr.size and (arr < 0).any():
        raise error(f"expected values >= 0, got {int((arr < 0).sum())} negative (min {arr.min():g})", field=name)
    return arr


def check_length(n: int, expected: int, name: str, what: str, error: type[KazerneError] = ModelInputError) -> None:
    """One line when ``name`` holds ``n`` entries where ``expected`` (``what``) are needed."""
    if n != expected:
        raise error(f"expected {expected} values ({what}), got {n}", field=name)
