"""What channels call besides `handle` (bot.core.ports.Core), mixed into `Lotse`: thin calls to the
services, so that no channel reaches into the core's parts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core import i18n
from bot.core.language import detect_language
from bot.core.messages import Incoming, Reply
from bot.core.ports import Command, Status
from bot.core.routing import Router, Turn

if TYPE_CHECKING:
    from bot.storage.inbox import Inbox


class ChannelCalls:
    # -- what channels call besides `handle` (bot.core.ports.Core) ---------------------------------------

    def first_delivery(self, key: str) -> bool:
        """True the first time an inbound event with this key arrives (in any process); channels skip
        retries and duplicate deliveries when it is False."""
        return self.services.deliveries.first_time(key)

    def rate_answer(
        self, answer_id: int, message: Incoming, rating: int, reason: str | None = None, comment: str | None = None
    ) -> bool:
        """👍 (+1) or 👎 (−1) on an answer, with an optional reason; False if there is no such answer. A 👎
        goes to the gap log with its question (again with a reason given later: updated, not counted twice)."""
        row = self.services.answer_feedback.rate(answer_id, message.user_key, rating, reason, comment)
        if row is not None and rating < 0 and row.question:
            language = detect_language(row.question)
            self.log_gap(row.question, language, message, "downvoted", reason=row.reason, answer_id=answer_id)
        return row is not None

    def general_feedback(self, message: Incoming, rating: int, comment: str | None) -> None:
        self.services.answer_feedback.general(message.user_key, rating, comment)

    def data_summary(self, message: Incoming, language: str) -> str:
        """What Lotse stores about the sender, in numbers."""
        return self.privacy.summary(message, language)

    def admin_command(self, message: Incoming) -> Reply | None:
        """The reply to an admin-only command (`/export`), decided before anything else is looked at;
        None if the message is no admin command. Channels set `Incoming.admin` from their own IDs."""
        message = self.roles.apply(message)
        turn = Turn.of(message, (), role=self.roles.of(message))
        found = Router([self.router.get("admin")]).route(turn)
        return found[1] if found else None

    def prompts(self, language: str) -> list[tuple[str, str]]:
        """Suggested prompts (Slack's AI app): two questions for the guide and, from the action catalog, two
        things to ask Lotse to do, in plain words (titles are the actions' descriptions)."""
        guide = [tuple(p) for p in i18n.text("slack_prompts", language)][:2]
        if not self.settings.actions:
            return guide
        actions = {a.id: a for a in self.services.action_catalog}
        asked = [actions[i] for i in ("assessment.start", "pilot.feedback") if i in actions]
        return guide + [(a.description[language][:75], a.examples[language][0]) for a in asked]

    def commands(self) -> dict[str, Command]:
        """Every command word of the routing table, for channels that offer them (Slack's /lotse)."""
        return {w: Command(w, r.name, w in r.direct) for w, r in self.router.commands().items()}

    def status(self, scope: str, language: str) -> Status:
        """What Lotse knows about a team: plan, results, pilots (`/status`, Slack's App Home)."""
        return self.status_view.status(scope, language)

    def unfinished(self, conversation_key: str, language: str) -> list[str]:
        """One line per started but unfinished assessment of a conversation (the terminal's greeting)."""
        return self.dialogs.unfinished(conversation_key, language)

    def inbox(self, lease: float | None = None) -> Inbox:
        return self.services.inbox(lease)

    def remember_address(self, conversation_key: str, user_key: str, reference: dict) -> None:
        self.services.references.save(conversation_key, user_key, reference)

    def address(self, conversation_key: str) -> tuple[dict, bool] | None:
        return self.services.references.get(conversation_key)

    def forget_address(self, conversation_key: str) -> None:
        self.services.references.deactivate(conversation_key)

    def link_answer(self, link: str, answer_id: int) -> None:
        self.services.references.link(link, answer_id)

    def answer_for(self, link: str) -> int | None:
        return self.services.references.answer_for(link)

    def purge(self, now=None) -> dict[str, int]:
        """Apply the retention period now (see `bot.privacy.purge`)."""
        return self.services.purge(now)

    def may_stream(self, message: Incoming) -> bool:
        """Whether the reply may be an LLM answer worth streaming: an LLM is configured, the message is
        typed, no route of the table claims it (a command, a phrase) and no assessment is running."""
        if not self.settings.llm.enabled or message.value is not None:
            return False
        return self.router.claims(Turn.of(message, ())) is None and not self.in_dialog(message)

    def in_dialog(self, message: Incoming) -> bool:
        """Whether an assessment is running in this conversation (a channel then passes on messages it
        would otherwise ignore, e.g. thread replies without a mention)."""
        return self.dialogs.store.active(message.conversation_key) is not None
