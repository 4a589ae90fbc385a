"""Socket Mode (SLACK_APP_TOKEN): `lotse serve`'s server connects out to Slack's websocket — here the
fake's — receives events in envelopes, acknowledges them and answers through the Web API."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json

from bot.app import server
from bot.app.services import build_core
from bot.settings import SlackSettings
from tests.fakes.slack_api import FakeSlack


async def test_socket_mode_answers_an_event_from_the_websocket_and_acks_it(kb_settings, service):
    fake = await FakeSlack(team_id="TSOCK").start()
    settings = dataclasses.replace(
        kb_settings,
        slack=SlackSettings(
            bot_token="xoxb-test-token", app_token="xapp-test-token", api_url=fake.api_url, team_id="TSOCK"
        ),
    )
    running = asyncio.create_task(server.run(build_core(settings, service), settings, "127.0.0.1", 0))
    try:
        [opened] = await fake.wait_for("apps.connections.open")
        event = {
            "type": "message",
            "channel": "DS1",
            "channel_type": "im",
            "user": "U1",
            "ts": "1700000999.000001",
            "text": "Was passiert in Woche 2 des 90-Tage-Plans?",
        }
        body = {
            "team_id": "TSOCK",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": "EvSock1",
            "event_time": 1700000000,
            "event": event,
        }
        envelope = {
            "envelope_id": "env-1",
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": body,
        }
        await fake.socket_envelopes.put(envelope)
        [message] = await fake.wait_for("chat.postMessage")
        assert message["channel"] == "DS1" and "Quellen" in json.dumps(message["blocks"], ensure_ascii=False)
        assert {"envelope_id": "env-1"}.items() <= next(a for a in fake.socket_acks if "envelope_id" in a).items()
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await fake.stop()
