"""The run-kind protocol (kazerne/scenarios/kinds.py): a new kind is one object + one registry line.

A toy kind registered for the test (no zone pack needed: its solve computes from its own section)
must be validated by the scenario schema, dispatched by the runner, written by the one writer and
printed by the command line's ``print_run`` -- with no other file of kazerne knowing about it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from kazerne.errors import ScenarioError
from kazerne.progress import Progress
from kazerne.scenarios import kinds
from kazerne.scenarios.runner import print_run, run_scenario
from kazerne.scenarios.schema import parse_scenario


@dataclass(frozen=True)
class ToySpec:
    n: int


class ToyKind:
    name = "toy"
    title = "sums 1..n (a test kind)"

    def parse(self, v, section, sc):
        v.table(section, "toy", {"n"})
        return ToySpec(n=v.integer(section.get("n", 3), "toy.n", 1, 1000))

    def solve(self, sc, spec, progress):
        total = sum(range(1, spec.n + 1))
        rows = [{"i": i, "square": i * i} for i in range(1, spec.n + 1)]

        def layer(tmp):
            (tmp / "toy.txt").write_text(f"{total}\n", encoding="utf-8")

        return kinds.RunResult(
            kind=self.name,
            summary={"scenario": {"name": sc.name}, "total": total},
            tables={"toy.csv": rows},
            layers=(layer,),
            value=total,
        )

    def console(self, summary):
        return [f"toy total {summary['total']}"]


TOY = ToyKind()


@pytest.fixture
def toy_registered(monkeypatch):
    monkeypatch.setitem(kinds.KIND_MODULES, "toy", f"{__name__}:TOY")


def write(tmp_path, body: str):
    p = tmp_path / "s.toml"
    p.write_text('name = "toyrun"\nzone = "hvz-centrum"\n' + body, encoding="utf-8")
    return p


def test_unregistered_section_is_an_unknown_key(tmp_path):
    with pytest.raises(ScenarioError, match="unknown key"):
        parse_scenario(write(tmp_path, "[toy]\nn = 4\n"))


def test_kind_section_parsed_into_its_typed_spec(tmp_path, toy_registered):
    sc = parse_scenario(write(tmp_path, "[toy]\nn = 4\n"))
    assert sc.kinds == {"toy": ToySpec(n=4)}
    assert kinds.kind_of(sc)[0] is TOY


def test_kind_errors_name_the_field(tmp_path, toy_registered):
    with pytest.raises(ScenarioError) as e:
        parse_scenario(write(tmp_path, "[toy]\nn = 0\n"))
    assert e.value.field == "toy.n"
    with pytest.raises(ScenarioError) as e:
        parse_scenario(write(tmp_path, "[toy]\nm = 1\n"))
    assert e.value.field == "toy.m"


def test_one_kind_per_scenario(tmp_path, toy_registered):
    with pytest.raises(ScenarioError, match="one kind of run") as e:
        parse_scenario(write(tmp_path, '[toy]\nn = 2\n[ems]\nkind = "ems-evaluate"\n'))
    assert e.value.field == "toy"


def test_runner_writes_and_prints_a_kind(tmp_path, toy_registered, capsys):
    sc = parse_scenario(write(tmp_path, "[toy]\nn = 4\n"))
    target = run_scenario(sc, tmp_path / "out", Progress(True))
    assert target == tmp_path / "out" / "toyrun"
    summary = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    assert summary["kind"] == "toy" and summary["total"] == 1 + 2 + 3 + 4
    lines = (target / "toy.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "i,square" and lines[-1] == "4,16"
    assert (target / "toy.txt").read_text(encoding="utf-8") == "10\n"
    print_run(target)
    assert capsys.readouterr().out.strip() == "toy total 10"


def test_result_in_memory_is_what_was_written(tmp_path, toy_registered, capsys):
    from kazerne.scenarios.runner import execute, print_result

    sc = parse_scenario(write(tmp_path, "[toy]\nn = 3\n"))
    done = execute(sc, tmp_path / "out", Progress(True))
    on_disk = json.loads((done.target / "summary.json").read_text(encoding="utf-8"))
    assert done.result.summary == on_disk and done.result.value == 6
    print_result(done)  # from memory, not read back
    assert capsys.readouterr().out.strip() == "toy total 6"
    (done.target / "summary.json").unlink()
    print_result(done)  # the folder is not read at all
    assert capsys.readouterr().out.strip() == "toy total 6"


def test_registry_lists_the_kinds_and_their_modules():
    assert {"ems", "criticality", "simulate", "calibration"} <= set(kinds.kind_names())
    for name in [*kinds.kind_names(), "baseline"]:
        kind = kinds.get_kind(name)
        assert kind.name == name and callable(kind.solve) and callable(kind.console) and callable(kind.parse)
