"""Batch tables beside ``batch.csv``: the long per-municipality table, readable run labels, and which
path each run takes (the shared-matrix fast path or the scenario runner, and why).

``batch_municipalities.csv`` / ``.parquet``: one row per run × municipality × threshold with
``run_id``, ``label``, the swept parameters, ``municipality``, ``threshold_min``, ``share`` (of the
population with road data), ``people`` (reached within the threshold), ``population`` (with road
data) — the shape a spreadsheet pivot or ``DataFrame.pivot_table`` wants.
"""

from __future__ import annotations

import math
import textwrap

from ..coverage.metrics import share_key

LONG_COLUMNS = ["municipality", "threshold_min", "share", "people", "population"]


def fast_path_reason(sc, council: bool, raw: dict | None = None) -> str:
    """Why a run cannot take the fast path (shared travel-time matrix + one evaluation); ``""`` when
    it can. A ``[response]`` section with only ``call_handling_s`` (fixed turnouts, no
    distributions, no time slices) takes the fast path: call handling is a constant added to every
    time, which the fast path does exactly (:meth:`kazerne.routing.travel.TravelTimes.shifted`)."""
    if council:
        return "council = true (per-run maps, report.html, layers.gpkg)"
    if sc.study:
        return "[study] section"
    for name in sc.kinds:  # only the baseline kind has the shared-matrix path
        return f"[{name}] section"
    if sc.fleet.declared:
        return "vehicles or neighbouring posts"
    if sc.network["changes"]:  # the shared matrix is of the unchanged roads
        return "[network] road changes"
    r = sc.response
    if r is not None:
        if "slices" in (raw or {}) or len(sc.slices or []) > 1:
            return "[[slices]] (time slices)"
        if r.turnout_model != "deterministic":
            return "[response] turnout_model = distribution"
        if r.tables:
            return "[response] turnout tables"
    return ""


def _value_text(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return f"{v:g}"
    return str(v)


def run_labels(runs, params: list) -> dict:
    """``{run id: label}``: each swept value in words, never a hash. A list value is written as the
    batch's full set of its items when it has them all (``all``), as ``all but P05`` when it lacks
    a few, else item by item (``P01+P02``)."""
    union: dict = {}
    for r in runs:
        for k in params:
            v = r.params.get(k)
            if isinstance(v, (list, tuple)):
                seen = union.setdefault(k, [])
                for x in v:
                    if x not in seen:
                        seen.append(x)
    out = {}
    for r in runs:
        parts = []
        for k in params:
            v = r.params.get(k)
            name = k.split(".")[-1]
            if isinstance(v, (list, tuple)):
                have = [_value_text(x) for x in v]
                allv = [_value_text(x) for x in union.get(k, [])]
                missing = [x for x in allv if x not in have]
                if len(allv) > 3 and not missing:
                    txt = f"all {len(allv)}"
                elif len(allv) > 3 and len(missing) < len(have):
                    txt = "all but " + "+".join(missing)
                else:
                    txt = "+".join(have) or "none"
            else:
                txt = _value_text(v)
            parts.append(f"{name}={txt}")
        out[r.id] = ", ".join(parts) or r.id
    return out


def municipality_rows(municipalities: list, thresholds_min) -> list[dict]:
    """Long rows (municipality × threshold) from ``CoverageReport.municipalities``-like dicts
    (``municipality``, ``population``, ``no_road_data``, ``share_within`` per threshold)."""
    rows = []
    for m in municipalities:
        pop = float(m["population"]) - float(m["no_road_data"])
        for t, s in zip(thresholds_min, m["share_within"]):
            ok = s is not None and not (isinstance(s, float) and math.isnan(s))
            rows.append(
                {
                    "municipality": m["municipality"],
                    "threshold_min": float(t),
                    "share": float(s) if ok else None,
                    "people": round(float(s) * pop, 1) if ok else None,
                    "population": round(pop, 1),
                }
            )
    return rows


def summary_municipality_rows(summary: dict) -> list[dict]:
    """Long rows from a run's ``summary.json`` (its ``municipalities`` table, the run's thresholds)."""
    th = (summary.get("assumptions") or {}).get("thresholds_min") or []
    ms = []
    for r in summary.get("municipalities") or []:
        if "municipality" not in r or "population" not in r:
            continue
        ms.append(
            {
                "municipality": r["municipality"],
                "population": r["population"],
                "no_road_data": r.get("no_road_data") or 0.0,
                "share_within": [r.get(share_key(t)) for t in th],
            }
        )
    return municipality_rows(ms, th)


def long_table(tasks, records: dict, labels: dict, params: list):
    """The long per-municipality table of the runs that are done (``records``: id → record)."""
    import pandas as pd

    rows = []
    for t in tasks:
        rec = records.get(t.id) or {}
        if rec.get("status") != "done" or rec.get("digest") != t.digest:
            continue
        head = {"run_id": t.id, "label": labels.get(t.id, t.id)}
        for k in params:
            v = t.params.get(k)
            head[k] = "+".join(_value_text(x) for x in v) if isinstance(v, (list, tuple)) else v
        for m in rec.get("municipalities") or []:
            rows.append({**head, **{c: m.get(c) for c in LONG_COLUMNS}})
    return pd.DataFrame(rows, columns=["run_id", "label", *params, *LONG_COLUMNS])


def write_long_table(df, out_dir) -> None:
    """``batch_municipalities.csv`` and ``.parquet``, atomically."""
    from pathlib import Path

    from ..report.atomic import atomic_path

    out_dir = Path(out_dir)
    with atomic_path(out_dir / "batch_municipalities.csv") as tmp:
        df.to_csv(tmp, index=False)
    pq = df.copy()
    for c in pq.columns:
        if pq[c].dtype == object and c not in ("share", "people", "population", "threshold_min"):
            pq[c] = pq[c].map(lambda x: None if x is None or (isinstance(x, float) and math.isnan(x)) else str(x))
    with atomic_path(out_dir / "batch_municipalities.parquet") as tmp:
        pq.to_parquet(tmp, index=False)


def tick_text(text: str, width: int = 14, lines: int = 3) -> str:
    """A tick label that stays readable: wrapped at ``width`` characters, at most ``lines`` lines."""
    parts = textwrap.wrap(str(text), width=width, break_long_words=True, break_on_hyphens=False) or [""]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: max(1, width - 1)] + "…"
    return "\n".join(parts)
