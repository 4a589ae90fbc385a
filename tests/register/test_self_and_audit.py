"""Lotse registers itself on its first start — once, also when several replicas start at the same time —
with its model and provider from the settings and never its key; and `/audit` shows admins who changed
what, in Berlin time, while everyone else gets the admin-only reply."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime

from bot.dialogs.inputs import add_months
from bot.register.store import RegisterStore
from bot.settings import LLMSettings
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from tests.conftest import both_databases

from .conftest import ADMIN_ONLY, Person, audit_rows, entries, make_core

# -- self-registration -------------------------------------------------------------------------------


@both_databases
def test_lotse_registers_itself_once_however_many_cores_start(core, kb_settings, kb_index, database_url, tmp_path):
    [lotse] = entries(core).values()
    assert lotse.name == "Lotse" and lotse.scope == "company"
    assert (lotse.model, lotse.provider) == ("extraktiv (ohne LLM)", "lokal (kein externer Anbieter)")
    assert (lotse.risk_class, lotse.status, lotse.personal_data, lotse.owner) == (
        "limited",
        "production",
        True,
        "IT-Leitung",
    )
    assert lotse.next_review == add_months(date.today(), 12)
    assert "knowledge/" in lotse.data_sources and "Chat-Nachrichten" in lotse.data_sources
    assert "Roadmap" in lotse.purpose and "Pilot-Feedback" in lotse.purpose
    added, roles = audit_rows(core)  # the first start also records the configured roles
    assert (added.actor, added.action, added.target) == ("system", "register.add", "Lotse")
    assert (roles.actor, roles.action) == ("config", "roles.change")

    second = make_core(kb_settings, kb_index, tmp_path / "second", database_url)  # another replica, a restart
    assert len(entries(second)) == 1 and len(audit_rows(second)) == 2
    second.answers.index.db.dispose()


@both_databases
def test_replicas_starting_at_the_same_moment_register_lotse_once(database_url, kb_settings):
    stores = [RegisterStore(Database(database_url)) for _ in range(4)]
    for store in stores:
        store.find_exact = lambda name: None  # all of them pass the check before anyone has inserted
    start = threading.Barrier(len(stores))
    created: list[bool] = []

    def run(store):
        start.wait()
        created.append(store.ensure_self(kb_settings))

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(created) == [False, False, False, True]
    assert [e.name for e in stores[0].entries()] == ["Lotse"]
    assert [(r.action, r.target) for r in AuditLog(stores[0].db).entries()] == [("register.add", "Lotse")]
    for store in stores:
        store.db.dispose()


def test_with_an_llm_the_entry_names_model_and_host_never_the_key(kb_settings, kb_index, sqlite_url, tmp_path):
    llm = LLMSettings(api_key="sk-very-secret", base_url="https://llm.example.eu/v1", model="mistral-large")
    core = make_core(kb_settings, kb_index, tmp_path / "data", sqlite_url, llm=llm, register_owner="CIO Office")
    lotse = entries(core)["Lotse"]
    assert lotse.model == "mistral-large" and lotse.provider == "OpenAI-kompatibler Endpunkt: llm.example.eu"
    assert lotse.owner == "CIO Office"
    stored = " ".join(str(getattr(lotse, c.name)) for c in lotse.__table__.columns)
    assert "sk-very-secret" not in stored and "sk-very-secret" not in audit_rows(core, "register.add")[0].detail
    core.answers.index.db.dispose()


def test_an_azure_endpoint_is_named_as_such(kb_settings):
    from bot.register.store import self_entry

    azure = LLMSettings(api_key="k", base_url="https://acme.openai.azure.com/", model="gpt-4o", api_version="2024-10")
    entry = self_entry(kb_settings.__class__(llm=azure), date(2026, 1, 31))
    assert entry.provider == "Azure OpenAI: acme.openai.azure.com" and entry.next_review == date(2027, 1, 31)
    openai = self_entry(kb_settings.__class__(llm=LLMSettings(api_key="k")), date(2026, 1, 1))
    assert openai.provider == "OpenAI-kompatibler Endpunkt: api.openai.com"
    ollama = LLMSettings(base_url="http://10.0.0.5:11434/v1", model="llama3.1:70b", local=True)
    entry = self_entry(kb_settings.__class__(llm=ollama), date(2026, 1, 1))
    assert entry.provider == "OpenAI-kompatibler Endpunkt: 10.0.0.5 (im eigenen Haus betrieben)"


# -- /audit ------------------------------------------------------------------------------------------


@both_databases
def test_admins_see_the_latest_entries_in_berlin_time(core, admin):
    db = core.services.db
    log = AuditLog(db, clock=lambda: datetime(2026, 7, 1, 10, 0, tzinfo=UTC))  # 12:00 CEST
    log.record("slack:T1:UADMIN", "pilot.update", "Dokumentensuche", fields=["monthly_cost"])
    winter = AuditLog(db, clock=lambda: datetime(2026, 12, 1, 8, 30, tzinfo=UTC))  # 09:30 CET
    winter.record("teams:tenant:aad-1", "data.erase", "")
    core.people.remember("slack:T1:UADMIN", "Anna Berg")
    reply = admin.say("/audit")
    lines = reply.text.splitlines()
    assert lines[0] == "*Audit-Protokoll* · die letzten 4 Einträge"
    assert lines[1] == "• 01.12.2026 09:30 · aad-1 (teams) · Daten gelöscht"
    assert (
        lines[2] == "• 01.07.2026 12:00 · Anna Berg (slack) · Pilot geändert · Dokumentensuche (laufende Kosten)"
    )  # the field in the reader's words
    assert lines[3].endswith(
        "· Konfiguration (beim Start übernommen) · Rollen geändert"
        " (console +employee; slack:admin +UADMIN; teams:admin +aad-admin)"
    )
    assert lines[4].endswith("· Lotse (automatisch) · KI-Anwendung registriert · Lotse")
    assert lines[-1].startswith("Nur eine Art: `/audit pilot`")

    pilots = admin.say("/audit pilot").text.splitlines()
    assert pilots[0].endswith("· Piloten") and len(pilots) == 3 and "Pilot geändert" in pilots[1]
    erased = admin.say("/audit daten").text.splitlines()  # the German word for the kind works too
    assert erased[1:-1] == ["• 01.12.2026 09:30 · aad-1 (teams) · Daten gelöscht"]
    assert admin.say("/audit quatsch").text.startswith("„quatsch“ kommt im Audit-Protokoll nicht vor. Arten: data,")


def test_audit_shows_twenty_unless_asked_for_more(core, admin):
    log = AuditLog(core.services.register_store.db)
    for number in range(30):
        log.record("slack:T1:UADMIN", "plan.change", f"plan {number}")
    assert len(admin.say("/audit").text.splitlines()) == 1 + 20 + 1
    assert len(admin.say("/audit 25").text.splitlines()) == 1 + 25 + 1
    newest = admin.say("/audit plan").text.splitlines()[1]
    assert newest.endswith("· plan 29")


def test_employees_get_the_admin_only_reply(core, employee):
    for command in ("/audit", "/audit pilot", "/protokoll"):
        reply = employee.say(command)
        assert (reply.text, reply.answered) == (ADMIN_ONLY, False)
    console = Person(core, "anna", channel="console", workspace="local")  # console_role=employee here
    assert console.say("/audit").text == ADMIN_ONLY


def test_register_changes_appear_in_the_audit_view(core, admin):
    core.services.register_store.add("slack:T1:UADMIN", "Copilot", risk_class="minimal", status="idea")
    admin.say("/register setze Copilot status pilot")
    text = admin.say("/audit register").text
    assert "KI-Register geändert · Copilot (Status)" in text and "KI-Anwendung registriert · Copilot" in text
    assert json.loads(audit_rows(core, "register.update")[0].detail) == {"fields": ["status"]}


def test_admins_see_the_log_only_in_a_direct_chat(core, admin):
    reply = admin.say("/audit", private=False)
    assert reply.answered is False and reply.text.startswith("Das besprechen wir unter vier Augen")
