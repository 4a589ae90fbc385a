"""The knowledge index: chunk rows in the database (source of truth), their vectors in Chroma and a
BM25 index per language, kept in step by `ingest` and read by retrieval."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import delete, func, select

from bot.settings import Settings
from bot.storage import ChunkRow, Database, DocumentRow
from ingest.chunking import Chunk
from ingest.embedder import Embedder, OpenAIEmbedder
from ingest.lexical import LexicalIndex
from ingest.vector_store import VectorStore


def document_id(path: Path) -> str:
    return hashlib.sha1(str(path.resolve()).encode()).hexdigest()


class KnowledgeIndex:
    """Opened once per process; the embedder loads on first use (a second of start-up)."""

    def __init__(self, settings: Settings, db: Database | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.db = db or Database(settings.db_url, upgrade=settings.db_auto_upgrade)
        self._embedder = embedder
        self.lexical = LexicalIndex(settings.data_dir / "bm25")
        self._vectors: VectorStore | None = None
        self._embedder_lock = threading.Lock()
        self._chunks: dict[str, ChunkRow] = {}  # read-through cache for queries, per lexical build
        self._chunks_stamp: str | None = None

    @property
    def embedder(self) -> Embedder:
        with self._embedder_lock:
            if self._embedder is None and self.settings.embedding_model:
                llm = self.settings.llm
                self._embedder = OpenAIEmbedder(self.settings.embedding_model, llm.api_key, llm.base_url)
            elif self._embedder is None:
                self._embedder = Embedder(cache_dir=self.settings.data_dir / "cache")
            return self._embedder

    def preload(self) -> None:
        """Load the embedder in a background thread while the caller opens Chroma (cold start)."""
        threading.Thread(target=lambda: self.embedder, name="lotse-embedder-load", daemon=True).start()

    @property
    def vectors(self) -> VectorStore:
        if self._vectors is None:
            self._vectors = VectorStore(self.settings.data_dir / "chroma", self.embedder.name, self.settings.chroma_url)
            if self._vectors.embedder_name not in (None, self.embedder.name):
                # vectors of another model are not comparable: start the index afresh
                self._vectors.reset()
                self._vectors = VectorStore(
                    self.settings.data_dir / "chroma", self.embedder.name, self.settings.chroma_url
                )
                with self.db.session() as s:
                    s.execute(delete(ChunkRow))
                    s.execute(delete(DocumentRow))
        return self._vectors

    # -- reading ----------------------------------------------------------------------------------
    def chunk_count(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(ChunkRow)) or 0

    def documents(self) -> list[DocumentRow]:
        with self.db.session() as s:
            return list(s.scalars(select(DocumentRow).order_by(DocumentRow.path)))

    def chunks_by_id(self, ids: Sequence[str]) -> dict[str, ChunkRow]:
        """Chunk rows by id. Queries read them through a cache that is dropped whenever an ingest
        publishes a new lexical build (each changing ingest does), so answers never see stale text."""
        if not ids:
            return {}
        stamp = self.lexical.loaded_stamp
        if stamp is None or stamp != self._chunks_stamp:
            self._chunks, self._chunks_stamp = {}, stamp
        missing = [i for i in ids if i not in self._chunks]
        if missing:
            with self.db.session() as s:
                found = {row.id: row for row in s.scalars(select(ChunkRow).where(ChunkRow.id.in_(missing)))}
            if stamp is not None:
                self._chunks.update(found)
        else:
            found = {}
        return {i: self._chunks.get(i) or found[i] for i in ids if i in self._chunks or i in found}

    # -- writing ----------------------------------------------------------------------------------
    def replace_document(self, doc: DocumentRow, chunks: Sequence[Chunk]) -> None:
        """Store a (new or changed) document with its chunks; the old version's chunks go first."""
        embeddings = self.embedder.embed([c.indexed_text for c in chunks])
        headings = self.embedder.embed([c.heading for c in chunks])
        ids = [f"{doc.id[:20]}-{c.position}" for c in chunks]
        self.vectors.delete_document(doc.id)
        with self.db.session() as s:
            s.execute(delete(ChunkRow).where(ChunkRow.document_id == doc.id))
            doc.chunk_count = len(chunks)
            s.merge(doc)
            s.flush()  # the document row must exist before its chunks reference it
            s.add_all(
                ChunkRow(
                    id=cid,
                    document_id=doc.id,
                    position=c.position,
                    language=doc.language,
                    title=c.title,
                    section=c.section,
                    source=doc.source,
                    text=c.text,
                    heading_vector=heading.astype("float32").tobytes(),
                )
                for cid, c, heading in zip(ids, chunks, headings, strict=True)
            )
        if chunks:
            meta = [{"document_id": doc.id, "language": doc.language} for _ in chunks]
            self.vectors.add(ids, embeddings, meta)

    def remove_document(self, doc_id: str) -> None:
        self.vectors.delete_document(doc_id)
        with self.db.session() as s:
            s.execute(delete(ChunkRow).where(ChunkRow.document_id == doc_id))
            s.execute(delete(DocumentRow).where(DocumentRow.id == doc_id))

    def rebuild_vectors(self, batch: int = 256) -> int:
        """Embed every chunk of the database into the vector store afresh: the chunk text in the
        database is the source of truth, so a lost or new vector store (a restored backup, a replica with
        its own embedded index) is rebuilt without the original files. Returns the number of chunks."""
        self.vectors.reset()
        self._vectors = None
        with self.db.session() as s:
            rows = list(s.execute(select(ChunkRow.id, ChunkRow.document_id, ChunkRow.language, ChunkRow.title,
                                         ChunkRow.section, ChunkRow.text).order_by(ChunkRow.id)))  # fmt: skip
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            texts = [Chunk(title, section, text, 0).indexed_text for _, _, _, title, section, text in part]
            meta = [{"document_id": doc, "language": lang} for _, doc, lang, _, _, _ in part]
            self.vectors.add([row[0] for row in part], self.embedder.embed(texts), meta)
        return len(rows)

    def rebuild_lexical(self) -> None:
        with self.db.session() as s:
            rows = s.execute(select(ChunkRow.id, ChunkRow.language, ChunkRow.title, ChunkRow.section, ChunkRow.text))
            triples = [
                (cid, lang, Chunk(title, section, text, 0).indexed_text) for cid, lang, title, section, text in rows
            ]
        self.lexical.build(triples)
