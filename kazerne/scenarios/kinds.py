"""Run kinds: one module per kind of run, one registry line per module.

A *run kind* is everything a scenario section (or a command) of its own needs: how its section is
validated, how it is solved, and how its answer is shown. The runner, the batch runner, the CLI and
the writer are generic over it::

    scenario file ──parse (schema + kind.parse)──► Scenario (+ the kind's typed spec)
                 ──kind.solve──► RunResult (summary, tables, layer writers)
                 ──write_run──► out/<name>/ (one writer, all or nothing)
                 ──kind.console(summary)──► lines the CLI prints (the library never prints)

A new kind is one module that defines an object with the :class:`RunKind` attributes and one line in
:data:`KIND_MODULES` (``"<section>": "<module>:<attribute>"``). Modules are imported on first use, so
a kind may import anything below ``kazerne.scenarios`` without creating a cycle.

The baseline (a scenario without a kind section) is the kind :data:`BASELINE_KIND`; ``[ems]``,
calibration, network criticality and simulation are registered sections. ``[study]`` keeps its own
dispatch in :func:`kazerne.scenarios.runner.run_scenario` until it moves onto this protocol.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ..progress import Progress
    from .output import Table

# The schema imports this registry to accept the kinds' sections, so this module names the schema's
# types only in words (no import back): ``sc`` is a Scenario, ``v`` its Validator.
Scenario = Any
Validator = Any

__all__ = [
    "BASELINE_KIND",
    "KIND_MODULES",
    "Finished",
    "RunKind",
    "RunResult",
    "get_kind",
    "kind_label",
    "kind_names",
    "kind_of",
    "run_kind",
    "run_kind_result",
    "summary_kind",
]

#: scenario section (top-level TOML table) -> "module:attribute" of its RunKind object; one line per kind
KIND_MODULES: dict[str, str] = {
    "criticality": "kazerne.scenarios.criticality:CRITICALITY",
    "simulate": "kazerne.scenarios.simulate:KIND",
    "calibration": "kazerne.scenarios.calibration:CALIBRATION",
    "ems": "kazerne.scenarios.ems:EMS",
    "validate": "kazerne.scenarios.validate:VALIDATE",
}

#: the kind of a scenario without a kind section (posts and demand only): the baseline
BASELINE_KIND = "kazerne.scenarios.baseline:BASELINE"


@dataclass(frozen=True)
class RunResult:
    """What a run kind's ``solve`` returns: the whole answer, nothing written yet.

    ``summary`` is JSON-safe after :func:`kazerne.jsonsafe.json_safe` and carries ``"kind"``;
    ``tables`` maps a CSV file name to its rows (dicts, columns in first-seen order) or a
    :class:`~kazerne.scenarios.output.Table` (written even when empty); ``layers`` are
    writers called with the temporary run folder (maps, GeoJSON / GeoPackage layers, report pages)
    before it replaces the old one; ``value`` is the kind's typed result for API callers.
    """

    kind: str
    summary: dict
    tables: Mapping[str, list | Table] = field(default_factory=dict)
    layers: tuple[Callable[[Path], None], ...] = ()
    value: Any = None


class RunKind(Protocol):
    """The protocol of a run kind (see the module docstring)."""

    #: the scenario section that selects the kind, and ``summary["kind"]``
    name: str
    #: one line for ``--help`` and the architecture page
    title: str

    def parse(self, v: Validator, section: Any, sc: Scenario) -> Any:
        """Validate the kind's section (``v.fail(field, msg)`` for a one-line error); return its typed
        spec (a frozen dataclass), stored in ``sc.kinds[name]``."""
        ...

    def solve(self, sc: Scenario, spec: Any, progress: Progress) -> RunResult:
        """Compute the answer; write nothing."""
        ...

    def console(self, summary: dict) -> list[str]:
        """The lines the command line prints for a finished run (from its summary)."""
        ...


@dataclass(frozen=True)
class Finished:
    """A run written: its folder and its result (``result.summary`` as written to ``summary.json``)."""

    target: Path
    kind: RunKind
    result: RunResult

    def console(self) -> list[str]:
        """The lines the command line prints for this run (from the result, not read back from disk)."""
        return self.kind.console(self.result.summary)


def kind_names() -> list[str]:
    """The registered kinds' section names."""
    return sorted(KIND_MODULES)


def get_kind(name: str) -> RunKind:
    """The registered kind of section ``name`` (imported on first use); ``"baseline"`` is the default kind."""
    ref = BASELINE_KIND if name == "baseline" else KIND_MODULES[name]
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def kind_of(sc: Scenario) -> tuple[RunKind, Any] | None:
    """The registered kind a parsed scenario runs, with its spec; the baseline (spec None) when the
    scenario has no kind section; None for ``[study]`` (dispatched by the runner until it is a kind)."""
    for name, spec in sc.kinds.items():
        return get_kind(name), spec
    if getattr(sc, "study", None):
        return None
    return get_kind("baseline"), None


def kind_label(sc: Scenario) -> str:
    """The kind of run in a table's words: ``baseline``, ``ems:pit-add``, ``study:add``, ``criticality``."""
    for name, spec in sc.kinds.items():
        variant = getattr(spec, "kind", None)
        return f"{name}:{variant}" if isinstance(variant, str) else name
    if getattr(sc, "study", None):
        return f"study:{sc.study['kind']}"
    return "baseline"


def summary_kind(summary: dict) -> RunKind | None:
    """The kind that wrote a finished run's summary (``summary["kind"]``); None for a study's."""
    name = summary.get("kind")
    if name in KIND_MODULES or name == "baseline":
        return get_kind(name)
    return None


def run_kind_result(kind: RunKind, spec: Any, sc: Scenario, out_root: Path, progress: Progress) -> Finished:
    """Solve ``sc`` with ``kind`` and write its folder ``out_root/<name>/`` with the one writer."""
    from ..jsonsafe import json_safe
    from .output import write_run

    res = kind.solve(sc, spec, progress)
    summary = json_safe({**res.summary, "kind": res.summary.get("kind", kind.name)})  # as summary.json has it
    target = write_run(Path(out_root) / sc.name, summary, res.tables, res.layers)
    progress.done("write")
    written = RunResult(kind=kind.name, summary=summary, tables=res.tables, value=res.value)
    return Finished(target=target, kind=kind, result=written)


def run_kind(kind: RunKind, spec: Any, sc: Scenario, out_root: Path, progress: Progress) -> Path:
    """Solve ``sc`` with ``kind`` and write its folder ``out_root/<name>/``; returns the folder."""
    return run_kind_result(kind, spec, sc, out_root, progress).target
