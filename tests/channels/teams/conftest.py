"""Lotse's real aiohttp server with the Teams channel; activities are POSTed to /api/messages with
Bot Framework-style tokens signed by the fake connector's test key, and replies land at the fake
connector (the activities' serviceUrl)."""

from __future__ import annotations

import dataclasses
import itertools
import uuid

import aiohttp
import pytest
from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

from bot.app.lotse import Lotse
from bot.app.server import EXECUTOR, TEAMS, build_app
from bot.app.services import build_core
from bot.settings import TeamsSettings
from tests.fakes.bot_connector import FakeConnector
from tests.fakes.local import serve_local

APP_ID = "11111111-2222-3333-4444-555555555555"
TENANT = "tenant-lotse"
_ids = itertools.count(1)


class StaticCredentials(AppCredentials):
    """Outbound calls carry a fixed token: no request to Azure AD leaves the machine."""

    def get_access_token(self, force_refresh: bool = False) -> str:
        return "test-outbound-token"


class StaticCredentialsFactory(ServiceClientCredentialsFactory):
    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == APP_ID

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(self, app_id, oauth_scope, login_endpoint, validate_authority):
        return StaticCredentials(app_id=app_id, oauth_scope=oauth_scope)


class TeamsHarness:
    def __init__(self, connector: FakeConnector, url: str, core: Lotse, channel) -> None:
        self.connector, self.url, self.core, self.channel = connector, url, core, channel
        self.session = aiohttp.ClientSession()
        self.conversation = f"a:personal-{uuid.uuid4().hex[:8]}"
        self.handled = 0
        real_handle = core.handle

        def counting(*args, **kwargs):
            self.handled += 1
            return real_handle(*args, **kwargs)

        core.handle = counting  # a spy: counts calls into the core, changes nothing

    def activity(self, text: str | None = "", **extra) -> dict:
        base = {
            "type": "message",
            "id": f"msg-{next(_ids)}",
            "channelId": "msteams",
            "serviceUrl": self.connector.url,
            "from": {"id": "29:user-1", "name": "Anna", "aadObjectId": "aad-anna"},
            "recipient": {"id": f"28:{APP_ID}", "name": "Lotse"},
            "conversation": {"id": self.conversation, "conversationType": "personal", "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "de-DE",
            "text": text,
        }
        return {**base, **extra}

    async def post(self, activity: dict, token: str | None = "valid") -> aiohttp.ClientResponse:
        headers = {"Content-Type": "application/json"}
        if token == "valid":
            token = f"Bearer {self.connector.token(APP_ID, activity['serviceUrl'])}"
        if token:
            headers["Authorization"] = token
        async with self.session.post(f"{self.url}/api/messages", json=activity, headers=headers) as response:
            response.body_text = await response.text()
            return response

    async def say(self, text: str, **extra) -> aiohttp.ClientResponse:
        return await self.post(self.activity(text, **extra))

    async def submit(self, card_activity: dict, data: dict) -> aiohttp.ClientResponse:
        """What Teams sends for an Action.Submit: a message without text, the data in `value`."""
        return await self.post(self.activity(None, value=data, replyToId=card_activity.get("_id", "activity-x")))

    async def close(self) -> None:
        await self.session.close()


@pytest.fixture
async def teams(database_service):
    """On the session's knowledge base: SQLite, and PostgreSQL too for a test marked @both_databases."""
    async for harness in running_teams(database_service.settings, database_service, admins=frozenset({"aad-admin"})):
        yield harness


@pytest.fixture
async def teams_llm(kb_settings, kb_index):
    from tests.conftest import fake_llm

    with fake_llm(kb_settings, kb_index) as (openai, service):
        async for harness in running_teams(service.settings, service):
            harness.openai = openai
            yield harness


async def running_teams(base_settings, service, admins: frozenset[str] = frozenset()):
    JwtTokenExtractor.metadataCache = {}  # signing keys are cached per URL across tests otherwise
    connector = await FakeConnector().start()
    settings = dataclasses.replace(
        base_settings,
        teams=TeamsSettings(
            app_id=APP_ID,
            app_password="secret",
            app_type="SingleTenant",
            tenant_id=TENANT,
            admins=admins,
            openid_metadata_url=connector.metadata_url,
        ),
    )
    core = build_core(settings, service)
    app = build_app(core, settings, teams_credentials=StaticCredentialsFactory())
    runner, url = await serve_local(app)
    harness = TeamsHarness(connector, url, core, app[TEAMS])
    yield harness
    await harness.close()
    await runner.cleanup()
    await connector.stop()
    app[EXECUTOR].shutdown(wait=True)
