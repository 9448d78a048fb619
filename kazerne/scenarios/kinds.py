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

The older kinds (baseline, ``[study]``, ``[ems]``) keep their dispatch in
:func:`kazerne.scenarios.runner.run_scenario` until they move onto this protocol; new kinds
(calibration, network criticality, simulation) use it from the start.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ..progress import Progress

# The schema imports this registry to accept the kinds' sections, so this module names the schema's
# types only in words (no import back): ``sc`` is a Scenario, ``v`` its Validator.
Scenario = Any
Validator = Any

__all__ = ["KIND_MODULES", "RunKind", "RunResult", "get_kind", "kind_names", "kind_of", "run_kind"]

#: scenario section (top-level TOML table) -> "module:attribute" of its RunKind object; one line per kind
KIND_MODULES: dict[str, str] = {
    "criticality": "kazerne.scenarios.criticality:CRITICALITY",
    "simulate": "kazerne.scenarios.simulate:KIND",
    "calibration": "kazerne.scenarios.calibration:CALIBRATION",
    "validate": "kazerne.scenarios.validate:VALIDATE",
}


@dataclass(frozen=True)
class RunResult:
    """What a run kind's ``solve`` returns: the whole answer, nothing written yet.

    ``summary`` is JSON-safe after :func:`kazerne.jsonsafe.json_safe` and carries ``"kind"``;
    ``tables`` maps a CSV file name to its rows (dicts, columns in first-seen order); ``layers`` are
    writers called with the temporary run folder (maps, GeoJSON / GeoPackage layers, report pages)
    before it replaces the old one; ``value`` is the kind's typed result for API callers.
    """

    kind: str
    summary: dict
    tables: dict[str, list[dict]] = field(default_factory=dict)
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


def kind_names() -> list[str]:
    """The registered kinds' section names."""
    return sorted(KIND_MODULES)


def get_kind(name: str) -> RunKind:
    """The registered kind of section ``name`` (imported on first use)."""
    module, _, attr = KIND_MODULES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def kind_of(sc: Scenario) -> tuple[RunKind, Any] | None:
    """The registered kind a parsed scenario runs, with its spec; None for the older kinds."""
    for name, spec in sc.kinds.items():
        return get_kind(name), spec
    return None


def run_kind(kind: RunKind, spec: Any, sc: Scenario, out_root: Path, progress: Progress) -> Path:
    """Solve ``sc`` with ``kind`` and write its folder ``out_root/<name>/`` with the one writer."""
    from .output import write_run

    res = kind.solve(sc, spec, progress)
    summary = dict(res.summary)
    summary.setdefault("kind", kind.name)
    return write_run(Path(out_root) / sc.name, summary, res.tables, res.layers)
