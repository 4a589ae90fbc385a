"""Tables. The knowledge index keeps its documents and chunks here (the text is the source of truth;
Chroma and BM25 are derived indexes), and chats keep their recent turns for follow-up questions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class DocumentRow(Base):
    """One ingested file, keyed by its absolute path; `sha256` decides whether it must be re-read."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha1 of the absolute path
    path: Mapped[str] = mapped_column(Text, unique=True)
    root: Mapped[str] = mapped_column(Text, index=True)
    source: Mapped[str] = mapped_column(Text)  # path relative to the ingested root, shown in citations
    title: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    sha256: Mapped[str] = mapped_column(String(64))
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChunkRow(Base):
    __tablename__ = "chunks"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(Text)
    section: Mapped[str] = mapped_column(Text)  # heading path below the title, " > " separated
    source: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    # embedding of the chunk's own heading (float32 bytes), for ranking by heading at query time
    heading_vector: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class MessageRow(Base):
    """A turn of a conversation; the key is channel:workspace:user:conversation."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_id", "conversation", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation: Mapped[str] = mapped_column(String(400))
    role: Mapped[str] = mapped_column(String(16))  # "user" or "assistant"
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="de")
    sources: Mapped[str] = mapped_column(Text, default="")  # chunk ids an answer cited, space separated
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
