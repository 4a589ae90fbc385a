"""The channel-neutral message model. The core produces these; each channel renders them (terminal
text now; Block Kit and Adaptive Cards in the Slack and Teams channels)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, is_dataclass
from functools import cache

from bot.core import i18n

# Reply text marks bold as *text* (Slack's mrkdwn); other channels translate or drop the markers
BOLD = re.compile(r"(?<![*\w])\*([^*\n]+)\*(?![*\w])")


@dataclass(frozen=True)
class Incoming:
    """A user's message as any channel delivers it."""

    text: str
    user: str
    channel: str = "console"
    workspace: str = "local"
    conversation: str = "default"
    value: str | None = None  # a button's or form's value (Slack/Teams); None for typed text
    admin: bool = False  # the channel found the sender among its configured admins
    private: bool = True  # a 1:1 conversation with Lotse (DM, personal chat, terminal), not a channel
    user_name: str | None = None  # the display name from the profile, if the channel has it (for masking)
    # filled by the channel, so that no feature parses a platform's ids: where a message nobody asked for
    # (a plan nudge) reaches this conversation, and the mentions in `text` (as written there → address)
    reply_to: str | None = None
    mentions: dict[str, str] = field(default_factory=dict)
    # the conversation the user has open beside Lotse (Slack's assistant thread context), as an address like
    # `reply_to`: where the team's nudges go when a plan is started from the assistant panel
    viewing: str | None = None
    # files sent with the message, fetched by the channel: {"path": local copy, "name": as sent, "size": bytes};
    # {"name", "size", "error"} for one it could not fetch
    uploads: list[dict] = field(default_factory=list)

    @property
    def conversation_key(self) -> str:
        return ":".join((self.channel, self.workspace, self.user, self.conversation))

    @property
    def user_key(self) -> str:
        """The user across conversations: channel:workspace:user."""
        return ":".join((self.channel, self.workspace, self.user))

    @property
    def scope(self) -> str:
        """Whose assessment results a message sees: the team in one workspace/tenant of one channel."""
        return f"{self.channel}:{self.workspace}"


@dataclass(frozen=True)
class Citation:
    number: int
    title: str
    source: str
    section: str
    text: str
    score: float
    guide: str = ""  # the guide's section this passage restates ("Leitfaden › Phase 1 › Quick Wins")
    used: bool = True  # False: a nearest passage offered with a refusal ("Meinten Sie …?"), not quoted
    url: str = ""  # where the source can be read, if it has an address (a company-FAQ entry's link)

    @property
    def label(self) -> str:
        return " › ".join(x for x in (self.title, self.section) if x)

    def reference(self, language: str) -> str:
        """Where the guide says it: "Leitfaden › Phase 1: … › Quick Wins identifizieren" ("" if unknown)."""
        return f"{i18n.text('guide_reference', language)} › {self.guide}" if self.guide else ""


@dataclass(frozen=True)
class Choice:
    """One button of a question: `value` comes back in `Incoming.value`, `label` is shown."""

    value: str
    label: str


@dataclass(frozen=True)
class Question:
    """A dialog question for the channel to render: buttons for choices and ratings, an input for
    numbers and text. Typing works everywhere too (a number picks a choice)."""

    dialog: str  # assessment id
    step: str  # step id
    kind: str  # "yesno", "choice", "rating", "number", "text", "name" (next item of a list)
    choices: list[Choice] = field(default_factory=list)
    optional: bool = False
    can_go_back: bool = False
    progress: str = ""  # e.g. "Frage 3 von 4" or "System 2 · Frage 5"
    tag: str = ""  # "<dialog>.<answers so far>": ties this question's buttons to it, so old ones are recognised
    steered: bool = True  # a dialog's question, with its back / skip / pause / cancel buttons (not a Confirm)
    text: str = ""  # the question's own words, without the hints and notes before it (an answered card shows them)

    def controls(self, language: str) -> list[Choice]:
        """Back (not on the first question), skip (optional questions only), pause, cancel."""
        if not self.steered:
            return []
        prefix = f"{self.tag}:" if self.tag else ""
        return [
            Choice(prefix + value, i18n.text(f"dialog_button_{value}", language))
            for value in ("back", "skip", "pause", "cancel")
            if (value != "skip" or self.optional) and (value != "back" or self.can_go_back)
        ]


@dataclass(frozen=True)
class Image:
    """A picture (PNG file) to show with a reply, e.g. an assessment chart."""

    path: str
    alt: str


@dataclass(frozen=True)
class File:
    """A file to hand over with a reply (an export): Slack uploads it, Teams links to it, the terminal
    prints where it lies."""

    path: str
    name: str  # the name the user sees
    mime: str = "application/octet-stream"


@dataclass(frozen=True)
class Task:
    """One item of a checklist (a week's tasks in a plan nudge): its state and, while it is open, the
    buttons that change it (`Choice.value` comes back in `Incoming.value`)."""

    id: str
    text: str
    status: str = "open"  # open, done, snoozed, na
    note: str = ""  # e.g. "aus Woche 2" for a carried-over task, or the snooze date
    actions: list[Choice] = field(default_factory=list)

    @property
    def mark(self) -> str:
        return {"done": "✅", "na": "➖", "snoozed": "⏰"}.get(self.status, "☐")


@dataclass(frozen=True)
class Reply:
    """What Lotse says: text with [n] markers that refer to `citations`, and optionally a question to
    render as buttons/inputs and images to attach."""

    text: str
    language: str
    citations: list[Citation] = field(default_factory=list)
    answered: bool = True
    mode: str | None = None  # "llm" or "extractive" for answers; "dialog" for assessments; None for notices
    question: Question | None = None
    images: list[Image] = field(default_factory=list)
    answer_id: int | None = None  # the stored answer, for 👍/👎 (knowledge-base answers only)
    tasks: list[Task] = field(default_factory=list)  # a checklist (plan nudges)
    footer: str = ""  # a line under the checklist, e.g. "Woche 3 von 12 · 7/10 Aufgaben erledigt"
    form: str | None = None  # a form for the channel to offer: "feedback" (rating 1–5 and a comment)
    files: list[File] = field(default_factory=list)  # exports to hand over
    notice: str = ""  # shown small under the reply, e.g. the AI disclosure at a person's first contact
    nearest: list[Citation] = field(default_factory=list)  # with a refusal: the closest passages, not used
    kind: str = ""  # answer, refusal, dialog, result, confirm, clarify, command, error ("" → `kind_of`)
    action: dict | None = None  # an action asked for in plain words: {"id": …, "arguments": {…}} (issue 22)
    follow_ups: list[str] = field(default_factory=list)  # questions to ask next (Teams: suggested actions)


KINDS = ("answer", "refusal", "dialog", "result", "confirm", "clarify", "command", "error")


def kind_of(reply: Reply) -> str:
    """What a reply is, for scripts (`lotse chat --json`): set by the core where it knows, else read
    from the reply's shape."""
    if reply.kind:
        return reply.kind
    if reply.question is not None:
        return "dialog"
    if reply.mode in ("llm", "extractive"):
        return "answer" if reply.answered else "refusal"
    if not reply.answered:
        return "error"
    if reply.mode == "dialog" and (reply.images or reply.files):
        return "result"
    return "command"


def reply_to_dict(reply: Reply) -> dict:
    """A reply as plain JSON data (kept in the inbox between making a reply and posting it). By hand:
    `dataclasses.asdict` deep-copies every value, which cost a turn 0.7 ms (bench.turn_profile). The
    nearest passages of a refusal are named by their headings only, so their text is left out: the
    record stays small enough for PostgreSQL to keep it in the row."""
    data = _plain(reply)
    data["nearest"] = [{**c, "text": ""} for c in data["nearest"]]
    return data


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _plain(value):
    if is_dataclass(value):
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def reply_from_dict(data: dict) -> Reply:
    """The reply `reply_to_dict` wrote."""

    def choices(items) -> list[Choice]:
        return [Choice(**c) for c in items or []]

    question = data.get("question")
    return Reply(
        **{
            **data,
            "citations": [Citation(**c) for c in data.get("citations") or []],
            "nearest": [Citation(**c) for c in data.get("nearest") or []],
            "question": None if question is None else Question(**{**question, "choices": choices(question["choices"])}),
            "images": [Image(**i) for i in data.get("images") or []],
            "files": [File(**f) for f in data.get("files") or []],
            "tasks": [Task(**{**t, "actions": choices(t.get("actions"))}) for t in data.get("tasks") or []],
        }
    )


def incoming_from_dict(data: dict) -> Incoming:
    """An `Incoming` as `dataclasses.asdict` wrote it; fields a newer or older version wrote are ignored
    (an inbox item may be worked by a replica of another version during a rolling upgrade)."""
    known = {f.name for f in fields(Incoming)}
    return Incoming(**{k: v for k, v in data.items() if k in known})
