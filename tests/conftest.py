"""Shared fixtures: where the zone packs are, a network cache for the session, the loaded zone.

``KAZERNE_DATA`` defaults to ``<repo>/../shared/zone-data`` when that folder exists. Tests that
need the real zone pack fail (not skip) when it cannot be found: CI has it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ZONE_DATA = REPO.parent / "shared" / "zone-data"
ZONE = "hvz-centrum"

if not os.environ.get("KAZERNE_DATA") and DEFAULT_ZONE_DATA.is_dir():
    os.environ["KAZERNE_DATA"] = str(DEFAULT_ZONE_DATA)


@pytest.fixture(scope="session")
def zone_data_dir() -> Path:
    """The folder holding the real zone packs (fails the test when absent)."""
    for p in os.environ.get("KAZERNE_DATA", "").split(os.pathsep):
        if p.strip() and (Path(p) / ZONE).is_dir():
            return Path(p)
    pytest.fail(f"zone pack {ZONE!r} not found on KAZERNE_DATA={os.environ.get('KAZERNE_DATA', '')!r}: set "
                f"KAZERNE_DATA to the folder holding it (the default, {DEFAULT_ZONE_DATA}, is used when it "
                f"exists and KAZERNE_DATA is unset)", pytrace=False)


@pytest.fixture(scope="session")
def network_cache_dir(tmp_path_factory) -> Path:
    """``KAZERNE_CACHE`` for the whole session: the caller's if set, else a fresh temp folder
    (exported, so in-process and subprocess CLI runs reuse the session's network cache)."""
    old = os.environ.get("KAZERNE_CACHE")
    d = Path(old) if old else tmp_path_factory.mktemp("kazerne-cache")
    os.environ["KAZERNE_CACHE"] = str(d)
    yield d
    if old is None:
        os.environ.pop("KAZERNE_CACHE", None)


@pytest.fixture(scope="session")
def hvz_zone(zone_data_dir, network_cache_dir):
    """The real zone, loaded once per session (the first load ever parses the OSM file, ~40 s)."""
    from kazerne.routing.zone import load_zone
    return load_zone(ZONE, quiet=True)
