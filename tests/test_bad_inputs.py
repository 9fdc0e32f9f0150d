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
    "yaml nested 50,000 deep": (STS + "options: " + "[" * 50_000 + "]" * 50_000 + "\n", "line 6: nested more than 100 levels deep"),
    "yaml alias bomb": (STS + 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
                        + "".join(f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi")),
                        "more than 100,000 values (aliases expanded)"),
    "duplicate yaml key": (STS + "name: Other\n", "line 6: duplicate key 'name'"),
    "300-character name": (STS.replace("name: Bad", "name: " + "B" * 300), "name: String should have at most 128 characters"),
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
    "5,000-digit gold": (STS, {"test.jsonl": GOOD_PAIRS + '{"sentence1": "x", "sentence2": "y", "score": 1%s}\n' % ("0" * 4999)},
                         "line 7: column 'score' is inf (must be finite)"),
    "qrels score inf": (RETRIEVAL, {"corpus.jsonl": CORPUS, "queries.jsonl": QUERIES, "qrels/test.tsv": "q1\td0\tinf\n"},
                        "qrels/test.tsv: line 1: column 'score' is 'inf' (must be finite)"),
    "top_ranked row without query-id": (
        RETRIEVAL.replace("type: retrieval", "type: reranking"),
        {"corpus.jsonl": CORPUS, "queries.jsonl": QUERIES, "qrels/test.tsv": "q1\td0\t1\n", "top_ranked/test.jsonl": '{"corpus-ids": ["d0"]}\n'},
        "top_ranked/test.jsonl: line 1: column 'query-id' not found",
    ),
    "float class label": (
        "name: Bad\ntype: classification\nsuite: [bad]\nmain_score: accuracy\ndata: {local: bad}\n",
        {"train.jsonl": "".join(json.dumps({"text": f"t{i}", "label": [1, 2.5][i % 2]}) + "\n" for i in range(4)),
         "test.jsonl": json.dumps({"text": "t", "label": 1}) + "\n"},
        "train.jsonl: line 2: column 'label' is 2.5",
    ),
    "pair lists of unequal length": (
        "name: Bad\ntype: pair_classification\nsuite: [bad]\nmain_score: max_ap\ndata: {local: bad}\n",
        {"test.jsonl": json.dumps({"sentence1": ["a", "b"], "sentence2": ["c"], "labels": [0, 1]}) + "\n"},
        "test.jsonl: line 1: columns 'sentence1', 'sentence2', 'labels' must be lists of the same length",
    ),
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
    """A spec's ``..`` is refused; a symlink the user put in the data root is followed."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "test.jsonl").write_text(GOOD_PAIRS)
    if link:
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "bad").symlink_to(outside)
        code, err = task_run(tmp_path, capsys, STS, {})
        assert code == 0, err
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


def test_split_name_reading_outside_the_data_root(tmp_path: Path, capsys) -> None:
    """Class "a spec reads outside --data-dir": a split name is confined like data.local."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.jsonl").write_text(GOOD_PAIRS)
    spec = STS.replace("{local: bad}", "{local: bad, eval_split: ../../outside/secret}")
    code, err = task_run(tmp_path, capsys, spec, {"test.jsonl": GOOD_PAIRS})
    line = one_error_line(err)
    assert code == 2 and "bad.yaml: data.eval_split" in line and "escapes the data root" in line


def test_hf_snapshot_data_root_of_symlinks_loads(tmp_path: Path, capsys) -> None:
    """Class "a normal data layout is refused": snapshots/<rev>/test.jsonl -> ../../blobs/<sha>,
    reached through a symlinked folder in the data root."""
    repo = tmp_path / "hub" / "datasets--org--bad"
    (repo / "blobs").mkdir(parents=True)
    (repo / "blobs" / "9f86d0").write_text(GOOD_PAIRS)
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    (repo / "snapshots" / "abc123" / "test.jsonl").symlink_to(Path("../../blobs/9f86d0"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "bad").symlink_to(repo / "snapshots" / "abc123")
    code, err = task_run(tmp_path, capsys, STS, {})
    assert code == 0, err


def test_data_file_symlink_loop(tmp_path: Path, capsys) -> None:
    """Class "tracebacks instead of one line": a symlink loop is one line, exit 2."""
    (tmp_path / "data" / "bad").mkdir(parents=True)
    (tmp_path / "data" / "bad" / "test.jsonl").symlink_to(tmp_path / "data" / "bad" / "test.jsonl")
    code, err = task_run(tmp_path, capsys, STS, {})
    assert code == 2 and "test.jsonl: data.eval_split: symlink loop" in one_error_line(err)


def _random_store(tmp_path: Path, capsys, *extra: str) -> Path:
    """WordSim353 by the random model, run in ``tmp_path``; returns the result's folder."""
    code, err = run(tmp_path, capsys, "run", "--tasks", "WordSim353", "--models", "random", "--no-cache", "--out", "rep", *extra)
    assert code == 0, err
    return tmp_path / "results" / "harness__random" / "seed0"


def test_items_file_pointing_outside_its_folder_is_skipped(tmp_path: Path, capsys) -> None:
    """Class "the store and report trust what they read": an items_file that leaves the result's
    folder is refused, even when it names a real items file whose checksum matches."""
    folder = _random_store(tmp_path, capsys)
    other = tmp_path / "results" / "other" / "r1"
    other.mkdir(parents=True)
    document = json.loads((folder / "WordSim353.json").read_text())
    document["harness"]["model"]["name"] = "other"
    document["harness"]["items_file"] = "../../harness__random/seed0/WordSim353.items.npz"
    (other / "WordSim353.json").write_text(json.dumps(document))
    code, err = run(tmp_path, capsys, "report", "--out", "rep")
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert code == 0 and len(warnings) == 1 and "other/r1/WordSim353.json" in warnings[0] and "items_file" in warnings[0]


def test_result_and_report_files_honour_the_umask(tmp_path: Path, capsys) -> None:
    """Class "minor, but users notice": a shared results folder stays readable by the group."""
    old = os.umask(0o027)
    try:
        folder = _random_store(tmp_path, capsys)
    finally:
        os.umask(old)
    files = [*folder.iterdir(), *(tmp_path / "rep").iterdir()]
    assert files and all(p.stat().st_mode & 0o777 == 0o640 for p in files), [(p.name, oct(p.stat().st_mode)) for p in files]


def test_mathtext_in_a_model_name_does_not_break_the_report(tmp_path: Path, capsys) -> None:
    """Class "minor, but users notice": plot labels are plain text, so `$...$` in a model name is
    drawn as written, and every later report on the store still renders."""
    folder = _random_store(tmp_path, capsys)
    document = json.loads((folder / "WordSim353.json").read_text())
    document["harness"]["model"]["name"] = "$\\frac{$ model"
    (folder / "WordSim353.json").write_text(json.dumps(document))
    for _ in range(2):
        code, err = run(tmp_path, capsys, "report", "--out", "rep")
        assert code == 0 and "warning" not in err, err
        assert "$\\frac{$ model</text>" in (tmp_path / "rep" / "index.html").read_text()


# ------------------------------------------------------------------ faults during a run (tests/test_bad_runs.py has more)


def test_a_bug_in_one_unit_lets_the_others_finish(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """Class "one bad unit stops the run": a bug fails its unit (traceback in a log), exit 1."""
    import harness.runner

    real, calls = harness.runner.defined_metrics, []

    def first_call_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise KeyError("a bug")
        return real(*args, **kwargs)

    monkeypatch.setattr(harness.runner, "defined_metrics", first_call_fails)
    code, err = run(tmp_path, capsys, "run", "--tasks", "WordSim353,SimLex999", "--models", "random", "--no-cache", "--no-report")
    line = one_error_line(err)
    assert code == 1 and "WordSim353" in line and "KeyError: 'a bug' (traceback in " in line
    assert list((tmp_path / "results").glob("*/*/SimLex999.json")) and list((tmp_path / "results" / ".harness-logs").glob("*.log"))


def test_a_folder_that_is_not_a_model(tmp_path: Path, capsys) -> None:
    """Class "tracebacks instead of one line": sentence-transformers on a folder without a model."""
    (tmp_path / "notamodel").mkdir()
    (tmp_path / "notamodel" / "config.json").write_text("{}")
    code, err = run(tmp_path, capsys, "run", "--tasks", "WordSim353", "--models", "sentence-transformers:notamodel", "--no-cache", "--no-report")
    assert code == 2 and "model 'notamodel': cannot load it as a model" in one_error_line(err)


def test_a_corrupt_cache_database(tmp_path: Path, capsys) -> None:
    """Class "tracebacks instead of one line": `cache info` on a damaged database moves it aside."""
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "embeddings.sqlite3").write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 64)
    code, err = run(tmp_path, capsys, "cache", "info", "--cache-dir", "cache")
    assert code == 0 and err.count("\n") == 1 and "the embedding cache was corrupt" in err and "moved it aside" in err


def test_a_cached_vector_of_the_wrong_length_is_recomputed(tmp_path: Path) -> None:
    """Class "silently wrong": a damaged cache entry is a miss, so the score is the clean one."""
    import sqlite3

    import numpy as np

    import harness
    from harness.models import load_model

    class Hashing:
        def encode(self, texts, **_):
            return np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], dtype=np.float32)

    def score(results: str) -> tuple[float, int]:
        model = load_model(Hashing(), revision="v1")  # an explicit revision: persisted in the cache
        result = harness.evaluate(model, ["WordSim353"], results_dir=tmp_path / results, cache_dir=tmp_path / "cache", verbose=False).results[0]
        return result.main_score, result.data.harness.encode["encoded"]

    clean, _ = score("r1")
    with sqlite3.connect(tmp_path / "cache" / "embeddings.sqlite3") as db:
        db.execute("UPDATE vectors SET data = substr(data, 1, 8) WHERE key IN (SELECT key FROM vectors LIMIT 4)")
    assert score("r2") == (clean, 4)


def test_an_api_key_with_a_non_ascii_character(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """Class "secrets": one line giving the position, never the key."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-\u00e9-secret-0123456789")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    code, err = run(tmp_path, capsys, "run", "--tasks", "WordSim353", "--models", "openai:text-embedding-3-small", "--no-cache", "--no-report")
    line = one_error_line(err)
    assert code == 2 and "OPENAI_API_KEY: character 4 is not printable ASCII" in line and "secret-0123" not in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("run", "--tasks", "WordSim353", "--models", ",", "--no-report"), "--models: no model given"),
        (("report", "--results", "resluts"), "--results resluts: no such folder"),
    ],
)
def test_minor_cli_slips(tmp_path: Path, capsys, args: tuple[str, ...], fragment: str) -> None:
    """Class "minor, but users notice": `--models ,` and a mistyped results folder are one line, exit 2."""
    code, err = run(tmp_path, capsys, *args)
    assert code == 2 and fragment in one_error_line(err)


def test_task_names_differing_only_in_case(tmp_path: Path, capsys) -> None:
    """Class "minor, but users notice": Foo and FOO would share a result file on macOS."""
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "a.yaml").write_text(STS)
    (tmp_path / "tasks" / "b.yaml").write_text(STS.replace("name: Bad", "name: BAD"))
    code, err = run(tmp_path, capsys, "list", "tasks", "--task-dir", "tasks")
    line = one_error_line(err)
    assert code == 2 and "a.yaml" in line and "b.yaml" in line and "differ only in case" in line


# ------------------------------------------------------------------ valid rows that were refused or cut (tests/test_bad_rows.py has more)


def test_jsonl_with_u2028_and_u0085_inside_strings_loads(tmp_path: Path, capsys) -> None:
    """Class "valid data refused": JSONL lines split on "\\n" only, not on str.splitlines()'s breaks."""
    rows = "".join(json.dumps({"sentence1": f"a\u2028{i}", "sentence2": f"b\x85{i}", "score": i % 5}, ensure_ascii=False) + "\n" for i in range(6))
    code, err = task_run(tmp_path, capsys, STS, {"test.jsonl": rows})
    assert code == 0, err


def test_qrels_first_row_scored_1_0_is_not_a_header(tmp_path: Path, capsys) -> None:
    """Class "silently wrong": a first qrels line whose score is `1.0` is data; dropping it scored 0."""
    files = {"corpus.jsonl": CORPUS, "queries.jsonl": json.dumps({"_id": "q1", "text": "doc 0"}) + "\n", "qrels/test.tsv": "q1\td0\t1.0\n"}
    code, err = task_run(tmp_path, capsys, RETRIEVAL, files, "bm25")
    assert code == 0 and "done" in err and "ndcg_at_10 = 1.00000" in err, err


def test_tiny_clustering_sample_warns(tmp_path: Path, capsys) -> None:
    """Class "minor, but users notice": one embedded text scores V-measure 1.0 with a warning line."""
    rows = "".join(json.dumps({"sentences": f"t {i}", "labels": i % 2}) + "\n" for i in range(30))
    spec = "name: Bad\ntype: clustering\nsuite: [bad]\nmain_score: v_measure\ndata: {local: bad}\n"
    code, err = task_run(tmp_path, capsys, spec, {"test.jsonl": rows})
    assert code == 0 and "warning: clustering: the 1 of 30 documents embedded" in err, err
