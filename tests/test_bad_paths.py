"""Paths from a spec stay under their root; the user's own symlinks are followed (``harness.paths``).

Refused, with exit 2 and one line naming the spec file and field: a split name, ``data.local``,
a builder's file option or an ``include:`` that leaves its root, or is absolute (``data.local``
and split names: unless ``--allow-absolute-paths``). Accepted: a data root assembled from
symlinks and a Hugging Face snapshot folder whose files link into ``blobs/``, with the score of
the real folder. A symlink loop, a dangling link, a FIFO, a device or a folder where a data file
belongs is one line, and nothing blocks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main

REPO = Path(__file__).resolve().parent.parent
STS = "name: Bad\ntype: sts\nsuite: [bad]\nmain_score: cosine_spearman\n"
RETRIEVAL = "name: Bad\ntype: retrieval\nsuite: [bad]\nmain_score: ndcg_at_10\ndata: {local: bad}\n"
PAIRS = "".join(json.dumps({"sentence1": f"a {i}", "sentence2": f"b {i}", "score": i % 5}) + "\n" for i in range(6))


def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    os.chdir(tmp_path)
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def run_spec(tmp_path: Path, capsys, data: str, *extra: str) -> tuple[int, str]:
    """Run the task ``STS + data`` (``data:`` line given) on the data root ``tmp_path/data``."""
    (tmp_path / "tasks").mkdir(exist_ok=True)
    (tmp_path / "tasks" / "bad.yaml").write_text(STS + data)
    (tmp_path / "data").mkdir(exist_ok=True)
    return cli(tmp_path, capsys, "run", "--suite", "bad", "--task-dir", "tasks", "--data-dir", "data",
               "--models", "random", "--no-report", "--no-cache", *extra)


def error_line(output: str) -> str:
    """The one line that reports the problem (and at most 3 lines in all)."""
    assert len(output.splitlines()) <= 3, output
    lines = [line for line in output.splitlines() if line.startswith(("error:", "failed"))]
    assert len(lines) == 1, output
    return lines[0]


def outside_file(tmp_path: Path) -> Path:
    (tmp_path / "outside").mkdir(exist_ok=True)
    secret = tmp_path / "outside" / "secret.jsonl"
    secret.write_text(PAIRS)
    return secret


# ---------------------------------------------------------------- a spec reads outside its root


@pytest.mark.parametrize("field", ["eval_split", "train_split"])
def test_split_name_leaving_the_data_root_is_refused(tmp_path: Path, capsys, field: str) -> None:
    outside_file(tmp_path)
    (tmp_path / "data" / "bad").mkdir(parents=True)
    (tmp_path / "data" / "bad" / "test.jsonl").write_text(PAIRS)
    spec = STS.replace("type: sts", "type: classification").replace("cosine_spearman", "accuracy") if field == "train_split" else STS
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "bad.yaml").write_text(f"{spec}data: {{local: bad, {field}: ../../outside/secret}}\n")
    code, output = cli(tmp_path, capsys, "run", "--suite", "bad", "--task-dir", "tasks", "--data-dir", "data",
                       "--models", "random", "--no-report", "--no-cache")
    line = error_line(output)
    assert code == 2 and "bad.yaml" in line and f"data.{field}" in line and "escapes the data root" in line
    assert not list((tmp_path / "results").rglob("*.json"))  # no score stored under that split


def test_split_name_inside_the_root_after_normalisation_is_taken(tmp_path: Path, capsys) -> None:
    (tmp_path / "data" / "bad").mkdir(parents=True)
    (tmp_path / "data" / "other.jsonl").write_text(PAIRS)
    code, output = run_spec(tmp_path, capsys, "data: {local: bad, eval_split: ../other}\n")
    assert code == 0, output


@pytest.mark.parametrize("split", ["te\\0st", ""])
def test_unusable_split_name_is_one_line(tmp_path: Path, capsys, split: str) -> None:
    (tmp_path / "data" / "bad").mkdir(parents=True)
    code, output = run_spec(tmp_path, capsys, f'data: {{local: bad, eval_split: "{split}"}}\n')
    assert code == 2 and "bad.yaml: data.eval_split" in error_line(output)


def test_absolute_data_local_needs_the_flag(tmp_path: Path, capsys) -> None:
    secret = outside_file(tmp_path)
    code, output = run_spec(tmp_path, capsys, f"data: {{local: {secret}}}\n")
    line = error_line(output)
    assert code == 2 and "bad.yaml: data.local" in line and "is absolute" in line and "--allow-absolute-paths" in line
    code, output = run_spec(tmp_path, capsys, f"data: {{local: {secret}}}\n", "--allow-absolute-paths")
    assert code == 0, output


def test_reproduce_takes_the_flag() -> None:
    from harness.cli import build_parser

    args = build_parser().parse_args(["reproduce", "--allow-absolute-paths"])
    assert args.allow_absolute_paths is True


def test_evaluate_takes_the_keyword(tmp_path: Path) -> None:
    import harness
    from harness.specs import spec_from_dict

    secret = outside_file(tmp_path)
    spec = spec_from_dict({"name": "Abs", "type": "sts", "main_score": "cosine_spearman", "data": {"local": str(secret)}})
    refused = harness.evaluate("random", [spec], data_dir=tmp_path / "data", results_dir=tmp_path / "r1", use_cache=False, verbose=False)
    assert refused.summary.count("failed") == 1 and "is absolute" in refused.summary.outcomes[0].message
    allowed = harness.evaluate("random", [spec], data_dir=tmp_path / "data", results_dir=tmp_path / "r2", use_cache=False, verbose=False,
                               allow_absolute_paths=True)
    assert len(allowed.results) == 1


@pytest.mark.parametrize("include", ["../../x/_base.yaml", "../../_base.yaml", "/etc/hosts", "./../../tasks/../_base.yaml"])
def test_include_leaving_the_task_dir_is_refused(tmp_path: Path, capsys, include: str) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "_base.yaml").write_text(STS)
    (tmp_path / "_base.yaml").write_text(STS)
    (tmp_path / "tasks" / "sub").mkdir(parents=True)
    (tmp_path / "tasks" / "sub" / "bad.yaml").write_text(f"include: {include}\ndata: {{local: bad}}\n")
    code, output = cli(tmp_path, capsys, "list", "tasks", "--task-dir", "tasks")
    line = error_line(output)
    assert code == 2 and "bad.yaml: include:" in line and "escapes the task directory" in line


def test_include_in_a_parent_folder_of_the_task_dir_is_taken(tmp_path: Path, capsys) -> None:
    (tmp_path / "tasks" / "sub").mkdir(parents=True)
    (tmp_path / "tasks" / "_base.yaml").write_text(STS)
    (tmp_path / "tasks" / "sub" / "good.yaml").write_text("include: ../_base.yaml\nname: Good\ndata: {local: good}\n")
    code, output = cli(tmp_path, capsys, "list", "tasks", "--task-dir", "tasks")
    assert code == 0 and "Good" in output


@pytest.mark.parametrize(
    ("builder", "option"),
    [("gensim_word_pairs", "file: ../wordsim353.tsv"), ("gensim_word_pairs", "file: /etc/hosts"),
     ("phrasebank_classification", "file: ../secret.jsonl, test_size: 0.5, seed: 0")],
)
def test_builder_file_leaving_its_root_is_refused(tmp_path: Path, capsys, builder: str, option: str) -> None:
    outside_file(tmp_path)
    spec = STS if builder.startswith("gensim") else STS.replace("type: sts", "type: classification").replace("cosine_spearman", "accuracy")
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "bad.yaml").write_text(f"{spec}data: {{builder: {builder}, builder_options: {{{option}}}}}\n")
    (tmp_path / "data").mkdir()
    code, output = cli(tmp_path, capsys, "run", "--suite", "bad", "--task-dir", "tasks", "--data-dir", "data",
                       "--models", "random", "--no-report", "--no-cache")
    line = error_line(output)
    assert code == 2 and "bad.yaml: data.builder_options.file" in line


# ---------------------------------------------------------------- the user's own symlinks


def sts_score(tmp_path: Path, capsys, data_dir: Path, results: str) -> float:
    code, output = cli(tmp_path, capsys, "run", "--tasks", "STSBenchmark", "--data-dir", str(data_dir), "--models", "bm25",
                       "--results", results, "--no-report", "--no-cache")
    assert code == 0, output
    [path] = (tmp_path / results).rglob("STSBenchmark.json")
    return json.loads(path.read_text())["scores"]["test"][0]["main_score"]


def test_symlinked_data_root_and_hf_snapshot_score_as_the_real_folder(tmp_path: Path, capsys, shared_datasets: Path) -> None:
    real = sts_score(tmp_path, capsys, shared_datasets, "real")
    # A data root assembled from links: data/stsbenchmark -> the real folder elsewhere.
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "stsbenchmark").symlink_to((shared_datasets / "stsbenchmark").resolve())
    # The data root itself a link.
    (tmp_path / "root-link").symlink_to(tmp_path / "linked")
    # A Hugging Face snapshot: snapshots/<rev>/test.jsonl -> ../../blobs/<sha>.
    repo = tmp_path / "hub" / "datasets--mteb--stsbenchmark-sts"
    (repo / "blobs").mkdir(parents=True)
    shutil.copyfile(shared_datasets / "stsbenchmark" / "test.jsonl", repo / "blobs" / "5a0c1e")
    (repo / "snapshots" / "b0fddb5").mkdir(parents=True)
    (repo / "snapshots" / "b0fddb5" / "test.jsonl").symlink_to(Path("..") / ".." / "blobs" / "5a0c1e")
    (tmp_path / "snap").mkdir()
    (tmp_path / "snap" / "stsbenchmark").symlink_to(repo / "snapshots" / "b0fddb5")
    assert sts_score(tmp_path, capsys, tmp_path / "linked", "linked") == real
    assert sts_score(tmp_path, capsys, tmp_path / "root-link", "root-link") == real
    assert sts_score(tmp_path, capsys, tmp_path / "snap", "snap") == real


# ---------------------------------------------------------------- links and files that are not data


def make_bad_target(tmp_path: Path, kind: str) -> Path:
    """``data/bad/test.jsonl`` made into ``kind``; returns it."""
    folder = tmp_path / "data" / "bad"
    folder.mkdir(parents=True)
    target = folder / "test.jsonl"
    if kind == "loop":
        target.symlink_to(target)
    elif kind == "loop pair":
        (folder / "other.jsonl").symlink_to(target)
        target.symlink_to(folder / "other.jsonl")
    elif kind == "dangling":
        target.symlink_to(tmp_path / "gone.jsonl")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "dev zero":
        target.symlink_to("/dev/zero")
    elif kind == "folder":
        target.mkdir()
    return target


@pytest.mark.parametrize(
    ("kind", "fragment"),
    [("loop", "symlink loop"), ("loop pair", "symlink loop"), ("dangling", "dangling symlink"),
     ("fifo", "not a regular file (a FIFO)"), ("dev zero", "not a regular file"), ("folder", "not a regular file (a folder)")],
)
def test_data_file_that_is_not_a_regular_file_is_one_line(tmp_path: Path, kind: str, fragment: str) -> None:
    """Through a real process with a timeout: a FIFO or /dev/zero must neither block nor fill memory."""
    make_bad_target(tmp_path, kind)
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "bad.yaml").write_text(STS + "data: {local: bad}\n")
    done = subprocess.run(
        [sys.executable, str(REPO / "run_benchmark.py"), "run", "--suite", "bad", "--task-dir", "tasks", "--data-dir", "data",
         "--models", "random", "--no-report", "--no-cache"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )
    line = error_line(done.stdout + done.stderr)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "test.jsonl" in line and fragment in line


def test_data_local_symlink_loop_is_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "bad").symlink_to(tmp_path / "data" / "bad")
    code, output = run_spec(tmp_path, capsys, "data: {local: bad}\n")
    assert code == 2 and "data.local: symlink loop" in error_line(output)


@pytest.mark.parametrize("where", ["qrels/test.tsv", "corpus.jsonl"])
def test_beir_file_that_is_a_fifo_is_one_line(tmp_path: Path, capsys, where: str) -> None:
    folder = tmp_path / "data" / "bad"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(json.dumps({"_id": "d1", "text": "doc"}) + "\n")
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "doc"}) + "\n")
    (folder / "qrels" / "test.tsv").write_text("q1\td1\t1\n")
    (folder / where).unlink()
    os.mkfifo(folder / where)
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "bad.yaml").write_text(RETRIEVAL)
    code, output = cli(tmp_path, capsys, "run", "--suite", "bad", "--task-dir", "tasks", "--data-dir", "data",
                       "--models", "random", "--no-report", "--no-cache")
    assert code == 2 and "not a regular file (a FIFO)" in error_line(output)


def test_builder_file_that_is_a_fifo_is_one_line(tmp_path: Path, capsys) -> None:
    spec = STS.replace("type: sts", "type: classification").replace("cosine_spearman", "accuracy")
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "bad.yaml").write_text(spec + "data: {builder: phrasebank_classification, builder_options: {file: pb.jsonl, test_size: 0.5, seed: 0}}\n")
    (tmp_path / "data").mkdir()
    os.mkfifo(tmp_path / "data" / "pb.jsonl")
    code, output = cli(tmp_path, capsys, "run", "--suite", "bad", "--task-dir", "tasks", "--data-dir", "data",
                       "--models", "random", "--no-report", "--no-cache")
    assert code == 2 and "data.builder_options.file: not a regular file (a FIFO)" in error_line(output)


def test_spec_file_that_is_a_fifo_or_a_loop_is_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "tasks").mkdir()
    os.mkfifo(tmp_path / "tasks" / "fifo.yaml")
    code, output = cli(tmp_path, capsys, "list", "tasks", "--task-dir", "tasks")
    assert code == 2 and "fifo.yaml: not a regular file (a FIFO)" in error_line(output)
    (tmp_path / "tasks" / "fifo.yaml").unlink()
    (tmp_path / "tasks" / "bad.yaml").write_text("include: _loop.yaml\n")
    (tmp_path / "tasks" / "_loop.yaml").symlink_to(tmp_path / "tasks" / "_loop.yaml")
    code, output = cli(tmp_path, capsys, "list", "tasks", "--task-dir", "tasks")
    assert code == 2 and "_loop.yaml: symlink loop" in error_line(output)
