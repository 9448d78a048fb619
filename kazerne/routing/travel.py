"""Travel times from sites (posts, candidate sites, bases) to demand.

Direction matters: times run *from* the site *to* the demand point (one-way streets). A response
time is ``turnout_s + drive_s``. Shortest paths use ``scipy.sparse.csgraph.dijkstra`` on the
profile's CSR graph, one search per site with a ``limit`` (the cutoff): a numba-compiled binary-heap Dijkstra over threads (``_dijkstra``), or
``scipy.sparse.csgraph.dijkstra`` when numba is missing.

Matrix storage (documented choice): :func:`travel_matrix` returns a **dense float32** array
(sites × demand, seconds, ``inf`` beyond the cutoff or unreachable). 2,000 sites × 15,000 demand
points is 120 MB, fine on this class of machine; for larger problems use ``sparse=True`` which
returns a ``scipy.sparse.csr_matrix`` holding only the finite entries (an absent entry = beyond
the cutoff, *not* zero).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from ..errors import ModelInputError, NodeIdError
from .network import RoadNetwork
from .profiles import SpeedProfile

ENGINES = ("auto", "numba", "scipy")


def check_nodes(ids, n_nodes: int, field: str = "sources") -> np.ndarray:
    """Network node ids as a 1-D int64 array, each an integer in ``[0, n_nodes)``.

    Integer arrays pass; floats only when they hold whole numbers (1.0, never 1.7 -> 1).

    Raises
    ------
    NodeIdError
        Naming ``field``, the first bad id and the valid range. (Out-of-range ids would read
        memory outside the graph arrays in the compiled search.)
    """
    a = np.asarray(ids)
    if a.ndim > 1:
        raise NodeIdError(f"expected a 1-D list of node ids, got an array of shape {a.shape}", field=field)
    a = np.atleast_1d(a)
    if a.size == 0:
        return a.astype(np.int64)
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a) | (a != np.round(a))
        if bad.any():
            raise NodeIdError(f"node id {a[bad][0].item()!r} is not an integer; expected ids in 0..{n_nodes - 1}",
                              field=field)
    elif a.dtype.kind not in "iu":
        first = a.ravel()[0]
        first = first.item() if hasattr(first, "item") else first
        raise NodeIdError(f"expected integer node ids in 0..{n_nodes - 1}, got {first!r} ({a.dtype})", field=field)
    lo, hi = a.min(), a.max()
    if lo < 0 or hi >= n_nodes:
        bad = a[(a < 0) | (a >= n_nodes)][0].item()
        raise NodeIdError(f"node id {bad!r} outside the network's 0..{n_nodes - 1}", field=field)
    return a.astype(np.int64)


def drive_times(net: RoadNetwork, profile: SpeedProfile, sources, cutoff_s: float | None = None,
                workers: int | None = None, chunk: int = 128, progress=None, engine: str = "auto") -> np.ndarray:
    """Driving times (s) from each source node to every node: array (len(sources), n_nodes), float64.

    Unreached nodes (or beyond ``cutoff_s``) are ``inf``. ``engine`` is ``"numba"`` (compiled
    binary-heap Dijkstra, threads over sources), ``"scipy"`` (``csgraph.dijkstra``) or ``"auto"``
    (numba when installed). ``workers`` caps the threads (default: all cores).
    """
    from ..limits import require_memory
    from . import _dijkstra

    sources = check_nodes(sources, net.n_nodes, "sources")
    if engine not in ENGINES:
        raise ModelInputError(f"expected one of {', '.join(ENGINES)}, got {engine!r}", field="engine")
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ModelInputError(f"expected a whole number >= 1, got {chunk!r}", field="chunk")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, (int, np.integer))
                                or workers < 1):
        raise ModelInputError(f"expected a whole number of threads >= 1, got {workers!r}", field="workers")
    limit = _cutoff(cutoff_s)
    require_memory(8.0 * len(sources) * net.n_nodes,
                   f"the times from {len(sources):,} sources to {net.n_nodes:,} nodes", field="sources")
    g = net.csr(profile)
    out = np.empty((len(sources), net.n_nodes), dtype=np.float64)
    if len(sources) == 0:
        return out
    use_numba = engine == "numba" or (engine == "auto" and _dijkstra.HAVE_NUMBA)
    for i in range(0, len(sources), chunk):
        ix = slice(i, min(i + chunk, len(sources)))
        if use_numba:
            if workers:
                import numba
                old = numba.get_num_threads()
                numba.set_num_threads(max(1, min(workers, numba.config.NUMBA_NUM_THREADS)))
            try:
                _dijkstra.many_source(g, sources[ix], limit, out[ix])
            finally:
                if workers:
                    numba.set_num_threads(old)
        else:
            out[ix] = csgraph.dijkstra(g, directed=True, indices=sources[ix], limit=limit)
        if progress is not None:
            progress.update(ix.stop - ix.start)
    return out


def _cutoff(cutoff_s) -> float:
    if cutoff_s is None:
        return np.inf
    try:
        c = float(cutoff_s)
    except (TypeError, ValueError):
        raise ModelInputError(f"expected seconds >= 0 (or None), got {cutoff_s!r}", field="cutoff_s") from None
    if np.isnan(c) or c < 0:
        raise ModelInputError(f"expected seconds >= 0 (or None), got {cutoff_s!r}", field="cutoff_s")
    return c


@dataclass
class TravelTimes:
    """Response times from sites to demand points.

    Attributes
    ----------
    site_ids : list of str
    turnout_s : ndarray
        Turnout time per site, seconds.
    seconds : ndarray or scipy.sparse.csr_matrix
        (n_sites, n_demand) response time = turnout + drive, seconds; ``inf`` (dense) or absent
        (sparse) beyond ``cutoff_s`` or unreachable. Demand flagged ``no_road_data`` is ``nan``.
    cutoff_s : float
        Largest response time kept (``inf`` = none).
    """

    site_ids: list
    turnout_s: np.ndarray
    seconds: np.ndarray
    cutoff_s: float = float("inf")
    meta: dict = field(default_factory=dict)

    def dense(self) -> np.ndarray:
        if sparse.issparse(self.seconds):
            d = np.full(self.seconds.shape, np.inf, dtype=np.float32)
            c = self.seconds.tocoo()
            d[c.row, c.col] = c.data
            return d
        return self.seconds


def travel_matrix(net: RoadNetwork, profile: SpeedProfile, site_nodes, turnout_s, demand_nodes,
                  cutoff_s: float | None = None, site_ids=None, no_road_data=None, sparse_out: bool = False,
                  workers: int | None = None, progress=None) -> TravelTimes:
    """Sites × demand response times (turnout + drive), seconds.

    Parameters
    ----------
    site_nodes : array of int
        Network node of each site.
    turnout_s : float or array
        Turnout time per site (seconds), added to the drive time.
    demand_nodes : array of int
        Network node of each demand point.
    cutoff_s : float, optional
        Response times above this are ``inf`` (dense) / absent (sparse). Speeds the searches up.
    no_road_data : array of bool, optional
        Demand points without road data: their column is ``nan`` (dense) — never a time.
    sparse_out : bool
        Return a ``scipy.sparse.csr_matrix`` of finite entries instead of a dense float32 array.
    """
    site_nodes = check_nodes(site_nodes, net.n_nodes, "site_nodes")
    demand_nodes = check_nodes(demand_nodes, net.n_nodes, "demand_nodes")
    try:
        turnout = np.broadcast_to(np.asarray(turnout_s, dtype=np.float64), site_nodes.shape).copy()
    except (TypeError, ValueError):
        raise ModelInputError(f"expected one number or one per site (seconds), got {turnout_s!r}",
                              field="turnout_s") from None
    if np.any(turnout < 0) or not np.all(np.isfinite(turnout)):
        raise ModelInputError("turnout times must be finite and >= 0 seconds", field="turnout_s")
    cutoff = _cutoff(cutoff_s)
    limit = cutoff - float(turnout.min()) if len(turnout) and np.isfinite(cutoff) else None
    n_s, n_d = len(site_nodes), len(demand_nodes)
    # distinct site nodes are searched once (several posts may share a building)
    uniq, inv = np.unique(site_nodes, return_inverse=True)
    mat = np.empty((n_s, n_d), dtype=np.float32)
    step = 256
    for start in range(0, len(uniq), step):
        part = uniq[start:start + step]
        d = drive_times(net, profile, part, cutoff_s=limit, workers=workers, progress=progress)[:, demand_nodes]
        rows = np.flatnonzero((inv >= start) & (inv < start + len(part)))
        mat[rows] = d[inv[rows] - start] + turnout[rows, None]
    if np.isfinite(cutoff):
        mat[mat > cutoff] = np.inf
    if no_road_data is not None:
        mat[:, np.asarray(no_road_data, dtype=bool)] = np.nan
    ids = list(site_ids) if site_ids is not None else [str(i) for i in range(n_s)]
    if sparse_out:
        keep = np.isfinite(mat)
        r, c = np.nonzero(keep)
        mat = sparse.csr_matrix((mat[r, c], (r, c)), shape=(n_s, n_d))
    return TravelTimes(site_ids=ids, turnout_s=turnout, seconds=mat, cutoff_s=cutoff)


def kth_nearest(seconds: np.ndarray, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The k fastest sites for each demand point.

    Returns ``(times, sites)``, both shape (k, n_demand): ``times[r]`` the (r+1)-th fastest
    response time (``inf`` if fewer than r+1 sites reach it, ``nan`` for no_road_data columns)
    and ``sites[r]`` its site index (-1 when none). Ties are broken by site order.
    """
    m = np.asarray(seconds, dtype=np.float64)
    n_s, n_d = m.shape
    k_eff = min(k, n_s)
    nan_col = np.isnan(m).all(axis=0) if n_s else np.zeros(n_d, dtype=bool)
    filled = np.where(np.isnan(m), np.inf, m)
    order = np.argsort(filled, axis=0, kind="stable")[:k_eff]
    times = np.take_along_axis(filled, order, axis=0)
    sites = np.where(np.isfinite(times), order, -1)
    if k_eff < k:
        times = np.vstack([times, np.full((k - k_eff, n_d), np.inf)])
        sites = np.vstack([sites, -np.ones((k - k_eff, n_d), dtype=sites.dtype)])
    times[:, nan_col] = np.nan
    sites[:, nan_col] = -1
    return times, sites


def shortest_tree(net: RoadNetwork, profile: SpeedProfile, node: int, cutoff_s: float | None = None):
    """Single-site search: ``(times, predecessors)`` over all nodes (s; -9999 predecessor = none)."""
    (node,) = check_nodes([node], net.n_nodes, "node")
    g = net.csr(profile)
    d, pred = csgraph.dijkstra(g, directed=True, indices=int(node), return_predecessors=True,
                               limit=_cutoff(cutoff_s))
    return d, pred
