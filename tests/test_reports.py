"""The outputs people look at: maps, report.html (in a real headless browser), layers.gpkg,
candidate sites people recognise, study tables with before/after, and ``kazerne compare``.

End to end on the real zone pack: the 2019 baseline, the same with P07 (Assenede) closed, the
``add-one-post-12min`` study, the 2020 EMS evaluation and a comparison of the first two. The
browser is Debian's ``chromium`` driven over the DevTools protocol on a pipe (tests/browser.py);
``.ci/run`` installs it, these tests install nothing. Expected numbers come from the runs'
``summary.json`` / ``municipalities.csv`` and from the pack's own GeoJSON, read here with the
standard library and shapely.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SCEN = REPO / "scenarios"
THRESHOLDS = ["8", "10", "12", "15"]


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def num(s):
    return math.nan if s in ("", "None", "nan") else float(s)


def summary(d: Path) -> dict:
    return json.loads((d / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory, shipped_run):
    """Baseline 2019, the same with P07 closed, an add study, an EMS study (the session's runs of the
    shipped files, conftest ``shipped_run``), and their comparison (``kazerne compare``, in-process)."""
    from kazerne.cli import main

    out = tmp_path_factory.mktemp("reports")
    base = shipped_run("hvz-centrum-2019")
    closed = shipped_run("hvz-centrum-2019", "close-p07", "\n[posts.override.P07]\nclosed = true\n")
    add = shipped_run("add-one-post-12min")
    ems = shipped_run("ems-evaluate-2020")
    assert main(["compare", str(base), str(closed), "--out", str(out)]) == 0
    comp = out / "compare-hvz-centrum-2019-vs-close-p07"
    return {"baseline": base, "closed": closed, "add": add, "ems": ems, "compare": comp}


# ------------------------------------------------------------------------------------------------
# report.html in headless chromium
# ------------------------------------------------------------------------------------------------


def _open(path: Path):
    from browser import open_page

    return open_page(path.resolve().as_uri())


def _offline_checks(page, url: str):
    """No console error, no failed load, and no request but the report file itself."""
    assert page.errors() == []
    reqs = page.requests()
    assert url in reqs
    assert [u for u in reqs if u != url and not u.startswith("data:")] == []


def test_browser_recorder_sees_requests_and_errors(tmp_path):
    """The recorder is not blind: a page that loads an image from a (closed) local port and logs
    an error shows both."""
    p = tmp_path / "leaky.html"
    p.write_text(
        '<html><body><img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script></body></html>',
        encoding="utf-8",
    )
    page = _open(p)
    try:
        assert "http://127.0.0.1:9/x.png" in page.requests()
        kinds = {k for k, _ in page.errors()}
        assert "console" in kinds and "network" in kinds
    finally:
        page.close()


def test_baseline_report_opens_offline_with_maps_numbers_and_sortable_table(runs, tmp_path):
    d = runs["baseline"]
    s = summary(d)
    url = (d / "report.html").resolve().as_uri()
    page = _open(d / "report.html")
    try:
        _offline_checks(page, url)
        box = page.evaluate(
            "(() => {const i = document.querySelector('#map-main img');"
            "const r = i.getBoundingClientRect();"
            "return [r.width, r.height, i.naturalWidth, i.naturalHeight, i.complete];})()"
        )
        assert box[0] > 500 and box[1] > 300, box
        assert box[2] >= 2800 and box[3] >= 1900 and box[4], box  # the full 200 dpi map is embedded
        text = page.evaluate("document.body.innerText")
        for t in THRESHOLDS:
            assert f"{100 * s['zone']['share_within'][t]:.1f} %" in text, t
        assert f"{s['zone']['population_with_road_data']:,.0f}" in text
        assert f"{s['zone']['population_no_road_data']:,.0f}" in text
        for m in s["municipalities"]:
            assert m["municipality"] in text
        assert "© OpenStreetMap contributors" in text or "OpenStreetMap contributors" in text
        # sorting: click "≤ 10 min" twice (ascending, then descending); the zone row stays on top
        col = 3 + THRESHOLDS.index("10")
        order = page.evaluate(f"""(() => {{
            const t = document.querySelector('#municipalities');
            const th = t.tHead.rows[0].cells[{col}]; th.click(); th.click();
            return Array.from(t.tBodies[0].rows).map(r => r.cells[0].textContent);}})()""")
        expect = sorted(s["municipalities"], key=lambda m: -(m["share_within_10min"] or 0))
        assert order[0] == "zone (all)"
        got = {m["municipality"]: m["share_within_10min"] for m in s["municipalities"]}
        assert [got[n] for n in order[1:]] == [m["share_within_10min"] for m in expect]
        # click the map: it switches to full resolution (wider than the window)
        w = page.evaluate(
            "(() => {const i = document.querySelector('#map-main img'); i.click();"
            "return i.getBoundingClientRect().width;})()"
        )
        assert w >= 2800
        page.evaluate("document.querySelector('#map-main img').click()")
        page.settle(0.3)
        _offline_checks(page, url)
        shot = page.screenshot(tmp_path / "baseline-report.png")
        assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 50_000
    finally:
        page.close()


@pytest.mark.parametrize("which", ["add", "ems", "compare"])
def test_other_reports_open_offline(runs, which, tmp_path):
    d = runs[which]
    url = (d / "report.html").resolve().as_uri()
    page = _open(d / "report.html")
    try:
        _offline_checks(page, url)
        sel = "#map-main img" if which != "compare" else "figure.map img"
        box = page.evaluate(
            f"(() => {{const r = document.querySelector('{sel}').getBoundingClientRect();"
            "return [r.width, r.height];})()"
        )
        assert box[0] > 500 and box[1] > 300
        text = page.evaluate("document.body.innerText")
        if which == "add":
            s = summary(d)
            new = s["result"]["new_sites"][0]
            assert new["site"] in text and new["name"] in text
            assert f"{100 * s['result']['after']['share_within']['12']:.1f} %" in text
            for sv in s["solves"]:
                assert sv["status"] in text
        elif which == "ems":
            s = summary(d)
            assert f"{100 * s['result']['share_within_busy_aware']:.1f} %" in text
        else:
            rows = read_csv(d / "compare.csv")
            assert f"{float(rows[0]['losing_12min__close-p07']):,.0f}" in text
        page.screenshot(tmp_path / f"{which}-report.png")
    finally:
        page.close()


# ------------------------------------------------------------------------------------------------
# maps
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "which,stem", [("baseline", "map"), ("closed", "map"), ("add", "map"), ("ems", "map"), ("compare", "difference")]
)
def test_every_run_kind_draws_a_print_map(runs, which, stem):
    from PIL import Image

    d = runs[which]
    with Image.open(d / f"{stem}.png") as im:
        assert im.size[0] >= 2800 and im.size[1] >= 1900
        dpi = im.info.get("dpi")
        assert dpi is not None and round(dpi[0]) >= 200
    assert (d / f"{stem}.pdf").read_bytes()[:5] == b"%PDF-"


def _basemap_square():
    import shapely

    from kazerne.report.maps import Basemap

    zone = shapely.box(0, 0, 20000, 20000)
    munis = [("West", shapely.box(0, 0, 10000, 20000)), ("East", shapely.box(10000, 0, 20000, 20000))]
    return Basemap(
        zone=zone, municipalities=munis, roads={}, gap=shapely.box(15000, 0, 20000, 4000), zone_title="Test zone"
    )


def _assert_no_overlap(info):
    boxes = info.label_boxes
    for a, b in itertools.combinations(boxes, 2):
        assert a.x1 <= b.x0 or b.x1 <= a.x0 or a.y1 <= b.y0 or b.y1 <= a.y0, (a, b)
    for lb in boxes:
        for mb in info.marker_boxes + info.municipality_boxes:
            assert lb.x1 <= mb.x0 or mb.x1 <= lb.x0 or lb.y1 <= mb.y0 or mb.y1 <= lb.y0, (lb, mb)


def test_labels_of_crowded_sites_never_overlap():
    """Twelve sites on one spot plus three in a corner: every label is placed free of every other
    label, every marker and the municipality names."""
    from kazerne.report.maps import Site, council_map

    sites = [
        Site(5000 + (k % 3), 9000, f"P{k:02d} Post number {k}", "professional" if k % 2 else "volunteer")
        for k in range(12)
    ]
    sites += [Site(19500, 19500 - 60 * k, f"C{k} corner site", "new") for k in range(3)]
    x, y = np.meshgrid(np.arange(125, 20000, 250.0), np.arange(125, 20000, 250.0))
    surf = {
        "kind": "minutes",
        "x": x.ravel(),
        "y": y.ravel(),
        "cell_m": 250.0,
        "minutes": (x.ravel() / 1000),
        "population": np.where(x.ravel() > 3000, 10.0, 0.0),
        "no_road_data": y.ravel() < 1000,
        "thresholds": [8, 10, 12, 15],
    }
    fig, info = council_map(_basemap_square(), title="t", surface=surf, sites=sites, assumptions=["a"])
    import matplotlib.pyplot as plt

    plt.close(fig)
    assert len(info.label_boxes) == 15
    _assert_no_overlap(info)
    labels = " | ".join(info.legend_labels)
    # every colour explained: the classes, no inhabitants, no road data, crew types, new sites
    for want in (
        "≤ 8 min",
        "8–10 min",
        "> 15 min",
        "no inhabitants",
        "no road data",
        "professional crew",
        "volunteer crew",
        "NEW site",
    ):
        assert want in labels, want


def test_zone_map_labels_do_not_overlap(hvz_zone):
    """The 2019 posts on the real zone, P05 and P06 on the same spot: each post keeps a visible
    marker and a label of its own, no label overlaps another label, a marker or a name."""
    from kazerne.report.council import basemap
    from kazerne.report.maps import Site, council_map
    from kazerne.routing.network import to_metric

    pack = hvz_zone.pack
    posts = [p for p in pack.posts if p.id not in ("P04", "P15")]
    x, y = to_metric(np.array([p.lon for p in posts]), np.array([p.lat for p in posts]))
    sites = [
        Site(float(a), float(b), f"{p.id} {p.name}", "professional" if p.crew == "professional" else "volunteer")
        for p, a, b in zip(posts, x, y)
    ]
    fig, info = council_map(basemap(hvz_zone), title="t", sites=sites)
    import matplotlib.pyplot as plt

    plt.close(fig)
    assert sorted(info.label_texts) == sorted(s.label for s in sites)
    _assert_no_overlap(info)
    # P05 and P06 share a position: both markers stay at it (the larger below), their labels move
    i5, i6 = [k for k, p in enumerate(posts) if p.id in ("P05", "P06")]
    a, b = info.marker_boxes[i5], info.marker_boxes[i6]
    assert (a.x0 + a.x1) / 2 == pytest.approx((b.x0 + b.x1) / 2, abs=0.5)
    assert (a.y0 + a.y1) / 2 == pytest.approx((b.y0 + b.y1) / 2, abs=0.5)


# ------------------------------------------------------------------------------------------------
# GeoPackage
# ------------------------------------------------------------------------------------------------

LAYERS = {
    "demand_cells": "MultiPolygon",
    "posts": "Point",
    "isochrone_bands": "MultiPolygon",
    "isochrones": "MultiPolygon",
    "first_due_areas": "MultiPolygon",
    "municipalities": "MultiPolygon",
}


def test_gpkg_layers_crs_types_fields_and_shares(runs):
    import geopandas as gpd
    import pyogrio

    d = runs["baseline"]
    s = summary(d)
    g = d / "layers.gpkg"
    layers = dict((n, t) for n, t in pyogrio.list_layers(g))
    assert set(layers) == set(LAYERS)
    for name, gtype in LAYERS.items():
        info = pyogrio.read_info(g, layer=name)
        assert info["geometry_type"] == gtype, name
        assert info["crs"] == "EPSG:31370", name
        for f in info["fields"]:
            assert f == f.lower() and len(f) <= 30 and f.replace("_", "").isalnum(), (name, f)
    cells = gpd.read_file(g, layer="demand_cells", engine="pyogrio")
    assert len(cells) == s["demand"]["points"]
    assert {
        "population",
        "no_road_data",
        "first_min",
        "first_post",
        "second_min",
        "second_post",
        "municipality",
        "first_band",
    } <= set(cells.columns)
    assert cells.geometry.area.round(3).eq(250.0 * 250.0).all()  # 250 m squares
    w = np.where(cells["no_road_data"].astype(bool), 0.0, cells["population"])
    assert w.sum() == pytest.approx(s["zone"]["population_with_road_data"], rel=1e-9)
    for t in THRESHOLDS:
        within = w[cells["first_min"].to_numpy() <= float(t)].sum()
        assert within == pytest.approx(s["zone"]["population_within"][t], rel=1e-9)
    posts = gpd.read_file(g, layer="posts", engine="pyogrio")
    assert list(posts["post_id"]) == [p["id"] for p in s["posts"]]
    assert posts["first_due_population"].dtype.kind == "f" and posts["turnout_s"].dtype.kind == "f"
    iso = gpd.read_file(g, layer="isochrones", engine="pyogrio")
    bands = gpd.read_file(g, layer="isochrone_bands", engine="pyogrio")
    assert list(iso["within_min"]) == [8.0, 10.0, 12.0, 15.0] and len(bands) == 4
    areas = list(iso.geometry.area)
    assert areas == sorted(areas) and areas[0] > 0
    assert bands.geometry.area.sum() == pytest.approx(areas[-1], rel=1e-3)  # bands tile the 15 min area
    for t, pop in zip(THRESHOLDS, iso["population_within"]):
        assert pop == pytest.approx(s["zone"]["population_within"][t], abs=0.06)
    fd = gpd.read_file(g, layer="first_due_areas", engine="pyogrio")
    # one row per post (P06 shares P05's spot, never arrives first: an empty area), the area of posts.csv
    assert list(fd["first_post"].dropna()) == [p["id"] for p in s["posts"]]
    assert list(fd["area_km2"][: len(s["posts"])]) == [p["first_due_area_km2"] for p in s["posts"]]
    fd_area = fd.geometry.area.sum()
    # municipalities with their shares: exactly municipalities.csv
    mun = gpd.read_file(g, layer="municipalities", engine="pyogrio")
    rows = {r["municipality"]: r for r in read_csv(d / "municipalities.csv")}
    assert sorted(mun["name"]) == sorted(rows) and len(mun) == 18
    assert fd_area == pytest.approx(mun.geometry.area.sum(), rel=1e-3)  # first-due areas tile the zone
    for _, m in mun.iterrows():
        r = rows[m["name"]]
        for t in THRESHOLDS:
            assert m[f"share_within_{t}min"] == pytest.approx(num(r[f"share_within_{t}min"]), rel=1e-5, abs=1e-9)
        assert m["population"] == pytest.approx(num(r["population"]), abs=0.051)


def test_gpkg_in_wgs84_on_request(tmp_path):
    import pyogrio
    import shapely

    from kazerne.report.gpkg import write_gpkg

    sq = shapely.box(104000, 194000, 105000, 195000)  # a square km in Ghent, EPSG:31370
    names = write_gpkg(
        tmp_path / "x.gpkg",
        {
            "areas": ([{"Name X": "a", "Share 8 min": 0.5, "ok": True}], [sq], "MultiPolygon"),
            "pts": ({"n": [1]}, [shapely.Point(104500, 194500)], "Point"),
        },
        epsg=4326,
    )
    assert names == ["areas", "pts"]
    info = pyogrio.read_info(tmp_path / "x.gpkg", layer="areas")
    assert info["crs"] == "EPSG:4326" and info["geometry_type"] == "MultiPolygon"
    assert list(info["fields"]) == ["name_x", "share_8_min", "ok"]
    df = pyogrio.read_dataframe(tmp_path / "x.gpkg", layer="pts")
    x, y = df.geometry.iloc[0].x, df.geometry.iloc[0].y
    assert 3.70 < x < 3.75 and 51.03 < y < 51.07  # lon, lat of Ghent
    assert [p.name for p in tmp_path.iterdir()] == ["x.gpkg"]


# ------------------------------------------------------------------------------------------------
# sites people recognise; study tables with before / after
# ------------------------------------------------------------------------------------------------


def test_new_site_has_street_and_municipality_and_before_after(runs, zone_data_dir):
    import shapely

    d = runs["add"]
    rows = read_csv(d / "new_sites.csv")
    assert len(rows) == 1
    r = rows[0]
    header = list(r)
    assert header.index("lon") + 1 == header.index("lat")
    assert r["street"] and r["municipality"] and "candidate node" not in r["name"]
    assert r["street"] in r["name"] and r["municipality"] in r["name"]
    # the municipality really contains the site (the pack's polygons, read here)
    gj = json.loads((zone_data_dir / "hvz-centrum" / "municipalities.geojson").read_text(encoding="utf-8"))
    pt = shapely.Point(float(r["lon"]), float(r["lat"]))
    inside = [f["properties"]["name"] for f in gj["features"] if shapely.geometry.shape(f["geometry"]).contains(pt)]
    assert inside == [r["municipality"]]
    s = summary(d)
    b, a = num(r["share_within_12min_before"]), num(r["share_within_12min_after"])
    assert b == pytest.approx(s["result"]["before"]["share_within"]["12"], rel=1e-5)
    assert a == pytest.approx(s["result"]["after"]["share_within"]["12"], rel=1e-5)
    assert (a - b) * s["result"]["before"]["population_with_road_data"] == pytest.approx(
        num(r["newly_within_12min"]), abs=2.0
    )


# ------------------------------------------------------------------------------------------------
# kazerne compare
# ------------------------------------------------------------------------------------------------


def test_compare_shows_exactly_the_losses_of_closing_p07(runs):
    base, closed, comp = runs["baseline"], runs["closed"], runs["compare"]
    rows = read_csv(comp / "compare.csv")
    assert rows[0]["area"] == "zone (all)"
    assert sorted(r["area"] for r in rows[1:]) == sorted(m["municipality"] for m in summary(base)["municipalities"])
    zb, zc = summary(base)["zone"], summary(closed)["zone"]
    mb = {r["municipality"]: r for r in read_csv(base / "municipalities.csv")}
    mc = {r["municipality"]: r for r in read_csv(closed / "municipalities.csv")}
    for t in THRESHOLDS:
        z = rows[0]
        # closing a post can only lengthen times: nobody gains; the losses are the drop in population within T
        assert num(z[f"gaining_{t}min__close-p07"]) == 0
        assert num(z[f"losing_{t}min__close-p07"]) == pytest.approx(
            zb["population_within"][t] - zc["population_within"][t], abs=0.06
        )
        assert num(z[f"share_{t}min__hvz-centrum-2019"]) == pytest.approx(zb["share_within"][t], rel=1e-5)
        assert num(z[f"share_{t}min__close-p07"]) == pytest.approx(zc["share_within"][t], rel=1e-5)
        for r in rows[1:]:
            m = r["area"]
            pop = num(r["population_with_road_data"])
            sb, sc = num(mb[m][f"share_within_{t}min"]), num(mc[m][f"share_within_{t}min"])
            if math.isnan(sb):
                continue
            assert num(r[f"gaining_{t}min__close-p07"]) == 0
            assert num(r[f"losing_{t}min__close-p07"]) == pytest.approx(pop * (sb - sc), abs=1.0), (m, t)
    losers = {r["area"] for r in rows[1:] if num(r["losing_12min__close-p07"]) > 0}
    assert "Assenede" in losers and "Gent" not in losers and "Zulte" not in losers
    assert summary(comp)["runs"][1]["name"] == "close-p07"


def test_compare_rejects_a_folder_that_is_not_a_run(runs, tmp_path):
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "kazerne.cli",
            "compare",
            str(runs["baseline"]),
            str(tmp_path),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    assert str(tmp_path) in p.stderr and "summary.json" in p.stderr
    assert not (tmp_path / "o").exists()


def test_compare_refuses_a_run_from_the_alarm_beside_one_from_the_call(runs, tmp_path):
    """A run of kazerne 0.2 (no call_handling_s: from the alarm) is not compared with one from the call."""
    import shutil

    from kazerne.report.compare import CompareError, compare_runs

    old = tmp_path / "close-p07-0.2"
    shutil.copytree(runs["closed"], old)
    s = summary(old)
    for k in ("call_handling_s", "thresholds_from"):
        s["assumptions"].pop(k)
    (old / "summary.json").write_text(json.dumps(s), encoding="utf-8")
    with pytest.raises(
        CompareError, match=r"from the alarm \(no call handling\).*from the 112 call \(call handling 90 s\)"
    ):
        compare_runs([runs["baseline"], old], tmp_path / "o")
    assert not (tmp_path / "o").exists()
    assert summary(runs["compare"])["thresholds_from"] == "call"
