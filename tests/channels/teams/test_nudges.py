"""Scheduled nudges of the 90-day plan in Teams, end to end: `/plan start` as a signed Bot Framework
message activity in a channel, the week's nudge sent by the dispatcher as a proactive Adaptive Card
to the fake Bot Connector through the conversation reference that activity stored, a task button
(Action.Submit) that redraws the nudge in place, and the connector refusing (403, 429).

Time is controlled: the core's reminder clock is a settable `Clock`, and every dispatch pass gets its
`now` (the only real wait is the channel honouring a Retry-After of one second). Each test has a
database of its own, so that plans and nudge rows of other tests can never fall due in its dispatch
passes."""

from __future__ import annotations

import asyncio
import importlib.resources
import json
from datetime import UTC, date, datetime

import jsonschema
import pytest

from bot.answering import AnswerService
from bot.channels.teams.channel import TeamsSender
from bot.reminders.dispatch import Dispatcher
from bot.settings import Settings
from tests.conftest import KNOWLEDGE, both_databases
from tests.reminders.conftest import Clock

from .conftest import APP_ID, TENANT, running_teams

THREAD = "19:lotse-plan@thread.tacv2;messageid=1700000000000"  # the admin's message in the channel
CHANNEL = "19:lotse-plan@thread.tacv2"  # nudges go to the channel itself, as new posts, not into that thread
KEY = f"teams:{CHANNEL}"
SCOPE = f"teams:{TENANT}"
WEEK_1_DUE = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin (CET)
ADMIN = {"id": "29:admin-1", "name": "Alex", "aadObjectId": "aad-admin"}
ANNA = {"id": "29:user-1", "name": "Anna", "aadObjectId": "aad-anna"}
CARD_SCHEMA = json.loads((importlib.resources.files("adaptive_cards") / "schemas" / "schema-1.5.json").read_text())


@pytest.fixture
async def teams(tmp_path, database_url):
    """conftest's Teams harness (real aiohttp server, signed tokens, FakeConnector; the admin is
    aad-admin) around a database of this test's own; the reminders' clock stands on Wednesday
    2026-11-25, before the plan starts."""
    settings = Settings(data_dir=tmp_path / "data", knowledge_dir=KNOWLEDGE, database_url=database_url)
    async for harness in running_teams(settings, AnswerService(settings), admins=frozenset({"aad-admin"})):
        harness.clock = Clock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
        harness.core.services.reminders.clock = harness.clock
        yield harness


@pytest.fixture
def dispatcher(teams):
    return Dispatcher(teams.core.services.reminders, [TeamsSender(teams.channel)])


def in_channel(teams, text: str | None, sender: dict = ANNA, conversation: str = THREAD, **extra) -> dict:
    """A message activity in a thread of the team channel, with Lotse @-mentioned as Teams requires there."""
    mention = [{"type": "mention", "text": "<at>Lotse</at>", "mentioned": {"id": f"28:{APP_ID}", "name": "Lotse"}}]
    return teams.activity(
        f"<at>Lotse</at> {text}" if text else text,
        conversation={"id": conversation, "conversationType": "channel", "tenantId": TENANT},
        entities=mention if text else [],
        **{"from": sender},
        **extra,
    )


async def say(teams, text: str, sender: dict = ANNA) -> dict:
    """Post a channel message; the message Lotse answers with."""
    before = len(teams.connector.messages())
    response = await teams.post(in_channel(teams, text, sender))
    assert response.status in (200, 201)
    return (await teams.connector.wait_for(before + 1))[-1]


async def start_plan(teams):
    await say(teams, "/plan start 2026-11-30 BY", ADMIN)
    plan = teams.core.services.reminders.plans.current(SCOPE)
    assert plan is not None
    return plan


def posts(teams) -> list:
    return [s for s in teams.connector.sent if s.method == "POST"]


def card_of(activity: dict) -> dict:
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


def task_line(card: dict, task: str) -> dict:
    [block] = [e for e in card["body"] if e["type"] == "TextBlock" and f"**{task}** " in e["text"]]
    return block


def task_submits(card: dict, task: str) -> dict[str, dict]:
    """The Action.Submit buttons of one task, by action (done, tomorrow, monday, na)."""
    actions = [a for e in card["body"] if e["type"] == "ActionSet" for a in e["actions"]]
    return {a["data"]["value"].split(":")[3]: a for a in actions if a["data"]["value"].split(":")[2] == task}


def footer(card: dict) -> dict:
    return card["body"][-1]


# -- starting the plan ---------------------------------------------------------------------------------


@both_databases
async def test_an_admin_starts_the_plan_in_a_channel_and_the_reference_is_stored(teams):
    refused = await say(teams, "/plan start 2026-11-30 BY", ANNA)
    assert refused["text"] == "Dieser Befehl ist Administratorinnen und Administratoren vorbehalten."
    assert teams.core.services.reminders.plans.all() == []

    started = await say(teams, "/plan start 2026-11-30 BY", ADMIN)
    assert started["conversation"]["id"] == THREAD  # the answer goes into the admin's thread
    assert (
        "Erste Erinnerung: Mo 2026-11-30 um 09:00 (Europe/Berlin), danach jeden Montag; Feiertage: BY"
        in (started["text"])
    )
    assert "Empfänger: hier." in started["text"]
    plan = teams.core.services.reminders.plans.current(SCOPE)
    assert (plan.status, plan.start, plan.weekday, plan.at, plan.tz, plan.state, plan.language) == (
        "active",
        date(2026, 11, 30),
        0,
        "09:00",
        "Europe/Berlin",
        "BY",
        "de",
    )
    assert plan.created_by == f"teams:{TENANT}:aad-admin"
    targets = teams.core.services.reminders.plans.targets(plan.id)
    assert [(t.channel, t.address, t.role) for t in targets] == [("teams", KEY, "team")]
    reference, active = teams.core.services.references.get(KEY)  # stored by the very activity that started the plan
    assert active is True
    assert reference["conversation"]["id"] == CHANNEL and reference["serviceUrl"] == teams.connector.url
    assert reference["bot"]["id"] == f"28:{APP_ID}"


# -- the week's nudge ------------------------------------------------------------------------------


@both_databases
async def test_the_week_1_nudge_is_a_proactive_card_with_task_buttons_sent_once(teams, dispatcher):
    plan = await start_plan(teams)
    sent_before = len(teams.connector.sent)
    early = await dispatcher.run_once(datetime(2026, 11, 30, 7, 59, tzinfo=UTC))
    assert (early.planned, early.sent) == (0, 0) and len(teams.connector.sent) == sent_before

    stats = await dispatcher.run_once(WEEK_1_DUE)
    assert (stats.planned, stats.sent, stats.failed, stats.retry, stats.unknown) == (1, 1, 0, 0, 0)
    [delivered] = teams.connector.sent[sent_before:]
    assert (delivered.method, delivered.conversation) == ("POST", CHANNEL)
    nudge = delivered.activity
    assert nudge["type"] == "message" and nudge["conversation"]["id"] == CHANNEL
    card = card_of(nudge)
    jsonschema.validate(card, CARD_SCHEMA)
    assert card["body"][0]["text"].startswith("**Woche 1 von 12 · Tage 1–30 · Fundamentanalyse**")  # bold in Teams
    assert "Interviews mit den Abteilungsleitungen" in card["body"][0]["text"]
    assert task_line(card, "1.1")["text"].startswith("☐ **1.1** Gesprächstermine mit allen Abteilungsleitungen")
    for task in ("1.1", "1.2", "1.3"):
        assert task_line(card, task)["isSubtle"] is False
        found = task_submits(card, task)
        assert {a: s["type"] for a, s in found.items()} == dict.fromkeys(
            ("done", "tomorrow", "monday", "na"), "Action.Submit"
        )
        assert found["done"]["data"] == {
            "lotse": "choice",
            "value": f"plan:{plan.id}:{task}:done:W01",
            "title": "✅ Erledigt",
        }
    assert footer(card)["text"] == "Woche 1 von 12 · 0/3 Aufgaben erledigt"
    [row] = teams.core.services.reminders.log.rows(plan.id)
    nudge_id = f"activity-{posts(teams).index(delivered) + 1}"  # the fake connector numbers what it accepts
    assert (row.occurrence, row.status, row.attempts, row.message_ref) == ("W01", "sent", 1, nudge_id)

    for now in (WEEK_1_DUE, datetime(2026, 11, 30, 15, 0, tzinfo=UTC), datetime(2026, 12, 4, 8, 0, tzinfo=UTC)):
        again = await dispatcher.run_once(now)
        assert (again.planned, again.sent) == (0, 0)
    assert teams.connector.sent[sent_before:] == [delivered]


@both_databases
async def test_done_updates_the_nudge_in_place_without_a_new_message(teams, dispatcher):
    plan = await start_plan(teams)
    await dispatcher.run_once(WEEK_1_DUE)
    [row] = teams.core.services.reminders.log.rows(plan.id)
    nudge = teams.connector.messages()[-1]
    done = task_submits(card_of(nudge), "1.1")["done"]
    messages_before = len(teams.connector.messages())

    teams.clock.now = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    nudge_thread = f"{CHANNEL};messageid={row.message_ref}"  # the click comes from the nudge's own thread
    response = await teams.post(
        in_channel(teams, None, ANNA, conversation=nudge_thread, value=done["data"], replyToId=row.message_ref)
    )
    assert response.status in (200, 201)
    for _ in range(750):
        updates = [s for s in teams.connector.sent if s.method == "PUT"]
        if updates:
            break
        await asyncio.sleep(0.02)
    [update] = updates
    assert (update.conversation, update.reply_to) == (nudge_thread, row.message_ref)
    card = card_of(update.activity)
    jsonschema.validate(card, CARD_SCHEMA)
    assert task_line(card, "1.1")["text"].startswith("✅ **1.1** Gesprächstermine")
    assert task_line(card, "1.1")["isSubtle"] is True and task_submits(card, "1.1") == {}
    assert set(task_submits(card, "1.2")) == set(task_submits(card, "1.3")) == {"done", "tomorrow", "monday", "na"}
    assert footer(card)["text"] == "Woche 1 von 12 · 1/3 Aufgaben erledigt"
    assert len(teams.connector.messages()) == messages_before  # redrawn, not answered with a new message
    task = teams.core.services.reminders.plans.tasks(plan.id)["1.1"]
    assert (task.status, task.updated_by) == ("done", f"teams:{TENANT}:aad-anna")


# -- the connector refusing ----------------------------------------------------------------------------


@both_databases
async def test_a_403_fails_the_nudge_and_deactivates_the_reference(teams, dispatcher):
    plan = await start_plan(teams)
    sent_before = len(teams.connector.sent)
    teams.connector.refuse.append((403, {}))
    stats = await dispatcher.run_once(WEEK_1_DUE)
    assert (stats.sent, stats.failed, stats.retry, stats.unknown) == (0, 1, 0, 0)
    [row] = teams.core.services.reminders.log.rows(plan.id)
    assert (row.status, row.attempts) == ("failed", 1) and "403" in row.error
    assert teams.core.services.references.get(KEY)[1] is False
    assert len(teams.connector.sent) == sent_before and teams.connector.refuse == []

    for now in (WEEK_1_DUE, datetime(2026, 11, 30, 9, 0, tzinfo=UTC), datetime(2026, 12, 1, 8, 0, tzinfo=UTC)):
        assert (await dispatcher.run_once(now)).planned == 0
    week_2 = await dispatcher.run_once(datetime(2026, 12, 7, 8, 0, tzinfo=UTC))
    assert (week_2.planned, week_2.sent, week_2.failed) == (1, 0, 1)  # not even tried: the reference is inactive
    assert len(teams.connector.sent) == sent_before
    assert [(r.occurrence, r.status) for r in teams.core.services.reminders.log.rows(plan.id)] == [
        ("W01", "failed"),
        ("W02", "failed"),
    ]


@both_databases
async def test_a_429_is_retried_after_retry_after_and_the_nudge_arrives_once(teams, dispatcher):
    plan = await start_plan(teams)
    sent_before = len(teams.connector.sent)
    teams.connector.refuse.append((429, {"Retry-After": "1"}))
    stats = await dispatcher.run_once(WEEK_1_DUE)
    assert (stats.sent, stats.failed, stats.retry, stats.unknown) == (1, 0, 0, 0)
    [delivered] = teams.connector.sent[sent_before:]
    assert delivered.conversation == CHANNEL
    assert footer(card_of(delivered.activity))["text"] == "Woche 1 von 12 · 0/3 Aufgaben erledigt"
    [row] = teams.core.services.reminders.log.rows(plan.id)
    assert (row.status, row.attempts, row.message_ref) == ("sent", 1, f"activity-{len(posts(teams))}")
    assert teams.core.services.references.get(KEY)[1] is True
    assert (await dispatcher.run_once(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))).sent == 0
    assert teams.connector.sent[sent_before:] == [delivered]
