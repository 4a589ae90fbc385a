"""What channels may call, and what they give back (issue 21): the only face of Lotse a channel sees.

Channels (Slack, Teams, the terminal) and the server are typed against `Core`, never against the class
that implements it (`bot.app.lotse.Lotse`) or its parts: they translate a platform's events into
`Incoming`, call these methods, and render the `Reply`. A proactive message goes out through a `Sender`
that the channel provides; it reports an `Outcome`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.core.messages import Incoming, Reply

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.storage.inbox import Inbox


@dataclass(frozen=True)
class Outcome:
    """What a sender reports: sent (with the message's id), retry (not sent; try again after
    `retry_after` seconds), failed (will never work: unknown channel, removed app), unknown (the
    request went out but no answer came back)."""

    status: str
    message_ref: str | None = None
    error: str | None = None
    retry_after: float = 0.0


class Sender(Protocol):
    """A channel's way of sending a message nobody asked for (a plan nudge) to an address it knows."""

    channel: str

    async def send(self, address: str, reply: Reply) -> Outcome: ...


@dataclass(frozen=True)
class Status:
    """What Lotse knows about a team (`/status`, Slack's App Home): the plan's progress line (None without
    a running plan), the latest assessment results, the pilots running today (a line), and all of it as text."""

    text: str
    plan: str | None
    results: Reply
    pilots: str


@dataclass(frozen=True)
class Command:
    """A command word of the routing table as a channel may offer it (Slack's `/lotse <word>`): the route
    that takes it, and whether its answer belongs in the direct chat (it runs a dialog or sends files)."""

    word: str  # with its slash, lower case: "/plan"
    route: str
    direct: bool


class Core(Protocol):
    """The calls a channel makes. Every one of them may block (the database, an LLM): async channels
    run them on an executor."""

    settings: Settings
    masks_names: bool  # whether a typed message's author name must be remembered (masking towards an LLM)

    def handle(self, message: Incoming, on_text: Callable[[str], None] | None = None) -> Reply: ...

    def may_stream(self, message: Incoming) -> bool: ...

    def in_dialog(self, message: Incoming) -> bool: ...

    def first_delivery(self, key: str) -> bool: ...

    def admin_command(self, message: Incoming) -> Reply | None: ...

    def rate_answer(
        self, answer_id: int, message: Incoming, rating: int, reason: str | None = None, comment: str | None = None
    ) -> bool: ...

    def general_feedback(self, message: Incoming, rating: int, comment: str | None) -> None: ...

    def data_summary(self, message: Incoming, language: str) -> str: ...

    def commands(self) -> dict[str, Command]: ...

    def prompts(self, language: str) -> list[tuple[str, str]]: ...

    def status(self, scope: str, language: str) -> Status: ...

    def unfinished(self, conversation_key: str, language: str) -> list[str]: ...

    def inbox(self, lease: float | None = None) -> Inbox: ...

    # where proactive messages go, and which channel message carries which answer (Teams)
    def remember_address(self, conversation_key: str, user_key: str, reference: dict) -> None: ...

    def address(self, conversation_key: str) -> tuple[dict, bool] | None: ...

    def forget_address(self, conversation_key: str) -> None: ...

    def link_answer(self, link: str, answer_id: int) -> None: ...

    def answer_for(self, link: str) -> int | None: ...

    def purge(self) -> dict[str, int]: ...
