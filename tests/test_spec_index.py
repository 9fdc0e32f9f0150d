"""The spec index: specs are parsed only when they change, and it never hides an error."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import harness.specs
import harness.yaml_include
from harness.errors import SpecError
from harness.registry import discover_specs
from harness.spec_index import SpecIndex

SPEC = """\
name: {name}
type: sts
suite: [{suite}]
main_score: cosine_spearman
data:
  local: data
"""


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))


def write(path: Path, text: str, age_s: float = 100.0) -> Path:
    """Write ``text`` with an mtime ``age_s`` seconds old (the index skips files changed just now)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    stamp = time.time_ns() - int(age_s * 1e9)
    os.utime(path, ns=(stamp, stamp))
    return path


def discover(tasks: Path) -> dict[str, harness.specs.TaskSpec]:
    return discover_specs([tasks], builtin=False)


def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path, *_: object) -> None:
        raise AssertionError(f"{path} was parsed")

    monkeypatch.setattr(harness.yaml_include, "_read_mapping", refuse)


def test_an_unchanged_spec_is_not_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tasks = tmp_path / "tasks"
    write(tasks / "a.yaml", SPEC.format(name="A", suite="one"))
    first = discover(tasks)
    assert SpecIndex.open(tasks).index_path.is_file()  # type: ignore[union-attr]
    no_parsing(monkeypatch)
    again = discover(tasks)
    assert again == first and again["A"].source_file == str(tasks / "a.yaml")


def test_an_edited_spec_is_read_again(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    path = write(tasks / "a.yaml", SPEC.format(name="A", suite="one"))
    assert discover(tasks)["A"].suite == ["one"]
    write(path, SPEC.format(name="A", suite="two"), age_s=50)  # same size, another mtime
    assert discover(tasks)["A"].suite == ["two"]


def test_an_edited_include_is_read_again(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    base = write(tasks / "_base.yaml", "type: sts\nmain_score: cosine_spearman\nsuite: [one]\n")
    write(tasks / "a.yaml", "include: _base.yaml\nname: A\ndata: {local: x}\n")
    assert discover(tasks)["A"].suite == ["one"]
    write(base, "type: sts\nmain_score: cosine_spearman\nsuite: [two]\n", age_s=50)
    assert discover(tasks)["A"].suite == ["two"]


def test_a_broken_spec_is_an_error_on_every_call(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    write(tasks / "good.yaml", SPEC.format(name="Good", suite="one"))
    broken = write(tasks / "broken.yaml", SPEC.format(name="Broken", suite="one") + "bogus: 1\n")
    for _ in range(3):
        with pytest.raises(SpecError, match="bogus: unknown field"):
            discover(tasks)
    write(broken, "name: [\n", age_s=50)  # a YAML error is never cached either
    for _ in range(2):
        with pytest.raises(SpecError, match="YAML syntax error"):
            discover(tasks)


def test_a_spec_broken_after_it_was_indexed_is_an_error(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    path = write(tasks / "a.yaml", SPEC.format(name="A", suite="one"))
    discover(tasks)
    write(path, SPEC.format(name="A", suite="one").replace("cosine_spearman", "accuracy"), age_s=50)
    for _ in range(2):
        with pytest.raises(SpecError, match="main_score"):
            discover(tasks)


def test_a_corrupt_index_is_ignored_and_rewritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tasks = tmp_path / "tasks"
    write(tasks / "a.yaml", SPEC.format(name="A", suite="one"))
    discover(tasks)
    index_path = SpecIndex.open(tasks).index_path
    assert index_path is not None
    for garbage in (b"{not json", b'{"format": 1, "directory": 3}', b""):
        index_path.write_bytes(garbage)
        assert discover(tasks)["A"].suite == ["one"]
    no_parsing(monkeypatch)
    assert discover(tasks)["A"].suite == ["one"]  # rewritten by the call before


def test_an_unwritable_index_falls_back_to_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tasks = tmp_path / "tasks"
    write(tasks / "a.yaml", SPEC.format(name="A", suite="one"))
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache dir should be")
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(blocker))
    assert discover(tasks)["A"].suite == ["one"]
    assert discover(tasks)["A"].suite == ["one"]


def test_a_deleted_spec_disappears(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    write(tasks / "a.yaml", SPEC.format(name="A", suite="one"))
    gone = write(tasks / "b.yaml", SPEC.format(name="B", suite="one"))
    assert set(discover(tasks)) == {"A", "B"}
    gone.unlink()
    assert set(discover(tasks)) == {"A"}
    index_path = SpecIndex.open(tasks).index_path
    assert index_path is not None and "b.yaml" not in index_path.read_text()


def test_duplicates_from_the_index_still_name_both_files(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    first = write(tasks / "one.yaml", SPEC.format(name="A", suite="one"))
    second = write(tasks / "two.yaml", SPEC.format(name="A", suite="one"))
    for _ in range(2):
        with pytest.raises(SpecError) as info:
            discover(tasks)
        assert str(first) in str(info.value) and str(second) in str(info.value)


def test_files_changed_just_now_and_values_json_cannot_hold_are_not_indexed(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    write(tasks / "fresh.yaml", SPEC.format(name="Fresh", suite="one"), age_s=0)
    dated = SPEC.format(name="Dated", suite="one").replace("local: data", "local: data\n  builder_options: {when: 2024-01-01}")
    write(tasks / "dated.yaml", dated)
    write(tasks / "plain.yaml", SPEC.format(name="Plain", suite="one"))
    for _ in range(2):
        specs = discover(tasks)
        assert specs["Dated"].data.builder_options == {"when": datetime.date(2024, 1, 1)}
    index_path = SpecIndex.open(tasks).index_path
    assert index_path is not None
    indexed = index_path.read_text()
    assert "plain.yaml" in indexed and "fresh.yaml" not in indexed and "dated.yaml" not in indexed


def test_specs_from_the_index_equal_the_parsed_ones() -> None:
    indexed = discover_specs()  # the first call fills the index, the second reads it
    indexed = discover_specs()
    for name, spec in indexed.items():
        parsed = harness.specs.load_spec(spec.source_file)  # type: ignore[arg-type]
        assert spec == parsed and spec.model_fields_set == parsed.model_fields_set, name
        assert spec.data.model_fields_set == parsed.data.model_fields_set, name


def test_validated_fields_are_trusted_only_under_the_same_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.spec_index as spec_index

    tasks = tmp_path / "tasks"
    write(tasks / "a.yaml", SPEC.format(name="A", suite="one"))
    discover(tasks)
    calls: list[str] = []
    validate = spec_index.spec_from_dict
    monkeypatch.setattr(spec_index, "spec_from_dict", lambda raw, source: calls.append(source) or validate(raw, source))
    assert discover(tasks)["A"].suite == ["one"] and calls == []
    monkeypatch.setattr(spec_index, "code_fingerprint", lambda: "another version of the harness")
    assert discover(tasks)["A"].suite == ["one"] and calls == [str(tasks / "a.yaml")]


def test_finding_an_indexed_task_imports_no_yaml_numpy_or_evaluator(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from harness.registry import discover_specs, select_tasks\n"
        "discover_specs()\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('yaml', 'numpy', 'scipy', 'pandas', 'torch')]\n"
        "heavy += [m for m in sys.modules if m.startswith('harness.evaluators.')]\n"
        "assert select_tasks(discover_specs(), ['STS13'])[0].name == 'STS13'\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tmp_path / "cache")}
    for _ in range(2):  # the first call fills the index, the second only reads it
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
