"""Questions as people type them, over the bundled knowledge base (issue 19): no umlauts and typos,
synonyms, two questions in one, the asker's own numbers, follow-ups, near misses, one figure out of a
section. The measured figures are in bench/README.md; these are the behaviours behind them."""

import re

import pytest

from bot.app.lotse import Lotse
from bot.app.services import build_core
from bot.core.messages import Incoming
from tests.conftest import llm_service
from tests.fakes.openai_server import FakeOpenAI


def digits(text: str) -> str:
    return re.sub(r"(?<=\d)[.,](?=\d{3}\b)", "", text)


@pytest.mark.parametrize(
    ("question", "facts"),
    [
        ("wieviel schulungsbudjet pro kopf muessen wir einplanen", ["2000", "5000"]),  # typo, no umlaut, "pro Kopf"
        ("was kostet uns ein produktives ki system im monat", ["2000", "5000"]),
        ("Was fehlt noch, um unseren PoC in den Produktivbetrieb zu bringen?", ["backup", "monitoring"]),
        ("how much should we set aside for upskilling per head?", ["2,000", "5,000"]),
        ("KPIs?", ["40"]),  # terse
    ],
)
def test_questions_typed_the_way_people_type_are_answered_from_the_right_section(service, question, facts):
    answer = service.ask(question)
    assert answer.answered, answer.answer
    for fact in facts:
        assert fact.lower() in digits(answer.answer).lower() or fact.lower() in answer.answer.lower(), answer.answer


def test_two_questions_in_one_message_are_both_answered_each_with_its_citation(service):
    answer = service.ask("Wie lange dauert die ganze Roadmap, und was kostet uns das erste Jahr?")
    assert answer.answered
    text = digits(answer.answer)
    assert "12" in text and "18" in text and "50000" in text and "150000" in text
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert cited == {1, 2}  # numbered in the order they are cited
    assert {answer.sources[n - 1].section for n in cited} and len({answer.sources[n - 1].chunk_id for n in cited}) >= 2


def test_a_colloquial_question_of_only_known_words_is_answered_with_the_askers_figure(service):
    answer = service.ask("hey, was kostet es uns ungefaehr wenn wir 6 kollegen in ki fit machen lassen?")
    assert answer.answered and "12.000 bis 30.000 Euro" in answer.answer


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        ("Was kostet die KI-Einführung im ersten Jahr?", "50.000"),
        ("Mit welchen laufenden Kosten pro KI-System müssen wir rechnen?", "2.000"),
        ("How much budget do we need for the first year?", "50,000"),
    ],
)
def test_an_answer_states_a_figure_once(service, question, figure):
    """Issue 24: "50.000 bis 150.000 Euro (50.000-150.000 Euro)" read as a stutter."""
    answer = service.ask(question)
    assert answer.answered and len(re.findall(rf"(?<![\d.,]){re.escape(figure)}", answer.answer)) == 1, answer.answer


def test_the_guides_figure_is_applied_to_the_askers_numbers(service):
    answer = service.ask("Wir wollen 12 Leute im Vertrieb schulen – womit müssen wir rechnen?")
    assert answer.answered
    assert "24.000" in answer.answer and "60.000" in answer.answer


def test_a_question_for_one_figure_gets_the_sentence_that_carries_it_not_the_whole_section(service):
    answer = service.ask(
        "Bei dem KPI-Beispiel mit der Dokumentensuche: auf wie viele Minuten soll die Suchzeit runter?"
    )
    assert answer.answered and "3" in answer.answer and "15" in answer.answer
    assert len(answer.answer.split()) <= 60, answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "Wann ist unsere nächste Datenschutz-Schulung?",
        "Wer ist bei uns eigentlich KI-System-Owner?",
        "Was kostet eine Microsoft-Copilot-Lizenz pro Nutzer?",
        "What are our company's firewall rules for ChatGPT?",
        "what percentage of AI projects fail in SMEs?",  # a market statistic: the guide quotes no surveys
    ],
)
def test_near_misses_are_refused_plainly_with_the_nearest_sections_as_unused_sources(service, question):
    answer = service.ask(question)
    assert not answer.answered, answer.answer
    assert answer.sources and not any(s["used"] for s in answer.to_json()["sources"])
    assert any(
        f"„{s.section.split(' > ')[-1]}“" in answer.answer or s.section.split(" > ")[-1] in answer.answer
        for s in answer.sources
    )


def test_a_market_statistic_is_refused_without_claiming_it_depends_on_our_company(service):
    answer = service.ask("Wie viel Prozent der Unternehmen nutzen schon KI?")
    assert not answer.answered and "eigenen Unternehmen" not in answer.answer, answer.answer


@pytest.mark.parametrize(
    "question", ["Welche Risikoklassen kennt der EU AI Act?", "Welche Pflichten hat ein Betreiber nach dem AI Act?"]
)
def test_the_law_the_guide_does_not_cover_is_refused_not_answered_off_topic(service, question):
    """Issue 24's newcomer: the AI Act's risk classes were answered with "prefer EU-based AI services" —
    every word of the question is one the guide uses, but it is far closer to a counter-example."""
    answer = service.ask(question)
    assert not answer.answered and answer.gap, answer.answer
    assert "eigenen Unternehmen" not in answer.answer and "own company" not in answer.answer


def test_plain_words_the_rankings_agree_on_are_answered_though_they_resemble_a_counter_example(service):
    answer = service.ask("Um wieviel Prozent könnte man die Bearbeitungszeit von Standardanfragen als Ziel senken?")
    assert answer.answered and "40" in answer.answer, answer.answer


def test_a_terse_question_every_ranking_agrees_on_is_answered(service):
    answer = service.ask("poc -> prod, was brauchen wir?")
    assert answer.answered and "monitoring" in answer.answer.lower(), answer.answer


def test_every_cited_source_names_the_guides_section_it_restates(service):
    answer = service.ask("Welche Quick Wins eignen sich für den Einstieg?")
    assert answer.answered
    used = [s for s in answer.to_json()["sources"] if s["used"]]
    assert used and all(s["guide"] for s in used)


@pytest.fixture
def core(kb_settings, service) -> Lotse:
    return build_core(kb_settings, service)


def ask_in_turn(core: Lotse, user: str, *messages: str):
    return [core.handle(Incoming(text=m, user=user)) for m in messages]


def test_und_danach_after_a_week_of_the_plan_gives_the_next_week(core):
    week3, week4 = ask_in_turn(core, "follow-weeks", "Was passiert in Woche 3?", "Und danach?")
    assert "Woche 3" in week3.citations[0].section
    assert "Woche 4" in week4.citations[0].section


def test_a_chain_of_follow_ups_keeps_the_topic_it_started_with(core):
    replies = ask_in_turn(
        core, "follow-phases", "Welche Tools nimmt man in Phase 1?", "und in Phase 2?", "und Phase 3?"
    )
    assert "OpenRefine" in replies[0].text or "Zabbix" in replies[0].text
    assert "Power Platform" in replies[1].text or "Textract" in replies[1].text
    assert "SageMaker" in replies[2].text or "Azure AI" in replies[2].text


def test_und_pro_monat_after_the_training_budget_gives_the_monthly_running_costs(core):
    _, monthly = ask_in_turn(
        core, "follow-budget", "Was sollten wir pro Person für KI-Schulungen einplanen?", "Und pro Monat?"
    )
    assert monthly.answered and re.search(r"Monat|monatlich", monthly.text)
    assert "System" in monthly.text


def test_a_follow_up_with_a_topic_of_its_own_is_answered_by_itself(core):
    _, risks = ask_in_turn(
        core, "follow-shift", "Which use cases should we pick for our first pilot?", "what about the risks?"
    )
    assert re.search(r"technical", risks.text, re.I) and re.search(r"legal", risks.text, re.I), risks.text
    _, _, running = ask_in_turn(
        core,
        "follow-costs",
        "Was kostet eine KI-Schulung pro Person?",
        "und für unser 8-köpfiges IT-Team?",
        "und was kommt an laufenden kosten pro system dazu?",
    )
    assert re.search(r"monat", running.text, re.I) and "System" in running.citations[0].section, running.text


def test_a_short_introduction_is_quoted_with_the_subsection_that_carries_the_answer(service):
    answer = service.ask("What's the difference between a PoC and something we can actually run in prod?")
    assert answer.answered
    assert "monitoring" in answer.answer.lower() and "backup" in answer.answer.lower(), answer.answer
    assert re.search(r"\[1\].*\[2\]", answer.answer, re.S)


def test_a_borderline_question_goes_to_the_llm_and_its_not_covered_is_honoured(kb_settings, kb_index, service):
    question = "Brauchen wir dafür neue Hardware?"  # offline: too far from any passage to quote one
    assert service._find(question, None, "de").decision.verdict == "borderline"
    assert not service.ask(question).answered
    with FakeOpenAI() as openai:
        llm = llm_service(kb_settings, kb_index, openai.base_url)
        openai.reply = (
            "Für den Einstieg sind Cloud-KI-Services meist besser geeignet, ohne hohe Infrastruktur-Investitionen [1]."
        )
        answered = llm.ask(question)
        assert answered.mode == "llm" and answered.answered and "Cloud" in answered.answer
        assert [r for r in openai.requests if r["path"].endswith("/chat/completions")], "the passages went to the LLM"
        openai.behaviour = "no_answer"
        refused = llm.ask(question)
        assert not refused.answered and refused.mode == "llm"


def test_the_llm_may_compute_with_the_askers_numbers(kb_settings, kb_index):
    with FakeOpenAI() as openai:
        openai.reply = "Bei 2.000 bis 5.000 Euro pro Person sind das für 12 Personen 24.000 bis 60.000 Euro [1]."
        answer = llm_service(kb_settings, kb_index, openai.base_url).ask("Wir wollen 12 Leute schulen, was kostet das?")
        assert (
            answer.mode == "llm" and answer.answered and "24.000 bis 60.000" in answer.answer
        )  # passes the figure check


def test_a_plainly_unrelated_question_never_reaches_the_llm(kb_settings, kb_index):
    with FakeOpenAI() as openai:
        answer = llm_service(kb_settings, kb_index, openai.base_url).ask("Wie wird das Wetter morgen in Hamburg?")
        assert not answer.answered
        assert not [r for r in openai.requests if r["path"].endswith("/chat/completions")]


def test_a_company_policy_ingested_beside_the_guide_answers_questions_about_us(tmp_path):
    from bot.answering import AnswerService
    from bot.settings import Settings
    from ingest.index import KnowledgeIndex
    from ingest.pipeline import ingest
    from tests.conftest import KNOWLEDGE

    policy = tmp_path / "company" / "ki-richtlinie.md"
    policy.parent.mkdir()
    policy.write_text(
        "# KI-Richtlinie der Muster Maschinenbau GmbH\n\n## Rollen und Freigaben\n\n"
        "KI-System-Owner für alle KI-Anwendungen ist Frau Dr. Petra Lang aus der IT-Leitung. Neue KI-Tools "
        "gibt der KI-Ausschuss frei, der jeden ersten Dienstag im Monat tagt.\n",
        encoding="utf-8",
    )
    settings = Settings(data_dir=tmp_path / "data", knowledge_dir=KNOWLEDGE)
    index = KnowledgeIndex(settings)
    ingest(index, [KNOWLEDGE, policy.parent], progress=False)
    service = AnswerService(settings, index)

    answer = service.ask("Wer ist bei uns eigentlich KI-System-Owner?")
    assert answer.answered and "Petra Lang" in answer.answer
    assert answer.sources[0].source == "ki-richtlinie.md" and not answer.sources[0].guide
    general = service.ask("Welche Rollen sollte man vor der KI-Einführung festlegen?")
    assert general.answered and general.sources[0].guide  # the guide still answers what the guide covers


def test_a_day_of_the_plan_finds_the_week_it_falls_in(service):
    answer = service.ask("Wir sind an Tag 45 des 90-Tage-Plans, was sollten wir gerade tun?")
    assert answer.answered and "Woche 7" in answer.sources[0].section
