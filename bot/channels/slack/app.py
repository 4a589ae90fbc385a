"""Lotse as a Slack app (slack-bolt, asyncio): direct messages, @-mentions answered in the thread,
the `/lotse` command, buttons for assessments and 👍/👎, modals, the App Home tab and Slack's AI-app
surface (`Assistant`). A translator only: every decision is the core's.

A message or mention is committed to the durable inbox before Slack gets its ack, and its turn is
worked from there (bot/channels/worker.py); a replica that dies leaves it to another. Actions and
commands call `ack()` first (Slack does not retry them). The core is synchronous, so it runs on the
core's executor (bot/channels/bridge.py: one user's turns one at a time), while the event loop keeps
acknowledging.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import ClientConnectorError, ServerDisconnectedError, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.channels.bridge import CoreBridge
from bot.channels.slack import blocks, gate, listeners
from bot.channels.slack.context import ThreadContexts
from bot.channels.slack.names import ProfileNames
from bot.channels.slack.payload import team_of
from bot.channels.worker import DATABASE_AWAY, InboxWorker, TakenOver
from bot.core import i18n
from bot.core.language import detect_language
from bot.core.messages import Incoming, Reply
from bot.core.ports import Core, Outcome
from bot.settings import SlackSettings

log = logging.getLogger(__name__)
MENTIONED = re.compile(r"<[#@]([A-Z0-9]+)(?:\|[^>]*)?>")
PROMPT_TITLE_LIMIT = 75  # a suggested prompt's title (the question itself is sent whole)


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut after a whole word (with "…")."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return head.rstrip(" ,;:–-") + "…"


class SlackChannel:
    """Builds the bolt app around a core. `app` serves HTTP (via bot.app.server) or Socket Mode."""

    def __init__(
        self,
        core: Core,
        settings: SlackSettings,
        executor: ThreadPoolExecutor | None = None,
        worker: InboxWorker | None = None,
    ) -> None:
        self.core = core
        self.settings = settings
        self.bridge = CoreBridge(executor)  # turns on the core's threads; short reads (dedupe, ratings) on another
        self.core_call, self.quick_call = self.bridge.call, self.bridge.quick
        self.worker = worker or InboxWorker(core.inbox())
        client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_url)
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))  # honours Retry-After
        self.names = ProfileNames(client)  # for masking: Teams sends from.name, Slack needs users.info
        self.contexts = ThreadContexts(self)  # the channel a user has open beside the assistant panel
        self.app = AsyncApp(
            client=client,  # carries the bot token
            signing_secret=settings.signing_secret or "socket-mode",
            request_verification_enabled=not settings.socket_mode,
            logger=logging.getLogger("lotse.slack.bolt"),
        )
        if settings.socket_mode:  # over HTTP, `handle` has checked the shape before bolt sees the request
            self.app.middleware(self._well_formed)
        self.app.middleware(self._only_our_workspace)
        self.app.error(self.on_error)
        self.listeners = listeners.register(self)  # messages (a middleware: after the two above), commands, …
        self.messages = self.listeners["messages"]

    async def open(self) -> None:
        """One HTTP session, and so kept-alive connections, for every Web API call of this process
        (replies, nudges, uploads). Without it slack_sdk opens a session and a new TCP and TLS
        connection per call, which took most of the event loop's time per answered event (bench/replicas)."""
        client = self.app.client
        if client.session is None or client.session.closed:
            client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=client.timeout))

    async def close(self) -> None:
        session, self.app.client.session = self.app.client.session, None
        if session is not None:
            await session.close()

    # -- the endpoint (HTTP mode) -------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        """POST /slack/events: signature and shape are checked (bot/channels/slack/gate.py) before bolt
        reads the body, so that a malformed request gets a 4xx and no stack trace."""
        raw = await request.read()  # beyond the server's client_max_size aiohttp answers 413
        refused, body = gate.checked(raw, request.headers, self.settings.signing_secret or "socket-mode")
        if refused is not None:
            if refused.status != 401:  # bolt would log the body (personal data); the reason is enough
                log.warning("refused a Slack request: %s", refused.text or "malformed event")
            return web.Response(status=refused.status, text=refused.text)
        event = body.get("event") if isinstance(body, dict) and body.get("type") == "event_callback" else None
        if isinstance(event, dict) and event.get("type") in ("message", "app_mention"):
            # signed and well formed: recorded here, without bolt's dispatch (the same steps as its
            # middleware below, which Socket Mode goes through); most of a flood is these
            team = body.get("team_id") or team_of(body)
            if self.settings.team_id and team and team != self.settings.team_id:
                log.warning("refused a request from workspace %s (only %s is served)", team, self.settings.team_id)
                return web.Response(status=200, text="")  # dropped; an error status would make Slack retry it
            response = await self.messages.record(body, event)
            return web.Response(status=response.status, text=response.body or "")
        bolt_request = AsyncBoltRequest(body=raw.decode(), query=request.query_string, headers=request.headers)
        try:
            response = await self.app.async_dispatch(bolt_request)
        except Exception as exc:  # a shape the gate does not know yet: still a 4xx, and no stack trace
            log.error("could not read a Slack request: %s: %s", type(exc).__name__, exc)
            metrics.CHANNEL_ERRORS.labels("slack", "request").inc()
            return web.Response(status=400, text="Malformed Slack request.")
        return await to_aiohttp_response(response)

    # -- middleware ------------------------------------------------------------------------------

    async def _well_formed(self, body, next):
        """The same shape check for Socket Mode, where no HTTP request passes `handle`."""
        found = gate.problem(body)
        if found is None:
            return await next()
        log.warning("refused a Slack request: %s", found)
        return BoltResponse(status=200 if body.get("type") == "event_callback" else 400, body="")

    async def _only_our_workspace(self, context, body, next):
        team = body.get("team_id") or team_of(body) or context.team_id
        if self.settings.team_id and team and team != self.settings.team_id:
            log.warning("refused a request from workspace %s (only %s is served)", team, self.settings.team_id)
            if body.get("type") == "event_callback":
                return BoltResponse(status=200, body="")  # dropped; an error status would make Slack retry it
            return BoltResponse(status=403, body="This Slack workspace is not served by this Lotse.")
        return await next()

    async def reply_to(self, incoming: Incoming, on_text: Callable[[str], None] | None = None) -> Reply:
        if self.core.masks_names and incoming.value is None and incoming.text.strip():  # typed: may name the writer
            incoming = await self.names.with_name(incoming)
        try:
            return await self.core_call(self.core.handle, incoming, on_text)
        except DATABASE_AWAY:
            raise  # the turn waits for the database (bot/channels/worker.py)
        except Exception:
            log.exception("could not handle a Slack message")
            metrics.CHANNEL_ERRORS.labels("slack", "turn").inc()
            language = detect_language(incoming.text)
            return Reply(i18n.text("slack_error", language), language, answered=False)

    def incoming(self, text: str, user: str, team: str, channel: str, thread: str | None, value: str | None = None):
        conversation = f"{channel}:{thread}" if thread else channel
        return Incoming(
            text=blocks.unescape(text or ""),  # Slack sends typed &, < and > as entities: the core keeps what was typed
            user=user,
            channel="slack",
            workspace=team,
            conversation=conversation,
            value=value,
            admin=user in self.settings.admins,
            private=channel.startswith("D"),
            reply_to=channel.removeprefix("slash:") or None,  # a nudge goes to the channel, not the thread
            mentions={m[0]: m[1] for m in MENTIONED.finditer(text or "")},  # "<#C123|general>" → "C123"
        )

    async def deliver(
        self,
        client: AsyncWebClient,
        reply: Reply,
        channel: str,
        thread: str | None,
        replace: str | None = None,
        user: str | None = None,
        skip: int = 0,
        on_posted: Callable[[int, bool], Awaitable[None]] | None = None,
        suggest: bool = True,
    ) -> None:
        """`post`, and if Slack refuses it, a short plain message instead of silence."""
        try:
            await self.post(client, reply, channel, thread, replace, user, skip, on_posted, suggest)
        except (TakenOver, *DATABASE_AWAY):
            raise
        except Exception as exc:
            log.error("could not deliver a reply to Slack: %s: %s", type(exc).__name__, exc)
            metrics.CHANNEL_ERRORS.labels("slack", "deliver").inc()
            with contextlib.suppress(Exception):
                text = i18n.text("slack_error", reply.language)
                await client.chat_postMessage(channel=channel, thread_ts=thread, text=text)

    async def post(
        self,
        client: AsyncWebClient,
        reply: Reply,
        channel: str,
        thread: str | None,
        replace: str | None = None,
        user: str | None = None,
        skip: int = 0,
        on_posted: Callable[[int, bool], Awaitable[None]] | None = None,
        suggest: bool = True,
    ) -> None:
        """Send a reply: its messages in order (the first one replacing the message `replace`, if
        given), then its images as file uploads in the same place. Files (exports of personal data or
        feedback) go only to the user's direct messages, wherever they were asked for. `skip`: how many
        of these steps an earlier attempt completed; `on_posted(n, last)` records each step before the next.
        `suggest=False`: the follow-up prompts are left to the caller (`follow_ups`), which sets them once
        the turn is finished: setting them again does no harm, so they need no record of their own."""
        steps: list[Callable[[], Awaitable[Any]]] = []
        for text, message_blocks in blocks.render(reply):
            if replace:
                steps.append(partial(client.chat_update, channel=channel, ts=replace, text=text, blocks=message_blocks))
                replace = None
            else:
                steps.append(
                    partial(
                        client.chat_postMessage, channel=channel, thread_ts=thread, text=text, blocks=message_blocks
                    )
                )
        for image in reply.images:
            steps.append(
                partial(
                    client.files_upload_v2,
                    channel=channel,
                    thread_ts=thread,
                    file=image.path,
                    filename=Path(image.path).name,
                    title=image.alt[:250],
                    alt_txt=image.alt[:1000],  # what screen readers say for the chart (Slack's limit: 1,000)
                )
            )
        if reply.files:
            steps.append(partial(self.upload_private, client, reply, channel, thread, user))
        if suggest and self._suggests(reply, channel):
            steps.append(partial(self.suggest, client, reply, channel, thread))
        for number, step in enumerate(steps, 1):
            if number <= skip:
                continue
            await step()
            if on_posted is not None:
                await on_posted(number, number == len(steps))

    @staticmethod
    def _suggests(reply: Reply, channel: str) -> bool:
        """Follow-up questions are suggested prompts in a direct message only."""
        return bool(reply.follow_ups) and channel.startswith("D")

    async def follow_ups(self, client: AsyncWebClient, reply: Reply, channel: str, thread: str | None) -> None:
        """An answer's follow-up questions, in a direct message (`suggest`); nothing elsewhere."""
        if self._suggests(reply, channel):
            await self.suggest(client, reply, channel, thread)

    async def suggest(self, client: AsyncWebClient, reply: Reply, channel: str, thread: str | None) -> None:
        """An answer's follow-up questions as the direct message's suggested prompts (Slack shows them above
        the composer of the app's assistant thread or Messages tab; a click sends the question). A DM
        that is no assistant conversation refuses them: that is no failure of the answer."""
        prompts = [{"title": shorten(q, PROMPT_TITLE_LIMIT), "message": q} for q in reply.follow_ups[:4]]
        title = i18n.text("slack_follow_ups_title", reply.language)
        try:
            await client.assistant_threads_setSuggestedPrompts(
                channel_id=channel, prompts=prompts, title=title, **({"thread_ts": thread} if thread else {})
            )
        except Exception as exc:  # noqa: BLE001 — an extra, never worth an error message to the user
            log.info("Slack did not take the follow-up prompts: %s", exc)

    async def upload_private(
        self, client: AsyncWebClient, reply: Reply, channel: str, thread: str | None, user: str | None
    ) -> None:
        if not channel.startswith("D"):  # message events come from Lotse's own DMs only; anything else: open it
            if user is None:
                raise ValueError("a reply with files needs the user to send them to")
            channel, thread = (await client.conversations_open(users=user))["channel"]["id"], None
        for file in reply.files:
            await client.files_upload_v2(
                channel=channel, thread_ts=thread, file=file.path, filename=file.name, title=file.name
            )

    async def on_error(self, error: Exception, body: dict) -> None:
        log.error("Slack request failed: %s: %s", type(error).__name__, error)
        metrics.CHANNEL_ERRORS.labels("slack", "request").inc()


class SlackSender:
    """Delivers nudges with chat.postMessage (a user id as the channel posts to the DM with Lotse).
    slack_sdk retries a 429 after its Retry-After (up to three times); what then still fails is
    reported for the nudge log: retry later, failed for good, or unknown if the request went out and
    no answer came back."""

    channel = "slack"
    # errors Slack itself calls temporary (mostly answered with HTTP 200 and ok: false); others do not heal
    TRANSIENT = ("internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited")

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send(self, address: str, reply: Reply) -> Outcome:
        ts = None
        try:
            for text, message_blocks in blocks.render(reply):
                response = await self.client.chat_postMessage(channel=address, text=text, blocks=message_blocks)
                ts = ts or response.get("ts")
            return Outcome("sent", message_ref=f"{address}:{ts}")
        except (
            SlackApiError,
            ClientConnectorError,
            ConnectionRefusedError,
            TimeoutError,
            ServerDisconnectedError,
        ) as exc:
            if ts is not None:  # the first part is out: sending again would post it twice
                return Outcome("unknown", message_ref=f"{address}:{ts}", error=f"only partly sent: {exc}")
            return self._outcome(exc)

    def _outcome(self, exc: Exception) -> Outcome:
        if isinstance(exc, SlackApiError):
            status, error = exc.response.status_code, exc.response.get("error", "")
            if status == 429:
                return Outcome(
                    "retry", error="rate limited", retry_after=float(exc.response.headers.get("Retry-After", 30))
                )
            if status >= 500 or error in self.TRANSIENT:
                return Outcome("retry", error=error or f"Slack answered {status}")
            return Outcome("failed", error=error or str(status))  # not_in_channel, channel_not_found, …
        if isinstance(exc, ClientConnectorError | ConnectionRefusedError):  # the request never left
            return Outcome("retry", error=f"{type(exc).__name__}: {exc}")
        return Outcome("unknown", error=f"{type(exc).__name__}: no answer from Slack")  # it may have been posted
