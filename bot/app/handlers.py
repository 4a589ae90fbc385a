"""The handlers of the routes that live in the app (bot/app/routes.py): a question for the guide or the
team's results, /help, /feedback and unknown commands, /export's hint, and the guide's answer to a question
typed inside an assessment. Mixed into `Lotse`, whose attributes they use."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from bot import metrics
from bot.answering import Answer
from bot.app.routes import FEEDBACK, HELP
from bot.core import i18n
from bot.core.messages import Citation, Incoming, Reply
from bot.core.routing import Turn
from bot.dialogs.inputs import NO, YES
from bot.gaps.faq import link_of

log = logging.getLogger(__name__)
HISTORY_TURNS = 6
HELP_ACTIONS = ("pilot.feedback", "plan.status", "privacy.summary")  # /help shows one request of each


def reply_for(answer: Answer) -> Reply:
    """The channel-neutral reply for an answer, citing only what its text refers to; the passages it does
    not quote go along as `nearest` (with a refusal: what the guide covers nearby, "Meinten Sie …?")."""
    cited = _cited(answer)
    quoted = {c.source + c.section + c.text for c in cited}
    nearest = [
        Citation(0, p.title, p.source, p.section, p.text, p.score, p.guide, used=False)
        for p in answer.sources
        if p.source + p.section + p.text not in quoted
    ]
    kind = "answer" if answer.answered else "refusal"
    return Reply(answer.answer, answer.language, cited, answer.answered, answer.mode, nearest=nearest, kind=kind,
                 follow_ups=answer.follow_ups)  # fmt: skip


def _cited(answer: Answer) -> list[Citation]:
    """Only the passages the answer text refers to, renumbered in order of first mention."""
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)]
    order = list(dict.fromkeys(n for n in numbers if 1 <= n <= len(answer.sources)))
    return [
        Citation(n, p.title, p.source, p.section, p.text, p.score, p.guide, url=link_of(p.source, p.text))
        for n, p in ((n, answer.sources[n - 1]) for n in order)
    ]


# a bare yes or no with no dialog, confirmation or question of Lotse's open (those routes take it first)
STRAY_YES_NO = frozenset(w for w in YES | NO if w.isalpha() and len(w) > 1)  # a dialog's yes and no words


class Handlers:
    def log_gap(self, question: str, language: str, message: Incoming, kind: str, **detail) -> None:
        """A question the guide could not answer, or an answer rated 👎, to the gap log (issue 25). The
        answer does not wait on it failing: the log is for the knowledge owners, not for the asker."""
        if not self.settings.gaps:
            return
        try:
            reply_to = (message.reply_to or message.conversation) if message.private else None  # told once answered
            self.services.gaps.record(
                question, language, message.channel, kind, message.user_key, reply_to=reply_to, **detail
            )
        except Exception:
            log.exception("could not log a knowledge gap")

    def _aside(self, message: Incoming, language: str) -> Reply | None:
        """The guide's answer to a question typed inside an assessment, if the guide has one (issue 22)."""
        history = self.conversations.recent(message.conversation_key, HISTORY_TURNS)
        reply = self.question(Turn.of(message, history, role=self.roles.of(message)), language)
        return reply if reply.answered and reply.mode in ("extractive", "llm") else None

    # -- the handlers of the routes that live here ----------------------------------------------------

    def export_hint(self, turn: Turn, language: str) -> Reply:
        """`/export` (admins): where the exports are."""
        return Reply(i18n.text("export_hint", language), language)

    def question(self, turn: Turn, language: str) -> Reply:
        """A question: about the team's own results if it is one, else for the knowledge base."""
        message, text, history, on_text = turn.message, turn.text, turn.history, turn.on_text
        last_language = turn.conversation_language
        word = text.strip(" .!?").lower()
        if word in STRAY_YES_NO:  # "ja" with nothing open that asked: no question for the guide, nor a gap
            return Reply(i18n.text("stray_yes_no", language, word=text.strip()), language, answered=False)
        reply, hint = self.results.answer_question(text, message.scope, turn.message_language)
        if reply is not None:
            return reply
        if message.channel != "console" and (wait := self.limiter.check(message.user_key)) is not None:
            metrics.QUESTIONS.labels(message.channel, "rate_limited").inc()
            return Reply(i18n.text("rate_limited", language, count=wait), language, answered=False)
        cited_before = set(history[-1].sources.split()) if history and history[-1].role == "assistant" else set()
        answer = self.answers.ask(text, [(m.role, m.text) for m in history], last_language, cited_before, on_text)
        metrics.QUESTIONS.labels(message.channel, "answered" if answer.answered else "refused").inc()
        if not text:
            return Reply(answer.answer, answer.language, answered=False)
        if answer.gap:
            self.log_gap(text, answer.language, message, "refused")
        reply = reply_for(answer)
        if not message.private:  # suggested next questions are sent as the user's own message: a mention is needed
            reply = replace(reply, follow_ups=[])
        if hint and answer.answered:  # how to get this from the team's own results, under the guide's answer
            reply = replace(reply, text=f"{reply.text}\n\n{hint}")
        key = message.conversation_key
        cited = [answer.sources[c.number - 1].chunk_id for c in reply.citations]
        answer_id = self.conversations.append_turn(key, text, answer.answer, answer.language, cited)
        return replace(reply, answer_id=answer_id)

    def command(self, turn: Turn, language: str) -> Reply:
        """/help, /feedback, or an unknown command (with a dialog open, `_turn` adds that it waits)."""
        message, text = turn.message, turn.text
        command, _, rest = text.partition(" ")
        command = command.lower()
        if command in HELP:
            lines = [i18n.text("help", language), *self.router.help(language)]
            if self.settings.actions:  # requests in plain words, from the action catalog (issue 22)
                actions = {a.id: a for a in self.services.action_catalog}
                said = [actions[i].examples[language][0] for i in HELP_ACTIONS if i in actions]
                lines.append(i18n.text("help_actions", language, examples=" · ".join(f"„{e}“" for e in said)))
            if message.channel == "console":  # only the terminal has /quit
                lines.append(i18n.text("help_quit", language))
            return Reply("\n".join(lines), language)
        if command in FEEDBACK:
            return self._feedback(message, rest.strip(), FEEDBACK[command] or language)
        return Reply(i18n.text("unknown_command", language, command=command), language, answered=False)

    def _feedback(self, message: Incoming, rest: str, language: str) -> Reply:
        """`/feedback` offers the form (channels render it: a Teams card, a Slack modal); typed as
        `/feedback 4 what to improve` it is stored at once, which works in every channel."""
        if not rest:
            return Reply(i18n.text("feedback_form_intro", language), language, form="feedback")
        rating, _, comment = rest.partition(" ")
        if rating not in {"1", "2", "3", "4", "5"}:
            return Reply(i18n.text("feedback_typed_rating", language), language, answered=False)
        self.general_feedback(message, int(rating), comment.strip() or None)
        return Reply(i18n.text("feedback_thanks", language), language)
