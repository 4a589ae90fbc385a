"""Lotse's real aiohttp server with the Slack channel, talking to a fake Slack Web API on 127.0.0.1.
Requests are signed like Slack signs them."""

from __future__ import annotations

import dataclasses
import itertools
import json
import uuid
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.app.lotse import Lotse
from bot.app.server import EXECUTOR, build_app
from bot.app.services import build_core
from bot.settings import SlackSettings
from tests.conftest import fake_llm
from tests.fakes.local import serve_local
from tests.fakes.slack_api import FakeSlack, sign

SECRET = "test-signing-secret"
_ts = itertools.count(1)


def next_ts() -> str:
    return f"1700000100.{next(_ts):06d}"


class SlackHarness:
    def __init__(self, fake: FakeSlack, url: str, core: Lotse, team: str) -> None:
        self.fake, self.url, self.core, self.team = fake, url, core, team
        self.session = aiohttp.ClientSession()

    async def post(self, body: str, content_type: str, headers: dict | None = None) -> aiohttp.ClientResponse:
        signed = {"Content-Type": content_type, **sign(SECRET, body), **(headers or {})}
        async with self.session.post(f"{self.url}/slack/events", data=body.encode(), headers=signed) as response:
            await response.read()
            return response

    async def event(self, event: dict, event_id: str | None = None, retry: int | None = None, team: str | None = None):
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": team or self.team,
                "api_app_id": "A1",
                "type": "event_callback",
                "event_id": event_id or f"Ev{uuid.uuid4().hex[:10]}",
                "event_time": 1700000000,
                "event": event,
            }
        )
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        return await self.post(body, "application/json", headers)

    async def dm(self, text: str, user: str = "U1", channel: str = "D1", **extra) -> aiohttp.ClientResponse:
        event = {
            "type": "message",
            "channel": channel,
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": extra.pop("ts", None) or next_ts(),
            **extra,
        }
        return await self.event(event)

    async def interactive(self, payload: dict) -> aiohttp.ClientResponse:
        payload = {"team": {"id": self.team, "domain": "test"}, "api_app_id": "A1", "token": "legacy", **payload}
        return await self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    async def click(self, message: dict, action: dict, user: str = "U1", channel: str = "D1"):
        """A block_actions payload for a button of a message the fake Slack received."""
        return await self.interactive(
            {
                "type": "block_actions",
                "user": {"id": user, "team_id": self.team},
                "channel": {"id": channel},
                "message": {
                    "ts": message["ts"],
                    "text": message.get("text", ""),
                    "blocks": message["blocks"],
                    **({"thread_ts": message["thread_ts"]} if message.get("thread_ts") else {}),
                },
                "trigger_id": f"trigger-{uuid.uuid4().hex[:6]}",
                "response_url": self.fake.response_url(),
                "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel},
                "actions": [{**action, "type": "button", "action_ts": "1700000000.1"}],
            }
        )

    async def command(self, text: str, user: str = "U1", channel: str = "C1") -> aiohttp.ClientResponse:
        form = {
            "token": "legacy",
            "team_id": self.team,
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "anna",
            "command": "/lotse",
            "text": text,
            "api_app_id": "A1",
            "response_url": self.fake.response_url(),
            "trigger_id": "trigger-cmd",
        }
        return await self.post(urlencode(form), "application/x-www-form-urlencoded")

    async def close(self) -> None:
        await self.session.close()


def posted(fake: FakeSlack) -> list[dict]:
    """The chat.postMessage calls that went through, with the ts the fake gave them."""
    return [call for call in fake.of("chat.postMessage") if call.get("_status") is None]  # not refused


def buttons(message: dict) -> list[dict]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def rating(message: dict, side: str) -> dict:
    """The 👍 ("up") or 👎 ("down") of an answer's feedback_buttons, as Slack sends the click."""
    [element] = [e for b in message["blocks"] if b["type"] == "context_actions" for e in b["elements"]]
    button = element["positive_button" if side == "up" else "negative_button"]
    return {"action_id": element["action_id"], "block_id": "lotse_feedback", "value": button["value"],
            "type": "feedback_buttons"}  # fmt: skip


@pytest.fixture
async def slack(database_service):
    """On the session's knowledge base: SQLite, and PostgreSQL too for a test marked @both_databases."""
    async for harness in running_slack(database_service.settings, database_service):
        yield harness


@pytest.fixture
async def slack_llm(kb_settings, kb_index):
    with fake_llm(kb_settings, kb_index) as (openai, service):
        async for harness in running_slack(service.settings, service):
            harness.openai = openai
            yield harness


async def running_slack(base_settings, service):
    fake = await FakeSlack().start()
    team = f"T{uuid.uuid4().hex[:8].upper()}"
    fake.team_id = team
    settings = dataclasses.replace(
        base_settings,
        slack=SlackSettings(
            bot_token="xoxb-test-token",
            signing_secret=SECRET,
            api_url=fake.api_url,
            team_id=team,
            admins=frozenset({"UADMIN"}),
        ),
    )
    core = build_core(settings, service)
    app = build_app(core, settings)
    runner, url = await serve_local(app)
    harness = SlackHarness(fake, url, core, team)
    harness.app = app
    yield harness
    await harness.close()
    await runner.cleanup()
    await fake.stop()
    app[EXECUTOR].shutdown(wait=True)


def texts(message: dict) -> str:
    out = []
    for block in message["blocks"]:
        if block["type"] == "section":
            out.append(block["text"]["text"])
        elif block["type"] == "markdown":
            out.append(block["text"])
        elif block["type"] == "context":
            out += [e["text"] for e in block["elements"]]
    return "\n".join(out)
