"""``[study] kind = "minimum"``: the fewest posts reaching everyone (or ``share``) within the threshold (LSCP)."""

from __future__ import annotations

import math

from ...errors import ScenarioError
from ...report.study_report import StudyView, network_words, new_network_view
from ..context import headline
from ..study_common import (
    StudyInput,
    StudyOutcome,
    StudyResult,
    Variant,
    demand_weights,
    rows_of,
    site_row,
    solve_model,
    warn_status,
)
from . import StudyKind


def check_share(sc, st, mat, w) -> None:
    """Refuse a share no choice of sites can reach (instead of an infeasible model)."""
    T = st["threshold"]
    reach = (mat <= T * 60.0).any(axis=0)
    total = float(w.sum())
    best = float(w[reach].sum()) / total if total > 0 else 0.0
    if st["share"] > best * (1 + 1e-9):
        raise ScenarioError(
            f"only {100 * best:.2f} % of the population with road data can be reached within "
            f"{T:g} min from any candidate site (all of them open); expected a share <= "
            f"{math.floor(best * 1e4) / 1e4:g} (or a larger threshold), got {st['share']:g}",
            source=str(sc.path),
            field="study.share",
        )


class Minimum(StudyKind):
    name = "minimum"
    title = "the fewest posts that reach the target"
    needs_posts = False
    reach_check = False  # its share check says it
    sensitivity = True

    def solve(self, inp: StudyInput) -> StudyOutcome:
        st, cand, T = inp.st, inp.cand, inp.T
        check_share(inp.sc, st, inp.mat, inp.weights)
        res = solve_model("lscp", inp.mat, inp.weights, cand, st, inp.deadline, radius=T * 60)
        warn_status(res, "minimum", inp.progress)
        chosen_rows = rows_of(cand, res.sites)
        result = {
            "posts_needed": len(res.sites),
            "share_required": st["share"],
            "threshold_min": T,
            "sites": res.sites,
            "after": headline(inp.eval(chosen_rows), inp.th),
        }
        if inp.n_posts:
            result["before"] = headline(inp.base_report, inp.th)
        table = [site_row(cand, cand.ids.index(s)) for s in res.sites]
        return StudyOutcome(result, {"sites.csv": table}, [res.to_dict()], chosen_rows)

    def resolve(self, var: Variant):
        radius = var.st["threshold"] * 60
        return solve_model("lscp", var.mat, demand_weights(var.ctx), var.cand, var.st, var.deadline, radius=radius)

    def view(self, res: StudyResult, after) -> StudyView:
        return new_network_view(self, res)

    def recommendation(self, res: dict, summary: dict | None = None) -> str:
        sites = res.get("sites") or []
        words = network_words(summary or {}, len(sites)).replace(" — ", "", 1)
        return f"Recommended: {words}: {', '.join(sites)}." if sites else ""

    def console(self, summary: dict) -> list[str]:
        return [f"  posts needed: {summary['result']['posts_needed']}"]


KIND = Minimum()
