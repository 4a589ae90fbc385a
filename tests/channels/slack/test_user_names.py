"""Names from Slack profiles (users.info) for masking: a question that names the asker or a colleague
reaches an LLM that is not local with placeholders only; the look-up is cached, and a missing
users:read scope or a slow Slack never holds up or breaks the answer."""

from __future__ import annotations

import json
import logging
import time

from bot.storage.people import People

from .conftest import texts

ANNA = {"id": "UANNA", "real_name": "Annegret Kowalczyk",
        "profile": {"display_name": "annegret", "real_name": "Annegret Kowalczyk"}}  # fmt: skip
BEN = {"id": "UBEN", "name": "ben", "profile": {"display_name": "Bertram Vogelsang", "real_name": ""}}


async def test_the_askers_and_a_colleagues_names_reach_the_llm_as_placeholders(slack_llm):
    slack = slack_llm
    slack.fake.users.update({"UANNA": ANNA, "UBEN": BEN})
    people = People(slack.core.answers.index.db)
    try:
        await slack.dm("Hallo", user="UBEN", channel="DBEN")  # Lotse learns Bertram's name from his profile
        await slack.fake.wait_for("chat.update")
        question = "Wie viel Budget brauchen wir pro Person für KI-Schulungen, z. B. für Bertram Vogelsang? "
        question += "Annegret Kowalczyk"  # her own name, as a signature
        await slack.dm(question, user="UANNA", channel="DANNA")
        await slack.fake.wait_for("chat.update", 2)
        sent = json.dumps(slack.openai.requests[-1]["json"], ensure_ascii=False)
        assert "Annegret" not in sent and "Kowalczyk" not in sent and "Vogelsang" not in sent
        assert "«NAME_1»" in sent and "«NAME_2»" in sent
        assert "2.000 bis 5.000 Euro" in texts(slack.fake.of("chat.update")[-1])
        assert [c["user"] for c in slack.fake.of("users.info")] == ["UBEN", "UANNA"]
        await slack.dm("Und pro Monat?", user="UANNA", channel="DANNA")
        await slack.fake.wait_for("chat.update", 3)
        assert len(slack.fake.of("users.info")) == 2  # cached for the day
    finally:
        people.forget(f"slack:{slack.team}:UANNA")
        people.forget(f"slack:{slack.team}:UBEN")


async def test_without_the_users_read_scope_lotse_answers_and_warns_once(slack_llm, caplog):
    slack = slack_llm
    slack.fake.scopes = set()
    for text in ("Was passiert in Woche 3?", "Was kostet KI im ersten Jahr?"):
        await slack.dm(text, user="UNOSCOPE")
    await slack.fake.wait_for("chat.postMessage", 2)
    assert len(slack.fake.of("users.info")) == 1  # a failed look-up is not repeated at once
    warnings = [r for r in caplog.records if "users:read" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []


async def test_a_slow_users_info_does_not_hold_up_the_answer(slack_llm, caplog):
    slack = slack_llm
    slack.fake.users["USLOW"] = ANNA
    slack.fake.delay["users.info"] = 10.0
    started = time.monotonic()
    await slack.dm("Was passiert in Woche 3?", user="USLOW")
    await slack.fake.wait_for("chat.postMessage")
    assert time.monotonic() - started < 6  # NAME_TIMEOUT (1.5 s) and the answer, not Slack's 10 s
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []


async def test_without_an_llm_that_masks_no_profile_is_looked_up(slack):
    """Names serve only the masking towards a non-local LLM: extractive answers need none (data minimisation)."""
    slack.fake.users.update({"UANNA": ANNA})
    await slack.dm("Wie viel Budget brauchen wir pro Person für KI-Schulungen?", user="UANNA", channel="DANNA")
    [answer] = await slack.fake.wait_for("chat.postMessage")
    assert "2.000 bis 5.000 Euro" in texts(answer)
    assert slack.fake.of("users.info") == []
