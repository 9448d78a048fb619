"""Response time as a zone measures it: from the 112 call to the first unit on scene.

::

    response = call handling + turnout + driving

**Call handling** (112 call → alarm at the post, seconds) is one stated constant per run,
:data:`DEFAULT_CALL_HANDLING_S` = 90 s unless the scenario says otherwise (``[response]
call_handling_s``); ``0`` gives the old definition "from the alarm". Every scenario run (baseline,
studies, fleet, EMS, batch) counts its thresholds from the call with it, through the run's
:class:`kazerne.clock.Clock`; the library's :func:`kazerne.travel_times` stays from the alarm unless
given a ``clock`` (or ``call_handling_s``, or :meth:`TravelTimes.shifted`), and the times carry the
clock they count on, so the functions here never add call handling twice. Derivation: the published Belgian figures (Civiele Veiligheid, annual
report 2019, in the press: atv.be 2020-12) give a mean of 11:25 from the call to the arrival, of
which 4:26 until the first vehicle leaves (call handling + turnout) and 6:59 driving. 4:26 = 266 s
minus a turnout mix: with this module's default turnouts (means 94 s professional, 328 s volunteer)
and between a third and a half of the interventions turned out by volunteer posts (most calls are in
the cities, where the professional posts are), the turnout mix is 170-210 s and call handling 55-95
s. The Dutch CBS (the one public split with the dispatch alone) measured 0.6-0.7 min from the
registration at the dispatch centre to the alarm (2014, 2017), to which the 112 intake and the
transfer to the dispatcher add some 20-40 s. 90 s sits at the top of both ranges: a conservative
(longer) estimate. Override it with ``call_handling_s``.

**Turnout** (alarm → wheels rolling) is a distribution per post, :class:`TurnoutDist`: fixed, or a
log-normal shifted by ``min_s`` fitted to a median and a 90th percentile. Defaults
(:data:`DEFAULT_TURNOUT_DIST`, seconds): professional median 90, p90 120, at least 45 (the crew is in
the station: near-fixed; the tail is the night and dressing for a fire); volunteer and mixed median
300, p90 480, at least 120 (volunteers come from home or work: 4-6 min typically, one call in ten
takes 8 min or more, nobody is on the road within 2 min; the engine's fixed 300 s becomes the median).
These are reasoned estimates, not measurements of hvz-centrum; a zone's own turnout records replace
them.

**Coverage** becomes a probability per demand point. With posts' turnouts independent,

    P(R <= T) = 1 - prod_i (1 - F_i(T - C - D_i))

(``F_i`` the turnout distribution of post i, ``D_i`` its driving time, ``C`` call handling); the
shares of a zone are expected shares ``sum_j w_j P_j / sum_j w_j``. With zero spread (every turnout
fixed) and ``C = 0`` this is exactly today's deterministic coverage. The expected response time is
``C + s0 + integral_{s0}^inf prod_i P(a_i + X_i > s) ds`` (``a_i`` = driving time), integrated by
composite Gauss-Legendre quadrature (error well below 0.01 s, tested against ``scipy.integrate``).
Only posts whose earliest possible arrival can matter enter a point's product: the pruning uses the
lower bound ``D_i + min turnout_i`` and is exact.

**Time slices** (:class:`TimeSlice`): parts of the week (weekday day, weekday night, weekend ...),
each with its own posts, crews, turnouts and speed period; reports give each slice and the mix
weighted by hours per week (:func:`mix_reports`; calls are taken as uniform over the week).

Example::

    import kazerne as kz
    tt = kz.travel_times(zone, posts, demand, "fire_engine")   # turnout = each post's median
    dists = [kz.DEFAULT_TURNOUT_DIST[c] for c in posts.crew]
    rep = kz.evaluate_response(tt, demand, dists, thresholds_min=[12, 15], call_handling_s=90)
    rep.zone_share, rep.mean_s / 60                              # expected shares, mean from the call
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from .checks import check_array, check_demand, check_instance, check_thresholds_min, show
from .clock import (  # noqa: F401  (re-exported: the clock's types and defaults live in kazerne.clock)
    DEFAULT_CALL_HANDLING_S,
    DEFAULT_TURNOUT_DIST,
    Clock,
    TurnoutDist,
    call_handling_value,
    dev_cdf,
    mismatch_text,
    seconds_value,
    time_definition,
)
from .errors import ModelInputError

__all__ = [
    "DEFAULT_CALL_HANDLING_S",
    "DEFAULT_TURNOUT_DIST",
    "DAY_NAMES",
    "DEFAULT_SLICES",
    "TurnoutDist",
    "TimeSlice",
    "ResponseReport",
    "arrival_probability",
    "expected_response",
    "evaluate_response",
    "mix_reports",
    "check_week",
    "time_definition",
]

#: Upper tail left out of the expected-value integral (per post; the error is far below 0.01 s).
_TAIL = 1e-12
#: Composite Gauss-Legendre rule of :func:`expected_response`: panels x nodes per panel.
_PANELS, _NODES = 48, 8
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_NODES)

DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEK_MIN = 7 * 24 * 60


def _params(turnout, n_sites: int):
    """(median, lower bound, sigma, quantile(1 - tail) - median) arrays of ``n_sites`` sites."""
    if isinstance(turnout, TurnoutDist):
        turnout = [turnout] * n_sites
    if isinstance(turnout, (str, bytes, dict)) or not hasattr(turnout, "__iter__"):
        raise ModelInputError(f"expected a TurnoutDist or one per site, got {show(turnout)}", field="turnout")
    turnout = list(turnout)
    if len(turnout) != n_sites:
        raise ModelInputError(
            f"expected {n_sites} turnout distributions (one per site), got {len(turnout)}", field="turnout"
        )
    for t in turnout:
        if not isinstance(t, TurnoutDist):
            raise ModelInputError(f"expected TurnoutDist values, got {type(t).__name__}", field="turnout")
    med = np.array([t.median_s for t in turnout], dtype=float)
    lo = np.array([t.lower_s for t in turnout], dtype=float)
    sig = np.array([t.sigma for t in turnout], dtype=float)
    top = np.array([float(t.quantile(1 - _TAIL)) - t.median_s for t in turnout], dtype=float)
    return med, lo, sig, top


def _matrix(seconds) -> np.ndarray:
    m = check_array(seconds.dense() if hasattr(seconds, "dense") else seconds, "seconds", ndim=2, allow_nan=True)
    if np.isnan(m).any() or (m < 0).any():
        raise ModelInputError("response times must be >= 0 seconds or inf (not reached), without NaN", field="seconds")
    return m


def _alarm_times(seconds, call_handling_s, clock, default: float) -> tuple[np.ndarray, float]:
    """``(times from the alarm, the call handling to count)`` of ``seconds`` (an array: from the alarm;
    or :class:`~kazerne.TravelTimes`, whose ``clock`` says what is already inside), with the call
    handling of ``clock`` or ``call_handling_s`` (the old keyword), else the times' own, else
    ``default``. Refuses call handling counted twice and times on another clock than ``clock``."""
    m = _matrix(seconds)
    have = float(getattr(getattr(seconds, "clock", None), "call_handling_s", 0.0))
    given = None if call_handling_s is None else call_handling_value(call_handling_s)
    if clock is not None:
        check_instance(clock, Clock, "clock", "a Clock (kz.Clock.from_scenario(sc), kz.Clock(90))")
        if given is not None and given != clock.call_handling_s:
            raise ModelInputError(
                f"call handling {given:g} s disagrees with the clock's {clock.call_handling_s:g} s; give one of them",
                field="call_handling_s",
            )
        want = clock.call_handling_s
        if have and have != want:
            raise ModelInputError(mismatch_text(have, want), field="tt")
    elif given is not None:
        if have and given != 0:  # times from the call, and call handling on top: counted twice
            raise ModelInputError(mismatch_text(have, given), field="call_handling_s")
        if have:  # call_handling_s = 0: thresholds from the alarm, times from the call
            raise ModelInputError(mismatch_text(have, 0.0), field="tt")
        want = given
    else:
        want = have if have else float(default)
    return (m - have if have else m), want


def _nearest(key: np.ndarray, limit: np.ndarray, *arrays):
    """Keep, per column, the rows with ``key < limit`` (or ``<=``; the caller's bound): the smallest
    ``k`` keys where ``k`` is the largest such count over the columns. Returns the arrays restricted
    to those rows (k x n). Exact: every row left out has ``key`` beyond ``limit``."""
    n_rows = key.shape[0]
    inside = key <= limit[None, :]
    k = int(inside.sum(axis=0).max()) if key.size else 0
    k = max(k, 1) if n_rows else 0
    if k >= n_rows:
        return (key,) + arrays
    idx = np.argpartition(key, k - 1, axis=0)[:k]
    return (np.take_along_axis(key, idx, axis=0),) + tuple(
        np.take_along_axis(a, idx, axis=0) if a.ndim == 2 else a[idx] for a in arrays
    )


def arrival_probability(
    seconds, turnout, thresholds_s, call_handling_s: float | None = None, chunk: int = 8192, *, clock=None
) -> np.ndarray:
    """Probability that the first unit arrives within each threshold, per demand point.

    Parameters
    ----------
    seconds : ndarray (n_sites, n_demand) or TravelTimes
        Response times from the **alarm** with each site's **median** turnout (turnout + drive, as
        :func:`kazerne.travel_times` gives them with ``Sites.turnout_s`` = the medians); ``inf`` =
        not reached (or no road data).
    turnout : TurnoutDist or sequence of TurnoutDist
        Per site (one for all sites allowed); turnouts are independent between sites.
    thresholds_s : sequence of float
        Thresholds **from the call**, seconds.
    call_handling_s : float, optional
        Call handling added to times from the alarm (0 = thresholds from the alarm). Default: the
        clock's, else the times' own (``TravelTimes.clock``), else 0.
    clock : Clock, optional
        The clock the thresholds count on; refused when the times carry another one.

    Returns
    -------
    ndarray (n_thresholds, n_demand)
        ``1 - prod_i (1 - F_i(T - C - drive_i))``; with fixed turnouts exactly 0 or 1, and then equal
        to ``min_i seconds[i] + C <= T``.
    """
    m, ch = _alarm_times(seconds, call_handling_s, clock, 0.0)
    th = np.atleast_1d(check_array(thresholds_s, "thresholds_s", allow_inf=False))
    if th.ndim != 1:
        raise ModelInputError(f"expected finite thresholds in seconds, got {thresholds_s!r}", field="thresholds_s")
    n_s, n_d = m.shape
    med, lo, sig, _ = _params(turnout, n_s)
    out = np.zeros((len(th), n_d))
    if n_s == 0 or n_d == 0 or len(th) == 0:
        return out
    lower = m - med[:, None] + lo[:, None]  # earliest possible arrival after the alarm
    for a in range(0, n_d, chunk):
        sl = slice(a, min(a + chunk, n_d))
        lim = np.full(sl.stop - sl.start, th.max() - ch)
        rows = np.broadcast_to(np.arange(n_s)[:, None], lower[:, sl].shape)
        _, r, idx = _nearest(lower[:, sl], lim, m[:, sl], rows)
        for k, t in enumerate(th):
            x = (t - ch) - r  # time left for the turnout beyond its median
            f = dev_cdf(x, med[idx], lo[idx], sig[idx])
            out[k, sl] = 1.0 - np.prod(1.0 - f, axis=0)
    return out


def expected_response(
    seconds, turnout, call_handling_s: float | None = None, chunk: int = 2048, *, clock=None
) -> np.ndarray:
    """Expected time from the call to the first unit's arrival, per demand point (seconds).

    ``seconds`` and ``turnout`` as in :func:`arrival_probability`. ``inf`` where no site reaches the
    point. Fixed turnouts give exactly ``C + min_i seconds[i]``; with spread the expectation
    ``C + s0 + integral prod_i P(a_i + X_i > s) ds`` is integrated by composite Gauss-Legendre
    quadrature between the earliest possible arrival and the earliest of the fixed arrivals and the
    posts' 1 - 1e-12 quantiles (the rest of the tail weighs less than 1e-9 s).
    """
    m, ch = _alarm_times(seconds, call_handling_s, clock, 0.0)
    n_s, n_d = m.shape
    med, lo, sig, top = _params(turnout, n_s)
    out = np.full(n_d, np.inf)
    if n_s == 0:
        return out
    fixed = sig == 0
    d_fix = m[fixed].min(axis=0) if fixed.any() else np.full(n_d, np.inf)
    if fixed.all():
        return ch + d_fix
    mc, medc, loc, sigc, topc = m[~fixed], med[~fixed], lo[~fixed], sig[~fixed], top[~fixed]
    a_all = mc - medc[:, None]  # arrival = a + X
    lower_all = a_all + loc[:, None]
    upper_all = np.minimum(d_fix, (a_all + (medc + topc)[:, None]).min(axis=0))
    s0_all = np.minimum(d_fix, lower_all.min(axis=0))
    out[:] = d_fix
    for b in range(0, n_d, chunk):
        sl = slice(b, min(b + chunk, n_d))
        s0, upper = s0_all[sl], upper_all[sl]
        rows = np.broadcast_to(np.arange(len(medc))[:, None], lower_all[:, sl].shape)
        # posts whose earliest arrival is not before the upper limit never lower the product: left out
        lim = np.nextafter(upper, -np.inf)
        lower, a, idx = _nearest(lower_all[:, sl], lim, a_all[:, sl], rows)
        fin = np.isfinite(upper) & np.isfinite(s0)
        span = np.zeros(len(s0))
        span[fin] = upper[fin] - s0[fin]
        go = span > 0
        res = np.where(np.isfinite(s0), s0, np.inf)
        if go.any():
            edges = s0[go, None] + span[go, None] * (np.arange(_PANELS + 1) / _PANELS)[None, :]
            h = (edges[:, 1:] - edges[:, :-1]) / 2  # (n, P)
            mid = (edges[:, 1:] + edges[:, :-1]) / 2
            s = mid[:, :, None] + h[:, :, None] * _GL_X[None, None, :]  # (n, P, G)
            surv = np.ones(s.shape)
            logscale = np.log(medc - loc)
            for r in range(a.shape[0]):
                i = idx[r, go]
                # P(a + X > s) for the shifted log-normal X: 1 - Phi((ln(s - a - min) - mu) / sigma)
                y = s - (a[r, go] + loc[i])[:, None, None]
                with np.errstate(divide="ignore", invalid="ignore"):
                    z = (np.log(np.where(y > 0, y, np.nan)) - logscale[i][:, None, None]) / sigc[i][:, None, None]
                surv *= np.where(y > 0, ndtr(-z), 1.0)
            integral = np.einsum("npg,g,np->n", surv, _GL_W, h)
            res[go] = s0[go] + integral
        out[sl] = res
    return ch + out


@dataclass
class ResponseReport:
    """Expected coverage of one placement under the response-time model (times in seconds, from the call).

    Attributes
    ----------
    probability : ndarray (n_thresholds, n_demand)
        P(first unit within T) per demand point (0 for points without road data).
    expected_s : ndarray (n_demand,)
        Expected response time from the call (``nan`` no road data, ``inf`` not reached).
    thresholds_s : ndarray
    call_handling_s : float
    zone_share : ndarray
        Expected share of the weight with road data reached within each threshold.
    zone_weight_within : ndarray
    total_weight, no_road_data_weight : float
    mean_s : float
        Weighted mean of ``expected_s`` (from the call).
    municipalities : list of dict
        name, population, no_road_data, share_within (expected), mean_s.
    name : str
        Label (the time slice, or ``mix``).
    weight : float
        Share of the week (time slices), 1 otherwise.
    """

    probability: np.ndarray
    expected_s: np.ndarray
    thresholds_s: np.ndarray
    call_handling_s: float
    zone_share: np.ndarray
    zone_weight_within: np.ndarray
    total_weight: float
    no_road_data_weight: float
    mean_s: float
    municipalities: list = field(default_factory=list)
    name: str = ""
    weight: float = 1.0

    def __post_init__(self):
        from .checks import check_fields

        check_fields(self)

    def headline(self) -> dict:
        """Zone figures: expected share within each threshold (from the call), mean (min)."""
        return {
            "name": self.name,
            "week_share": self.weight,
            "call_handling_s": self.call_handling_s,
            "population_with_road_data": self.total_weight,
            "expected_share_within": {f"{t / 60:g}": float(s) for t, s in zip(self.thresholds_s, self.zone_share)},
            "expected_population_within": {
                f"{t / 60:g}": float(s) for t, s in zip(self.thresholds_s, self.zone_weight_within)
            },
            "mean_response_min": None if not np.isfinite(self.mean_s) else self.mean_s / 60.0,
        }

    def municipality_table(self):
        """A ``pandas.DataFrame``: expected shares within each threshold and mean (min) per municipality."""
        from .coverage.metrics import municipality_frame

        return municipality_frame(self.municipalities, self.thresholds_s)


def _wsum(w: np.ndarray, p: np.ndarray) -> float:
    """``sum(w * p)`` summed so that 0/1 probabilities give exactly ``w[p == 1].sum()`` (the
    deterministic figure, to the last bit)."""
    one = p == 1.0
    part = (p > 0) & ~one
    return float(w[one].sum()) + (float((w[part] * p[part]).sum()) if part.any() else 0.0)


def _wmean(values: np.ndarray, w: np.ndarray) -> float:
    ok = ~np.isnan(values) & (w > 0)
    ww = w[ok]
    if ww.sum() <= 0:
        return float("nan")
    return float(np.sum(values[ok] * ww) / ww.sum())


def summarise(
    prob,
    expected,
    weights,
    thresholds_s,
    call_handling_s=0.0,
    no_road_data=None,
    municipality=None,
    municipality_names=None,
    name="",
    weight=1.0,
) -> ResponseReport:
    """A :class:`ResponseReport` from per-point probabilities and expected times."""
    w = np.asarray(weights, dtype=float)
    n = len(w)
    nrd = np.zeros(n, bool) if no_road_data is None else np.asarray(no_road_data, bool)
    prob = np.where(nrd[None, :], 0.0, np.asarray(prob, dtype=float))
    ev = np.where(nrd, np.nan, np.asarray(expected, dtype=float))
    wr = np.where(nrd, 0.0, w)
    total = float(wr.sum())
    within = np.array([_wsum(wr, p) for p in prob])
    share = within / total if total > 0 else np.full(len(within), np.nan)
    munis = []
    if municipality is not None:
        mun = np.asarray(municipality)
        names = municipality_names or [str(i) for i in range(int(mun.max()) + 1)]
        for i, nm in enumerate(names):
            sel = mun == i
            wi = wr[sel]
            tot = float(wi.sum())
            munis.append(
                {
                    "municipality": nm,
                    "population": float(w[sel].sum()),
                    "no_road_data": float(w[sel & nrd].sum()),
                    "share_within": [_wsum(wi, p[sel]) / tot if tot > 0 else float("nan") for p in prob],
                    "mean_s": _wmean(ev[sel], w[sel]),
                }
            )
    return ResponseReport(
        probability=prob,
        expected_s=ev,
        thresholds_s=np.asarray(thresholds_s, dtype=float),
        call_handling_s=float(call_handling_s),
        zone_share=share,
        zone_weight_within=within,
        total_weight=total,
        no_road_data_weight=float(w[nrd].sum()),
        mean_s=_wmean(ev, w),
        municipalities=munis,
        name=name,
        weight=float(weight),
    )


def evaluate_response(
    tt,
    demand,
    turnout,
    thresholds_min=(8, 10, 12, 15),
    call_handling_s: float | None = None,
    name="",
    *,
    clock: Clock | None = None,
) -> ResponseReport:
    """Expected coverage from the call of the sites of ``tt`` for ``demand``.

    Parameters
    ----------
    tt : TravelTimes
        Built with each site's **median** turnout (``Sites.turnout_s``); from the alarm, or from the
        call (``tt.clock`` says which: its call handling is then not added again).
    demand : DemandPoints
    turnout : TurnoutDist or sequence of TurnoutDist
        Per site of ``tt``.
    thresholds_min : sequence of float
        Minutes **from the call**.
    call_handling_s : float, optional
        112 call -> alarm, seconds, added to times from the alarm (0: thresholds from the alarm, the
        old definition). Default: the clock's, else ``tt``'s own, else
        :data:`~kazerne.clock.DEFAULT_CALL_HANDLING_S` (90 s).
    clock : Clock, optional
        The clock the thresholds count on; ``tt`` must be from the alarm or on the same clock.

    Raises
    ------
    ModelInputError
        ``tt`` already includes call handling and ``call_handling_s`` adds it again (counted twice),
        or ``tt`` is on another clock than ``clock``.
    """
    th = check_thresholds_min(thresholds_min, "thresholds")
    th_s = np.array(sorted(th)) * 60.0
    m, ch = _alarm_times(tt, call_handling_s, clock, DEFAULT_CALL_HANDLING_S)
    check_demand(demand, m.shape[1])
    prob = arrival_probability(m, turnout, th_s, ch)
    ev = expected_response(m, turnout, ch)
    return summarise(
        prob,
        ev,
        demand.weight,
        th_s,
        ch,
        no_road_data=demand.no_road_data,
        municipality=demand.municipality,
        municipality_names=list(demand.municipality_names),
        name=name,
    )


def mix_reports(reports, weights=None, name: str = "mix") -> ResponseReport:
    """The time-weighted mix of reports on the same demand and thresholds: probabilities, expected
    times, shares and means averaged with ``weights`` (default each report's ``weight``, e.g. its
    share of the week's hours), normalised to sum 1."""
    if isinstance(reports, (str, bytes, dict)) or not hasattr(reports, "__iter__"):
        raise ModelInputError(f"expected a list of ResponseReport, got {show(reports)}", field="reports")
    reports = list(reports)
    if not reports:
        raise ModelInputError("expected at least one report", field="reports")
    for r in reports:
        check_instance(r, ResponseReport, "reports", "ResponseReport values (kz.evaluate_response)")
    w = check_array([r.weight for r in reports] if weights is None else weights, "weights", ndim=1, allow_inf=False)
    if len(w) != len(reports) or (w < 0).any() or not (w.sum() > 0):
        raise ModelInputError(f"expected one weight >= 0 per report, not all 0, got {w.tolist()}", field="weights")
    w = w / w.sum()
    r0 = reports[0]
    for r in reports[1:]:
        if r.probability.shape != r0.probability.shape or not np.array_equal(r.thresholds_s, r0.thresholds_s):
            raise ModelInputError("reports must share the demand points and thresholds", field="reports")
    prob = sum(wi * r.probability for wi, r in zip(w, reports))
    ev = sum(wi * r.expected_s for wi, r in zip(w, reports))
    munis = []
    for k, m in enumerate(r0.municipalities):
        munis.append(
            {
                **m,
                "share_within": [
                    float(sum(wi * r.municipalities[k]["share_within"][j] for wi, r in zip(w, reports)))
                    for j in range(len(m["share_within"]))
                ],
                "mean_s": float(sum(wi * r.municipalities[k]["mean_s"] for wi, r in zip(w, reports))),
            }
        )
    within = sum(wi * r.zone_weight_within for wi, r in zip(w, reports))
    return ResponseReport(
        probability=prob,
        expected_s=ev,
        thresholds_s=r0.thresholds_s,
        call_handling_s=float(sum(wi * r.call_handling_s for wi, r in zip(w, reports))),
        zone_share=sum(wi * r.zone_share for wi, r in zip(w, reports)),
        zone_weight_within=within,
        total_weight=r0.total_weight,
        no_road_data_weight=r0.no_road_data_weight,
        mean_s=float(sum(wi * r.mean_s for wi, r in zip(w, reports))),
        municipalities=munis,
        name=name,
        weight=1.0,
    )


# ------------------------------------------------------------------------------------------------
# time slices
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeSlice:
    """A part of the week: clock hours ``[start_h, end_h)`` on the listed days (0 = Monday).

    ``end_h <= start_h`` wraps past midnight *on the same listed day*: ``days`` Monday-Friday with
    19-7 is 00:00-07:00 and 19:00-24:00 of each weekday. ``0`` to ``24`` is the whole day. Hours
    may carry minutes (7.5 = 07:30).
    """

    name: str
    days: tuple = (0, 1, 2, 3, 4, 5, 6)
    start_h: float = 0.0
    end_h: float = 24.0

    def __post_init__(self):
        from .checks import check_fields

        check_fields(self)
        self.minutes()  # days and hours checked where the slice is made

    def minutes(self) -> np.ndarray:
        """Boolean mask over the 10,080 minutes of the week (Monday 00:00 first)."""
        a, b = _minute(self.start_h, "start"), _minute(self.end_h, "end")
        day = np.zeros(24 * 60, bool)
        if b > a:
            day[a:b] = True
        else:
            day[a:] = True
            day[:b] = True
        week = np.zeros(WEEK_MIN, bool)
        for d in self.days:
            if not (isinstance(d, (int, np.integer)) and 0 <= d <= 6):
                raise ModelInputError(f"expected days 0 (Monday) .. 6 (Sunday), got {d!r}", field="days")
            week[d * 1440 : (d + 1) * 1440] = day
        return week

    @property
    def hours_per_week(self) -> float:
        return float(self.minutes().sum()) / 60.0


def _minute(h, what) -> int:
    """Minute of the day of an hour value: a start in 0..1439 (24 = 0), an end in 0..1440."""
    if isinstance(h, bool) or not isinstance(h, (int, float)) or not (0 <= h <= 24):
        raise ModelInputError(f"expected an hour from 0 to 24, got {h!r}", field="hours")
    m = h * 60.0
    if abs(m - round(m)) > 1e-6:
        raise ModelInputError(f"expected an hour in whole minutes (7.5 = 07:30), got {h!r}", field="hours")
    return int(round(m)) % 1440 if what == "start" else int(round(m))


def _clock(minute: int) -> str:
    d, r = divmod(int(minute), 1440)
    return f"{DAY_NAMES[d].capitalize()} {r // 60:02d}:{r % 60:02d}"


def check_week(slices) -> list:
    """Check that ``slices`` cover every minute of the week exactly once; return the hours per
    week of each.

    Raises
    ------
    ModelInputError
        ``field`` = ``slices[i].hours`` for the first slice overlapping an earlier one, or
        ``slices`` for a gap; the message names the day and clock time.
    """
    if isinstance(slices, (str, bytes, dict)) or not hasattr(slices, "__iter__"):
        raise ModelInputError(f"expected a list of TimeSlice, got {show(slices)}", field="slices")
    slices = list(slices)
    seen = np.full(WEEK_MIN, -1)
    hours = []
    for i, s in enumerate(slices):
        check_instance(s, TimeSlice, f"slices[{i}]", 'a TimeSlice (kz.TimeSlice("day", (0, 1, 2, 3, 4), 7, 19))')
        try:
            mask = s.minutes()
        except ModelInputError as exc:
            raise ModelInputError(exc.detail, field=f"slices[{i}].{exc.field}") from None
        if not mask.any():
            raise ModelInputError(f"slice {s.name!r} covers no time of the week", field=f"slices[{i}].hours")
        clash = mask & (seen >= 0)
        if clash.any():
            j = int(np.argmax(clash))
            raise ModelInputError(
                f"slice {s.name!r} overlaps slice {slices[seen[j]].name!r} from {_clock(j)} "
                f"({clash.sum() / 60:g} h a week); expected slices that cover each hour of the week once",
                field=f"slices[{i}].hours",
            )
        seen[mask] = i
        hours.append(float(mask.sum()) / 60.0)
    gap = seen < 0
    if gap.any():
        j = int(np.argmax(gap))
        end = j + int(np.argmax(~gap[j:])) if (~gap[j:]).any() else WEEK_MIN
        raise ModelInputError(
            f"no slice covers {_clock(j)} to {_clock(end % WEEK_MIN)} ({gap.sum() / 60:g} h a week uncovered in "
            f"all); expected slices that cover each hour of the week once",
            field="slices",
        )
    return hours


#: The documented default split of the week: weekday day 07:00-19:00 (60 h, rush-hour speeds),
#: weekday night 19:00-07:00 (60 h, night speeds), weekend Saturday + Sunday (48 h, free flow).
DEFAULT_SLICES = (
    (TimeSlice("weekday-day", (0, 1, 2, 3, 4), 7.0, 19.0), "rush_hour"),
    (TimeSlice("weekday-night", (0, 1, 2, 3, 4), 19.0, 7.0), "night"),
    (TimeSlice("weekend", (5, 6), 0.0, 24.0), None),
)
