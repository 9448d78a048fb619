"""A scenario dict as TOML text (the batch writes each run's ``scenario.toml`` with it)."""

from __future__ import annotations

import datetime as _dt
import json
import math
import re

__all__ = ["dumps_toml"]

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k, ensure_ascii=False)


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"cannot write {v!r} in TOML")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (_dt.date, _dt.time)):  # TOML dates ([network] date, a change's from / until)
        return v.isoformat()
    raise ValueError(f"cannot write {type(v).__name__} in TOML")


def _is_table_array(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _emit(d: dict, prefix: str, out: list) -> None:
    for k, v in d.items():
        if not isinstance(v, dict) and not _is_table_array(v):
            out.append(f"{_key(k)} = {_value(v)}")
    for k, v in d.items():
        name = f"{prefix}.{_key(k)}" if prefix else _key(k)
        if isinstance(v, dict):
            out.append(f"\n[{name}]")
            _emit(v, name, out)
        elif _is_table_array(v):
            for item in v:
                out.append(f"\n[[{name}]]")
                _emit(item, name, out)


def dumps_toml(data: dict) -> str:
    """A scenario dict (as ``tomllib`` reads it) as TOML text; ``tomllib.loads`` gives it back."""
    out: list = []
    _emit(data, "", out)
    return "\n".join(out).lstrip("\n") + "\n"
