"""People's names from their Slack profiles (users.info, scope users:read). The core keeps them so that
they are masked before text goes to an LLM that is not local (bot/safety/masking.py); Teams passes
`from.name` with every activity, Slack needs this look-up."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.messages import Incoming

log = logging.getLogger(__name__)
NAME_TTL = 24 * 3600.0  # seconds a looked-up name is kept in this process
NAME_RETRY = 15 * 60.0  # seconds before a failed look-up (no users:read scope, timeout) is tried again
NAME_TIMEOUT = 1.5  # seconds users.info may take before the answer goes ahead without the name
MOST = 10_000  # cached people; far more than a workspace of this size has


class ProfileNames:
    """Adds the writer's name to a message, looked up once a day per person and process; a failed
    look-up never holds up or breaks the answer."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._names: dict[tuple[str, str], tuple[float, str | None]] = {}  # (team, user) → (valid until, name)
        self._lookups: dict[tuple[str, str], asyncio.Future] = {}
        self._told_scope = False

    async def with_name(self, incoming: Incoming) -> Incoming:
        """The message with its writer's name, if Slack gives it."""
        key = (incoming.workspace, incoming.user)
        cached = self._names.get(key)
        if cached is None or cached[0] < time.monotonic():
            lookup = self._lookups.get(key)  # two messages at once: one users.info call
            if lookup is None:
                lookup = self._lookups[key] = asyncio.ensure_future(self._remember_name(key))
            await asyncio.shield(lookup)
            cached = self._names[key]
        return dataclasses.replace(incoming, user_name=cached[1]) if cached[1] else incoming

    async def _remember_name(self, key: tuple[str, str]) -> None:
        try:
            name = await self._look_up_name(key[1])
            if len(self._names) > MOST:
                self._names.clear()
            self._names[key] = (time.monotonic() + (NAME_TTL if name else NAME_RETRY), name)
        finally:
            self._lookups.pop(key, None)

    async def _look_up_name(self, user: str) -> str | None:
        try:
            response = await asyncio.wait_for(self.client.users_info(user=user), NAME_TIMEOUT)
        except SlackApiError as exc:
            error = exc.response.get("error", "") if exc.response is not None else ""
            if error == "missing_scope" and not self._told_scope:
                self._told_scope = True
                log.warning("Slack names are not masked for the LLM: the app lacks the scope users:read")
            else:
                log.debug("users.info failed: %s", error or exc)
            return None
        except Exception as exc:  # a timeout, a connection error, an odd answer: the name is only a nicety
            log.debug("users.info failed: %s", type(exc).__name__)
            return None
        found = response.get("user") if isinstance(response.get("user"), dict) else {}
        profile = found.get("profile") if isinstance(found.get("profile"), dict) else {}
        for name in (found.get("real_name"), profile.get("real_name"), profile.get("display_name")):
            if isinstance(name, str) and name.strip():
                return name.strip()
        return None
