"""The OpenAI-compatible HTTP adapter against a fake server on 127.0.0.1 started by the tests.

The server answers ``POST /v1/embeddings`` with deterministic vectors (a function of the text) and
plays one queued fault per request: 429 with Retry-After, 500, a slow answer (client timeout), a
dropped connection, a wrong dimension, a short batch, shuffled order, NaN, an error echoing the
key. Every test bounds its request loop (``max_retries``) and checks how many requests arrived.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.errors import ModelError
from harness.models import load_model
from harness.models.http import OpenAIAdapter, batches, estimate_tokens, retry_after

KEY = "sk-test-5ecret-KEY-0123456789abcdef"
DIM = 16


def fake_vector(text: str, dim: int) -> list[float]:
    seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
    vector = np.random.default_rng(seed).standard_normal(dim)
    return [float(x) for x in vector / np.linalg.norm(vector)]


class FakeOpenAI(ThreadingHTTPServer):
    """The server: ``faults`` are consumed one per request; ``requests`` records what arrived."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.faults: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def next_fault(self, payload: dict[str, Any], auth: str | None) -> str | None:
        with self.lock:
            self.requests.append({"payload": payload, "auth": auth, "at": time.monotonic()})
            return self.faults.pop(0) if self.faults else None


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, *_: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", "Content-Length": str(len(data)), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        fault = self.server.next_fault(payload, self.headers.get("Authorization"))
        if self.path != "/v1/embeddings":
            return self._send(404, {"error": {"message": f"no route {self.path}"}})
        kind, _, arg = (fault or "").partition(":")
        if kind == "429":
            return self._send(429, {"error": {"message": "rate limited"}}, {"Retry-After": arg or "0"})
        if kind == "500":
            return self._send(500, {"error": {"message": "internal error"}})
        if kind == "echo_key":
            return self._send(401, {"error": {"message": f"bad key {self.headers.get('Authorization')}"}})
        if kind == "drop":
            self.close_connection = True
            return None
        if kind == "slow":
            time.sleep(float(arg))
        texts = payload["input"]
        dim = payload.get("dimensions", DIM) + (kind == "wrong_dim")
        data = [{"object": "embedding", "index": i, "embedding": fake_vector(t, dim)} for i, t in enumerate(texts)]
        if kind == "short":
            data = data[:-1]
        if kind == "shuffle":
            data = data[::-1]
        if kind == "nan":
            data[0]["embedding"][0] = float("nan")
        tokens = sum(len(t.split()) for t in texts)
        return self._send(200, {"object": "list", "data": data, "model": payload["model"], "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    thread = threading.Thread(target=fake.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    fake.shutdown()
    fake.server_close()


@pytest.fixture
def api_env(server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return server


def adapter(**options: Any) -> OpenAIAdapter:
    defaults = {"backoff": 0.01, "max_backoff": 0.05, "timeout": 5.0, "max_retries": 3}
    return load_model("openai:fake-model", **{**defaults, **options})


TEXTS = [f"sentence number {i} about {'long ' * (i % 5)}things" for i in range(10)]


# ---------------------------------------------------------------- pure helpers


def test_batches_respect_count_and_token_limits() -> None:
    texts = ["a" * 40, "b" * 40, "c" * 400, "d", "e", "f"]  # 11, 11, 101, 1, 1, 1 estimated tokens
    assert [estimate_tokens(t) for t in texts] == [11, 11, 101, 1, 1, 1]
    assert batches(texts, max_texts=2, max_tokens=1000) == [(0, 2), (2, 4), (4, 6)]
    assert batches(texts, max_texts=10, max_tokens=30) == [(0, 2), (2, 3), (3, 6)]  # the long text goes alone
    assert batches([], 4, 100) == []


def test_retry_after_reads_seconds_milliseconds_and_dates() -> None:
    assert retry_after({"retry-after": "2"}) == 2.0
    assert retry_after({"retry-after-ms": "250"}) == 0.25
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None


def test_cache_identity_has_model_dimensions_and_endpoint_never_the_key(api_env: FakeOpenAI) -> None:
    model = adapter(dim=8)
    identity = json.dumps(model.cache_identity())
    assert "fake-model" in identity and api_env.base_url.removeprefix("http://") in identity and '"dimensions": 8' in identity
    assert KEY not in identity
    assert model.cache_identity() != adapter(dim=4).cache_identity()
    assert model.info.name == "openai/fake-model"


def test_the_adapter_pickles_unloaded_without_its_key(api_env: FakeOpenAI) -> None:
    model = adapter()
    model.encode(["x"])
    copy = pickle.loads(pickle.dumps(model))
    assert KEY.encode() not in pickle.dumps(model)
    assert np.allclose(copy.encode(["y"])[0], fake_vector("y", DIM), atol=1e-6)


# ---------------------------------------------------------------- requests


def test_concurrent_batches_come_back_in_input_order_with_dimensions(api_env: FakeOpenAI) -> None:
    api_env.faults = ["shuffle"] * 5
    model = adapter(dim=8, max_batch_texts=2, concurrency=3)
    vectors = model.encode(TEXTS)
    assert vectors.shape == (10, 8) and vectors.dtype == np.float32
    assert np.allclose(vectors, [fake_vector(t, 8) for t in TEXTS], atol=1e-6)
    assert len(api_env.requests) == 5
    assert all(r["payload"]["dimensions"] == 8 and len(r["payload"]["input"]) == 2 for r in api_env.requests)
    assert {r["auth"] for r in api_env.requests} == {f"Bearer {KEY}"}


def test_429_waits_as_long_as_retry_after_says(api_env: FakeOpenAI) -> None:
    api_env.faults = ["429:1"]
    adapter().encode(["hello"])
    first, second = api_env.requests
    assert len(api_env.requests) == 2
    assert second["at"] - first["at"] >= 0.95


def test_500_timeout_and_dropped_connection_are_retried(api_env: FakeOpenAI) -> None:
    api_env.faults = ["500", "slow:1.0", "drop"]
    model = adapter(timeout=0.3, max_retries=3)
    vectors = model.encode(["hello", "world"])
    assert np.allclose(vectors, [fake_vector("hello", DIM), fake_vector("world", DIM)], atol=1e-6)
    assert len(api_env.requests) == 4
    assert model.usage()["requests"] == 4


def test_retries_are_bounded_and_end_in_one_line(api_env: FakeOpenAI) -> None:
    api_env.faults = ["500"] * 10
    with pytest.raises(ModelError) as err:
        adapter(max_retries=2).encode(["hello"])
    assert len(api_env.requests) == 3
    assert "HTTP 500: internal error; gave up after 3 attempts" in str(err.value) and "\n" not in str(err.value)


def test_a_long_retry_after_fails_at_once(api_env: FakeOpenAI) -> None:
    api_env.faults = ["429:3600"]
    with pytest.raises(ModelError, match="asks to wait 3600 s"):
        adapter().encode(["hello"])
    assert len(api_env.requests) == 1


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("wrong_dim", "dimension 17, expected 16"),
        ("short", "1 embeddings for 2 texts"),
        ("nan", "NaN or infinite values"),
    ],
)
def test_invalid_responses_fail_with_one_line(api_env: FakeOpenAI, fault: str, message: str) -> None:
    model = adapter(dim=16)
    api_env.faults = [fault]
    with pytest.raises(ModelError, match=f"invalid response: {message}") as err:
        model.encode(["hello", "world"])
    assert "\n" not in str(err.value) and len(api_env.requests) == 1  # not retried


def test_the_dimension_may_not_change_between_requests(api_env: FakeOpenAI) -> None:
    model = adapter()
    model.encode(["a"])
    api_env.faults = ["wrong_dim"]
    with pytest.raises(ModelError, match="dimension 17, expected 16"):
        model.encode(["b"])


def test_the_key_is_scrubbed_from_error_messages(api_env: FakeOpenAI) -> None:
    api_env.faults = ["echo_key"]
    with pytest.raises(ModelError) as err:
        adapter().encode(["hello"])
    assert KEY not in str(err.value) and "HTTP 401: bad key Bearer ***" in str(err.value)


def test_the_spending_cap_stops_before_the_request_that_would_exceed_it(api_env: FakeOpenAI) -> None:
    # 10 texts of ~30 characters ≈ 8 estimated tokens each; at $1000 per 1M tokens a 2-text
    # request costs about $0.016, so a cap of $0.03 allows one request and refuses the second.
    model = adapter(price_per_million=1000.0, max_cost=0.03, max_batch_texts=2, concurrency=1)
    with pytest.raises(ModelError, match=r"spending cap \$0.0300 reached") as err:
        model.encode(TEXTS)
    assert len(api_env.requests) == 1 and "\n" not in str(err.value)
    usage = model.usage()
    assert usage["requests"] == 1 and usage["tokens"] == sum(len(t.split()) for t in TEXTS[:2])  # the server's count
    assert usage["cost_usd"] == pytest.approx(usage["tokens"] * 1000.0 / 1e6) and usage["price_per_million"] == 1000.0
    assert model.usage() == usage  # reading the counters changes nothing
    assert "requests" not in model.info.to_dict()  # the info is only the model's description


def test_usage_between_two_readings_is_one_unit(api_env: FakeOpenAI) -> None:
    from harness.models import usage_between

    model = adapter(price_per_million=1000.0)
    model.encode(TEXTS[:3])
    before = model.usage()
    model.encode(TEXTS[3:5])
    unit = usage_between(before, model.usage())
    assert list(unit) == ["tokens", "requests", "estimated_tokens", "cost_usd", "price_per_million"]
    assert unit["requests"] == 1 and unit["tokens"] == sum(len(t.split()) for t in TEXTS[3:5]) and unit["estimated_tokens"] == 0
    assert unit["cost_usd"] == unit["tokens"] * 1000.0 / 1e6 and unit["price_per_million"] == 1000.0
    assert usage_between({}, load_model("random").usage()) == {}  # a local model records no usage


def test_a_cap_needs_a_price_and_a_billed_model() -> None:
    with pytest.raises(ModelError, match="needs its price"):
        load_model("openai:fake-model", max_cost=1.0)
    import harness

    with pytest.raises(ModelError, match="no model of this run is billed"):
        harness.evaluate("random", ["WordSim353"], max_cost=1.0, verbose=False)


# ---------------------------------------------------------------- end to end


def _files_containing(needle: bytes, *roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_a_run_records_its_cost_a_rerun_costs_nothing_and_the_key_is_nowhere(
    api_env: FakeOpenAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main

    results, cache, reports = tmp_path / "results", tmp_path / "cache", tmp_path / "reports"
    args = ["run", "--tasks", "WordSim353", "--models", "openai:fake-model", "--results", str(results),
            "--cache-dir", str(cache), "--out", str(reports), "--batch-size", "256"]
    assert main(args) == 0
    sent = len(api_env.requests)
    assert sent >= 2
    (path,) = results.glob("*/*/WordSim353.json")
    model = json.loads(path.read_text())["harness"]["model"]
    assert model["name"] == "openai/fake-model" and model["requests"] == sent and model["tokens"] > 0
    assert model["cost_usd"] is None and model["price_per_million"] is None  # no price known for fake-model
    assert main([*args, "--overwrite"]) == 0
    assert len(api_env.requests) == sent  # every vector came from the cache
    assert json.loads(path.read_text())["harness"]["model"]["requests"] == 0
    output = capsys.readouterr()
    assert KEY not in output.out + output.err
    assert _files_containing(KEY.encode(), results, cache, reports) == []
    assert _files_containing(b"5ecret", results, cache, reports) == []


def test_a_run_over_its_cap_fails_each_unit_with_one_line_and_sends_nothing_more(api_env: FakeOpenAI, tmp_path: Path) -> None:
    import harness

    # WordSim353 has 437 distinct words: 7 requests of 64 words at about $0.1 each
    model = adapter(price_per_million=1000.0, max_cost=0.3, max_batch_texts=64)
    run = harness.evaluate(model, ["WordSim353", "SimLex999"], results_dir=tmp_path / "r", cache_dir=tmp_path / "c", batch_size=64, verbose=False)
    assert [o.status for o in run.summary.outcomes] == ["failed", "failed"]
    assert all("spending cap $0.3000 reached" in o.message and "\n" not in o.message for o in run.summary.outcomes)
    assert 1 <= len(api_env.requests) < 7 and model.ledger.spent <= 0.3
