"""The bad-input corpus: every case exits 2 with one line naming the file and the field or line.

Cases run the CLI in-process (``harness.cli.main``) for speed; ``test_cli_errors.py`` checks the
same contract through a real subprocess (no traceback on stderr).
"""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import pytest

from harness.cli import main

STS = "name: Bad\ntype: sts\nsuite: [bad]\nmain_score: cosine_spearman\ndata: {local: bad}\n"
RETRIEVAL = "name: Bad\ntype: retrieval\nsuite: [bad]\nmain_score: ndcg_at_10\ndata: {local: bad}\n"
GOOD_PAIRS = "".join(json.dumps({"sentence1": f"a {i}", "sentence2": f"b {i}", "score": i % 5}) + "\n" for i in range(6))


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    os.chdir(tmp_path)
    code = main(list(args))
    return code, capsys.readouterr().err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith(("error:", "failed"))]
    assert len(lines) == 1, err
    return lines[0]


def task_run(tmp_path: Path, capsys, spec: str, files: dict[str, str | bytes], model: str = "random", *extra: str) -> tuple[int, str]:
    (tmp_path / "tasks").mkdir(exist_ok=True)
    (tmp_path / "tasks" / "bad.yaml").write_text(spec)
    for name, content in files.items():
        target = tmp_path / "data" / "bad" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    return run(tmp_path, capsys, "run", "--suite", "bad", "--task-dir", "tasks", "--data-dir", "data", "--models", model, "--no-report", "--no-cache", *extra)


SPEC_CASES = {
    "yaml syntax error": ("name: x\ntype: sts: oops\n", "line 2: YAML syntax error"),
    "missing required field": (STS.replace("main_score: cosine_spearman\n", ""), "main_score: required field is missing"),
    "unknown task type": (STS.replace("type: sts", "type: regression"), "type: Input should be"),
    "unknown main score": (STS.replace("cosine_spearman", "f1_macro"), "main_score: 'f1_macro' is not a sts metric"),
    "unknown field": (STS + "evaluation: fast\n", "evaluation: unknown field"),
    "unknown option": (STS + "options: {n_experiments: 3}\n", "options: n_experiments"),
    "hub without revision": (STS.replace("{local: bad}", "{hf: org/x}"), "pinned revision"),
    "non-utf8 spec": (b"name: caf\xe9\n", "not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(SPEC_CASES))
def test_bad_spec(tmp_path: Path, capsys, case: str) -> None:
    text, fragment = SPEC_CASES[case]
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "bad.yaml").write_bytes(text if isinstance(text, bytes) else text.encode())
    code, err = run(tmp_path, capsys, "list", "tasks", "--task-dir", "tasks")
    line = one_error_line(err)
    assert code == 2 and "bad.yaml" in line and fragment in line


def test_spec_name_clash_names_both_files(tmp_path: Path, capsys) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "a.yaml").write_text(STS)
    (tmp_path / "tasks" / "b.yaml").write_text(STS)
    code, err = run(tmp_path, capsys, "list", "tasks", "--task-dir", "tasks")
    line = one_error_line(err)
    assert code == 2 and "a.yaml" in line and "b.yaml" in line


def pairs_with(**row: object) -> str:
    return GOOD_PAIRS + json.dumps({"sentence1": "x", "sentence2": "y", "score": 1, **row}) + "\n"


CORPUS = "".join(json.dumps({"_id": f"d{i}", "title": "", "text": f"doc {i}"}) + "\n" for i in range(3))
QUERIES = json.dumps({"_id": "q1", "text": "doc"}) + "\n"
DATA_CASES = {
    "missing column": (STS, {"test.jsonl": pairs_with(sentence2=None) .replace('"sentence2": null, ', "")}, "line 7: column 'sentence2' not found"),
    "empty split": (STS, {"test.jsonl": ""}, "test.jsonl: empty split"),
    "non-numeric gold": (STS, {"test.jsonl": pairs_with(score="five")}, "line 7: column 'score' is not a number"),
    "NaN gold": (STS, {"test.jsonl": pairs_with(score=float("nan"))}, "line 7: column 'score' is nan"),
    "empty text": (STS, {"test.jsonl": pairs_with(sentence1="")}, "line 7: column 'sentence1' is an empty text"),
    "very long line": (STS, {"test.jsonl": pairs_with(sentence1="x" * 1_000_001)}, "line 7: column 'sentence1' holds 1,000,001 characters"),
    "non-utf8 data": (STS, {"test.jsonl": GOOD_PAIRS.encode() + b'{"sentence1": "\xff"}\n'}, "line 7: not UTF-8"),
    "invalid json line": (STS, {"test.jsonl": GOOD_PAIRS + "{oops\n"}, "line 7: invalid JSON"),
    "single label": (
        "name: Bad\ntype: classification\nsuite: [bad]\nmain_score: accuracy\ndata: {local: bad}\n",
        {"train.jsonl": json.dumps({"text": "t", "label": 0}) + "\n", "test.jsonl": json.dumps({"text": "t", "label": 0}) + "\n"},
        "train.jsonl: column 'label' has a single label",
    ),
    "label unseen in train": (
        "name: Bad\ntype: classification\nsuite: [bad]\nmain_score: accuracy\ndata: {local: bad}\n",
        {"train.jsonl": "".join(json.dumps({"text": f"t{i}", "label": i % 2}) + "\n" for i in range(4)),
         "test.jsonl": json.dumps({"text": "t", "label": 7}) + "\n"},
        "test.jsonl: label 7 never occurs in the train split",
    ),
    "duplicate corpus ids": (RETRIEVAL, {"corpus.jsonl": CORPUS + CORPUS.splitlines(True)[0], "queries.jsonl": QUERIES, "qrels/test.tsv": "q1\td0\t1\n"},
                             "corpus.jsonl: line 4: duplicate id 'd0'"),
    "qrels naming a missing document": (RETRIEVAL, {"corpus.jsonl": CORPUS, "queries.jsonl": QUERIES, "qrels/test.tsv": "q1\td9\t1\n"},
                                        "qrels/test.tsv: query 'q1' names document 'd9'"),
    "qrels naming a missing query": (RETRIEVAL, {"corpus.jsonl": CORPUS, "queries.jsonl": QUERIES, "qrels/test.tsv": "q2\td0\t1\n"},
                                     "qrels/test.tsv: query 'q2' is not in queries.jsonl"),
}


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_data(tmp_path: Path, capsys, case: str) -> None:
    spec, files, fragment = DATA_CASES[case]
    code, err = task_run(tmp_path, capsys, spec, files)
    assert code == 2, err
    assert fragment in one_error_line(err)


def test_data_file_missing(tmp_path: Path, capsys) -> None:
    (tmp_path / "data").mkdir()
    code, err = task_run(tmp_path, capsys, STS, {})
    assert code == 2 and "no task could run" in one_error_line(err)
    assert "bad.yaml: data.local: 'bad' not found" in err


@pytest.mark.parametrize("link", [False, True])
def test_data_path_escaping_the_root(tmp_path: Path, capsys, link: bool) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "test.jsonl").write_text(GOOD_PAIRS)
    if link:
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "bad").symlink_to(outside)
        code, err = task_run(tmp_path, capsys, STS, {})
    else:
        code, err = task_run(tmp_path, capsys, STS.replace("local: bad", "local: ../outside"), {})
    assert code == 2 and "escapes the data root" in one_error_line(err)


def test_query_without_relevant_document_is_kept_and_warned(tmp_path: Path, capsys) -> None:
    files = {"corpus.jsonl": CORPUS, "queries.jsonl": QUERIES + json.dumps({"_id": "q2", "text": "zzz"}) + "\n",
             "qrels/test.tsv": "q1\td0\t1\nq2\td1\t0\n"}
    code, err = task_run(tmp_path, capsys, RETRIEVAL, files)
    assert code == 0, err
    assert "warning:" in err and "1 queries (e.g. 'q2') have no relevant document; kept and scored 0, as mteb does" in err


# ------------------------------------------------------------------ misbehaving models (entry points)

BAD_MODELS = '''
import numpy as np
from harness.models import ModelInfo

class _Bad:
    def __init__(self, **_):
        self.info = ModelInfo(name="test/" + type(self).__name__.lower(), revision="1")

class NaNs(_Bad):
    def encode(self, texts, **_):
        out = np.ones((len(texts), 4)); out[0, 0] = np.nan; return out

class Infs(_Bad):
    def encode(self, texts, **_):
        return np.full((len(texts), 4), np.inf)

class WrongDim(_Bad):
    calls = 0
    def encode(self, texts, **_):
        WrongDim.calls += 1
        return np.ones((len(texts), 4 if WrongDim.calls == 1 else 5))

class WrongCount(_Bad):
    def encode(self, texts, **_):
        return np.ones((len(texts) - 1, 4))
'''


@pytest.fixture
def bad_model_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Adapters shipped by a (fake) installed package through the ``harness.models`` entry points."""
    site = tmp_path / "site"
    dist = site / "badmodels-0.1.dist-info"
    dist.mkdir(parents=True)
    (site / "badmodels.py").write_text(BAD_MODELS)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: badmodels\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[harness.models]\nbad-nan = badmodels:NaNs\nbad-inf = badmodels:Infs\nbad-dim = badmodels:WrongDim\nbad-count = badmodels:WrongCount\n"
    )
    monkeypatch.syspath_prepend(str(site))
    from harness.models.registry import ADAPTERS

    monkeypatch.setattr(ADAPTERS, "_entry_points_loaded", False)  # read the fake package's entry points
    monkeypatch.setattr(ADAPTERS, "_entries", dict(ADAPTERS._entries))
    yield
    sys.modules.pop("badmodels", None)


@pytest.mark.parametrize(
    ("model", "fragment"),
    [
        ("bad-nan", "encode returned NaN or infinite values"),
        ("bad-inf", "encode returned NaN or infinite values"),
        ("bad-dim", "dimension changed from 4 to 5"),
        ("bad-count", "encode returned shape (3, 4) for 4 texts"),
    ],
)
def test_misbehaving_adapter(tmp_path: Path, capsys, bad_model_plugin: None, model: str, fragment: str) -> None:
    code, err = task_run(tmp_path, capsys, STS.replace("data: {local: bad}", "data: {local: bad}\n"), {"test.jsonl": GOOD_PAIRS}, model, "--batch-size", "4")
    line = one_error_line(err)
    assert code == 2 and fragment in line and "task Bad" in line


def test_unknown_model(tmp_path: Path, capsys) -> None:
    code, err = run(tmp_path, capsys, "run", "--tasks", "WordSim353", "--models", "mpnet-bas", "--no-report")
    assert code == 2 and "unknown model 'mpnet-bas'" in one_error_line(err)


def test_batch_size_must_be_positive(tmp_path: Path, capsys) -> None:
    code, err = run(tmp_path, capsys, "run", "--tasks", "WordSim353", "--models", "random", "--batch-size", "0")
    assert code == 2 and "--batch-size" in one_error_line(err)


# ------------------------------------------------------------------ the store


def test_results_dir_not_writable(tmp_path: Path, capsys) -> None:
    (tmp_path / "results").write_text("a file, not a folder")
    code, err = run(tmp_path, capsys, "run", "--tasks", "WordSim353", "--models", "random", "--results", "results", "--no-report", "--no-cache")
    assert code == 2 and "results" in one_error_line(err) and "cannot" in one_error_line(err)


def test_disk_full(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    real_fsync = os.fsync

    def full(fd: int) -> None:
        if os.fstat(fd).st_size > 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full)
    code, err = run(tmp_path, capsys, "run", "--tasks", "WordSim353", "--models", "random", "--no-report", "--no-cache")
    assert code == 2 and "No space left on device" in one_error_line(err)
    assert not list((tmp_path / "results").rglob("*.json")) and not list((tmp_path / "results").rglob(".*.tmp"))


def test_truncated_and_foreign_result_files_warn_and_the_report_renders(tmp_path: Path, capsys) -> None:
    code, _ = run(tmp_path, capsys, "run", "--tasks", "WordSim353,SimLex999", "--models", "random", "--no-cache", "--out", "rep")
    assert code == 0
    folder = next((tmp_path / "results").glob("*/*"))
    (folder / "SimLex999.json").write_text((folder / "SimLex999.json").read_text()[:40])
    (folder / "Foreign.json").write_text(json.dumps({"task_name": "Foreign", "scores": 1}))
    code, err = run(tmp_path, capsys, "report", "--out", "rep")
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert code == 0 and len(warnings) == 2
    assert any("SimLex999.json" in w for w in warnings) and any("Foreign.json" in w for w in warnings)
    assert "WordSim353" in (tmp_path / "rep" / "index.html").read_text()
