"""The channel-neutral message model. The core produces these; each channel renders them (terminal
text now; Block Kit and Adaptive Cards in the Slack and Teams channels)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Incoming:
    """A user's message as any channel delivers it."""

    text: str
    user: str
    channel: str = "console"
    workspace: str = "local"
    conversation: str = "default"

    @property
    def conversation_key(self) -> str:
        return ":".join((self.channel, self.workspace, self.user, self.conversation))


@dataclass(frozen=True)
class Citation:
    number: int
    title: str
    source: str
    section: str
    text: str
    score: float

    @property
    def label(self) -> str:
        return " › ".join(x for x in (self.title, self.section) if x)


@dataclass(frozen=True)
class Reply:
    """What Lotse says: text with [n] markers that refer to `citations`."""

    text: str
    language: str
    citations: list[Citation] = field(default_factory=list)
    answered: bool = True
    mode: str | None = None  # "llm" or "extractive" for answers; None for help and notices
