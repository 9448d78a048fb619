"""Response time as a zone measures it: from the 112 call to the first unit on scene.

::

    response = call handling + turnout + driving

**Call handling** (112 call → alarm at the post, seconds) is one stated constant per run,
:data:`DEFAULT_CALL_HANDLING_S` = 90 s unless the scenario says otherwise (``[response]
call_handling_s``); ``0`` gives the old definition "from the alarm". Every scenario run (baseline,
studies, fleet, EMS, batch) counts its thresholds from the call with it; the library's
:func:`kazerne.travel_times` stays from the alarm unless given ``call_handling_s`` (or
:meth:`TravelTimes.shifted`). Derivation: the published Belgian figures (Civiele Veiligheid, annual
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

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr, ndtri

from .checks import check_array, check_demand, check_instance, check_thresholds_min, show
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

#: Standard normal 90th percentile.
Z90 = float(ndtri(0.9))
#: 112 call -> alarm at the post, seconds (see the module docstring for the derivation).
DEFAULT_CALL_HANDLING_S = 90.0


def time_definition(call_handling_s: float) -> dict:
    """What every report states about its times: ``call_handling_s``, ``thresholds_from`` (``call``,
    or ``alarm`` when the call handling is 0) and the ``response_time`` sentence."""
    c = _num(call_handling_s, "call_handling_s")
    if c > 0:
        text = (
            f"response time from the 112 call: call handling {c:g} s + turnout + driving time from the post to the "
            "nearest road node of the demand point; every threshold counts from the call"
        )
    else:
        text = (
            "response time from the alarm at the post (call_handling_s = 0: the 112 call handling is not "
            "included; the definition before kazerne 0.3): turnout + driving time from the post to the nearest "
            "road node of the demand point"
        )
    return {"call_handling_s": c, "thresholds_from": "call" if c > 0 else "alarm", "response_time": text}


#: Upper tail left out of the expected-value integral (per post; the error is far below 0.01 s).
_TAIL = 1e-12
#: Composite Gauss-Legendre rule of :func:`expected_response`: panels x nodes per panel.
_PANELS, _NODES = 48, 8
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_NODES)

DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEK_MIN = 7 * 24 * 60


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
        med = _num(self.median_s, "median_s")
        p90 = med if self.p90_s is None else _num(self.p90_s, "p90_s")
        lo = _num(self.min_s, "min_s")
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
    def sigma(self) -> float:
        """The log-normal's sigma (0 for a fixed turnout)."""
        if self.fixed:
            return 0.0
        assert self.p90_s is not None  # set by __post_init__
        return math.log((self.p90_s - self.min_s) / (self.median_s - self.min_s)) / Z90

    @property
    def lower_s(self) -> float:
        """The earliest possible turnout: ``median_s`` when fixed, else ``min_s``."""
        return self.median_s if self.fixed else self.min_s

    def cdf(self, t):
        """P(turnout <= t), ``t`` in seconds (array-like)."""
        t = check_array(t, "t")
        return _dev_cdf(t - self.median_s, self.median_s, self.lower_s, self.sigma)

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
        median_s = _num(median_s, "median_s")
        d = median_s - self.median_s
        if self.fixed:
            return TurnoutDist(float(median_s))
        assert self.p90_s is not None  # set by __post_init__
        return TurnoutDist(float(median_s), self.p90_s + d, max(0.0, min(self.min_s + d, float(median_s) - 1e-9)))

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


def _num(v, fld) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
        raise ModelInputError(f"expected a finite number of seconds, got {v!r}", field=fld)
    if v < 0:
        raise ModelInputError(f"expected seconds >= 0, got {v!r}", field=fld)
    return float(v)


#: Default turnout distributions per crew type (see the module docstring for the reasoning).
DEFAULT_TURNOUT_DIST = {
    "professional": TurnoutDist(90.0, 120.0, 45.0),
    "volunteer": TurnoutDist(300.0, 480.0, 120.0),
    "mixed": TurnoutDist(300.0, 480.0, 120.0),
}


def _dev_cdf(x, med, lo, sig):
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


def _check_ch(call_handling_s) -> float:
    return _num(call_handling_s, "call_handling_s")


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


def arrival_probability(seconds, turnout, thresholds_s, call_handling_s: float = 0.0, chunk: int = 8192) -> np.ndarray:
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
    call_handling_s : float
        Call handling added to every time (0 = thresholds from the alarm).

    Returns
    -------
    ndarray (n_thresholds, n_demand)
        ``1 - prod_i (1 - F_i(T - C - drive_i))``; with fixed turnouts exactly 0 or 1, and then equal
        to ``min_i seconds[i] + C <= T``.
    """
    m = _matrix(seconds)
    ch = _check_ch(call_handling_s)
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
            f = _dev_cdf(x, med[idx], lo[idx], sig[idx])
            out[k, sl] = 1.0 - np.prod(1.0 - f, axis=0)
    return out


def expected_response(seconds, turnout, call_handling_s: float = 0.0, chunk: int = 2048) -> np.ndarray:
    """Expected time from the call to the first unit's arrival, per demand point (seconds).

    ``seconds`` and ``turnout`` as in :func:`arrival_probability`. ``inf`` where no site reaches the
    point. Fixed turnouts give exactly ``C + min_i seconds[i]``; with spread the expectation
    ``C + s0 + integral prod_i P(a_i + X_i > s) ds`` is integrated by composite Gauss-Legendre
    quadrature between the earliest possible arrival and the earliest of the fixed arrivals and the
    posts' 1 - 1e-12 quantiles (the rest of the tail weighs less than 1e-9 s).
    """
    m = _matrix(seconds)
    ch = _check_ch(call_handling_s)
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
    tt, demand, turnout, thresholds_min=(8, 10, 12, 15), call_handling_s: float = DEFAULT_CALL_HANDLING_S, name=""
) -> ResponseReport:
    """Expected coverage from the call of the sites of ``tt`` for ``demand``.

    Parameters
    ----------
    tt : TravelTimes
        Built with each site's **median** turnout (``Sites.turnout_s``).
    demand : DemandPoints
    turnout : TurnoutDist or sequence of TurnoutDist
        Per site of ``tt``.
    thresholds_min : sequence of float
        Minutes **from the call**.
    call_handling_s : float
        112 call -> alarm, seconds (0: thresholds from the alarm, the old definition).
    """
    th = check_thresholds_min(thresholds_min, "thresholds")
    th_s = np.array(sorted(th)) * 60.0
    m = _matrix(tt)
    check_demand(demand, m.shape[1])
    prob = arrival_probability(m, turnout, th_s, call_handling_s)
    ev = expected_response(m, turnout, call_handling_s)
    return summarise(
        prob,
        ev,
        demand.weight,
        th_s,
        call_handling_s,
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
