"""The engine's behaviour: navigation, invalid input, persistence across restarts, results."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil

import pytest

from bot.dialogs.flow import Entry
from bot.storage.dialogs import StaleDialog
from tests.conftest import both_databases

from .conftest import ASSESSMENTS, Chat, make_engine


def question_of(reply) -> str:
    return reply.question.step if reply.question else ""


def test_back_goes_to_the_previous_question_and_replaces_its_answer(chat, engine):
    chat.script("/check readiness", "nein", "ja")
    reply = chat.say("zurück")
    assert question_of(reply) == "cloud" and reply.question.progress == "Frage 2 von 4"
    reply = chat.say("zurück")
    assert question_of(reply) == "databases_api"
    reply = chat.say("zurück")
    assert "Das ist schon die erste Frage." in reply.text and question_of(reply) == "databases_api"
    reply = chat.script("ja", "ja", "ja", "ja")
    assert "4 von 4" in reply.text


def test_back_from_an_item_question_returns_to_the_name_and_drops_the_item(chat, engine):
    chat.script("/check systems", "CRM")
    reply = chat.say("zurück")
    assert reply.question.kind == "name" and reply.question.progress == "System 1"
    reply = chat.script("ERP", "4", "-", "fertig")
    assert "ERP (4)" in reply.text and "CRM" not in reply.text


def test_skip_works_only_on_optional_questions(chat):
    chat.say("/check systems")
    chat.say("CRM")
    reply = chat.say("überspringen")
    assert "nicht optional" in reply.text and question_of(reply) == "rating" and reply.answered is False
    reply = chat.say("5")
    assert question_of(reply) == "note" and reply.question.optional
    reply = chat.say("überspringen")
    assert reply.question.kind == "name"


def test_invalid_input_reprompts_with_a_hint_and_keeps_the_dialog(chat, engine):
    chat.script("/check systems", "CRM")
    reply = chat.say("7")
    assert reply.text.startswith("Bitte eine Zahl von 1 bis 5 eingeben.")
    assert question_of(reply) == "rating" and reply.answered is False
    assert chat.say("gut").text.startswith("Bitte eine Zahl von 1 bis 5 eingeben.")
    assert question_of(chat.say("4")) == "note"


@pytest.mark.parametrize(
    ("script", "hint"),
    [
        (["/check readiness", "vielleicht"], "Bitte mit „ja“ oder „nein“ antworten"),
        (["/check risks", "Ausfall", "7"], "Bitte eine der Antworten wählen: eine Zahl von 1 bis 3"),
        (
            ["/check risks", "Ausfall", "1", "3", "3", "x" * 401],
            "Die Antwort ist mit 401 Zeichen zu lang (höchstens 400)",
        ),
        (["/check systems", "fertig"], "Bitte mindestens 1 nennen (System)."),
        (["/check systems", "n" * 121], "Bitte einen Namen mit höchstens 120 Zeichen eingeben"),
    ],
)
def test_each_kind_of_invalid_input_names_what_to_enter(chat, script, hint):
    reply = chat.script(*script)
    assert reply.text.startswith(hint), reply.text
    assert reply.question is not None


@both_databases
def test_cancel_stores_no_result_and_frees_the_conversation(chat, engine):
    chat.script("/check readiness", "ja", "ja")
    reply = chat.say("abbrechen")
    assert "Abgebrochen: KI-Bereitschaft der Infrastruktur" in reply.text
    assert chat.say("ja") is None  # no dialog takes the message any more: it goes to the knowledge base
    assert engine.results.store.all() == []


@both_databases
def test_pause_lets_other_messages_through_and_resume_continues_at_the_same_question(chat):
    chat.script("/check readiness", "ja", "nein")
    assert "Pausiert" in chat.say("pause").text
    assert chat.say("Was kostet KI im ersten Jahr?") is None
    reply = chat.say("/weiter")
    assert "bisher gespeicherte Antworten: 2." in reply.text
    assert question_of(reply) == "web_services"
    assert "2 von 4" in chat.script("nein", "ja").text


@both_databases
def test_starting_another_assessment_pauses_the_first_and_check_lists_it(chat):
    chat.script("/check readiness", "ja")
    chat.script("/check systems", "CRM")
    listing = chat.say("/check").text
    assert "Angefangen: KI-Bereitschaft der Infrastruktur – gespeicherte Antworten: 1; /weiter setzt fort." in listing
    assert "Angefangen: Systemlandschaft" in listing
    reply = chat.say("/check readiness")
    assert question_of(reply) == "cloud"


@both_databases
def test_check_of_the_running_assessment_repeats_the_question_and_neu_starts_over(chat):
    chat.script("/check readiness", "ja")
    assert question_of(chat.say("/check readiness")) == "cloud"
    reply = chat.say("/check readiness neu")
    assert question_of(reply) == "databases_api" and reply.question.can_go_back is False


def test_unknown_assessment_and_nothing_to_resume_say_what_to_do(chat):
    assert "Eine Bewertung „Budget“ kenne ich nicht. /check zeigt alle" in chat.say("/check Budget").text
    assert "Es gibt keine angefangene Bewertung" in chat.say("/weiter").text


@both_databases
def test_a_restart_in_the_middle_resumes_at_the_same_question_with_all_answers(database_url, tmp_path):
    first = Chat(make_engine(database_url, tmp_path / "charts"))
    first.script("/check systems", "CRM", "4", "Schnittstelle vorhanden", "ERP")
    first.engine.store.db.dispose()  # the process ends

    second = Chat(make_engine(database_url, tmp_path / "charts"))
    reply = second.say("/weiter")
    assert "bisher gespeicherte Antworten: 4." in reply.text
    assert reply.question.progress == "System 2: ERP" and question_of(reply) == "rating"
    reply = second.script("5", "-", "fertig")
    assert "ERP (5), CRM (4)" in reply.text
    [result] = second.engine.results.store.all("systems")
    assert json.loads(result.answers)["systems"][0] == {"name": "CRM", "rating": 4, "note": "Schnittstelle vorhanden"}


@both_databases
def test_state_is_stored_before_the_reply_is_returned(chat, engine):
    chat.script("/check readiness", "ja", "nein")
    row = engine.store.active("test:T1:anna:default")
    assert [Entry.from_json(e).value for e in json.loads(row.trail)] == [True, False]
    assert row.revision == 2


@both_databases
def test_a_stale_writer_is_refused_instead_of_overwriting_a_newer_step(chat, engine):
    chat.say("/check readiness")
    stale = engine.store.active("test:T1:anna:default")
    chat.say("ja")
    with pytest.raises(StaleDialog):
        engine.store.save(stale, [])
    assert question_of(chat.say("nein")) == "web_services"


def test_every_assessment_draws_a_non_empty_png(chat, engine):
    runs = {
        "readiness": ["ja", "nein", "ja", "ja"],
        "systems": ["CRM", "4", "-", "fertig"],
        "data_quality": ["ja", "4", "4", "4", "nein", "nein", "nein", "nein", "nein", "nein", "fertig"],
        "skills": ["Anna", "3", "3", "3", "3", "3", "3", "ja", "fertig"],
        "use_cases": ["Suche", "4", "5", "2", "fertig"],
        "risks": ["Ausfall", "1", "2", "4", "Backup", "fertig"],
    }
    for assessment, answers in runs.items():
        reply = chat.script(f"/check {assessment}", *answers)
        [image] = reply.images
        with open(image.path, "rb") as png:
            content = png.read()
        assert content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) > 5000, assessment
        assert image.alt.startswith("Diagramm: ")


@both_databases
def test_the_second_run_shows_the_change_since_the_first(chat):
    first = chat.script("/check readiness", "nein", "nein", "ja", "ja")
    assert "Erste Runde" in first.text
    second = chat.script("/check readiness", "ja", "nein", "ja", "ja")
    assert "Veränderung seit" in second.text
    assert "▲ Erfüllte Prüfpunkte: 2 → 3 (besser)" in second.text
    third = chat.script("/check readiness", "ja", "nein", "ja", "ja")
    assert "Keine Veränderung der Kennzahlen seit" in third.text


@both_databases
def test_results_are_kept_per_team_scope(engine):
    Chat(engine, workspace="T1").script("/check readiness", "ja", "ja", "ja", "ja")
    other = Chat(engine, workspace="T2")
    assert "gibt es noch kein Ergebnis" in other.say("/ergebnis readiness").text
    assert "4 von 4" in Chat(engine, user="ben", workspace="T1").say("/ergebnis readiness").text


@both_databases
def test_export_as_json_and_csv(chat, engine):
    chat.script("/check systems", "CRM", "5", "-", "DMS", "2", "-", "fertig")
    records = json.loads(engine.results.export("json"))
    assert records[0]["assessment"] == "systems" and records[0]["author"] == "anna"
    assert records[0]["answers"]["systems"][1] == {"name": "DMS", "rating": 2, "note": None}
    assert records[0]["table"][0] == {"system": "CRM", "rating": 5, "candidate": "ja", "note": ""}
    rows = list(csv.DictReader(io.StringIO(engine.results.export("csv"))))
    assert {(r["row"], r["field"], r["value"]) for r in rows} >= {("1", "system", "CRM"), ("2", "rating", "2")}
    assert all(r["scope"] == "test:T1" and r["assessment"] == "systems" for r in rows)
    # German time with its offset, as the pilot and register exports (the newcomer found naive UTC here)
    assert re.search(r"T\d\d:\d\d:\d\d(\.\d+)?\+0[12]:00$", records[0]["created_at"]), records[0]["created_at"]
    assert all(r["created_at"] == records[0]["created_at"] for r in rows)


@both_databases
def test_a_question_added_to_the_file_mid_run_is_asked_and_earlier_answers_are_kept(database_url, tmp_path):
    folder = tmp_path / "assessments"
    shutil.copytree(ASSESSMENTS, folder)
    chat = Chat(make_engine(database_url, tmp_path / "charts", folder))
    chat.script("/check systems", "CRM", "4", "-", "ERP")
    path = folder / "systems.yaml"
    text = path.read_text(encoding="utf-8").replace("version: 1", "version: 2")
    text = text.replace(
        "steps:\n  - id: systems",
        "steps:\n  - id: owner\n    type: text\n    text: {de: Wer verantwortet die Liste, en: Who owns the list}\n"
        "  - id: systems",
    )
    path.write_text(text, encoding="utf-8")
    chat = Chat(make_engine(database_url, tmp_path / "charts", folder))  # restart with the new file
    reply = chat.say("5")
    assert reply.text.startswith("Hinweis: Diese Bewertung wurde geändert") and "(0 davon" in reply.text
    assert reply.question.step == "owner"
    reply = chat.say("Anna")
    assert reply.question.step == "rating" and reply.question.progress == "Frage 2 von 2 · System 2: ERP"
    reply = chat.script("5", "-", "fertig")
    assert "ERP (5), CRM (4)" in reply.text
    answers = json.loads(chat.engine.results.store.all("systems")[0].answers)
    assert answers["owner"] == "Anna" and len(answers["systems"]) == 2


@both_databases
def test_answers_to_a_removed_question_are_dropped_and_a_removed_assessment_ends_the_run(database_url, tmp_path):
    folder = tmp_path / "assessments"
    shutil.copytree(ASSESSMENTS, folder)
    chat = Chat(make_engine(database_url, tmp_path / "charts", folder))
    chat.script("/check systems", "CRM", "4", "Notiz")
    path = folder / "systems.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("      - id: note")] + text[text.index("texts:") :], encoding="utf-8")
    chat = Chat(make_engine(database_url, tmp_path / "charts", folder))
    reply = chat.say("/weiter")
    assert "(1 davon gehörten zu entfallenen Fragen)" in reply.text and reply.question.kind == "name"
    chat.say("/check readiness")
    (folder / "readiness.yaml").unlink()
    chat = Chat(make_engine(database_url, tmp_path / "charts", folder))
    reply = chat.say("ja")
    assert "Die Bewertung „readiness“ gibt es nicht mehr" in reply.text
    assert chat.say("ja") is None


@both_databases
def test_a_dialog_paused_by_another_process_is_not_overwritten(chat, engine):
    chat.say("/check readiness")
    seen_by_a = engine.store.active("test:T1:anna:default")
    chat.say("/check systems")  # process B: the user started something else meanwhile
    with pytest.raises(StaleDialog):
        engine.store.save(seen_by_a, [])
    assert chat.say("CRM").question.step == "rating"  # the message goes to the dialog now active


@pytest.mark.parametrize("text", ["/check ²", "/ergebnis ²", "/check 99999999999999999999"])
def test_odd_digits_in_commands_get_a_message_not_a_crash(chat, text):
    assert "kenne ich nicht" in chat.say(text).text


def test_odd_digits_and_huge_numbers_as_answers_are_refused(chat):
    chat.script("/check risks", "Ausfall")
    assert chat.say("²").text.startswith("Bitte eine der Antworten wählen")
    chat.script("1", "3")
    assert chat.say("9" * 400).text.startswith("Bitte eine Zahl von 1 bis 5 eingeben.")


def test_questions_about_contracts_or_storage_are_not_mistaken_for_result_questions(engine):
    results = engine.results
    assert results.match("Welche unserer Systeme sind KI-bereit?").id == "systems"
    assert results.match("Wie steht es um unsere Datenqualität?").id == "data_quality"
    assert results.match("Wer beantwortet Fragen zu unserem Vertrag?") is None  # "rag" inside a word
    assert results.match("Which of our systems do we already use?") is None  # "ready" inside "already"
    assert results.match("Welche Systeme eignen sich?") is None  # not about "our" results


@both_databases
def test_scoring_does_not_write_derived_figures_into_the_stored_answers(chat, engine):
    chat.script("/check use cases", "Suche", "4", "5", "2", "fertig")
    [result] = engine.results.store.all("use_cases")
    assert json.loads(result.answers) == {"use_cases": [{"name": "Suche", "feasibility": 4, "value": 5, "effort": 2}]}


@both_databases
def test_buttons_of_another_dialog_answer_nothing_in_the_running_one(chat, engine):
    """Readiness was paused by starting systems: its old buttons (answers and controls) must not act on
    systems, although they were asked at the same position (no answers yet)."""
    readiness = chat.say("/check readiness")
    old_yes = next(c.value for c in readiness.question.choices if c.value.endswith(":yes"))
    old_cancel = next(c.value for c in readiness.question.controls("de") if c.value.endswith(":cancel"))
    systems = chat.say("/check systems")
    assert systems.question.kind == "name" and systems.question.tag != readiness.question.tag
    for value in (old_yes, old_cancel):
        reply = chat.say("", value=value)
        assert not reply.answered and "früheren Frage" in reply.text and reply.question.kind == "name"
    assert chat.say("CRM").question.progress.startswith("System 1")  # systems still runs, untouched


@both_databases
def test_a_preset_added_to_the_file_mid_run_does_not_take_over_another_items_answers(database_url, tmp_path):
    folder = tmp_path / "assessments"
    shutil.copytree(ASSESSMENTS, folder)
    chat = Chat(make_engine(database_url, tmp_path / "charts", folder))
    chat.script("/check datenqualität", "ja", "5", "4", "4", "nein", "nein", "ja")  # CRM done, ERP in use
    path = folder / "data_quality.yaml"
    text = path.read_text(encoding="utf-8").replace("version: 1", "version: 2")
    text = text.replace(
        "    items:\n      - id: crm",
        "    items:\n      - id: wiki\n        label: {de: Wiki, en: Wiki}\n        attributes: {kind: archive}\n"
        "      - id: crm",
    )
    path.write_text(text, encoding="utf-8")
    chat = Chat(make_engine(database_url, tmp_path / "charts", folder))
    reply = chat.say("/weiter")
    assert "(0 davon gehörten zu entfallenen Fragen)" in reply.text
    assert reply.question.step == "in_use" and reply.question.progress.endswith("Wiki")  # the new preset is asked
    reply = chat.script(
        "nein",  # wiki not used
        "2",
        "3",
        "3",
        "ja",
        "ja",  # ERP, whose "in use" was kept
        "nein",
        "nein",
        "nein",  # archive, e-mail, project management not used
        "fertig",
    )
    assert "CRM-System: 4,3 – gut" in reply.text and "ERP-Datenbank: 2,7 – schwach" in reply.text


def test_answers_stored_before_items_had_keys_still_fit(engine):
    from bot.dialogs.flow import fits, step_path

    spec = engine.catalog.get("systems")
    assert step_path(spec, (0, 1, 0)) == "systems#1/rating"
    legacy = [Entry((0, 0, None), "CRM", "systems/"), Entry((0, 0, 0), 4, "systems/rating")]
    assert fits(spec, legacy)
    assert not fits(spec, [Entry((0, 0, 0), 4, "systems/note")])
