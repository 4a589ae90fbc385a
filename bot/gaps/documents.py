"""Company documents sent in chat (issue 25): a knowledge owner sends a file (PDF, DOCX, Markdown, HTML,
text) to Lotse in a direct chat; Lotse checks it (type, size, pages, readable text, instruction-like text
flagged as `lotse ingest` flags it) and asks to confirm; confirmed, it is ingested like `lotse ingest` —
indexed at once, the other replicas follow — and cited as the company's own document, preferred for
questions about "uns". `/wissen dokumente` lists them with a button to remove each. The channel fetches
the file (Slack with the bot token, Teams from its download link) into `uploads/`; confirmed files are
kept in `company-docs/` under the data folder."""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from bot.core import i18n
from bot.core.messages import Choice, Incoming, Question, Reply, Task
from bot.core.roles import Roles
from bot.core.routing import Route
from bot.core.uploads import MAX_BYTES
from bot.storage.audit import AuditLog
from ingest.chunking import chunk_document
from ingest.loaders import LOADERS, LoadError, load
from ingest.pipeline import flagged, ingest

MAX_PAGES = 300  # a PDF's pages
KEPT = 24 * 3600  # seconds an unconfirmed upload is kept
_TOKEN = re.compile(r"[0-9a-f]{16}")


class CompanyDocuments:
    def __init__(self, data_dir: Path, index: Callable[[], object], roles: Roles, audit: AuditLog) -> None:
        self.pending_dir = data_dir / "uploads"
        self.folder = data_dir / "company-docs"
        self.index = index  # the knowledge index, opened on first use
        self.roles = roles
        self.audit = audit

    def routes(self) -> list[Route]:
        return [
            Route(
                "document-button",
                lambda turn, language: self.button(turn.message, language),
                button="doc:",
                language="conversation",
            ),
            Route("document-upload", lambda turn, language: self.received(turn.message, language)),
        ]

    # -- a file arrives ------------------------------------------------------------------------------

    def received(self, message: Incoming, language: str) -> Reply | None:
        """A message with files: checked and proposed for the index (knowledge owners, direct chat)."""
        if not message.uploads:
            return None
        self.sweep()
        if not self.roles.knowledge_owner(message):
            self._discard(message)
            return Reply(i18n.text("documents_owners_only", language), language, answered=False)
        if not message.private:
            self._discard(message)
            return Reply(i18n.text("documents_private_only", language), language, answered=False)
        replies = [self._check(upload, language) for upload in message.uploads]
        if len(replies) == 1:
            return replies[0]
        return Reply("\n\n".join(r.text for r in replies), language, answered=any(r.answered for r in replies),
                     tasks=[t for r in replies for t in r.tasks])  # fmt: skip

    def _check(self, upload: dict, language: str) -> Reply:
        name, size, path = str(upload.get("name") or "?"), int(upload.get("size") or 0), upload.get("path")
        refuse = None
        suffix = Path(name).suffix.lower()
        if upload.get("error"):
            refuse = i18n.text("documents_not_fetched", language, name=name, error=upload["error"])
        elif suffix not in LOADERS:
            refuse = i18n.text("documents_type", language, name=name, kinds=", ".join(sorted(LOADERS)))
        elif size > MAX_BYTES or (path and Path(path).stat().st_size > MAX_BYTES):
            refuse = i18n.text("documents_too_big", language, name=name, mb=MAX_BYTES // (1024 * 1024))
        if refuse is None:
            try:
                pages = _pages(Path(path)) if suffix == ".pdf" else 0
                if pages > MAX_PAGES:
                    raise LoadError(i18n.text("documents_too_many_pages", language, pages=pages, most=MAX_PAGES))
                loaded = load(Path(path))
                chunks = chunk_document(loaded)
                if not chunks:
                    raise LoadError(i18n.text("documents_no_text", language))
            except LoadError as exc:
                refuse = i18n.text("documents_unreadable", language, name=name, reason=str(exc))
        if refuse is not None:
            if path:
                Path(path).unlink(missing_ok=True)
            return Reply(refuse, language, answered=False)
        token = Path(path).name.split("__", 1)[0]
        words = sum(len(c.text.split()) for c in chunks)
        lines = [i18n.text("documents_check", language, name=name, title=loaded.title, count=len(chunks),
                           words=words)]  # fmt: skip
        phrases = flagged(loaded, chunks)
        if phrases:
            lines.append(i18n.text("documents_flagged", language, phrases="; ".join(f"„{p}“" for p in phrases[:3])))
        choices = [Choice(f"doc:add:{token}", i18n.text("documents_button_add", language)),
                   Choice(f"doc:drop:{token}", i18n.text("documents_button_drop", language))]  # fmt: skip
        question = Question("document", token, "choice", choices, steered=False)
        return Reply("\n".join(lines), language, question=question, kind="confirm")

    def sweep(self, now: float | None = None) -> int:
        """Uploads nobody confirmed or dropped within `KEPT` seconds are deleted (the next upload sweeps)."""
        now = time.time() if now is None else now
        gone = 0
        for path in self.pending_dir.glob("*__*") if self.pending_dir.is_dir() else ():
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > KEPT:
                    path.unlink()
                    gone += 1
        return gone

    def _discard(self, message: Incoming) -> None:
        for upload in message.uploads:
            if upload.get("path"):
                Path(upload["path"]).unlink(missing_ok=True)

    # -- buttons --------------------------------------------------------------------------------------

    def button(self, message: Incoming, language: str) -> Reply | None:
        """doc:add:<token>, doc:drop:<token> (an upload), doc:remove:<number> (a company document)."""
        parts = (message.value or "").split(":")
        if len(parts) != 3:
            return None
        if not self.roles.knowledge_owner(message):
            return Reply(i18n.text("documents_owners_only", language), language, answered=False)
        what, key = parts[1], parts[2]
        if what == "remove" and key.isdecimal() and len(key) < 6:
            return self.remove(message, int(key), language)
        if what not in ("add", "drop") or not _TOKEN.fullmatch(key):
            return None
        found = sorted(self.pending_dir.glob(f"{key}__*"))
        if not found:
            return Reply(i18n.text("documents_expired", language), language, answered=False)
        upload = found[0]
        name = upload.name.split("__", 1)[1]
        if what == "drop":
            upload.unlink(missing_ok=True)
            return Reply(i18n.text("documents_dropped", language, name=name), language)
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / name
        replaced = target.exists()
        shutil.move(str(upload), target)
        report = ingest(self.index(), [target], progress=False)
        if report.failed:
            target.unlink(missing_ok=True)
            return Reply(i18n.text("documents_unreadable", language, name=name, reason=report.failed[0][1]), language,
                         answered=False)  # fmt: skip
        self.audit.record(message.user_key, "document.add", name, chunks=report.chunks, replaced=replaced)
        return Reply(i18n.text("documents_added", language, name=name, count=report.chunks), language)

    # -- the list -------------------------------------------------------------------------------------

    def documents(self) -> list:
        root = str(self.folder.resolve())
        return [d for d in self.index().documents() if d.root == root]

    def listing(self, language: str) -> Reply:
        docs = self.documents()
        if not docs:
            return Reply(i18n.text("documents_none", language), language)
        tasks = [
            Task(str(n), f"{d.source} – {d.title}",
                 actions=[Choice(f"doc:remove:{n}", i18n.text("documents_button_remove", language))])
            for n, d in enumerate(docs, 1)
        ]  # fmt: skip
        return Reply(i18n.text("documents_header", language, count=len(docs)), language, tasks=tasks)

    def remove(self, message: Incoming, number: int, language: str) -> Reply:
        docs = self.documents()
        if not 1 <= number <= len(docs):
            return Reply(i18n.text("documents_unknown", language, number=number), language, answered=False)
        doc = docs[number - 1]
        index = self.index()
        index.remove_document(doc.id)
        index.rebuild_lexical()
        Path(doc.path).unlink(missing_ok=True)
        self.audit.record(message.user_key, "document.remove", doc.source)
        return Reply(i18n.text("documents_removed", language, name=doc.source), language)


def _pages(path: Path) -> int:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        return len(PdfReader(str(path)).pages)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise LoadError(f"not a readable PDF ({exc.__class__.__name__}: {exc})") from exc
