"""The builder registry: option schemas checked when a spec loads, and builders added from outside
the package (no package edit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import Field

from harness.data.builders import BUILDERS, BuilderOptions, get_builder, register_builder
from harness.data.types import STSData
from harness.errors import DataError, SpecError
from harness.registry import discover_specs

SPEC = """\
name: {name}
type: sts
main_score: cosine_spearman
data:
  builder: {builder}
  builder_options: {options}
"""


def write_spec(folder: Path, builder: str, options: str, name: str = "BuilderCheck") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(SPEC.format(name=name, builder=builder, options=options))
    return path


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("{file: wordsim353.tsv, bogus: 1}", "builder_options.bogus: unknown option for builder gensim_word_pairs"),
        ("{encoding: utf-8}", "builder_options.file: required by builder gensim_word_pairs"),
        ("{file: 5}", "builder_options.file: expected str, got 5"),
        ("{file: lee.cor, test_size: 0.5, seed: -1}", "builder_options.seed: Input should be greater than or equal to 0"),
        ("{file: lee.cor, test_size: 1.5, seed: 1}", "builder_options.test_size: must be in (0, 1), got 1.5"),
        ("{file: lee.cor, test_size: 0.5, seed: true}", "builder_options.seed: expected int, got True"),
    ],
)
def test_bad_options_fail_when_the_spec_loads(tmp_path: Path, options: str, message: str) -> None:
    builder = "gensim_labelled_sentences" if "test_size" in options else "gensim_word_pairs"
    path = write_spec(tmp_path / "tasks", builder, options)
    with pytest.raises(SpecError) as caught:
        discover_specs([tmp_path / "tasks"], builtin=False)
    assert str(caught.value).startswith(f"{path}: data: {message}")


def test_unknown_builder_is_named_with_a_suggestion(tmp_path: Path) -> None:
    write_spec(tmp_path / "tasks", "gensim_word_pair", "{file: x}")
    with pytest.raises(SpecError, match=r"data: builder: unknown builder 'gensim_word_pair' \(did you mean gensim_word_pairs"):
        discover_specs([tmp_path / "tasks"], builtin=False)


def test_a_long_bad_value_is_cut_in_the_message() -> None:
    with pytest.raises(DataError) as caught:
        get_builder("gensim_word_pairs")({"file": ["x" * 100_000]}, None)
    assert len(str(caught.value)) < 300


class _Constant(BuilderOptions):
    n: int = Field(ge=2)


def test_a_builder_registered_outside_the_package_serves_a_spec(tmp_path: Path) -> None:
    @register_builder("test_constant_pairs", options=_Constant)
    def build(opts: _Constant, data_root: Path | None) -> STSData:
        words = [f"w{i}" for i in range(opts.n)]
        return STSData(words, words[::-1], np.arange(opts.n, dtype=np.float64))

    try:
        write_spec(tmp_path / "tasks", "test_constant_pairs", "{n: 4}")
        spec = discover_specs([tmp_path / "tasks"], builtin=False)["BuilderCheck"]
        data = get_builder(spec.data.builder)(spec.data.builder_options, None)
        assert data.sentence1 == ["w0", "w1", "w2", "w3"] and data.scores.tolist() == [0, 1, 2, 3]
        write_spec(tmp_path / "bad", "test_constant_pairs", "{n: 1}")
        with pytest.raises(SpecError, match=r"builder_options\.n: Input should be greater than or equal to 2"):
            discover_specs([tmp_path / "bad"], builtin=False)
    finally:
        BUILDERS.unregister("test_constant_pairs")
