"""Kazerne placement studies on a zone (``[study]`` in a scenario file).

Kinds: ``add`` (keep today's posts, open k new), ``close`` (ranking of the loss per closed post),
``relocate`` (move m of today's posts), ``greenfield`` (best p posts from scratch, for a range of p,
with today's network on the curve), ``minimum`` (fewest posts reaching everyone or a share within
T), ``compare`` (planners' comparison of named candidate sites, today as reference row).

All solves run on a sites × demand response-time matrix (seconds, turnout included) through
:mod:`kazerne.coverage.models`; every solve's status, bound and gap are reported, and a time limit
that stopped a solve before optimality is said in one clear line.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from ..coverage import models
from ..coverage.metrics import evaluate
from ..coverage.problem import from_cost_matrix
from ..errors import ScenarioError
from ..report.atomic import atomic_dir, write_json
from ..report.geo import write_geojson
from ..report.tables import text_table, write_csv
from ..routing.profiles import CLASS_INDEX
from ..routing.travel import drive_times
from .resolve import Posts, resolve_posts, resolve_site, turnout_for
from .runner import (Context, Progress, _json_safe, _mins, assumptions, headline, load_context,
                     municipality_rows, write_first_due)
from .schema import Scenario, crew_type

STUDY_KEYS = {"kind", "threshold", "k", "m", "p_min", "p_max", "share", "objective", "new_crew",
              "new_turnout_s", "spacing_m", "buffer_m", "candidate_classes", "sites", "time_limit_s",
              "sensitivity", "include_generated"}
KINDS = ("add", "close", "relocate", "greenfield", "minimum", "compare")
DEFAULT_CANDIDATE_CLASSES = ("trunk", "primary", "secondary", "tertiary")


@dataclass
class Candidates:
    """Candidate sites: ids, names, nodes, lon/lat, turnout (s), origin (post / generated / user)."""

    ids: list
    names: list
    node: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    turnout_s: np.ndarray
    origin: list
    excluded_in_gap: int = 0


def _study(sc: Scenario) -> dict:
    st = dict(sc.study or {})
    src = str(sc.path)
    unknown = sorted(set(st) - STUDY_KEYS)
    if unknown:
        raise ScenarioError(f"unknown key; expected one of {', '.join(sorted(STUDY_KEYS))}", source=src,
                            field=f"study.{unknown[0]}")
    kind = st.get("kind")
    if kind not in KINDS:
        raise ScenarioError(f"expected one of {', '.join(KINDS)}, got {kind!r}", source=src, field="study.kind")

    def num(key, default, lo=None, integer=False):
        v = st.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and int(v) != v):
            raise ScenarioError(f"expected {'an integer' if integer else 'a number'}, got {v!r}", source=src,
                                field=f"study.{key}")
        if lo is not None and v < lo:
            raise ScenarioError(f"expected a number >= {lo}, got {v!r}", source=src, field=f"study.{key}")
        return int(v) if integer else float(v)

    st["threshold"] = num("threshold", sc.thresholds_min[len(sc.thresholds_min) // 2], lo=0.1)
    st["k"] = num("k", 1, lo=1, integer=True)
    st["m"] = num("m", 1, lo=1, integer=True)
    st["p_min"] = num("p_min", 1, lo=1, integer=True)
    st["p_max"] = num("p_max", max(st["p_min"], len(sc.posts)), lo=1, integer=True)
    if st["p_max"] < st["p_min"]:
        raise ScenarioError("p_max must be >= p_min", source=src, field="study.p_max")
    st["share"] = num("share", 1.0, lo=0.0)
    if st["share"] > 1:
        raise ScenarioError(f"expected a share in (0, 1], got {st['share']}", source=src, field="study.share")
    st["spacing_m"] = num("spacing_m", 500.0, lo=50)
    st["buffer_m"] = num("buffer_m", 0.0, lo=0)
    st["time_limit_s"] = num("time_limit_s", 120.0, lo=1)
    st["objective"] = st.get("objective", "coverage")
    if st["objective"] not in ("coverage", "pmedian"):
        raise ScenarioError("expected 'coverage' (MCLP at threshold) or 'pmedian'", source=src,
                            field="study.objective")
    st["new_crew"] = crew_type(st.get("new_crew", "professional"))
    if "new_turnout_s" in st:
        st["new_turnout_s"] = num("new_turnout_s", 0, lo=0)
    st["sensitivity"] = bool(st.get("sensitivity", False))
    st["include_generated"] = bool(st.get("include_generated", kind not in ("compare", "close")))
    classes = st.get("candidate_classes", list(DEFAULT_CANDIDATE_CLASSES))
    if not isinstance(classes, list) or any(c not in CLASS_INDEX for c in classes):
        raise ScenarioError(f"expected a list of road classes from {', '.join(CLASS_INDEX)}", source=src,
                            field="study.candidate_classes")
    st["candidate_classes"] = classes
    sites = st.get("sites", [])
    if not isinstance(sites, list):
        raise ScenarioError("expected [[study.sites]] entries", source=src, field="study.sites")
    if kind == "compare" and not sites:
        raise ScenarioError("a compare study needs [[study.sites]] entries", source=src, field="study.sites")
    st["sites"] = sites
    return st


def generate_candidates(ctx: Context, st: dict, turnout_s: float) -> tuple[list, np.ndarray, int]:
    """Network nodes on roads of the given classes, inside the zone (+buffer), outside the gap,
    thinned to one per ``spacing_m`` square (the node nearest the square's centre)."""
    import shapely
    net = ctx.zone.net
    cls = np.array([CLASS_INDEX[c] for c in st["candidate_classes"]])
    e = np.isin(net.cls, cls)
    nodes = np.unique(np.concatenate([net.u[e], net.v[e]]))
    zone_geom = ctx.zone.zone_metric if not st["buffer_m"] else shapely.buffer(ctx.zone.zone_metric, st["buffer_m"])
    inside = shapely.contains_xy(zone_geom, net.x[nodes], net.y[nodes])
    nodes = nodes[inside]
    in_gap = np.zeros(len(nodes), bool)
    if ctx.zone.gap_metric is not None:
        in_gap = shapely.contains_xy(ctx.zone.gap_metric, net.x[nodes], net.y[nodes])
    excluded = int(in_gap.sum())
    nodes = nodes[~in_gap]
    s = st["spacing_m"]
    cx, cy = np.floor(net.x[nodes] / s), np.floor(net.y[nodes] / s)
    d = np.hypot(net.x[nodes] - (cx + 0.5) * s, net.y[nodes] - (cy + 0.5) * s)
    order = np.lexsort((d, cy, cx))
    key = np.column_stack([cx, cy])[order]
    first = np.ones(len(order), bool)
    first[1:] = np.any(key[1:] != key[:-1], axis=1)
    chosen = np.sort(nodes[order[first]])
    return [f"C{n}" for n in chosen], chosen, excluded


def build_candidates(ctx: Context, posts: Posts, st: dict) -> Candidates:
    sc = ctx.sc
    new_turnout = st.get("new_turnout_s", None)
    if new_turnout is None:
        new_turnout = turnout_for(sc, st["new_crew"], "study.new_crew")
    ids, names, nodes, turnout, origin = [], [], [], [], []
    lons, lats = [], []
    for i in range(len(posts)):
        ids.append(posts.ids[i]); names.append(posts.names[i]); nodes.append(posts.node[i])
        turnout.append(posts.turnout_s[i]); origin.append("post"); lons.append(posts.lon[i]); lats.append(posts.lat[i])
    for k, sd in enumerate(st["sites"]):
        fld = f"study.sites[{k}]"
        if not isinstance(sd, dict) or "id" not in sd:
            raise ScenarioError("expected a table with id, name and lat/lon or street", source=str(sc.path), field=fld)
        sid = str(sd["id"])
        if sid in ids:
            raise ScenarioError(f"duplicate site id {sid!r}", source=str(sc.path), field=f"{fld}.id")
        lo, la, node, _ = resolve_site(ctx.zone, sc, field=fld, lat=sd.get("lat"), lon=sd.get("lon"),
                                       street=sd.get("street"), municipality=sd.get("municipality"))
        t = sd.get("turnout_s")
        if t is None:
            t = turnout_for(sc, crew_type(sd.get("crew", st["new_crew"])), f"{fld}.crew") \
                if "crew" in sd else new_turnout
        ids.append(sid); names.append(str(sd.get("name", sid))); nodes.append(node); turnout.append(float(t))
        origin.append("user"); lons.append(lo); lats.append(la)
    excluded = 0
    if st["include_generated"]:
        from ..routing.network import to_wgs84
        gids, gnodes, excluded = generate_candidates(ctx, st, new_turnout)
        have = set(nodes)
        keep = [i for i, n in enumerate(gnodes) if n not in have]
        gl, gb = to_wgs84(ctx.zone.net.x[gnodes[keep]], ctx.zone.net.y[gnodes[keep]])
        for j, i in enumerate(keep):
            ids.append(gids[i]); names.append(f"candidate node {gnodes[i]}"); nodes.append(gnodes[i])
            turnout.append(float(new_turnout)); origin.append("generated"); lons.append(gl[j]); lats.append(gb[j])
    return Candidates(ids=ids, names=names, node=np.array(nodes, dtype=np.int64), lon=np.array(lons),
                      lat=np.array(lats), turnout_s=np.array(turnout, dtype=float), origin=origin,
                      excluded_in_gap=excluded)


def candidate_matrix(ctx: Context, cand: Candidates, cutoff_s: float | None, progress: Progress,
                     profile=None) -> np.ndarray:
    """Candidates × road-data demand response times (s), float32, ``inf`` beyond the cutoff."""
    profile = profile or ctx.profile
    dn = ctx.demand.node
    out = np.empty((len(cand.ids), len(dn)), dtype=np.float32)
    limit = None if cutoff_s is None else max(0.0, cutoff_s - float(cand.turnout_s.min()))
    bar = progress.bar(len(cand.ids), "travel times")
    step = 256
    for s in range(0, len(cand.ids), step):
        sl = slice(s, min(s + step, len(cand.ids)))
        d = drive_times(ctx.zone.net, profile, cand.node[sl], cutoff_s=limit)[:, dn] + cand.turnout_s[sl, None]
        out[sl] = d
        bar.update(sl.stop - sl.start)
    bar.close()
    if cutoff_s is not None:
        out[out > cutoff_s] = np.inf
    out[:, ctx.demand.no_road_data] = np.inf
    return out


class FullTimes:
    """Response times without cutoff for the few sites a study evaluates (cached per site).

    The solve matrix is cut at the covering threshold; the reported metrics (mean, p90, the
    thresholds above T, second arrivals) need every site's full times.
    """

    def __init__(self, ctx: Context, cand: "Candidates"):
        self.ctx, self.cand, self.rows = ctx, cand, {}

    def __call__(self, rows) -> np.ndarray:
        rows = [int(r) for r in np.atleast_1d(rows)]
        todo = [r for r in dict.fromkeys(rows) if r not in self.rows]
        if todo:
            d = drive_times(self.ctx.zone.net, self.ctx.profile, self.cand.node[todo])[:, self.ctx.demand.node]
            for k, r in enumerate(todo):
                self.rows[r] = d[k] + self.cand.turnout_s[r]
        out = np.vstack([self.rows[r] for r in rows]) if rows else np.zeros((0, len(self.ctx.demand)))
        out[:, self.ctx.demand.no_road_data] = np.inf
        return out


def _eval(ctx: Context, full: FullTimes, rows) -> object:
    """Coverage metrics of the sites ``rows`` (candidate indices), from full response times."""
    cell_km2 = (ctx.demand.cell_m / 1000.0) ** 2 if ctx.demand.cell_m else None
    return evaluate(full(rows), ctx.demand.weight, ctx.thresholds_s,
                    no_road_data=ctx.demand.no_road_data, municipality=ctx.demand.municipality,
                    municipality_names=ctx.demand.municipality_names, cell_area_km2=cell_km2)


def _weights(ctx):
    return np.where(ctx.demand.no_road_data, 0.0, ctx.demand.weight)


def _solve(kind, mat, w, cand, st, *, p=None, fixed=(), closed=(), radius=None):
    prob = from_cost_matrix(mat, w, site_ids=cand.ids, fixed=list(fixed), closed=list(closed))
    tl = st["time_limit_s"]
    if kind == "mclp":
        return models.mclp(prob, p, radius, time_limit=tl)
    if kind == "pmedian":
        return models.pmedian(prob, p, time_limit=tl)
    if kind == "lscp":
        return models.lscp(prob, radius, coverage=st["share"], time_limit=tl)
    raise ValueError(kind)


def _warn_status(res, what: str, progress: Progress) -> None:
    if res.status != "optimal":
        gap = f"{100 * res.gap:.2f}%" if res.gap == res.gap else "unknown"
        print(f"kazerne: warning: {what}: solve stopped by its time limit before proving optimality "
              f"(status {res.status}, gap {gap})", file=sys.stderr)


def _place(ctx, mat, cand, st, fixed_ids, n_open, progress, what):
    w = _weights(ctx)
    if st["objective"] == "pmedian":
        full = np.where(np.isfinite(mat), mat, 10 * 3600.0).astype(np.float64)  # unreachable: 10 h penalty
        res = _solve("pmedian", full, w, cand, st, p=n_open, fixed=fixed_ids)
    else:
        res = _solve("mclp", mat, w, cand, st, p=n_open, fixed=fixed_ids, radius=st["threshold"] * 60)
    _warn_status(res, what, progress)
    return res


def _relocate(ctx, mat, cand, st, posts, progress, label=""):
    """Best move of ``st["m"]`` of today's posts: one placement solve per combination of moved posts.

    Returns ``(moved post indices, SolveResult, list of solve dicts)``.
    """
    n_posts = len(posts)
    best, solves = None, []
    combos = list(itertools.combinations(range(n_posts), st["m"]))
    with progress.bar(len(combos), f"relocate{label}") as bar:
        for moved in combos:
            keep = [posts.ids[i] for i in range(n_posts) if i not in moved]
            res = _place(ctx, mat, cand, st, keep, n_posts, progress,
                         f"relocate {','.join(posts.ids[i] for i in moved)}{label}")
            solves.append({**res.to_dict(), "moved": [posts.ids[i] for i in moved]})
            score = res.objective if st["objective"] == "coverage" else -res.objective
            if best is None or score > best[0] + 1e-9:
                best = (score, moved, res)
            bar.update(1)
    return best[1], best[2], solves


def run_study(sc: Scenario, out_root: Path, progress: Progress) -> Path:
    st = _study(sc)
    ctx = load_context(sc, progress)
    posts = resolve_posts(ctx.zone, sc) if sc.posts else None
    if posts is None:
        posts = Posts([], [], [], np.zeros(0), np.zeros(0), np.zeros(0, np.int64), np.zeros(0), np.zeros(0), [])
    progress.step("candidate sites")
    cand = build_candidates(ctx, posts, st)
    progress.done("candidates")
    cutoff = None if st["objective"] == "pmedian" or st["kind"] in ("close", "compare") else \
        max(st["threshold"], max(sc.thresholds_min)) * 60.0
    progress.step(f"response times from {len(cand.ids)} sites to {len(ctx.demand)} demand points")
    mat = candidate_matrix(ctx, cand, cutoff, progress)
    progress.done("matrix")
    n_posts = len(posts)
    post_rows = np.arange(n_posts)
    full = FullTimes(ctx, cand)
    th = list(sc.thresholds_min)
    T = st["threshold"]
    tkey = f"{T:g}"
    solves, tables = [], {}
    chosen_rows = post_rows
    base = _eval(ctx, full, post_rows) if n_posts else None
    result = {}
    kind = st["kind"]
    progress.step(f"study {kind}")

    def share_at(rep, t=T):
        return float(rep.zone_weight_within[list(rep.thresholds_s).index(t * 60)] / rep.total_weight) \
            if t * 60 in list(rep.thresholds_s) else float(
                np.sum(_weights(ctx)[rep.first_s <= t * 60]) / rep.total_weight)

    if kind == "add":
        res = _place(ctx, mat, cand, st, posts.ids, n_posts + st["k"], progress, "add")
        solves.append(res.to_dict())
        new = [s for s in res.sites if s not in posts.ids]
        chosen_rows = np.array([cand.ids.index(s) for s in posts.ids + new])
        after = _eval(ctx, full, chosen_rows)
        rows = []
        for s in new:
            j = cand.ids.index(s)
            rep1 = _eval(ctx, full, np.append(post_rows, j))
            gain = float(_weights(ctx)[(rep1.first_s <= T * 60) & ~(base.first_s <= T * 60)].sum())
            per_m = {}
            for mi, mname in enumerate(ctx.demand.municipality_names):
                sel = (ctx.demand.municipality == mi) & (rep1.first_s <= T * 60) & ~(base.first_s <= T * 60)
                g = float(_weights(ctx)[sel].sum())
                if g > 0:
                    per_m[mname] = round(g, 1)
            rows.append({"site": s, "name": cand.names[j], "lon": round(cand.lon[j], 6), "lat": round(cand.lat[j], 6),
                         "turnout_s": cand.turnout_s[j], f"newly_within_{tkey}min": round(gain, 1),
                         "by_municipality": per_m})
        result = {"new_sites": rows, "before": headline(base, th), "after": headline(after, th)}
        tables["new_sites.csv"] = [{k: v for k, v in r.items() if k != "by_municipality"} for r in rows]
        tables["new_sites_by_municipality.csv"] = [
            {"site": r["site"], "municipality": mname, f"newly_within_{tkey}min": g}
            for r in rows for mname, g in sorted(r["by_municipality"].items(), key=lambda kv: -kv[1])]
    elif kind == "close":
        rows, wt = [], _weights(ctx)
        for i in range(n_posts):
            rep = _eval(ctx, full, np.delete(post_rows, i))
            r = {"post": posts.ids[i], "name": posts.names[i]}
            for t, a, b in zip(th, base.zone_weight_within, rep.zone_weight_within):
                r[f"loss_within_{t:g}min"] = round(float(a - b), 1)
            if T not in th:   # rank on the study's threshold even when it is not a report threshold
                r[f"loss_within_{tkey}min"] = round(float(wt[base.first_s <= T * 60].sum()
                                                          - wt[rep.first_s <= T * 60].sum()), 1)
            r["mean_min_after"] = _mins(rep.mean_s)
            rows.append(r)
        key = f"loss_within_{tkey}min"
        rows.sort(key=lambda r: (r[key], r["post"]))
        for k, r in enumerate(rows):
            r["rank"] = k + 1
        result = {"ranking_by": key, "least_loss": rows[0]["post"], "most_loss": rows[-1]["post"], "ranking": rows}
        tables["close_ranking.csv"] = rows
    elif kind == "relocate":
        m = st["m"]
        if m > 2 or m > n_posts:
            raise ScenarioError("relocate supports m = 1 or 2 (and at most the number of posts)",
                                source=str(sc.path), field="study.m")
        moved, res, rel_solves = _relocate(ctx, mat, cand, st, posts, progress)
        solves.extend(rel_solves)
        chosen_rows = np.array([cand.ids.index(s) for s in res.sites])
        after = _eval(ctx, full, chosen_rows)
        result = {"moved_posts": [posts.ids[i] for i in moved],
                  "new_sites": [{"site": s, "name": cand.names[cand.ids.index(s)],
                                 "lon": round(cand.lon[cand.ids.index(s)], 6),
                                 "lat": round(cand.lat[cand.ids.index(s)], 6)}
                                for s in res.sites if s not in posts.ids],
                  "before": headline(base, th), "after": headline(after, th)}
    elif kind == "greenfield":
        curve = []
        bar = progress.bar(st["p_max"] - st["p_min"] + 1, "greenfield p")
        ps = range(st["p_min"], st["p_max"] + 1)
        if st["objective"] == "pmedian":
            frontier = None
        else:   # every p in one pass: shared reduction, each optimum the start of the next
            prob = from_cost_matrix(mat, _weights(ctx), site_ids=cand.ids)
            frontier = models.mclp_frontier(prob, ps, st["threshold"] * 60, time_limit=st["time_limit_s"])
        for k, p in enumerate(ps):
            bar.set_postfix_str(f"p={p}")
            if frontier is None:
                res = _place(ctx, mat, cand, st, [], p, progress, f"greenfield p={p}")
            else:
                res = frontier[k]
                _warn_status(res, f"greenfield p={p}", progress)
            bar.update(1)
            solves.append({**res.to_dict(), "p": p})
            rows_p = np.array([cand.ids.index(s) for s in res.sites])
            rep = _eval(ctx, full, rows_p)
            curve.append({"p": p, f"share_within_{tkey}min": share_at(rep), "status": res.status,
                          "gap": res.gap, "sites": " ".join(res.sites)})
            chosen_rows = rows_p
        bar.close()
        today = {"p": n_posts, f"share_within_{tkey}min": share_at(base)} if n_posts else None
        result = {"curve": curve, "today": today, "threshold_min": T}
        tables["frontier.csv"] = curve + ([{**today, "status": "today", "sites": " ".join(posts.ids)}] if today else [])
        _plot_frontier(curve, today, tkey, result)
    elif kind == "minimum":
        res = _solve("lscp", mat, _weights(ctx), cand, st, radius=T * 60)
        _warn_status(res, "minimum", progress)
        solves.append(res.to_dict())
        chosen_rows = np.array([cand.ids.index(s) for s in res.sites])
        rep = _eval(ctx, full, chosen_rows)
        result = {"posts_needed": len(res.sites), "share_required": st["share"], "threshold_min": T,
                  "sites": res.sites, "after": headline(rep, th)}
    elif kind == "compare":
        rows = [_compare_row(ctx, base, base, "today", "(today's posts)", th, T)]
        for k, j in enumerate(range(n_posts, n_posts + len(st["sites"]))):
            rep = _eval(ctx, full, np.append(post_rows, j))
            rows.append(_compare_row(ctx, base, rep, cand.ids[j], cand.names[j], th, T))
        key = f"share_within_{tkey}min"
        rows[1:] = sorted(rows[1:], key=lambda r: -r[key])
        result = {"sorted_by": key, "rows": rows}
        tables["comparison.csv"] = [{k: v for k, v in r.items() if k != "gain_by_municipality"} for r in rows]
        tables["comparison_by_municipality.csv"] = [
            {"site": r["site"], "municipality": mname, f"share_gain_within_{tkey}min": g}
            for r in rows[1:] for mname, g in sorted(r["gain_by_municipality"].items(), key=lambda kv: -kv[1])]
    progress.done("study")

    if st["sensitivity"] and kind in ("add", "relocate", "greenfield", "minimum"):
        progress.step("sensitivity (speed ±15 %, turnout ±60 s, threshold ±1 min)")
        result["sensitivity"] = _sensitivity(ctx, posts, cand, st, progress, kind,
                                             [cand.ids[r] for r in chosen_rows])
        progress.done("sensitivity")

    chosen = {"ids": [cand.ids[r] for r in chosen_rows]}
    summary = {
        "kazerne_version": __version__,
        "scenario": {"name": sc.name, "file": str(sc.path), "description": sc.description},
        "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "study": {k: v for k, v in st.items() if k != "sites"},
        "assumptions": assumptions(ctx, posts if n_posts else None),
        "candidates": {"total": len(cand.ids), "today_posts": n_posts,
                       "user": cand.origin.count("user"), "generated": cand.origin.count("generated"),
                       "generated_excluded_in_gap": cand.excluded_in_gap,
                       "classes": st["candidate_classes"], "spacing_m": st["spacing_m"]},
        "solves": solves,
        "result": result,
        "chosen_sites": chosen["ids"],
        "timings_s": progress.timings,
    }
    progress.step("writing outputs")
    target = out_root / sc.name
    frontier_png = result.pop("_png", None)
    with atomic_dir(target) as tmp:
        write_json(tmp / "summary.json", _json_safe(summary))
        for name, rows in tables.items():
            if rows:
                cols = list(dict.fromkeys(k for r in rows for k in r))
                write_csv(tmp / name, rows, columns=cols)
        if len(chosen_rows):
            rep = _eval(ctx, full, chosen_rows)
            write_csv(tmp / "municipalities.csv", municipality_rows(rep, th))
            from shapely.geometry import Point
            write_geojson(tmp / "chosen_sites.geojson",
                          [{"id": cand.ids[r], "name": cand.names[r], "origin": cand.origin[r],
                            "turnout_s": cand.turnout_s[r], "geometry": Point(cand.lon[r], cand.lat[r])}
                           for r in chosen_rows], metadata={"assumptions": _json_safe(summary["assumptions"])})
            if sc.outputs.get("first_due_areas", True):
                sel = Posts(ids=[cand.ids[r] for r in chosen_rows], names=[cand.names[r] for r in chosen_rows],
                            crew=[""] * len(chosen_rows), lon=cand.lon[chosen_rows], lat=cand.lat[chosen_rows],
                            node=cand.node[chosen_rows], turnout_s=cand.turnout_s[chosen_rows],
                            snap_m=np.zeros(len(chosen_rows)), grade=[""] * len(chosen_rows))
                node_t = drive_times(ctx.zone.net, ctx.profile, sel.node) + sel.turnout_s[:, None]
                write_first_due(tmp / "first_due.geojson", ctx, sel, node_t, summary["assumptions"])
        if frontier_png:
            (tmp / "frontier.png").write_bytes(frontier_png)
    progress.done("write")
    if not progress.quiet:
        _print_study(summary)
    return target


def _compare_row(ctx, base, rep, sid, name, th, t_study):
    w = _weights(ctx)
    r = {"site": sid, "name": name}
    for t, s in zip(th, rep.zone_share):
        r[f"share_within_{t:g}min"] = float(s)
    if t_study not in th:   # the study's threshold, sorted on, even when it is not a report threshold
        r[f"share_within_{t_study:g}min"] = float(w[rep.first_s <= t_study * 60].sum() / rep.total_weight)
    r["mean_min"] = _mins(rep.mean_s)
    r["p90_min"] = _mins(rep.p90_s)
    r[f"second_unit_within_{th[-1]:g}min"] = round(float(w[rep.second_s <= th[-1] * 60].sum()), 1)
    gains = {}              # share within the study's threshold T (which need not be in thresholds)
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


def _sensitivity(ctx, posts, cand, st, progress, kind, base_sites):
    """Re-solve under perturbed speed, turnout and threshold; report whether the recommended sites
    (``base_sites``: the study's answer) change."""
    variants = [("speed -15%", {"speed_scale": ctx.profile.speed_scale * 0.85}, 0, 0),
                ("speed +15%", {"speed_scale": ctx.profile.speed_scale * 1.15}, 0, 0),
                ("turnout -60 s", {}, -60, 0), ("turnout +60 s", {}, 60, 0),
                ("threshold -1 min", {}, 0, -1), ("threshold +1 min", {}, 0, 1)]
    if st["threshold"] <= 1.0:          # T - 1 min would be no threshold at all
        variants = [v for v in variants if v[0] != "threshold -1 min"]
    out = []
    n_posts = len(posts)
    bar = progress.bar(len(variants), "sensitivity")
    for label, prof_kw, dturn, dth in variants:
        prof = ctx.profile.with_overrides(**prof_kw) if prof_kw else ctx.profile
        c2 = Candidates(cand.ids, cand.names, cand.node, cand.lon, cand.lat,
                        np.maximum(0.0, cand.turnout_s + dturn), cand.origin)
        st2 = dict(st, threshold=st["threshold"] + dth)
        cutoff = None if st["objective"] == "pmedian" else (st2["threshold"]) * 60.0
        mat = candidate_matrix(ctx, c2, cutoff, Progress(True), profile=prof)
        if kind == "add":
            res = _place(ctx, mat, c2, st2, posts.ids, n_posts + st["k"], progress, f"sensitivity {label}")
        elif kind == "greenfield":
            res = _place(ctx, mat, c2, st2, [], st["p_max"], progress, f"sensitivity {label}")
        elif kind == "minimum":
            res = _solve("lscp", mat, _weights(ctx), c2, st2, radius=st2["threshold"] * 60)
        else:   # relocate: the same search over which posts move, under the variant
            _, res, _ = _relocate(ctx, mat, c2, st2, posts, Progress(True), f" ({label})")
        out.append({"variant": label, "sites": res.sites, "status": res.status,
                    "same_sites": sorted(res.sites) == sorted(base_sites)})
        bar.update(1)
    bar.close()
    return {"base_sites": base_sites, "variants": out,
            "recommendation_changes": any(not v["same_sites"] for v in out)}


def _plot_frontier(curve, today, tkey, result):
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([c["p"] for c in curve], [100 * c[f"share_within_{tkey}min"] for c in curve], "o-", label="best p posts")
    if today:
        ax.plot([today["p"]], [100 * today[f"share_within_{tkey}min"]], "r*", ms=14, label="today")
    ax.set_xlabel("number of posts")
    ax.set_ylabel(f"population within {tkey} min (%)")
    ax.grid(alpha=0.3)
    ax.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    result["_png"] = buf.getvalue()


def _print_study(summary):
    st = summary["study"]
    res = summary["result"]
    print(f"\n{summary['scenario']['name']}: study {st['kind']} at {st['threshold']:g} min, "
          f"{summary['candidates']['total']} candidate sites")
    for s in summary["solves"][:3]:
        obj = "none" if s["objective"] is None else f"{s['objective']:,.1f}"
        gap = "n/a" if s["gap"] is None else f"{100 * s['gap']:.3g}%"
        print(f"  solve {s['model']}: {s['status']}, objective {obj}, gap {gap}, {s['seconds']:.2f} s ({s['solver']})")
    kind = st["kind"]
    if kind == "add":
        for r in res["new_sites"]:
            print(f"  new site {r['site']} ({r['lat']}, {r['lon']}): +{list(r.values())[5]:,.0f} people within "
                  f"{st['threshold']:g} min")
        tk = f"{st['threshold']:g}"
        if tk in res["after"]["share_within"]:
            print(f"  zone share within {tk} min: {100 * res['before']['share_within'][tk]:.1f}% -> "
                  f"{100 * res['after']['share_within'][tk]:.1f}%")
    elif kind == "close":
        rows = [[r["rank"], r["post"], r["name"]] + [v for k, v in r.items() if k.startswith("loss_")]
                for r in res["ranking"]]
        hdr = ["rank", "post", "name"] + [k for k in res["ranking"][0] if k.startswith("loss_")]
        print(text_table(rows, hdr))
    elif kind == "greenfield":
        for c in res["curve"]:
            print(f"  p={c['p']:3d}: {100 * list(c.values())[1]:.1f}%  ({c['status']})")
        if res["today"]:
            print(f"  today p={res['today']['p']}: {100 * list(res['today'].values())[1]:.1f}%")
    elif kind == "minimum":
        print(f"  posts needed: {res['posts_needed']}")
    elif kind == "relocate":
        print(f"  move {', '.join(res['moved_posts'])} to {', '.join(s['site'] for s in res['new_sites'])}")
    elif kind == "compare":
        print(text_table([[r["site"], r["name"][:30]] + [f"{100 * v:.1f}%" for k, v in r.items()
                                                        if k.startswith("share_")] + [r["mean_min"], r["p90_min"]]
                          for r in res["rows"]],
                         ["site", "name"] + [k for k in res["rows"][0] if k.startswith("share_")] + ["mean", "p90"]))
    if "sensitivity" in res:
        print(f"  sensitivity: recommendation {'CHANGES' if res['sensitivity']['recommendation_changes'] else 'is stable'}"
              f" under speed ±15 %, turnout ±60 s, threshold ±1 min")
    print()
