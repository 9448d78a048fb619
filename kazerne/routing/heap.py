"""The binary min-heap of the compiled shortest-path searches (numba; plain Python when numba is missing).

Two parallel arrays hold the entries: ``heap_d`` the keys (seconds), ``heap_n`` the nodes; ``size`` is
passed in and returned. Both are inlined into the calling kernel (``inline="always"``): as
fast as the hand-inlined loop they replace. Used by the many-source Dijkstra of :mod:`kazerne.routing` and by the
segment-closure repair of :mod:`kazerne.coverage.criticality` (lazy deletion: a popped entry whose key
is above the node's current time is stale and skipped by the caller).
"""

from __future__ import annotations

try:  # pragma: no cover - exercised implicitly
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False

    def njit(*a, **k):  # type: ignore[no-redef]
        if a and callable(a[0]):
            return a[0]
        return lambda f: f


__all__ = ["HAVE_NUMBA", "heap_pop", "heap_push", "njit"]


@njit(cache=True, nogil=True, inline="always")
def heap_push(heap_d, heap_n, size, nd, v):
    """Push node ``v`` with key ``nd`` (sift up); returns the new size."""
    i = size
    while i > 0:
        p = (i - 1) // 2
        if heap_d[p] > nd:
            heap_d[i] = heap_d[p]
            heap_n[i] = heap_n[p]
            i = p
        else:
            break
    heap_d[i] = nd
    heap_n[i] = v
    return size + 1


@njit(cache=True, nogil=True, inline="always")
def heap_pop(heap_d, heap_n, size):
    """Pop the smallest entry (the last one moves to the root and sifts down); returns (key, node, new size)."""
    d = heap_d[0]
    u = heap_n[0]
    size -= 1
    if size > 0:
        ld = heap_d[size]
        ln = heap_n[size]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= size:
                break
            if c + 1 < size and heap_d[c + 1] < heap_d[c]:
                c += 1
            if heap_d[c] < ld:
                heap_d[i] = heap_d[c]
                heap_n[i] = heap_n[c]
                i = c
            else:
                break
        heap_d[i] = ld
        heap_n[i] = ln
    return d, u, size
