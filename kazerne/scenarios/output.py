"""The one writer of a run's folder: ``summary.json``, CSV tables, then the run kind's own layers.

Studies and EMS studies build a summary (JSON-safe after :func:`kazerne.jsonsafe.json_safe`) and a
set of tables (CSV name -> rows); :func:`write_run` writes them all or nothing into
``out_root/<name>/`` (:func:`kazerne.report.atomic.atomic_dir`), then calls each ``extra`` writer
(GeoJSON layers, maps, report) on the temporary folder before it replaces the old one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ..jsonsafe import json_safe
from ..report.atomic import atomic_dir, write_json
from ..report.tables import write_csv

__all__ = ["write_run"]


def write_run(
    target: Path,
    summary: dict,
    tables: dict,
    extra: Iterable[Callable[[Path], None]] = (),
) -> Path:
    """Write ``summary.json`` and the non-empty ``tables`` (columns in first-seen order), then run
    the ``extra`` writers, into ``target`` atomically; returns ``target``."""
    with atomic_dir(target) as tmp:
        write_json(tmp / "summary.json", json_safe(summary))
        for name, rows in tables.items():
            if rows:
                cols = list(dict.fromkeys(k for r in rows for k in r))
                write_csv(tmp / name, rows, columns=cols)
        for fn in extra:
            fn(tmp)
    return target
