"""``[study] kind = "add"``: keep today's posts and open ``k`` new ones (MCLP, or p-median)."""

from __future__ import annotations

import numpy as np

from ...errors import ScenarioError
from ...report.study_report import StudyView, network_sites, site_words
from ...report.tables import pct
from ..context import headline
from ..study_common import StudyInput, StudyOutcome, StudyResult, Variant, place, rows_of
from . import StudyKind


def count_words(k: int) -> str:
    return "one new post" if k == 1 else f"{k} new posts"


class Add(StudyKind):
    name = "add"
    title = "where should {k} stand?"
    sensitivity = True

    def check_sizes(self, sc, st, n_candidates, n_posts):
        if n_posts + st["k"] > n_candidates:
            raise ScenarioError(
                f"expected at most {n_candidates - n_posts} new posts: there are {n_candidates} candidate sites of "
                f"which {n_posts} are today's posts, got k = {st['k']}",
                source=str(sc.path),
                field="study.k",
            )

    def solve(self, inp: StudyInput) -> StudyOutcome:
        st, cand, posts, base, T, tkey = inp.st, inp.cand, inp.posts, inp.base_report, inp.T, inp.tkey
        res = place(inp.ctx, inp.mat, cand, st, posts.ids, inp.n_posts + st["k"], inp.progress, "add", inp.deadline)
        new = [s for s in res.sites if s not in posts.ids]
        chosen_rows = rows_of(cand, posts.ids + new)
        after = inp.eval(chosen_rows)
        rows = [self._site(inp, s, base, T, tkey) for s in new]
        tables = {
            "new_sites.csv": [{k: v for k, v in r.items() if k != "by_municipality"} for r in rows],
            "new_sites_by_municipality.csv": [
                {"site": r["site"], "municipality": mname, f"newly_within_{tkey}min": g}
                for r in rows
                for mname, g in sorted(r["by_municipality"].items(), key=lambda kv: -kv[1])
            ],
        }
        result = {"new_sites": rows, "before": headline(base, inp.th), "after": headline(after, inp.th)}
        return StudyOutcome(result, tables, [res.to_dict()], chosen_rows)

    @staticmethod
    def _site(inp: StudyInput, s: str, base, T: float, tkey: str) -> dict:
        """One new site: who it newly reaches within T (per municipality) and the shares before / after."""
        ctx, cand, w = inp.ctx, inp.cand, inp.weights
        j = cand.ids.index(s)
        rep1 = inp.eval(np.append(inp.post_rows, j))
        gained = (rep1.first_s <= T * 60) & ~(base.first_s <= T * 60)
        per_m = {}
        for mi, mname in enumerate(ctx.demand.municipality_names):
            g = float(w[(ctx.demand.municipality == mi) & gained].sum())
            if g > 0:
                per_m[mname] = round(g, 1)
        return {
            "site": s,
            "name": cand.names[j],
            "street": cand.street[j],
            "municipality": cand.municipality[j],
            "lon": round(cand.lon[j], 6),
            "lat": round(cand.lat[j], 6),
            "turnout_s": cand.turnout_s[j],
            f"newly_within_{tkey}min": round(float(w[gained].sum()), 1),
            f"share_within_{tkey}min_before": inp.share_at(base),
            f"share_within_{tkey}min_after": inp.share_at(rep1),
            "by_municipality": per_m,
        }

    def resolve(self, var: Variant):
        n = len(var.posts) + var.st["k"]
        return place(
            var.ctx, var.mat, var.cand, var.st, var.posts.ids, n, var.progress, f"sensitivity {var.label}", var.deadline
        )

    def view(self, res: StudyResult, after) -> StudyView:
        inp, rows = res.inp, res.outcome.chosen_rows
        chosen = {inp.cand.ids[r] for r in rows}
        kinds = {pid: "closed" for pid in inp.posts.ids if pid not in chosen}
        return StudyView(
            title=self.title.format(k=count_words(int(inp.st["k"]))),
            sites=network_sites(inp.posts, inp.cand, rows, kinds),
            change_label="What the new post(s) change (today → with the new post)",
            recommendation=self.recommendation(res.result),
        )

    def recommendation(self, res: dict, summary: dict | None = None) -> str:
        new = list(res.get("new_sites") or [])
        return "Recommended: a new post at " + "; ".join(site_words(r) for r in new) + "." if new else ""

    def console(self, summary: dict) -> list[str]:
        st, res = summary["study"], summary["result"]
        out = []
        for r in res["new_sites"]:
            gain = r[f"newly_within_{st['threshold']:g}min"]
            out.append(
                f"  new site {r['site']} {r['name']} (lon {r['lon']}, lat {r['lat']}): "
                f"+{gain:,.0f} people within {st['threshold']:g} min"
            )
        tk = f"{st['threshold']:g}"
        if tk in res["after"]["share_within"]:
            out.append(
                f"  zone share within {tk} min: {pct(res['before']['share_within'][tk])} -> "
                f"{pct(res['after']['share_within'][tk])}"
            )
        return out


KIND = Add()
