"""Synthetic dispatch records with a known truth: try the calibration without real data, and test it.

:func:`synthetic_records` draws incidents from the scenario's demand model (population grid cells,
in proportion to their weight, jittered within 100 m of the cell centre), calls over the year with
more by day than by night, sends the first-due post (the smallest median turnout + driving time
under the *true* profile), and logs call, alarm, departure and arrival with

* call handling and turnout drawn from the truth's shifted log-normals (:class:`kazerne.TurnoutDist`);
* driving = the true route's time (:class:`Truth` speed factors and junction delay on top of the
  scenario's profile) x a log-normal noise (``noise_sd``), and in ``outlier_share`` of the trips an
  arrival logged 1-5 min late (a valid record the robust fit must resist);
* a second vehicle (``HV``) from the same post for a quarter of the incidents;
* ``defect_share`` of the rows made unusable, one defect each, named in the extra column
  ``synthetic_defect`` (the reader ignores extra columns): the reader must reject exactly those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from ..response import TurnoutDist
from ..routing.profiles import PERIOD_NAMES, period_name, with_factors
from .periods import period_of
from .records import LOCAL_TZ, REQUIRED_COLUMNS

__all__ = ["DEFAULT_TRUTH", "Truth", "synthetic_records"]

DEFECTS = (
    "missing_value",
    "bad_time",
    "time_order",
    "too_fast",
    "bad_position",
    "off_network",
    "in_gap",
    "unknown_post",
    "unknown_type",
    "duplicate",
)


@dataclass(frozen=True)
class Truth:
    """The "true" world of synthetic records (stated in every output that uses them)."""

    factors: dict = field(hash=False)
    junction_delay_s: float = 5.0
    call_handling: TurnoutDist = TurnoutDist(70.0, 110.0, 30.0)
    turnout: dict = field(
        default_factory=lambda: {
            "professional": TurnoutDist(100.0, 140.0, 50.0),
            "volunteer": TurnoutDist(330.0, 520.0, 150.0),
            "mixed": TurnoutDist(330.0, 520.0, 150.0),
        },
        hash=False,
    )
    noise_sd: float = 0.08
    outlier_share: float = 0.02
    defect_share: float = 0.03

    def __post_init__(self):
        from ..checks import check_fields, check_instance, check_number

        check_fields(self)
        check_number(self.junction_delay_s, "Truth.junction_delay_s", lo=0)
        check_number(self.noise_sd, "Truth.noise_sd", lo=0)
        check_number(self.outlier_share, "Truth.outlier_share", lo=0, hi=1)
        check_number(self.defect_share, "Truth.defect_share", lo=0, hi=1)
        for crew, dist in self.turnout.items():
            check_instance(dist, TurnoutDist, f"Truth.turnout.{crew}", "a TurnoutDist")

    def describe(self) -> dict:
        return {
            "factors": self.factors,
            "junction_delay_s": self.junction_delay_s,
            "call_handling": self.call_handling.describe(),
            "turnout": {k: d.describe() for k, d in self.turnout.items()},
            "noise_sd_log": self.noise_sd,
            "outlier_share": self.outlier_share,
            "defect_share": self.defect_share,
        }


#: The truth of the shipped example: faster than the default on urban main and local roads by day,
#: slower in the rush hour, faster at night, a 5 s junction delay (default 2 s).
DEFAULT_TRUTH = Truth(
    factors={
        "free": {
            "fast/urban": 1.05,
            "fast/rural": 1.0,
            "main/urban": 1.2,
            "main/rural": 1.1,
            "local/urban": 1.25,
            "local/rural": 1.15,
            "minor/urban": 1.1,
            "minor/rural": 1.0,
        },
        "rush_hour": {
            "fast/urban": 0.9,
            "fast/rural": 0.95,
            "main/urban": 1.0,
            "main/rural": 1.0,
            "local/urban": 1.1,
            "local/rural": 1.05,
            "minor/urban": 1.0,
            "minor/rural": 1.0,
        },
        "night": {
            "fast/urban": 1.1,
            "fast/rural": 1.05,
            "main/urban": 1.3,
            "main/rural": 1.15,
            "local/urban": 1.3,
            "local/rural": 1.2,
            "minor/urban": 1.1,
            "minor/rural": 1.0,
        },
    },
)


def _draw(dist: TurnoutDist, rng, n) -> np.ndarray:
    if dist.fixed:
        return np.full(n, dist.median_s)
    return dist.min_s + (dist.median_s - dist.min_s) * np.exp(dist.sigma * rng.standard_normal(n))


def _call_times(rng, n, year) -> np.ndarray:
    """Epoch seconds of n calls over ``year``, more by day (weights 0.4 at 00-07, 1 at 07-22, 0.7
    later); the two clock-change days are left out (their local times are ambiguous)."""
    start = datetime(year, 1, 1, tzinfo=LOCAL_TZ)
    out: list[float] = []
    while len(out) < n:
        day = rng.integers(0, 365, 2 * n)
        sec = rng.uniform(0, 86400, 2 * n)
        h = sec / 3600
        w = np.where(h < 7, 0.4, np.where(h < 22, 1.0, 0.7))
        keep = rng.uniform(0, 1, 2 * n) < w
        for d, s in zip(day[keep], sec[keep]):
            date = start + timedelta(days=int(d))
            if date.utcoffset() != (date + timedelta(days=1)).utcoffset():
                continue
            local = datetime(date.year, date.month, date.day, tzinfo=LOCAL_TZ) + timedelta(seconds=float(s))
            out.append(local.timestamp())
            if len(out) == n:
                break
    return np.array(out)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(round(ts), LOCAL_TZ).replace(tzinfo=None).isoformat()


def _setup(zone, scenario):
    from ..demand.points import population_grid
    from ..scenarios.resolve import profile_of
    from ..scenarios.schema import Scenario, parse_scenario
    from ..sites import crew_type

    sc = scenario if isinstance(scenario, Scenario) else parse_scenario(scenario)
    ids = [p.id for p in sc.posts if not p.new]
    known = {p.id: p for p in zone.pack.posts}
    nodes = np.array([zone.site_node(known[i].lon, known[i].lat, what=f"post {i}") for i in ids], dtype=np.int64)
    crews = [crew_type(known[i].crew) for i in ids]
    demand = population_grid(zone, cell_m=sc.demand.get("grid_m", 250.0))
    return sc, ids, nodes, crews, demand, profile_of(sc)


def synthetic_records(zone, scenario, truth: Truth = DEFAULT_TRUTH, n: int = 2000, seed: int = 0, year: int = 2022):
    """``n`` incidents of synthetic dispatch records (a ``pandas.DataFrame`` with the columns of
    :data:`~kazerne.calibration.records.REQUIRED_COLUMNS`, ``post_id`` and ``synthetic_defect``);
    see the module docstring. ``scenario`` is a scenario file or a parsed one: its posts (pack
    positions), demand grid and speed profile."""
    import pandas as pd

    from ..checks import check_instance, check_int, check_zone
    from ..routing.paths import drive_times

    check_zone(zone)
    check_instance(truth, Truth, "truth", "a Truth (kz.Truth(factors=...))")
    n = check_int(n, "n", lo=1)
    seed = check_int(seed, "seed", lo=0)
    year = check_int(year, "year", lo=1970, hi=2100)
    from ..routing.snapping import geom_to_metric  # noqa: F401  (the gap is already metric in zone)

    rng = np.random.default_rng(seed)
    sc, ids, post_nodes, crews, demand, base = _setup(zone, scenario)
    ok = ~demand.no_road_data & (demand.weight > 0)
    cells = np.flatnonzero(ok)
    pick = rng.choice(cells, size=n, p=demand.weight[cells] / demand.weight[cells].sum())
    x = demand.x[pick] + rng.uniform(-100, 100, n)
    y = demand.y[pick] + rng.uniform(-100, 100, n)
    from ..routing.network import to_wgs84
    from ..routing.snapping import snap_xy

    s = snap_xy(zone.net, x, y, gap_metric=zone.gap_metric)
    bad = s.no_road_data
    x[bad], y[bad] = demand.x[pick[bad]], demand.y[pick[bad]]
    s = snap_xy(zone.net, x, y, gap_metric=zone.gap_metric)
    lon, lat = to_wgs84(x, y)
    call = _call_times(rng, n, year)
    from .records import local_parts

    per = period_of(*local_parts(call))
    med = np.array([truth.turnout[c].median_s for c in crews])
    drive = np.full(n, np.nan)
    post = np.zeros(n, dtype=np.int64)
    for p, pname in enumerate(PERIOD_NAMES):
        m = per == p
        if not m.any():
            continue
        prof = with_factors(
            base.with_overrides(period=None if pname == "free" else pname),
            {period_name(pname): truth.factors.get(pname, {})},
            truth.junction_delay_s,
            source="synthetic truth",
        )
        d = drive_times(zone.net, prof, post_nodes)[:, s.node[m]]  # posts x incidents
        first = np.argmin(d + med[:, None], axis=0)
        post[m] = first
        drive[m] = d[first, np.arange(m.sum())]
    handling = _draw(truth.call_handling, rng, n)
    rows = []
    for k in range(2):  # the first vehicle, then an HV for a quarter of the incidents
        sel = np.arange(n) if k == 0 else np.flatnonzero(rng.uniform(0, 1, n) < 0.25)
        m = len(sel)
        turn = np.array([_draw(truth.turnout[crews[post[i]]], rng, 1)[0] for i in sel]) + (30.0 * k)
        dr = drive[sel] * np.exp(truth.noise_sd * rng.standard_normal(m))
        late = rng.uniform(0, 1, m) < truth.outlier_share
        dr = dr + late * rng.uniform(60, 300, m)
        alarm = call[sel] + handling[sel]
        dep = alarm + turn
        arr = dep + dr
        for j, i in enumerate(sel):
            rows.append(
                {
                    "incident_id": f"I{i + 1:06d}",
                    "vehicle_type": "AP" if k == 0 else "HV",
                    "post_id": ids[post[i]],
                    "call_time": _iso(call[i]),
                    "alarm_time": _iso(alarm[j]),
                    "departure_time": _iso(dep[j]),
                    "arrival_time": _iso(arr[j]),
                    "lon": f"{lon[i]:.6f}",
                    "lat": f"{lat[i]:.6f}",
                    "synthetic_defect": "",
                    "_km": float(
                        np.hypot(zone.net.x[post_nodes[post[i]]] - x[i], zone.net.y[post_nodes[post[i]]] - y[i])
                    )
                    / 1000,
                }
            )
    rows.sort(key=lambda r: (r["call_time"], r["incident_id"], r["vehicle_type"]))
    _defects(rows, rng, truth.defect_share, zone)
    df = pd.DataFrame(rows).drop(columns=["_km"])
    df.attrs["truth"] = truth.describe()
    return df[[*REQUIRED_COLUMNS[:2], "post_id", *REQUIRED_COLUMNS[2:], "synthetic_defect"]]


def _defects(rows: list, rng, share: float, zone) -> None:
    """Make ``share`` of the rows unusable, one named defect each (cycling through :data:`DEFECTS`)."""
    import shapely

    k = int(round(share * len(rows)))
    if k == 0:
        return
    cand = [i for i, r in enumerate(rows) if r["_km"] > 1.0]
    which = rng.choice(cand, size=min(k, len(cand)), replace=False)
    gap = shapely.point_on_surface(zone.gap_metric) if zone.gap_metric is not None else None
    copies = []
    for j, i in enumerate(sorted(which)):
        r = rows[i]
        d = DEFECTS[j % len(DEFECTS)]
        if d == "in_gap" and gap is None:
            d = "off_network"
        if d == "duplicate":
            c = dict(r)
            c["synthetic_defect"] = "duplicate"
            copies.append((i, c))
            continue
        _spoil(r, d, gap)
        r["synthetic_defect"] = d
    for i, c in sorted(copies, reverse=True):
        rows.insert(i + 1, c)


def _spoil(r: dict, d: str, gap) -> None:
    """Give row ``r`` the defect ``d`` (any of :data:`DEFECTS` but ``duplicate``); ``gap``: a point
    in the pack's network gap (None without one)."""
    from ..routing.network import to_wgs84

    if d == "missing_value":
        r["arrival_time"] = ""
    elif d == "bad_time":
        r["call_time"] = r["call_time"].replace("-", "/", 1)
    elif d == "time_order":
        r["arrival_time"] = _iso(datetime.fromisoformat(r["departure_time"]).replace(tzinfo=LOCAL_TZ).timestamp() - 60)
    elif d == "too_fast":
        r["arrival_time"] = _iso(datetime.fromisoformat(r["departure_time"]).replace(tzinfo=LOCAL_TZ).timestamp() + 2)
    elif d == "bad_position":
        r["lon"] = ""
    elif d == "off_network":
        r["lon"], r["lat"] = "4.900000", "50.200000"
    elif d == "in_gap":
        assert gap is not None  # "in_gap" is drawn only when the pack has a gap
        glon, glat = to_wgs84([gap.x], [gap.y])
        r["lon"], r["lat"] = f"{glon[0]:.6f}", f"{glat[0]:.6f}"
    elif d == "unknown_post":
        r["post_id"] = "P99"
    elif d == "unknown_type":
        r["vehicle_type"] = "submarine"


def write_synthetic_records(
    path: str | Path, zone, scenario, n: int = 2000, seed: int = 0, truth: Truth = DEFAULT_TRUTH
):
    """Write :func:`synthetic_records` to a CSV file (atomically); returns the DataFrame."""
    from ..report.atomic import write_text

    df = synthetic_records(zone, scenario, truth=truth, n=n, seed=seed)
    write_text(path, df.to_csv(index=False))
    return df
