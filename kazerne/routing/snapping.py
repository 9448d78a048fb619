"""Snapping points to the road network.

A point snaps to the nearest node of the kept (strongly connected) network with a KD-tree in
EPSG:31370. A point farther than ``max_snap_m`` (default 500 m) from any node, or inside the zone
pack's network-gap polygon, is flagged ``no_road_data``: the extract says nothing about how to reach
it, so it is never counted as covered nor as uncovered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from .network import RoadNetwork, to_metric

DEFAULT_MAX_SNAP_M = 500.0


@dataclass
class Snapped:
    """Snap result for n points.

    Attributes
    ----------
    node : ndarray of int
        Index of the nearest network node (always set, even when flagged).
    distance_m : ndarray of float
        Straight-line distance to that node, metres.
    no_road_data : ndarray of bool
        True when the point is farther than the threshold or inside the network gap.
    in_gap : ndarray of bool
        True when the point lies inside the pack's network-gap polygon.
    x, y : ndarray of float
        The points in EPSG:31370, metres.
    """

    node: np.ndarray
    distance_m: np.ndarray
    no_road_data: np.ndarray
    in_gap: np.ndarray
    x: np.ndarray
    y: np.ndarray


#: Road classes a site (post, candidate, base) may stand on by default: a public road a vehicle
#: leaves by, not a private service road, car park, track or emergency-only passage.
SITE_EXCLUDED_CLASSES = ("service", "track", "pedestrian", "busway")


def site_nodes_mask(net: RoadNetwork) -> np.ndarray:
    """Per node: True when a public road (access public, class not in :data:`SITE_EXCLUDED_CLASSES`)
    touches it."""
    m = net._csr_cache.get("_site_mask")
    if m is None:
        from .profiles import CLASS_INDEX

        bad = np.isin(net.cls, [CLASS_INDEX[c] for c in SITE_EXCLUDED_CLASSES]) | net.emergency_only()
        m = np.zeros(net.n_nodes, dtype=bool)
        m[net.u[~bad]] = True
        m[net.v[~bad]] = True
        net._csr_cache["_site_mask"] = m
    return m


def public_nodes_mask(net: RoadNetwork) -> np.ndarray:
    """Per node: True when an edge every vehicle may use (not an emergency-only passage) touches it."""
    m = net._csr_cache.get("_public_mask")
    if m is None:
        pub = ~net.emergency_only()
        m = np.zeros(net.n_nodes, dtype=bool)
        m[net.u[pub]] = True
        m[net.v[pub]] = True
        net._csr_cache["_public_mask"] = m
    return m


def _tree(net: RoadNetwork, only: str | None = None):
    """KD-tree over all nodes, or over the nodes of ``only`` ("site" or "public") and their indices."""
    from scipy.spatial import cKDTree

    key = ("_kdtree", only)
    t = net._csr_cache.get(key)
    if t is None:
        idx = (
            np.arange(net.n_nodes)
            if only is None
            else np.flatnonzero(site_nodes_mask(net) if only == "site" else public_nodes_mask(net))
        )
        t = (cKDTree(np.column_stack([net.x[idx], net.y[idx]])), idx)
        net._csr_cache[key] = t
    return t


def snap_xy(
    net: RoadNetwork, x, y, max_snap_m: float = DEFAULT_MAX_SNAP_M, gap=None, gap_metric=None, only: str | None = None
) -> Snapped:
    """Snap points given in EPSG:31370 metres. ``gap`` is a WGS84 shapely geometry (or
    ``gap_metric`` the same in EPSG:31370). ``only="site"`` snaps to public roads a vehicle leaves by
    (:func:`site_nodes_mask`), ``only="public"`` to nodes cars can reach (no emergency-only passage),
    ``None`` to any node."""
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    tree, idx = _tree(net, only)
    dist, pos = tree.query(np.column_stack([x, y]))
    node = idx[pos]
    in_gap = np.zeros(len(x), dtype=bool)
    if gap_metric is None and gap is not None:
        gap_metric = geom_to_metric(gap)
    if gap_metric is not None and len(x):
        in_gap = shapely.contains_xy(gap_metric, x, y)
    far = dist > max_snap_m
    return Snapped(node=node.astype(np.int64), distance_m=dist, no_road_data=far | in_gap, in_gap=in_gap, x=x, y=y)


def snap_lonlat(
    net: RoadNetwork, lon, lat, max_snap_m: float = DEFAULT_MAX_SNAP_M, gap=None, only: str | None = None
) -> Snapped:
    """Snap WGS84 points (degrees) to the network; see :func:`snap_xy`."""
    x, y = to_metric(np.atleast_1d(lon), np.atleast_1d(lat))
    return snap_xy(net, x, y, max_snap_m=max_snap_m, gap=gap, only=only)


def geom_to_metric(geom):
    """A WGS84 shapely geometry (a municipality, the gap) → the same in EPSG:31370; ``None`` stays ``None``."""
    if geom is None:
        return None

    def tr(coords):
        x, y = to_metric(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, tr)
