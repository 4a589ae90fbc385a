"""Scheduled nudges of the 90-day plan in Slack, end to end: `/lotse plan start` as a signed slash
command, the week's nudge sent by the dispatcher (wired as `lotse serve` wires it) to the fake Slack
Web API, its task buttons clicked as signed block_actions payloads, snoozes, rate limits and refusals.

Time is controlled: the core's reminder clock is a settable `Clock`, and every dispatch pass gets its
`now` (the only real wait is slack_sdk honouring a Retry-After of one second). Each test has a
database of its own, so that plans and nudge rows of other tests can never fall due in its dispatch
passes."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.answering import AnswerService
from bot.app.server import EXECUTOR, build_app, build_scheduler
from bot.settings import Settings
from tests.conftest import KNOWLEDGE, both_databases
from tests.reminders.conftest import Clock

from .conftest import buttons, posted, running_slack, texts

START = "plan start 2026-11-30 mo 09:00 BY"
WEEK_1_DUE = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin (CET)
ADMIN_ONLY = "Dieser Befehl ist Administratorinnen und Administratoren vorbehalten."


@pytest.fixture
async def slack(tmp_path, database_url):
    """conftest's Slack harness (real aiohttp server, signed requests, FakeSlack) around a database of
    this test's own; the reminders' clock stands on Wednesday 2026-11-25, before the plan starts."""
    settings = Settings(data_dir=tmp_path / "data", knowledge_dir=KNOWLEDGE, database_url=database_url)
    async for harness in running_slack(settings, AnswerService(settings)):
        harness.clock = Clock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
        harness.core.services.reminders.clock = harness.clock
        yield harness


@pytest.fixture
async def dispatcher(slack):
    """The nudge dispatcher exactly as `lotse serve` builds it (build_scheduler): a SlackSender around
    the bolt app's AsyncWebClient — the bot token, FakeSlack's URL, slack_sdk's 429 retry handler."""
    app = build_app(slack.core, slack.core.settings)
    scheduler = build_scheduler(slack.core, app)
    assert scheduler is not None and list(scheduler.dispatcher.senders) == ["slack"]
    yield scheduler.dispatcher
    app[EXECUTOR].shutdown(wait=True)


def task_line(message: dict, task: str) -> str:
    [line] = [
        b["text"]["text"]
        for b in message["blocks"]
        if b["type"] == "section" and (f"*{task}* " in b["text"]["text"] or f"~{task} " in b["text"]["text"])
    ]
    return line


def task_buttons(message: dict, task: str) -> dict[str, dict]:
    """The buttons of one task, by action (done, tomorrow, monday, na)."""
    prefix = f"lotse_task_{task.replace('.', '-')}_"
    return {b["value"].split(":")[3]: b for b in buttons(message) if b["action_id"].startswith(prefix)}


def footer(message: dict) -> str:
    return message["blocks"][-1]["elements"][0]["text"]


async def command(slack, text: str, user: str = "UADMIN", channel: str = "C1") -> dict:
    """`/lotse <text>` as a signed slash command; the reply Lotse sends to its response_url."""
    before = len(slack.fake.of("response_url"))
    response = await slack.command(text, user=user, channel=channel)
    assert response.status == 200
    return (await slack.fake.wait_for("response_url", before + 1))[-1]


async def start_plan(slack):
    await command(slack, START)
    plan = slack.core.services.reminders.plans.current(f"slack:{slack.team}")
    assert plan is not None
    return plan


async def click(slack, message: dict, button: dict, user: str = "U1") -> None:
    """A task button clicked in the nudge (a signed block_actions payload); waits for Lotse's answer."""
    answers = ("chat.update", "chat.postEphemeral")
    before = sum(len(slack.fake.of(m)) for m in answers)
    response = await slack.click(message, {**button, "block_id": "tasks"}, user=user, channel=message["channel"])
    assert response.status == 200
    for _ in range(750):
        if sum(len(slack.fake.of(m)) for m in answers) > before:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no answer to the click; calls so far: {[c.method for c in slack.fake.calls]}")


# -- starting the plan ---------------------------------------------------------------------------------


@both_databases
async def test_an_admin_starts_the_plan_with_a_slash_command_and_others_may_not(slack):
    scope = f"slack:{slack.team}"
    refused = await command(slack, START, user="U1")
    assert refused["text"] == ADMIN_ONLY and refused["response_type"] == "ephemeral"
    plans = slack.core.services.reminders.plans
    assert plans.current(scope) is None and plans.all() == []

    started = await command(slack, START)
    assert started["response_type"] == "ephemeral"
    assert "Erste Erinnerung: Mo 2026-11-30 um 09:00 (Europe/Berlin), danach jeden Montag; Feiertage: BY" in texts(
        started
    )
    plan = slack.core.services.reminders.plans.current(scope)
    assert (plan.status, plan.start, plan.weekday, plan.at, plan.tz, plan.state, plan.language) == (
        "active",
        date(2026, 11, 30),
        0,
        "09:00",
        "Europe/Berlin",
        "BY",
        "de",
    )
    assert plan.created_by == f"slack:{slack.team}:UADMIN"
    targets = slack.core.services.reminders.plans.targets(plan.id)
    assert [(t.channel, t.address, t.role) for t in targets] == [("slack", "C1", "team")]
    assert slack.fake.of("chat.postMessage") == []  # the confirmation is private; the nudges come later


async def test_a_plan_for_another_channel_and_a_champion_named_by_slack_mentions(slack):
    """The channel resolves Slack's mentions (`Incoming.mentions`); the plan's code parses no Slack ids."""
    started = await command(slack, "plan start 2026-12-07 BY <#C9|leitung>, champions <@U7|anna>")
    assert "<#C9>" in texts(started)
    plan = slack.core.services.reminders.plans.current(f"slack:{slack.team}")
    targets = slack.core.services.reminders.plans.targets(plan.id)
    assert [(t.channel, t.address, t.role) for t in targets] == [("slack", "C9", "team"), ("slack", "U7", "champion")]


async def test_the_start_confirmation_names_the_channel_as_a_slack_link(slack):
    started = await command(slack, START)
    assert "Empfänger: <#C1>." in texts(started)


# -- the week's nudge ------------------------------------------------------------------------------


@both_databases
async def test_the_week_1_nudge_is_posted_once_with_its_tasks_buttons_and_progress(slack, dispatcher):
    plan = await start_plan(slack)
    early = await dispatcher.run_once(datetime(2026, 11, 30, 7, 59, tzinfo=UTC))
    assert (early.planned, early.sent) == (0, 0) and slack.fake.of("chat.postMessage") == []

    stats = await dispatcher.run_once(WEEK_1_DUE)
    assert (stats.planned, stats.sent, stats.failed, stats.retry, stats.unknown) == (1, 1, 0, 0, 0)
    [nudge] = posted(slack.fake)
    assert nudge["channel"] == "C1" and "thread_ts" not in nudge
    assert nudge["text"].startswith("Woche 1 von 12 · Tage 1–30 · Fundamentanalyse")
    body = texts(nudge)
    assert "*Interviews mit den Abteilungsleitungen*" in body and "Erledigt, wenn: Die drei größten" in body
    assert [task_line(nudge, t).split("*")[1] for t in ("1.1", "1.2", "1.3")] == ["1.1", "1.2", "1.3"]
    assert task_line(nudge, "1.1").startswith("☐ *1.1* Gesprächstermine mit allen Abteilungsleitungen")
    for task in ("1.1", "1.2", "1.3"):
        found = task_buttons(nudge, task)
        assert {a: b["value"] for a, b in found.items()} == {
            a: f"plan:{plan.id}:{task}:{a}:W01" for a in ("done", "tomorrow", "monday", "na")
        }
        assert found["done"]["style"] == "primary" and found["done"]["text"]["text"] == "✅ Erledigt"
    assert all(b["action_id"].startswith("lotse_task_") for b in buttons(nudge)) and len(buttons(nudge)) == 12
    assert len({b["action_id"] for b in buttons(nudge)}) == 12  # Slack wants them unique within a message
    assert footer(nudge) == "*Woche 1 von 12 · 0/3 Aufgaben erledigt*"
    [row] = slack.core.services.reminders.log.rows(plan.id)
    assert (row.occurrence, row.status, row.attempts, row.message_ref) == ("W01", "sent", 1, f"C1:{nudge['ts']}")

    for now in (WEEK_1_DUE, datetime(2026, 11, 30, 15, 0, tzinfo=UTC), datetime(2026, 12, 4, 8, 0, tzinfo=UTC)):
        again = await dispatcher.run_once(now)
        assert (again.planned, again.sent) == (0, 0)
    assert len(slack.fake.of("chat.postMessage")) == 1
    assert len(slack.core.services.reminders.log.rows(plan.id)) == 1


@both_databases
async def test_done_redraws_the_nudge_in_place_and_is_stored(slack, dispatcher):
    plan = await start_plan(slack)
    await dispatcher.run_once(WEEK_1_DUE)
    [nudge] = posted(slack.fake)
    slack.clock.now = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    await click(slack, nudge, task_buttons(nudge, "1.1")["done"], user="U2")

    [update] = slack.fake.of("chat.update")
    assert update["channel"] == "C1" and update["ts"] == nudge["ts"]
    assert task_line(update, "1.1").startswith("✅ ~1.1 Gesprächstermine")
    assert task_buttons(update, "1.1") == {}
    assert set(task_buttons(update, "1.2")) == set(task_buttons(update, "1.3")) == {"done", "tomorrow", "monday", "na"}
    assert task_line(update, "1.2").startswith("☐ *1.2*")
    assert footer(update) == "*Woche 1 von 12 · 1/3 Aufgaben erledigt*"
    assert len(slack.fake.of("chat.postMessage")) == 1 and slack.fake.of("chat.postEphemeral") == []
    task = slack.core.services.reminders.plans.tasks(plan.id)["1.1"]
    assert (task.status, task.updated_by) == ("done", f"slack:{slack.team}:U2")
    assert set(slack.core.services.reminders.plans.tasks(plan.id)) == {"1.1"}


@both_databases
async def test_a_task_snoozed_until_tomorrow_comes_back_in_a_nudge_of_its_own(slack, dispatcher):
    plan = await start_plan(slack)
    await dispatcher.run_once(WEEK_1_DUE)
    [nudge] = posted(slack.fake)
    slack.clock.now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # Monday
    await click(slack, nudge, task_buttons(nudge, "1.2")["tomorrow"])

    [update] = slack.fake.of("chat.update")
    assert task_line(update, "1.2").startswith("⏰ *1.2*") and "verschoben auf Di 2026-12-01" in task_line(
        update, "1.2"
    )
    assert footer(update) == "*Woche 1 von 12 · 0/3 Aufgaben erledigt*"
    task = slack.core.services.reminders.plans.tasks(plan.id)["1.2"]
    assert (task.status, task.snoozed_until) == ("snoozed", date(2026, 12, 1))

    tuesday_9 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 in Berlin, the next working day
    before = await dispatcher.run_once(datetime(2026, 12, 1, 7, 59, tzinfo=UTC))
    assert (before.planned, before.sent) == (0, 0) and len(posted(slack.fake)) == 1
    stats = await dispatcher.run_once(tuesday_9)
    assert (stats.planned, stats.sent) == (1, 1)
    back = posted(slack.fake)[-1]
    assert back["channel"] == "C1"
    assert texts(back).startswith("Wieder da – diese Aufgaben hatten Sie auf heute verschoben:")
    lines = [b["text"]["text"] for b in back["blocks"] if b["type"] == "section"]
    assert [line.split("*")[1] for line in lines if line.startswith(("☐", "⏰", "✅", "➖"))] == ["1.2"]
    assert task_buttons(back, "1.2")["done"]["value"] == f"plan:{plan.id}:1.2:done:S2026-12-01"
    assert task_buttons(back, "1.1") == task_buttons(back, "1.3") == {}
    for now in (tuesday_9, datetime(2026, 12, 1, 16, 0, tzinfo=UTC)):
        assert (await dispatcher.run_once(now)).sent == 0
    assert len(slack.fake.of("chat.postMessage")) == 2
    assert [(r.occurrence, r.status) for r in slack.core.services.reminders.log.rows(plan.id)] == [
        ("W01", "sent"),
        ("S2026-12-01", "sent"),
    ]


async def test_done_in_the_snooze_nudge_shows_the_task_as_done(slack, dispatcher):
    plan = await start_plan(slack)
    await dispatcher.run_once(WEEK_1_DUE)
    slack.clock.now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    await click(slack, posted(slack.fake)[0], task_buttons(posted(slack.fake)[0], "1.2")["tomorrow"])
    await dispatcher.run_once(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    back = posted(slack.fake)[-1]
    slack.clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    await click(slack, back, task_buttons(back, "1.2")["done"])

    assert slack.core.services.reminders.plans.tasks(plan.id)["1.2"].status == "done"
    update = slack.fake.of("chat.update")[-1]
    assert update["ts"] == back["ts"]
    assert task_line(update, "1.2").startswith("✅ ~1.2 ")  # the task stays in the message, ticked off
    assert task_buttons(update, "1.2") == {}


@both_databases
async def test_a_button_of_a_replaced_plan_changes_nothing(slack, dispatcher):
    old = await start_plan(slack)
    await dispatcher.run_once(WEEK_1_DUE)
    [nudge] = posted(slack.fake)
    slack.clock.now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    await command(slack, "plan start 2026-12-07 mo 09:00 BY ersetzen")  # a running plan is replaced knowingly
    new = slack.core.services.reminders.plans.current(f"slack:{slack.team}")
    assert new.id != old.id and slack.core.services.reminders.plans.get(old.id).status == "stopped"

    await click(slack, nudge, task_buttons(nudge, "1.1")["done"])
    assert slack.fake.of("chat.update") == []  # the old nudge is not redrawn as if the click counted
    [notice] = slack.fake.of("chat.postEphemeral")
    assert notice["text"] == "Diese Erinnerung gehört zu einem Plan, der nicht mehr läuft."
    plans = slack.core.services.reminders.plans
    assert plans.tasks(old.id) == {} and plans.tasks(new.id) == {}


# -- Slack refusing ----------------------------------------------------------------------------------


@both_databases
async def test_a_429_for_the_nudge_is_waited_out_and_the_nudge_arrives_once(slack, dispatcher):
    plan = await start_plan(slack)
    slack.fake.rate_limit_once("chat.postMessage", retry_after=1)
    stats = await dispatcher.run_once(WEEK_1_DUE)
    assert (stats.sent, stats.retry, stats.failed) == (1, 0, 0)
    first, second = [c for c in slack.fake.calls if c.method == "chat.postMessage"]
    assert first.params["_status"] == 429 and second.at - first.at >= 0.95  # after Retry-After
    [nudge] = posted(slack.fake)
    assert nudge["channel"] == "C1" and footer(nudge) == "*Woche 1 von 12 · 0/3 Aufgaben erledigt*"
    [row] = slack.core.services.reminders.log.rows(plan.id)
    assert (row.status, row.attempts, row.message_ref) == ("sent", 1, f"C1:{nudge['ts']}")
    assert (await dispatcher.run_once(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))).sent == 0
    assert len(posted(slack.fake)) == 1


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
@both_databases
async def test_a_channel_lotse_cannot_post_to_fails_the_nudge_once_and_plan_status_says_so(slack, dispatcher, error):
    plan = await start_plan(slack)
    slack.fake.fail_blocks_once("chat.postMessage", error)
    stats = await dispatcher.run_once(WEEK_1_DUE)
    assert (stats.sent, stats.failed, stats.retry, stats.unknown, stats.errors) == (0, 1, 0, 0, [error])
    [row] = slack.core.services.reminders.log.rows(plan.id)
    assert (row.status, row.error, row.attempts) == ("failed", error, 1)

    for now in (WEEK_1_DUE, datetime(2026, 11, 30, 8, 5, tzinfo=UTC), datetime(2026, 12, 1, 8, 0, tzinfo=UTC)):
        again = await dispatcher.run_once(now)
        assert (again.planned, again.sent, again.failed, again.retry) == (0, 0, 0, 0)
    assert len(slack.fake.of("chat.postMessage")) == 1  # the refused call, and no retry storm after it
    [row] = slack.core.services.reminders.log.rows(plan.id)
    assert (row.status, row.attempts) == ("failed", 1)

    slack.clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    status = await command(slack, "plan", user="U1")
    assert f"1 Erinnerung nicht sicher zugestellt, zuletzt: {error}." in texts(status)  # singular (issue 24)
    assert "`/invite @Lotse`" in texts(status)


@both_databases
async def test_a_temporary_slack_error_is_retried_and_the_nudge_arrives_once(slack, dispatcher):
    plan = await start_plan(slack)
    slack.fake.fail_blocks_once("chat.postMessage", "internal_error")  # HTTP 200, ok: false
    stats = await dispatcher.run_once(WEEK_1_DUE)
    assert (stats.sent, stats.retry, stats.failed) == (0, 1, 0)
    [row] = slack.core.services.reminders.log.rows(plan.id)
    assert (row.status, row.error) == ("pending", "internal_error")
    assert (await dispatcher.run_once(WEEK_1_DUE + timedelta(seconds=1))).sent == 0  # not before the back-off
    assert (await dispatcher.run_once(WEEK_1_DUE + timedelta(seconds=5))).sent == 1
    assert len(posted(slack.fake)) == 1
    [row] = slack.core.services.reminders.log.rows(plan.id)
    assert (row.status, row.attempts) == ("sent", 2)
