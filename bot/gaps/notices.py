"""Telling askers that their question has an answer now (issue 25): when a knowledge owner answers a
group of refused questions for the company FAQ, everyone who asked one of them in a direct chat within
the last 14 days gets one short message there, once — unless they said `/hinweise aus`. Channel-neutral:
the nudge dispatcher sends the replies with the channels' senders, on its minute pass."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.core import i18n
from bot.core.messages import Incoming, Reply
from bot.core.routing import Route
from bot.gaps.faq import CompanyFaq
from bot.gaps.store import AnswerNotice, GapLog

WORDS = frozenset({"/hinweise", "/notices"})
ON = frozenset({"an", "ein", "on", "einschalten"})
OFF = frozenset({"aus", "ab", "off", "abbestellen", "stop"})


class AnswerNotices:
    def __init__(self, gaps: GapLog, faq: CompanyFaq) -> None:
        self.gaps = gaps
        self.faq = faq

    def due(self, now: datetime, channels: Iterable[str]) -> list[tuple[str, str, Reply]]:
        """(channel, address, reply) for each asker to tell now; claimed, so no other process sends them."""
        out = []
        for notice in self.gaps.claim_notices(channels, now):
            entry = self.faq.get(notice.faq_id)
            if notice.off or entry is None or entry.withdrawn_at is not None:
                continue
            out.append((notice.channel, notice.address, self.reply(notice, entry)))
        return out

    @staticmethod
    def reply(notice: AnswerNotice, entry) -> Reply:
        language = notice.language
        lines = [i18n.text("gap_notice", language, asked=notice.asked, question=entry.question, answer=entry.answer)]
        if entry.link:
            lines.append(i18n.text("gap_notice_link", language, link=entry.link))
        return Reply("\n".join(lines), language, notice=i18n.text("gap_notice_footer", language), kind="command")

    def routes(self) -> list[Route]:
        return [Route("gap-notices", lambda turn, language: self.handle(turn.message, language), words=WORDS)]

    def handle(self, message: Incoming, language: str) -> Reply:
        """`/hinweise aus|an` (`/notices off|on`): for everyone; without a word, how it stands."""
        words = message.text.split()[1:]
        word = words[0].lower() if words else ""
        if word in OFF or word in ON:
            self.gaps.set_notices(message.user_key, word in ON)
            return Reply(i18n.text("gap_notices_on" if word in ON else "gap_notices_off", language), language)
        state = "off" if self.gaps.notices_off(message.user_key) else "on"
        return Reply(i18n.text(f"gap_notices_state_{state}", language), language)
