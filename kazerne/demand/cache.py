"""Demand points kept for the next caller: the snapped points and the gap's shadow cost seconds per run.

:func:`kazerne.demand.points.population_grid` and :func:`~kazerne.demand.points.demand_from_file` go
through :func:`cached`: a result is kept in this process (a memo of the last few) and on disk beside
the network cache (``demand-<key>.npz``, see :mod:`kazerne.routing.diskcache` for the file format and
what makes a file untrusted). The key holds the zone as loaded (network content, road changes, urban
flags, municipalities, populations, gap, posts), the demand parameters, the shadow's speed profile
(parameter hash), ``BUILD_VERSION`` and kazerne's source digest: equal keys give bit-identical points.
Every caller gets its own copy; changing it changes nothing kept.
"""

from __future__ import annotations

import copy
import dataclasses
import logging

import numpy as np

from ..routing import diskcache
from ..routing.network import BUILD_VERSION

log = logging.getLogger("kazerne")

__all__ = ["cached", "demand_key", "forget"]

_MEMO = diskcache.Memo(size=16)
#: demand entries kept on disk (the most recently written; ~1.5 MB each for a whole zone)
KEEP_ON_DISK = 32
#: DemandPoints fields stored as JSON (the rest are arrays, or None)
_JSON_FIELDS = ("municipality_names", "model", "cell_m", "meta")


def profile_key(zone, profile) -> str:
    """What the shadow's profile contributes to the key: its class and parameter hash; nothing when
    no shadow is flagged (no profile, or a zone without a gap)."""
    if profile is None or getattr(zone, "gap_metric", None) is None:
        return "no-shadow"
    from ..routing.profiles import check_profile

    prof = check_profile(profile)
    return f"{type(prof).__name__}:{prof.key()}"


def demand_key(kind: str, zone, params: dict, profile) -> str:
    """The cache key of demand ``kind`` (``grid``, ``file``) of ``zone`` with ``params`` (see the module
    docstring)."""
    return diskcache.fingerprint(
        "demand",
        kind,
        diskcache.zone_fingerprint(zone),
        params,
        profile_key(zone, profile),
        BUILD_VERSION,
        diskcache.code_digest(),
    )


def _to_entry(d) -> tuple[dict, dict]:
    arrays: dict[str, np.ndarray] = {}
    meta: dict = {"none": []}
    for f in dataclasses.fields(d):
        v = getattr(d, f.name)
        if f.name in _JSON_FIELDS:
            meta[f.name] = v
        elif v is None:
            meta["none"].append(f.name)
        else:
            arrays[f.name] = np.asarray(v)
    return arrays, meta


def _from_entry(cls, arrays: dict, meta: dict):
    kw = {k: np.array(v, copy=True) for k, v in arrays.items()}
    kw.update({k: copy.deepcopy(meta[k]) for k in _JSON_FIELDS})
    kw.update({k: None for k in meta["none"]})
    return cls(**kw)


def cached(kind: str, zone, params: dict, profile, build, use_cache: bool = True, cls=None):
    """The demand points of ``build()`` (no arguments), through the memo and the disk cache; ``cls``
    (a dataclass: :class:`~kazerne.demand.points.DemandPoints`) rebuilds them from what is kept."""
    if not use_cache:
        return build()
    key = demand_key(kind, zone, params, profile)
    hit = _MEMO.get(key)
    if hit is None:
        path = diskcache.entry_path("demand", key)
        hit = diskcache.load_entry(path, key)
        if hit is None:
            arrays, meta = _to_entry(build())
            try:
                meta = _json_roundtrip(meta)
            except (TypeError, ValueError):  # not storable (should not happen): keep it in memory only
                log.debug("demand of %s not stored on disk", kind)
            else:
                if diskcache.save_entry(path, key, arrays, meta):
                    diskcache.prune("demand", keep=KEEP_ON_DISK)
            hit = (arrays, meta)
        _MEMO.put(key, hit)
    return _from_entry(cls, *hit)


def _json_roundtrip(meta: dict) -> dict:
    """``meta`` as it reads back from the file (tuples become lists, keys strings), so that a memo hit
    and a disk hit give the same object; raises when ``meta`` is not JSON."""
    import json

    return json.loads(json.dumps(meta, allow_nan=True))


def forget() -> None:
    """Drop the demand points kept in this process (the files on disk stay)."""
    _MEMO.clear()
