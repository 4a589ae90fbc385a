"""The turn (issue 21): guards → the routing table → the AI disclosure. One message in, one reply out,
channel-neutral; the user's message and the reply are stored before the reply is returned. Everything
Lotse is made of comes from `bot.app.services.Services`; the routes from `bot.app.routes`; the handlers of
the app's own routes are `bot.app.handlers`, the calls channels make besides `handle` `bot.app.calls`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.app.calls import ChannelCalls
from bot.app.handlers import HISTORY_TURNS, Handlers
from bot.app.routes import table
from bot.core import i18n
from bot.core.language import detect_language
from bot.core.messages import Incoming, Reply
from bot.core.routing import Router, Turn

if TYPE_CHECKING:
    from bot.app.services import Services


class Lotse(Handlers, ChannelCalls):
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

    def warm_up(self) -> None:
        """Load and build now what the first message would otherwise wait for (seconds: the action
        classifier is trained once per data folder); `lotse serve` calls it before it takes events."""
        self.answers.warm_up()
        self.services.actions.understander.model()

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

    def run_command(self, message: Incoming, command: str, language: str | None = None) -> tuple[Reply, bool]:
        """An action asked for in plain words, run as the command it stands for (issue 22): the routing
        table decides, with its roles and direct-chat rules, before the natural-language route; the reply
        takes the request's `language` (the command's words would make it German). (The reply, whether the
        table refused it for the sender's role or place.)"""
        message = replace(self.roles.apply(message), text=command, value=None)
        history = self.conversations.recent(message.conversation_key, HISTORY_TURNS)
        turn = Turn.of(message, history, role=self.roles.of(message))
        if language:
            turn = replace(turn, conversation_language=language, message_language=language, turn_language=language)
        found = self.router.route(turn, before="action")  # never plain words again: no loop
        if found is None:
            return self.question(turn, turn.message_language), False
        route, reply = found
        return reply, route.refuses(turn) is not None
