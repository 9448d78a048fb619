"""Scenario files (TOML): schema and validation.

Every problem is reported as one :class:`~kazerne.errors.ScenarioError` line naming the file, the
field and what was expected. See ``scenarios/README.md`` for every field with its unit and default.

Each section is validated once into its typed value (:mod:`kazerne.scenarios.sections`), by its
module: :mod:`~kazerne.scenarios.schema_sections` (profile, thresholds, demand, turnout, posts,
outputs), :mod:`~kazerne.scenarios.schema_fleet` (vehicles, neighbouring posts),
:mod:`~kazerne.scenarios.schema_response` (response, slices), :mod:`~kazerne.scenarios.network`
(road changes) and each run kind's ``parse`` (:mod:`kazerne.scenarios.kinds`: ``[ems]``,
``[criticality]`` ...). ``[study]`` is validated here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from ..errors import ScenarioError
from ..routing.profiles import CLASS_INDEX
from ..sites import DEFAULT_CANDIDATE_CLASSES, DEFAULT_TURNOUT_S, crew_type  # noqa: F401  (re-exported)
from .ems_spec import EMS_KEYS, EMS_KINDS, EMS_MODELS, EMS_UNIT_TYPES, MAX_EMS_UNITS  # noqa: F401
from .schema_check import (  # noqa: F401  (re-exported: the limits and the validator)
    MAX_FILE_BYTES,
    MAX_NAME_BYTES,
    MAX_NAME_CHARS,
    MAX_P,
    MAX_SITES,
    MAX_TEXT_CHARS,
    MAX_THRESHOLD_MIN,
    MAX_TIME_LIMIT_S,
    MAX_TURNOUT_S,
    MIN_SPEED_KMH,
    MIN_SPEED_SCALE,
    Validator,
    read_toml_file,
)
from .schema_check import position as _position
from .schema_check import show as _show
from .schema_fleet import MAX_RESPONSES, MAX_VEHICLE_TYPES, MAX_VEHICLES, NEIGHBOUR_KEYS, fleet_section  # noqa: F401
from .schema_response import RESPONSE_KEYS, call_handling_only, response_section, slices_section  # noqa: F401
from .schema_sections import (  # noqa: F401  (re-exported)
    DEFAULT_THRESHOLDS_MIN,
    DEMAND_KEYS,
    OUTPUT_KEYS,
    POSTS_KEYS,
    PROFILE_KEYS,
    PostSpec,
    demand_section,
    outputs_section,
    posts_section,
    profile_section,
    thresholds_section,
    turnout_section,
)
from .sections import (
    DEFAULT_EMS_TURNOUT_S,  # noqa: F401
    DemandSection,
    EmsSection,
    FleetSection,
    OutputsSection,
    ProfileSection,
    ResponseSection,
)
from .study_kinds import STUDY_KIND_MODULES, StudySpec, get_study_kind

TOP_KEYS = {
    "name",
    "zone",
    "description",
    "profile",
    "thresholds",
    "demand",
    "posts",
    "turnout",
    "outputs",
    "worst_n",
    "study",
    "vehicles",
    "response",
    "slices",
    "network",
}

#: ``[study]`` fields every kind has, and its kinds (see scenarios/README.md).
STUDY_KEYS = {
    "kind",
    "threshold",
    "k",
    "m",
    "p_min",
    "p_max",
    "share",
    "objective",
    "new_crew",
    "new_turnout_s",
    "spacing_m",
    "buffer_m",
    "candidate_classes",
    "sites",
    "time_limit_s",
    "sensitivity",
    "include_generated",
    "slice",
}
#: the registered study kinds (:mod:`kazerne.scenarios.study_kinds`; a kind's own fields come with it)
STUDY_KINDS = tuple(STUDY_KIND_MODULES)
STUDY_SITE_KEYS = {"id", "name", "lat", "lon", "street", "municipality", "crew", "turnout_s"}


class StudySite(TypedDict, total=False):
    """A ``[[study.sites]]`` entry: ``id`` and a position (lat/lon or street), optional name, crew, turnout."""

    id: str
    name: str
    lat: float
    lon: float
    street: str
    municipality: str
    crew: str
    turnout_s: float


@dataclass
class Scenario:
    """A validated scenario: every section typed (:mod:`kazerne.scenarios.sections`), defaults filled in."""

    path: Path
    name: str
    zone: str
    description: str = ""
    profile: ProfileSection = field(default_factory=ProfileSection)
    thresholds_min: list = field(default_factory=lambda: list(DEFAULT_THRESHOLDS_MIN))
    demand: DemandSection = field(default_factory=DemandSection)
    posts: list = field(default_factory=list)  # PostSpec, active ones only
    closed: list = field(default_factory=list)  # ids closed by override
    turnout_s: dict = field(default_factory=lambda: dict(DEFAULT_TURNOUT_S))
    outputs: OutputsSection = field(default_factory=OutputsSection)
    worst_n: int = 20
    study: StudySpec | None = None
    fleet: FleetSection = field(default_factory=FleetSection)  # [vehicles], [posts.vehicles], [[posts.neighbours]]
    response: ResponseSection | None = None  # [response]: call handling and turnout distributions (None: no section)
    slices: list | None = None  # [[slices]] (None: one slice, the whole week)
    #: 112 call -> alarm at the post (s): every time and threshold counts from the call; 0 = from the alarm
    call_handling_s: float = ResponseSection.call_handling_s
    #: [network]: road changes of a measure (:mod:`kazerne.scenarios.network`): date, changes, compare
    network: dict = field(default_factory=lambda: {"date": None, "changes": [], "compare": False})
    #: sections of registered run kinds (:mod:`kazerne.scenarios.kinds`): section name -> typed spec
    kinds: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)

    @property
    def ems(self) -> EmsSection | None:
        """The ``[ems]`` section (the EMS run kind's spec), or None."""
        return self.kinds.get("ems")


_V = Validator


def _name(v: _V, raw) -> str:
    name = v.string(raw, "name", max_len=MAX_NAME_CHARS)
    if any(c in name for c in "/\\") or name.startswith(".") or len(name.encode("utf-8")) > MAX_NAME_BYTES:
        v.fail(
            "name",
            f"expected a plain name usable as a folder (at most {MAX_NAME_CHARS} characters, "
            f"no / or \\, not starting with '.'), got {_show(name)}",
        )
    return name


def parse_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file: every field typed and range-checked, ``[study]`` and
    ``[ems]`` included (ids and places are checked against the pack by
    :func:`kazerne.scenarios.resolve.resolve_posts` and the study runners)."""
    return parse_scenario_data(read_toml_file(_scenario_path(path)), Path(path))


def _scenario_path(path) -> Path:
    import os

    if not isinstance(path, (str, os.PathLike)):
        raise ScenarioError(f"expected the path of a scenario file (TOML), got {path!r}", field="path")
    return Path(path)


def read_toml(path: str | Path) -> dict:
    """A TOML file as a dict, with the checks and one-line errors of scenario files (size, UTF-8, syntax)."""
    return read_toml_file(_scenario_path(path))


def _own_kinds(v: _V, raw: dict) -> list:
    """The registered kinds' sections in the file (at most one, and not beside ``[study]``)."""
    from .kinds import kind_names

    names = set(kind_names())
    own = [k for k in raw if k in names]
    for k in own:
        if len(own) > 1 or "study" in raw:
            other = next(o for o in [*own, "study"] if o != k and o in raw)
            v.fail(k, f"give one kind of run per scenario: [{k}] or [{other}], not both")
    return own


def _header(v: _V, raw: dict, path: Path, own: list) -> Scenario:
    """name, zone and description (posts are required unless a run kind brings its own sites)."""
    for req in ("name", "zone") + (() if own else ("posts",)):
        if req not in raw:
            v.fail(req, "missing (required)")
    sc = Scenario(path=path, name=_name(v, raw["name"]), zone=v.string(raw["zone"], "zone"), raw=raw)
    if "description" in raw:
        d = raw["description"]
        if not isinstance(d, str) or "\x00" in d or len(d) > 10000:
            v.fail("description", f"expected text of at most 10000 characters, got {_show(d)}")
        sc.description = d
    return sc


def _clock_sections(v: _V, raw: dict, sc: Scenario, own: list) -> None:
    """``[response]`` and ``[[slices]]`` (a kind with its own turnout reads call handling only)."""
    from .kinds import get_kind

    own_turnout = [k for k in own if getattr(get_kind(k), "own_turnout", False)]
    if own_turnout:
        sc.call_handling_s = call_handling_only(v, raw, f"[{own_turnout[0]}] studies")
    elif "response" in raw or "slices" in raw:
        sc.response = response_section(v, raw, sc)
        sc.slices = slices_section(v, raw, sc)
        sc.call_handling_s = float(sc.response.call_handling_s)


def parse_scenario_data(raw: dict, path: str | Path) -> Scenario:
    """Validate a scenario given as a dict (as ``tomllib`` reads it); ``path`` names it in errors and
    anchors relative paths (``demand.file``). :func:`parse_scenario` reads the file and calls this."""
    path = Path(path)
    v = _V(path)
    from .kinds import get_kind, kind_names

    v.table(raw, "", TOP_KEYS | set(kind_names()))
    own = _own_kinds(v, raw)
    sc = _header(v, raw, path, own)
    sc.profile = profile_section(v, raw, path)
    sc.thresholds_min = thresholds_section(v, raw)
    sc.demand = demand_section(v, raw, path)
    sc.turnout_s = turnout_section(v, raw)
    sc.posts, sc.closed = posts_section(v, raw)
    sc.fleet = fleet_section(v, raw, sc)
    sc.outputs = outputs_section(v, raw)
    if "worst_n" in raw:
        sc.worst_n = v.integer(raw["worst_n"], "worst_n", 0, 10000)
    if "study" in raw:
        sc.study = _study_section(v, raw["study"], sc)
    early = [k for k in own if getattr(get_kind(k), "own_turnout", False)]  # parsed where [ems] always was
    for k in early:
        sc.kinds[k] = get_kind(k).parse(v, raw[k], sc)
    _clock_sections(v, raw, sc, own)
    from .network import parse_network

    sc.network = parse_network(v, raw, sc)
    for k in own:
        if k not in early:
            sc.kinds[k] = get_kind(k).parse(v, raw[k], sc)
    if sc.study is not None:
        _study_extras(v, raw, sc)
    return sc


def _study_extras(v: _V, raw: dict, sc: Scenario) -> None:
    """What ``[study]`` needs of the sections read after it (the time slice it optimises for)."""
    assert sc.study is not None
    sc.study = sc.study.replace(slice=_study_slice(v, raw["study"], sc))
    if sc.study.slice is not None and sc.study.sensitivity:
        v.fail("study.sensitivity", "not yet with [[slices]] or turnout tables; expected false (or drop those)")
    if sc.study.slice is not None and not get_study_kind(sc.study.kind).slices:
        v.fail("study.kind", f"{sc.study.kind} is not yet available with [[slices]] or turnout tables (drop those)")


def _study_section(v: _V, raw, sc: Scenario) -> StudySpec:
    """The validated ``[study]`` table: the common fields (defaults in :class:`StudySpec`), the sites,
    then the kind's own fields and checks (its module's ``parse``)."""
    from .study_kinds import study_kind_names, study_kinds

    kinds = study_kinds()
    own_keys = {k: kd for kd in kinds for k in kd.keys}
    v.table(raw, "study", STUDY_KEYS | set(own_keys))
    names = study_kind_names()
    if "kind" not in raw:
        v.fail("study.kind", f"missing (required); expected one of {', '.join(names)}")
    kind = get_study_kind(v.choice(raw["kind"], "study.kind", tuple(names)))
    for k in sorted(set(raw) & set(own_keys)):
        if k not in kind.keys:
            v.fail(f"study.{k}", f'only for kind = "{own_keys[k].name}" ({own_keys[k].purpose}), not {kind.name}')
    st = _study_common(v, raw, sc, kind)
    return st.replace(params=kind.parse(v, raw, sc, st))


def _study_common(v: _V, raw: dict, sc: Scenario, kind) -> StudySpec:
    """The fields every study has (the sizing fields k, m, p_min, p_max, share too: each kind uses
    its own, all are checked and reported)."""
    d = StudySpec(kind=kind.name)
    th = sc.thresholds_min
    n_posts = len(sc.posts)
    threshold = v.number(raw.get("threshold", th[len(th) // 2]), "study.threshold", lo=0.1, hi=MAX_THRESHOLD_MIN)
    k = v.integer(raw.get("k", d.k), "study.k", 1, MAX_P)
    m = v.integer(raw.get("m", d.m), "study.m", 1, 2)
    p_min = v.integer(raw.get("p_min", d.p_min), "study.p_min", 1, MAX_P)
    p_max = v.integer(raw.get("p_max", max(p_min, n_posts)), "study.p_max", 1, MAX_P)
    if p_max < p_min:
        v.fail("study.p_max", f"expected p_max >= p_min ({p_min}), got {p_max}")
    new_turnout = None
    if "new_turnout_s" in raw:
        new_turnout = v.number(raw["new_turnout_s"], "study.new_turnout_s", lo=0, hi=MAX_TURNOUT_S)
    classes = raw.get("candidate_classes", list(d.candidate_classes))
    if (
        not isinstance(classes, list)
        or not classes
        or any(not isinstance(c, str) or c not in CLASS_INDEX for c in classes)
    ):
        v.fail(
            "study.candidate_classes",
            f"expected a non-empty list of road classes from {', '.join(CLASS_INDEX)}, got {_show(classes)}",
        )
    return StudySpec(
        kind=kind.name,
        threshold=threshold,
        k=k,
        m=m,
        p_min=p_min,
        p_max=p_max,
        share=v.number(raw.get("share", d.share), "study.share", lo=0.0, lo_open=True, hi=1.0),
        spacing_m=v.number(raw.get("spacing_m", d.spacing_m), "study.spacing_m", lo=50, hi=100000),
        buffer_m=v.number(raw.get("buffer_m", d.buffer_m), "study.buffer_m", lo=0, hi=100000),
        time_limit_s=v.number(raw.get("time_limit_s", d.time_limit_s), "study.time_limit_s", lo=1, hi=MAX_TIME_LIMIT_S),
        objective=v.choice(raw.get("objective", d.objective), "study.objective", ("coverage", "pmedian")),
        new_crew=crew_type(v.string(raw.get("new_crew", d.new_crew), "study.new_crew")),
        new_turnout_s=new_turnout,
        sensitivity=v.boolean(raw.get("sensitivity", d.sensitivity), "study.sensitivity"),
        band=raw.get("sensitivity") is not False,  # the speed band of every placement study (issue 24)
        include_generated=v.boolean(raw.get("include_generated", kind.generated), "study.include_generated"),
        candidate_classes=tuple(classes),
        sites=tuple(_study_sites(v, raw, sc)),
    )


def _study_sites(v: _V, raw: dict, sc: Scenario) -> list[StudySite]:
    """``[[study.sites]]``: id (unique among posts, neighbours and sites) and a position."""
    sites: list[StudySite] = []
    seen = {p.id for p in sc.posts} | {n["id"] for n in sc.fleet.get("neighbours", [])}
    for k, sd in enumerate(v.tables(raw.get("sites", []), "study.sites", STUDY_SITE_KEYS)):
        fld = f"study.sites[{k}]"
        if "id" not in sd:
            v.fail(f"{fld}.id", "missing (required)")
        sid = v.string(sd["id"], f"{fld}.id")
        if sid in seen:
            v.fail(f"{fld}.id", f"duplicate site id {sid!r} (a post or an earlier site has it)")
        seen.add(sid)
        site: StudySite = {"id": sid, **_position(v, sd, fld)}
        if "lat" not in site and "street" not in site:
            v.fail(fld, "a site needs lat/lon or street")
        if "name" in sd:
            site["name"] = v.string(sd["name"], f"{fld}.name")
        if "crew" in sd:
            site["crew"] = v.string(sd["crew"], f"{fld}.crew")
        if "turnout_s" in sd:
            site["turnout_s"] = v.number(sd["turnout_s"], f"{fld}.turnout_s", lo=0, hi=MAX_TURNOUT_S)
        sites.append(site)
    return sites


def _study_slice(v: _V, st: dict, sc: Scenario) -> str | None:
    """``study.slice``: the time slice a study optimises for, ``mix`` (hour-weighted), or None (no
    [[slices]] and no turnout tables in [response]: the study runs on the scenario's posts and
    turnouts, from the call with ``call_handling_s``, like every study)."""
    timed = "slices" in sc.raw or bool(sc.response and sc.response.tables)
    if "slice" not in st:
        if not timed:
            return None
        assert sc.slices is not None  # timed: _clock_sections read [response] / [[slices]]
        return "mix" if len(sc.slices) > 1 else sc.slices[0]["name"]
    if not timed:
        v.fail("study.slice", "only with [[slices]] (or [response] turnout tables) in the scenario")
    assert sc.slices is not None  # timed: _clock_sections read [response] / [[slices]]
    names = [s["name"] for s in sc.slices]
    return v.choice(st["slice"], "study.slice", (*names, "mix"))
