"""The turn (issue 21): guards → the routing table → the AI disclosure. One message in, one reply out,
channel-neutral; the user's message and the reply are stored before the reply is returned. Everything
Lotse is made of comes from `bot.app.services.Services`; the routes from `bot.app.routes`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from bot import metrics
from bot.answering import Answer
from bot.app.routes import FEEDBACK, HELP, table
from bot.core import i18n
from bot.core.language import detect_language
from bot.core.messages import Citation, Incoming, Reply
from bot.core.ports import Command, Status
from bot.core.routing import Router, Turn

if TYPE_CHECKING:
    from bot.app.services import Services
    from bot.storage.inbox import Inbox

HISTORY_TURNS = 6
HELP_ACTIONS = ("pilot.feedback", "plan.status", "privacy.summary")  # /help shows one request of each


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
    """The core as channels see it (`bot.core.ports.Core`): they build an `Incoming`, call `handle`, and
    render the `Reply`. `Services` holds the parts; the few kept here are the ones every turn uses."""

    def __init__(self, services: Services) -> None:
        self.services = s = services
        self.settings = s.settings
        self.answers = s.answers
        self.conversations = s.conversations
        self.results = s.results
        self.roles = s.roles
        self.notices = s.notices  # the AI disclosure, once per person
        self.people = s.people  # display names, masked before text goes to a non-local LLM
        self.limiter = s.limiter
        self.dialogs = s.dialogs
        self.privacy = s.privacy
        self.plan = s.plan
        # the routing table's handlers, found on these attributes at call time (tests spy on them)
        self.pilots, self.register, self.audit_view, self.status_view = s.pilots, s.register, s.audit_view, s.status
        # names serve one purpose, masking towards an LLM that is not on premises: without one none are kept
        self.masks_names = s.settings.llm.enabled and not s.settings.llm.local
        self.answers.people = self.people
        self._erased: set[str] = set()  # people whose data this turn erased: their reply records nothing new
        self.privacy.on_erase = self._forget
        self.router = Router(table(self, s))
        s.actions.run, s.actions.answer = self.run_command, self.question
        s.actions.defer = lambda text: self.results.match(text) is not None
        s.actions.role_of = self.roles.of
        self.dialogs.aside = self._aside  # a question typed at a choice: the guide answers, the question again
        self.dialogs.interrupt = s.actions.inside_dialog  # a request typed there: a read runs, others offered
        s.actions.busy = self.in_dialog

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
            return Reply(
                i18n.text("message_too_long", language, length=len(text), limit=limit), language, answered=False
            )
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

    def _turn(self, message: Incoming, on_text: Callable[[str], None] | None = None) -> Reply:
        """The reply to one message: the first route of the table (`bot.app.routes`) that takes it. `on_text`
        receives an LLM answer's text while it is written, for channels that stream; the returned reply
        has all of it."""
        message = self.roles.apply(message)
        history = self.conversations.recent(message.conversation_key, HISTORY_TURNS)
        turn = Turn.of(message, history, on_text, role=self.roles.of(message))
        route, reply = self.router.route(turn)  # the last route always replies
        if route.dialog_waits and reply.question is None:  # not when the reply asks a dialog's question itself
            waiting = self.dialogs.waiting(message, reply.language)
            if waiting:
                reply = replace(reply, text=f"{reply.text}\n\n{waiting}")
        return reply

    def run_command(self, message: Incoming, command: str) -> tuple[Reply, bool]:
        """An action asked for in plain words, run as the command it stands for (issue 22): the routing
        table decides, with its roles and direct-chat rules, before the natural-language route. (The
        reply, whether the table refused it for the sender's role or place.)"""
        message = replace(self.roles.apply(message), text=command, value=None)
        history = self.conversations.recent(message.conversation_key, HISTORY_TURNS)
        turn = Turn.of(message, history, role=self.roles.of(message))
        found = self.router.route(turn, before="action")  # never plain words again: no loop
        if found is None:
            return self.question(turn, turn.message_language), False
        route, reply = found
        return reply, route.refuses(turn) is not None

    def _aside(self, message: Incoming, language: str) -> Reply | None:
        """The guide's answer to a question typed inside an assessment, if the guide has one (issue 22)."""
        history = self.conversations.recent(message.conversation_key, HISTORY_TURNS)
        reply = self.question(Turn.of(message, history, role=self.roles.of(message)), language)
        return reply if reply.answered and reply.mode in ("extractive", "llm") else None

    # -- the handlers of the routes that live here ----------------------------------------------------

    def export_hint(self, turn: Turn, language: str) -> Reply:
        """`/export` (admins): where the exports are."""
        return Reply(i18n.text("export_hint", language), language)

    def question(self, turn: Turn, language: str) -> Reply:
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

    def command(self, turn: Turn, language: str) -> Reply:
        """/help, /feedback, or an unknown command (with a dialog open, `_turn` adds that it waits)."""
        message, text = turn.message, turn.text
        command, _, rest = text.partition(" ")
        command = command.lower()
        if command in HELP:
            lines = [i18n.text("help", language), *self.router.help(language)]
            if self.settings.actions:  # requests in plain words, from the action catalog (issue 22)
                actions = {a.id: a for a in self.services.action_catalog}
                said = [actions[i].examples[language][0] for i in HELP_ACTIONS if i in actions]
                lines.append(i18n.text("help_actions", language, examples=" · ".join(f"„{e}“" for e in said)))
            return Reply("\n".join(lines), language)
        if command in FEEDBACK:
            return self._feedback(message, rest.strip(), FEEDBACK[command] or language)
        return Reply(i18n.text("unknown_command", language, command=command), language, answered=False)

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

    # -- what channels call besides `handle` (bot.core.ports.Core) ---------------------------------------

    def first_delivery(self, key: str) -> bool:
        """True the first time an inbound event with this key arrives (in any process); channels skip
        retries and duplicate deliveries when it is False."""
        return self.services.deliveries.first_time(key)

    def rate_answer(
        self, answer_id: int, message: Incoming, rating: int, reason: str | None = None, comment: str | None = None
    ) -> bool:
        """👍 (+1) or 👎 (−1) on an answer, with an optional reason; False if there is no such answer."""
        return self.services.answer_feedback.rate(answer_id, message.user_key, rating, reason, comment) is not None

    def general_feedback(self, message: Incoming, rating: int, comment: str | None) -> None:
        self.services.answer_feedback.general(message.user_key, rating, comment)

    def data_summary(self, message: Incoming, language: str) -> str:
        """What Lotse stores about the sender, in numbers."""
        return self.privacy.summary(message, language)

    def admin_command(self, message: Incoming) -> Reply | None:
        """The reply to an admin-only command (`/export`), decided before anything else is looked at;
        None if the message is no admin command. Channels set `Incoming.admin` from their own IDs."""
        message = self.roles.apply(message)
        turn = Turn.of(message, (), role=self.roles.of(message))
        found = Router([self.router.get("admin")]).route(turn)
        return found[1] if found else None

    def prompts(self, language: str) -> list[tuple[str, str]]:
        """Suggested prompts (Slack's AI app): two questions for the guide and, from the action catalog, two
        things to ask Lotse to do, in plain words (titles are the actions' descriptions)."""
        guide = [tuple(p) for p in i18n.text("slack_prompts", language)][:2]
        if not self.settings.actions:
            return guide
        actions = {a.id: a for a in self.services.action_catalog}
        asked = [actions[i] for i in ("assessment.start", "pilot.feedback") if i in actions]
        return guide + [(a.description[language][:75], a.examples[language][0]) for a in asked]

    def commands(self) -> dict[str, Command]:
        """Every command word of the routing table, for channels that offer them (Slack's /lotse)."""
        return {w: Command(w, r.name, w in r.direct) for w, r in self.router.commands().items()}

    def status(self, scope: str, language: str) -> Status:
        """What Lotse knows about a team: plan, results, pilots (`/status`, Slack's App Home)."""
        return self.status_view.status(scope, language)

    def unfinished(self, conversation_key: str, language: str) -> list[str]:
        """One line per started but unfinished assessment of a conversation (the terminal's greeting)."""
        return self.dialogs.unfinished(conversation_key, language)

    def inbox(self, lease: float | None = None) -> Inbox:
        return self.services.inbox(lease)

    def remember_address(self, conversation_key: str, user_key: str, reference: dict) -> None:
        self.services.references.save(conversation_key, user_key, reference)

    def address(self, conversation_key: str) -> tuple[dict, bool] | None:
        return self.services.references.get(conversation_key)

    def forget_address(self, conversation_key: str) -> None:
        self.services.references.deactivate(conversation_key)

    def link_answer(self, link: str, answer_id: int) -> None:
        self.services.references.link(link, answer_id)

    def answer_for(self, link: str) -> int | None:
        return self.services.references.answer_for(link)

    def purge(self, now=None) -> dict[str, int]:
        """Apply the retention period now (see `bot.privacy.purge`)."""
        return self.services.purge(now)

    def may_stream(self, message: Incoming) -> bool:
        """Whether the reply may be an LLM answer worth streaming: an LLM is configured, the message is
        typed, no route of the table claims it (a command, a phrase) and no assessment is running."""
        if not self.settings.llm.enabled or message.value is not None:
            return False
        return self.router.claims(Turn.of(message, ())) is None and not self.in_dialog(message)

    def in_dialog(self, message: Incoming) -> bool:
        """Whether an assessment is running in this conversation (a channel then passes on messages it
        would otherwise ignore, e.g. thread replies without a mention)."""
        return self.dialogs.store.active(message.conversation_key) is not None
