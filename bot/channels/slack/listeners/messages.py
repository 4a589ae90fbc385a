"""Messages and @-mentions: committed to the durable inbox before Slack gets its ack, then worked from
there (bot/channels/worker.py) — the reply made, recorded, and posted step by step; an LLM answer in a
thread is streamed as it is written. Most of a flood is these, so `SlackChannel.handle` records them
without bolt's dispatch; Socket Mode goes through the middleware registered here."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.channels import uploads
from bot.channels.slack import blocks
from bot.core import i18n
from bot.core.language import detect_language
from bot.core.messages import Incoming, Reply, incoming_from_dict, reply_from_dict, reply_to_dict
from bot.core.uploads import MAX_BYTES
from bot.storage.inbox import Item, error_text
from bot.storage.models import utcnow

if TYPE_CHECKING:
    from bot.channels.slack.app import SlackChannel

log = logging.getLogger(__name__)
MENTION = re.compile(r"<@[A-Z0-9]+>\s*")


class MessageListener:
    def __init__(self, channel: SlackChannel) -> None:
        self.channel = channel

    def register(self) -> None:
        self.channel.app.middleware(self._record_turn)  # messages and mentions: into the inbox before the ack
        self.channel.worker.register("slack", self.work, self.apologise)

    async def _record_turn(self, body, next):
        """A message or mention that asks for a turn is committed to the inbox before Slack gets its ack
        (HTTP 200, or the Socket Mode ack); if it cannot be, Slack gets 503 (Socket Mode: no ack) and
        delivers it again. Other events go on to their listeners."""
        event = body.get("event") if body.get("type") == "event_callback" else None
        if not isinstance(event, dict) or event.get("type") not in ("message", "app_mention"):
            return await next()
        return await self.record(body, event)

    async def record(self, body: dict, event: dict) -> BoltResponse:
        if self.channel.worker.draining:
            metrics.INBOX_REFUSED.labels("slack", "stopping").inc()
            return BoltResponse(status=503, body="This Lotse is stopping; another replica takes the event.")
        try:  # one trip to a thread: deciding and recording (the ack waits for both)
            turn, item = await self.channel.worker.intake(self._intake, body, event)
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
            self.channel.worker.submit(
                item, Item(item, key, "slack", incoming.conversation_key, payload, {}, 1, utcnow())
            )
        return BoltResponse(status=200, body="")

    def _intake(self, body: dict, event: dict):
        """(the turn an event asks for, or None; its inbox id, None for a repeat)."""
        turn = self._turn_of(body, event)
        if turn is None:
            return None, None
        key, incoming, payload = turn
        return turn, self.channel.worker.inbox.record(key, "slack", incoming.conversation_key, payload)

    def _turn_of(self, body: dict, event: dict) -> tuple[str, Incoming, dict] | None:
        """(dedupe key, message, inbox payload) of an event that asks for a turn, else None: direct
        messages; @-mentions, answered in the thread of the mention; in channels, thread replies to a
        running assessment (no mention needed)."""
        shared = event.get("subtype") == "file_share" and event.get("channel_type") == "im"  # a file sent in a DM
        if not event.get("user") or event.get("bot_id") or (event.get("type") == "message" and event.get("subtype")
                                                            and not shared):  # fmt: skip
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
            if not self.channel.core.in_dialog(self.channel.incoming(text, event["user"], team, channel, thread)):
                return None  # other thread talk is not for Lotse unless it is mentioned
        else:
            return None
        incoming = self.channel.incoming(text, event["user"], team, channel, thread)
        # a message arrives once per event_id retry and, for a mention in a DM thread, as two events:
        # its channel + ts identify it across both
        key = f"slack:{team}:{channel}:{ts}"
        payload = {
            "incoming": dataclasses.asdict(incoming),
            "channel": channel,
            "thread": thread,
            "assistant": assistant,
            "event_id": body.get("event_id"),
        }
        if shared:  # fetched when the turn is worked, not before the ack
            payload["files"] = [
                {"name": f.get("name") or "datei", "size": f.get("size") or 0,
                 "url": f.get("url_private_download") or f.get("url_private") or ""}
                for f in event.get("files") or []
            ]  # fmt: skip
        return key, incoming, payload

    async def _fetch(self, files: list[dict]) -> list[dict]:
        """Files sent in a DM, fetched with the bot token into the data folder's uploads (for the core to
        check); one larger than the core takes is not fetched, one that fails carries its error."""
        out = []
        token = self.channel.settings.bot_token
        for file in files:
            name, size, url = file["name"], int(file["size"] or 0), file["url"]
            if not self._slacks(url):  # the bot token goes to Slack's file host only
                out.append({"name": name, "size": size, "error": "no Slack file link"})
                continue
            if size > MAX_BYTES:
                out.append({"name": name, "size": size})  # not fetched: the core says it is too large
                continue
            data_dir = self.channel.core.settings.data_dir
            out.append(await uploads.fetch(data_dir, name, url, {"Authorization": f"Bearer {token}"}))
        return out

    def _slacks(self, url: str) -> bool:
        """A link to Slack's file host (or to the Web API's own host, as a test's fake Slack serves files)."""
        host = urlparse(url).netloc
        api = urlparse(self.channel.app.client.base_url).netloc
        return url.startswith("https://") and host == "files.slack.com" or bool(host) and host == api

    async def work(self, item: Item) -> None:
        """One turn of the inbox: the reply is made (unless an earlier attempt made it), recorded, then
        posted message by message, each recorded as posted before the next."""
        payload = item.payload
        incoming = incoming_from_dict(payload["incoming"])
        channel, thread = payload["channel"], payload.get("thread")
        client = self.channel.app.client

        async def record(**changes) -> None:
            await self.channel.worker.record(item, **changes)

        reply_data = item.progress.get("reply")
        replace = item.progress.get("stream") or item.progress.get("placeholder")
        if reply_data is not None:
            reply = reply_from_dict(reply_data)
        else:
            if payload.get("files"):
                incoming = dataclasses.replace(incoming, uploads=await self._fetch(payload["files"]))
            if payload.get("assistant"):
                incoming = await self.channel.contexts.beside(incoming, channel, thread)
                top = self.channel.incoming(incoming.text, incoming.user, incoming.workspace, channel, None)
                if await self.channel.core_call(
                    lambda: not self.channel.core.in_dialog(incoming) and self.channel.core.in_dialog(top)
                ):
                    incoming = top  # a reply in the thread of an assessment question asked at the top of the DM
                else:
                    with contextlib.suppress(Exception):  # status and title are niceties; the answer matters
                        await self.loading(client, channel, thread, detect_language(incoming.text))
                        if incoming.text and item.attempts == 1:
                            await client.assistant_threads_setTitle(
                                channel_id=channel, thread_ts=thread, title=incoming.text[:80]
                            )
            language = detect_language(incoming.text)
            llm = self.channel.core.settings.llm.enabled and item.attempts == 1
            llm = llm and await self.channel.core_call(self.channel.core.may_stream, incoming)
            if llm and thread:
                if not payload.get("assistant"):  # a mention's thread: Slack's loading status until text flows
                    await self.loading(client, channel, thread, language)
                streamed = await self._stream(client, incoming, channel, thread, record)
                if streamed is None:
                    await self.channel.worker.finish(item)
                    return
                reply, replace = streamed
            else:
                if llm and replace is None and not (thread and await self.loading(client, channel, thread, language)):
                    # no loading status where Slack has none (a DM outside a thread): a message that the answer
                    # replaces
                    working = i18n.text("slack_working", language)
                    with contextlib.suppress(Exception):  # only a courtesy; the answer follows either way
                        replace = (await client.chat_postMessage(channel=channel, thread_ts=thread, text=working))["ts"]
                    if replace is not None:
                        await record(placeholder=replace)  # a turn taken over replaces it, not posts another
                reply = await self.channel.reply_to(incoming)
                await record(reply=reply_to_dict(reply))
        posted = item.progress.get("posted", 0)

        async def counted(number: int, last: bool) -> None:
            if last:  # the item is finished next, which says as much; should that fail, this process knows
                self.channel.worker.note(item, posted=number)
            else:
                await record(posted=number)

        async with self.channel.worker.posting():
            await self.channel.deliver(
                client,
                reply,
                channel,
                thread,
                replace=replace if not posted else None,
                user=incoming.user,
                skip=posted,
                on_posted=counted,
                suggest=False,
            )
            await self.channel.worker.finish(item)
        await self.channel.follow_ups(client, reply, channel, thread)  # after the finish: one UPDATE less

    async def loading(self, client: AsyncWebClient, channel: str, thread: str, language: str) -> bool:
        """Slack's loading status under a thread ("Lotse sucht in der Roadmap …" with rotating messages),
        which Slack clears when the answer is posted; False where Slack refuses it."""
        try:
            await client.assistant_threads_setStatus(
                channel_id=channel,
                thread_ts=thread,
                status=i18n.text("slack_thinking", language),
                loading_messages=list(i18n.text("slack_loading_messages", language)),
            )
        except Exception as exc:  # noqa: BLE001 — a nicety: the placeholder message stands in
            log.info("no loading status in %s (%s)", channel, type(exc).__name__)
            return False
        return True

    async def apologise(self, item: Item) -> None:
        payload = item.payload
        language = detect_language(payload["incoming"].get("text") or "")
        await self.channel.app.client.chat_postMessage(
            channel=payload["channel"], thread_ts=payload.get("thread"), text=i18n.text("slack_error", language)
        )

    async def _stream(
        self, client: AsyncWebClient, incoming: Incoming, channel: str, thread: str, record
    ) -> tuple[Reply, str] | None:
        """An LLM answer in a thread, streamed as it is written (chat.startStream/appendStream/stopStream).
        None when it was streamed to the end; else (the reply, the stream's message that the whole
        answer replaces), both recorded."""
        stream = await client.chat_stream(
            channel=channel, thread_ts=thread, recipient_team_id=incoming.workspace, recipient_user_id=incoming.user
        )
        streamed: list[str] = []

        async def append(piece: str) -> None:
            await stream.append(markdown_text=piece)
            streamed.append(piece)

        reply, intact = await self.channel.bridge.stream(partial(self.channel.reply_to, incoming), append)
        await record(reply=reply_to_dict(reply), stream=stream.ts)
        text = "".join(streamed)
        if intact and text and reply.mode == "llm" and reply.answered and reply.text.startswith(text.rstrip()):
            try:  # the rest of the text (e.g. a hint added after the answer), then sources and buttons
                await stream.stop(markdown_text=reply.text[len(text) :] or None, blocks=blocks.stream_tail(reply))
                return None
            except Exception as exc:
                log.warning("Slack could not finish a streamed answer (%s)", type(exc).__name__)
        # nothing streamed (extractive fallback, refusal), the final check replaced the text, or stopping
        # failed: a started stream is stopped first (Slack keeps it open otherwise), then the whole answer
        # is shown once, in its place
        if stream.ts:
            with contextlib.suppress(Exception):
                await stream.stop()
        return reply, stream.ts
