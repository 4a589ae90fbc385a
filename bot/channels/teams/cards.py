"""The channel-neutral `Reply` as Teams activity JSON: Adaptive Cards (schema 1.5, the highest Teams
renders) for dialog questions and charts, and for answers Teams' own AI-message features as plain
activity JSON — a schema.org Message entity with Claim citations matching the [n] markers, the
"AI generated" label and the native 👍/👎 feedback loop. Plain dicts: nothing here depends on botbuilder.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from bot.core import i18n
from bot.core.messages import BOLD, Question, Reply
from bot.storage.answer_feedback import REASONS

CARD = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
BUTTONS_PER_SET = 5  # Teams shows at most 6 actions in a row before it folds them away
ASKED_LIMIT = 300  # the question a card's submission carries back (shown on the answered card)
ABSTRACT_LIMIT = 160  # Teams shows at most this much of a citation's text
NAME_LIMIT = 80  # a citation's title
KEYWORD_LIMIT, KEYWORDS = 28, 3  # Microsoft's limits per citation: longer ones are refused with HTTP 400
# 👍/👎 under AI answers, with Lotse's own form (the same 👎 reasons as in Slack): Teams asks for it with a
# `message/fetchTask` invoke and sends it back as `message/submitAction` (Learn: user feedback controls)
FEEDBACK_LOOP = {"feedbackLoop": {"type": "custom"}}
EXECUTE_VERB = "lotse.choice"  # an action card's button (Action.Execute)
REFRESH_VERB = "lotse.refresh"  # a group chat's action card asks for the requester's own view
SUGGESTED_ACTIONS = 3  # Teams shows the first three suggested actions only (Learn: suggested actions)
SUGGESTED_TITLE_LIMIT = 60  # a suggested action's button text; the whole question is sent


def render(reply: Reply, public_url: str | None = None) -> dict:
    """One message activity (as JSON) for a reply."""
    if reply.form == "feedback":
        return {
            "type": "message",
            "attachments": [{"contentType": CARD, "content": feedback_form(reply.language)}],
            "summary": i18n.text("feedback_form_title", reply.language),  # what a notification shows
        }
    if reply.question is not None or reply.images or reply.tasks or reply.files:
        return {  # the card holds the text: said once, not also as the message's text (notifications: summary)
            "type": "message",
            "attachments": [{"contentType": CARD, "content": card(reply, public_url)}],
            "summary": _shorten(bold(reply.text).replace("**", ""), 120),
        }
    text = f"{reply.text}\n\n_{reply.notice}_" if reply.notice else reply.text
    activity: dict = {"type": "message", "text": paragraphs(text), "textFormat": "markdown"}
    if reply.mode == "llm" or (reply.mode == "extractive" and reply.answered):  # an LLM refusal is AI text too
        activity["entities"] = [ai_entity(reply)]
        activity["channelData"] = dict(FEEDBACK_LOOP)
    if reply.follow_ups:  # what to ask next, as buttons above the compose box that send the question
        activity["suggestedActions"] = {
            "actions": [
                {"type": "imBack", "title": _shorten(q, SUGGESTED_TITLE_LIMIT), "value": q}
                for q in reply.follow_ups[:SUGGESTED_ACTIONS]
            ]
        }
    return activity


def for_requester(activity: dict, user_id: str, name: str, language: str) -> dict:
    """An action card in a group chat or channel: only the requester may confirm, so only the requester
    sees the buttons (Teams asks for their view with a refresh, `userIds`); everyone else sees the card
    without them, with whose confirmation it waits for."""
    out = dict(activity)
    attachments = []
    for attachment in activity.get("attachments") or []:
        content = attachment.get("content") or {}
        if attachment.get("contentType") != CARD or not _buttons(content):
            attachments.append(attachment)
            continue
        waiting = {"type": "TextBlock", "text": i18n.text("teams_waits_for", language, name=name or "–"),
                   "isSubtle": True, "size": "Small", "wrap": True}  # fmt: skip
        shared = {**content, "body": [e for e in content["body"] if e.get("type") != "ActionSet"] + [waiting]}
        refresh = {"type": "Action.Execute", "verb": REFRESH_VERB, "data": {"lotse": "refresh", "for": user_id,
                   "card": content}}  # fmt: skip
        attachments.append({**attachment, "content": {**shared, "refresh": {"action": refresh, "userIds": [user_id]}}})
    out["attachments"] = attachments
    return out


def without_buttons(content: dict) -> dict:
    return {**content, "body": [e for e in content.get("body", []) if e.get("type") != "ActionSet"]}


def _buttons(content: dict) -> bool:
    return any(
        a.get("type") == "Action.Execute" for e in content.get("body", []) if e.get("type") == "ActionSet"
        for a in e.get("actions", [])
    )  # fmt: skip


def paragraphs(text: str) -> str:
    """Teams' Markdown runs lines separated by a single line break into one paragraph (`/help`, `/plan`):
    each line becomes a paragraph of its own; code blocks stay as they are."""
    parts = re.split(r"(```.*?```)", text, flags=re.DOTALL)
    return "".join(p if p.startswith("```") else re.sub(r"(?<!\n)\n(?!\n)", "\n\n", p) for p in parts)


def ai_entity(reply: Reply) -> dict:
    """Marks the message as AI generated and attaches its sources as citations [1], [2] … (none for a
    refusal: no empty list)."""
    entity = {
        "type": "https://schema.org/Message",
        "@type": "Message",
        "@context": "https://schema.org",
        "@id": "",
        "additionalType": ["AIGeneratedContent"],
        "citation": [
            {
                "@type": "Claim",
                "position": c.number,
                "appearance": {
                    "@type": "DigitalDocument",
                    "name": _shorten(c.label, NAME_LIMIT),
                    "abstract": abstract(c, reply.language),
                    "keywords": keywords(c.title, c.section),
                    **({"url": c.url} if c.url else {}),  # where the source can be read
                },
            }
            for c in reply.citations
        ],
    }
    if not entity["citation"]:
        del entity["citation"]
    return entity


def abstract(citation, language: str) -> str:
    """The passage's own words first, then where the guide says it, by its subsection's name only: the
    whole path ("Leitfaden › Phase 1: … › Team-Skills …: ") took most of Teams' 160 characters."""
    if not citation.guide:
        return _shorten(citation.text, ABSTRACT_LIMIT)
    section = citation.guide.split(" ; ")[0].split(" › ")[-1].strip()
    where = f" ({i18n.text('guide_reference', language)}: {_shorten(section, 40)})"
    return _shorten(citation.text, ABSTRACT_LIMIT - len(where)) + where


def keywords(*texts: str | None) -> list[str]:
    """A citation's keywords: each at most 28 characters (cut at a word, never mid-word), at most 3, no
    empty or repeated ones."""
    out: list[str] = []
    for text in texts:
        word = _shorten(text or "", KEYWORD_LIMIT)
        if word and word not in out:
            out.append(word)
    return out[:KEYWORDS]


def feedback_task(reaction: str, language: str) -> dict:
    """The answer to Teams' `message/fetchTask` after 👍/👎: a dialog with Lotse's form — for 👎 the same
    reasons as Slack's, and a comment either way."""
    body: list[dict] = []
    if reaction == "dislike":
        body.append(
            {
                "type": "Input.ChoiceSet",
                "id": "reason",
                "label": i18n.text("feedback_reason_label", language),
                "style": "expanded",
                "choices": [{"title": i18n.text(f"feedback_reason_{r}", language), "value": r} for r in REASONS],
            }
        )
    body.append(
        {
            "type": "Input.Text",
            "id": "feedbackText",
            "label": i18n.text("feedback_comment_label", language),
            "isMultiline": True,
            "maxLength": 1000,
        }
    )
    submit = {"type": "Action.Submit", "title": i18n.text("feedback_modal_submit", language)}
    content = {"$schema": SCHEMA, "type": "AdaptiveCard", "version": "1.5", "body": body, "actions": [submit]}
    title = i18n.text("feedback_modal_title" if reaction == "dislike" else "feedback_thanks", language)
    return {"task": {"type": "continue", "value": {"title": title, "card": {"contentType": CARD, "content": content}}}}


def card(reply: Reply, public_url: str | None = None) -> dict:
    body: list[dict] = []
    question = reply.question
    if question and question.progress:
        body.append({"type": "TextBlock", "text": question.progress, "isSubtle": True, "size": "Small", "wrap": True})
    body.append({"type": "TextBlock", "text": bold(reply.text), "wrap": True})
    if question is not None:
        body += question_elements(question, reply.language, _shorten(question.text or reply.text, ASKED_LIMIT))
    body += task_elements(reply)
    if reply.footer:
        body.append({"type": "TextBlock", "text": reply.footer, "weight": "Bolder", "wrap": True, "spacing": "Medium"})
    for image in reply.images:
        body.append(
            {"type": "Image", "url": image_url(Path(image.path), public_url), "altText": image.alt, "size": "Stretch"}
        )
    if not reply.answered and reply.kind == "refusal" and reply.nearest:  # "Meinten Sie …?"
        names = " · ".join(c.label for c in reply.nearest[:3])
        body.append(
            {
                "type": "TextBlock",
                "text": f"{i18n.text('nearest_sections', reply.language)}: {names}",
                "isSubtle": True,
                "size": "Small",
                "wrap": True,
            }
        )
    if reply.notice:
        body.append({"type": "TextBlock", "text": reply.notice, "isSubtle": True, "size": "Small", "wrap": True})
    card = {"$schema": SCHEMA, "type": "AdaptiveCard", "version": "1.5", "body": body}
    if reply.files and public_url:  # downloads from Lotse's server; the name carries an unguessable token
        base = public_url.rstrip("/")
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": f"⬇ {file.name}", "url": f"{base}/exports/{Path(file.path).name}"}
            for file in reply.files
        ]
    elif reply.files:
        body.append(
            {
                "type": "TextBlock",
                "text": i18n.text("teams_files_need_url", reply.language),
                "wrap": True,
                "isSubtle": True,
            }
        )
    return card


def bold(text: str) -> str:
    """The core marks bold the Slack way (*text*); Adaptive Cards' Markdown wants **text**."""
    return BOLD.sub(r"**\1**", text)


def question_elements(question: Question, language: str, asked: str = "") -> list[dict]:
    """The inputs and buttons of a question; each submission carries the question (`asked`), so that the
    answered card still shows what was asked."""
    elements: list[dict] = []
    if question.kind in ("text", "number", "name", "date"):
        elements.append(
            {
                "type": "Input.Text",
                "id": "answer",
                "label": i18n.text("teams_answer_label", language),  # read out by screen readers
                "isMultiline": question.kind == "text",
                "placeholder": i18n.text("teams_answer_placeholder", language),
            }
        )
        submit = {"type": "Action.Submit", "title": i18n.text("teams_send", language),
                  "data": {"lotse": "input", "asked": asked}}  # fmt: skip
        elements.append({"type": "ActionSet", "actions": [submit]})
    # an action's Confirm / Cancel (and its clarify and offer buttons) are Universal Actions: Teams sends an
    # `adaptiveCard/action` invoke, and the card Lotse answers with replaces it for everyone at once
    kind = (
        {"type": "Action.Execute", "verb": EXECUTE_VERB} if question.dialog == "action" else {"type": "Action.Submit"}
    )
    choices = [
        {**kind, "title": c.label, "data": {"lotse": "choice", "value": c.value, "title": c.label, "asked": asked}}
        for c in question.choices
    ]
    for start in range(0, len(choices), BUTTONS_PER_SET):
        elements.append({"type": "ActionSet", "actions": choices[start : start + BUTTONS_PER_SET]})
    controls = [
        {"type": "Action.Submit", "title": c.label, "data": {"lotse": "control", "value": c.value, "asked": asked}}
        for c in question.controls(language)
    ]
    if controls:
        elements.append({"type": "ActionSet", "actions": controls, "spacing": "Medium"})
    return elements


def task_elements(reply: Reply) -> list[dict]:
    """A checklist: a line per task with its state; buttons (done, tomorrow, next Monday, not
    applicable) under each open one."""
    elements: list[dict] = []
    for task in reply.tasks:
        line = f"{task.mark} **{task.id}** {task.text}" + (f" _({task.note})_" if task.note else "")
        elements.append(
            {
                "type": "TextBlock",
                "text": line,
                "wrap": True,
                "spacing": "Medium",
                "isSubtle": task.status in ("done", "na"),
            }
        )
        if task.actions:
            actions = [
                {
                    "type": "Action.Submit",
                    "title": c.label,
                    "data": {"lotse": "choice", "value": c.value, "title": c.label},
                }
                for c in task.actions
            ]
            elements.append({"type": "ActionSet", "actions": actions})
    return elements


def image_url(path: Path, public_url: str | None) -> str:
    """Charts are served by Lotse at /charts/ when it has a public address; otherwise inlined."""
    if public_url:
        return f"{public_url.rstrip('/')}/charts/{path.name}"
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def feedback_form(language: str) -> dict:
    """`/feedback`: how useful Lotse is (1–5) and what to improve — a form fits better than a chat."""
    choices = [{"title": str(n), "value": str(n)} for n in range(1, 6)]
    submit = {
        "type": "Action.Submit",
        "title": i18n.text("feedback_modal_submit", language),
        "data": {"lotse": "feedback_form", "language": language, "asked": i18n.text("feedback_form_title", language)},
    }
    body = [
        {"type": "TextBlock", "text": i18n.text("feedback_form_title", language), "weight": "Bolder", "wrap": True},
        {
            "type": "Input.ChoiceSet",
            "id": "rating",
            "label": i18n.text("feedback_form_rating", language),
            "style": "expanded",
            "isRequired": True,
            "errorMessage": i18n.text("feedback_form_rating", language),
            "choices": choices,
        },
        {
            "type": "Input.Text",
            "id": "comment",
            "label": i18n.text("feedback_comment_label", language),
            "isMultiline": True,
            "maxLength": 2000,
        },
        {"type": "ActionSet", "actions": [submit]},
    ]
    return {"$schema": SCHEMA, "type": "AdaptiveCard", "version": "1.5", "body": body}


def answered_card(label: str, asked: object = None) -> dict:
    """What replaces a question card once it is answered: the question and the answer, no buttons to
    click again."""
    body = []
    if isinstance(asked, str) and asked.strip():
        body.append({"type": "TextBlock", "text": bold(_shorten(asked, ASKED_LIMIT)), "wrap": True})
    body.append({"type": "TextBlock", "text": f"✓ {label}", "wrap": True, "isSubtle": True})
    return {"$schema": SCHEMA, "type": "AdaptiveCard", "version": "1.5", "body": body}


def _shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut after a whole word (with "…"); one over-long word is cut hard."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if text[limit - 1] != " " and " " in head:  # the last word is cut: leave it out
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:–-") + "…"
