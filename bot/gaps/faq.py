"""The company FAQ: answers knowledge owners give to the questions the guide could not answer. Each entry
is a document of the knowledge index of its own (one chunk: the question as its heading and the answer),
written at once and followed by every replica as an ingest is; cited as "Unternehmens-FAQ (Stand …,
von …)". A withdrawn entry leaves the index and stays in the database for the audit trail."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from bot.core.clock import local, stamp
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import DocumentRow, FaqRow, utcnow
from ingest.chunking import Chunk

ROOT = "lotse:company-faq"
TITLE = {"de": "Unternehmens-FAQ (Stand {day}, von {author})", "en": "Company FAQ (as of {day}, by {author})"}
SOURCE = {"de": "Unternehmens-FAQ", "en": "Company FAQ"}
LIMITS = {"question": 300, "answer": 3000, "link": 500}
FORMATS = ("csv", "json")


class FaqError(ValueError):
    """A value that does not fit; `key` is the locale key of why, `values` fill it."""

    def __init__(self, key: str, **values) -> None:
        super().__init__(key)
        self.key, self.values = key, values


def doc_id(entry_id: int) -> str:
    return hashlib.sha1(f"{ROOT}/{entry_id}".encode()).hexdigest()


def link_of(source: str, text: str) -> str:
    """The link of a company-FAQ passage (its last line, as `index_entry` writes it), or ""."""
    if source not in SOURCE.values():
        return ""
    last = text.rstrip().rsplit("\n", 1)[-1].strip()
    return last if re.fullmatch(r"https://[^\s<>|]+", last) else ""


def citation_title(entry: FaqRow) -> str:
    day = local(entry.updated_at)
    shown = day.strftime("%d.%m.%Y") if entry.language == "de" else day.date().isoformat()
    return TITLE[entry.language].format(day=shown, author=entry.author)


def as_dict(e: FaqRow) -> dict:
    """An entry as files and `lotse faq list --json` show it; times in Berlin time with the offset."""
    return {
        "id": e.id,
        "question": e.question,
        "answer": e.answer,
        "link": e.link,
        "language": e.language,
        "author": e.author,
        "created_at": stamp(e.created_at),
        "updated_at": stamp(e.updated_at),
        "withdrawn_at": stamp(e.withdrawn_at),
    }


def checked(question: str, answer: str, link: str = "") -> tuple[str, str, str]:
    question, answer, link = " ".join(question.split()), answer.strip(), link.strip()
    if not question:
        raise FaqError("faq_no_question")
    if not answer:
        raise FaqError("faq_no_answer")
    for name, value in (("question", question), ("answer", answer), ("link", link)):
        if len(value) > LIMITS[name]:
            raise FaqError("faq_too_long", field=name, limit=LIMITS[name], length=len(value))
    if link and not link.startswith(("https://", "http://")):
        raise FaqError("faq_bad_link", link=link)
    return question, answer, link


class CompanyFaq:
    def __init__(
        self,
        db: Database,
        index: Callable[[], object],
        audit: AuditLog,
        detect: Callable[[str], str] = lambda text: "de",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.index = index  # () → ingest.index.KnowledgeIndex: opened on first write (the embedder loads with it)
        self.audit = audit
        self.detect = detect
        self.clock = clock

    # -- reading ------------------------------------------------------------------------------------

    def entries(self, withdrawn: bool = False) -> list[FaqRow]:
        query = select(FaqRow).order_by(FaqRow.id)
        if not withdrawn:
            query = query.where(FaqRow.withdrawn_at.is_(None))
        with self.db.session() as s:
            return list(s.scalars(query).all())

    def get(self, entry_id: int) -> FaqRow | None:
        with self.db.session() as s:
            return s.get(FaqRow, entry_id)

    # -- writing ------------------------------------------------------------------------------------

    def add(self, question: str, answer: str, link: str, author: str, author_key: str) -> FaqRow:
        """A new entry, in the index at once; raises FaqError for a value that does not fit."""
        with self.db.session() as s:
            entry = self.insert(s, question, answer, link, author, author_key)
        self.index_entry(entry)
        return entry

    def insert(self, s, question: str, answer: str, link: str, author: str, author_key: str) -> FaqRow:
        """The entry's row and audit entry in the caller's transaction (a dialog's last answer closes it in
        the same one); `index_entry` then makes it answer questions."""
        question, answer, link = checked(question, answer, link)
        now = self.clock()
        entry = FaqRow(
            question=question,
            answer=answer,
            link=link,
            language=self.detect(question),
            author=author[:200],
            author_key=author_key[:300],
            created_at=now,
            updated_at=now,
        )
        s.add(entry)
        s.flush()
        self.audit.record(author_key, "faq.add", question[:120], session=s, entry=entry.id)
        return entry

    def edit(
        self, entry_id: int, actor: str, question: str | None = None, answer: str | None = None, link: str | None = None
    ) -> FaqRow | None:
        with self.db.session() as s:
            entry = s.get(FaqRow, entry_id)
            if entry is None or entry.withdrawn_at is not None:
                return None
            q, a, lk = checked(question or entry.question, answer or entry.answer, entry.link if link is None else link)
            changed = [
                f
                for f, old, new in (
                    ("question", entry.question, q),
                    ("answer", entry.answer, a),
                    ("link", entry.link, lk),
                )
                if old != new
            ]
            entry.question, entry.answer, entry.link, entry.updated_at = q, a, lk, self.clock()
            entry.language = self.detect(q)
            self.audit.record(actor, "faq.update", q[:120], session=s, entry=entry.id, fields=changed)
        self.index_entry(entry)
        return entry

    def withdraw(self, entry_id: int, actor: str) -> FaqRow | None:
        with self.db.session() as s:
            entry = s.get(FaqRow, entry_id)
            if entry is None or entry.withdrawn_at is not None:
                return None
            entry.withdrawn_at = self.clock()
            self.audit.record(actor, "faq.withdraw", entry.question[:120], session=s, entry=entry.id)
        index = self.index()
        index.remove_document(doc_id(entry.id))
        index.rebuild_lexical()
        return entry

    def index_entry(self, entry: FaqRow) -> None:
        text = entry.answer + (f"\n{entry.link}" if entry.link else "")
        chunk = Chunk(citation_title(entry), entry.question, text, 0, asks=(entry.question,))
        content = json.dumps([entry.question, text, chunk.title], ensure_ascii=False).encode()
        doc = DocumentRow(
            id=doc_id(entry.id),
            path=f"{ROOT}/{entry.id}",
            root=ROOT,
            source=SOURCE[entry.language],
            title=chunk.title,
            language=entry.language,
            sha256=hashlib.sha256(content).hexdigest(),
        )
        index = self.index()
        index.replace_document(doc, [chunk])
        index.rebuild_lexical()

    # -- files --------------------------------------------------------------------------------------

    def export(self, fmt: str, out: Path) -> int:
        """Every entry, withdrawn ones too (marked), as CSV or JSON; times in Berlin time with the offset."""
        fmt = fmt.lower().lstrip(".")
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}: allowed are {', '.join(FORMATS)}")
        rows = [as_dict(e) for e in self.entries(withdrawn=True)]
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "json":
            out.write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        else:
            from bot.pilots.export import csv_cell

            with out.open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(
                    list(rows[0])
                    if rows
                    else [
                        "id",
                        "question",
                        "answer",
                        "link",
                        "language",
                        "author",
                        "created_at",
                        "updated_at",
                        "withdrawn_at",
                    ]
                )
                for row in rows:
                    writer.writerow([csv_cell(v) for v in row.values()])
        return len(rows)
