"""The state of the queueing simulation (:func:`kazerne.coverage.queueing.simulate`): free units, busy
periods per batch, the queue, and the counts of the calls after the warm-up."""

from __future__ import annotations

import heapq
import math

import numpy as np


class QueueSimState:
    """The state of :func:`simulate`: free units, busy periods per batch, the queue, and the counts
    of the calls after the warm-up (batches are defined by call counts; their time limits are
    filled in as the simulation goes)."""

    def __init__(self, n: int, n_batches: int, within_rank: list, queue: bool):
        self.n, self.n_batches, self.within_rank, self.queue = n, n_batches, within_rank, queue
        self.free = [True] * n
        self.busy_since = [0.0] * n
        self.busy_time = np.zeros((n_batches, n))
        self.events: list[tuple[float, int]] = []  # (completion time, unit)
        self.waiting: list[float] = []  # FIFO of queued service times
        self.wait_head = 0
        self.rank_count = np.zeros((n_batches, n))
        self.all_busy_count = np.zeros(n_batches)
        self.within_count = np.zeros((n_batches, len(within_rank)))
        self.calls_in_batch = np.zeros(n_batches)
        self.t_start: float | None = None
        self.batch_start_time = np.zeros(n_batches + 1)
        self.batch = 0

    def account(self, unit: int, t_from: float, t_to: float) -> None:
        """Charge the busy interval [t_from, t_to] to the current batch (only after the warm-up)."""
        if self.t_start is None or t_to <= self.t_start:
            return
        self.busy_time[self.batch, unit] += t_to - max(t_from, self.t_start)

    def complete_until(self, t: float) -> None:
        """Process the completions up to ``t``: a freed unit takes the next queued call, if any."""
        events = self.events
        while events and events[0][0] <= t:
            tc, u = heapq.heappop(events)
            if self.queue and self.wait_head < len(self.waiting):
                heapq.heappush(events, (tc + self.waiting[self.wait_head], u))
                self.wait_head += 1
                continue
            self.account(u, self.busy_since[u], tc)
            self.free[u] = True

    def start(self, t: float) -> None:
        """End of the warm-up: measure from ``t``."""
        self.t_start = t
        self.batch_start_time[0] = t
        for u in range(self.n):
            if not self.free[u]:
                self.busy_since[u] = t

    def next_batch(self, b: int, t: float) -> None:
        """Close the batch at ``t``: charge running busy periods to it, then count in batch ``b``."""
        for u in range(self.n):
            if not self.free[u]:
                self.account(u, self.busy_since[u], t)
                self.busy_since[u] = t
        self.batch_start_time[b] = t
        self.batch = b

    def lost_or_queued(self, service: float, measured: bool) -> None:
        """A call finding every unit busy: queued (``queue``) or lost."""
        if measured:
            self.all_busy_count[self.batch] += 1
        if self.queue:
            self.waiting.append(service)

    def record(self, i: int, chosen: int) -> None:
        """Count a measured call from demand point ``i`` served by its ``chosen``-th preferred unit."""
        bb = self.batch
        self.rank_count[bb, chosen] += 1
        for m in range(len(self.within_rank)):
            if self.within_rank[m][i, chosen]:
                self.within_count[bb, m] += 1

    def result(self, t_end: float, tvals: list, seed: int) -> tuple:
        """(busy fraction per unit, share of calls finding all busy, extra: shares and batch-means standard
        errors) at the end ``t_end``."""
        n, calls_in_batch, rank_count = self.n, self.calls_in_batch, self.rank_count
        for u in range(n):
            if not self.free[u]:
                self.account(u, self.busy_since[u], t_end)
        self.batch_start_time[self.n_batches] = t_end
        dur = np.diff(self.batch_start_time)
        busy_b = self.busy_time / dur[:, None]
        assert self.t_start is not None  # the loop passes call number warmup_calls (n_calls > warmup_calls)
        busy = self.busy_time.sum(axis=0) / (t_end - self.t_start)
        calls = calls_in_batch.sum()

        def se(x):
            return float(np.std(x, ddof=1) / math.sqrt(len(x))) if len(x) > 1 else float("nan")

        share = {tv: float(self.within_count[:, m].sum() / calls) for m, tv in enumerate(tvals)}
        se_share = {tv: se(self.within_count[:, m] / calls_in_batch) for m, tv in enumerate(tvals)}
        extra = {
            "rank_share": rank_count.sum(axis=0) / calls,
            "share_within": share,
            "se_busy": np.array([se(busy_b[:, u]) for u in range(n)]),
            "se_share": se_share,
            "se_rank_share": np.array([se(rank_count[:, k] / calls_in_batch) for k in range(n)]),
            "se_p_all_busy": se(self.all_busy_count / calls_in_batch),
            "n_calls": int(calls),
            "seed": int(seed),
        }
        return busy, float(self.all_busy_count.sum() / calls), extra
