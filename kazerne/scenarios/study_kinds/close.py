"""``[study] kind = "close"``: rank today's posts by the coverage lost when each one alone closes."""

from __future__ import annotations

import numpy as np

from ...report.study_report import StudyView, network_sites
from ...report.tables import text_table
from ..context import mins
from ..study_common import StudyInput, StudyOutcome, StudyResult, closed_note
from . import StudyKind


class Close(StudyKind):
    name = "close"
    title = "what does closing each post cost?"
    generated = False
    full_matrix = True

    def solve(self, inp: StudyInput) -> StudyOutcome:
        base, th, T, tkey, wt = inp.base_report, inp.th, inp.T, inp.tkey, inp.weights
        rows = []
        for i in range(inp.n_posts):
            if inp.posts.ids[i] in inp.closed:  # closing a post the slice has closed already loses nothing
                continue
            rep = inp.eval(np.delete(inp.post_rows, i))
            r = {"post": inp.posts.ids[i], "name": inp.posts.names[i]}
            for t, a, b in zip(th, base.zone_weight_within, rep.zone_weight_within):
                r[f"loss_within_{t:g}min"] = round(float(a - b), 1)
            if T not in th:  # rank on the study's threshold even when it is not a report threshold
                r[f"loss_within_{tkey}min"] = round(
                    float(wt[base.first_s <= T * 60].sum() - wt[rep.first_s <= T * 60].sum()), 1
                )
            r[f"population_within_{tkey}min_before"] = round(float(wt[base.first_s <= T * 60].sum()), 1)
            r[f"population_within_{tkey}min_after"] = round(float(wt[rep.first_s <= T * 60].sum()), 1)
            r["mean_min_before"] = mins(base.mean_s)
            r["mean_min_after"] = mins(rep.mean_s)
            rows.append(r)
        key = f"loss_within_{tkey}min"
        rows.sort(key=lambda r: (r[key], r["post"]))
        for k, r in enumerate(rows):
            r["rank"] = k + 1
        result = {"ranking_by": key, "least_loss": rows[0]["post"], "most_loss": rows[-1]["post"], "ranking": rows}
        result.update(closed_note(inp, "not ranked"))
        return StudyOutcome(result, {"close_ranking.csv": rows}, [], inp.post_rows)

    def view(self, res: StudyResult, after) -> StudyView:
        inp, r = res.inp, res.result
        T = inp.T
        key = r["ranking_by"]
        label_extra = {x["post"]: f" (−{x[key]:,.0f})" if x[key] > 0.5 else " (no loss)" for x in r["ranking"]}
        kinds, change, first = {}, [], None
        if r.get("ranking"):
            i = inp.posts.ids.index(r["ranking"][0]["post"])  # the cheapest closure
            change, kinds = [inp.posts.ids[i]], {inp.posts.ids[i]: "closed"}
            first = inp.eval(np.delete(inp.post_rows, i)).first_s
        return StudyView(
            title=self.title,
            subtitle=f" — in brackets: people no longer reached within {T:g} min if that post closes",
            sites=network_sites(inp.posts, inp.cand, res.outcome.chosen_rows, kinds, label_extra),
            change_label=f"What closing {', '.join(change)} changes (today → without it)",
            change_first_s=first,
            recommendation=self.recommendation(r),
            network_heading=None,
        )

    def recommendation(self, res: dict, summary: dict | None = None) -> str:
        if not res.get("ranking"):
            return ""
        r = res["ranking"][0]
        return f"Least harmful closure: {r['post']} {r.get('name', '')} ({r[res['ranking_by']]:,.0f} people fewer)."

    def console(self, summary: dict) -> list[str]:
        res = summary["result"]
        rows = [
            [r["rank"], r["post"], r["name"]] + [v for k, v in r.items() if k.startswith("loss_")]
            for r in res["ranking"]
        ]
        hdr = ["rank", "post", "name"] + [k for k in res["ranking"][0] if k.startswith("loss_")]
        return [text_table(rows, hdr)]


KIND = Close()
