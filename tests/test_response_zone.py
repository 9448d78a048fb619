"""The response-time model on the real zone (hvz-centrum, posts of 2019), through the scenario runner.

* zero spread, one slice, ``call_handling_s = 0``: every number equals today's figures from the
  alarm (computed through the API), exactly;
* the default (no ``[response]``: 90 s call handling) shifts every time by 90 s: the shares within
  T + 1.5 min from the call equal the shares within T from the alarm (exactly), baseline and an add
  study, and the mean grows by 1.5 min;
* the example scenario with three slices: the mix is the hour-weighted sum of the slices, Deinze
  turns out as a professional post by day only, and every output says "from the call".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kazerne.scenarios.runner import run_file

REPO = Path(__file__).resolve().parents[1]
ACTIVE_2019 = '["P01", "P02", "P03", "P05", "P06", "P07", "P08", "P09", "P10", "P11", "P12", "P13", "P14"]'
LIGHT = """
[outputs]
geojson = false
first_due_areas = false
map = false
report = false
gpkg = false
"""


def scenario(tmp: Path, name: str, thresholds: str, extra: str = "") -> Path:
    p = tmp / f"{name}.toml"
    p.write_text(
        f'name = "{name}"\nzone = "hvz-centrum"\nthresholds = {thresholds}\n'
        f"[posts]\nactive = {ACTIVE_2019}\n{LIGHT}{extra}",
        encoding="utf-8",
    )
    return p


def summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory, zone_data_dir):
    tmp = tmp_path_factory.mktemp("response-zone")
    out = tmp / "out"
    return {
        # [response] call_handling_s = 0: the old definition, from the alarm
        "zero": summary(
            run_file(scenario(tmp, "zero", "[8, 10, 12, 15]", "[response]\ncall_handling_s = 0\n"), out, quiet=True)
        ),
        # no [response]: the default, from the call with 90 s call handling, thresholds moved by 1.5 min
        "default": summary(run_file(scenario(tmp, "default", "[9.5, 11.5, 13.5, 16.5]"), out, quiet=True)),
    }


@pytest.fixture(scope="module")
def from_alarm(hvz_zone):
    """Today's figures from the alarm, computed here through the API (no scenario runner): the 2019
    posts with the default fixed turnouts, no call handling."""
    import kazerne as kz

    demand = kz.population_grid(hvz_zone)
    posts = kz.Sites.from_posts(hvz_zone, ACTIVE_2019.strip("[]").replace('"', "").replace(" ", "").split(","))
    tt = kz.travel_times(hvz_zone, posts, demand, "fire_engine")
    return kz.evaluate(tt, demand, thresholds_min=[8, 10, 12, 15])


def test_zero_spread_one_slice_no_call_handling_is_today_exactly(runs, from_alarm):
    zero = runs["zero"]
    want = {f"{t:g}": float(s) for t, s in zip([8, 10, 12, 15], from_alarm.zone_share)}
    assert zero["zone"]["share_within"] == want
    assert zero["zone"]["mean_response_min"] == pytest.approx(from_alarm.mean_s / 60, abs=0.006)
    table = from_alarm.municipality_table().set_index("municipality")
    for m in zero["municipalities"]:
        for t in (8, 10, 12, 15):
            got, ref = m[f"share_within_{t}min"], table.loc[m["municipality"], f"share_within_{t}min"]
            assert (got is None and ref != ref) or got == ref
    (sl,) = zero["response_model"]["slices"]
    assert sl["hours_per_week"] == 168
    assert zero["response_model"]["turnout_model"] == "deterministic"  # the default with [response] too
    assert sl["zone"]["expected_share_within"] == want
    assert sl["zone"]["expected_population_within"] == zero["zone"]["population_within"]
    assert sl["zone"]["mean_response_min"] == zero["zone"]["mean_response_min"]
    for m, t in zip(sl["municipalities"], zero["municipalities"]):
        assert [m[f"share_within_{x}min"] for x in (8, 10, 12, 15)] == [
            t[f"share_within_{x}min"] for x in (8, 10, 12, 15)
        ]
        assert m["mean_min"] == t["mean_min"]
    a = zero["assumptions"]
    assert a["call_handling_s"] == 0 and a["thresholds_from"] == "alarm" and "from the alarm" in a["response_time"]


def test_default_is_from_the_call_every_threshold_shifted_by_90_s(runs, from_alarm):
    """The default run (no [response]) within T + 1.5 min equals the call_handling_s = 0 run and the
    API's figures from the alarm within T, exactly; the mean grows by 1.5 min, the driving does not."""
    zero, call = runs["zero"], runs["default"]
    shifted = dict(zip(["9.5", "11.5", "13.5", "16.5"], ["8", "10", "12", "15"]))
    for k, (t_call, t_alarm) in enumerate(shifted.items()):
        assert call["zone"]["share_within"][t_call] == zero["zone"]["share_within"][t_alarm]
        assert call["zone"]["share_within"][t_call] == float(from_alarm.zone_share[k])
        assert call["zone"]["population_within"][t_call] == zero["zone"]["population_within"][t_alarm]
        for mc, mz in zip(call["municipalities"], zero["municipalities"]):
            assert mc[f"share_within_{t_call}min"] == mz[f"share_within_{t_alarm}min"]
    assert call["zone"]["mean_response_min"] == pytest.approx(zero["zone"]["mean_response_min"] + 1.5, abs=0.006)
    assert call["zone"]["p90_response_min"] == pytest.approx(zero["zone"]["p90_response_min"] + 1.5, abs=0.006)
    # the driving time does not change with call handling
    assert call["mean_drive_min_first_unit"] == zero["mean_drive_min_first_unit"]
    a = call["assumptions"]
    assert a["call_handling_s"] == 90 and a["thresholds_from"] == "call" and "112 call" in a["response_time"]
    assert "response_model" not in call  # the default needs no [response] section
    assert call["fleet"]["assumptions"]["thresholds_from"] == "call"


@pytest.fixture(scope="module")
def shifted_studies(tmp_path_factory, zone_data_dir):
    tmp = tmp_path_factory.mktemp("shifted-studies")
    sites = ", ".join(f'{{ id = "{i}", lat = {la}, lon = {lo} }}' for i, la, lo in SITES)
    out = {}
    for name, th, extra in (("call", 12, ""), ("alarm", 10.5, "[response]\ncall_handling_s = 0\n")):
        study = (
            f'[study]\nkind = "add"\nk = 1\nthreshold = {th}\ninclude_generated = false\n'
            f'new_crew = "volunteer"\nsites = [{sites}]\n{extra}'
        )
        out[name] = summary(run_file(scenario(tmp, f"add-{name}", f"[{th}]", study), tmp / "out", quiet=True))
    return out


def test_default_study_is_the_alarm_study_with_the_threshold_shifted(shifted_studies):
    """An add study at 12 min from the call (default) equals the same study at 10.5 min from the
    alarm (call_handling_s = 0): same site, same objective, same shares."""
    call, alarm = shifted_studies["call"], shifted_studies["alarm"]
    assert call["chosen_sites"] == alarm["chosen_sites"]
    (sc,), (sa,) = call["solves"], alarm["solves"]
    assert sc["status"] == sa["status"] == "optimal"
    assert sc["objective"] == sa["objective"]
    assert call["assumptions"]["thresholds_from"] == "call" and alarm["assumptions"]["thresholds_from"] == "alarm"
    rc, ra = call["result"], alarm["result"]
    for part in ("before", "after"):
        assert rc[part]["share_within"]["12"] == ra[part]["share_within"]["10.5"]
        assert rc[part]["mean_response_min"] == pytest.approx(ra[part]["mean_response_min"] + 1.5, abs=0.006)
    assert rc["new_sites"][0]["newly_within_12min"] == ra["new_sites"][0]["newly_within_10.5min"] > 0


@pytest.fixture(scope="module")
def slices_run(shipped_run):
    folder = shipped_run("hvz-centrum-2019-slices")  # the session's run of the shipped file
    return folder, summary(folder)


def test_example_scenario_slices_and_mix(slices_run):
    folder, s = slices_run
    b = s["response_model"]
    names = [x["name"] for x in b["slices"]]
    assert names == ["weekday-day", "weekday-night", "weekend"]
    hours = [x["hours_per_week"] for x in b["slices"]]
    assert hours == [60, 60, 48]
    assert [x["speed_period"] for x in b["slices"]] == ["rush_hour", "night", None]
    crews = [x["crew_by_post"]["P08"] for x in b["slices"]]
    assert crews == ["professional", "mixed", "mixed"]  # Deinze: professional by day only
    assert b["slices"][0]["turnout_by_post"]["P08"]["median_s"] == 90
    assert b["slices"][1]["turnout_by_post"]["P01"]["median_s"] == 120  # the scenario's night turnout
    for t in ("8", "10", "12", "15"):
        shares = [x["zone"]["expected_share_within"][t] for x in b["slices"]]
        assert b["mix"]["zone"]["expected_share_within"][t] == pytest.approx(
            sum(h / 168 * v for h, v in zip(hours, shares)), abs=1e-12
        )
        # from the call with spread is slower than the old definition (from the alarm)
        assert b["mix"]["zone"]["expected_share_within"][t] < b["reference_from_alarm"]["share_within"][t]
    means = [x["zone"]["mean_response_min"] for x in b["slices"]]
    assert b["mix"]["zone"]["mean_response_min"] == pytest.approx(
        sum(h / 168 * v for h, v in zip(hours, means)), abs=0.01
    )
    # every output says "from the call"
    rows = (folder / "slices.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("slice,week_share,municipality,population,share_within_8min")
    assert sum(1 for r in rows if ",zone," in r) == 4  # three slices and the mix
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "FROM THE 112 CALL = call handling 90 s" in html and "From the call: time slices" in html
    assert "11:25" in html
    assert s["assumptions"]["thresholds_from"] == "call"


# --------------------------------------------------------------------------- a study per time slice

SITES = [
    ("S1", 50.9195, 3.4490),  # Zulte
    ("S2", 50.9575, 3.5960),  # Nazareth
    ("S3", 50.9530, 3.8000),  # Oosterzele
    ("S4", 51.1740, 3.9330),  # Moerbeke
    ("S5", 50.9930, 3.6480),  # De Pinte
    ("S6", 50.9800, 3.5600),  # Astene
]
STUDY_SLICES = """
[[slices]]
name = "day"
days = "weekday"
hours = [7, 19]
period = "rush_hour"
posts.P08 = { crew = "professional" }
[[slices]]
name = "night"
days = "weekday"
hours = [19, 7]
period = "night"
[[slices]]
name = "weekend"
days = "weekend"
"""


@pytest.fixture(scope="module")
def slice_studies(tmp_path_factory, zone_data_dir):
    tmp = tmp_path_factory.mktemp("slice-studies")
    sites = ", ".join(f'{{ id = "{i}", lat = {la}, lon = {lo} }}' for i, la, lo in SITES)
    out = {}
    for sl in ("day", "night", "mix"):
        extra = (
            f'[study]\nkind = "add"\nk = 1\nthreshold = 12\nslice = "{sl}"\ninclude_generated = false\n'
            f'new_crew = "professional"\nsites = [{sites}]\n{STUDY_SLICES}'
        )
        out[sl] = summary(run_file(scenario(tmp, f"add-{sl}", "[12]", extra), tmp / "out", quiet=True))
    return out


def test_best_new_post_differs_between_day_and_night_by_enumeration(slice_studies, hvz_zone):
    """Enumerate the six sites: per slice, the population whose first engine arrives within 12 min from
    the call (90 s call handling + fixed turnout at the median + driving at the slice's speeds), with
    today's posts and the one new professional site. Turnouts written out here: professional 90 s,
    volunteer and mixed 300 s; by day Deinze (P08, mixed) is professional."""
    import numpy as np

    import kazerne as kz

    zone = hvz_zone
    demand = kz.population_grid(zone)
    w = np.where(demand.no_road_data, 0.0, demand.weight)
    ids = ACTIVE_2019.strip("[]").replace('"', "").replace(" ", "").split(",")
    covered = {}
    for sl, period in (("day", "rush_hour"), ("night", "night"), ("weekend", None)):
        posts = kz.Sites.from_posts(zone, ids, turnout={"professional": 90, "volunteer": 300, "mixed": 300})
        if sl == "day":
            posts.turnout_s[posts.ids.index("P08")] = 90.0
        new = kz.Sites.from_lonlat(zone, [s[0] for s in SITES], [s[2] for s in SITES], [s[1] for s in SITES])
        prof = kz.get_profile("fire_engine", period=period)
        base = kz.travel_times(zone, posts, demand, prof).dense().astype(np.float64).min(axis=0) + 90.0
        cand = kz.travel_times(zone, new, demand, prof).dense().astype(np.float64) + 90.0
        covered[sl] = [float(w[np.minimum(base, cand[k]) <= 720.0].sum()) for k in range(len(SITES))]
    best = {sl: SITES[int(np.argmax(covered[sl]))][0] for sl in covered}
    assert best["day"] != best["night"]  # the point of the test: the answer depends on the hour
    mix = [
        60 / 168 * a + 60 / 168 * b + 48 / 168 * c
        for a, b, c in zip(covered["day"], covered["night"], covered["weekend"])
    ]
    best["mix"] = SITES[int(np.argmax(mix))][0]
    for sl, values in (("day", covered["day"]), ("night", covered["night"]), ("mix", mix)):
        s = slice_studies[sl]
        assert s["chosen_sites"][-1] == best[sl], sl
        (solve,) = s["solves"]
        assert solve["status"] == "optimal"
        assert solve["objective"] == pytest.approx(max(values), rel=1e-6)
        assert s["assumptions"]["study_slice"] == sl and s["assumptions"]["thresholds_from"] == "call"


def test_readme_response_example_runs(hvz_zone):
    """The README's example (section *Response time from the call*) runs as written."""
    import re

    import numpy as np

    text = (REPO / "README.md").read_text(encoding="utf-8")
    sec = text[text.index("## Response time from the call") :]
    code = re.search(r"```python\n(.*?)```", sec, re.S).group(1)
    ns: dict = {}
    exec(compile(code, "README.md (Response time from the call)", "exec"), ns)
    assert ns["week"] == [60.0, 60.0, 48.0]
    night, p, demand = ns["night"], ns["p"], ns["demand"]
    w = np.where(demand.no_road_data, 0.0, demand.weight)
    assert night.zone_share[0] == pytest.approx(float((w * p[0]).sum() / w.sum()), rel=1e-9)
    assert 0 < night.zone_share[0] < night.zone_share[1] < 1
    assert ns["vol"].quantile(0.9) == pytest.approx(480.0)
