"""The headline figures of a run's ``summary.json``, flattened (used by the characterization test).

Every number, string and boolean of the summary, keyed by its path (``result/after/share_within/12``),
except what legitimately differs between two runs of the same code: timestamps, versions, solve
times, MIP bounds and gaps of time-limited solves, load averages, paths and the scenario echo.
"""

from __future__ import annotations

import re

#: top-level keys that are not results (the echo of the inputs, provenance)
SKIP_TOP = {"assumptions", "created", "kazerne_version", "scenario", "inputs", "outputs", "files"}
#: leaf keys that vary between runs of the same code (time, machine, solver bounds)
VOLATILE = re.compile(
    r"(second|_s$|^s$|time|gap|bound|load|path|created|version|elapsed|wall|(^|_)dir$|(^|_)files?$)", re.I
)


def flatten(summary: dict) -> dict:
    out: dict = {}

    def walk(v, path):
        if isinstance(v, dict):
            for k, x in v.items():
                if not path and k in SKIP_TOP:
                    continue
                if VOLATILE.search(str(k)):
                    continue
                walk(x, f"{path}/{k}" if path else str(k))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, f"{path}[{i}]")
        elif v is None or isinstance(v, (bool, int, float, str)):
            out[path] = v

    walk(summary, "")
    return out
