"""Issue 12, item 1: a network cache is the same file, byte for byte, whichever process built it.

Two cold builds of the tiny fixture in separate Python processes with different PYTHONHASHSEED
(set and dict iteration order of strings differs between them; osmnx merges differing attributes
of a simplified edge through a ``set``) must write identical cache files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import osm_fixture as fx

REPO = Path(__file__).resolve().parents[1]
SCRIPT = (
    "import sys; from pathlib import Path; from kazerne.routing.network import load_network; "
    "load_network(Path(sys.argv[1]), quiet=True)"
)


def _build(osm: Path, cache: Path, seed: str) -> bytes:
    env = dict(
        os.environ,
        KAZERNE_CACHE=str(cache),
        PYTHONHASHSEED=seed,
        PYTHONPATH=os.pathsep.join([str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]),
    )
    subprocess.run([sys.executable, "-c", SCRIPT, str(osm)], env=env, check=True, timeout=300)
    (f,) = [p for p in cache.iterdir() if p.suffix == ".npz"]
    return f.read_bytes()


def test_two_processes_with_different_hash_seeds_write_the_same_cache(tmp_path):
    osm = fx.write_osm(tmp_path / "roads.osm")
    a = _build(osm, tmp_path / "c1", "1")
    b = _build(osm, tmp_path / "c2", "4242")
    c = _build(osm, tmp_path / "c3", "random")
    assert a == b == c
    assert len(a) > 1000
