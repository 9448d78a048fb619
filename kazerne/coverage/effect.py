"""The effect of a measure on the roads: the same posts and demand before and after network changes.

:func:`measure_effect` computes the first arrival of every demand point on both zones (the zone
without the changes, and :func:`kazerne.routing.changes.apply_changes`'s) and :class:`Effect` tells
who loses and who gains each threshold (zone, per municipality, per post that served them first
before), the streets whose best routes changed, and per demand cell the change in minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Effect", "measure_effect", "MIN_CHANGE_S"]

#: a demand point's first arrival counts as changed when it moves by more than this, seconds
MIN_CHANGE_S = 1.0


@dataclass
class Effect:
    """First arrivals (s from the call) before and after the changes, per demand point."""

    thresholds_min: list
    before_s: np.ndarray
    after_s: np.ndarray
    first_before: np.ndarray  # site index, -1 none
    first_after: np.ndarray
    weight: np.ndarray  # 0 where no road data
    municipality: np.ndarray
    municipality_names: list
    site_ids: list
    streets: list  # street of each demand point's node
    label: str = "reference"

    def _delta(self) -> np.ndarray:
        """Per point: after - before (s); +inf when no longer reached, -inf when newly reached."""
        b, a = self.before_s, self.after_s
        fb, fa = np.isfinite(b), np.isfinite(a)
        d = np.zeros(len(b))
        both = fb & fa
        d[both] = a[both] - b[both]
        d[fb & ~fa] = np.inf
        d[~fb & fa] = -np.inf
        return d

    def slower(self) -> np.ndarray:
        return self._delta() > MIN_CHANGE_S

    def faster(self) -> np.ndarray:
        return self._delta() < -MIN_CHANGE_S

    def _gain_lose(self, sel) -> dict:
        out = {}
        for t in self.thresholds_min:
            b = self.before_s[sel] <= t * 60
            a = self.after_s[sel] <= t * 60
            w = self.weight[sel]
            out[f"losing_{t:g}min"] = round(float(w[b & ~a].sum()), 1)
            out[f"gaining_{t:g}min"] = round(float(w[a & ~b].sum()), 1)
        return out

    def zone(self) -> dict:
        sel = np.ones(len(self.weight), dtype=bool)
        return {
            "situation": self.label,
            "people_slower": round(float(self.weight[self.slower()].sum()), 1),
            "people_faster": round(float(self.weight[self.faster()].sum()), 1),
            **self._gain_lose(sel),
            "max_slower_min": _round_min(np.max(self._finite_delta(), initial=0.0)),
        }

    def _finite_delta(self):
        d = self._delta()
        return d[np.isfinite(d)]

    def municipality_rows(self) -> list:
        rows = []
        for k, name in enumerate(self.municipality_names):
            sel = self.municipality == k
            if not sel.any():
                continue
            rows.append(
                {
                    "situation": self.label,
                    "municipality": name,
                    "people_slower": round(float(self.weight[sel & self.slower()].sum()), 1),
                    "people_faster": round(float(self.weight[sel & self.faster()].sum()), 1),
                    **self._gain_lose(sel),
                }
            )
        return rows

    def post_rows(self) -> list:
        """Per post, the people it served first before the changes: who got slower, faster, lose / gain."""
        rows = []
        for k, sid in enumerate(self.site_ids):
            sel = self.first_before == k
            rows.append(
                {
                    "situation": self.label,
                    "post": sid,
                    "first_due_population_before": round(float(self.weight[sel].sum()), 1),
                    "first_due_population_after": round(float(self.weight[self.first_after == k].sum()), 1),
                    "people_slower": round(float(self.weight[sel & self.slower()].sum()), 1),
                    "people_faster": round(float(self.weight[sel & self.faster()].sum()), 1),
                    **self._gain_lose(sel),
                }
            )
        return rows

    def street_rows(self, n: int = 50) -> list:
        """The streets (of the demand points) whose best route changed, most people first."""
        changed = (self.slower() | self.faster()) & (self.weight > 0)
        d = self._delta()
        groups: dict = {}
        for i in np.flatnonzero(changed):
            m = self.municipality_names[self.municipality[i]] if self.municipality[i] >= 0 else ""
            groups.setdefault((self.streets[i] or "unnamed", m), []).append(i)
        rows = []
        for (street, m), idx in groups.items():
            idx = np.array(idx)
            w = self.weight[idx]
            dd = d[idx]
            fin = np.isfinite(dd)
            rows.append(
                {
                    "situation": self.label,
                    "street": street,
                    "municipality": m,
                    "people": round(float(w.sum()), 1),
                    "points": len(idx),
                    "mean_change_min": round(float(np.average(dd[fin], weights=np.maximum(w[fin], 1e-9)) / 60), 2)
                    if fin.any()
                    else None,
                    "before_min": _round_min(np.min(self.before_s[idx])),
                    "after_min": _round_min(np.min(self.after_s[idx])),
                    "now_unreached": int((~np.isfinite(self.after_s[idx])).sum()),
                }
            )
        rows.sort(key=lambda r: (-r["people"] * abs(r["mean_change_min"] or 1e3), r["street"]))
        return rows[:n]

    def cell_columns(self) -> dict:
        """Per demand point: before / after / change (min), for the difference layer."""
        d = self._delta()
        band = np.where(self.slower(), "slower", np.where(self.faster(), "faster", "same"))
        return {
            "first_min_before": _col_min(self.before_s),
            "first_min_after": _col_min(self.after_s),
            "change_min": np.where(np.isfinite(d), d / 60.0, np.nan),
            "effect": band,
        }


def _round_min(s) -> float | None:
    s = float(s)
    return round(s / 60.0, 2) if np.isfinite(s) else None


def _col_min(s):
    return np.where(np.isfinite(s), s / 60.0, np.nan)


def measure_effect(
    zone_before,
    zone_after,
    sites,
    demand,
    profile,
    thresholds_min,
    call_handling_s: float = 0.0,
    label: str = "reference",
) -> Effect:
    """The first arrival of every demand point from ``sites`` on both zones, as an :class:`Effect`."""
    from ..checks import check_instance, check_thresholds_min
    from ..routing.travel import kth_nearest, travel_times
    from ..sites import site_streets

    thresholds_min = check_thresholds_min(thresholds_min)
    check_instance(label, str, "label", "text")

    out = []
    for z in (zone_before, zone_after):
        tt = travel_times(z, sites, demand, profile, call_handling_s=call_handling_s)
        times, idx = kth_nearest(tt.dense(), 1)
        out.append((times[0], idx[0]))
    nrd = np.asarray(demand.no_road_data, dtype=bool)
    (b, fb), (a, fa) = out
    return Effect(
        thresholds_min=[float(t) for t in thresholds_min],
        before_s=np.where(nrd, np.inf, b),
        after_s=np.where(nrd, np.inf, a),
        first_before=np.where(nrd, -1, fb),
        first_after=np.where(nrd, -1, fa),
        weight=np.where(nrd, 0.0, np.asarray(demand.weight, dtype=float)),
        municipality=np.asarray(demand.municipality),
        municipality_names=list(demand.municipality_names),
        site_ids=list(sites.ids),
        streets=site_streets(zone_before, demand.node),
        label=label,
    )
