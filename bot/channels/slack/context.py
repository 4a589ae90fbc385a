"""Slack's assistant thread context: the channel a user has open beside the assistant panel, kept in
Lotse's database (bolt's default store writes it into message metadata with extra API calls, and its docs
advise a store of one's own). A plan started from the panel sends the team's nudges there."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from slack_bolt.context.assistant.thread_context import AssistantThreadContext
from slack_bolt.context.assistant.thread_context_store.async_store import AsyncAssistantThreadContextStore

from bot.core.messages import Incoming

if TYPE_CHECKING:
    from bot.channels.slack.app import SlackChannel

KEY = "slack-context:{channel}:{thread}"  # a conversation reference's key: the DM and its thread


class ThreadContexts(AsyncAssistantThreadContextStore):
    def __init__(self, channel: SlackChannel) -> None:
        self.channel = channel

    async def save(self, *, channel_id: str, thread_ts: str, context: dict[str, str]) -> None:
        """`context` as Slack sends it, with the thread's `user_id` and the user's own `user_team_id` added
        by Lotse's handlers: the row is the user's, so erasing their data removes it."""
        if not context.get("channel_id"):
            return  # the panel opened beside no channel (a DM, the app's own page): nothing to keep
        team = context.get("user_team_id") or context.get("team_id") or ""
        owner = f"slack:{team}:{context.get('user_id') or ''}"
        key = KEY.format(channel=channel_id, thread=thread_ts)
        await self.channel.quick_call(self.channel.core.remember_address, key, owner, dict(context))

    async def find(self, *, channel_id: str, thread_ts: str) -> AssistantThreadContext | None:
        found = await self.channel.quick_call(
            self.channel.core.address, KEY.format(channel=channel_id, thread=thread_ts)
        )
        return AssistantThreadContext(found[0]) if found and found[0].get("channel_id") else None

    async def beside(self, incoming: Incoming, channel: str, thread: str | None) -> Incoming:
        """The message with the channel its writer has open beside the assistant thread, if it is one
        Lotse can post to (a public or private channel, not another DM)."""
        if not thread or not channel.startswith("D"):
            return incoming
        context = await self.find(channel_id=channel, thread_ts=thread)
        viewed = context.channel_id if context is not None else ""
        if viewed[:1] not in ("C", "G"):
            return incoming
        return dataclasses.replace(incoming, viewing=viewed)
