"""The action catalog (config/actions.yaml) is checked at start; a broken one names what is wrong."""

from __future__ import annotations

import pytest
import yaml

from bot.actions.catalog import REQUIRED, ActionSpecError, load_actions
from bot.settings import PROJECT_ROOT

CATALOG = PROJECT_ROOT / "config" / "actions.yaml"


def test_the_shipped_catalog_holds_the_contracts_actions_with_enough_examples():
    actions = {a.id: a for a in load_actions(CATALOG)}
    assert set(REQUIRED) <= set(actions)
    for action in actions.values():
        assert len(action.examples["de"]) >= 15 and len(action.examples["en"]) >= 10, action.id
    assert actions["plan.start"].confirms and actions["plan.start"].render({"start": "2027-03-08", "state": "SN"}) == (
        "/plan start 2027-03-08 SN"
    )
    assert actions["privacy.erase"].effect == "destructive" and not actions["assessment.start"].confirms


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a[0].update(effect="maybe"), "effect 'maybe' is not one of"),
        (lambda a: a[0].update(command="/check {which}"), "placeholders"),
        (lambda a: a[0]["examples"].update(de=["nur eins"]), "at least 15 de examples"),
        (lambda a: a.pop(0), "lacks the actions assessment.start"),
        (lambda a: a.append(dict(a[1])), "appear twice"),
        (lambda a: a[0].update(starter={"de": "x" * 33, "en": "ok"}), r"starter \(de\) must be 1 to 32"),
        (lambda a: a[0].update(answers_questions=True), "only a read may answer questions"),
    ],
)
def test_a_broken_catalog_is_refused_with_its_reason(tmp_path, change, message):
    data = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    change(data["actions"])
    path = tmp_path / "actions.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ActionSpecError, match=message):
        load_actions(path)


def test_lotse_refuses_to_start_with_a_broken_catalog_and_says_why(tmp_path, monkeypatch, capsys):
    from bot.app.cli import main

    broken = tmp_path / "actions.yaml"
    broken.write_text("actions: [{id: help}]\n", encoding="utf-8")
    monkeypatch.setenv("LOTSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOTSE_ACTIONS_FILE", str(broken))
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("hallo\n"))
    assert main(["chat", "--json"]) == 2
    error = capsys.readouterr().err
    assert "action catalog error" in error and "actions.yaml: action help: needs a `command`" in error
