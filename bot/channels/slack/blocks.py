"""The channel-neutral `Reply` as Slack Block Kit messages.

Slack's limits (https://docs.slack.dev/reference/block-kit/blocks): a section's text ≤ 3,000
characters, ≤ 50 blocks per message, ≤ 25 elements per actions block, ≤ 10 per context block; the
top-level `text` is the notification and screen-reader fallback.
"""

from __future__ import annotations

import re
import secrets

from bot.core import i18n
from bot.core.messages import Question, Reply
from bot.storage.answer_feedback import REASONS

SECTION_LIMIT = 2900
BLOCK_LIMIT = 50
MARKDOWN_LIMIT = 12000  # Slack: the markdown blocks of one message hold at most this much text together
MARKDOWN_PIECE = 3000  # one markdown block's text (four to a message)
FALLBACK_LIMIT = 3000
RATING = "lotse_rating"  # the action id of the 👍/👎 feedback buttons; values "up:<answer id>", "down:<answer id>"


def escape(text: str) -> str:
    """Slack mrkdwn needs &, < and > escaped; everything else is shown as typed, except Slack's own
    channel and user links (<#C123>, <@U123>), which the core writes to name a channel or a person."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"&lt;([#@][A-Z0-9]+(?:\|[^<>&]*)?)&gt;", r"<\1>", escaped)


def unescape(text: str) -> str:
    """What the user typed: Slack delivers a typed &, < and > as &amp;, &lt; and &gt; (its own links such as
    <@U123> come as real angle brackets and stay). Escaped once again on the way out (`escape`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# Slack takes every message that starts with "/" for a slash command: the core's commands are typed as
# subcommands of /lotse there. Which words those are follows the core's routing table (`offer`, called by
# the channel with `Core.commands()`); the words below only serve blocks rendered without a channel.
_COMMAND = re.compile(r"$^")


def offer(words) -> None:
    """The words `/lotse` takes (without the slash): a reply's `/word` is shown as `/lotse word`."""
    global _COMMAND
    alternatives = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    _COMMAND = re.compile(r"(?<![\w/<#@])/(" + alternatives + r")(?![\w-])", re.IGNORECASE)


offer(
    (
        "check",
        "bewertung",
        "assessment",
        "plan",
        "feedback",
        "ergebnis",
        "result",
        "hilfe",
        "help",
        "pilot",
        "register",
        "audit",
        "status",
        "weiter",
        "resume",
    )
)


def slash_commands(text: str) -> str:
    """`/check 1` → `/lotse check 1`, `/plan erledigt 3.1` → `/lotse plan erledigt 3.1`."""
    return _COMMAND.sub(lambda m: f"/lotse {m[1]}", text)


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraph, line or word boundaries."""
    pieces, rest = [], text
    while len(rest) > limit:
        cut = max(rest.rfind("\n\n", 0, limit), rest.rfind("\n", 0, limit))
        if cut <= limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*pieces, rest] if rest else pieces


def markdown(text: str) -> dict:
    return {"type": "markdown", "text": text}


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(*texts: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t[:2000]} for t in texts[:10]]}


def button(label: str, action_id: str, value: str, style: str | None = None) -> dict:
    element = {
        "type": "button",
        "text": {"type": "plain_text", "text": label[:75], "emoji": True},
        "action_id": action_id,
        "value": value[:2000],
    }
    if style:
        element["style"] = style
    return element


def render(reply: Reply) -> list[tuple[str, list[dict]]]:
    """One or more (fallback text, blocks) messages for a reply, in order."""
    language = reply.language
    blocks: list[dict] = []
    if reply.question and reply.question.progress:
        blocks.append(context(f"*{escape(reply.question.progress)}*"))
    if reply.mode == "llm" and reply.question is None:
        # an LLM writes standard Markdown (**bold**, lists, headings): Slack's markdown block renders it, as the
        # streamed answers' markdown_text does; mrkdwn would show its ** and #
        blocks += [markdown(piece) for piece in split_text(slash_commands(reply.text), MARKDOWN_PIECE)]
    else:
        blocks += [section(piece) for piece in split_text(escape(slash_commands(reply.text)))]  # escaping lengthens
    if reply.citations:
        blocks.append(sources_block(reply))
    if not reply.answered and reply.kind == "refusal" and reply.nearest:
        blocks.append(nearest_block(reply))
    if reply.question is not None:
        blocks += question_blocks(reply.question, language)
    blocks += task_blocks(reply)
    if reply.form == "feedback":
        label = i18n.text("feedback_form_title", language)
        blocks.append({"type": "actions", "elements": [button(label, "lotse_feedback_open", language, "primary")]})
    if reply.footer:
        blocks.append(context(f"*{escape(reply.footer)}*"))
    if reply.answer_id is not None and reply.answered:
        blocks.append(feedback_block(reply.answer_id, language))
    if reply.notice:
        blocks.append(context(escape(reply.notice)))
    blocks = unique(blocks)
    fallback = fallback_text(reply.text)
    return [(fallback, part) for part in _messages(blocks)] or [(fallback, [])]


def _messages(blocks: list[dict]) -> list[list[dict]]:
    """Blocks cut into messages: at most `BLOCK_LIMIT` blocks, and markdown blocks of at most
    `MARKDOWN_LIMIT` characters together, in each."""
    messages: list[list[dict]] = []
    current: list[dict] = []
    markdown_chars = 0
    for block in blocks:
        size = len(block["text"]) if block["type"] == "markdown" else 0
        if current and (len(current) == BLOCK_LIMIT or markdown_chars + size > MARKDOWN_LIMIT):
            messages.append(current)
            current, markdown_chars = [], 0
        current.append(block)
        markdown_chars += size
    return [*messages, current] if current else messages


def sources_block(reply: Reply) -> dict:
    """The cited passages under an answer: number, document title › section, and the guide's section it
    restates (so a manager can check it against the original)."""
    lines = [
        (f"[{c.number}] *<{c.url}|{escape(c.title)}>*" if c.url else f"[{c.number}] *{escape(c.title)}*")
        + (f" › {escape(c.section)}" if c.section else "")
        + (f" — _{escape(c.reference(reply.language))}_" if c.guide else "")
        for c in reply.citations
    ]
    # one element: a context block holds at most 10, and an answer may cite more passages
    return context("\n".join([f"{i18n.text('sources', reply.language)}:", *lines]))


def nearest_block(reply: Reply) -> dict:
    """Under a refusal: the sections that came closest, as "Meinten Sie …?" (the core's `nearest`)."""
    names = " · ".join(escape(c.label) for c in reply.nearest[:3])
    return context(f"{i18n.text('nearest_sections', reply.language)}: {names}")


def stream_tail(reply: Reply) -> list[dict]:
    """What closes a streamed answer: its sources and the 👍/👎 buttons."""
    tail = [sources_block(reply)] if reply.citations else []
    if reply.answer_id is not None:
        tail.append(feedback_block(reply.answer_id, reply.language))
    if reply.notice:
        tail.append(context(escape(reply.notice)))
    return unique(tail)


def unique(blocks: list[dict]) -> list[dict]:
    """Each message (and each update of one) gets block_ids of its own, as Slack asks: Lotse's names with
    a fresh suffix ("lotse_feedback.3fa9c1"). Modals keep theirs: their values are read by block_id."""
    suffix = secrets.token_hex(3)
    return [{**b, "block_id": f"{b['block_id'].split('.')[0]}.{suffix}"} if "block_id" in b else b for b in blocks]


def question_blocks(question: Question, language: str) -> list[dict]:
    blocks = []
    if question.choices:
        buttons = [
            button(c.label, f"lotse_choice_{n}", c.value, "primary" if c.value.endswith(":done") else None)
            for n, c in enumerate(question.choices)
        ]
        blocks += [
            {"type": "actions", "block_id": f"lotse_choices_{i}", "elements": buttons[i : i + 25]}
            for i in range(0, len(buttons), 25)
        ]
    controls = [
        button(c.label, f"lotse_control_{c.value.rsplit(':', 1)[-1]}", c.value) for c in question.controls(language)
    ]
    if controls:
        blocks.append({"type": "actions", "block_id": "lotse_controls", "elements": controls})
    if question.kind in ("text", "number", "name", "date"):
        blocks.append(context(i18n.text("slack_type_answer", language)))
    return blocks


def feedback_block(answer_id: int, language: str) -> dict:
    """👍/👎 under an answer: Slack's own `feedback_buttons` element in a `context_actions` block (the
    one AI apps use; it can close a streamed message). One action id; the value says which and for what."""

    def side(emoji: str, value: str, label: str) -> dict:
        return {"text": {"type": "plain_text", "text": emoji}, "value": value,
                "accessibility_label": i18n.text(label, language)}  # fmt: skip

    return {
        "type": "context_actions",
        "block_id": "lotse_feedback",
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": RATING,
                "positive_button": side("👍", f"up:{answer_id}", "feedback_helpful"),
                "negative_button": side("👎", f"down:{answer_id}", "feedback_not_helpful"),
            }
        ],
    }


def task_blocks(reply: Reply) -> list[dict]:
    """A checklist: each task as a line with its state, and while it is open its buttons (done,
    tomorrow, next Monday, not applicable)."""
    blocks: list[dict] = []
    for task in reply.tasks:
        line = f"{task.mark} *{escape(task.id)}* {escape(task.text)}"
        if task.note:
            line += f"  _({escape(task.note)})_"
        if task.status in ("done", "na"):
            line = f"{task.mark} ~{escape(task.id)} {escape(task.text)}~"
        blocks.append(section(line))
        if task.actions:
            buttons = [
                button(
                    c.label,
                    f"lotse_task_{task.id.replace('.', '-')}_{n}",
                    c.value,
                    "primary" if ":done:" in c.value else None,
                )
                for n, c in enumerate(task.actions)
            ]
            blocks.append({"type": "actions", "elements": buttons})
    return blocks


def answered(blocks: list[dict], label: str) -> list[dict]:
    """The question message after a button was clicked: without its buttons, with the chosen answer."""
    kept = [b for b in blocks if b.get("type") != "actions"]
    return unique([*kept, context(f"✓ {escape(label)}")])


def reason_modal(answer_id: int, language: str) -> dict:
    """Asked after 👎: what was wrong (optional) — it tells whoever keeps the knowledge base what to fix."""
    options = [
        {"text": {"type": "plain_text", "text": i18n.text(f"feedback_reason_{r}", language)}, "value": r}
        for r in REASONS
    ]
    return {
        "type": "modal",
        "callback_id": "lotse_feedback_reason",
        "private_metadata": str(answer_id),
        "title": {"type": "plain_text", "text": i18n.text("feedback_modal_title", language)[:24]},
        "submit": {"type": "plain_text", "text": i18n.text("feedback_modal_submit", language)},
        "close": {"type": "plain_text", "text": i18n.text("feedback_modal_close", language)},
        "blocks": [
            _input(
                "reason", i18n.text("feedback_reason_label", language), {"type": "radio_buttons", "options": options}
            ),
            _comment(language, 1000),
        ],
    }


def general_feedback_modal(language: str) -> dict:
    """`/lotse feedback`: how useful Lotse is (1–5) and what to improve — a form fits better than a chat."""
    options = [{"text": {"type": "plain_text", "text": str(n)}, "value": str(n)} for n in range(1, 6)]
    return {
        "type": "modal",
        "callback_id": "lotse_feedback_form",
        "private_metadata": language,
        "title": {"type": "plain_text", "text": i18n.text("feedback_form_title", language)[:24]},
        "submit": {"type": "plain_text", "text": i18n.text("feedback_modal_submit", language)},
        "blocks": [
            _input(
                "rating",
                i18n.text("feedback_form_rating", language),
                {"type": "static_select", "options": options},
                optional=False,
            ),
            _comment(language, 2000),
        ],
    }


def _input(block_id: str, label: str, element: dict, optional: bool = True) -> dict:
    """A modal input; its value arrives as state.values[block_id]["value"]."""
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {**element, "action_id": "value"},
    }


def _comment(language: str, limit: int) -> dict:
    element = {"type": "plain_text_input", "multiline": True, "max_length": limit}
    return _input("comment", i18n.text("feedback_comment_label", language), element)


def home_view(overview: Reply, language: str, plan: str | None = None) -> dict:
    """The App Home tab: how to start, the 90-day plan's progress and the team's latest results."""
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": i18n.text("slack_home_title", language)}},
        section(escape(i18n.text("slack_home_intro", language))),
        {"type": "divider"},
    ]
    if plan:
        blocks += [section(f"*{escape(plan)}*"), {"type": "divider"}]
    blocks += [section(piece) for piece in split_text(escape(overview.text))]
    return {"type": "home", "blocks": blocks[:100]}


def mrkdwn(text: str) -> str:
    """A reply's text for a message without blocks (a slash command's answer, an ephemeral note): Slack's
    mrkdwn, escaped once, with the core's `/word` shown as `/lotse word`."""
    return escape(slash_commands(text))[:FALLBACK_LIMIT]


def fallback_text(text: str) -> str:
    """A message's top-level `text` (notifications, screen readers): plain, escaped like every mrkdwn text
    (Slack reads <…> in it as a link), at most FALLBACK_LIMIT characters and never cut inside an entity."""
    escaped = escape(_plain(slash_commands(text)))[:FALLBACK_LIMIT]
    return re.sub(r"&[a-z]{0,3}$", "", escaped)


def _plain(text: str) -> str:
    """The notification text: without mrkdwn markers (underscores inside words, as in not_in_channel, stay)."""
    return re.sub(r"(?<!\w)_([^_\n]+)_(?!\w)", r"\1", re.sub(r"[*`]", "", text))
