"""Planning a batch: each run's task (the shared-matrix fast path of the baseline kind, or the
scenario runner), its inputs digest, which runs are missing, and the shared driving-time matrices.

The zone network and the demand points are loaded once per (zone, demand); the driving times from
every site any fast-path run uses to every demand point are computed once per (network, speed
profile, demand, site set) and written as ``.npy`` files under ``OUT/<name>/matrices/``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import OutputError, ScenarioError
from .baseline import DemandTable
from .batch_spec import BatchSpec, digest, remap_error
from .batch_tables import fast_path_reason
from .batch_toml import dumps_toml
from .schema import Scenario

__all__ = ["BATCH_MARKER", "Plan", "RunTask", "build_shared", "check_batch_dir", "plan_batch", "read_record"]

#: Marker of a batch output folder (the folder is filled run by run, so it has its own marker).
BATCH_MARKER = ".kazerne-batch.json"


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
    rows: list | None = None  # the posts' rows of the shared matrix (set by _Planner.matrices)
    places: list | None = None  # the posts' (node, edge, frac) on their streets, until they become ``rows``
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


def records_dir(out_dir: Path) -> Path:
    return out_dir / "records"


def read_record(out_dir: Path, rid: str) -> dict | None:
    p = records_dir(out_dir) / f"{rid}.json"
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


@dataclass
class _Planner:
    """The state of planning one batch: contexts per (zone, demand), matrix groups, cached posts."""

    spec: BatchSpec
    out_dir: Path
    swept_th: list
    contexts: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)  # (ctx key, profile key) -> {"nodes": set, "tasks": [...]}
    post_cache: dict = field(default_factory=dict)

    def context(self, sc: Scenario):
        """The loaded context of ``sc``'s zone and demand, its key and the demand's digest."""
        from ..progress import Progress
        from .context import load_context

        ckey = digest(
            {
                "zone": sc.zone,
                "demand": dict(sc.demand),
                "demand_file": _file_digest(sc.demand.file) if sc.demand.file else None,
                "network": sc.network,  # road changes change the network the context loads
            }
        )
        if ckey not in self.contexts:
            ctx = load_context(sc, Progress(quiet=True))
            dem = ctx.demand
            extra = [a for a in (dem.edge, dem.frac) if a is not None]  # streets snapped onto (issue 23)
            ddig = _array_digest(dem.node, dem.weight, dem.no_road_data, dem.municipality, dem.lon, dem.lat, *extra)
            self.contexts[ckey] = (ctx, ddig)
        ctx, ddig = self.contexts[ckey]
        return ckey, ctx, ddig

    def task(self, r, toml_text: str, raw_out: dict) -> RunTask:
        # the response model ([response] / [[slices]]), vehicles / neighbouring posts
        # (kazerne.scenarios.fleet) and every kind but the baseline run through the ordinary runner
        why = fast_path_reason(r.sc, self.spec.council, r.raw)
        ckey, ctx, ddig = self.context(r.sc)
        base = {"id": r.id, "params": r.params, "out_dir": str(self.out_dir), "scenario_toml": toml_text}
        if why:
            return self.runner_task(r, ctx, ddig, raw_out, why, base)
        return self.fast_task(r, ckey, ctx, ddig, base)

    def fast_task(self, r, ckey: str, ctx, ddig: str, base: dict) -> RunTask:
        """The baseline kind from the shared driving-time matrix (``rows`` filled in by :meth:`matrices`)."""
        from .context import assumptions
        from .resolve import in_file, profile_of

        sc = r.sc
        posts = resolve_posts_cached(ctx.zone, sc, self.post_cache)
        prof = profile_of(sc)
        pkey = prof.key() if hasattr(prof, "key") else digest(prof.describe())
        g = self.groups.setdefault(
            (ckey, digest(prof.describe())),
            {"nodes": set(), "tasks": [], "ctx": ctx, "profile": prof, "ddig": ddig},
        )
        places = list(zip(posts.node.tolist(), posts.edge.tolist(), posts.frac.tolist()))  # on streets
        g["nodes"].update(places)
        inputs = {
            "v": __version__,
            "path": "fast",
            "net": ctx.zone.net.source_sha256,
            "demand": ddig,
            "profile": str(pkey),
            "profile_d": prof.describe(),
            "thresholds": list(sc.thresholds_min),
            "call_handling_s": sc.call_handling_s,
            "posts": posts.rows(),
            "nodes": places,
            "worst_n": sc.worst_n,
        }
        with in_file(sc.path):
            a = assumptions(with_scenario(ctx, sc), posts)
        t = RunTask(
            **base,
            kind="fast",
            digest=digest(inputs),
            run_kind=r.kind,
            turnout_s=[float(x) for x in posts.turnout_s],
            call_handling_s=float(sc.call_handling_s),
            thresholds_min=list(sc.thresholds_min),
            post_rows=posts.rows(),
            worst_n=sc.worst_n,
            extra_thresholds=sorted(set(self.swept_th) - set(map(float, sc.thresholds_min))),
            assumptions=a,
            scenario_info={"name": r.id, "file": str(sc.path), "description": sc.description},
            places=places,  # resolved to matrix rows in matrices()
        )
        g["tasks"].append(t)
        return t

    def runner_task(self, r, ctx, ddig: str, raw_out: dict, why: str, base: dict) -> RunTask:
        """The run's kind through the scenario runner (lean outputs unless ``council = true``)."""
        scr = copy.deepcopy(r.sc)
        scr.name = r.id
        if not self.spec.council:
            # no per-run maps, reports, GeoPackages, nor the heavy GeoJSON unless the run's file asks
            asked = r.raw.get("outputs", {}) if isinstance(r.raw.get("outputs"), dict) else {}
            scr.outputs = scr.outputs.lean(
                geojson=bool(asked.get("geojson", False)),
                first_due_areas=bool(asked.get("first_due_areas", False)),
            )
        inputs = {
            "v": __version__,
            "path": "runner",
            "net": ctx.zone.net.source_sha256,
            "demand": ddig,
            "raw": raw_out,
            "council": self.spec.council,
        }
        return RunTask(**base, kind="runner", digest=digest(inputs), run_kind=r.kind, scenario=scr, path_reason=why)

    def matrices(self) -> list:
        """The shared matrices (path, demand file, profile, nodes, context); each fast task gets its rows."""
        mdir = self.out_dir / "matrices"
        out = []
        for (_, pdig), g in self.groups.items():
            nodes = sorted(g["nodes"])
            ctx = g["ctx"]
            mdig = digest(
                {"net": ctx.zone.net.source_sha256, "demand": g["ddig"], "profile": pdig, "nodes": nodes, "v": 2}
            )
            mpath = mdir / f"times-{mdig[:24]}.npy"
            dpath = mdir / f"demand-{g['ddig'][:24]}.npz"
            pos = {n: i for i, n in enumerate(nodes)}
            for t in g["tasks"]:
                t.matrix, t.demand = str(mpath), str(dpath)
                assert t.places is not None  # a fast task (fast_task)
                t.rows = [pos[n] for n in t.places]
                t.places = None
            out.append((mpath, dpath, g["profile"], np.array(nodes, dtype=float).reshape(-1, 3), ctx))
        return out


def _states(spec: BatchSpec, out_dir: Path, tasks: dict, retry_failed: bool) -> tuple[dict, list]:
    """Each run's state ("done", "failed", "to run" ...) and the ids to run."""
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
    return states, todo


def _scenario_toml(r) -> tuple[str, dict]:
    """The run's scenario as its folder keeps it (``scenario.toml``; a demand file's path absolute)."""
    raw_out = copy.deepcopy(r.raw)
    raw_out["name"] = r.id
    if r.sc.demand.file:  # absolute, so that the run's scenario.toml runs from anywhere
        raw_out["demand"]["file"] = r.sc.demand.file
    return dumps_toml(raw_out), raw_out


def plan_batch(spec: BatchSpec, out_root, retry_failed: bool = False, quiet: bool = True) -> Plan:
    """Resolve every run against its zone (loaded once per zone and demand), give each its inputs
    digest and its task, and find which runs are missing (no record with that digest)."""
    from ..report.atomic import check_output_dir

    out_dir = Path(out_root) / spec.name
    check_batch_dir(out_dir)
    for r in spec.runs:
        if (out_dir / "runs" / r.id).exists():
            check_output_dir(out_dir / "runs" / r.id)
    swept_th = sorted({float(t) for r in spec.runs for t in r.sc.thresholds_min}) if "thresholds" in spec.params else []
    planner = _Planner(spec, out_dir, swept_th)
    tasks: dict = {}
    r = None
    try:
        for r in spec.runs:
            tasks[r.id] = planner.task(r, *_scenario_toml(r))
    except ScenarioError as exc:  # a run of the sweep, named by its swept field and value
        if r is None:
            raise
        raise remap_error(exc, spec.path, r.source, r.params, r.id) from None
    matrices = planner.matrices()
    states, todo = _states(spec, out_dir, tasks, retry_failed)
    return Plan(
        spec=spec, out_dir=out_dir, tasks=[tasks[r.id] for r in spec.runs], todo=todo, states=states, matrices=matrices
    )


def resolve_posts_cached(zone, sc: Scenario, cache: dict):
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


def with_scenario(ctx, sc):
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
        if not dpath.is_file():  # what the baseline kind's tables need of the demand, shared by the runs
            with atomic_path(dpath) as tmp, open(tmp, "wb") as fh:
                DemandTable.from_points(ctx.demand).save(fh)
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
