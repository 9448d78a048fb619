"""Calls from incident records: where and when a zone's calls come, for the dispatch simulation.

Reads the dispatch-record format of the calibration issue (CSV, one row per vehicle per incident;
extra columns ignored): ``incident_id``, ``call_time`` (ISO 8601 local time, e.g.
``2022-06-01T13:02:09``), ``lon``, ``lat`` (WGS84). One call per incident (its earliest call time);
every unusable row is counted by reason, never used: an unparsable time or position, a position
farther than ``max_snap_m`` from every demand point with road data.

:func:`call_records` returns the calls per year (incidents / the records' span), the intensity by hour
of the week (the raw counts, Monday 00-01 h first, mean 1) and the incidents per demand point: the
three things the simulation otherwise takes from the population and a stated rate.
"""

from __future__ import annotations

import csv
import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ScenarioError

__all__ = ["CallRecords", "call_records", "REQUIRED_COLUMNS"]

REQUIRED_COLUMNS = ("incident_id", "call_time", "lon", "lat")
MIN_SPAN_DAYS = 7.0


@dataclass
class CallRecords:
    """Calls per year, the hour-of-week intensity (168, mean 1) and incidents per demand point."""

    calls_per_year: float
    hourly: np.ndarray
    weights: np.ndarray
    incidents: int
    span_days: float
    rejected: dict = field(default_factory=dict)

    def describe(self) -> dict:
        return {
            "incidents": self.incidents,
            "span_days": round(self.span_days, 2),
            "calls_per_year": round(self.calls_per_year, 1),
            "rejected_rows": dict(self.rejected),
        }


def call_records(path, lon, lat, max_snap_m: float = 1000.0, source: str | None = None) -> CallRecords:
    """Read incident records at ``path`` and place them on the demand points ``lon``, ``lat`` (WGS84).

    Raises
    ------
    ScenarioError
        Naming the file (and row / column) when the file as a whole is unusable: missing, not UTF-8,
        not CSV, a required column missing, no usable incident, or less than a week of records.
    """
    from scipy.spatial import cKDTree

    from ..routing.network import to_metric

    p = Path(path)
    src = source or str(p)
    if not p.is_file():
        raise ScenarioError("file not found; expected incident records (CSV)", source=src)
    rejected: dict = {}
    first: dict = {}
    try:
        with open(p, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            cols = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in cols]
            if missing:
                raise ScenarioError(
                    f"missing column(s) {', '.join(missing)}; expected at least {', '.join(REQUIRED_COLUMNS)}",
                    source=src,
                )
            for row in reader:
                iid = (row.get("incident_id") or "").strip()
                try:
                    t = _dt.datetime.fromisoformat((row.get("call_time") or "").strip())
                except ValueError:
                    rejected["call_time unparsable"] = rejected.get("call_time unparsable", 0) + 1
                    continue
                try:
                    x, y = float(row["lon"]), float(row["lat"])
                    if not (np.isfinite(x) and np.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
                        raise ValueError
                except (TypeError, ValueError):
                    rejected["lon/lat unparsable"] = rejected.get("lon/lat unparsable", 0) + 1
                    continue
                if not iid:
                    rejected["incident_id empty"] = rejected.get("incident_id empty", 0) + 1
                    continue
                t = t.replace(tzinfo=None)
                if iid not in first or t < first[iid][0]:
                    first[iid] = (t, x, y)
    except UnicodeDecodeError:
        raise ScenarioError("not a UTF-8 text file", source=src) from None
    except csv.Error as exc:
        raise ScenarioError(f"not a CSV file ({exc})", source=src) from None
    if not first:
        raise ScenarioError("no usable incident (every row was rejected)", source=src)
    times = [v[0] for v in first.values()]
    t0, t1 = min(times), max(times)
    span = (t1 - t0).total_seconds() / 86400.0
    if span < MIN_SPAN_DAYS:
        raise ScenarioError(
            f"the records span {span:.1f} days; expected at least {MIN_SPAN_DAYS:g} (a week: calls by hour of the week)",
            source=src,
        )
    ix, iy = to_metric([v[1] for v in first.values()], [v[2] for v in first.values()])
    dx, dy = to_metric(np.asarray(lon), np.asarray(lat))
    dist, nearest = cKDTree(np.column_stack([dx, dy])).query(np.column_stack([ix, iy]))
    ok = dist <= max_snap_m
    if (~ok).any():
        rejected[f"farther than {max_snap_m:g} m from the demand"] = int((~ok).sum())
    if not ok.any():
        raise ScenarioError("no incident lies on the zone's demand (with road data)", source=src)
    how = np.array([t.weekday() * 24 + t.hour for t in times])[ok]
    counts = np.bincount(how, minlength=168).astype(float)
    weights = np.bincount(nearest[ok], minlength=len(dx)).astype(float)
    n = int(ok.sum())
    return CallRecords(
        calls_per_year=n * 365.0 / span,
        hourly=counts / counts.mean(),
        weights=weights,
        incidents=n,
        span_days=span,
        rejected=rejected,
    )
