"""Maps (issue 27, item 1): every drawn marker at its site's true position, for every map kind;
labels that must move keep a leader line to the marker; only proven points are called best on the
greenfield figure; a colour-blind-safe palette; the greenfield bar advances per solved point.

The markers are read back from the matplotlib artists (the scatter offsets in data coordinates)
and compared with the sites' coordinates converted here with an own pyproj Transformer."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from pyproj import Transformer

from kazerne.report.figures import frontier_figure
from kazerne.report.maps import SITE_STYLES, Site, council_map, minute_classes

TO_LAMBERT = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)


def drawn_markers(fig) -> dict:
    """{site index: (x, y)} of every site marker drawn on the map's axes (data coordinates)."""
    ax = fig.axes[0]
    out = {}
    for c in ax.collections:
        gid = c.get_gid() or ""
        if gid.startswith("site:"):
            off = c.get_offsets()
            assert len(off) == 1
            out[int(gid.split(":")[1])] = (float(off[0][0]), float(off[0][1]))
    return out


def label_anchors(fig) -> dict:
    """{label text: (x, y) of the point its annotation (and leader line) refers to}."""
    ax = fig.axes[0]
    return {t.get_text(): tuple(map(float, t.xy)) for t in ax.texts if hasattr(t, "xy") and t.get_text()}


def _surfaces(zone_demand):
    d = zone_demand
    minutes = (d.x - d.x.min()) / 1500.0
    yield (
        "minutes",
        {
            "surface": {
                "kind": "minutes",
                "x": d.x,
                "y": d.y,
                "cell_m": 250.0,
                "minutes": minutes,
                "population": d.weight,
                "no_road_data": d.no_road_data,
                "thresholds": [8, 10, 12, 15],
            }
        },
    )
    yield (
        "change",
        {
            "surface": {
                "kind": "change",
                "x": d.x,
                "y": d.y,
                "cell_m": 250.0,
                "before": minutes,
                "after": minutes - 1.0,
                "population": d.weight,
                "no_road_data": d.no_road_data,
                "threshold": 12.0,
                "min_change": 0.5,
            }
        },
    )
    yield (
        "ems",
        {
            "choropleth": {
                "values": {name: 0.5 + 0.025 * k for k, name in enumerate(d.municipality_names)},
                "norm": 0.9,
                "label": "calls reached",
            }
        },
    )


@pytest.fixture(scope="module")
def zone_bits(hvz_zone):
    import kazerne as kz
    from kazerne.report.council import basemap

    return hvz_zone, basemap(hvz_zone), kz.population_grid(hvz_zone)


def test_every_marker_at_its_site_for_every_map_kind(zone_bits):
    zone, bm, demand = zone_bits
    pack_sites = [p for p in zone.pack.posts if np.isfinite(p.lon)] + [
        m for m in zone.pack.medical_sites if np.isfinite(m.lon)
    ][:4]
    kinds = list(SITE_STYLES)
    sites, truth = [], []
    for k, p in enumerate(pack_sites):
        x, y = TO_LAMBERT.transform(p.lon, p.lat)
        kind = kinds[k % len(kinds)]
        sites.append(Site(float(x), float(y), f"{p.id} {p.name}", kind, priority=k % 3))
        truth.append((x, y))
    # crowded: three more sites within 150 m of P01, and one exactly on it
    x1, y1 = truth[0]
    for j, (dx, dy) in enumerate([(0, 0), (120, 0), (0, -150), (-90, 60)]):
        sites.append(Site(x1 + dx, y1 + dy, f"X{j} crowded", kinds[(j + 3) % len(kinds)]))
        truth.append((x1 + dx, y1 + dy))
    # a NEW site (bold label) at the zone's east edge: its label must stay inside the frame
    x0, y0, x1, y1 = bm.zone.bounds
    sites.append(Site(x1 - 300.0, (y0 + y1) / 2, "NEW C32313 Denen, Lochristi (a long bold label)", "new", priority=0))
    truth.append((x1 - 300.0, (y0 + y1) / 2))
    for name, kw in _surfaces(demand):
        fig, info = council_map(bm, title=f"kind {name}", sites=sites, assumptions=["a"], **kw)
        axbox = fig.axes[0].get_window_extent(fig.canvas.get_renderer())
        for b in info.label_boxes:
            assert axbox.x0 <= b.x0 and b.x1 <= axbox.x1 and axbox.y0 <= b.y0 and b.y1 <= axbox.y1, (name, b)
        got = drawn_markers(fig)
        assert sorted(got) == list(range(len(sites))), name  # every site drawn once
        for i, (x, y) in enumerate(truth):
            assert got[i] == pytest.approx((x, y), abs=0.01), (name, sites[i].label)
        # every label refers to its own marker's true position (a moved label has a leader line to it)
        anchors = label_anchors(fig)
        for i, s in enumerate(sites):
            assert anchors[s.label] == pytest.approx(truth[i], abs=0.01), (name, s.label)
        moved = [t for t in fig.axes[0].texts if getattr(t, "arrow_patch", None) is not None]
        assert moved, "crowded labels must move, with leader lines"
        plt.close(fig)


def test_baseline_map_markers_at_the_posts_of_the_run(zone_bits, monkeypatch, tmp_path):
    """The map a baseline run draws (kazerne.report.council.write_baseline_outputs): P01, H-less
    posts, and P05 / P06 on one address, each marker at the pack's position."""
    import kazerne.report.council as council
    from kazerne.scenarios.runner import run_file

    zone = zone_bits[0]
    figs = []
    real = council.council_map

    def keep(*a, **k):
        fig, info = real(*a, **k)
        figs.append((fig, k.get("sites")))
        return fig, info

    monkeypatch.setattr(council, "council_map", keep)
    monkeypatch.setattr(plt, "close", lambda *a, **k: None)  # keep the figure for the check
    from pathlib import Path

    scen = Path(__file__).resolve().parents[1] / "scenarios" / "hvz-centrum-2019.toml"
    f = tmp_path / "hvz-centrum-2019.toml"
    f.write_text(
        scen.read_text(encoding="utf-8") + "\n[outputs]\ngpkg = false\nreport = false\ngeojson = false\n",
        encoding="utf-8",
    )
    run_file(f, tmp_path / "out", quiet=True)
    assert len(figs) == 1
    fig, sites = figs[0]
    got = drawn_markers(fig)
    by_id = {p.id: p for p in zone.pack.posts}
    seen = set()
    for i, s in enumerate(sites):
        pid = s.label.split()[0]
        p = by_id[pid]
        assert got[i] == pytest.approx(TO_LAMBERT.transform(p.lon, p.lat), abs=0.5), pid
        seen.add(pid)
    assert {"P01", "P05", "P06"} <= seen
    i5 = next(i for i, s in enumerate(sites) if s.label.startswith("P05"))
    i6 = next(i for i, s in enumerate(sites) if s.label.startswith("P06"))
    assert got[i5] == pytest.approx(got[i6], abs=1.0)  # one address: one position, not a row of markers
    plt.close(fig)


def test_frontier_calls_only_proven_points_best():
    ps = [8, 9, 10, 11]
    share = [0.50, 0.55, 0.59, 0.62]
    status = ["optimal", "optimal", "optimal", "feasible"]
    fig = frontier_figure(
        ps,
        share,
        13,
        0.52,
        10,
        title="t",
        new_crew="professional crews",
        today_note="n",
        curve_status=status,
        curve_gap=[0, 0, 0, 0.0055],
    )
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    best = next(ln for lab, ln in lines.items() if lab.startswith("best"))
    feas = next(ln for lab, ln in lines.items() if "not proven" in lab)
    assert list(best.get_xdata()) == [8, 9, 10] and list(best.get_ydata()) == pytest.approx([50, 55, 59])
    assert list(feas.get_xdata()) == [11] and feas.get_markerfacecolor() == "white"
    texts = [t.get_text() for t in ax.texts]
    assert "62.0 %\nfeasible\ngap 0.55 %" in texts
    # every label inside the axes' x range
    lo, hi = ax.get_xlim()
    assert lo < 8 - 0.5 and hi > 13 + 0.5
    plt.close(fig)


def test_study_subtitle_says_best_only_when_proven():
    from kazerne.report.study_report import network_words as _network_words

    ok = {"solves": [{"p": 15, "status": "optimal", "gap": 0.0}, {"p": 16, "status": "optimal", "gap": 0.0}]}
    feas = {"solves": [{"p": 15, "status": "optimal", "gap": 0.0}, {"p": 16, "status": "feasible", "gap": 0.0055}]}
    assert _network_words(ok, 16) == " — the best network of 16 posts"
    words = _network_words(feas, 16)
    assert "best network" not in words and "feasible" in words and "0.55 %" in words


def test_time_band_palette_is_viridis_light_to_dark():
    from matplotlib.colors import to_rgb

    cols, labels = minute_classes([8, 10, 12, 15])
    assert labels == ["≤ 8 min", "8–10 min", "10–12 min", "12–15 min", "> 15 min"]
    vir = matplotlib.colormaps["viridis"]
    for c in cols:  # each colour is a viridis colour
        rgb = np.array(to_rgb(c))
        dist = min(np.abs(np.array(vir(v)[:3]) - rgb).max() for v in np.linspace(0, 1, 256))
        assert dist < 0.01
    lum = [0.2126 * r + 0.7152 * g + 0.0722 * b for r, g, b in (to_rgb(c) for c in cols)]
    assert lum == sorted(lum, reverse=True)  # readable in greyscale: fast = light, slow = dark


def test_greenfield_bar_advances_as_each_point_is_solved(monkeypatch):
    """mclp_frontier calls on_point right after each point's exact solve, before the next one
    starts (one worker): a bar driven by it moves per point."""
    from kazerne.coverage import mclp as models
    from kazerne.coverage.problem import from_cost_matrix

    rng = np.random.default_rng(3)
    cost = rng.uniform(100, 1500, size=(20, 120))  # small enough to prove each point in a second
    prob = from_cost_matrix(cost, rng.uniform(1, 10, 120))
    events = []
    real = models._frontier_job

    def job(pc, *a):
        events.append(("solve", pc))
        return real(pc, *a)

    monkeypatch.setattr(models, "_frontier_job", job)
    res = models.mclp_frontier(prob, [2, 3, 4], 400.0, on_point=lambda p, st: events.append(("done", p, st)))
    done = [e for e in events if e[0] == "done"]
    assert [e[1] for e in done] == [2, 3, 4] and [e[2] for e in done] == [r.status for r in res]
    solves = [i for i, e in enumerate(events) if e[0] == "solve"]
    dones = [i for i, e in enumerate(events) if e[0] == "done"]
    assert len(solves) == 3  # every point solved exactly (none taken from another point's proof)
    # each solved point is reported before the next solve starts
    for a, b in zip(dones, solves[1:]):
        assert a < b
