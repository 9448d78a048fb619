"""The population proxy's density weighting: water-filling under a cap, and the junction weighting
on the tiny generated pack (expected values from the fixture's own layout)."""

from __future__ import annotations

import numpy as np
import osm_fixture as fx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from test_routing_zonepack import write_pack

from kazerne.demand.points import cap_weights, population_grid


@pytest.fixture
def tiny_zone(tmp_path, monkeypatch):
    from kazerne.routing.zone import load_zone

    monkeypatch.setenv("KAZERNE_DATA", str(tmp_path / "packs"))
    monkeypatch.setenv("KAZERNE_CACHE", str(tmp_path / "cache"))
    write_pack(tmp_path / "packs")
    return load_zone("tinyzone", quiet=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.01, 1000.0), min_size=1, max_size=40), st.floats(0.05, 1.0))
def test_cap_weights_keeps_the_total_caps_and_proportions(ws, slack):
    w = np.array(ws)
    total = float(w.sum())
    cap = max(total / len(w) / slack * 0.999, total / len(w))  # the total always fits under the cap
    out = cap_weights(w, cap, total)
    assert out.sum() == pytest.approx(total, rel=1e-9)
    assert out.max() <= cap * (1 + 1e-9)
    free = out < cap * (1 - 1e-9)
    if free.sum() >= 2:  # uncapped entries keep their ratios
        r = out[free] / w[free]
        assert np.ptp(r) <= 1e-9 * r.max()
    if free.any() and (~free).any():  # the capped ones had the largest weights
        assert w[~free].min() >= w[free].max() * (1 - 1e-9)


def test_cap_weights_refuses_what_cannot_fit():
    with pytest.raises(ValueError):
        cap_weights(np.ones(3), 1.0, 4.0)


#: junctions of the kept fixture network: grid nodes with 3 or 4 streets (all but the 4 corners),
#: and A (3), B (3), C (4), F (3); H lies inside the merged Steenweg, M is a dead end
JUNCTIONS = [f"g{i}_{j}" for i in range(7) for j in range(7) if (i, j) not in ((0, 0), (0, 6), (6, 0), (6, 6))] + [
    "A",
    "B",
    "C",
    "F",
]


def test_junction_weighting_on_the_tiny_pack(tiny_zone):
    plain = population_grid(tiny_zone, cell_m=250.0, density_exponent=0.0)
    dense = population_grid(tiny_zone, cell_m=250.0, density_exponent=1.0, max_density_km2=1e9)
    np.testing.assert_allclose(plain.x, dense.x)
    tr = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)
    jx, jy = tr.transform([fx.NODES[n][0] for n in JUNCTIONS], [fx.NODES[n][1] for n in JUNCTIONS])
    J = np.array([(np.hypot(np.array(jx) - x, np.array(jy) - y) <= 500.0).sum() for x, y in zip(dense.x, dense.y)])
    for m in np.unique(dense.municipality):
        sel = (dense.municipality == m) & ~dense.no_road_data
        assert dense.weight[sel].sum() == pytest.approx(plain.weight[sel].sum(), rel=1e-9)
        expect = plain.weight[sel] * (1 + J[sel])
        expect *= plain.weight[sel].sum() / expect.sum()
        np.testing.assert_allclose(dense.weight[sel], expect, rtol=1e-9)
    assert "junctions within 500 m" in dense.model and "junctions" not in plain.model
    # a cap well below the peak flattens the peak and keeps the total
    capped = population_grid(tiny_zone, cell_m=250.0, density_exponent=1.0, max_density_km2=5000.0)
    cap = 5000.0 * 0.25**2
    assert capped.weight.max() <= cap * (1 + 1e-9)
    assert capped.weight.sum() == pytest.approx(dense.weight.sum(), rel=1e-9)
