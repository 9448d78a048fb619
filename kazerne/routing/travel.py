"""Travel times from sites (posts, candidate sites, bases) to demand.

Direction matters: times run *from* the site *to* the demand point (one-way streets). A response
time is ``turnout_s + drive_s``. Shortest paths use ``scipy.sparse.csgraph.dijkstra`` on the
profile's CSR graph, one search per site with a ``limit`` (the cutoff): a numba-compiled binary-heap Dijkstra over threads (``_dijkstra``), or
``scipy.sparse.csgraph.dijkstra`` when numba is missing.

Matrix storage (documented choice): :func:`travel_matrix` returns a **dense float32** array
(sites × demand, seconds, ``inf`` beyond the cutoff or unreachable). 2,000 sites × 15,000 demand
points is 120 MB, fine on this class of machine; for larger problems use ``sparse=True`` which
returns a ``scipy.sparse.csr_matrix`` holding only the finite entries (an absent entry = beyond
the cutoff, *not* zero).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from ..clock import Clock, call_handling_value, mismatch_text
from ..errors import ModelInputError
from .network import RoadNetwork
from .paths import ENGINES, check_nodes, cutoff_seconds, drive_times, shortest_tree  # noqa: F401 (re-exported)
from .profiles import SpeedProfile


@dataclass
class TravelTimes:
    """Response times from sites to demand points: the seam between routing and the models.

    Attributes
    ----------
    site_ids : list of str
    turnout_s : ndarray
        Turnout time per site, seconds.
    seconds : ndarray or scipy.sparse.csr_matrix
        (n_sites, n_demand) response time = turnout + drive, seconds. **One convention**: ``inf``
        (dense) or absent (sparse) = not reached — beyond ``cutoff_s``, unreachable, or a demand
        point without road data (``no_road_data`` says which). Every model accepts it.
    cutoff_s : float
        Largest response time kept (``inf`` = none).
    no_road_data : ndarray of bool, optional
        Per demand point: no road data there (reported apart, never covered nor uncovered).
    demand_ids : ndarray, optional
        Demand point ids (default 0..n-1).
    node_seconds : ndarray, optional
        (n_sites, n_nodes) response times to every network node (``keep_nodes=True``; first-due areas).
    profile : str
        Name of the speed profile.
    speed_profile : SpeedProfile, optional
        The profile itself (with any overrides), for isochrones.
    clock : Clock, optional
        What the seconds count from: its ``call_handling_s`` is already inside them (default
        ``Clock.alarm()``: from the alarm, nothing added). Every consumer checks it
        (:meth:`kazerne.Clock.require`), so call handling cannot be counted twice.
    """

    site_ids: list
    turnout_s: np.ndarray
    seconds: np.ndarray
    cutoff_s: float = float("inf")
    meta: dict = field(default_factory=dict)
    no_road_data: np.ndarray | None = None
    demand_ids: np.ndarray | None = None
    node_seconds: np.ndarray | None = None
    profile: str = ""
    speed_profile: SpeedProfile | None = None
    clock: Clock | None = None

    def __post_init__(self):
        from ..checks import check_array, check_instance, check_number

        name = "TravelTimes"
        if self.clock is None:
            self.clock = Clock.alarm()
        check_instance(self.clock, Clock, f"{name}.clock", "a Clock (kz.Clock.alarm(), kz.Clock(90))")
        check_instance(self.site_ids, (list, tuple), f"{name}.site_ids", "a list of site ids")
        if not sparse.issparse(self.seconds):
            self.seconds = check_array(self.seconds, f"{name}.seconds", ndim=2, dtype=None, allow_nan=True)
        n_sites, n_demand = self.seconds.shape
        if n_sites != len(self.site_ids):
            raise ModelInputError(
                f"expected one row per site ({len(self.site_ids)}), got {n_sites} rows", field=f"{name}.seconds"
            )
        self.turnout_s = check_array(self.turnout_s, f"{name}.turnout_s", dtype=None)
        if self.turnout_s.ndim == 1 and len(self.turnout_s) != n_sites:
            raise ModelInputError(
                f"expected one turnout per site ({n_sites}), got {len(self.turnout_s)}", field=f"{name}.turnout_s"
            )
        check_number(self.cutoff_s, f"{name}.cutoff_s", lo=0.0, finite=False)
        check_instance(self.meta, dict, f"{name}.meta", "a dict")
        for fld in ("no_road_data", "demand_ids"):
            v = getattr(self, fld)
            if v is not None and len(v) != n_demand:
                raise ModelInputError(
                    f"expected one value per demand point ({n_demand}), got {len(v)}", field=f"{name}.{fld}"
                )

    @property
    def shape(self) -> tuple:
        return tuple(self.seconds.shape)

    def dense(self) -> np.ndarray:
        if sparse.issparse(self.seconds):
            d = np.full(self.seconds.shape, np.inf, dtype=np.float32)
            c = sparse.coo_matrix(self.seconds)
            d[c.row, c.col] = c.data
            return d
        return self.seconds

    def shifted(self, call_handling_s) -> "TravelTimes":
        """These times **from the call**: ``call_handling_s`` seconds (112 call -> alarm at the post;
        or a :class:`~kazerne.Clock`, its call handling) added to every time of times from the alarm.

        The sum is taken in float64 (exact for the float32 times of :func:`travel_times`: a share
        within ``T + C`` of the result equals the share within ``T`` of ``self``, to the last bit);
        ``cutoff_s`` and ``node_seconds`` move with it, and the result's ``clock`` carries ``C``.
        ``0`` returns ``self`` unchanged. A sparse matrix stays sparse (its entries shifted).

        Raises
        ------
        ModelInputError
            These times already include call handling (``self.clock``): it would count twice."""
        clock = call_handling_s if isinstance(call_handling_s, Clock) else None
        c = clock.call_handling_s if clock else call_handling_value(call_handling_s)
        if c == 0:
            return self
        mine = self.clock or Clock.alarm()
        if mine.call_handling_s:
            raise ModelInputError(mismatch_text(mine.call_handling_s, c), field="call_handling_s")
        if sparse.issparse(self.seconds):
            sec: Any = self.seconds.astype(np.float64)  # a scipy sparse matrix
            sec.data += c
        else:
            sec = np.asarray(self.seconds, dtype=np.float64) + c
        return TravelTimes(
            site_ids=list(self.site_ids),
            turnout_s=self.turnout_s,
            seconds=sec,
            cutoff_s=self.cutoff_s + c,
            meta=dict(self.meta),
            no_road_data=self.no_road_data,
            demand_ids=self.demand_ids,
            node_seconds=None if self.node_seconds is None else self.node_seconds + c,
            profile=self.profile,
            speed_profile=self.speed_profile,
            clock=clock or mine.with_call_handling(c),
        )

    def rows(self, which) -> "TravelTimes":
        """The sites at the given positions (ints) or with the given ids (strings), in that order."""
        idx = [self.site_ids.index(w) if isinstance(w, str) else int(w) for w in np.atleast_1d(which).tolist()]
        return TravelTimes(
            site_ids=[self.site_ids[i] for i in idx],
            turnout_s=self.turnout_s[idx],
            seconds=self.dense()[idx],
            cutoff_s=self.cutoff_s,
            meta=dict(self.meta),
            no_road_data=self.no_road_data,
            demand_ids=self.demand_ids,
            node_seconds=None if self.node_seconds is None else self.node_seconds[idx],
            profile=self.profile,
            speed_profile=self.speed_profile,
            clock=self.clock,
        )

    def to_problem(self, weights, **kw):
        """A :class:`~kazerne.coverage.problem.Problem` for the models: these times as costs (s) and
        ``weights`` per demand point, demand without road data weighted 0. ``kw`` goes to
        :func:`~kazerne.coverage.problem.from_cost_matrix` (``fixed``, ``closed``, ``demand_ids``)."""
        from ..checks import check_array
        from ..coverage.problem import from_cost_matrix

        w = check_array(weights, "weights", ndim=1, nonneg=True, allow_inf=False)
        if len(w) != self.seconds.shape[1]:
            raise ModelInputError(
                f"expected one weight per demand point ({self.seconds.shape[1]}), got {len(w)}", field="weights"
            )
        if self.no_road_data is not None:
            w = np.where(self.no_road_data, 0.0, w)
        return from_cost_matrix(self.dense(), w, site_ids=self.site_ids, **kw)

    def first_due_areas(self, zone, demand=None, cell_m: float | None = None, to_crs=None, **kw):
        """Where each site arrives first, as a ``geopandas.GeoDataFrame`` (EPSG:4326, or ``to_crs``):
        one row per site — ``first_post`` (the site id), ``name``, ``area_km2``, ``population`` (with
        ``demand``) and a valid MultiPolygon (empty where the site is first nowhere) — plus a row with
        ``first_post`` missing for the cells without road data or site. With ``demand`` (the
        demand these times were computed for) its cells keep their own first site, so the areas
        hold exactly the cells the coverage tables count; the rest of the zone is the demand grid's
        cells (``cell_m``, default ``demand.cell_m`` or 250 m) owned through their nearest node.
        The same areas as ``first_due.geojson`` and the ``first_due_areas`` layer of ``layers.gpkg``
        (:func:`kazerne.routing.isochrones.first_due_from_times`; ``kw``: ``min_area_m2``).
        Needs the times to every node (``travel_times(..., keep_nodes=True)``)."""
        import geopandas as gpd

        from ..report.plotcrs import to_crs as _to_crs
        from .isochrones import first_due_from_times, first_due_rows, polygons_to_wgs84

        node_t = self._node_seconds("first_due_areas")
        first = None
        if demand is not None:
            first = kth_nearest(self.dense(), k=1)[1][0]
        areas = first_due_from_times(zone, node_t, demand, first, cell_m=cell_m, **kw)
        rows, geoms = first_due_rows(areas, self.site_ids, demand=demand, demand_first=first)
        gdf = gpd.GeoDataFrame(rows, geometry=polygons_to_wgs84(geoms), crs="EPSG:4326")
        return _to_crs(gdf, to_crs)

    def isochrones(self, zone, minutes=(8, 10, 12, 15), demand=None, to_crs=None, **kw):
        """Isochrones of every site as a ``geopandas.GeoDataFrame`` (EPSG:4326, or ``to_crs``): one
        row per site and threshold (``post``, ``within_min``, ``area_km2``) with a valid MultiPolygon,
        times as these (turnout and call handling included); with ``demand`` every demand point
        this site reaches within T lies inside its T polygon. The no-road-data area is cut out.
        ``kw`` goes to :func:`kazerne.routing.isochrones.reach_polygons` (``buffer_m``, ``cell_m``,
        ``simplify_m``, ``min_area_m2``). Needs the times to every node (``keep_nodes=True``)."""
        import geopandas as gpd

        from ..report.plotcrs import to_crs as _to_crs
        from .isochrones import polygons_to_wgs84, reach_polygons
        from .profiles import get_profile

        node_t = self._node_seconds("isochrones")
        prof = self.speed_profile or get_profile(self.profile)
        dense = self.dense() if demand is not None else None
        rows, geoms = [], []
        for k, sid in enumerate(self.site_ids):
            pts = None if dense is None else (demand.x, demand.y, dense[k])
            polys = reach_polygons(zone.net, prof, node_t[k], minutes, points=pts, gap_metric=zone.gap_metric, **kw)
            for m, g in zip(sorted(float(x) for x in minutes), polys):
                rows.append({"post": sid, "within_min": m, "area_km2": round(g.area / 1e6, 3)})
                geoms.append(g)
        return _to_crs(gpd.GeoDataFrame(rows, geometry=polygons_to_wgs84(geoms), crs="EPSG:4326"), to_crs)

    def _node_seconds(self, what: str) -> np.ndarray:
        if self.node_seconds is None:
            raise ModelInputError(
                f"{what} needs the times to every network node: call travel_times(..., keep_nodes=True)",
                field="keep_nodes",
            )
        return self.node_seconds

    def to_dataframe(self):
        """A ``pandas.DataFrame`` of the times in minutes: one row per site, one column per demand point."""
        import pandas as pd

        cols = self.demand_ids if self.demand_ids is not None else np.arange(self.shape[1])
        return pd.DataFrame(self.dense() / 60.0, index=pd.Index(self.site_ids, name="site"), columns=cols)


def travel_times(
    zone,
    sites,
    demand,
    profile="fire_engine",
    *,
    cutoff_s: float | None = None,
    keep_nodes: bool = False,
    workers: int | None = None,
    progress=None,
    call_handling_s: float | None = None,
    clock: Clock | None = None,
) -> TravelTimes:
    """Sites × demand response times (turnout + drive, seconds) on ``zone``'s road network.

    By default the times run **from the alarm** at the post. ``clock`` (e.g.
    ``kz.Clock.from_scenario(sc)``, or ``kz.Clock()``: 90 s) adds its 112 call handling: times **from
    the call**, as the scenario runner measures them (:meth:`TravelTimes.shifted`); the result's
    ``clock`` says so. ``call_handling_s`` is the older keyword for the same (a clock with that call
    handling).

    Parameters
    ----------
    zone : kazerne.routing.zone.Zone
    sites : kazerne.Sites
        Where the units stand (network node and turnout per site).
    demand : kazerne.demand.points.DemandPoints
        The demand points (network node and ``no_road_data`` per point).
    profile : str or SpeedProfile
        Speed profile (``fire_engine``, ``ambulance``, ``car``, or a :class:`SpeedProfile`).
    cutoff_s : float, optional
        Response times above this are ``inf``: the searches stop early (covering models at T).
        With ``call_handling_s`` the cutoff counts from the call too.
    keep_nodes : bool
        Also keep the times to every network node (``node_seconds``; first-due areas, isochrones).
    progress : object with ``update(n)``, optional
        Advanced by the number of sites searched (e.g. a ``tqdm`` bar).
    call_handling_s : float, optional
        112 call -> alarm at the post, seconds, added to every time (default 0: from the alarm).
    clock : Clock, optional
        The clock of the times: its call handling is added (give it or ``call_handling_s``).

    Returns
    -------
    TravelTimes
        ``inf`` = beyond the cutoff, unreachable, or no road data (see :class:`TravelTimes`).
        float32 seconds from the alarm; float64 (exact) with call handling.
    """
    from ..checks import check_demand, check_instance, check_progress, check_zone
    from ..sites import Sites
    from .profiles import check_profile
    from .snapping import demand_approach

    check_zone(zone)
    check_instance(sites, Sites, "sites", "Sites (kz.Sites.from_posts(zone), kz.Sites.from_lonlat(...))")
    check_demand(demand)
    prof = check_profile(profile)
    progress = check_progress(progress)
    nodes = check_nodes(sites.node, zone.net.n_nodes, "sites")
    check_nodes(demand.node, zone.net.n_nodes, "demand")
    dn = demand_approach(zone.net, prof, demand)
    turnout = np.asarray(sites.turnout_s, dtype=float)
    if clock is not None:
        check_instance(clock, Clock, "clock", "a Clock (kz.Clock.from_scenario(sc), kz.Clock(90))")
        if call_handling_s is not None and call_handling_value(call_handling_s) != clock.call_handling_s:
            raise ModelInputError(
                f"call handling {call_handling_s:g} s disagrees with the clock's {clock.call_handling_s:g} s; "
                "give one of them",
                field="call_handling_s",
            )
    else:
        clock = Clock.alarm() if call_handling_s is None else Clock(call_handling_value(call_handling_s))
    ch = clock.call_handling_s
    cutoff = cutoff_seconds(cutoff_s)
    if ch and np.isfinite(cutoff):
        cutoff = max(0.0, cutoff - ch)  # from the call -> from the alarm
    nrd = np.asarray(demand.no_road_data, dtype=bool)
    where = _site_points(sites, demand, dn[4])
    out, node_out = _response_times(
        zone.net, prof, nodes, turnout, dn, nrd, cutoff, keep_nodes, workers, progress, where=where
    )
    return TravelTimes(
        site_ids=list(sites.ids),
        turnout_s=turnout,
        seconds=out,
        cutoff_s=cutoff,
        meta={"profile": prof.describe(), "demand_resnapped": int(dn[4].sum())},
        no_road_data=nrd,
        node_seconds=node_out,
        profile=prof.name,
        speed_profile=prof,
        clock=clock.with_call_handling(0.0),
    ).shifted(clock)


def demand_drive_times(
    net: RoadNetwork, profile: SpeedProfile, site_nodes, demand, cutoff_s=None, site_edge=None, site_frac=None
) -> np.ndarray:
    """Driving times (s, float64) from ``site_nodes`` to ``demand``'s points along their streets
    (:func:`~kazerne.routing.snapping.demand_approach`): (len(site_nodes), len(demand)), ``inf`` beyond
    ``cutoff_s`` or unreachable. No turnout, and no ``no_road_data`` masking. With ``site_edge`` and
    ``site_frac`` (a :class:`~kazerne.Sites`' ``edge`` and ``frac``) the sites leave from their points
    on their streets (:func:`~kazerne.routing.snapping.drive_times_from`)."""
    from .snapping import demand_approach, drive_times_from, same_edge_times

    a, ca, b, cb, moved = demand_approach(net, profile, demand)
    d = drive_times_from(net, profile, site_nodes, site_edge, site_frac, cutoff_s=cutoff_s)
    out = np.minimum(d[:, a] + ca, d[:, b] + cb)
    if site_edge is not None and getattr(demand, "edge", None) is not None:
        r, c, t = same_edge_times(net, profile, site_edge, site_frac, np.where(moved, -1, demand.edge), demand.frac)
        out[r, c] = np.minimum(out[r, c], t)
    if cutoff_s is not None:
        out[out > cutoff_seconds(cutoff_s)] = np.inf
    return out


def travel_matrix(
    net: RoadNetwork,
    profile: SpeedProfile,
    site_nodes,
    turnout_s,
    demand_nodes,
    cutoff_s: float | None = None,
    site_ids=None,
    no_road_data=None,
    sparse_out: bool = False,
    workers: int | None = None,
    progress=None,
) -> TravelTimes:
    """Sites × demand response times (turnout + drive), seconds.

    Parameters
    ----------
    site_nodes : array of int
        Network node of each site.
    turnout_s : float or array
        Turnout time per site (seconds), added to the drive time.
    demand_nodes : array of int
        Network node of each demand point.
    cutoff_s : float, optional
        Response times above this are ``inf`` (dense) / absent (sparse). Speeds the searches up.
    no_road_data : array of bool, optional
        Demand points without road data: their column is ``inf`` (never a time; the one convention of
        :class:`TravelTimes`), and the mask is kept in ``TravelTimes.no_road_data``.
    sparse_out : bool
        Return a ``scipy.sparse.csr_matrix`` of finite entries instead of a dense float32 array.
    """
    net_nodes = check_nodes(site_nodes, net.n_nodes, "site_nodes")
    dn = check_nodes(demand_nodes, net.n_nodes, "demand_nodes")
    turnout = np.broadcast_to(np.asarray(turnout_s, dtype=np.float64), net_nodes.shape).copy()
    if np.any(turnout < 0) or not np.all(np.isfinite(turnout)):
        raise ModelInputError("turnout times must be finite and >= 0 seconds", field="turnout_s")
    nrd = np.zeros(len(dn), bool) if no_road_data is None else np.asarray(no_road_data, dtype=bool)
    zero = np.zeros(len(dn))
    mat, _ = _response_times(
        net, profile, net_nodes, turnout, (dn, zero, dn, zero), nrd, cutoff_seconds(cutoff_s), False, workers, progress
    )
    ids = list(site_ids) if site_ids is not None else [str(i) for i in range(len(net_nodes))]
    if sparse_out:
        r, c = np.nonzero(np.isfinite(mat))
        mat = sparse.csr_matrix((mat[r, c], (r, c)), shape=mat.shape)
    return TravelTimes(
        site_ids=ids,
        turnout_s=turnout,
        seconds=mat,
        cutoff_s=cutoff_seconds(cutoff_s),
        no_road_data=None if no_road_data is None else nrd,
        profile=profile.name,
    )


def _site_points(sites, demand, moved):
    """``(edge, frac, demand_edge, demand_frac)`` for :func:`_response_times` when some site stands on
    an edge (it leaves from its point; a demand point on the same edge is reached along it), else None."""
    if sites.edge is None or not (np.asarray(sites.edge) >= 0).any():
        return None
    d_edge = getattr(demand, "edge", None)
    if d_edge is not None:
        d_edge = np.where(np.asarray(moved, bool), -1, d_edge)
    return np.asarray(sites.edge, np.int64), np.asarray(sites.frac, float), d_edge, getattr(demand, "frac", None)


def _response_times(net, prof, nodes, turnout, dn, nrd, cutoff, keep_nodes, workers, progress, where=None):
    """(sites x demand float32, sites x nodes or None): turnout + drive, ``inf`` beyond ``cutoff``,
    unreachable or without road data. Distinct site nodes are searched once. ``dn`` is the demand's
    approach ``(a, a_cost, b, b_cost)`` (:func:`~kazerne.routing.snapping.approach_costs`): a point is
    reached through node ``a`` plus ``a_cost`` seconds or node ``b`` plus ``b_cost``. ``where``
    (:func:`_site_points`): the sites leave from points on their edges."""
    from ..limits import require_memory
    from .snapping import drive_times_from, same_edge_times

    a, ca, b, cb = (np.asarray(v) for v in dn[:4])
    n_s, n_d = len(nodes), len(a)
    require_memory(
        4.0 * n_s * n_d + (8.0 * n_s * net.n_nodes if keep_nodes else 0),
        f"the times from {n_s:,} sites to {n_d:,} demand points",
        field="sites",
    )
    out = np.empty((n_s, n_d), dtype=np.float32)
    node_out = np.empty((n_s, net.n_nodes)) if keep_nodes else None
    limit = None if not np.isfinite(cutoff) or n_s == 0 else max(0.0, cutoff - float(turnout.min()))
    s_edge = None if where is None else where[0]
    keys = nodes if where is None else np.column_stack([nodes, where[0], where[1]])
    uniq, first, inv = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inv = inv.reshape(-1)
    step = 256
    for start in range(0, len(uniq), step):
        part = first[start : start + step]
        d = drive_times_from(
            net,
            prof,
            nodes[part],
            None if where is None else s_edge[part],
            None if where is None else where[1][part],
            cutoff_s=limit,
            workers=workers,
        )
        rows = np.flatnonzero((inv >= start) & (inv < start + len(part)))
        dd = d[inv[rows] - start]
        out[rows] = np.minimum(dd[:, a] + ca, dd[:, b] + cb) + turnout[rows, None]
        if keep_nodes:
            node_out[rows] = d[inv[rows] - start] + turnout[rows, None]
        if progress is not None:
            progress.update(len(rows))
    if where is not None and where[2] is not None:
        r, c, t = same_edge_times(net, prof, where[0], where[1], where[2], where[3])
        out[r, c] = np.minimum(out[r, c], t + turnout[r])
    if np.isfinite(cutoff):
        out[out > cutoff] = np.inf
    out[:, nrd] = np.inf
    return out, node_out


def kth_nearest(seconds: np.ndarray, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The k fastest sites for each demand point.

    Returns ``(times, sites)``, both shape (k, n_demand): ``times[r]`` the (r+1)-th fastest
    response time (``inf`` if fewer than r+1 sites reach it, ``nan`` for no_road_data columns)
    and ``sites[r]`` its site index (-1 when none). Ties are broken by site order.
    """
    m = np.asarray(seconds, dtype=np.float64)
    n_s, n_d = m.shape
    k_eff = min(k, n_s)
    nan_col = np.isnan(m).all(axis=0) if n_s else np.zeros(n_d, dtype=bool)
    filled = np.where(np.isnan(m), np.inf, m)
    order = np.argsort(filled, axis=0, kind="stable")[:k_eff]
    times = np.take_along_axis(filled, order, axis=0)
    sites = np.where(np.isfinite(times), order, -1)
    if k_eff < k:
        times = np.vstack([times, np.full((k - k_eff, n_d), np.inf)])
        sites = np.vstack([sites, -np.ones((k - k_eff, n_d), dtype=sites.dtype)])
    times[:, nan_col] = np.nan
    sites[:, nan_col] = -1
    return times, sites
