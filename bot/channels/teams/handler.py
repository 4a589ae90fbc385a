"""The `TeamsActivityHandler`: messages (recorded in the inbox, then a turn of the core, streamed in
personal chats), card submissions, installation and conversation updates, invokes (Teams' 👍/👎)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from typing import TYPE_CHECKING

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ActivityTypes, AdaptiveCardInvokeResponse, Attachment
from botbuilder.schema.teams import TaskModuleContinueResponse, TaskModuleResponse, TaskModuleTaskInfo
from msrest.serialization import Model

from bot.channels.teams import cards
from bot.channels.teams.activities import (
    StreamInfo,
    comment,
    feedback_reaction,
    files_of,
    incoming_of,
    native_feedback,
    scalar,
    tenant_of,
    to_activity,
    user_id,
)
from bot.channels.worker import DATABASE_AWAY, TakenOver
from bot.core import i18n
from bot.core.language import detect_language
from bot.core.messages import Incoming, Reply, reply_to_dict
from bot.storage.inbox import error_text

if TYPE_CHECKING:
    from bot.channels.teams.channel import TeamsChannel

log = logging.getLogger(__name__)
EMPTY = Model()  # an invoke's body `{}` (botbuilder writes only msrest models; Microsoft's clients need a body)


def card_response(card: dict) -> InvokeResponse:
    """The answer to an `adaptiveCard/action` invoke: the card that replaces the clicked one."""
    return InvokeResponse(status=200, body=AdaptiveCardInvokeResponse(status_code=200, type=cards.CARD, value=card))


def task_response(task: dict) -> TaskModuleResponse:
    """`cards.feedback_task`'s dialog as the model botbuilder serialises (the same JSON)."""
    value = task["task"]["value"]
    card = Attachment(content_type=value["card"]["contentType"], content=value["card"]["content"])
    info = TaskModuleTaskInfo(title=value["title"], card=card)
    return TaskModuleResponse(task=TaskModuleContinueResponse(value=info))


# Teams streaming (Learn: bots/streaming-ux): Microsoft asks for 1.5–2 s of buffering between updates; a
# stream must end within two minutes; 403 means the stream is over (stopped by the user or not allowed),
# 429 means slow down
STREAM_INTERVAL = 1.5
STREAM_LIMIT = 110.0  # seconds after which no more updates are sent: the final message closes the stream


def _status(exc: Exception) -> int | None:
    """The HTTP status of a failed Bot Connector call (botbuilder raises msrest's errors with a response)."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return status if isinstance(status, int) else None


class NotRecorded(Exception):
    """An activity could not be committed to the inbox: Teams gets 503, not 200."""


class LotseTeamsBot(TeamsActivityHandler):
    def __init__(self, channel: TeamsChannel) -> None:
        self.channel = channel
        self.core = channel.core

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """The activity is committed to the inbox before anything else (its HTTP answer waits for the turn;
        Teams does not resend reliably, so the inbox is the only copy): if this replica dies, another
        one takes the turn over and answers proactively (`TeamsChannel.work`)."""
        activity = turn_context.activity
        key = f"teams:{activity.conversation.id}:{activity.id}"
        TurnContext.remove_recipient_mention(activity)
        incoming = incoming_of(activity, self.channel.teams.admins)
        reference = TurnContext.get_conversation_reference(activity).serialize()
        payload = {
            "incoming": dataclasses.asdict(incoming),
            "reference": reference,
            "activity": {
                "id": activity.id,
                "reply_to_id": activity.reply_to_id,
                "value": activity.value if isinstance(activity.value, dict) else None,
            },
            "files": files_of(activity),  # fetched when the turn is worked
        }
        inbox = self.channel.worker.inbox
        try:
            item_id = await asyncio.to_thread(inbox.record, key, "teams", incoming.conversation_key, payload)
        except Exception as exc:
            raise NotRecorded(error_text(exc)) from exc
        if item_id is None:
            log.info("skipped a repeated delivery of activity %s", activity.id)
            return
        try:
            async with self.channel.worker.in_order(incoming.conversation_key):  # a user's quick second message
                await self._turn(turn_context, activity, incoming, item_id)  # is answered after the first
        except DATABASE_AWAY:  # the database went away mid-turn: the worker waits for it, then answers proactively
            log.warning("the database went away during Teams turn %d: it is answered when it is back", item_id)
            self.channel.worker.submit(item_id)
        except TakenOver:
            log.info("Teams turn %d was taken over by another replica", item_id)

    async def _turn(self, turn_context: TurnContext, activity: Activity, incoming: Incoming, item_id: int) -> None:
        worker = self.channel.worker
        if files := files_of(activity):
            incoming = dataclasses.replace(incoming, uploads=await self.channel.fetch(files, activity.service_url))
        llm = await self.channel.core_call(self.core.may_stream, incoming)
        await self._remember(turn_context)
        if await self._feedback_form(turn_context, activity, incoming):
            await worker.record(item_id, sent=True)
            await worker.finish(item_id)
            return
        admin_reply = self.core.admin_command(incoming)  # before the typing indicator and any streaming
        if admin_reply is not None:
            await turn_context.send_activity(admin_reply.text)
            await worker.record(item_id, sent=True)
            await worker.finish(item_id)
            return
        streaming = llm and incoming.private  # Teams streams in personal chats only
        if streaming:
            reply, final = await self._streamed(turn_context, incoming)
        else:
            await turn_context.send_activity(Activity(type=ActivityTypes.typing))
            reply = await self.channel.core_call(self.core.handle, incoming)
            if reply.files and not incoming.private:
                reply = Reply(i18n.text("teams_files_personal_only", reply.language), reply.language, answered=False)
            data = cards.render(reply, self.channel.settings.public_url)
            if reply.kind == "confirm" and not incoming.private and activity.from_property is not None:
                sender = activity.from_property  # only the requester may confirm: only they see the buttons
                data = cards.for_requester(data, sender.id, sender.name or "", reply.language)
            final = to_activity(data)
        try:
            await worker.record(item_id, reply=reply_to_dict(reply))
        except TakenOver:
            return  # another replica took the turn over (this one was thought dead): it answers
        if incoming.value is not None and activity.reply_to_id and reply.answered and reply.mode == "nudge":
            final.id = activity.reply_to_id  # a task button: the nudge is redrawn in place with the new state
            await turn_context.update_activity(final)
            await worker.record(item_id, sent=True)
            await worker.finish(item_id)
            return
        from_card = isinstance(activity.value, dict) and activity.value.get("lotse") in ("choice", "control", "input")
        if from_card and activity.reply_to_id and reply.answered:  # a button or the card's own input field
            await self._close_question(turn_context, activity)
        response = await turn_context.send_activity(final)
        await worker.record(item_id, sent=True)
        await worker.finish(item_id)
        if reply.answer_id is not None and response is not None and response.id:
            link = f"teams:{activity.conversation.id}:{response.id}"
            await self.channel.core_call(self.core.link_answer, link, reply.answer_id)

    async def _feedback_form(self, turn_context: TurnContext, activity: Activity, incoming: Incoming) -> bool:
        """The submitted feedback form card (the core offers it for `/feedback`): stored as general
        feedback on Lotse."""
        data = activity.value if isinstance(activity.value, dict) else {}
        if data.get("lotse") == "feedback_form":
            language = data.get("language") if data.get("language") in ("de", "en") else "de"
            rating = data.get("rating")
            if not isinstance(rating, str | int) or str(rating) not in {"1", "2", "3", "4", "5"}:
                await turn_context.send_activity(i18n.text("feedback_form_rating", language))
                return True
            typed = comment(data.get("comment"))
            await self.channel.core_call(self.core.general_feedback, incoming, int(rating), typed)
            await self._replace_card(turn_context, activity, cards.answered_card(f"{rating}/5", data.get("asked")))
            await turn_context.send_activity(i18n.text("feedback_thanks", language))
            return True
        return False

    async def _streamed(self, turn_context: TurnContext, incoming: Incoming) -> tuple[Reply, Activity]:
        """Teams streaming (personal chats): an informative typing activity, then typing activities
        that each carry all the text so far, then the final message that closes the stream."""
        language = detect_language(incoming.text)
        first = Activity(
            type=ActivityTypes.typing,
            text=i18n.text("teams_working", language),
            channel_data={"streamType": "informative", "streamSequence": 1},
            entities=[StreamInfo("informative", 1)],
        )
        stream_id = (await turn_context.send_activity(first)).id
        loop = asyncio.get_running_loop()
        state = {"text": "", "sequence": 1, "last": 0.0, "interval": STREAM_INTERVAL, "begun": loop.time()}
        state["over"] = False

        async def update(piece: str) -> None:
            state["text"] += piece
            now = loop.time()
            if state["over"] or now - state["last"] < state["interval"]:
                return  # Teams throttles streams: one update per interval, each with all text so far
            if now - state["begun"] > STREAM_LIMIT:  # Teams ends a stream after two minutes: the final closes it
                state["over"] = True
                return
            state["sequence"] += 1
            state["last"] = now
            sequence = state["sequence"]
            activity = Activity(
                type=ActivityTypes.typing,
                text=state["text"],
                channel_data={"streamType": "streaming", "streamSequence": sequence, "streamId": stream_id},
                entities=[StreamInfo("streaming", sequence, stream_id)],
            )
            try:
                await turn_context.send_activity(activity)
            except Exception as exc:  # noqa: BLE001 — a lost update is made good by the next one or the final
                status = _status(exc)
                if status == 403:  # the stream is over (the user stopped it, or it is not allowed here)
                    state["over"] = True
                    log.info("Teams ended a stream (403): no more updates, the final message follows")
                elif status == 429:  # slow down: twice the interval from now on
                    state["interval"] *= 2
                    log.info("Teams throttled a stream (429): updates every %.1f s", state["interval"])

        async def answer(on_text) -> Reply:
            try:
                return await self.channel.core_call(self.core.handle, incoming, on_text)
            except DATABASE_AWAY:
                raise
            except Exception:
                log.exception("a streamed Teams answer failed")
                return Reply(i18n.text("slack_error", language), language, answered=False)

        reply, _ = await self.channel.bridge.stream(answer, update)
        data = cards.render(reply, self.channel.settings.public_url)
        data["channelData"] = {**data.get("channelData", {}), "streamType": "final", "streamId": stream_id}
        final = to_activity(data)
        final.entities = [*(final.entities or []), StreamInfo("final", None, stream_id)]
        return reply, final

    async def _close_question(self, turn_context: TurnContext, activity: Activity) -> None:
        """The answered question card loses its buttons, so that it cannot be answered twice."""
        data = activity.value if isinstance(activity.value, dict) else {}
        label = next((v for v in (data.get("title"), data.get("answer")) if isinstance(v, str) and v), None)
        label = label or scalar(data.get("value")).split(":", 1)[-1]
        await self._replace_card(turn_context, activity, cards.answered_card(label, data.get("asked")))

    async def _replace_card(self, turn_context: TurnContext, activity: Activity, card: dict) -> None:
        """The card that was submitted (`replyToId`), replaced by one without inputs: sent once, never twice."""
        if not activity.reply_to_id:
            return
        update = to_activity({"type": "message", "attachments": [{"contentType": cards.CARD, "content": card}]})
        update.id = activity.reply_to_id
        with contextlib.suppress(Exception):
            await turn_context.update_activity(update)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """Installed in a chat or team: store where to reach it, and say once what Lotse is."""
        activity = turn_context.activity
        await self._remember(turn_context)
        if any(m.id == activity.recipient.id for m in activity.members_added or []):
            key = f"teams:welcome:{activity.conversation.id}"
            if await self.channel.core_call(self.core.first_delivery, key):
                language = "en" if (activity.locale or "").lower().startswith("en") else "de"
                await turn_context.send_activity(i18n.text("teams_welcome", language))

    async def on_installation_update_activity(self, turn_context: TurnContext) -> None:
        await self._remember(turn_context)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """Teams' native 👍/👎, which botbuilder 4.17.1 does not dispatch: `message/fetchTask` asks for
        Lotse's form (a dialog), `message/submitAction` brings it back. Both are answered with a body
        (`{}` after a submission: Microsoft's clients fail on an empty one). Lotse's cards submit as
        messages (Action.Submit), so no other invoke is for it: 400, where botbuilder would answer 501."""
        activity = turn_context.activity
        if activity.name == "adaptiveCard/action":
            return await self._execute(turn_context, activity)
        if activity.name == "message/fetchTask":
            reaction = feedback_reaction(activity.value)
            if reaction is None:
                log.warning("refused a malformed message/fetchTask")
                return InvokeResponse(status=400, body=EMPTY)
            language = "en" if (activity.locale or "").lower().startswith("en") else "de"
            return InvokeResponse(status=200, body=task_response(cards.feedback_task(reaction, language)))
        if activity.name != "message/submitAction":
            log.info("refused an invoke activity Lotse does not handle: %.80r", activity.name)
            return InvokeResponse(status=400, body=EMPTY)
        feedback = native_feedback(activity.value)
        if feedback is None:
            log.warning("refused a malformed message/submitAction")
            return InvokeResponse(status=400, body=EMPTY)
        rating, reason, comment = feedback
        if not activity.reply_to_id:  # Teams names the rated message; without it there is nothing to rate
            log.warning("a 👍/👎 without replyToId in conversation %.60s: not stored", activity.conversation.id)
            return InvokeResponse(status=200, body=EMPTY)
        link = f"teams:{activity.conversation.id}:{activity.reply_to_id}"
        answer_id = await self.channel.core_call(self.core.answer_for, link)
        if answer_id is None:
            log.warning("a 👍/👎 for a message Lotse does not know (%.80s): not stored", activity.reply_to_id)
        else:
            incoming = incoming_of(activity)
            await self.channel.core_call(self.core.rate_answer, answer_id, incoming, rating, reason, comment)
        return InvokeResponse(status=200, body=EMPTY)

    async def _execute(self, turn_context: TurnContext, activity: Activity) -> InvokeResponse:
        """A Universal Action of an action card: its button runs like a click (Confirm, Cancel, which one),
        the reply follows as a message, and the card is replaced for everyone by the answered one; a group
        chat's card asks for the requester's view (the buttons), and anyone else gets it without them."""
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action") if isinstance(value.get("action"), dict) else {}
        data = action.get("data") if isinstance(action.get("data"), dict) else {}
        verb = action.get("verb")
        if verb == cards.REFRESH_VERB and isinstance(data.get("card"), dict):
            mine = activity.from_property is not None and activity.from_property.id == data.get("for")
            return card_response(data["card"] if mine else cards.without_buttons(data["card"]))
        if verb != cards.EXECUTE_VERB or data.get("lotse") != "choice" or not scalar(data.get("value")):
            log.warning("refused a malformed adaptiveCard/action (verb %.40r)", verb)
            return InvokeResponse(status=400, body=EMPTY)
        clicked = Activity().deserialize({**activity.serialize(), "type": "message", "text": "", "value": data})
        incoming = incoming_of(clicked, self.channel.teams.admins)
        await self._remember(turn_context)
        async with self.channel.worker.in_order(incoming.conversation_key):
            reply = await self.channel.core_call(self.core.handle, incoming)
            await turn_context.send_activity(to_activity(cards.render(reply, self.channel.settings.public_url)))
        label = data.get("title") if isinstance(data.get("title"), str) else scalar(data.get("value"))
        return card_response(cards.answered_card(label, data.get("asked")))

    async def _remember(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        reference = TurnContext.get_conversation_reference(activity).serialize()
        # a channel message's conversation id ends in ";messageid=…" (its thread): proactive messages go to
        # the channel itself, as new posts
        conversation = activity.conversation.id.split(";messageid=")[0]
        reference["conversation"]["id"] = conversation
        user_key = f"teams:{tenant_of(activity.serialize()) or ''}:{user_id(activity)}"
        # off the core's threads: keeping an address current need not wait behind other users' LLM turns
        await asyncio.to_thread(self.core.remember_address, f"teams:{conversation}", user_key, reference)
