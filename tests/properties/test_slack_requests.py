"""Property tests of /slack/events: whatever a correctly signed request carries — events, button clicks,
modal submissions and slash commands with fields dropped, retyped, huge or in odd Unicode, bodies that
are not JSON, timestamps that are not numbers — Lotse answers with a status below 500, logs no error
or stack trace, and keeps serving. Requests are signed for real and posted over HTTP to Lotse's
running server, which talks to the fake Slack Web API (tests/fakes/slack_api.py)."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.channels.slack.conftest import SECRET, next_ts, posted, running_slack
from tests.properties.channels import HTTP, JSON, ODD_TEXT, logged_errors, mutated, settled, to_json


@pytest.fixture
async def slack(database_service):
    async for harness in running_slack(database_service.settings, database_service):
        yield harness


def signed(body: str, timestamp: str | None = None) -> dict[str, str]:
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    digest = hmac.new(SECRET.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}


async def post_raw(slack, body: str, content_type: str, headers: dict | None = None):
    headers = {"Content-Type": content_type, **signed(body), **(headers or {})}
    async with slack.session.post(
        f"{slack.url}/slack/events", data=body.encode("utf-8", "surrogatepass"), headers=headers
    ) as response:
        await response.read()
        return response


def envelope(team: str, event: dict) -> dict:
    return {
        "token": "legacy",
        "team_id": team,
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10]}",
        "event_time": 1700000000,
        "event": event,
    }


def events() -> list[dict]:
    ts = next_ts()
    return [
        {"type": "message", "channel": "D1", "channel_type": "im", "user": "U1", "text": "hilfe", "ts": ts},
        {
            "type": "message",
            "channel": "D1",
            "channel_type": "im",
            "user": "U1",
            "text": "hilfe",
            "ts": ts,
            "thread_ts": "1700000000.000001",
        },
        {
            "type": "message",
            "channel": "C1",
            "channel_type": "channel",
            "user": "U1",
            "text": "x",
            "ts": ts,
            "thread_ts": "1700000000.000001",
        },
        {"type": "app_mention", "channel": "C1", "user": "U1", "text": "<@UBOT> hilfe", "ts": ts},
        {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"},
        {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "messages"},
        {
            "type": "assistant_thread_started",
            "event_ts": ts,
            "assistant_thread": {"user_id": "U1", "channel_id": "D1", "thread_ts": ts, "context": {}},
        },
    ]


def interactions(team: str, response_url: str) -> list[dict]:
    message = {
        "ts": "1700000000.000009",
        "text": "Frage",
        "blocks": [{"type": "section", "block_id": "q", "text": {"type": "mrkdwn", "text": "Frage"}}],
    }
    common = {
        "type": "block_actions",
        "team": {"id": team, "domain": "test"},
        "user": {"id": "U1", "team_id": team},
        "channel": {"id": "D1"},
        "message": message,
        "trigger_id": "trigger-1",
        "response_url": response_url,
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": "D1"},
    }
    buttons = [
        {"action_id": "lotse_choice_0", "value": "check:readiness:0:ja", "text": {"type": "plain_text", "text": "Ja"}},
        {"action_id": "lotse_control_0", "value": "control:cancel"},
        {"action_id": "lotse_task_0", "value": "task:1:done"},
        {"action_id": "lotse_feedback_up", "value": "1"},
        {"action_id": "lotse_feedback_down", "value": "1"},
        {"action_id": "lotse_feedback_open", "value": "de"},
    ]
    views = [
        {
            "callback_id": "lotse_feedback_reason",
            "private_metadata": "1",
            "state": {
                "values": {
                    "reason": {"value": {"selected_option": {"value": "outdated"}}},
                    "comment": {"value": {"value": "alt"}},
                }
            },
        },
        {
            "callback_id": "lotse_feedback_form",
            "private_metadata": "de",
            "state": {
                "values": {
                    "rating": {"value": {"selected_option": {"value": "4"}}},
                    "comment": {"value": {"value": "gut"}},
                }
            },
        },
    ]
    submission = {"type": "view_submission", "team": {"id": team}, "user": {"id": "U1", "team_id": team}}
    return [{**common, "actions": [{**b, "type": "button", "action_ts": "1700000000.1"}]} for b in buttons] + [
        {**submission, "view": {"id": "V1", "type": "modal", **view}} for view in views
    ]


def command(team: str, response_url: str, text: str) -> dict:
    return {
        "token": "legacy",
        "team_id": team,
        "team_domain": "test",
        "channel_id": "C1",
        "channel_name": "general",
        "user_id": "U1",
        "user_name": "anna",
        "command": "/lotse",
        "text": text,
        "api_app_id": "A1",
        "response_url": response_url,
        "trigger_id": "trigger-cmd",
    }


async def assert_clean(slack, caplog, response) -> None:
    await settled()
    errors = logged_errors(caplog)
    caplog.clear()  # the next example starts with an empty log, also after this one failed
    assert response.status < 500
    assert errors == []


async def assert_still_serving(slack) -> None:
    before = len(posted(slack.fake))
    assert (await slack.dm("hilfe", ts=next_ts())).status == 200
    await slack.fake.wait_for("chat.postMessage", before + 1)


@settings(HTTP, max_examples=70)
@given(data=st.data())
async def test_no_malformed_event_crashes_the_server(slack, caplog, data):
    team = slack.team
    valid = envelope(team, data.draw(st.sampled_from(events())))
    body = data.draw(mutated(valid, keep=("type", "team_id")))
    response = await post_raw(slack, to_json(body), "application/json")
    await assert_clean(slack, caplog, response)


@settings(HTTP, max_examples=25)
@given(event=JSON)
async def test_any_json_as_the_event_is_refused_or_ignored(slack, caplog, event):
    response = await post_raw(slack, to_json(envelope(slack.team, event)), "application/json")
    await assert_clean(slack, caplog, response)


@settings(HTTP, max_examples=80)
@given(data=st.data())
async def test_no_malformed_click_or_modal_submission_crashes_the_server(slack, caplog, data):
    valid = data.draw(st.sampled_from(interactions(slack.team, slack.fake.response_url())))
    payload = data.draw(mutated(valid, keep=("type", "team")))
    response = await post_raw(slack, urlencode({"payload": to_json(payload)}), "application/x-www-form-urlencoded")
    await assert_clean(slack, caplog, response)


@settings(HTTP, max_examples=40)
@given(data=st.data())
async def test_no_malformed_slash_command_crashes_the_server(slack, caplog, data):
    text = data.draw(
        st.sampled_from(
            [
                "hilfe",
                "ask Was ist KI?",
                "feedback",
                "daten",
                "check 1",
                "ergebnis",
                "pilot bericht quartal <#C2|leitung>",
                "export",
                "plan",
            ]
        )
    )
    form = command(slack.team, slack.fake.response_url(), text)
    for key in data.draw(st.lists(st.sampled_from(sorted(set(form) - {"team_id", "command"})), max_size=3)):
        if data.draw(st.booleans()):
            form.pop(key, None)
        else:
            form[key] = data.draw(st.sampled_from(ODD_TEXT) | st.text(max_size=20))
    body = urlencode(form, encoding="utf-8", errors="surrogatepass")
    response = await post_raw(slack, body, "application/x-www-form-urlencoded")
    await assert_clean(slack, caplog, response)


@settings(HTTP, max_examples=40)
@given(
    body=st.one_of(
        JSON.map(to_json),
        st.text(max_size=200),
        st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
        JSON.map(lambda v: urlencode({"payload": to_json(v)})),
        st.sampled_from(
            [
                "",
                "{",
                "payload=",
                "[]",
                "payload=%7B",
                "command=/lotse",
                '{"type": "event_callback"}',
                '{"type": "block_actions"}',
                "[" * 5000 + "]" * 5000,
            ]
        ),
    ),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "",
            "multipart/form-data; boundary=x",
            "application/json; charset=latin-1",
        ]
    ),
)
async def test_any_signed_body_gets_a_4xx_or_is_ignored(slack, caplog, body, content_type):
    response = await post_raw(slack, body, content_type)
    await assert_clean(slack, caplog, response)


@settings(HTTP, max_examples=30)
@given(
    timestamp=st.one_of(
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20),
        st.sampled_from(["yesterday", "1e9", "1.5", "-1", "0", "9" * 400, "0x10", "+1700000000"]),
    )
)
async def test_a_malformed_or_stale_timestamp_gets_401(slack, caplog, timestamp):
    body = to_json(envelope(slack.team, events()[0]))
    headers = signed(body, timestamp)
    response = await post_raw(slack, body, "application/json", headers)
    errors = logged_errors(caplog)
    caplog.clear()
    assert response.status == 401
    assert errors == []


async def test_after_a_flood_of_malformed_requests_lotse_still_answers(slack, caplog):
    for body in ('{"type": "event_callback", "event": "x"}', '{"type": "block_actions", "actions": [1]}', "[]"):
        assert (await post_raw(slack, body, "application/json")).status < 500
    await assert_still_serving(slack)
    assert logged_errors(caplog) == []
