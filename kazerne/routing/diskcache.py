"""Results of deterministic steps kept for the next caller: in this process (a memo) and on disk.

The network cache (:mod:`kazerne.routing.network`) keeps the parsed road network; this module keeps
what is derived from a loaded zone and costs seconds each time (the snapped demand points and the
road-data gap's shadow, :func:`kazerne.demand.points.population_grid`). An entry is found by a key
that holds **everything the result depends on**:

* the content of the road network as loaded (every array, the urban flags and any road changes
  included: :func:`net_fingerprint`), and of the zone pack as loaded (municipalities, populations,
  gap, posts: :func:`zone_fingerprint`);
* the caller's parameters and the speed profile's parameter hash;
* :data:`~kazerne.routing.network.BUILD_VERSION` and a digest of kazerne's own source
  (:func:`code_digest`), so that a changed rule in any module can never reuse a stale result.

On disk an entry lives beside the network cache (``KAZERNE_CACHE``, else ``~/.cache/kazerne``) as one
file, written atomically (temporary + rename) with the SHA-256 of its body at the end; a missing,
truncated, damaged or foreign file is a miss (recomputed and rewritten), never trusted, never an error.
A read-only cache folder only costs the recomputation.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import shapely

log = logging.getLogger("kazerne")

__all__ = [
    "Memo",
    "audit_key",
    "code_digest",
    "dataclass_fingerprint",
    "entry_path",
    "fingerprint",
    "load_entry",
    "net_fingerprint",
    "prune",
    "save_entry",
    "zone_fingerprint",
]

#: An entry file: the .npz body, this tag, then the SHA-256 of the body (32 bytes).
TRAILER = b"KAZERNE-ENTRY-SHA256:"
_CODE_DIGEST: list = []


def code_digest() -> str:
    """SHA-256 of every ``.py`` file of the kazerne package (path and content), once per process."""
    if not _CODE_DIGEST:
        root = Path(__file__).resolve().parents[1]
        h = hashlib.sha256()
        for f in sorted(root.rglob("*.py")):
            h.update(f.relative_to(root).as_posix().encode() + b"\0")
            h.update(f.read_bytes() + b"\0")
        _CODE_DIGEST.append(h.hexdigest())
    return _CODE_DIGEST[0]


#: values hashed by their repr: exact for these types (floats by repr round-trip)
_SCALARS = (str, bytes, bool, int, float, complex, type(None), np.generic, Path)


def _update(h, value) -> None:
    """Feed ``value`` to hash ``h`` unambiguously: arrays, geometries, dataclasses (every field), dicts,
    lists, tuples and scalars (:data:`_SCALARS`). Anything else raises ``TypeError``: its repr may not
    tell two values apart (a truncated table), so it cannot be part of a key."""
    import dataclasses

    if isinstance(value, np.ndarray):
        a = np.ascontiguousarray(value)
        h.update(f"nd|{a.dtype.str}|{a.shape}|".encode())
        h.update(repr(a.tolist()).encode() if a.dtype == object else a.tobytes())
    elif isinstance(value, shapely.Geometry):
        h.update(b"geom|" + shapely.to_wkb(value))
    elif isinstance(value, dict):
        h.update(f"dict|{len(value)}|".encode())
        for k in sorted(value, key=repr):
            _update(h, k)
            _update(h, value[k])
    elif isinstance(value, (list, tuple)):
        h.update(f"seq|{len(value)}|".encode())
        for v in value:
            _update(h, v)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        h.update(f"dc|{type(value).__qualname__}|".encode())
        for f in dataclasses.fields(value):
            if not f.name.startswith("_"):
                _update(h, f.name)
                _update(h, getattr(value, f.name))
    elif isinstance(value, _SCALARS):
        h.update(f"{type(value).__name__}|{value!r}|".encode())
    else:
        raise TypeError(f"cannot be part of a cache key: {type(value).__name__}")


def fingerprint(*values) -> str:
    """Hex SHA-256 of ``values`` (see :func:`_update` for what they may be)."""
    h = hashlib.sha256()
    for v in values:
        _update(h, v)
    return h.hexdigest()


def net_fingerprint(net) -> str:
    """The road network's content: every array of the dataclass (edge times follow from them and the
    profile), its source hash and urban rule. Two networks with equal fingerprints route alike."""
    from dataclasses import fields

    parts = []
    for f in fields(net):
        if f.name.startswith("_") or f.name == "source":  # where the file lies does not change a route
            continue
        parts += [f.name, getattr(net, f.name)]
    return fingerprint(*parts)


def zone_fingerprint(zone) -> str:
    """The zone as loaded: its network (:func:`net_fingerprint`), geometry (EPSG:31370), the pack's
    municipalities (name, population), posts and medical sites (every field), population year."""
    pack = zone.pack
    sites = [list(getattr(pack, k, [])) for k in ("posts", "medical_sites", "ems_bases")]
    return fingerprint(
        net_fingerprint(zone.net),
        zone.zone_metric,
        zone.gap_metric,
        list(zone.municipalities_metric),
        [(m.name, float(m.population)) for m in pack.municipalities],
        sites,
        str(pack.population_year),
        str(pack.name),
    )


def entry_path(kind: str, key: str) -> Path:
    """Where entry ``key`` of ``kind`` (e.g. ``demand``) lives in the cache folder."""
    from .network import cache_dir

    return cache_dir() / f"{kind}-{key[:32]}.npz"


def _npz(arrays: dict) -> bytes:
    """The network cache's byte-stable .npz (:func:`~kazerne.routing.network.npz_bytes`)."""
    from .network import npz_bytes

    return npz_bytes(arrays)


def save_entry(path: Path, key: str, arrays: dict, meta: dict) -> bool:
    """Write ``arrays`` (name -> numeric/bool/str ndarray) and ``meta`` (JSON-ready) under ``key`` to
    ``path`` atomically; False (logged) when the folder is not writable."""
    from ..files import apply_umask, remove_stale, temp_prefix

    body = _npz(
        {**{f"a_{k}": v for k, v in arrays.items()}, "__key": np.array(key), "__meta": np.array(json.dumps(meta))}
    )
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(path.parent, path.name)
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(body + TRAILER + hashlib.sha256(body).digest())
        apply_umask(tmp)
        os.replace(tmp, path)
        return True
    except OSError as exc:
        log.warning("could not write cache entry %s: %s", path, exc)
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        return False


def prune(kind: str, keep: int = 32) -> int:
    """Remove all but the ``keep`` most recently written entries of ``kind`` (every changed input or
    kazerne version writes new ones); returns how many were removed. Never raises."""
    from .network import cache_dir

    try:
        files = sorted(cache_dir().glob(f"{kind}-*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return 0
    removed = 0
    for p in files[keep:]:
        try:
            p.unlink()
            removed += 1
        except OSError:
            pass
    return removed


def load_entry(path: Path, key: str) -> tuple[dict, dict] | None:
    """``(arrays, meta)`` of the entry at ``path`` when it is whole and was written for ``key``; else
    ``None`` (a miss). Whatever is wrong with the file, it is not trusted and not an error."""
    try:
        data = path.read_bytes()
        n = len(TRAILER) + 32
        if len(data) <= n or data[-n:-32] != TRAILER:
            return None
        body = data[:-n]
        if hashlib.sha256(body).digest() != data[-32:]:
            return None
        with np.load(io.BytesIO(body), allow_pickle=False) as z:
            if str(z["__key"]) != key:
                return None
            meta = json.loads(str(z["__meta"]))
            arrays = {k[2:]: z[k] for k in z.files if k.startswith("a_")}
        return arrays, meta
    except Exception:  # noqa: BLE001 - missing or damaged: a miss
        return None


class Memo:
    """The last ``size`` results of this process by key (least recently used dropped first)."""

    def __init__(self, size: int = 8):
        self.size = size
        self._d: OrderedDict = OrderedDict()

    def get(self, key: str):
        if key in self._d:
            self._d.move_to_end(key)
            return self._d[key]
        return None

    def put(self, key: str, value) -> None:
        self._d[key] = value
        self._d.move_to_end(key)
        while len(self._d) > self.size:
            self._d.popitem(last=False)

    def clear(self) -> None:
        self._d.clear()


def dataclass_fingerprint(obj) -> str:
    """Every field of a dataclass instance (arrays, dicts, lists, scalars), e.g. demand points."""
    from dataclasses import fields

    return fingerprint(type(obj).__name__, *[[f.name, getattr(obj, f.name)] for f in fields(obj)])


def audit_key(zone, profile, posts, demand, params: dict) -> str | None:
    """The in-process key of a road-network audit (:func:`kazerne.routing.audit.audit`): the zone's
    content, the profile's class and parameter hash, the posts, the demand points, the parameters and
    the source digest. ``None`` when the arguments are not what the audit takes (it then says why)."""
    import dataclasses

    from .profiles import SpeedProfile, get_profile

    try:
        prof = get_profile(profile) if isinstance(profile, str) else profile
        if not isinstance(prof, SpeedProfile):
            return None
        return fingerprint(
            "audit",
            zone_fingerprint(zone),
            f"{type(prof).__name__}:{prof.key()}",
            None if posts is None else posts if dataclasses.is_dataclass(posts) else [list(p) for p in posts],
            None if demand is None else dataclass_fingerprint(demand),
            dict(params),
            code_digest(),
        )
    except Exception:  # noqa: BLE001 - a bad argument: no key, the audit reports it
        return None
