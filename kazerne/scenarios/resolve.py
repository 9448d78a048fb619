"""Resolving a scenario against its zone: which posts, where, with which turnout and profile."""

from __future__ import annotations

import contextlib

import numpy as np

from ..errors import KazerneError, ScenarioError
from ..routing.profiles import SpeedProfile, get_profile
from ..sites import Sites, crew_type, edge_road
from .schema import Scenario

#: A post may stand this far outside the zone's municipalities (neighbouring stations), metres.
OUTSIDE_ZONE_TOLERANCE_M = 3000.0


@contextlib.contextmanager
def in_file(path, fields: dict | None = None, default: str | None = None):
    """Re-raise user errors that lack a file name as :class:`ScenarioError` naming ``path``.

    Errors of the models and the queueing code name their own arguments (``p``, ``radius``,
    ``arrival_rate`` ...); ``fields`` maps those names to the scenario's fields (e.g.
    ``{"p": "study.p_max"}``) and ``default`` names the field for any other, so that the user
    reads ``FILE: study.p_max: ...`` and not an argument they never wrote.
    """
    try:
        yield
    except ScenarioError as exc:
        if exc.source:
            raise
        fld = (fields or {}).get(exc.field, default if default else exc.field)
        raise ScenarioError(exc.detail, source=str(path), field=fld) from None
    except KazerneError as exc:
        if exc.source is None and (fields or default):
            fld = (fields or {}).get(exc.field, default)
            raise ScenarioError(exc.detail, source=str(path), field=fld) from None
        raise ScenarioError(str(exc), source=str(path)) from None


def profile_of(sc: Scenario, name: str | None = None) -> SpeedProfile:
    pd = dict(sc.profile)
    pname = name or pd.pop("name", "fire_engine")
    pd.pop("name", None)
    with in_file(sc.path):
        return get_profile(pname, **pd)


def turnout_for(sc: Scenario, crew: str, field: str) -> float:
    if crew not in sc.turnout_s:
        raise ScenarioError(
            f"no turnout time for crew type {crew!r}; add it under [turnout] "
            f"(known: {', '.join(sorted(sc.turnout_s))})",
            source=str(sc.path),
            field=field,
        )
    return float(sc.turnout_s[crew])


def resolve_site(
    zone,
    sc: Scenario,
    *,
    field: str,
    lat=None,
    lon=None,
    street=None,
    municipality=None,
    snap: str = "public",
    outside_m: float | None = OUTSIDE_ZONE_TOLERANCE_M,
    on_street: bool = False,
):
    """(lon, lat, node, snap_m) for a site given by lat/lon or street; errors name ``field``.

    ``snap="public"`` places it on the nearest point of the nearest public road a vehicle leaves by,
    ``"any"`` of the nearest street (see :meth:`kazerne.routing.zone.Zone.site_point`); ``snap_m`` is
    the distance to that point, ``node`` the end of its edge nearer along it, and ``on_street=True``
    adds the ``edge`` and ``frac`` (a :class:`~kazerne.Sites`' place on its street). ``outside_m``: how far outside
    the zone's municipalities it may stand (``None``: anywhere the road data reaches — the posts of
    neighbouring zones)."""
    with in_file(sc.path):
        if street is not None:
            from ..routing.streets import find_street

            lon, lat = find_street(zone, street, municipality, field=f"{field}.street")
        if lat is None or lon is None or not (np.isfinite(lat) and np.isfinite(lon)):
            raise ScenarioError("position unknown: give lat/lon or street", source=str(sc.path), field=field)
        if outside_m is not None and not zone.contains_lonlat(lon, lat, buffer_m=outside_m):
            raise ScenarioError(
                f"lat={lat} lon={lon} lies outside zone {zone.name} (more than "
                f"{outside_m / 1000:g} km from its municipalities)",
                source=str(sc.path),
                field=field,
            )
        node, edge, frac, dist = zone.site_point(lon, lat, what=field, snap=snap)
    if on_street:
        return float(lon), float(lat), node, dist, edge, frac
    return float(lon), float(lat), node, dist


def resolve_posts(zone, sc: Scenario) -> Sites:
    """The scenario's open posts, placed on the network, with their turnout times."""
    known = {p.id: p for p in zone.pack.posts}
    ids, names, crews, lons, lats, nodes, turnouts, snaps, grades, roads, edges, fracs = ([] for _ in range(12))
    for spec in sc.posts:
        fld = f"posts.override.{spec.id}" if not spec.new else f"posts.add.{spec.id}"
        if not spec.new and spec.id not in known:
            raise ScenarioError(
                f"unknown post {spec.id!r}; the pack {zone.name} has {', '.join(known)}",
                source=str(sc.path),
                field="posts.active",
            )
        base = known.get(spec.id)
        lat = spec.lat if spec.lat is not None else (base.lat if base and spec.street is None else None)
        lon = spec.lon if spec.lon is not None else (base.lon if base and spec.street is None else None)
        muni = spec.municipality or (base.municipality if base else None)
        lo, la, node, snap, edge, frac = resolve_site(
            zone,
            sc,
            field=fld if (spec.new or spec.lat or spec.street) else f"posts.active.{spec.id}",
            lat=lat,
            lon=lon,
            street=spec.street,
            municipality=muni,
            snap=spec.snap,
            on_street=True,
        )
        crew = crew_type(spec.crew or (base.crew if base else "professional"))
        t = spec.turnout_s if spec.turnout_s is not None else turnout_for(sc, crew, f"{fld}.crew")
        ids.append(spec.id)
        names.append(spec.name or (base.name if base else spec.id))
        crews.append(crew)
        lons.append(lo)
        lats.append(la)
        nodes.append(node)
        turnouts.append(t)
        snaps.append(snap)
        roads.append(edge_road(zone.net, edge))
        edges.append(edge)
        fracs.append(frac)
        moved = spec.lat is not None or spec.street is not None
        grades.append("user" if (spec.new or moved) else (base.location_grade if base else ""))
    from ..sites import site_streets

    return Sites(
        ids=ids,
        names=names,
        crew=crews,
        lon=np.array(lons),
        lat=np.array(lats),
        node=np.array(nodes, dtype=np.int64),
        turnout_s=np.array(turnouts, dtype=float),
        snap_m=np.array(snaps),
        grade=grades,
        road=roads,
        origin=["post"] * len(ids),
        street=site_streets(zone, nodes) if ids else [],
        edge=np.array(edges, dtype=np.int64),
        frac=np.array(fracs, dtype=float),
    )
