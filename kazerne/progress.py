"""Progress of long work: stage lines and bars on stderr, timings, and the ``kazerne`` logger.

Every stage is also logged (``logging.getLogger("kazerne")``, level DEBUG), so a notebook or a batch
worker that silences the terminal still has it; ``quiet=True`` silences stderr only.
"""

from __future__ import annotations

import logging
import sys
import time

__all__ = ["Progress"]

log = logging.getLogger("kazerne")


class Progress:
    """Stage messages on stderr (``--quiet`` silences them)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.t0 = time.perf_counter()
        self.last = self.t0
        self.timings: dict = {}

    def step(self, what: str):
        now = time.perf_counter()
        log.debug("%s", what)  # the terminal already has the line (console shows INFO)
        if not self.quiet:
            print(f"kazerne [{now - self.t0:6.1f} s] {what}", file=sys.stderr, flush=True)
        self.last = now

    def done(self, key: str):
        now = time.perf_counter()
        self.timings[key] = round(now - self.last, 3)
        self.last = now

    def bar(self, total: int, desc: str):
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, disable=self.quiet, file=sys.stderr, leave=False)
