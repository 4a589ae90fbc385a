"""Routes and an ordered router: which handler answers a message (issue 21).

A route declares how it is matched — command words (lower-cased once, here), a button-value prefix, a
phrase test, or always (its handler decides by returning None) — which language its reply takes, who
may use it (`requires`: roles; `private`: only in a direct chat), its line in `/help`, and whether it
answers beside a running assessment (`dialog_waits`: the reply then says how to go on with it). The router
tries the routes in their order; the first that matches and returns a reply answers; a route the sender
may not use answers with the refusal, checked here, in one place. Features declare their routes; the
routing table (their order) is kept in one place by whoever composes them (`bot.app.routes`); this module
knows no feature.

Language rules, decided once per turn (`Turn`):
- "conversation": the language the conversation was in (the last reply's); buttons and the plan use it;
- "message": the language of this message, falling back to the conversation's when it tells nothing;
- "turn": like "message", but a first message in a conversation keeps the default ("de").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.core import i18n
from bot.core.language import detect_language
from bot.core.messages import Incoming, Reply
from bot.core.roles import EMPLOYEE

Language = Literal["conversation", "message", "turn"]
PRIVATE_ONLY = "pilot_private_only"  # "Das besprechen wir unter vier Augen …"


@dataclass(frozen=True)
class Turn:
    """One message as the routes see it: its text, its first word, and its languages."""

    message: Incoming
    text: str  # stripped
    conversation_language: str  # the language of the conversation so far ("de" when it is new)
    message_language: str  # this message's language (the conversation's when the text tells nothing)
    turn_language: str  # the message's language, or "de" for the first message of a conversation
    history: Sequence[Any] = ()  # the conversation's last turns, oldest first
    on_text: Callable[[str], None] | None = None  # receives an LLM answer's text while it is written
    role: str = EMPLOYEE  # the sender's role (bot.core.roles)

    @classmethod
    def of(
        cls,
        message: Incoming,
        history: Sequence[Any],
        on_text: Callable[[str], None] | None = None,
        default: str = "de",
        role: str = EMPLOYEE,
    ) -> Turn:
        """`history`: stored turns with a `language` each; the conversation's language is the last one's."""
        text = message.text.strip()
        last = history[-1].language if history else default
        detected = detect_language(text, last)
        return cls(message, text, last, detected, detected if history else last, tuple(history), on_text, role)

    def language(self, rule: Language) -> str:
        return {
            "conversation": self.conversation_language,
            "message": self.message_language,
            "turn": self.turn_language,
        }[rule]


Handler = Callable[[Turn, str], Reply | None]  # (the turn, the reply's language) → a reply, or None: not mine


@dataclass(frozen=True)
class Route:
    """One entry of the routing table. Exactly one way of matching: `words` (a command: the message's
    first word, in any case), `button` (a button value's prefix), `phrase` (a test of the whole text) or
    none of them (the handler decides, returning None to pass)."""

    name: str
    handler: Handler
    words: frozenset[str] = field(default_factory=frozenset)
    button: str | None = None
    phrase: Callable[[str], object] | None = None
    typed_only: bool = False  # not for a button's value
    language: Language = "message"
    requires: frozenset[str] = field(default_factory=frozenset)  # roles that may use it (empty: everyone)
    private: bool = False  # only in a direct chat (one's own data, the audit log)
    refusal: str = "admin_only"  # i18n key of the reply to someone whose role is not in `requires`
    help: str | None = None  # i18n key of its lines in /help, in the table's order
    dialog_waits: bool = False  # typed while an assessment runs, it answers and the reply says the assessment waits
    also: frozenset[str] = field(default_factory=frozenset)  # command words its handler takes besides `words`
    direct: frozenset[str] = field(default_factory=frozenset)  # of those, the ones to answer in the direct chat
    # when asked from outside a conversation (Slack's /lotse): they run a dialog or send files

    def __post_init__(self) -> None:
        if sum(map(bool, (self.words, self.button, self.phrase))) > 1:
            raise ValueError(f"route {self.name}: match by words, button or phrase, not several")
        for name in ("words", "also", "direct"):  # normalised once
            object.__setattr__(self, name, frozenset(w.lower() for w in getattr(self, name)))
        if not self.direct <= self.words | self.also:
            raise ValueError(f"route {self.name}: direct words must be its words: {sorted(self.direct)}")
        if self.requires:
            object.__setattr__(self, "requires", frozenset(self.requires))

    @property
    def declared(self) -> bool:
        """Whether the route names what it takes (words, a button or a phrase) rather than deciding in its handler."""
        return bool(self.words or self.button or self.phrase)

    def refuses(self, turn: Turn) -> str | None:
        """The i18n key of the refusal if the sender may not use this route here, else None."""
        if self.requires and turn.role not in self.requires:
            return self.refusal
        if self.private and not turn.message.private:
            return PRIVATE_ONLY
        return None

    def matches(self, turn: Turn) -> bool:
        if self.typed_only and turn.message.value is not None:
            return False
        if self.button is not None:
            return (turn.message.value or "").startswith(self.button)
        if self.words:
            word = turn.text.split(maxsplit=1)[0] if turn.text else ""
            return word.lower() in self.words
        if self.phrase is not None:
            return bool(self.phrase(turn.text))
        return True


class Router:
    """The routes in order; the first that matches and replies answers."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes: Sequence[Route] = tuple(routes)
        names = [r.name for r in self.routes]
        if len(set(names)) != len(names):
            raise ValueError(f"route names must be unique: {names}")

    def route(self, turn: Turn, before: str | None = None) -> tuple[Route, Reply] | None:
        """The first route that matches and replies; `before`: only the routes above the one so named."""
        for route in self.routes:
            if route.name == before:
                return None
            if route.matches(turn):
                language = turn.language(route.language)
                if (refusal := route.refuses(turn)) is not None:
                    return route, Reply(i18n.text(refusal, language), language, answered=False)
                reply = route.handler(turn, language)
                if reply is not None:
                    return route, reply
        return None

    def claims(self, turn: Turn) -> Route | None:
        """The first route that names this message as its own (a command word, a button, a phrase);
        None if only routes that decide in their handler would see it (a dialog's answer, a question)."""
        return next((r for r in self.routes if r.declared and r.matches(turn)), None)

    def get(self, name: str) -> Route:
        return next(r for r in self.routes if r.name == name)

    def words(self) -> frozenset[str]:
        """Every command word of the table (lower case): matched by a route, or taken by its handler."""
        return frozenset(self.commands())

    def commands(self) -> dict[str, Route]:
        """Each command word (lower case) → the route that takes it, the first in the table's order."""
        found: dict[str, Route] = {}
        for route in self.routes:
            for word in sorted(route.words | route.also):
                found.setdefault(word, route)
        return found

    def help(self, language: str) -> list[str]:
        """The routes' help lines in the table's order."""
        return [i18n.text(r.help, language) for r in self.routes if r.help]
