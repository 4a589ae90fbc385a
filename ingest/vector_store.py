"""The vector side of the index: a Chroma collection of chunk embeddings (cosine space).

Embedded `PersistentClient` under the data folder by default; an HTTP client when a Chroma server is
configured. Lotse always passes its own embeddings, so Chroma's default embedder (a download) is off.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

COLLECTION = "lotse-knowledge"
LANGUAGES = ("de", "en")  # one collection each: a metadata filter made a query 15× slower at 10k chunks


class VectorStore:
    def __init__(self, path: Path, embedder_name: str, url: str | None = None) -> None:
        """Embedded under `path`, or the Chroma server at `url` (http://host:port) when one is given."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        if url:
            server = urlsplit(url)
            if server.scheme not in ("http", "https") or not server.hostname:
                raise ValueError(f"LOTSE_CHROMA_URL={url!r}: expected http://host:port or https://host:port")
            port = server.port or (443 if server.scheme == "https" else 8000)
            self._client = chromadb.HttpClient(
                host=server.hostname, port=port, ssl=server.scheme == "https", settings=settings
            )
            _bound_time(self._client)
        else:
            path.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(path), settings=settings)
        self._collections = {
            language: self._client.get_or_create_collection(
                f"{COLLECTION}-{language}",
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": embedder_name},
                embedding_function=None,
            )
            for language in LANGUAGES
        }

    @property
    def embedder_name(self) -> str | None:
        return (self._collections["de"].metadata or {}).get("embedder")

    def count(self) -> int:
        return sum(c.count() for c in self._collections.values())

    def add(self, ids: Sequence[str], embeddings: np.ndarray, metadatas: Sequence[dict]) -> None:
        """Metadata must carry `language` ("de" or "en") and `document_id`."""
        for language, collection in self._collections.items():
            rows = [i for i, m in enumerate(metadatas) if m["language"] == language]
            for start in range(0, len(rows), 4000):  # below Chroma's maximum batch size
                part = rows[start : start + 4000]
                collection.upsert(
                    ids=[ids[i] for i in part], embeddings=embeddings[part], metadatas=[metadatas[i] for i in part]
                )

    def delete_document(self, document_id: str, keep: Collection[str] = (), language: str | None = None) -> None:
        """Delete a document's vectors; with `keep`, all but those ids in the `language` collection (what is
        left of an older version after the new one was written over it)."""
        for name, collection in self._collections.items():
            if not keep:
                collection.delete(where={"document_id": document_id})
                continue
            found = collection.get(where={"document_id": document_id}, include=[])["ids"]
            stale = [i for i in found if name != language or i not in keep]
            if stale:
                collection.delete(ids=stale)

    def query(self, embedding: np.ndarray, k: int, language: str | None = None) -> list[tuple[str, float]]:
        """The k nearest chunks as (chunk id, cosine similarity), best first; all languages if None."""
        hits: list[tuple[str, float]] = []
        for name in [language] if language else LANGUAGES:
            # an empty collection answers with no ids; counting first cost a second call (a round trip
            # to a Chroma server) on every question
            result = self._collections[name].query(
                query_embeddings=embedding.reshape(1, -1), n_results=k, include=["distances"]
            )
            hits += [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0], strict=True)]
        return sorted(hits, key=lambda hit: -hit[1])[:k]

    def reset(self) -> None:
        for language in LANGUAGES:
            self._client.delete_collection(f"{COLLECTION}-{language}")


def _bound_time(client) -> None:
    """chromadb's HTTP client waits forever (httpx `timeout=None`, not configurable in 1.5): a hung Chroma
    server would hang every question. Bound it: 5 s to connect, 30 s per request."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(30.0, connect=5.0)
