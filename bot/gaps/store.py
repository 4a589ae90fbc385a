"""The gap log: every question Lotse refused for want of knowledge, and every answer rated 👎, masked as
for an external LLM and grouped by meaning, so that a knowledge owner answers a group once.

Grouping: a question joins the group of the logged question closest to it — the cosine of their
embeddings plus `LEXICAL` × the share of content words (stems) they have in common — when that is at
least `JOIN`; otherwise it starts a group of its own. Measured on bench/gaps (`python -m bench.gaps`: 20
groups of 5–6 phrasings, 13 of them near another group): the offline embedder alone puts "Wer genehmigt
bei uns KI-Tools?" as close to "Wie viel Budget haben wir für KI-Schulungen?" (0.59) as to its own
English phrasing (0.55), so no setting both keeps the groups apart and joins every phrasing. The figures
favour keeping them apart (B-cubed precision 0.90, recall 0.35 on dev): a group's askers are told when
it is answered, and an answer must not reach people who asked something else. A knowledge owner sees a
question asked in several words as a few groups, each answered once the FAQ entry answers them all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
from sqlalchemy import delete, func, select, update

from bot.safety.masking import Masker, Vault
from bot.storage.db import Database
from bot.storage.models import GapGroupRow, GapRow, NoticeRow, utcnow
from ingest.analysis import stemmer_for, words

JOIN = 0.65  # cosine + LEXICAL × shared stems at which a question joins a group (bench/gaps)
LEXICAL = 0.35
RECENT = 5000  # a new question is compared with this many latest ones (about 8 ms per thousand, SQLite)
KINDS = ("refused", "downvoted")
NOTICE_WINDOW = timedelta(days=14)  # who asked this recently is told once the group has an answer
NOTICES_OFF = "gap-answers-off"  # the notices kind (table `notices`) of someone who wants no such messages
NOTICE_BATCH = 200
STATES = ("open", "answered", "ignored", "off_topic")
_STOP = frozenset(
    "bei uns wir ich der die das ein eine und oder ist sind wie was wer wo wann mit fuer "
    "für zu im in an auf es man kann the a we i our us is are do does what "
    "who where when how can to for of on it my hier here mal denn eigentlich "
    "kurze frage hi hey hallo moin bitte please quick question".split()
)


@dataclass(frozen=True)
class AnswerNotice:
    """One asker to tell that their question has an answer now (in the company FAQ)."""

    user_key: str
    channel: str
    address: str  # their direct chat, as the channel's sender takes it
    language: str
    asked: str  # what they asked (masked as logged)
    faq_id: int
    off: bool  # they asked for no such messages: claimed, not sent


@dataclass(frozen=True)
class Group:
    id: int
    example: str
    language: str
    state: str
    count: int  # questions in the window asked
    first_seen: datetime
    last_seen: datetime
    kinds: dict[str, int]
    faq_id: int | None = None


_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


@lru_cache(maxsize=8192)  # every logged question is compared with each new one: stem it once
def stems(text: str, language: str) -> frozenset[str]:
    """The question's content words, stemmed, umlauts written out ("für" and "fuer" alike)."""
    stemmer = stemmer_for(language)
    folded = text.lower().translate(_FOLD)
    return frozenset(stemmer.stemWord(w) for w in words(folded) if w not in _STOP and len(w) > 2)


class GapLog:
    def __init__(
        self,
        db: Database,
        embed: Callable[[str], np.ndarray],
        names: Callable[[], Iterable[str]] = tuple,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.embed = embed
        self.names = names  # people's display names, masked as for an external LLM
        self.clock = clock
        # one gap logged at a time in this process: two askers of the same new question at once would
        # each open a group of one (the join reads the groups, then writes); across replicas that can
        # still happen, and the digest then shows two groups for one question
        self._joining = threading.Lock()

    def mask(self, text: str) -> str:
        return Masker(tuple(self.names())).mask(" ".join(text.split()), Vault())

    def record(
        self,
        question: str,
        language: str,
        channel: str,
        kind: str,
        user_key: str | None = None,
        reason: str | None = None,
        answer_id: int | None = None,
        reply_to: str | None = None,
    ) -> int | None:
        """Log one gap; returns its group's id (None for an empty question). A 👎 on the same answer again
        updates its reason instead of counting twice."""
        masked = self.mask(question or "")
        if not masked:
            return None
        language = language if language in ("de", "en") else "de"
        vector = np.asarray(self.embed(masked), np.float32)
        own = stems(masked, language)
        now = self.clock()
        with self._joining, self.db.session() as s:
            if answer_id is not None:
                again = s.scalars(select(GapRow).where(GapRow.answer_id == answer_id)).first()
                if again is not None:
                    again.reason = reason
                    return again.group_id
            best, score = self._closest(s, vector, own)
            if best is None or score < JOIN:
                best = GapGroupRow(example=masked, language=language, created_at=now, updated_at=now)
                s.add(best)
                s.flush()
            else:
                best.updated_at = now
                if best.state in ("answered", "ignored") and kind == "refused":  # asked again, still no answer
                    best.state = "open"
            s.add(
                GapRow(
                    group_id=best.id,
                    question=masked,
                    language=language,
                    channel=channel[:16],
                    kind=kind,
                    reason=reason,
                    answer_id=answer_id,
                    user_key=user_key,
                    reply_to=reply_to[:300] if reply_to and user_key else None,
                    vector=vector.tobytes(),
                    created_at=now,
                )
            )
            return best.id

    def _closest(self, s, vector: np.ndarray, own: frozenset[str]) -> tuple[GapGroupRow | None, float]:
        """The group with the question closest to this one (cosine plus the share of words in common) and
        how close; groups put aside as off topic take no new questions."""
        rows = s.execute(
            select(GapRow.group_id, GapRow.question, GapRow.language, GapRow.vector)
            .join(GapGroupRow, GapGroupRow.id == GapRow.group_id)
            .where(GapGroupRow.state != "off_topic", GapRow.vector.is_not(None))
            .order_by(GapRow.id.desc())
            .limit(RECENT)
        ).all()
        if not rows:
            return None, -1.0
        matrix = np.frombuffer(b"".join(r.vector for r in rows), np.float32).reshape(len(rows), -1)
        cosines = matrix @ vector
        best_group, best = None, -1.0
        for row, cosine in zip(rows, cosines, strict=True):
            theirs = stems(row.question, row.language)
            shared = len(own & theirs) / len(own | theirs) if own and theirs else 0.0
            near = float(cosine) + LEXICAL * shared
            if near > best:
                best_group, best = row.group_id, near
        return s.get(GapGroupRow, best_group), best

    def groups(self, since: datetime | None = None, states: Iterable[str] | None = ("open",)) -> list[Group]:
        """The groups with questions since `since`, the most asked first; `states` None: all."""
        with self.db.session() as s:
            query = select(
                GapRow.group_id,
                GapRow.kind,
                func.count(),
                func.min(GapRow.created_at),
                func.max(GapRow.created_at),
            ).group_by(GapRow.group_id, GapRow.kind)
            if since is not None:
                query = query.where(GapRow.created_at >= since)
            tally: dict[int, dict] = {}
            for group_id, kind, count, first, last in s.execute(query):
                t = tally.setdefault(group_id, {"kinds": {}, "first": first, "last": last})
                t["kinds"][kind] = count
                t["first"], t["last"] = min(t["first"], first), max(t["last"], last)
            rows = s.scalars(select(GapGroupRow).where(GapGroupRow.id.in_(list(tally)))).all()
        out = [
            Group(
                g.id,
                g.example,
                g.language,
                g.state,
                sum(tally[g.id]["kinds"].values()),
                tally[g.id]["first"],
                tally[g.id]["last"],
                tally[g.id]["kinds"],
                g.faq_id,
            )
            for g in rows
            if states is None or g.state in states
        ]
        # the most asked first, then the latest (SQLite gives its UTC times back without a zone)
        return sorted(out, key=lambda g: (-g.count, -g.last_seen.replace(tzinfo=None).timestamp(), g.id))

    def group(self, group_id: int) -> GapGroupRow | None:
        with self.db.session() as s:
            return s.get(GapGroupRow, group_id)

    def questions(self, group_id: int, limit: int = 5) -> list[str]:
        """The group's latest questions (masked), different ones first."""
        with self.db.session() as s:
            texts = s.scalars(
                select(GapRow.question).where(GapRow.group_id == group_id).order_by(GapRow.id.desc()).limit(50)
            ).all()
        return list(dict.fromkeys(texts))[:limit]

    def set_state(self, group_id: int, state: str, faq_id: int | None = None) -> bool:
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}: one of {', '.join(STATES)}")
        with self.db.session() as s:
            group = s.get(GapGroupRow, group_id)
            if group is None:
                return False
            group.state, group.updated_at = state, self.clock()
            if faq_id is not None:
                group.faq_id = faq_id
            return True

    def askers(self, group_id: int, since: datetime) -> list[str]:
        """Who asked a question of the group since `since` and has not been told of its answer."""
        with self.db.session() as s:
            keys = s.scalars(
                select(GapRow.user_key).where(
                    GapRow.group_id == group_id,
                    GapRow.created_at >= since,
                    GapRow.user_key.is_not(None),
                    GapRow.notified.is_(False),
                )
            ).all()
        return list(dict.fromkeys(keys))

    def notified(self, group_id: int, user_key: str) -> None:
        with self.db.session() as s:
            s.execute(
                update(GapRow).where(GapRow.group_id == group_id, GapRow.user_key == user_key).values(notified=True)
            )

    def claim_notices(self, channels: Iterable[str], now: datetime | None = None) -> list[AnswerNotice]:
        """The askers to tell now: of answered groups, those who asked in a direct chat within
        `NOTICE_WINDOW` and were not told yet — one notice per person and group, claimed (marked told)
        before it is sent, so two processes never both send it; a notice lost with its process is not
        sent again (at most once: it is a courtesy, not a record)."""
        channels = list(channels)
        if not channels:
            return []
        now = now or self.clock()
        with self.db.session() as s:
            rows = s.execute(
                select(
                    GapRow.id,
                    GapRow.group_id,
                    GapRow.user_key,
                    GapRow.channel,
                    GapRow.reply_to,
                    GapRow.language,
                    GapRow.question,
                    GapGroupRow.faq_id,
                )  # fmt: skip
                .join(GapGroupRow, GapGroupRow.id == GapRow.group_id)
                .where(
                    GapGroupRow.state == "answered",
                    GapGroupRow.faq_id.is_not(None),
                    GapRow.notified.is_(False),
                    GapRow.reply_to.is_not(None),
                    GapRow.user_key.is_not(None),
                    GapRow.channel.in_(channels),
                    GapRow.created_at >= now - NOTICE_WINDOW,
                )
                .order_by(GapRow.id.desc())  # the latest wording of each person's question
                .limit(NOTICE_BATCH)
            ).all()
            if not rows:
                return []
            claimed = set(
                s.scalars(
                    update(GapRow)
                    .where(GapRow.id.in_([r.id for r in rows]), GapRow.notified.is_(False))
                    .values(notified=True)
                    .returning(GapRow.id)
                ).all()
            )
            found: dict[tuple[int, str], AnswerNotice] = {}
            for row in rows:
                if row.id not in claimed or (row.group_id, row.user_key) in found:
                    continue
                found[(row.group_id, row.user_key)] = AnswerNotice(
                    row.user_key, row.channel, row.reply_to, row.language, row.question, row.faq_id, False
                )
            for group_id, user_key in found:  # their other questions of the group: told with this one
                s.execute(
                    update(GapRow)
                    .where(GapRow.group_id == group_id, GapRow.user_key == user_key, GapRow.notified.is_(False))
                    .values(notified=True)
                )
            keys = {k for _, k in found}
            off = set(
                s.scalars(select(NoticeRow.user_key).where(NoticeRow.user_key.in_(keys), NoticeRow.kind == NOTICES_OFF))
            )
        return [n if n.user_key not in off else AnswerNotice(**{**n.__dict__, "off": True}) for n in found.values()]

    def notices_off(self, user_key: str) -> bool:
        with self.db.session() as s:
            return s.get(NoticeRow, (user_key, NOTICES_OFF)) is not None

    def set_notices(self, user_key: str, on: bool) -> None:
        """Whether someone wants to hear that a question they asked has an answer now."""
        with self.db.session() as s:
            row = s.get(NoticeRow, (user_key, NOTICES_OFF))
            if on and row is not None:
                s.delete(row)
            elif not on and row is None:
                s.add(NoticeRow(user_key=user_key, kind=NOTICES_OFF, shown_at=self.clock()))

    def forget_empty(self, s) -> int:
        """Groups none of whose questions are left (after an erasure or a purge) go too."""
        empty = select(GapGroupRow.id).where(~select(GapRow.id).where(GapRow.group_id == GapGroupRow.id).exists())
        return s.execute(delete(GapGroupRow).where(GapGroupRow.id.in_(empty))).rowcount or 0
