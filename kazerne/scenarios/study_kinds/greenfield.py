"""``[study] kind = "greenfield"``: the best ``p`` posts from scratch for ``p = p_min..p_max`` (the
MCLP frontier in one pass, or one p-median per ``p``), with today's network on the curve."""

from __future__ import annotations

import numpy as np

from ...coverage import models
from ...coverage.problem import from_cost_matrix
from ...errors import ScenarioError
from ...report import html as H
from ...report.council import crew_kind
from ...report.figures import frontier_figure, proven
from ...report.maps import figure_bytes, save_map
from ...report.study_report import StudyView, network_words, new_network_view
from ...report.tables import pct
from ..study_common import StudyInput, StudyOutcome, StudyResult, Variant, place, rows_of, warn, warn_status
from . import StudyKind


def frontier_workers(n_points: int) -> int:
    """Processes for a greenfield frontier: two where there are two cores and more than one point
    (the longest proof on one, the other points on the other: 53 s instead of 93 s for p = 8..16 on
    the zone, ``benchmarks/placement.py``); one on one core, and inside a worker process (a batch
    pool's or Dask's: its pool already uses the cores, and a daemonic process may not start any)."""
    import multiprocessing as mp
    import os

    if n_points < 2 or (os.cpu_count() or 1) < 2 or mp.parent_process() is not None or mp.current_process().daemon:
        return 1
    return 2


class Greenfield(StudyKind):
    name = "greenfield"
    title = "how many posts, and where, if we started from scratch?"
    needs_posts = False
    sensitivity = True

    def check_sizes(self, sc, st, n_candidates, n_posts):
        if st["p_max"] > n_candidates:
            raise ScenarioError(
                f"expected at most {n_candidates} posts (the number of candidate sites), got p_max = {st['p_max']}",
                source=str(sc.path),
                field="study.p_max",
            )

    def solve(self, inp: StudyInput) -> StudyOutcome:
        st, tkey = inp.st, inp.tkey
        curve: list[dict] = []
        solves: list = []
        chosen_rows = np.zeros(0, dtype=np.int64)
        ps = list(range(st["p_min"], st["p_max"] + 1))
        with inp.progress.bar(len(ps), "greenfield p") as bar:
            frontier = self._frontier(inp, ps, bar) if st["objective"] != "pmedian" else None
            for k, p in enumerate(ps):
                if frontier is None and curve and inp.deadline.expired():
                    warn(
                        f"greenfield: the study time limit ({st['time_limit_s']:g} s) ran out after p = {p - 1}; "
                        f"p = {p}..{st['p_max']} not solved"
                    )
                    break
                if frontier is None:
                    bar.set_postfix_str(f"p={p}")
                    res = place(inp.ctx, inp.mat, inp.cand, st, [], p, inp.progress, f"greenfield p={p}", inp.deadline)
                    bar.update(1)
                else:
                    res = frontier[k]
                    warn_status(res, f"greenfield p={p}", inp.progress)
                solves.append({**res.to_dict(), "p": p})
                chosen_rows = rows_of(inp.cand, res.sites)
                curve.append(
                    {
                        "p": p,
                        f"share_within_{tkey}min": inp.share_at(inp.eval(chosen_rows)),
                        "status": res.status,
                        "gap": res.gap,
                        "sites": " ".join(res.sites),
                    }
                )
        today = {"p": inp.n_posts, f"share_within_{tkey}min": inp.share_at(inp.base_report)} if inp.n_posts else None
        result = {"curve": curve, "today": today, "threshold_min": inp.T, "complete": len(curve) == len(ps)}
        table = curve + ([{**today, "status": "today", "sites": " ".join(inp.posts.ids)}] if today else [])
        return StudyOutcome(result, {"frontier.csv": table}, solves, chosen_rows)

    @staticmethod
    def _frontier(inp: StudyInput, ps: list, bar) -> list:
        """Every p in one pass (shared reduction, each optimum the start of the next); the study's
        time limit is shared evenly between the points; the bar advances as each point is solved."""

        def solved(p, status):
            bar.set_postfix_str(f"p={p} {status}")
            bar.update(1)

        prob = from_cost_matrix(inp.mat, inp.weights, site_ids=inp.cand.ids)
        return models.mclp_frontier(
            prob,
            ps,
            inp.T * 60,
            time_limit=max(inp.deadline.left(), 0.5) / len(ps),
            workers=frontier_workers(len(ps)),
            on_point=solved,
        )

    def resolve(self, var: Variant):
        """The largest p the study solved."""
        return place(
            var.ctx,
            var.mat,
            var.cand,
            var.st,
            [],
            len(var.base_sites),
            var.progress,
            f"sensitivity {var.label}",
            var.deadline,
        )

    def view(self, res: StudyResult, after) -> StudyView:
        return new_network_view(self, res, [lambda folder, bm: self._figure(folder, bm, res)])

    @staticmethod
    def _figure(folder, bm, res: StudyResult) -> str:
        """The frontier figure (PNG + PDF) and its HTML."""
        inp, r = res.inp, res.result
        T, st, posts, cand = inp.T, inp.st, inp.posts, inp.cand
        tk = f"share_within_{T:g}min"
        today, curve = r.get("today"), r["curve"]
        status = [c["status"] for c in curve]
        crews = sorted(set(crew_kind(c) for c in posts.crew))
        note = (
            f"Every post on the curve is assumed to have a {st['new_crew']} crew "
            f"({cand.turnout_s[len(posts)] if len(cand.ids) > len(posts) else 0:g} s turnout)"
            + (
                f"; today's network (star) has {', '.join(crews)} posts (turnout by crew: "
                f"{', '.join(f'{k} {v:g} s' for k, v in inp.sc.turnout_s.items())}), so part of the "
                "distance between the star and the curve is the crews, not the places."
                if today
                else "."
            )
        )
        all_proven = all(proven(x) for x in status or ["optimal"])
        ps = [c["p"] for c in curve]
        ff = frontier_figure(
            ps,
            [c[tk] for c in curve],
            today["p"] if today else None,
            today[tk] if today else None,
            T,
            title=(
                f"{bm.zone_title}: {'best ' if all_proven else ''}share within {T:g} min for {min(ps)}..{max(ps)} posts"
                + ("" if all_proven else " (best only where proven)")
            ),
            new_crew=f"{st['new_crew']} crews",
            today_note=note,
            curve_status=status,
            curve_gap=[c["gap"] for c in curve],
        )
        png = figure_bytes(ff, "png")
        save_map(ff, folder, "frontier")
        return H.figure(
            png,
            "The frontier: the best share reachable with p posts."
            if all_proven
            else "The frontier: the share reachable with p posts — best where proven (filled dots); "
            "hollow dots were stopped by the time limit before their proof.",
            id="frontier",
            pdf_name="frontier.pdf",
        )

    def recommendation(self, res: dict, summary: dict | None = None) -> str:
        sites = res.get("sites") or (res.get("curve") or [{}])[-1].get("sites", "").split()
        words = network_words(summary or {}, len(sites)).replace(" — ", "", 1)
        return f"Recommended: {words}: {', '.join(sites)}." if sites else ""

    def console(self, summary: dict) -> list[str]:
        res = summary["result"]
        out = [f"  p={c['p']:3d}: {pct(list(c.values())[1])}  ({c['status']})" for c in res["curve"]]
        if res["today"]:
            out.append(f"  today p={res['today']['p']}: {pct(list(res['today'].values())[1])}")
        return out


KIND = Greenfield()
