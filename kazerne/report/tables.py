"""CSV tables and the terminal summary."""

from __future__ import annotations

import csv
import io
import math

from .atomic import write_text


def _fmt(v):
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "inf"
        return f"{v:.6g}"
    return v


def pct(share, digits: int = 1) -> str:
    """A share as ``"12.3%"`` on the terminal; ``"n/a"`` when there is none (``None`` / NaN in a summary:
    no population, or nobody reached)."""
    if share is None or not isinstance(share, (int, float)) or not math.isfinite(share):
        return "n/a"
    return f"{100 * share:.{digits}f}%"


def write_csv(path, rows: list[dict], columns: list[str] | None = None) -> None:
    """Write dict rows as CSV (atomically). Floats with 6 significant digits; NaN as empty."""
    columns = columns or (list(rows[0]) if rows else [])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_fmt(r.get(c, "")) for c in columns])
    write_text(path, buf.getvalue())


def text_table(rows: list[list], header: list[str]) -> str:
    cells = [[str(h) for h in header]] + [[str(_fmt(c)) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for k, r in enumerate(cells):
        lines.append("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
