"""A batch's results: ``batch.csv`` / ``batch.parquet`` (one row per run, from the records) and
``headline.png`` (the headline share against each swept parameter)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..coverage.metrics import key_minutes, share_key
from .batch_plan import read_record
from .batch_tables import run_labels, tick_text

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = [
    "BatchResult",
    "headline_column",
    "headline_values",
    "read_table",
    "results_table",
    "write_figure",
    "write_table",
]


@dataclass
class BatchResult:
    out_dir: Path
    table: pd.DataFrame  # one row per run
    done: int
    failed: int
    skipped: int
    ran: int
    wall_s: float
    shared: dict


def _minutes(column: str) -> float:
    """The minutes of a ``share_within_*`` / ``population_within_*`` column (its sort key)."""
    m = key_minutes(column)
    assert m is not None  # the columns are chosen for having minutes
    return m


def results_table(plan) -> pd.DataFrame:
    """``batch.csv``'s table: one row per run (its swept values, kind, path, status and numbers)."""
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
        [c for c in df.columns if c.startswith("share_within_") and key_minutes(c) is not None], key=_minutes
    )
    popw = sorted(
        [c for c in df.columns if c.startswith("population_within_") and key_minutes(c) is not None], key=_minutes
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


def write_table(df, out_dir: Path) -> None:
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


def headline_values(df):
    cols = sorted([c for c in df.columns if c.startswith("share_within_") and key_minutes(c) is not None], key=_minutes)
    vals, ths = [], []
    own = "threshold_min" in df.columns
    for _, r in df.iterrows():
        v, t = None, None
        tm = r["threshold_min"] if own else None
        if tm is not None and not (isinstance(tm, float) and math.isnan(tm)):
            x = r.get(share_key(tm))
            if x is not None and not (isinstance(x, float) and math.isnan(x)):
                vals.append(float(x))
                ths.append(float(tm))
                continue
        for c in cols:
            x = r[c]
            if x is not None and not (isinstance(x, float) and math.isnan(x)):
                v, t = float(x), key_minutes(c)
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

    vals, ths = headline_values(df)
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
