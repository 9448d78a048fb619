"""Run kind ``[validate]``: a scenario's model against dispatch records (glue; the engine is
:mod:`kazerne.calibration.validate`). ``kazerne validate RECORDS SCENARIO`` builds the same spec, and
``kz.validate(zone, records, scenario)`` computes the same summary, so the three give one answer.

::

    [validate]
    records = "records.csv"     # CSV, GeoPackage or Parquet (relative to the scenario file)

The rest of the scenario (zone, posts, profile, call handling, turnout, thresholds) is the model that
is checked. Outputs: ``summary.json``, ``validation_records.csv`` (record by record),
``validation_headline.csv`` (the share of incidents within each threshold, observed vs modelled, for
the zone, per municipality and per period), ``rejects.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .kinds import RunResult

__all__ = ["VALIDATE", "ValidateSpec"]


@dataclass(frozen=True)
class ValidateSpec:
    records: str


class ValidateKind:
    name = "validate"
    title = "a scenario's model against dispatch records, record by record and the headline like for like"

    def parse(self, v, section, sc) -> ValidateSpec:
        v.table(section, "validate", {"records"})
        if "records" not in section:
            v.fail("validate.records", "missing (required): the dispatch records file")
        f = Path(v.string(section["records"], "validate.records", max_len=4096))
        f = f if f.is_absolute() else Path(sc.path).parent / f
        if not f.is_file():
            v.fail("validate.records", f"{f} is not a file; expected a CSV, GeoPackage or Parquet file of records")
        return ValidateSpec(records=str(f))

    def solve(self, sc, spec: ValidateSpec, progress) -> RunResult:
        from ..calibration.records import read_records
        from ..calibration.validate import validate
        from ..routing.zone import load_zone
        from .resolve import in_file

        progress.step(f"loading zone {sc.zone}")
        with in_file(sc.path):
            zone = load_zone(sc.zone, quiet=progress.quiet)
        progress.step(f"reading records {spec.records}")
        recs = read_records(spec.records, zone)
        res = validate(zone, recs, sc, progress)
        summary = {**res["summary"], "kind": self.name}
        rej = recs.rejects or [{"row": "", "reason": "", "column": "", "value": "", "detail": "none"}]
        return RunResult(kind=self.name, summary=summary, tables={**res["tables"], "rejects.csv": rej}, value=res)

    def console(self, summary: dict) -> list[str]:
        from ..calibration.validate import console_lines

        return console_lines(summary)


VALIDATE = ValidateKind()
