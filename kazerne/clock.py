"""The clock of every response time: what a time counts from, resolved once per run.

::

    response time from the 112 call = call handling + turnout + driving

A :class:`Clock` is a frozen time base: the call handling (112 call -> alarm at the post, seconds)
that is added into the times, the turnout per crew type and per post (:class:`TurnoutDist`: fixed,
or a distribution, with ONE default table, :data:`DEFAULT_TURNOUT_DIST`), the turnout model and the
time slice. It is resolved once from a scenario (:meth:`Clock.from_scenario`), from a command's
arguments (:meth:`Clock.from_args`) or from a finished run's ``assumptions``
(:meth:`Clock.from_assumptions`), and every layer receives it instead of the scenario:

* :func:`kazerne.travel_times` adds its call handling, and the :class:`~kazerne.TravelTimes` it
  returns carry it (``tt.clock``: what is already inside the seconds);
* :func:`kazerne.evaluate_travel_times`, :func:`kazerne.evaluate_response` (and the probability
  functions), the scenario runs and their reports check the clock of the times they are given and
  refuse a mismatch with one line (call handling counted twice, or times from the alarm where times
  from the call are expected): :meth:`Clock.require`;
* :meth:`Clock.describe` / :meth:`Clock.label` word the definition, the one place every output
  (``summary.json`` assumptions, report, maps, console, compare) takes it from.

The figures (call handling 90 s, turnouts) are estimates: the derivation is in :mod:`kazerne.response`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from .checks import check_array, show
from .errors import ModelInputError

__all__ = [
    "DEFAULT_CALL_HANDLING_S",
    "DEFAULT_TURNOUT_DIST",
    "DEFAULT_TURNOUT_S",
    "TurnoutDist",
    "Clock",
    "time_definition",
]

#: Standard normal 90th percentile.
Z90 = float(ndtri(0.9))
#: 112 call -> alarm at the post, seconds (derivation: the :mod:`kazerne.response` docstring).
DEFAULT_CALL_HANDLING_S = 90.0


@dataclass(frozen=True)
class TurnoutDist:
    """Turnout time (alarm -> wheels rolling) of one post, seconds.

    ``p90_s == median_s`` (the default when ``p90_s`` is None) is a fixed turnout. Otherwise
    ``min_s + LogNormal(mu, sigma)`` with ``mu = ln(median - min)`` and
    ``sigma = ln((p90 - min) / (median - min)) / z_0.9``: a log-normal shifted by ``min_s`` whose
    median and 90th percentile are the given ones.

    Raises
    ------
    ModelInputError
        Unless ``0 <= min_s < median_s <= p90_s`` (or ``min_s <= median_s == p90_s``), all finite.
    """

    median_s: float
    p90_s: float | None = None
    min_s: float = 0.0

    def __post_init__(self):
        med = seconds_value(self.median_s, "median_s")
        p90 = med if self.p90_s is None else seconds_value(self.p90_s, "p90_s")
        lo = seconds_value(self.min_s, "min_s")
        if p90 < med:
            raise ModelInputError(
                f"the 90th percentile ({p90:g} s) is below the median ({med:g} s); expected p90_s >= median_s",
                field="p90_s",
            )
        if lo > med or (lo == med and p90 > med):
            raise ModelInputError(
                f"min_s ({lo:g} s) must be below the median ({med:g} s) of a turnout with spread", field="min_s"
            )
        object.__setattr__(self, "median_s", med)
        object.__setattr__(self, "p90_s", p90)
        object.__setattr__(self, "min_s", lo)

    @property
    def fixed(self) -> bool:
        """True for a turnout without spread (a point mass at the median)."""
        return self.p90_s == self.median_s

    @property
    def p90(self) -> float:
        """The 90th percentile, seconds (``p90_s`` after construction: never None)."""
        return self.median_s if self.p90_s is None else float(self.p90_s)

    @property
    def sigma(self) -> float:
        """The log-normal's sigma (0 for a fixed turnout)."""
        if self.fixed:
            return 0.0
        return math.log((self.p90 - self.min_s) / (self.median_s - self.min_s)) / Z90

    @property
    def lower_s(self) -> float:
        """The earliest possible turnout: ``median_s`` when fixed, else ``min_s``."""
        return self.median_s if self.fixed else self.min_s

    def cdf(self, t):
        """P(turnout <= t), ``t`` in seconds (array-like)."""
        t = check_array(t, "t")
        return dev_cdf(t - self.median_s, self.median_s, self.lower_s, self.sigma)

    def quantile(self, q):
        """The turnout not exceeded with probability ``q`` (0 < q < 1), seconds."""
        q = check_array(q, "q", allow_inf=False)
        if q.size and not ((q > 0) & (q < 1)).all():
            raise ModelInputError(
                f"expected probabilities between 0 and 1 (exclusive), got {show(q.tolist())}", field="q"
            )
        if self.fixed:
            return np.full(q.shape, self.median_s) if q.shape else self.median_s
        return self.min_s + (self.median_s - self.min_s) * np.exp(self.sigma * ndtri(q))

    def mean(self) -> float:
        """Expected turnout, seconds."""
        return self.min_s + (self.median_s - self.min_s) * math.exp(self.sigma**2 / 2)

    def moved_to(self, median_s: float) -> "TurnoutDist":
        """The same shape moved so that its median is ``median_s`` (min and p90 shift with it; a
        minimum below 0 is clipped to 0)."""
        median_s = seconds_value(median_s, "median_s")
        d = median_s - self.median_s
        if self.fixed:
            return TurnoutDist(float(median_s))
        return TurnoutDist(float(median_s), self.p90 + d, max(0.0, min(self.min_s + d, float(median_s) - 1e-9)))

    def deterministic(self) -> "TurnoutDist":
        """The fixed turnout at this one's median."""
        return TurnoutDist(self.median_s)

    def describe(self) -> dict:
        if self.fixed:
            return {"kind": "fixed", "median_s": self.median_s, "p90_s": self.p90_s, "mean_s": self.median_s}
        return {
            "kind": "shifted lognormal" if self.min_s > 0 else "lognormal",
            "median_s": self.median_s,
            "p90_s": self.p90_s,
            "min_s": self.min_s,
            "sigma": round(self.sigma, 4),
            "mean_s": round(self.mean(), 1),
        }

    def label(self) -> str:
        """Short text: ``90 s`` or ``median 300 s, p90 480 s, >= 120 s``."""
        if self.fixed:
            return f"{self.median_s:g} s"
        return f"median {self.median_s:g} s, p90 {self.p90_s:g} s" + (
            f", at least {self.min_s:g} s" if self.min_s > 0 else ""
        )


def seconds_value(v, fld) -> float:
    """A finite number of seconds >= 0, as a float (one-line ModelInputError naming ``fld`` otherwise)."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
        raise ModelInputError(f"expected a finite number of seconds, got {v!r}", field=fld)
    if v < 0:
        raise ModelInputError(f"expected seconds >= 0, got {v!r}", field=fld)
    return float(v)


#: THE default turnout table, per crew type (see the module docstring for the reasoning): the
#: distributions; their medians are the fixed turnouts (``kazerne.sites.DEFAULT_TURNOUT_S``,
#: a scenario's ``[turnout]`` defaults, ``kazerne isochrones``).
DEFAULT_TURNOUT_DIST = {
    "professional": TurnoutDist(90.0, 120.0, 45.0),
    "volunteer": TurnoutDist(300.0, 480.0, 120.0),
    "mixed": TurnoutDist(300.0, 480.0, 120.0),
}
#: The medians of :data:`DEFAULT_TURNOUT_DIST`: the fixed turnout (s) of each crew type.
DEFAULT_TURNOUT_S = {k: d.median_s for k, d in DEFAULT_TURNOUT_DIST.items()}
#: A crew type missing from the table turns out like a volunteer crew (the slower, safe side).
FALLBACK_CREW = "volunteer"


def dev_cdf(x, med, lo, sig):
    """P(X - med <= x) for turnouts X with the given median, lower bound and sigma (broadcast);
    ``sig == 0`` is the point mass at ``med``: exactly ``x >= 0``."""
    x, med, lo, sig = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (x, med, lo, sig)))
    out = (x >= 0).astype(float)
    cont = sig > 0
    if cont.any():
        y = med[cont] + x[cont] - lo[cont]
        pos = y > 0
        z = np.full(y.shape, -np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            z[pos] = (np.log(y[pos]) - np.log(med[cont][pos] - lo[cont][pos])) / sig[cont][pos]
        out[cont] = ndtr(z)
    return out


TURNOUT_MODELS = ("deterministic", "distribution")


def call_handling_value(v, fld: str = "call_handling_s") -> float:
    """Call handling seconds: a finite number >= 0 (one-line ModelInputError naming ``fld`` otherwise)."""
    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    if not ok or not np.isfinite(v) or v < 0:
        raise ModelInputError(f"expected call handling seconds >= 0, got {show(v)}", field=fld)
    return float(v)


def _table(v, fld: str) -> tuple:
    """A ``{key: TurnoutDist or seconds}`` mapping (or its pairs) as sorted ``((key, TurnoutDist), ...)``."""
    if isinstance(v, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in v):
        items = list(v)
    elif isinstance(v, dict):
        items = list(v.items())
    else:
        raise ModelInputError(f"expected a table key -> TurnoutDist or seconds, got {show(v)}", field=fld)
    out = []
    for k, d in items:
        if not isinstance(d, TurnoutDist):
            d = TurnoutDist(seconds_value(d, f"{fld}.{k}"))
        out.append((str(k), d))
    return tuple(sorted(out))


@dataclass(frozen=True)
class Clock:
    """The time base of a run: what every time and threshold counts from.

    Attributes
    ----------
    call_handling_s : float
        112 call -> alarm at the post, seconds, added into the times (0: the times count from the
        alarm at the post, the definition before kazerne 0.3).
    turnout_by_crew : tuple of (crew type, TurnoutDist)
        Turnout per crew type (a dict is accepted and stored sorted); default :data:`DEFAULT_TURNOUT_DIST`.
    turnout_by_post : tuple of (post id, TurnoutDist)
        Per-post turnouts that replace their crew's.
    turnout_model : str
        ``deterministic`` (each turnout fixed at its median) or ``distribution``.
    slice : str
        The time slice the clock is for (``week``: the whole week; ``mix``: hour-weighted slices).

    Raises
    ------
    ModelInputError
        Call handling not a finite number >= 0, an unknown turnout model, a turnout not in seconds.
    """

    call_handling_s: float = DEFAULT_CALL_HANDLING_S
    turnout_by_crew: tuple | dict = tuple(sorted(DEFAULT_TURNOUT_DIST.items()))
    turnout_by_post: tuple | dict = ()
    turnout_model: str = "deterministic"
    slice: str = "week"

    def __post_init__(self):
        object.__setattr__(self, "call_handling_s", call_handling_value(self.call_handling_s))
        object.__setattr__(self, "turnout_by_crew", _table(self.turnout_by_crew, "turnout_by_crew"))
        object.__setattr__(self, "turnout_by_post", _table(self.turnout_by_post, "turnout_by_post"))
        if self.turnout_model not in TURNOUT_MODELS:
            raise ModelInputError(
                f"expected one of {', '.join(TURNOUT_MODELS)}, got {show(self.turnout_model)}", field="turnout_model"
            )
        if not isinstance(self.slice, str):
            raise ModelInputError(f"expected a slice name, got {show(self.slice)}", field="slice")

    # ------------------------------------------------------------------ construction
    @classmethod
    def alarm(cls, **kw) -> "Clock":
        """Times from the alarm at the post: no call handling added."""
        return cls(call_handling_s=0.0, **kw)

    @classmethod
    def from_scenario(cls, sc) -> "Clock":
        """The clock of a scenario (:class:`kazerne.scenarios.schema.Scenario`), read through
        :func:`clock_inputs`: ``[response] call_handling_s``, ``[turnout]``, ``[response.turnout]``,
        ``[response.posts]``, the posts' own ``turnout_s``, ``turnout_model`` and the slices."""
        return cls(**clock_inputs(sc))

    @classmethod
    def from_args(cls, call_handling_s=None, turnout_s=None, crew: str | None = None) -> "Clock":
        """The clock of a command: ``--call-handling`` (default :data:`DEFAULT_CALL_HANDLING_S`) and
        ``--turnout`` (seconds, fixed; for ``crew``, or every crew type when ``crew`` is None)."""
        ch = (
            DEFAULT_CALL_HANDLING_S
            if call_handling_s is None
            else call_handling_value(call_handling_s, "--call-handling")
        )
        table = dict(DEFAULT_TURNOUT_DIST)
        if turnout_s is not None:
            t = TurnoutDist(seconds_value(turnout_s, "--turnout"))
            for c in [crew] if crew else list(table):
                table[c] = t
        return cls(call_handling_s=ch, turnout_by_crew=table)

    @classmethod
    def from_assumptions(cls, a: dict) -> "Clock":
        """The clock a finished run states in its ``summary.json`` ``assumptions`` (a run of kazerne
        before 0.3 has no ``call_handling_s``: from the alarm)."""
        if not isinstance(a, dict):
            raise ModelInputError(
                f"expected the assumptions table of a summary.json, got {show(a)}", field="assumptions"
            )
        ch = a.get("call_handling_s")
        crews = a.get("turnout_s_by_crew")
        return cls(
            call_handling_s=0.0 if ch is None else ch,
            turnout_by_crew=dict(crews) if isinstance(crews, dict) and crews else dict(DEFAULT_TURNOUT_DIST),
            turnout_model=str(a["turnout_model"]) if a.get("turnout_model") in TURNOUT_MODELS else "deterministic",
        )

    def with_call_handling(self, call_handling_s: float) -> "Clock":
        """This clock with another call handling (0: from the alarm)."""
        return Clock(call_handling_s, self.turnout_by_crew, self.turnout_by_post, self.turnout_model, self.slice)

    # ------------------------------------------------------------------ turnout
    @property
    def counts_from(self) -> str:
        """``call`` (call handling inside the times) or ``alarm``."""
        return "call" if self.call_handling_s > 0 else "alarm"

    def turnout(self, crew: str, post: str | None = None) -> TurnoutDist:
        """The turnout of a post of crew type ``crew`` (its own when the clock has one), fixed at its
        median under the deterministic model."""
        posts, crews = dict(self.turnout_by_post), dict(self.turnout_by_crew)
        d = posts.get(post) if post is not None else None
        if d is None:
            d = crews.get(crew) or crews.get(FALLBACK_CREW) or DEFAULT_TURNOUT_DIST[FALLBACK_CREW]
        return d.deterministic() if self.turnout_model == "deterministic" else d

    def turnout_s(self, crew: str, post: str | None = None) -> float:
        """The median turnout (s) of a post of crew type ``crew``."""
        return self.turnout(crew, post).median_s

    def drive_s(self, times_s, turnout_s):
        """The driving part of response times on this clock: ``times - turnout - call handling``."""
        return np.asarray(times_s, dtype=float) - np.asarray(turnout_s, dtype=float) - self.call_handling_s

    # ------------------------------------------------------------------ checks
    def require(self, times: "Clock", field: str = "tt") -> None:
        """Refuse times on another clock: one line naming ``field``. ``self`` is the clock the caller
        counts on (its thresholds), ``times`` the clock the times carry (``tt.clock``)."""
        if not isinstance(times, Clock):
            raise ModelInputError(f"expected times that carry a Clock, got {show(times)}", field=field)
        if times.call_handling_s == self.call_handling_s:
            return
        raise ModelInputError(mismatch_text(times.call_handling_s, self.call_handling_s), field=field)

    # ------------------------------------------------------------------ wording
    def definition(self) -> dict:
        """What every output states about its times: ``call_handling_s``, ``thresholds_from`` (``call``
        or ``alarm``) and the ``response_time`` sentence (:meth:`describe`)."""
        return {
            "call_handling_s": self.call_handling_s,
            "thresholds_from": self.counts_from,
            "response_time": self.describe(),
        }

    def describe(self) -> str:
        """The one sentence of the definition (``summary.json`` → ``assumptions.response_time``)."""
        return self.label("sentence")

    def turnout_text(self) -> str:
        """The turnouts per crew type (and per post), e.g. ``professional 90 s, volunteer 300 s``."""
        parts = [f"{c} {self.turnout(c).label()}" for c, _ in self.turnout_by_crew]
        parts += [f"post {p} {self.turnout('', p).label()}" for p, _ in self.turnout_by_post]
        return ", ".join(parts)

    def label(self, form: str = "sentence", **kw) -> str:
        """The definition worded for one kind of output; the ONLY place kazerne words it.

        ``form``: ``sentence`` (summary.json), ``detail`` (with the turnouts), ``console`` (the line
        under a run's header; ``turnout=`` a turnout text, ``note=`` appended from the call),
        ``short`` (``compare``: "from the 112 call (call handling 90 s)"), ``paren`` ("from the 112 call
        (call handling 90 s + turnout + driving)"), ``map`` ("from the 112 call: call handling 90 s +
        turnout + driving"), ``surface`` (a map's colour legend), ``html`` (the report's assumption
        paragraph; ``where=`` what the driving time runs to), ``isochrone`` (``kazerne isochrones``;
        ``origin=`` ``call``, ``alarm`` or ``drive``)."""
        c = self.call_handling_s
        call = c > 0
        if form == "sentence":
            if call:
                return (
                    f"response time from the 112 call: call handling {c:g} s + turnout + driving time from the post to "
                    "the nearest road node of the demand point; every threshold counts from the call"
                )
            return (
                "response time from the alarm at the post (call_handling_s = 0: the 112 call handling is not "
                "included; the definition before kazerne 0.3): turnout + driving time from the post to the nearest "
                "road node of the demand point"
            )
        if form == "detail":
            head = f"response time from the 112 call: call handling {c:g} s" if call else "response time from the alarm"
            return f"{head} + turnout ({self.turnout_text()}; {self.turnout_model}, {self.slice}) + driving"
        if form == "console":
            if call:
                return (
                    f"times FROM THE 112 CALL: call handling {c:g} s + turnout"
                    + (f" {kw['turnout']}" if kw.get("turnout") else "")
                    + " + driving; every threshold counts from the call"
                    + kw.get("note", "")
                )
            return (
                "times FROM THE ALARM at the post (call_handling_s = 0): turnout"
                + (f" {kw['turnout']}" if kw.get("turnout") else "")
                + " + driving"
            )
        if form == "html":
            where = kw.get("where", "each demand point")
            if call:
                return (
                    f"Response time FROM THE 112 CALL = call handling {c:g} s + turnout + driving time from the post to "
                    f"the road nearest {where}; every threshold counts from the call (call handling: 112 call to the "
                    f"alarm at the post; kazerne's default {DEFAULT_CALL_HANDLING_S:g} s is an estimate from the "
                    "published Belgian figures, national mean 11:25 from the call to the arrival in 2019)."
                )
            return (
                f"Response time = turnout + driving time from the post to the road nearest {where}, from the alarm "
                "at the post (the 112 call handling before it is not included; call_handling_s = 0)."
            )
        if form == "paren":
            return (
                f"from the 112 call (call handling {c:g} s + turnout + driving)"
                if call
                else "from the alarm (turnout + driving)"
            )
        if form == "short":
            return f"from the 112 call (call handling {c:g} s)" if call else "from the alarm (no call handling)"
        if form == "map":
            if call:
                note = kw.get("note", "")
                return f"from the 112 call: call handling {c:g} s + turnout{kw.get('turnout', '')} + driving{note}"
            return "from the alarm: turnout + driving"
        if form == "surface":
            return (
                "First fire engine on scene from the 112 call (call handling + turnout + driving)"
                if call
                else "First fire engine on scene (turnout + driving)"
            )
        if form == "isochrone":
            return isochrone_text(c, kw.get("origin", "call"))
        raise ModelInputError(f"unknown wording {form!r}", field="form")


def isochrone_text(call_handling_s: float, origin: str) -> str:
    """What an isochrone of ``kazerne isochrones`` holds, for ``origin`` ``call``, ``alarm`` or ``drive``."""
    if origin == "call":
        return (
            f"isochrone = roads reached within the threshold from the 112 call (call handling {call_handling_s:g} s "
            "+ turnout + driving)"
        )
    if origin == "alarm":
        return "isochrone = roads reached within the threshold from the alarm at the post (turnout + driving; no call handling)"
    return "isochrone = roads reached within the threshold of driving alone (no call handling, no turnout)"


def mismatch_text(have_s: float, want_s: float) -> str:
    """The one line of a clock mismatch: times with ``have_s`` of call handling inside where
    ``want_s`` is expected."""
    if have_s > 0 and want_s > 0:
        return (
            f"these times already include call handling {have_s:g} s; counting call handling {want_s:g} s on top would "
            "count it twice: expected times from the alarm, or no call handling argument"
        )
    if have_s > 0:
        return (
            f"these times count from the 112 call (call handling {have_s:g} s included) but times from the alarm are "
            "expected here"
        )
    return (
        f"these times count from the alarm (no call handling) but the thresholds count from the 112 call (call "
        f"handling {want_s:g} s): expected travel_times(..., clock=clock)"
    )


def time_definition(call_handling_s: float) -> dict:
    """What every report states about its times (:meth:`Clock.definition` of a clock with this call handling)."""
    return Clock(call_handling_s).definition()


def clock_inputs(sc) -> dict:
    """The ONE place a scenario is read for its clock: keyword arguments of :class:`Clock` from the
    scenario's call handling, ``[turnout]`` (medians per crew type), ``[response]`` (turnout model,
    distributions per crew type and post), the posts' own ``turnout_s`` and ``[[slices]]``."""
    resp = getattr(sc, "response", None) or {}
    crews = {}
    for crew, median in dict(getattr(sc, "turnout_s", None) or DEFAULT_TURNOUT_S).items():
        if crew in resp.get("turnout", {}):
            crews[crew] = resp["turnout"][crew]
        elif crew in DEFAULT_TURNOUT_DIST:
            crews[crew] = DEFAULT_TURNOUT_DIST[crew].moved_to(float(median))
        else:
            crews[crew] = TurnoutDist(float(median))
    posts = {
        p.id: TurnoutDist(float(p.turnout_s))
        for p in getattr(sc, "posts", [])
        if getattr(p, "turnout_s", None) is not None
    }
    posts.update(resp.get("posts", {}))
    slices = getattr(sc, "slices", None) or []
    return {
        "call_handling_s": float(getattr(sc, "call_handling_s", DEFAULT_CALL_HANDLING_S)),
        "turnout_by_crew": crews,
        "turnout_by_post": posts,
        "turnout_model": resp.get("turnout_model", "deterministic"),
        "slice": slices[0]["name"] if len(slices) == 1 else ("mix" if slices else "week"),
    }
