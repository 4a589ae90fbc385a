"""The vector side of the index: a Chroma collection of chunk embeddings (cosine space).

Embedded `PersistentClient` under the data folder by default; an HTTP client when a Chroma server is
configured. Lotse always passes its own embeddings, so Chroma's default embedder (a download) is off.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

COLLECTION = "lotse-knowledge"


class VectorStore:
    def __init__(self, path: Path, embedder_name: str) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        path.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        )
        self._collection = self._client.get_or_create_collection(
            COLLECTION,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": embedder_name},
            embedding_function=None,
        )

    @property
    def embedder_name(self) -> str | None:
        return (self._collection.metadata or {}).get("embedder")

    def count(self) -> int:
        return self._collection.count()

    def add(self, ids: Sequence[str], embeddings: np.ndarray, metadatas: Sequence[dict]) -> None:
        for start in range(0, len(ids), 4000):  # below Chroma's maximum batch size
            end = start + 4000
            self._collection.upsert(
                ids=list(ids[start:end]), embeddings=embeddings[start:end], metadatas=list(metadatas[start:end])
            )

    def delete_document(self, document_id: str) -> None:
        self._collection.delete(where={"document_id": document_id})

    def query(self, embedding: np.ndarray, k: int, language: str | None = None) -> list[tuple[str, float]]:
        """The k nearest chunks as (chunk id, cosine similarity), best first."""
        result = self._collection.query(
            query_embeddings=embedding.reshape(1, -1),
            n_results=k,
            where={"language": language} if language else None,
            include=["distances"],
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0], strict=True)]

    def reset(self) -> None:
        self._client.delete_collection(COLLECTION)
