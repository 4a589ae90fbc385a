"""Every slash command of the core — /plan, /pilot, /register, /audit, /check, /weiter, /ergebnis,
/feedback, /help, /export and the privacy requests — with arbitrary arguments, from an admin, a
champion-less employee and a channel, and every button value: Lotse answers each with a `Reply`, and
what it stored still works afterwards (the team's plan gives its nudges and status, its pilots their
reports, and a scheduler pass over all plans runs). Then the exact inputs that used to crash."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.app.lotse import Lotse
from bot.core.messages import Incoming, Reply
from bot.pilots import commands as pilots
from bot.pilots.report import quarter_of
from bot.pilots.store import Kpi
from bot.pilots.texts import pilot_text, quarter_text
from bot.register import commands as register
from bot.reminders import commands as plan
from bot.storage.models import PlanRow
from tests.conftest import both_databases
from tests.properties.conftest import CORE, Admin, scheduler_pass
from tests.properties.strategies import argument, date_words, digits, huge_number, number_words, quarter_words, words

TODAY = date.today()
PEOPLE = [("console", "lead", True), ("slack", "UADMIN", False), ("slack", "UEMP", True)]  # admin, admin, employee
SUBCOMMANDS = {
    "/plan": sorted(plan.SUBCOMMANDS),
    "/pilot": sorted(pilots.SUBCOMMANDS),
    "/register": sorted(register.SUBCOMMANDS),
    "/registry": ["zeige", "setze", "löschen", "export"],
    "/ki-register": ["neu", "hilfe"],
    "/audit": ["pilot", "rollen", "daten", "50", "0", "99999999999"],
    "/protokoll": ["plan", "register"],
    "/check": ["1", "2", "3", "4", "5", "6", "systeme", "neu", "en"],
    "/bewertung": ["risiken"],
    "/assessment": ["1 en", "skills"],
    "/ergebnis": ["systeme", "1"],
    "/results": ["risks"],
    "/feedback": ["1", "5", "6", "0"],
    "/rückmeldung": ["4 gut"],
}
BARE = ["/weiter", "/resume", "/help", "/hilfe", "/start", "/export", "/unbekannt", "/", "/²", "Meine Daten",
        "Was speicherst du über mich?", "what do you know about me", "lösche meine daten"]  # fmt: skip


def pick(*options: st.SearchStrategy) -> st.SearchStrategy:
    """One of `options`, each as likely as the others (`st.one_of` favours the first ones when it shrinks,
    and merges repeated ones)."""
    return st.integers(0, len(options) - 1).flatmap(lambda i: options[i])


def command() -> st.SearchStrategy[str]:
    """A command, mostly with one of its subcommands, and arbitrary words after it; the words a command
    parses (dates for /plan, numbers, names and quarters for /pilot) come more often."""
    values = {
        "/plan": pick(date_words(), words()),
        "/pilot": pick(number_words(), quarter_words(), digits(), st.sampled_from(["Dokumentensuche", "1"]), words()),
    }

    def with_words(cmd: str) -> st.SearchStrategy[str]:
        subs = st.sampled_from([""] + SUBCOMMANDS[cmd])
        rest = argument(values.get(cmd, words()))
        return st.builds(lambda sub, rest: " ".join(x for x in (cmd, sub, rest) if x), subs, rest)

    heavy = ["/plan", "/plan", "/pilot", "/pilot", "/pilot", "/register"]
    bare = st.sampled_from(BARE)
    return pick(
        st.sampled_from(heavy + sorted(SUBCOMMANDS)).flatmap(with_words),
        st.sampled_from(heavy).flatmap(with_words),
        bare,
        st.builds("{} {}".format, bare, argument()),
    )


def occurrence() -> st.SearchStrategy[str]:
    return pick(
        st.integers(-1, 120).map(lambda n: f"W{n:02d}"),
        st.integers(-1, 120).map(lambda n: f"F{n:02d}"),
        date_words().map(lambda d: f"S{d}"),
        quarter_words(),
        words(),
        st.sampled_from(["W01", "W²", "W" + "9" * 5000, "S9999-12-31", "0000-Q1", "9999-Q4", "2026-Q4"]),
    )


def button(plan_id: int) -> st.SearchStrategy[str]:
    """Button values as a nudge or a question carries them, with any part replaced by nonsense."""
    ids = pick(st.just(str(plan_id)), st.just(str(plan_id)), huge_number(), digits(), words())
    tasks = pick(st.sampled_from(["1.1", "2.3", "12.1"]), words())
    actions = pick(st.sampled_from(["done", "tomorrow", "monday", "na", "open"]), words())
    plan_button = st.builds(lambda i, t, a, o: f"plan:{i}:{t}:{a}:{o}", ids, tasks, actions, occurrence())
    dialog_button = st.builds(
        lambda d, n, v: f"{d}.{n}:{v}", pick(digits(), huge_number()), pick(digits(), huge_number()), words()
    )
    return pick(plan_button, plan_button, plan_button, dialog_button, words(), st.builds("plan:{}".format, words()))


class Team:
    """A workspace of its own for one example, with a pilot and a running plan."""

    def __init__(self, core: Lotse, channel: str = "console", user: str = "lead", private: bool = True) -> None:
        self.admin = Admin(core)
        self.core, self.channel, self.user, self.private = core, channel, user, private
        self.scope = f"{channel}:{self.admin.workspace}"
        core.services.pilot_store.create(
            self.scope,
            "Dokumentensuche",
            f"{self.scope}:lead",
            start=TODAY,
            end=TODAY + timedelta(days=90),
            users=20,
            hourly_rate=50.0,
            kpis=[Kpi("Suchzeit", "min", "lower", 15, 3)],
        )
        core.plan.start(Incoming("/plan start", "lead", channel, self.admin.workspace, admin=True), [], "de")
        self.plan = core.services.reminders.plans.current(self.scope)

    def say(self, text: str, value: str | None = None) -> Reply:
        message = Incoming(text, self.user, self.channel, self.admin.workspace, value=value, private=self.private)
        reply = self.core.handle(message)
        assert isinstance(reply, Reply) and isinstance(reply.text, str)
        return reply

    def still_works(self) -> None:
        """What the team stored can still be computed with: the plan's nudges and status, the pilots'
        figures and the quarter's report."""
        core = self.core
        running = core.services.reminders.plans.current(self.scope)
        if running is not None:
            core.services.reminders.occurrences(running, None, TODAY + timedelta(days=400))
            core.services.reminders.nudge(running, "W01")
            core.plan.status(running, "de")
        for pilot in core.services.pilot_store.pilots(self.scope):
            pilot_text(core.services.reports.pilot(pilot.id), "de")
        quarter_text(core.services.reports.quarter(self.scope, quarter_of(TODAY)), "en")


@settings(CORE, max_examples=70)
@given(data=st.data(), who=st.sampled_from(PEOPLE))
def test_every_command_with_any_argument_gets_a_reply(core, data, who):
    team = Team(core, *who)
    for text in data.draw(st.lists(command(), min_size=1, max_size=3), label="commands"):
        team.say(text)
    team.still_works()


@settings(CORE, max_examples=50)
@given(data=st.data())
def test_any_button_value_gets_a_reply_and_a_refused_one_changes_nothing(core, data):
    team = Team(core)
    value = data.draw(button(team.plan.id), label="value")
    before = core.services.reminders.plans.tasks(team.plan.id)
    reply = team.say("", value)
    if not reply.answered:
        assert core.services.reminders.plans.tasks(team.plan.id) == before
    team.still_works()


def test_after_all_that_every_plan_still_gets_its_nudges(core):
    """The scheduler pass over a database full of the examples' plans (its own test, so that it runs
    whatever the properties above stored; here: a few commands that used to store broken dates)."""
    team = Team(core)
    for text in ("/plan verschieben 9999-12-31", "/plan verschieben 0001-01-01", "/plan start 31.12.9999"):
        assert not team.say(text).answered
    assert scheduler_pass(core).planned >= 0
    team.still_works()


# -- the exact inputs that used to crash ------------------------------------------------------------


def test_a_plan_moved_to_a_date_far_away_is_refused_and_the_nudges_keep_going(core):
    team = Team(core)
    first, last = TODAY.year - 50, TODAY.year + 50
    for day in ("9999-12-31", "0001-01-01", "31.12.9999"):
        reply = team.say(f"/plan verschieben {day}")
        assert not reply.answered
        assert reply.text == (
            f"Das hat nicht geklappt: Das Datum {day} liegt zu weit weg. Bitte ein Datum in den "
            f"Jahren {first} bis {last} angeben, z. B. 2027-01-11."
        )
        assert core.services.reminders.plans.current(team.scope).start == team.plan.start
        english = team.say(f"/plan move {day}")
        assert f"The date {day} is too far away. Please give a date in the years {first} to {last}" in english.text
        assert not team.say(f"/plan start {day}").answered and not team.say(f"/plan vorschau {day}").answered
    scheduler_pass(core)


@both_databases
def test_a_plan_stored_with_a_date_beyond_the_calendar_does_not_stop_the_other_teams_nudges(core):
    broken, other = Team(core), Team(core)
    with core.services.reminders.db.session() as s:  # as an older Lotse stored it
        s.get(PlanRow, broken.plan.id).start = date(9999, 12, 31)
        assert s.scalar(select(PlanRow.start).where(PlanRow.id == broken.plan.id)) == date(9999, 12, 31)
    first = next(o for o in core.services.reminders.occurrences(other.plan, None, TODAY) if o.key == "W01")
    stats = scheduler_pass(core, first.due_at + timedelta(hours=1))
    assert stats.planned == stats.sent == 1  # the other team's first week


def test_a_pilot_cost_that_would_be_infinite_is_refused_and_the_report_still_works(core):
    team = Team(core)
    for value in ("1" + "0" * 300 + " mrd", "2000 mrd"):
        reply = team.say(f"/pilot setze Dokumentensuche monatlich {value}")
        assert not reply.answered and reply.text.startswith("Diese Zahl ist zu groß. Bitte eine Zahl bis höchstens")
    reply = team.say("/pilot setze Dokumentensuche einmalig 1e300 mrd")
    assert not reply.answered and reply.text == "Bitte eine Zahl ab 0 eingeben."
    (pilot,) = core.services.pilot_store.pilots(team.scope)
    assert (pilot.one_off_cost, pilot.monthly_cost) == (0, 0)
    assert team.say("/pilot bericht Dokumentensuche").answered
    assert team.say("/pilot bericht quartal").answered


def test_unicode_digits_in_a_pilot_command_get_a_clean_answer(core):
    team = Team(core)
    assert team.say("/pilot ²").text.startswith("Einen Pilot „²“ kenne ich nicht.")
    assert team.say("/pilot feedback ①").text.startswith("Einen Pilot „①“ kenne ich nicht.")
    for text in ("/pilot ändern ²", "/pilot zurückziehen ³"):
        assert team.say(text).text.startswith("Bitte die Nummer des Eintrags angeben")
    assert team.say("/pilot setze Dokumentensuche kpi ² ziel 3").text.startswith("So ändern Sie einen Pilot:")


def test_a_number_with_unicode_digits_names_no_pilot_in_the_terminal_either(core):
    from bot.app.cli.pilots import find_pilot

    team = Team(core)
    assert find_pilot(core.services.pilot_store, "²", team.scope) is None
    assert find_pilot(core.services.pilot_store, "1", team.scope).name == "Dokumentensuche"


def test_a_quarter_without_dates_is_refused_with_the_years_it_may_have(core):
    team = Team(core)
    first, last = TODAY.year - 50, TODAY.year + 50
    german = f"Bitte das Quartal so angeben: `/pilot bericht quartal 2026-Q4` – mit einem Jahr von {first} bis {last}."
    for text in ("/pilot bericht 0000-Q1", "/pilot bericht 9999-Q4", "/pilot bericht quartal 0000-Q1"):
        reply = team.say(text)
        assert not reply.answered and reply.text == german
    assert team.say("/pilot report quarter 9999-Q4").text == (
        f"Please give the quarter like this: `/pilot report quarter 2026-Q4`, with a year from {first} to {last}."
    )


@both_databases
def test_ids_beyond_bigint_in_a_button_or_a_command_are_refused(core):
    team = Team(core)
    stale = "Diese Erinnerung gehört zu einem Plan, der nicht mehr läuft."
    for plan_id in (f"{team.plan.id}" + "9" * 18, "9223372036854775808", "9" * 5000):
        reply = team.say("", f"plan:{plan_id}:1.1:done:W01")
        assert not reply.answered and reply.text == stale
    for number in ("9" * 19, "9223372036854775808", "9" * 3900):
        reply = team.say(f"/pilot zurückziehen {number}")
        assert not reply.answered and reply.text.startswith("Bitte die Nummer des Eintrags angeben")


@both_databases
def test_a_nudge_button_with_a_bad_occurrence_is_refused_before_the_task_changes(core):
    team = Team(core)
    for occurrence in (
        "W99",
        "W00",
        "W²",
        "W" + "9" * 5000,
        "F01",
        "F09x",
        "S9999-99-99",
        "S0001-01-01",
        "0000-Q1",
        "9999-Q4",
        "Q4",
        "",
    ):
        reply = team.say("", f"plan:{team.plan.id}:1.1:done:{occurrence}")
        assert not reply.answered and reply.text == "Diese Erinnerung gehört zu einem Plan, der nicht mehr läuft."
        assert core.services.reminders.plans.tasks(team.plan.id) == {}, occurrence
    assert team.say("", f"plan:{team.plan.id}:1.1:done:W01").answered  # the occurrence a nudge gives it
    assert core.services.reminders.plans.tasks(team.plan.id)["1.1"].status == "done"
