"""Coverage metrics of a set of posts, on plain arrays.

Conventions: "within T" means response time ≤ T (seconds). Shares are shares of the weight **with
road data**; weight flagged ``no_road_data`` is reported apart and never counted as covered or
uncovered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..clock import Clock
from ..routing.travel import kth_nearest
from ..units import warn_if_minutes


@dataclass
class CoverageReport:
    """Metrics of one placement (all times in seconds).

    Attributes
    ----------
    first_s, second_s : ndarray
        First and second arrival time per demand point (``inf`` none, ``nan`` no road data).
    first_site, second_site : ndarray of int
        Index of the first / second arriving site (-1 none).
    thresholds_s : ndarray
    zone_share : ndarray
        Share of road-data weight within each threshold.
    zone_weight_within, zone_no_second : ndarray
        Weight within each threshold; weight with no second unit within each threshold.
    municipalities : list of dict
        Per municipality: name, population, no_road_data, share within each threshold,
        no second unit within each threshold, mean and 90th-percentile time.
    sites : list of dict
        Per site: first-due weight, first-due points, area (km², when the demand is a grid).
    clock : Clock, optional
        What the times count from (the clock of the :class:`~kazerne.TravelTimes` measured; ``None``
        for a plain matrix whose clock was not given).
    """

    first_s: np.ndarray
    second_s: np.ndarray
    first_site: np.ndarray
    second_site: np.ndarray
    thresholds_s: np.ndarray
    total_weight: float
    no_road_data_weight: float
    zone_weight_within: np.ndarray
    zone_share: np.ndarray
    zone_no_second: np.ndarray
    mean_s: float
    p90_s: float
    unreached_weight: float
    municipalities: list
    sites: list
    clock: Clock | None = None

    # --------------------------------------------------------------- output
    def __post_init__(self):
        from ..checks import check_fields

        check_fields(self)

    def mean_drive_s(self, turnout_s, weights) -> float | None:
        """Weighted mean driving time (s) of the first unit: its time on the report's clock less its
        post's turnout (``turnout_s`` per site) and the clock's call handling (``None`` when no point
        with weight is reached). The one place a driving part is taken back out of response times."""
        from ..errors import ModelInputError

        if self.clock is None:
            raise ModelInputError(
                "the report does not say what its times count from; expected a report of "
                "evaluate_travel_times or evaluate(..., clock=)",
                field="clock",
            )
        ok = np.isfinite(self.first_s) & (self.first_site >= 0)
        turnout = np.asarray(turnout_s, dtype=float)
        drive = self.clock.drive_s(self.first_s[ok], turnout[self.first_site[ok]])
        w = np.asarray(weights, dtype=float)[ok]
        return float(np.average(drive, weights=w)) if ok.any() and w.sum() > 0 else None

    def headline(self, thresholds_min=None) -> dict:
        """Zone figures: population with / without road data, share within each threshold, mean, p90."""
        th = thresholds_min if thresholds_min is not None else [t / 60.0 for t in self.thresholds_s]
        return {
            "population_with_road_data": self.total_weight,
            "population_no_road_data": self.no_road_data_weight,
            "share_within": {f"{t:g}": float(s) for t, s in zip(th, self.zone_share)},
            "mean_min": self.mean_s / 60.0,
            "p90_min": self.p90_s / 60.0,
            "population_unreachable": self.unreached_weight,
        }

    def municipality_table(self):
        """A ``pandas.DataFrame``: one row per municipality, shares within each threshold, mean, p90 (min)."""
        return municipality_frame(self.municipalities, self.thresholds_s)

    def to_geodataframe(self, demand, site_ids=None, to_crs=None):
        """A ``geopandas.GeoDataFrame`` of the demand points (EPSG:4326, or ``to_crs``) with weight,
        municipality, first / second arrival (min) and the first / second post (``first_post``,
        ``second_post``: the site ids when ``site_ids`` is given, else the site indices)."""
        import geopandas as gpd
        import pandas as pd

        from ..report.plotcrs import to_crs as _to_crs

        ids = np.asarray(list(site_ids) + [None], dtype=object) if site_ids is not None else None
        names = list(demand.municipality_names) + [None]
        df = pd.DataFrame(
            {
                "weight": demand.weight,
                "municipality": [names[i] for i in demand.municipality],
                "no_road_data": demand.no_road_data,
                "first_min": self.first_s / 60.0,
                "second_min": self.second_s / 60.0,
                "first_post": ids[self.first_site] if ids is not None else self.first_site,
                "second_post": ids[self.second_site] if ids is not None else self.second_site,
            }
        )
        gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(demand.lon, demand.lat), crs="EPSG:4326")
        return _to_crs(gdf, to_crs)

    def plot(self, demand, ax=None, thresholds_min=None, crs=None):
        """First-arrival minutes per demand point, coloured by time band (viridis: colour-blind
        safe, light = fast); returns the figure.

        On a new figure (``ax=None``) it draws in EPSG:4326 (lon / lat). On an analyst's ``ax`` it
        draws in the CRS of the layers already there (told from their extent, see
        :func:`kazerne.report.plotcrs.axes_crs`) or in ``crs`` when given."""
        import matplotlib.pyplot as plt
        from matplotlib.colors import BoundaryNorm, ListedColormap

        from ..report.maps import minute_classes
        from ..report.plotcrs import axes_crs, project, set_geo_aspect

        th = list(thresholds_min) if thresholds_min is not None else [t / 60.0 for t in self.thresholds_s]
        cols, labels = minute_classes(th)
        cmap = ListedColormap(cols)
        fresh = ax is None
        if fresh:
            fig, ax = plt.subplots(figsize=(8, 8))
        fig = ax.figure
        crs = crs or axes_crs(None if fresh else ax, demand.lon, demand.lat)
        x, y = project(demand.lon, demand.lat, crs)
        ok = ~np.asarray(demand.no_road_data, dtype=bool)
        band = np.searchsorted(np.asarray(th, dtype=float), self.first_s[ok] / 60.0, side="left")
        sc = ax.scatter(
            x[ok],
            y[ok],
            c=band,
            s=4,
            cmap=cmap,
            norm=BoundaryNorm(np.arange(len(cols) + 1) - 0.5, len(cols)),
            linewidths=0,
            label="first arrival",
        )
        ax.scatter(x[~ok], y[~ok], c="#bbbbbb", s=4, linewidths=0, label="no road data")
        cb = fig.colorbar(sc, ax=ax, label="first arrival (min)", shrink=0.7)
        cb.set_ticks(np.arange(len(cols)))
        cb.set_ticklabels(labels)
        cb.minorticks_off()
        if fresh:
            set_geo_aspect(ax, crs, demand.lat)
            ax.set_xlabel("longitude (°)" if crs == "EPSG:4326" else f"x ({crs})")
            ax.set_ylabel("latitude (°)" if crs == "EPSG:4326" else f"y ({crs})")
        return fig


def municipality_frame(municipalities: list, thresholds_s):
    """Per-municipality rows (``CoverageReport.municipalities`` or the response model's) as a
    ``pandas.DataFrame``: population, no road data, share within each threshold, mean and, when the
    rows have it, p90 (minutes)."""
    import pandas as pd

    rows = []
    for m in municipalities:
        r = {"municipality": m["municipality"], "population": m["population"], "no_road_data": m["no_road_data"]}
        for t, sh in zip(thresholds_s, m["share_within"]):
            r[share_key(t / 60)] = sh
        r["mean_min"] = m["mean_s"] / 60.0
        if "p90_s" in m:
            r["p90_min"] = m["p90_s"] / 60.0
        rows.append(r)
    return pd.DataFrame(rows)


def minutes_key(minutes) -> str:
    """A threshold in minutes as a summary's key: ``8.0`` -> ``"8"``, ``7.5`` -> ``"7.5"``."""
    return f"{float(minutes):g}"


def share_key(minutes, suffix: str = "") -> str:
    """The column of the share reached within ``minutes``: ``share_key(12)`` -> ``"share_within_12min"``
    (``suffix`` e.g. ``"_busy_aware"``). Every table and summary names its columns with this."""
    return f"share_within_{minutes_key(minutes)}min{suffix}"


def population_key(minutes) -> str:
    """The column of the population reached within ``minutes``: ``"population_within_12min"``."""
    return f"population_within_{minutes_key(minutes)}min"


def key_minutes(column: str) -> float | None:
    """The threshold of a ``share_within_<T>min`` / ``population_within_<T>min`` column; None otherwise."""
    m = re.fullmatch(r"(?:share|population)_within_([0-9.eE+-]+)min", column)
    return float(m.group(1)) if m else None


def mins(s):
    """Seconds as minutes rounded to 0.01, as reports show them (``None`` for none or not reached)."""
    return None if s is None or not np.isfinite(s) else round(float(s) / 60.0, 2)


def municipality_rows(rep: CoverageReport, th_min) -> list[dict]:
    """Per-municipality table rows of ``rep`` (thresholds ``th_min`` in minutes), as every report writes them."""
    rows = []
    for m in rep.municipalities:
        r = {
            "municipality": m["municipality"],
            "population": round(m["population"], 1),
            "no_road_data": round(m["no_road_data"], 1),
        }
        if "gap_shadow" in m:  # part of no_road_data: routes the gap distorts (kazerne.demand.shadow)
            r["gap_shadow"] = round(m["gap_shadow"], 1)
        for t, s in zip(th_min, m["share_within"]):
            r[share_key(t)] = s
        for t, s in zip(th_min, m["no_second_within"]):
            r[f"no_second_unit_{t:g}min"] = round(s, 1)
        r["mean_min"] = mins(m["mean_s"])
        r["p90_min"] = mins(m["p90_s"])
        rows.append(r)
    return rows


def evaluate_travel_times(tt, demand, thresholds_min=(8, 10, 12, 15), *, clock: Clock | None = None) -> CoverageReport:
    """Coverage of the sites of ``tt`` (a :class:`~kazerne.routing.travel.TravelTimes`) for ``demand``
    (:class:`~kazerne.demand.points.DemandPoints`): share within each threshold (minutes, on the
    times' clock: from the 112 call when ``tt.clock`` has call handling, else from the alarm:
    turnout + drive), per municipality, first-due populations, mean and p90.

    ``clock``: the clock the thresholds count on (a scenario's, :meth:`kazerne.Clock.from_scenario`);
    times on another clock are refused (:meth:`kazerne.Clock.require`: call handling missing, or
    counted twice). The report carries the clock of the times."""
    from ..checks import check_demand, check_instance, check_thresholds_min
    from ..routing.travel import TravelTimes

    th = check_thresholds_min(thresholds_min, "thresholds")
    check_instance(tt, TravelTimes, "tt", "TravelTimes (kz.travel_times(zone, sites, demand))")
    if clock is not None:
        check_instance(clock, Clock, "clock", "a Clock (kz.Clock.from_scenario(sc), kz.Clock(90))")
        clock.require(tt.clock, "tt")
    check_demand(demand, tt.shape[1])
    cell_km2 = (demand.cell_m / 1000.0) ** 2 if getattr(demand, "cell_m", None) else None
    return evaluate(
        tt.dense(),
        demand.weight,
        np.array(th) * 60.0,
        no_road_data=demand.no_road_data,
        municipality=demand.municipality,
        municipality_names=demand.municipality_names,
        cell_area_km2=cell_km2,
        gap_shadow=getattr(demand, "gap_shadow", None),
        clock=tt.clock,
    )


def weighted_percentile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Weighted percentile (``q`` in 0..100) with ``inf`` allowed: the smallest value v with
    weight(values ≤ v) ≥ q% of the total."""
    ok = ~np.isnan(values)
    v, w = values[ok], weights[ok]
    if w.sum() <= 0:
        return float("nan")
    order = np.argsort(v, kind="stable")
    cw = np.cumsum(w[order])
    k = int(np.searchsorted(cw, q / 100.0 * cw[-1] - 1e-9 * cw[-1]))
    return float(v[order][min(k, len(v) - 1)])


def _mean(values, weights):
    # weightless points do not count (an unreachable one would turn the mean into inf * 0 = nan)
    ok = ~np.isnan(values) & (weights > 0)
    w = weights[ok]
    if w.sum() <= 0:
        return float("nan")
    return float(np.sum(values[ok] * w) / w.sum())


def evaluate(
    seconds: np.ndarray,
    weights: np.ndarray,
    thresholds_s,
    no_road_data=None,
    municipality=None,
    municipality_names=None,
    cell_area_km2: float | None = None,
    gap_shadow=None,
    clock: Clock | None = None,
) -> CoverageReport:
    """Coverage metrics from a sites × demand response-time matrix (seconds).

    Parameters
    ----------
    seconds : ndarray (n_sites, n_demand)
        Response times (turnout + drive), ``inf`` unreachable. Columns of ``no_road_data`` points
        are ignored.
    weights : ndarray (n_demand,)
    thresholds_s : sequence of float
        Norms in seconds.
    municipality : ndarray of int, optional
        Municipality index per demand point (with ``municipality_names``).
    cell_area_km2 : float, optional
        Area of one demand cell, to report first-due areas in km².
    gap_shadow : ndarray of bool, optional
        The ``no_road_data`` points that are there because the gap distorts their routes
        (:mod:`kazerne.demand.shadow`): each municipality row then says how many people.
    clock : Clock, optional
        What the times count from; kept on the report (``report.clock``) for its wording.
    """
    seconds = np.asarray(seconds, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    n_sites, n = seconds.shape
    nrd = np.zeros(n, dtype=bool) if no_road_data is None else np.asarray(no_road_data, dtype=bool)
    m = seconds.copy()
    m[:, nrd] = np.nan
    times, sites = kth_nearest(m, k=2)
    first, second = times[0], times[1]
    th = np.asarray(sorted(float(t) for t in thresholds_s))
    for t in th:
        warn_if_minutes(t, "thresholds_s", costs=seconds, stacklevel=3)
    wr = np.where(nrd, 0.0, w)
    total = float(wr.sum())
    within = np.array([wr[first <= t].sum() for t in th])
    no_second = np.array([wr[~(second <= t)].sum() for t in th])
    share = within / total if total > 0 else np.full(len(th), np.nan)
    fv = np.where(nrd, np.nan, first)

    munis = []
    gs = None if gap_shadow is None else np.asarray(gap_shadow, dtype=bool)
    if municipality is not None:
        mun = np.asarray(municipality)
        names = municipality_names or [str(i) for i in range(mun.max() + 1)]
        for i, name in enumerate(names):
            sel = mun == i
            wi = wr[sel]
            tot = float(wi.sum())
            munis.append(
                {
                    "municipality": name,
                    "population": float(w[sel].sum()),
                    "no_road_data": float(w[sel & nrd].sum()),
                    **({"gap_shadow": float(w[sel & gs].sum())} if gs is not None else {}),
                    "share_within": [float(wi[first[sel] <= t].sum() / tot) if tot > 0 else float("nan") for t in th],
                    "no_second_within": [float(wi[~(second[sel] <= t)].sum()) for t in th],
                    "mean_s": _mean(fv[sel], w[sel]),
                    "p90_s": weighted_percentile(fv[sel], w[sel], 90),
                }
            )
    site_rows = []
    fs = sites[0]
    for j in range(n_sites):
        mine = (fs == j) & ~nrd
        site_rows.append(
            {
                "first_due_weight": float(w[mine].sum()),
                "first_due_points": int(mine.sum()),
                "first_due_area_km2": float(mine.sum() * cell_area_km2) if cell_area_km2 else None,
            }
        )
    return CoverageReport(
        first_s=first,
        second_s=second,
        first_site=sites[0],
        second_site=sites[1],
        thresholds_s=th,
        total_weight=total,
        no_road_data_weight=float(w[nrd].sum()),
        zone_weight_within=within,
        zone_share=share,
        zone_no_second=no_second,
        mean_s=_mean(fv, w),
        p90_s=weighted_percentile(fv, w, 90),
        unreached_weight=float(wr[~np.isfinite(first) & ~nrd].sum()),
        municipalities=munis,
        sites=site_rows,
        clock=clock,
    )


def worst_served(report: CoverageReport, weights: np.ndarray, n: int = 20, min_weight: float = 1.0) -> np.ndarray:
    """Indices of the ``n`` demand points with the longest first arrival (weight ≥ ``min_weight``,
    road data only), slowest first; unreachable points come first."""
    f = report.first_s
    ok = ~np.isnan(f) & (np.asarray(weights) >= min_weight)
    idx = np.flatnonzero(ok)
    order = np.lexsort((-np.asarray(weights)[idx], -np.where(np.isinf(f[idx]), 1e18, f[idx])))
    return idx[order[:n]]
