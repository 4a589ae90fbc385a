"""What a request to /slack/events must look like before bolt and Lotse's listeners see it.

bolt trusts Slack's payloads: a non-numeric `X-Slack-Request-Timestamp`, a body that is not a JSON
object, an `event` that is a string or an `actions` list of numbers make it (or the listeners, which
read `body["user"]["id"]`) raise, and the request ends as HTTP 500 with a stack trace. Here every such
request is refused first: 401 for a missing or bad signature, 400 for a body Lotse cannot read, and
200 for a malformed event (an error status would only make Slack send it again).

The shapes below list the fields bolt's context builders and Lotse's listeners read, with their types;
"name?" marks a field that may be absent or null. Other fields pass unchecked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.signature import SignatureVerifier

from bot.channels.shapes import URL, mismatch, unstorable
from bot.channels.slack.blocks import REASONS

TIMESTAMP = re.compile(r"[0-9]{1,12}")
NUMBER = re.compile(r"[0-9]{1,18}")  # an answer id; more digits overflow a 64-bit column
RATING = re.compile(r"[1-5]")
REASON = re.compile("|".join(REASONS))
# the modals' max_length: Slack refuses longer comments, so a longer one did not come from them
COMMENT, LONG_COMMENT = re.compile(r".{0,1000}", re.DOTALL), re.compile(r".{0,2000}", re.DOTALL)

# fields any payload may carry, as bolt's context builders (slack_bolt/request/internals.py) read them
ENVELOPE = {
    "type?": str, "team_id?": str, "team?": {"id?": str, "enterprise_id?": str}, "user?": {"id?": str, "team_id?": str},
    "user_id?": str, "channel?": {"id?": str}, "channel_id?": str, "enterprise?": (str, {"id?": str}),
    "enterprise_id?": str, "authorizations?": [{"team_id?": str, "user_id?": str, "enterprise_id?": str}],
    "is_ext_shared_channel?": bool, "event?": dict, "message?": dict, "previous_message?": dict, "view?": dict,
    "thread_ts?": str, "response_url?": str, "response_urls?": [{"response_url": str}], "trigger_id?": str,
    "assistant_thread?": dict, "item?": dict, "function_execution_id?": str, "function_data?": dict,
}  # fmt: skip
EVENT = {
    "type": str, "user?": (str, {"id?": str, "team_id?": str}), "team?": str, "user_team?": str, "ts?": str,
    "thread_ts?": str, "text?": str, "subtype?": str, "bot_id?": str, "channel_type?": str, "tab?": str,
    "message?": {"subtype?": str, "thread_ts?": str}, "previous_message?": {"subtype?": str, "thread_ts?": str},
    "assistant_thread?": {"channel_id?": str, "thread_ts?": str}, "function_execution_id?": str,
    "files?": [{"name?": str, "size?": int, "url_private_download?": str, "url_private?": str}],
}  # fmt: skip
EVENTS = {  # what the listeners of the events Lotse subscribes to read on top
    "message": {"channel": str, "ts": str, "user?": str},
    "app_mention": {"user": str, "channel": str, "ts": str},
    "app_home_opened": {"user": str, "channel": str},
    "assistant_thread_started": {"assistant_thread": {"channel_id": str, "thread_ts": str}},
    "assistant_thread_context_changed": {"assistant_thread": {"channel_id": str, "thread_ts": str}},
}
MESSAGE_REF = {"ts?": str, "text?": str, "thread_ts?": str, "blocks?": list}
BLOCK_ACTIONS = {
    "user": {"id": str}, "channel?": {"id": str}, "message?": MESSAGE_REF, "trigger_id?": str,
    "actions": [{"action_id": str, "value?": str, "text?": {"text?": str}}],
}  # fmt: skip
ACTION_VALUES = {  # Lotse's buttons and what their values must be
    "lotse_choice_": str, "lotse_control_": str, "lotse_task_": str, "lotse_feedback_open": str,
    "lotse_feedback_up": NUMBER, "lotse_feedback_down": NUMBER,  # the buttons of answers posted before 👍/👎
    "lotse_rating": re.compile(r"(up|down):[0-9]{1,18}"),  # Slack's feedback_buttons
}  # fmt: skip
NEEDS_CHANNEL = ("lotse_choice_", "lotse_control_", "lotse_task_", "lotse_feedback_up", "lotse_feedback_down",
                 "lotse_rating")  # fmt: skip
NEEDS_TRIGGER = ("lotse_feedback_open", "lotse_feedback_down", "lotse_rating")
VIEWS = {  # Lotse's modals and what their submissions must carry
    "lotse_feedback_reason": {"private_metadata": NUMBER, "state": {"values": {
        "reason?": {"value?": {"selected_option?": {"value": REASON}}}, "comment?": {"value?": {"value?": COMMENT}}}}},
    "lotse_feedback_form": {"private_metadata": re.compile(r"de|en"), "state": {"values": {
        "rating?": {"value?": {"selected_option?": {"value": RATING}}},
        "comment?": {"value?": {"value?": LONG_COMMENT}}}}},
}  # fmt: skip
VIEW_SUBMISSION = {"user": {"id": str}, "view": {"callback_id": str, "type": str}}
COMMAND = {"command": str, "user_id": str, "team_id": str, "channel_id": str, "trigger_id": str, "response_url": URL}


@dataclass(frozen=True)
class Refusal:
    status: int
    text: str


def checked(raw: bytes, headers: Mapping[str, str], signing_secret: str) -> tuple[Refusal | None, Any]:
    """(why the request is refused, or None; its body, once it is known to be signed and well formed)."""
    timestamp, signature = headers.get("X-Slack-Request-Timestamp", ""), headers.get("X-Slack-Signature", "")
    if not TIMESTAMP.fullmatch(timestamp) or not signature:
        return Refusal(401, "Missing or malformed Slack signature."), None
    if not SignatureVerifier(signing_secret).is_valid(raw, timestamp, signature):
        return Refusal(401, "Invalid Slack signature."), None
    try:
        body = parse(raw.decode("utf-8"), headers.get("Content-Type", ""))
    except (ValueError, RecursionError) as exc:  # also json.JSONDecodeError and UnicodeDecodeError
        return Refusal(400, f"Malformed Slack request: {type(exc).__name__}."), None
    found = problem(body)
    if found is None:
        return None, body
    if isinstance(body, dict) and body.get("type") == "event_callback":
        return Refusal(200, ""), None  # acknowledged and dropped: Slack would only deliver it again
    return Refusal(400, f"Malformed Slack request: {found}."), None


def parse(text: str, content_type: str) -> Any:
    """The body as bolt reads it (slack_bolt/request/internals.py `parse_body`)."""
    if not text:
        return {}
    if content_type.split(";")[0].strip() == "application/json" or text.startswith("{"):
        return json.loads(text)
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        return {} if payload is None else json.loads(payload)
    return dict(parse_qsl(text, keep_blank_values=True))


def problem(body: Any) -> str | None:
    """What is wrong with a parsed Slack payload, or None."""
    if not isinstance(body, dict):
        return "the body is not an object"
    if found := mismatch(body, ENVELOPE, "body") or unstorable(body):
        return found
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        if event is None:
            return "body.event is missing"
        return mismatch(event, EVENT, "event") or mismatch(event, EVENTS.get(event["type"], {}), "event")
    if kind == "block_actions":
        return mismatch(body, BLOCK_ACTIONS, "body") or _actions_problem(body)
    if kind == "view_submission":
        found = mismatch(body, VIEW_SUBMISSION, "body")
        return found or mismatch(body["view"], VIEWS.get(body["view"]["callback_id"], {}), "view")
    if "command" in body:
        return mismatch(body, COMMAND, "body")
    return None


def _actions_problem(body: dict) -> str | None:
    if not body["actions"]:
        return "body.actions is empty"
    for action in body["actions"]:
        action_id = action["action_id"]
        for prefix, value in ACTION_VALUES.items():
            if action_id.startswith(prefix):
                if found := mismatch(action, {"value": value}, "action"):
                    return found
                if prefix in NEEDS_CHANNEL and body.get("channel") is None:
                    return "body.channel is missing"
                if prefix in NEEDS_TRIGGER and body.get("trigger_id") is None:
                    return "body.trigger_id is missing"
    return None
