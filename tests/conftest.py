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


#: pack-free tests that start processes (real commands, worker pools, Dask, signals) or search many
#: cases by brute force: 1.5-12 s each, together about 80 % of the pack-free subset's time
SLOW_TESTS = {
    "test_architecture.py::test_the_scan_sees_the_package",
    "test_batch.py::test_a_run_that_raises_is_recorded_and_the_batch_goes_on",
    "test_batch.py::test_changed_base_field_reruns_exactly_the_affected_runs",
    "test_batch.py::test_cli_summary_and_quiet",
    "test_batch.py::test_dask_not_asked_not_imported",
    "test_batch.py::test_dask_worker_killed_mid_batch_every_run_once",
    "test_batch.py::test_expansion_ids_and_dry_run",
    "test_batch.py::test_pool_worker_killed_runs_retried",
    "test_batch.py::test_same_table_serially_on_a_pool_and_on_dask",
    "test_batch.py::test_sigkill_half_way_then_resume_runs_only_the_missing",
    "test_batch_tables.py::test_cli_says_which_path",
    "test_criticality.py::test_ranking_equals_brute_force_for_every_segment",
    "test_deterministic_build.py::test_two_processes_with_different_hash_seeds_write_the_same_cache",
    "test_hostile_commands.py::test_compare_works_on_the_tiny_runs",
    "test_hostile_runs.py::test_the_slowest_valid_profile_runs_and_prints_its_summary",
    "test_metrics.py::test_matches_brute_force",
    "test_metrics.py::test_removing_a_site_never_increases_a_share",
    "test_metrics.py::test_shares_monotone_in_threshold",
    "test_models.py::test_mclp_frontier_matches_enumeration_for_every_p",
    "test_network_effect.py::test_slice_limited_change_shows_its_effect_in_its_slice_only",
    "test_procs.py::test_ctrl_c_stops_the_batch_without_more_runs",
    "test_procs.py::test_ctrl_c_to_a_dask_local_batch_prints_no_worker_traceback",
    "test_procs.py::test_kill_9_of_the_batch_leaves_no_process_behind",
    "test_reports.py::test_browser_recorder_sees_requests_and_errors",
    "test_simulate_kind.py::test_the_pack_list_and_a_short_run_through_cli_and_runner",
    "test_simulation.py::test_agrees_with_the_exact_hypercube",
    "test_simulation.py::test_one_unit_erlang_b_loss_and_utilisation",
}


def pytest_collection_modifyitems(config, items):
    """Mark every test that needs the zone pack ``zone``, so that ``pytest -m "not zone"`` runs the
    pack-free subset, and the process-level and brute-force ones of :data:`SLOW_TESTS` ``slow``:
    ``pytest -m "not zone and not slow"`` is the quick loop (the full suite stays the CI command). A
    test module that reaches the pack without these fixtures sets ``pytestmark = pytest.mark.zone``."""
    for item in items:
        if ZONE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.zone)
        name = getattr(item, "originalname", None) or item.name
        if f"{item.path.name}::{name}" in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
