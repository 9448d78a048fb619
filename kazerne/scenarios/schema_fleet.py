"""The scenario's fleet: ``[vehicles]`` (types, crews, adequate responses), ``[posts.vehicles]`` and
``[[posts.neighbours]]``, validated once into a :class:`~kazerne.scenarios.sections.FleetSection`.
"""

from __future__ import annotations

from ..routing.profiles import PROFILES
from ..sites import crew_type
from .schema_check import MAX_TURNOUT_S, MIN_SPEED_KMH, MIN_SPEED_SCALE, Validator, key_text, position, show
from .sections import FleetSection

#: ``[vehicles]`` (types, crews, adequate responses) and ``[[posts.neighbours]]`` fields.
VEHICLES_KEYS = {"engine", "full_crew", "crew", "crew_by_post", "types", "responses"}
VEHICLE_TYPE_KEYS = {"label", "profile", "speed_scale", "vehicle_max_kmh"}
NEIGHBOUR_KEYS = {
    "id",
    "name",
    "zone",
    "lat",
    "lon",
    "street",
    "municipality",
    "crew",
    "turnout_s",
    "crew_size",
    "vehicles",
    "snap",
}
MAX_VEHICLES = 100  # of one type at one post; also the most crew per turnout and the full crew
MAX_VEHICLE_TYPES = 50
MAX_RESPONSES = 50


def _fleet_name(v: Validator, name, fld: str, what: str) -> str:
    """A vehicle type or response name: it becomes a column name (letters, digits, _ or -)."""
    from ..coverage.fleet import NAME_RE

    if not isinstance(name, str) or not NAME_RE.match(name):
        v.fail(
            fld,
            f"expected a {what} name of letters, digits, _ or - (at most 40, starting with a letter), got {show(name)}",
        )
    return name


def _vehicle_counts(v: Validator, d, fld: str, types: dict) -> dict:
    """``{type: count}`` of one post: known types, whole numbers 0-100, at least one vehicle."""
    if not isinstance(d, dict):
        v.fail(fld, f"expected a table type = count, e.g. {{AP = 1, aerial = 1}}, got {show(d)}")
    out = {}
    for t, c in d.items():
        f = f"{fld}.{key_text(t)}"
        if t not in types:
            v.fail(
                f,
                f"unknown vehicle type; expected one of {', '.join(types)} (or define it under [vehicles.types.<name>])",
            )
        out[t] = v.integer(c, f, 0, MAX_VEHICLES)
    if not any(out.values()):
        v.fail(fld, "expected at least one vehicle (a post without vehicles sends nothing; close it instead)")
    return out


def _types(v: Validator, vd: dict) -> dict:
    """The built-in vehicle types, with ``[vehicles.types.<name>]`` added or replacing them."""
    from ..coverage.fleet import DEFAULT_VEHICLE_TYPES, VehicleType

    types = dict(DEFAULT_VEHICLE_TYPES)
    td = vd.get("types", {})
    if not isinstance(td, dict):
        v.fail("vehicles.types", "expected tables [vehicles.types.<name>]")
    if len(td) > MAX_VEHICLE_TYPES:
        v.fail("vehicles.types", f"expected at most {MAX_VEHICLE_TYPES} types, got {len(td)}")
    for name, t in td.items():
        fld = f"vehicles.types.{key_text(name)}"
        _fleet_name(v, name, fld, "vehicle type")
        v.table(t, fld, VEHICLE_TYPE_KEYS)
        old = types.get(name, VehicleType(name))
        types[name] = VehicleType(
            name,
            label=v.string(t["label"], f"{fld}.label") if "label" in t else (old.label or name),
            profile=v.choice(t["profile"], f"{fld}.profile", tuple(PROFILES)) if "profile" in t else old.profile,
            speed_scale=v.number(t["speed_scale"], f"{fld}.speed_scale", lo=MIN_SPEED_SCALE, hi=10)
            if "speed_scale" in t
            else old.speed_scale,
            vehicle_max_kmh=v.number(t["vehicle_max_kmh"], f"{fld}.vehicle_max_kmh", lo=MIN_SPEED_KMH, hi=300)
            if "vehicle_max_kmh" in t
            else old.vehicle_max_kmh,
        )
    return types


def _crew(v: Validator, vd: dict) -> dict:
    crew = dict(FleetSection().crew)
    cd = vd.get("crew", {})
    if not isinstance(cd, dict):
        v.fail("vehicles.crew", "expected a table crew_type = people per turnout")
    for k, val in cd.items():
        crew[str(k)] = v.integer(val, f"vehicles.crew.{key_text(k)}", 0, MAX_VEHICLES)
    return crew


def _response_counts(v: Validator, spec, fld: str, types: dict) -> dict:
    """One adequate response: ``["AP", "aerial"]`` or ``{AP = 2, aerial = 1}`` as ``{type: count}``."""
    counts: dict = {}
    if isinstance(spec, list):
        if not spec or len(spec) > MAX_VEHICLE_TYPES + 10:
            v.fail(fld, f'expected a non-empty list of vehicle types, e.g. ["AP", "aerial"], got {show(spec)}')
        for t in spec:
            if not isinstance(t, str) or t not in types:
                v.fail(fld, f"unknown vehicle type {show(t)}; expected one of {', '.join(types)}")
            counts[t] = counts.get(t, 0) + 1
        return counts
    if not isinstance(spec, dict):
        v.fail(fld, f'expected a list of vehicle types ["AP", "aerial"] or a table {{AP = 2}}, got {show(spec)}')
    for t, c in spec.items():
        f = f"{fld}.{key_text(t)}"
        if t not in types:
            v.fail(f, f"unknown vehicle type; expected one of {', '.join(types)}")
        counts[t] = v.integer(c, f, 1, MAX_VEHICLES)
    if not counts:
        v.fail(fld, "expected at least one vehicle type")
    return counts


def _responses(v: Validator, vd: dict, types: dict) -> dict:
    rd = vd.get("responses", {})
    if not isinstance(rd, dict):
        v.fail("vehicles.responses", 'expected a table name = ["AP", "aerial"] or name = {AP = 2, aerial = 1}')
    if len(rd) > MAX_RESPONSES:
        v.fail("vehicles.responses", f"expected at most {MAX_RESPONSES} responses, got {len(rd)}")
    responses = {}
    for name, spec in rd.items():
        fld = f"vehicles.responses.{key_text(name)}"
        _fleet_name(v, name, fld, "response")
        responses[name] = _response_counts(v, spec, fld, types)
    return responses


def _post_vehicles(v: Validator, pv, types: dict, own: set, closed: set, engine: str) -> dict:
    """``[posts.vehicles]``: ``{open post id: {type: count}}``; some open post must have an engine."""
    from ..coverage.fleet import DEFAULT_ENGINE

    if not isinstance(pv, dict):
        v.fail("posts.vehicles", "expected a table post_id = {AP = 1, aerial = 1}")
    vehicles = {}
    for pid, d in pv.items():
        fld = f"posts.vehicles.{key_text(pid)}"
        if pid not in own and pid not in closed:
            v.fail(
                fld,
                "not an open post of this scenario (posts.active or [[posts.add]]); neighbouring posts "
                "give their vehicles in their [[posts.neighbours]] entry",
            )
        counts = _vehicle_counts(v, d, fld, types)
        if pid in own:
            vehicles[pid] = counts
    if own and not any(vehicles.get(pid, {DEFAULT_ENGINE: 1}).get(engine, 0) > 0 for pid in own):
        # every headline ("first fire engine", the map, the studies) counts the posts' engines
        v.fail(
            "posts.vehicles" if pv else "vehicles.engine",
            f"no open post has a {engine} (vehicles.engine, the fire engine every headline counts); "
            f"give at least one post one, e.g. {sorted(own)[0]} = {{ {engine} = 1 }}",
        )
    return vehicles


def _neighbour(v: Validator, nd: dict, fld: str, types: dict, crew: dict, turnout_s: dict) -> dict:
    """One ``[[posts.neighbours]]`` entry (its id already checked)."""
    from ..coverage.fleet import DEFAULT_ENGINE

    pos = position(v, nd, fld)
    if "lat" not in pos and "street" not in pos:
        v.fail(fld, "a neighbouring post needs lat/lon or street")
    n = {
        "id": nd["id"],
        "name": v.string(nd["name"], f"{fld}.name") if "name" in nd else nd["id"],
        "zone": v.string(nd["zone"], f"{fld}.zone"),
        "crew": crew_type(v.string(nd["crew"], f"{fld}.crew")),
        **pos,
    }
    if "turnout_s" in nd:
        n["turnout_s"] = v.number(nd["turnout_s"], f"{fld}.turnout_s", lo=0, hi=MAX_TURNOUT_S)
    if "crew_size" in nd:
        n["crew_size"] = v.integer(nd["crew_size"], f"{fld}.crew_size", 0, MAX_VEHICLES)
    elif n["crew"] not in crew:
        v.fail(
            f"{fld}.crew",
            f"no crew size for crew type {n['crew']!r}; give crew_size or add it under [vehicles.crew]",
        )
    if "turnout_s" not in nd and n["crew"] not in turnout_s:
        v.fail(f"{fld}.crew", f"no turnout time for crew type {n['crew']!r}; give turnout_s or add it under [turnout]")
    n["vehicles"] = (
        _vehicle_counts(v, nd["vehicles"], f"{fld}.vehicles", types) if "vehicles" in nd else {DEFAULT_ENGINE: 1}
    )
    n["snap"] = v.choice(nd.get("snap", "public"), f"{fld}.snap", ("public", "any"))
    return n


def _neighbours(v: Validator, posts: dict, seen: set, types: dict, crew: dict, turnout_s: dict) -> tuple:
    out = []
    for i, nd in enumerate(v.tables(posts.get("neighbours", []), "posts.neighbours", NEIGHBOUR_KEYS)):
        fld = f"posts.neighbours[{i}]"
        for req in ("id", "zone", "crew"):
            if req not in nd:
                v.fail(
                    f"{fld}.{req}",
                    "missing (required)" + (": professional, volunteer or mixed" if req == "crew" else ""),
                )
        nid = v.string(nd["id"], f"{fld}.id")
        if nid in seen:
            v.fail(f"{fld}.id", f"duplicate post id {nid!r} (a post or an earlier neighbour has it)")
        seen.add(nid)
        out.append(_neighbour(v, {**nd, "id": nid}, fld, types, crew, turnout_s))
    return tuple(out)


def _crew_by_post(v: Validator, vd: dict, own: set, closed: set) -> dict:
    out = {}
    cb = vd.get("crew_by_post", {})
    if not isinstance(cb, dict):
        v.fail("vehicles.crew_by_post", "expected a table post_id = people per turnout")
    for pid, val in cb.items():
        fld = f"vehicles.crew_by_post.{key_text(pid)}"
        if pid not in own and pid not in closed:
            v.fail(fld, "not an open post of this scenario (neighbouring posts give crew_size in their entry)")
        c = v.integer(val, fld, 0, MAX_VEHICLES)
        if pid in own:
            out[pid] = c
    return out


def fleet_section(v: Validator, raw: dict, sc) -> FleetSection:
    """``[vehicles]`` (vehicle types, crew per turnout, full crew, engine type, adequate responses),
    ``[posts.vehicles]`` (which post has which vehicles; a post not listed has one AP) and
    ``[[posts.neighbours]]`` (posts of neighbouring zones). Defaults (:class:`FleetSection`): the
    built-in types, one AP per post, no responses, no neighbours (a run without them equals today's)."""
    d = FleetSection()
    vd = v.table(raw.get("vehicles", {}), "vehicles", VEHICLES_KEYS)
    types = _types(v, vd)
    engine = v.choice(vd.get("engine", d.engine), "vehicles.engine", tuple(types))
    full_crew = v.integer(vd.get("full_crew", d.full_crew), "vehicles.full_crew", 1, MAX_VEHICLES)
    crew = _crew(v, vd)
    own = {p.id for p in sc.posts}
    closed = set(sc.closed)
    responses = _responses(v, vd, types)
    posts = raw.get("posts", {}) if isinstance(raw.get("posts", {}), dict) else {}
    pv = posts.get("vehicles", {})
    vehicles = _post_vehicles(v, pv, types, own, closed, engine)
    neighbours = _neighbours(v, posts, own | closed, types, crew, sc.turnout_s)
    return FleetSection(
        types=types,
        engine=engine,
        full_crew=full_crew,
        crew=crew,
        crew_by_post=_crew_by_post(v, vd, own, closed),
        responses=responses,
        vehicles=vehicles,
        neighbours=neighbours,
        declared=bool(raw.get("vehicles")) or bool(pv) or bool(neighbours),
    )
