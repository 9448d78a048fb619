"""Argument checks of the public API, in one place.

Every exported function and class checks what a caller hands it with these helpers: a bad value
raises a :class:`~kazerne.errors.KazerneError` subclass (:class:`~kazerne.errors.ModelInputError`
unless the caller names another) with one line naming the argument and what was expected — never a
``TypeError``, ``IndexError`` or ``AttributeError`` from deep inside numpy or OR-Tools.
"""

from __future__ import annotations

import math
import numbers
import sys

import numpy as np

from .errors import KazerneError, ModelInputError

__all__ = [
    "MAX_TIME_LIMIT_S",
    "check_array",
    "check_fields",
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


def _text(x) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


def _range(lo, hi, lo_open, hi_open) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {_text(lo)}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {_text(hi)}")
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
    n = int(value)  # type: ignore[call-overload]  # numbers.Real: typeshed has no __int__ on it
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise error(f"expected {what}, got {show(value)}", field=name)
    return n


def check_time_limit(value, name: str = "time_limit", error: type[KazerneError] = ModelInputError) -> float | None:
    """A solve's time limit in seconds: ``None`` (no limit) or a number in ``(0, MAX_TIME_LIMIT_S]``."""
    if value is None:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if not (ok and math.isfinite(float(value)) and 0 < float(value) <= MAX_TIME_LIMIT_S):
        raise error(
            f"expected a finite number of seconds > 0 and <= {_text(MAX_TIME_LIMIT_S)} (a week), got {show(value)}",
            field=name,
        )
    return float(value)


def check_instance(value, types, name: str, what: str, error: type[KazerneError] = ModelInputError):
    """``value`` itself when it is an instance of ``types``; else one line saying ``what`` was expected."""
    if not isinstance(value, types):
        got = show(value) if isinstance(value, (str, numbers.Number, type(None))) else type(value).__name__
        raise error(f"expected {what}, got {got}", field=name)
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


def _accepted(tp):
    """The classes a value of annotation ``tp`` may be an instance of (``None``: anything)."""
    import types
    import typing

    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        out: tuple = ()
        for a in typing.get_args(tp):
            acc = _accepted(a)
            if acc is None:
                return None
            out += acc
        return out
    if origin is not None:
        tp = origin
    if tp is type(None):
        return (type(None),)
    if tp is float:
        return (numbers.Real,)
    if tp is int:
        return (numbers.Integral,)
    if tp is np.ndarray:  # a scalar broadcasts (one turnout for every site)
        return (np.ndarray, list, tuple, numbers.Number, np.generic)
    if tp is list:
        return (list, tuple, np.ndarray)
    if tp is tuple:
        return (tuple, list)
    if isinstance(tp, type) and tp is not object:
        return (tp,)
    return None


def check_fields(obj, error: type[KazerneError] = ModelInputError) -> None:
    """Each field of the dataclass ``obj`` against its annotation (``float`` a real number, ``str``
    text, ``np.ndarray`` an array or a list, ``list`` a list, a class an instance of it; ``None``
    where the default is ``None``): a constructor called with the wrong kind of value says so in one
    line naming ``Class.field``, instead of failing later deep inside numpy."""
    import dataclasses
    import sys

    cls = type(obj)
    hints = getattr(cls, "_kazerne_hints", None)
    if hints is None or hints[0] is not cls:
        glob = vars(sys.modules[cls.__module__])
        acc = {}
        for f in dataclasses.fields(cls):
            try:
                tp = eval(f.type, glob) if isinstance(f.type, str) else f.type  # noqa: S307 (our own annotations)
            except Exception:  # a name imported only for type checking: not checked
                continue
            a = _accepted(tp)
            if a is not None:
                acc[f.name] = a + ((type(None),) if f.default is None else ())
        hints = (cls, acc)
        cls._kazerne_hints = hints  # computed once per class
    for name, acc in hints[1].items():
        v = getattr(obj, name)
        if not isinstance(v, acc) or (isinstance(v, bool) and numbers.Real in acc and bool not in acc):
            kinds = ", ".join(sorted({_KIND.get(a, a.__name__) for a in acc}))
            raise error(f"expected {kinds}, got {show(v)}", field=f"{cls.__name__}.{name}")


_KIND = {
    numbers.Number: "a number",
    np.generic: "a number",
    numbers.Real: "a number",
    numbers.Integral: "a whole number",
    np.ndarray: "an array",
    list: "a list",
    tuple: "a tuple",
    str: "text",
    dict: "a dict",
    bool: "True or False",
    type(None): "None",
}


def _instance(value, module: str, cls: str) -> bool:
    """``isinstance(value, module.cls)`` without importing ``module`` (this module sits below every
    layer): an object of a class whose module was never loaded cannot be an instance of it."""
    mod = sys.modules.get(module)
    return mod is not None and isinstance(value, getattr(mod, cls))


def _check_kind(value, module: str, cls: str, name: str, what: str):
    if not _instance(value, module, cls):
        got = show(value) if isinstance(value, (str, numbers.Number, type(None))) else type(value).__name__
        raise ModelInputError(f"expected {what}, got {got}", field=name)
    return value


def check_zone(zone, name: str = "zone"):
    """``zone`` itself when it is a loaded :class:`~kazerne.routing.zone.Zone` (``kz.load_zone``)."""
    return _check_kind(zone, "kazerne.routing.zone", "Zone", name, 'a Zone (kz.load_zone("hvz-centrum"))')


def check_net(net, name: str = "net"):
    """``net`` itself when it is a :class:`~kazerne.routing.network.RoadNetwork` (``zone.net``)."""
    return _check_kind(net, "kazerne.routing.network", "RoadNetwork", name, "a RoadNetwork (zone.net)")


def check_demand(demand, n_points: int | None = None, name: str = "demand", times: str = "tt"):
    """``demand`` itself when it is :class:`~kazerne.demand.points.DemandPoints` with ``n_points``
    points (the columns of the times ``times`` it goes with)."""
    _check_kind(demand, "kazerne.demand.points", "DemandPoints", name, "DemandPoints (kz.population_grid(zone))")
    if n_points is not None and len(demand.weight) != n_points:
        raise ModelInputError(
            f"{len(demand.weight)} demand points, but {times} has times to {n_points}: expected the demand the "
            f"times were computed for",
            field=name,
        )
    return demand


def check_thresholds_min(thresholds_min, name: str = "thresholds_min") -> list:
    """Thresholds in minutes: a non-empty sequence of finite numbers > 0."""
    th = check_array(
        np.atleast_1d(thresholds_min) if not isinstance(thresholds_min, (str, bytes)) else thresholds_min,
        name,
        ndim=1,
        allow_inf=False,
    )
    if not len(th) or (th <= 0).any():
        raise ModelInputError(f"expected thresholds in minutes > 0, got {show(th.tolist())}", field=name)
    return [float(t) for t in th]


def check_same_lengths(obj, names, n: int, what: str, error: type[KazerneError] = ModelInputError) -> None:
    """Each attribute of ``obj`` in ``names`` (those not ``None``) holds ``n`` values (``what``)."""
    for name in names:
        v = getattr(obj, name)
        if v is not None and len(v) != n:
            raise error(f"expected {n} values ({what}), got {len(v)}", field=f"{type(obj).__name__}.{name}")


def check_progress(progress, name: str = "progress"):
    """A progress bar: ``None`` / ``False`` (none) or an object with ``update(n)`` (e.g. ``tqdm``)."""
    if progress is None or progress is False:
        return None
    if not callable(getattr(progress, "update", None)):
        raise ModelInputError(
            f"expected None, False or an object with update(n) (a tqdm bar), got {show(progress)}", field=name
        )
    return progress


def check_problem(problem, name: str = "problem"):
    """``problem`` itself when it is a :class:`~kazerne.coverage.problem.Problem`."""
    return _check_kind(
        problem,
        "kazerne.coverage.problem",
        "Problem",
        name,
        "a Problem (kz.from_cost_matrix(cost, weights) or tt.to_problem(w))",
    )


def check_costs(C, w, name: str = "cost"):
    """A cost matrix ``(n_sites, n_demand)`` of numbers >= 0 (``inf`` allowed, never NaN) and its
    weights ``(n_demand,)``, finite and >= 0 (the p-median heuristics work on them directly)."""
    c = check_array(C, name, ndim=2, dtype=None, nonneg=True)
    if not np.issubdtype(c.dtype, np.floating):
        c = c.astype(np.float64)
    wt = check_array(w, "w", ndim=1, nonneg=True, allow_inf=False)
    if len(wt) != c.shape[1]:
        raise ModelInputError(f"expected {c.shape[1]} weights (one per column of {name}), got {len(wt)}", field="w")
    return c, wt
