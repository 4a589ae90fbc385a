"""The audit log records who changed plans, pilots and roles and who exported or erased data — through the
real core, in the transaction of the change, naming fields and counts but never values or message text;
a refused change leaves no entry, and `/audit` shows the entries to admins."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime

import pytest

from bot.answering import AnswerService
from bot.app.services import build_core
from bot.pilots.store import Kpi
from bot.privacy.requests import purge
from bot.settings import SlackSettings
from bot.storage.audit import AuditLog
from bot.storage.models import utcnow
from ingest.index import KnowledgeIndex
from tests.conftest import both_databases
from tests.register.conftest import Person, audit_rows, make_core, make_settings

ADMIN = "slack:T1:UADMIN"


@pytest.fixture
def core(kb_settings, kb_index, database_url, tmp_path):
    """A core with its own database (Slack admin UADMIN, console users are employees)."""
    lotse = make_core(kb_settings, kb_index, tmp_path / "data", database_url)
    yield lotse
    lotse.answers.index.db.dispose()


def actions(core, prefix: str) -> list[tuple[str, str, str, dict]]:
    return [
        (r.actor, r.action, r.target, json.loads(r.detail or "{}"))
        for r in audit_rows(core)
        if r.action.startswith(prefix)
    ]


@both_databases
def test_plan_start_pause_resume_move_and_stop_are_each_one_entry(core):
    admin, employee = Person(core, "UADMIN"), Person(core, "UANNA")
    assert not employee.say("/plan start 2026-11-30").answered  # refused: nothing recorded
    admin.say("/plan start 2026-11-30 mo 09:00 Europe/Berlin BY")
    admin.say("/plan pause")
    admin.say("/plan fortsetzen")
    admin.say("/plan verschieben 2026-12-07")
    admin.say("/plan stopp")  # asked first: nothing logged
    admin.say("/plan stopp ja")
    logged = actions(core, "plan.")
    assert [(who, what) for who, what, _, _ in logged] == [
        (ADMIN, "plan.start"),
        (ADMIN, "plan.change"),
        (ADMIN, "plan.change"),
        (ADMIN, "plan.change"),
        (ADMIN, "plan.stop"),
    ]
    assert {target for _, _, target, _ in logged} == {"slack:T1"}
    start = logged[0][3]
    assert (start["start"], start["weekday"], start["at"], start["tz"], start["targets"]) == (
        "2026-11-30",
        0,
        "09:00",
        "Europe/Berlin",
        1,
    )
    assert [d for _, _, _, d in logged[1:]] == [
        {"plan": start["plan"], "status": "paused"},
        {"plan": start["plan"], "status": "active"},
        {"plan": start["plan"], "start": "2026-12-07"},
        {"plan": start["plan"], "status": "stopped"},
    ]
    shown = admin.say("/audit plan").text  # what changed, in the reader's words
    assert "(pausiert)" in shown and "(fortgesetzt)" in shown and "(Start verschoben auf 2026-12-07)" in shown


@both_databases
def test_pilot_changes_name_the_field_and_refused_values_leave_no_entry(core):
    admin = Person(core, "UADMIN")
    pilots = core.services.pilot_store
    pilots.create(
        "slack:T1",
        "Dokumentensuche",
        ADMIN,
        start=date(2026, 9, 1),
        end=date(2026, 12, 31),
        users=12,
        kpis=[Kpi("Suchzeit", "min", "lower", 15, 5)],
    )
    admin.say("/pilot setze Dokumentensuche monatlich 700")
    admin.say("/pilot setze Dokumentensuche kpi 1 ziel 6")
    admin.say("/pilot setze Dokumentensuche ende 1.8.2026")  # before the start: refused
    admin.say("/pilot setze Dokumentensuche kpi 1 ziel 20")  # the wrong side of the baseline: refused
    admin.say("/pilot setze Dokumentensuche name Wissenssuche")
    assert "ja" in admin.say("/pilot löschen Wissenssuche").text  # asking deletes nothing
    admin.say("/pilot löschen Wissenssuche ja")
    logged = actions(core, "pilot.")
    assert [(who, what, target) for who, what, target, _ in logged] == [
        (ADMIN, "pilot.create", "Dokumentensuche"),
        (ADMIN, "pilot.update", "Dokumentensuche"),
        (ADMIN, "pilot.update", "Dokumentensuche"),
        (ADMIN, "pilot.update", "Dokumentensuche"),
        (ADMIN, "pilot.delete", "Wissenssuche"),
    ]
    pilot = logged[0][3]["pilot"]
    assert [d for _, _, _, d in logged] == [
        {"pilot": pilot, "kpis": 1},
        {"pilot": pilot, "field": "monthly_cost", "valid_from": utcnow().date().replace(day=1).isoformat()},
        {"pilot": pilot, "field": "target", "kpi": "Suchzeit"},
        {"pilot": pilot, "field": "name"},
        {"pilot": pilot, "feedback": 0},
    ]
    assert "700" not in json.dumps([d for *_, d in logged])  # fields, never values


@both_databases
def test_exports_erasure_and_the_retention_purge_are_recorded_with_counts(core):
    admin, anna = Person(core, "UADMIN"), Person(core, "UANNA")
    anna.say("Wie viel Budget sollten wir für KI-Schulungen einplanen?")
    assert anna.say("meine Daten").files
    assert admin.say("/pilot export csv").files
    anna.say("lösche meine Daten")
    assert anna.say("ja").text.startswith("🗑️")
    logged = actions(core, "data.")
    assert [(who, what, target) for who, what, target, _ in logged] == [
        ("slack:T1:UANNA", "data.export", "own data"),
        (ADMIN, "data.export", "pilot_feedback"),
        ("slack:T1:UANNA", "data.erase", "own data"),
    ]
    assert logged[1][3] == {"format": "csv", "scope": "slack:T1"}
    assert logged[2][3]["messages"] == 2 and logged[2][3]["profile_name"] == 0
    assert "Budget" not in json.dumps(logged)

    admin.say("Wer sollte im KI-Team mitarbeiten?")  # a conversation the retention period will remove

    assert purge(core.services.personal, core.settings, datetime(2099, 1, 1, tzinfo=UTC))["messages"] > 0
    [(who, what, target, counts)] = actions(core, "data.purge")
    assert (who, target) == ("system", "retention") and counts["messages"] > 0
    assert purge(core.services.personal, core.settings, datetime(2099, 1, 1, tzinfo=UTC))["messages"] == 0
    assert len(actions(core, "data.purge")) == 1  # a purge that removed nothing leaves no entry


@both_databases
def test_a_changed_role_configuration_is_recorded_once_at_the_next_start(kb_settings, kb_index, database_url, tmp_path):
    first = make_core(kb_settings, kb_index, tmp_path / "a", database_url)
    [(who, _, _, initial)] = actions(first, "roles.")
    assert who == "config" and initial["roles"]["slack:admin"] == ["UADMIN"]
    same = make_core(kb_settings, kb_index, tmp_path / "b", database_url)  # a restart or another replica
    assert len(actions(same, "roles.")) == 1

    settings = dataclasses.replace(
        make_settings(kb_settings, tmp_path / "c", database_url),
        slack=SlackSettings(admins=frozenset({"UNEW"}), champions=frozenset({"UCHAMP"})),
    )
    changed = build_core(settings, AnswerService(settings, KnowledgeIndex(settings, embedder=kb_index.embedder)))
    [_, (who, _, _, detail)] = actions(changed, "roles.")
    assert who == "config"
    assert detail["added"] == {"slack:admin": ["UNEW"], "slack:champion": ["UCHAMP"]}
    assert detail["removed"] == {"slack:admin": ["UADMIN"]}
    lines = Person(changed, "UNEW").say("/audit rollen").text.splitlines()
    assert lines[1].endswith(
        "· Konfiguration (beim Start übernommen) · Rollen geändert (slack:admin +UNEW −UADMIN; slack:champion +UCHAMP)"
    )
    for core in (first, same, changed):
        core.answers.index.db.dispose()


def test_the_audit_log_refuses_an_action_it_does_not_know(core):
    with pytest.raises(ValueError, match="bot.storage.audit.ACTIONS"):
        AuditLog(core.services.register_store.db).record(ADMIN, "plan.delete", "x")
    assert actions(core, "plan.") == []


def test_one_person_at_the_terminal_has_one_label_in_the_log():
    from bot.audit.view import actor_label

    terminal, command_line = actor_label("console:local:root", None, "de"), actor_label("cli:root", None, "de")
    assert terminal == command_line == "root (Kommandozeile)"
    assert actor_label("cli:root", None, "en") == "root (command line)"
