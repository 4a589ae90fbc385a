"""End to end over the bundled knowledge base: ingest (session fixture), ask, check answer and sources."""

import re

import pytest

from bot.app.services import build_core
from bot.core.messages import Incoming
from tests.conftest import both_databases


def digits(text: str) -> str:
    return re.sub(r"(?<=\d)[.,](?=\d{3}\b)", "", text)


def test_german_budget_question_is_answered_in_german_with_a_cited_german_source(service):
    answer = service.ask("Wie viel Budget brauchen wir pro Person für KI-Schulungen?")
    assert answer.answered and answer.mode == "extractive" and answer.language == "de"
    assert "2000" in digits(answer.answer) and "5000" in digits(answer.answer)
    assert "[1]" in answer.answer
    top = answer.sources[0]
    assert top.source.startswith("de/") and "2000" in digits(top.text)
    assert "Person" in top.text or "Person" in top.section


def test_english_question_is_answered_in_english_from_the_english_guide(service):
    answer = service.ask("How long does the complete AI roadmap take?")
    assert answer.answered and answer.language == "en"
    assert "12" in answer.answer and "18" in answer.answer
    assert all(s.source.startswith("en/") for s in answer.sources)


@pytest.mark.parametrize(
    "question",
    [
        "Wie wird das Wetter morgen in Hamburg?",
        "Wer hat gestern das Spiel Bayern gegen Dortmund gewonnen?",
        "Wie viele Urlaubstage habe ich noch?",
        "Who won the football match last night?",
        "Wer wird Meister?",  # "Meister" stems like "meist" (mostly): a word match is required
        "What is our company's parental leave policy?",
    ],
)
def test_off_topic_questions_are_refused_with_a_hint(service, question):
    answer = service.ask(question)
    assert not answer.answered
    assert "Wissensbasis" in answer.answer or "knowledge base" in answer.answer
    assert "90" in answer.answer  # the hint names what Lotse can help with (the 90-day plan …)


def test_sources_are_at_most_five_best_first_with_all_fields(service):
    answer = service.ask("Welche Tools eignen sich für die Datenqualitätsanalyse?")
    data = answer.to_json()
    assert set(data) == {"question", "answered", "answer", "language", "mode", "sources"}
    assert 1 <= len(data["sources"]) <= 5
    scores = [s["score"] for s in data["sources"]]
    assert scores[0] == max(scores)
    assert set(data["sources"][0]) == {"title", "source", "section", "text", "score", "guide", "used"}
    assert data["sources"][0]["used"] is True and data["sources"][0]["guide"]  # quoted, and the guide's section named
    assert any("OpenRefine" in s["text"] for s in data["sources"][:3])


def test_week_of_the_plan_is_found_by_its_number(service):
    answer = service.ask("Was passiert in Woche 3 des 90-Tage-Plans?")
    assert "Infrastruktur" in answer.answer
    answer = service.ask("What happens in week 11?")
    assert "ROI" in answer.answer


@pytest.mark.parametrize(
    ("first", "follow_up", "expected"),
    [
        ("Wie viel Budget brauchen wir pro Person für KI-Schulungen?", "Und pro Monat?", "pro Monat"),
        ("Wie hoch sind die laufenden Kosten eines KI-Systems?", "Und im ersten Jahr insgesamt?", "150000"),
        ("How much training budget per person?", "And per month?", "per month"),
        ("Was passiert in Woche 3?", "Und in Woche 4?", "Team"),
    ],
)
@both_databases  # the conversation so far is read back from the database
def test_follow_up_question_uses_the_conversation(database_service, first, follow_up, expected):
    core = build_core(database_service.settings, database_service)
    conversation = f"follow-up-{first[:10]}"
    assert core.handle(Incoming(first, user="u1", conversation=conversation)).answered
    follow = core.handle(Incoming(follow_up, user="u1", conversation=conversation))
    assert follow.answered
    assert expected in digits(follow.text)


def test_reply_cites_only_passages_the_answer_refers_to(kb_settings, service):
    reply = build_core(kb_settings, service).handle(Incoming("Was ist ein Quick Win?", user="u2"))
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", reply.text)}
    assert numbers and {c.number for c in reply.citations} == numbers


def test_empty_and_oversized_questions_get_a_clear_message(service):
    assert "Frage" in service.ask("   ").answer
    long = service.ask("Budget " * 600)
    assert not long.answered and "zu lang" in long.answer


def test_an_answer_suggests_questions_that_lead_on_not_rewordings(service):
    """Up to three questions other sections answer: none the one asked in other words (by meaning or by
    most of its words), none twice, none from the cited sections."""
    asked = "Wie viel Budget brauchen wir pro Person für KI-Schulungen?"
    answer = service.ask(asked)
    assert 1 <= len(answer.follow_ups) <= 3 and len(set(answer.follow_ups)) == len(answer.follow_ups)
    assert "Budget pro Kopf für KI-Schulungen?" not in answer.follow_ups  # the same question, shorter
    cited = {(p.source, p.section) for n, p in enumerate(answer.sources, 1) if answer.used(n)}
    for follow_up in answer.follow_ups:
        again = service.ask(follow_up)
        assert again.answered and not {(p.source, p.section) for p in again.sources[:1]} <= cited, follow_up
    assert service.ask("Wer ist bei uns der Betriebsrat?").follow_ups == []  # a refusal suggests nothing
    # a section restating the same part of the guide asks the same in other words: no suggestion from it
    typed = "hey, wir muessen unsere leute in sachen ki fit machen, mit welchen kosten pro kopf muss ich da rechnen?"
    assert "Wie viel Geld sollen wir pro Person für Trainings einplanen?" not in service.ask(typed).follow_ups
