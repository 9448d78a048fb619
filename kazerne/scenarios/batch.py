"""Batch studies: many scenario runs from one batch file, sharing the heavy parts.

A batch file (TOML) names a base scenario and the parameters to sweep, or a list of scenario files::

    [batch]
    name = "closures-turnout"            # results in OUT/<name>/
    base = "hvz-centrum-2019.toml"       # relative to the batch file
    combine = "product"                  # or "zip" (all lists of equal length)

    [sweep]
    thresholds = [8, 10, 12, 15]                 # one run per value (a number = [number])
    "posts.closed" = "each"                      # today, then each open post closed in turn
    "turnout.professional" = {from = 60, to = 120, step = 30}

Each run is the base scenario with the dotted fields set; its id is derived from its parameter
values (``thresholds=8_closed=P01_professional=60``). Every run is validated like a scenario file
before anything is computed; a bad field gives one line naming the batch (or base) file and field.

How the work is shared: the zone network and the demand points are loaded once (in the process
that reads the batch); the driving times from every site any baseline run uses to every demand
point are computed once per (network, speed profile, demand, site set) and written as ``.npy``
files under ``OUT/<name>/matrices/`` keyed by a digest of those inputs; each run memory-maps the
file, takes its rows and adds its own turnout times. A baseline run then costs one evaluation.
Runs with ``[study]``, ``[ems]``, ``[response]`` or ``[[slices]]`` sections, or with vehicles or
neighbouring posts (``[vehicles]``, ``[posts.vehicles]``, ``[[posts.neighbours]]``), and every run when
``council = true`` (the per-run
maps, ``report.html`` and ``layers.gpkg``), go through the ordinary scenario runner instead.

Nothing is lost: every finished run (done or failed, with its message) writes a record
``OUT/<name>/records/<id>.json`` after its output folder ``OUT/<name>/runs/<id>/`` is complete, both
atomically; a re-run of the batch skips runs whose record carries the same inputs digest, so an
interrupted batch resumes with the missing runs and a changed input re-runs exactly the runs whose
resolved inputs changed. ``batch.csv`` / ``batch.parquet`` (one row per run) and ``headline.png``
are written at the end from the records.

Executors: in-process (``workers=1``), a local process pool (``workers=N``, a dead worker process
has its runs retried in a fresh pool), or Dask (``scheduler="tcp://host:port"`` or
``dask_local=True``; ``pip install 'kazerne[dask]'``, imported only then; a dead Dask worker's runs
are rescheduled by Dask). Every executor runs the same function on the same task, so the results
are the same.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import logging
import math
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import KazerneError, OutputError, ScenarioError
from .batch_tables import fast_path_reason, run_labels, summary_municipality_rows, tick_text
from .batch_tables import municipality_rows as long_rows
from .schema import (
    MAX_NAME_CHARS,
    Scenario,
    parse_scenario,
    parse_scenario_data,
    read_toml,
)

log = logging.getLogger("kazerne")

BATCH_KEYS = {"name", "base", "combine", "scenarios", "council", "description"}
COMBINE = ("product", "zip")
#: Largest number of runs one batch file may expand to.
MAX_RUNS = 100000
#: Attempts of one run whose worker process dies (process pool); Dask has its own (allowed-failures).
MAX_ATTEMPTS = 3
#: Marker of a batch output folder (the folder is filled run by run, so it has its own marker).
BATCH_MARKER = ".kazerne-batch.json"
#: Columns that differ between two executions of the same batch (left out when tables are compared).
VOLATILE_COLUMNS = ("wall_s", "attempts")

__all__ = [
    "VOLATILE_COLUMNS",
    "BatchResult",
    "BatchSpec",
    "Run",
    "RunTask",
    "dumps_toml",
    "execute_run",
    "parse_batch",
    "plan_batch",
    "read_table",
    "run_batch",
]


# ------------------------------------------------------------------------------------------- TOML out
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


# ------------------------------------------------------------------------------------------ the file
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
        if self.sc is not None and self.sc.study:
            return f"study:{self.sc.study['kind']}"
        if self.sc is not None and self.sc.ems:
            return f"ems:{self.sc.ems['kind']}"
        return "baseline"


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


def _show(v, limit: int = 60) -> str:
    r = repr(v)
    return r if len(r) <= limit else r[: limit - 4] + " ..."


def _fail(path, fld, msg):
    raise ScenarioError(msg, source=str(path), field=fld)


def _range(path, fld, d: dict) -> list:
    for k in d:
        if k not in ("from", "to", "step"):
            _fail(path, f"{fld}.{k}", "unknown key; a range is {from = A, to = B, step = S} (to included)")
    vals = []
    for k in ("from", "to"):
        v = d.get(k)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            _fail(path, f"{fld}.{k}", f"expected a number, got {_show(v)}")
        vals.append(v)
    a, b = vals
    step = d.get("step", 1)
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not math.isfinite(step) or step <= 0:
        _fail(path, f"{fld}.step", f"expected a number > 0, got {_show(step)}")
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
    out = {}
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
            _fail(path, fld, f"expected a list of values or a range {{from = A, to = B, step = S}}, got {_show(v)}")
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


def _slug_value(v) -> str:
    if isinstance(v, bool):
        s = "true" if v else "false"
    elif isinstance(v, (int, float)):
        s = f"{v:g}"
    elif isinstance(v, (list, tuple)):
        s = "+".join(_slug_value(x) for x in v)
    else:
        s = str(v)
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", s).strip("-") or "x"


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str, ensure_ascii=True).encode()).hexdigest()


def run_id(params: dict) -> str:
    """A readable id from a run's swept values, stable across re-runs and re-ordered files."""
    parts = [f"{k.split('.')[-1]}={_slug_value(v)}" for k, v in params.items()]
    s = "_".join(parts) or "base"
    if len(s) > 80:
        s = s[:70].rstrip("_-") + "-" + _digest(params)[:8]
    return s


def _remap_error(exc: ScenarioError, spec_path: Path, base_path: Path, params: dict, rid: str) -> ScenarioError:
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
                f"{exc.detail} (value {_show(v)}, run {rid})", source=str(spec_path), field=f"sweep.{k}"
            )
    if exc.source and Path(exc.source) == base_path:
        if not params or list(params) == ["scenario"]:  # the base alone, or a listed scenario file
            return exc
        # not a swept field itself, but this run fails where the base alone did not: name the sweep
        # (its values in this run) and, after it, the base field that went wrong
        swept = ", ".join(f"{k} = {_show(v)}" for k, v in params.items())
        fld = f"sweep.{next(iter(params))}" if len(params) == 1 else "sweep"
        return ScenarioError(f"with {swept} (run {rid}), {exc}", source=str(spec_path), field=fld)
    return ScenarioError(f"{exc} (run {rid})", source=str(spec_path))


def parse_batch(path) -> BatchSpec:
    """Read, expand and validate a batch file; every run's scenario is checked like a scenario file.

    Raises
    ------
    ScenarioError
        One line naming the batch file (or the base / listed scenario file) and the field.
    """
    path = Path(path)
    raw = read_toml(path)
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
            f"no / or \\, not starting with '.'), got {_show(name)}",
        )
    combine = b.get("combine", "product")
    if combine not in COMBINE:
        _fail(path, "batch.combine", f"expected one of {', '.join(COMBINE)}, got {_show(combine)}")
    council = b.get("council", False)
    if not isinstance(council, bool):
        _fail(path, "batch.council", f"expected true or false, got {_show(council)}")
    desc = b.get("description", "")
    if not isinstance(desc, str):
        _fail(path, "batch.description", f"expected text, got {_show(desc)}")
    has_base, has_list = "base" in b, "scenarios" in b
    if has_base == has_list:
        _fail(
            path,
            "batch",
            'give either base = "scenario.toml" (with a [sweep]) or scenarios = [...], not both'
            if has_base
            else 'missing base = "scenario.toml" (with a [sweep]) or scenarios = [...]',
        )
    runs: list = []
    params: list = []
    if has_list:
        if "sweep" in raw:
            _fail(path, "sweep", 'a [sweep] needs base = "scenario.toml", not scenarios = [...]')
        files = b["scenarios"]
        if not isinstance(files, list) or not files or not all(isinstance(f, str) and f.strip() for f in files):
            _fail(path, "batch.scenarios", f"expected a non-empty list of scenario files, got {_show(files)}")
        for f in files:
            p = Path(f) if Path(f).is_absolute() else path.parent / f
            sc = parse_scenario(p)
            runs.append(Run(id=sc.name, params={"scenario": f}, raw=sc.raw, source=p, sc=sc))
        params = ["scenario"]
    else:
        bf = b["base"]
        if not isinstance(bf, str) or not bf.strip():
            _fail(path, "batch.base", f"expected the path of a scenario file, got {_show(bf)}")
        base_path = Path(bf) if Path(bf).is_absolute() else path.parent / bf
        base_sc = parse_scenario(base_path)  # the base alone must be a valid scenario
        base_raw = base_sc.raw
        sweep = raw.get("sweep", {})
        if not isinstance(sweep, dict):
            _fail(path, "sweep", f"expected a table of parameter = [values], got {type(sweep).__name__}")
        axes = _flatten_sweep(path, sweep)
        for k in axes:
            if k == "name":
                _fail(path, "sweep.name", "the run name is the run id; sweep other fields")
        if axes.get("posts.closed") == "each":
            closed = {
                pid
                for pid, od in base_raw.get("posts", {}).get("override", {}).items()
                if isinstance(od, dict) and od.get("closed")
            }
            axes["posts.closed"] = ["none"] + [
                a for a in base_raw.get("posts", {}).get("active", []) if a not in closed
            ]
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
            combos = [dict(zip(params, vals)) for vals in zip(*axes.values())] if axes else [{}]
        else:
            n = math.prod(len(v) for v in axes.values()) if axes else 1
            if n > MAX_RUNS:
                _fail(path, "sweep", f"{n} runs; at most {MAX_RUNS} per batch file")
            import itertools

            combos = [dict(zip(params, vals)) for vals in itertools.product(*axes.values())] if axes else [{}]
        for combo in combos:
            rid = run_id(combo)
            r = copy.deepcopy(base_raw)
            for k, v in combo.items():
                _apply(r, k, v)
            r["name"] = rid
            runs.append(Run(id=rid, params=combo, raw=r, source=base_path))
        seen: dict = {}
        for r in runs:
            seen.setdefault(r.id, []).append(r)
        for rid, same in seen.items():
            if len(same) > 1:
                for r in same:
                    r.id = f"{rid}-{_digest(r.params)[:8]}"
                    r.raw["name"] = r.id
        for r in runs:
            try:
                r.sc = parse_scenario_data(r.raw, r.source)
            except ScenarioError as exc:
                raise _remap_error(exc, path, base_path, r.params, r.id) from None
    ids = [r.id for r in runs]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        _fail(path, "batch.scenarios", f"two runs are named {dup!r}; expected distinct scenario names")
    if len(runs) > MAX_RUNS:
        _fail(path, "sweep", f"{len(runs)} runs; at most {MAX_RUNS} per batch file")
    return BatchSpec(
        path=path, name=name.strip(), runs=runs, params=params, combine=combine, council=council, description=desc
    )


# ------------------------------------------------------------------------------------------ planning
@dataclass
class RunTask:
    """What a worker needs for one run (picklable; no zone, no network)."""

    id: str
    kind: str  # "fast" (shared matrix) or "runner"
    digest: str  # the run's resolved inputs
    params: dict
    out_dir: str  # OUT/<batch>/
    scenario_toml: str
    run_kind: str = "baseline"
    path_reason: str = ""  # why a run goes through the scenario runner ("" on the fast path)
    # fast path
    matrix: str | None = None
    rows: list | None = None
    demand: str | None = None
    turnout_s: list | None = None
    call_handling_s: float = 0.0
    thresholds_min: list | None = None
    post_rows: list | None = None
    worst_n: int = 20
    extra_thresholds: list | None = None  # a thresholds sweep: every swept threshold is reported
    assumptions: dict | None = None
    scenario_info: dict | None = None
    # runner path
    scenario: Scenario | None = None
    attempts: int = 1


@dataclass
class Plan:
    spec: BatchSpec
    out_dir: Path
    tasks: list  # every run, in file order
    todo: list  # ids to run
    states: dict  # id -> "done" / "failed" / "to run" (+ " (inputs changed)")
    matrices: list = field(default_factory=list)  # (path, profile, nodes, demand) to compute


def _array_digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _file_digest(p) -> str:
    try:
        from ..routing.network import file_sha256

        return file_sha256(Path(p))
    except OSError:
        return "missing"


def _records_dir(out_dir: Path) -> Path:
    return out_dir / "records"


def read_record(out_dir: Path, rid: str) -> dict | None:
    p = _records_dir(out_dir) / f"{rid}.json"
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def check_batch_dir(out_dir: Path) -> None:
    """The batch folder is absent, empty, or one that kazerne batch wrote (its marker inside)."""
    from ..report.atomic import check_output_dir

    if out_dir.is_dir() and (out_dir / BATCH_MARKER).is_file():
        return
    if out_dir.is_dir() and not any(out_dir.iterdir()):
        return
    if os.path.lexists(out_dir):
        raise OutputError(
            f"exists and was not written by kazerne batch (no {BATCH_MARKER} inside); kazerne will "
            "not write into it (move it away or choose another --out)",
            source=str(out_dir),
            field="--out",
        )
    check_output_dir(out_dir)


def plan_batch(spec: BatchSpec, out_root, retry_failed: bool = False, quiet: bool = True) -> Plan:
    """Resolve every run against its zone (loaded once per zone and demand), give each its inputs
    digest and its task, and find which runs are missing (no record with that digest)."""
    from ..progress import Progress
    from ..report.atomic import check_output_dir
    from .context import assumptions, load_context
    from .resolve import in_file, profile_of

    out_dir = Path(out_root) / spec.name
    check_batch_dir(out_dir)
    for r in spec.runs:
        if (out_dir / "runs" / r.id).exists():
            check_output_dir(out_dir / "runs" / r.id)
    mdir = out_dir / "matrices"
    contexts: dict = {}
    groups: dict = {}  # (ctx key, profile key) -> {"nodes": set, "runs": [...]}
    tasks: dict = {}
    progress = Progress(quiet=True)
    post_cache: dict = {}
    swept_th = sorted({float(t) for r in spec.runs for t in r.sc.thresholds_min}) if "thresholds" in spec.params else []
    r = None
    try:
        for r in spec.runs:
            sc = r.sc
            raw_out = copy.deepcopy(r.raw)
            raw_out["name"] = r.id
            if "file" in sc.demand:  # absolute, so that the run's scenario.toml runs from anywhere
                raw_out["demand"]["file"] = sc.demand["file"]
            toml_text = dumps_toml(raw_out)
            # the response model ([response] / [[slices]]) and vehicles / neighbouring posts
            # (kazerne.scenarios.fleet) run through the ordinary runner, like studies
            why = fast_path_reason(sc, spec.council, r.raw)
            fast = not why
            ckey = _digest(
                {
                    "zone": sc.zone,
                    "demand": sc.demand,
                    "demand_file": _file_digest(sc.demand["file"]) if "file" in sc.demand else None,
                }
            )
            if ckey not in contexts:
                ctx = load_context(sc, progress)
                dem = ctx.demand
                extra = [a for a in (dem.edge, dem.frac) if a is not None]  # streets snapped onto (issue 23)
                ddig = _array_digest(dem.node, dem.weight, dem.no_road_data, dem.municipality, dem.lon, dem.lat, *extra)
                contexts[ckey] = (ctx, ddig)
            ctx, ddig = contexts[ckey]
            net_id = ctx.zone.net.source_sha256
            if fast:
                ctx_r = _with_scenario(ctx, sc)
                posts = _resolve_posts_cached(ctx.zone, sc, post_cache)
                prof = profile_of(sc)
                pkey = prof.key() if hasattr(prof, "key") else _digest(prof.describe())
                g = groups.setdefault(
                    (ckey, _digest(prof.describe())),
                    {"nodes": set(), "tasks": [], "ctx": ctx, "profile": prof, "ddig": ddig},
                )
                places = list(zip(posts.node.tolist(), posts.edge.tolist(), posts.frac.tolist()))  # on streets
                g["nodes"].update(places)
                digest = _digest(
                    {
                        "v": __version__,
                        "path": "fast",
                        "net": net_id,
                        "demand": ddig,
                        "profile": str(pkey),
                        "profile_d": prof.describe(),
                        "thresholds": list(sc.thresholds_min),
                        "call_handling_s": sc.call_handling_s,
                        "posts": posts.rows(),
                        "nodes": places,
                        "worst_n": sc.worst_n,
                    }
                )
                with in_file(sc.path):
                    a = assumptions(ctx_r, posts)
                t = RunTask(
                    id=r.id,
                    kind="fast",
                    digest=digest,
                    params=r.params,
                    out_dir=str(out_dir),
                    scenario_toml=toml_text,
                    run_kind=r.kind,
                    turnout_s=[float(x) for x in posts.turnout_s],
                    call_handling_s=float(sc.call_handling_s),
                    thresholds_min=list(sc.thresholds_min),
                    post_rows=posts.rows(),
                    worst_n=sc.worst_n,
                    extra_thresholds=sorted(set(swept_th) - set(map(float, sc.thresholds_min))),
                    assumptions=a,
                    scenario_info={"name": r.id, "file": str(sc.path), "description": sc.description},
                )
                t._nodes = places  # resolved to matrix rows below
                g["tasks"].append(t)
            else:
                scr = copy.deepcopy(sc)
                scr.name = r.id
                if not spec.council:
                    # no per-run maps, reports, GeoPackages, nor the heavy GeoJSON unless the run's file asks
                    asked = r.raw.get("outputs", {}) if isinstance(r.raw.get("outputs"), dict) else {}
                    scr.outputs = {
                        **scr.outputs,
                        "map": False,
                        "report": False,
                        "gpkg": False,
                        "geojson": bool(asked.get("geojson", False)),
                        "first_due_areas": bool(asked.get("first_due_areas", False)),
                    }
                digest = _digest(
                    {
                        "v": __version__,
                        "path": "runner",
                        "net": net_id,
                        "demand": ddig,
                        "raw": raw_out,
                        "council": spec.council,
                    }
                )
                t = RunTask(
                    id=r.id,
                    kind="runner",
                    digest=digest,
                    params=r.params,
                    out_dir=str(out_dir),
                    scenario_toml=toml_text,
                    run_kind=r.kind,
                    scenario=scr,
                    path_reason=why,
                )
            tasks[r.id] = t
    except ScenarioError as exc:  # a run of the sweep, named by its swept field and value
        if r is None:
            raise
        raise _remap_error(exc, spec.path, r.source, r.params, r.id) from None
    matrices = []
    for (ckey, pdig), g in groups.items():
        nodes = sorted(g["nodes"])
        ctx = g["ctx"]
        mdig = _digest(
            {"net": ctx.zone.net.source_sha256, "demand": g["ddig"], "profile": pdig, "nodes": nodes, "v": 2}
        )
        mpath = mdir / f"times-{mdig[:24]}.npy"
        dpath = mdir / f"demand-{g['ddig'][:24]}.npz"
        pos = {n: i for i, n in enumerate(nodes)}
        for t in g["tasks"]:
            t.matrix, t.demand = str(mpath), str(dpath)
            t.rows = [pos[n] for n in t._nodes]
            del t._nodes
        matrices.append((mpath, dpath, g["profile"], np.array(nodes, dtype=float).reshape(-1, 3), ctx))
    states, todo = {}, []
    for r in spec.runs:
        rec = read_record(out_dir, r.id)
        t = tasks[r.id]
        if (
            rec is not None
            and rec.get("digest") == t.digest
            and (rec.get("status") == "done" or (rec.get("status") == "failed" and not retry_failed))
        ):
            states[r.id] = rec["status"]
        else:
            states[r.id] = "to run" + (" (inputs changed)" if rec is not None and rec.get("digest") != t.digest else "")
            todo.append(r.id)
    return Plan(
        spec=spec, out_dir=out_dir, tasks=[tasks[r.id] for r in spec.runs], todo=todo, states=states, matrices=matrices
    )


def _resolve_posts_cached(zone, sc: Scenario, cache: dict):
    """:func:`~kazerne.scenarios.resolve.resolve_posts`, each distinct post (its spec and the
    turnout table) placed once per batch: runs differ in a few fields, not in where posts stand."""
    from .resolve import resolve_posts

    parts = []
    turnout = tuple(sorted(sc.turnout_s.items()))
    for spec in sc.posts:
        key = (sc.zone, repr(spec), turnout, str(sc.path))
        if key not in cache:
            one = copy.copy(sc)
            one.posts = [spec]
            cache[key] = resolve_posts(zone, one)
        parts.append(cache[key])
    if not parts:
        return resolve_posts(zone, sc)
    return parts[0].concat(*parts[1:])


def _with_scenario(ctx, sc):
    """The loaded context with another scenario's thresholds and profile (same zone and demand)."""
    from .context import Context
    from .resolve import profile_of

    return Context(
        sc=sc,
        zone=ctx.zone,
        profile=profile_of(sc),
        demand=ctx.demand,
        thresholds_s=np.array(sc.thresholds_min, dtype=float) * 60.0,
    )


def _save_npy(path: Path, arr: np.ndarray) -> None:
    from ..report.atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, arr)


def build_shared(plan: Plan, quiet: bool = True) -> dict:
    """Compute the missing driving-time matrices and demand files of the runs still to do."""
    from ..report.atomic import atomic_path
    from ..routing.travel import demand_drive_times

    needed = {plan.tasks[i].matrix for i in range(len(plan.tasks)) if plan.tasks[i].id in set(plan.todo)}
    stats = {"matrices_built": 0, "matrices_reused": 0, "matrix_s": 0.0}
    for mpath, dpath, prof, nodes, ctx in plan.matrices:
        if str(mpath) not in needed:
            continue
        if not dpath.is_file():
            d = ctx.demand
            with atomic_path(dpath) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(
                        fh,
                        weight=d.weight,
                        no_road_data=d.no_road_data,
                        municipality=d.municipality,
                        municipality_names=np.array(d.municipality_names, dtype=str),
                        lon=d.lon,
                        lat=d.lat,
                        cell_m=np.array(d.cell_m if d.cell_m else 0.0),
                        population=np.array(d.total),
                        no_road_data_population=np.array(d.total_no_road_data),
                        notes=np.array(json.dumps(d.meta.get("notes", {}), default=str)),
                        gap_shadow_meta=np.array(json.dumps(d.meta.get("gap_shadow", {}), default=str)),
                        **({"gap_shadow": d.gap_shadow} if d.gap_shadow is not None else {}),
                    )
        if mpath.is_file():
            stats["matrices_reused"] += 1
            continue
        t0 = time.perf_counter()
        out = np.empty((len(nodes), len(ctx.demand)), dtype=np.float64)
        for i in range(0, len(nodes), 128):
            n, e, f = nodes[i : i + 128].T  # (node, edge, frac): the sites leave from their streets
            out[i : i + 128] = demand_drive_times(
                ctx.zone.net, prof, n.astype(np.int64), ctx.demand, site_edge=e.astype(np.int64), site_frac=f
            )
        _save_npy(mpath, out)
        stats["matrices_built"] += 1
        stats["matrix_s"] += time.perf_counter() - t0
    return stats


# ------------------------------------------------------------------------------------------ one run
_MM: dict = {}


def _mmap(path: str):
    m = _MM.get(path)
    if m is None:
        if len(_MM) > 16:
            _MM.clear()
        m = np.load(path, mmap_mode="r", allow_pickle=False)
        _MM[path] = m
    return m


_DEM: dict = {}


def _demand(path: str) -> dict:
    d = _DEM.get(path)
    if d is None:
        with np.load(path, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
        d["municipality_names"] = [str(x) for x in d["municipality_names"]]
        _DEM.clear()
        _DEM[path] = d
    return d


def _fast_run(task: RunTask, target: Path) -> dict:
    from ..coverage.metrics import evaluate, worst_served
    from ..jsonsafe import json_safe
    from ..report.atomic import atomic_dir, write_json, write_text
    from ..report.tables import write_csv
    from ..routing.travel import TravelTimes
    from .context import headline, mins, municipality_rows

    d = _demand(task.demand)
    mm = _mmap(task.matrix)
    turnout = np.asarray(task.turnout_s, dtype=float)
    # the travel_times convention: turnout + drive summed in float64, kept as float32, then the call
    # handling added in float64 (TravelTimes.shifted): identical to a scenario run's numbers, ties included
    dem_t = (np.asarray(mm[task.rows], dtype=np.float64) + turnout[:, None]).astype(np.float32)
    ch = float(task.call_handling_s)
    dem_t = (
        TravelTimes(site_ids=[p["id"] for p in task.post_rows], turnout_s=turnout, seconds=dem_t).shifted(ch).seconds
    )
    th = list(task.thresholds_min)
    cell = float(d["cell_m"])
    rep = evaluate(
        dem_t,
        d["weight"],
        np.array(th, dtype=float) * 60.0,
        no_road_data=d["no_road_data"],
        municipality=d["municipality"],
        municipality_names=d["municipality_names"],
        cell_area_km2=(cell / 1000.0) ** 2 if cell else None,
        gap_shadow=d.get("gap_shadow"),
    )
    th_all = sorted(set(th) | set(task.extra_thresholds or []))
    rep_all = rep
    if th_all != th:  # a thresholds sweep: this run's shares at every swept threshold too
        rep_all = evaluate(
            dem_t,
            d["weight"],
            np.array(th_all, dtype=float) * 60.0,
            no_road_data=d["no_road_data"],
            municipality=d["municipality"],
            municipality_names=d["municipality_names"],
        )
    names = d["municipality_names"]
    ids = [p["id"] for p in task.post_rows]
    post_rows = []
    for i, r in enumerate(task.post_rows):
        post_rows.append(
            {
                **r,
                "first_due_population": round(rep.sites[i]["first_due_weight"], 1),
                "first_due_points": rep.sites[i]["first_due_points"],
                # the area is the first-due polygon's (layers.gpkg, first_due.geojson), which needs the
                # network: left out here, as the fast path leaves out every geometry
                "first_due_area_km2": None,
            }
        )
    worst = worst_served(rep, d["weight"], n=task.worst_n)
    worst_rows = [
        {
            "rank": k + 1,
            "municipality": names[d["municipality"][i]],
            "lon": round(float(d["lon"][i]), 6),
            "lat": round(float(d["lat"][i]), 6),
            "population": round(float(d["weight"][i]), 1),
            "first_min": mins(rep.first_s[i]),
            "first_post": ids[rep.first_site[i]] if rep.first_site[i] >= 0 else None,
            "second_min": mins(rep.second_s[i]),
        }
        for k, i in enumerate(worst)
    ]
    ok = np.isfinite(rep.first_s) & (rep.first_site >= 0) & ~d["no_road_data"]
    drive = rep.first_s[ok] - turnout[rep.first_site[ok]] - ch
    w = d["weight"][ok]
    mean_drive = float(np.average(drive, weights=w)) if ok.any() and w.sum() > 0 else None
    summary = {
        "kazerne_version": __version__,
        "scenario": task.scenario_info,
        "batch": {
            "run_id": task.id,
            "params": task.params,
            "inputs_digest": task.digest,
            "outputs": "batch (fast path): no audit, demand / first-due GeoJSON, first-due areas (km²), maps, "
            "report.html or layers.gpkg; run scenario.toml with kazerne run for those",
        },
        "assumptions": task.assumptions,
        "mean_drive_min_first_unit": mins(mean_drive),
        "demand": {
            "points": len(d["weight"]),
            "population": float(d["population"]),
            "no_road_data_points": int(d["no_road_data"].sum()),
            "no_road_data_population": float(d["no_road_data_population"]),
            "gap_shadow": json.loads(str(d["gap_shadow_meta"])) if "gap_shadow_meta" in d else {},
            "notes": json.loads(str(d["notes"])),
        },
        "posts": post_rows,
        "zone": headline(rep, th),
        "municipalities": municipality_rows(rep, th),
        "worst_served": worst_rows,
    }
    with atomic_dir(target, field=None) as tmp:
        write_json(tmp / "summary.json", json_safe(summary))
        write_csv(tmp / "municipalities.csv", summary["municipalities"])
        write_csv(tmp / "posts.csv", post_rows)
        write_csv(
            tmp / "worst.csv",
            worst_rows,
            columns=["rank", "municipality", "lon", "lat", "population", "first_min", "first_post", "second_min"],
        )
        write_text(tmp / "scenario.toml", task.scenario_toml)
    nums = _row_numbers({**summary, "zone": headline(rep_all, th_all)})
    nums["threshold_min"] = min(th)
    nums["_municipalities"] = long_rows(rep_all.municipalities, th_all)
    return nums


def _row_numbers(summary: dict) -> dict:
    """Headline columns of a run's summary: shares per threshold, mean / p90, solve status and gap."""
    row: dict = {}
    z = summary.get("zone")
    if z:
        for t, s in z["share_within"].items():
            row[f"share_within_{t}min"] = s
        for t, s in z["population_within"].items():
            row[f"population_within_{t}min"] = s
        row["mean_response_min"] = z.get("mean_response_min")
        row["p90_response_min"] = z.get("p90_response_min")
        row["population_unreachable"] = z.get("population_unreachable")
    solves = list(summary.get("solves") or []) + ([summary["solve"]] if summary.get("solve") else [])
    if solves:
        st = sorted({str(s.get("status")) for s in solves})
        row["solve_status"] = "/".join(st)
        gaps = [s.get("gap") for s in solves if isinstance(s.get("gap"), (int, float))]
        row["gap"] = max(gaps) if gaps else None
        row["solves"] = len(solves)
    res = summary.get("result")
    if isinstance(res, dict):
        for k, v in res.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                row[f"result.{k}"] = v
            elif (
                isinstance(v, dict)
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v.values())
                and len(v) <= 20
            ):
                for kk, x in v.items():
                    row[f"result.{k}.{kk}"] = x
    return row


def _runner_run(task: RunTask, target: Path) -> dict:
    from ..progress import Progress
    from .runner import run_scenario

    run_scenario(task.scenario, target.parent, Progress(quiet=True))
    try:
        summary = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        summary = {}
    nums = _row_numbers(summary)
    th = (summary.get("assumptions") or {}).get("thresholds_min")
    if th:
        nums["threshold_min"] = min(float(t) for t in th)
    nums["_municipalities"] = summary_municipality_rows(summary)
    return nums


def _one_line(text) -> str:
    out = "".join(c if c.isprintable() else " " for c in str(text))
    return out if len(out) <= 500 else out[:496] + " ..."


def execute_run(task: RunTask) -> dict:
    """Run one task (in any process): write its folder, then its record; return the record.

    An exception becomes a ``failed`` record with its message (the batch goes on); only
    ``KeyboardInterrupt`` / ``SystemExit`` pass through.
    """
    from ..jsonsafe import json_safe
    from ..report.atomic import write_json

    out_dir = Path(task.out_dir)
    target = out_dir / "runs" / task.id
    t0 = time.perf_counter()
    rec = {
        "run_id": task.id,
        "status": "done",
        "kind": task.run_kind,
        "digest": task.digest,
        "params": task.params,
        "error": "",
        "folder": f"runs/{task.id}",
    }
    try:
        nums = _fast_run(task, target) if task.kind == "fast" else _runner_run(task, target)
    except Exception as exc:  # noqa: BLE001 - a failing run is recorded, the batch goes on
        nums = {}
        rec["status"] = "failed"
        rec["error"] = _one_line(f"{type(exc).__name__}: {exc}" if not isinstance(exc, KazerneError) else exc)
        rec["folder"] = ""
        log.info("batch run %s failed: %s", task.id, rec["error"])
    rec["municipalities"] = nums.pop("_municipalities", [])
    rec["path"] = task.kind
    rec["numbers"] = nums
    rec["wall_s"] = round(time.perf_counter() - t0, 4)
    rec["attempts"] = task.attempts
    rec["worker"] = os.getpid()
    write_json(_records_dir(out_dir) / f"{task.id}.json", json_safe(rec))
    return rec


def _dask_task(task: RunTask) -> dict:
    """Entry point on a Dask worker: looked up by name, so that the worker runs :func:`execute_run`."""
    return execute_run(task)


# ------------------------------------------------------------------------------------------ executors
def _failed_record(task: RunTask, msg: str) -> dict:
    from ..report.atomic import write_json

    rec = {
        "run_id": task.id,
        "status": "failed",
        "kind": task.run_kind,
        "digest": task.digest,
        "params": task.params,
        "error": msg,
        "folder": "",
        "numbers": {},
        "wall_s": 0.0,
        "attempts": task.attempts,
        "worker": None,
    }
    write_json(_records_dir(Path(task.out_dir)) / f"{task.id}.json", rec)
    return rec


def _serial(tasks, bar):
    for t in tasks:
        yield execute_run(t)
        bar.update(1)


def _running_dir(task: RunTask) -> Path:
    return Path(task.out_dir) / "records" / ".running"


def _pool_task(task: RunTask) -> dict:
    """Entry point in a pool worker: marks the run as started (so that the parent knows which run a
    dead worker was running), runs :func:`execute_run`, removes the mark."""
    mark = _running_dir(task) / task.id
    mark.parent.mkdir(parents=True, exist_ok=True)
    mark.write_text(str(os.getpid()))
    rec = execute_run(task)
    mark.unlink(missing_ok=True)
    return rec


def _pool(tasks, workers: int, bar):
    """A spawn process pool (:class:`kazerne.procs.WorkerPool`). When a worker process dies the pool breaks: the runs that were started
    in it are suspects and re-run one at a time, each in its own process; a run that kills its
    process ``MAX_ATTEMPTS`` times is recorded as failed, the others are done normally."""
    import concurrent.futures as cf
    import shutil
    from concurrent.futures.process import BrokenProcessPool

    from ..procs import WorkerPool

    pending = {t.id: t for t in tasks}
    suspects: list = []
    while pending:
        group = [pending[suspects[0]]] if suspects else list(pending.values())
        running = _running_dir(group[0])
        shutil.rmtree(running, ignore_errors=True)
        broken = False
        # leaving the block by Ctrl-C, SIGTERM or an error cancels the pending runs and terminates
        # the running ones; the workers die with this process (kill -9 too), see kazerne/procs.py
        with WorkerPool(max_workers=min(workers, len(group))) as ex:
            futs = {ex.submit(_pool_task, t): t for t in group}
            for f in cf.as_completed(futs):
                t = futs[f]
                try:
                    rec = f.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                pending.pop(t.id, None)
                if t.id in suspects:
                    suspects.remove(t.id)
                bar.update(1)
                yield rec
        if not broken:
            continue
        started = [t for t in group if t.id in pending and (running / t.id).exists()] or [
            t for t in group if t.id in pending
        ]
        for t in started:
            t.attempts += 1
            if t.id not in suspects:
                suspects.append(t.id)
            if t.attempts > MAX_ATTEMPTS:
                pending.pop(t.id)
                suspects.remove(t.id)
                bar.update(1)
                yield _failed_record(t, f"the worker process died {MAX_ATTEMPTS} times while running it")
        log.info("a batch worker process died; %d run(s) go on in a new pool", len(pending))
    shutil.rmtree(_running_dir(tasks[0]), ignore_errors=True) if tasks else None


_SCHEDULER = re.compile(r"[a-z][a-z0-9+.-]*://[^\s]+|[A-Za-z0-9._\-\[\]:]+:[0-9]{1,5}")


def check_scheduler(address) -> str:
    """``--scheduler``: a Dask scheduler address (``tcp://host:8786``, ``host:8786``), or ScenarioError."""
    if not isinstance(address, str) or not _SCHEDULER.fullmatch(address):
        raise ScenarioError(
            f"expected a Dask scheduler address like tcp://host:8786, got {_show(address)}", field="--scheduler"
        )
    return address


def _dask(tasks, bar, scheduler: str | None, workers: int):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ScenarioError(
            "Dask is not installed; pip install 'kazerne[dask]' (dask[distributed])",
            field="--scheduler" if scheduler else "--dask-local",
        ) from None
    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                raise ScenarioError(
                    f"cannot reach the Dask scheduler at {scheduler} ({exc})", field="--scheduler"
                ) from None
        else:
            from ..procs import children_ignore_ctrl_c

            # its nannies, workers and event-loop thread start with SIGINT blocked: Ctrl-C reaches
            # this process only, which closes the cluster (no KeyboardInterrupt trace per worker)
            with children_ignore_ctrl_c():
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",
                    silence_logs=logging.ERROR,  # not a WARNING line per cancelled run on Ctrl-C
                )
                client = Client(cluster)
        try:
            futs = {}
            for t in tasks:
                f = client.submit(_dask_task, t, key=f"kazerne-batch-{t.id}-{t.digest[:12]}", pure=False)
                futs[f] = t
            for f in as_completed(list(futs)):
                t = futs[f]
                try:
                    rec = f.result()
                except Exception as exc:  # noqa: BLE001 - KilledWorker and friends: recorded, the batch goes on
                    rec = _failed_record(t, _one_line(f"{type(exc).__name__}: {exc}"))
                bar.update(1)
                yield rec
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


# ------------------------------------------------------------------------------------------ results
@dataclass
class BatchResult:
    out_dir: Path
    table: object  # pandas.DataFrame, one row per run
    done: int
    failed: int
    skipped: int
    ran: int
    wall_s: float
    shared: dict


def _table(plan: Plan):
    import pandas as pd

    labels = run_labels(plan.spec.runs, plan.spec.params)
    rows = []
    for t in plan.tasks:
        rec = read_record(plan.out_dir, t.id) or {}
        if rec.get("digest") != t.digest:
            rec = {"status": "missing"}
        row = {"run_id": t.id, "label": labels.get(t.id, t.id)}
        for k in plan.spec.params:
            v = t.params.get(k)
            row[k] = (
                "+".join(f"{x:g}" if isinstance(x, (int, float)) else str(x) for x in v) if isinstance(v, list) else v
            )
        row.update(
            {
                "kind": t.run_kind,
                "path": t.kind,
                "path_reason": t.path_reason,
                "status": rec.get("status"),
                "error": rec.get("error", ""),
            }
        )
        row.update(rec.get("numbers", {}))
        row.update(
            {
                "wall_s": rec.get("wall_s"),
                "attempts": rec.get("attempts"),
                "folder": rec.get("folder", ""),
                "inputs_digest": t.digest[:16],
            }
        )
        rows.append(row)
    df = pd.DataFrame(rows)
    lead = ["run_id", "label", *plan.spec.params, "kind", "path", "path_reason", "status", "error"]
    share = sorted(
        [c for c in df.columns if c.startswith("share_within_")], key=lambda c: float(c[len("share_within_") : -3])
    )
    popw = sorted(
        [c for c in df.columns if c.startswith("population_within_")],
        key=lambda c: float(c[len("population_within_") : -3]),
    )
    tail = ["wall_s", "attempts", "folder", "inputs_digest"]
    rest = [c for c in df.columns if c not in lead + share + popw + tail]
    return df[lead + share + popw + rest + tail]


def read_table(path):
    """A batch table (``batch.csv`` or ``batch.parquet``) as a ``pandas.DataFrame``."""
    import pandas as pd

    path = Path(path)
    return (
        pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, keep_default_na=False, na_values=[""])
    )


def _write_table(df, out_dir: Path) -> None:
    from ..report.atomic import atomic_path

    with atomic_path(out_dir / "batch.csv") as tmp:
        df.to_csv(tmp, index=False)
    pq = df.copy()
    for c in pq.columns:
        if pq[c].dtype == object:
            pq[c] = pq[c].map(lambda x: None if x is None or (isinstance(x, float) and math.isnan(x)) else str(x))
    with atomic_path(out_dir / "batch.parquet") as tmp:
        pq.to_parquet(tmp, index=False)


def headline_column(df) -> tuple[str | None, str]:
    """The column the figure plots: the share within the lowest threshold present in every done run."""
    cols = [c for c in df.columns if c.startswith("share_within_")]
    done = df[df["status"] == "done"]
    if not cols or done.empty:
        return None, ""
    return "headline_share", "share of the population within the run's lowest threshold"


def _headline_values(df):
    cols = sorted(
        [c for c in df.columns if c.startswith("share_within_")], key=lambda c: float(c[len("share_within_") : -3])
    )
    vals, ths = [], []
    own = "threshold_min" in df.columns
    for _, r in df.iterrows():
        v, t = None, None
        tm = r["threshold_min"] if own else None
        if tm is not None and not (isinstance(tm, float) and math.isnan(tm)):
            x = r.get(f"share_within_{float(tm):g}min")
            if x is not None and not (isinstance(x, float) and math.isnan(x)):
                vals.append(float(x))
                ths.append(float(tm))
                continue
        for c in cols:
            x = r[c]
            if x is not None and not (isinstance(x, float) and math.isnan(x)):
                v, t = float(x), float(c[len("share_within_") : -3])
                break
        vals.append(v)
        ths.append(t)
    return vals, ths


def write_figure(df, params: list, path: Path) -> bool:
    """The headline share against each swept parameter (one panel each, a point per run)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..report.atomic import atomic_path

    vals, ths = _headline_values(df)
    ok = [i for i, v in enumerate(vals) if v is not None and df["status"].iloc[i] == "done"]
    if not ok or not params:
        return False
    n = len(params)
    ncat = [len(set(map(str, df[p]))) for p in params]
    # room for every tick label side by side, panel by panel (wrapped, horizontal up to 20 values)
    widths = [max(3.0, (0.85 if k <= 20 else 0.3) * k + 1.0) for k in ncat]
    fig, axes = plt.subplots(
        1, n, figsize=(sum(widths) + 2.8, 4.4), squeeze=False, sharey=True, gridspec_kw={"width_ratios": widths}
    )
    multi_t = len({ths[i] for i in ok}) > 1
    labels = dict(zip(df["run_id"], df["label"])) if "label" in df.columns else {}
    for ax, p in zip(axes[0], params):
        xs = [str(df[p].iloc[i]) for i in ok]
        short = {}  # a list value in words (its part of the run's label), wrapped
        for i, x in zip(ok, xs):
            part = next(
                (
                    q.split("=", 1)[1]
                    for q in str(labels.get(df["run_id"].iloc[i], "")).split(", ")
                    if q.startswith(p.split(".")[-1] + "=")
                ),
                x,
            )
            short[x] = tick_text(part)
        cats = list(dict.fromkeys(xs))
        try:
            cats = sorted(cats, key=float)
        except ValueError:
            pass
        pos = {c: k for k, c in enumerate(cats)}
        per_cat = {c: xs.count(c) for c in cats}
        seen: dict = {}
        for j, i in enumerate(ok):
            k = seen[xs[j]] = seen.get(xs[j], -1) + 1
            dx = 0.0 if per_cat[xs[j]] == 1 else 0.3 * (k / (per_cat[xs[j]] - 1) - 0.5)
            ax.plot(
                pos[xs[j]] + dx,
                100 * vals[i],
                "o",
                ms=4,
                alpha=0.7,
                color=f"C{sorted({ths[k] for k in ok}).index(ths[i]) % 10}" if multi_t else "C0",
            )
        tset = sorted({ths[i] for i in ok})
        for k, tt in enumerate(tset if multi_t else [None]):
            means = [
                np.mean(
                    [100 * vals[i] for j, i in enumerate(ok) if xs[j] == c and (tt is None or ths[i] == tt)] or [np.nan]
                )
                for c in cats
            ]
            ax.plot(
                range(len(cats)),
                means,
                "-",
                color=f"C{k % 10}" if multi_t else "0.3",
                lw=1,
                label="mean over the other parameters" if k == 0 else None,
            )
        ax.set_xticks(range(len(cats)))
        many = len(cats) > 20
        ax.set_xticklabels([short.get(c, c) for c in cats], rotation=90 if many else 0, ha="center", fontsize=7.5)
        ax.set_xlabel(p)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("% of population within T")
    if multi_t:
        for k, t in enumerate(sorted({ths[i] for i in ok})):
            axes[0][-1].plot([], [], "o", color=f"C{k % 10}", label=f"T = {t:g} min")
    axes[0][-1].legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.suptitle("headline: share of the population reached within T (lowest threshold of each run)", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=130, format="png")
    plt.close(fig)
    return True


def _write_marker(out_dir: Path, spec: BatchSpec) -> None:
    from ..report.atomic import write_json

    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(
        out_dir / BATCH_MARKER,
        {
            "written_by": "kazerne batch",
            "kazerne_version": __version__,
            "batch_file": str(spec.path),
            "runs": len(spec.runs),
        },
    )


def run_batch(
    path,
    out_root="out",
    workers: int = 1,
    scheduler: str | None = None,
    dask_local: bool = False,
    retry_failed: bool = False,
    council: bool | None = None,
    quiet: bool = False,
    spec: BatchSpec | None = None,
) -> BatchResult:
    """Run a batch file: every missing run, on the chosen executor; returns the table and counts.

    Parameters
    ----------
    workers : int
        1: in this process; N > 1: a local process pool of N (or N Dask workers with ``dask_local``).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:port``); the output folder must be on a file
        system its workers share, at the same path.
    retry_failed : bool
        Also re-run runs recorded as failed (by default they are kept, with their message).
    council : bool, optional
        Override the batch file's ``council``: per-run maps, report.html and layers.gpkg (slow).
    """
    t0 = time.perf_counter()
    if scheduler is not None:
        check_scheduler(scheduler)  # before anything is planned or written
    spec = spec or parse_batch(path)
    if council is not None:
        spec.council = council
    plan = plan_batch(spec, out_root, retry_failed=retry_failed, quiet=quiet)
    _write_marker(plan.out_dir, spec)
    shared = build_shared(plan, quiet=quiet)
    shared["prepare_s"] = round(time.perf_counter() - t0, 3)
    todo = [t for t in plan.tasks if t.id in set(plan.todo)]
    from tqdm import tqdm

    bar = tqdm(total=len(todo), desc="batch runs", unit="run", disable=quiet or not todo, file=sys.stderr, leave=False)
    try:
        if not todo:
            recs = []
        elif scheduler or dask_local:
            recs = list(_dask(todo, bar, scheduler, max(1, workers)))
        elif workers > 1:
            recs = list(_pool(todo, workers, bar))
        else:
            recs = list(_serial(todo, bar))
    finally:
        bar.close()
    df = _table(plan)
    df.insert(df.columns.get_loc("status") + 1, "headline_share", _headline_values(df)[0])
    _write_table(df, plan.out_dir)
    from .batch_tables import long_table, write_long_table

    recs_by_id = {t.id: read_record(plan.out_dir, t.id) for t in plan.tasks}
    long = long_table(plan.tasks, recs_by_id, dict(zip(df["run_id"], df["label"])), spec.params)
    write_long_table(long, plan.out_dir)
    write_figure(df, spec.params, plan.out_dir / "headline.png")
    ran = len(recs)
    return BatchResult(
        out_dir=plan.out_dir,
        table=df,
        done=int((df["status"] == "done").sum()),
        failed=int((df["status"] == "failed").sum()),
        skipped=len(plan.tasks) - len(todo),
        ran=ran,
        wall_s=round(time.perf_counter() - t0, 3),
        shared=shared,
    )


# ------------------------------------------------------------------------------------------ command
def batch_main(args) -> int:
    """``kazerne batch FILE``: parse (one line on a bad file, exit 2), list with --dry-run, or run."""
    if args.workers < 1:
        raise ScenarioError(f"expected a whole number >= 1, got {args.workers}", field="--workers")
    if args.scheduler and args.dask_local:
        raise ScenarioError("give either --scheduler or --dask-local, not both", field="--scheduler")
    if args.scheduler is not None:
        check_scheduler(args.scheduler)
    spec = parse_batch(args.file)
    if args.council:
        spec.council = True
    if args.dry_run:
        plan = plan_batch(spec, args.out, retry_failed=args.retry_failed)
        print(
            f"batch {spec.name}: {len(spec.runs)} runs ({spec.combine} of {', '.join(spec.params) or 'nothing'}), "
            f"results in {plan.out_dir}/"
        )
        w = max(len(r.id) for r in spec.runs)
        for r, t in zip(spec.runs, plan.tasks):
            vals = "  ".join(f"{k}={_slug_value(v) if isinstance(v, list) else v}" for k, v in r.params.items())
            print(f"  {r.id:<{w}}  {t.run_kind:<16} {t.kind:<6} {plan.states[r.id]:<28} {vals}")
        n_todo = len(plan.todo)
        print(f"{n_todo} to run, {len(spec.runs) - n_todo} already recorded (nothing was run)")
        return 0
    res = run_batch(
        args.file,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        dask_local=args.dask_local,
        retry_failed=args.retry_failed,
        quiet=args.quiet,
        spec=spec,
    )
    if not args.quiet:
        sh = res.shared
        print(
            f"batch {spec.name}: {res.done} done, {res.failed} failed, {res.skipped} skipped (already recorded); "
            f"{res.ran} run now in {res.wall_s:.1f} s; {sh.get('matrices_built', 0)} travel-time matrices "
            f"computed, {sh.get('matrices_reused', 0)} reused",
            file=sys.stderr,
        )
        paths = res.table["path"].value_counts()
        why = sorted({r for r in res.table["path_reason"] if r})
        print(
            f"paths: {int(paths.get('fast', 0))} fast (shared travel-time matrix), {int(paths.get('runner', 0))} "
            "through the scenario runner" + (f" ({'; '.join(why)})" if why else ""),
            file=sys.stderr,
        )
        for _, r in res.table[res.table["status"] == "failed"].head(10).iterrows():
            print(f"  failed {r['run_id']}: {r['error']}", file=sys.stderr)
        print(
            f"results in {res.out_dir}/ (batch.csv, batch.parquet, batch_municipalities.csv, "
            "batch_municipalities.parquet, headline.png, runs/<id>/)",
            file=sys.stderr,
        )
    return 1 if res.failed else 0
