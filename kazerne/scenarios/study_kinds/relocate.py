"""``[study] kind = "relocate"``: move ``m`` of today's posts, the best placement for every
combination of moved posts."""

from __future__ import annotations

from ...errors import ScenarioError
from ...report.council import metric_xy
from ...report.study_report import StudyView, network_sites, site_words
from ..context import headline
from ..study_common import (
    StudyInput,
    StudyOutcome,
    StudyResult,
    Variant,
    closed_note,
    relocate_search,
    rows_of,
    warn,
)
from . import StudyKind


class Relocate(StudyKind):
    name = "relocate"
    title = "which post should move, and where?"
    sensitivity = True

    def parse(self, v, raw, sc, st):
        if st.m > len(sc.posts):
            v.fail("study.m", f"expected at most the number of open posts ({len(sc.posts)}), got {st.m}")
        return None

    def solve(self, inp: StudyInput) -> StudyOutcome:
        st, cand, posts, tkey = inp.st, inp.cand, inp.posts, inp.tkey
        n_open = inp.n_posts - len(inp.closed)
        if st["m"] > n_open:
            raise ScenarioError(
                f"expected at most {n_open} moved post(s): {len(inp.closed)} of the {inp.n_posts} posts are closed "
                f"in the optimised time slice ({', '.join(inp.closed)}), got m = {st['m']}",
                source=str(inp.sc.path),
                field="study.m",
            )
        moved, res, solves, tried, total = relocate_search(
            inp.ctx, inp.mat, cand, st, posts, inp.progress, inp.deadline, closed=inp.closed
        )
        if tried < total:
            warn(
                f"relocate: the study time limit ({st['time_limit_s']:g} s) ran out after {tried} of {total} "
                f"combinations of moved posts; the answer is the best of those tried"
            )
        chosen_rows = rows_of(cand, res.sites)
        after = inp.eval(chosen_rows)
        new_ids = [s for s in res.sites if s not in posts.ids]
        where = {s: cand.ids.index(s) for s in new_ids}
        result = {
            "moved_posts": [posts.ids[i] for i in moved],
            "new_sites": [
                {
                    "site": s,
                    "name": cand.names[where[s]],
                    "lon": round(cand.lon[where[s]], 6),
                    "lat": round(cand.lat[where[s]], 6),
                }
                for s in new_ids
            ],
            "before": headline(inp.base_report, inp.th),
            "after": headline(after, inp.th),
            "combinations_tried": tried,
            "combinations_total": total,
            "complete": tried == total,
            **closed_note(inp, "not moved (moving one would re-open it)"),
        }
        table = [
            {
                "moved_post": posts.ids[i],
                "post_name": posts.names[i],
                "to_site": s,
                "to_name": cand.names[where[s]],
                "to_street": cand.street[where[s]],
                "to_municipality": cand.municipality[where[s]],
                "to_lon": round(cand.lon[where[s]], 6),
                "to_lat": round(cand.lat[where[s]], 6),
                f"share_within_{tkey}min_before": inp.share_at(inp.base_report),
                f"share_within_{tkey}min_after": inp.share_at(after),
            }
            for i, s in zip(moved, new_ids)
        ]
        return StudyOutcome(result, {"relocation.csv": table}, solves, chosen_rows)

    def resolve(self, var: Variant):
        """The same search over which posts move, under the variant."""
        _, res, _, tried, total = relocate_search(
            var.ctx, var.mat, var.cand, var.st, var.posts, var.progress, var.deadline, f" ({var.label})", var.closed
        )
        if tried < total:
            warn(f"sensitivity {var.label}: the time limit ran out after {tried} of {total} combinations")
        return res

    def view(self, res: StudyResult, after) -> StudyView:
        inp, r, rows = res.inp, res.result, res.outcome.chosen_rows
        posts, cand = inp.posts, inp.cand
        chosen = {cand.ids[x] for x in rows}
        moved = list(r.get("moved_posts", []))
        new_ids = [cand.ids[x] for x in rows if cand.ids[x] not in posts.ids]
        cx, cy = metric_xy(cand.lon, cand.lat)
        moves = []
        for pid, s in zip(moved, new_ids):
            i, j = posts.ids.index(pid), cand.ids.index(s)
            px, py = metric_xy([posts.lon[i]], [posts.lat[i]])
            moves.append(((float(px[0]), float(py[0])), (float(cx[j]), float(cy[j]))))
        return StudyView(
            title=self.title,
            sites=network_sites(
                posts, cand, rows, {p: "moved_from" for p in posts.ids if p not in chosen}, moved=moved
            ),
            moves=moves,
            change_label="What the move changes (today → after the move)",
            recommendation=self.recommendation(r),
            not_chosen="moved",
        )

    def recommendation(self, res: dict, summary: dict | None = None) -> str:
        moves = [f"{a} to {site_words(r)}" for a, r in zip(res.get("moved_posts", []), res.get("new_sites") or [])]
        return ("Recommended: move " + "; ".join(moves) + ".") if moves else "Recommended: keep today's posts."

    def console(self, summary: dict) -> list[str]:
        res = summary["result"]
        return [f"  move {', '.join(res['moved_posts'])} to {', '.join(s['site'] for s in res['new_sites'])}"]


KIND = Relocate()
