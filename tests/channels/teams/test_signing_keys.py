"""Bot Framework signing keys are fetched off the event loop (botbuilder's own fetch blocks it)."""

from __future__ import annotations

import asyncio

import requests
from aiohttp import web
from botframework.connector.auth.jwt_token_extractor import _OpenIdMetadata

import bot.channels.teams.channel  # noqa: F401  (installs the fetch that runs off the loop)
from tests.fakes.bot_connector import FakeConnector
from tests.fakes.local import serve_local


async def test_keys_served_on_the_same_event_loop_are_fetched_without_blocking_it():
    """With botbuilder's blocking fetch this deadlocks: the key server waits for the loop it blocks."""
    fake = FakeConnector()  # its handlers only, served here on this test's own loop
    app = web.Application()
    app.router.add_get("/.well-known/openidconfiguration", fake._metadata)
    app.router.add_get("/keys", fake._keys)
    runner, base = await serve_local(app)
    fake.url = f"{base}/"
    try:
        key = await asyncio.wait_for(_OpenIdMetadata(f"{base}/.well-known/openidconfiguration").get(fake.kid), 10)
        assert key is not None and key.endorsements == ["msteams"]
    finally:
        await runner.cleanup()


async def test_after_a_failed_fetch_requests_are_refused_at_once_for_a_while():
    metadata = _OpenIdMetadata("http://127.0.0.1:9/.well-known/openidconfiguration")  # nothing listens there
    errors = []
    for _ in range(3):
        try:
            await metadata.get("any")
        except requests.RequestException as exc:
            errors.append(exc)
    assert len(errors) == 3 and errors[1] is errors[0] and errors[2] is errors[0]  # no new fetch meanwhile
