"""The scenario schema's checking helpers: the :class:`Validator` (one-line errors naming the file
and the field), reading a TOML file safely, positions, and the limits of what a scenario may ask.

Used by the schema (:mod:`kazerne.scenarios.schema`) and its section modules, and by every run
kind's ``parse``.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import NoReturn

from ..errors import ScenarioError

__all__ = ["Validator", "key_text", "plain", "position", "read_toml_file", "show"]

#: Limits of what a scenario may ask for (beyond them the models or the memory give out).
MAX_FILE_BYTES = 4 << 20  # a scenario file is at most 4 MiB of TOML
MAX_NAME_CHARS = 100  # the run name is a folder name (with temporaries: < 255 bytes)
MAX_NAME_BYTES = 150
MAX_TEXT_CHARS = 200  # ids, names, streets, crew types
MAX_THRESHOLD_MIN = 240.0
MAX_TURNOUT_S = 3600.0
MAX_TIME_LIMIT_S = 7 * 86400.0
MAX_SITES = 10000  # [[study.sites]], [[posts.add]], [[ems.bases]] entries
MAX_P = 10000  # posts in a study (k, p_min, p_max)
#: the slowest speeds a scenario may set: below them every response takes hours and no threshold
#: means anything (a tenth of the normal speeds; walking pace is 5 km/h)
MIN_SPEED_SCALE = 0.1
MIN_SPEED_KMH = 1.0


def show(v, limit: int = 60) -> str:
    """``repr(v)`` cut to ``limit`` characters (a hostile value must not flood the error line)."""
    r = repr(v)
    return r if len(r) <= limit else r[: limit - 4] + " ..."


def plain(text: str) -> bool:
    return not any(ord(c) < 32 or ord(c) == 127 for c in text)


def key_text(k) -> str:
    """A table key as it appears in a field name: itself when plain and short, else its cut ``repr``."""
    return k if isinstance(k, str) and plain(k) and len(k) <= 60 else show(k)


class Validator:
    """Small validation helper bound to one file (run kinds validate their sections with it)."""

    def __init__(self, path: Path | str):
        self.src = str(path)

    def fail(self, fld: str | None, msg: str) -> NoReturn:
        raise ScenarioError(msg, source=self.src, field=fld or None)

    def table(self, d, fld, allowed):
        if not isinstance(d, dict):
            self.fail(fld, f"expected a table, got {type(d).__name__}")
        unknown = sorted(set(d) - set(allowed))
        if unknown:
            key = key_text(unknown[0])
            self.fail(f"{fld}.{key}" if fld else key, f"unknown key; expected one of {', '.join(sorted(allowed))}")
        return d

    def tables(self, v, fld, allowed, limit: int = MAX_SITES) -> list:
        """A list of tables (``[[fld]]`` entries), each with keys from ``allowed``."""
        if not isinstance(v, list):
            self.fail(fld, f"expected [[{fld}]] entries (a list of tables), got {type(v).__name__}")
        if len(v) > limit:
            self.fail(fld, f"expected at most {limit} entries, got {len(v)}")
        for i, d in enumerate(v):
            self.table(d, f"{fld}[{i}]", allowed)
        return v

    def number(self, v, fld, lo=None, lo_open=False, hi=None):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(fld, f"expected a number, got {show(v)}")
        if not math.isfinite(v):
            self.fail(fld, f"expected a finite number, got {show(v)}")
        if lo is not None and (v < lo or (lo_open and v == lo)):
            rng = f"{'>' if lo_open else '>='} {lo:g}" + (f" and <= {hi:g}" if hi is not None else "")
            self.fail(fld, f"expected a number {rng}, got {show(v)}")
        if hi is not None and v > hi:
            self.fail(fld, f"expected a number <= {hi:g}, got {show(v)}")
        return float(v)

    def integer(self, v, fld, lo: int, hi: int) -> int:
        """A whole number in ``[lo, hi]`` (a TOML integer, or a float with no fraction)."""
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float))
            or (isinstance(v, float) and not (math.isfinite(v) and v.is_integer()))
        ):
            self.fail(fld, f"expected a whole number from {lo} to {hi}, got {show(v)}")
        if not lo <= v <= hi:
            self.fail(fld, f"expected a whole number from {lo} to {hi}, got {show(v)}")
        return int(v)

    def string(self, v, fld, max_len: int = MAX_TEXT_CHARS):
        if not isinstance(v, str) or not v.strip():
            self.fail(fld, f"expected a non-empty string, got {show(v)}")
        if not plain(v):
            self.fail(fld, f"expected text without control characters (newline, tab, NUL ...), got {show(v)}")
        if len(v) > max_len:
            self.fail(fld, f"expected at most {max_len} characters, got {len(v)}")
        return v.strip()

    def boolean(self, v, fld):
        if not isinstance(v, bool):
            self.fail(fld, f"expected true or false (a TOML boolean, without quotes), got {show(v)}")
        return v

    def choice(self, v, fld, options):
        if not isinstance(v, str) or v not in options:
            self.fail(fld, f"expected one of {', '.join(options)}, got {show(v)}")
        return v


def position(v: Validator, d: dict, fld: str) -> dict:
    out = {}
    has_ll = "lat" in d or "lon" in d
    if has_ll:
        if "lat" not in d or "lon" not in d:
            v.fail(fld, "give both lat and lon")
        out["lat"] = v.number(d["lat"], f"{fld}.lat", lo=-90, hi=90)
        out["lon"] = v.number(d["lon"], f"{fld}.lon", lo=-180, hi=180)
    if "street" in d:
        if has_ll:
            v.fail(fld, "give either lat/lon or street, not both")
        out["street"] = v.string(d["street"], f"{fld}.street")
    if "municipality" in d:
        out["municipality"] = v.string(d["municipality"], f"{fld}.municipality")
    return out


def read_toml_file(path: Path) -> dict:
    src = str(path)
    if path.is_dir():
        raise ScenarioError("is a folder; expected a scenario file (TOML)", source=src)
    if not path.exists():
        raise ScenarioError("file not found", source=src)
    if not path.is_file():
        raise ScenarioError("is not a regular file; expected a scenario file (TOML)", source=src)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(
                f"file of {size / 2**20:.1f} MiB; a scenario file is at most {MAX_FILE_BYTES >> 20} MiB of TOML",
                source=src,
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"cannot read the file ({exc.strerror})", source=src) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("not a UTF-8 text file", source=src) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"TOML syntax error: {exc}", source=src) from None
    except RecursionError:
        raise ScenarioError(
            "TOML nested too deeply (arrays or tables inside each other); expected the fields of scenarios/README.md",
            source=src,
        ) from None
