"""The lexical side of the index: one BM25 index (bm25s) per language over stemmed, decompounded terms.

Built from the chunk table after every ingest and saved under the data folder; a running Lotse
notices a newer build through a stamp file and reloads it. Each build records which documents it was
made from (`source`), so a replica can tell that another process has ingested since.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from bot.storage.locking import file_lock
from ingest.analysis import Analyzer, words

log = logging.getLogger(__name__)
SOURCE = ".source"  # <stamp>.source beside the build <stamp>/: the documents it was made from


def _quiet_bm25s() -> None:
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG by itself


class LexicalIndex:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # (stamp, source, {language: (bm25, chunk ids, analyzer)}) of the loaded build, swapped as one:
        # turns on other threads search while a new build is loaded
        self._loaded: tuple[str | None, str | None, dict[str, tuple[object, list[str], Analyzer]]] = (None, None, {})
        self._loading = threading.Lock()  # one thread loads a new build, the others wait for it

    # -- building ---------------------------------------------------------------------------------
    def build(self, chunks: Iterable[tuple[str, str, str]], source: str | None = None) -> None:
        """Rebuild from (chunk id, language, indexed text) triples and publish atomically. `source` names
        the state of the documents the chunks were read from (KnowledgeIndex's fingerprint)."""
        import bm25s

        _quiet_bm25s()
        by_language: dict[str, list[tuple[str, str]]] = {}
        for chunk_id, language, text in chunks:
            by_language.setdefault(language, []).append((chunk_id, text))
        stamp = f"{os.getpid()}-{os.urandom(4).hex()}"
        target = self.directory / stamp
        for language, items in by_language.items():
            vocabulary = sorted({w for _, text in items for w in words(text) if not w.isdigit()})
            analyzer = Analyzer(language, vocabulary)
            retriever = bm25s.BM25()
            retriever.index([analyzer.terms(text) for _, text in items], show_progress=False)
            out = target / language
            out.mkdir(parents=True, exist_ok=True)
            retriever.save(str(out), show_progress=False)
            (out / "lotse.json").write_text(
                json.dumps({"ids": [cid for cid, _ in items], "vocabulary": vocabulary}), encoding="utf-8"
            )
        target.mkdir(parents=True, exist_ok=True)
        # beside the build, not in it: a release before this one reads every entry of a build as a language
        (self.directory / f"{stamp}{SOURCE}").write_text(source or "", encoding="utf-8")
        tmp = self.directory / f"CURRENT.{stamp}.tmp"
        tmp.write_text(stamp, encoding="utf-8")
        tmp.replace(self.directory / "CURRENT")
        for old in self.directory.iterdir():  # earlier builds; a reader mid-load keeps its open files
            if old.is_dir() and old.name != stamp:
                _remove_tree(old)
            elif old.name.endswith(SOURCE) and old.name != f"{stamp}{SOURCE}":
                old.unlink(missing_ok=True)

    @contextlib.contextmanager
    def building(self):
        """Held while building and publishing: processes sharing a data folder (`serve` following an
        ingest, and the ingest itself) build one at a time, so neither removes the other's half-made build."""
        with file_lock(self.directory / ".lock"):
            yield

    # -- searching --------------------------------------------------------------------------------
    def _current_stamp(self) -> str | None:
        try:
            return (self.directory / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None

    @property
    def loaded_stamp(self) -> str | None:
        """Which build is loaded; it changes with every ingest that changed something."""
        return self._loaded[0]

    @property
    def loaded_source(self) -> str | None:
        """The documents' fingerprint the loaded build was made from; None for a build that recorded none."""
        return self._loaded[1]

    @property
    def _indexes(self) -> dict[str, tuple[object, list[str], Analyzer]]:
        return self._loaded[2]

    @property
    def is_built(self) -> bool:
        return self._current_stamp() is not None

    def refresh(self) -> None:
        """Load the current build if it is not the loaded one."""
        if self._current_stamp() == self.loaded_stamp:
            return
        with self._loading:
            for _ in range(3):
                stamp = self._current_stamp()
                if stamp == self.loaded_stamp:
                    return  # another thread loaded it meanwhile
                try:
                    self._loaded = (stamp, *self._load(stamp))
                    return
                except FileNotFoundError:  # a newer build replaced this one while it was read: load that
                    continue
            log.warning("%s: the BM25 build %s cannot be read; searching without it", self.directory, stamp)
            self._loaded = (stamp, None, {})

    def _load(self, stamp: str | None) -> tuple[str | None, dict[str, tuple[object, list[str], Analyzer]]]:
        import bm25s

        indexes, source = {}, None
        base = self.directory / stamp if stamp else None
        if base and not base.is_dir():
            raise FileNotFoundError(base)  # replaced by a newer build between reading CURRENT and here
        if base:
            with contextlib.suppress(FileNotFoundError):
                source = (self.directory / f"{stamp}{SOURCE}").read_text(encoding="utf-8") or None
            for folder in base.iterdir():
                meta = json.loads((folder / "lotse.json").read_text(encoding="utf-8"))
                retriever = bm25s.BM25.load(str(folder), mmap=False, show_progress=False)
                indexes[folder.name] = (retriever, meta["ids"], Analyzer(folder.name, meta["vocabulary"]))
        return source, indexes

    @property
    def languages(self) -> set[str]:
        return set(self._indexes)

    def analyzer(self, language: str) -> Analyzer:
        entry = self._indexes.get(language)
        return entry[2] if entry else Analyzer(language)

    def search(self, text: str, language: str, k: int) -> list[tuple[str, float]]:
        """The k best chunks of one language as (chunk id, BM25 score), best first; score > 0 only."""
        entry = self._indexes.get(language)
        if entry is None:
            return []
        retriever, ids, analyzer = entry
        terms = [t for t in analyzer.terms(text) if t in retriever.vocab_dict]
        if not terms:
            return []
        scores = retriever.get_scores(terms)
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(ids) else np.arange(len(ids))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(ids[i], float(scores[i])) for i in top if scores[i] > 0]


def _remove_tree(path: Path) -> None:
    for child in path.iterdir():
        if child.is_dir():
            _remove_tree(child)
        else:
            child.unlink(missing_ok=True)
    path.rmdir()
