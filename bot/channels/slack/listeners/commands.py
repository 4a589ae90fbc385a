"""`/lotse` and its subcommands. Besides Slack's own — help, ask (a question, answered only for the
asker), feedback (a modal) and data (what Lotse stores about you) — every command word of the core's
routing table works as `/lotse <word>` (`Core.commands()`: plan, status, check, ergebnis, pilot,
register, audit, export, …, in German and English). A word the table marks direct (it runs a dialog or
sends files) is answered in the user's DM, the others only for the asker where they typed it; a pilot
report can be posted to a channel (`/lotse pilot bericht quartal #leitung`)."""

from __future__ import annotations

import contextlib
import logging
import re
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.channels.slack import blocks
from bot.core import i18n
from bot.core.language import detect_language
from bot.core.messages import Reply

if TYPE_CHECKING:
    from bot.channels.slack.app import SlackChannel

log = logging.getLogger(__name__)
POST_TO = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")  # "/lotse pilot bericht quartal #leitung" posts it there
SLACK_ONLY = {"help": "help", "hilfe": "help", "ask": "ask", "frage": "ask", "feedback": "feedback",
              "rückmeldung": "feedback", "rueckmeldung": "feedback", "data": "data", "daten": "data"}  # fmt: skip
ENGLISH = {"help", "ask", "data", "results", "result", "resume", "continue", "assess", "assessment", "registry"}
# /lotse daten export|löschen: the core's "meine Daten" and "lösche meine Daten", in the DM
DATA_REQUESTS = {"export": "meine Daten", "löschen": "lösche meine Daten", "loeschen": "lösche meine Daten",
                 "delete": "delete my data", "erase": "delete my data"}  # fmt: skip


def slack_help(language: str) -> str:
    return i18n.text("slack_help", language)


class CommandListener:
    def __init__(self, channel: SlackChannel) -> None:
        self.channel = channel
        self.commands = channel.core.commands()  # "/plan" → its route, and whether it belongs in the DM
        blocks.offer([*SLACK_ONLY, *(word.removeprefix("/") for word in self.commands)])

    def register(self) -> None:
        self.channel.app.command("/lotse")(self.on_command)

    async def on_command(self, ack, command: dict, client: AsyncWebClient, respond) -> None:
        word, _, rest = (command.get("text") or "").strip().partition(" ")
        rest, lowered = rest.strip(), word.lower()
        sub = SLACK_ONLY.get(lowered, "help" if not word else None)
        found = None if sub else self.commands.get(f"/{lowered}")
        language = detect_language(f"{word} {rest}", "en" if lowered in ENGLISH else "de")
        user = command["user_id"]
        if sub is None and found is None:
            await ack(
                text=blocks.mrkdwn(
                    i18n.text("slack_unknown_subcommand", language, name=word) + "\n\n" + slack_help(language)
                )
            )
            return
        if found is not None and found.route == "admin":  # a refusal is the ack itself, the answer follows privately
            reply = self.channel.core.admin_command(
                self.channel.incoming(found.word, user, command["team_id"], "", None)
            )
            if not reply.answered:
                await ack(text=blocks.mrkdwn(reply.text))
                return
            await ack()
            await respond(text=blocks.mrkdwn(reply.text), response_type="ephemeral")
            return
        text = f"{found.word} {rest}".strip() if found is not None else rest
        direct = found is not None and found.direct
        if sub == "ask" and rest.startswith("/"):
            direct = True  # a command (e.g. /check) needs a conversation: it goes to the DM
        target = POST_TO.search(rest) if found is not None and found.route == "pilot" else None
        if target and rest.split()[0].lower() in ("bericht", "report"):  # a report posted to a channel
            rest = POST_TO.sub("", rest).strip()
            incoming = self.channel.incoming(f"/pilot {rest}", user, command["team_id"], target.group(1), None)
            # ack first: the report with its charts takes about a second, more under load, and Slack waits 3 s
            await ack(text=blocks.mrkdwn(i18n.text("slack_report_working", language, channel=target.group(1))))
            reply = await self.channel.reply_to(incoming)
            if not reply.answered:  # a refusal, an unknown pilot …: only for the one who asked
                await respond(text=blocks.mrkdwn(reply.text), response_type="ephemeral")
                return
            await self.channel.deliver(client, reply, target.group(1), None, user=user)
            await respond(
                text=blocks.mrkdwn(i18n.text("slack_posted", language, channel=target.group(1))),
                response_type="ephemeral",
            )
            return
        if sub == "data" and rest.lower() in DATA_REQUESTS:
            direct, text = True, DATA_REQUESTS[rest.lower()]
        try:
            await self._subcommand(sub, direct, text, language, ack, command, client, respond)
        except Exception as exc:
            log.error("/lotse %s failed: %s: %s", lowered, type(exc).__name__, exc)
            metrics.CHANNEL_ERRORS.labels("slack", "command").inc()
            with contextlib.suppress(Exception):
                await respond(text=blocks.mrkdwn(i18n.text("slack_error", language)), response_type="ephemeral")

    async def _subcommand(self, sub, direct, text, language, ack, command, client, respond) -> None:
        """`sub`: one of Slack's own subcommands, or None for a command of the table (`text`: what is typed
        to the core); `direct`: answered in the DM."""
        user, team, channel = command["user_id"], command["team_id"], command["channel_id"]
        if sub == "help":
            await ack(text=blocks.mrkdwn(slack_help(language)))
        elif sub == "feedback":
            await ack()
            await client.views_open(trigger_id=command["trigger_id"], view=blocks.general_feedback_modal(language))
        elif direct:
            await ack(text=blocks.mrkdwn(i18n.text("slack_sent_to_dm", language)))
            dm = (await client.conversations_open(users=user))["channel"]["id"]
            reply = await self.channel.reply_to(self.channel.incoming(text, user, team, dm, None))
            await self.channel.deliver(client, reply, dm, None, user=user)
        else:
            await ack()
            if sub == "data":
                summary = await self.channel.quick_call(
                    self.channel.core.data_summary, self.channel.incoming("", user, team, "", None), language
                )
                reply = Reply(summary, language)
            else:
                reply = await self.channel.reply_to(self.channel.incoming(text, user, team, f"slash:{channel}", None))
            for fallback, message_blocks in blocks.render(reply):
                await respond(text=fallback, blocks=message_blocks, response_type="ephemeral")
            if reply.files:  # an export: to the user's DM with Lotse (the command's channel may be any DM)
                await self.channel.upload_private(client, reply, "", None, user)
