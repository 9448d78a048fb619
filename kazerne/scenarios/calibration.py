"""Run kind ``[calibration]``: fit the zone's profile to its dispatch records (glue; the engine is
:mod:`kazerne.calibration`). ``kazerne calibrate RECORDS --zone Z --profile P --out DIR`` builds the
same section.

::

    [calibration]
    records = "records.csv"     # CSV, GeoPackage or Parquet (relative to the scenario file)
    folds = 5                   # cross-validation folds (by incident)

Outputs: ``calibrated-profile.json`` (``[profile] file = ...`` / ``kz.get_profile(path)``),
``calibration.json``, ``response.toml`` (the fitted call handling and turnouts as ``[response]``
lines), ``factors.csv``, ``cross_validation.csv``, ``residuals_<by>.csv``, ``rejects.csv``,
``observed_vs_modelled.png``, ``report.html``, ``summary.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .kinds import RunResult

__all__ = ["CALIBRATION", "CalibrationSpec"]


@dataclass(frozen=True)
class CalibrationSpec:
    records: str
    folds: int = 5


class CalibrationKind:
    name = "calibration"
    title = "fit speed factors, junction delay, call handling and turnout to dispatch records"

    def parse(self, v, section, sc) -> CalibrationSpec:
        v.table(section, "calibration", {"records", "folds"})
        if "records" not in section:
            v.fail("calibration.records", "missing (required): the dispatch records file")
        f = Path(v.string(section["records"], "calibration.records", max_len=4096))
        f = f if f.is_absolute() else Path(sc.path).parent / f
        if not f.is_file():
            v.fail("calibration.records", f"{f} is not a file; expected a CSV, GeoPackage or Parquet file of records")
        return CalibrationSpec(records=str(f), folds=v.integer(section.get("folds", 5), "calibration.folds", 2, 20))

    def solve(self, sc, spec: CalibrationSpec, progress) -> RunResult:
        from ..calibration.fit import calibrate
        from ..calibration.records import read_records
        from ..report.calibration_report import calibration_html, observed_vs_modelled_png
        from ..routing.profiles import profile_file_dict
        from ..routing.zone import load_zone
        from .resolve import in_file, profile_of

        progress.step(f"loading zone {sc.zone}")
        with in_file(sc.path):
            zone = load_zone(sc.zone, quiet=progress.quiet)
        base = profile_of(sc)
        progress.step(f"reading records {spec.records}")
        recs = read_records(spec.records, zone)
        cal = calibrate(zone, recs, base, folds=spec.folds, progress=progress)
        summary = {
            "kind": self.name,
            "scenario": {"name": sc.name, "zone": sc.zone},
            "calibration": cal.summary(),
            "assumptions": assumptions(zone, cal),
        }
        prov = {"records": Path(spec.records).name, "records_used": cal.records["driving_fitted"], "zone": zone.name}
        prov["cross_validation"] = cal.cv
        profile_json = json.dumps(profile_file_dict(cal.profile, prov), indent=2) + "\n"
        response = cal.response_toml()
        png = observed_vs_modelled_png(cal.points, f"{zone.name}: {cal.records['driving_fitted']} trips")

        def layers(tmp: Path) -> None:
            from ..jsonsafe import json_safe

            (tmp / "calibrated-profile.json").write_text(profile_json, encoding="utf-8")
            (tmp / "calibration.json").write_text(
                json.dumps(json_safe(summary["calibration"]), indent=2, allow_nan=False) + "\n", encoding="utf-8"
            )
            (tmp / "response.toml").write_text(response, encoding="utf-8")
            (tmp / "observed_vs_modelled.png").write_bytes(png)
            (tmp / "report.html").write_text(calibration_html(json_safe(summary), png, response), encoding="utf-8")

        cv = cal.cv
        tables = {
            "factors.csv": cal.factors,
            "cross_validation.csv": [{"model": k, **cv[k]} for k in ("default", "calibrated")],
            "rejects.csv": cal.rejects or [{"row": "", "reason": "", "column": "", "value": "", "detail": "none"}],
        }
        for by, rows in cal.residuals.items():
            tables[f"residuals_{by}.csv"] = rows
        return RunResult(kind=self.name, summary=summary, tables=tables, layers=(layers,), value=cal)

    def console(self, summary: dict) -> list[str]:
        c = summary["calibration"]
        r, cv = c["records"], c["cross_validation"]
        jd = c["junction_delay_s"]
        lines = [
            f"calibration on {r['file']}: {r['rows']} rows, {r['used']} used, {r['rejected']} rejected"
            + (
                f" ({', '.join(f'{k} {v}' for k, v in r['rejects_by_reason'].items())})"
                if r["rejects_by_reason"]
                else ""
            ),
            f"base profile {c['base_profile']}; {r['driving_fitted']} trips fitted in {c['rounds']} routing rounds; "
            f"junction delay {jd['value']} s +- {jd['se']} (default {jd['default']} s)",
            "speed factors (x the base profile; +- one standard error):",
        ]
        for per in ("free", "rush_hour", "night"):
            fs = [f for f in c["factors"] if f["period"] == per and f["fitted"]]
            if fs:
                lines.append(f"  {per:9s} " + "  ".join(f"{f['factor']} {f['value']:.2f}+-{f['se']:.2f}" for f in fs))
        ch = c["call_handling"]
        if ch:
            lines.append(
                f"call handling: median {ch['median_s']:.0f} s, p90 {ch['p90_s']:.0f} s, min {ch['min_s']:.0f} s (n {ch['n']})"
            )
        for crew, t in c["turnout_by_crew"].items():
            lines.append(
                f"turnout {crew}: median {t['median_s']:.0f} s, p90 {t['p90_s']:.0f} s, min {t['min_s']:.0f} s (n {t['n']})"
            )
        d, k = cv["default"], cv["calibrated"]
        lines.append(
            f"{cv['folds']}-fold cross-validated drive time: median |error| {d['median_abs_error_s']:.0f} s -> "
            f"{k['median_abs_error_s']:.0f} s, bias {d['bias_s']:+.0f} s -> {k['bias_s']:+.0f} s, within 1 min "
            f"{d['within_1_min']:.0%} -> {k['within_1_min']:.0%}, within 2 min {d['within_2_min']:.0%} -> "
            f"{k['within_2_min']:.0%} (default -> calibrated)"
        )
        lines.append(
            'use it: [profile] file = "calibrated-profile.json" (and response.toml for call handling, turnout)'
        )
        return lines


def assumptions(zone, cal) -> list:
    d = zone.net.describe()
    return [
        f"road data {d['source']} ({d['road_data_date']}); modelled routes from the post's node to the incident's "
        "nearest node, the fastest under the profile being fitted",
        f"base profile {cal.base_profile.name}: factors multiply its speeds per road-class group x urban/rural x "
        "period; the network's own urban flag and junctions are used",
        "periods by the local time of the call: "
        + "; ".join(f"{r[0]} days {r[1]} {r[2]:g}-{r[3]:g} h" for r in cal.records["period_rules"])
        + "; otherwise free",
        "driving = departure -> arrival; records without a departure time only enter call handling",
        "call handling = call -> the incident's first alarm; turnout = alarm -> departure per record",
        "a factor not fitted (too little driving in its group and period) stays 1: the default speed",
    ]


CALIBRATION = CalibrationKind()
