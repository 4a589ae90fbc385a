"""The knowledge index: chunk rows in the database (source of truth), their vectors in Chroma and a
BM25 index per language, kept in step by `ingest` and read by retrieval.

Several processes may share the database (replicas, `lotse ingest` run elsewhere). Each has its own BM25
index, and with an embedded Chroma its own vectors; both record which documents they were made from, and
`follow` brings them up to the database when another process has ingested (bench/README, issue 8)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import delete, func, select

from bot.settings import Settings
from bot.storage import ChunkRow, Database, DocumentRow
from ingest.chunking import Chunk
from ingest.embedder import Embedder, OpenAIEmbedder
from ingest.lexical import LexicalIndex
from ingest.vector_store import VectorStore

FOLLOW_SECONDS = 5.0  # how often a process asks the database whether another one has ingested
MANIFEST = "vector-documents.json"  # an embedded vector store's documents: {document id: sha256}


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
        self._follow_lock = threading.Lock()
        self._next_follow = 0.0
        self._pending: str | None = None  # a changed fingerprint, seen once: acted on when it holds still

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
                self._save_manifest({})
        return self._vectors

    # -- reading ----------------------------------------------------------------------------------
    def chunk_count(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(ChunkRow)) or 0

    def document_versions(self) -> dict[str, str]:
        """{document id: sha256} of every ingested document: what the derived indexes must reflect."""
        with self.db.session() as s:
            return {doc_id: sha for doc_id, sha in s.execute(select(DocumentRow.id, DocumentRow.sha256))}

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
        self._update_manifest(doc.id, doc.sha256)

    def remove_document(self, doc_id: str) -> None:
        self.vectors.delete_document(doc_id)
        with self.db.session() as s:
            s.execute(delete(ChunkRow).where(ChunkRow.document_id == doc_id))
            s.execute(delete(DocumentRow).where(DocumentRow.id == doc_id))
        self._update_manifest(doc_id, None)

    def rebuild_vectors(self, batch: int = 256) -> int:
        """Embed every chunk of the database into the vector store afresh: the chunk text in the
        database is the source of truth, so a lost or new vector store (a restored backup, a replica with
        its own embedded index) is rebuilt without the original files. Returns the number of chunks."""
        self.vectors.reset()
        self._vectors = None
        documents = self.document_versions()  # read before the chunks: a later change is caught next time
        count = self._embed_chunks(ChunkRow.id.is_not(None), batch)
        self._save_manifest(documents)
        return count

    def _embed_chunks(self, where, batch: int = 256) -> int:
        columns = (ChunkRow.id, ChunkRow.document_id, ChunkRow.language, ChunkRow.title, ChunkRow.section,
                   ChunkRow.text)  # fmt: skip
        with self.db.session() as s:
            rows = list(s.execute(select(*columns).where(where).order_by(ChunkRow.id)))
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            texts = [Chunk(title, section, text, 0).indexed_text for _, _, _, title, section, text in part]
            meta = [{"document_id": doc, "language": lang} for _, doc, lang, _, _, _ in part]
            self.vectors.add([row[0] for row in part], self.embedder.embed(texts), meta)
        return len(rows)

    def rebuild_lexical(self) -> None:
        fingerprint = _fingerprint(self.document_versions())  # before the chunks, as above
        with self.db.session() as s:
            rows = s.execute(select(ChunkRow.id, ChunkRow.language, ChunkRow.title, ChunkRow.section, ChunkRow.text))
            triples = [
                (cid, lang, Chunk(title, section, text, 0).indexed_text) for cid, lang, title, section, text in rows
            ]
        self.lexical.build(triples, source=fingerprint)

    # -- following other processes' ingests ---------------------------------------------------------
    def follow(self) -> bool:
        """Called before each question; at most every FOLLOW_SECONDS it asks the database whether the
        documents changed since this process's indexes were built (another replica or a `lotse ingest`
        elsewhere ingested). A change is acted on once it has held still for one interval, so that the
        other process has written its vectors too (a Chroma server is written after the database).
        Returns True if the indexes were brought up to date."""
        with self._follow_lock:
            now = time.monotonic()
            if now < self._next_follow:
                return False
            self._next_follow = now + FOLLOW_SECONDS
            documents = self.document_versions()
            fingerprint = _fingerprint(documents)
            self.lexical.refresh()
            if fingerprint == self.lexical.loaded_source:
                self._pending = None
                return False
            if fingerprint != self._pending:
                self._pending = fingerprint
                return False
            self._pending = None
            self.catch_up(documents)
            return True

    def catch_up(self, documents: dict[str, str] | None = None) -> bool:
        """Bring this process's indexes up to the database's documents now: with an embedded Chroma the
        vectors of documents added, changed or removed elsewhere (all of them if this store kept no record),
        then BM25. A Chroma server is shared and written by the ingesting process. True if anything was
        out of date."""
        documents = self.document_versions() if documents is None else documents
        self.lexical.refresh()
        stale_lexical = _fingerprint(documents) != self.lexical.loaded_source
        stale_vectors = False
        if not self.settings.chroma_url:
            have = self._manifest()
            if have is None:
                stale_vectors = True
                self.rebuild_vectors()
            else:
                for doc_id in have.keys() - documents.keys():
                    self.vectors.delete_document(doc_id)
                changed = [doc_id for doc_id, sha in documents.items() if have.get(doc_id) != sha]
                for doc_id in changed:
                    self.vectors.delete_document(doc_id)
                    self._embed_chunks(ChunkRow.document_id == doc_id)
                stale_vectors = bool(changed or have.keys() - documents.keys())
                if stale_vectors:
                    self._save_manifest(documents)
        if stale_lexical or stale_vectors:
            self.rebuild_lexical()  # a new build: the caches of chunk rows and searches start afresh
        return stale_lexical or stale_vectors

    # -- the embedded vector store's record of its documents ------------------------------------------
    @property
    def _manifest_path(self) -> Path:
        return self.settings.data_dir / MANIFEST

    def _manifest(self) -> dict[str, str] | None:
        try:
            return json.loads(self._manifest_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None

    def _save_manifest(self, documents: dict[str, str]) -> None:
        if self.settings.chroma_url:
            return  # a shared server: its documents are the database's
        self._manifest_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._manifest_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(documents, sort_keys=True), encoding="utf-8")
        tmp.replace(self._manifest_path)

    def _update_manifest(self, doc_id: str, sha: str | None) -> None:
        if self.settings.chroma_url:
            return
        documents = self._manifest()
        if documents is None:
            if sha is None or self.vectors.count() > len(self._chunk_ids(doc_id)):
                return  # vectors of unknown documents: no record to start, `catch_up` rebuilds them
            documents = {}
        if sha is None:
            documents.pop(doc_id, None)
        else:
            documents[doc_id] = sha
        self._save_manifest(documents)

    def _chunk_ids(self, doc_id: str) -> list[str]:
        with self.db.session() as s:
            return list(s.scalars(select(ChunkRow.id).where(ChunkRow.document_id == doc_id)))


def _fingerprint(documents: dict[str, str]) -> str:
    return hashlib.sha1("\n".join(f"{d}:{sha}" for d, sha in sorted(documents.items())).encode()).hexdigest()
