"""Comparing finished runs side by side: ``kazerne compare out/a out/b [...]``.

Each run folder (a baseline or a placement study) holds ``summary.json``, ``municipalities.csv``
and ``layers.gpkg`` (its demand cells with the first-arrival time). The first folder is the
reference; for every other run the comparison gives, for the zone and per municipality and per
threshold, the shares side by side, the change, the population gaining (now within T, was not)
and losing (was within T, is not), mean and p90 response times; a difference map per run; and
``compare.csv`` + ``report.html``.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np

from ..errors import KazerneError


class CompareError(KazerneError):
    """A folder given to ``kazerne compare`` is not a finished run, or the runs do not match."""


@dataclass
class Run:
    """What a comparison reads from a run folder."""

    folder: Path
    name: str
    summary: dict
    kind: str  # "baseline" or "study <kind>"
    zone: str
    thresholds: list
    head: dict  # zone headline: share_within, population_within, mean/p90
    municipalities: list  # rows of municipalities.csv
    cells: dict  # x, y (EPSG:31370), population, no_road_data, first_min, municipality
    cell_m: float
    sites: list  # dicts: id, name, crew, lon, lat
    call_handling_s: float = 0.0  # 0: times from the alarm (every run before kazerne 0.3)
    interval: dict | None = None  # the headline's interval (summary "uncertainty"; None: the run has none)


def _fail(source, msg) -> NoReturn:
    raise CompareError(msg, source=str(source))


def _num(s, source=None, where=""):
    """A number of municipalities.csv: empty / ``nan`` (no road-data population) is None."""
    if s is None or s.strip() in ("", "None", "nan", "NaN"):
        return None
    try:
        v = float(s)
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        _fail(source, f"{where}: expected a finite number, got {s[:40]!r}")
    return v


def _no_constant(c):
    raise ValueError(f"{c} is not a number (expected finite numbers)")


def _read_summary(sp: Path) -> dict:
    try:
        text = sp.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        _fail(sp, "expected UTF-8 JSON (the summary.json kazerne run writes)")
    except OSError as exc:
        _fail(sp, f"cannot read the file ({exc.strerror or exc})")
    try:
        s = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        _fail(sp, "not readable as JSON (nested too deeply)")
    except ValueError as exc:
        _fail(sp, f"not readable as JSON ({exc})")
    if not isinstance(s, dict):
        _fail(sp, f"expected a JSON object (the summary.json kazerne run writes), got a {type(s).__name__}")
    return s


def _at(s: dict, dotted: str, sp: Path, expected: str):
    cur = s
    for k in dotted.split("."):
        if not isinstance(cur, dict) or k not in cur:
            _fail(sp, f"{dotted}: missing; expected {expected} (is this the summary.json of a kazerne run?)")
        cur = cur[k]
    return cur


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_summary(s: dict, sp: Path) -> dict:
    """The fields compare reads, typed and in range; returns the zone headline."""
    for dotted in ("scenario.name", "assumptions.zone"):
        v = _at(s, dotted, sp, "a text")
        if not isinstance(v, str) or not v:
            _fail(sp, f"{dotted}: expected a non-empty text, got {_short(v)}")
    th = _at(s, "assumptions.thresholds_min", sp, "a list of minutes")
    if not isinstance(th, list) or not th or not all(_is_num(t) and 0 < t <= 240 for t in th):
        _fail(sp, f"assumptions.thresholds_min: expected a non-empty list of minutes in (0, 240], got {_short(th)}")
    ch = s["assumptions"].get("call_handling_s")
    if ch is not None and not (_is_num(ch) and ch >= 0):
        _fail(sp, f"assumptions.call_handling_s: expected seconds >= 0, got {_short(ch)}")
    desc = s["scenario"].get("description", "")
    if not isinstance(desc, str):
        _fail(sp, f"scenario.description: expected a text, got {_short(desc)}")
    where = "zone" if "zone" in s else "result.after"
    res = s.get("result")
    head = s.get("zone") or (res.get("after") if isinstance(res, dict) else None)
    if not head:
        _fail(
            sp,
            "no zone headline (summary.json field 'zone' or 'result.after'); compare takes "
            "baselines and add / relocate / greenfield / minimum studies",
        )
    if not isinstance(head, dict):
        _fail(sp, f"{where}: expected an object with share_within, got {_short(head)}")
    sw = head.get("share_within")
    if not isinstance(sw, dict) or not sw:
        _fail(sp, f"{where}.share_within: expected an object of shares per threshold, got {_short(sw)}")
    for k, v in sw.items():
        if v is not None and not (_is_num(v) and 0 <= v <= 1):
            _fail(sp, f"{where}.share_within.{k}: expected a share between 0 and 1, got {_short(v)}")
    for k in ("mean_response_min", "p90_response_min"):
        v = head.get(k)
        if v is not None and not (_is_num(v) and v >= 0):
            _fail(sp, f"{where}.{k}: expected minutes >= 0, got {_short(v)}")
    return head


def _pair(v) -> bool:
    return isinstance(v, list) and len(v) == 2 and all(_is_num(x) for x in v) and v[0] <= v[1]


def _ends_ok(ends) -> bool:
    if not isinstance(ends, dict) or "central" not in ends:
        return False
    for e in ends.values():
        sw = e.get("share_within") if isinstance(e, dict) else None
        if not isinstance(sw, dict) or not all(_is_num(x) for x in sw.values()):
            return False
    return True


def _check_interval(s: dict, sp: Path) -> dict | None:
    """The run's headline interval (``uncertainty``), checked; None when the run has none."""
    u = s.get("uncertainty")
    if u is None:
        return None
    if not isinstance(u, dict):
        _fail(sp, f"uncertainty: expected an object (the headline's interval), got {_short(u)}")
    sw, mean, r = u.get("share_within"), u.get("mean_response_min"), u.get("ranges")
    if not isinstance(sw, dict) or not all(_pair(v) and 0 <= v[0] and v[1] <= 1 for v in sw.values()):
        _fail(sp, f"uncertainty.share_within: expected [low, high] shares per threshold, got {_short(sw)}")
    if not _pair(mean):
        _fail(sp, f"uncertainty.mean_response_min: expected [low, high] minutes, got {_short(mean)}")
    if not isinstance(r, dict):
        _fail(sp, f"uncertainty.ranges: expected an object, got {_short(r)}")
    u = dict(u)
    if not _ends_ok(u.get("ends")):
        u.pop("ends", None)  # no paired change: each run's interval only
    u.setdefault("assumption", "")
    return u


def _short(v) -> str:
    t = json.dumps(v) if not isinstance(v, float) or math.isfinite(v) else repr(v)
    return t if len(t) <= 40 else t[:36] + " ..."


#: the numeric columns of municipalities.csv that compare reads (besides share_within_*)
_READ_COLUMNS = ("population", "no_road_data", "mean_min", "p90_min")


def _read_municipalities(mp: Path) -> list:
    try:
        with open(mp, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except UnicodeDecodeError:
        _fail(mp, "expected a UTF-8 CSV (the municipalities.csv kazerne run writes)")
    except (OSError, csv.Error) as exc:
        _fail(mp, f"not readable as CSV ({exc})")
    if not rows or "municipality" not in rows[0]:
        _fail(mp, "expected a CSV with a 'municipality' column and one row per municipality")
    out = []
    for i, r in enumerate(rows, start=2):
        if None in r or any(v is None for v in r.values()):
            _fail(mp, f"line {i}: expected {len(rows[0])} columns like the header")
        row = {}
        for k, v in r.items():
            if k == "municipality":
                row[k] = v
                continue
            if not (k.startswith("share_within_") or k in _READ_COLUMNS):  # not read by compare: kept
                try:
                    row[k] = _num(v, mp, k)
                except CompareError:
                    row[k] = v
                continue
            x = _num(v, mp, f"line {i}, column {k}")
            if k.startswith("share_within_") and x is not None and not 0 <= x <= 1:
                _fail(mp, f"line {i}, column {k}: expected a share between 0 and 1, got {v[:40]!r}")
            row[k] = x
        out.append(row)
    return out


def load_run(folder) -> Run:
    """Read a finished run; :class:`CompareError` (one line) when it is not one."""
    import pyogrio

    folder = Path(folder)
    sp = folder / "summary.json"
    if not sp.is_file():
        raise CompareError("expected a run folder with summary.json (the output of kazerne run)", source=str(folder))
    s = _read_summary(sp)
    if "ems" in s:
        raise CompareError("an EMS study; compare takes fire runs (baselines or placement studies)", source=str(sp))
    head = _check_summary(s, sp)
    mp = folder / "municipalities.csv"
    if not mp.is_file():
        raise CompareError("expected municipalities.csv beside summary.json", source=str(folder))
    munis = _read_municipalities(mp)
    gp = folder / "layers.gpkg"
    if not gp.is_file():
        raise CompareError(
            "expected layers.gpkg (written by every run unless [outputs] gpkg = false)", source=str(folder)
        )
    try:
        df = pyogrio.read_dataframe(gp, layer="demand_cells")
    except Exception as exc:  # noqa: BLE001 - any read error is the user's file
        raise CompareError(f"layer demand_cells not readable ({exc})", source=str(gp)) from None
    for f in ("population", "no_road_data", "first_min", "municipality"):
        if f not in df.columns:
            raise CompareError(f"layer demand_cells lacks field {f!r}", source=str(gp))
    if df.crs is not None and df.crs.to_epsg() != 31370:
        df = df.to_crs(epsg=31370)
    c = df.geometry.centroid
    b = df.geometry.bounds
    cell = float(np.median(b["maxx"] - b["minx"])) if len(df) else 0.0
    cells = {
        "x": c.x.to_numpy(),
        "y": c.y.to_numpy(),
        "population": df["population"].to_numpy(float),
        "no_road_data": df["no_road_data"].to_numpy().astype(bool),
        "first_min": df["first_min"].to_numpy(float),
        "municipality": df["municipality"].to_numpy(object),
    }
    sites = []
    layers = [ln for ln, _ in pyogrio.list_layers(gp)]
    lay = "posts" if "posts" in layers else "sites" if "sites" in layers else None
    if lay:
        sd = pyogrio.read_dataframe(gp, layer=lay)
        idf = "post_id" if "post_id" in sd.columns else "site_id"
        for _, r in sd.iterrows():
            sites.append(
                {
                    "id": r[idf],
                    "name": r.get("name", ""),
                    "crew": r.get("crew", "") or "",
                    "origin": r.get("origin", "") or "",
                    "x": r.geometry.x,
                    "y": r.geometry.y,
                }
            )
    study: dict = s["study"] if isinstance(s.get("study"), dict) else {}
    kind = "baseline" if "zone" in s else f"study {study.get('kind', '?')}"
    return Run(
        folder=folder,
        name=s["scenario"]["name"],
        summary=s,
        kind=kind,
        zone=s["assumptions"]["zone"],
        thresholds=[float(t) for t in s["assumptions"]["thresholds_min"]],
        head=head,
        municipalities=munis,
        cells=cells,
        cell_m=cell,
        sites=sites,
        call_handling_s=float(s["assumptions"].get("call_handling_s") or 0.0),
        interval=_check_interval(s, sp),
    )


def _check_same_demand(ref: Run, other: Run) -> None:
    if other.zone != ref.zone:
        raise CompareError(f"zone {other.zone!r} differs from the first run's {ref.zone!r}", source=str(other.folder))
    a, b = ref.cells, other.cells
    if len(a["x"]) != len(b["x"]) or not (
        np.allclose(a["x"], b["x"], atol=1.0) and np.allclose(a["y"], b["y"], atol=1.0)
    ):
        raise CompareError(
            "its demand cells differ from the first run's (another grid or demand file); compare "
            "needs runs on the same demand",
            source=str(other.folder),
        )
    if not np.allclose(a["population"], b["population"], rtol=1e-9, atol=1e-9):
        raise CompareError("its population per cell differs from the first run's", source=str(other.folder))
    if other.call_handling_s != ref.call_handling_s:
        raise CompareError(
            f"its times count {_clock(other.call_handling_s)}, the first run's {_clock(ref.call_handling_s)}; "
            "compare needs runs on one definition (set [response] call_handling_s alike and run again)",
            source=str(other.folder),
        )


def _clock(ch: float) -> str:
    from ..clock import Clock

    return Clock(ch).label("short")


def gain_loss(before_min, after_min, weight, threshold_min: float) -> tuple:
    """(population gaining, population losing) at a threshold: gaining = within T after and not
    before; losing = within T before and not after. NaN / inf times count as not within."""
    b = np.asarray(before_min, float) <= threshold_min
    a = np.asarray(after_min, float) <= threshold_min
    w = np.asarray(weight, float)
    return float(w[a & ~b].sum()), float(w[b & ~a].sum())


def road_changes(summary: dict) -> str:
    """A run's road changes (``[[network.changes]]``) in one line ("" when none)."""
    nc = summary.get("assumptions", {}).get("network_changes") or {}
    items = [f"{c['change']} ({c['edges']} edges)" for c in nc.get("applied", [])]
    return "; ".join(items) + (f" on {nc['date']}" if items and nc.get("date") else "")


def _label(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.-]+", "-", name)


def comparison_rows(runs: list, thresholds: list) -> list:
    """One row per area (zone, then municipalities): per threshold the share of every run, the
    change of each later run against the first, the population gaining and losing; mean and p90."""
    ref = runs[0]
    w = np.where(ref.cells["no_road_data"], 0.0, ref.cells["population"])
    areas = [("zone (all)", np.ones(len(w), bool))] + [
        (m["municipality"], ref.cells["municipality"] == m["municipality"]) for m in ref.municipalities
    ]
    mrow = [{m["municipality"]: m for m in r.municipalities} for r in runs]
    rows = []
    for area, sel in areas:
        r = {"area": area, "population_with_road_data": round(float(w[sel].sum()), 1)}
        for t in thresholds:
            tk = f"{t:g}"
            for k, run in enumerate(runs):
                if area == "zone (all)":
                    v = run.head["share_within"].get(tk)
                else:
                    v = (mrow[k].get(area) or {}).get(f"share_within_{tk}min")
                if v is None:  # not a report threshold of that run: from its cells
                    ws = w[sel].sum()
                    v = float(w[sel & (run.cells["first_min"] <= t)].sum() / ws) if ws > 0 else None
                r[f"share_{tk}min__{_label(run.name)}"] = v
            for run in runs[1:]:
                a = r[f"share_{tk}min__{_label(ref.name)}"]
                b = r[f"share_{tk}min__{_label(run.name)}"]
                r[f"change_{tk}min__{_label(run.name)}"] = None if a is None or b is None else b - a
                g, lo = gain_loss(ref.cells["first_min"][sel], run.cells["first_min"][sel], w[sel], t)
                r[f"gaining_{tk}min__{_label(run.name)}"] = round(g, 1)
                r[f"losing_{tk}min__{_label(run.name)}"] = round(lo, 1)
        for k, run in enumerate(runs):
            if area == "zone (all)":
                mean, p90 = run.head.get("mean_response_min"), run.head.get("p90_response_min")
            else:
                m = mrow[k].get(area) or {}
                mean, p90 = m.get("mean_min"), m.get("p90_min")
            r[f"mean_min__{_label(run.name)}"] = mean
            r[f"p90_min__{_label(run.name)}"] = p90
        rows.append(r)
    return rows


def _sites_for_map(ref: Run, run: Run):
    from .council import crew_kind, post_label
    from .maps import Site

    ids_a = {s["id"] for s in ref.sites}
    ids_b = {s["id"] for s in run.sites}
    out = []
    for s in run.sites:
        kind = crew_kind(s["crew"]) if s["id"] in ids_a else "new"
        lab = post_label(s["id"], s["name"]) if s["id"] in ids_a else f"NEW {post_label(s['id'], s['name'])}"
        out.append(Site(s["x"], s["y"], lab, kind, priority=0 if kind == "new" else 1))
    for s in ref.sites:
        if s["id"] not in ids_b:
            out.append(Site(s["x"], s["y"], f"CLOSED {post_label(s['id'], s['name'])}", "closed", priority=0))
    return out


def _threshold(threshold, ths: list) -> float:
    """``--threshold``: one of the runs' thresholds, or minutes in (0, 240]; the middle one by default."""
    if threshold is None:
        return ths[len(ths) // 2]
    try:
        T = float(threshold)
    except (TypeError, ValueError):
        T = math.nan
    if T in ths:
        return T
    if not (math.isfinite(T) and 0 < T <= 240):
        raise CompareError(
            f"expected minutes in (0, 240] (the runs' thresholds are {', '.join(f'{t:g}' for t in ths)}), "
            f"got {threshold!r}",
            field="--threshold",
        )
    return T


def _check_not_an_input(target: Path, runs: list) -> None:
    """The result folder is none of the compared runs, and holds none of them."""
    try:
        t = target.resolve()
    except (OSError, RuntimeError):
        return
    for r in runs:
        f = r.folder.resolve()
        if f == t or t in f.parents:
            raise CompareError(
                f"the result folder {target} would replace the compared run {r.folder}; choose another --name or --out",
                field="--name",
            )


def compare_runs(
    folders, out_root="out", threshold: float | None = None, name: str | None = None, quiet: bool = True
) -> Path:
    """Compare run folders (the first is the reference); write ``compare.csv``, a difference map
    per later run (PNG 200 dpi + PDF) and ``report.html`` into ``out_root/<name>/``."""
    from . import html as H
    from .atomic import MAX_NAME_BYTES, atomic_dir, check_folder_name, check_output_dir, write_json
    from .council import basemap, change_surface
    from .maps import council_map, figure_bytes, save_map
    from .tables import write_csv

    if len(folders) < 2:
        raise CompareError("give at least two run folders: kazerne compare out/a out/b [...]", field="folders")
    if name is not None:
        check_folder_name(name, "--name")
    runs = [load_run(f) for f in folders]
    for r in runs[1:]:
        _check_same_demand(runs[0], r)
    ths = sorted(set(runs[0].thresholds))
    T = _threshold(threshold, ths)
    if T not in ths:
        ths = sorted(ths + [T])
    ths = [T] + [t for t in ths if t != T]  # the asked threshold's columns first (table, CSV, report)
    rows = comparison_rows(runs, ths)
    ref = runs[0]
    verdicts = uncertainty_verdicts(runs, rows, T)
    if name is None:
        name = (
            ("compare-" + "-vs-".join(_label(r.name) for r in runs)).encode()[:MAX_NAME_BYTES].decode(errors="ignore")
        )
        name = check_folder_name(name, "--name")
    target = Path(out_root) / name
    _check_not_an_input(target, runs)
    check_output_dir(target)  # before the zone is loaded and the maps drawn
    from ..routing.zone import load_zone

    zone = load_zone(ref.zone, quiet=True)
    bm = basemap(zone)
    w = np.where(ref.cells["no_road_data"], 0.0, ref.cells["population"])

    class _D:  # the demand cells as change_surface expects them
        x, y = ref.cells["x"], ref.cells["y"]
        weight, no_road_data, cell_m = ref.cells["population"], ref.cells["no_road_data"], ref.cell_m

    with atomic_dir(target) as tmp:
        write_csv(tmp / "compare.csv", rows, columns=list(rows[0]))
        figs = []
        for run in runs[1:]:
            g, lo = gain_loss(ref.cells["first_min"], run.cells["first_min"], w, T)
            title = f"{bm.zone_title}: {run.name} against {ref.name}"
            sub = (
                f"Within {T:g} min: {g:,.0f} people gain, {lo:,.0f} lose; zone share "
                f"{100 * rows[0][f'share_{T:g}min__{_label(ref.name)}']:.1f} % → "
                f"{100 * rows[0][f'share_{T:g}min__{_label(run.name)}']:.1f} %"
            )
            surf = change_surface(
                _D, ref.cells["first_min"] * 60, run.cells["first_min"] * 60, T, f"{ref.name} → {run.name}"
            )
            from ..clock import Clock
            from .council import assumption_lines

            lines = assumption_lines(
                run.summary["assumptions"],
                extra=[
                    f"Reference: {ref.name} ({ref.folder}); compared: {run.name} ({run.folder}).",
                    "Both runs on the same demand cells; a cell's time is its first fire engine "
                    + Clock(ref.call_handling_s).label("paren")
                    + ".",
                ],
            )
            fig, _ = council_map(
                bm, title=title, subtitle=sub, surface=surf, sites=_sites_for_map(ref, run), assumptions=lines
            )
            stem = "difference" if len(runs) == 2 else f"difference_{_label(run.name)}"
            png = figure_bytes(fig, "png")
            save_map(fig, tmp, stem)
            figs.append(
                H.figure(
                    png,
                    f"What changes from {ref.name} to {run.name} (threshold {T:g} min).",
                    id=f"map-{_label(run.name)}",
                    pdf_name=f"{stem}.pdf",
                )
            )
        meta = {
            "runs": [
                {"name": r.name, "folder": str(r.folder), "kind": r.kind, "road_changes": road_changes(r.summary)}
                for r in runs
            ],
            "threshold_min": T,
            "thresholds_min": sorted(ths),
            "call_handling_s": ref.call_handling_s,
            "thresholds_from": "call" if ref.call_handling_s else "alarm",
            "uncertainty": verdicts,
        }
        write_json(tmp / "summary.json", meta)
        # report
        cols = [("area", "area", None), ("population_with_road_data", "people with road data", H.fmt_int)]
        for t in ths:
            tk = f"{t:g}"
            for run in runs:
                cols.append((f"share_{tk}min__{_label(run.name)}", f"≤ {tk} min {run.name}", H.fmt_pct))
            for run in runs[1:]:
                cols += [
                    (f"change_{tk}min__{_label(run.name)}", f"change ≤ {tk} ({run.name})", H.fmt_signed_pct),
                    (f"gaining_{tk}min__{_label(run.name)}", f"people gaining ≤ {tk}", H.fmt_int),
                    (f"losing_{tk}min__{_label(run.name)}", f"people losing ≤ {tk}", H.fmt_int),
                ]
        for run in runs:
            cols += [
                (f"mean_min__{_label(run.name)}", f"mean min {run.name}", lambda v: H.fmt_num(v, 2)),
                (f"p90_min__{_label(run.name)}", f"p90 min {run.name}", lambda v: H.fmt_num(v, 2)),
            ]
        cards = []
        for run in runs[1:]:
            g, lo = gain_loss(ref.cells["first_min"], run.cells["first_min"], w, T)
            cards += [
                (
                    H.fmt_signed_pct(rows[0][f"change_{T:g}min__{_label(run.name)}"]),
                    f"zone share within {T:g} min",
                    f"{run.name} vs {ref.name}",
                ),
                (f"{g:,.0f}", f"people gaining (≤ {T:g} min)", run.name),
                (f"{lo:,.0f}", f"people losing (≤ {T:g} min)", run.name),
            ]
        secs = [
            H.section(
                "Headline",
                H.cards(cards) + "".join(H.paragraph(line) for line in uncertainty_lines(verdicts)),
                id="headline",
            ),
            H.section("Difference map" + ("s" if len(figs) > 1 else ""), "".join(figs), id="map"),
            H.section(
                "Side by side",
                H.paragraph(
                    "Zone first, then each municipality. 'Gaining': people now "
                    "within the time who were not; 'losing': the reverse. Click a "
                    "column heading to sort.",
                    "small",
                )
                + H.table(rows, cols, id="compare", zone_first=True),
                id="side-by-side",
            ),
            H.section(
                "Runs",
                H.table(
                    [
                        {
                            "name": r.name,
                            "kind": r.kind,
                            "folder": str(r.folder),
                            "description": r.summary["scenario"].get("description", ""),
                            "road changes": road_changes(r.summary),
                        }
                        for r in runs
                    ],
                    [(k, k, None) for k in ("name", "kind", "folder", "description", "road changes")],
                ),
            ),
        ]
        from .council import write_report

        write_report(
            tmp,
            f"{bm.zone_title}: " + " vs ".join(r.name for r in runs),
            [f"Reference: {ref.name}; threshold {T:g} min " + _clock(ref.call_handling_s)],
            secs,
            "Road data © OpenStreetMap contributors (ODbL); population Statbel.",
        )
    return target


def uncertainty_verdicts(runs: list, rows: list, T: float) -> dict:
    """Each run's interval at ``T`` and, for every later run, whether its difference from the first
    is larger than the uncertainty (:func:`kazerne.report.intervals.difference`)."""
    from .intervals import difference, share_text

    tk = f"{T:g}"
    z = rows[0]
    runs_out: dict[str, dict] = {}
    diffs: dict[str, dict] = {}
    out = {"threshold_min": T, "runs": runs_out, "differences": diffs}
    for r in runs:
        u = r.interval
        if u is None or tk not in u["share_within"]:
            runs_out[r.name] = {"interval": None, "text": f"{r.name}: no interval within {tk} min in its summary"}
            continue
        share = z[f"share_{tk}min__{_label(r.name)}"]
        runs_out[r.name] = {
            "interval": u["share_within"][tk],
            "text": f"{r.name}: {share_text(u, T, share)}",
            "assumption": u.get("assumption", ""),
        }
    ref = runs[0]
    for r in runs[1:]:
        a, b = ref.interval, r.interval
        if a is None or b is None or tk not in a["share_within"] or tk not in b["share_within"]:
            diffs[r.name] = {
                "verdict": "no interval on "
                + ("both sides" if a is None and b is None else (ref.name if a is None else r.name))
                + f": kazerne cannot say whether the difference within {tk} min is larger than the uncertainty "
                "(a run of kazerne before 0.4, or a kind of study without one)"
            }
            continue
        diffs[r.name] = difference(
            a, b, T, z[f"share_{tk}min__{_label(ref.name)}"], z[f"share_{tk}min__{_label(r.name)}"]
        )
    return out


def uncertainty_lines(verdicts: dict) -> list:
    """The lines of :func:`uncertainty_verdicts` for the terminal and the report."""
    if not verdicts:
        return []
    lines = [v["text"] for v in verdicts["runs"].values()]
    lines += list(dict.fromkeys(v["assumption"] for v in verdicts["runs"].values() if v.get("assumption")))
    lines += [f"{name}: {d['verdict']}" for name, d in verdicts["differences"].items()]
    return lines


def compare_text(target, max_areas: int = 30) -> str:
    """The figures of a finished comparison (``target``: its folder) for the terminal: at the
    comparison's threshold, per compared run the zone share before → after, the change and the
    people gaining / losing, then the same per municipality (largest changes first)."""
    from .tables import text_table

    target = Path(target)
    meta = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    with open(target / "compare.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    T = float(meta["threshold_min"])
    tk = f"{T:g}"
    names = [r["name"] for r in meta["runs"]]
    ref = names[0]
    clock = _clock(float(meta.get("call_handling_s") or 0.0))
    out = [f"within {tk} min {clock}; reference {ref}"]
    pct = lambda v: "" if v in ("", None) else f"{100 * float(v):.1f}%"  # noqa: E731
    sgn = lambda v: "" if v in ("", None) else f"{100 * float(v):+.1f} pt"  # noqa: E731
    ppl = lambda v: "" if v in ("", None) else f"{float(v):,.0f}"  # noqa: E731
    for name in names[1:]:
        lab, rl = _label(name), _label(ref)
        z = rows[0]
        out.append(
            f"{name}: zone {pct(z[f'share_{tk}min__{rl}'])} -> {pct(z[f'share_{tk}min__{lab}'])} "
            f"({sgn(z[f'change_{tk}min__{lab}'])}), {ppl(z[f'gaining_{tk}min__{lab}'])} people gain, "
            f"{ppl(z[f'losing_{tk}min__{lab}'])} lose"
        )
        munis = sorted(rows[1:], key=lambda r: -abs(float(r[f"change_{tk}min__{lab}"] or 0.0)))[:max_areas]
        table = [
            [
                r["area"],
                pct(r[f"share_{tk}min__{rl}"]),
                pct(r[f"share_{tk}min__{lab}"]),
                sgn(r[f"change_{tk}min__{lab}"]),
                ppl(r[f"gaining_{tk}min__{lab}"]),
                ppl(r[f"losing_{tk}min__{lab}"]),
            ]
            for r in [rows[0], *munis]
        ]
        out.append(text_table(table, ["", f"{ref} <={tk}", f"{name} <={tk}", "change", "gaining", "losing"]))
    unc = uncertainty_lines(meta.get("uncertainty") or {})
    if unc:
        out.append("uncertainty of the zone's share:")
        out += [f"  {line}" for line in unc]
    return "\n".join(out)
