"""Each of the six assessments end to end through the engine, with the guide's scoring rules and
their edge cases."""

from __future__ import annotations

import json

import pytest

from bot.storage.dialogs import ResultStore
from tests.conftest import both_databases


def stored(engine, assessment: str) -> list:
    return ResultStore(engine.store.db).all(assessment)


@both_databases
def test_readiness_exactly_three_of_four_is_ready_in_principle(chat, engine):
    reply = chat.script("/check readiness", "ja", "ja", "nein", "ja")
    assert "3 von 4 Prüfpunkten erfüllt" in reply.text
    assert "grundsätzlich KI-bereit" in reply.text and "noch nicht" not in reply.text
    assert "Noch offen: Moderne Web-Services." in reply.text
    assert "Als Erstes: Alte Schnittstellen" in reply.text
    [result] = stored(engine, "readiness")
    assert json.loads(result.answers) == {
        "databases_api": True,
        "cloud": True,
        "web_services": False,
        "backup_security": True,
    }
    assert json.loads(result.metrics) == {"checks_met": 3}


def test_readiness_two_of_four_is_not_ready_and_names_the_first_step(chat):
    reply = chat.script("/check 1", "nein", "ja", "ja", "nein")
    assert "2 von 4 Prüfpunkten erfüllt" in reply.text and "noch nicht KI-bereit" in reply.text
    assert "Noch offen: Datenbanken mit APIs, Aktuelle Backup- und Sicherheitssysteme." in reply.text
    assert "Als Erstes: Für die wichtigsten Datenbanken Schnittstellen schaffen" in reply.text


def test_readiness_all_four_met(chat):
    reply = chat.script("/check bereitschaft", "ja", "1", "yes", "j")
    assert "4 von 4" in reply.text and "Alle vier Prüfpunkte sind erfüllt" in reply.text


def test_systems_rated_four_or_five_are_the_candidates_best_first(chat):
    reply = chat.script(
        "/check systeme",
        "Ticketsystem",
        "4",
        "überspringen",
        "SAP ERP",
        "5",
        "REST-API da",
        "Fileserver",
        "2",
        "überspringen",
        "fertig",
    )
    assert "Kandidaten für frühe KI-Integrationen (Bewertung 4 oder 5): SAP ERP (5), Ticketsystem (4)." in reply.text
    assert "Fileserver" not in reply.text.splitlines()[1]
    assert "Durchschnittliche Bewertung: 3,7" in reply.text


def test_systems_all_below_four_has_no_candidate_and_names_the_closest(chat):
    reply = chat.script("/check systems", "CRM", "3", "-", "ERP", "3", "-", "DMS", "1", "-", "fertig")
    assert "Noch kein System erreicht 4 oder 5" in reply.text
    assert "Am nächsten dran: CRM (3), ERP (3)." in reply.text


@both_databases
def test_data_quality_scores_each_source_lists_tasks_and_flags_rag_archives(chat, engine):
    reply = chat.script(
        "/check datenqualität",
        "ja",
        "5",
        "4",
        "4",
        "nein",
        "nein",  # CRM
        "ja",
        "2",
        "3",
        "3",
        "ja",
        "ja",  # ERP: silo and media break
        "ja",
        "4",
        "4",
        "5",
        "nein",
        "nein",
        "ja",  # archive with metadata
        "nein",  # e-mail not used
        "nein",  # project management not used
        "Fileserver",
        "2",
        "3",
        "3",
        "3",
        "nein",
        "nein",
        "nein",  # own entry: kind 2 = archive, no metadata
        "fertig",
    )
    text = reply.text
    assert "Bewertete Datenquellen: 4 · Gesamtnote 3,6 von 5." in text
    assert "CRM-System: 4,3 – gut" in text
    assert "ERP-Datenbank: 2,7 – schwach" in text
    assert "Dokumentenarchiv: 4,3 – gut" in text
    assert "Fileserver: 3,0 – mittel" in text
    assert "E-Mail" not in text
    assert "Gute Quellen für RAG (Archiv mit strukturierten Metadaten): Dokumentenarchiv." in text
    assert "ERP-Datenbank: Datensilo über eine Schnittstelle" in text
    assert "ERP-Datenbank: Medienbruch beseitigen" in text
    assert "ERP-Datenbank: Vollständigkeit verbessern (Bewertung 2)" in text
    assert "Fileserver: strukturierte Metadaten ergänzen" in text
    [result] = stored(engine, "data_quality")
    assert json.loads(result.metrics) == {"mean_score": 3.58, "tasks": 4, "rag_sources": 1}
    sources = json.loads(result.answers)["sources"]
    names = ["CRM-System", "ERP-Datenbank", "Dokumentenarchiv", "E-Mail-Korrespondenz", "Projektmanagement-Tool"]
    assert [s["name"] for s in sources] == [*names, "Fileserver"]
    assert sources[5] == {
        "name": "Fileserver",
        "in_use": True,
        "kind": "archive",
        "completeness": 3,
        "timeliness": 3,
        "consistency": 3,
        "silo": False,
        "media_break": False,
        "metadata": False,
    }


def test_skills_finds_gaps_translators_champions_and_the_training_budget(chat):
    reply = chat.script(
        "/check team",
        "Anna, Administration",
        "4",
        "3",
        "5",
        "2",
        "2",
        "3",
        "ja",  # translator, champion, needs training
        "Ben, Entwicklung",
        "5",
        "5",
        "2",
        "3",
        "3",
        "4",
        "nein",
        "Cem, Support",
        "2",
        "1",
        "4",
        "1",
        "2",
        "2",
        "ja",
        "fertig",
    )
    text = reply.text
    assert "Erfasste Personen: 3 · Team-Durchschnitt" in text
    # team means: api 3.7, programming 3.0, process 3.7, ml_llm 2.0, prompting 2.3, data_etl 3.0
    assert "Lücken (Team-Durchschnitt unter 3): ML/LLM-Grundlagen (2,0), Prompt Engineering (2,3)." in text
    assert "„Übersetzer“ zwischen Technik und Fachabteilung: Anna, Administration." in text
    assert "Mögliche KI-Champions: Anna, Administration; Cem, Support." in text  # two people, not four
    assert (
        "Weiterbildung in den vorrangigen Themen für Anna, Administration; Cem, Support: insgesamt 4.000–10.000 €"
        in text
    )


@both_databases
def test_use_cases_rank_high_value_at_moderate_effort_first_and_share_ranks_on_ties(chat, engine):
    reply = chat.script(
        "/check use cases",
        "Dokumentensuche",
        "4",
        "5",
        "3",  # priority 6, value 5
        "Ticket-Kategorisierung",
        "4",
        "4",
        "2",  # priority 6, value 4, quick win
        "Standard-E-Mails",
        "4",
        "4",
        "2",  # identical: tie with the ticket case
        "Kundenkorrespondenz automatisch",
        "2",
        "2",
        "5",  # avoid
        "fertig",
    )
    lines = reply.text.splitlines()
    ranked = [line for line in lines if line[:2] in ("1.", "2.", "4.")]
    assert ranked[0].startswith("1. Dokumentensuche – Priorität 6")
    assert ranked[1].startswith("2. Standard-E-Mails") and ranked[1].endswith("Quick Win")
    assert ranked[2].startswith("2. Ticket-Kategorisierung") and ranked[2].endswith("Quick Win")
    assert ranked[3].startswith("4. Kundenkorrespondenz automatisch") and "besser vermeiden" in ranked[3]
    assert "Gleichauf: Standard-E-Mails und Ticket-Kategorisierung" in reply.text
    assert "oben auf der Liste: Dokumentensuche · Quick Wins: 2." in reply.text
    assert "Quick Win heißt hier: Nutzen mindestens 4, Aufwand höchstens 2 und Machbarkeit mindestens 3" in reply.text
    [result] = stored(engine, "use_cases")
    assert json.loads(result.metrics) == {"count": 4, "quick_wins": 2}


def test_risks_are_sorted_by_likelihood_times_impact_with_their_mitigation(chat):
    reply = chat.script(
        "/check risiken",
        "Unerwartete KI-Antworten",
        "1",
        "3",
        "3",
        "Quellenpflicht und Freigabe",
        "Datenschutzverstoß",
        "rechtlich",
        "3",
        "5",
        "Auftragsverarbeitung prüfen",
        "Systemausfall",
        "technisch",
        "2",
        "3",
        "Fallback auf manuellen Prozess",
        "fertig",
    )
    lines = [line for line in reply.text.splitlines() if line[:2] in ("1.", "2.", "3.")]
    assert lines[0].startswith("1. Datenschutzverstoß (Rechtlich): 3 × 5 = 15, hoch → Maßnahme: Auftragsverarbeitung")
    assert lines[1].startswith("2. Unerwartete KI-Antworten (Technisch): 3 × 3 = 9, mittel")
    assert lines[2].startswith("3. Systemausfall (Technisch): 2 × 3 = 6, niedrig")
    assert "Bewertete Risiken: 3 · davon hoch (Wahrscheinlichkeit × Auswirkung ≥ 15): 1." in reply.text
    assert "Noch kein Risiko der Art „Organisatorisch“ erfasst" in reply.text


def test_an_english_run_reads_english_and_accepts_english_answers(chat):
    reply = chat.script("/assessment readiness", "yes", "no", "no", "yes", language="en")
    assert "2 of 4 checks met" in reply.text and "not ready for AI yet" in reply.text
    assert "Still open: Stable cloud connection, Modern web services." in reply.text


def test_buttons_answer_the_question_they_belong_to(chat):
    reply = chat.say("/check readiness")
    for wanted in ("Ja", "Ja", "Nein", "Ja"):
        [button] = [c for c in reply.question.choices if c.label == wanted]
        reply = chat.say("", value=button.value)
    assert "3 von 4" in reply.text


@both_databases
def test_an_old_button_does_not_answer_the_current_question(chat):
    first = chat.say("/check readiness")
    no = first.question.choices[1]
    chat.say("", value=no.value)
    reply = chat.say("", value=no.value)  # clicked again, or a retried delivery
    assert reply.text.startswith("Diese Schaltfläche gehört zu einer früheren Frage.")
    assert reply.question.step == "cloud" and reply.answered is False


ENGLISH_RUNS = {
    "readiness": (["yes", "no", "yes", "yes"], "3 of 4 checks met – your infrastructure is ready for AI in principle."),
    "systems": (["CRM", "4", "skip", "done"], "Candidates for early AI integration (rated 4 or 5): CRM (4)."),
    "data_quality": (
        ["yes", "4", "4", "4", "no", "no", "no", "no", "no", "no", "done"],
        "Data sources rated: 1 · overall 4.0 of 5.",
    ),
    "skills": (["Anna", "3", "3", "3", "3", "3", "3", "yes", "done"], "People rated: 1 · team average 3.0 of 5."),
    "use_cases": (["Search", "4", "5", "2", "done"], "Use cases rated: 1 · top of the list: Search · quick wins: 1."),
    "risks": (["Outage", "1", "2", "4", "Backup", "done"], "Risks rated: 1 · high (likelihood × impact ≥ 15): 0."),
}


@pytest.mark.parametrize("assessment", ENGLISH_RUNS)
def test_every_assessment_runs_in_english(chat, assessment):
    answers, headline = ENGLISH_RUNS[assessment]
    reply = chat.script(f"/assessment {assessment}", *answers, language="en")
    assert reply.text.startswith("Done: ") and headline in reply.text, reply.text
    assert reply.images[0].alt.startswith("Chart: ")


@both_databases
def test_a_result_reads_in_the_language_of_whoever_asks(chat):
    chat.script("/check risks", "Datenschutz", "2", "3", "5", "AVV", "fertig")
    reply = chat.say("/result risks")
    assert "1. Datenschutz (Legal): 3 × 5 = 15, high → mitigation: AVV" in reply.text
