"""The public API: the README's notebook example runs as written, and gives the CLI's numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def _readme_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    sec = text[text.index("## Python API") :]
    return re.search(r"```python\n(.*?)```", sec, re.S).group(1)


@pytest.fixture(scope="module")
def example(hvz_zone):
    import matplotlib

    matplotlib.use("Agg")
    ns: dict = {}
    exec(compile(_readme_example(), "README.md (Python API)", "exec"), ns)
    return ns


def test_readme_example_runs_and_makes_sense(example):
    import geopandas as gpd
    import networkx as nx

    demand, posts, res = example["demand"], example["posts"], example["res"]
    assert isinstance(example["gdf"], gpd.GeoDataFrame) and len(example["gdf"]) == len(demand)
    assert example["gdf"].crs.to_epsg() == 4326
    assert isinstance(example["G"], nx.DiGraph) and example["G"].number_of_nodes() == example["zone"].net.n_nodes
    assert example["fig"].axes
    # the MCLP keeps today's posts and adds one; its objective is the population within 10 min of them
    new = [s for s in res.sites if s not in posts.ids]
    assert res.status == "optimal" and len(new) == 1 and set(posts.ids) <= set(res.sites)
    tt10 = example["tt10"]
    rows = [tt10.site_ids.index(s) for s in res.sites]
    w = np.where(demand.no_road_data, 0.0, demand.weight)
    covered = (tt10.dense()[rows] <= 600).any(axis=0)
    assert res.objective == pytest.approx(w[covered].sum(), rel=1e-9)
    # and no other single candidate does better (enumeration)
    post_cov = (tt10.dense()[: len(posts)] <= 600).any(axis=0)
    best = max(w[post_cov | (tt10.dense()[k] <= 600)].sum() for k in range(len(posts), len(tt10.site_ids)))
    assert res.objective == pytest.approx(best, rel=1e-9)
    # MEXCLP: two ambulances on 13 sites, q = 0.2 -- every placement of 2 units enumerated here
    within = example["amb"].dense() <= 900
    expected = [
        (w * (1 - 0.2 ** (within[i].astype(int) + within[j].astype(int)))).sum()
        for i in range(len(posts))
        for j in range(i, len(posts))
    ]
    ems = example["ems"]
    assert ems.status == "optimal" and ems.gap == 0.0 and sum(ems.extra["units"].values()) == 2
    assert ems.objective == pytest.approx(max(expected), rel=1e-9)


def test_api_and_cli_give_the_same_baseline(example, shipped_run):
    out = shipped_run("hvz-centrum-2019")  # the session's run of the shipped file
    summary = json.loads((Path(out) / "summary.json").read_text())
    report = example["report"]
    for t, share in zip([8, 10, 12, 15], report.zone_share):
        assert summary["zone"]["share_within"][f"{t:g}"] == pytest.approx(share, abs=1e-12)
    table = example["report"].municipality_table().set_index("municipality")
    for row in summary["municipalities"]:
        for t in (8, 10, 12, 15):
            got = table.loc[row["municipality"], f"share_within_{t:g}min"]
            want = row[f"share_within_{t:g}min"]
            assert (want is None and np.isnan(got)) or got == pytest.approx(want, abs=1e-12)


def test_errors_are_value_and_os_errors():
    import kazerne as kz

    with pytest.raises(ValueError):
        kz.get_profile("tractor")
    with pytest.raises(OSError):
        kz.load_zone("no-such-zone-pack")
    with pytest.raises(ValueError):
        kz.from_cost_matrix(np.array([[np.nan]]))
    assert issubclass(kz.ZonePackError, kz.KazerneError) and issubclass(kz.ScenarioError, kz.KazerneError)


def test_import_is_light_and_names_resolve():
    import subprocess
    import sys

    code = (
        "import sys, kazerne; assert 'ortools' not in sys.modules and 'osmnx' not in sys.modules; "
        "print(kazerne.__version__); import kazerne as kz; kz.mclp; kz.Sites; kz.travel_times"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().count(".") == 2


def test_tests_are_hermetic():
    """The test session's network cache is not the user's ~/.cache/kazerne (conftest sets it)."""
    from pathlib import Path

    from kazerne.routing.network import cache_dir

    assert not str(cache_dir()).startswith(str(Path.home() / ".cache"))


def test_api_and_cli_give_the_same_add_study(example, shipped_run):
    """scenarios/add-one-post-12min.toml through the CLI, and the same question through the API: the
    2019 posts fixed, candidates every 500 m on trunk..tertiary roads, MCLP with one more site at
    12 min from the call. Same candidates, same optimum."""
    import kazerne as kz

    out = shipped_run("add-one-post-12min")  # the session's run of the shipped file
    summary = json.loads((Path(out) / "summary.json").read_text())
    zone, demand, posts = example["zone"], example["demand"], example["posts"]
    gen = kz.Sites.candidates(zone, spacing_m=500, turnout_s=90.0)
    gen = gen.subset([i for i, n in enumerate(gen.node.tolist()) if n not in set(posts.node.tolist())])
    sites = posts.concat(gen)
    # the CLI counts the 12 min from the 112 call: the API adds the call handling explicitly
    tt = kz.travel_times(zone, sites, demand, "fire_engine", cutoff_s=720, call_handling_s=kz.DEFAULT_CALL_HANDLING_S)
    res = kz.mclp(tt.to_problem(demand.weight, fixed=posts.ids), p=len(posts) + 1, radius=720)
    (solve,) = summary["solves"]
    assert summary["candidates"]["total"] == len(sites)
    assert res.status == solve["status"] == "optimal"
    assert res.objective == pytest.approx(solve["objective"], rel=1e-9)
    new_cli = [r["site"] for r in summary["result"]["new_sites"]]
    new_api = [s for s in res.sites if s not in posts.ids]
    assert len(new_api) == len(new_cli) == 1


def test_api_and_cli_give_the_same_ems_study(example, tmp_path):
    """A pit-add study (scenarios/pit-add-merelbeke.toml without its extra base) through the CLI, and
    the same question through the API: the pack's located medical sites and posts as bases, the
    ambulance profile with 90 s turnout, 6000 calls a year of 50 min over 2 units, today's PIT at
    H03 kept, MEXCLP at 15 min from the call (90 s call handling). Same optimum, same placement, both
    proven (zero gap)."""
    import numpy as np

    import kazerne as kz
    from kazerne.scenarios.runner import run_file

    text = (REPO / "scenarios" / "pit-add-merelbeke.toml").read_text(encoding="utf-8")
    text = text[: text.index("[[ems.bases]]")] + text[text.index("[[ems.units]]") :]
    scen = tmp_path / "pit-add.toml"
    scen.write_text(text, encoding="utf-8")
    summary = json.loads((Path(run_file(scen, out_root=tmp_path / "out", quiet=True)) / "summary.json").read_text())

    zone, demand = example["zone"], example["demand"]
    located = {}
    for s in list(zone.pack.medical_sites) + list(zone.pack.posts):
        if s.lat is not None and np.isfinite(s.lat):
            located[s.id] = s
    ids = list(located)
    bases = kz.Sites.from_lonlat(
        zone, ids, [located[i].lon for i in ids], [located[i].lat for i in ids], turnout_s=90.0
    )
    tt = kz.travel_times(zone, bases, demand, "ambulance", call_handling_s=kz.DEFAULT_CALL_HANDLING_S)
    keep = ~demand.no_road_data
    prob = kz.from_cost_matrix(tt.seconds[:, keep], demand.weight[keep], site_ids=tt.site_ids)
    res = kz.mexclp(prob, 2, kz.system_busy_fraction(6000, 50, 2), 15 * 60, min_units={"H03": 1})

    solve = summary["solve"]
    assert res.status == solve["status"] == "optimal"
    assert res.gap == solve["gap"] == 0.0
    assert res.objective == pytest.approx(solve["objective"], rel=1e-9)
    assert res.extra["units"] == {p["base"]: p["units"] for p in summary["placement"]}


def test_first_due_areas_and_isochrones_as_geodataframes(example):
    """Network nodes inside a post's first-due area are reached first by that post, and every node
    reached within T lies inside that post's T-minute isochrone (checked on the node times, not on
    the polygon code)."""
    import shapely

    import kazerne as kz
    from kazerne.routing.crs import to_wgs84

    zone, demand, posts = example["zone"], example["demand"], example["posts"]
    sub = posts.subset([0, 1, 2])
    tt = kz.travel_times(zone, sub, demand, "fire_engine", keep_nodes=True)
    fd = tt.first_due_areas(zone)
    assert list(fd["first_post"][:3]) == sub.ids and fd.crs.to_epsg() == 4326
    lon, lat = to_wgs84(zone.net.x, zone.net.y)
    first = np.argmin(tt.node_seconds, axis=0)
    rng = np.random.default_rng(0)
    for k, sid in enumerate(sub.ids):
        geom = fd.geometry[k]
        # nodes well inside the territory (away from the 200 m cell edges) are the post's own
        inner = shapely.buffer(geom, -0.004)  # ~300-450 m in degrees at 51 N
        pick = rng.choice(np.flatnonzero(shapely.contains_xy(inner, lon, lat)), 200, replace=False)
        assert (first[pick] == k).mean() > 0.97
    iso = tt.isochrones(zone, minutes=(8,))
    assert list(iso["post"]) == sub.ids and (iso["within_min"] == 8.0).all()
    for k in range(3):
        reached = np.flatnonzero(tt.node_seconds[k] <= 480)
        assert shapely.contains_xy(shapely.buffer(iso.geometry[k], 1e-4), lon[reached], lat[reached]).all()
    with pytest.raises(kz.ModelInputError, match="keep_nodes=True"):
        kz.travel_times(zone, sub, demand, "fire_engine").first_due_areas(zone)
