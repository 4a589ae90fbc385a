"""Requests in plain words through the core (issue 22): reads and dialog starts run at once, a write asks
its requester to confirm (single use, expires), a role that may not gets the slash command's refusal, a
question about an action gets the guide's answer with the action offered, and a setting turns it off."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.app.services import build_core
from bot.core import i18n
from bot.core.messages import Incoming
from bot.pilots.store import Kpi

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # a Monday


class Clock:
    now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def team(database_service):
    core = build_core(database_service.settings, database_service, clock=Clock())
    return core, f"T{uuid.uuid4().hex[:8].upper()}"


def say(core, workspace: str, text: str, user: str = "UADMIN", admin: bool = True, value: str | None = None,
        private: bool = True):  # fmt: skip
    message = Incoming(text, user, channel="slack", workspace=workspace, conversation="D1" if private else "C1",
                       admin=admin, private=private, value=value)  # fmt: skip
    return core.handle(message)


def test_a_request_for_a_dialog_starts_it_with_the_named_pilot(team):
    core, workspace = team
    core.services.pilot_store.create(f"slack:{workspace}", "Dokumentensuche", "slack:T:UADMIN",
                                     start=date(2026, 11, 1), end=date(2027, 2, 28), users=10,
                                     kpis=[Kpi("Suchzeit", "min", "lower", 15, 5)])  # fmt: skip
    reply = say(core, workspace, "Ich möchte eine Rückmeldung zu unserem Pilot Dokumentensuche loswerden", "U1", False)
    assert reply.action == {"id": "pilot.feedback", "arguments": {"pilot": "Dokumentensuche"}}
    assert reply.kind == "dialog" and reply.question is not None and "Dokumentensuche" in reply.text


def test_a_request_in_english_is_answered_in_english_though_the_commands_words_are_german(team):
    """The catalog's commands are German ("/pilot bericht …") and answer in the language of their words: an
    English request runs their English words, so the report, the confirmation and its preview are English."""
    core, workspace = team
    core.services.pilot_store.create(f"slack:{workspace}", "Dokumentensuche", "slack:T:UADMIN",
                                     start=date(2026, 11, 1), end=date(2027, 2, 28), users=10)  # fmt: skip
    report = say(core, workspace, "show me the report of the Dokumentensuche pilot")
    assert report.action["id"] == "pilot.report" and report.language == "en"
    assert report.text.startswith('*Report on the pilot "Dokumentensuche"*')
    confirm = say(core, workspace, "please set up the weekly plan reminders from 2026-12-14, we are in Bavaria")
    assert confirm.kind == "confirm" and confirm.language == "en" and "Dates (every Monday" in confirm.text
    german = say(core, workspace, "Zeig mir den Bericht zum Pilot Dokumentensuche")
    assert german.text.startswith("*Bericht Pilot „Dokumentensuche“*")


def test_a_write_is_confirmed_by_its_requester_once_and_only_then_done(team):
    core, workspace = team
    plans = core.services.reminders.plans
    proposal = say(
        core, workspace, "Richte bitte die wöchentlichen Plan-Erinnerungen ab nächsten Montag ein, wir sind in Sachsen"
    )  # noqa: E501
    assert proposal.kind == "confirm" and proposal.action["id"] == "plan.start"
    assert proposal.action["arguments"] == {"start": "2026-12-14", "state": "SN"}
    assert "Start: 2026-12-14" in proposal.text and "Bundesland: SN" in proposal.text
    assert plans.current(f"slack:{workspace}") is None  # nothing before the Confirm
    yes, no = (c.value for c in proposal.question.choices)
    assert say(core, workspace, "", "UOTHER", value=yes).kind == "error"  # someone else's click: not theirs
    assert plans.current(f"slack:{workspace}") is None
    done = say(core, workspace, "", value=yes)
    assert done.kind == "command" and done.action["id"] == "plan.start" and "läuft" in done.text
    plan = plans.current(f"slack:{workspace}")
    assert plan is not None and plan.start == date(2026, 12, 14) and plan.state == "SN"
    again = say(core, workspace, "", value=yes)  # single use: a second click does nothing
    assert again.kind == "error" and again.text == i18n.text("action_expired", "de")
    assert say(core, workspace, "", value=no).kind == "error"


def test_a_typed_yes_confirms_a_typed_no_cancels_and_a_proposal_expires(team):
    core, workspace = team
    paused = core.services.reminders.plans
    say(core, workspace, "/plan start 2026-12-07 BY")
    proposal = say(core, workspace, "Kannst du bitte die Plan-Erinnerungen pausieren?")
    assert proposal.kind == "confirm" and proposal.action["id"] == "plan.pause"
    cancelled = say(core, workspace, "nein")
    assert cancelled.text == i18n.text("action_cancelled", "de")
    assert paused.current(f"slack:{workspace}").status == "active"
    say(core, workspace, "Kannst du bitte die Plan-Erinnerungen pausieren?")
    core.services.pending.clock = lambda: datetime.now(UTC) + timedelta(minutes=16)
    try:
        late = say(core, workspace, "ja")  # nothing waits any more: "ja" is no action of its own
        assert late.kind != "command" and paused.current(f"slack:{workspace}").status == "active"
    finally:
        core.services.pending.clock = lambda: datetime.now(UTC)
    say(core, workspace, "Kannst du bitte die Plan-Erinnerungen pausieren?")
    assert say(core, workspace, "ja").action["id"] == "plan.pause"
    assert paused.current(f"slack:{workspace}").status == "paused"


def test_an_employee_asking_for_an_admin_action_gets_the_commands_refusal_and_nothing_changes(team):
    core, workspace = team
    say(core, workspace, "/plan start 2026-12-07 BY")
    typed = say(core, workspace, "/plan pausieren", "U1", admin=False)
    asked = say(core, workspace, "Pausiere bitte die Plan-Erinnerungen", "U1", admin=False)
    assert asked.kind == "refusal" and asked.text == typed.text == i18n.text("admin_only", "de")
    assert asked.action["id"] == "plan.pause"
    assert core.services.reminders.plans.current(f"slack:{workspace}").status == "active"
    assert core.services.pending.open(f"slack:{workspace}:U1:D1") is None  # no proposal was stored


def test_a_question_about_an_action_gets_the_guide_with_the_action_offered(team):
    core, workspace = team
    reply = say(core, workspace, "Wie gebe ich Feedback zu einem Pilot?", "U1", False)
    assert reply.answered and reply.mode in ("extractive", "llm") and reply.action is None
    [offer] = reply.question.choices
    assert offer.value.startswith("offer:pilot.feedback:") and offer.label.startswith("Direkt erledigen")
    started = say(core, workspace, "", "U1", False, value=offer.value)
    assert started.action["id"] == "pilot.feedback"


@pytest.mark.parametrize(
    "question", ["was kostet copilot", "wie ist das wetter morgen", "was verdient ein admin bei uns"]
)
def test_a_refusal_offers_no_action_guessed_from_a_stray_word(team, question):
    """The newcomer's run (issue 24): "was kostet copilot" was refused with "Direkt erledigen: Rückmeldung zu
    einem Pilotprojekt geben" beneath it."""
    core, workspace = team
    reply = say(core, workspace, question, "U9", False)
    assert not reply.answered and reply.question is None, reply.text


def test_reads_about_our_own_state_run_at_once(team):
    core, workspace = team
    status = say(core, workspace, "Wie weit sind wir mit dem 90-Tage-Plan?", "U1", False)
    assert status.action == {"id": "plan.status", "arguments": {}} and status.kind == "command"
    stored = say(core, workspace, "Was speicherst du eigentlich über mich?", "U1", False)
    assert stored.text.startswith("Über Sie gespeichert")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hey, kann ich die historie der aenderungen sehen", "audit.show"),  # a greeting hides no request
        ("hey lotse, kurzer ueberblick wo wir mit der ki-einfuehrung stehen", "status.show"),
        ("in welcher planwoche sind wir gerade", "plan.status"),  # a question word after a preposition
        ("ich wurde vorhin unterbrochen, kann ich das assessment weitermachen?", "assessment.resume"),
        ("hat der ticket-assistent schon feedback?", "pilot.report"),  # about one of our pilots: a read
        ("feedback for the dokumentensuche: search results are way better", "pilot.feedback"),  # the head asks
        ("pilots?", "pilot.list"),  # one word: only when sure
        ("meine gespeicherten daten loeschen bitte", "privacy.erase"),  # the verb last names the action
        ("eine aufgabe abhaken", "plan.task_done"),
        ("lass uns ein assessment machen", "assessment.start"),  # doing, not reading results
        ("bewertung fuer die dokumentensuche abgeben bitte", "pilot.feedback"),
        ("show me the assessment options before we pick one", "assessment.list"),  # showing, not starting
        ("gib mir mal die plan-timeline, ich muss das mit den urlauben abgleichen", "plan.preview"),
        ("download everything you stored about me", "privacy.export"),
        ("stop the weekly plan reminders for now, we'll pick it up later", "plan.pause"),
        ("the sales team started using Gong – needs to go in the AI register", "register.add"),
        ("wie war der roi aller piloten im q3?", "pilot.quarter_report"),  # the past: our own figures
    ],
)
def test_requests_and_own_questions_as_people_type_them(team, text, expected):
    core, workspace = team
    for name in ("Dokumentensuche", "Ticket-Assistent"):
        core.services.pilot_store.create(f"slack:{workspace}", name, "lead", start=date(2026, 10, 1),
                                         end=date(2027, 3, 31))  # fmt: skip
    found = core.services.actions.understand(text, f"slack:{workspace}")
    assert (found.kind, found.action.id) == ("act", expected)


@pytest.mark.parametrize(
    "text",
    [
        "do we need consent from employees to use AI meeting transcription",
        "can I pause the plan reminders somehow? how?",
        "can you explain what embeddings are",
        "und fuer dokumente?",
        "Wann ist bei uns die nächste Betriebsversammlung?",  # "bei uns" and "wann": no plan preview
        "what's a good KPI for a document search pilot?",  # advice, though it names one of our pilots
        "ai register, what goes in?",
        "Und im ersten Jahr insgesamt?",  # a follow-up to the guide's answer, though "insgesamt" names the status
    ],
)
def test_questions_that_sound_like_requests_run_nothing(team, text):
    core, workspace = team
    core.services.pilot_store.create(f"slack:{workspace}", "Dokumentensuche", "lead", start=date(2026, 10, 1),
                                     end=date(2027, 3, 31))  # fmt: skip
    assert core.services.actions.understand(text, f"slack:{workspace}").kind != "act"


def test_a_setting_turns_actions_off(database_service):
    settings = dataclasses.replace(database_service.settings, actions=False)
    core = build_core(settings, database_service, clock=Clock())
    reply = say(core, f"T{uuid.uuid4().hex[:8]}", "Richte bitte ab nächsten Montag die Plan-Erinnerungen ein")
    assert reply.action is None and reply.kind in ("answer", "refusal")


def test_a_question_typed_at_a_choice_is_answered_and_the_question_asked_again(team):
    core, workspace = team
    first = say(core, workspace, "/check readiness", "U1", False)
    assert first.question is not None and first.question.kind == "yesno"
    aside = say(core, workspace, "Wie viel Budget brauchen wir pro Person für KI-Schulungen?", "U1", False)
    assert "2.000" in aside.text and "Zurück zur offenen Frage:" in aside.text and aside.citations
    assert aside.question is not None and aside.question.step == first.question.step  # nothing was stored
    assert say(core, workspace, "ja", "U1", False).question.step != first.question.step


def test_a_missing_start_date_is_asked_and_the_answer_completes_the_request(team):
    core, workspace = team
    asked = say(core, workspace, "Richte bitte die Plan-Erinnerungen für unser Team ein, wir sind in Hessen")
    assert asked.kind == "clarify" and "Ab welchem Tag?" in asked.text
    proposal = say(core, workspace, "ab nächsten Montag")
    assert proposal.kind == "confirm" and proposal.action["arguments"] == {"start": "2026-12-14", "state": "HE"}
    assert say(core, workspace, "ja").action["id"] == "plan.start"
    assert core.services.reminders.plans.current(f"slack:{workspace}").start == date(2026, 12, 14)


def test_inside_an_assessment_a_read_runs_and_another_action_is_offered_as_a_switch(team):
    core, workspace = team
    first = say(core, workspace, "/check readiness", "U1", False)
    status = say(core, workspace, "Wie weit sind wir mit dem 90-Tage-Plan?", "U1", False)
    assert "Zurück zur offenen Frage:" in status.text and status.question.step == first.question.step
    switch = say(core, workspace, "Ich möchte jetzt lieber die Risiko-Matrix ausfüllen", "U1", False)
    offered = [c for c in switch.question.choices if c.value.startswith("offer:assessment.start:")]
    assert offered and switch.text.startswith("Das klingt nach:") and switch.question.step == first.question.step
    assert say(core, workspace, "ja", "U1", False).question.step != first.question.step  # "ja" answers the check
    risks = say(core, workspace, "", "U1", False, value=offered[0].value)
    assert risks.action["id"] == "assessment.start" and risks.question is not None
    assert "Risiko" in risks.text


def test_a_request_two_actions_fit_asks_which_one_and_can_just_answer_instead(team):
    core, workspace = team
    asked = say(core, workspace, "mach mal nen export")  # the pilots' feedback, or my own data?
    assert asked.kind == "clarify" and asked.action is None and not asked.answered
    assert asked.text == i18n.text("action_clarify", "de")
    values = [c.value for c in asked.question.choices]
    assert {v.split(":")[1] for v in values[:2]} == {"pilot.export", "privacy.export"}
    assert values[2] == "ask:mach mal nen export" and asked.question.choices[2].label.startswith("Nein")
    chosen = say(core, workspace, "", value=next(v for v in values if v.startswith("offer:pilot.export:")))
    assert chosen.action["id"] == "pilot.export" and chosen.kind == "command"
    guide = say(core, workspace, "", value=values[2])
    assert guide.action is None and guide.kind in ("answer", "refusal") and guide.question is None
    # an employee may not export the pilots' feedback: only their own data is offered
    employee = say(core, workspace, "mach mal nen export", "U1", admin=False, private=True)
    assert [c.value.split(":")[1] for c in employee.question.choices] == ["privacy.export", "mach mal nen export"]


def test_every_prompt_starter_of_the_catalog_runs_its_own_action(team):
    core, _ = team
    actions = core.services.actions
    starters = [(a, a.starter[lang]) for a in core.services.action_catalog if a.starter for lang in ("de", "en")]
    assert len(starters) >= 8
    # and the whole request a Teams prompt starter puts into the compose box (lotse teams-package)
    starters += [(a, a.examples["de"][0]) for a in core.services.action_catalog if a.starter]
    for action, text in starters:
        found = actions.understand(text, "slack:T")
        assert found.kind == "act" and found.action.id == action.id, (text, found.kind, found.action)
