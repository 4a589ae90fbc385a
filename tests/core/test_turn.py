"""The core routes a message: an open assessment first, then commands, then questions about the
team's own results, then the knowledge base."""

from __future__ import annotations

import pytest

from bot.app.lotse import Lotse
from bot.app.services import build_core
from bot.core import i18n
from bot.core.messages import Incoming
from tests.conftest import both_databases


@pytest.fixture
def lotse(database_service) -> Lotse:
    return build_core(database_service.settings, database_service)


def say(lotse: Lotse, text: str, workspace: str, user: str = "anna"):
    return lotse.handle(Incoming(text=text, user=user, channel="test", workspace=workspace))


@both_databases
def test_our_systems_question_is_answered_from_the_stored_result(lotse):
    workspace = "routing-1"
    before = say(lotse, "Welche unserer Systeme sind KI-bereit?", workspace)
    assert before.mode != "dialog" and before.citations  # nothing assessed yet: the guide answers …
    assert before.text.endswith(
        "Tipp: Mit /check 2 bewerten Sie das für Ihr Unternehmen („Systemlandschaft“); "
        "danach beantworte ich diese Frage aus Ihren Ergebnissen."
    )  # … with a hint
    for line in ("/check systeme", "SAP ERP", "5", "-", "Fileserver", "2", "-", "CRM", "4", "-", "fertig"):
        say(lotse, line, workspace)
    reply = say(lotse, "Welche unserer Systeme sind KI-bereit?", workspace, user="ben")
    assert reply.mode == "dialog"
    assert "Kandidaten für frühe KI-Integrationen (Bewertung 4 oder 5): SAP ERP (5), CRM (4)." in reply.text
    assert "erfasst von anna" in reply.text and reply.images
    english = say(lotse, "Which of our systems are ready for AI?", workspace)
    assert "Candidates for early AI integration (rated 4 or 5): SAP ERP (5), CRM (4)." in english.text


def test_a_general_question_about_systems_still_goes_to_the_guide(lotse):
    workspace = "routing-2"
    for line in ("/check systeme", "CRM", "4", "-", "fertig"):
        say(lotse, line, workspace)
    reply = say(lotse, "Welche Systeme eignen sich für frühe KI-Integrationen?", workspace)
    assert reply.mode != "dialog" and reply.citations


@both_databases
def test_while_a_dialog_runs_its_answers_do_not_reach_the_knowledge_base(lotse):
    """An answer that does not fit is asked again; a question typed there (issue 22) gets the guide's answer
    above the open question, which keeps its place."""
    workspace = "routing-3"
    first = say(lotse, "/check readiness", workspace)
    wrong = say(lotse, "vielleicht", workspace)
    assert wrong.mode == "dialog" and wrong.text.startswith("Bitte mit „ja“ oder „nein“ antworten")
    reply = say(lotse, "Was kostet KI im ersten Jahr?", workspace)
    assert reply.mode == "dialog" and "50.000" in reply.text and "Zurück zur offenen Frage:" in reply.text
    assert reply.question.step == wrong.question.step == first.question.step
    say(lotse, "pause", workspace)
    answer = say(lotse, "Was kostet KI im ersten Jahr?", workspace)
    assert answer.mode == "extractive" and "50.000" in answer.text


def test_help_mentions_the_assessments(lotse):
    assert "/check" in say(lotse, "/help", "routing-4").text


def test_help_names_the_feedback_form(lotse):
    """The Agents Playground run (issue 23): /feedback worked but /help never said so."""
    assert "/feedback – Lotse bewerten" in say(lotse, "/help", "routing-4").text


@both_databases
def test_admin_commands_and_feedback_work_the_same_in_every_channel(lotse):
    """The console's operator is an admin; /export and /feedback are the core's, not one channel's."""
    export = lotse.handle(Incoming("/export", "op", channel="console", admin=True))
    assert export.answered and "lotse assess export" in export.text
    refused = lotse.handle(Incoming("/export", "anna", channel="slack", workspace="T1", conversation="D1"))
    assert not refused.answered and "vorbehalten" in refused.text
    offer = lotse.handle(Incoming("/feedback", "anna", channel="slack", workspace="T1", conversation="D1"))
    assert offer.form == "feedback" and "1 (gar nicht) bis 5" in offer.text
    assert not lotse.handle(Incoming("/feedback super", "fenja", channel="console")).answered
    thanks = lotse.handle(Incoming("/feedback 4 mehr Beispiele", "fenja", channel="console"))
    assert thanks.text == "Danke für die Rückmeldung!"
    counts = lotse.data_summary(Incoming("", "fenja", channel="console"), "de")
    assert "Rückmeldungen: 1" in counts


@both_databases
def test_what_is_stored_about_a_person_counts_only_that_person(lotse):
    """User ids may contain "_", a LIKE wildcard: u_1's summary must not count ux1's messages."""
    lotse.handle(Incoming("Was passiert in Woche 3?", "ux1", channel="console", workspace="esc"))
    mine = lotse.data_summary(Incoming("", "u_1", channel="console", workspace="esc"), "de")
    assert "Nachrichten (Fragen und Antworten): 0" in mine
    theirs = lotse.data_summary(Incoming("", "ux1", channel="console", workspace="esc"), "de")
    assert "Nachrichten (Fragen und Antworten): 2" in theirs


def test_a_question_for_the_top_or_bottom_of_our_ranking_names_that_item_with_its_score(lotse):
    workspace = "routing-ranked"
    for line in ("/check systeme", "SAP ERP", "5", "-", "Fileserver", "2", "-", "CRM", "4", "-", "fertig"):
        say(lotse, line, workspace)
    best = say(lotse, "Welches System nehmen wir zuerst für die KI-Integration?", workspace)
    assert best.kind == "result" and "„SAP ERP“ mit 5,0" in best.text and "Fileserver" not in best.text
    worst = say(lotse, "Which of our systems is the weakest candidate for AI integration?", workspace)
    assert '"Fileserver" with 2.0' in worst.text and "/results 2" in worst.text


def test_a_command_typed_inside_an_assessment_is_answered_and_never_stored_as_an_answer(lotse):
    workspace = "routing-commands-in-dialog"
    for line in ("/check systeme", "CRM"):
        say(lotse, line, workspace)
    thanks = say(lotse, "/feedback 4 gut", workspace)  # at the rating question
    assert thanks.text.startswith("Danke für die Rückmeldung!")
    assert "„Systemlandschaft“ ist noch offen – /weiter stellt die offene Frage wieder." in thanks.text
    unknown = say(lotse, "/gibtsnicht", workspace)
    assert "Den Befehl /gibtsnicht kenne ich nicht." in unknown.text and "/weiter" in unknown.text
    again = say(lotse, "/weiter", workspace)
    assert again.question is not None and again.question.step == "rating" and "CRM" in again.text
    for line in ("4", "-"):
        say(lotse, line, workspace)
    name = say(lotse, "/start", workspace)  # at "next system?": help, not a system called "/start"
    assert name.text.startswith("Ich bin Lotse") and "/weiter" in name.text
    for line in ("/pause", "/weiter"):  # the dialog's own words still work with a slash
        assert say(lotse, line, workspace).mode == "dialog"
    result = say(lotse, "fertig", workspace)
    assert "CRM (4)" in result.text and "/start" not in result.text and "/feedback" not in result.text


def test_the_commands_that_work_beside_an_assessment_say_it_waits_and_the_next_answer_still_goes_to_it(lotse):
    """Issue 21's decision: /plan, /pilot, /register, /status and "meine Daten" answer inside a running
    assessment (as before) and now also say that it waits and how to go on; the next answer goes on."""
    workspace = "routing-beside-a-dialog"
    for line in ("/check systeme", "CRM"):
        say(lotse, line, workspace)
    for line in ("/plan", "/pilot", "/register", "/status", "Was speicherst du über mich?"):
        reply = say(lotse, line, workspace)
        assert reply.text.endswith("„Systemlandschaft“ ist noch offen – /weiter stellt die offene Frage wieder."), line
    rating = say(lotse, "4", workspace)  # the rating question was still the open one
    assert rating.question is not None and rating.question.step != "rating"
    plan = say(lotse, "/plan", "routing-beside-no-dialog")  # without an assessment: no such line
    assert "noch offen" not in plan.text


def test_status_shows_the_plan_the_latest_results_and_the_running_pilots(lotse):
    workspace = "routing-status"
    before = say(lotse, "/status", workspace)
    assert before.text.startswith("*Stand Ihres Teams*") and "läuft noch nicht" in before.text
    # named by its number, as /check lists them: "/check data_quality" was English in German text
    assert "Laufende Piloten: keine" in before.text and "noch nicht bewertet (/check 1)" in before.text
    for line in ("/check systeme", "CRM", "4", "-", "fertig"):
        say(lotse, line, workspace)
    after = say(lotse, "/Stand", workspace)  # its German word, in any case
    assert "Systemlandschaft (" in after.text and "noch nicht bewertet (/check 2)" not in after.text
    english = say(lotse, "/status of our team", workspace)
    assert english.text.startswith("*Where your team stands*")


def test_help_lists_every_routes_help_line_in_the_tables_order(lotse):
    from bot.core import i18n

    reply = say(lotse, "/help", "routing-help")
    lines = [i18n.text(r.help, "de") for r in lotse.router.routes if r.help]
    assert reply.text.startswith(i18n.text("help", "de")) and "\n".join(lines) in reply.text
    # then what to say in plain words, from the action catalog (issue 22)
    assert reply.text.endswith("„Was speicherst du über mich?“") and "Oder sagen Sie einfach" in reply.text
    assert [r.name for r in lotse.router.routes if r.help] == [
        "plan",
        "pilot",
        "register",
        "status",
        "privacy",
        "dialog",
        "command",
    ]


def test_a_route_for_admins_in_a_direct_chat_refuses_others_in_one_place(lotse):
    """/audit declares `requires` and `private`; the router refuses before its handler runs."""

    def audit(private: bool, admin: bool):
        message = Incoming(
            "/audit",
            "U1",
            channel="slack",
            workspace="T1",
            conversation="D1" if private else "C1",
            private=private,
            admin=admin,
        )
        return lotse.handle(message)

    assert audit(private=True, admin=False).text.startswith("Dieser Befehl ist Administratorinnen")
    assert audit(private=False, admin=True).text.startswith("Das besprechen wir unter vier Augen")
    assert audit(private=True, admin=True).text.startswith("*Audit-Protokoll*")


def test_may_stream_follows_the_table(lotse):
    import dataclasses

    from bot.settings import LLMSettings

    llm = dataclasses.replace(lotse.settings, llm=LLMSettings(base_url="http://127.0.0.1:9/v1", api_key="k"))
    lotse.settings = llm
    typed = lambda text: Incoming(text, "anna", channel="test", workspace="routing-stream")  # noqa: E731
    assert lotse.may_stream(typed("Wie viel Budget brauchen wir für Schulungen?"))
    for claimed in ("/plan", "/Status", "meine Daten", "Was speicherst du über mich?", "/gibtsnicht"):
        assert not lotse.may_stream(typed(claimed)), claimed


def test_a_stray_yes_or_no_asks_what_it_refers_to_and_is_no_knowledge_gap(lotse):
    """The newcomer's run (issue 24): a "ja" after a hint with nothing open got the knowledge base's refusal
    (and went to the gap log as an unanswered question)."""
    before = len(lotse.services.gaps.groups(states=None))
    for word, language in (("ja", "de"), ("Nein.", "de"), ("yes", "de")):  # one word: the conversation's language
        reply = say(lotse, word, "routing-stray", user="stray")
        assert not reply.answered and reply.text == i18n.text("stray_yes_no", language, word=word), reply.text
    assert len(lotse.services.gaps.groups(states=None)) == before
    erase = say(lotse, "lösche meine Daten", "routing-stray", user="stray")  # an open question still takes "ja"
    assert "ja" in erase.text.lower() and "Gelöscht" not in erase.text
    assert "Gelöscht" in say(lotse, "ja", "routing-stray", user="stray").text
