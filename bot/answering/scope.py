"""The counter-examples of what the guide answers (`config/out_of_scope.yaml`): questions only the
asker's company, a vendor, a lawyer or a statistic can answer. Embedded once per process, on the first
question that needs them, and compared with a question's embedding (bot/answering/gate.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import yaml

from bot.settings import PROJECT_ROOT

OUT_OF_SCOPE = PROJECT_ROOT / "config" / "out_of_scope.yaml"


class OutOfScope:
    def __init__(self, embedder_of, path: Path = OUT_OF_SCOPE) -> None:
        self._embedder_of = embedder_of  # called when first needed: the embedder loads lazily
        self._path = path
        self._vectors: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    def _load(self) -> dict[str, np.ndarray]:
        with self._lock:
            if self._vectors is None:
                data = yaml.safe_load(self._path.read_text(encoding="utf-8")) if self._path.is_file() else {}
                embedder = self._embedder_of()
                self._vectors = {lang: embedder.embed(list(qs)) for lang, qs in (data or {}).items() if qs}
            return self._vectors

    def warm_up(self) -> None:
        self._load()

    def closeness(self, embedding: np.ndarray, language: str) -> float | None:
        """The cosine similarity of the nearest counter-example in `language`; None without any."""
        vectors = self._load().get(language)
        if vectors is None or not len(vectors) or vectors.shape[1] != embedding.shape[0]:
            return None
        return float((vectors @ embedding).max())
