"""Batch files: reading, expanding and validating the runs of a sweep or a list of scenario files.

Every run's scenario is validated like a scenario file before anything is computed; a bad field
gives one line naming the batch (or base) file and the swept field (:func:`remap_error`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ..errors import ScenarioError
from .schema import MAX_NAME_CHARS, Scenario, parse_scenario, parse_scenario_data, read_toml

__all__ = ["BATCH_KEYS", "COMBINE", "MAX_RUNS", "BatchSpec", "Run", "digest", "parse_batch", "remap_error", "run_id"]

BATCH_KEYS = {"name", "base", "combine", "scenarios", "council", "description"}
COMBINE = ("product", "zip")
#: Largest number of runs one batch file may expand to.
MAX_RUNS = 100000


@dataclass
class Run:
    """One run of a batch: its id, its swept values and its scenario."""

    id: str
    params: dict
    raw: dict  # the scenario as a TOML dict (name = id)
    source: Path  # the scenario file relative paths resolve against
    sc: Scenario | None = None

    @property
    def kind(self) -> str:
        """The run kind in the table's words (``baseline``, ``ems:pit-add``, ``study:add`` ...)."""
        from .kinds import kind_label

        return kind_label(self.sc) if self.sc is not None else "baseline"


@dataclass
class BatchSpec:
    """A parsed batch file."""

    path: Path
    name: str
    runs: list
    params: list  # swept parameter names, in file order
    combine: str = "product"
    council: bool = False
    description: str = ""


def show(v, limit: int = 60) -> str:
    r = repr(v)
    return r if len(r) <= limit else r[: limit - 4] + " ..."


def _fail(path, fld, msg) -> NoReturn:
    raise ScenarioError(msg, source=str(path), field=fld)


def _range(path, fld, d: dict) -> list:
    for k in d:
        if k not in ("from", "to", "step"):
            _fail(path, f"{fld}.{k}", "unknown key; a range is {from = A, to = B, step = S} (to included)")
    vals = []
    for k in ("from", "to"):
        v = d.get(k)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            _fail(path, f"{fld}.{k}", f"expected a number, got {show(v)}")
        vals.append(v)
    a, b = vals
    step = d.get("step", 1)
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not math.isfinite(step) or step <= 0:
        _fail(path, f"{fld}.step", f"expected a number > 0, got {show(step)}")
    if b < a:
        _fail(path, f"{fld}.to", f"expected to >= from ({a:g}), got {b:g}")
    count = math.floor((b - a) / step + 1e-9) + 1 if math.isfinite((b - a) / step) else math.inf
    if count > MAX_RUNS:
        shown = f"{count:.3g}" if math.isfinite(count) else "too many"
        _fail(path, f"{fld}.step", f"{shown} values from {a:g} to {b:g} in steps of {step:g}; at most {MAX_RUNS}")
    n = int(count)
    ints = all(isinstance(x, int) for x in (a, b, step))
    return [a + i * step if ints else round(a + i * step, 10) for i in range(n)]


def _flatten_sweep(path, d: dict, prefix: str = "") -> dict:
    out: dict[str, Any] = {}
    for k, v in d.items():
        name = f"{prefix}.{k}" if prefix else str(k)
        fld = f"sweep.{name}"
        if isinstance(v, dict):
            if "from" in v or "to" in v:
                out[name] = _range(path, fld, v)
            else:
                out.update(_flatten_sweep(path, v, name))
        elif isinstance(v, list):
            if not v:
                _fail(path, fld, "expected a non-empty list of values")
            out[name] = list(v)
        elif name == "posts.closed" and v == "each":
            out[name] = "each"
        else:
            _fail(path, fld, f"expected a list of values or a range {{from = A, to = B, step = S}}, got {show(v)}")
    return out


def _set(raw: dict, dotted: str, value) -> None:
    parts = dotted.split(".")
    d = raw
    for p in parts[:-1]:
        nxt = d.get(p)
        if not isinstance(nxt, dict):
            nxt = {}
            d[p] = nxt
        d = nxt
    d[parts[-1]] = value


def _apply(raw: dict, name: str, value) -> None:
    if name == "posts.closed":
        if value in ("none", "", None):
            return
        ids = [value] if isinstance(value, str) else list(value)
        for pid in ids:
            _set(raw, f"posts.override.{pid}.closed", True)
        return
    if name == "thresholds" and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    _set(raw, name, value)


def slug_value(v) -> str:
    if isinstance(v, bool):
        s = "true" if v else "false"
    elif isinstance(v, (int, float)):
        s = f"{v:g}"
    elif isinstance(v, (list, tuple)):
        s = "+".join(slug_value(x) for x in v)
    else:
        s = str(v)
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", s).strip("-") or "x"


def digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str, ensure_ascii=True).encode()).hexdigest()


def run_id(params: dict) -> str:
    """A readable id from a run's swept values, stable across re-runs and re-ordered files."""
    parts = [f"{k.split('.')[-1]}={slug_value(v)}" for k, v in params.items()]
    s = "_".join(parts) or "base"
    if len(s) > 80:
        s = s[:70].rstrip("_-") + "-" + digest(params)[:8]
    return s


def remap_error(exc: ScenarioError, spec_path: Path, base_path: Path, params: dict, rid: str) -> ScenarioError:
    """A scenario error of one expanded run, named after the batch field that caused it."""
    fld = exc.field or ""
    for k, v in params.items():
        if (
            fld == k
            or fld.startswith(k + ".")
            or k.startswith(fld + ".")
            or (k == "posts.closed" and fld.startswith("posts"))
        ):
            return ScenarioError(
                f"{exc.detail} (value {show(v)}, run {rid})", source=str(spec_path), field=f"sweep.{k}"
            )
    if exc.source and Path(exc.source) == base_path:
        if not params or list(params) == ["scenario"]:  # the base alone, or a listed scenario file
            return exc
        # not a swept field itself, but this run fails where the base alone did not: name the sweep
        # (its values in this run) and, after it, the base field that went wrong
        swept = ", ".join(f"{k} = {show(v)}" for k, v in params.items())
        fld = f"sweep.{next(iter(params))}" if len(params) == 1 else "sweep"
        return ScenarioError(f"with {swept} (run {rid}), {exc}", source=str(spec_path), field=fld)
    return ScenarioError(f"{exc} (run {rid})", source=str(spec_path))


def _batch_table(path: Path, raw: dict) -> dict:
    """The ``[batch]`` table, its keys checked."""
    if "batch" not in raw:
        _fail(
            path,
            "batch",
            'missing (required): a [batch] table with base = "scenario.toml" and a [sweep], or scenarios = [...]',
        )
    unknown = sorted(set(raw) - {"batch", "sweep"})
    if unknown:
        _fail(path, unknown[0], "unknown key; expected [batch] and [sweep]")
    b = raw["batch"]
    if not isinstance(b, dict):
        _fail(path, "batch", f"expected a table, got {type(b).__name__}")
    for k in b:
        if k not in BATCH_KEYS:
            _fail(path, f"batch.{k}", f"unknown key; expected one of {', '.join(sorted(BATCH_KEYS))}")
    return b


def _batch_name(path: Path, b: dict) -> str:
    name = b.get("name", path.stem)
    if (
        not isinstance(name, str)
        or not name.strip()
        or len(name) > MAX_NAME_CHARS
        or any(c in name for c in "/\\")
        or name.startswith(".")
        or any(ord(c) < 32 for c in name)
    ):
        _fail(
            path,
            "batch.name",
            f"expected a plain name usable as a folder (at most {MAX_NAME_CHARS} characters, "
            f"no / or \\, not starting with '.'), got {show(name)}",
        )
    return name


def _batch_options(path: Path, b: dict) -> tuple[str, bool, str]:
    """``combine``, ``council`` and ``description``; exactly one of ``base`` and ``scenarios``."""
    combine = b.get("combine", "product")
    if combine not in COMBINE:
        _fail(path, "batch.combine", f"expected one of {', '.join(COMBINE)}, got {show(combine)}")
    council = b.get("council", False)
    if not isinstance(council, bool):
        _fail(path, "batch.council", f"expected true or false, got {show(council)}")
    desc = b.get("description", "")
    if not isinstance(desc, str):
        _fail(path, "batch.description", f"expected text, got {show(desc)}")
    has_base, has_list = "base" in b, "scenarios" in b
    if has_base == has_list:
        _fail(
            path,
            "batch",
            'give either base = "scenario.toml" (with a [sweep]) or scenarios = [...], not both'
            if has_base
            else 'missing base = "scenario.toml" (with a [sweep]) or scenarios = [...]',
        )
    return combine, council, desc


def _listed_runs(path: Path, raw: dict, b: dict) -> list:
    """``scenarios = [...]``: one run per scenario file, named as the file names it."""
    if "sweep" in raw:
        _fail(path, "sweep", 'a [sweep] needs base = "scenario.toml", not scenarios = [...]')
    files = b["scenarios"]
    if not isinstance(files, list) or not files or not all(isinstance(f, str) and f.strip() for f in files):
        _fail(path, "batch.scenarios", f"expected a non-empty list of scenario files, got {show(files)}")
    runs = []
    for f in files:
        p = Path(f) if Path(f).is_absolute() else path.parent / f
        sc = parse_scenario(p)
        runs.append(Run(id=sc.name, params={"scenario": f}, raw=sc.raw, source=p, sc=sc))
    return runs


def _axes(path: Path, raw: dict, base_raw: dict) -> dict:
    """The ``[sweep]`` as ``{dotted field: values}`` (``posts.closed = "each"`` expanded)."""
    sweep = raw.get("sweep", {})
    if not isinstance(sweep, dict):
        _fail(path, "sweep", f"expected a table of parameter = [values], got {type(sweep).__name__}")
    axes = _flatten_sweep(path, sweep)
    if "name" in axes:
        _fail(path, "sweep.name", "the run name is the run id; sweep other fields")
    if axes.get("posts.closed") == "each":
        posts = base_raw.get("posts", {})
        closed = {pid for pid, od in posts.get("override", {}).items() if isinstance(od, dict) and od.get("closed")}
        axes["posts.closed"] = ["none"] + [a for a in posts.get("active", []) if a not in closed]
    return axes


def _combos(path: Path, axes: dict, combine: str) -> list:
    """The runs' swept values: the product of the axes, or zipped."""
    params = list(axes)
    if combine == "zip":
        lens = {k: len(v) for k, v in axes.items()}
        if len(set(lens.values())) > 1:
            k = next(k for k in axes if lens[k] != lens[params[0]])
            _fail(
                path,
                f"sweep.{k}",
                f'combine = "zip" needs lists of equal length: {params[0]} has '
                f"{lens[params[0]]} values, {k} has {lens[k]}",
            )
        return [dict(zip(params, vals)) for vals in zip(*axes.values())] if axes else [{}]
    n = math.prod(len(v) for v in axes.values()) if axes else 1
    if n > MAX_RUNS:
        _fail(path, "sweep", f"{n} runs; at most {MAX_RUNS} per batch file")
    import itertools

    return [dict(zip(params, vals)) for vals in itertools.product(*axes.values())] if axes else [{}]


def _swept_runs(path: Path, raw: dict, b: dict, combine: str) -> tuple[list, list]:
    """``base = "scenario.toml"`` and a ``[sweep]``: one run per combination, each validated."""
    bf = b["base"]
    if not isinstance(bf, str) or not bf.strip():
        _fail(path, "batch.base", f"expected the path of a scenario file, got {show(bf)}")
    base_path = Path(bf) if Path(bf).is_absolute() else path.parent / bf
    base_raw = parse_scenario(base_path).raw  # the base alone must be a valid scenario
    axes = _axes(path, raw, base_raw)
    runs = []
    for combo in _combos(path, axes, combine):
        rid = run_id(combo)
        run_raw = copy.deepcopy(base_raw)
        for k, v in combo.items():
            _apply(run_raw, k, v)
        run_raw["name"] = rid
        runs.append(Run(id=rid, params=combo, raw=run_raw, source=base_path))
    seen: dict = {}
    for r in runs:
        seen.setdefault(r.id, []).append(r)
    for rid, same in seen.items():
        if len(same) > 1:
            for r in same:
                r.id = f"{rid}-{digest(r.params)[:8]}"
                r.raw["name"] = r.id
    for r in runs:
        try:
            r.sc = parse_scenario_data(r.raw, r.source)
        except ScenarioError as exc:
            raise remap_error(exc, path, base_path, r.params, r.id) from None
    return runs, list(axes)


def parse_batch(path) -> BatchSpec:
    """Read, expand and validate a batch file; every run's scenario is checked like a scenario file.

    Raises
    ------
    ScenarioError
        One line naming the batch file (or the base / listed scenario file) and the field.
    """
    path = Path(path)
    raw = read_toml(path)
    b = _batch_table(path, raw)
    name = _batch_name(path, b)
    combine, council, desc = _batch_options(path, b)
    if "scenarios" in b:
        runs, params = _listed_runs(path, raw, b), ["scenario"]
    else:
        runs, params = _swept_runs(path, raw, b, combine)
    ids = [r.id for r in runs]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        _fail(path, "batch.scenarios", f"two runs are named {dup!r}; expected distinct scenario names")
    if len(runs) > MAX_RUNS:
        _fail(path, "sweep", f"{len(runs)} runs; at most {MAX_RUNS} per batch file")
    return BatchSpec(
        path=path, name=name.strip(), runs=runs, params=params, combine=combine, council=council, description=desc
    )
