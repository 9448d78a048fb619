"""``[study] kind = "add-vehicle"``: where should ``k`` more vehicles of one type stand?

Today's fleet stays (neighbouring posts included); candidates are today's posts without that type,
the named sites and, when asked, generated sites; coverage is the first vehicle of the type, or the
adequate ``response`` (complete when its last vehicle arrives: :func:`kazerne.placement_costs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...coverage.metrics import evaluate
from ...errors import ScenarioError
from ...report.study_report import StudyView, network_sites, site_words
from ...report.tables import pct, text_table
from ...routing.travel import travel_times
from ..context import headline, municipality_rows
from ..study_common import StudyInput, StudyOutcome, StudyResult, place, site_row
from . import StudyKind, study_kinds


@dataclass(frozen=True)
class VehicleParams:
    """The kind's own fields: the vehicle type placed and the adequate response measured ("": none)."""

    vehicle: str
    response: str = ""


def _shown(v, limit: int = 60) -> str:
    r = repr(v)
    return r if len(r) <= limit else r[: limit - 4] + " ..."


class AddVehicle(StudyKind):
    name = "add-vehicle"
    title = "where should {k} stand?"
    keys = frozenset({"vehicle", "response"})
    purpose = "placing vehicles"
    generated = False
    reach_check = False
    slices = False

    def parse(self, v, raw, sc, st) -> VehicleParams:
        types = sc.fleet["types"]
        if "vehicle" not in raw:
            v.fail("study.vehicle", f"missing (required for add-vehicle); expected one of {', '.join(types)}")
        if not isinstance(raw["vehicle"], str) or raw["vehicle"] not in types:
            v.fail(
                "study.vehicle",
                f"unknown vehicle type {_shown(raw['vehicle'])}; expected one of {', '.join(types)} "
                f"(or define it under [vehicles.types.<name>])",
            )
        vehicle, response = raw["vehicle"], ""
        if "response" in raw:
            rs = sc.fleet["responses"]
            name = raw["response"]
            if not isinstance(name, str) or name not in rs:
                v.fail(
                    "study.response",
                    f"unknown response {_shown(name)}; expected one of [vehicles.responses]: "
                    f"{', '.join(rs) or 'none defined'}",
                )
            if rs[name].get(vehicle) != 1:
                v.fail(
                    "study.response",
                    f"response {name!r} needs {rs[name].get(vehicle, 0)} {vehicle}; placing one more "
                    f"vehicle is measured for a response needing exactly one of its type",
                )
            response = name
        if st.sensitivity:
            able = ", ".join(k.name for k in study_kinds() if k.sensitivity)
            v.fail("study.sensitivity", f"not available for kind {self.name} (only {able})")
        return VehicleParams(vehicle, response)

    def profile(self, ctx, sc):
        """The candidates' times with the vehicle type's speed profile."""
        from ...coverage.fleet import vehicle_profile

        return vehicle_profile(ctx.profile, sc.fleet["types"][sc.study["vehicle"]])

    def solve(self, inp: StudyInput) -> StudyOutcome:
        from ...coverage.fleet import placement_costs
        from ..fleet import vehicle_study_base

        st, ctx, cand, posts = inp.st, inp.ctx, inp.cand, inp.posts
        vb = vehicle_study_base(ctx, posts)
        holder_ids = [vb.sites.ids[i] for i in vb.holders]
        rows = [j for j, sid in enumerate(cand.ids) if sid not in holder_ids]
        if st["k"] > len(rows):
            raise ScenarioError(
                f"k = {st['k']}: only {len(rows)} candidate sites without a {vb.vehicle}; add [[study.sites]] or "
                f"include_generated = true",
                source=str(inp.sc.path),
                field="study.k",
            )
        costs = placement_costs(inp.mat[rows], vb.holder_s, other_s=vb.other_s)
        sites = vb.sites.subset(vb.holders).concat(cand.subset(rows))
        res = place(
            ctx, costs, sites, st, holder_ids, len(holder_ids) + st["k"], inp.progress, "add-vehicle", inp.deadline
        )
        new = [x for x in res.sites if x not in holder_ids]
        new_rows = [cand.ids.index(x) for x in new]
        measure = _Measure(inp, vb, new_rows)
        before = measure.report(np.where(ctx.demand.no_road_data, np.nan, vb.before_s))
        after = measure.report(measure(list(range(len(new)))))
        out_rows = [self._site(inp, measure, vb, before, k, j) for k, j in enumerate(new_rows)]
        post_rows = [cand.ids.index(x) for x in holder_ids if x in cand.ids]
        result = {
            "measure": vb.label,
            "vehicle": vb.vehicle,
            "response": vb.response or None,
            "existing": holder_ids,
            "new_sites": out_rows,
            "before": headline(before, inp.th),
            "after": headline(after, inp.th),
            "fleet": vb.fleet.rows(vb.sites),
        }
        tables = {"new_vehicle_sites.csv": out_rows, "vehicle_municipalities.csv": _municipalities(inp, before, after)}
        return StudyOutcome(
            result,
            tables,
            [res.to_dict()],
            np.array(post_rows + new_rows, dtype=np.int64),
            reports={"before": before, "after": after},
            profile=vb.profile,
        )

    @staticmethod
    def _site(inp: StudyInput, measure, vb, before, k: int, j: int) -> dict:
        T, tkey, w = inp.T, inp.tkey, inp.weights
        one = measure.report(measure([k]))
        gained = (one.first_s <= T * 60) & ~(before.first_s <= T * 60)
        return {
            **site_row(inp.cand, j),
            "vehicle": vb.vehicle,
            f"newly_within_{tkey}min": round(float(w[gained].sum()), 1),
            f"share_within_{tkey}min_before": inp.share_at(before),
            f"share_within_{tkey}min_after": inp.share_at(one),
        }

    def view(self, res: StudyResult, after) -> StudyView:
        inp, r = res.inp, res.result
        vehicle, k = inp.st["vehicle"], int(inp.st["k"])
        label_extra = {x["site"]: f" + 1 {vehicle} (NEW)" for x in r["new_sites"]}
        kinds = {x["site"]: "best" for x in r["new_sites"]}
        return StudyView(
            title=self.title.format(k=f"{'one' if k == 1 else k} more {vehicle}"),
            sites=network_sites(inp.posts, inp.cand, res.outcome.chosen_rows, kinds, label_extra),
            change_label=f"What the new {vehicle} changes for the {r.get('measure')} (today → with it)",
            recommendation=self.recommendation(r),
        )

    def recommendation(self, res: dict, summary: dict | None = None) -> str:
        new = list(res.get("new_sites") or [])
        if not new:
            return ""
        return (
            f"Recommended: one more {res.get('vehicle', 'vehicle')} at " + "; ".join(site_words(r) for r in new) + "."
        )

    def console(self, summary: dict) -> list[str]:
        st, res = summary["study"], summary["result"]
        out = [f"  measure: {res['measure']}; today's {st['vehicle']} at {', '.join(res['existing']) or 'no post'}"]
        for r in res["new_sites"]:
            gain = r[f"newly_within_{st['threshold']:g}min"]
            out.append(
                f"  one more {st['vehicle']} at {r['site']} {r['name']} ({r['origin']}; lon {r['lon']}, lat {r['lat']}): "
                f"+{gain:,.0f} people within {st['threshold']:g} min"
            )
        th = summary["assumptions"]["thresholds_min"]
        rows = [
            [k] + [pct(res[k]["share_within"][f"{t:g}"]) for t in th] + [res[k]["mean_response_min"]]
            for k in ("before", "after")
        ]
        out.append(text_table(rows, ["", *(f"≤{t:g} min" for t in th), "mean min"]))
        return out


class _Measure:
    """Per demand point, the measured time with today's holders and some of the new sites
    (the first vehicle of the type, or the adequate response's completion), and its report."""

    def __init__(self, inp: StudyInput, vb, new_rows: list):
        ctx = inp.ctx
        self.ctx, self.vb = ctx, vb
        self.full = travel_times(
            ctx.zone, inp.cand.subset(new_rows), ctx.demand, vb.profile, clock=ctx.clock
        ).seconds.astype(np.float64)

    def __call__(self, extra: list) -> np.ndarray:
        vb, nrd = self.vb, self.ctx.demand.no_road_data
        t = vb.holder_s if not len(extra) else np.vstack([vb.holder_s, self.full[extra]])
        first = t.min(axis=0) if len(t) else np.full(len(nrd), np.inf)
        out = first if vb.other_s is None else np.maximum(first, np.where(np.isnan(vb.other_s), np.inf, vb.other_s))
        return np.where(nrd, np.nan, out)

    def report(self, s: np.ndarray):
        d = self.ctx.demand
        return evaluate(
            s[None, :],
            d.weight,
            self.ctx.thresholds_s,
            no_road_data=d.no_road_data,
            municipality=d.municipality,
            municipality_names=d.municipality_names,
        )


def _municipalities(inp: StudyInput, before, after) -> list:
    """Per municipality, the shares and mean before and after (one measure per point)."""
    mrows = []
    for b, a in zip(municipality_rows(before, inp.th), municipality_rows(after, inp.th)):
        r = {"municipality": b["municipality"], "population": b["population"]}
        for t in inp.th:
            r[f"share_within_{t:g}min_before"] = b[f"share_within_{t:g}min"]
            r[f"share_within_{t:g}min_after"] = a[f"share_within_{t:g}min"]
        r["mean_min_before"], r["mean_min_after"] = b["mean_min"], a["mean_min"]
        mrows.append(r)
    return mrows


KIND = AddVehicle()
