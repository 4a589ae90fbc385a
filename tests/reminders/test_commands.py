"""/plan in chat and `lotse plan` on the command line."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

from bot.core.messages import Incoming
from bot.reminders.commands import PlanCommands
from tests.conftest import both_databases
from tests.reminders.conftest import ROOT


def say(reminders, text: str, admin: bool = False, language: str = "de", user: str = "lead"):
    return PlanCommands(reminders).handle(Incoming(text, user, admin=admin), language)


@both_databases
def test_only_admins_start_pause_or_stop_a_plan(reminders):
    refused = say(reminders, "/plan start 2026-11-30")
    assert not refused.answered and "Administrator" in refused.text
    assert reminders.plans.current("console:local") is None
    started = say(reminders, "/plan start 2026-11-30 mo 09:00 Europe/Berlin Bayern", admin=True)
    assert "Erste Erinnerung: Mo 2026-11-30 um 09:00 (Europe/Berlin)" in started.text
    assert "2027-01-04 Mo 09:00  Quartals-Review 2027-Q1  [verschoben von 2027-01-01: Neujahr]" in started.text
    plan = reminders.plans.current("console:local")
    assert (plan.state, plan.weekday, plan.at, plan.tz) == ("BY", 0, "09:00", "Europe/Berlin")
    assert [(t.channel, t.address, t.role) for t in reminders.plans.targets(plan.id)] == [
        ("console", "default", "team")
    ]
    assert not say(reminders, "/plan pause").answered
    assert "pausiert" in say(reminders, "/plan pause", admin=True).text
    assert reminders.plans.current("console:local").status == "paused"
    assert "läuft wieder" in say(reminders, "/plan fortsetzen", admin=True).text
    asked = say(reminders, "/plan stopp", admin=True)  # it cannot be undone: asked first, nothing changes
    assert not asked.answered and "`/plan stopp ja`" in asked.text
    assert reminders.plans.current("console:local").status == "active"
    assert "beendet" in say(reminders, "/plan stopp ja", admin=True).text
    assert reminders.plans.current("console:local") is None


def test_a_second_start_says_it_replaces_the_running_plan_and_waits_for_the_word(reminders):
    say(reminders, "/plan start 2026-11-30 BY", admin=True)
    first = reminders.plans.current("console:local")
    again = say(reminders, "/plan start 2026-12-14 BY", admin=True)
    assert not again.answered and "`/plan start 2026-12-14 BY ersetzen`" in again.text
    # the clock stands on 2026-11-25: the plan has not begun, as `/plan` says too (the newcomer saw "läuft")
    assert "(Start Mo 2026-11-30, startet erst)" in again.text
    assert reminders.plans.current("console:local").id == first.id  # nothing replaced yet
    replaced = say(reminders, "/plan start 2026-12-14 BY ersetzen", admin=True)
    assert replaced.answered and reminders.plans.current("console:local").start.isoformat() == "2026-12-14"


def test_a_start_that_is_no_reminder_day_says_when_the_weeks_begin(reminders):
    started = say(reminders, "/plan start 2026-12-02 BY", admin=True)  # a Wednesday
    assert "Hinweis: Mi 2026-12-02 ist kein Erinnerungstag – die Wochen des Plans beginnen am Mo 2026-12-07." in (
        started.text
    )
    # the plan's status names the day its weeks begin, not the date typed (the clock: 2026-11-25)
    status = say(reminders, "/plan", admin=True)
    assert status.text.startswith("Plan ab 2026-12-07 (startet erst)")
    # the first week is shown as what comes (the newcomer read "Woche 1 von 12" beside "Noch vor Woche 1 von 12")
    assert "Der Plan hat noch nicht begonnen – so sieht seine erste Woche aus (ab Mo 2026-12-07):" in status.text
    assert status.footer.startswith("Noch vor Woche 1 von 12")
    again = say(reminders, "/plan start 2026-12-21 BY", admin=True)  # named by its first reminder day, as above
    assert "(Start Mo 2026-12-07, startet erst)" in again.text
    assert "kein Erinnerungstag" not in say(reminders, "/plan start 2026-12-14 BY ersetzen", admin=True).text


def test_unclear_settings_get_a_message_that_says_what_is_expected(reminders):
    for words, expected in (
        ("2026-11-30 Bavaria-North", "„Bavaria-North“ verstehe ich nicht"),
        ("2026-11-30 Mars/Olympus", "Europe/Berlin"),
        ("2026-11-30 02:30", "Zeitumstellung"),
    ):
        reply = say(reminders, f"/plan start {words}", admin=True)
        assert not reply.answered and expected in reply.text, reply.text
    assert reminders.plans.current("console:local") is None
    assert "kenne ich nicht" in say(reminders, "/plan fliegen").text
    assert "noch kein 90-Tage-Plan" in say(reminders, "/plan verschieben", admin=True).text
    say(reminders, "/plan start 2026-11-30", admin=True)
    assert "Startdatum" in say(reminders, "/plan verschieben", admin=True).text


@both_databases
def test_status_shows_progress_and_the_week_tasks_and_moving_the_start(reminders, clock):
    assert "noch kein 90-Tage-Plan" in say(reminders, "/plan").text
    say(reminders, "/plan start 2026-11-30 BY", admin=True)
    clock.now = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    assert say(reminders, "/plan erledigt 1.1").footer == "Woche 2 von 12 · 1/7 Aufgaben erledigt"
    assert not say(reminders, "/plan erledigt 9.9").answered
    status = say(reminders, "/plan")
    assert "Nächste Erinnerung: Mo 2026-12-14 um 09:00" in status.text
    assert status.footer == "Woche 2 von 12 · 1/7 Aufgaben erledigt"
    assert [t.id for t in status.tasks][:4] == ["2.1", "2.2", "2.3", "2.4"]
    moved = say(reminders, "/plan verschieben 2027-01-11", admin=True)
    assert "2027-01-11 Mo 09:00  Woche 1" in moved.text
    assert reminders.plans.current("console:local").start.isoformat() == "2027-01-11"


def test_english_commands_answer_in_english(reminders):
    reply = say(reminders, "/plan start 2026-11-30 mon BY", admin=True, language="en")
    assert "The 90-day plan is running" in reply.text and "Week 1: Interviews with department heads" in reply.text
    assert say(reminders, "/plan done 1.1", language="en").text == "Task 1.1 is done. ✅"


def test_a_german_plans_status_asked_in_english_is_english_throughout(reminders):
    assert "Der 90-Tage-Plan läuft" in say(reminders, "/plan start 2026-11-30 mo BY", admin=True).text
    status = say(reminders, "/plan status", language="en").text
    assert "Week 1: Interviews with department heads" in status and "Interviews mit" not in status


@both_databases
def test_a_button_of_another_team_or_an_unknown_plan_changes_nothing(reminders):
    say(reminders, "/plan start 2026-11-30 BY", admin=True)
    plan = reminders.plans.current("console:local")
    other = Incoming("", "eve", channel="slack", workspace="T9", value=f"plan:{plan.id}:1.1:done:W01")
    assert not PlanCommands(reminders).button(other, "de").answered
    assert not PlanCommands(reminders).button(Incoming("", "eve", value="plan:999:1.1:done:W01"), "de").answered
    assert not PlanCommands(reminders).button(Incoming("", "eve", value="plan:x"), "de").answered
    assert reminders.plans.tasks(plan.id) == {}


def lotse(*args: str, env_dir) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "LOTSE_DATA_DIR": str(env_dir), "HOME": str(env_dir)}
    return subprocess.run(
        [sys.executable, "-m", "bot.app.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )


def test_cli_preview_of_a_plan_that_is_not_configured_yet(tmp_path):
    done = lotse("plan", "preview", "--start", "2026-12-04", "--weekday", "fr", "--state", "BY", env_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Termine (jeden Freitag um 09:00, Europe/Berlin, Feiertage: BY):"
    assert (
        "2026-12-28 Mo 09:00  Woche 4: Team-Skills, Weiterbildung und KI-Champions  [verschoben von 2026-12-25: "
        "Erster Weihnachtstag]" in lines
    )
    assert sum(1 for line in lines if "  Woche " in line) == 12
    german = lotse("plan", "preview", "--start", "04.12.2026", "--weekday", "fr", "--state", "BY", env_dir=tmp_path)
    assert german.returncode == 0 and german.stdout == done.stdout  # the chat's date forms (issue 24)
    # what /plan start says of a start date, the preview says too: Easter week, and no reminder day
    easter = lotse("plan", "preview", "--start", "2027-03-24", "--state", "BY", env_dir=tmp_path).stdout.splitlines()
    assert easter[-2:] == [
        "Hinweis: Die erste Woche fällt in die Osterwoche – viele sind dann im Urlaub. Wer später beginnen will: "
        "/plan start 2027-04-05 … ersetzen.",
        "Hinweis: Mi 2027-03-24 ist kein Erinnerungstag – die Wochen des Plans beginnen am Mo 2027-03-29.",
    ]
    for option, value, said in (
        ("--start", "2026-13-40", "is not a date like"),
        ("--time", "02:30", "daylight saving"),
    ):
        refused = lotse("plan", "preview", "--start", "2026-12-04", option, value, env_dir=tmp_path)
        assert refused.returncode == 2 and said in refused.stderr and "Traceback" not in refused.stderr
    bad = lotse("plan", "preview", "--start", "2026-12-04", "--state", "XY", env_dir=tmp_path)
    assert bad.returncode == 2 and "unknown German state 'XY'" in bad.stderr
    none = lotse("plan", "status", env_dir=tmp_path)
    assert none.returncode == 1 and "/plan start" in none.stderr


def test_cli_output_into_a_closed_pipe_ends_quietly(tmp_path, monkeypatch):
    """`lotse plan preview … | head -1`: the reader went away; no BrokenPipeError traceback (issue 24)."""
    import os

    from bot.app.cli import main

    monkeypatch.setenv("LOTSE_DATA_DIR", str(tmp_path))
    read, write = os.pipe()
    os.close(read)  # the reader has gone, as `head` does once it has its line
    saved = os.dup(1)
    try:
        with os.fdopen(write, "w", buffering=1) as closed:  # a line at a time, as into a pipe to `head`
            monkeypatch.setattr("sys.stdout", closed)
            assert main(["plan", "preview", "--start", "2026-12-04"]) == 0
    finally:
        os.dup2(saved, 1)  # main pointed fd 1 at /dev/null; the test process gets its own back
        os.close(saved)


def test_a_plan_that_starts_later_reads_from_not_since(reminders):
    say(reminders, "/plan start 2027-04-12 BY", admin=True)  # months ahead of the test's clock
    status = say(reminders, "/plan", admin=True).text
    assert status.startswith("Plan ab 2027-04-12 (startet erst)") and "Plan seit" not in status


def test_a_task_snoozed_before_the_plan_begins_comes_back_with_its_first_nudge(reminders):
    say(reminders, "/plan start 2027-04-12 BY", admin=True)
    say(reminders, "/plan morgen 1.1", admin=True)
    shown = say(reminders, "/plan", admin=True)
    status = shown.text
    assert "Nächste Erinnerung: Mo 2027-04-12" in status and "2026-11" not in status
    assert shown.footer == "Noch vor Woche 1 von 12"  # it has not begun (it said "Woche 1 von 12 · 0/3")


def test_a_task_snoozed_before_a_plan_is_moved_later_comes_back_with_the_new_first_nudge(reminders):
    say(reminders, "/plan start 2027-03-01 BY", admin=True)
    say(reminders, "/plan morgen 1.1", admin=True)  # before the plan: back with its first nudge, Mo 2027-03-01
    moved = say(reminders, "/plan verschieben 2027-03-08", admin=True)
    assert moved.answered, moved.text
    status = say(reminders, "/plan", admin=True).text
    assert "Nächste Erinnerung: Mo 2027-03-08" in status and "2027-03-01" not in status
    assert reminders.plans.snooze_days(reminders.plans.current("console:local").id) == [date(2027, 3, 8)]


def test_a_plan_starting_between_the_years_or_in_easter_week_gets_a_hint(reminders):
    new_year = say(reminders, "/plan start 2026-12-28 BY", admin=True).text
    assert "zwischen die Jahre" in new_year and "`/plan start 2027-01-11 … ersetzen`" in new_year
    easter = say(reminders, "/plan start 2027-03-22 BY ersetzen", admin=True).text  # Easter Sunday: 2027-03-28
    # not Easter Monday (2027-03-29, a holiday itself), the Monday after it
    assert "Osterwoche" in easter and "`/plan start 2027-04-05 … ersetzen`" in easter
    assert "Hinweis" not in say(reminders, "/plan start 2027-04-12 BY ersetzen", admin=True).text
