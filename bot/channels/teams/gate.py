"""What an activity POSTed to /api/messages must look like before botbuilder and Lotse read it.

botbuilder deserializes whatever arrives and Lotse's handler reads `activity.conversation.id`,
`activity.from_property`, `activity.recipient.id` and the card's `value`: an activity without them, or
with a number where a string belongs, ended as HTTP 500 (or 501 for an invoke) and an error in the log.
Here such an activity is refused with 400 before authentication and the turn. `value` is checked where
it is read (channel.py), since its shape depends on the card.

"name?" marks a field that may be absent or null; other fields pass unchecked.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity
from msrest.exceptions import DeserializationError

from bot.channels.shapes import NON_EMPTY, URL, mismatch, unstorable

ACTIVITY = {
    "type": NON_EMPTY, "id": NON_EMPTY, "serviceUrl": URL, "channelId?": str, "text?": str, "locale?": str,
    "replyToId?": str, "name?": str, "action?": str, "textFormat?": str,
    "from": {"id": NON_EMPTY, "name?": str, "aadObjectId?": str},
    "recipient": {"id": NON_EMPTY, "name?": str},
    "conversation": {"id": NON_EMPTY, "conversationType?": str, "tenantId?": str, "isGroup?": bool},
    "channelData?": {"tenant?": {"id?": str}},
    "entities?": [{"type": str, "text?": str, "mentioned?": {"id?": str, "name?": str}}],
    "membersAdded?": [{"id": str}], "membersRemoved?": [{"id": str}],
}  # fmt: skip


def problem(body: Any) -> str | None:
    """What is wrong with an activity's JSON, or None."""
    if not isinstance(body, dict):
        return "the body is not an object"
    if found := mismatch(body, ACTIVITY, "activity") or unstorable(body):
        return found
    try:
        Activity().deserialize(body)  # as botbuilder will: fields of the wrong type for its schema
    except (DeserializationError, ValueError, TypeError, AttributeError) as exc:
        return f"not an activity ({type(exc).__name__})"
    return None
