"""Spec validation: every error is one line naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import SpecError
from harness.registry import discover_specs
from harness.specs import TaskSpec, load_spec

VALID = """\
name: MySTS
type: sts
suite: [custom]
main_score: cosine_spearman
data:
  local: mysts
"""


def write(tmp_path: Path, text: str, name: str = "task.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_valid_spec_gets_mteb_default_columns(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, VALID))
    assert spec.column_map == {"sentence1": "sentence1", "sentence2": "sentence2", "score": "score"}
    assert spec.suite == ["custom"] and spec.languages == ["eng"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (VALID + "colour: red\n", "colour: unknown field"),
        (VALID.replace("main_score: cosine_spearman\n", ""), "main_score: required field is missing"),
        (VALID.replace("type: sts", "type: regression"), "type:"),
        (VALID.replace("cosine_spearman", "accuracy"), "main_score: 'accuracy' is not a sts metric"),
        (VALID + "columns: {sentence3: s3}\n", "columns: unknown key 'sentence3'"),
        (VALID.replace("local: mysts", "hf: org/data"), "hf needs a pinned revision"),
        (VALID.replace("  local: mysts\n", "  eval_split: test\n"), "needs at least one of local, hf or builder"),
        (VALID + "options: {min_score: high}\n", "options: min_score"),
        (VALID.replace("name: MySTS", "name: ../evil"), "name:"),
        ("name: ok\ntype: sts: nested\n", "line 2: YAML syntax error"),
        ("- just\n- a list\n", "must be a YAML mapping"),
    ],
)
def test_bad_specs_name_the_field(tmp_path: Path, text: str, fragment: str) -> None:
    assert fragment in error_of(write(tmp_path, text))


def test_non_utf8_spec(tmp_path: Path) -> None:
    path = tmp_path / "task.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    assert "not UTF-8" in error_of(path)


def test_include_merges_and_overrides(tmp_path: Path) -> None:
    write(tmp_path, "type: sts\nmain_score: cosine_spearman\nsuite: [base]\ndata: {eval_split: dev}\n", "_base.yaml")
    spec = load_spec(write(tmp_path, "include: _base.yaml\nname: Child\ndata: {local: x}\n"))
    assert spec.suite == ["base"] and spec.data.eval_split == "dev" and spec.data.local == "x"


def test_include_cycle_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "include: b.yaml\n", "a.yaml")
    write(tmp_path, "include: a.yaml\n", "b.yaml")
    assert "include: cycle" in error_of(tmp_path / "a.yaml")


def test_name_clash_names_both_files(tmp_path: Path) -> None:
    first = write(tmp_path, VALID, "one.yaml")
    second = write(tmp_path, VALID, "two.yaml")
    with pytest.raises(SpecError) as info:
        discover_specs([tmp_path], builtin=False)
    assert str(first) in str(info.value) and str(second) in str(info.value)


def test_discovery_reports_every_broken_spec(tmp_path: Path) -> None:
    write(tmp_path, "name: [\n", "a.yaml")
    write(tmp_path, VALID + "bogus: 1\n", "b.yaml")
    with pytest.raises(SpecError) as info:
        discover_specs([tmp_path], builtin=False)
    assert len(info.value.messages) == 2


def test_taskspec_built_in_python_validates_like_yaml() -> None:
    with pytest.raises(SpecError, match="main_score"):
        TaskSpec(name="X", type="sts", main_score="nope", data={"local": "x"})
    spec = TaskSpec(name="X", type="sts", main_score="cosine_spearman", data={"local": "x"})
    assert spec.data.eval_split == "test"


def test_builtin_specs_are_valid() -> None:
    specs = discover_specs()
    assert {"STSBenchmark", "STS13", "STS15"} <= set(specs)
    assert all(spec.data.revision for spec in specs.values() if spec.data.hf)
