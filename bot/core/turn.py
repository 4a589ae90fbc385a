"""One turn of a conversation, channel-neutral: commands, or a question for the answering service.
The user's message and the reply are stored before the reply is returned."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot import metrics
from bot.answering import Answer, AnswerService
from bot.core import i18n
from bot.core.audit_view import COMMANDS as AUDIT_COMMANDS
from bot.core.audit_view import AuditView
from bot.core.language import detect_language
from bot.core.messages import Citation, Incoming, Reply
from bot.core.privacy import ERASE, Privacy, purge
from bot.core.roles import Roles
from bot.core.routing import Route, Router, Turn
from bot.dialogs import Catalog, DialogEngine, Results, load_catalog
from bot.dialogs.forms import FormSet
from bot.pilots.commands import PilotCommands
from bot.pilots.forms import PilotForms
from bot.pilots.report import Reports
from bot.pilots.store import PilotStore
from bot.register.commands import COMMANDS as REGISTER_COMMANDS
from bot.register.commands import RegisterCommands
from bot.register.forms import RegisterForms
from bot.register.store import RegisterStore
from bot.reminders.commands import PlanCommands
from bot.reminders.planner import Reminders
from bot.reminders.spec import PlanSpec, load_plan
from bot.safety.limits import Notices, RateLimiter
from bot.settings import Settings
from bot.storage.answer_feedback import AnswerFeedbackStore
from bot.storage.conversations import ConversationStore
from bot.storage.deliveries import DeliveryLog
from bot.storage.inbox import Inbox
from bot.storage.people import People
from bot.storage.personal import PersonalData
from bot.storage.references import ReferenceStore

HISTORY_TURNS = 6
ADMIN_COMMANDS = ("/export",)
FEEDBACK = {"/feedback": None, "/rückmeldung": "de", "/rueckmeldung": "de"}  # command → the language it implies


def reply_for(answer: Answer) -> Reply:
    """The channel-neutral reply for an answer, citing only what its text refers to; the passages it does
    not quote go along as `nearest` (with a refusal: what the guide covers nearby, "Meinten Sie …?")."""
    cited = _cited(answer)
    quoted = {c.source + c.section + c.text for c in cited}
    nearest = [
        Citation(0, p.title, p.source, p.section, p.text, p.score, p.guide, used=False)
        for p in answer.sources
        if p.source + p.section + p.text not in quoted
    ]
    kind = "answer" if answer.answered else "refusal"
    return Reply(answer.answer, answer.language, cited, answer.answered, answer.mode, nearest=nearest, kind=kind)


def _cited(answer: Answer) -> list[Citation]:
    """Only the passages the answer text refers to, renumbered in order of first mention."""
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)]
    order = list(dict.fromkeys(n for n in numbers if 1 <= n <= len(answer.sources)))
    return [
        Citation(n, p.title, p.source, p.section, p.text, p.score, p.guide)
        for n, p in ((n, answer.sources[n - 1]) for n in order)
    ]


class Lotse:
    """The core. Channels build an `Incoming`, call `handle`, and render the `Reply`."""

    def __init__(self, settings: Settings, answers: AnswerService | None = None, catalog: Catalog | None = None,
                 plan: PlanSpec | None = None, clock=None):  # fmt: skip
        self.settings = settings
        self.answers = answers or AnswerService(settings)
        db = self.answers.index.db
        self.conversations = ConversationStore(db)
        catalog = catalog if catalog is not None else load_catalog(settings.assessments_dir)
        self.results = Results(db, catalog, settings.charts_dir)
        self.roles = Roles(settings)
        self.pilot_store = PilotStore(db)  # its key lives in the database
        self.personal = PersonalData(db, self.pilot_store)
        self.notices = Notices(db)  # the AI disclosure, once per person
        self._erased: set[str] = set()  # people whose data this turn erased: their reply records nothing new
        self.privacy = Privacy(self.personal, settings.exports_dir, on_erase=self._forget)
        self.register_store = RegisterStore(db)  # the company's AI register, one for every channel
        forms = FormSet(PilotForms(self.pilot_store, settings.pilots_dir), self.privacy,
                        RegisterForms(self.register_store))  # fmt: skip
        self.dialogs = DialogEngine(db, catalog, self.results, forms)
        self.reports = Reports(db)
        self.pilots = PilotCommands(self.pilot_store, self.reports, self.dialogs, self.roles, settings.charts_dir,
                                    settings.exports_dir)  # fmt: skip
        self.deliveries = DeliveryLog(db)
        self.feedback = AnswerFeedbackStore(db)
        self.references = ReferenceStore(db)  # where proactive messages go; channel message → answer links
        plan = plan if plan is not None else load_plan(settings.plan_file)
        self.reminders = Reminders(db, plan, clock) if clock else Reminders(db, plan)
        self.plan = PlanCommands(self.reminders)
        self.limiter = RateLimiter(db, settings.rate_per_minute, settings.rate_per_hour)
        self.people = self.answers.people or People(db)  # display names, masked before text goes to a non-local LLM
        # names serve one purpose, masking towards an LLM that is not on premises: without one none are kept
        self.masks_names = settings.llm.enabled and not settings.llm.local
        self.answers.people = self.people
        self.register = RegisterCommands(self.register_store, self.dialogs, self.roles, settings.exports_dir)
        self.audit_view = AuditView(self.register_store.audit, self.roles, self.people)  # /audit
        self.register_store.ensure_self(settings)  # Lotse is an AI application too: in the register from its start
        self.roles.record_changes(self.register_store.audit)  # roles change by configuration: logged at start
        self.router = self._routes()

    def handle(self, message: Incoming, on_text: Callable[[str], None] | None = None) -> Reply:
        """The reply to one message (see `_turn`). A message over the length limit is refused before
        anything is stored or searched; the first answer to something a person typed says that Lotse is
        an AI assistant and what it stores (EU AI Act Art. 50), once per person, also across replicas. (A
        button click may redraw a message the whole channel sees, and a refusal is often a private ack:
        neither carries the notice, which then comes with the next answer.)"""
        text = message.text or ""
        if len(text) > self.settings.max_message_chars:
            language = detect_language(text[:500])
            limit = self.settings.max_message_chars
            return Reply(i18n.text("message_too_long", language, length=len(text), limit=limit), language,
                         answered=False)  # fmt: skip
        if message.user_name and self.masks_names:
            self.people.remember(message.user_key, message.user_name)
        reply = self._turn(message, on_text)
        if message.user_key in self._erased:  # "lösche meine Daten" confirmed: the next answer tells again
            self._erased.discard(message.user_key)
            return reply
        if message.value is None and reply.answered and self.notices.first(message.user_key, "ai_disclosure"):
            reply = replace(reply, notice=i18n.text("ai_disclosure", reply.language))
        return reply

    def _forget(self, user_key: str) -> None:
        """After an erasure: this process forgets that it told the person and the name it wrote, and the
        reply confirming the erasure stores no new notice."""
        self.notices.forget(user_key)
        self.people.forget(user_key)  # the row went with the erasure; the next message writes the name again
        self._erased.add(user_key)

    def _routes(self) -> Router:
        """The routing table: tried top to bottom, the first route that matches and replies answers."""
        return Router([
            Route("admin", lambda turn, _: self.admin_command(turn.message), words=frozenset(ADMIN_COMMANDS)),
            Route("plan-button", lambda turn, lang: self.plan.button(turn.message, lang), button="plan:",
                  language="conversation"),
            Route("plan", lambda turn, lang: self.plan.handle(turn.message, lang), words=frozenset({"/plan"}),
                  language="conversation"),
            Route("pilot", lambda turn, lang: self.pilots.handle(turn.message, lang), words=frozenset({"/pilot"}),
                  typed_only=True),
            Route("register", lambda turn, lang: self.register.handle(turn.message, lang),
                  words=frozenset(REGISTER_COMMANDS), typed_only=True),
            Route("audit", lambda turn, lang: self.audit_view.handle(turn.message, lang),
                  words=frozenset(AUDIT_COMMANDS), typed_only=True),
            Route("privacy", lambda turn, lang: self._privacy(turn.message, self.privacy.request(turn.text), lang),
                  phrase=self.privacy.request, typed_only=True),
            Route("dialog", lambda turn, lang: self.dialogs.handle(turn.message, lang), language="turn"),
            Route("command", lambda turn, lang: self._command(turn.message, turn.text, lang),
                  phrase=lambda text: text.startswith("/"), language="turn"),
            Route("question", self._question, language="turn"),
        ])  # fmt: skip

    def _turn(self, message: Incoming, on_text: Callable[[str], None] | None = None) -> Reply:
        """The reply to one message: the first route of `_routes` that takes it (an open assessment comes
        after the commands that work beside it, and before the other commands, questions about the team's
        own results and the knowledge base). `on_text` receives an LLM answer's text while it is written,
        for channels that stream; the returned reply has all of it."""
        message = self.roles.apply(message)
        history = self.conversations.recent(message.conversation_key, HISTORY_TURNS)
        _route, reply = self.router.route(Turn.of(message, history, on_text))  # the last route always replies
        return reply

    def _question(self, turn: Turn, language: str) -> Reply:
        """A question: about the team's own results if it is one, else for the knowledge base."""
        message, text, history, on_text = turn.message, turn.text, turn.history, turn.on_text
        last_language = turn.conversation_language
        reply, hint = self.results.answer_question(text, message.scope, turn.message_language)
        if reply is not None:
            return reply
        if message.channel != "console" and (wait := self.limiter.check(message.user_key)) is not None:
            metrics.QUESTIONS.labels(message.channel, "rate_limited").inc()
            return Reply(i18n.text("rate_limited", language, seconds=wait), language, answered=False)
        cited_before = set(history[-1].sources.split()) if history and history[-1].role == "assistant" else set()
        answer = self.answers.ask(text, [(m.role, m.text) for m in history], last_language, cited_before, on_text)
        metrics.QUESTIONS.labels(message.channel, "answered" if answer.answered else "refused").inc()
        if not text:
            return Reply(answer.answer, answer.language, answered=False)
        reply = reply_for(answer)
        if hint and answer.answered:  # how to get this from the team's own results, under the guide's answer
            reply = replace(reply, text=f"{reply.text}\n\n{hint}")
        key = message.conversation_key
        cited = [answer.sources[c.number - 1].chunk_id for c in reply.citations]
        answer_id = self.conversations.append_turn(key, text, answer.answer, answer.language, cited)
        return replace(reply, answer_id=answer_id)

    def _privacy(self, message: Incoming, request: str, language: str) -> Reply:
        if request == "erase" and not message.private:
            return Reply(i18n.text("pilot_private_only", language), language, answered=False)
        if request == "summary":
            return Reply(self.privacy.summary(message, language), language)
        if request == "export":
            return self.privacy.export(message, language)
        spec = self.dialogs.spec(ERASE)
        return self.dialogs.begin(
            message, spec, language, restart=True, intro=i18n.text("privacy_erase_intro", language)
        )

    def _feedback(self, message: Incoming, rest: str, language: str) -> Reply:
        """`/feedback` offers the form (channels render it: a Teams card, a Slack modal); typed as
        `/feedback 4 what to improve` it is stored at once, which works in every channel."""
        if not rest:
            return Reply(i18n.text("feedback_form_intro", language), language, form="feedback")
        rating, _, comment = rest.partition(" ")
        if rating not in {"1", "2", "3", "4", "5"}:
            return Reply(i18n.text("feedback_typed_rating", language), language, answered=False)
        self.general_feedback(message, int(rating), comment.strip() or None)
        return Reply(i18n.text("feedback_thanks", language), language)

    # -- services the channels need besides `handle` ------------------------------------------------

    def first_delivery(self, key: str) -> bool:
        """True the first time an inbound event with this key arrives (in any process); channels skip
        retries and duplicate deliveries when it is False."""
        return self.deliveries.first_time(key)

    def rate_answer(self, answer_id: int, message: Incoming, rating: int, reason: str | None = None,
                    comment: str | None = None) -> bool:  # fmt: skip
        """👍 (+1) or 👎 (−1) on an answer, with an optional reason; False if there is no such answer."""
        return self.feedback.rate(answer_id, message.user_key, rating, reason, comment) is not None

    def general_feedback(self, message: Incoming, rating: int, comment: str | None) -> None:
        self.feedback.general(message.user_key, rating, comment)

    def data_summary(self, message: Incoming, language: str) -> str:
        """What Lotse stores about the sender, in numbers."""
        return self.privacy.summary(message, language)

    def admin_command(self, message: Incoming) -> Reply | None:
        """The reply to an admin-only command (`/export`), decided before anything else is looked at;
        None if the message is no admin command. Channels set `Incoming.admin` from their own IDs."""
        words = message.text.strip().lower().split()
        if not words or words[0] not in ADMIN_COMMANDS:
            return None
        language = detect_language(message.text)
        message = self.roles.apply(message)
        if not message.admin:
            return Reply(i18n.text("admin_only", language), language, answered=False)
        return Reply(i18n.text("export_hint", language), language)

    def purge(self, now: datetime | None = None) -> dict[str, int]:
        """Apply the retention period now (see `bot.core.privacy.purge`)."""
        counts = purge(self.personal, self.settings, now)
        counts["inbox"] = Inbox(self.answers.index.db, owner="purge").purge(now)
        return counts

    def may_stream(self, message: Incoming) -> bool:
        """Whether the reply may be an LLM answer worth streaming: an LLM is configured and the message
        is a question (no button, no command, no running assessment)."""
        return (
            self.settings.llm.enabled
            and message.value is None
            and not message.text.strip().startswith("/")
            and not self.in_dialog(message)
        )

    def in_dialog(self, message: Incoming) -> bool:
        """Whether an assessment is running in this conversation (a channel then passes on messages it
        would otherwise ignore, e.g. thread replies without a mention)."""
        return self.dialogs.store.active(message.conversation_key) is not None

    def _command(self, message: Incoming, text: str, language: str) -> Reply:
        """/help, /feedback, or an unknown command; with a dialog open, the reply says it waits."""
        reply = self._command_reply(message, text, language)
        waiting = self.dialogs.waiting(message, language)
        return replace(reply, text=f"{reply.text}\n\n{waiting}") if waiting else reply

    def _command_reply(self, message: Incoming, text: str, language: str) -> Reply:
        command, _, rest = text.partition(" ")
        command = command.lower()
        if command in ("/help", "/hilfe", "/start"):
            return Reply(i18n.text("help", language), language)
        if command in FEEDBACK:
            return self._feedback(message, rest.strip(), FEEDBACK[command] or language)
        return Reply(i18n.text("unknown_command", language, command=command), language, answered=False)
