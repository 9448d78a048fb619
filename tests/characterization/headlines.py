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


#: the solver time limit (s) of the shipped files' [study] / [ems] when the tests run them: long enough
#: that no solve of a shipped example is cut short on a loaded machine (they prove optimality in
#: seconds on an idle one; at a load of 13 on two cores the 120 s of minimum-posts ran out and its
#: status read "feasible"), so that the recorded figures depend on the code only
UNHURRIED_S = 3600.0


def unhurried(text: str, name: str | None = None) -> dict:
    """A scenario file's TOML ``text`` as a dict, renamed ``name`` when given, with the time limits of
    ``[study]`` and ``[ems]`` raised to :data:`UNHURRIED_S` (``time_limit_s`` is not a recorded figure)."""
    import tomllib

    raw = tomllib.loads(text)
    if name is not None:
        raw["name"] = name
    for section in ("study", "ems"):
        if isinstance(raw.get(section), dict):
            raw[section]["time_limit_s"] = max(float(raw[section].get("time_limit_s", 0.0)), UNHURRIED_S)
    return raw


def run_unhurried(path, out_root, text: str | None = None, name: str | None = None):
    """Run the scenario file ``path`` (or ``text`` read as if it were that file: relative paths anchor
    at its folder) with :func:`unhurried` time limits; the run's folder."""
    from pathlib import Path

    from kazerne.progress import Progress
    from kazerne.scenarios.runner import run_scenario
    from kazerne.scenarios.schema import parse_scenario_data

    path = Path(path)
    sc = parse_scenario_data(unhurried(text if text is not None else path.read_text(encoding="utf-8"), name), path)
    return Path(run_scenario(sc, Path(out_root), Progress(True)))
