"""Malformed but correctly signed requests that ended as HTTP 500, or crashed a listener after the ack,
before bot/channels/slack/gate.py: each answers 4xx (200 for an event, which Slack would only resend),
and nothing is logged as an error or with a stack trace. Found by tests/properties/test_slack_requests.py."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest

from tests.fakes.slack_api import sign
from tests.properties.channels import settled

from .conftest import SECRET, next_ts


def errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def post(slack, body: str, content_type: str, headers: dict | None = None) -> int:
    headers = {"Content-Type": content_type, **sign(SECRET, body), **(headers or {})}
    async with slack.session.post(f"{slack.url}/slack/events", data=body.encode(), headers=headers) as response:
        await response.read()
        return response.status


def interactive(slack, payload: dict) -> str:
    return urlencode({"payload": json.dumps({"team": {"id": slack.team}, "api_app_id": "A1", **payload})})


async def test_a_non_numeric_timestamp_gets_401_not_500(slack, caplog):
    body = '{"type": "event_callback", "event": {"type": "message"}}'
    headers = {"X-Slack-Request-Timestamp": "yesterday"}  # bolt's int() raised: 500 and a stack trace
    assert await post(slack, body, "application/json", headers) == 401
    assert errors(caplog) == []


@pytest.mark.parametrize("event", ["x", ["message"], {"type": 5}, {"type": "app_mention", "user": "U1"}])
async def test_an_event_that_is_not_an_event_object_is_acknowledged_and_dropped(slack, caplog, event):
    body = json.dumps({"type": "event_callback", "team_id": slack.team, "event_id": "Ev1", "event": event})
    assert await post(slack, body, "application/json") == 200  # was 500 (bolt read event["type"] of a string)
    assert errors(caplog) == [] and slack.fake.of("chat.postMessage") == []


CLICK = {"type": "block_actions", "user": {"id": "U1"}, "channel": {"id": "D1"}}
THUMBS_UP = {"action_id": "lotse_feedback_up", "value": "1"}
REASON = {"reason": {"value": {"selected_option": {"value": "x" * 41}}}}  # the column holds 40 characters


@pytest.mark.parametrize(
    "payload",
    [
        {**CLICK, "actions": [1]},
        {**CLICK, "user": "U1", "actions": [THUMBS_UP]},
        {**CLICK, "user": None, "actions": [THUMBS_UP]},
        {**CLICK, "actions": [{"action_id": "lotse_feedback_up"}]},
        {**CLICK, "actions": [{**THUMBS_UP, "value": "9" * 30}]},
        {**CLICK, "channel": None, "actions": [{"action_id": "lotse_choice_0", "value": "x"}]},
        {
            "type": "view_submission",
            "user": {"id": "U1"},
            "view": {"type": "modal", "callback_id": "lotse_feedback_form", "private_metadata": "de"},
        },
        {
            "type": "view_submission",
            "user": {"id": "U1"},
            "view": {
                "type": "modal",
                "callback_id": "lotse_feedback_reason",
                "private_metadata": "1",
                "state": {"values": REASON},
            },
        },
        {
            "type": "view_submission",
            "user": {"id": "U1"},
            "view": {"callback_id": "lotse_feedback_reason", "private_metadata": "1", "state": {"values": {}}},
        },
    ],
    ids=[
        "actions-not-objects",
        "user-a-string",
        "no-user",
        "no-value",
        "value-overflows",
        "no-channel",
        "form-without-state",
        "reason-too-long",
        "view-without-type",
    ],
)
async def test_a_malformed_click_or_submission_gets_400(slack, caplog, payload):
    assert await post(slack, interactive(slack, payload), "application/x-www-form-urlencoded") == 400
    assert errors(caplog) == []


@pytest.mark.parametrize("missing", ["user_id", "channel_id", "trigger_id", "response_url"])
async def test_a_slash_command_without_a_field_gets_400(slack, caplog, missing):
    form = {
        "token": "legacy",
        "team_id": slack.team,
        "channel_id": "C1",
        "user_id": "U1",
        "command": "/lotse",
        "text": "hilfe",
        "response_url": slack.fake.response_url(),
        "trigger_id": "t",
    }
    del form[missing]  # user_id was read before the ack: 500; channel_id after it: an error in the log
    assert await post(slack, urlencode(form), "application/x-www-form-urlencoded") == 400
    form = {**form, missing: ""} if missing == "response_url" else form  # "": respond() failed after the ack
    assert await post(slack, urlencode(form), "application/x-www-form-urlencoded") == 400
    assert errors(caplog) == []


@pytest.mark.parametrize("body", ["0", "[]", '"x"', "null", "[" * 5000 + "]" * 5000, '{"a": "\\ud800"}'])
async def test_json_that_is_not_an_object_gets_400_without_a_stack_trace(slack, caplog, body):
    assert await post(slack, body, "application/json") == 400  # 400 before, but with a stack trace logged
    assert errors(caplog) == []


async def test_a_message_without_user_in_a_dm_thread_is_ignored(slack, caplog):
    event = {
        "type": "message",
        "channel": "D1",
        "channel_type": "im",
        "text": "hallo",
        "ts": next_ts(),
        "thread_ts": "1700000000.000001",
    }
    assert (await slack.event(event)).status == 200
    await settled()  # the listener runs after the ack
    assert errors(caplog) == []  # was "Slack request failed: KeyError: 'user'" (the assistant listener)
