"""The study-kind protocol (kazerne/scenarios/study_kinds): a new ``[study] kind`` is one object +
one registry line.

A toy kind registered for the test ("alone": each named site added alone to today's posts, the one
reaching most people within the threshold recommended, with a field of its own) must be validated by
the schema, prepared, solved, written (summary, its table, layers, map, report) and printed by the
command line -- with no other file of kazerne knowing about it. Its answer is checked against the
``compare`` kind run on the same sites (a separate code path, tested against enumeration in
test_studies.py).
"""

from __future__ import annotations

import csv
import dataclasses
import json
from dataclasses import dataclass

import numpy as np
import pytest

from kazerne.errors import ScenarioError
from kazerne.report.study_report import StudyView, network_sites
from kazerne.scenarios import study_kinds
from kazerne.scenarios.schema import parse_scenario
from kazerne.scenarios.study_common import StudyOutcome
from kazerne.scenarios.study_kinds import StudyKind, StudySpec, get_study_kind


@dataclass(frozen=True)
class AloneParams:
    label: str


class Alone(StudyKind):
    name = "alone"
    title = "which site alone does most? ({label})"
    keys = frozenset({"label"})
    purpose = "a test kind"
    generated = False
    full_matrix = True

    def parse(self, v, raw, sc, st):
        if not st.sites:
            v.fail("study.sites", "an alone study needs [[study.sites]] entries")
        return AloneParams(label=v.string(raw.get("label", "toy"), "study.label"))

    def solve(self, inp):
        rows = []
        for j in range(inp.n_posts, len(inp.cand.ids)):
            rep = inp.eval(np.append(inp.post_rows, j))
            rows.append({"site": inp.cand.ids[j], f"share_within_{inp.tkey}min": inp.share_at(rep)})
        best = max(rows, key=lambda r: r[f"share_within_{inp.tkey}min"])
        chosen = np.append(inp.post_rows, inp.cand.ids.index(best["site"]))
        return StudyOutcome({"best": best["site"], "rows": rows}, {"alone.csv": rows}, [], chosen)

    def view(self, res, after):
        inp = res.inp
        return StudyView(
            title=self.title.format(label=inp.st["label"]),
            sites=network_sites(inp.posts, inp.cand, res.outcome.chosen_rows, {}),
            change_label="What the best site alone changes",
            recommendation=self.recommendation(res.result),
        )

    def recommendation(self, res, summary=None):
        return f"Alone, {res['best']} does most."

    def console(self, summary):
        return [f"  alone: best {summary['result']['best']} ({summary['study']['label']})"]


KIND = Alone()


@pytest.fixture
def alone_registered(monkeypatch):
    monkeypatch.setitem(study_kinds.STUDY_KIND_MODULES, "alone", f"{__name__}:KIND")


SITES = (
    '[[study.sites]]\nid = "S1"\nlat = 51.054\nlon = 3.725\n[[study.sites]]\nid = "S2"\nlat = 50.9575\nlon = 3.5960\n'
)


def write(tmp_path, study: str, name: str = "alonerun"):
    p = tmp_path / f"{name}.toml"
    p.write_text(
        f'name = "{name}"\nzone = "hvz-centrum"\n[outputs]\nfirst_due_areas = false\n'
        f'[posts]\nactive = ["P01", "P02", "P03"]\n[study]\n{study}',
        encoding="utf-8",
    )
    return p


def test_unregistered_kind_is_refused_with_the_registered_ones(tmp_path):
    with pytest.raises(ScenarioError) as e:
        parse_scenario(write(tmp_path, 'kind = "alone"\n' + SITES))
    assert e.value.field == "study.kind"
    assert "add, close, relocate, greenfield, minimum, compare, add-vehicle" in str(e.value)


def test_kind_fields_parsed_into_the_typed_spec(tmp_path, alone_registered):
    sc = parse_scenario(write(tmp_path, 'kind = "alone"\nlabel = "x"\nthreshold = 10\n' + SITES))
    st = sc.study
    assert isinstance(st, StudySpec) and st.kind == "alone" and st.params == AloneParams("x")
    assert st["label"] == "x" and st.threshold == 10.0 and [s["id"] for s in st.sites] == ["S1", "S2"]
    assert st.include_generated is False  # the kind's default
    with pytest.raises(dataclasses.FrozenInstanceError):  # frozen: a spec is not changed after parsing
        st.threshold = 3.0  # type: ignore[misc]
    assert "label" in st.summary() and "sites" not in st.summary()


def test_common_defaults_live_in_the_spec(tmp_path):
    """A minimal [study] gets exactly StudySpec's defaults (apart from the two that depend on the
    scenario: the middle report threshold, p_max = the number of open posts)."""
    sc = parse_scenario(write(tmp_path, 'kind = "add"\n'))
    d = StudySpec(kind="add")
    for f in ("k", "m", "p_min", "share", "spacing_m", "buffer_m", "time_limit_s", "objective", "new_crew"):
        assert getattr(sc.study, f) == getattr(d, f), f
    assert sc.study.sensitivity is False and sc.study.new_turnout_s is None and sc.study.params is None
    assert sc.study.threshold == sorted(sc.thresholds_min)[len(sc.thresholds_min) // 2] and sc.study.p_max == 3


def test_kind_errors_name_the_field(tmp_path, alone_registered):
    with pytest.raises(ScenarioError) as e:
        parse_scenario(write(tmp_path, 'kind = "alone"\n'))
    assert e.value.field == "study.sites"
    with pytest.raises(ScenarioError) as e:
        parse_scenario(write(tmp_path, 'kind = "alone"\nlabel = 3\n' + SITES))
    assert e.value.field == "study.label"
    with pytest.raises(ScenarioError, match='only for kind = "alone" \\(a test kind\\), not add') as e:
        parse_scenario(write(tmp_path, 'kind = "add"\nlabel = "x"\n'))
    assert e.value.field == "study.label"
    msg = r"not available for kind add-vehicle \(only add, relocate, greenfield, minimum\)"
    with pytest.raises(ScenarioError, match=msg):
        parse_scenario(write(tmp_path, 'kind = "add-vehicle"\nvehicle = "aerial"\nsensitivity = true\n'))
    # a kind without the sensitivity re-solves ignores the field (as close and compare always have)
    assert parse_scenario(write(tmp_path, 'kind = "alone"\nsensitivity = true\n' + SITES)).study.sensitivity


def test_registry_kinds_follow_the_protocol():
    for name in study_kinds.study_kind_names():
        kind = get_study_kind(name)
        assert kind.name == name and kind.title and isinstance(kind, StudyKind)
        assert type(kind).solve is not StudyKind.solve and type(kind).view is not StudyKind.view
        if kind.sensitivity:
            assert type(kind).resolve is not StudyKind.resolve


def test_a_new_kind_runs_end_to_end(tmp_path, alone_registered, zone_data_dir, capsys):
    from kazerne.cli import main

    out = tmp_path / "out"
    rc = main(
        ["run", str(write(tmp_path, 'kind = "alone"\nlabel = "toy run"\nthreshold = 10\n' + SITES)), "--out", str(out)]
    )
    printed = capsys.readouterr().out
    assert rc == 0
    folder = out / "alonerun"
    s = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert s["study"]["kind"] == "alone" and s["study"]["label"] == "toy run"
    assert s["candidates"] == {**s["candidates"], "total": 5, "today_posts": 3, "user": 2, "generated": 0}
    with open(folder / "alone.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["site"] for r in rows] == ["S1", "S2"]
    assert s["chosen_sites"] == ["P01", "P02", "P03", s["result"]["best"]]
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "which site alone does most? (toy run)" in html and f"Alone, {s['result']['best']} does most." in html
    assert (folder / "map.png").is_file() and (folder / "layers.gpkg").is_file()
    assert f"alone: best {s['result']['best']} (toy run)" in printed
    # the same sites through the compare kind: its best row is the toy's answer, with the same share
    rc = main(
        ["run", str(write(tmp_path, 'kind = "compare"\nthreshold = 10\n' + SITES, "cmp")), "--out", str(out), "--quiet"]
    )
    assert rc == 0
    c = json.loads((out / "cmp" / "summary.json").read_text(encoding="utf-8"))["result"]["rows"]
    assert c[1]["site"] == s["result"]["best"]
    shares = {r["site"]: r["share_within_10min"] for r in s["result"]["rows"]}
    assert shares == pytest.approx({r["site"]: r["share_within_10min"] for r in c[1:]}, rel=1e-12)


def test_sensitivity_section_shows_the_variants_the_time_limit_left_out():
    """A variant not started before the study's deadline has no sites (it used to crash the report)."""
    from kazerne.report.study_report import sensitivity_section

    html = sensitivity_section(
        {
            "variants": [
                {"variant": "speed -15%", "sites": ["A", "B"], "status": "optimal", "same_sites": True},
                {"variant": "speed +15%", "sites": None, "status": "not run (study time limit)", "same_sites": None},
            ],
            "recommendation_changes": False,
        }
    )
    assert "A B" in html and "not run (study time limit)" in html and "NO" not in html
    assert "is stable" in html
