"""Fit the drive-time model, call handling and turnout to dispatch records: :func:`calibrate`.

**Driving** (departure -> arrival). The model time of record ``i`` is
``sum_g tau_ig / f[p_i, g] / s_i + J_i * d`` (:mod:`.routes`: time per factor group at the base
profile's speeds along the modelled route, junction delays paid; ``s_i`` the vehicle type's speed
scale, ``p_i`` the call's period). The factors ``f`` (per road-class group x urban / rural x period,
:mod:`kazerne.routing.profiles`) and the delay ``d`` minimise a robust (soft-L1) loss of the residuals
scaled by their robust spread (1.4826 x MAD), with a weak prior ``log f ~ N(0, 1)`` that only
matters where records hardly drive; a factor whose group x period the records drive less than
:data:`MIN_EXPOSURE_S` in total is not fitted (stays 1, reported so). The routes are then recomputed
with the fitted speeds and the fit repeated until the factors move by less than 0.5 % (at most
:data:`MAX_ROUNDS`). Uncertainty: the sandwich covariance of the M-estimator (robust to the trips' unequal spread),
carried to ``f``.

**Call handling** (call -> first alarm of the incident) and **turnout** (alarm -> departure, per crew
type, and per post with at least :data:`MIN_POST_RECORDS` records): shifted log-normals
(:class:`kazerne.TurnoutDist`) matched to the 10th, 50th and 90th percentiles; uncertainty from 200
bootstrap resamples.

**Cross-validation**: k folds by incident; the drive-time model is fitted on k-1 folds (on the routes
of the last round) and predicts the held-out fold; the uncalibrated default predicts every record.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

from ..response import TurnoutDist
from ..routing.profiles import PERIOD_NAMES, FactorProfile, SpeedProfile, factor_names, with_factors
from ._irls import irls_step, weighted_gram
from .periods import DEFAULT_PERIOD_RULES, period_of
from .records import VEHICLE_TYPES, Records
from .routes import route_parts

log = logging.getLogger("kazerne")

__all__ = ["Calibration", "calibrate", "fit_shifted_lognormal"]

MIN_EXPOSURE_S = 1800.0
MIN_POST_RECORDS = 30
MAX_ROUNDS = 5
PRIOR_SD = 1.0
Z90 = float(ndtri(0.9))


# ------------------------------------------------------------------ shifted log-normals
def _qmatch(q10, q50, q90):
    """(median, p90, min) of the shifted log-normal through three quantiles (arrays)."""
    r = np.maximum((q90 - q50) / np.maximum(q50 - q10, 1e-9), 1.02)
    sig = np.log(r) / Z90
    a = (q50 - q10) / (1 - np.exp(-sig * Z90))
    c = np.clip(q50 - a, 0.0, None)
    return q50, np.maximum(q90, q50), np.minimum(c, q50 * 0.999)


def fit_shifted_lognormal(x, n_boot: int = 200, seed: int = 0) -> dict:
    """A :class:`~kazerne.TurnoutDist` fitted to samples ``x`` (seconds) by quantile matching, with
    bootstrap standard errors of its median, p90 and minimum."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    q = np.quantile(x, [0.1, 0.5, 0.9])
    med, p90, lo = (float(v) for v in _qmatch(*q))
    rng = np.random.default_rng(seed)
    boot = rng.choice(x, size=(n_boot, len(x)), replace=True)
    bq = np.quantile(boot, [0.1, 0.5, 0.9], axis=1)
    bmed, bp90, blo = _qmatch(*bq)
    dist = TurnoutDist(med, p90, lo) if p90 > med else TurnoutDist(med)
    return {
        "dist": dist,
        "n": int(len(x)),
        "se": {"median_s": float(np.std(bmed)), "p90_s": float(np.std(bp90)), "min_s": float(np.std(blo))},
        "observed": {"p10_s": float(q[0]), "median_s": float(q[1]), "p90_s": float(q[2]), "mean_s": float(x.mean())},
    }


# ------------------------------------------------------------------ the drive model
@dataclass
class _Design:
    tau: np.ndarray  # (n, g) scaled by 1 / speed scale
    junctions: np.ndarray
    period: np.ndarray
    obs: np.ndarray
    free: list  # (period, group) of the fitted factors


def _model(theta_full, d, des: _Design, rows=None):
    rows = slice(None) if rows is None else rows
    inv = np.exp(-theta_full[des.period[rows]])  # (n, g)
    return (des.tau[rows] * inv).sum(1) + des.junctions[rows] * d


def _fit(des: _Design, theta0, d0, rows, sigma):
    """Robust fit of the free factors and the delay on ``rows``: the model is linear in the inverse
    factors ``u = 1 / f`` and the delay, so iteratively reweighted least squares with soft-L1 weights
    ``1 / sqrt(1 + (r / sigma)^2)`` and the prior rows ``(u - 1) / PRIOR_SD``; returns
    ``(theta_full, d, cov)`` with ``cov`` the covariance of ``(log f of the free factors, d)``."""
    free = des.free
    k = len(free)
    tau, junc, per, obs = des.tau[rows], des.junctions[rows], des.period[rows], des.obs[rows]
    inv0 = np.exp(-theta0[per])
    fixed = (tau * inv0).sum(1)
    X = np.zeros((len(obs), k + 1))
    for j, (p, g) in enumerate(free):
        m = per == p
        X[m, j] = tau[m, g]
        fixed[m] -= tau[m, g] * inv0[m, g]
    X[:, k] = junc
    y = obs - fixed
    P = np.zeros((k + 1, k + 1))
    P[np.arange(k), np.arange(k)] = 1.0 / PRIOR_SD**2
    prior_mean = np.zeros(k + 1)
    prior_mean[:k] = 1.0
    beta = np.concatenate([np.exp(-theta0[tuple(np.array(free).T)]) if k else np.zeros(0), [d0]])
    lo = np.concatenate([np.full(k, math.exp(-2.0)), [0.0]])
    hi = np.concatenate([np.full(k, math.exp(2.0)), [60.0]])
    X = np.ascontiguousarray(X)
    for _ in range(60):
        A, b = irls_step(X, y, beta, sigma, P, P @ prior_mean)
        new = np.clip(np.linalg.solve(A, b), lo, hi)
        done = np.max(np.abs(new - beta)) < 1e-6
        beta = new
        if done:
            break
    # sandwich covariance of the M-estimator (robust to the trips' unequal spread):
    # psi(z) = z / sqrt(1 + z^2), bread = X' psi'(z) X / sigma^2 + prior, meat = X' psi(z)^2 X / sigma^2
    z = (X @ beta - y) / sigma if len(y) < 2000 else _residuals_z(X, y, beta, sigma)
    bread = weighted_gram(X, (1.0 + z * z) ** -1.5) / sigma**2 + P
    meat = weighted_gram(X, z * z / (1.0 + z * z)) / sigma**2
    try:
        hinv = np.linalg.inv(bread)
        cov_u = hinv @ meat @ hinv
    except np.linalg.LinAlgError:
        cov_u = np.full((k + 1, k + 1), np.nan)
    # to log f = -log u: d(log f)/du = -1/u
    jac = np.concatenate([-1.0 / beta[:k], [1.0]])
    cov = cov_u * np.outer(jac, jac)
    th = theta0.copy()
    for j, (p, g) in enumerate(free):
        th[p, g] = -math.log(beta[j])
    return th, float(beta[k]), cov


def _residuals_z(X, y, beta, sigma) -> np.ndarray:
    """``(X beta - y) / sigma`` row by row (no BLAS: see :mod:`._irls`)."""
    out = np.empty(len(y))
    step = 4096
    for i in range(0, len(y), step):
        out[i : i + step] = (np.einsum("ij,j->i", X[i : i + step], beta) - y[i : i + step]) / sigma
    return out


def _robust_sd(r) -> float:
    r = r[np.isfinite(r)]
    return float(max(1.4826 * np.median(np.abs(r - np.median(r))), 5.0)) if len(r) else 60.0


# ------------------------------------------------------------------ result
@dataclass
class Calibration:
    """What :func:`calibrate` found (see the module docstring); :meth:`summary` is JSON-ready."""

    profile: FactorProfile
    base_profile: SpeedProfile
    factors: list  # rows: period, factor, value, se, exposure_s, records, fitted
    junction_delay: dict
    call_handling: dict | None
    turnout: dict  # crew -> fit dict
    turnout_posts: dict  # post id -> fit dict
    cv: dict
    residuals: dict  # table name -> rows
    records: dict
    rejects: list
    rounds: int
    noise_sd_s: float
    points: dict = field(default_factory=dict)  # observed / default / calibrated drive seconds (plots)

    def __post_init__(self):
        from ..checks import check_fields

        check_fields(self)

    def factor_values(self) -> dict:
        return {p: dict(r) for p, r in self.profile.factors.items()}

    def response_toml(self) -> str:
        """The ``[response]`` lines of a scenario that uses the fitted call handling and turnouts."""
        out = ["[response]"]
        if self.call_handling:
            out.append(f"call_handling_s = {self.call_handling['dist'].median_s:.0f}")
        out.append('turnout_model = "distribution"')
        for crew, f in sorted(self.turnout.items()):
            d = f["dist"]
            out.append(f"[response.turnout.{crew}]")
            out.append(f"median_s = {d.median_s:.0f}\np90_s = {d.p90_s:.0f}\nmin_s = {d.min_s:.0f}")
        return "\n".join(out) + "\n"

    def summary(self) -> dict:
        def dist(f):
            return (
                None if f is None else {**f["dist"].describe(), "n": f["n"], "se": f["se"], "observed": f["observed"]}
            )

        return {
            "records": self.records,
            "base_profile": self.base_profile.name,
            "factors": self.factors,
            "junction_delay_s": self.junction_delay,
            "call_handling": dist(self.call_handling),
            "turnout_by_crew": {k: dist(v) for k, v in self.turnout.items()},
            "turnout_by_post": {k: dist(v) for k, v in self.turnout_posts.items()},
            "cross_validation": self.cv,
            "residuals": self.residuals,
            "uncertainty": self.profile.uncertainty,
            "rounds": self.rounds,
            "residual_sd_s": round(self.noise_sd_s, 1),
            "method": (
                "robust (soft-L1, IRLS) least squares of departure->arrival on the modelled routes, re-routed with the "
                "fitted speeds until stable; uncertainty from the sandwich covariance of the M-estimator; call handling and "
                "turnout as shifted log-normals matched to the 10/50/90th percentiles, bootstrap standard errors"
            ),
        }


def prediction_errors(pred, obs) -> dict:
    e = pred - obs
    e = e[np.isfinite(e)]
    return {
        "n": int(len(e)),
        "median_abs_error_s": round(float(np.median(np.abs(e))), 1),
        "bias_s": round(float(np.mean(e)), 1),
        "median_error_s": round(float(np.median(e)), 1),
        "within_1_min": round(float(np.mean(np.abs(e) <= 60)), 4),
        "within_2_min": round(float(np.mean(np.abs(e) <= 120)), 4),
    }


def _profiles(base, theta, d, source):
    out = {}
    for p, name in enumerate(PERIOD_NAMES):
        per = base.with_overrides(period=None if name == "free" else name)
        out[p] = with_factors(per, {name: dict(zip(factor_names(), np.exp(theta[p]).tolist()))}, d, source=source)
    return out


def calibrate(
    zone,
    records,
    profile="fire_engine",
    folds: int = 5,
    period_rules=DEFAULT_PERIOD_RULES,
    seed: int = 0,
    progress=None,
) -> Calibration:
    """Fit speed factors, junction delay, call handling and turnout to ``records`` (a
    :class:`~kazerne.calibration.records.Records` or the path of a records file; see the module
    docstring). ``profile`` is the base profile (name, path or :class:`~kazerne.SpeedProfile`); records
    of vehicle types that drive another profile are left out (counted in ``records``)."""
    from ..checks import check_int, check_zone, show
    from ..errors import ModelInputError, RecordsError
    from ..routing.profiles import check_profile

    check_zone(zone)
    folds = check_int(folds, "folds", lo=2)
    seed = check_int(seed, "seed", lo=0)
    base = check_profile(profile)
    if progress is not None and not all(callable(getattr(progress, m, None)) for m in ("step", "done")):
        raise ModelInputError(
            f"expected None or a kazerne.progress.Progress (step / done), got {show(progress)}", field="progress"
        )
    if not isinstance(records, Records):
        from .records import read_records

        records = read_records(records, zone)
    base_name = base.base if isinstance(base, FactorProfile) else base.name
    vt_prof = np.array([VEHICLE_TYPES[v][0] for v in records.vehicle_type.tolist()], dtype=object)
    mine = vt_prof == base_name
    drive_ok = mine & np.isfinite(records.departure)
    if drive_ok.sum() < 20:
        raise RecordsError(
            f"only {int(drive_ok.sum())} records with a departure time of vehicles driving the {base_name} profile; "
            "expected at least 20 to fit the driving times",
            source=records.source,
            field="departure_time",
        )
    rec = records.subset(drive_ok)
    per = period_of(rec.weekday, rec.hour, period_rules)
    scale = np.array([VEHICLE_TYPES[v][1] for v in rec.vehicle_type.tolist()])
    obs = rec.arrival - rec.departure
    g = len(factor_names())
    theta = np.zeros((len(PERIOD_NAMES), g))
    d = float(base.intersection_delay_s)
    default_parts = None
    rounds = 0
    for rounds in range(1, MAX_ROUNDS + 1):
        if progress is not None:
            progress.step(f"calibration round {rounds}: routing {len(rec):,} records")
        parts = route_parts(zone.net, None, rec.post_nodes, rec.post, rec.node, per, _profiles(base, theta, d, "fit"))
        if default_parts is None:
            default_parts = parts
        exposure = np.zeros((len(PERIOD_NAMES), g))
        for p in range(len(PERIOD_NAMES)):
            exposure[p] = parts.tau[per == p].sum(0)
        free = [(p, j) for p in range(len(PERIOD_NAMES)) for j in range(g) if exposure[p, j] >= MIN_EXPOSURE_S]
        des = _Design(parts.tau / scale[:, None], parts.junctions, per, obs, free)
        use = parts.reached & np.isfinite(obs)
        sigma = _robust_sd(_model(theta, d, des)[use] - obs[use])
        th1, d1, cov = _fit(des, theta, d, use, sigma)
        sigma = _robust_sd(_model(th1, d1, des)[use] - obs[use])
        th1, d1, cov = _fit(des, th1, d1, use, sigma)
        moved = max(float(np.max(np.abs(th1 - theta))) if free else 0.0, abs(d1 - d) / 20.0)
        theta, d = th1, d1
        if progress is not None:
            progress.done(f"round {rounds}")
        if moved < 0.01 and rounds > 1:
            break
    final = _profiles(base, theta, d, "calibrate")
    pred = _model(theta, d, des)
    ch, turn = _call_handling(records), _turnouts(records, by="crew")
    unc = {
        "drive_rel_se": _drive_rel_se(des, theta, cov, use, pred),
        "call_handling_median_se_s": ch["se"]["median_s"] if ch else None,
        "turnout_median_se_s": {k: v["se"]["median_s"] for k, v in turn.items()},
    }
    prof = with_factors(
        base,
        {PERIOD_NAMES[p]: final[p].factors[PERIOD_NAMES[p]] for p in final},
        d,
        source="kazerne calibrate",
        uncertainty=unc,
    )
    assert default_parts is not None  # the loop above always sets it
    pred_default = default_parts.drive_s / scale
    factors = []
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    where = {fg: i for i, fg in enumerate(free)}
    for p, pname in enumerate(PERIOD_NAMES):
        for j, fname in enumerate(factor_names()):
            i = where.get((p, j))
            f = float(np.exp(theta[p, j]))
            factors.append(
                {
                    "period": pname,
                    "factor": fname,
                    "value": round(f, 4),
                    "se": round(f * float(se[i]), 4) if i is not None else None,
                    "exposure_s": round(float(exposure[p, j]), 0),
                    "records": int(((per == p) & (parts.tau[:, j] > 0)).sum()),
                    "fitted": i is not None,
                }
            )
    cv = _cross_validate(des, theta, d, use, rec, folds, sigma, pred_default, obs)
    return Calibration(
        profile=prof,
        base_profile=base,
        factors=factors,
        junction_delay={"value": round(d, 2), "se": round(float(se[-1]), 2), "default": base.intersection_delay_s},
        call_handling=ch,
        turnout=turn,
        turnout_posts=_turnouts(records, by="post"),
        cv=cv,
        residuals=_residuals(zone, rec, per, parts, pred, pred_default, obs),
        records={
            **records.describe(),
            "driving_fitted": int(use.sum()),
            "other_profiles": int((~mine).sum()),
            "without_departure": int((mine & ~np.isfinite(records.departure)).sum()),
            "unreached": int((~parts.reached).sum()),
            "period_rules": [list(r[:1]) + [list(r[1]), r[2], r[3]] for r in period_rules],
        },
        rejects=records.rejects,
        rounds=rounds,
        noise_sd_s=sigma,
        points={"observed": obs[use], "default": pred_default[use], "calibrated": pred[use], "period": per[use]},
    )


def _drive_rel_se(des, theta, cov, use, pred) -> float:
    """Relative standard error of the modelled driving time summed over the records (every fitted
    factor and the delay, their covariance included)."""
    part = des.tau * np.exp(-theta[des.period])
    g = np.zeros(len(des.free) + 1)
    for j, (p, grp) in enumerate(des.free):
        g[j] = -part[use & (des.period == p), grp].sum()
    g[-1] = des.junctions[use].sum()
    return round(float(np.sqrt(max(g @ cov @ g, 0.0)) / pred[use].sum()), 5)


def _cross_validate(des, theta, d, use, rec, folds, sigma, pred_default, obs) -> dict:
    ids = rec.incident_id.tolist()
    uniq = {v: i for i, v in enumerate(dict.fromkeys(ids))}
    perm = np.random.default_rng(12345).permutation(len(uniq))
    fold = perm[np.array([uniq[v] for v in ids])] % folds
    pred = np.full(len(obs), np.nan)
    for k in range(folds):
        train = use & (fold != k)
        test = use & (fold == k)
        if train.sum() < 10 or test.sum() == 0:
            continue
        th, dk, _ = _fit(des, np.zeros_like(theta), d, train, sigma)
        pred[test] = _model(th, dk, des, np.flatnonzero(test))
    ok = use & np.isfinite(pred)
    return {
        "folds": folds,
        "by": "incident",
        "default": prediction_errors(pred_default[ok], obs[ok]),
        "calibrated": prediction_errors(pred[ok], obs[ok]),
        "note": "drive time departure->arrival; calibrated = fitted on the other folds (routes of the last round)",
    }


def _call_handling(records: Records):
    ok = np.isfinite(records.alarm)
    if ok.sum() < 10:
        return None
    first: dict = {}
    for i, a, c in zip(records.incident_id[ok].tolist(), records.alarm[ok].tolist(), records.call[ok].tolist()):
        first[i] = min(first.get(i, math.inf), a - c)
    return fit_shifted_lognormal(np.array(list(first.values())))


def _turnouts(records: Records, by: str) -> dict:
    ok = np.isfinite(records.alarm) & np.isfinite(records.departure)
    t = (records.departure - records.alarm)[ok]
    key = records.post[ok]
    names = records.post_crews if by == "crew" else records.post_ids
    labels = np.array([names[k] for k in key.tolist()], dtype=object)
    out = {}
    for lab in sorted(set(labels.tolist())):
        x = t[labels == lab]
        if len(x) >= (10 if by == "crew" else MIN_POST_RECORDS):
            out[lab] = fit_shifted_lognormal(x)
    return out


def _residuals(zone, rec, per, parts, pred, pred_default, obs) -> dict:
    names = [m.name for m in zone.pack.municipalities]
    groups = {
        "municipality": np.array(
            [names[m] if m >= 0 else "(outside)" for m in rec.municipality.tolist()], dtype=object
        ),
        "road_class": np.array([factor_names()[j].split("/")[0] for j in parts.tau.argmax(1)], dtype=object),
        "time_slice": np.array([PERIOD_NAMES[p] for p in per.tolist()], dtype=object),
        "post": np.array([rec.post_ids[p] for p in rec.post.tolist()], dtype=object),
    }
    out = {}
    ok = np.isfinite(pred) & np.isfinite(obs) & np.isfinite(pred_default)
    for by, lab in groups.items():
        rows = []
        for v in sorted(set(lab[ok].tolist())):
            m = ok & (lab == v)
            e, e0 = pred[m] - obs[m], pred_default[m] - obs[m]
            rows.append(
                {
                    by: v,
                    "records": int(m.sum()),
                    "calibrated_median_error_s": round(float(np.median(e)), 1),
                    "calibrated_median_abs_error_s": round(float(np.median(np.abs(e))), 1),
                    "default_median_error_s": round(float(np.median(e0)), 1),
                    "default_median_abs_error_s": round(float(np.median(np.abs(e0))), 1),
                }
            )
        out[by] = rows
    return out
