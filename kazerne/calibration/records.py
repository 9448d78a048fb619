"""Dispatch records: one row per vehicle per incident, as a zone's dispatch system logs them.

Columns (extra columns are kept and ignored): ``incident_id``, ``vehicle_type`` (:data:`VEHICLE_TYPES`),
``post_id`` (a pack id) or ``post_lon`` + ``post_lat``, ``call_time``, ``alarm_time``,
``departure_time``, ``arrival_time`` (ISO 8601; without an offset a time is local, Europe/Brussels;
``alarm_time`` or ``departure_time`` may be empty), ``lon``, ``lat`` (the incident, WGS84). CSV
(comma or semicolon, UTF-8 with or without BOM), GeoPackage (``.gpkg``) or Parquet (``.parquet``)
with the same columns.

A file that cannot be used as a whole (missing, not a table, not UTF-8, a required column missing,
no usable record, every record rejected for the same reason) raises :class:`RecordsError` naming
the file, the row (the header is row 1) and the column. Every other unusable record is a *reject*,
counted by reason (:data:`REJECT_REASONS`) and listed with its row, column and value; nothing is
silently used or dropped. Durations are computed in UTC, so a record across a clock change is
right; a local time that does not exist (the spring-forward hour) is a reject.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import numpy as np

from ..errors import RecordsError, SnapError
from ..routing.network import to_metric

__all__ = [
    "CallRecords",
    "REJECT_REASONS",
    "REQUIRED_COLUMNS",
    "Records",
    "VEHICLE_TYPES",
    "call_records",
    "read_records",
]

TIME_COLUMNS = ("call_time", "alarm_time", "departure_time", "arrival_time")
REQUIRED_COLUMNS = ("incident_id", "vehicle_type", *TIME_COLUMNS, "lon", "lat")
#: vehicle type -> (speed profile, speed scale on that profile); fire types as kazerne.DEFAULT_VEHICLE_TYPES
VEHICLE_TYPES = {
    "AP": ("fire_engine", 1.0),
    "HV": ("fire_engine", 1.0),
    "aerial": ("fire_engine", 0.9),
    "tanker": ("fire_engine", 0.85),
    "ambulance": ("ambulance", 1.0),
    "PIT": ("ambulance", 1.0),
    "MUG": ("ambulance", 1.0),
}
REJECT_REASONS = {
    "missing_value": "a required value is empty (incident id, vehicle type, call or arrival time)",
    "bad_time": "a time that is not ISO 8601, or a local time that does not exist (clock change)",
    "time_order": "times out of order (alarm before call, departure before alarm, arrival before departure)",
    "too_long": "an interval longer than 2 hours",
    "too_fast": "faster than 160 km/h in a straight line from the post to the incident",
    "bad_position": "lon / lat missing, not a number or out of range",
    "off_network": "the incident lies farther than the snapping distance from the road network",
    "in_gap": "the incident lies in the zone pack's road-data gap",
    "unknown_post": "post_id not in the zone pack and no post_lon / post_lat",
    "post_off_network": "the post position cannot be placed on the road network",
    "unknown_type": "a vehicle type the engine does not know",
    "duplicate": "the same incident, vehicle type, post and times as an earlier row",
    "field_count": "the row has more or fewer fields than the header",
}
MAX_INTERVAL_S = 7200.0
MAX_STRAIGHT_KMH = 160.0
MIN_CALL_SPAN_DAYS = 7.0  # calls by hour of the week need a week of records
LOCAL_TZ = ZoneInfo("Europe/Brussels")


@dataclass
class Records:
    """The usable records of a file (aligned arrays) and its rejects.

    Times are seconds since the epoch (UTC; NaN when empty); ``weekday`` (0 = Monday) and ``hour``
    (0-23.99) are the local time of the call. ``post`` indexes ``post_ids`` / ``post_nodes`` /
    ``post_crews``; ``node`` is the incident's network node, ``municipality`` an index into the
    zone's municipalities (-1 outside).
    """

    source: str
    row: np.ndarray
    incident_id: np.ndarray
    vehicle_type: np.ndarray
    post: np.ndarray
    call: np.ndarray
    alarm: np.ndarray
    departure: np.ndarray
    arrival: np.ndarray
    weekday: np.ndarray
    hour: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    node: np.ndarray
    snap_m: np.ndarray
    municipality: np.ndarray
    post_ids: list
    post_nodes: np.ndarray
    post_crews: list
    rejects: list = field(default_factory=list)
    n_rows: int = 0

    def __post_init__(self):
        from ..checks import check_fields

        check_fields(self)

    def __len__(self) -> int:
        return int(self.row.shape[0])

    def reject_counts(self) -> dict:
        """``{reason: count}`` over every reason (zeros included)."""
        out = dict.fromkeys(REJECT_REASONS, 0)
        for r in self.rejects:
            out[r["reason"]] += 1
        return out

    def subset(self, mask) -> "Records":
        """The records where ``mask`` holds (the rejects and posts unchanged)."""
        m = mask if isinstance(mask, slice) else np.asarray(mask)
        kw: dict[str, Any] = {}
        for k, val in self.__dict__.items():
            kw[k] = val[m] if isinstance(val, np.ndarray) and k != "post_nodes" else val
        return Records(**kw)

    def describe(self) -> dict:
        return {
            "file": self.source,
            "rows": self.n_rows,
            "used": len(self),
            "rejected": len(self.rejects),
            "rejects_by_reason": {k: v for k, v in self.reject_counts().items() if v},
            "incidents": int(len(set(self.incident_id.tolist()))),
            "posts": len(self.post_ids),
        }


# ------------------------------------------------------------------ file -> rows of text
def _fail(path, row, col, msg) -> NoReturn:
    fld = f"row {row}" + (f", column {col}" if col else "")
    raise RecordsError(msg, source=str(path), field=fld)


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and math.isnan(v):
        return ""
    if hasattr(v, "isoformat"):
        try:
            if v != v:  # NaT
                return ""
        except (TypeError, ValueError):
            pass
        return v.isoformat()
    return str(v)


def check_records_path(path: Path) -> None:
    """:class:`RecordsError` naming ``path`` unless it is a file."""
    what = "a CSV, GeoPackage or Parquet file of dispatch records"
    if not path.exists():
        raise RecordsError(f"no such file; expected {what}", source=str(path))
    if path.is_dir():
        raise RecordsError(f"is a folder; expected {what}", source=str(path))


def _table_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows (text) of a CSV, GeoPackage or Parquet file."""
    check_records_path(path)
    suffix = path.suffix.lower()
    if suffix in (".gpkg", ".parquet"):
        try:
            if suffix == ".parquet":
                import pandas as pd

                df = pd.read_parquet(path)
            else:
                import geopandas as gpd

                df = gpd.read_file(path)
                df = df.drop(columns=[c for c in df.columns if c == "geometry"])
        except Exception as exc:  # noqa: BLE001 - any reader failure means the file is not a table
            raise RecordsError(f"not a readable {suffix[1:]} table ({type(exc).__name__})", source=str(path)) from None
        header = [str(c) for c in df.columns]
        rows = [[_text(v) for v in r] for r in df.itertuples(index=False, name=None)]
        return header, rows
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordsError(f"cannot read the file ({exc.strerror or exc})", source=str(path)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        row = before.count(b"\n") + 1
        line_start = before.rfind(b"\n") + 1
        col = before[line_start:].count(b",") + before[line_start:].count(b";") + 1
        _fail(path, row, f"#{col}", f"byte 0x{data[exc.start]:02x} is not UTF-8; expected a UTF-8 CSV file")
    if "\x00" in text:
        row = text[: text.index("\x00")].count("\n") + 1
        _fail(path, row, None, "contains a NUL byte; expected a text CSV file")
    first = text.split("\n", 1)[0]
    delim = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        head = next(reader, None)
        if head is None or not any(h.strip() for h in head):
            _fail(path, 1, None, "empty; expected a header row with the columns " + ", ".join(REQUIRED_COLUMNS))
        rows = list(reader)
    except csv.Error as exc:
        _fail(path, reader.line_num, None, f"not a CSV table ({exc})")
    return [h.strip() for h in head], rows


def _check_header(path, header):
    seen = set()
    for j, h in enumerate(header):
        if h in seen:
            _fail(path, 1, h, "appears twice in the header; expected each column once")
        seen.add(h)
    for c in REQUIRED_COLUMNS:
        if c not in seen:
            _fail(
                path,
                1,
                c,
                "missing from the header; expected the columns "
                + ", ".join(REQUIRED_COLUMNS)
                + " and post_id (or post_lon, post_lat)",
            )
    if "post_id" not in seen and not {"post_lon", "post_lat"} <= seen:
        _fail(path, 1, "post_id", "missing from the header; expected post_id, or post_lon and post_lat")


# ------------------------------------------------------------------ values
def parse_time(text: str) -> float:
    """ISO 8601 text -> seconds since the epoch (local Europe/Brussels when no offset); NaN when
    empty; ValueError when not a time or a local time that does not exist."""
    s = text.strip()
    if not s:
        return float("nan")
    dt = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
    if dt.tzinfo is None:
        aware = dt.replace(tzinfo=LOCAL_TZ)
        back = aware.astimezone(UTC).astimezone(LOCAL_TZ).replace(tzinfo=None)
        if back != dt:
            raise ValueError("does not exist in Europe/Brussels (clock change)")
        return aware.timestamp()
    return dt.timestamp()


def local_parts(ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(weekday 0=Monday, hour of day as a float) of epoch seconds, local time."""
    wd = np.zeros(len(ts), dtype=np.int64)
    hr = np.zeros(len(ts), dtype=np.float64)
    for i, t in enumerate(ts.tolist()):
        d = datetime.fromtimestamp(t, LOCAL_TZ)
        wd[i] = d.weekday()
        hr[i] = d.hour + d.minute / 60 + d.second / 3600
    return wd, hr


def _number(text: str) -> float:
    return float(text.strip().replace(",", ".")) if text.strip() else float("nan")


class _Rejects:
    def __init__(self):
        self.rows: list[dict] = []

    def add(self, row, reason, column, value, detail=""):
        self.rows.append({"row": row, "reason": reason, "column": column, "value": str(value)[:200], "detail": detail})


# ------------------------------------------------------------------ the reader
def read_records(path: str | Path, zone, max_snap_m: float = 500.0) -> Records:
    """Read and check a dispatch-records file against ``zone`` (see the module docstring).

    Raises
    ------
    RecordsError
        When the file cannot be used as a whole (one line: file, row, column, what was expected).
    """
    import os

    from ..checks import check_instance, check_number, check_zone
    from ..routing.zone import municipality_of

    check_instance(path, (str, os.PathLike), "path", "the path of a records file (CSV, GeoPackage or Parquet)")
    check_zone(zone)
    max_snap_m = check_number(max_snap_m, "max_snap_m", lo=0, lo_open=True)
    path = Path(path)
    header, rows = _table_rows(path)
    _check_header(path, header)
    col = {h: j for j, h in enumerate(header)}
    rej = _Rejects()
    keep: list[tuple] = []
    n_fields = len(header)
    for i, r in enumerate(rows):
        rowno = i + 2
        if not any(x.strip() for x in r):
            continue  # a blank line is not a record
        if len(r) != n_fields:
            rej.add(rowno, "field_count", "", len(r), f"{len(r)} fields, the header has {n_fields}")
            continue
        got = _parse_row(r, col, rowno, rej)
        if got is not None:
            keep.append(got)
    n_rows = sum(1 for r in rows if any(x.strip() for x in r))
    if n_rows == 0:
        _fail(path, 2, None, "no records below the header; expected one row per vehicle per incident")
    recs = _place(path, zone, keep, rej, max_snap_m)
    if len(recs["row"]) == 0:
        reasons: dict = {}
        for x in rej.rows:
            reasons[(x["reason"], x["column"])] = reasons.get((x["reason"], x["column"]), 0) + 1
        (reason, column), _ = max(reasons.items(), key=lambda kv: kv[1])
        first = next(x for x in rej.rows if x["reason"] == reason and x["column"] == column)
        _fail(
            path,
            first["row"],
            column or None,
            f"no usable record: all {n_rows} rejected, most as {reason} ({REJECT_REASONS[reason]}; "
            f"first value {first['value']!r})",
        )
    x, y = to_metric(recs["lon"], recs["lat"])
    return Records(
        source=str(path),
        municipality=municipality_of(zone, x, y),
        x=x,
        y=y,
        rejects=sorted(rej.rows, key=lambda d: d["row"]),
        n_rows=n_rows,
        **recs,
    )


def _parse_row(r, col, rowno, rej):
    def val(c):
        return r[col[c]].strip() if c in col else ""

    for c in ("incident_id", "vehicle_type", "call_time", "arrival_time"):
        if not val(c):
            rej.add(rowno, "missing_value", c, "", "required")
            return None
    vt = val("vehicle_type")
    vt = next((k for k in VEHICLE_TYPES if k.lower() == vt.lower()), vt)
    if vt not in VEHICLE_TYPES:
        rej.add(rowno, "unknown_type", "vehicle_type", vt, "expected one of " + ", ".join(VEHICLE_TYPES))
        return None
    times = []
    for c in TIME_COLUMNS:
        try:
            times.append(parse_time(val(c)))
        except ValueError as exc:
            rej.add(rowno, "bad_time", c, val(c), str(exc)[:120])
            return None
    call, alarm, dep, arr = times
    seq = [(c, t) for c, t in zip(TIME_COLUMNS, times) if not math.isnan(t)]
    for (c0, t0), (c1, t1) in zip(seq, seq[1:]):
        if t1 < t0:
            rej.add(rowno, "time_order", c1, val(c1), f"before {c0} ({val(c0)})")
            return None
    if arr - call > MAX_INTERVAL_S:
        rej.add(rowno, "too_long", "arrival_time", val("arrival_time"), f"{(arr - call) / 60:.0f} min after the call")
        return None
    try:
        lon, lat = _number(val("lon")), _number(val("lat"))
    except ValueError:
        rej.add(rowno, "bad_position", "lon", f"{val('lon')},{val('lat')}", "not a number")
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        rej.add(rowno, "bad_position", "lon", f"{val('lon')},{val('lat')}", "expected WGS84 degrees")
        return None
    pid = val("post_id")
    try:
        plon, plat = _number(val("post_lon")), _number(val("post_lat"))
    except ValueError:
        plon = plat = float("nan")
    return (rowno, val("incident_id"), vt, pid, plon, plat, call, alarm, dep, arr, lon, lat)


def _post_table(zone, keep, rej, max_snap_m):
    """Post key -> (index, node, crew) for every post the rows name; rows of unknown posts rejected."""
    from ..sites import crew_type

    posts: dict = {}
    bad: dict = {}
    for rowno, _, _, pid, plon, plat, *_ in keep:
        key = pid or (plon, plat)
        if key in posts or key in bad:
            continue
        try:
            if pid:
                try:
                    site = zone.pack.site(pid)
                except KeyError:
                    if math.isfinite(plon) and math.isfinite(plat):
                        raise KeyError(pid) from None  # a base not in the pack: its position is used below
                    bad[key] = ("unknown_post", "post_id", pid, "not in the zone pack; give post_lon, post_lat")
                    continue
                node, crew = zone.site_node(site.lon, site.lat, what=f"post {pid}"), crew_type(site.crew)
            else:
                raise KeyError(pid)
        except KeyError:
            if not (math.isfinite(plon) and math.isfinite(plat)):
                bad[key] = ("unknown_post", "post_id", pid, "no post_id and no post_lon, post_lat")
                continue
            try:
                node = zone.site_node(plon, plat, what="post", max_snap_m=max_snap_m)
            except SnapError as exc:
                bad[key] = ("post_off_network", "post_lon", f"{plon},{plat}", exc.detail[:120])
                continue
            crew = "professional"
        except SnapError as exc:
            bad[key] = ("post_off_network", "post_id", pid, exc.detail[:120])
            continue
        posts[key] = (len(posts), node, crew, pid or f"{plon:.5f},{plat:.5f}")
    return posts, bad


def _place(path, zone, keep, rej, max_snap_m):
    posts, bad = _post_table(zone, keep, rej, max_snap_m)
    ok = []
    for t in keep:
        key = t[3] or (t[4], t[5])
        if key in bad:
            reason, column, value, detail = bad[key]
            rej.add(t[0], reason, column, value, detail)
        else:
            ok.append(t)
    n = len(ok)
    lon = np.array([t[10] for t in ok], dtype=float)
    lat = np.array([t[11] for t in ok], dtype=float)
    snapped = zone.snap_lonlat(lon, lat, max_snap_m=max_snap_m) if n else None
    good = np.ones(n, dtype=bool)
    seen = set()
    pidx = np.array([posts[t[3] or (t[4], t[5])][0] for t in ok], dtype=np.int64)
    post_nodes = np.array([p[1] for p in sorted(posts.values())], dtype=np.int64)
    px, py = zone.net.x[post_nodes[pidx]] if n else [], zone.net.y[post_nodes[pidx]] if n else []
    x, y = to_metric(lon, lat)
    for i, t in enumerate(ok):
        rowno = t[0]
        if snapped.in_gap[i]:
            rej.add(rowno, "in_gap", "lon", f"{t[10]},{t[11]}", "no road data there")
            good[i] = False
            continue
        if snapped.no_road_data[i]:
            rej.add(rowno, "off_network", "lon", f"{t[10]},{t[11]}", f"{snapped.distance_m[i]:.0f} m from the network")
            good[i] = False
            continue
        call, alarm, dep, arr = t[6:10]
        start = dep if not math.isnan(dep) else (alarm if not math.isnan(alarm) else call)
        # a lower bound of the distance driven: the straight line less the snapping distance
        dist_km = max(0.0, math.hypot(px[i] - x[i], py[i] - y[i]) - snapped.distance_m[i]) / 1000
        if dist_km > 0.05 and (arr - start <= 0 or dist_km / ((arr - start) / 3600) > MAX_STRAIGHT_KMH):
            rej.add(rowno, "too_fast", "arrival_time", f"{arr - start:.0f} s", f"{dist_km:.2f} km in a straight line")
            good[i] = False
            continue
        key = (t[1], t[2], t[3], repr(t[4]), repr(t[5]), *map(repr, t[6:10]))
        if key in seen:
            rej.add(rowno, "duplicate", "incident_id", t[1], "same vehicle type, post and times as an earlier row")
            good[i] = False
            continue
        seen.add(key)
    sel = [t for t, g in zip(ok, good) if g]
    g = np.flatnonzero(good)
    call = np.array([t[6] for t in sel], dtype=float)
    wd, hr = local_parts(call)
    order = sorted(posts.values())
    return {
        "row": np.array([t[0] for t in sel], dtype=np.int64),
        "incident_id": np.array([t[1] for t in sel], dtype=object),
        "vehicle_type": np.array([t[2] for t in sel], dtype=object),
        "post": pidx[g] if n else np.zeros(0, np.int64),
        "call": call,
        "alarm": np.array([t[7] for t in sel], dtype=float),
        "departure": np.array([t[8] for t in sel], dtype=float),
        "arrival": np.array([t[9] for t in sel], dtype=float),
        "weekday": wd,
        "hour": hr,
        "lon": lon[g],
        "lat": lat[g],
        "node": snapped.node[g] if n else np.zeros(0, np.int64),
        "snap_m": snapped.distance_m[g] if n else np.zeros(0),
        "post_ids": [p[3] for p in order],
        "post_nodes": post_nodes,
        "post_crews": [p[2] for p in order],
    }


def incident_demand(zone, path: str | Path, max_snap_m: float = 500.0):
    """Demand points weighted by incidents instead of inhabitants (``[demand] incidents = FILE``): one
    point of weight 1 per incident of a dispatch-records file (its position), so that a baseline's
    shares and mean are incident-weighted, like the published Belgian mean from the call. Rejected
    records and incidents outside the zone's municipalities are left out and counted in
    ``meta["notes"]``."""
    from ..demand.points import DemandPoints

    recs = read_records(path, zone, max_snap_m=max_snap_m)
    seen: dict = {}
    for i, inc in enumerate(recs.incident_id.tolist()):
        seen.setdefault(inc, i)
    idx = np.array(sorted(seen.values()), dtype=np.int64)
    inside = idx[recs.municipality[idx] >= 0]
    n_out = len(idx) - len(inside)
    return DemandPoints(
        x=recs.x[inside],
        y=recs.y[inside],
        lon=recs.lon[inside],
        lat=recs.lat[inside],
        weight=np.ones(len(inside)),
        municipality=recs.municipality[inside],
        municipality_names=[m.name for m in zone.pack.municipalities],
        node=recs.node[inside],
        snap_m=recs.snap_m[inside],
        no_road_data=np.zeros(len(inside), dtype=bool),
        in_gap=np.zeros(len(inside), dtype=bool),
        model=(
            f"incidents of the dispatch records {Path(path).name}: {len(inside)} incidents, one point of weight 1 "
            f"each (figures are incident-weighted, not population-weighted); {len(recs.rejects)} rejected records "
            f"and {n_out} incidents outside the zone left out"
        ),
        cell_m=None,
        meta={
            "max_snap_m": max_snap_m,
            "notes": {"incidents": len(inside), "rejected_records": len(recs.rejects), "outside_zone": n_out},
            "weighting": "incidents",
        },
    )


@dataclass
class CallRecords:
    """What the dispatch simulation takes from records (``[simulate] records = FILE``): calls per year,
    the hour-of-week intensity (168 values, Monday 00-01 h first, mean 1) and incidents per demand point."""

    source: str
    calls_per_year: float
    hourly: np.ndarray
    weights: np.ndarray
    incidents: int
    span_days: float
    rows: int
    rejected: dict = field(default_factory=dict)

    def describe(self) -> dict:
        return {
            "file": self.source,
            "rows": self.rows,
            "incidents": self.incidents,
            "span_days": round(self.span_days, 2),
            "calls_per_year": round(self.calls_per_year, 1),
            "rejected_rows": dict(self.rejected),
        }


def call_records(
    zone, path: str | Path, lon, lat, max_snap_m: float = 500.0, max_demand_m: float = 1000.0
) -> CallRecords:
    """The calls of a dispatch-records file (read by :func:`read_records`: same columns, same rejects)
    placed on the demand points ``lon``, ``lat`` (WGS84). One call per incident, at its earliest call
    time; an incident farther than ``max_demand_m`` from every demand point is counted under
    ``far_from_demand`` and not used. Calls per year = incidents x 365 / the span of their call times.

    Raises
    ------
    RecordsError
        As :func:`read_records`; also when no incident lies on the demand or the records span less than
        a week (the intensity is by hour of the week).
    """
    from scipy.spatial import cKDTree

    recs = read_records(path, zone, max_snap_m=max_snap_m)
    first: dict = {}
    for i, (inc, t) in enumerate(zip(recs.incident_id.tolist(), recs.call.tolist())):
        if inc not in first or t < recs.call[first[inc]]:
            first[inc] = i
    idx = np.array(sorted(first.values()), dtype=np.int64)
    call = recs.call[idx]
    span = float(call.max() - call.min()) / 86400.0
    if span < MIN_CALL_SPAN_DAYS:
        raise RecordsError(
            f"the records span {span:.1f} days; expected at least {MIN_CALL_SPAN_DAYS:g} "
            "(a week: calls by hour of the week)",
            source=recs.source,
        )
    dx, dy = to_metric(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    dist, nearest = cKDTree(np.column_stack([dx, dy])).query(np.column_stack([recs.x[idx], recs.y[idx]]))
    ok = dist <= max_demand_m
    rejected = {k: v for k, v in recs.reject_counts().items() if v}
    if (~ok).any():
        rejected["far_from_demand"] = int((~ok).sum())
    if not ok.any():
        raise RecordsError(
            f"no incident lies within {max_demand_m:g} m of the zone's demand points (with road data)",
            source=recs.source,
        )
    how = (recs.weekday[idx] * 24 + recs.hour[idx].astype(np.int64))[ok]
    counts = np.bincount(how, minlength=168).astype(float)
    n = int(ok.sum())
    return CallRecords(
        source=recs.source,
        calls_per_year=n * 365.0 / span,
        hourly=counts / counts.mean(),
        weights=np.bincount(nearest[ok], minlength=len(dx)).astype(float),
        incidents=n,
        span_days=span,
        rows=recs.n_rows,
        rejected=rejected,
    )
