"""Bad rows and bad YAML: each is exit 2 and at most 3 lines naming file, line and field.

The row schema (the ``check_*`` primitives of ``harness/data/schema.py``, used by the row loaders,
the BEIR reader and mteb's hub retrieval layout) and the bounded YAML reader (``harness/yaml_safe.py``)
are exercised through ``harness.cli.main`` in-process; one case per kind also runs as a real
subprocess to show that no traceback is printed. Valid data that used to be refused or cut
(U+2028 in JSONL, a qrels score written ``1.0``, integral float labels) loads and scores.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import SpecError

REPO = Path(__file__).resolve().parent.parent


def spec(kind: str, main_score: str, data: str = "{local: bad}", extra: str = "") -> str:
    return f"name: Bad\ntype: {kind}\nsuite: [bad]\nmain_score: {main_score}\ndata: {data}\n{extra}"


STS = spec("sts", "cosine_spearman")
RETRIEVAL = spec("retrieval", "ndcg_at_10")
RERANKING = spec("reranking", "ndcg_at_10")
PAIRS = spec("pair_classification", "max_ap")
CLASSIFICATION = spec("classification", "accuracy")
CLUSTERING = spec("clustering", "v_measure")
SUMMARIZATION = spec("summarization", "cosine_spearman")


def jsonl(*rows: object) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


GOOD_STS = jsonl(*({"sentence1": f"a {i}", "sentence2": f"b {i}", "score": i % 5} for i in range(6)))
CORPUS = jsonl(*({"_id": f"d{i}", "title": "", "text": f"doc {i}"} for i in range(3)))
QUERIES = jsonl({"_id": "q1", "text": "doc"})
BEIR = {"corpus.jsonl": CORPUS, "queries.jsonl": QUERIES}
TRAIN = jsonl(*({"text": f"t {i}", "label": i % 2} for i in range(4)))


def write_task(tmp_path: Path, text: str, files: dict[str, str | bytes]) -> None:
    (tmp_path / "tasks").mkdir(exist_ok=True)
    (tmp_path / "tasks" / "bad.yaml").write_text(text)
    for name, content in files.items():
        target = tmp_path / "data" / "bad" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())


RUN = ("run", "--suite", "bad", "--task-dir", "tasks", "--data-dir", "data", "--no-report", "--no-cache")


def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    os.chdir(tmp_path)
    code = main(list(args))
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).splitlines()


def task_run(tmp_path: Path, capsys, text: str, files: dict[str, str | bytes], model: str = "random") -> tuple[int, list[str]]:
    write_task(tmp_path, text, files)
    return cli(tmp_path, capsys, *RUN, "--models", model)


def assert_one_line(code: int, lines: list[str], *fragments: str) -> None:
    """Exit 2, at most 3 lines, no traceback, and one line holding every fragment."""
    assert code == 2, lines
    assert len(lines) <= 3 and not any("Traceback" in line for line in lines), lines
    assert any(all(f in line for f in fragments) for line in lines), lines


BIG_400, BIG_5000 = "1" + "0" * 399, "1" + "0" * 4999
PAIR_ROW = {"sentence1": ["a", "b", "c"], "sentence2": ["d", "e", "f"], "labels": [0, 1, 1]}

DATA_CASES = {
    "400-digit score": (STS, {"test.jsonl": GOOD_STS + f'{{"sentence1": "x", "sentence2": "y", "score": {BIG_400}}}\n'},
                        ("test.jsonl: line 7: column 'score'", "an integer of 400 digits")),
    "5000-digit score": (STS, {"test.jsonl": GOOD_STS + f'{{"sentence1": "x", "sentence2": "y", "score": {BIG_5000}}}\n'},
                         ("test.jsonl: line 7: column 'score'", "must be finite")),
    "qrels inf": (RETRIEVAL, {**BEIR, "qrels/test.tsv": "q1\td0\tinf\n"}, ("qrels/test.tsv: line 1: column 'score'", "must be finite")),
    "qrels fractional grade": (RETRIEVAL, {**BEIR, "qrels/test.tsv": "q1\td0\t1\nq1\td1\t0.5\n"},
                               ("qrels/test.tsv: line 2: column 'score'", "whole number")),
    "qrels non-UTF-8": (RETRIEVAL, {**BEIR, "qrels/test.tsv": b"q1\td0\t1\nq1\td\xff1\t1\n"}, ("qrels/test.tsv: line 2: not UTF-8",)),
    "qrels 200,000-character field": (RETRIEVAL, {**BEIR, "qrels/test.tsv": "q1\td0\t1\nq1\t" + "x" * 200_000 + "\t1\n"},
                                      ("qrels/test.tsv: line 2:", "field larger than field limit")),
    "qrels 20,000-character id": (RETRIEVAL, {**BEIR, "qrels/test.tsv": "q1\td0\t1\nq1\t" + "x" * 20_000 + "\t1\n"},
                                  ("qrels/test.tsv: line 2: column 'corpus-id' holds 20,000 characters",)),
    "top_ranked row without query-id": (RERANKING, {**BEIR, "qrels/test.tsv": "q1\td0\t1\nq1\td1\t0\n",
                                                    "top_ranked/test.jsonl": jsonl({"corpus-ids": ["d0", "d1"]})},
                                        ("top_ranked/test.jsonl: line 1: column 'query-id' not found",)),
    "corpus id null": (RETRIEVAL, {**BEIR, "corpus.jsonl": CORPUS + jsonl({"_id": None, "text": "x"}), "qrels/test.tsv": "q1\td0\t1\n"},
                       ("corpus.jsonl: line 4: column '_id' must be a text or integer id",)),
    "pair lists without labels": (PAIRS, {"test.jsonl": jsonl({"sentence1": ["a", "b"], "sentence2": ["c", "d"]})},
                                  ("test.jsonl: line 1: column 'labels' not found",)),
    "pair lists of unequal length": (PAIRS, {"test.jsonl": jsonl(PAIR_ROW, {**PAIR_ROW, "sentence2": ["d", "e"]})},
                                     ("test.jsonl: line 2: columns 'sentence1', 'sentence2', 'labels' must be lists of the same length",)),
    "pair list label not 0/1": (PAIRS, {"test.jsonl": jsonl({**PAIR_ROW, "labels": [0, 1, 2]})},
                                ("test.jsonl: line 1: column 'labels' item 3 must be 0 or 1",)),
    "float class label": (CLASSIFICATION, {"train.jsonl": TRAIN + jsonl({"text": "t", "label": 2.5}), "test.jsonl": jsonl({"text": "t", "label": 1})},
                          ("train.jsonl: line 5: column 'label' is 2.5", "must be an integer")),
    "400-digit class label": (CLASSIFICATION, {"train.jsonl": TRAIN + f'{{"text": "t", "label": {BIG_400}}}\n', "test.jsonl": TRAIN},
                              ("train.jsonl: line 5: column 'label' is an integer of 400 digits",)),
    "summaries that are numbers": (SUMMARIZATION, {"test.jsonl": jsonl({"human_summaries": [1, 2], "machine_summaries": ["m"], "relevance": [1.0]})},
                                   ("test.jsonl: line 1: column 'human_summaries' item 1 must be text, got int",)),
    "relevance list shorter than summaries": (SUMMARIZATION, {"test.jsonl": jsonl({"human_summaries": ["h"], "machine_summaries": ["m", "n"], "relevance": [1.0]})},
                                              ("test.jsonl: line 1: columns 'machine_summaries' and 'relevance' must be lists of the same length",)),
    "clustering set of 3 documents": (CLUSTERING, {"test.jsonl": jsonl(*({"sentences": f"t {i}", "labels": i % 2} for i in range(3)))},
                                      ("the 0 of 3 documents embedded", "options.max_fraction_of_documents_to_embed")),
    "JSONL nested 100,000 deep": (STS, {"test.jsonl": GOOD_STS + '{"sentence1": ' + "[" * 100_000 + "]" * 100_000 + "}\n"},
                                  ("test.jsonl: line 7: invalid JSON (nested too deeply)",)),
}


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_rows(tmp_path: Path, capsys, case: str) -> None:
    text, files, fragments = DATA_CASES[case]
    assert_one_line(*task_run(tmp_path, capsys, text, files), *fragments)


def test_hub_top_ranked_row_without_query_id(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """mteb's hub retrieval layout goes through the same row checks as a local BEIR folder."""
    import harness.data.hub

    configs = {
        "corpus": [{"_id": "d0", "title": "", "text": "doc 0"}, {"_id": "d1", "title": "", "text": "doc 1"}],
        "queries": [{"_id": "q1", "text": "doc"}],
        "default": [{"query-id": "q1", "corpus-id": "d0", "score": 1}],
        "top_ranked": [{"corpus-ids": ["d0", "d1"]}],
    }
    monkeypatch.setattr(harness.data.hub, "load_hub_rows", lambda repo, revision, split, config: configs[config])
    code, lines = task_run(tmp_path, capsys, spec("reranking", "ndcg_at_10", "{hf: org/bad, revision: abc123}"), {})
    assert_one_line(code, lines, "org/bad/top_ranked/test: line 1: column 'query-id' not found")


SPEC_CASES = {
    "nested 50,000 deep": ("options: " + "[" * 50_000 + "]" * 50_000 + "\n", "line 6: nested more than 100 levels deep"),
    "alias bomb": (
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi")),
        "more than 100,000 values (aliases expanded)",
    ),
    "recursive alias": ("x: &x [1, *x]\n", "line 6: alias *x refers to a value that contains it"),
    "duplicate key": ("name: Other\n", "line 6: duplicate key 'name'"),
    "duplicate nested key": ("options:\n  seed: 1\n  seed: 2\n", "line 8: duplicate key 'seed'"),
    "5,000-digit integer": ("options: {seed: " + BIG_5000 + "}\n", "line 6: an integer of more than 4,300 digits"),
}


@pytest.mark.parametrize("case", sorted(SPEC_CASES))
def test_bad_yaml(tmp_path: Path, capsys, case: str) -> None:
    tail, fragment = SPEC_CASES[case]
    write_task(tmp_path, STS + tail, {})
    code, lines = cli(tmp_path, capsys, "list", "tasks", "--task-dir", "tasks")
    assert_one_line(code, lines, "bad.yaml: ", fragment)
    assert all(len(line) < 300 for line in lines)


def test_reference_tables_use_the_same_reader(tmp_path: Path) -> None:
    from harness.reproduce.reference import load_reference

    table = tmp_path / "ref.yaml"
    table.write_text("name: r\nsource: s\nrows: []\nname: again\n")
    with pytest.raises(SpecError, match=r"ref.yaml: line 4: duplicate key 'name'"):
        load_reference(table)


def test_anchors_and_merge_keys_still_load(tmp_path: Path, capsys) -> None:
    """A key given after a ``<<:`` merge overrides it: that is not a duplicate key."""
    write_task(tmp_path, STS + "prompts: {<<: &p {query: 'a: ', document: 'b: '}, query: 'q: '}\n", {})
    code, lines = cli(tmp_path, capsys, "list", "tasks", "--task-dir", "tasks")
    assert code == 0, lines
    from harness.specs import load_spec

    assert load_spec(tmp_path / "tasks" / "bad.yaml").prompts.query == "q: "


@pytest.mark.parametrize(
    ("files", "text", "fragment"),
    [
        ({"test.jsonl": GOOD_STS + f'{{"sentence1": "x", "sentence2": "y", "score": {BIG_5000}}}\n'}, STS, "line 7: column 'score'"),
        ({}, STS + 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
         + "".join(f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi")), "aliases expanded"),
    ],
    ids=["5000-digit score", "alias bomb"],
)
def test_no_traceback_in_a_real_process(tmp_path: Path, files: dict[str, str], text: str, fragment: str) -> None:
    write_task(tmp_path, text, files)
    done = subprocess.run(
        [sys.executable, str(REPO / "run_benchmark.py"), *RUN, "--models", "random"],
        check=False, cwd=tmp_path, capture_output=True, text=True, timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    lines = (done.stdout + done.stderr).splitlines()
    assert_one_line(done.returncode, lines, "bad.yaml" if not files else "test.jsonl", fragment)
    assert sum(len(line) for line in lines) < 1500


# ------------------------------------------------------------------ valid data that used to be refused or cut


def test_jsonl_with_line_separators_inside_strings_loads_and_scores(tmp_path: Path, capsys) -> None:
    rows = jsonl(*({"sentence1": f"a\u2028{i}", "sentence2": f"b\x85{i}", "score": i % 5} for i in range(6)))
    assert "\u2028" in rows and "\x85" in rows
    code, lines = task_run(tmp_path, capsys, STS, {"test.jsonl": rows})
    assert code == 0 and len(lines) <= 3, lines
    from harness.data import load_task_data
    from harness.specs import load_spec

    data = load_task_data(load_spec(tmp_path / "tasks" / "bad.yaml"), tmp_path / "data")
    assert data.sentence1[3] == "a\u20283" and data.sentence2[3] == "b\x853" and len(data.sentence1) == 6


def test_qrels_whose_first_score_is_written_1_0_keep_that_row(tmp_path: Path, capsys) -> None:
    """Header detection used to drop line 1 (``1.0`` is not all digits): q1 then had only a
    judged-irrelevant document and scored 0. BM25 ranks the exact match first: nDCG@10 = 1 each."""
    corpus = jsonl({"_id": "d0", "text": "alpha"}, {"_id": "d1", "text": "beta"}, {"_id": "d2", "text": "gamma"})
    queries = jsonl({"_id": "q1", "text": "alpha"}, {"_id": "q2", "text": "gamma"})
    files = {"corpus.jsonl": corpus, "queries.jsonl": queries, "qrels/test.tsv": "q1\td0\t1.0\nq1\td1\t0\nq2\td2\t1\n"}
    code, lines = task_run(tmp_path, capsys, RETRIEVAL, files, model="bm25")
    assert code == 0, lines
    result = json.loads(next((tmp_path / "results").rglob("Bad.json")).read_text())
    assert math.isclose(result["scores"]["test"][0]["ndcg_at_10"], 1.0)


def test_integral_float_labels_are_the_integer_classes(tmp_path: Path) -> None:
    """The documented rule: ``1.0`` is class ``1`` (so ints and integral floats mix)."""
    from harness.data.rows import RowSplits, classification

    columns = {"text": "text", "label": "label"}
    train = [{"text": f"t{i}", "label": [1, 2.0][i % 2]} for i in range(4)]
    data = classification(RowSplits([{"text": "x", "label": 2}], tmp_path / "test.jsonl", "test", columns, train=(train, tmp_path / "train.jsonl")))
    assert data.train_labels.tolist() == [1, 2, 1, 2] and data.train_labels.dtype.kind == "i"


def test_a_tiny_clustering_sample_scores_with_a_warning(tmp_path: Path, capsys) -> None:
    """30 documents embed int(0.04 * 30) = 1: V-measure 1.0 whatever the model (mteb's result,
    kept for parity) is now said, in one warning line."""
    rows = jsonl(*({"sentences": f"t {i}", "labels": i % 2} for i in range(30)))
    code, lines = task_run(tmp_path, capsys, CLUSTERING, {"test.jsonl": rows})
    assert code == 0 and len(lines) <= 3, lines
    assert any(line.startswith("warning:") and "the 1 of 30 documents embedded" in line and "single label" in line for line in lines)


def test_parquet_list_columns_load_like_the_hub_layout(tmp_path: Path, capsys) -> None:
    """A Parquet copy of mteb's pair-classification layout (one row of lists): pandas would give
    numpy arrays, which the list layout did not recognise; Arrow gives lists, as the hub does."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    write_task(tmp_path, PAIRS, {})
    (tmp_path / "data" / "bad").mkdir(parents=True)
    pq.write_table(pa.table({key: [value] for key, value in PAIR_ROW.items()}), tmp_path / "data" / "bad" / "test.parquet")
    code, lines = cli(tmp_path, capsys, *RUN, "--models", "random")
    assert code == 0 and len(lines) <= 3, lines


@pytest.mark.parametrize("name", ["test.jsonl", "test.csv"])
def test_a_byte_order_mark_is_not_part_of_the_first_row(tmp_path: Path, capsys, name: str) -> None:
    rows = GOOD_STS if name.endswith(".jsonl") else "sentence1,sentence2,score\n" + "".join(f"a {i},b {i},{i % 5}\n" for i in range(6))
    code, lines = task_run(tmp_path, capsys, STS, {name: "\ufeff".encode() + rows.encode()})
    assert code == 0 and len(lines) <= 3, lines
