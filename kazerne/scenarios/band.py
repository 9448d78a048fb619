"""Does a study's recommendation hold across the interval? The speed band of a placement study.

Every add / relocate / greenfield / minimum study re-solves its placement with the driving times at
the two ends of the speed range the headline intervals use
(:func:`kazerne.calibration.uncertainty.parameter_ranges`: the calibration's, or the documented
default x0.85-1.15) and says plainly whether the same sites are chosen:

* "the recommendation holds across the band: the same site (P05) is chosen at speed -15 % and +15 %"
* "the recommendation does not hold across the band: at speed -15 % the choice is P05, N12"

Speed is the parameter that moves the answer most (issue 24: 55-83 % within 12 min over 0.65-1.0 x the
posted limits); a change of call handling moves every candidate alike, and the full sensitivity
(``sensitivity = true``: turnout +-60 s, threshold +-1 min as well) stays on request. ``sensitivity =
false`` turns the band off (for speed: it costs two re-solves).

This module holds the band's variants and its verdict; the re-solves are the study's own
(:mod:`kazerne.scenarios.studies`, which calls :func:`band_variants` and :func:`study_band`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..calibration.uncertainty import parameter_ranges

__all__ = [
    "BAND_KINDS",
    "BandVariant",
    "StudyBand",
    "band_lines",
    "band_variants",
    "run_band",
    "study_band",
    "study_interval",
]

#: the study kinds that report a band (the others place no sites)
BAND_KINDS = ("add", "relocate", "greenfield", "minimum")


def _speed_label(k: float) -> str:
    return f"speed {100 * (k - 1):+.0f}%" if abs(k - 1) >= 0.005 else f"speed x{k:.3f}"


@dataclass(frozen=True)
class BandVariant:
    """One end of the band: the speed factor, the sites the study chooses there (None: not run)."""

    label: str
    speed_factor: float
    sites: tuple | None
    status: str
    same_sites: bool | None


@dataclass(frozen=True)
class StudyBand:
    """The band of a study: its recommendation, each end's choice, and the verdict."""

    base_sites: tuple
    ranges_source: str
    variants: tuple
    complete: bool
    holds: bool | None  # None: no end could be run (time limit)
    verdict: str

    def summary(self) -> dict:
        """The JSON block ``result.band`` of summary.json."""
        return {
            "base_sites": list(self.base_sites),
            "ranges_source": self.ranges_source,
            "variants": [
                {
                    "variant": v.label,
                    "speed_factor": round(v.speed_factor, 4),
                    "sites": None if v.sites is None else list(v.sites),
                    "status": v.status,
                    "same_sites": v.same_sites,
                }
                for v in self.variants
            ],
            "complete": self.complete,
            "holds": self.holds,
            "verdict": self.verdict,
        }


def band_variants(profile, call_handling_s: float) -> list:
    """The band's re-solves as the study's sensitivity takes them: ``(label, profile overrides,
    turnout shift s, threshold shift min)`` at the low and the high end of the speed range."""
    r = parameter_ranges(profile, call_handling_s)
    lo, hi = (float(x) for x in r["speed_factor"])
    return [(_speed_label(k), {"speed_scale": profile.speed_scale * k}, 0, 0) for k in (lo, hi)]


def _sites(sites) -> str:
    sites = list(sites)
    return ", ".join(str(s) for s in sites) if sites else "no site"


def study_band(
    sensitivity: dict, variants: list, base_sites, source: str = "default", fixed=(), factors=None
) -> StudyBand:
    """The band and its verdict from the re-solves at ``variants`` (:func:`band_variants`), as the
    study's sensitivity returns them (``{"variants": [{"variant", "sites", "status", "same_sites"}]}``);
    ``fixed``: sites open in every solution by construction (an add study's posts), left out of the words;
    ``factors``: each variant's speed factor relative to the study's profile (default: its speed scale)."""
    by_label = {v["variant"]: v for v in sensitivity.get("variants", [])}
    ends = []
    for i, (label, kw, _, _) in enumerate(variants):
        got = by_label.get(label) or {"sites": None, "status": "not run", "same_sites": None}
        k = kw["speed_scale"] if factors is None else factors[i]
        ends.append(
            BandVariant(
                label=label,
                speed_factor=float(k),
                sites=None if got["sites"] is None else tuple(got["sites"]),
                status=str(got["status"]),
                same_sites=got["same_sites"],
            )
        )
    run = [e for e in ends if e.same_sites is not None]
    base = tuple(base_sites)
    keep = set(fixed)
    shown = [x for x in base if x not in keep] or list(base)
    what = "site" if len(shown) == 1 else "sites"
    ends_words = " and ".join(e.label.replace("speed ", "") for e in ends)
    if not run:
        holds, verdict = None, "the band was not computed (the study time limit ran out before its re-solves)"
    elif all(e.same_sites for e in run):
        holds = True
        verdict = (
            f"the recommendation holds across the band: the same {what} ({_sites(shown)}) "
            f"{'is' if len(shown) == 1 else 'are'} chosen at speed {ends_words}"
        )
        if len(run) < len(ends):
            verdict += f" (only {', '.join(e.label for e in run)} run before the study time limit)"
    else:
        holds = False
        diff = "; ".join(
            f"at {e.label} the choice is {_sites(x for x in e.sites if x not in base)} instead of "
            f"{_sites(x for x in base if x not in e.sites)}"
            for e in run
            if not e.same_sites and e.sites is not None  # a variant that ran has its sites
        )
        same = [e.label for e in run if e.same_sites]
        verdict = f"the recommendation does NOT hold across the band: {diff}" + (
            f" (at {' and '.join(same)} it holds)" if same else ""
        )
    loose = [e for e in run if e.status != "optimal"]
    if loose:  # a re-solve stopped by the time limit: its choice is the best found, not proven best
        verdict += "; not proven: " + ", ".join(f"the re-solve at {e.label} stopped {e.status}" for e in loose)
    return StudyBand(
        base_sites=base,
        ranges_source=source,
        variants=tuple(ends),
        complete=len(run) == len(ends),
        holds=holds,
        verdict=verdict,
    )


def run_band(resolve, profile, call_handling_s: float, base_sites, fixed=()) -> tuple:
    """``(the re-solves' result, StudyBand)``: ``resolve(variants)`` is the study's sensitivity
    re-solve at the given variants (:func:`band_variants` of ``profile``)."""
    variants = band_variants(profile, call_handling_s)
    sens = resolve(variants)
    r = parameter_ranges(profile, call_handling_s)
    return sens, study_band(sens, variants, base_sites, r["source"], fixed, factors=list(r["speed_factor"]))


def study_interval(ctx, cand, rows, call_handling_s: float, profile) -> dict:
    """The interval of a study's recommended network (``rows`` of ``cand``): the baseline's
    (:func:`kazerne.calibration.uncertainty.headline_interval`) on the chosen sites' times."""
    from ..calibration.uncertainty import headline_interval
    from ..routing.travel import travel_times

    sel = cand.subset(list(rows))
    tt = travel_times(ctx.zone, sel, ctx.demand, profile, call_handling_s=call_handling_s)
    return headline_interval(tt, ctx.demand, ctx.sc.thresholds_min, call_handling_s, sel.crew, profile)


def band_lines(band: dict, interval: dict | None = None) -> list:
    """The console's lines of a band (``result.band`` of summary.json) and of the recommended
    network's interval (``uncertainty``), with its assumption."""
    out = []
    if interval:
        from ..report.intervals import mean_text, share_text

        th = sorted(float(t) for t in interval["share_within"])
        out.append(
            "  interval of the recommended network: "
            + ", ".join(share_text(interval, t) for t in th)
            + f"; {mean_text(interval)}"
        )
        out.append(f"    ({interval.get('assumption', '')})")
    src = "the calibration's range" if band.get("ranges_source") == "calibration" else "the default range x0.85-1.15"
    out.append(f"  band (speed at the ends of {src}): {band['verdict']}")
    return out
