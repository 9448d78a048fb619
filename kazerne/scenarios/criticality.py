"""``[criticality]``: the street segments the zone cannot lose (a run kind, :mod:`kazerne.scenarios.kinds`).

Glue only: the computation is :func:`kazerne.coverage.criticality.criticality`. The scenario's posts
(``[posts]``), demand, call handling and road changes (``[[network.changes]]``) are used as in a
baseline; each profile listed ranks the stretches by the people reached within ``threshold_min`` from
the call today and not with the stretch closed.

Outputs: ``criticality.csv`` (top stretches per profile), ``criticality_pairs.csv``, ``criticality_map.png``
/ ``.pdf`` and ``layers.gpkg`` (``critical_segments``: the stretches as lines with their rank).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..routing.profiles import PROFILES
from .kinds import RunResult

__all__ = ["CRITICALITY", "CriticalitySpec", "criticality_spec"]

KEYS = {"threshold_min", "profiles", "top", "pairs_top"}


@dataclass(frozen=True)
class CriticalitySpec:
    threshold_min: float = 12.0
    profiles: tuple = ("fire_engine", "ambulance")
    top: int = 20
    pairs_top: int = 6


def criticality_spec(v, section: dict, fld: str = "criticality") -> CriticalitySpec:
    """Validate a ``[criticality]`` table (also the CLI's options, given as the same table)."""
    v.table(section, fld, KEYS)
    d = CriticalitySpec()
    prof = section.get("profiles", list(d.profiles))
    if not isinstance(prof, list) or not prof:
        v.fail(f"{fld}.profiles", f"expected a list such as ['fire_engine', 'ambulance'], got {prof!r}"[:200])
    profs = tuple(v.choice(p, f"{fld}.profiles", tuple(PROFILES)) for p in prof)
    if len(set(profs)) != len(profs):
        v.fail(f"{fld}.profiles", "a profile listed twice")
    return CriticalitySpec(
        threshold_min=v.number(section.get("threshold_min", d.threshold_min), f"{fld}.threshold_min", lo=1, hi=120),
        profiles=profs,
        top=v.integer(section.get("top", d.top), f"{fld}.top", 1, 1000),
        pairs_top=v.integer(section.get("pairs_top", d.pairs_top), f"{fld}.pairs_top", 0, 30),
    )


def _clean(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("edges", "node_pairs", "node_a", "node_b")}


class CriticalityKind:
    name = "criticality"
    title = "rank the street segments by the coverage lost if each were closed (fire engine, ambulance)"

    def parse(self, v, section, sc):
        if not sc.posts:
            v.fail("posts.active", "[criticality] needs the posts whose routes it ranks: give [posts] active")
        return criticality_spec(v, section)

    def solve(self, sc, spec: CriticalitySpec, progress) -> RunResult:
        from ..coverage.criticality import criticality
        from ..routing.profiles import get_profile
        from .context import assumptions, load_context
        from .resolve import in_file, profile_of, resolve_posts

        ctx = load_context(sc, progress)
        progress.step("placing posts on the network")
        posts = resolve_posts(ctx.zone, sc)
        progress.done("posts")
        base = profile_of(sc)
        results = []
        for name in spec.profiles:
            progress.step(f"criticality: {name}, within {spec.threshold_min:g} min from the call")
            kw = sc.profile.overrides() if name == base.name else {}
            with in_file(sc.path):
                prof = get_profile(name, **kw)
            results.append(
                criticality(
                    ctx.zone,
                    posts,
                    ctx.demand,
                    prof,
                    spec.threshold_min,
                    sc.call_handling_s,
                    top=spec.top,
                    pairs_top=spec.pairs_top,
                )
            )
            progress.done(f"criticality_{name}")
        summary = {
            "scenario": {"name": sc.name, "file": str(sc.path), "description": sc.description},
            "assumptions": {
                **assumptions(ctx, posts),
                "criticality": "a stretch is one or more consecutive street segments (node pairs; closing one closes "
                "every edge between its nodes, both ways) whose closure loses the same people; 'people lost' = "
                "reached within the threshold from the call today and by no post with the stretch closed; the "
                "ambulance ranking uses the same posts with ambulance speeds",
            },
            "threshold_min": spec.threshold_min,
            "profiles": [
                {
                    "profile": r.profile,
                    "people_within_today": round(r.covered_people, 1),
                    "segments_on_best_routes": r.on_best_routes,
                    "segments_searched_again": r.examined,
                    "seconds": round(r.seconds, 2),
                    "top": [_clean(x) for x in r.segments],
                    "pairs": r.pairs,
                }
                for r in results
            ],
        }
        tables = {
            "criticality.csv": [{"profile": r.profile, **_clean(x)} for r in results for x in r.segments],
            "criticality_pairs.csv": [{"profile": r.profile, **p} for r in results for p in r.pairs],
        }
        return RunResult(
            kind=self.name,
            summary=summary,
            tables=tables,
            layers=(lambda tmp: _write_layers(tmp, ctx, posts, results, sc),),
            value=results,
        )

    def console(self, summary: dict) -> list:
        out = [
            f"{summary['scenario']['name']}: street stretches the zone cannot lose (within "
            f"{summary['threshold_min']:g} min from the call)"
        ]
        for p in summary["profiles"]:
            out.append(
                f"{p['profile']}: {p['people_within_today']:,.0f} people within today; {p['segments_on_best_routes']:,} "
                f"segments on best routes, {p['segments_searched_again']:,} searched again in {p['seconds']:.1f} s"
            )
            for r in p["top"][:10]:
                out.append(
                    f"  {r['rank']:>3}  {r['people_lost']:>9,.0f} people  {r['street']} ({r['municipality']}, {r['kind']}, "
                    f"{r['length_m']:,.0f} m)  -> {r['municipalities_affected']}"
                )
            for q in p["pairs"][:3]:
                out.append(
                    f"  pair #{q['first_rank']} {q['first']} + #{q['second_rank']} {q['second']}: "
                    f"{q['people_lost_together']:,.0f} together ({q['extra_together']:+,.0f} lost only when both are closed)"
                )
        return out


def _write_layers(tmp, ctx, posts, results, sc) -> None:
    import shapely

    from ..report.council import assumption_lines, basemap, crew_kind, post_label
    from ..report.gpkg import write_gpkg
    from ..report.maps import Site, council_map, save_map

    net = ctx.zone.net
    rows, geoms = [], []
    for r in results:
        for x in r.segments:
            parts = [net.edge_geometry(int(e)) for e in _pair_edges(net, x["node_pairs"])]
            geoms.append(shapely.MultiLineString([p for p in parts if len(p) >= 2]))
            rows.append(
                {
                    "profile": r.profile,
                    **{k: v for k, v in _clean(x).items() if k != "municipalities_affected"},
                    "municipalities_affected": x["municipalities_affected"],
                }
            )
    if sc.outputs.gpkg and rows:
        write_gpkg(
            tmp / "layers.gpkg",
            {"critical_segments": (rows, np.array(geoms, dtype=object), "MultiLineString")},
            epsg=int(sc.outputs.gpkg_epsg),
        )
    if not sc.outputs.map:
        return
    bm = basemap(ctx.zone)
    r = results[0]
    fig, _ = council_map(
        bm,
        title=f"{bm.zone_title}: the streets the zone cannot lose ({r.profile})",
        subtitle=f"People reached within {r.threshold_min:g} min from the call today and no longer if the "
        "numbered stretch were closed",
        sites=[
            Site(float(net.x[k]), float(net.y[k]), post_label(pid, nm), crew_kind(crew))
            for pid, nm, crew, k in zip(posts.ids, posts.names, posts.crew, posts.node.tolist())
        ],
        assumptions=assumption_lines(_assume(ctx, posts)),
    )
    ax = fig.axes[0]
    for x, g in zip(r.segments, geoms[: len(r.segments)]):
        for line in g.geoms:
            xy = np.asarray(line.coords)
            ax.plot(xy[:, 0], xy[:, 1], color="#c00000", lw=3.5, zorder=8, solid_capstyle="round")
        c = g.centroid
        ax.annotate(
            str(x["rank"]),
            (c.x, c.y),
            fontsize=7,
            fontweight="bold",
            color="white",
            zorder=9,
            ha="center",
            va="center",
            bbox={"boxstyle": "circle,pad=0.2", "fc": "#c00000", "ec": "none"},
        )
    save_map(fig, tmp, "criticality_map")


def _assume(ctx, posts) -> dict:
    from .context import assumptions

    return assumptions(ctx, posts)


def _pair_edges(net, pairs) -> list:
    out = []
    for a, b in pairs:
        out += np.flatnonzero(((net.u == a) & (net.v == b)) | ((net.u == b) & (net.v == a))).tolist()
    return out


CRITICALITY = CriticalityKind()
