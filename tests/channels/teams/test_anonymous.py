"""Without an app id Teams requests are not authenticated: only for a local emulator, on loopback."""

from __future__ import annotations

import dataclasses

import pytest

from bot.app import server
from bot.app.services import build_core
from bot.settings import TeamsSettings


async def test_anonymous_teams_refuses_to_listen_beyond_loopback(kb_settings, service):
    settings = dataclasses.replace(kb_settings, teams=TeamsSettings(allow_anonymous=True))
    with pytest.raises(SystemExit, match="only listens on a loopback address, not 0.0.0.0"):
        await server.run(build_core(settings, service), settings, "0.0.0.0", 0)


def test_anonymous_mode_needs_to_be_switched_on_explicitly():
    from bot.settings import load_settings

    assert load_settings({}).teams.enabled is False
    assert load_settings({"LOTSE_TEAMS_ALLOW_ANONYMOUS": "1"}).teams.enabled is True
    assert "secret" not in repr(
        load_settings(
            {"MICROSOFT_APP_ID": "a", "MICROSOFT_APP_PASSWORD": "secret", "MICROSOFT_APP_TENANT_ID": "t"}
        ).teams
    )
