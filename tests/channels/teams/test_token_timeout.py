"""Outbound calls to Teams need a token from Azure AD. botbuilder asks for it through msal without a time
limit, so an Azure AD that accepts the connection and never answers would hold every reply and nudge. Lotse's
credential factory gives each token request TOKEN_TIMEOUT seconds. "Azure AD" here is a TCP server on
127.0.0.1 that accepts and stays silent."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from bot.channels.teams import auth
from bot.channels.teams.auth import BotConfig, BoundedCredentialFactory
from bot.settings import TeamsSettings


@pytest.fixture
def silent_server():
    """A listening socket that accepts connections and never sends a byte (not even a TLS handshake)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


@pytest.mark.parametrize("app_type", ["SingleTenant", "MultiTenant"])
def test_a_token_request_to_a_silent_azure_ad_gives_up(silent_server, monkeypatch, app_type):
    monkeypatch.setattr(auth, "TOKEN_TIMEOUT", 1.0)
    # msal would first ask login.microsoftonline.com whether the authority is known: not from a test
    monkeypatch.setattr(auth, "MSAL_OPTIONS", {"instance_discovery": False})
    settings = TeamsSettings(app_id="app-id", app_password="secret", tenant_id="tenant-1", app_type=app_type)
    factory = BoundedCredentialFactory(BotConfig(settings))
    credentials = asyncio.run(
        factory.create_credentials("app-id", "https://api.botframework.com", "https://login.microsoftonline.com", True)
    )
    credentials.oauth_endpoint = f"https://127.0.0.1:{silent_server}/tenant-1"  # instead of login.microsoftonline.com
    outcome: list[BaseException | str] = []

    def ask() -> None:
        try:
            outcome.append(credentials.get_access_token())
        except BaseException as problem:  # what msal raises when the request times out
            outcome.append(problem)

    started = time.monotonic()
    worker = threading.Thread(target=ask, daemon=True)
    worker.start()
    worker.join(15)
    assert not worker.is_alive(), "the token request to a silent Azure AD did not give up"
    assert time.monotonic() - started < 10
    [problem] = outcome
    assert isinstance(problem, Exception) and "timed out" in str(problem).lower()


def test_without_an_app_id_there_is_no_token_to_ask_for():
    factory = BoundedCredentialFactory(BotConfig(TeamsSettings()))
    credentials = asyncio.run(factory.create_credentials("", None, None, True))
    assert credentials.microsoft_app_id == "" and credentials.app is None
