"""Coverage metrics of a set of posts, on plain arrays.

Conventions: "within T" means response time ≤ T (seconds). Shares are shares of the weight **with
road data**; weight flagged ``no_road_data`` is reported apart and never counted as covered or
uncovered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..routing.travel import kth_nearest


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


def evaluate(seconds: np.ndarray, weights: np.ndarray, thresholds_s, no_road_data=None, municipality=None,
             municipality_names=None, cell_area_km2: float | None = None) -> CoverageReport:
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
    wr = np.where(nrd, 0.0, w)
    total = float(wr.sum())
    within = np.array([wr[first <= t].sum() for t in th])
    no_second = np.array([wr[~(second <= t)].sum() for t in th])
    share = within / total if total > 0 else np.full(len(th), np.nan)
    fv = np.where(nrd, np.nan, first)

    munis = []
    if municipality is not None:
        mun = np.asarray(municipality)
        names = municipality_names or [str(i) for i in range(mun.max() + 1)]
        for i, name in enumerate(names):
            sel = mun == i
            wi = wr[sel]
            tot = float(wi.sum())
            munis.append({
                "municipality": name,
                "population": float(w[sel].sum()),
                "no_road_data": float(w[sel & nrd].sum()),
                "share_within": [float(wi[first[sel] <= t].sum() / tot) if tot > 0 else float("nan") for t in th],
                "no_second_within": [float(wi[~(second[sel] <= t)].sum()) for t in th],
                "mean_s": _mean(fv[sel], w[sel]),
                "p90_s": weighted_percentile(fv[sel], w[sel], 90),
            })
    site_rows = []
    fs = sites[0]
    for j in range(n_sites):
        mine = (fs == j) & ~nrd
        site_rows.append({"first_due_weight": float(w[mine].sum()), "first_due_points": int(mine.sum()),
                          "first_due_area_km2": float(mine.sum() * cell_area_km2) if cell_area_km2 else None})
    return CoverageReport(
        first_s=first, second_s=second, first_site=sites[0], second_site=sites[1], thresholds_s=th,
        total_weight=total, no_road_data_weight=float(w[nrd].sum()), zone_weight_within=within,
        zone_share=share, zone_no_second=no_second, mean_s=_mean(fv, w), p90_s=weighted_percentile(fv, w, 90),
        unreached_weight=float(wr[~np.isfinite(first) & ~nrd].sum()), municipalities=munis, sites=site_rows)


def worst_served(report: CoverageReport, weights: np.ndarray, n: int = 20, min_weight: float = 1.0) -> np.ndarray:
    """Indices of the ``n`` demand points with the longest first arrival (weight ≥ ``min_weight``,
    road data only), slowest first; unreachable points come first."""
    f = report.first_s
    ok = ~np.isnan(f) & (np.asarray(weights) >= min_weight)
    idx = np.flatnonzero(ok)
    order = np.lexsort((-np.asarray(weights)[idx], -np.where(np.isinf(f[idx]), 1e18, f[idx])))
    return idx[order[:n]]
