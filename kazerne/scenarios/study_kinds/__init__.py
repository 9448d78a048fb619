"""Study kinds: one module per ``[study] kind``, one registry line per module.

A *study kind* (``add``, ``close``, ``relocate``, ...) is everything one value of ``[study] kind``
needs beyond what every study shares (the common fields of :class:`StudySpec`, the candidate sites
and their response-time matrix, the deadline, the sensitivity re-solves, the writer): how its own
fields are checked, how it is solved, what its map and report show and what the console prints::

    [study] ──schema (common fields) + kind.parse (its own)──► StudySpec (frozen)
            ──studies.prepare_study (shared)──► StudyInput ──kind.solve──► StudyOutcome
            ──kind.view──► StudyView (map markers, surfaces, report words; kazerne.report.study_report)
            ──kind.console──► lines the command line prints

A new kind is one module defining a :class:`StudyKind` subclass instance and one line in
:data:`STUDY_KIND_MODULES` (``"<kind>": "<module>:<attribute>"``). Modules are imported on first use
(the schema imports this registry: it imports nothing of kazerne but ``sites`` for the defaults).
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from typing import Any

from ...sites import DEFAULT_CANDIDATE_CLASSES

# The protocol's arguments and results (StudyInput, StudyOutcome, StudyResult, Variant of
# kazerne.scenarios.study_common; StudyView of kazerne.report.study_report) are typed Any here: the
# schema imports this registry, and study_common reaches the schema (no import cycle, not even for
# type checking); each kind's module types them exactly.

__all__ = ["STUDY_KIND_MODULES", "StudyKind", "StudySpec", "get_study_kind", "study_kind_names", "study_kinds"]

#: ``[study] kind`` -> "module:attribute" of its StudyKind object; one line per kind (this order is
#: the order the schema's error lines list them in)
STUDY_KIND_MODULES: dict[str, str] = {
    "add": "kazerne.scenarios.study_kinds.add:KIND",
    "close": "kazerne.scenarios.study_kinds.close:KIND",
    "relocate": "kazerne.scenarios.study_kinds.relocate:KIND",
    "greenfield": "kazerne.scenarios.study_kinds.greenfield:KIND",
    "minimum": "kazerne.scenarios.study_kinds.minimum:KIND",
    "compare": "kazerne.scenarios.study_kinds.compare:KIND",
    "add-vehicle": "kazerne.scenarios.study_kinds.add_vehicle:KIND",
}


@dataclass(frozen=True)
class StudySpec:
    """``[study]`` as read and checked by the schema: the fields every study has, their defaults
    (here and nowhere else), and ``params``, the kind's own fields (a frozen dataclass of the kind's
    module, or None).

    The sizing fields ``k``, ``m``, ``p_min``, ``p_max`` and ``share`` are each used by one or two
    kinds but checked and reported (``summary.json``'s ``study``) for every study, as before.
    Read-only mapping access (``st["k"]``, ``st.get("vehicle")``) reaches the kind's fields too.
    """

    kind: str
    threshold: float = 0.0  # minutes; the schema's default is the middle report threshold
    k: int = 1
    m: int = 1
    p_min: int = 1
    p_max: int = 0  # the schema's default is max(p_min, number of open posts)
    share: float = 1.0
    spacing_m: float = 500.0
    buffer_m: float = 0.0
    time_limit_s: float = 120.0
    objective: str = "coverage"  # "coverage" | "pmedian"
    new_crew: str = "professional"
    new_turnout_s: float | None = None  # None: the new crew's turnout
    sensitivity: bool = False  # the whole sensitivity analysis (speed, turnout, threshold)
    band: bool = True  # the speed band (kazerne.scenarios.band): on unless sensitivity = false
    include_generated: bool = True  # the schema's default is the kind's ``generated``
    candidate_classes: tuple = tuple(DEFAULT_CANDIDATE_CLASSES)
    sites: tuple = ()  # [[study.sites]] entries (dicts)
    slice: str | None = None
    params: Any = None

    def as_dict(self) -> dict:
        """The flat mapping (common fields, then the kind's own after ``sensitivity``); an absent
        ``new_turnout_s`` is left out, lists stay lists."""
        out: dict = {}
        for f in dataclasses.fields(self):
            val = getattr(self, f.name)
            if f.name == "params" or (f.name == "new_turnout_s" and val is None):
                continue
            out[f.name] = list(val) if isinstance(val, tuple) else val
            if f.name == "sensitivity" and self.params is not None:
                out.update(dataclasses.asdict(self.params))
        return out

    def summary(self) -> dict:
        """``summary.json``'s ``study``: every field but the sites."""
        return {k: v for k, v in self.as_dict().items() if k != "sites"}

    def replace(self, **changes) -> StudySpec:
        return dataclasses.replace(self, **changes)

    def __getitem__(self, key: str):
        d = self.as_dict()
        if key not in d:
            raise KeyError(key)
        return d[key]

    def __contains__(self, key: str) -> bool:
        return key in self.as_dict()

    def get(self, key: str, default=None):
        return self.as_dict().get(key, default)

    def items(self):
        return self.as_dict().items()


class StudyKind:
    """The protocol of a study kind, with the defaults most kinds keep (subclass it).

    Attributes say what the shared pipeline does for the kind; methods are the kind's own parts.
    """

    #: ``[study] kind`` and the registry key
    name: str = ""
    #: the report's title after the zone's name; ``{k}`` is "one new post", "2 new posts", ...
    title: str = ""
    #: the kind's own ``[study]`` fields (beyond the common ones) and what they are for (error lines)
    keys: frozenset = frozenset()
    purpose: str = ""
    #: ``include_generated``'s default: generated junctions as candidate sites
    generated: bool = True
    #: False: the study may run with no post open (it builds a network from scratch)
    needs_posts: bool = True
    #: True: the response-time matrix is not cut at the threshold (every site's full times are used)
    full_matrix: bool = False
    #: refuse a threshold within which no candidate site reaches anyone
    reach_check: bool = True
    #: the kind re-solves under perturbed speed, turnout and threshold (``[study] sensitivity``; a
    #: kind without it ignores the field, as close and compare always have, or refuses it in ``parse``)
    sensitivity: bool = False
    #: the kind runs with [[slices]] / turnout tables (``study.slice``)
    slices: bool = True

    def parse(self, v: Any, raw: dict, sc: Any, st: StudySpec) -> Any:
        """Check the kind's own fields of ``raw`` (``v.fail(field, msg)`` for a one-line error) and
        the common ones as the kind needs them; return its params (a frozen dataclass) or None."""
        return None

    def profile(self, ctx: Any, sc: Any) -> Any:
        """The speed profile of the candidates' matrix (None: the scenario's)."""
        return None

    def check_sizes(self, sc: Any, st: StudySpec, n_candidates: int, n_posts: int) -> None:
        """Refuse, before the matrix is computed, a size the candidates cannot give (ScenarioError)."""

    def solve(self, inp: Any) -> Any:
        """The study's answer (nothing written)."""
        raise NotImplementedError

    def resolve(self, var: Any) -> Any:
        """The study's solve under one sensitivity variant: a SolveResult (kinds with ``sensitivity``)."""
        raise NotImplementedError

    def view(self, res: Any, after: Any) -> Any:
        """What the map, the layers and the report show (``after``: the recommended network's report)."""
        raise NotImplementedError

    def recommendation(self, res: dict, summary: dict | None = None) -> str:
        """The answer in one sentence for the report's headline ("" when there is none)."""
        return ""

    def console(self, summary: dict) -> list[str]:
        """The kind's lines on the terminal (after the common header and solves)."""
        return []


def study_kind_names() -> list[str]:
    """The registered study kinds, in registry order."""
    return list(STUDY_KIND_MODULES)


def get_study_kind(name: str) -> StudyKind:
    """The registered study kind ``name`` (imported on first use)."""
    module, _, attr = STUDY_KIND_MODULES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def study_kinds() -> list[StudyKind]:
    """Every registered study kind (imports their modules)."""
    return [get_study_kind(n) for n in STUDY_KIND_MODULES]
