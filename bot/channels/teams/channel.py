"""Lotse as a Teams bot on botbuilder 4.17.1: `CloudAdapter` with `ConfigurationBotFrameworkAuthentication`
at /api/messages, a `TeamsActivityHandler` that hands messages to the core, proactive messages through
stored conversation references. Everything botbuilder-specific lives in this folder, so that moving to
the Microsoft 365 Agents SDK (botbuilder's successor) is one folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import json
import logging
import random
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import jwt
import requests
from aiohttp import ClientConnectorError, web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity, ActivityTypes, ConversationReference, Entity, ErrorResponseException
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.auth.jwt_token_extractor import _OpenIdMetadata
from msal import ConfidentialClientApplication

from bot import metrics
from bot.channels.teams import cards, gate
from bot.channels.worker import DATABASE_AWAY, InboxWorker, TakenOver
from bot.core import i18n
from bot.core.language import detect_language
from bot.core.messages import Incoming, Reply, incoming_from_dict, reply_from_dict, reply_to_dict
from bot.core.ports import Core, Outcome
from bot.settings import Settings, TeamsSettings
from bot.storage.inbox import Item, error_text

log = logging.getLogger(__name__)
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
MAX_RETRIES = 3
RETRYABLE = (412, 429, 502, 504)  # Microsoft asks to retry these with back-off
STREAM_INTERVAL = 0.5  # seconds between streamed updates
COMMENT_LIMIT = 2000  # characters of a typed feedback comment (the feedback card's maxLength)


KEY_FETCH_TIMEOUT = 10.0  # seconds for each request of the signing-key refresh
TOKEN_TIMEOUT = 10.0  # seconds for each request of an outbound token to Azure AD (msal's default: no limit)
MSAL_OPTIONS: dict = {}  # further ConfidentialClientApplication options (the tests turn off instance discovery)
KEY_FETCH_PAUSE = timedelta(minutes=1)  # after a failed refresh, requests are refused at once for this long


async def _refresh_keys_off_the_loop(self: _OpenIdMetadata) -> None:
    """botbuilder 4.17.1 fetches the Bot Framework signing keys with a blocking `requests.get` without a
    timeout, on the event loop that also serves Slack; and after a failure every request fetches again.
    This does the same fetch on a worker thread with a timeout, and pauses after a failure."""
    failed = getattr(self, "lotse_failed", None)
    if failed is not None and datetime.now() - failed[0] < KEY_FETCH_PAUSE:
        raise failed[1]

    def fetch() -> list:
        metadata = requests.get(self.url, timeout=KEY_FETCH_TIMEOUT)
        metadata.raise_for_status()
        keys = requests.get(metadata.json()["jwks_uri"], timeout=KEY_FETCH_TIMEOUT)
        keys.raise_for_status()
        return keys.json()["keys"]

    try:
        self.keys = await asyncio.to_thread(fetch)
    except requests.RequestException as exc:
        self.lotse_failed = (datetime.now(), exc)
        raise
    self.lotse_failed = None
    self.last_updated = datetime.now()


_OpenIdMetadata._refresh = _refresh_keys_off_the_loop  # the SDK is archived and pinned: see the README


class _BoundedMsal:
    """Stands in for the msal app `MicrosoftAppCredentials` builds on first use: the same app, built the same
    way on first use, but whose requests to Azure AD give up after TOKEN_TIMEOUT. botbuilder builds it without
    a timeout, so an Azure AD that does not answer would hold every reply and nudge for ever."""

    def __init__(self, credentials: MicrosoftAppCredentials) -> None:
        self._credentials = credentials
        self._app: ConfidentialClientApplication | None = None

    def _get(self) -> ConfidentialClientApplication:
        if self._app is None:
            c = self._credentials
            self._app = ConfidentialClientApplication(client_id=c.microsoft_app_id, timeout=TOKEN_TIMEOUT,
                                                      client_credential=c.microsoft_app_password,
                                                      authority=c.oauth_endpoint, **MSAL_OPTIONS)  # fmt: skip
        return self._app

    def acquire_token_silent(self, *args, **kwargs):
        return self._get().acquire_token_silent(*args, **kwargs)

    def acquire_token_for_client(self, *args, **kwargs):
        return self._get().acquire_token_for_client(*args, **kwargs)


class BoundedCredentialFactory(ConfigurationServiceClientCredentialFactory):
    """botbuilder's factory for the configured app type, with a time limit on the token requests of
    password credentials (MultiTenant, SingleTenant)."""

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool):
        credentials = await super().create_credentials(app_id, oauth_scope, login_endpoint, validate_authority)
        if isinstance(credentials, MicrosoftAppCredentials) and credentials.microsoft_app_id and not credentials.app:
            credentials.app = _BoundedMsal(credentials)
        return credentials


class BotConfig:
    """The attributes botbuilder's ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, teams: TeamsSettings) -> None:
        self.APP_ID = teams.app_id or ""
        self.APP_PASSWORD = teams.app_password or ""
        # an empty app id means authentication is off (local emulator only; see TeamsChannel)
        self.APP_TYPE = teams.app_type if teams.app_id else "MultiTenant"
        self.APP_TENANTID = teams.tenant_id or ""
        if teams.openid_metadata_url:  # tests and staging: signing keys from elsewhere, same checks
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = teams.openid_metadata_url
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = BOT_FRAMEWORK_ISSUER
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = BOT_FRAMEWORK_ISSUER
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = (
                f"https://login.microsoftonline.com/{teams.tenant_id or 'botframework.com'}"
            )


class MessageEntity(Entity):
    """botbuilder's Entity keeps only `type`; Teams' AI message entity needs its schema.org fields too."""

    _attribute_map = {
        **Entity._attribute_map,
        "schema_type": {"key": "@type", "type": "str"},
        "context": {"key": "@context", "type": "str"},
        "schema_id": {"key": "@id", "type": "str"},
        "additional_type": {"key": "additionalType", "type": "[str]"},
        "citation": {"key": "citation", "type": "[object]"},
    }

    def __init__(self, data: dict) -> None:
        super().__init__(type=data["type"])
        self.schema_type, self.context, self.schema_id = data.get("@type"), data.get("@context"), data.get("@id")
        self.additional_type, self.citation = data.get("additionalType"), data.get("citation")


class StreamInfo(Entity):
    """Teams' `streaminfo` entity, which botbuilder 4.17.1 does not know."""

    _attribute_map = {
        **Entity._attribute_map,
        "stream_id": {"key": "streamId", "type": "str"},
        "stream_type": {"key": "streamType", "type": "str"},
        "stream_sequence": {"key": "streamSequence", "type": "int"},
    }

    def __init__(self, stream_type: str, sequence: int | None, stream_id: str | None = None) -> None:
        super().__init__(type="streaminfo")
        self.stream_type, self.stream_sequence, self.stream_id = stream_type, sequence, stream_id


def to_activity(data: dict) -> Activity:
    entities = data.pop("entities", None)
    activity = Activity().deserialize(data)
    if entities:
        activity.entities = [MessageEntity(e) for e in entities]
    return activity


class TeamsChannel:
    """The Teams endpoint and proactive sender around one core."""

    def __init__(self, core: Core, settings: Settings, executor: ThreadPoolExecutor, credentials_factory=None,
                 worker: InboxWorker | None = None) -> None:  # fmt: skip
        self.core = core
        self.settings = settings
        self.teams = settings.teams
        self.executor = executor
        self.worker = worker or InboxWorker(core.inbox())
        self.worker.register("teams", self.work, self.apologise)
        config = BotConfig(self.teams)
        credentials_factory = credentials_factory or BoundedCredentialFactory(config)
        auth = ConfigurationBotFrameworkAuthentication(config, credentials_factory=credentials_factory)
        self.adapter = CloudAdapter(auth)
        self.adapter.on_turn_error = self._on_turn_error
        self.bot = LotseTeamsBot(self)
        if not self.teams.app_id:
            log.warning(
                "TEAMS AUTHENTICATION IS OFF (LOTSE_TEAMS_ALLOW_ANONYMOUS=1, no MICROSOFT_APP_ID): anyone who can "
                "reach /api/messages can act as any user. Only for a local emulator; Lotse listens on loopback only."
            )

    async def core_call(self, function: Callable, *args: Any) -> Any:
        context = contextvars.copy_context()  # the request id goes along into the core's thread
        return await asyncio.get_running_loop().run_in_executor(self.executor, context.run, function, *args)

    # -- the endpoint ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        """POST /api/messages: authenticated by the Bot Framework token before anything reaches the core."""
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.Response(status=415, text="Activities are JSON (Content-Type: application/json).")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            return web.Response(status=400, text="The body is not valid JSON.")
        if found := gate.problem(body):
            log.warning("refused a malformed activity: %s", found)
            return web.Response(status=400, text=f"Not a valid activity: {found}.")
        tenants = _tenants_of(body) or []
        if (
            self.teams.tenant_id
            and self.teams.app_type.lower() != "multitenant"
            and (not tenants or any(t != self.teams.tenant_id for t in tenants))
        ):
            log.warning("refused an activity from tenant(s) %s", tenants or "none")
            return web.Response(status=403, text="This tenant is not served by this Lotse.")
        if self.worker.draining and body.get("type") == "message":
            metrics.INBOX_REFUSED.labels("teams", "stopping").inc()
            return web.Response(status=503, text="This Lotse is stopping; try again.")
        try:
            return await self.adapter.process(request, self.bot)
        except NotRecorded as exc:  # nothing stored: never 200 for it
            log.error("could not record a Teams activity (%s): answered 503", exc)
            metrics.INBOX_REFUSED.labels("teams", "database").inc()
            return web.Response(status=503, text="Lotse cannot record this message right now; try again.")
        except web.HTTPException:
            raise
        except requests.RequestException as exc:  # the Bot Framework signing keys could not be fetched
            log.error("could not check a Teams token: %s", type(exc).__name__)
            metrics.CHANNEL_ERRORS.labels("teams", "auth").inc()
            return web.Response(status=503, text="Token keys unavailable; try again.")
        except (PermissionError, jwt.PyJWTError, KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
            # botbuilder answers a malformed or foreign token with 500 or 404; it is simply not authorized
            log.warning("refused an activity: %s", type(exc).__name__)
            return web.Response(status=401, text="Not authorized.")

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        if isinstance(error, NotRecorded):
            raise error  # to `handle`: 503
        log.error("Teams turn failed: %s: %s", type(error).__name__, error)
        metrics.CHANNEL_ERRORS.labels("teams", "turn").inc()
        if context.activity.type == ActivityTypes.event:  # a proactive turn: notify() reports it
            return
        with contextlib.suppress(Exception):
            language = detect_language(context.activity.text or "")
            await context.send_activity(i18n.text("slack_error", language))

    # -- proactive messages -----------------------------------------------------------------------

    async def notify(self, conversation_key: str, reply: Reply) -> bool:
        """Send a reply to a stored conversation; True if Teams took it."""
        return (await self.deliver(conversation_key, reply)).status == "sent"

    async def deliver(self, conversation_key: str, reply: Reply) -> Outcome:
        """Send a reply to a stored conversation (nudges use this): failed if there is no active
        reference, or on a 403 (the user removed Lotse; the reference is marked inactive); 429, 412,
        502 and 504 are retried with exponential back-off and jitter, then reported as retry."""
        # not through the core's one thread: a batch of nudges must not queue in front of users' turns
        found = await asyncio.to_thread(self.core.address, conversation_key)
        if found is None or not found[1]:
            return Outcome(
                "failed", error=f"no active Teams conversation {conversation_key} (Lotse must be added there)"
            )
        return await self.send_to(found[0], to_activity(cards.render(reply, self.settings.public_url)))

    async def send_to(self, reference_data: dict, activity: Activity) -> Outcome:
        """Send an activity to a conversation reference (wire JSON), with the retries of `deliver`."""
        reference = ConversationReference().deserialize(reference_data)
        conversation_key = f"teams:{reference.conversation.id}"

        failures: list[ErrorResponseException] = []
        sent: list[str] = []

        async def send(context: TurnContext) -> None:
            try:
                response = await context.send_activity(activity)
                if response is not None and response.id:
                    sent.append(response.id)
            except Exception as exc:  # handled below, not by the adapter's turn-error handler
                failures.append(exc)

        for attempt in range(MAX_RETRIES + 1):
            failures.clear()
            await self.adapter.continue_conversation(reference, send, self.teams.app_id or str(uuid.uuid4()))
            if not failures:
                return Outcome("sent", message_ref=sent[-1] if sent else None)
            status = getattr(getattr(failures[0], "response", None), "status_code", None)
            if status == 403:
                log.warning("Teams refused a proactive message (403): reference %s is now inactive", conversation_key)
                await asyncio.to_thread(self.core.forget_address, conversation_key)
                return Outcome("failed", error="Teams: 403, Lotse was removed from the conversation")
            if status in RETRYABLE:
                if attempt < MAX_RETRIES:
                    await asyncio.sleep(_retry_after(failures[0].response, attempt))
                    continue
                return Outcome("retry", error=f"Teams answered {status}")
            log.error(
                "proactive message to %s failed: %s: %s", conversation_key, type(failures[0]).__name__, failures[0]
            )
            if status is None and isinstance(failures[0], asyncio.TimeoutError | TimeoutError):
                return Outcome("unknown", error="no answer from Teams")
            if status is None and isinstance(failures[0], ClientConnectorError):
                return Outcome("retry", error=str(failures[0]))
            return Outcome("failed", error=f"Teams: {type(failures[0]).__name__}: {failures[0]}")
        return Outcome("retry", error="Teams kept refusing")

    async def work(self, item: Item) -> None:
        """A turn taken over from the inbox (its replica died, or the database went away mid-turn): the
        reply is made unless an earlier attempt made it, and sent proactively to the stored reference."""
        payload = item.payload
        incoming = incoming_from_dict(payload["incoming"])
        if item.progress.get("sent"):  # sent before the database went away: only the mark is missing
            await self.worker.finish(item)
            return
        reply_data = item.progress.get("reply")
        if reply_data is None:
            try:
                reply = await self.core_call(self.core.handle, incoming)
            except DATABASE_AWAY:
                raise
            except Exception:
                log.exception("a Teams turn taken over from the inbox failed")
                reply = Reply(i18n.text("slack_error", detect_language(incoming.text)), "de", answered=False)
            await self.worker.record(item, reply=reply_to_dict(reply))
        else:
            reply = reply_from_dict(reply_data)
        if reply.files and not incoming.private:
            reply = Reply(i18n.text("teams_files_personal_only", reply.language), reply.language, answered=False)
        outcome = await self.send_to(payload["reference"], to_activity(cards.render(reply, self.settings.public_url)))
        if outcome.status == "retry":
            raise RuntimeError(f"Teams did not take the reply: {outcome.error}")
        if outcome.status == "failed":
            log.error("a Teams reply taken over from the inbox could not be sent: %s", outcome.error)
        await self.worker.record(item, sent=True)
        await self.worker.finish(item, "done" if outcome.status != "failed" else "failed")

    async def apologise(self, item: Item) -> None:
        language = detect_language(item.payload["incoming"].get("text") or "")
        apology = to_activity({"type": "message", "text": i18n.text("slack_error", language)})
        await self.send_to(item.payload["reference"], apology)


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
        incoming = _incoming(activity, self.channel.teams.admins)
        reference = TurnContext.get_conversation_reference(activity).serialize()
        payload = {"incoming": dataclasses.asdict(incoming), "reference": reference,
                   "activity": {"id": activity.id, "reply_to_id": activity.reply_to_id,
                                "value": activity.value if isinstance(activity.value, dict) else None}}  # fmt: skip
        inbox = self.channel.worker.inbox
        try:
            item_id = await asyncio.to_thread(inbox.record, key, "teams", incoming.conversation_key, payload)
        except Exception as exc:
            raise NotRecorded(error_text(exc)) from exc
        if item_id is None:
            log.info("skipped a repeated delivery of activity %s", activity.id)
            return
        try:
            await self._turn(turn_context, activity, incoming, item_id)
        except DATABASE_AWAY:  # the database went away mid-turn: the worker waits for it, then answers proactively
            log.warning("the database went away during Teams turn %d: it is answered when it is back", item_id)
            self.channel.worker.submit(item_id)
        except TakenOver:
            log.info("Teams turn %d was taken over by another replica", item_id)

    async def _turn(self, turn_context: TurnContext, activity: Activity, incoming: Incoming, item_id: int) -> None:
        worker = self.channel.worker
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
            final = to_activity(cards.render(reply, self.channel.settings.public_url))
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
        if incoming.value is not None and activity.reply_to_id and reply.answered:
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
            comment = _comment(data.get("comment"))
            await self.channel.core_call(self.core.general_feedback, incoming, int(rating), comment)
            await turn_context.send_activity(i18n.text("feedback_thanks", language))
            return True
        return False

    async def _streamed(self, turn_context: TurnContext, incoming: Incoming) -> tuple[Reply, Activity]:
        """Teams streaming (personal chats): an informative typing activity, then typing activities
        that each carry all the text so far, then the final message that closes the stream."""
        language = detect_language(incoming.text)
        first = Activity(type=ActivityTypes.typing, text=i18n.text("teams_working", language),
                         channel_data={"streamType": "informative", "streamSequence": 1},
                         entities=[StreamInfo("informative", 1)])  # fmt: skip
        stream_id = (await turn_context.send_activity(first)).id
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue[str | None] = asyncio.Queue()

        async def pump() -> None:
            text, sequence, last = "", 1, 0.0
            while (piece := await pieces.get()) is not None:
                text += piece
                if loop.time() - last < STREAM_INTERVAL:
                    continue  # Teams throttles streams: one update per interval, each with all text so far
                sequence, last = sequence + 1, loop.time()
                update = Activity(type=ActivityTypes.typing, text=text,
                                  channel_data={"streamType": "streaming", "streamSequence": sequence,
                                                "streamId": stream_id},
                                  entities=[StreamInfo("streaming", sequence, stream_id)])  # fmt: skip
                with contextlib.suppress(Exception):
                    await turn_context.send_activity(update)

        pumping = asyncio.create_task(pump())
        try:
            reply = await self.channel.core_call(
                self.core.handle, incoming, lambda piece: loop.call_soon_threadsafe(pieces.put_nowait, piece)
            )
        except DATABASE_AWAY:
            raise
        except Exception:
            log.exception("a streamed Teams answer failed")
            reply = Reply(i18n.text("slack_error", language), language, answered=False)
        finally:
            pieces.put_nowait(None)
            await pumping
        data = cards.render(reply, self.channel.settings.public_url)
        data["channelData"] = {**data.get("channelData", {}), "streamType": "final", "streamId": stream_id}
        final = to_activity(data)
        final.entities = [*(final.entities or []), StreamInfo("final", None, stream_id)]
        return reply, final

    async def _close_question(self, turn_context: TurnContext, activity: Activity) -> None:
        """The answered question card loses its buttons, so that it cannot be answered twice."""
        data = activity.value if isinstance(activity.value, dict) else {}
        label = next((v for v in (data.get("title"), data.get("answer")) if isinstance(v, str) and v), None)
        label = label or _scalar(data.get("value")).split(":", 1)[-1]
        update = to_activity({"type": "message", "attachments": [
            {"contentType": cards.CARD, "content": cards.answered_card(label)}]})  # fmt: skip
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
        """Teams' native 👍/👎 (`message/submitAction`, which botbuilder 4.17.1 does not dispatch). Lotse's
        cards submit as messages (Action.Submit), so no other invoke is for it: 400, where botbuilder's
        handler would answer 501."""
        activity = turn_context.activity
        if activity.name != "message/submitAction":
            log.info("refused an invoke activity Lotse does not handle: %.80r", activity.name)
            return InvokeResponse(status=400)
        feedback = _native_feedback(activity.value)
        if feedback is None:
            log.warning("refused a malformed message/submitAction")
            return InvokeResponse(status=400)
        rating, comment = feedback
        link = f"teams:{activity.conversation.id}:{activity.reply_to_id}"
        answer_id = await self.channel.core_call(self.core.answer_for, link)
        if answer_id is not None:
            incoming = _incoming(activity)
            await self.channel.core_call(self.core.rate_answer, answer_id, incoming, rating, None, comment)
        return InvokeResponse(status=200)

    async def _remember(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        reference = TurnContext.get_conversation_reference(activity).serialize()
        # a channel message's conversation id ends in ";messageid=…" (its thread): proactive messages go to
        # the channel itself, as new posts
        conversation = activity.conversation.id.split(";messageid=")[0]
        reference["conversation"]["id"] = conversation
        user_key = f"teams:{_tenant_of(activity.serialize()) or ''}:{_user_id(activity)}"
        # off the core's thread: keeping an address current need not wait behind another user's LLM turn
        await asyncio.to_thread(self.core.remember_address, f"teams:{conversation}", user_key, reference)


def _incoming(activity: Activity, admins: frozenset[str] = frozenset()) -> Incoming:
    text, value = (activity.text or "").strip(), None
    data = activity.value if isinstance(activity.value, dict) else {}
    if data.get("lotse") in ("choice", "control"):
        value = _scalar(data.get("value"))
    elif data.get("lotse") == "input":
        text = _scalar(data.get("answer")).strip()
    tenant = _tenant_of(activity.serialize()) or ""
    user = _user_id(activity)
    private = (activity.conversation.conversation_type or "personal") == "personal"
    name = activity.from_property.name if activity.from_property else None
    return Incoming(text=text, user=user, channel="teams", workspace=tenant, conversation=activity.conversation.id,
                    value=value, admin=user in admins, private=private,
                    user_name=name if isinstance(name, str) else None)  # fmt: skip


def _user_id(activity: Activity) -> str:
    sender = activity.from_property
    return (sender.aad_object_id or sender.id) if sender else ""


def _tenants_of(body: dict) -> list[str] | None:
    """The tenant ids an activity names (conversation.tenantId, channelData.tenant.id); None if malformed."""
    conversation, channel_data = body.get("conversation") or {}, body.get("channelData") or {}
    tenant = (channel_data.get("tenant") or {}) if isinstance(channel_data, dict) else None
    if not isinstance(conversation, dict) or not isinstance(tenant, dict):
        return None
    return [str(t) for t in (conversation.get("tenantId"), tenant.get("id")) if t]


def _tenant_of(body: dict) -> str | None:
    tenants = _tenants_of(body)
    return tenants[0] if tenants else None


def _scalar(value: Any) -> str:
    """A card's submitted field as text: Lotse's cards send strings (numbers are taken too), nothing else."""
    return str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else ""


def _comment(value: Any) -> str | None:
    """A typed comment to store: text only, at most COMMENT_LIMIT characters (the cards' maxLength)."""
    return value.strip()[:COMMENT_LIMIT] or None if isinstance(value, str) else None


def _native_feedback(value: Any) -> tuple[int, str | None] | None:
    """(rating, comment) of Teams' 👍/👎 invoke, or None if it is not one. Teams sends the typed reason
    as a JSON string: {"actionName": "feedback", "actionValue": {"reaction": "like"|"dislike",
    "feedback": "{\"feedbackText\": \"…\"}"}}."""
    action = value.get("actionValue") if isinstance(value, dict) and value.get("actionName") == "feedback" else None
    if not isinstance(action, dict) or action.get("reaction") not in ("like", "dislike"):
        return None
    feedback = action.get("feedback")
    if isinstance(feedback, str):
        with contextlib.suppress(json.JSONDecodeError, RecursionError):
            loaded = json.loads(feedback)
            feedback = loaded if isinstance(loaded, dict) else feedback
    if isinstance(feedback, dict):
        feedback = feedback.get("feedbackText")
    return (1 if action["reaction"] == "like" else -1), _comment(feedback)


def _retry_after(response: Any, attempt: int) -> float:
    with contextlib.suppress(Exception):
        return min(float(response.headers.get("Retry-After")), 30.0)
    return 2.0**attempt * (0.5 + random.random())  # exponential back-off with jitter


class TeamsSender:
    """Delivers nudges as proactive messages through the stored conversation references."""

    channel = "teams"

    def __init__(self, teams: TeamsChannel) -> None:
        self.teams = teams

    async def send(self, address: str, reply: Reply) -> Outcome:
        return await self.teams.deliver(address, reply)
