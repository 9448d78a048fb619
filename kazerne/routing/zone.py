"""A loaded zone: the pack plus its road network, the one object later stages start from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from ..errors import SnapError
from .network import RoadNetwork, load_network, to_metric
from .snapping import DEFAULT_MAX_SNAP_M, Snapped, geom_to_metric, snap_xy
from .zonepack import ZonePack, load_pack


@dataclass
class Zone:
    """A zone pack with its road network and its geometry in EPSG:31370."""

    pack: ZonePack
    net: RoadNetwork
    zone_metric: object
    gap_metric: object | None
    municipalities_metric: list

    def __post_init__(self):
        from ..checks import check_fields

        check_fields(self)

    @property
    def name(self) -> str:
        return self.pack.name

    def snap_lonlat(self, lon, lat, max_snap_m: float = DEFAULT_MAX_SNAP_M, only: str | None = None) -> Snapped:
        """Snap WGS84 points; ``only`` as in :func:`~kazerne.routing.snapping.snap_xy`."""
        x, y = to_metric(np.atleast_1d(lon), np.atleast_1d(lat))
        return snap_xy(self.net, x, y, max_snap_m=max_snap_m, gap_metric=self.gap_metric, only=only)

    def site_node(
        self, lon: float, lat: float, what: str, max_snap_m: float = DEFAULT_MAX_SNAP_M, snap: str = "public"
    ) -> int:
        """Network node of a site: the end of its street edge nearer along it (:meth:`site_point`);
        :class:`SnapError` when it is off the network or in the gap."""
        return self.site_point(lon, lat, what, max_snap_m=max_snap_m, snap=snap)[0]

    def site_point(
        self, lon: float, lat: float, what: str, max_snap_m: float = DEFAULT_MAX_SNAP_M, snap: str = "public"
    ) -> tuple:
        """Where a site stands on its street: ``(node, edge, frac, distance_m)`` — the nearest point of
        the nearest suitable edge (:func:`~kazerne.routing.snapping.snap_sites`), ``frac`` along it,
        ``node`` its end nearer along it, ``distance_m`` from the position to that point.
        :class:`SnapError` (naming ``what`` and the distance) when no such road lies within
        ``max_snap_m`` or the position is in the road-data gap.

        ``snap="public"`` (default) places the site on a public road a vehicle leaves by (not a service
        road, car park, track or emergency-only passage); ``snap="any"`` on the nearest street as
        demand points are (any way when no street is near)."""
        from .snapping import nearest_edge_distance, site_edges_mask, snap_sites

        if not (np.isfinite(lon) and np.isfinite(lat)):
            raise SnapError("position unknown (no lat/lon); give lat/lon or a street for it", field=what)
        if snap not in ("public", "any"):
            raise SnapError(f'expected snap = "public" or "any", got {snap!r}', field=what)
        x, y = to_metric(np.atleast_1d(lon), np.atleast_1d(lat))
        if self.gap_metric is not None and shapely.contains_xy(self.gap_metric, x[0], y[0]):
            raise SnapError(
                f"lat={lat:.6f} lon={lon:.6f} lies in the zone's road-data gap; no travel times there", field=what
            )
        s = snap_sites(self.net, x, y, max_snap_m=max_snap_m, snap=snap)
        if s.edge[0] < 0:
            from ..units import swap_hint

            dist = nearest_edge_distance(self.net, x[0], y[0], site_edges_mask(self.net) if snap == "public" else None)
            raise SnapError(
                f"lat={lat:.6f} lon={lon:.6f} is {dist:.0f} m from the nearest road of the network "
                f"(more than {max_snap_m:.0f} m){swap_hint(lon, lat, dist)}",
                field=what,
            )
        return int(s.node[0]), int(s.edge[0]), float(s.frac[0]), float(s.distance_m[0])

    def street_point(self, lon: float, lat: float, what: str = "to", max_snap_m: float = DEFAULT_MAX_SNAP_M):
        """An address on its street, as demand points are snapped (a street, not a service road or
        track while one is within ``max_snap_m``): an :class:`~kazerne.routing.snapping.EdgePoint`, a
        route end. :class:`SnapError` in the gap or farther than ``max_snap_m`` from any road."""
        from .snapping import nearest_edge_distance, street_point

        x, y = to_metric(np.atleast_1d(lon), np.atleast_1d(lat))
        if self.gap_metric is not None and shapely.contains_xy(self.gap_metric, x[0], y[0]):
            raise SnapError(
                f"lat={lat:.6f} lon={lon:.6f} lies in the zone's road-data gap; no travel times there", field=what
            )
        p = street_point(self.net, float(x[0]), float(y[0]), max_snap_m=max_snap_m)
        if p is None:
            dist = nearest_edge_distance(self.net, x[0], y[0])
            raise SnapError(
                f"lat={lat:.6f} lon={lon:.6f} is {dist:.0f} m from the nearest road of the network "
                f"(more than {max_snap_m:.0f} m)",
                field=what,
            )
        return p

    def contains_lonlat(self, lon: float, lat: float, buffer_m: float = 0.0) -> bool:
        x, y = to_metric([lon], [lat])
        geom = self.zone_metric if not buffer_m else shapely.buffer(self.zone_metric, buffer_m)
        return bool(shapely.contains_xy(geom, x[0], y[0]))

    def describe(self) -> dict:
        return {
            "zone": self.pack.name,
            "road_data": self.net.describe(),
            "road_data_date": self.pack.road_data_date,
            "population_year": self.pack.population_year,
            "population_total": self.pack.total_population,
            "network_gap": self.gap_metric is not None,
        }


def municipality_of(zone, x, y) -> np.ndarray:
    """Index (into ``zone.pack.municipalities``) of the municipality holding each EPSG:31370 point
    (-1 outside every municipality)."""
    out = -np.ones(len(x), dtype=np.int64)
    for i, g in enumerate(zone.municipalities_metric):
        hit = (out < 0) & shapely.contains_xy(g, x, y)
        out[hit] = i
    return out


def load_zone(name: str, quiet: bool = False, use_cache: bool = True) -> Zone:
    """Load zone pack ``name`` and its road network (cached after the first load)."""
    import os

    from ..errors import ZonePackError

    if not isinstance(name, (str, os.PathLike)):
        raise ZonePackError(f'expected a zone pack name such as "hvz-centrum", got {name!r}', field="zone")
    pack = load_pack(os.fspath(name))
    net = load_network(pack.roads_file, road_data_date=pack.road_data_date, use_cache=use_cache, quiet=quiet)
    munis = [geom_to_metric(m.geometry) for m in pack.municipalities]
    zone_metric = shapely.union_all(munis)
    gap_metric = geom_to_metric(pack.gap)
    from .urban import URBAN_MIN_DENSITY_KM2, URBAN_RADIUS_M, URBAN_RULE, zone_urban

    net.urban = zone_urban(net, munis, [m.population for m in pack.municipalities], gap_metric)
    net.urban_rule = URBAN_RULE.format(radius=URBAN_RADIUS_M, density=URBAN_MIN_DENSITY_KM2)
    net._csr_cache.clear()
    return Zone(pack=pack, net=net, zone_metric=zone_metric, gap_metric=gap_metric, municipalities_metric=munis)
