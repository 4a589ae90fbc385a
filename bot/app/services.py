"""The one place where Lotse's parts are built (issue 21): the chat core, `lotse serve`, the terminal's
background nudges and every CLI command get them from `Services`, so there is one database engine per
process and no other `Database(...)` or store construction anywhere.

Each part is built on first use (`lotse plan status` opens the database, never the embedding model) and
then kept. Building writes nothing to the database; what Lotse records when it starts — its own entry
in the AI register, a change of the configured roles — happens in `start()`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.answering import AnswerService
    from bot.app.lotse import Lotse
    from bot.core.ports import Sender
    from bot.dialogs import Catalog
    from bot.reminders.service import SchedulerService
    from bot.reminders.spec import PlanSpec
    from bot.storage.db import Database
    from bot.storage.inbox import Inbox


def ingest_report(report, out=None) -> None:
    """What an ingest did, for the terminal (stderr)."""
    out = out or sys.stderr
    print(
        f"ingest: {len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed, {len(report.failed)} failed — {report.chunks} chunks "
        f"in {report.seconds:.1f} s",
        file=out,
    )
    for name, reason in report.failed:
        print(f"  could not index {name}: {reason}", file=out)
    for name, phrases in report.flagged:
        print(f"  instruction-like text in {name} (indexed as data, never followed): {phrases}", file=out)


def open_answers(settings: Settings, db: Database | None = None) -> AnswerService:
    """The answering service, with the bundled knowledge ingested first if the index is empty."""
    from bot.answering import AnswerService
    from ingest.index import KnowledgeIndex
    from ingest.pipeline import ingest

    service = AnswerService(settings, KnowledgeIndex(settings, db) if db is not None else None)
    service.index.preload()
    if service.index.chunk_count() == 0 and settings.knowledge_dir.is_dir():
        print(f"First run: indexing {settings.knowledge_dir} …", file=sys.stderr)
        ingest_report(ingest(service.index, [settings.knowledge_dir]))
    else:
        complete_index(service.index)
    return service


def complete_index(index) -> None:
    """The database holds chunks (another replica or an earlier run ingested them): build whatever this
    process lacks of the derived indexes — BM25 in its data folder, and the vector store if it is empty
    (a replica with its own embedded store, or a restored database beside a lost index) — and bring both
    up to documents that another process ingested since. While running, `KnowledgeIndex.follow` does the same."""
    if index.vectors.count() == 0:
        print("The vector index is empty: rebuilding it from the database …", file=sys.stderr)
        index.rebuild_vectors()
    built = index.lexical.is_built
    if index.catch_up() and built:  # documents ingested elsewhere since this data folder's indexes were built
        print("Brought this data folder's search indexes up to the documents in the database.", file=sys.stderr)


REGISTER_NAMES_TTL = 5.0  # seconds the register's names are reused for understanding requests


class Services:
    """Every part of Lotse, built once. `answers`, `catalog`, `plan` and `clock` replace what would be
    built from the settings (tests and benchmarks pass an answering service over a prepared index)."""

    def __init__(
        self,
        settings: Settings,
        *,
        answers: AnswerService | None = None,
        catalog: Catalog | None = None,
        plan: PlanSpec | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self._answers = answers
        self._catalog = catalog
        self._plan = plan
        self.clock = clock
        self.started = False

    # -- storage and the knowledge base ----------------------------------------------------------------

    @cached_property
    def db(self) -> Database:
        if self._answers is not None:
            return self._answers.index.db
        from bot.storage.db import Database

        return Database(self.settings.db_url, upgrade=self.settings.db_auto_upgrade)

    @cached_property
    def answers(self) -> AnswerService:
        """The answering service (loads the embedding model; ingests the knowledge folder on a first run)."""
        if self._answers is not None:
            return self._answers
        return open_answers(self.settings, self.db)

    def inbox(self, lease: float | None = None) -> Inbox:
        """The durable inbox of channel events; `lease`: seconds a turn is this process's (settings' default)."""
        from bot.storage.inbox import Inbox

        return Inbox(self.db, lease=self.settings.inbox_lease if lease is None else lease)

    @cached_property
    def audit(self):
        from bot.storage.audit import AuditLog

        return AuditLog(self.db)

    @cached_property
    def people(self):
        """Display names, masked before text goes to a non-local LLM; shared with the answering service."""
        from bot.storage.people import People

        return People(self.db)

    @cached_property
    def conversations(self):
        from bot.storage.conversations import ConversationStore

        return ConversationStore(self.db)

    @cached_property
    def deliveries(self):
        from bot.storage.deliveries import DeliveryLog

        return DeliveryLog(self.db)

    # -- knowledge gaps and the company FAQ (issue 25) -------------------------------------------------

    @cached_property
    def gaps(self):
        """The gap log: refused and 👎-rated questions, masked, grouped with the answering's embedder."""
        from bot.gaps.store import GapLog

        clock = {"clock": self.clock} if self.clock else {}
        return GapLog(
            self.db, lambda text: self.answers.index.embedder.embed_one(text), names=self.people.names, **clock
        )

    @cached_property
    def faq(self):
        """The company FAQ, indexed beside the guide (the knowledge index is opened on first use)."""
        from bot.core.language import detect_language
        from bot.gaps.faq import CompanyFaq

        clock = {"clock": self.clock} if self.clock else {}
        return CompanyFaq(self.db, lambda: self.answers.index, self.audit, detect=detect_language, **clock)

    @cached_property
    def gap_commands(self):
        """`/wissen`: the knowledge gaps and the company FAQ in chat, for knowledge owners."""
        from bot.gaps.commands import GapCommands

        return GapCommands(
            self.gaps, self.faq, self.dialogs, self.roles, plans=self.reminders.plans, documents=self.documents
        )

    @cached_property
    def documents(self):
        """Company documents a knowledge owner sends in chat (issue 25)."""
        from bot.gaps.documents import CompanyDocuments

        return CompanyDocuments(self.settings.data_dir, lambda: self.answers.index, self.roles, self.audit)

    @cached_property
    def answer_notices(self):
        """Askers told that their question has an answer now; `/hinweise aus|an`."""
        from bot.gaps.notices import AnswerNotices

        return AnswerNotices(self.gaps, self.faq)

    @cached_property
    def answer_feedback(self):
        from bot.storage.answer_feedback import AnswerFeedbackStore

        return AnswerFeedbackStore(self.db)

    @cached_property
    def references(self):
        """Where proactive messages go; which channel message carries which answer."""
        from bot.storage.references import ReferenceStore

        return ReferenceStore(self.db)

    # -- roles, safety -------------------------------------------------------------------------------

    @cached_property
    def roles(self):
        from bot.core.roles import Roles

        return Roles(self.settings)

    @cached_property
    def notices(self):
        from bot.safety.limits import Notices

        return Notices(self.db)

    @cached_property
    def limiter(self):
        from bot.safety.limits import RateLimiter

        return RateLimiter(self.db, self.settings.rate_per_minute, self.settings.rate_per_hour)

    # -- assessments ---------------------------------------------------------------------------------

    @cached_property
    def catalog(self) -> Catalog:
        if self._catalog is not None:
            return self._catalog
        from bot.dialogs import load_catalog

        return load_catalog(self.settings.assessments_dir)

    @cached_property
    def results(self):
        from bot.dialogs import Results

        return Results(self.db, self.catalog, self.settings.charts_dir)

    @cached_property
    def dialogs(self):
        """The dialog engine with every feature's forms (pilots, privacy's erasure, the register, the FAQ)."""
        from bot.dialogs import DialogEngine
        from bot.dialogs.forms import FormSet
        from bot.gaps.forms import GapForms
        from bot.pilots.forms import PilotForms
        from bot.register.forms import RegisterForms

        forms = FormSet(
            PilotForms(self.pilot_store, self.settings.pilots_dir),
            self.privacy,
            RegisterForms(self.register_store),
            GapForms(self.gaps, self.faq, names=self.people.name_of),
        )
        return DialogEngine(self.db, self.catalog, self.results, forms)

    # -- pilots --------------------------------------------------------------------------------------

    @cached_property
    def pilot_store(self):
        from bot.pilots.store import PilotStore

        return PilotStore(self.db)  # its key lives in the database

    @cached_property
    def reports(self):
        from bot.pilots.report import Reports

        return Reports(self.db)

    @cached_property
    def pilots(self):
        from bot.pilots.commands import PilotCommands

        s = self.settings
        return PilotCommands(
            self.pilot_store, self.reports, self.dialogs, self.roles, charts_dir=s.charts_dir, exports_dir=s.exports_dir
        )

    # -- the AI register, the audit log, privacy -----------------------------------------------------

    @cached_property
    def register_store(self):
        from bot.register.store import RegisterStore

        return RegisterStore(self.db, self.audit)

    @cached_property
    def register(self):
        from bot.register.commands import RegisterCommands

        return RegisterCommands(self.register_store, self.dialogs, self.roles, self.settings.exports_dir)

    @cached_property
    def audit_view(self):
        from bot.audit.view import AuditView

        return AuditView(self.audit, self.roles, self.people)

    @cached_property
    def personal(self):
        from bot.privacy import PersonalData

        return PersonalData(self.db, self.pilot_store, self.audit)

    @cached_property
    def privacy(self):
        """The people's rights in chat; the core sets `on_erase` (what it forgets after an erasure)."""
        from bot.privacy import Privacy

        return Privacy(self.personal, self.settings.exports_dir)

    @cached_property
    def status(self):
        """`/status`: the plan's week, the latest results, the running pilots."""
        from bot.status import StatusView

        return StatusView(self.results, self.plan, self.pilot_store)

    # -- natural-language actions ---------------------------------------------------------------------

    @cached_property
    def action_catalog(self):
        from bot.actions.catalog import load_actions

        return load_actions(self.settings.actions_file)

    @cached_property
    def pending(self):
        from bot.storage.pending import PendingActions

        return PendingActions(self.db)

    @cached_property
    def actions(self):
        """Requests in plain words (issue 22): understood with the answering service's embedder, checked
        against the guide's own questions."""
        from bot.actions.service import Actions
        from bot.actions.understand import Understander

        index = self.answers.index

        def guide():
            return index.asked(None)[1]

        register: list = [0.0, []]  # (read at, names): every plain message asks, the register rarely changes

        def names(kind: str, scope: str) -> list[str]:
            if kind == "pilot":
                return self.pilot_store.names(scope)
            if time.monotonic() - register[0] > REGISTER_NAMES_TTL:
                register[:] = [time.monotonic(), [e.name for e in self.register_store.entries()]]
            return register[1]

        cache = self.settings.data_dir / "actions-model.npz"
        understander = Understander(self.action_catalog, lambda: index.embedder, guide, cache=cache,
                                    embed_one=self.answers.retriever.embed_query)  # fmt: skip
        clock = self.clock
        today = (lambda: clock().date()) if clock else None
        actions = Actions(understander, self.pending, names=names, enabled=self.settings.actions,
                          **({"today": today} if today else {}))  # fmt: skip
        llm = self.settings.llm
        if llm.enabled:
            from bot.actions.llm import ToolRouter
            from bot.answering.llm import chat_model

            model = []
            actions.tools = ToolRouter(lambda: model[0] if model else model.append(chat_model(llm)) or model[0])
            if not llm.local:
                from bot.safety.masking import Masker, Vault

                actions.mask = lambda text: Masker(self.people.names()).mask(text, Vault())
        return actions

    # -- the 90-day plan -----------------------------------------------------------------------------

    @cached_property
    def plan_spec(self) -> PlanSpec:
        if self._plan is not None:
            return self._plan
        from bot.reminders.spec import load_plan

        return load_plan(self.settings.plan_file)

    @cached_property
    def reminders(self):
        from bot.reminders.planner import Reminders

        reminders = Reminders(self.db, self.plan_spec, self.clock) if self.clock else Reminders(self.db, self.plan_spec)
        if self.settings.gaps:  # the knowledge owners' weekly digest goes out with the plan's nudges (issue 25)
            reminders.digest = lambda language, since: self.gap_commands.digest(language, since)
            reminders.notices = lambda now, channels: self.answer_notices.due(now, channels)  # askers told
        return reminders

    @cached_property
    def plan(self):
        from bot.reminders.commands import PlanCommands

        return PlanCommands(self.reminders)

    def purge(self, now: datetime | None = None, actor: str | None = None) -> dict[str, int]:
        """Apply the retention period now (see `bot.privacy.purge`), the inbox's handled events included."""
        from bot.privacy import purge

        counts = purge(self.personal, self.settings, now, **({"actor": actor} if actor else {}))
        counts["inbox"] = self.inbox().purge(now)
        return counts

    def scheduler(self, senders: Sequence[Sender], role: str) -> SchedulerService:
        """The nudge scheduler for these senders (`role` names the process in its lease: serve, console);
        its daily housekeeping applies the retention period."""
        from bot.reminders.dispatch import Dispatcher
        from bot.reminders.service import SchedulerService

        return SchedulerService(Dispatcher(self.reminders, list(senders)), self.db, role=role, housekeeping=self.purge)

    # -- starting ------------------------------------------------------------------------------------

    def start(self) -> Services:
        """What Lotse records when it starts, once per process: its own entry in the AI register (Lotse is
        an AI application too) and a change of the configured roles in the audit log."""
        if not self.started:
            self.register_store.ensure_self(self.settings)
            self.roles.record_changes(self.audit)
            if self.settings.actions:
                self.action_catalog  # noqa: B018  (a broken catalog stops the start, with its reason)
            self.started = True
        return self


def build_core(
    settings: Settings,
    answers: AnswerService | None = None,
    catalog: Catalog | None = None,
    *,
    plan: PlanSpec | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Lotse:
    """The chat core on freshly built, started services (chat, serve, tests)."""
    from bot.app.lotse import Lotse

    return Lotse(Services(settings, answers=answers, catalog=catalog, plan=plan, clock=clock).start())
