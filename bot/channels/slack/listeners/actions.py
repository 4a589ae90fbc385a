"""Buttons: an assessment's choices and controls, a nudge's tasks, 👍/👎 under an answer and the
feedback form's offer. Each is acknowledged first (Slack does not retry actions)."""

from __future__ import annotations

import contextlib
import logging
import re
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack import blocks
from bot.channels.slack.payload import language_of, team_of
from bot.core import i18n

if TYPE_CHECKING:
    from bot.channels.slack.app import SlackChannel

log = logging.getLogger(__name__)


class ActionListener:
    def __init__(self, channel: SlackChannel) -> None:
        self.channel = channel

    def register(self) -> None:
        app = self.channel.app
        app.action(re.compile(r"^lotse_(choice|control)_"))(self.on_dialog_button)
        app.action(re.compile(r"^lotse_task_"))(self.on_task_button)
        app.action(blocks.RATING)(self.on_rating)
        app.action("lotse_feedback_up")(self.on_thumbs_up)  # plain buttons under answers posted before
        app.action("lotse_feedback_open")(self.on_feedback_button)
        app.action("lotse_feedback_down")(self.on_thumbs_down)

    async def on_dialog_button(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        message = body.get("message") or {}
        channel = body["channel"]["id"]
        thread = message.get("thread_ts")
        incoming = self.channel.incoming("", body["user"]["id"], team_of(body), channel, thread, value=action["value"])
        incoming = await self.channel.contexts.beside(incoming, channel, thread)  # a Confirm in the assistant panel
        async with self.channel.worker.in_order(incoming.conversation_key):
            reply = await self.channel.reply_to(incoming)
            if reply.answered and message.get("ts"):  # show what was picked, and take the buttons away
                label = (action.get("text") or {}).get("text") or action["value"]
                with contextlib.suppress(Exception):
                    await client.chat_update(
                        channel=channel,
                        ts=message["ts"],
                        text=message.get("text") or "",
                        blocks=blocks.answered(message.get("blocks") or [], label),
                    )
            await self.channel.deliver(client, reply, channel, thread, user=incoming.user)

    async def on_task_button(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        """A checklist's button: a nudge's task is recorded and the nudge redrawn in place with the new state;
        a reply that goes on (a dialog's first question, a list) is posted as a message of its own; anything
        else is a note to the one who clicked."""
        await ack()
        message = body.get("message") or {}
        channel = body["channel"]["id"]
        incoming = self.channel.incoming("", body["user"]["id"], team_of(body), channel, None, value=action["value"])
        reply = await self.channel.reply_to(incoming)
        if reply.mode != "nudge" and (reply.question is not None or reply.tasks):
            await self.channel.deliver(client, reply, channel, None, user=incoming.user)
        elif reply.answered and reply.mode == "nudge" and message.get("ts"):
            text, message_blocks = blocks.render(reply)[0]
            try:
                await client.chat_update(channel=channel, ts=message["ts"], text=text, blocks=message_blocks)
            except Exception as exc:  # the change is stored; say so rather than nothing
                log.warning("could not redraw a nudge: %s", exc)
                await client.chat_postEphemeral(
                    channel=channel, user=body["user"]["id"], text=blocks.mrkdwn(reply.footer or text)
                )
        else:
            await client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=blocks.mrkdwn(reply.text))

    async def on_feedback_button(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        """The button under the core's feedback form offer: Slack shows forms as modals."""
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=blocks.general_feedback_modal(action["value"]))

    async def on_rating(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        """Slack's feedback_buttons: "up:<answer id>" or "down:<answer id>" (checked by the gate)."""
        side, _, answer = action["value"].partition(":")
        if side == "up":
            await self.on_thumbs_up(ack, body, {**action, "value": answer}, client)
        else:
            await self.on_thumbs_down(ack, body, {**action, "value": answer}, client)

    async def on_thumbs_up(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        await self._rate(body, int(action["value"]), client, +1)

    async def on_thumbs_down(self, ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        # the trigger_id expires after 3 seconds: open the form first, then store the rating
        reason_form = blocks.reason_modal(int(action["value"]), language_of(body))
        with contextlib.suppress(Exception):
            await client.views_open(trigger_id=body["trigger_id"], view=reason_form)
        await self._rate(body, int(action["value"]), client, -1, thank=False)

    async def _rate(self, body: dict, answer: int, client: AsyncWebClient, rating: int, thank: bool = True) -> bool:
        incoming = self.channel.incoming("", body["user"]["id"], team_of(body), body["channel"]["id"], None)
        stored = await self.channel.quick_call(self.channel.core.rate_answer, answer, incoming, rating)
        language = language_of(body)
        if not stored:
            text = i18n.text("feedback_unknown_answer", language)
        elif thank:
            text = i18n.text("feedback_thanks", language)
        else:
            return True
        await client.chat_postEphemeral(channel=body["channel"]["id"], user=body["user"]["id"], text=text)
        return stored
