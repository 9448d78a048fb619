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
# Relative entries (the README's ``KAZERNE_DATA=../shared/zone-data``) are made absolute, so that
# CLI subprocesses started in a temporary folder find the packs too.
os.environ["KAZERNE_DATA"] = os.pathsep.join(
    str(Path(p).resolve()) for p in os.environ.get("KAZERNE_DATA", "").split(os.pathsep) if p.strip()
)
# Hermetic: the tests never read or write the user's ~/.cache/kazerne. Unless KAZERNE_CACHE says
# otherwise, the network cache of the test sessions lives in the checkout (<repo>/.cache/kazerne,
# git-ignored): the first session parses the zone's OSM file once (~45 s), later ones reuse it.
if not os.environ.get("KAZERNE_CACHE"):
    os.environ["KAZERNE_CACHE"] = str(REPO / ".cache" / "kazerne")
for _var in ("KAZERNE_BENCHMARKS", "KAZERNE_CACHE"):
    if os.environ.get(_var):
        os.environ[_var] = str(Path(os.environ[_var]).resolve())


@pytest.fixture(scope="session")
def zone_data_dir() -> Path:
    """The folder holding the real zone packs (fails the test when absent)."""
    for p in os.environ.get("KAZERNE_DATA", "").split(os.pathsep):
        if p.strip() and (Path(p) / ZONE).is_dir():
            return Path(p)
    pytest.fail(
        f"zone pack {ZONE!r} not found on KAZERNE_DATA={os.environ.get('KAZERNE_DATA', '')!r}: set "
        f"KAZERNE_DATA to the folder holding it (the default, {DEFAULT_ZONE_DATA}, is used when it "
        f"exists and KAZERNE_DATA is unset)",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def network_cache_dir(tmp_path_factory) -> Path:
    """The network cache folder of the session: ``KAZERNE_CACHE`` or ``<repo>/.cache/kazerne`` (never
    the user's home), so a second session does not parse the zone's OSM file again. The cold
    path (parse, write, reuse, rebuild) is tested on the tiny fixture in test_routing_cache.py."""
    from kazerne.routing.network import cache_dir

    return cache_dir()


@pytest.fixture(scope="session")
def hvz_zone(zone_data_dir, network_cache_dir):
    """The real zone, loaded once per session (the first load ever parses the OSM file, ~40 s)."""
    from kazerne.routing.zone import load_zone

    return load_zone(ZONE, quiet=True)


@pytest.fixture(scope="session")
def shipped_run(tmp_path_factory, zone_data_dir, network_cache_dir):
    """``shipped_run(stem)``: the output folder of ``scenarios/<stem>.toml`` run once per session (in
    process, quiet, solver time limits raised: ``characterization.headlines.unhurried``) — the characterization test and every test that reads an unmodified shipped run
    share it. ``shipped_run(stem, name, extra)``: the same file renamed ``name`` with the TOML ``extra``
    appended (e.g. a post closed), also once per session. The folders are shared: read them, never
    write into them (copy one first)."""
    from characterization.headlines import run_unhurried

    root = tmp_path_factory.mktemp("shipped-runs")
    done: dict[tuple, Path] = {}

    def run(stem: str, name: str | None = None, extra: str = "") -> Path:
        key = (stem, name, extra)
        if key not in done:
            f = REPO / "scenarios" / f"{stem}.toml"
            # solver time limits raised (characterization.headlines.unhurried): figures that do not
            # depend on the machine's load
            target = run_unhurried(f, root, text=f.read_text(encoding="utf-8") + extra, name=name)
            assert target == root / (name or stem)
            done[key] = target
        return done[key]

    return run


#: fixtures that need a real data pack: a test using any of them is marked ``zone`` (or ``benchmarks``)
ZONE_FIXTURES = {"zone_data_dir", "hvz_zone", "network_cache_dir", "shipped_run"}


def pytest_collection_modifyitems(config, items):
    """Mark every test that needs the zone pack ``zone``, so that ``pytest -m "not zone"`` runs the fast,
    pack-free subset (the full suite stays the CI command). A test module that reaches the pack without
    these fixtures sets ``pytestmark = pytest.mark.zone`` itself."""
    for item in items:
        if ZONE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.zone)
