"""Slack's listeners, one module per kind (as in bolt's starter template): messages, commands,
actions, views, home. Each registers itself on the channel's bolt app; they share the channel's bridge to
the core, its inbox worker and its way of posting replies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.slack.listeners.actions import ActionListener
from bot.channels.slack.listeners.commands import CommandListener
from bot.channels.slack.listeners.home import HomeListener
from bot.channels.slack.listeners.messages import MessageListener
from bot.channels.slack.listeners.views import ViewListener

if TYPE_CHECKING:
    from bot.channels.slack.app import SlackChannel

KINDS = (MessageListener, CommandListener, ActionListener, ViewListener, HomeListener)


def register(channel: SlackChannel) -> dict[str, object]:
    """Every listener, registered on `channel.app`; by kind name ("messages", …)."""
    listeners = {}
    for kind in KINDS:
        listener = kind(channel)
        listener.register()
        listeners[kind.__module__.rsplit(".", 1)[-1]] = listener
    return listeners
