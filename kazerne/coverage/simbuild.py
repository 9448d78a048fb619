"""Building a dispatch simulation's :class:`~kazerne.coverage.simulation.EmsSystem` from a zone.

* :func:`pack_units` reads the units of the pack's ``ems-bases.csv`` (the federal list of the 112
  departure locations): each ``teams`` entry ``ZW GENT 1 (Team: AOGENT01A)`` is an ambulance (``ZW``)
  or a PIT (``PIT``) team. One service often has several departure locations, its team codes ending
  in A, B, C (PIT GENT 2: Roggestraat, AZ Sint-Lucas, AZ Jan Palfijn): with ``teams="service"``
  (the default) a service is **one** unit at the location of its first team code, with
  ``teams="location"`` every listed team is a unit of its own (an upper bound of the fleet).
* :func:`ems_system` computes every travel time the event loop needs, once and vectorised: many-source
  searches from the bases and hospitals on the road network, forward (base -> demand) and on the
  reversed graph (demand -> base, scene -> hospital: the direction a unit drives back), per speed period
  of the week (:data:`kazerne.response.DEFAULT_SLICES`: weekday day at rush-hour speeds, weekday night,
  weekend free-flowing), then looked up at the demand points' nodes.
"""

from __future__ import annotations

import re

import numpy as np

from ..clock import DEFAULT_CALL_HANDLING_S
from ..errors import ModelInputError
from ..response import DEFAULT_SLICES, TurnoutDist
from .simulation import TYPE_NAMES, EmsSystem

__all__ = ["parse_teams", "pack_units", "ems_system", "week_periods", "emergency_departments", "located_sites"]

_TEAM = re.compile(r"^\s*(?P<label>.*?)\s*\(\s*Team:\s*(?P<code>[A-Za-z0-9]+)\s*\)\s*$")


def parse_teams(teams: str) -> list[tuple[str, str, str]]:
    """``(type, service label, team code)`` of each ``|``-separated entry of an ``ems-bases.csv``
    ``teams`` cell; ``ZW`` = ambulance, ``PIT`` = pit. Entries of another kind are left out."""
    out = []
    for part in (teams or "").split("|"):
        m = _TEAM.match(part)
        label = (m.group("label") if m else part).strip()
        code = m.group("code") if m else label
        head = label.split()[0].upper() if label else ""
        kind = "ambulance" if head == "ZW" else ("pit" if head == "PIT" else None)
        if kind:
            out.append((kind, label, code))
    return out


def _check_pack(pack, attr: str):
    """A zone pack (anything with the pack's ``attr`` list, e.g. ``ems_bases``); one line otherwise."""
    from ..checks import show

    if isinstance(pack, (str, bytes)) or not isinstance(getattr(pack, attr, None), (list, tuple)):
        raise ModelInputError(f'expected a ZonePack (kz.load_zone("hvz-centrum").pack), got {show(pack)}', field="pack")


def pack_units(pack, teams: str = "service") -> list[tuple[str, str, str]]:
    """The units of a pack's ``ems-bases.csv``: ``(base id, type, label)`` per unit.

    ``teams="service"``: one unit per service (team code without its last letter) at the base of
    its first code in alphabetical order; ``"location"``: one unit per listed team."""
    _check_pack(pack, "ems_bases")
    if teams not in ("service", "location"):
        raise ModelInputError(f'expected "service" or "location", got {teams!r}', field="teams")
    entries = [(b.id, *t) for b in pack.ems_bases for t in parse_teams(b.teams)]
    if teams == "location":
        return [(bid, kind, f"{label} ({code})") for bid, kind, label, code in entries]
    first: dict = {}
    for bid, kind, label, code in sorted(entries, key=lambda e: e[3]):
        service = code[:-1] if len(code) > 1 and code[-1].isalpha() else code
        first.setdefault((kind, service), (bid, kind, f"{label} ({code})"))
    return sorted(first.values(), key=lambda u: (u[0], u[1], u[2]))


def emergency_departments(pack) -> list:
    """The pack's medical sites with an emergency department (``services`` mentions one) and a position."""
    _check_pack(pack, "medical_sites")
    return [s for s in pack.medical_sites if "emergency" in (s.services or "").lower() and s.located]


def located_sites(zone, sites):
    """The pack ``sites`` (bases or hospitals) that snap onto ``zone``'s road data, as :class:`~kazerne.sites.Sites`
    (no turnout); a site off the road data is left out (the caller lists the left-out ones when it must)."""
    from ..checks import check_zone
    from ..errors import ModelInputError, SnapError
    from ..sites import Sites

    check_zone(zone)
    if isinstance(sites, (str, bytes)) or not hasattr(sites, "__iter__"):
        raise ModelInputError(f"expected a list of pack sites (zone.pack.posts, ...), got {sites!r:.60}", field="sites")
    sites = list(sites)
    if not all(hasattr(s, "lon") and hasattr(s, "lat") and hasattr(s, "id") for s in sites):
        raise ModelInputError("expected pack sites with id, lon and lat (zone.pack.posts, ...)", field="sites")
    keep, nodes = [], []
    for s in sites:
        try:
            nodes.append(zone.site_node(s.lon, s.lat, what=s.id))
        except SnapError:
            continue
        keep.append(s)
    return Sites(
        ids=[s.id for s in keep],
        names=[s.name for s in keep],
        node=np.array(nodes, dtype=np.int64),
        lon=np.array([s.lon for s in keep]),
        lat=np.array([s.lat for s in keep]),
        turnout_s=np.zeros(len(keep)),
    )


def week_periods(profile, periods: str = "week"):
    """``(period names, speed profiles, period of each hour of the week)``: ``"week"`` splits the
    week as :data:`kazerne.response.DEFAULT_SLICES` (each slice's speed period), ``"one"`` keeps
    ``profile`` all week."""
    if periods == "one":
        return [profile.period or "free-flowing"], [profile], np.zeros(168, np.int64)
    if periods != "week":
        raise ModelInputError(f'expected "week" or "one", got {periods!r}', field="periods")
    names, profs = [], []
    hour = np.zeros(168, np.int64)
    for i, (sl, period) in enumerate(DEFAULT_SLICES):
        names.append(f"{sl.name} ({period or 'free-flowing'})")
        profs.append(profile.with_overrides(period=period))
        mask = sl.minutes().reshape(168, 60).any(axis=1)
        hour[mask] = i
    return names, profs, hour


def ems_system(
    zone,
    bases,
    unit_bases,
    unit_types,
    demand,
    hospitals,
    profile,
    *,
    call_handling_s: float = DEFAULT_CALL_HANDLING_S,
    turnout=None,
    periods: str = "week",
    unit_labels=None,
    progress=None,
) -> EmsSystem:
    """An :class:`EmsSystem` on ``zone``'s road network.

    Parameters
    ----------
    bases, hospitals : kazerne.Sites
        Where units stand and the emergency departments (their ``node`` on the network); ``hospitals``
        may be ``None`` (no transport).
    unit_bases, unit_types : sequences
        Per unit: its base id (one of ``bases.ids``) and type (``"ambulance"`` or ``"pit"``).
    demand : kazerne.DemandPoints
        Calls come from the points with road data, in proportion to their weight.
    profile : SpeedProfile
        The vehicles' speeds; ``periods="week"`` applies each slice's speed period to it.
    turnout : dict type -> TurnoutDist, optional
        Default: :data:`kazerne.response.DEFAULT_TURNOUT_DIST` ``["professional"]`` for both (crews in
        the station around the clock).
    """
    from ..checks import check_demand, check_instance, check_number, check_progress, check_zone
    from ..response import DEFAULT_TURNOUT_DIST
    from ..routing.paths import drive_times
    from ..routing.profiles import check_profile
    from ..sites import Sites

    check_zone(zone)
    check_instance(bases, Sites, "bases", "Sites (kz.Sites.from_posts(zone))")
    if hospitals is not None:  # None: no hospital (PIT only, or no transport)
        check_instance(hospitals, Sites, "hospitals", "Sites (kz.Sites.from_lonlat(zone, ...)) or None")
    check_instance(unit_bases, (list, tuple, np.ndarray), "unit_bases", "a list of base ids, one per unit")
    check_instance(unit_types, (list, tuple, np.ndarray), "unit_types", "a list of unit types, one per unit")
    check_demand(demand)
    profile = check_profile(profile)
    call_handling_s = check_number(call_handling_s, "call_handling_s", lo=0)
    if turnout is not None:
        check_instance(turnout, dict, "turnout", "a dict unit type -> TurnoutDist")
        for t, dist in turnout.items():
            check_instance(dist, TurnoutDist, f"turnout.{t}", "a TurnoutDist")
    progress = check_progress(progress)
    ids = list(bases.ids)
    index = {b: i for i, b in enumerate(ids)}
    if len(unit_bases) != len(unit_types):
        raise ModelInputError("expected one type per unit", field="units")
    for u, (b, t) in enumerate(zip(unit_bases, unit_types)):
        if b not in index:
            raise ModelInputError(f"unit {u}: unknown base {b!r}", field="units")
        if t not in TYPE_NAMES:
            raise ModelInputError(f"unit {u}: expected a type from {', '.join(TYPE_NAMES)}, got {t!r}", field="units")
    keep = ~np.asarray(demand.no_road_data, dtype=bool)
    dn = np.asarray(demand.node)[keep]
    b_nodes = np.asarray(bases.node, dtype=np.int64)
    h_nodes = np.asarray(hospitals.node, dtype=np.int64) if hospitals is not None else np.zeros(0, np.int64)
    names, profs, hour = week_periods(profile, periods)
    src = np.concatenate([b_nodes, h_nodes])
    nb = b_nodes.size
    fwd_bd, rev_bd, fwd_hd, rev_hd, hb = [], [], [], [], []
    for prof in profs:
        fwd = drive_times(zone.net, prof, src)
        rev = drive_times(zone.net, prof, src, reverse=True)
        fwd_bd.append(fwd[:nb][:, dn])
        fwd_hd.append(fwd[nb:][:, dn])
        hb.append(fwd[nb:][:, b_nodes])
        rev_bd.append(rev[:nb][:, dn])
        rev_hd.append(rev[nb:][:, dn])
        del fwd, rev
        if progress is not None:
            progress.update(1)
    td = turnout or {}
    prof_t = DEFAULT_TURNOUT_DIST["professional"]
    dists = tuple(td.get(t, prof_t) for t in TYPE_NAMES)
    for t, d in zip(TYPE_NAMES, dists):
        if not isinstance(d, TurnoutDist):
            raise ModelInputError(f"expected a TurnoutDist for {t}", field="turnout")
    return EmsSystem(
        base_ids=ids,
        base_names=list(bases.names),
        unit_base=np.array([index[b] for b in unit_bases], dtype=np.int64),
        unit_type=np.array([TYPE_NAMES.index(t) for t in unit_types], dtype=np.int64),
        unit_labels=list(unit_labels)
        if unit_labels is not None
        else [f"{t} {b}" for b, t in zip(unit_bases, unit_types)],
        weights=np.asarray(demand.weight, dtype=float)[keep],
        municipality=np.asarray(demand.municipality)[keep],
        municipality_names=list(demand.municipality_names),
        fwd_bd=np.stack(fwd_bd),
        rev_bd=np.stack(rev_bd),
        fwd_hd=np.stack(fwd_hd),
        rev_hd=np.stack(rev_hd),
        hb=np.stack(hb),
        period_names=names,
        period_of_hour=hour,
        turnout=dists,
        call_handling_s=float(call_handling_s),
        hospital_ids=list(hospitals.ids) if hospitals is not None else [],
        meta={
            "speed_periods": names,
            "profile": profile.describe(),
            "travel_times": "many-source searches on the road network from every base and hospital, forward "
            "(base -> scene) and on the reversed graph (scene -> base, scene -> hospital); hospital -> base forward",
            "turnout": {t: d.describe() for t, d in zip(TYPE_NAMES, dists)},
            "demand_points": int(keep.sum()),
            "demand_points_no_road_data_left_out": int((~keep).sum()),
        },
    )
