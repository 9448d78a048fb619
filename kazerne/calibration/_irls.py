"""One step of iteratively reweighted least squares with soft-L1 weights, compiled with numba.

``X`` is mostly zeros (a record drives in one period: 8 of the 24 factor columns and the delay), and
the weighted normal equations of 20,000 x 25 are tiny; a multi-threaded BLAS on a busy machine spends
more time waking its threads than computing them (measured: 180 ms per product on 2 shared cores
against 2 ms in this loop). Without numba, the same sums in numpy.
"""

from __future__ import annotations

import numpy as np

try:
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - numba is a dependency; kept for a stripped install
    HAVE_NUMBA = False

__all__ = ["irls_step"]


def _step_numpy(X, y, beta, sigma, A, b):
    r = (X @ beta - y) / sigma
    w = 1.0 / np.sqrt(1.0 + r * r)
    Xw = X * w[:, None]
    A += Xw.T @ X / sigma**2
    b += Xw.T @ y / sigma**2


if HAVE_NUMBA:

    @njit(cache=True)
    def _step_numba(X, y, beta, sigma, A, b):  # pragma: no cover - compiled
        n, k = X.shape
        s2 = sigma * sigma
        for i in range(n):
            m = 0.0
            for a in range(k):
                m += X[i, a] * beta[a]
            r = (m - y[i]) / sigma
            w = 1.0 / np.sqrt(1.0 + r * r) / s2
            for a in range(k):
                xa = X[i, a]
                if xa == 0.0:
                    continue
                b[a] += w * xa * y[i]
                for c in range(k):
                    A[a, c] += w * xa * X[i, c]


def irls_step(X, y, beta, sigma, prior_A, prior_b):
    """The weighted normal equations ``(A, b)`` at ``beta`` (soft-L1 weights ``1 / sqrt(1 + (r/sigma)^2)``,
    residuals ``r = X beta - y``) plus the prior's ``prior_A``, ``prior_b``."""
    A = prior_A.copy()
    b = prior_b.copy()
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    beta = np.ascontiguousarray(beta, dtype=np.float64)
    (_step_numba if HAVE_NUMBA else _step_numpy)(X, y, beta, float(sigma), A, b)
    return A, b


if HAVE_NUMBA:

    @njit(cache=True)
    def tree_parts(order, pred, gp, gi, gd, hp, hi, hd, hgroup, table, delay, k):  # pragma: no cover - compiled
        """Per node of one search tree, the route from the root in parts: columns 0..k-1 the seconds
        per factor group at base speeds (the no-delay graph ``h``'s arc time x the arc's factor),
        column k the junction delays paid (the routing graph ``g``'s arc time less ``h``'s, over
        ``delay``). ``order``: the nodes by increasing time (a predecessor comes first)."""
        out = np.zeros((pred.shape[0], k + 1))
        for node in order:
            p = pred[node]
            if p < 0:
                continue
            j = hp[p]
            while hi[j] != node:
                j += 1
            jj = gp[p]
            while gi[jj] != node:
                jj += 1
            t0 = hd[j]
            grp = hgroup[j]
            for c in range(k + 1):
                out[node, c] = out[p, c]
            out[node, grp] += t0 * table[grp]
            out[node, k] += np.rint((gd[jj] - t0) / delay)
        return out


def _gram_numpy(X, wts):
    return (X * wts[:, None]).T @ X


if HAVE_NUMBA:

    @njit(cache=True)
    def _gram_numba(X, wts):  # pragma: no cover - compiled
        n, k = X.shape
        G = np.zeros((k, k))
        for i in range(n):
            for a in range(k):
                xa = X[i, a] * wts[i]
                if xa == 0.0:
                    continue
                for c in range(k):
                    G[a, c] += xa * X[i, c]
        return G


def weighted_gram(X, wts) -> np.ndarray:
    """``X' diag(wts) X`` (see the module docstring for why not BLAS)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    wts = np.ascontiguousarray(wts, dtype=np.float64)
    return _gram_numba(X, wts) if HAVE_NUMBA else _gram_numpy(X, wts)
