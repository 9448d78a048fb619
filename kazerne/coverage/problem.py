"""The one way into the placement models: a validated cost matrix.

Every model in :mod:`kazerne.coverage.models` takes a :class:`Problem`. It is built from a dense
cost matrix (sites x demand points), demand weights and the site sets ``fixed`` (must stay open)
and ``closed`` (may not open); all other sites are candidates. Nothing here knows about roads or
geometry, so the models are testable on textbook instances.

Conventions
-----------
* ``cost[j, i]`` is the cost (e.g. travel time in seconds, or distance) from site ``j`` to
  demand point ``i``; ``np.inf`` means unreachable.
* "within T" means ``cost <= T``.
* Weights are non-negative (e.g. expected calls per year, or residents).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ModelInputError

__all__ = ["Problem", "from_cost_matrix"]


@dataclass(frozen=True, eq=False)
class Problem:
    """A validated placement problem.

    Attributes
    ----------
    cost : numpy.ndarray
        Shape ``(n_sites, n_demand)``, float32 or float64, non-negative, ``inf`` = unreachable.
        Units are whatever the caller uses (seconds, metres); radii are in the same unit.
    weights : numpy.ndarray
        Shape ``(n_demand,)``, float64, non-negative demand weights.
    site_ids : list
        One id per site (row of ``cost``); unique.
    demand_ids : list
        One id per demand point (column of ``cost``); unique.
    fixed : numpy.ndarray
        Boolean mask ``(n_sites,)``: sites that must be open.
    closed : numpy.ndarray
        Boolean mask ``(n_sites,)``: sites that may not open.
    """

    cost: np.ndarray
    weights: np.ndarray
    site_ids: list
    demand_ids: list
    fixed: np.ndarray
    closed: np.ndarray

    def __post_init__(self):
        from ..checks import check_fields

        check_fields(self)
        for name in ("cost", "weights", "fixed", "closed"):
            if not isinstance(getattr(self, name), np.ndarray):
                raise ModelInputError(
                    "expected a numpy array; build a Problem with kz.from_cost_matrix(cost, weights)",
                    field=f"Problem.{name}",
                )
        if self.cost.ndim != 2:
            raise ModelInputError(f"expected a 2-D array, got shape {self.cost.shape}", field="Problem.cost")
        n, m = self.cost.shape
        for name, size in (("weights", m), ("site_ids", n), ("demand_ids", m), ("fixed", n), ("closed", n)):
            if len(getattr(self, name)) != size:
                raise ModelInputError(
                    f"expected {size} values (one per {'row' if size == n and name != 'weights' else 'column'} of "
                    f"cost), got {len(getattr(self, name))}",
                    field=f"Problem.{name}",
                )

    @property
    def n_sites(self) -> int:
        """Number of sites (rows of ``cost``)."""
        return int(self.cost.shape[0])

    @property
    def n_demand(self) -> int:
        """Number of demand points (columns of ``cost``)."""
        return int(self.cost.shape[1])

    @property
    def allowed(self) -> np.ndarray:
        """Boolean mask of sites that may be open (fixed or candidate)."""
        return ~self.closed

    @property
    def n_fixed(self) -> int:
        """Number of fixed sites."""
        return int(self.fixed.sum())

    @property
    def n_allowed(self) -> int:
        """Number of sites that may be open (fixed plus candidates)."""
        return int((~self.closed).sum())

    @property
    def total_weight(self) -> float:
        """Sum of all demand weights."""
        return float(self.weights.sum())

    def check_p(self, p, field: str = "p") -> int:
        """Validate a number of sites ``p`` against the fixed and allowed sites.

        Raises
        ------
        ModelInputError
            If ``p`` is not an integer, ``p < len(fixed)`` or ``p >`` number of allowed sites.
        """
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
            if isinstance(p, (float, np.floating)) and float(p).is_integer():
                p = int(p)
            else:
                raise ModelInputError(f"expected an integer number of sites, got {p!r}", field=field)
        p = int(p)
        if p < self.n_fixed:
            raise ModelInputError(f"p={p} is smaller than the number of fixed sites ({self.n_fixed})", field=field)
        if p > self.n_allowed:
            raise ModelInputError(
                f"p={p} is larger than the number of sites allowed to open "
                f"({self.n_allowed} of {self.n_sites}; {self.n_sites - self.n_allowed} closed)",
                field=field,
            )
        if p < 1 and self.n_demand > 0 and self.n_fixed == 0:
            raise ModelInputError(f"expected p >= 1, got {p}", field=field)
        return p

    def site_index(self, ids: Iterable, field: str) -> np.ndarray:
        """Map site ids to row indices; unknown ids raise :class:`ModelInputError`."""
        lookup = {sid: k for k, sid in enumerate(self.site_ids)}
        out = []
        for sid in ids:
            k = lookup.get(sid)
            if k is None:
                k = lookup.get(str(sid))
            if k is None:
                raise ModelInputError(f"unknown site id {sid!r} (not among the {self.n_sites} sites)", field=field)
            out.append(k)
        return np.asarray(out, dtype=np.int64)


def check_ids(ids, n: int, field: str) -> list:
    """``ids`` as a list of ``n`` unique ids (``0..n-1`` when ``None``); else :class:`ModelInputError`."""
    if ids is None:
        return list(range(n))
    ids = list(ids)
    if len(ids) != n:
        raise ModelInputError(
            f"expected {n} ids (one per {'row' if field in ('site_ids', 'base_ids') else 'column'} of cost), "
            f"got {len(ids)}",
            field=field,
        )
    if len(set(ids)) != n:
        seen, dup = set(), None
        for x in ids:
            if x in seen:
                dup = x
                break
            seen.add(x)
        raise ModelInputError(f"ids must be unique; {dup!r} occurs more than once", field=field)
    return ids


def _site_mask(spec, lookup: dict, n: int, field: str) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    if spec is None:
        return mask
    if isinstance(spec, np.ndarray) and spec.dtype == bool:
        if spec.shape != (n,):
            raise ModelInputError(f"boolean mask must have shape ({n},), got {spec.shape}", field=field)
        return spec.copy()
    if isinstance(spec, (str, bytes)):
        spec = [spec]
    for sid in spec:
        k = lookup.get(sid)
        if k is None and not isinstance(sid, str):
            k = lookup.get(str(sid))
        if k is None:
            raise ModelInputError(f"unknown site id {sid!r} (not among the {n} sites)", field=field)
        mask[k] = True
    return mask


def check_weights(weights, n_demand: int) -> np.ndarray:
    """Demand weights as float64, shape ``(n_demand,)``, finite and >= 0; else :class:`ModelInputError`."""
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise ModelInputError("expected numeric weights", field="weights") from None
    if w.shape != (n_demand,):
        raise ModelInputError(
            f"expected shape ({n_demand},) (one weight per demand column), got {w.shape}", field="weights"
        )
    if w.size and not np.isfinite(w).all():
        i = int(np.flatnonzero(~np.isfinite(w))[0])
        raise ModelInputError(f"weight {w[i]!r} at demand column {i}; expected a finite number >= 0", field="weights")
    if w.size and w.min() < 0:
        i = int(np.flatnonzero(w < 0)[0])
        raise ModelInputError(f"negative weight {w[i]!r} at demand column {i}; expected >= 0", field="weights")
    return w


def from_cost_matrix(
    cost,
    weights=None,
    *,
    site_ids: Sequence | None = None,
    demand_ids: Sequence | None = None,
    fixed: Iterable | None = None,
    closed: Iterable | None = None,
) -> Problem:
    """Validate inputs and build a :class:`Problem`.

    Parameters
    ----------
    cost : array_like
        Dense matrix of shape ``(n_sites, n_demand)``: cost (seconds, metres, ...) from each
        site to each demand point. float32 is kept as float32 (no copy) to keep memory low;
        other numeric types become float64. ``np.inf`` marks an unreachable pair.
    weights : array_like, optional
        Shape ``(n_demand,)``, non-negative demand weights (default: all 1).
    site_ids, demand_ids : sequence, optional
        Unique ids for the rows / columns (default ``0..n-1``).
    fixed : iterable of site ids, optional
        Sites that must be open.
    closed : iterable of site ids, optional
        Sites that may not open. A site cannot be both fixed and closed.

    Returns
    -------
    Problem

    Raises
    ------
    ModelInputError
        Non-numeric, NaN or negative costs, a cost matrix that is not 2-D, weights of the wrong
        length or negative / non-finite, duplicate or unknown ids, a site both fixed and closed.
    """
    if isinstance(cost, np.ndarray) and cost.dtype in (np.float32, np.float64):
        c = cost
    else:
        try:
            c = np.asarray(cost)
        except Exception as exc:  # ragged lists and the like
            raise ModelInputError(f"expected a numeric 2-D array: {exc}", field="cost") from None
        if c.dtype == bool or not (np.issubdtype(c.dtype, np.integer) or np.issubdtype(c.dtype, np.floating)):
            raise ModelInputError(f"expected numeric costs, got dtype {c.dtype}", field="cost")
        c = c.astype(np.float32 if c.dtype == np.float32 else np.float64)
    if c.ndim != 2:
        raise ModelInputError(f"expected a 2-D array (n_sites, n_demand), got {c.ndim} dimension(s)", field="cost")
    n_sites, n_demand = c.shape
    if n_sites == 0:
        raise ModelInputError("expected at least one site (row)", field="cost")
    if c.size:
        lo = c.min()  # NaN propagates through min; one pass, no temporary mask
        if np.isnan(lo):
            j, i = np.argwhere(np.isnan(c))[0]
            raise ModelInputError(
                f"NaN cost at site row {j}, demand column {i}; expected a number >= 0 (use inf for unreachable)",
                field="cost",
            )
        if lo < 0:
            j, i = np.argwhere(c < 0)[0]
            raise ModelInputError(
                f"negative cost {c[j, i]!r} at site row {j}, demand column {i}; expected >= 0", field="cost"
            )
    w = np.ones(n_demand, dtype=np.float64) if weights is None else check_weights(weights, n_demand)
    sids = check_ids(site_ids, n_sites, "site_ids")
    dids = check_ids(demand_ids, n_demand, "demand_ids")
    lookup = {sid: k for k, sid in enumerate(sids)}
    fmask = _site_mask(fixed, lookup, n_sites, "fixed")
    cmask = _site_mask(closed, lookup, n_sites, "closed")
    both = fmask & cmask
    if both.any():
        raise ModelInputError(f"site {sids[int(np.flatnonzero(both)[0])]!r} is both fixed and closed", field="closed")
    return Problem(cost=c, weights=w, site_ids=sids, demand_ids=dids, fixed=fmask, closed=cmask)
