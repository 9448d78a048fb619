"""Shortest driving times on the road network: the searches every other routing module builds on.

:func:`drive_times` runs one Dijkstra search per source on the profile's CSR graph (a numba-compiled
binary-heap Dijkstra over threads, or ``scipy.sparse.csgraph.dijkstra``), with a cutoff;
:func:`check_nodes` validates node ids at the public boundaries. :mod:`kazerne.routing.travel`
(sites x demand response times), :mod:`~kazerne.routing.isochrones` and
:mod:`~kazerne.routing.routes` sit on top of this module, which imports none of them.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csgraph

from ..errors import ModelInputError, NodeIdError
from .network import RoadNetwork
from .profiles import SpeedProfile

__all__ = ["ENGINES", "check_nodes", "cutoff_seconds", "drive_times", "shortest_tree"]

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
            raise NodeIdError(
                f"node id {a[bad][0].item()!r} is not an integer; expected ids in 0..{n_nodes - 1}", field=field
            )
    elif a.dtype.kind not in "iu":
        first = a.ravel()[0]
        first = first.item() if hasattr(first, "item") else first
        raise NodeIdError(f"expected integer node ids in 0..{n_nodes - 1}, got {first!r} ({a.dtype})", field=field)
    lo, hi = a.min(), a.max()
    if lo < 0 or hi >= n_nodes:
        bad = a[(a < 0) | (a >= n_nodes)][0].item()
        raise NodeIdError(f"node id {bad!r} outside the network's 0..{n_nodes - 1}", field=field)
    return a.astype(np.int64)


def drive_times(
    net: RoadNetwork,
    profile: SpeedProfile,
    sources,
    cutoff_s: float | None = None,
    workers: int | None = None,
    chunk: int = 128,
    progress=None,
    engine: str = "auto",
    reverse: bool = False,
) -> np.ndarray:
    """Driving times (s) from each source node to every node: array (len(sources), n_nodes), float64.

    ``reverse=True`` gives the times from every node **to** each source instead (the searches run on
    the reversed graph: one-way streets and turn-free edge times as driven towards the source).

    Unreached nodes (or beyond ``cutoff_s``) are ``inf``. ``engine`` is ``"numba"`` (compiled
    binary-heap Dijkstra, threads over sources), ``"scipy"`` (``csgraph.dijkstra``) or ``"auto"``
    (numba when installed). ``workers`` caps the threads (default: all cores).
    """
    from ..checks import check_net
    from ..limits import require_memory
    from . import _dijkstra
    from .profiles import check_profile

    net, profile = check_net(net), check_profile(profile)
    sources = check_nodes(sources, net.n_nodes, "sources")
    if engine not in ENGINES:
        raise ModelInputError(f"expected one of {', '.join(ENGINES)}, got {engine!r}", field="engine")
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ModelInputError(f"expected a whole number >= 1, got {chunk!r}", field="chunk")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1):
        raise ModelInputError(f"expected a whole number of threads >= 1, got {workers!r}", field="workers")
    limit = cutoff_seconds(cutoff_s)
    require_memory(
        8.0 * len(sources) * net.n_nodes,
        f"the times from {len(sources):,} sources to {net.n_nodes:,} nodes",
        field="sources",
    )
    g = net.csr(profile)
    if reverse:
        g = g.T.tocsr()
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
                numba.set_num_threads(max(1, min(workers, numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]  # set at import
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


def cutoff_seconds(cutoff_s) -> float:
    """A cutoff in seconds: ``None`` -> ``inf``; otherwise a number >= 0 (one-line error otherwise)."""
    if cutoff_s is None:
        return np.inf
    try:
        c = float(cutoff_s)
    except (TypeError, ValueError):
        raise ModelInputError(f"expected seconds >= 0 (or None), got {cutoff_s!r}", field="cutoff_s") from None
    if np.isnan(c) or c < 0:
        raise ModelInputError(f"expected seconds >= 0 (or None), got {cutoff_s!r}", field="cutoff_s")
    return c


def shortest_tree(net: RoadNetwork, profile: SpeedProfile, node: int, cutoff_s: float | None = None):
    """Single-site search: ``(times, predecessors)`` over all nodes (s; -9999 predecessor = none)."""
    (node,) = check_nodes([node], net.n_nodes, "node")
    g = net.csr(profile)
    d, pred = csgraph.dijkstra(
        g, directed=True, indices=int(node), return_predecessors=True, limit=cutoff_seconds(cutoff_s)
    )
    return d, pred
