"""The App Home tab (the team's status: plan, results, pilots) and Slack's AI-app surface: the
greeting and suggested prompts when an assistant thread starts."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncAssistant
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack import blocks
from bot.core import i18n

if TYPE_CHECKING:
    from bot.channels.slack.app import SlackChannel

log = logging.getLogger(__name__)


def prompts(core, language: str) -> list[dict[str, str]]:
    """Slack's suggested prompts: the core's (questions for the guide, requests from the action catalog)."""
    return [{"title": t, "message": m} for t, m in core.prompts(language)][:4]


class HomeListener:
    def __init__(self, channel: SlackChannel) -> None:
        self.channel = channel

    def register(self) -> None:
        self.channel.app.event("app_home_opened")(self.on_home_opened)
        assistant = AsyncAssistant(thread_context_store=self.channel.contexts)
        assistant.thread_started(self.on_assistant_thread_started)
        assistant.thread_context_changed(self.on_assistant_context_changed)
        self.channel.app.assistant(assistant)

    async def on_home_opened(self, event: dict, body: dict, client: AsyncWebClient) -> None:
        language = "de"
        if event.get("tab") == "messages":  # agent view: prompts without thread_ts (with it the call fails)
            key = f"slack:{body.get('team_id', '')}:greeting:{event['channel']}"
            if await self.channel.quick_call(self.channel.core.first_delivery, key):  # greeted once per user
                await client.chat_postMessage(
                    channel=event["channel"], text=blocks.mrkdwn(i18n.text("slack_greeting", language))
                )
            suggested = await self.channel.quick_call(prompts, self.channel.core, language)
            await client.assistant_threads_setSuggestedPrompts(
                channel_id=event["channel"], prompts=suggested, title=i18n.text("slack_prompts_title", language)
            )
            return
        scope = f"slack:{body.get('team_id', '')}"
        status = await self.channel.quick_call(
            self.channel.core.status, scope, language
        )  # reads only: not behind an LLM turn
        await client.views_publish(user_id=event["user"], view=blocks.home_view(status.results, language, status.plan))

    async def on_assistant_thread_started(self, payload: dict, body: dict, say, set_suggested_prompts) -> None:
        thread = payload.get("assistant_thread") or {}
        await self._keep_context(body, thread)  # the channel the panel was opened beside
        key = f"slack:{body.get('team_id', '')}:greeting:{thread.get('channel_id')}:{thread.get('thread_ts')}"
        if not await self.channel.quick_call(self.channel.core.first_delivery, key):
            return
        await say(blocks.mrkdwn(i18n.text("slack_greeting", "de")))
        await set_suggested_prompts(
            prompts=prompts(self.channel.core, "de"), title=i18n.text("slack_prompts_title", "de")
        )

    async def on_assistant_context_changed(self, payload: dict, body: dict) -> None:
        """The user moved to another channel with the panel open: the plan's nudges would go there now."""
        await self._keep_context(body, payload.get("assistant_thread") or {})

    async def _keep_context(self, body: dict, thread: dict) -> None:
        context = thread.get("context") or {}
        if context.get("channel_id") and thread.get("channel_id") and thread.get("thread_ts"):
            # the user's own workspace: the context's team_id is the viewed channel's (Slack Connect, Grid)
            user = {"user_id": thread.get("user_id") or "", "user_team_id": body.get("team_id") or ""}
            context = {"team_id": body.get("team_id") or "", **context, **user}
            await self.channel.contexts.save(channel_id=thread["channel_id"], thread_ts=thread["thread_ts"],
                                             context=context)  # fmt: skip
