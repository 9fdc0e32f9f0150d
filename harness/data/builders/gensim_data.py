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
from typing import Any

import numpy as np

from harness.data.builders import register_builder
from harness.data.builders._safe_pickle import restricted_loads
from harness.data.types import ClassificationData, ClusteringData, RetrievalData, STSData
from harness.errors import DataError

_OPTIONS = "data.builder_options"


@dataclass(frozen=True)
class _Required:
    """Marks an option without a default; ``kind`` is the type its value must have."""

    kind: type


_FILE, _FLOAT, _INT = _Required(str), _Required(float), _Required(int)
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


def _options(options: dict[str, Any], builder: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """Check ``options`` against ``defaults`` (name -> default value or ``_Required(type)``).

    Unknown keys, missing required keys and values of the wrong type (the default's type; a float
    option also takes an int, a bool is never an int) raise ``DataError`` naming
    ``data.builder_options.<key>``.

    Returns:
        Every option in ``defaults``, given or defaulted.
    """
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise DataError(f"{_OPTIONS}.{unknown[0]}: unknown option for builder {builder} (known: {', '.join(defaults)})")
    merged: dict[str, Any] = {}
    for key, default in defaults.items():
        kind = default.kind if isinstance(default, _Required) else type(default)
        if key not in options:
            if isinstance(default, _Required):
                raise DataError(f"{_OPTIONS}.{key}: required by builder {builder}")
            merged[key] = default
            continue
        value = options[key]
        allowed = (int, float) if kind is float else (kind,)
        if not isinstance(value, allowed) or (isinstance(value, bool) and kind is not bool):
            raise DataError(f"{_OPTIONS}.{key}: expected {kind.__name__}, got {value!r}")
        merged[key] = float(value) if kind is float else value
    return merged


def _data_file(name: Any, key: str, data_root: Path | None) -> Path:
    """Resolve option ``key``'s file ``name``: ``data_root/name`` first, then gensim's test data."""
    if not isinstance(name, str) or not name or Path(name).is_absolute() or ".." in Path(name).parts:
        raise DataError(f"{_OPTIONS}.{key}: expected a relative file name, got {name!r}")
    folders = [data_root] if data_root is not None else []
    gensim_dir = gensim_test_data_dir()
    if gensim_dir is not None:
        folders.append(gensim_dir)
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    looked = ", ".join(str(f) for f in folders) or "nowhere: no --data-dir and gensim is not installed"
    raise DataError(f"{_OPTIONS}.{key}: file {name!r} not found (looked in {looked}; pip install gensim)")


def _read_lines(path: Path, encoding: str, *, comment: str | None = None) -> list[str]:
    """One entry per line of ``path`` (``\\n``-separated; a final newline is optional).

    Only ``\\n`` separates lines: ``str.splitlines`` would also split on ``\\x85`` and friends,
    which latin-1 / cp1252 text can contain. Lines starting with ``comment`` are skipped; a blank
    line raises, because line numbers align with other files (e.g. the Lee rating matrix).
    """
    try:
        text = path.read_bytes().decode(encoding)
    except (OSError, LookupError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot read as {encoding} ({err})") from None
    lines = text.replace("\r\n", "\n").removesuffix("\n").split("\n")
    kept = []
    for number, line in enumerate(lines, 1):
        if comment is not None and line.startswith(comment):
            continue
        if not line.strip():
            raise DataError(f"{path}: line {number}: blank line")
        kept.append(line.strip())
    return kept


def _split_options(options: dict[str, Any], builder: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """``_options`` plus the split options ``test_size`` (float in (0, 1)) and ``seed`` (int)."""
    opts = _options(options, builder, {**defaults, "test_size": _FLOAT, "seed": _INT})
    if not 0.0 < opts["test_size"] < 1.0:
        raise DataError(f"{_OPTIONS}.test_size: must be in (0, 1), got {opts['test_size']}")
    return opts


def _stratified_split(
    texts: list[str], labels: np.ndarray, test_size: float, seed: int, source: Path
) -> ClassificationData:
    """Seeded stratified train/test split (sklearn ``train_test_split(stratify=labels)``).

    Args:
        texts: n texts.
        labels: array of shape (n,).
        test_size: fraction of each class that goes to the test split, in (0, 1).
        seed: ``random_state`` of the shuffle.
        source: the data file, for error messages.

    Returns:
        ClassificationData with ``ceil(n * test_size)`` test texts, class proportions kept, each
        split in file order.
    """
    from sklearn.model_selection import train_test_split  # lazy: sklearn import costs ~0.8 s

    if len(texts) != len(labels):
        raise DataError(f"{source}: {len(texts)} texts but {len(labels)} labels")
    index = np.arange(len(texts))
    try:
        train_idx, test_idx = train_test_split(index, test_size=test_size, random_state=seed, stratify=labels)
    except ValueError as err:  # e.g. a class with a single member
        raise DataError(f"{source}: cannot split stratified ({err})") from None
    # Sorted so each split keeps file order (the shuffle only decides membership).
    train_idx, test_idx = np.sort(train_idx), np.sort(test_idx)
    return ClassificationData(
        train_texts=[texts[i] for i in train_idx],
        train_labels=labels[train_idx],
        test_texts=[texts[i] for i in test_idx],
        test_labels=labels[test_idx],
    )


def _word_key(text: str) -> str:
    """Case- and punctuation-folded words, space-separated (for comparing subjects)."""
    return " ".join(re.sub(r"\W+", " ", text).casefold().split())


# ---------------------------------------------------------------- STS


@register_builder("gensim_lee_pairs")
def build_lee_pairs(options: dict[str, Any], data_root: Path | None) -> STSData:
    """All document pairs of the Lee, Pincombe & Welsh (2005) corpus with their human similarity rating.

    ``docs`` holds one document per line; ``ratings`` a whitespace-separated (n_docs, n_docs) matrix
    whose upper triangle (i < j) holds the pair's rating (diagonal 1, lower triangle 0 in gensim's
    ``similarities0-1.txt``), read as gensim's ``test_lee.py`` reads it.

    Options:
        docs (str): documents file. ratings (str): rating matrix file. encoding (str).

    Returns:
        STSData with n_docs * (n_docs - 1) / 2 pairs (1225 for 50 docs), ordered (0,1), (0,2), ...
    """
    opts = _options(options, "gensim_lee_pairs", {"docs": _FILE, "ratings": _FILE, "encoding": "latin1"})
    docs_path = _data_file(opts["docs"], "docs", data_root)
    ratings_path = _data_file(opts["ratings"], "ratings", data_root)
    docs = _read_lines(docs_path, opts["encoding"])
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


@register_builder("gensim_word_pairs")
def build_word_pairs(options: dict[str, Any], data_root: Path | None) -> STSData:
    """Word pairs with a human similarity / relatedness score (gensim ``evaluate_word_pairs`` format).

    One ``word1<TAB>word2<TAB>score`` line per pair; lines starting with ``#`` are comments. Every
    pair is kept as listed (duplicates included), so the set matches the published one.

    Options:
        file (str): the pairs file. encoding (str).

    Returns:
        STSData with one pair per data line; scores float64 of shape (n_pairs,).
    """
    opts = _options(options, "gensim_word_pairs", {"file": _FILE, "encoding": "utf-8"})
    path = _data_file(opts["file"], "file", data_root)
    rows = [line.split("\t") for line in _read_lines(path, opts["encoding"], comment="#")]
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


@register_builder("gensim_labelled_sentences")
def build_labelled_sentences(options: dict[str, Any], data_root: Path | None) -> ClassificationData:
    """Sentences in fastText format (``__label__<name> <text>``), split stratified by label.

    Options:
        file (str), encoding (str), label_prefix (str), test_size (float), seed (int).

    Returns:
        ClassificationData; labels are the label names (str arrays), e.g. ``"neg"`` / ``"pos"``.
    """
    opts = _split_options(
        options, "gensim_labelled_sentences", {"file": _FILE, "encoding": "utf-8", "label_prefix": "__label__"}
    )
    path = _data_file(opts["file"], "file", data_root)
    prefix = opts["label_prefix"]
    texts, labels = [], []
    for number, line in enumerate(_read_lines(path, opts["encoding"]), 1):
        label, _, text = line.partition(" ")
        if not label.startswith(prefix) or len(label) == len(prefix) or not text.strip():
            raise DataError(f"{path}: line {number}: expected '{prefix}<label> <text>'")
        labels.append(label[len(prefix) :])
        texts.append(text.strip())
    return _stratified_split(texts, np.array(labels), opts["test_size"], opts["seed"], path)


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


def _posts(
    options: dict[str, Any], data_root: Path | None, builder: str, *, split: bool = False
) -> tuple[dict[str, Any], Path, tuple[Post, ...]]:
    """Validate ``options`` (``file``, plus ``test_size`` / ``seed`` if ``split``); return them,
    the file and its posts."""
    opts = (_split_options if split else _options)(options, builder, {"file": _FILE})
    path = _data_file(opts["file"], "file", data_root)
    return opts, path, _load_posts(path, path.stat().st_mtime_ns)


@register_builder("gensim_newsgroups_clustering")
def build_newsgroups_clustering(options: dict[str, Any], data_root: Path | None) -> ClusteringData:
    """Post bodies (headers stripped) with their newsgroup as the gold cluster.

    Returns:
        ClusteringData with one text per post (200) and str labels of shape (200,).
    """
    _, _, posts = _posts(options, data_root, "gensim_newsgroups_clustering")
    return ClusteringData(texts=[p.body for p in posts], labels=np.array([p.group for p in posts]))


@register_builder("gensim_newsgroups_classification")
def build_newsgroups_classification(options: dict[str, Any], data_root: Path | None) -> ClassificationData:
    """Post bodies (headers stripped) labelled by newsgroup, split stratified (``test_size``, ``seed``)."""
    opts, path, posts = _posts(options, data_root, "gensim_newsgroups_classification", split=True)
    texts, labels = [p.body for p in posts], np.array([p.group for p in posts])
    return _stratified_split(texts, labels, opts["test_size"], opts["seed"], path)


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


@register_builder("gensim_newsgroups_subject_retrieval")
def build_newsgroups_subject_retrieval(options: dict[str, Any], data_root: Path | None) -> RetrievalData:
    """Query = a post's subject line, corpus = all post bodies, the one relevant doc = that post.

    Only subjects that identify a single post (:func:`unambiguous_subjects`) become queries; the
    other posts stay in the corpus as distractors.

    Returns:
        RetrievalData: corpus of all posts (doc id ``<group>/<article>``), queries ``q:<doc id>``
        with ``Re:`` markers removed, qrels ``{q:<doc id>: {<doc id>: 1}}``.
    """
    _, _, posts = _posts(options, data_root, "gensim_newsgroups_subject_retrieval")
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


@register_builder("gensim_lead_retrieval")
def build_lead_retrieval(options: dict[str, Any], data_root: Path | None) -> RetrievalData:
    """Query = a news article's first sentence, corpus = every article minus its first sentence.

    Exact duplicate articles are dropped (first occurrence kept), as are articles whose remainder
    has fewer than ``min_rest_words`` words. Doc / query ids are the 0-based line number.

    Returns:
        RetrievalData with ``d<line>`` docs, ``q<line>`` queries and ``{q<line>: {d<line>: 1}}``.
    """
    opts = _options(options, "gensim_lead_retrieval", {"file": _FILE, "encoding": "utf-8", "min_rest_words": 1})
    path = _data_file(opts["file"], "file", data_root)
    articles = _read_lines(path, opts["encoding"])
    seen: set[str] = set()
    corpus, queries = {}, {}
    for line, article in enumerate(articles):
        if article in seen:
            continue
        seen.add(article)
        lead, rest = split_lead(article)
        if len(rest.split()) < max(1, opts["min_rest_words"]):
            continue
        corpus[f"d{line:03d}"], queries[f"q{line:03d}"] = rest, lead
    if not queries:
        raise DataError(f"{path}: no article with a first sentence and a remainder")
    return RetrievalData(corpus=corpus, queries=queries, qrels={q: {"d" + q[1:]: 1} for q in queries})
