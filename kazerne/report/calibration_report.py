"""Outputs of a calibration: the observed-vs-modelled plot and a small self-contained report page."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .html import CSS, esc

__all__ = ["observed_vs_modelled_png", "calibration_html"]


def observed_vs_modelled_png(points: dict, title: str) -> bytes:
    """PNG: modelled drive time (default and calibrated) against the observed one, minutes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    obs = np.asarray(points["observed"]) / 60
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2), sharex=True, sharey=True)
    hi = float(np.nanpercentile(obs, 99.5)) * 1.1 if len(obs) else 1.0
    for ax, key, label in zip(axes, ("default", "calibrated"), ("uncalibrated default", "calibrated")):
        mod = np.asarray(points[key]) / 60
        ax.scatter(obs, mod, s=3, alpha=0.25, color="#7a1212" if key == "default" else "#12507a", linewidths=0)
        ax.plot([0, hi], [0, hi], color="#333", lw=1)
        for d in (1, 2):
            ax.plot([0, hi], [d, hi + d], color="#999", lw=0.6, ls="--")
            ax.plot([0, hi], [-d, hi - d], color="#999", lw=0.6, ls="--")
        e = mod - obs
        ax.set_title(f"{label}: median |error| {np.median(np.abs(e)) * 60:.0f} s, bias {np.mean(e) * 60:+.0f} s")
        ax.set_xlim(0, hi)
        ax.set_ylim(0, hi)
        ax.set_xlabel("observed departure -> arrival (min)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("modelled drive time (min)")
    fig.suptitle(title + "  (dashed: +-1 and +-2 min)", fontsize=11)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    return buf.getvalue()


def _table(rows: list, cols: list | None = None) -> str:
    if not rows:
        return "<p class='small'>none</p>"
    cols = cols or list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th class='t'>{esc(str(c))}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{esc(str(r.get(c, '')))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<div class='tablewrap'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def calibration_html(summary: dict, png: bytes, response_toml: str) -> str:
    """The report page (one file, opens offline)."""
    import base64

    cal = summary["calibration"]
    cv = cal["cross_validation"]
    recs = cal["records"]
    jd = cal["junction_delay_s"]
    cv_rows = [{"model": k, **cv[k]} for k in ("default", "calibrated")]
    img = base64.b64encode(png).decode("ascii")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>kazerne calibration</title>",
        f"<style>{CSS}</style></head><body>",
        f"<header><h1>Calibration on dispatch records</h1><p>{esc(recs['file'])}: {recs['rows']} rows, "
        f"{recs['used']} used, {recs['rejected']} rejected (rejects.csv); base profile {esc(cal['base_profile'])}</p>"
        "</header><main>",
        "<section><h2>Cross-validated drive-time error (departure to arrival)</h2>",
        _table(cv_rows),
        f"<p class='small'>{esc(cv['note'])}; {cv['folds']} folds by incident.</p>",
        f"<figure class='map'><img alt='observed vs modelled' src='data:image/png;base64,{img}'></figure></section>",
        "<section><h2>Speed factors (x the base profile's speeds) and junction delay</h2>",
        f"<p>Junction delay {jd['value']} s (standard error {jd['se']} s; default {jd['default']} s).</p>",
        _table(cal["factors"]),
        "<p class='small'>A factor whose group and period the records drive less than 30 min in total is not "
        "fitted (stays 1).</p></section>",
        "<section><h2>Call handling and turnout (shifted log-normals)</h2>",
        _table(
            [{"what": "call handling", **(cal["call_handling"] or {})}]
            + [{"what": f"turnout {k}", **v} for k, v in cal["turnout_by_crew"].items()]
            + [{"what": f"turnout post {k}", **v} for k, v in cal["turnout_by_post"].items()],
            ["what", "n", "median_s", "p90_s", "min_s", "mean_s", "se"],
        ),
        f"<p>For a scenario:</p><pre>{esc(response_toml)}</pre></section>",
    ]
    for by, rows in cal["residuals"].items():
        parts.append(f"<section><h2>Residuals by {esc(by.replace('_', ' '))}</h2>{_table(rows)}</section>")
    parts.append(
        "<section><h2>Assumptions</h2><ul class='assume'>"
        + "".join(f"<li>{esc(str(a))}</li>" for a in summary["assumptions"])
        + "</ul></section></main></body></html>"
    )
    return "".join(parts)


def write_bytes(path: Path, data: bytes) -> None:
    from .atomic import atomic_path

    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
