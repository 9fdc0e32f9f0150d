"""Adapter for sentence-transformers models (a local folder or a hub id at a pinned revision)."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.errors import ModelError
from harness.models.base import Adapter, ModelInfo, Role, cpu_threads, load_error
from harness.models.load_options import check_option, transformers_kwargs
from harness.models.registry import is_folder, register_adapter

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


@register_adapter("sentence-transformers")
class SentenceTransformerAdapter(Adapter):
    """Wraps ``sentence_transformers.SentenceTransformer``.

    Args:
        model: local folder or hub id (``org/name``).
        revision: hub commit; recorded for local folders too (default ``"local"``).
        name: name recorded in results (default: the hub id, or the folder name).
        normalize: L2-normalise the vectors.
        max_length: override the model's max sequence length (tokens).
        device: torch device (default: cuda when available, else cpu).
        trust_remote_code: run code shipped with a hub model; off unless the user asks.
        dtype: load the weights as ``float32``, ``bfloat16`` or ``float16`` (None: as stored);
            vectors are returned as float32 whatever it is.
        attn_implementation: ``sdpa``, ``flash_attention_2`` or ``eager`` (None: transformers' choice).
        model_kwargs, tokenizer_kwargs: more arguments of the transformers model and tokenizer loads.
        dtype, attn_implementation, model_kwargs and tokenizer_kwargs enter the model's settings
        (its cache key) only when given, so a model without them keeps its identity.
    """

    splits_tokens = True
    load_options = frozenset({"dtype", "attn_implementation", "device"})

    def __init__(
        self,
        model: str | os.PathLike[str],
        *,
        revision: str | None = None,
        name: str | None = None,
        normalize: bool = False,
        max_length: int | None = None,
        device: str | None = None,
        trust_remote_code: bool = False,
        n_parameters: int | None = None,
        embedding_dim: int | None = None,
        max_tokens: int | None = None,
        dtype: str | None = None,
        attn_implementation: str | None = None,
        model_kwargs: dict[str, Any] | None = None,
        tokenizer_kwargs: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        for key, value in (("dtype", dtype), ("attn_implementation", attn_implementation)):
            if value is not None:
                check_option(key, value, f"model {model}: {key}")
        self.load_settings = {
            key: value
            for key, value in (("dtype", dtype), ("attn_implementation", attn_implementation), ("model_kwargs", model_kwargs), ("tokenizer_kwargs", tokenizer_kwargs))
            if value
        }
        self.model_id = str(model)
        self.is_local = is_folder(self.model_id)
        self.revision = revision
        self.normalize = normalize
        self.max_length = max_length
        self.device = device
        self.trust_remote_code = trust_remote_code
        self._model: SentenceTransformer | None = None
        self.info = ModelInfo(
            name=name or (Path(self.model_id).name if self.is_local else self.model_id),
            revision=revision or ("local" if self.is_local else "main"),
            n_parameters=n_parameters,
            embedding_dim=embedding_dim,
            max_tokens=max_length or max_tokens,
            settings={"normalize": normalize, "max_length": max_length, **self._vector_settings(), **self.load_settings},
        )

    @classmethod
    def from_instance(cls, model: SentenceTransformer, *, name: str, revision: str | None = None) -> SentenceTransformerAdapter:
        """Adopt an already loaded ``SentenceTransformer`` (e.g. the one being trained)."""
        adapter = cls(name, name=name, revision=revision or "local")
        adapter._model = model
        adapter.cacheable = False  # weights change under training: never reuse a cached vector
        adapter._describe()
        adapter._loaded = True
        return adapter

    def _identity_files(self) -> list[Path]:
        return [Path(self.model_id)] if self.is_local else []

    @property
    def sentence_transformer(self) -> SentenceTransformer:
        """The loaded model (for ``harness.models.layers``)."""
        self.load()
        return self._model

    def _describe(self) -> None:
        self.info.n_parameters = sum(p.numel() for p in self._model.parameters())
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.info.embedding_dim = self.dim or dimension()
        self.info.max_tokens = self._model.max_seq_length

    def _load(self) -> None:
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        unreachable = None
        if not self.is_local and os.environ.get("HF_HUB_OFFLINE") != "1":
            from harness.data.hub import hub_unreachable

            unreachable = hub_unreachable()  # then use the local HF cache only, instead of ~25 s of retries
        torch.set_num_threads(cpu_threads())
        transformers.utils.logging.disable_progress_bar()  # one bar per unit is ours; no "Loading weights" bar
        settings = self.load_settings
        model_kwargs = {**settings.get("model_kwargs", {}), **transformers_kwargs(settings.get("dtype"), settings.get("attn_implementation"))}
        # sentence-transformers 6 renamed tokenizer_kwargs to processor_kwargs
        tokenizer_key = "tokenizer_kwargs" if "tokenizer_kwargs" in inspect.signature(SentenceTransformer.__init__).parameters else "processor_kwargs"
        try:
            self._model = SentenceTransformer(
                self.model_id,
                revision=None if self.is_local else self.revision,
                device=self.device,
                trust_remote_code=self.trust_remote_code,
                local_files_only=unreachable is not None,
                model_kwargs=model_kwargs or None,
                **{tokenizer_key: settings.get("tokenizer_kwargs")},
            )
        except OSError as err:
            offline = os.environ.get("HF_HUB_OFFLINE") == "1"
            if self.is_local or not (offline or unreachable):
                raise load_error(self.model_id, err) from None
            why = "not in the local cache and " + (unreachable or "the hub is offline (HF_HUB_OFFLINE=1)")
            raise ModelError(f"model {self.model_id!r}: cannot load ({why})") from None
        except Exception as err:  # noqa: BLE001 - the adapter boundary: files that are not a model fail in many ways
            raise load_error(self.model_id, err) from None
        if self.max_length is not None:
            self._model.max_seq_length = self.max_length
        self._describe()

    def count_tokens(self, texts: list[str], *, role: Role, task: Any) -> list[int]:
        """Tokens per text as the model reads it: prompt and special tokens included, truncated at
        its max sequence length."""
        self.load()
        prefix = self.prompt_for(role, task)
        ids = self._model.tokenizer([prefix + t for t in texts], truncation=True, max_length=self._model.max_seq_length, verbose=False)["input_ids"]
        return [len(row) for row in ids]

    def place(self, device: str) -> None:
        """Load on torch ``device`` (moved there if already loaded)."""
        self.device = device
        if self._model is not None:
            self._model.to(device)

    def runtime(self) -> dict[str, Any]:
        """The loaded model's dtype (``float32``, ``bfloat16``, ...), device and attention kernel."""
        if self._model is None:
            return {}
        first = next(self._model.parameters())
        config = getattr(self._model[0], "auto_model", None)  # a Transformer module; other first modules have no config
        attention = getattr(getattr(config, "config", None), "_attn_implementation", None)
        return {"dtype": str(first.dtype).removeprefix("torch."), "device": str(first.device), "attn_implementation": attention}

    def token_spans(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        """Character span of every content token of each text (no truncation, no special tokens)."""
        self.load()
        encoded = self._model.tokenizer(texts, add_special_tokens=False, truncation=False, return_offsets_mapping=True, verbose=False)
        return [[tuple(span) for span in spans] for spans in encoded["offset_mapping"]]

    def _embed(self, texts: list[str], role: Role) -> np.ndarray:
        return self._model.encode(
            texts,
            batch_size=len(texts),
            convert_to_numpy=True,
            normalize_embeddings=self.normalize,
            show_progress_bar=False,
        ).astype(np.float32, copy=False)
