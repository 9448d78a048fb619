"""Reading placement instances from files.

* :func:`read_long_csv` — long form ``demand_id,site_id,cost`` (+ optional ``weight`` column or
  a separate ``demand_id,weight`` file); a (demand, site) pair absent from the file is
  unreachable (``inf``).
* :func:`read_orlib_pmed` — Beasley's OR-Library p-median files (``pmed1.txt`` ...): graph edges,
  all-pairs shortest paths, every vertex both a demand point (weight 1) and a candidate site.
* :func:`orlib_pmed_like` — a seeded instance of the same shape, built the way the OR-Library
  generator built them (pmed21-pmed40 are not shipped with the developer benchmarks).

Both return plain pieces (a dict) that go straight into
:func:`kazerne.coverage.problem.from_cost_matrix`, and raise
:class:`~kazerne.errors.ModelInputError` naming file, line and column on malformed input.
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

from ..errors import ModelInputError
from ..limits import require_memory

__all__ = ["read_long_csv", "read_orlib_pmed", "orlib_pmed_like", "ORLIB_PMED_SHAPES"]


def _open_text(path):
    p = Path(path)
    if p.is_dir():
        raise ModelInputError("is a folder; expected an instance file", source=str(p))
    if not p.is_file():
        raise ModelInputError("file not found" if not p.exists() else "not a regular file", source=str(p))
    try:
        return p.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ModelInputError(f"cannot open: {exc.strerror}", source=str(p)) from None


def _number(text: str, path, line: int, column: str, *, allow_inf: bool) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise ModelInputError(
            f"line {line}, column {column!r}: expected a number, got {text!r}", source=str(path)
        ) from None
    if math.isnan(v):
        raise ModelInputError(
            f"line {line}, column {column!r}: NaN; expected a number >= 0"
            + (" (omit the row or write inf for unreachable)" if allow_inf else ""),
            source=str(path),
        )
    if v < 0:
        raise ModelInputError(
            f"line {line}, column {column!r}: negative value {text!r}; expected >= 0", source=str(path)
        )
    if math.isinf(v) and not allow_inf:
        raise ModelInputError(
            f"line {line}, column {column!r}: expected a finite number, got {text!r}", source=str(path)
        )
    return v


def _header(reader, path, required):
    try:
        header = next(reader)
    except StopIteration:
        raise ModelInputError("empty file; expected a header line " + ",".join(required), source=str(path)) from None
    cols = [h.strip() for h in header]
    missing = [c for c in required if c not in cols]
    if missing:
        raise ModelInputError(
            f"line 1: missing column(s) {', '.join(missing)}; expected a header with "
            f"{','.join(required)}, got {','.join(cols)}",
            source=str(path),
        )
    return cols


def _data_rows(reader, cols, path):
    """``(line number, row)`` of a CSV body: blank lines skipped, a wrong field count is an error."""
    for lineno, row in enumerate(reader, start=2):
        if not row or all(not x.strip() for x in row):
            continue
        if len(row) != len(cols):
            raise ModelInputError(
                f"line {lineno}: expected {len(cols)} fields ({','.join(cols)}), got {len(row)}", source=str(path)
            )
        yield lineno, row


def read_long_csv(path, demand_path=None) -> dict:
    """Read a long-form cost table.

    Parameters
    ----------
    path : str or Path
        CSV with header ``demand_id,site_id,cost`` and optionally ``weight`` (the weight of the
        demand point; repeated on each of its rows, all repeats must agree). Costs are numbers
        >= 0 (``inf`` allowed); ids are kept as strings.
    demand_path : str or Path, optional
        CSV ``demand_id,weight``; then it lists the demand points (also those with no row in
        ``path``, which are unreachable) and their weights.

    Returns
    -------
    dict
        ``cost`` (float64 ``(n_sites, n_demand)``, ``inf`` where a pair is absent), ``weights``,
        ``site_ids``, ``demand_ids`` (order of first appearance) — keyword arguments for
        :func:`~kazerne.coverage.problem.from_cost_matrix`.

    Raises
    ------
    ModelInputError
        Missing file or column, a row with the wrong number of fields, a non-numeric / NaN /
        negative cost or weight (message names file, line and column), a pair given twice with
        different costs, conflicting weights, or a demand id absent from ``demand_path``.
    """
    try:
        return _read_long_csv(path, demand_path)
    except UnicodeDecodeError:
        bad = path if demand_path is None or _is_utf8(path) else demand_path
        raise ModelInputError(
            "not a UTF-8 text file (a binary file?); expected a CSV demand_id,site_id,cost[,weight]", source=str(bad)
        ) from None
    except csv.Error as exc:
        raise ModelInputError(f"not a CSV file ({exc})", source=str(path)) from None


def _is_utf8(path) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            while fh.read(1 << 20):
                pass
        return True
    except (OSError, UnicodeDecodeError):
        return False


def _read_long_csv(path, demand_path):
    d_index, s_index = {}, {}
    rows_d, rows_s, rows_c = [], [], []
    weights = {}
    pair_seen = {}
    with _open_text(path) as fh:
        reader = csv.reader(fh)
        cols = _header(reader, path, ["demand_id", "site_id", "cost"])
        ci = {c: cols.index(c) for c in cols}
        has_w = "weight" in ci
        for lineno, row in _data_rows(reader, cols, path):
            did, sid = row[ci["demand_id"]].strip(), row[ci["site_id"]].strip()
            if not did:
                raise ModelInputError(f"line {lineno}, column 'demand_id': empty id", source=str(path))
            if not sid:
                raise ModelInputError(f"line {lineno}, column 'site_id': empty id", source=str(path))
            c = _number(row[ci["cost"]].strip(), path, lineno, "cost", allow_inf=True)
            if has_w:
                wv = _number(row[ci["weight"]].strip(), path, lineno, "weight", allow_inf=False)
                if did in weights and weights[did] != wv:
                    raise ModelInputError(
                        f"line {lineno}, column 'weight': {wv:g} differs from the weight "
                        f"{weights[did]:g} given earlier for demand {did!r}",
                        source=str(path),
                    )
                weights[did] = wv
            key = (did, sid)
            if key in pair_seen and pair_seen[key] != c:
                raise ModelInputError(
                    f"line {lineno}: demand {did!r} and site {sid!r} already have cost {pair_seen[key]:g}, now {c:g}",
                    source=str(path),
                )
            pair_seen[key] = c
            if did not in d_index:
                d_index[did] = len(d_index)
            if sid not in s_index:
                s_index[sid] = len(s_index)
            rows_d.append(d_index[did])
            rows_s.append(s_index[sid])
            rows_c.append(c)
    if demand_path is not None:
        file_w = {}
        order = []
        with _open_text(demand_path) as fh:
            reader = csv.reader(fh)
            cols = _header(reader, demand_path, ["demand_id", "weight"])
            ci = {c: cols.index(c) for c in cols}
            for lineno, row in _data_rows(reader, cols, demand_path):
                did = row[ci["demand_id"]].strip()
                if did in file_w:
                    raise ModelInputError(
                        f"line {lineno}, column 'demand_id': {did!r} listed twice", source=str(demand_path)
                    )
                file_w[did] = _number(row[ci["weight"]].strip(), demand_path, lineno, "weight", allow_inf=False)
                order.append(did)
        unknown = [d for d in d_index if d not in file_w]
        if unknown:
            raise ModelInputError(
                f"demand id {unknown[0]!r} (in {path}) is not listed in the demand file ({len(unknown)} unknown)",
                source=str(demand_path),
            )
        # demand order: the demand file's
        remap = {d: k for k, d in enumerate(order)}
        old_to_new = np.array([remap[d] for d in d_index], dtype=np.int64) if d_index else np.zeros(0, np.int64)
        rows_d = old_to_new[np.asarray(rows_d, dtype=np.int64)] if rows_d else np.zeros(0, np.int64)
        demand_ids = order
        w = np.array([file_w[d] for d in order], dtype=np.float64)
    else:
        demand_ids = list(d_index)
        w = np.array([weights.get(d, 1.0) for d in demand_ids], dtype=np.float64)
    if not s_index:
        raise ModelInputError("no cost rows; expected at least one demand_id,site_id,cost line", source=str(path))
    require_memory(
        8.0 * len(s_index) * len(demand_ids),
        f"the {len(s_index):,} sites x {len(demand_ids):,} demand points cost matrix",
        source=str(path),
    )
    cost = np.full((len(s_index), len(demand_ids)), np.inf, dtype=np.float64)
    cost[np.asarray(rows_s, dtype=np.int64), np.asarray(rows_d, dtype=np.int64)] = rows_c
    return {"cost": cost, "weights": w, "site_ids": list(s_index), "demand_ids": demand_ids}


#: (n, p) of OR-Library pmed1-pmed40 (Beasley 1985 / 1990); the files have ``n * n / 50`` edge lines.
ORLIB_PMED_SHAPES = {
    **{
        f"pmed{k + 1}": (100 * (k // 5 + 1), p)
        for k, p in enumerate(
            [
                5,
                10,
                10,
                20,
                33,
                5,
                10,
                20,
                40,
                67,
                5,
                10,
                30,
                60,
                100,
                5,
                10,
                40,
                80,
                133,
                5,
                10,
                50,
                100,
                167,
                5,
                10,
                60,
                120,
                200,
            ]
        )
    },
    "pmed31": (700, 5),
    "pmed32": (700, 10),
    "pmed33": (700, 70),
    "pmed34": (700, 140),
    "pmed35": (800, 5),
    "pmed36": (800, 10),
    "pmed37": (800, 80),
    "pmed38": (900, 5),
    "pmed39": (900, 10),
    "pmed40": (900, 90),
}


class InstanceTimeLimit(Exception):
    """The deadline passed while an instance was being read (its shortest paths computed)."""


#: sources per block of the all-pairs shortest paths: the deadline is checked between blocks
_SP_BLOCK = 256


def _pmed_cost(n: int, edges: dict, deadline: float | None = None) -> np.ndarray:
    """All-pairs shortest paths over undirected ``{(i, j): cost}`` edges on vertices ``0..n-1``
    (in blocks of sources; :class:`InstanceTimeLimit` once ``deadline``, a ``time.perf_counter()``
    value, has passed)."""
    if not edges:
        dist = np.full((n, n), np.inf)
        np.fill_diagonal(dist, 0.0)
        return dist
    ij = np.array(list(edges.keys()), dtype=np.int64)
    c = np.array(list(edges.values()), dtype=np.float64)
    loops = ij[:, 0] == ij[:, 1]
    ij, c = ij[~loops], c[~loops]
    # zero-cost edges would vanish in the sparse format: store them as a tiny positive cost
    g = coo_matrix((c, (ij[:, 0], ij[:, 1])), shape=(n, n)).tocsr()
    if (c == 0).any():
        g.data[g.data == 0] = np.finfo(float).tiny  # explicit zero edges (tiny positive)
    dist = np.empty((n, n))
    for a in range(0, n, _SP_BLOCK):
        if deadline is not None and time.perf_counter() > deadline:
            raise InstanceTimeLimit(f"the shortest paths of {a:,} of {n:,} vertices were computed")
        dist[a : a + _SP_BLOCK] = shortest_path(
            g, method="D", directed=False, indices=np.arange(a, min(n, a + _SP_BLOCK))
        )
    if (c == 0).any():
        dist = np.where(dist < 1e-300, 0.0, dist)
    return dist


def orlib_pmed_like(n: int, p: int, seed: int, edges: int | None = None) -> dict:
    """A seeded p-median instance shaped like OR-Library's pmed files.

    The OR-Library files show how they were generated: a Hamiltonian cycle ``1-2-...-n-1`` (the
    first ``n`` edge lines), then random vertex pairs up to ``n * n / 50`` lines in all, every
    cost a uniform integer in 1..100; a pair drawn again overwrites the earlier cost (the last line
    wins). Distances are shortest paths (the graph is connected by the cycle); every vertex is a
    demand point of weight 1 and a candidate site. Optimal values are unknown: these instances
    measure speed and proof, not correctness against a table.

    Parameters
    ----------
    n, p : int
        Vertices and medians (``1 <= p <= n``), e.g. ``ORLIB_PMED_SHAPES["pmed38"]``.
    seed : int
        Seed of :func:`numpy.random.default_rng`.
    edges : int, optional
        Edge lines (default ``n * n // 50``, at least ``n``).

    Returns
    -------
    dict
        As :func:`read_orlib_pmed`.
    """
    n, p = int(n), int(p)
    if n < 2 or not 1 <= p <= n:
        raise ValueError(f"expected n >= 2 and 1 <= p <= n, got n={n} p={p}")
    rng = np.random.default_rng(seed)
    m = max(n, n * n // 50 if edges is None else int(edges))
    cost = rng.integers(1, 101, size=m)
    a = np.concatenate([np.arange(n), rng.integers(0, n, size=m - n)])
    b = np.concatenate([(np.arange(n) + 1) % n, (a[n:] + rng.integers(1, n, size=m - n)) % n])  # b != a
    table = {}
    for i, j, c in zip(a.tolist(), b.tolist(), cost.tolist()):
        table[(min(i, j), max(i, j))] = float(c)  # last line for a pair wins
    ids = list(range(1, n + 1))
    return {"cost": _pmed_cost(n, table), "weights": np.ones(n), "site_ids": ids, "demand_ids": ids, "p": p}


def _pmed_header(it, src: str) -> tuple[int, int, int]:
    """``n m p`` of an OR-Library pmed file, from its first non-empty line (``it``: numbered split lines)."""
    head = None
    for lineno, parts in it:
        if parts:
            head = (lineno, parts)
            break
    if head is None:
        raise ModelInputError("empty file; expected a first line 'n m p'", source=src)
    lineno, parts = head
    if len(parts) != 3:
        raise ModelInputError(f"line {lineno}: expected 'n m p', got {' '.join(parts)!r}", source=src)
    try:
        n, m, p = (int(x) for x in parts)
    except ValueError:
        raise ModelInputError(
            f"line {lineno}: expected three integers 'n m p', got {' '.join(parts)!r}", source=src
        ) from None
    if n < 1 or m < 0 or not (1 <= p <= n):
        raise ModelInputError(f"line {lineno}: expected n >= 1, m >= 0, 1 <= p <= n; got n={n} m={m} p={p}", source=src)
    require_memory(8.0 * n * n, f"line {lineno}: n = {n:,} vertices: the {n:,} x {n:,} cost matrix", source=src)
    return n, m, p


def _pmed_edges(it, n: int, m: int, path) -> dict:
    """The ``m`` edge lines ``i j cost`` after the header: {(i, j) with i <= j: cost}, the last line of a pair wins."""
    src = str(path)
    edges: dict[tuple[int, int], float] = {}
    count = 0
    for lineno, parts in it:
        if not parts:
            continue
        if count >= m:
            raise ModelInputError(f"line {lineno}: more edge lines than the announced m={m}", source=src)
        if len(parts) != 3:
            raise ModelInputError(f"line {lineno}: expected 'i j cost', got {' '.join(parts)!r}", source=src)
        try:
            i, j = int(parts[0]), int(parts[1])
        except ValueError:
            raise ModelInputError(
                f"line {lineno}: expected integer vertex numbers, got {' '.join(parts[:2])!r}", source=src
            ) from None
        for col, v in (("i", i), ("j", j)):
            if not 1 <= v <= n:
                raise ModelInputError(f"line {lineno}, column {col}: vertex {v} outside 1..{n}", source=src)
        c = _number(parts[2], path, lineno, "cost", allow_inf=False)
        edges[(min(i, j), max(i, j))] = c  # last line for a pair wins
        count += 1
    if count < m:
        raise ModelInputError(f"expected {m} edge lines, found {count}", source=src)
    return edges


def read_orlib_pmed(path, deadline: float | None = None) -> dict:
    """Read an OR-Library p-median instance (Beasley 1985).

    Format: first line ``n m p``; then ``m`` lines ``i j cost``, undirected edges between
    1-based vertices. **For a vertex pair given more than once, the last line wins** (as in the
    original generator; taking the minimum gives wrong optima, e.g. 5718 instead of 5819 for
    pmed1). Costs are shortest-path lengths over the graph (``scipy.sparse.csgraph``).

    Parameters
    ----------
    path : str or Path
    deadline : float, optional
        A ``time.perf_counter()`` value: past it the shortest paths stop with
        ``InstanceTimeLimit`` (``kazerne solve --time-limit`` bounds the whole command).

    Returns
    -------
    dict
        ``cost`` (float64 ``(n, n)``; every vertex is a site and a demand point),
        ``weights`` (ones), ``site_ids`` and ``demand_ids`` (``1..n``), ``p``.

    Raises
    ------
    ModelInputError
        Missing file, malformed header or edge line (file and line named), vertex out of range,
        negative or NaN cost, fewer edge lines than announced.
    """
    src = str(path)
    try:
        with _open_text(path) as fh:
            lines = fh.read().split("\n")
    except UnicodeDecodeError:
        raise ModelInputError(
            "not a UTF-8 text file (a binary file?); expected an OR-Library pmed file", source=src
        ) from None
    it = ((k + 1, ln.split()) for k, ln in enumerate(lines))
    n, m, p = _pmed_header(it, src)
    edges = _pmed_edges(it, n, m, path)
    dist = _pmed_cost(n, {(i - 1, j - 1): c for (i, j), c in edges.items()}, deadline)
    ids = list(range(1, n + 1))
    return {"cost": dist, "weights": np.ones(n), "site_ids": ids, "demand_ids": ids, "p": p}
