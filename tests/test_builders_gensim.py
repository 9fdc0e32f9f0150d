"""Tests of the gensim test-data builders and their default task specs.

Expected counts and values were read off the raw files in ``gensim/test/test_data`` by hand
(``wc -l``, ``head``, ``tail``, ``awk``), not computed with the code under test.
"""

from __future__ import annotations

import os
import pickle
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from harness.data.builders import get_builder
from harness.data.builders._safe_pickle import restricted_loads
from harness.data.builders.gensim_data import (
    _load_posts,
    gensim_test_data_dir,
    split_lead,
    split_post,
    unambiguous_subjects,
)
from harness.data.types import ClassificationData, ClusteringData, RetrievalData, STSData
from harness.errors import DataError

DATA = gensim_test_data_dir()
pytestmark = pytest.mark.skipif(DATA is None, reason="gensim (with its test_data) is not installed")

SPEC_DIR = Path(__file__).resolve().parent.parent / "tasks" / "default"
SPECS = {p.stem: yaml.safe_load(p.read_text()) for p in sorted(SPEC_DIR.glob("*.yaml"))}
TYPES = {
    "sts": STSData,
    "classification": ClassificationData,
    "clustering": ClusteringData,
    "retrieval": RetrievalData,
}


def build(task: str, data_root: Path | None = None) -> Any:
    """Build the data of the default spec ``task`` exactly as its YAML says."""
    data = SPECS[task]["data"]
    return get_builder(data["builder"])(dict(data["builder_options"]), data_root)


def same(a: Any, b: Any) -> bool:
    """Deep equality of two TaskData objects (numpy arrays compared element-wise, dtype included)."""
    if type(a) is not type(b):
        return False
    for key, value in vars(a).items():
        other = vars(b)[key]
        if isinstance(value, np.ndarray):
            if value.dtype != other.dtype or not np.array_equal(value, other):
                return False
        elif value != other:
            return False
    return True


# ---------------------------------------------------------------- specs


def test_default_suite_has_the_expected_tasks() -> None:
    assert set(SPECS) == {
        "LeeDocSimilarity",
        "WordSim353",
        "SimLex999",
        "PangLeePolarity",
        "MiniNewsgroupsClassification",
        "MiniNewsgroupsClustering",
        "MiniNewsgroupsSubjectRetrieval",
        "LeeBackgroundLeadRetrieval",
    }
    for stem, raw in SPECS.items():
        assert raw["name"] == stem
        assert raw["suite"] == ["default"] and raw["languages"] == ["eng"]
        assert raw["main_score"] == {
            "sts": "cosine_spearman",
            "classification": "accuracy",
            "clustering": "v_measure",
            "retrieval": "ndcg_at_10",
        }[raw["type"]]
        for field in ("description", "domain", "reference", "license"):
            assert raw[field], f"{stem}: {field}"


@pytest.mark.parametrize("task", sorted(SPECS))
def test_spec_builds_its_type_deterministically(task: str) -> None:
    first, second = build(task), build(task)
    assert isinstance(first, TYPES[SPECS[task]["type"]])
    assert same(first, second)


@pytest.mark.parametrize("task", sorted(SPECS))
def test_spec_validates_against_the_schema(task: str) -> None:
    """Full validation needs the evaluators (main_score, options); skipped until they import."""
    try:
        from harness.evaluators import get_evaluator  # noqa: F401
        from harness.specs import load_spec
    except ImportError as err:
        pytest.skip(f"harness.evaluators not importable yet: {err}")
    spec = load_spec(SPEC_DIR / f"{task}.yaml")
    assert spec.name == task and spec.data.builder


# ---------------------------------------------------------------- STS


def test_lee_pairs_counts_and_gold() -> None:
    data = build("LeeDocSimilarity")
    assert len(data.sentence1) == len(data.sentence2) == data.scores.shape[0] == 50 * 49 // 2
    assert data.scores.dtype == np.float64
    # similarities0-1.txt row 1: "1 0.3 0.24 ... 0.5"; row 49 ends "1 0.36".
    assert data.scores[:2].tolist() == [0.3, 0.24]
    assert data.scores[48] == 0.5  # pair (0, 49)
    assert data.scores[-1] == 0.36  # pair (48, 49)
    assert data.sentence1[0].startswith("The national executive of the strife-torn Democrats")
    assert data.sentence2[-1].endswith('concerned," Senator Brown said today.')
    assert len(set(data.sentence1) | set(data.sentence2)) == 50
    assert "\xa3" in "".join(data.sentence1)  # the one non-ASCII byte (0xA3, a pound sign)
    assert data.scores.min() == 0.2 and data.scores.max() == 1.0


def test_word_pairs_counts() -> None:
    wordsim, simlex = build("WordSim353"), build("SimLex999")
    assert len(wordsim.sentence1) == wordsim.scores.shape[0] == 353
    assert (wordsim.sentence1[0], wordsim.sentence2[0], wordsim.scores[0]) == ("love", "sex", 6.77)
    assert (wordsim.sentence1[-1], wordsim.sentence2[-1], wordsim.scores[-1]) == ("architecture", "century", 3.78)
    assert Counter(zip(wordsim.sentence1, wordsim.sentence2))[("money", "cash")] == 2  # as published
    assert len(simlex.sentence1) == simlex.scores.shape[0] == 999
    assert (simlex.sentence1[0], simlex.sentence2[0], simlex.scores[0]) == ("old", "new", 1.58)
    assert (simlex.sentence1[-1], simlex.sentence2[-1], simlex.scores[-1]) == ("attend", "arrive", 6.08)


def test_word_pairs_bad_line_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "pairs.tsv").write_text("# header\na\tb\t1.0\nc\td\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"pairs\.tsv: data line 2: expected 3"):
        get_builder("gensim_word_pairs")({"file": "pairs.tsv"}, tmp_path)


def test_data_root_is_searched_before_gensim(tmp_path: Path) -> None:
    (tmp_path / "wordsim353.tsv").write_text("# c\ncat\tdog\t7.5\nsun\tice\t0.5\n", encoding="utf-8")
    data = get_builder("gensim_word_pairs")({"file": "wordsim353.tsv"}, tmp_path)
    assert data.sentence1 == ["cat", "sun"] and data.scores.tolist() == [7.5, 0.5]


def test_bad_options_raise_data_error() -> None:
    builder = get_builder("gensim_word_pairs")
    with pytest.raises(DataError, match=r"data\.builder_options\.bogus: unknown option"):
        builder({"file": "wordsim353.tsv", "bogus": 1}, None)
    with pytest.raises(DataError, match=r"data\.builder_options\.file: required"):
        builder({}, None)
    with pytest.raises(DataError, match=r"data\.builder_options\.file: .*not found"):
        builder({"file": "no_such_file.tsv"}, None)
    with pytest.raises(DataError, match=r"data\.builder_options\.file: expected a relative"):
        builder({"file": "../wordsim353.tsv"}, None)
    sentences = get_builder("gensim_labelled_sentences")
    good = {"file": "pang_lee_polarity.cor", "encoding": "cp1252", "test_size": 0.5, "seed": 1}
    with pytest.raises(DataError, match=r"data\.builder_options\.seed: expected int"):
        sentences({**good, "seed": "42"}, None)
    with pytest.raises(DataError, match=r"data\.builder_options\.test_size: must be in"):
        sentences({**good, "test_size": 1.5}, None)
    with pytest.raises(DataError, match=r"pang_lee_polarity\.cor: cannot read as utf-8"):
        sentences({**good, "encoding": "utf-8"}, None)


# ---------------------------------------------------------------- classification


@pytest.mark.parametrize(
    ("task", "classes"),
    [("PangLeePolarity", {"neg", "pos"}), ("MiniNewsgroupsClassification", {"alt.atheism", "sci.space"})],
)
def test_classification_split_is_stratified_and_disjoint(task: str, classes: set[str]) -> None:
    data = build(task)
    # 200 items, 100 per class (pang_lee_polarity.cor: 100 "__label__neg" then 100 "__label__pos"
    # lines; mini_newsgroup: target has 100 zeros and 100 ones), test_size 0.5.
    assert len(data.train_texts) == data.train_labels.shape[0] == 100
    assert len(data.test_texts) == data.test_labels.shape[0] == 100
    assert Counter(data.train_labels.tolist()) == {c: 50 for c in classes}
    assert Counter(data.test_labels.tolist()) == {c: 50 for c in classes}
    assert not set(data.train_texts) & set(data.test_texts)
    assert len(set(data.train_texts) | set(data.test_texts)) == 200  # every item used once


def test_split_depends_on_seed_only() -> None:
    options = dict(SPECS["PangLeePolarity"]["data"]["builder_options"])
    builder = get_builder("gensim_labelled_sentences")
    assert same(builder(options, None), builder(dict(options), None))
    other = builder({**options, "seed": options["seed"] + 1}, None)
    assert other.test_texts != builder(options, None).test_texts


def test_pang_lee_text_has_no_label_token_and_decodes_cp1252() -> None:
    data = build("PangLeePolarity")
    texts = data.train_texts + data.test_texts
    assert not any("__label__" in t for t in texts)
    assert any("\u2014" in t for t in texts)  # byte 0x97 is a cp1252 em dash


# ---------------------------------------------------------------- newsgroups


def posts() -> tuple:
    path = DATA / "mini_newsgroup"
    return _load_posts(path, path.stat().st_mtime_ns)


def test_newsgroups_pickle_structure() -> None:
    loaded = posts()
    assert len(loaded) == 200
    assert Counter(p.group for p in loaded) == {"alt.atheism": 100, "sci.space": 100}
    first = loaded[0]
    assert (first.doc_id, first.subject) == ("alt.atheism/51251", "Re: Biblical Rape")
    assert first.body.startswith("In article <1993Apr05.174537.14962@watson.ibm.com>")


def test_header_block_is_stripped_from_every_post() -> None:
    for post in posts():
        first_line = post.body.split("\n", 1)[0]
        for header in ("Newsgroups:", "Path:", "From:", "Subject:", "Message-ID:", "Xref:", "Lines:"):
            assert not first_line.startswith(header), (post.doc_id, first_line)
        assert post.subject and "\n" not in post.subject


def test_split_post_handles_folded_subject_and_missing_body() -> None:
    raw = "From: a@b.c\nSubject: Re: Orbits\n  and moons\nLines: 2\n\nBody line 1\n\nBody line 2\n"
    assert split_post(raw) == ("Re: Orbits and moons", "Body line 1\n\nBody line 2")
    assert split_post("Subject: only headers\nLines: 0") == ("only headers", "")
    assert split_post("no headers at all") == ("", "no headers at all")


def test_newsgroups_clustering() -> None:
    data = build("MiniNewsgroupsClustering")
    assert len(data.texts) == data.labels.shape[0] == 200
    assert Counter(data.labels.tolist()) == {"alt.atheism": 100, "sci.space": 100}
    assert not any(t.startswith(("Newsgroups:", "Path:", "Xref:")) for t in data.texts)


def check_retrieval(data: RetrievalData) -> None:
    """Every query has >= 1 relevant doc, all in the corpus; qrels cover exactly the queries."""
    assert set(data.qrels) == set(data.queries)
    for qid, rels in data.qrels.items():
        assert rels and all(grade > 0 for grade in rels.values()), qid
        assert set(rels) <= set(data.corpus), qid
    assert all(text.strip() for text in data.corpus.values())
    assert all(text.strip() for text in data.queries.values())


def test_subject_retrieval() -> None:
    data = build("MiniNewsgroupsSubjectRetrieval")
    check_retrieval(data)
    assert len(data.corpus) == 200 and len(data.queries) == 76
    assert all(len(rels) == 1 for rels in data.qrels.values())
    assert not any(q.lower().startswith(("re:", "fwd:")) for q in data.queries.values())
    assert len({q.casefold() for q in data.queries.values()}) == 76
    # The relevant doc is the post itself and its body does not carry the subject header.
    assert data.queries["q:alt.atheism/51251"] == "Biblical Rape"
    assert data.qrels["q:alt.atheism/51251"] == {"alt.atheism/51251": 1}
    assert "Subject:" not in data.corpus["alt.atheism/51251"]
    # 12 posts titled "Re: After 2000 years, can we say that Christian Morality is" -> none a query.
    dropped = [p for p in posts() if p.subject == "Re: After 2000 years, can we say that Christian Morality is"]
    assert len(dropped) == 12 and not any(f"q:{p.doc_id}" in data.queries for p in dropped)


def test_unambiguous_subjects_rules() -> None:
    subjects = [
        "Re: Moon base",  # 0: same thread as 1
        "moon BASE!",  # 1
        "Why not give $1 billion to first year-long moon residents?",  # 2: cited truncated by 3
        "Death and Taxes (was Why not give $1 billion to...",  # 3
        "Space debris",  # 4: unique
        "Re: Re: Shuttle tiles",  # 5: unique
        "",  # 6: empty
        "Re:",  # 7: empty once the marker is gone
    ]
    assert unambiguous_subjects(subjects).tolist() == [False, False, False, False, True, True, False, False]


def test_lead_retrieval() -> None:
    data = build("LeeBackgroundLeadRetrieval")
    check_retrieval(data)
    # lee_background.cor: 300 lines, 7 of them exact repeats of earlier lines (sort | uniq -d).
    assert len(data.queries) == len(data.corpus) == 293
    assert not {"q112", "q119", "q120", "q156", "q236", "q271", "q288"} & set(data.queries)
    assert data.queries["q000"].endswith("towards the town of Hill Top.")
    assert data.corpus["d000"].startswith("A new blaze near Goulburn")
    for qid, query in data.queries.items():  # the lead is not left in its own document
        assert query not in data.corpus["d" + qid[1:]]


def test_split_lead_keeps_titles_and_initials() -> None:
    text = 'Mr. Smith met U.S. officials in St. Louis today. "It went well," he said.'
    assert split_lead(text) == ("Mr. Smith met U.S. officials in St. Louis today.", '"It went well," he said.')
    assert split_lead("One sentence only.") == ("One sentence only.", "")


# ---------------------------------------------------------------- restricted unpickler


class _RunsCommand:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple:
        return (os.system, (self.command,))


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_unpickler_refuses_os_system(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"data": [_RunsCommand(f"touch {marker}")]}, protocol=protocol)
    assert b"system" in payload
    with pytest.raises(pickle.UnpicklingError, match=r"system is not allowed"):
        restricted_loads(payload)
    assert not marker.exists()


def test_unpickler_refuses_hand_written_global_and_eval() -> None:
    with pytest.raises(pickle.UnpicklingError, match=r"os\.system is not allowed"):
        restricted_loads(b"cos\nsystem\n(S'echo hi'\ntR.")
    with pytest.raises(pickle.UnpicklingError, match=r"builtins\.eval is not allowed"):
        restricted_loads(pickle.dumps((eval, ("1",)), protocol=4))
    with pytest.raises(pickle.UnpicklingError, match=r"not allowed"):  # object arrays carry pickles
        restricted_loads(pickle.dumps(np.array([1, "a"], dtype=object), protocol=4))


def test_unpickler_round_trips_plain_data() -> None:
    obj = {"a": [1, 2.5, "x", (True, None)], "arr": np.arange(6, dtype=np.int32).reshape(2, 3)}
    out = restricted_loads(pickle.dumps(obj, protocol=4))
    assert out["a"] == obj["a"]
    assert out["arr"].dtype == np.int32 and np.array_equal(out["arr"], obj["arr"])


def test_corrupt_newsgroup_file_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "evil_newsgroup").write_bytes(zlib.compress(pickle.dumps(_RunsCommand("true"), protocol=0)))
    with pytest.raises(DataError, match=r"evil_newsgroup: cannot read.*not allowed"):
        get_builder("gensim_newsgroups_clustering")({"file": "evil_newsgroup"}, tmp_path)
