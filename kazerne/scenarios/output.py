"""The one writer of a run's folder: ``summary.json``, CSV tables, then the run kind's own layers.

Every run kind (:mod:`kazerne.scenarios.kinds`) returns a summary (JSON-safe after
:func:`kazerne.jsonsafe.json_safe`) and a set of tables (CSV name -> rows); :func:`write_run` writes
them all or nothing into ``out_root/<name>/`` (:func:`kazerne.report.atomic.atomic_dir`), then calls
each ``extra`` writer (GeoJSON layers, maps, report) on the temporary folder before it replaces the
old one. The scenario runner, the batch runner (both of its paths) and the commands all write here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..jsonsafe import json_safe
from ..report.atomic import atomic_dir, write_json
from ..report.tables import write_csv

__all__ = ["Table", "write_run"]


@dataclass(frozen=True)
class Table:
    """A table written even when it has no rows, with fixed ``columns`` (default: the first row's keys).

    A plain list of rows in ``tables`` is written only when it has rows, its columns in first-seen order.
    """

    rows: list
    columns: list | None = None


def write_run(
    target: Path,
    summary: dict,
    tables: Mapping[str, list | Table],
    extra: Iterable[Callable[[Path], None]] = (),
    field: str | None = "--out",
) -> Path:
    """Write ``summary.json`` and the ``tables`` (see :class:`Table`), then run the ``extra``
    writers, into ``target`` atomically; returns ``target``. ``field`` names the folder in an error."""
    with atomic_dir(target, field=field) as tmp:
        write_json(tmp / "summary.json", json_safe(summary))
        for name, rows in tables.items():
            if isinstance(rows, Table):
                write_csv(tmp / name, rows.rows, columns=rows.columns)
            elif rows:
                cols = list(dict.fromkeys(k for r in rows for k in r))
                write_csv(tmp / name, rows, columns=cols)
        for fn in extra:
            fn(tmp)
    return target
