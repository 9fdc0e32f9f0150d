"""Builders that derive default tasks from the corpora shipped in gensim's wheel.

The ``gensim`` wheel carries ``gensim/test/test_data/`` with a handful of classic evaluation sets
(Lee & Pincombe documents with human similarity ratings, WordSim-353, SimLex-999, Pang & Lee
polarity sentences, a 200-post 20 Newsgroups sample, 300 ABC news articles). Those files are
found **without importing gensim** (slow): ``importlib.util.find_spec`` only locates the package.

Every builder takes ``(options, data_root)``: file names in ``options`` are looked up in
``data_root`` first (so the data can be supplied without gensim installed) and then in gensim's
``test_data`` folder. Builders are deterministic (seeded splits only) and run well under a second.

Registered builders (see ``tasks/default/*.yaml`` for the specs that use them):

* ``gensim_lee_pairs`` -> STSData: all pairs of the 50 Lee documents, gold = mean human rating.
* ``gensim_word_pairs`` -> STSData: a tab-separated ``word1 word2 score`` file (WordSim / SimLex).
* ``gensim_labelled_sentences`` -> ClassificationData: fastText-format ``__label__x text`` lines.
* ``gensim_newsgroups_clustering`` -> ClusteringData: newsgroup post bodies, label = newsgroup.
* ``gensim_newsgroups_classification`` -> ClassificationData: the same posts, stratified split.
* ``gensim_newsgroups_subject_retrieval`` -> RetrievalData: subject line -> the post's body.
* ``gensim_lead_retrieval`` -> RetrievalData: a news article's first sentence -> its remainder.
"""

from __future__ import annotations

import email.parser
import email.policy
import importlib.util
import pickle
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from harness.data.builders import register_builder
from harness.data.builders._safe_pickle import restricted_loads
from harness.data.builders.base import OPTIONS_FIELD, BuilderOptions, FileOptions, SplitFileOptions, SplitOptions
from harness.data.builders.base import read_lines, relative_file, stratified_split
from harness.data.types import ClassificationData, ClusteringData, RetrievalData, STSData
from harness.errors import DataError
from harness.paths import found, regular_file

# Leading reply / forward markers of a subject line: "Re:", "RE: Re:", "Re^2:", "Fwd:".
_REPLY_MARKER = re.compile(r"^\s*(?:(?:re|fwd?)(?:\^\d+)?\s*:\s*)+", re.IGNORECASE)
# Where a renamed thread cites its old subject: "New (was Re: Old)", "New, was Old", "New was Re: Old".
_RENAMED_FROM = re.compile(r"\(\s*was\b:?|,\s*was\b:?|\bwas\s+(?=re\s*:)", re.IGNORECASE)


# ---------------------------------------------------------------- shared helpers


def gensim_test_data_dir() -> Path | None:
    """The installed wheel's ``gensim/test/test_data`` folder, or None; found without importing gensim."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "test" / "test_data"
    return folder if folder.is_dir() else None


def gensim_file(name: str, key: str, data_root: Path | None) -> Path:
    """Resolve option ``key``'s file ``name``: ``data_root/name`` first, then gensim's test data
    (``name`` stays inside each folder, lexically; a link is followed, but only to a regular file)."""
    relative = relative_file(name, key)
    folders = [data_root] if data_root is not None else []
    gensim_dir = gensim_test_data_dir()
    if gensim_dir is not None:
        folders.append(gensim_dir)
    field = f"{OPTIONS_FIELD}.{key}"
    for folder in folders:
        path = folder / relative
        if found(path, field):
            return regular_file(path, field)
    looked = ", ".join(str(f) for f in folders) or "nowhere: no --data-dir and gensim is not installed"
    raise DataError(f"{OPTIONS_FIELD}.{key}: file {name!r} not found (looked in {looked}; pip install gensim)")


class TextFileOptions(FileOptions):
    """One text file and its encoding."""

    encoding: str = "utf-8"


def _word_key(text: str) -> str:
    """Case- and punctuation-folded words, space-separated (for comparing subjects)."""
    return " ".join(re.sub(r"\W+", " ", text).casefold().split())


# ---------------------------------------------------------------- STS


class LeePairsOptions(BuilderOptions):
    """The Lee documents file, its rating matrix and their encoding."""

    docs: str
    ratings: str
    encoding: str = "latin1"


@register_builder("gensim_lee_pairs", options=LeePairsOptions)
def build_lee_pairs(opts: LeePairsOptions, data_root: Path | None) -> STSData:
    """All document pairs of the Lee, Pincombe & Welsh (2005) corpus with their human similarity rating.

    ``docs`` holds one document per line; ``ratings`` a whitespace-separated (n_docs, n_docs) matrix
    whose upper triangle (i < j) holds the pair's rating (diagonal 1, lower triangle 0 in gensim's
    ``similarities0-1.txt``), read as gensim's ``test_lee.py`` reads it.

    Options:
        docs (str): documents file. ratings (str): rating matrix file. encoding (str).

    Returns:
        STSData with n_docs * (n_docs - 1) / 2 pairs (1225 for 50 docs), ordered (0,1), (0,2), ...
    """
    docs_path = gensim_file(opts.docs, "docs", data_root)
    ratings_path = gensim_file(opts.ratings, "ratings", data_root)
    docs = read_lines(docs_path, opts.encoding)
    try:
        matrix = np.loadtxt(ratings_path, dtype=np.float64, ndmin=2)
    except ValueError as err:
        raise DataError(f"{ratings_path}: not a numeric matrix ({err})") from None
    if matrix.shape != (len(docs), len(docs)):
        raise DataError(
            f"{ratings_path}: matrix shape {matrix.shape} does not match the {len(docs)} documents of {docs_path.name}"
        )
    rows, cols = np.triu_indices(len(docs), k=1)
    scores = matrix[rows, cols]
    if not np.isfinite(scores).all():
        raise DataError(f"{ratings_path}: non-finite rating")
    return STSData(sentence1=[docs[i] for i in rows], sentence2=[docs[j] for j in cols], scores=scores)


@register_builder("gensim_word_pairs", options=TextFileOptions)
def build_word_pairs(opts: TextFileOptions, data_root: Path | None) -> STSData:
    """Word pairs with a human similarity / relatedness score (gensim ``evaluate_word_pairs`` format).

    One ``word1<TAB>word2<TAB>score`` line per pair; lines starting with ``#`` are comments. Every
    pair is kept as listed (duplicates included), so the set matches the published one.

    Options:
        file (str): the pairs file. encoding (str).

    Returns:
        STSData with one pair per data line; scores float64 of shape (n_pairs,).
    """
    path = gensim_file(opts.file, "file", data_root)
    rows = [line.split("\t") for line in read_lines(path, opts.encoding, comment="#")]
    bad = next((i for i, row in enumerate(rows) if len(row) != 3), None)
    if bad is not None:
        raise DataError(f"{path}: data line {bad + 1}: expected 3 tab-separated fields, got {len(rows[bad])}")
    try:
        scores = np.array([row[2] for row in rows], dtype=np.float64)
    except ValueError as err:
        raise DataError(f"{path}: score column: {err}") from None
    if not np.isfinite(scores).all():
        raise DataError(f"{path}: score column: non-finite value")
    return STSData(sentence1=[row[0] for row in rows], sentence2=[row[1] for row in rows], scores=scores)


# ---------------------------------------------------------------- fastText-labelled sentences


class LabelledSentencesOptions(TextFileOptions, SplitOptions):
    """A fastText-format file, its encoding, its label prefix and the split."""

    label_prefix: str = "__label__"


@register_builder("gensim_labelled_sentences", options=LabelledSentencesOptions)
def build_labelled_sentences(opts: LabelledSentencesOptions, data_root: Path | None) -> ClassificationData:
    """Sentences in fastText format (``__label__<name> <text>``), split stratified by label.

    Options:
        file (str), encoding (str), label_prefix (str), test_size (float), seed (int).

    Returns:
        ClassificationData; labels are the label names (str arrays), e.g. ``"neg"`` / ``"pos"``.
    """
    path = gensim_file(opts.file, "file", data_root)
    prefix = opts.label_prefix
    texts, labels = [], []
    for number, line in enumerate(read_lines(path, opts.encoding), 1):
        label, _, text = line.partition(" ")
        if not label.startswith(prefix) or len(label) == len(prefix) or not text.strip():
            raise DataError(f"{path}: line {number}: expected '{prefix}<label> <text>'")
        labels.append(label[len(prefix) :])
        texts.append(text.strip())
    return stratified_split(texts, np.array(labels), opts, path)


# ---------------------------------------------------------------- 20 Newsgroups sample


@dataclass(frozen=True)
class Post:
    """One newsgroup post: ``doc_id`` is ``<newsgroup>/<article number>`` from its file name."""

    doc_id: str
    group: str
    subject: str
    body: str


_HEADERS = email.parser.HeaderParser(policy=email.policy.compat32)


def split_post(raw: str) -> tuple[str, str]:
    """Split a Usenet post into (subject, body).

    The header block ends at the first blank line (RFC 822, and what scikit-learn's
    ``fetch_20newsgroups(remove=("headers",))`` does); the stdlib email parser reads the
    ``Subject`` so folded header lines are joined. Whitespace in the subject is collapsed.

    Returns:
        (subject or "" when absent, body with surrounding blank lines removed).
    """
    head, separator, body = raw.partition("\n\n")
    if not separator:  # no blank line: all headers, no body (or no headers at all)
        head, body = (raw, "") if re.match(r"^[\w-]+: ", raw) else ("", raw)
    subject = _HEADERS.parsestr(head)["Subject"] if head else None
    return " ".join(str(subject or "").split()), body.strip("\n")


@lru_cache(maxsize=4)
def _load_posts(path: Path, mtime_ns: int) -> tuple[Post, ...]:
    """Read gensim's ``mini_newsgroup``: a zlib-compressed Python 2 pickle of a scikit-learn Bunch.

    The Bunch holds ``data`` (200 raw posts, headers included), ``target`` (int64 of shape
    (200,)), ``target_names`` (``alt.atheism``, ``sci.space``) and ``filenames``
    (``.../mini/<group>/<article>``). It is read with the restricted unpickler (no code runs).
    Cached per file version because three builders read it.
    """
    del mtime_ns  # only part of the cache key
    try:
        bunch = restricted_loads(zlib.decompress(path.read_bytes()), encoding="latin1")
    except (OSError, zlib.error, pickle.UnpicklingError, EOFError, ValueError) as err:
        raise DataError(f"{path}: cannot read as a zlib-compressed pickle ({err})") from None
    if not isinstance(bunch, dict):
        raise DataError(f"{path}: expected a dict-like Bunch, got {type(bunch).__name__}")
    for key in ("data", "target", "target_names", "filenames"):
        if key not in bunch:
            raise DataError(f"{path}: {key}: missing from the pickle")
    raws, target, names, files = bunch["data"], bunch["target"], bunch["target_names"], bunch["filenames"]
    if not (len(raws) == len(target) == len(files)) or not set(np.unique(target)) <= set(range(len(names))):
        raise DataError(f"{path}: target: {len(target)} labels for {len(raws)} posts / {len(files)} file names")
    posts = []
    for raw, label, file in zip(raws, target.tolist(), files.tolist()):
        group, article = (file.decode("latin1") if isinstance(file, bytes) else str(file)).split("/")[-2:]
        if group != names[label]:
            raise DataError(f"{path}: filenames: {group}/{article} is labelled {names[label]}")
        subject, body = split_post(raw)
        posts.append(Post(doc_id=f"{group}/{article}", group=group, subject=subject, body=body))
    if len({p.doc_id for p in posts}) != len(posts):
        raise DataError(f"{path}: filenames: duplicate article ids")
    return tuple(posts)


def _posts(opts: FileOptions, data_root: Path | None) -> tuple[Path, tuple[Post, ...]]:
    """The newsgroups file and its posts."""
    path = gensim_file(opts.file, "file", data_root)
    return path, _load_posts(path, path.stat().st_mtime_ns)



@register_builder("gensim_newsgroups_clustering", options=FileOptions)
def build_newsgroups_clustering(opts: FileOptions, data_root: Path | None) -> ClusteringData:
    """Post bodies (headers stripped) with their newsgroup as the gold cluster.

    Returns:
        ClusteringData with one text per post (200) and str labels of shape (200,).
    """
    _, posts = _posts(opts, data_root)
    return ClusteringData(texts=[p.body for p in posts], labels=np.array([p.group for p in posts]))


@register_builder("gensim_newsgroups_classification", options=SplitFileOptions)
def build_newsgroups_classification(opts: SplitFileOptions, data_root: Path | None) -> ClassificationData:
    """Post bodies (headers stripped) labelled by newsgroup, split stratified (``test_size``, ``seed``)."""
    path, posts = _posts(opts, data_root)
    texts, labels = [p.body for p in posts], np.array([p.group for p in posts])
    return stratified_split(texts, labels, opts, path)


def _subject_parts(subject: str) -> list[str]:
    """Folded word keys of a subject's parts: ``"Re: A (was Re: B"`` -> ``["a", "b"]``."""
    parts = _RENAMED_FROM.split(subject)
    return [key for key in (_word_key(strip_reply_marker(part)) for part in parts) if key]


def unambiguous_subjects(subjects: list[str]) -> np.ndarray:
    """Which subjects identify a single post, for use as retrieval queries.

    A subject is split into its parts at thread-rename markers (``A (was Re: B)``, ``A, was B``),
    each part normalised by dropping ``Re:`` / ``Fwd:`` markers and folding case and punctuation.
    It is kept only if it has a part and no part is contained (as whole words, either way round)
    in a part of another post's subject. Exact repeats ("Re: X" x 12) are thereby dropped, and so
    are truncated subjects and renamed threads, which would otherwise leave several posts of one
    thread about equally relevant while only one is marked.

    Args:
        subjects: n subject lines.

    Returns:
        Bool array of shape (n,).
    """
    parts = [[f" {key} " for key in _subject_parts(s)] for s in subjects]
    owner = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
    flat = [key for p in parts for key in p]
    # O(m^2) word-aligned substring tests over m parts (a few hundred): no library does this.
    clash = np.array([[a in b or b in a for b in flat] for a in flat], dtype=bool).reshape(len(flat), len(flat))
    clash &= owner[:, None] != owner[None, :]
    keep = np.array([len(p) > 0 for p in parts])
    keep[owner[clash.any(axis=1)]] = False
    return keep


def strip_reply_marker(subject: str) -> str:
    """``"Re: Re: foo"`` -> ``"foo"`` (the marker says nothing about the content)."""
    return _REPLY_MARKER.sub("", subject).strip()


@register_builder("gensim_newsgroups_subject_retrieval", options=FileOptions)
def build_newsgroups_subject_retrieval(opts: FileOptions, data_root: Path | None) -> RetrievalData:
    """Query = a post's subject line, corpus = all post bodies, the one relevant doc = that post.

    Only subjects that identify a single post (:func:`unambiguous_subjects`) become queries; the
    other posts stay in the corpus as distractors.

    Returns:
        RetrievalData: corpus of all posts (doc id ``<group>/<article>``), queries ``q:<doc id>``
        with ``Re:`` markers removed, qrels ``{q:<doc id>: {<doc id>: 1}}``.
    """
    _, posts = _posts(opts, data_root)
    keep = unambiguous_subjects([p.subject for p in posts])
    queries = {f"q:{p.doc_id}": strip_reply_marker(p.subject) for p, k in zip(posts, keep) if k}
    return RetrievalData(
        corpus={p.doc_id: p.body for p in posts},
        queries=queries,
        qrels={qid: {qid.removeprefix("q:"): 1} for qid in queries},
    )


# ---------------------------------------------------------------- news article leads

# First sentence end: . ! or ? (optionally closing a quote), whitespace, then a capital, digit or
# quote -- unless the period ends an initial ("U.S.", "J.") or a title ("Mr", "Dr", ...).
# Hand-written rather than nltk/spaCy: neither is a dependency, and the ABC news text is clean
# edited prose (checked: every one of the 300 leads has 10-41 words).
_SENTENCE_END = re.compile(
    r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\bJr)(?<!\bNo)(?<!\bvs)(?<!\b[A-Z])"
    r"[.!?][\"']?\s+(?=[\"'A-Z0-9])"
)


def split_lead(article: str) -> tuple[str, str]:
    """(first sentence, rest) of a news article; rest is "" for a one-sentence article."""
    match = _SENTENCE_END.search(article)
    if match is None:
        return article.strip(), ""
    return article[: match.end()].strip(), article[match.end() :].strip()


class LeadRetrievalOptions(TextFileOptions):
    """The articles file, its encoding, and the shortest remainder (in words) kept."""

    min_rest_words: int = 1


@register_builder("gensim_lead_retrieval", options=LeadRetrievalOptions)
def build_lead_retrieval(opts: LeadRetrievalOptions, data_root: Path | None) -> RetrievalData:
    """Query = a news article's first sentence, corpus = every article minus its first sentence.

    Exact duplicate articles are dropped (first occurrence kept), as are articles whose remainder
    has fewer than ``min_rest_words`` words. Doc / query ids are the 0-based line number.

    Returns:
        RetrievalData with ``d<line>`` docs, ``q<line>`` queries and ``{q<line>: {d<line>: 1}}``.
    """
    path = gensim_file(opts.file, "file", data_root)
    articles = read_lines(path, opts.encoding)
    seen: set[str] = set()
    corpus, queries = {}, {}
    for line, article in enumerate(articles):
        if article in seen:
            continue
        seen.add(article)
        lead, rest = split_lead(article)
        if len(rest.split()) < max(1, opts.min_rest_words):
            continue
        corpus[f"d{line:03d}"], queries[f"q{line:03d}"] = rest, lead
    if not queries:
        raise DataError(f"{path}: no article with a first sentence and a remainder")
    return RetrievalData(corpus=corpus, queries=queries, qrels={q: {"d" + q[1:]: 1} for q in queries})
