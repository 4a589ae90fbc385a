"""Lotse as a Teams bot on botbuilder 4.17.1: `CloudAdapter` with `ConfigurationBotFrameworkAuthentication`
at /api/messages, a `TeamsActivityHandler` that hands messages to the core, proactive messages through
stored conversation references. Everything botbuilder-specific lives in this folder, so that moving to
the Microsoft 365 Agents SDK (botbuilder's successor) is one folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

import jwt
import requests
from aiohttp import ClientConnectorError, web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, ActivityTypes, ConversationReference, ErrorResponseException

from bot import metrics
from bot.channels import uploads
from bot.channels.bridge import CoreBridge
from bot.channels.teams import cards, gate
from bot.channels.teams.activities import (
    tenants_of,
    to_activity,
)
from bot.channels.teams.auth import BotConfig, BoundedCredentialFactory
from bot.channels.teams.handler import LotseTeamsBot, NotRecorded
from bot.channels.worker import DATABASE_AWAY, InboxWorker
from bot.core import i18n
from bot.core.language import detect_language
from bot.core.messages import Reply, incoming_from_dict, reply_from_dict, reply_to_dict
from bot.core.ports import Core, Outcome
from bot.settings import Settings
from bot.storage.inbox import Item

log = logging.getLogger(__name__)
MAX_RETRIES = 3
RETRYABLE = (412, 429, 502, 504)  # Microsoft asks to retry these with back-off


class TeamsChannel:
    """The Teams endpoint and proactive sender around one core."""

    def __init__(
        self,
        core: Core,
        settings: Settings,
        *,
        executor: ThreadPoolExecutor,
        credentials_factory=None,
        worker: InboxWorker | None = None,
    ) -> None:
        self.core = core
        self.settings = settings
        self.teams = settings.teams
        self.bridge = CoreBridge(executor)  # the same bridge as Slack's: one user's turns one at a time
        self.core_call = self.bridge.call
        self.worker = worker or InboxWorker(core.inbox())
        self.worker.register("teams", self.work, self.apologise)
        config = BotConfig(self.teams)
        credentials_factory = credentials_factory or BoundedCredentialFactory(config)
        auth = ConfigurationBotFrameworkAuthentication(config, credentials_factory=credentials_factory)
        self.adapter = CloudAdapter(auth)
        self.adapter.on_turn_error = self._on_turn_error
        self.bot = LotseTeamsBot(self)
        if not self.teams.app_id:
            log.warning(
                "TEAMS AUTHENTICATION IS OFF (LOTSE_TEAMS_ALLOW_ANONYMOUS=1, no MICROSOFT_APP_ID): anyone who can "
                "reach /api/messages can act as any user. Only for a local emulator; Lotse listens on loopback only."
            )

    # -- the endpoint ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        """POST /api/messages: authenticated by the Bot Framework token before anything reaches the core."""
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.Response(status=415, text="Activities are JSON (Content-Type: application/json).")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            return web.Response(status=400, text="The body is not valid JSON.")
        if found := gate.problem(body):
            log.warning("refused a malformed activity: %s", found)
            return web.Response(status=400, text=f"Not a valid activity: {found}.")
        tenants = tenants_of(body) or []
        if (
            self.teams.tenant_id
            and self.teams.app_type.lower() != "multitenant"
            and (not tenants or any(t != self.teams.tenant_id for t in tenants))
        ):
            log.warning("refused an activity from tenant(s) %s", tenants or "none")
            return web.Response(status=403, text="This tenant is not served by this Lotse.")
        if self.worker.draining and body.get("type") == "message":
            metrics.INBOX_REFUSED.labels("teams", "stopping").inc()
            return web.Response(status=503, text="This Lotse is stopping; try again.")
        try:
            return await self.adapter.process(request, self.bot)
        except NotRecorded as exc:  # nothing stored: never 200 for it
            log.error("could not record a Teams activity (%s): answered 503", exc)
            metrics.INBOX_REFUSED.labels("teams", "database").inc()
            return web.Response(status=503, text="Lotse cannot record this message right now; try again.")
        except web.HTTPException:
            raise
        except requests.RequestException as exc:  # the Bot Framework signing keys could not be fetched
            log.error("could not check a Teams token: %s", type(exc).__name__)
            metrics.CHANNEL_ERRORS.labels("teams", "auth").inc()
            return web.Response(status=503, text="Token keys unavailable; try again.")
        except (PermissionError, jwt.PyJWTError, KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
            # botbuilder answers a malformed or foreign token with 500 or 404; it is simply not authorized
            log.warning("refused an activity: %s", type(exc).__name__)
            return web.Response(status=401, text="Not authorized.")

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        if isinstance(error, NotRecorded):
            raise error  # to `handle`: 503
        log.error("Teams turn failed: %s: %s", type(error).__name__, error)
        metrics.CHANNEL_ERRORS.labels("teams", "turn").inc()
        if context.activity.type == ActivityTypes.event:  # a proactive turn: notify() reports it
            return
        with contextlib.suppress(Exception):
            language = detect_language(context.activity.text or "")
            await context.send_activity(i18n.text("slack_error", language))

    # -- proactive messages -----------------------------------------------------------------------

    async def notify(self, conversation_key: str, reply: Reply) -> bool:
        """Send a reply to a stored conversation; True if Teams took it."""
        return (await self.deliver(conversation_key, reply)).status == "sent"

    async def deliver(self, conversation_key: str, reply: Reply) -> Outcome:
        """Send a reply to a stored conversation (nudges use this): failed if there is no active
        reference, or on a 403 (the user removed Lotse; the reference is marked inactive); 429, 412,
        502 and 504 are retried with exponential back-off and jitter, then reported as retry."""
        # not through the core's threads: a batch of nudges must not queue in front of users' turns
        found = await asyncio.to_thread(self.core.address, conversation_key)
        if found is None or not found[1]:
            return Outcome(
                "failed", error=f"no active Teams conversation {conversation_key} (Lotse must be added there)"
            )
        return await self.send_to(found[0], to_activity(cards.render(reply, self.settings.public_url)))

    async def send_to(self, reference_data: dict, activity: Activity) -> Outcome:
        """Send an activity to a conversation reference (wire JSON), with the retries of `deliver`."""
        reference = ConversationReference().deserialize(reference_data)
        conversation_key = f"teams:{reference.conversation.id}"

        failures: list[ErrorResponseException] = []
        sent: list[str] = []

        async def send(context: TurnContext) -> None:
            try:
                response = await context.send_activity(activity)
                if response is not None and response.id:
                    sent.append(response.id)
            except Exception as exc:  # handled below, not by the adapter's turn-error handler
                failures.append(exc)

        for attempt in range(MAX_RETRIES + 1):
            failures.clear()
            await self.adapter.continue_conversation(reference, send, self.teams.app_id or str(uuid.uuid4()))
            if not failures:
                return Outcome("sent", message_ref=sent[-1] if sent else None)
            status = getattr(getattr(failures[0], "response", None), "status_code", None)
            if status == 403:
                log.warning("Teams refused a proactive message (403): reference %s is now inactive", conversation_key)
                await asyncio.to_thread(self.core.forget_address, conversation_key)
                return Outcome("failed", error="Teams: 403, Lotse was removed from the conversation")
            if status in RETRYABLE:
                if attempt < MAX_RETRIES:
                    await asyncio.sleep(retry_after(failures[0].response, attempt))
                    continue
                return Outcome("retry", error=f"Teams answered {status}")
            log.error(
                "proactive message to %s failed: %s: %s", conversation_key, type(failures[0]).__name__, failures[0]
            )
            if status is None and isinstance(failures[0], asyncio.TimeoutError | TimeoutError):
                return Outcome("unknown", error="no answer from Teams")
            if status is None and isinstance(failures[0], ClientConnectorError):
                return Outcome("retry", error=str(failures[0]))
            return Outcome("failed", error=f"Teams: {type(failures[0]).__name__}: {failures[0]}")
        return Outcome("retry", error="Teams kept refusing")

    async def fetch(self, files: list[dict], service_url: str | None) -> list[dict]:
        """Files sent in a personal chat, fetched from Teams' pre-authenticated links (https; a test's
        connector on its own host) into the data folder's uploads, for the core to check."""
        out = []
        local = urlparse(service_url or "").netloc
        for file in files:
            name, url = file["name"], file["url"]
            parsed = urlparse(url)
            if parsed.scheme != "https" and not (local and parsed.netloc == local):
                out.append({"name": name, "size": 0, "error": "no https link"})
                continue
            out.append(await uploads.fetch(self.core.settings.data_dir, name, url))  # a pre-authenticated link
        return out

    async def work(self, item: Item) -> None:
        """A turn taken over from the inbox (its replica died, or the database went away mid-turn): the
        reply is made unless an earlier attempt made it, and sent proactively to the stored reference."""
        payload = item.payload
        incoming = incoming_from_dict(payload["incoming"])
        if item.progress.get("sent"):  # sent before the database went away: only the mark is missing
            await self.worker.finish(item)
            return
        reply_data = item.progress.get("reply")
        if reply_data is None and payload.get("files"):  # a file sent with the message: fetched again here
            service_url = (payload.get("reference") or {}).get("serviceUrl")
            incoming = dataclasses.replace(incoming, uploads=await self.fetch(payload["files"], service_url))
        if reply_data is None:
            try:
                reply = await self.core_call(self.core.handle, incoming)
            except DATABASE_AWAY:
                raise
            except Exception:
                log.exception("a Teams turn taken over from the inbox failed")
                reply = Reply(i18n.text("slack_error", detect_language(incoming.text)), "de", answered=False)
            await self.worker.record(item, reply=reply_to_dict(reply))
        else:
            reply = reply_from_dict(reply_data)
        if reply.files and not incoming.private:
            reply = Reply(i18n.text("teams_files_personal_only", reply.language), reply.language, answered=False)
        async with self.worker.posting():
            activity = to_activity(cards.render(reply, self.settings.public_url))
            outcome = await self.send_to(payload["reference"], activity)
            if outcome.status == "retry":
                raise RuntimeError(f"Teams did not take the reply: {outcome.error}")
            if outcome.status == "failed":
                log.error("a Teams reply taken over from the inbox could not be sent: %s", outcome.error)
            await self.worker.record(item, sent=True)
            await self.worker.finish(item, "done" if outcome.status != "failed" else "failed")

    async def apologise(self, item: Item) -> None:
        language = detect_language(item.payload["incoming"].get("text") or "")
        apology = to_activity({"type": "message", "text": i18n.text("slack_error", language)})
        await self.send_to(item.payload["reference"], apology)


class TeamsSender:
    """Delivers nudges as proactive messages through the stored conversation references."""

    channel = "teams"

    def __init__(self, teams: TeamsChannel) -> None:
        self.teams = teams

    async def send(self, address: str, reply: Reply) -> Outcome:
        return await self.teams.deliver(address, reply)


def retry_after(response: Any, attempt: int) -> float:
    with contextlib.suppress(Exception):
        return min(float(response.headers.get("Retry-After")), 30.0)
    return 2.0**attempt * (0.5 + random.random())  # exponential back-off with jitter
