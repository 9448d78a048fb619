"""``[response]`` and ``[[slices]]``: the response time as the zone measures it (:mod:`kazerne.response`),
validated once: call handling, the turnout model and distributions, and the parts of the week.
"""

from __future__ import annotations

from ..routing.profiles import PERIOD_FACTORS
from ..sites import crew_type
from .schema_check import MAX_TURNOUT_S, Validator, key_text, show
from .sections import ResponseSection

RESPONSE_KEYS = {"call_handling_s", "turnout_model", "turnout", "posts"}
DIST_KEYS = {"median_s", "p90_s", "min_s"}
SLICE_KEYS = {"name", "days", "hours", "period", "posts", "turnout"}
SLICE_POST_KEYS = {"crew", "closed", "median_s", "p90_s", "min_s"}
TURNOUT_MODELS = ("distribution", "deterministic")
DAY_SETS = {"weekday": (0, 1, 2, 3, 4), "weekend": (5, 6), "all": (0, 1, 2, 3, 4, 5, 6)}
MAX_SLICES = 48


def call_handling(v: Validator, r: dict) -> float:
    """``response.call_handling_s`` (default :class:`ResponseSection`'s)."""
    return v.number(
        r.get("call_handling_s", ResponseSection.call_handling_s), "response.call_handling_s", lo=0, hi=MAX_TURNOUT_S
    )


def call_handling_only(v: Validator, raw: dict, who: str) -> float:
    """The call handling of a run kind with its own turnout (``[ems]``): ``[response]`` may give
    ``call_handling_s`` only, and ``[[slices]]`` are refused."""
    if "slices" in raw:
        v.fail("slices", f"not for {who} (they have their own turnout)")
    if "response" not in raw:
        return ResponseSection.call_handling_s
    r = v.table(raw["response"], "response", RESPONSE_KEYS)
    for k in sorted(set(r) - {"call_handling_s"}):
        v.fail(f"response.{k}", f"not for {who} (they have their own turnout); only call_handling_s")
    return call_handling(v, r)


def _dist(v: Validator, d, fld: str, keys=DIST_KEYS):
    """A turnout distribution table ``{median_s, p90_s, min_s}`` as a TurnoutDist (None when ``d``
    gives none of the three, e.g. a slice's post entry with only ``crew``)."""
    from ..errors import ModelInputError
    from ..response import TurnoutDist

    v.table(d, fld, keys)
    if not DIST_KEYS & set(d):
        return None
    if "median_s" not in d:
        v.fail(f"{fld}.median_s", "missing (required with p90_s / min_s): the median turnout in seconds")
    nums = {k: v.number(d[k], f"{fld}.{k}", lo=0, hi=MAX_TURNOUT_S) for k in DIST_KEYS if k in d}
    try:
        return TurnoutDist(nums["median_s"], nums.get("p90_s"), nums.get("min_s", 0.0))
    except ModelInputError as exc:
        v.fail(f"{fld}.{exc.field}", exc.detail)


def _turnout_tables(v: Validator, r: dict, kind: str, sc) -> dict:
    """``[response.turnout.<crew>]`` or ``[response.posts.<id>]``: distributions by crew type or post."""
    t = r.get(kind, {})
    if not isinstance(t, dict):
        v.fail(f"response.{kind}", f"expected tables [response.{kind}.<{'crew' if kind == 'turnout' else 'id'}>]")
    out = {}
    for k, d in t.items():
        fld = f"response.{kind}.{key_text(k)}"
        if kind == "turnout" and k not in sc.turnout_s:
            v.fail(
                fld,
                f"unknown crew type; expected one of {', '.join(sorted(sc.turnout_s))} (or add it to [turnout])",
            )
        if kind == "posts" and k not in {p.id for p in sc.posts} | set(sc.closed):
            v.fail(fld, f"post {k!r} is not in posts.active or posts.add")
        dist = _dist(v, d, fld)
        if dist is None:
            v.fail(f"{fld}.median_s", "missing (required): the median turnout in seconds")
        out[k] = dist
    return out


def response_section(v: Validator, raw: dict, sc) -> ResponseSection:
    """``[response]``: call handling (s), the turnout model (default deterministic: each turnout fixed
    at its median) and distributions per crew / post."""
    r = v.table(raw.get("response", {}), "response", RESPONSE_KEYS)
    ch = call_handling(v, r)
    model = v.choice(r.get("turnout_model", ResponseSection.turnout_model), "response.turnout_model", TURNOUT_MODELS)
    return ResponseSection(
        call_handling_s=ch,
        turnout_model=model,
        turnout=_turnout_tables(v, r, "turnout", sc),
        posts=_turnout_tables(v, r, "posts", sc),
    )


def _days(v: Validator, d, fld: str) -> tuple:
    if isinstance(d, str):
        if d not in DAY_SETS:
            v.fail(fld, f"expected weekday, weekend, all or a list of day names, got {show(d)}")
        return DAY_SETS[d]
    from ..response import DAY_NAMES

    if not isinstance(d, list) or not d or not all(isinstance(x, str) and x.lower() in DAY_NAMES for x in d):
        v.fail(fld, f"expected weekday, weekend, all or a list of day names ({', '.join(DAY_NAMES)}), got {show(d)}")
    days = [DAY_NAMES.index(x.lower()) for x in d]
    if len(set(days)) != len(days):
        v.fail(fld, f"day listed twice in {show(d)}")
    return tuple(sorted(days))


def _slice_posts(v: Validator, sd: dict, fld: str, name: str, open_ids: list, sc) -> dict:
    """A slice's ``[slices.posts.<id>]``: each open post's crew, closure or turnout in that slice."""
    posts = {}
    pt = sd.get("posts", {})
    if not isinstance(pt, dict):
        v.fail(f"{fld}.posts", "expected tables [slices.posts.<id>] (crew, closed, median_s, p90_s, min_s)")
    for pid, pd in pt.items():
        pf = f"{fld}.posts.{key_text(pid)}"
        if pid not in open_ids:
            v.fail(pf, f"post {pid!r} is not an open post of the scenario (posts.active, posts.add)")
        dist = _dist(v, pd, pf, SLICE_POST_KEYS)
        e = {"dist": dist}
        if "crew" in pd:
            crew = crew_type(v.string(pd["crew"], f"{pf}.crew"))
            if crew not in sc.turnout_s:
                v.fail(
                    f"{pf}.crew",
                    f"no turnout for crew type {crew!r}; expected one of {', '.join(sorted(sc.turnout_s))}",
                )
            e["crew"] = crew
        e["closed"] = v.boolean(pd.get("closed", False), f"{pf}.closed")
        if e["closed"] and (dist is not None or "crew" in pd):
            v.fail(pf, "a closed post has no crew or turnout; give closed = true alone")
        posts[pid] = e
    if open_ids and all(posts.get(p, {}).get("closed") for p in open_ids):
        v.fail(f"{fld}.posts", f"every post is closed in slice {name!r}; expected at least one open post")
    return posts


def _slice_turnout(v: Validator, sd: dict, fld: str, sc) -> dict:
    """A slice's ``[slices.turnout.<crew>]`` distributions."""
    turn = {}
    tt = sd.get("turnout", {})
    if not isinstance(tt, dict):
        v.fail(f"{fld}.turnout", "expected tables [slices.turnout.<crew>] (median_s, p90_s, min_s)")
    for crew, d in tt.items():
        tf = f"{fld}.turnout.{key_text(crew)}"
        if crew not in sc.turnout_s:
            v.fail(tf, f"unknown crew type; expected one of {', '.join(sorted(sc.turnout_s))}")
        dist = _dist(v, d, tf)
        if dist is None:
            v.fail(f"{tf}.median_s", "missing (required): the median turnout in seconds")
        turn[crew] = dist
    return turn


def _one_slice(v: Validator, sd: dict, fld: str, out: list, open_ids: list, sc) -> dict:
    from ..errors import ModelInputError
    from ..response import TimeSlice

    if "name" not in sd:
        v.fail(f"{fld}.name", "missing (required): a name such as weekday-day")
    name = v.string(sd["name"], f"{fld}.name", max_len=60)
    if name == "mix" or any(name == o["name"] for o in out):
        v.fail(f"{fld}.name", f"{'duplicate slice name' if name != 'mix' else 'reserved name'} {name!r}")
    days = _days(v, sd.get("days", "all"), f"{fld}.days")
    hrs = sd.get("hours", [0, 24])
    if not isinstance(hrs, list) or len(hrs) != 2:
        v.fail(
            f"{fld}.hours",
            f"expected [start, end] in hours 0..24 (end <= start wraps past midnight), got {show(hrs)}",
        )
    h = [v.number(x, f"{fld}.hours", lo=0, hi=24) for x in hrs]
    period = sd.get("period", sc.profile.period or "none")
    period = v.choice(period, f"{fld}.period", ("none", *PERIOD_FACTORS))
    posts = _slice_posts(v, sd, fld, name, open_ids, sc)
    turn = _slice_turnout(v, sd, fld, sc)
    try:
        sl = TimeSlice(name, days, h[0], h[1])
        sl.minutes()
    except ModelInputError as exc:
        v.fail(f"{fld}.hours", exc.detail)
    return {"name": name, "slice": sl, "period": None if period == "none" else period, "posts": posts, "turnout": turn}


def slices_section(v: Validator, raw: dict, sc) -> list:
    """``[[slices]]``: parts of the week with their own posts, crews, turnouts and speed period,
    covering each hour of the week exactly once (one whole-week slice when absent)."""
    from ..errors import ModelInputError
    from ..response import TimeSlice, check_week

    open_ids = [p.id for p in sc.posts]
    if "slices" not in raw:
        return [
            {
                "name": "week",
                "slice": TimeSlice("week"),
                "period": sc.profile.period,
                "posts": {},
                "turnout": {},
                "hours_per_week": 168.0,
            }
        ]
    out: list = []
    for i, sd in enumerate(v.tables(raw["slices"], "slices", SLICE_KEYS, limit=MAX_SLICES)):
        out.append(_one_slice(v, sd, f"slices[{i}]", out, open_ids, sc))
    try:
        hours = check_week([o["slice"] for o in out])
    except ModelInputError as exc:
        v.fail(exc.field, exc.detail)
    for o, hh in zip(out, hours):
        o["hours_per_week"] = hh
    return out
