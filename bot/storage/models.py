"""Tables. The knowledge index keeps its documents and chunks here (the text is the source of truth;
Chroma and BM25 are derived indexes), and chats keep their recent turns for follow-up questions.

Longer than the house's ~400 lines on purpose: the whole schema in one file, read side by side with the
migrations in `migrations/versions/` (each table is a short declaration; splitting them by feature would
scatter the foreign keys and the one `Base.metadata` that Alembic compares)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
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


class IndexStateRow(Base):
    """What every process on this database must agree on about the knowledge index. `embedding_model`: the
    model the chunks' heading vectors came from, and so the one every replica's query vectors must use."""

    __tablename__ = "index_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


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
    guide: Mapped[str] = mapped_column(Text, default="", server_default="")  # the guide's section it restates
    asks: Mapped[str] = mapped_column(Text, default="", server_default="")  # questions it answers, one a line
    asks_vectors: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # their embeddings, float32


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DeliveryRow(Base):
    """An inbound event already taken (Slack event, Teams activity): its key is recorded before the
    event is processed, so a retry or a second replica finds it and does nothing."""

    __tablename__ = "deliveries"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InboxRow(Base):
    """An inbound message that asks for a turn (Slack event, Teams activity), committed before it is
    acknowledged: its dedupe key, the channel-neutral message and where to reply (`payload`, JSON), and
    how far its turn got (`progress`, JSON: the reply once made, how many of its messages are posted).
    It belongs to the replica that received it (`owner`) while that replica's heartbeat is fresh
    (`InboxOwnerRow`); another replica takes over the items of one that went silent, in order per
    conversation."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_open", "state", "owner"), Index("ix_inbox_conversation", "conversation"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    conversation: Mapped[str] = mapped_column(String(400))
    payload: Mapped[str] = mapped_column(Text)  # JSON
    progress: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    state: Mapped[str] = mapped_column(String(10), default="open")  # open, done, failed
    owner: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InboxOwnerRow(Base):
    """A `lotse serve` process that works inbox items, and when it last said it is alive: one row per
    process, renewed every second, instead of a lease per item."""

    __tablename__ = "inbox_owners"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    heartbeat: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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


class PlanRow(Base):
    """A team's 90-day plan: when its nudges are due (weekday, local time, zone, German state for
    holidays) and whether it runs. Nothing due before `active_from` is sent (no replay after a pause)."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(200), index=True)  # channel:workspace
    status: Mapped[str] = mapped_column(String(16))  # active, paused, stopped
    start: Mapped[date] = mapped_column(Date)
    weekday: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[str] = mapped_column(String(5), default="09:00")
    tz: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    language: Mapped[str] = mapped_column(String(8), default="de")
    created_by: Mapped[str] = mapped_column(String(200))
    active_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PlanTargetRow(Base):
    """Where a plan's nudges go: a Slack channel or user, a Teams conversation, the terminal. Champions
    get the feedback reminders of the pilot weeks; the team gets everything else."""

    __tablename__ = "plan_targets"
    __table_args__ = (UniqueConstraint("plan_id", "channel", "address", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # slack, teams, console
    address: Mapped[str] = mapped_column(String(400))  # Slack channel/user id, Teams conversation key, console
    role: Mapped[str] = mapped_column(String(16), default="team")  # team, champion
    tz: Mapped[str | None] = mapped_column(String(64), nullable=True)  # overrides the plan's zone
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PlanTaskRow(Base):
    """A task's state in a plan; a task without a row is open."""

    __tablename__ = "plan_tasks"

    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True)
    task: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # done, snoozed, na, open
    snoozed_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NudgeRow(Base):
    """One outbound nudge, recorded before it is sent: the key (plan, target, occurrence) is unique, so
    a restart, a retry or a second process can never send it twice. A sender claims a pending row
    (status → sending, committed) before it calls Slack or Teams, then records the outcome."""

    __tablename__ = "nudges"
    __table_args__ = (
        Index("ix_nudges_status_due", "status", "due_at"),
        Index("ix_nudges_plan", "plan_id", "target_id"),
    )

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # plan:target:occurrence
    plan_id: Mapped[int] = mapped_column(Integer)
    target_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    occurrence: Mapped[str] = mapped_column(String(24))  # W03, F09, 2027-Q2, S2026-12-01
    kind: Mapped[str] = mapped_column(String(16))  # week, feedback, quarter, snooze
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sending, sent, failed, unknown
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    message_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)  # Slack ts, Teams activity id
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class LeaseRow(Base):
    """Who runs the scheduler (SQLite; PostgreSQL uses an advisory lock): renewed while alive, taken
    over by another process once it has expired."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SecretRow(Base):
    """Random secrets shared by every Lotse process on this database (the pilot feedback author key)."""

    __tablename__ = "secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class PilotRow(Base):
    """A pilot project the IT lead measures: its users, costs and the hourly rate that turns time saved
    into money. Feedback and KPI measurements hang off it."""

    __tablename__ = "pilots"
    __table_args__ = (UniqueConstraint("scope", "name"), {"sqlite_autoincrement": True})  # ids are never reused

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(200), index=True)  # channel:workspace
    name: Mapped[str] = mapped_column(String(120))
    use_case: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    users: Mapped[int] = mapped_column(Integer, default=0)  # people using the pilot system
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)  # feedback may be given anonymously
    one_off_cost: Mapped[float] = mapped_column(Float, default=0.0)
    monthly_cost: Mapped[float] = mapped_column(Float, default=0.0)  # licences, cloud, maintenance
    hourly_rate: Mapped[float] = mapped_column(Float, default=0.0)  # value of one hour saved
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PilotCostRow(Base):
    """From which month a pilot's running cost applies (issue 24): changing it later must not rewrite the
    months before. A pilot with no rows has run at `PilotRow.monthly_cost` throughout; the first change
    also records the cost it had until then, from the pilot's first month."""

    __tablename__ = "pilot_costs"
    __table_args__ = (UniqueConstraint("pilot_id", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id", ondelete="CASCADE"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)  # the first day of the month it applies from
    monthly_cost: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KpiRow(Base):
    """A KPI of a pilot: baseline measured before it, target, and which way is better."""

    __tablename__ = "pilot_kpis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(40), default="")
    direction: Mapped[str] = mapped_column(String(8))  # lower, higher (is better)
    baseline: Mapped[float] = mapped_column(Float)
    target: Mapped[float] = mapped_column(Float)
    target_change: Mapped[float | None] = mapped_column(Float, nullable=True)  # the target as given in %, if so
    method: Mapped[str] = mapped_column(Text, default="")  # how it is measured


class PilotFeedbackRow(Base):
    """One feedback entry of a pilot user, or of a group meeting a champion collected (group_size > 1).
    `author_key` is a keyed hash of the user, so people find, change and erase their own entries, also
    anonymous ones, while `author` (shown in reports and exports) stays empty for those."""

    __tablename__ = "pilot_feedback"
    __table_args__ = (  # an entry's number is never reused after a withdrawal (exports may cite it)
        Index("ix_pilot_feedback_pilot_created", "pilot_id", "created_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id", ondelete="CASCADE"))
    dialog_id: Mapped[int | None] = mapped_column(ForeignKey("dialogs.id", ondelete="SET NULL"), unique=True)
    author_key: Mapped[str] = mapped_column(String(64), index=True)
    author: Mapped[str | None] = mapped_column(String(200), nullable=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    group_size: Mapped[int] = mapped_column(Integer, default=1)
    satisfaction: Mapped[int] = mapped_column(Integer)  # 1–5
    minutes_saved: Mapped[float | None] = mapped_column(Float, nullable=True)  # per person and week
    works: Mapped[str | None] = mapped_column(Text, nullable=True)
    not_working: Mapped[str | None] = mapped_column(Text, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    language: Mapped[str] = mapped_column(String(8), default="de")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KpiValueRow(Base):
    """A KPI measurement given with a feedback entry."""

    __tablename__ = "pilot_kpi_values"

    feedback_id: Mapped[int] = mapped_column(ForeignKey("pilot_feedback.id", ondelete="CASCADE"), primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("pilot_kpis.id", ondelete="CASCADE"), primary_key=True, index=True)
    value: Mapped[float] = mapped_column(Float)


class RegisterEntryRow(Base):
    """One AI application in the company's register (EU AI Act inventory): what it is for, who owns
    it, which model and provider, what data it uses, its risk class and status, and when it is reviewed."""

    __tablename__ = "ai_register"
    __table_args__ = (UniqueConstraint("scope", "name"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(200), index=True)  # channel:workspace, or "local"
    name: Mapped[str] = mapped_column(String(120))
    purpose: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    provider: Mapped[str] = mapped_column(String(200), default="")
    data_sources: Mapped[str] = mapped_column(Text, default="")
    personal_data: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_class: Mapped[str] = mapped_column(String(16))  # minimal, limited, high, prohibited
    status: Mapped[str] = mapped_column(String(16))  # idea, pilot, production, retired
    next_review: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditRow(Base):
    """Who did what, when: changes to plans, roles, pilots and the AI register, data exports and
    erasures. Never message text; `detail` names fields and counts, not contents."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(300))  # user key (channel:workspace:user), or "system"/"cli:<login>"
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. pilot.update, data.erase
    target: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class PersonRow(Base):
    """The display name of someone Lotse talks to (from their Slack or Teams profile): masked in text
    sent to an LLM endpoint that is not local, and erased with the person's data."""

    __tablename__ = "people"

    user_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LlmUsageRow(Base):
    """LLM calls and tokens per day (UTC), for the daily budget; shared by every replica."""

    __tablename__ = "llm_usage"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    tokens: Mapped[int] = mapped_column(Integer, default=0)


class RateRow(Base):
    """Questions per user and time window, for the rate limit; shared by every replica. Old windows
    are deleted as new ones are counted."""

    __tablename__ = "rate_limits"

    user_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    window: Mapped[str] = mapped_column(String(32), primary_key=True)  # e.g. m:2026-11-25T20:15, h:2026-11-25T20
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class NoticeRow(Base):
    """Notices a user has been shown once, e.g. that Lotse is an AI assistant and what it stores
    (EU AI Act Art. 50) at the first contact."""

    __tablename__ = "notices"

    user_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    shown_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PendingActionRow(Base):
    """An action asked for in plain words that changes something, waiting for its requester's Confirm
    (issue 22): single use, only in the conversation (and so by the person) that asked, until it expires."""

    __tablename__ = "pending_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)  # in the Confirm/Cancel buttons' values
    conversation: Mapped[str] = mapped_column(String(400), index=True)  # channel:workspace:user:conversation
    action: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[str] = mapped_column(Text, default="{}")  # JSON: the resolved slot values
    command: Mapped[str] = mapped_column(Text)  # what runs on Confirm, as the slash command it stands for
    language: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending, done, cancelled
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GapGroupRow(Base):
    """Questions Lotse could not answer, or whose answer was rated 👎, grouped by meaning (issue 25): what a
    knowledge owner sees in the weekly digest. A new question is compared with the logged ones (their
    `GapRow.vector`). `state`: open, answered (a company FAQ entry exists), ignored, off_topic."""

    __tablename__ = "gap_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    example: Mapped[str] = mapped_column(Text)  # the first question, masked
    language: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(12), default="open", index=True)
    faq_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GapRow(Base):
    """One refused question or 👎-rated answer: its text masked as for an external LLM, its language, the
    kind of channel; the asker's key only to tell them once the group has an answer (erased with their
    data, purged after the retention period)."""

    __tablename__ = "gaps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("gap_groups.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))  # slack, teams, console
    kind: Mapped[str] = mapped_column(String(12))  # refused, downvoted
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)  # 👎's reason
    answer_id: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)  # the rated answer
    user_key: Mapped[str | None] = mapped_column(String(300), nullable=True, index=True)
    # the asker's direct chat (channel address), where "there is an answer now" goes; None outside one
    reply_to: Mapped[str | None] = mapped_column(String(300), nullable=True)
    notified: Mapped[bool] = mapped_column(Boolean, default=False)
    vector: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # its embedding (float32)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class FaqRow(Base):
    """An entry of the company FAQ: an answer a knowledge owner gave in chat or on the command line,
    indexed beside the guide and cited as "Unternehmens-FAQ (Stand …, von …)". Withdrawn entries stay for
    the audit trail, out of the index."""

    __tablename__ = "company_faq"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(200))  # the name shown in citations
    author_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
