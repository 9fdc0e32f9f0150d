"""Adapter for ONNX encoders run with onnxruntime and a Hugging Face ``tokenizers`` tokenizer."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from harness.errors import ModelError
from harness.models.base import Adapter, ModelInfo, Role, cpu_threads, load_error
from harness.models.registry import register_adapter


@register_adapter("onnx")
class OnnxAdapter(Adapter):
    """Runs an ONNX transformer and pools its output.

    Args:
        model: path to the ``.onnx`` file.
        tokenizer: path to a ``tokenizer.json`` (ONNX exports rarely ship one).
        output: name of the graph output to read.
        pooling: ``mean`` (masked mean over tokens of a (batch, seq, dim) output), ``cls``, or
            ``none`` when the output is already pooled (batch, dim).
        normalize: L2-normalise the vectors.
        max_length: truncate inputs to this many tokens.
        n_parameters: recorded for the leaderboard (onnxruntime does not expose weights).
    """

    splits_tokens = True

    def __init__(
        self,
        model: str,
        *,
        tokenizer: str,
        output: str | None = None,
        pooling: Literal["mean", "cls", "none"] = "mean",
        normalize: bool = False,
        max_length: int = 256,
        name: str | None = None,
        revision: str = "local",
        n_parameters: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.model_path = Path(model)
        self.tokenizer_path = Path(tokenizer)
        self.output = output
        self.pooling = pooling
        self.normalize = normalize
        self.max_length = max_length
        self._session: Any = None
        self._tokenizer: Any = None
        self._counter: Any = None
        self.info = ModelInfo(
            name=name or self.model_path.stem,
            revision=revision,
            max_tokens=max_length,
            n_parameters=n_parameters,
            settings={"output": output, "pooling": pooling, "normalize": normalize, "max_length": max_length, **self._vector_settings()},
        )

    def _identity_files(self) -> list[Path]:
        return [self.model_path, self.tokenizer_path]

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        for path, what in ((self.model_path, "model"), (self.tokenizer_path, "tokenizer")):
            if not path.is_file():
                raise ModelError(f"{path}: onnx {what} file not found")
        options = ort.SessionOptions()
        options.intra_op_num_threads = cpu_threads()
        try:
            self._session = ort.InferenceSession(str(self.model_path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # noqa: BLE001 - onnxruntime's errors have no common base but Exception
            raise load_error(self.model_path, err) from None
        self._inputs = {i.name for i in self._session.get_inputs()}
        outputs = [o.name for o in self._session.get_outputs()]
        if self.output is None:
            self.output = outputs[0]
        elif self.output not in outputs:
            raise ModelError(f"{self.model_path}: output {self.output!r} not in the graph (has: {', '.join(outputs)})")
        try:
            self._tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        except Exception as err:  # noqa: BLE001 - tokenizers raises a bare Exception for a bad file
            raise load_error(self.tokenizer_path, err, "a tokenizer.json") from None
        self._tokenizer.enable_truncation(self.max_length)
        self._tokenizer.enable_padding()

    def token_spans(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        """Character span of every content token of each text (no truncation, no special tokens)."""
        self.load()
        if self._counter is None:
            from tokenizers import Tokenizer

            self._counter = Tokenizer.from_file(str(self.tokenizer_path))
            self._counter.no_truncation()
            self._counter.no_padding()
        return [list(e.offsets) for e in self._counter.encode_batch(texts, add_special_tokens=False)]

    def _embed(self, texts: list[str], role: Role) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (out,) = self._session.run([self.output], {k: v for k, v in feeds.items() if k in self._inputs})
        out = out.astype(np.float32, copy=False)
        if self.pooling == "mean":
            weights = mask[:, :, None].astype(np.float32)
            out = (out * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        elif self.pooling == "cls":
            out = out[:, 0]
        if self.normalize:
            out = out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
        if self.info.embedding_dim is None:
            self.info.embedding_dim = self.dim or out.shape[1]
        return out
