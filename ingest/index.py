"""The knowledge index: chunk rows in the database (source of truth), their vectors in Chroma and a
BM25 index per language, kept in step by `ingest` and read by retrieval.

Several processes may share the database (replicas, `lotse ingest` run elsewhere). Each has its own BM25
index, and with an embedded Chroma its own vectors; both record which documents they were made from, and
`follow` brings them up to the database when another process has ingested (bench/README, issue 8)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from bot.settings import Settings
from bot.storage import ChunkRow, Database, DocumentRow
from bot.storage.locking import file_lock
from bot.storage.models import IndexStateRow
from ingest.chunking import Chunk
from ingest.embedder import Embedder, OpenAIEmbedder
from ingest.lexical import LexicalIndex
from ingest.vector_store import VectorStore

log = logging.getLogger(__name__)
FOLLOW_SECONDS = 5.0  # how often a process asks the database whether another one has ingested
MANIFEST = "vector-documents.json"  # an embedded vector store's documents: {document id: sha256}


class ModelMismatch(RuntimeError):
    """The index was built with another embedding model than this process's, and others share it."""


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
        self._opening = threading.RLock()
        # caches per lexical build, each (build stamp, cache) in one attribute: turns on several threads
        # read them while one of them swaps in the next build's
        self._chunks: tuple[str | None, dict[str, ChunkRow]] = (None, {})  # read-through cache for queries
        self._asks: tuple[str | None, dict[str, tuple]] = (None, {})  # per language: (ids, matrix, owner, texts)
        self._asks_lock = threading.Lock()  # one thread reads a build's questions, the others wait for them
        self._follow_lock = threading.Lock()
        self._next_follow = 0.0
        self._manifest_changes: dict[str, str | None] = {}  # written to the vector store, not yet recorded
        self._model_recorded: str | None = None

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
        """The vector store, opened on first use after `check_model`. A store of this data folder that holds
        another model's vectors than the database records is rebuilt from the database; a Chroma server that
        does is refused, since it is every replica's."""
        if self._vectors is not None:
            return self._vectors
        with self._opening:  # turns on several threads: one opens (or rebuilds) the store, the others wait
            return self._vectors if self._vectors is not None else self._open_vectors()

    def _open_vectors(self) -> VectorStore:
        current = self.embedder.name
        recorded = self.check_model()
        store = self._open_store()
        if store.embedder_name not in (None, current):
            if recorded is None or (self.settings.chroma_url and store.count()):
                raise ModelMismatch(_mismatch(store.embedder_name, current))
            log.warning(
                "this data folder's vector store holds vectors of %s: rebuilding it with %s",
                store.embedder_name,
                current,
            )
            self._vectors = store
            self.rebuild_vectors()  # opens the store anew, with this model
            store = self._vectors
        if recorded is None and self.chunk_count():
            self._record_model(current)  # a database from before the record, whose chunks fit this model
        self._vectors = store
        return store

    def check_model(self) -> str | None:
        """The embedding model the database records for its chunks (their heading vectors, and so every
        replica's vectors); ModelMismatch if it is not this process's. A database from before the record is
        judged by the size of its heading vectors. Only `lotse ingest --rebuild` changes the model."""
        current, recorded = self.embedder.name, self.recorded_model()
        if recorded is None:
            with self.db.session() as s:
                sample = s.scalar(select(ChunkRow.heading_vector).where(ChunkRow.heading_vector.is_not(None)).limit(1))
            if sample is not None and len(sample) // 4 != len(self.embedder.embed_one("Lotse")):
                raise ModelMismatch(_mismatch(f"another model ({len(sample) // 4} dimensions)", current))
        elif recorded != current:
            raise ModelMismatch(_mismatch(recorded, current))
        return recorded

    def _open_store(self) -> VectorStore:
        return VectorStore(self.settings.data_dir / "chroma", self.embedder.name, self.settings.chroma_url)

    def recorded_model(self) -> str | None:
        with self.db.session() as s:
            return s.scalar(select(IndexStateRow.value).where(IndexStateRow.name == "embedding_model"))

    def _record_model(self, name: str) -> None:
        try:
            with self.db.session() as s:
                s.merge(IndexStateRow(name="embedding_model", value=name))
        except IntegrityError:  # another replica recorded it at the same moment: the same check, the same name
            if self.recorded_model() != name:
                raise
        self._model_recorded = name

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
        kept_stamp, kept = self._chunks
        if stamp is None or stamp != kept_stamp:
            kept = {}
            if stamp is not None:
                self._chunks = (stamp, kept)
        found = {i: kept[i] for i in ids if i in kept}
        if missing := [i for i in ids if i not in found]:
            with self.db.session() as s:
                read = {row.id: row for row in s.scalars(select(ChunkRow).where(ChunkRow.id.in_(missing)))}
            kept.update(read)
            found.update(read)
        return {i: found[i] for i in ids if i in found}

    def asked(self, language: str | None) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(chunk ids, the questions' vectors as rows, each row's index into the ids) of the chunks whose
        sections name the questions they answer, in `language` (None: all); read once per lexical build."""
        return self.asked_with_texts(language)[:3]

    def asked_with_texts(self, language: str | None) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
        """`asked`, and the questions themselves, one per row."""
        key = language or "*"
        stamp = self.lexical.loaded_stamp
        kept_stamp, kept = self._asks
        if stamp is not None and stamp == kept_stamp and key in kept:
            return kept[key]
        with self._asks_lock:
            kept_stamp, kept = self._asks
            if stamp is not None and stamp == kept_stamp and key in kept:
                return kept[key]  # another thread read them meanwhile
            query = select(ChunkRow.id, ChunkRow.asks, ChunkRow.asks_vectors).where(ChunkRow.asks_vectors.is_not(None))
            if language:
                query = query.where(ChunkRow.language == language)
            ids: list[str] = []
            blocks: list[np.ndarray] = []
            texts: list[str] = []
            with self.db.session() as s:
                for cid, asks, raw in s.execute(query.order_by(ChunkRow.id)):
                    questions = [q for q in asks.split("\n") if q]
                    vectors = np.frombuffer(raw, np.float32)
                    if not questions or vectors.size % len(questions):
                        continue
                    blocks.append(vectors.reshape(len(questions), -1))
                    ids.append(cid)
                    texts += questions
            dims = {b.shape[1] for b in blocks}
            if len(dims) > 1:  # two models' vectors: none compare (the model record refuses such an index)
                ids, blocks, texts = [], [], []
            matrix = np.concatenate(blocks) if blocks else np.zeros((0, 1), np.float32)
            owner = np.concatenate([np.full(len(b), i) for i, b in enumerate(blocks)]) if blocks else np.zeros(0, int)
            if stamp is not None:
                fresh = dict(kept) if stamp == kept_stamp else {}
                fresh[key] = (ids, matrix, owner, texts)
                self._asks = (stamp, fresh)
            return ids, matrix, owner, texts

    # -- writing ----------------------------------------------------------------------------------
    def replace_document(self, doc: DocumentRow, chunks: Sequence[Chunk]) -> None:
        """Store a (new or changed) document with its chunks. The vectors are written first, over the old
        version's (chunk ids are the document's and a position), after what is left of the old version was
        removed: a replica that sees the new rows in the database finds their vectors already there."""
        embeddings = self.embedder.embed([c.indexed_text for c in chunks])
        headings = self.embedder.embed([c.heading for c in chunks])
        asks = self._embed_asks([c.asks for c in chunks])
        ids = [f"{doc.id[:20]}-{c.position}" for c in chunks]
        # what the new version does not overwrite goes first: reading a collection (Chroma's `get`) between
        # writing vectors and the next query left the new vectors out of the query's index (Chroma 1.5, an
        # existing store; tests/ingest/test_ingest.py)
        self.vectors.delete_document(doc.id, keep=set(ids), language=doc.language)
        if chunks:
            meta = [{"document_id": doc.id, "language": doc.language} for _ in chunks]
            self.vectors.add(ids, embeddings, meta)
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
                    guide=c.guide,
                    asks="\n".join(c.asks),
                    asks_vectors=asked,
                )
                for cid, c, heading, asked in zip(ids, chunks, headings, asks, strict=True)
            )
        self._manifest_changes[doc.id] = doc.sha256
        if self._model_recorded != self.embedder.name:  # `vectors` above has checked it
            self._record_model(self.embedder.name)

    def remove_document(self, doc_id: str) -> None:
        self.vectors.delete_document(doc_id)
        with self.db.session() as s:
            s.execute(delete(ChunkRow).where(ChunkRow.document_id == doc_id))
            s.execute(delete(DocumentRow).where(DocumentRow.id == doc_id))
        self._manifest_changes[doc_id] = None

    def rebuild_vectors(self, batch: int = 256, locked: bool = False, change_model: bool = False) -> int:
        """Embed every chunk of the database into the vector store afresh: the chunk text in the
        database is the source of truth, so a lost or new vector store (a restored backup, a replica with
        its own embedded index) is rebuilt without the original files. `change_model` (`lotse ingest
        --rebuild`) may change the recorded model: the chunks' heading vectors are then computed anew, under
        a record that refuses every process until they are all written. Returns the number of chunks."""
        current, recorded = self.embedder.name, self.recorded_model()
        if recorded not in (None, current) and not change_model:
            raise ModelMismatch(_mismatch(recorded, current))
        with contextlib.nullcontext() if locked else self._manifest_lock():
            self._manifest_changes.clear()
            if change_model and recorded != current:
                self._record_model(f"{current} (unfinished: run lotse ingest --rebuild)")
                self._embed_headings(batch)
            self._manifest_path.unlink(missing_ok=True)  # until every vector is written: interrupted, all again
            (self._vectors or self._open_store()).reset()
            self._vectors = self._open_store()
            documents = self.document_versions()  # read before the chunks: a later change is caught next time
            count = self._embed_chunks(ChunkRow.id.is_not(None), batch)
            self._save_manifest(documents)
            self._record_model(current)
        return count

    def _embed_headings(self, batch: int) -> None:
        with self.db.session() as s:
            rows = list(s.execute(select(ChunkRow.id, ChunkRow.title, ChunkRow.section, ChunkRow.asks)))
        statement = (
            update(ChunkRow)
            .where(ChunkRow.id == bindparam("chunk"))
            .values(heading_vector=bindparam("vector"), asks_vectors=bindparam("asked"))
        )
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            vectors = self.embedder.embed([Chunk(title, section, "", 0).heading for _, title, section, _ in part])
            asked = self._embed_asks([[q for q in asks.split("\n") if q] for _, _, _, asks in part])
            values = [
                {"chunk": cid, "vector": vector.astype("float32").tobytes(), "asked": asked_vectors}
                for (cid, _, _, _), vector, asked_vectors in zip(part, vectors, asked, strict=True)
            ]
            with self.db.session() as s:
                s.connection().execute(statement, values)

    def _embed_asks(self, asks: Sequence[Sequence[str]]) -> list[bytes | None]:
        """The embeddings of each chunk's questions (its section's metadata) as float32 bytes, one call for all."""
        flat = [q for group in asks for q in group]
        vectors = self.embedder.embed(flat) if flat else []
        out: list[bytes | None] = []
        at = 0
        for group in asks:
            out.append(np.asarray(vectors[at : at + len(group)], dtype=np.float32).tobytes() if group else None)
            at += len(group)
        return out

    def _embed_chunks(self, where, batch: int = 256) -> int:
        columns = (
            ChunkRow.id,
            ChunkRow.document_id,
            ChunkRow.language,
            ChunkRow.title,
            ChunkRow.section,
            ChunkRow.text,
        )
        with self.db.session() as s:
            rows = list(s.execute(select(*columns).where(where).order_by(ChunkRow.id)))
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            texts = [Chunk(title, section, text, 0).indexed_text for _, _, _, title, section, text in part]
            meta = [{"document_id": doc, "language": lang} for _, doc, lang, _, _, _ in part]
            self.vectors.add([row[0] for row in part], self.embedder.embed(texts), meta)
        return len(rows)

    def rebuild_lexical(self, force: bool = False) -> None:
        """Build BM25 from the database's chunks, unless the data folder's current build was already made
        from the same documents (another process sharing the folder built it meanwhile); `force` builds anyway."""
        self._flush_manifest()
        with self.lexical.building():  # one builder per data folder at a time (an ingest beside `serve`)
            fingerprint = _fingerprint(self.document_versions())  # before the chunks: a later change is caught
            self.lexical.refresh()
            if not force and self.lexical.is_built and self.lexical.loaded_source == fingerprint:
                return
            with self.db.session() as s:
                rows = s.execute(
                    select(
                        ChunkRow.id, ChunkRow.language, ChunkRow.title, ChunkRow.section, ChunkRow.text, ChunkRow.asks
                    )
                )
                triples = [
                    (cid, lang, Chunk(title, section, text, 0, asks=tuple(asks.split("\n"))).lexical_text)
                    for cid, lang, title, section, text, asks in rows
                ]
            self.lexical.build(triples, source=fingerprint)

    # -- following other processes' ingests ---------------------------------------------------------
    def follow(self) -> bool:
        """Called before each question; at most every FOLLOW_SECONDS it asks the database whether the
        documents changed since this process's indexes were built (another replica or a `lotse ingest`
        elsewhere ingested), and if so brings them up to date before the question is searched. An ingest
        writes a document's vectors before its rows, so what the database shows is searchable. A failure
        (an embedding endpoint down, a full disk) is logged and the question goes on with the indexes as
        they are; the next check tries again. Returns True if the indexes were brought up to date."""
        with self._follow_lock:
            now = time.monotonic()
            if now < self._next_follow:
                return False
            self._next_follow = now + FOLLOW_SECONDS
            try:
                return self.catch_up()
            except Exception as exc:
                log.error("could not bring the search indexes up to the database: %s: %s", type(exc).__name__, exc)
                return False

    def catch_up(self) -> bool:
        """Bring this process's indexes up to the database's documents now: with an embedded Chroma the
        vectors of documents added, changed or removed elsewhere (all of them if this store kept no record),
        then BM25. A Chroma server is shared and written by the ingesting process. True if anything was
        out of date."""
        documents = self.document_versions()
        self.lexical.refresh()
        stale_lexical = not self.lexical.is_built or _fingerprint(documents) != self.lexical.loaded_source
        stale_vectors = self._catch_up_vectors(documents) if not self.settings.chroma_url else False
        if stale_lexical or stale_vectors:
            self.rebuild_lexical(force=stale_vectors)  # a new build: kept chunk rows and searches start afresh
        return stale_lexical or stale_vectors

    def _catch_up_vectors(self, documents: dict[str, str]) -> bool:
        _ = self.vectors  # opened (and its model checked, which may rebuild it) before the lock is taken
        self._flush_manifest()
        with self._manifest_lock():
            have = self._manifest()
            if have is None:
                self.rebuild_vectors(locked=True)
                return True
            gone = have.keys() - documents.keys()
            changed = [doc_id for doc_id, sha in documents.items() if have.get(doc_id) != sha]
            for doc_id in gone:
                self.vectors.delete_document(doc_id)
            for doc_id in changed:
                self.vectors.delete_document(doc_id)
                self._embed_chunks(ChunkRow.document_id == doc_id)
            if gone or changed:
                self._save_manifest(documents)
            return bool(gone or changed)

    def mark_vectors_current(self) -> None:
        """Record that the vector store holds the vectors of every document in the database, for a tool
        that wrote them itself (bench/latency.py's synthetic indexes)."""
        self._manifest_changes.clear()
        with self._manifest_lock():
            self._save_manifest(self.document_versions())

    # -- the embedded vector store's record of its documents ------------------------------------------
    @property
    def _manifest_path(self) -> Path:
        return self.settings.data_dir / MANIFEST

    def _manifest_lock(self):
        """Between the processes that share this data folder (`serve` and an ingest beside it)."""
        return file_lock(self._manifest_path.with_suffix(".lock"))

    def _manifest(self) -> dict[str, str] | None:
        try:
            found = json.loads(self._manifest_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return found if isinstance(found, dict) else None

    def _save_manifest(self, documents: dict[str, str]) -> None:
        if self.settings.chroma_url:
            return  # a shared server: its documents are the database's
        self._manifest_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._manifest_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(documents, sort_keys=True), encoding="utf-8")
        tmp.replace(self._manifest_path)

    def _flush_manifest(self) -> None:
        """Record the documents this process wrote to the vector store (once per ingest, not per document).
        A store that kept no record starts one only if this process wrote every document there is."""
        changes, self._manifest_changes = self._manifest_changes, {}
        if not changes or self.settings.chroma_url:
            return
        with self._manifest_lock():
            documents = self._manifest()
            if documents is None:
                written = {d for d, sha in changes.items() if sha is not None}
                if written != set(self.document_versions()):
                    return  # vectors of documents it does not know: `catch_up` rebuilds them all once
                documents = {}
            for doc_id, sha in changes.items():
                if sha is None:
                    documents.pop(doc_id, None)
                else:
                    documents[doc_id] = sha
            self._save_manifest(documents)


def _mismatch(built: str, current: str) -> str:
    return (
        f"the knowledge index was built with the embedding model {built}, and this Lotse is set to {current} "
        "(LOTSE_EMBEDDING_MODEL). Every process on one index must use the same model. To change the model, "
        "stop every process that uses the index and run `lotse ingest --rebuild` once with the new setting; "
        "otherwise set LOTSE_EMBEDDING_MODEL back."
    )


def _fingerprint(documents: dict[str, str]) -> str:
    return hashlib.sha1("\n".join(f"{d}:{sha}" for d, sha in sorted(documents.items())).encode()).hexdigest()
