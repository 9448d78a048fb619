"""``[study] kind = "compare"``: planners' comparison of named sites, each added alone to today's
posts, with today as the reference row."""

from __future__ import annotations

import numpy as np

from ...report.council import metric_xy, post_label
from ...report.maps import Site
from ...report.study_report import StudyView, network_sites, site_words
from ...report.tables import pct, text_table
from ..context import mins
from ..study_common import StudyInput, StudyOutcome, StudyResult, demand_weights
from . import StudyKind


def compare_row(ctx, base, rep, sid, name, th, t_study, cand=None) -> dict:
    """One row of the comparison: shares, mean, p90, second units and the gain per municipality."""
    cand_ids = cand.ids if cand is not None else []
    w = demand_weights(ctx)
    r = {"site": sid, "name": name}
    if sid in cand_ids:
        j = cand_ids.index(sid)
        r.update(
            {
                "street": cand.street[j],
                "municipality": cand.municipality[j],
                "lon": round(float(cand.lon[j]), 6),
                "lat": round(float(cand.lat[j]), 6),
            }
        )
    for t, s in zip(th, rep.zone_share):
        r[f"share_within_{t:g}min"] = float(s)
    if t_study not in th:  # the study's threshold, sorted on, even when it is not a report threshold
        r[f"share_within_{t_study:g}min"] = float(w[rep.first_s <= t_study * 60].sum() / rep.total_weight)
    r["mean_min"] = mins(rep.mean_s)
    r["p90_min"] = mins(rep.p90_s)
    r[f"second_unit_within_{th[-1]:g}min"] = round(float(w[rep.second_s <= th[-1] * 60].sum()), 1)
    gains = {}  # share within the study's threshold T (which need not be in thresholds)
    in_now, in_base = rep.first_s <= t_study * 60, base.first_s <= t_study * 60
    for mi, mname in enumerate(ctx.demand.municipality_names):
        sel = ctx.demand.municipality == mi
        pop = float(w[sel].sum())
        if pop > 0:
            d = (float(w[sel & in_now].sum()) - float(w[sel & in_base].sum())) / pop
            if abs(d) > 1e-12:
                gains[mname] = round(d, 4)
    r["gain_by_municipality"] = gains
    return r


class Compare(StudyKind):
    name = "compare"
    title = "which candidate site serves the population best?"
    generated = False
    full_matrix = True
    reach_check = False

    def parse(self, v, raw, sc, st):
        if not st.sites:
            v.fail("study.sites", "a compare study needs [[study.sites]] entries")
        return None

    def solve(self, inp: StudyInput) -> StudyOutcome:
        ctx, cand, base, th, T, tkey = inp.ctx, inp.cand, inp.base_report, inp.th, inp.T, inp.tkey
        rows = [compare_row(ctx, base, base, "today", "(today's posts)", th, T)]
        for j in range(inp.n_posts, inp.n_posts + len(inp.st["sites"])):
            rep = inp.eval(np.append(inp.post_rows, j))
            rows.append(compare_row(ctx, base, rep, cand.ids[j], cand.names[j], th, T, cand))
        key = f"share_within_{tkey}min"
        for r in rows:
            r[f"change_vs_today_{tkey}min"] = r[key] - rows[0][key]
            r[f"population_gain_{tkey}min"] = round((r[key] - rows[0][key]) * base.total_weight, 1)
        rows[1:] = sorted(rows[1:], key=lambda r: -r[key])
        tables = {
            "comparison.csv": [{k: v for k, v in r.items() if k != "gain_by_municipality"} for r in rows],
            "comparison_by_municipality.csv": [
                {"site": r["site"], "municipality": mname, f"share_gain_within_{tkey}min": g}
                for r in rows[1:]
                for mname, g in sorted(r["gain_by_municipality"].items(), key=lambda kv: -kv[1])
            ],
        }
        return StudyOutcome({"sorted_by": key, "rows": rows}, tables, [], inp.post_rows)

    def view(self, res: StudyResult, after) -> StudyView:
        inp, r = res.inp, res.result
        cand, T = inp.cand, inp.T
        best, first = None, None
        if len(r.get("rows", [])) > 1:
            best = cand.ids.index(r["rows"][1]["site"])  # the best option
            first = inp.eval(np.append(inp.post_rows, best)).first_s
        sites = network_sites(inp.posts, cand, res.outcome.chosen_rows, {})
        cx, cy = metric_xy(cand.lon, cand.lat)
        for row in r["rows"][1:]:
            j = cand.ids.index(row["site"])
            lab = (
                f"{'BEST ' if j == best else ''}{post_label(row['site'], cand.names[j])} "
                f"({100 * row[f'share_within_{T:g}min']:.1f} %)"
            )
            sites.append(Site(float(cx[j]), float(cy[j]), lab, "best" if j == best else "candidate", priority=0))
        return StudyView(
            title=self.title,
            subtitle=f" — in brackets: the share reached within {T:g} min with that site",
            sites=sites,
            change_label="What the best site changes (today → with it)",
            change_first_s=first,
            recommendation=self.recommendation(r),
            network_heading="reference",
        )

    def recommendation(self, res: dict, summary: dict | None = None) -> str:
        if len(res.get("rows", [])) > 1:
            return f"Best of the compared sites: {site_words(res['rows'][1])}."
        return ""

    def console(self, summary: dict) -> list[str]:
        rows = summary["result"]["rows"]
        return [
            text_table(
                [
                    [r["site"], r["name"][:30]]
                    + [pct(v) for k, v in r.items() if k.startswith("share_")]
                    + [r["mean_min"], r["p90_min"]]
                    for r in rows
                ],
                ["site", "name"] + [k for k in rows[0] if k.startswith("share_")] + ["mean", "p90"],
            )
        ]


KIND = Compare()
