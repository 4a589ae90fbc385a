"""Lotse as a Slack app (slack-bolt, asyncio): direct messages, @-mentions answered in the thread,
the `/lotse` command, buttons for assessments and 👍/👎, modals, the App Home tab and Slack's AI-app
surface (`Assistant`). A translator only: every decision is the core's.

A message or mention is committed to the durable inbox before Slack gets its ack, and its turn is
worked from there (bot/channels/worker.py); a replica that dies leaves it to another. Actions and
commands call `ack()` first (Slack does not retry them). The core is synchronous, so it runs on a
one-thread executor: turns are processed one at a time, while the event loop keeps acknowledging.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
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
from slack_bolt.async_app import AsyncApp, AsyncAssistant
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.channels.slack import blocks, gate
from bot.channels.slack.names import ProfileNames
from bot.channels.worker import DATABASE_AWAY, InboxWorker, TakenOver
from bot.core import i18n
from bot.core.language import detect_language
from bot.core.messages import Incoming, Reply, incoming_from_dict, reply_from_dict, reply_to_dict
from bot.core.ports import Core, Outcome
from bot.settings import SlackSettings
from bot.storage.inbox import Item, error_text
from bot.storage.models import utcnow

log = logging.getLogger(__name__)
MENTION = re.compile(r"<@[A-Z0-9]+>\s*")
POST_TO = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")  # "/lotse pilot bericht quartal #leitung" posts it there
SUBCOMMANDS = {
    "help": "help", "hilfe": "help", "ask": "ask", "frage": "ask", "check": "check", "bewertung": "check",
    "feedback": "feedback", "plan": "plan", "data": "data", "daten": "data", "results": "results",
    "ergebnis": "results", "ergebnisse": "results", "export": "export", "pilot": "pilot", "piloten": "pilot",
    "register": "register", "ki-register": "register", "audit": "audit", "protokoll": "audit",
}  # fmt: skip
# /lotse daten export|löschen: the core's "meine Daten" and "lösche meine Daten", in the DM
DATA_REQUESTS = {"export": "meine Daten", "löschen": "lösche meine Daten", "loeschen": "lösche meine Daten",
                 "delete": "delete my data", "erase": "delete my data"}  # fmt: skip


class SlackChannel:
    """Builds the bolt app around a core. `app` serves HTTP (via bot.app.server) or Socket Mode."""

    def __init__(self, core: Core, settings: SlackSettings, executor: ThreadPoolExecutor | None = None,
                 worker: InboxWorker | None = None) -> None:  # fmt: skip
        self.core = core
        self.settings = settings
        self.executor = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="lotse-core")
        self.worker = worker or InboxWorker(core.inbox())
        self.worker.register("slack", self.work, self.apologise)
        # short database calls (dedupe, ratings, "is a dialog running?") must not wait behind an LLM turn
        self.quick = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lotse-quick")
        client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_url)
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))  # honours Retry-After
        self.names = ProfileNames(client)  # for masking: Teams sends from.name, Slack needs users.info
        self.app = AsyncApp(
            client=client,  # carries the bot token
            signing_secret=settings.signing_secret or "socket-mode",
            request_verification_enabled=not settings.socket_mode,
            logger=logging.getLogger("lotse.slack.bolt"),
        )
        if settings.socket_mode:  # over HTTP, `handle` has checked the shape before bolt sees the request
            self.app.middleware(self._well_formed)
        self.app.middleware(self._only_our_workspace)
        self.app.middleware(self._record_turn)  # messages and mentions: into the inbox before the ack
        self.app.event("app_home_opened")(self.on_home_opened)
        self.app.command("/lotse")(self.on_command)
        self.app.action(re.compile(r"^lotse_(choice|control)_"))(self.on_dialog_button)
        self.app.action(re.compile(r"^lotse_task_"))(self.on_task_button)
        self.app.action("lotse_feedback_up")(self.on_thumbs_up)
        self.app.action("lotse_feedback_open")(self.on_feedback_button)
        self.app.action("lotse_feedback_down")(self.on_thumbs_down)
        self.app.view("lotse_feedback_reason")(self.on_reason_submitted)
        self.app.view("lotse_feedback_form")(self.on_feedback_form)
        self.app.error(self.on_error)
        assistant = AsyncAssistant()
        assistant.thread_started(self.on_assistant_thread_started)
        self.app.assistant(assistant)

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

    async def core_call(self, function: Callable, *args: Any) -> Any:
        context = contextvars.copy_context()  # the request id goes along into the core's thread
        return await asyncio.get_running_loop().run_in_executor(self.executor, context.run, function, *args)

    async def quick_call(self, function: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.quick, function, *args)

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
            team = body.get("team_id") or _team(body)
            if self.settings.team_id and team and team != self.settings.team_id:
                log.warning("refused a request from workspace %s (only %s is served)", team, self.settings.team_id)
                return web.Response(status=200, text="")  # dropped; an error status would make Slack retry it
            response = await self._record(body, event)
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
        team = body.get("team_id") or _team(body) or context.team_id
        if self.settings.team_id and team and team != self.settings.team_id:
            log.warning("refused a request from workspace %s (only %s is served)", team, self.settings.team_id)
            if body.get("type") == "event_callback":
                return BoltResponse(status=200, body="")  # dropped; an error status would make Slack retry it
            return BoltResponse(status=403, body="This Slack workspace is not served by this Lotse.")
        return await next()

    # -- messages: recorded before the ack, worked from the inbox ----------------------------------------

    async def _record_turn(self, body, next):
        """A message or mention that asks for a turn is committed to the inbox before Slack gets its ack
        (HTTP 200, or the Socket Mode ack); if it cannot be, Slack gets 503 (Socket Mode: no ack) and
        delivers it again. Other events go on to their listeners."""
        event = body.get("event") if body.get("type") == "event_callback" else None
        if not isinstance(event, dict) or event.get("type") not in ("message", "app_mention"):
            return await next()
        return await self._record(body, event)

    async def _record(self, body: dict, event: dict) -> BoltResponse:
        if self.worker.draining:
            metrics.INBOX_REFUSED.labels("slack", "stopping").inc()
            return BoltResponse(status=503, body="This Lotse is stopping; another replica takes the event.")
        try:  # one trip to a thread: deciding and recording (the ack waits for both)
            turn, item = await self.worker.call(self._intake, body, event)
            if turn is None:
                return BoltResponse(status=200, body="")  # not for Lotse (a bot's message, other thread talk)
            key, incoming, payload = turn
        except Exception as exc:  # the database is away: nothing stored, so no ack
            log.error("could not record a Slack event (%s): answered 503", error_text(exc))
            metrics.INBOX_REFUSED.labels("slack", "database").inc()
            return BoltResponse(status=503, body="Lotse cannot record this event right now; please retry.")
        if item is None:
            log.info("skipped a repeated delivery of %s (retry %s)", body.get("event_id"), body.get("retry_attempt"))
        else:
            self.worker.submit(item, Item(item, key, "slack", incoming.conversation_key, payload, {}, 1, utcnow()))
        return BoltResponse(status=200, body="")

    def _intake(self, body: dict, event: dict):
        """(the turn an event asks for, or None; its inbox id, None for a repeat)."""
        turn = self._turn_of(body, event)
        if turn is None:
            return None, None
        key, incoming, payload = turn
        return turn, self.worker.inbox.record(key, "slack", incoming.conversation_key, payload)

    def _turn_of(self, body: dict, event: dict) -> tuple[str, Incoming, dict] | None:
        """(dedupe key, message, inbox payload) of an event that asks for a turn, else None: direct
        messages; @-mentions, answered in the thread of the mention; in channels, thread replies to a
        running assessment (no mention needed)."""
        if not event.get("user") or event.get("bot_id") or (event.get("type") == "message" and event.get("subtype")):
            return None
        team = body.get("team_id") or ""
        channel, ts = event.get("channel") or "", event.get("ts") or ""
        text = MENTION.sub("", event.get("text") or "")  # a mention also arrives as a message event
        assistant = False
        if event["type"] == "app_mention":
            thread = event.get("thread_ts") or ts
        elif event.get("channel_type") == "im":
            thread = event.get("thread_ts")
            assistant = thread is not None  # a DM thread: Slack's AI-app surface (status, title)
        elif event.get("thread_ts"):
            thread = event["thread_ts"]
            if not self.core.in_dialog(self._incoming(text, event["user"], team, channel, thread)):
                return None  # other thread talk is not for Lotse unless it is mentioned
        else:
            return None
        incoming = self._incoming(text, event["user"], team, channel, thread)
        # a message arrives once per event_id retry and, for a mention in a DM thread, as two events:
        # its channel + ts identify it across both
        key = f"slack:{team}:{channel}:{ts}"
        payload = {"incoming": dataclasses.asdict(incoming), "channel": channel, "thread": thread,
                   "assistant": assistant, "event_id": body.get("event_id")}  # fmt: skip
        return key, incoming, payload

    async def work(self, item: Item) -> None:
        """One turn of the inbox: the reply is made (unless an earlier attempt made it), recorded, then
        posted message by message, each recorded as posted before the next."""
        payload = item.payload
        incoming = incoming_from_dict(payload["incoming"])
        channel, thread = payload["channel"], payload.get("thread")
        client = self.app.client

        async def record(**changes) -> None:
            await self.worker.record(item, **changes)

        reply_data = item.progress.get("reply")
        replace = item.progress.get("stream") or item.progress.get("placeholder")
        if reply_data is not None:
            reply = reply_from_dict(reply_data)
        else:
            if payload.get("assistant"):
                top = self._incoming(incoming.text, incoming.user, incoming.workspace, channel, None)
                if await self.core_call(lambda: not self.core.in_dialog(incoming) and self.core.in_dialog(top)):
                    incoming = top  # a reply in the thread of an assessment question asked at the top of the DM
                else:
                    with contextlib.suppress(Exception):  # status and title are niceties; the answer matters
                        await client.assistant_threads_setStatus(
                            channel_id=channel, thread_ts=thread,
                            status=i18n.text("slack_thinking", detect_language(incoming.text)),
                        )  # fmt: skip
                        if incoming.text and item.attempts == 1:
                            await client.assistant_threads_setTitle(channel_id=channel, thread_ts=thread,
                                                                    title=incoming.text[:80])  # fmt: skip
            llm = self.core.settings.llm.enabled and item.attempts == 1
            llm = llm and await self.core_call(self.core.may_stream, incoming)
            if llm and thread:
                streamed = await self._stream(client, incoming, channel, thread, record)
                if streamed is None:
                    await self.worker.finish(item)
                    return
                reply, replace = streamed
            else:
                if llm and replace is None:
                    working = i18n.text("slack_working", detect_language(incoming.text))
                    with contextlib.suppress(Exception):  # only a courtesy; the answer follows either way
                        replace = (await client.chat_postMessage(channel=channel, thread_ts=thread, text=working))["ts"]
                    if replace is not None:
                        await record(placeholder=replace)  # a turn taken over replaces it, not posts another
                reply = await self._handle(incoming)
                await record(reply=reply_to_dict(reply))
        posted = item.progress.get("posted", 0)

        async def counted(number: int, last: bool) -> None:
            if last:  # the item is finished next, which says as much; should that fail, this process knows
                self.worker.note(item, posted=number)
            else:
                await record(posted=number)

        await self.deliver(client, reply, channel, thread, replace=replace if not posted else None,
                           user=incoming.user, skip=posted, on_posted=counted)  # fmt: skip
        await self.worker.finish(item)

    async def apologise(self, item: Item) -> None:
        payload = item.payload
        language = detect_language(payload["incoming"].get("text") or "")
        await self.app.client.chat_postMessage(channel=payload["channel"], thread_ts=payload.get("thread"),
                                               text=i18n.text("slack_error", language))  # fmt: skip

    async def _stream(self, client: AsyncWebClient, incoming: Incoming, channel: str, thread: str,
                      record) -> tuple[Reply, str] | None:  # fmt: skip
        """An LLM answer in a thread, streamed as it is written (chat.startStream/appendStream/stopStream).
        None when it was streamed to the end; else (the reply, the stream's message that the whole
        answer replaces), both recorded."""
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue[str | None] = asyncio.Queue()
        stream = await client.chat_stream(channel=channel, thread_ts=thread, recipient_team_id=incoming.workspace,
                                          recipient_user_id=incoming.user)  # fmt: skip

        streamed: list[str] = []

        async def pump() -> bool:
            """Append pieces as they come; False once appending failed (the rest is then not streamed)."""
            while (piece := await pieces.get()) is not None:
                try:
                    await stream.append(markdown_text=piece)
                    streamed.append(piece)
                except Exception as exc:
                    log.warning("Slack streaming failed (%s)", type(exc).__name__)
                    while await pieces.get() is not None:
                        pass
                    return False
            return True

        pumping = asyncio.create_task(pump())
        try:
            reply = await self._handle(incoming, lambda piece: loop.call_soon_threadsafe(pieces.put_nowait, piece))
        finally:
            pieces.put_nowait(None)
        intact = await pumping
        await record(reply=reply_to_dict(reply), stream=stream.ts)
        text = "".join(streamed)
        if intact and text and reply.mode == "llm" and reply.answered and reply.text.startswith(text.rstrip()):
            try:  # the rest of the text (e.g. a hint added after the answer), then sources and buttons
                await stream.stop(markdown_text=reply.text[len(text) :] or None, blocks=blocks.stream_tail(reply))
                return None
            except Exception as exc:
                log.warning("Slack could not finish a streamed answer (%s)", type(exc).__name__)
        # nothing streamed (extractive fallback, refusal) or the stream broke: the whole answer is shown
        # once, in place of the half-written stream if it had started
        return reply, stream.ts

    async def _handle(self, incoming: Incoming, on_text: Callable[[str], None] | None = None) -> Reply:
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

    def _incoming(self, text: str, user: str, team: str, channel: str, thread: str | None, value: str | None = None):
        conversation = f"{channel}:{thread}" if thread else channel
        return Incoming(text=text or "", user=user, channel="slack", workspace=team, conversation=conversation,
                        value=value, admin=user in self.settings.admins, private=channel.startswith("D"))  # fmt: skip

    async def deliver(self, client: AsyncWebClient, reply: Reply, channel: str, thread: str | None,
                      replace: str | None = None, user: str | None = None, skip: int = 0,
                      on_posted: Callable[[int, bool], Awaitable[None]] | None = None) -> None:  # fmt: skip
        """`post`, and if Slack refuses it, a short plain message instead of silence."""
        try:
            await self.post(client, reply, channel, thread, replace, user, skip, on_posted)
        except (TakenOver, *DATABASE_AWAY):
            raise
        except Exception as exc:
            log.error("could not deliver a reply to Slack: %s: %s", type(exc).__name__, exc)
            metrics.CHANNEL_ERRORS.labels("slack", "deliver").inc()
            with contextlib.suppress(Exception):
                text = i18n.text("slack_error", reply.language)
                await client.chat_postMessage(channel=channel, thread_ts=thread, text=text)

    async def post(self, client: AsyncWebClient, reply: Reply, channel: str, thread: str | None,
                   replace: str | None = None, user: str | None = None, skip: int = 0,
                   on_posted: Callable[[int, bool], Awaitable[None]] | None = None) -> None:  # fmt: skip
        """Send a reply: its messages in order (the first one replacing the message `replace`, if
        given), then its images as file uploads in the same place. Files (exports of personal data or
        feedback) go only to the user's direct messages, wherever they were asked for. `skip`: how many
        of these steps an earlier attempt completed; `on_posted(n, last)` records each step before the next."""
        steps: list[Callable[[], Awaitable[Any]]] = []
        for text, message_blocks in blocks.render(reply):
            if replace:
                steps.append(partial(client.chat_update, channel=channel, ts=replace, text=text, blocks=message_blocks))
                replace = None
            else:
                steps.append(partial(client.chat_postMessage, channel=channel, thread_ts=thread, text=text,
                                     blocks=message_blocks))  # fmt: skip
        for image in reply.images:
            steps.append(partial(client.files_upload_v2, channel=channel, thread_ts=thread, file=image.path,
                                 filename=Path(image.path).name, title=image.alt))  # fmt: skip
        if reply.files:
            steps.append(partial(self.upload_private, client, reply, channel, thread, user))
        for number, step in enumerate(steps, 1):
            if number <= skip:
                continue
            await step()
            if on_posted is not None:
                await on_posted(number, number == len(steps))

    async def upload_private(self, client: AsyncWebClient, reply: Reply, channel: str, thread: str | None,
                             user: str | None) -> None:  # fmt: skip
        if not channel.startswith("D"):  # message events come from Lotse's own DMs only; anything else: open it
            if user is None:
                raise ValueError("a reply with files needs the user to send them to")
            channel, thread = (await client.conversations_open(users=user))["channel"]["id"], None
        for file in reply.files:
            await client.files_upload_v2(channel=channel, thread_ts=thread, file=file.path, filename=file.name,
                                         title=file.name)  # fmt: skip

    # -- buttons and modals -------------------------------------------------------------------------

    async def on_dialog_button(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        message = body.get("message") or {}
        channel = body["channel"]["id"]
        thread = message.get("thread_ts")
        incoming = self._incoming("", body["user"]["id"], _team(body), channel, thread, value=action["value"])
        async with self.worker.in_order(incoming.conversation_key):
            reply = await self._handle(incoming)
            if reply.answered and message.get("ts"):  # show what was picked, and take the buttons away
                label = (action.get("text") or {}).get("text") or action["value"]
                with contextlib.suppress(Exception):
                    await client.chat_update(channel=channel, ts=message["ts"], text=message.get("text") or "",
                                             blocks=blocks.answered(message.get("blocks") or [], label))  # fmt: skip
            await self.deliver(client, reply, channel, thread, user=incoming.user)

    async def on_task_button(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        """A nudge's task button: the core records it; the nudge is redrawn in place with the new state."""
        await ack()
        message = body.get("message") or {}
        channel = body["channel"]["id"]
        incoming = self._incoming("", body["user"]["id"], _team(body), channel, None, value=action["value"])
        reply = await self._handle(incoming)
        if reply.answered and reply.mode == "nudge" and message.get("ts"):
            text, message_blocks = blocks.render(reply)[0]
            try:
                await client.chat_update(channel=channel, ts=message["ts"], text=text, blocks=message_blocks)
            except Exception as exc:  # the change is stored; say so rather than nothing
                log.warning("could not redraw a nudge: %s", exc)
                await client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=reply.footer or text)
        else:
            await client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=reply.text)

    async def on_feedback_button(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        """The button under the core's feedback form offer: Slack shows forms as modals."""
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=blocks.general_feedback_modal(action["value"]))

    async def on_thumbs_up(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        await self._rate(body, action, client, +1)

    async def on_thumbs_down(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        # the trigger_id expires after 3 seconds: open the form first, then store the rating
        reason_form = blocks.reason_modal(int(action["value"]), _language_of(body))
        with contextlib.suppress(Exception):
            await client.views_open(trigger_id=body["trigger_id"], view=reason_form)
        await self._rate(body, action, client, -1, thank=False)

    async def _rate(self, body: dict, action: dict, client: AsyncWebClient, rating: int, thank: bool = True) -> bool:
        incoming = self._incoming("", body["user"]["id"], _team(body), body["channel"]["id"], None)
        stored = await self.quick_call(self.core.rate_answer, int(action["value"]), incoming, rating)
        language = _language_of(body)
        if not stored:
            text = i18n.text("feedback_unknown_answer", language)
        elif thank:
            text = i18n.text("feedback_thanks", language)
        else:
            return True
        await client.chat_postEphemeral(channel=body["channel"]["id"], user=body["user"]["id"], text=text)
        return stored

    async def on_reason_submitted(self, ack, body: dict, view: dict) -> None:
        await ack()
        values = view["state"]["values"]
        reason = (((values.get("reason") or {}).get("value") or {}).get("selected_option") or {}).get("value")
        comment = ((values.get("comment") or {}).get("value") or {}).get("value")
        incoming = self._incoming("", body["user"]["id"], _team(body), "", None)
        await self.quick_call(self.core.rate_answer, int(view["private_metadata"]), incoming, -1, reason, comment)

    async def on_feedback_form(self, ack, body: dict, view: dict) -> None:
        values = view["state"]["values"]
        selected = ((values.get("rating") or {}).get("value") or {}).get("selected_option")
        if not selected:
            await ack(
                response_action="errors", errors={"rating": i18n.text("feedback_form_rating", view["private_metadata"])}
            )
            return
        await ack()
        comment = ((values.get("comment") or {}).get("value") or {}).get("value")
        incoming = self._incoming("", body["user"]["id"], _team(body), "", None)
        await self.quick_call(self.core.general_feedback, incoming, int(selected["value"]), comment)

    # -- /lotse ------------------------------------------------------------------------------------

    async def on_command(self, ack, command: dict, client: AsyncWebClient, respond) -> None:
        word, _, rest = (command.get("text") or "").strip().partition(" ")
        rest = rest.strip()
        sub = SUBCOMMANDS.get(word.lower(), "help" if not word else None)
        language = detect_language(
            f"{word} {rest}", "en" if word.lower() in ("help", "ask", "data", "results") else "de"
        )
        user = command["user_id"]
        if sub is None:
            await ack(text=i18n.text("slack_unknown_subcommand", language, name=word) + "\n\n" + _help(language))
            return
        if sub == "export":  # the core decides; a refusal is the ack itself, the export hint follows privately
            reply = self.core.admin_command(self._incoming("/export", user, command["team_id"], "", None))
            if not reply.answered:
                await ack(text=reply.text)
                return
            await ack()
            await respond(text=reply.text, response_type="ephemeral")
            return
        if sub == "ask" and rest.startswith("/"):
            sub, rest = "check", rest  # a command (e.g. /check) needs a conversation: it goes to the DM
        target = POST_TO.search(rest) if sub == "pilot" else None
        if target and rest.split()[0].lower() in ("bericht", "report"):  # a report posted to a channel
            rest = POST_TO.sub("", rest).strip()
            incoming = self._incoming(f"/pilot {rest}", user, command["team_id"], target.group(1), None)
            # ack first: the report with its charts takes about a second, more under load, and Slack waits 3 s
            await ack(text=i18n.text("slack_report_working", language, channel=target.group(1)))
            reply = await self._handle(incoming)
            if not reply.answered:  # a refusal, an unknown pilot …: only for the one who asked
                await respond(text=reply.text, response_type="ephemeral")
                return
            await self.deliver(client, reply, target.group(1), None, user=user)
            await respond(text=i18n.text("slack_posted", language, channel=target.group(1)), response_type="ephemeral")
            return
        if sub in ("pilot", "register", "audit"):  # dialogs, reports and exports: in the DM (buttons, files)
            sub, rest = "check", f"/{sub} {rest}".strip()
        if sub == "data" and rest.lower() in DATA_REQUESTS:
            sub, rest = "check", DATA_REQUESTS[rest.lower()]
        try:
            await self._subcommand(sub, word, rest, language, ack, command, client, respond)
        except Exception as exc:
            log.error("/lotse %s failed: %s: %s", sub, type(exc).__name__, exc)
            metrics.CHANNEL_ERRORS.labels("slack", "command").inc()
            with contextlib.suppress(Exception):
                await respond(text=i18n.text("slack_error", language), response_type="ephemeral")

    async def _subcommand(self, sub, word, rest, language, ack, command, client, respond) -> None:
        user, team, channel = command["user_id"], command["team_id"], command["channel_id"]
        if sub == "help":
            await ack(text=_help(language))
        elif sub == "feedback":
            await ack()
            await client.views_open(trigger_id=command["trigger_id"], view=blocks.general_feedback_modal(language))
        elif sub == "check":
            await ack(text=i18n.text("slack_sent_to_dm", language))
            dm = (await client.conversations_open(users=user))["channel"]["id"]
            text = rest if rest.startswith("/") or rest in DATA_REQUESTS.values() else f"/check {rest}".strip()
            reply = await self._handle(self._incoming(text, user, team, dm, None))
            await self.deliver(client, reply, dm, None, user=user)
        else:
            await ack()
            text = {"ask": rest, "plan": f"/plan {rest}".strip(), "results": "/ergebnis " + rest,
                    "data": None}[sub]  # fmt: skip
            if sub == "data":
                summary = await self.quick_call(
                    self.core.data_summary, self._incoming("", user, team, "", None), language
                )
                reply = Reply(summary, language)
            else:
                reply = await self._handle(self._incoming(text, user, team, f"slash:{channel}", None))
            for fallback, message_blocks in blocks.render(reply):
                await respond(text=fallback, blocks=message_blocks, response_type="ephemeral")
            if reply.files:  # an export: to the user's DM with Lotse (the command's channel may be any DM)
                await self.upload_private(client, reply, "", None, user)

    # -- App Home and the AI-app surface ---------------------------------------------------------------

    async def on_home_opened(self, event: dict, body: dict, client: AsyncWebClient) -> None:
        language = "de"
        if event.get("tab") == "messages":  # agent view: prompts without thread_ts (with it the call fails)
            await client.assistant_threads_setSuggestedPrompts(channel_id=event["channel"], prompts=_prompts(language))
            return
        scope = f"slack:{body.get('team_id', '')}"
        status = await self.quick_call(self.core.status, scope, language)  # reads only: not behind an LLM turn
        await client.views_publish(user_id=event["user"], view=blocks.home_view(status.results, language, status.plan))

    async def on_assistant_thread_started(self, payload: dict, body: dict, say, set_suggested_prompts) -> None:
        thread = payload.get("assistant_thread") or {}
        key = f"slack:{body.get('team_id', '')}:greeting:{thread.get('channel_id')}:{thread.get('thread_ts')}"
        if not await self.quick_call(self.core.first_delivery, key):
            return
        await say(i18n.text("slack_greeting", "de"))
        await set_suggested_prompts(prompts=_prompts("de"))

    async def on_error(self, error: Exception, body: dict) -> None:
        log.error("Slack request failed: %s: %s", type(error).__name__, error)
        metrics.CHANNEL_ERRORS.labels("slack", "request").inc()


def _team(body: dict) -> str:
    return (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or ""


def _language_of(body: dict) -> str:
    return detect_language((body.get("message") or {}).get("text") or "", "de")


def _help(language: str) -> str:
    return i18n.text("slack_help", language)


def _prompts(language: str) -> list[dict[str, str]]:
    return [{"title": t, "message": m} for t, m in i18n.text("slack_prompts", language)][:4]


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
