"""`lotse ingest`: read files into the knowledge index, skipping what has not changed.

A file is identified by its absolute path and compared by SHA-256: unchanged files are skipped,
changed files replace their chunks, files gone from an ingested folder leave the index. A file that
cannot be read is reported with its reason; the rest is still indexed. A file with instruction-like text
("ignore previous instructions") is indexed and reported as flagged.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.language import detect_language
from bot.safety.injection import instruction_like
from bot.storage import DocumentRow
from ingest.chunking import chunk_document
from ingest.index import KnowledgeIndex, document_id
from ingest.loaders import LOADERS, LoadError, load


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    # (file, phrases): instruction-like text such as "ignore previous instructions" in a new or changed
    # file; it is indexed as data all the same, and the LLM prompt marks its passages (bot/safety/injection.py)
    flagged: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


class IngestPathError(ValueError):
    """A path given to ingest does not exist."""


def _files_below(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix.lower() in LOADERS
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def _language_of(relative: Path, text: str) -> str:
    for part in relative.parts[:-1]:
        if part.lower() in ("de", "en"):
            return part.lower()
    return detect_language(text[:4000])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def flagged(loaded, chunks) -> list[str]:
    """Text of a document that reads like an instruction to an AI (shown when it is ingested; never obeyed)."""
    return instruction_like("\n".join([loaded.title, *(f"{c.section}\n{c.text}" for c in chunks)]))


def ingest(index: KnowledgeIndex, paths: Iterable[Path], progress: bool | None = None) -> IngestReport:
    from tqdm import tqdm

    started = time.perf_counter()
    report = IngestReport()
    work: list[tuple[Path, Path]] = []  # (file, root it is relative to)
    roots: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser().resolve()
        if path.is_dir():
            roots.append(path)
            work.extend((f, path) for f in _files_below(path))
        elif path.is_file():
            work.append((path, path.parent))
        else:
            raise IngestPathError(f"{raw}: no such file or folder")

    known = {d.path: d for d in index.documents()}
    seen: set[str] = set()
    bar = tqdm(work, desc="ingest", unit="file", file=sys.stderr, disable=None if progress is None else not progress)
    for path, root in bar:
        relative = path.relative_to(root)
        seen.add(str(path))
        try:
            sha = _sha256(path)
        except OSError as exc:
            report.failed.append((str(relative), f"cannot read the file ({exc.strerror or exc})"))
            continue
        previous = known.get(str(path))
        if previous is not None and previous.sha256 == sha:
            report.unchanged.append(str(relative))
            continue
        try:
            loaded = load(path)
            chunks = chunk_document(loaded)
        except LoadError as exc:
            report.failed.append((str(relative), str(exc)))
            continue
        if not chunks:
            report.failed.append((str(relative), "no text found in the file"))
            continue
        sample = " ".join(c.text for c in chunks[:20])
        doc = DocumentRow(
            id=document_id(path),
            path=str(path),
            root=str(root),
            source=relative.as_posix(),
            title=loaded.title,
            language=_language_of(relative, sample),
            sha256=sha,
        )
        index.replace_document(doc, chunks)
        report.chunks += len(chunks)
        phrases = flagged(loaded, chunks)
        if phrases:
            report.flagged.append((str(relative), "; ".join(f"„{p}“" for p in phrases[:3])))
        (report.updated if previous is not None else report.added).append(str(relative))

    for root in roots:
        for path_str, doc in known.items():
            if doc.root == str(root) and path_str not in seen:
                index.remove_document(doc.id)
                report.removed.append(doc.source)

    if report.changed or not index.lexical.is_built:
        index.rebuild_lexical()
    report.seconds = time.perf_counter() - started
    return report
