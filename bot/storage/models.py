"""Tables. The knowledge index keeps its documents and chunks here (the text is the source of truth;
Chroma and BM25 are derived indexes), and chats keep their recent turns for follow-up questions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
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


class DialogRow(Base):
    """A guided assessment in progress (or finished) in one conversation. `trail` is the JSON list of
    answers in order; everything else about the dialog is replayed from it (bot/dialogs/flow.py)."""

    __tablename__ = "dialogs"
    __table_args__ = (Index("ix_dialogs_conversation_status", "conversation", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation: Mapped[str] = mapped_column(String(400))  # channel:workspace:user:conversation
    assessment: Mapped[str] = mapped_column(String(64))
    spec_version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))  # active, paused, done, cancelled
    language: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(200))  # channel:workspace — whose results these are
    trail: Mapped[str] = mapped_column(Text, default="[]")
    revision: Mapped[int] = mapped_column(Integer, default=0)  # +1 per saved step; guards concurrent writers
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AssessmentResultRow(Base):
    """A completed assessment: the answers and the scorer's metrics, for the latest result, the change
    since the previous run and exports. One per dialog, so a repeated final answer stores nothing twice."""

    __tablename__ = "assessment_results"
    __table_args__ = (Index("ix_assessment_results_scope", "assessment", "scope", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dialog_id: Mapped[int | None] = mapped_column(ForeignKey("dialogs.id", ondelete="SET NULL"), unique=True)
    assessment: Mapped[str] = mapped_column(String(64))
    spec_version: Mapped[int] = mapped_column(Integer, default=1)
    scope: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    answers: Mapped[str] = mapped_column(Text)  # JSON
    metrics: Mapped[str] = mapped_column(Text, default="{}")  # JSON: metric key → number
    chart_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DeliveryRow(Base):
    """An inbound event already taken (Slack event, Teams activity): its key is recorded before the
    event is processed, so a retry or a second replica finds it and does nothing."""

    __tablename__ = "deliveries"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AnswerFeedbackRow(Base):
    """👍/👎 on one of Lotse's answers (message_id → the stored answer), or general feedback on Lotse
    (message_id None, with a 1–5 rating). One row per user and answer: a second click updates it."""

    __tablename__ = "answer_feedback"
    __table_args__ = (Index("ux_answer_feedback_user", "message_id", "user", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), nullable=True)
    user: Mapped[str] = mapped_column(String(200))  # channel:workspace:user
    rating: Mapped[int] = mapped_column(Integer)  # +1 / -1 for answers, 1–5 for general feedback
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)  # outdated, wrong_section, unclear, missing
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    question: Mapped[str | None] = mapped_column(Text, nullable=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    sources: Mapped[str] = mapped_column(Text, default="")  # chunk ids the answer cited
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConversationRefRow(Base):
    """Where a proactive message goes: a Teams conversation reference as wire JSON
    (`ConversationReference.serialize()`), kept current from each inbound activity."""

    __tablename__ = "conversation_refs"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)  # channel:conversation id
    user_key: Mapped[str] = mapped_column(String(300), index=True)  # channel:tenant:user of the last sender
    reference: Mapped[str] = mapped_column(Text)  # JSON
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # false once the user removed Lotse (403)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AnswerLinkRow(Base):
    """Which stored answer a channel's message shows (Teams' 👍/👎 arrives with the message id only)."""

    __tablename__ = "answer_links"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)  # channel:conversation:message id
    answer_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
