"""Bot Framework activities as Lotse reads and writes them: the entities botbuilder 4.17.1 does not know
(Teams' AI message entity, `streaminfo`), an activity from a card's JSON, and what an activity says —
the message, the sender, the tenant, a card's submitted fields, Teams' native 👍/👎."""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any

from botbuilder.schema import Activity, Entity

from bot.core.messages import Incoming
from bot.storage.answer_feedback import REASONS

log = logging.getLogger(__name__)

COMMENT_LIMIT = 2000  # characters of a typed feedback comment (the feedback card's maxLength)


class MessageEntity(Entity):
    """botbuilder's Entity keeps only `type`; Teams' AI message entity needs its schema.org fields too."""

    _attribute_map = {
        **Entity._attribute_map,
        "schema_type": {"key": "@type", "type": "str"},
        "context": {"key": "@context", "type": "str"},
        "schema_id": {"key": "@id", "type": "str"},
        "additional_type": {"key": "additionalType", "type": "[str]"},
        "citation": {"key": "citation", "type": "[object]"},
    }

    def __init__(self, data: dict) -> None:
        super().__init__(type=data["type"])
        self.schema_type, self.context, self.schema_id = data.get("@type"), data.get("@context"), data.get("@id")
        self.additional_type, self.citation = data.get("additionalType"), data.get("citation")


class StreamInfo(Entity):
    """Teams' `streaminfo` entity, which botbuilder 4.17.1 does not know."""

    _attribute_map = {
        **Entity._attribute_map,
        "stream_id": {"key": "streamId", "type": "str"},
        "stream_type": {"key": "streamType", "type": "str"},
        "stream_sequence": {"key": "streamSequence", "type": "int"},
    }

    def __init__(self, stream_type: str, sequence: int | None, stream_id: str | None = None) -> None:
        super().__init__(type="streaminfo")
        self.stream_type, self.stream_sequence, self.stream_id = stream_type, sequence, stream_id


FILE_INFO = "application/vnd.microsoft.teams.file.download.info"  # a file a user sent in a personal chat


def files_of(activity: Activity) -> list[dict]:
    """Files sent with a message (personal chats, `supportsFiles`): name and pre-authenticated download link."""
    out = []
    for attachment in activity.attachments or []:
        content = attachment.content if isinstance(attachment.content, dict) else {}
        if attachment.content_type == FILE_INFO and isinstance(content.get("downloadUrl"), str):
            out.append({"name": attachment.name or "datei", "url": content["downloadUrl"]})
    return out


def to_activity(data: dict) -> Activity:
    entities = data.pop("entities", None)
    activity = Activity().deserialize(data)
    if entities:
        activity.entities = [MessageEntity(e) for e in entities]
    return activity


def incoming_of(activity: Activity, admins: frozenset[str] = frozenset()) -> Incoming:
    text, value = (activity.text or "").strip(), None
    data = activity.value if isinstance(activity.value, dict) else {}
    if data.get("lotse") in ("choice", "control"):
        value = scalar(data.get("value"))
    elif data.get("lotse") == "input":
        text = scalar(data.get("answer")).strip()
    tenant = tenant_of(activity.serialize()) or ""
    user = user_id(activity)
    private = (activity.conversation.conversation_type or "personal") == "personal"
    name = activity.from_property.name if activity.from_property else None
    return Incoming(
        text=text,
        user=user,
        channel="teams",
        workspace=tenant,
        conversation=activity.conversation.id,
        value=value,
        admin=user in admins,
        private=private,
        user_name=name if isinstance(name, str) else None,
        reply_to=f"teams:{activity.conversation.id.split(';messageid=')[0]}",  # the conversation, not the reply thread
    )


def user_id(activity: Activity) -> str:
    sender = activity.from_property
    return (sender.aad_object_id or sender.id) if sender else ""


def tenants_of(body: dict) -> list[str] | None:
    """The tenant ids an activity names (conversation.tenantId, channelData.tenant.id); None if malformed."""
    conversation, channel_data = body.get("conversation") or {}, body.get("channelData") or {}
    tenant = (channel_data.get("tenant") or {}) if isinstance(channel_data, dict) else None
    if not isinstance(conversation, dict) or not isinstance(tenant, dict):
        return None
    return [str(t) for t in (conversation.get("tenantId"), tenant.get("id")) if t]


def tenant_of(body: dict) -> str | None:
    tenants = tenants_of(body)
    return tenants[0] if tenants else None


def scalar(value: Any) -> str:
    """A card's submitted field as text: Lotse's cards send strings (numbers are taken too), nothing else."""
    return str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else ""


def comment(value: Any) -> str | None:
    """A typed comment to store: text only, at most COMMENT_LIMIT characters (the cards' maxLength)."""
    return value.strip()[:COMMENT_LIMIT] or None if isinstance(value, str) else None


def native_feedback(value: Any) -> tuple[int, str | None, str | None] | None:
    """(rating, reason, comment) of Teams' 👍/👎 invoke, or None if it is not one. Teams sends the form's
    fields as a JSON string: {"actionName": "feedback", "actionValue": {"reaction": "like"|"dislike",
    "feedback": "{\\"reason\\": \\"unclear\\", \\"feedbackText\\": \\"…\\"}"}} — Lotse's own form
    (`cards.feedback_task`) or Teams' default one (only feedbackText)."""
    action = value.get("actionValue") if isinstance(value, dict) and value.get("actionName") == "feedback" else None
    if not isinstance(action, dict) or action.get("reaction") not in ("like", "dislike"):
        return None
    feedback = action.get("feedback")
    if isinstance(feedback, str):
        with contextlib.suppress(json.JSONDecodeError, RecursionError):
            loaded = json.loads(feedback)
            feedback = loaded if isinstance(loaded, dict) else feedback
    reason = None
    if isinstance(feedback, dict):
        given = feedback.get("reason")
        reason = given if isinstance(given, str) and given in REASONS else None
        feedback = feedback.get("feedbackText")
    return (1 if action["reaction"] == "like" else -1), reason, comment(feedback)


def feedback_reaction(value: Any) -> str | None:
    """The 👍/👎 of Teams' `message/fetchTask` (asking for the form): "like", "dislike" or None."""
    action = value.get("actionValue") if isinstance(value, dict) and value.get("actionName") == "feedback" else None
    reaction = action.get("reaction") if isinstance(action, dict) else None
    return reaction if reaction in ("like", "dislike") else None
