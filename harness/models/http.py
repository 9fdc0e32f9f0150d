"""Embedding APIs over HTTP: OpenAI-compatible ``POST {base}/embeddings`` (adapter kind ``openai``).

``--models openai:text-embedding-3-small``. Endpoint: ``base_url``, else ``$OPENAI_BASE_URL``,
else ``https://api.openai.com/v1``; key: ``$OPENAI_API_KEY`` (optional for local servers).

HTTP client: httpx. Not the OpenAI SDK: it retries on its own terms (we must count every request
against the spending cap and honour ``Retry-After`` ourselves), returns parsed objects where we
validate the raw response, and is a heavy import tied to one vendor. Not hand-rolled ``urllib``:
no connection pool shared by threads, no separate connect/read timeouts, no keep-alive; httpx's
``Client`` gives all three and is thread-safe.

How texts become requests (each call of ``encode`` comes from the encode path, after the
embedding cache answered what it could, so a rerun sends nothing):

* Batches of at most ``max_batch_texts`` texts and ``max_batch_tokens`` estimated tokens. Tokens
  are estimated as ``len(text) // 4 + 1`` (about four characters per token in English): cheap,
  and no tokenizer to download. A text longer than the budget goes alone.
* Up to ``concurrency`` requests in flight (threads over one client). The encode path hands over
  ``--batch-size`` texts per call, so a large ``--batch-size`` (e.g. 1024) is what lets requests
  overlap.
* Retries, at most ``max_retries`` per request: HTTP 408/409/429/5xx, timeouts and dropped
  connections. The wait is the server's ``Retry-After`` (seconds or HTTP date; ``retry-after-ms``
  too), else ``backoff * 2**attempt`` capped at ``max_backoff``, with jitter (half fixed, half
  random). A server asking for more than ``max_wait`` seconds fails at once.
* Responses are checked: one embedding per text, indices 0..n-1 (reordered by ``index``), one
  dimension (= ``dim`` when asked for), finite numbers. Any failure is one ``ModelError`` line.

``dim`` (the Matryoshka option of every adapter) is sent as ``dimensions``: the server shortens.

Cost: ``price_per_million`` USD per 1M tokens (known OpenAI models have a default, ``PRICES``).
Each request reserves its estimated cost before it is sent; with ``max_cost`` set, a request that
would take spent + in-flight + its estimate over the cap is not sent, and the unit fails with one
line (the encode path has cached every earlier batch, so raising the cap resumes about there). Spent
money is settled with the server's ``usage.total_tokens`` (the estimate when it reports none), so
the cap holds up to the estimation error of the requests in flight. ``usage()`` reads the
adapter's cumulative ``tokens``, ``requests``, ``cost_usd`` and ``price_per_million``; the runner
records the difference over each unit in ``harness.model`` (``harness.models.usage_between``).
The cap is per adapter object: one run of the command (per replica under Ray).

Cache identity: model, ``dimensions``, prompts and the endpoint (scheme, host, port, path; never
credentials or the key). The same model name on another server may be another model, so it gets
its own vectors; a proxy in front of the same API costs one more fetch.

The key: read from the environment when the client is built (surrounding whitespace stripped; a
character outside printable ASCII is one error line giving its position), kept only in the
client's headers and in a private attribute that is never pickled, recorded or printed; every
error message is scrubbed of it, and of any 8-character piece of it, before it is cut to length.
"""

from __future__ import annotations

import email.utils
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from harness.errors import ModelError, one_line, scrub
from harness.models.base import Adapter, ModelInfo, Role, usd
from harness.models.registry import register_adapter

DEFAULT_BASE_URL = "https://api.openai.com/v1"
BASE_URL_ENV = "OPENAI_BASE_URL"
KEY_ENV = "OPENAI_API_KEY"
# USD per 1M input tokens, OpenAI's list prices for its embedding models (pass price_per_million
# for any other model, or when these change).
PRICES: dict[str, float] = {"text-embedding-3-small": 0.02, "text-embedding-3-large": 0.13, "text-embedding-ada-002": 0.10}
RETRY_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))
MAX_SERVER_MESSAGE = 10_000  # characters of a server's error message kept for scrubbing (the line is cut later)


def estimate_tokens(text: str) -> int:
    """About four characters per token (English); an upper-bound tokenizer is not worth a download."""
    return len(text) // 4 + 1


def endpoint_of(base_url: str) -> str:
    """``scheme://host[:port]/path/embeddings`` of a base URL; credentials and a query string are dropped."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ModelError(f"{BASE_URL_ENV} / base_url: {parts.scheme or 'no'} scheme in {base_url.split('@')[-1]!r}; expected http(s)://host/...")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path.rstrip('/')}/embeddings"


def retry_after(headers: Any) -> float | None:
    """Seconds the server asks to wait (``retry-after-ms``, ``Retry-After`` seconds or date), or None."""
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    return None


def batches(texts: list[str], max_texts: int, max_tokens: int) -> list[tuple[int, int]]:
    """``[start, stop)`` ranges of consecutive texts within both limits (a text never splits)."""
    out, start, tokens = [], 0, 0
    for i, text in enumerate(texts):
        cost = estimate_tokens(text)
        if i > start and (i - start >= max_texts or tokens + cost > max_tokens):
            out.append((start, i))
            start, tokens = i, 0
        tokens += cost
    if texts:
        out.append((start, len(texts)))
    return out


class Ledger:
    """Tokens, requests and dollars of one adapter: reserved before a request, settled after it.

    The counters only grow; ``usage()`` reads them (the runner takes differences per unit).
    """

    def __init__(self, model: str, price: float | None, cap: float | None) -> None:
        self.model, self.price, self.cap = model, price, cap
        self.spent = 0.0
        self.in_flight = 0.0
        self._counters = {"tokens": 0, "requests": 0, "estimated_tokens": 0}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def cost(self, tokens: int) -> float:
        return usd(tokens, self.price or 0.0)

    def reserve(self, tokens: int) -> float:
        """Book the estimated cost of a request about to be sent; ModelError if it breaks the cap."""
        cost = self.cost(tokens)
        with self._lock:
            if self.cap is not None and self.spent + self.in_flight + cost > self.cap:
                raise ModelError(
                    f"model {self.model!r}: spending cap ${self.cap:.4f} reached (spent ${self.spent:.4f}, "
                    f"${self.in_flight:.4f} in flight, the next request ≈ ${cost:.4f}); raise --max-cost to go on "
                    "(earlier batches are cached)"
                )
            self.in_flight += cost
        return cost

    def count_request(self) -> None:
        with self._lock:
            self._counters["requests"] += 1

    def settle(self, reserved: float, tokens: int | None, estimate: int) -> None:
        """Replace a reservation by the real cost (``tokens`` from the server, else ``estimate``)."""
        with self._lock:
            self.in_flight -= reserved
            self.spent += self.cost(tokens if tokens is not None else estimate)
            self._counters["tokens"] += tokens if tokens is not None else estimate
            self._counters["estimated_tokens"] += 0 if tokens is not None else estimate

    def release(self, reserved: float) -> None:
        """Drop the reservation of a request that failed (failed requests are not billed)."""
        with self._lock:
            self.in_flight -= reserved

    def usage(self) -> dict[str, Any]:
        """Cumulative ``tokens``, ``requests``, ``estimated_tokens``, ``cost_usd`` (None without a
        price) and ``price_per_million``; reading changes nothing."""
        with self._lock:
            counters = dict(self._counters)
        cost = usd(counters["tokens"], self.price) if self.price is not None else None
        return {**counters, "cost_usd": cost, "price_per_million": self.price}


def _positive(name: str, value: float) -> float:
    if not value > 0:
        raise ModelError(f"openai adapter: {name} must be positive (got {value})")
    return value


@register_adapter("openai")
class OpenAIAdapter(Adapter):
    """An OpenAI-compatible embeddings endpoint (see the module docstring for every behaviour).

    Args:
        model: the API's model name (``text-embedding-3-small``).
        name, revision: recorded in results (default ``openai/<model>``, ``api``).
        base_url: default ``$OPENAI_BASE_URL`` or OpenAI's.
        dim: sent as ``dimensions``; prompts: role -> prefix (as every adapter).
        price_per_million: USD per 1M tokens (default: ``PRICES``; needed with ``max_cost``).
        max_cost: USD this adapter may spend in total (``--max-cost``).
        max_batch_texts, max_batch_tokens: request size limits; concurrency: requests in flight.
        timeout: seconds per request; max_retries, backoff, max_backoff, max_wait: retry policy.
    """

    billed = True  # takes max_cost (``harness.models.is_billed``)

    def __init__(
        self,
        *,
        model: str,
        name: str | None = None,
        revision: str = "api",
        base_url: str | None = None,
        dim: int | None = None,
        prompts: dict[str, str] | None = None,
        price_per_million: float | None = None,
        max_cost: float | None = None,
        max_batch_texts: int = 256,
        max_batch_tokens: int = 100_000,
        concurrency: int = 4,
        timeout: float = 60.0,
        max_retries: int = 6,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        max_wait: float = 120.0,
    ) -> None:
        super().__init__(prompts=prompts, dim=dim)
        if not model:
            raise ModelError("openai adapter: give a model name (openai:MODEL)")
        self.model = model
        self.endpoint = endpoint_of((base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/"))
        price = price_per_million if price_per_million is not None else PRICES.get(model)
        if max_cost is not None:
            _positive("max_cost", max_cost)
            if price is None:
                raise ModelError(f"model {model!r}: --max-cost needs its price; pass price_per_million (USD per 1M tokens)")
        self.max_batch_texts = int(_positive("max_batch_texts", max_batch_texts))
        self.max_batch_tokens = int(_positive("max_batch_tokens", max_batch_tokens))
        self.concurrency = int(_positive("concurrency", concurrency))
        self.timeout = _positive("timeout", timeout)
        self.max_retries = max(0, int(max_retries))
        self.backoff, self.max_backoff, self.max_wait = backoff, max_backoff, max_wait
        self.ledger = Ledger(name or f"openai/{model}", price, max_cost)
        self.info = ModelInfo(
            name=name or f"openai/{model}",
            revision=revision,
            embedding_dim=dim,
            settings={"model": model, "endpoint": self.endpoint, "dimensions": dim, "prompts": self.prompts},
        )
        self._client: Any = None
        self._secret: str | None = None
        self._dim_lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """Picklable unloaded (Ray ships models before loading): no client, key or lock."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("_client", "_secret", "_dim_lock")}
        return {**state, "_loaded": False, "_client": None, "_secret": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._dim_lock = threading.Lock()

    def _load(self) -> None:
        import httpx

        self._secret = (os.environ.get(KEY_ENV) or "").strip() or None
        if self._secret is not None:
            bad = next((i for i, c in enumerate(self._secret) if not "!" <= c <= "~"), None)  # printable ASCII: an HTTP header value
            if bad is not None:
                self._secret = None  # never echoed: the message gives the position only
                raise ModelError(f"{KEY_ENV}: character {bad + 1} is not printable ASCII (a key copied with a typographic "
                                 "character or a space?); set the key again")
        headers = {"Authorization": f"Bearer {self._secret}"} if self._secret else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency),
        )

    def usage(self) -> dict[str, Any]:
        """This adapter's cumulative API usage (``Ledger.usage``)."""
        return self.ledger.usage()

    def _fail(self, problem: str) -> ModelError:
        """One line naming the model and endpoint, with the key (and any part of it) scrubbed out
        before the line is cut to length, so no cut can leave a piece of the key behind."""
        message = f"model {self.info.name!r} at {self.endpoint}: {problem}"
        return ModelError(scrub(message, self._secret) if self._secret else message)

    # ------------------------------------------------------------ requests

    def _embed(self, texts: list[str], role: Role) -> np.ndarray:
        ranges = batches(texts, self.max_batch_texts, self.max_batch_tokens)
        if len(ranges) == 1:
            return self._request(texts)
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(ranges))) as pool:
            futures = [pool.submit(self._request, texts[start:stop]) for start, stop in ranges]
            try:
                return np.concatenate([f.result() for f in futures])
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def _request(self, texts: list[str]) -> np.ndarray:
        """Embed one batch: reserve its cost, post with retries, validate, settle."""
        estimate = sum(estimate_tokens(t) for t in texts)
        reserved = self.ledger.reserve(estimate)
        payload: dict[str, Any] = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self.dim is not None:
            payload["dimensions"] = self.dim
        try:
            body = self._post(payload)
            vectors = self._validate(body, len(texts))
        except BaseException:
            self.ledger.release(reserved)
            raise
        usage = body.get("usage")
        tokens = usage.get("total_tokens") if isinstance(usage, dict) else None
        self.ledger.settle(reserved, tokens if isinstance(tokens, int) and tokens >= 0 else None, estimate)
        return vectors

    def _post(self, payload: dict[str, Any]) -> Any:
        """POST with retries; the parsed JSON body of the first 200 answer."""
        import httpx

        problem = ""
        for attempt in range(self.max_retries + 1):
            self.ledger.count_request()
            wait = None
            try:
                response = self._client.post(self.endpoint, json=payload)
            except httpx.TimeoutException:
                problem = f"no answer within {self.timeout:g} s"
            except (httpx.NetworkError, httpx.RemoteProtocolError) as err:
                problem = f"connection failed ({type(err).__name__})"
            except httpx.HTTPError as err:
                raise self._fail(f"request failed ({type(err).__name__}: {err})") from None
            else:
                if response.status_code == 200:
                    try:
                        return response.json()
                    except ValueError:
                        raise self._fail("invalid response: not JSON") from None
                problem = f"HTTP {response.status_code}{_server_message(response)}"
                if response.status_code not in RETRY_STATUSES:
                    raise self._fail(problem)
                wait = retry_after(response.headers)
            if attempt == self.max_retries:
                break
            delay = wait if wait is not None else min(self.max_backoff, self.backoff * 2**attempt) * random.uniform(0.5, 1.0)
            if delay > self.max_wait:
                raise self._fail(f"{problem}; the server asks to wait {delay:.0f} s (more than max_wait {self.max_wait:g} s)")
            time.sleep(delay)
        raise self._fail(f"{problem}; gave up after {self.max_retries + 1} attempts")

    def _validate(self, body: Any, n: int) -> np.ndarray:
        """(n, dim) float32 vectors in input order, or one ModelError line saying what is wrong."""
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise self._fail("invalid response: no 'data' list of embeddings")
        if len(data) != n:
            raise self._fail(f"invalid response: {len(data)} embeddings for {n} texts")
        indices = [item.get("index") for item in data]
        if sorted(i for i in indices if isinstance(i, int)) != list(range(n)):
            raise self._fail(f"invalid response: embedding indices are not 0..{n - 1}")
        rows = [item.get("embedding") for item in sorted(data, key=lambda item: item["index"])]
        if not all(isinstance(row, list) for row in rows) or len({len(row) for row in rows}) != 1:
            raise self._fail("invalid response: embeddings are not lists of one length")
        try:
            vectors = np.asarray(rows, dtype=np.float32)
        except (TypeError, ValueError):
            raise self._fail("invalid response: embeddings hold non-numbers") from None
        if not np.isfinite(vectors).all():
            raise self._fail("invalid response: NaN or infinite values")
        self._check_dimension(vectors.shape[1])
        return vectors

    def _check_dimension(self, dim: int) -> None:
        with self._dim_lock:
            expected = self.dim or self.info.embedding_dim
            if expected is not None and dim != expected:
                raise self._fail(f"invalid response: dimension {dim}, expected {expected}")
            self.info.embedding_dim = dim


def _server_message(response: Any) -> str:
    """``": <message>"`` from an OpenAI-style error body (one line), or "". Not cut here: the
    caller scrubs the key first, and the error cuts the line (``harness.errors.one_line``)."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    message = error.get("message") if isinstance(error, dict) else error
    return f": {one_line(message, MAX_SERVER_MESSAGE)}" if message else ""
