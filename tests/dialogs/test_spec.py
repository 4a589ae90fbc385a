"""Assessment files: a broken one stops Lotse at start-up with the file, the field and the problem;
a seventh assessment is one more YAML file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.dialogs import AssessmentSpecError, load_catalog
from tests.conftest import both_databases

from .conftest import ASSESSMENTS, Chat, make_engine

VALID = """
id: budget_check
title: {de: Budget-Check, en: Budget check}
summary: {de: Drei Fragen zum Budget, en: Three questions on the budget}
steps:
  - id: staff
    type: number
    integer: true
    min: 1
    max: 250
    text:
      de: Wie viele Mitarbeitende hat das Unternehmen?
      en: How many employees does the company have?
  - id: budget
    type: number
    min: 0
    text:
      de: Welches Budget ist für das erste Jahr eingeplant (in €)?
      en: What is the first-year budget (in €)?
  - id: cloud_first
    type: choice
    text:
      de: Womit starten Sie?
      en: What do you start with?
    choices:
      - {value: cloud, label: {de: Cloud-Dienste, en: Cloud services}}
      - {value: onprem, label: {de: Eigene Server, en: Own servers}}
"""


def write(folder: Path, text: str, name: str = "broken.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("type: number\n    integer", "type: slider\n    integer"), "steps[0]: Input tag 'slider' found using 'type'"),
        (("en: How many employees does the company have?", "fr: Combien"), "steps[0].text.en: Field required"),
        (
            ("max: 250", "max: 250\n    when: {later: true}"),
            "broken.yaml: steps[0].when: 'later' is not an earlier step",
        ),
        (("id: budget\n", "id: staff\n"), "broken.yaml: steps: the id 'staff' is used twice"),
        (("title: {de: Budget-Check, en: Budget check}\n", ""), "title: Field required"),
        (("id: budget_check", "id: Budget Check"), "id: String should match pattern"),
        (("steps:", "scoring: magic\nsteps:"), "scoring: no scoring function 'magic'"),
        (("      - {value: onprem", "      - {value: cloud"), "steps[2]: choice values must be unique"),
        (("summary:", "summary: [unclosed\nx:"), "not valid YAML"),
    ],
)
def test_a_broken_file_names_file_field_and_problem(tmp_path, change, expected):
    path = write(tmp_path, VALID.replace(*change))
    with pytest.raises(AssessmentSpecError) as error:
        load_catalog(tmp_path)
    assert str(error.value).startswith(f"{path}: ")
    assert expected in str(error.value), str(error.value)


def test_a_scorer_whose_texts_are_missing_is_refused(tmp_path):
    text = (ASSESSMENTS / "systems.yaml").read_text(encoding="utf-8").replace("  closest:", "  closest_renamed:")
    write(tmp_path, text, "systems.yaml")
    with pytest.raises(AssessmentSpecError, match=r"systems.yaml: texts: missing closest \(the scoring function"):
        load_catalog(tmp_path)


def test_the_project_assessments_load_in_the_guides_order():
    ids = [spec.id for spec in load_catalog(ASSESSMENTS)]
    assert ids == ["readiness", "systems", "data_quality", "skills", "use_cases", "risks"]


@both_databases
def test_a_seventh_assessment_is_one_yaml_file_and_runs_without_new_code(database_url, tmp_path):
    folder = tmp_path / "assessments"
    shutil.copytree(ASSESSMENTS, folder)
    write(folder, VALID, "budget_check.yaml")
    chat = Chat(make_engine(database_url, tmp_path / "charts", folder))
    assert "7. Budget-Check" in chat.say("/check").text
    reply = chat.script("/check budget", "120")
    assert reply.question.kind == "number"
    assert chat.say("abc").text.startswith("Bitte eine Zahl ab 0 eingeben.")
    assert chat.say("viel").text.startswith("Bitte eine Zahl ab 0 eingeben.")
    reply = chat.script("1,5 Mio. €", "zurück", "80.000 €")
    assert reply.question.kind == "choice" and [c.label for c in reply.question.choices] == [
        "Cloud-Dienste",
        "Eigene Server",
    ]
    reply = chat.say("1")
    assert "Fertig: Budget-Check" in reply.text
    [result] = chat.engine.results.store.all("budget_check")
    assert result.answers == '{"staff": 120, "budget": 80000.0, "cloud_first": "cloud"}'


TOOLS = """
id: tools
title: {de: Werkzeuge, en: Tools}
summary: {de: Werkzeuge, en: Tools}
steps:
  - id: has_cloud
    type: yesno
    text: {de: Cloud, en: Cloud}
  - id: tools
    type: repeat
    item: {de: Werkzeug, en: Tool}
    name_prompt: {de: Weiteres Werkzeug, en: Another tool}
    items:
      - {id: crm, label: {de: CRM, en: CRM}, attributes: {used: true, rating: 3}}
      - {id: erp, label: {de: ERP, en: ERP}}
    steps:
      - id: used
        type: yesno
        text: {de: "{item} genutzt", en: "{item} used"}
      - id: rating
        type: rating
        when: {used: true}
        text: {de: "{item} Note", en: "{item} rating"}
      - id: cloud_plan
        type: text
        when: {has_cloud: true}
        text: {de: "{item} in die Cloud", en: "{item} to the cloud"}
"""


@both_databases
def test_a_block_may_depend_on_top_level_answers_and_fully_preset_items_are_kept(database_url, tmp_path):
    write(tmp_path / "assessments", TOOLS, "tools.yaml")
    chat = Chat(make_engine(database_url, tmp_path / "charts", tmp_path / "assessments"))
    reply = chat.script("/check tools", "nein")  # no cloud: the cloud_plan questions are not asked
    assert reply.question.progress == "Frage 2 von 2 · Werkzeug 2: ERP" and reply.question.step == "used"  # CRM: preset
    reply = chat.script("ja", "4", "fertig")
    [result] = chat.engine.results.store.all("tools")
    answers = json.loads(result.answers)
    assert answers["tools"] == [
        {"name": "CRM", "id": "crm", "used": True, "rating": 3},
        {"name": "ERP", "id": "erp", "used": True, "rating": 4},
    ]
