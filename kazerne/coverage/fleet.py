"""Vehicle types per post, adequate responses, the full first turnout and neighbouring zones' posts.

A zone measures more than "the first fire engine": a building fire needs an engine (autopomp, AP)
**and** an aerial (autoladder); the base unit is an engine with a crew of six (AP6), which a
volunteer post often cannot fill on its own; and under the "fastest adequate help" rule the post of
a neighbouring zone comes when it is faster. This module works on the travel-time seam
(:func:`kazerne.routing.travel.travel_times`, :class:`kazerne.Sites`):

* :class:`VehicleType` — a kind of vehicle and how it drives (the run's speed profile, optionally
  another base profile, a ``speed_scale`` and a top speed). :data:`DEFAULT_VEHICLE_TYPES`:
  ``AP`` (autopomp, fire engine: the run's profile unchanged), ``aerial`` (autoladder / hoogwerker,
  ``speed_scale`` 0.9), ``tanker`` (tankwagen, 0.85), ``HV`` (hulpverleningswagen, rescue: 1.0).
  The scales are modelling assumptions, not measurements: an aerial (16-20 t, 10-12 m long) and a
  full water tanker (up to 26 t) corner, brake and accelerate slower than an engine, which the
  ``fire_engine`` profile already models; the rescue truck is about an engine's weight. Override
  any of them, or define new types, per scenario.
* :class:`Fleet` — which site (post, neighbouring post, candidate) has how many vehicles of each
  type, the crew it sends per turnout and the zone it belongs to. :meth:`Fleet.default` is one AP
  per site: with it every result below equals today's first / second arrival exactly.
* :func:`fleet_times` — per vehicle type, the response times (turnout + drive with that type's
  profile, plus ``call_handling_s``: from the call) from every site; one search per distinct profile.
* :func:`arrival_time` — the earliest time by which the sites arrived so far bring ``need``
  vehicles (or crew members): the first vehicle of a type, the second engine, the crew of six.
* :func:`evaluate_fleet` — a :class:`FleetReport`: per demand point the first vehicle of each type,
  each adequate response (the **last** of its required vehicles, each type from its own nearest
  posts), the second engine, the full crew, and which zone's post arrives first; per municipality
  and for the zone the shares within the thresholds, mean and 90th percentile.
* :func:`placement_costs` — the cost matrix of "where should one more vehicle of type X stand?"
  for the placement models (for a response: each candidate's time to complete it).

Assumptions (stated in every report that uses them): every vehicle listed is staffed and leaves
with its post's turnout; all vehicles of a post leave together; a post sends its crew per turnout
(by crew type: professional 6, volunteer 4, mixed 4 — :data:`DEFAULT_CREW_PER_TURNOUT`) on its
engines, so only posts with an engine count towards the full crew; vehicles are never busy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import ModelInputError
from .metrics import mins, weighted_percentile

#: Names of vehicle types and responses: they become column names and CSV values.
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class VehicleType:
    """A kind of vehicle.

    Attributes
    ----------
    name : str
        Its id in scenario files and reports (``AP``, ``aerial`` ...).
    label : str
        What a reader calls it ("autopomp (fire engine)").
    profile : str or None
        Base speed profile (``fire_engine``, ``ambulance``, ``car``); ``None`` = the run's profile with
        all its overrides.
    speed_scale : float
        Multiplies every speed of the base profile (0.9 = 10 % slower).
    vehicle_max_kmh : float or None
        Top speed, km/h (``None``: the base profile's).
    """

    name: str
    label: str = ""
    profile: str | None = None
    speed_scale: float = 1.0
    vehicle_max_kmh: float | None = None

    def __post_init__(self):
        from ..checks import check_fields, check_number

        check_fields(self)
        check_number(self.speed_scale, "speed_scale", lo=0.0, lo_open=True, hi=10.0)
        if self.vehicle_max_kmh is not None:
            check_number(self.vehicle_max_kmh, "vehicle_max_kmh", lo=0.0, lo_open=True, hi=300.0)

    def describe(self) -> dict:
        return {
            "name": self.name,
            "label": self.label or self.name,
            "profile": self.profile or "the run's profile",
            "speed_scale": self.speed_scale,
            "vehicle_max_kmh": self.vehicle_max_kmh,
        }


#: The built-in vehicle types (module docstring: the speed scales are stated assumptions).
DEFAULT_VEHICLE_TYPES = {
    "AP": VehicleType("AP", "autopomp (fire engine)"),
    "aerial": VehicleType("aerial", "autoladder / hoogwerker (aerial)", speed_scale=0.9),
    "tanker": VehicleType("tanker", "tankwagen (water tanker)", speed_scale=0.85),
    "HV": VehicleType("HV", "hulpverleningswagen (rescue)"),
}
#: The type counted for the second engine and the full crew.
DEFAULT_ENGINE = "AP"
#: People a post sends per turnout, by crew type (a professional post fills an AP6; a volunteer
#: post often turns out with 4 and needs a second post for the sixth person).
DEFAULT_CREW_PER_TURNOUT = {"professional": 6, "volunteer": 4, "mixed": 4}
#: The full first turnout: an engine with a crew of six (AP6).
DEFAULT_FULL_CREW = 6


def vehicle_profile(base, vtype: VehicleType):
    """The :class:`~kazerne.routing.profiles.SpeedProfile` a vehicle type drives.

    ``vtype.profile`` ``None`` (or the base's own name): ``base`` with the type's ``speed_scale``
    multiplied in and its top speed; another profile name: that profile with the run's time-of-day
    ``period``, ``unknown_direction_factor`` and ``speed_scale`` (the conditions of the run), then the
    type's. A type with scale 1 and no top speed drives ``base`` itself (the same object)."""
    from ..checks import check_instance
    from ..routing.profiles import check_profile, get_profile

    base = check_profile(base, "base")
    check_instance(vtype, VehicleType, "vtype", 'a VehicleType (kz.VehicleType("AP"))')
    prof = base
    if vtype.profile is not None and vtype.profile != base.name:
        prof = get_profile(vtype.profile).with_overrides(
            period=base.period, unknown_direction_factor=base.unknown_direction_factor, speed_scale=base.speed_scale
        )
    kw = {}
    if vtype.speed_scale != 1.0:
        kw["speed_scale"] = prof.speed_scale * vtype.speed_scale
    if vtype.vehicle_max_kmh is not None:
        kw["vehicle_max_kmh"] = vtype.vehicle_max_kmh
    return prof.with_overrides(**kw) if kw else prof


def _counts(n: int, v, what: str) -> np.ndarray:
    a = np.asarray(v, dtype=float).reshape(-1)
    if a.shape != (n,) or not np.all(np.isfinite(a)) or (a < 0).any() or (a != np.round(a)).any():
        raise ModelInputError(f"expected {n} whole numbers >= 0, got {v!r}", field=what)
    return a.astype(np.int64)


@dataclass
class Fleet:
    """What stands where: vehicles per type per site, crew per turnout, the zone of each site.

    Attributes
    ----------
    site_ids : list of str
        The sites, in the row order of the travel times it is used with.
    counts : dict
        Vehicle type -> array of vehicles per site (whole numbers >= 0).
    crew_size : ndarray
        People a site sends per turnout (on its engines).
    zone : list of str
        Per site: the zone it belongs to (``own_zone`` or a neighbouring zone's name).
    own_zone : str
        The name of the zone being studied.
    types : dict
        Vehicle type name -> :class:`VehicleType` (every type in ``counts`` must be here).
    """

    site_ids: list
    counts: dict
    crew_size: np.ndarray
    zone: list = field(default_factory=list)
    own_zone: str = ""
    types: dict = field(default_factory=lambda: dict(DEFAULT_VEHICLE_TYPES))

    def __post_init__(self):
        from ..checks import check_fields

        check_fields(self)
        n = len(self.site_ids)
        self.site_ids = [str(s) for s in self.site_ids]
        for t in self.counts:
            if t not in self.types:
                raise ModelInputError(
                    f"unknown vehicle type {t!r}; expected one of {', '.join(self.types)}", field="vehicles"
                )
        self.counts = {t: _counts(n, c, f"vehicles.{t}") for t, c in self.counts.items()}
        self.crew_size = np.asarray(self.crew_size, dtype=float).reshape(-1)
        if self.crew_size.shape != (n,) or not np.all(np.isfinite(self.crew_size)) or (self.crew_size < 0).any():
            raise ModelInputError(f"expected {n} crew sizes >= 0, got {self.crew_size!r}", field="crew_size")
        self.zone = list(self.zone) or [self.own_zone] * n
        if len(self.zone) != n:
            raise ModelInputError(f"expected {n} zone names, got {len(self.zone)}", field="zone")

    def __len__(self) -> int:
        return len(self.site_ids)

    @staticmethod
    def crew_of(crews, crew_per_turnout: dict | None = None) -> np.ndarray:
        """People per turnout for each crew type in ``crews`` (:data:`DEFAULT_CREW_PER_TURNOUT`
        updated with ``crew_per_turnout``)."""
        table = {**DEFAULT_CREW_PER_TURNOUT, **(crew_per_turnout or {})}
        out = []
        for c in crews:
            if c not in table:
                raise ModelInputError(
                    f"no crew size for crew type {c!r}; expected one of {', '.join(sorted(table))}", field="crew"
                )
            out.append(float(table[c]))
        return np.array(out, dtype=float)

    @classmethod
    def default(cls, sites, *, crew_per_turnout: dict | None = None, own_zone: str = "") -> "Fleet":
        """One AP per site, the crew per turnout by each site's crew type: today's model."""
        n = len(sites.ids)
        return cls(
            site_ids=list(sites.ids),
            counts={DEFAULT_ENGINE: np.ones(n, dtype=np.int64)},
            crew_size=cls.crew_of(sites.crew, crew_per_turnout),
            own_zone=own_zone,
        )

    @classmethod
    def from_vehicles(
        cls,
        sites,
        vehicles: dict | None = None,
        *,
        default: dict | None = None,
        crew_per_turnout: dict | None = None,
        crew_by_site: dict | None = None,
        zones: dict | None = None,
        own_zone: str = "",
        types: dict | None = None,
    ) -> "Fleet":
        """A fleet for ``sites`` (a :class:`kazerne.Sites`).

        ``vehicles`` maps a site id to its **whole** fleet ``{type: count}``; a site not listed has
        ``default`` (one AP). ``crew_by_site`` overrides the crew per turnout of single sites,
        ``zones`` tags sites of other zones (the rest are ``own_zone``). ``types`` adds or replaces
        vehicle types (:data:`DEFAULT_VEHICLE_TYPES` otherwise)."""
        types = {**DEFAULT_VEHICLE_TYPES, **(types or {})}
        default = {DEFAULT_ENGINE: 1} if default is None else dict(default)
        vehicles = dict(vehicles or {})
        ids = list(sites.ids)
        unknown = [s for s in list(vehicles) + list(crew_by_site or {}) + list(zones or {}) if s not in ids]
        if unknown:
            raise ModelInputError(f"site {unknown[0]!r} is not among the sites {', '.join(ids)}", field="vehicles")
        names = list(dict.fromkeys([*default, *(t for v in vehicles.values() for t in v)]))
        counts = {t: np.zeros(len(ids)) for t in names}
        for i, sid in enumerate(ids):
            for t, c in vehicles.get(sid, default).items():
                counts[t][i] = c
        crew = cls.crew_of(sites.crew, crew_per_turnout)
        for sid, c in (crew_by_site or {}).items():
            crew[ids.index(sid)] = float(c)
        zone = [(zones or {}).get(s, own_zone) for s in ids]
        return cls(site_ids=ids, counts=counts, crew_size=crew, zone=zone, own_zone=own_zone, types=types)

    def total(self, vtype: str) -> int:
        """Vehicles of ``vtype`` in the whole fleet."""
        return int(self.counts.get(vtype, np.zeros(1)).sum())

    def rows(self, sites=None) -> list[dict]:
        """One dict per site: id, (name, crew), zone, crew per turnout, vehicles per type."""
        out = []
        for i, sid in enumerate(self.site_ids):
            r = {"id": sid}
            if sites is not None:
                j = list(sites.ids).index(sid)
                r.update({"name": sites.names[j], "crew": sites.crew[j], "turnout_s": float(sites.turnout_s[j])})
            r.update({"zone": self.zone[i], "crew_per_turnout": float(self.crew_size[i])})
            for t in self.types:
                if t in self.counts:
                    r[t] = int(self.counts[t][i])
            out.append(r)
        return out


def fleet_times(
    zone,
    sites,
    demand,
    fleet: Fleet,
    profile="fire_engine",
    *,
    vtypes=None,
    cutoff_s=None,
    workers=None,
    call_handling_s: float = 0.0,
) -> dict:
    """Per vehicle type: a :class:`~kazerne.routing.travel.TravelTimes` from **every** site of
    ``sites`` (rows aligned with ``fleet``) with that type's profile (:func:`vehicle_profile`);
    types sharing a profile share one search. ``vtypes`` limits the types (default: those the fleet
    has). ``call_handling_s`` as in :func:`kazerne.travel_times` (0: from the alarm; the scenario
    runner passes the scenario's, so that its times count from the 112 call)."""
    from ..checks import check_instance
    from ..routing.profiles import get_profile
    from ..routing.travel import travel_times
    from ..sites import Sites

    check_instance(fleet, Fleet, "fleet", "a Fleet (kz.Fleet.default(sites))")
    check_instance(sites, Sites, "sites", "Sites (kz.Sites.from_posts(zone))")
    if list(sites.ids) != list(fleet.site_ids):
        raise ModelInputError("the fleet's sites must be the sites, in the same order", field="fleet")
    base = get_profile(profile) if isinstance(profile, str) else profile
    names = list(vtypes) if vtypes is not None else [t for t in fleet.counts if fleet.total(t) > 0]
    out, by_key = {}, {}
    for t in names:
        if t not in fleet.types:
            raise ModelInputError(f"unknown vehicle type {t!r}; expected one of {', '.join(fleet.types)}", field=t)
        prof = vehicle_profile(base, fleet.types[t])
        key = prof.key()
        if key not in by_key:
            by_key[key] = travel_times(
                zone, sites, demand, prof, cutoff_s=cutoff_s, workers=workers, call_handling_s=call_handling_s
            )
        out[t] = by_key[key]
    return out


def arrival_time(seconds, amount, need: float) -> tuple[np.ndarray, np.ndarray]:
    """When the sites arrived so far bring at least ``need`` of ``amount``, per demand point.

    Parameters
    ----------
    seconds : ndarray (n_sites, n_demand)
        Response times (``inf`` not reached, ``nan`` = a column without road data).
    amount : ndarray (n_sites,)
        What each site brings: vehicles of a type, or crew members (0 = nothing).
    need : float
        How much is needed (1 = the first vehicle, 2 = the second, 6 = a crew of six).

    Returns
    -------
    (times, site) : ndarray, ndarray
        The time (s; ``inf`` when all the sites together bring less, ``nan`` for a column of ``nan``)
        and the index of the site completing it (-1 none). Sites arriving at the same time count
        together; ties are broken by site order.
    """
    from ..checks import check_array, check_number

    m = check_array(seconds, "seconds", ndim=2, allow_nan=True)
    a = check_array(amount, "amount", allow_inf=False).reshape(-1)
    if a.shape != (m.shape[0],):
        raise ModelInputError(f"expected amounts for {m.shape[0]} sites, got {a.shape}", field="amount")
    n_s, n_d = m.shape
    need = check_number(need, "need", lo=0.0, lo_open=True)
    nan_col = np.isnan(m).all(axis=0) if n_s else np.ones(n_d, bool)
    if n_s == 0:
        return np.where(nan_col, np.nan, np.inf), -np.ones(n_d, dtype=np.int64)
    filled = np.where(np.isnan(m) | (a[:, None] <= 0), np.inf, m)
    order = np.argsort(filled, axis=0, kind="stable")
    st = np.take_along_axis(filled, order, axis=0)
    cum = np.cumsum(a[order], axis=0)
    reach = (cum >= need - 1e-9) & np.isfinite(st)
    has = reach.any(axis=0)
    k = np.argmax(reach, axis=0)
    cols = np.arange(n_d)
    times = np.where(has, st[k, cols], np.inf)
    site = np.where(has, order[k, cols], -1)
    times[nan_col] = np.nan
    site[nan_col] = -1
    return times, site


def parse_response(spec, types) -> dict:
    """A response as ``{type: count}``: from a list of types (one each) or a mapping type -> count."""
    if isinstance(spec, dict):
        out = dict(spec)
    else:
        out = {}
        for t in spec:
            out[t] = out.get(t, 0) + 1
    if not out:
        raise ModelInputError("expected at least one vehicle type", field="responses")
    for t, c in out.items():
        if t not in types:
            raise ModelInputError(f"unknown vehicle type {t!r}; expected one of {', '.join(types)}", field="responses")
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 1:
            raise ModelInputError(f"expected a whole number >= 1 of {t!r}, got {c!r}", field="responses")
    return out


@dataclass
class Measure:
    """One arrival measure per demand point (seconds) and the site that completes it."""

    name: str
    label: str
    seconds: np.ndarray
    site: np.ndarray


@dataclass
class FleetReport:
    """Arrival measures of a fleet (times in seconds; ``inf`` never, ``nan`` no road data).

    ``measures`` (in order): ``first_<type>`` for each vehicle type the fleet has or a response
    needs, ``response_<name>`` for each adequate response, ``second_engine``, ``full_crew``; with
    sites of other zones also ``first_engine_own_zone`` (the own zone's posts alone). ``first_zone``
    is the zone of the post sending the first engine, per demand point ("" none)."""

    measures: dict
    thresholds_s: np.ndarray
    weight: np.ndarray
    no_road_data: np.ndarray
    municipality: np.ndarray | None
    municipality_names: list
    site_ids: list
    zone_of_site: list
    own_zone: str
    first_zone: np.ndarray
    engine: str
    full_crew: float
    responses: dict

    # ------------------------------------------------------------------ tables
    def __post_init__(self):
        from ..checks import check_fields

        check_fields(self)

    def _stats(self, sel) -> dict:
        w = np.where(self.no_road_data, 0.0, self.weight)[sel]
        tot = float(w.sum())
        out = {}
        for name, m in self.measures.items():
            s = m.seconds[sel]
            ok = ~np.isnan(s) & (w > 0)
            within = [float(w[ok & (s <= t)].sum()) for t in self.thresholds_s]
            fin = ok & np.isfinite(s)
            mean = float(np.sum(s[fin] * w[fin]) / w[fin].sum()) if w[fin].sum() > 0 else float("nan")
            if (ok & ~np.isfinite(s)).any() and w[ok & ~np.isfinite(s)].sum() > 0:
                mean = float("inf")
            out[name] = {
                "population": tot,
                "within": within,
                "share": [x / tot if tot > 0 else float("nan") for x in within],
                "mean_s": mean,
                "p90_s": weighted_percentile(np.where(ok, s, np.nan), w, 90) if tot > 0 else float("nan"),
                "not_reached": float(w[ok & ~np.isfinite(s)].sum()),
            }
        return out

    def _th_min(self) -> list:
        return [float(t) / 60.0 for t in self.thresholds_s]

    def headline(self) -> dict:
        """Zone figures per measure: share and population within each threshold (keys in minutes),
        mean and p90 (minutes, ``None`` when some population is never reached), never reached; and
        who sends the first engine (population and share per zone)."""
        st = self._stats(np.ones(len(self.weight), bool))
        th = self._th_min()
        out = {
            name: {
                "label": self.measures[name].label,
                "share_within": {f"{t:g}": s for t, s in zip(th, v["share"])},
                "population_within": {f"{t:g}": p for t, p in zip(th, v["within"])},
                "mean_min": mins(v["mean_s"]),
                "p90_min": mins(v["p90_s"]),
                "population_not_reached": v["not_reached"],
            }
            for name, v in st.items()
        }
        return {"measures": out, "first_engine_by_zone": self._zone_split(np.ones(len(self.weight), bool))}

    def _zone_split(self, sel) -> dict:
        w = np.where(self.no_road_data, 0.0, self.weight)[sel]
        fz = self.first_zone[sel]
        tot = float(w.sum())
        zones = list(dict.fromkeys([self.own_zone, *self.zone_of_site]))
        return {
            z: {"population": float(w[fz == z].sum()), "share": float(w[fz == z].sum() / tot) if tot > 0 else None}
            for z in zones
        }

    def municipality_rows(self) -> list[dict]:
        """Long table: one row per (municipality, measure), the zone first ("zone (all)"):
        population with road data, share within each threshold, mean and p90 (min), never reached."""
        th = self._th_min()
        groups = [("zone (all)", np.ones(len(self.weight), bool))]
        if self.municipality is not None:
            groups += [(n, self.municipality == i) for i, n in enumerate(self.municipality_names)]
        rows = []
        for gname, sel in groups:
            st = self._stats(sel)
            for name, v in st.items():
                r = {"municipality": gname, "measure": name, "label": self.measures[name].label}
                r["population"] = round(v["population"], 1)
                for t, s in zip(th, v["share"]):
                    r[f"share_within_{t:g}min"] = s
                r["mean_min"] = mins(v["mean_s"])
                r["p90_min"] = mins(v["p90_s"])
                r["population_not_reached"] = round(v["not_reached"], 1)
                rows.append(r)
        return rows

    def first_arriving_rows(self) -> list[dict]:
        """Per municipality (zone first): who sends the first engine — the population and share per
        zone, and with sites of other zones the share within each threshold by the own zone's
        posts alone and with the neighbours' help."""
        th = self._th_min()
        groups = [("zone (all)", np.ones(len(self.weight), bool))]
        if self.municipality is not None:
            groups += [(n, self.municipality == i) for i, n in enumerate(self.municipality_names)]
        others = [z for z in dict.fromkeys(self.zone_of_site) if z != self.own_zone]
        rows = []
        for gname, sel in groups:
            split = self._zone_split(sel)
            w = np.where(self.no_road_data, 0.0, self.weight)[sel]
            tot = float(w.sum())
            r = {"municipality": gname, "population": round(tot, 1)}
            own = split[self.own_zone]
            r["first_engine_own_zone_share"] = own["share"]
            nb = sum(split[z]["population"] for z in others)
            r["first_engine_neighbour_population"] = round(nb, 1)
            r["first_engine_neighbour_share"] = nb / tot if tot > 0 else None
            for z in others:
                r[f"first_engine_from_{z}_share"] = split[z]["share"]
            if others:
                fo = self.measures["first_engine_own_zone"].seconds[sel]
                fa = self.measures[f"first_{self.engine}"].seconds[sel]
                for t, ts in zip(th, self.thresholds_s):
                    r[f"within_{t:g}min_own_zone"] = float(w[fo <= ts].sum() / tot) if tot > 0 else None
                    r[f"within_{t:g}min_with_neighbours"] = float(w[fa <= ts].sum() / tot) if tot > 0 else None
            rows.append(r)
        return rows

    def point_columns(self) -> dict:
        """Per demand point: minutes of every measure (``nan`` no road data, ``inf`` never), the
        post sending the first engine and its zone."""
        ids = np.array(list(self.site_ids) + [""], dtype=object)
        out = {f"{name}_min": np.round(m.seconds / 60.0, 2) for name, m in self.measures.items()}
        out["first_engine_post"] = ids[self.measures[f"first_{self.engine}"].site]
        out["first_engine_zone"] = self.first_zone
        return out


def _check_fleet_args(fleet: Fleet, engine: str, full_crew: float, responses: dict | None) -> dict:
    """:func:`evaluate_fleet`'s engine type, crew and adequate responses (parsed), checked."""
    if engine not in fleet.types:
        raise ModelInputError(
            f"unknown vehicle type {engine!r}; expected one of {', '.join(fleet.types)}", field="engine"
        )
    if not np.isfinite(full_crew) or full_crew <= 0:
        raise ModelInputError(f"expected a crew > 0, got {full_crew!r}", field="full_crew")
    resp = {name: parse_response(spec, fleet.types) for name, spec in (responses or {}).items()}
    for name in resp:
        if not NAME_RE.match(str(name)):
            raise ModelInputError(f"expected a name of letters, digits, _ or -, got {name!r}", field="responses")
    return resp


def evaluate_fleet(
    times: dict,
    fleet: Fleet,
    demand,
    thresholds_min=(8, 10, 12, 15),
    *,
    responses: dict | None = None,
    engine: str = DEFAULT_ENGINE,
    full_crew: float = DEFAULT_FULL_CREW,
) -> FleetReport:
    """Arrival measures of ``fleet`` for ``demand``.

    Parameters
    ----------
    times : dict
        Vehicle type -> (n_sites, n_demand) response times in seconds, or a
        :class:`~kazerne.routing.travel.TravelTimes` (:func:`fleet_times`); rows in ``fleet``'s order.
    fleet : Fleet
    demand : kazerne.demand.points.DemandPoints
        Weights, ``no_road_data`` and municipalities (any object with ``weight`` and
        ``no_road_data``; ``municipality`` / ``municipality_names`` optional).
    thresholds_min : sequence of float
        Norms in minutes, on the clock of ``times`` (from the call when they include call handling).
    responses : dict, optional
        Adequate responses: name -> list of types or ``{type: count}`` (e.g.
        ``{"building_fire": ["AP", "aerial"]}``). The response time is the arrival of the **last**
        required vehicle, each type counted from its own nearest sites.
    engine : str
        The type counted for the second engine and the full crew.
    full_crew : float
        People of a full first turnout (AP6: 6). Posts bring their crew per turnout when they have at
        least one ``engine``.
    """
    from ..checks import check_instance, check_number, check_thresholds_min

    th = check_thresholds_min(thresholds_min, "thresholds")
    check_instance(times, dict, "times", "a dict vehicle type -> TravelTimes (kz.fleet_times)")
    check_instance(fleet, Fleet, "fleet", "a Fleet (kz.Fleet.default(sites))")
    full_crew = check_number(full_crew, "full_crew", lo=0.0, lo_open=True)
    resp = _check_fleet_args(fleet, engine, full_crew, responses)
    nrd = np.asarray(demand.no_road_data, dtype=bool)
    n = len(fleet)

    def mat(t):
        if t not in times:
            return None
        s = times[t]
        m = np.asarray(s.dense() if hasattr(s, "dense") else s, dtype=np.float64).copy()
        if m.shape != (n, len(nrd)):
            raise ModelInputError(f"expected {n} x {len(nrd)} times for {t!r}, got {m.shape}", field="times")
        m[:, nrd] = np.nan
        return m

    needed = list(
        dict.fromkeys(
            [
                engine,
                *(t for t in fleet.counts if fleet.total(t) > 0 and t in times),
                *(t for r in resp.values() for t in r),
            ]
        )
    )
    mats = {t: mat(t) for t in needed}
    zero = np.zeros(n)

    def times_of(t):
        if mats[t] is not None:
            return mats[t]
        if fleet.total(t) > 0:
            raise ModelInputError(f"no travel times for vehicle type {t!r}", field="times")
        m = np.full((n, len(nrd)), np.inf)  # nobody has one: never on scene
        m[:, nrd] = np.nan
        return m

    def arrive(t, k, amount=None):
        return arrival_time(times_of(t), fleet.counts.get(t, zero) if amount is None else amount, k)

    measures = {}
    for t in needed:
        s, site = arrive(t, 1)
        measures[f"first_{t}"] = Measure(f"first_{t}", f"first {fleet.types[t].label or t}", s, site)
    for name, r in resp.items():
        parts = [arrive(t, c) for t, c in r.items()]
        stack = np.vstack([p[0] for p in parts])
        last = np.argmax(np.where(np.isnan(stack), -np.inf, stack), axis=0)
        s = stack.max(axis=0)  # nan stays nan (no road data), inf when a type never comes
        site = np.vstack([p[1] for p in parts])[last, np.arange(stack.shape[1])]
        what = " + ".join(f"{c} {t}" if c > 1 else t for t, c in r.items())
        measures[f"response_{name}"] = Measure(f"response_{name}", f"adequate response {name} ({what})", s, site)
    s, site = arrive(engine, 2)
    measures["second_engine"] = Measure("second_engine", f"second engine ({engine})", s, site)
    crew = fleet.crew_size * (fleet.counts.get(engine, zero) > 0)
    s, site = arrive(engine, full_crew, crew)
    measures["full_crew"] = Measure("full_crew", f"crew of {full_crew:g} on scene ({engine})", s, site)
    zones = np.array(list(fleet.zone) + [""], dtype=object)
    first_site = measures[f"first_{engine}"].site
    if any(z != fleet.own_zone for z in fleet.zone):
        own = np.array([z == fleet.own_zone for z in fleet.zone])
        s, site = arrive(engine, 1, fleet.counts.get(engine, zero) * own)
        measures["first_engine_own_zone"] = Measure(
            "first_engine_own_zone", f"first {engine} of the own zone's posts alone", s, site
        )
    return FleetReport(
        measures=measures,
        thresholds_s=np.array(sorted(th)) * 60.0,
        weight=np.asarray(demand.weight, dtype=float),
        no_road_data=nrd,
        municipality=None if getattr(demand, "municipality", None) is None else np.asarray(demand.municipality),
        municipality_names=list(getattr(demand, "municipality_names", []) or []),
        site_ids=list(fleet.site_ids),
        zone_of_site=list(fleet.zone),
        own_zone=fleet.own_zone,
        first_zone=zones[first_site],
        engine=engine,
        full_crew=float(full_crew),
        responses=resp,
    )


def placement_costs(candidate_s, existing_s=None, other_s=None) -> np.ndarray:
    """Costs for placing more vehicles of one type: rows = the sites already holding it (to fix in
    the model), then the candidates; columns = demand points; seconds.

    For the first vehicle of the type the cost is its response time. For an adequate response
    needing one vehicle of this type and others (``other_s``: per demand point, when the other
    required vehicles are all on scene, from the existing fleet) a site's cost is
    ``max(other_s, time)``: the response is complete when the last vehicle arrives, and
    ``max(other, min_s t_s) = min_s max(other, t_s)``, so a covering or p-median model over these
    rows measures the response exactly.

    Parameters
    ----------
    candidate_s : ndarray (n_candidates, n_demand)
    existing_s : ndarray (n_existing, n_demand), optional
        Response times of the sites that already hold the type (rows fixed open in the model).
    other_s : ndarray (n_demand,), optional
    """
    from ..checks import check_array

    c = check_array(candidate_s, "candidate_s", ndim=2, allow_nan=True)
    e = np.zeros((0, c.shape[1])) if existing_s is None else check_array(existing_s, "existing_s", allow_nan=True)
    if e.ndim != 2 or e.shape[1] != c.shape[1]:
        raise ModelInputError(
            f"expected candidate and existing times with the same demand columns, got {c.shape} and {e.shape}",
            field="existing_s",
        )
    m = np.vstack([e, c])
    if other_s is not None:
        o = check_array(other_s, "other_s", allow_nan=True).reshape(-1)
        if o.shape != (c.shape[1],):
            raise ModelInputError(f"expected {c.shape[1]} times, got {o.shape}", field="other_s")
        m = np.maximum(m, np.where(np.isnan(o), np.inf, o)[None, :])
    return m
