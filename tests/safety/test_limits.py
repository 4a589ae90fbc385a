"""Limits on one person (questions per minute and hour, shared by replicas through the database), the
message length limit, and the AI disclosure at a person's first contact — on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from bot.app.lotse import Lotse
from bot.app.services import build_core
from bot.core.messages import Incoming
from bot.safety.limits import Notices, RateLimiter
from bot.storage.db import Database
from bot.storage.models import MessageRow, NoticeRow, RateRow


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_the_limiter_counts_per_minute_and_hour_and_says_how_long_to_wait(db_url):
    clock = Clock(datetime(2026, 11, 25, 10, 0, 15, tzinfo=UTC))
    limiter = RateLimiter(Database(db_url), per_minute=3, per_hour=5, clock=clock)
    assert [limiter.check("slack:T:anna") for _ in range(3)] == [None, None, None]
    assert limiter.check("slack:T:anna") == 45  # the 4th in the minute: wait for the next minute
    assert limiter.check("slack:T:ben") is None  # others are not affected
    clock.now += timedelta(minutes=1)
    assert limiter.check("slack:T:anna") is None  # 5th in the hour (the refused one counted too)
    assert limiter.check("slack:T:anna") == 3600 - 75  # over the hour's limit: until 11:00
    clock.now = datetime(2026, 11, 25, 11, 0, 0, tzinfo=UTC)
    assert limiter.check("slack:T:anna") is None


def test_two_replicas_share_the_count(db_url):
    """Each replica has its own limiter on the same database; together they let through the limit, no more."""
    clock = Clock(datetime(2026, 11, 25, 10, 0, 15, tzinfo=UTC))
    limiters = [RateLimiter(Database(db_url), per_minute=10, per_hour=0, clock=clock) for _ in range(2)]
    results: list[int | None] = []
    lock = threading.Lock()

    def ask(limiter: RateLimiter) -> None:
        for _ in range(10):
            outcome = limiter.check("teams:tenant:anna")
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=ask, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(None) == 10 and len(results) == 20
    with limiters[0].db.session() as s:
        assert s.scalar(select(RateRow.count).where(RateRow.user_key == "teams:tenant:anna")) == 20


def test_a_limit_of_zero_is_no_limit(sqlite_url):
    limiter = RateLimiter(Database(sqlite_url), per_minute=0, per_hour=0)
    assert not limiter.enabled and all(limiter.check("x") is None for _ in range(50))


def test_a_notice_is_first_exactly_once_also_when_replicas_race(db_url):
    notices = [Notices(Database(db_url)) for _ in range(4)]
    outcomes: list[bool] = []
    threads = [
        threading.Thread(target=lambda n=n: outcomes.append(n.first("slack:T:anna", "ai_disclosure"))) for n in notices
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False, False, False, True]
    assert notices[0].first("slack:T:ben", "ai_disclosure") is True


def test_a_process_remembers_whom_it_told_and_forgets_them_when_their_data_is_erased(db_url):
    db = Database(db_url)
    notices = Notices(db)
    assert notices.first("slack:T:anna", "ai_disclosure") is True
    with db.session() as s:  # the row goes (an erasure on another replica): this process still remembers
        s.execute(delete(NoticeRow))
    assert notices.first("slack:T:anna", "ai_disclosure") is False
    assert Notices(db).first("slack:T:anna", "ai_disclosure") is True  # another process asks the database
    notices.forget("slack:T:anna")
    with db.session() as s:
        s.execute(delete(NoticeRow))
    assert notices.first("slack:T:anna", "ai_disclosure") is True  # told again after the erasure
    assert notices.first("slack:T:anna", "ai_disclosure") is False


def test_after_lösche_meine_daten_the_next_answer_carries_the_ai_disclosure_again(database_service):
    """(The erasure's own confirmation stores no new notice; the answer after it carries it again.)"""
    core = build_core(database_service.settings, database_service)
    assert "KI-Assistent" in asks(core, "Wie viel Budget brauchen wir pro Person für KI-Schulungen?", "erin").notice
    assert asks(core, "Was passiert in Woche 3?", "erin").notice == ""
    asks(core, "lösche meine Daten", "erin")
    assert asks(core, "ja", "erin").text.startswith("🗑️")
    assert "KI-Assistent" in asks(core, "Welche KPIs sollten wir messen?", "erin").notice


def asks(core: Lotse, text: str, user: str = "anna", channel: str = "slack") -> object:
    return core.handle(Incoming(text, user, channel=channel, workspace="TLIMIT", conversation="D1"))


def test_questions_over_the_rate_limit_get_a_friendly_message_and_are_not_answered(database_service):
    settings = dataclasses.replace(database_service.settings, rate_per_minute=2, rate_per_hour=0)
    core = build_core(settings, database_service)
    first = asks(core, "Wie viel Budget brauchen wir pro Person für KI-Schulungen?")
    assert first.answered and "Lotse, ein KI-Assistent" in first.notice  # the first contact says what Lotse is
    second = asks(core, "Was passiert in Woche 3?")
    assert second.answered and second.notice == ""  # once per person
    third = asks(core, "Welche KPIs sollten wir messen?")
    assert not third.answered and third.text.startswith("Sie haben gerade sehr viele Fragen gestellt.")
    assert "Sekunden" in third.text
    english = asks(core, "How much budget do we need for AI training?", user="bob")
    assert english.answered  # bob has his own count
    assert asks(core, "/hilfe").answered  # commands are not questions: not limited
    with database_service.index.db.session() as s:  # the refused question was not stored as a turn
        stored = s.scalars(select(MessageRow.text).where(MessageRow.conversation.like("slack:TLIMIT:anna:%")))
        assert "Welche KPIs sollten wir messen?" not in stored.all()
    terminal = build_core(settings, database_service)
    assert all(asks(terminal, "Was passiert in Woche 3?", channel="console").answered for _ in range(4))


def test_an_overlong_message_is_refused_before_anything_is_stored(database_service):
    settings = dataclasses.replace(database_service.settings, max_message_chars=300)
    core = build_core(settings, database_service)
    before = _messages(database_service)
    reply = asks(core, "Wie viel Budget brauchen wir? " * 20)
    assert not reply.answered
    assert reply.text.startswith("Ihre Nachricht ist mit 600 Zeichen zu lang – ich verarbeite höchstens 300 Zeichen.")
    english = asks(core, "How much budget do we need for training? " * 10)
    assert english.text.startswith("Your message is 410 characters long – I handle at most 300.")
    assert _messages(database_service) == before


def _messages(service) -> int:
    with service.index.db.session() as s:
        return s.scalar(select(func.count()).select_from(MessageRow))


def test_profile_names_are_kept_only_where_they_are_masked_and_come_back_after_an_erasure(database_service):
    """A name from a profile (Teams `from.name`) serves one purpose: masking towards an LLM that is not on
    premises. Without such an LLM none is stored; with one, the name erased with "lösche meine Daten" is
    written again by the next message, so it is masked again."""
    from bot.settings import LLMSettings
    from bot.storage.people import People

    def says(core: Lotse, text: str, user: str) -> object:
        return core.handle(
            Incoming(
                text,
                user,
                channel="teams",
                workspace="TNAMES",
                conversation=f"c-{user}",
                user_name="Frieda Quast",
                private=True,
            )
        )

    people = People(database_service.index.db)
    extractive = build_core(database_service.settings, database_service)
    says(extractive, "/hilfe", "frieda")
    assert people.name_of("teams:TNAMES:frieda") is None

    unreachable = LLMSettings(api_key="k", base_url="http://127.0.0.1:9/v1", model="m", max_retries=0)  # never asked
    masking = build_core(dataclasses.replace(database_service.settings, llm=unreachable), database_service)
    says(masking, "lösche meine Daten", "gert")
    assert people.name_of("teams:TNAMES:gert") == "Frieda Quast"
    assert says(masking, "ja", "gert").text.startswith("🗑️")
    assert people.name_of("teams:TNAMES:gert") is None
    says(masking, "/hilfe", "gert")
    assert people.name_of("teams:TNAMES:gert") == "Frieda Quast"
