"""Modals submitted: the reason for a 👎, and the general feedback form (a rating is required)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.channels.slack.payload import team_of
from bot.core import i18n

if TYPE_CHECKING:
    from bot.channels.slack.app import SlackChannel

log = logging.getLogger(__name__)


class ViewListener:
    def __init__(self, channel: SlackChannel) -> None:
        self.channel = channel

    def register(self) -> None:
        self.channel.app.view("lotse_feedback_reason")(self.on_reason_submitted)
        self.channel.app.view("lotse_feedback_form")(self.on_feedback_form)

    async def on_reason_submitted(self, ack, body: dict, view: dict) -> None:
        await ack()
        values = view["state"]["values"]
        reason = (((values.get("reason") or {}).get("value") or {}).get("selected_option") or {}).get("value")
        comment = ((values.get("comment") or {}).get("value") or {}).get("value")
        incoming = self.channel.incoming("", body["user"]["id"], team_of(body), "", None)
        await self.channel.quick_call(
            self.channel.core.rate_answer, int(view["private_metadata"]), incoming, -1, reason, comment
        )

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
        incoming = self.channel.incoming("", body["user"]["id"], team_of(body), "", None)
        await self.channel.quick_call(self.channel.core.general_feedback, incoming, int(selected["value"]), comment)
