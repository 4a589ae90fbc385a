"""The daily LLM budget, counted in `llm_usage` on SQLite and PostgreSQL: calls and tokens per day, one
atomic statement per call so that replicas share it, and the extractive fallback when it is spent."""

from __future__ import annotations

import random
import threading
from datetime import date, timedelta

import pytest

from bot.answering.llm import LLMUnavailable
from bot.safety.budget import LlmBudget
from bot.storage.db import Database
from tests.conftest import llm_service
from tests.fakes.openai_server import FakeOpenAI

DAY = date(2026, 11, 25)


def test_calls_are_counted_up_to_the_limit_and_per_day(db):
    budget = LlmBudget(db, calls=3, today=lambda: DAY)
    assert [budget.take() for _ in range(5)] == [DAY, DAY, DAY, None, None]
    assert budget.usage(DAY) == (3, 0)
    tomorrow = LlmBudget(db, calls=3, today=lambda: DAY + timedelta(days=1))
    assert tomorrow.take() == DAY + timedelta(days=1) and budget.usage(DAY) == (3, 0)


def test_tokens_are_added_after_the_call_and_the_call_that_crosses_the_limit_is_the_last(db):
    budget = LlmBudget(db, tokens=1000, today=lambda: DAY)
    day = budget.take()
    budget.spend(day, 600)
    assert budget.take() == DAY  # 600 < 1000: one more call
    budget.spend(day, 600)
    assert budget.take() is None and budget.usage(DAY) == (2, 1200)


def test_without_limits_usage_is_still_counted_and_a_zero_limit_allows_nothing(db):
    unlimited = LlmBudget(db, today=lambda: DAY)
    assert all(unlimited.take() == DAY for _ in range(4))
    unlimited.spend(DAY, 15)
    assert unlimited.usage(DAY) == (4, 15)
    assert LlmBudget(db, calls=0, today=lambda: DAY).take() is None
    assert LlmBudget(db, tokens=0, today=lambda: DAY).take() is None
    assert unlimited.usage(DAY) == (4, 15)


def test_replicas_taking_at_once_never_exceed_the_limit(db_url):
    """Eight 'replicas' with their own engines take calls at the same time: exactly the limit succeed."""
    Database(db_url).dispose()  # migrate once
    taken: list[date | None] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def replica() -> None:
        database = Database(db_url)
        budget = LlmBudget(database, calls=10, today=lambda: DAY)
        start.wait()
        for _ in range(5):
            result = budget.take()
            with lock:
                taken.append(result)
        database.dispose()

    threads = [threading.Thread(target=replica) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(1 for t in taken if t is not None) == 10 and len(taken) == 40
    check = Database(db_url)
    assert LlmBudget(check, today=lambda: DAY).usage() == (10, 0)
    check.dispose()


def _unique_day() -> date:
    """A day of its own in the session's shared database, so that other tests' calls do not count."""
    return date(2100, 1, 1) + timedelta(days=random.randrange(300_000))


def test_a_spent_budget_gives_the_extractive_answer_with_a_note(kb_settings, kb_index):
    with FakeOpenAI() as fake:
        service = llm_service(kb_settings, kb_index, fake.base_url, daily_calls=1)
        answerer = service._llm_answerer()
        assert answerer.budget is not None and answerer.budget.calls == 1
        day = _unique_day()
        answerer.budget.today = lambda: day
        first = service.ask("Wie viel Budget brauchen wir pro Person für KI-Schulungen?")
        second = service.ask("Wie viel Budget brauchen wir pro Person für KI-Schulungen?")
        assert first.mode == "llm" and len(fake.requests) == 1
        assert second.mode == "extractive" and second.answered and "2.000" in second.answer
        assert "daily budget" in second.answer or "Tagesbudget" in second.answer
        assert answerer.budget.usage(day)[0] == 1 and answerer.budget.usage(day)[1] > 0


def test_the_answerer_says_which_note_belongs_to_a_spent_budget(kb_settings, kb_index):
    service = llm_service(kb_settings, kb_index, "http://127.0.0.1:9/v1", daily_tokens=0)
    with pytest.raises(LLMUnavailable) as spent:
        service._llm_answerer().answer("Budget?", [], "de", [])
    assert spent.value.reason == "daily budget" and spent.value.note_key == "llm_budget_note"


def test_tokens_reported_by_the_endpoint_are_counted(kb_settings, kb_index):
    with FakeOpenAI() as fake:
        service = llm_service(kb_settings, kb_index, fake.base_url)
        answerer = service._llm_answerer()
        day = _unique_day()
        answerer.budget.today = lambda: day
        service.ask("Wie viel Budget brauchen wir pro Person für KI-Schulungen?")
        assert answerer.budget.usage(day) == (1, 15)  # the fake reports 15 tokens
