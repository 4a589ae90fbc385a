"""`/register` through the real core and the dialog engine: an admin registers an application answer by
answer with bad inputs re-asked, everyone sees the list and an entry, only admins change, delete and
export, every change has its audit entry — written in the same transaction, so a change that fails
leaves none — and the exports open with csv and openpyxl, formulas neutralised."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy.exc import IntegrityError

from bot.dialogs.inputs import add_months
from bot.register.store import NameTaken
from tests.conftest import both_databases

from .conftest import ADMIN_ONLY, Person, audit_rows, entries, step

ADMINS_ONLY = "Das KI-Register ändern nur Admins. Ansehen können es alle: `/register`."


def seed(core, name: str, actor: str = "slack:T1:UADMIN", **fields):
    values = dict(
        purpose="Texte entwerfen",
        owner="IT-Leitung",
        model="GPT-4o",
        provider="Microsoft Azure EU",
        data_sources="SharePoint",
        personal_data=True,
        risk_class="limited",
        status="pilot",
        next_review=date.today() + timedelta(days=90),
    )
    values.update(fields)
    return core.services.register_store.add(actor, name, **values)


# -- the dialog --------------------------------------------------------------------------------------


@both_databases
def test_an_admin_registers_an_application_with_bad_answers_asked_again(core, admin):
    reply = admin.say("/register neu")
    assert step(reply) == "name" and reply.text.startswith("KI-Anwendung registrieren")
    reply = admin.say("lotse")  # Lotse registered itself at its start
    assert reply.text.startswith("„lotse“ steht schon im KI-Register.") and step(reply) == "name"
    assert reply.answered is False
    reply = admin.say("2")
    assert reply.text.startswith("Ein Name im KI-Register darf nicht mit „2“ beginnen") and step(reply) == "name"
    reply = admin.say("zeige alles")
    assert "nicht mit „zeige“ beginnen" in reply.text and step(reply) == "name"
    reply = admin.script("Microsoft 365 Copilot", "Texte entwerfen und zusammenfassen", "IT-Leitung", "GPT-4o")
    assert step(reply) == "provider"
    reply = admin.script("überspringen", "SharePoint, E-Mails")  # the provider is optional
    assert step(reply) == "personal_data"
    reply = admin.say("vielleicht")
    assert reply.answered is False and step(reply) == "personal_data"
    reply = admin.say("ja")
    assert step(reply) == "risk_class"
    assert "3) hoch – Anhang III" in reply.text and "4) verboten – Art. 5" in reply.text
    assert [c.label for c in reply.question.choices] == ["minimal", "begrenzt", "hoch", "verboten"]
    reply = admin.say("5")
    assert reply.answered is False and step(reply) == "risk_class"
    reply = admin.script("begrenzt", "pilot")
    assert step(reply) == "next_review"
    reply = admin.say("1.1.2020")
    assert reply.text.startswith("Das nächste Review muss heute oder später sein") and step(reply) == "next_review"
    reply = admin.say("irgendwann")
    assert reply.text.startswith("Bitte ein Datum eingeben") and step(reply) == "next_review"
    assert [r.target for r in audit_rows(core, "register.add")] == ["Lotse"]  # nothing stored before the end
    reply = admin.say("in 3 Monaten")
    # issue 24: the entry as it will be saved, confirmed before anything is stored
    assert step(reply) == "_save" and reply.text.startswith("Bitte prüfen – so speichere ich es:")
    assert "*Microsoft 365 Copilot*\nZweck: Texte entwerfen und zusammenfassen\nVerantwortlich: IT-" in reply.text
    assert "Modell: GPT-4o · Anbieter: –" in reply.text and "Risikoklasse (EU AI Act): begrenzt" in reply.text
    assert [r.target for r in audit_rows(core, "register.add")] == ["Lotse"]
    reply = admin.say("ja")
    assert reply.question is None and reply.text.startswith("✅ „Microsoft 365 Copilot“ steht jetzt im KI-Register.")

    entry = entries(core)["Microsoft 365 Copilot"]
    assert (entry.purpose, entry.owner, entry.model, entry.provider, entry.data_sources) == (
        "Texte entwerfen und zusammenfassen",
        "IT-Leitung",
        "GPT-4o",
        "",
        "SharePoint, E-Mails",
    )
    assert (entry.personal_data, entry.risk_class, entry.status) == (True, "limited", "pilot")
    assert entry.next_review == add_months(date.today(), 3) and entry.created_by == "slack:T1:UADMIN"
    [added] = [r for r in audit_rows(core, "register.add") if r.target == "Microsoft 365 Copilot"]
    assert added.actor == "slack:T1:UADMIN"
    assert json.loads(added.detail)["fields"] == [
        "purpose",
        "owner",
        "model",
        "data_sources",
        "personal_data",
        "risk_class",
        "status",
        "next_review",
    ]
    assert "Texte entwerfen" not in added.detail  # field names, not contents

    again = admin.say("ja")  # the same last answer once more: nothing is stored twice
    assert again.mode != "dialog" or again.question is None
    assert len(audit_rows(core, "register.add")) == 2 and len(entries(core)) == 2


def test_the_name_can_come_with_the_command_and_english_works_too(core, admin):
    reply = admin.say("/register add Invoice AI")
    assert step(reply) == "purpose" and reply.language == "en"
    reply = admin.script("Pre-fill incoming invoices", "Finance", "-", "Own server", "-", "no", "3", "production")
    assert "Which risk class" not in reply.text and step(reply) == "next_review"
    reply = admin.say("in 1 year")
    assert reply.text.startswith("Please check – this is what I will save:")
    assert "Risk class (EU AI Act): high" in reply.text
    reply = admin.say("save")
    assert reply.text.startswith('✅ "Invoice AI" is now in the AI register.')
    assert "⚠️ High-risk AI: as its deployer you have duties under Art. 26" in reply.text
    entry = entries(core)["Invoice AI"]
    assert (entry.model, entry.risk_class, entry.status, entry.personal_data) == ("", "high", "production", False)
    assert entry.next_review == add_months(date.today(), 12)


def test_a_teams_admin_may_register_too(core):
    teams_admin = Person(core, "aad-admin", channel="teams", workspace="tenant-1")
    assert step(teams_admin.say("/register neu")) == "name"


# -- who may do what ---------------------------------------------------------------------------------


@both_databases
def test_employees_see_the_register_but_do_not_change_it(core, employee):
    seed(core, "Rechnungseingang-KI")
    listed = employee.say("/register")
    assert listed.answered and "Rechnungseingang-KI" in listed.text and "*Lotse*" in listed.text
    shown = employee.say("/register zeige Rechnungseingang")  # an unambiguous beginning is enough
    assert "Zweck: Texte entwerfen" in shown.text and "Risikoklasse (EU AI Act): begrenzt" in shown.text
    assert "/register setze" not in shown.text  # the hint is for admins
    for command in (
        "/register neu",
        "/register setze Rechnungseingang-KI status produktiv",
        "/register löschen Rechnungseingang-KI ja",
    ):
        reply = employee.say(command)
        assert (reply.text, reply.answered) == (ADMINS_ONLY, False), command
    assert employee.say("/register export csv").text == ADMIN_ONLY
    assert entries(core)["Rechnungseingang-KI"].status == "pilot"
    # Lotse's own entry and the roles at the start, then the seed's entry
    assert [r.action for r in audit_rows(core)] == ["register.add", "roles.change", "register.add"]


def test_the_list_marks_overdue_reviews(core, employee):
    seed(core, "Alt-Chatbot", next_review=date.today() - timedelta(days=3))
    seed(core, "Stillgelegt", next_review=date.today() - timedelta(days=300), status="retired")
    text = employee.say("/register").text
    lines = {line.split("*")[1]: line for line in text.splitlines() if line[:1].isdigit()}
    assert set(lines) == {"Lotse", "Alt-Chatbot", "Stillgelegt"}
    assert lines["Alt-Chatbot"].endswith("⚠️ überfällig")
    assert lines["Alt-Chatbot"].startswith("2. *Alt-Chatbot* · Pilot · Risiko: begrenzt · Review: ")
    assert "überfällig" not in lines["Lotse"] and "überfällig" not in lines["Stillgelegt"]  # retired: no review
    assert text.splitlines()[0] == "*KI-Register* · 3 Anwendungen · ⚠️ überfällige Reviews: 1"
    assert "überfällig" in employee.say("/register zeige Alt-Chatbot").text


def test_an_unknown_name_lists_what_there_is(core, employee):
    reply = employee.say("/register zeige Gibtsnicht")
    assert reply.answered is False and reply.text.startswith("Eine Anwendung „Gibtsnicht“ steht nicht im KI-Register.")
    assert "*Lotse*" in reply.text


# -- changing and removing ---------------------------------------------------------------------------


@both_databases
def test_an_admin_sets_a_field_and_the_audit_log_names_it(core, admin):
    seed(core, "Microsoft 365 Copilot")
    reply = admin.say("/register setze Microsoft 365 Copilot status produktiv")
    assert reply.text.startswith("✅ Geändert.") and "Status: produktiv" in reply.text
    assert entries(core)["Microsoft 365 Copilot"].status == "production"
    [update] = audit_rows(core, "register.update")
    assert (update.actor, update.target, json.loads(update.detail)) == (
        "slack:T1:UADMIN",
        "Microsoft 365 Copilot",
        {"fields": ["status"]},
    )
    before = entries(core)["Microsoft 365 Copilot"].next_review
    asked = admin.say("/register setze Microsoft review in 12 Monaten")  # a beginning: which entry? nothing changes
    assert not asked.answered and "`/register setze Microsoft 365 Copilot review in 12 Monaten`" in asked.text
    assert entries(core)["Microsoft 365 Copilot"].next_review == before
    admin.say("/register setze Microsoft 365 Copilot review in 12 Monaten")
    assert entries(core)["Microsoft 365 Copilot"].next_review == add_months(date.today(), 12)
    number = [e.name for e in core.services.register_store.entries()].index("Microsoft 365 Copilot") + 1
    assert admin.say(f"/register setze {number} personenbezug nein").answered  # its number names it, too
    assert entries(core)["Microsoft 365 Copilot"].personal_data is False
    assert len(audit_rows(core, "register.update")) == 3


def test_setting_high_risk_without_personal_data_is_questioned_as_in_the_dialog(core, admin):
    seed(core, "Bewerber-Screening")
    admin.say("/register setze Bewerber-Screening personenbezug nein")
    reply = admin.say("/register setze Bewerber-Screening risiko hoch")
    assert reply.text.startswith("✅ Geändert.") and "Hochrisiko ohne personenbezogene Daten ist selten" in reply.text
    assert "`/register setze Bewerber-Screening personenbezug ja`" in reply.text
    fixed = admin.say("/register setze Bewerber-Screening personenbezug ja")
    assert "ist selten" not in fixed.text and entries(core)["Bewerber-Screening"].personal_data is True


def test_the_personal_data_field_may_be_named_in_two_words(core, admin):
    """ "personenbezogene Daten ja" names the field, as the entry shows it: "Daten" is not the data sources
    field, and "X personenbezogene" not the entry's name."""
    seed(core, "Chatbot Intranet")
    reply = admin.say("/register setze Chatbot Intranet personenbezogene Daten ja")
    assert reply.text.startswith("✅ Geändert."), reply.text
    assert entries(core)["Chatbot Intranet"].personal_data is True
    admin.say("/register set Chatbot Intranet personal data no")
    assert entries(core)["Chatbot Intranet"].personal_data is False
    admin.say("/register setze Chatbot Intranet personenbezogene nein")  # the first word alone, too
    assert entries(core)["Chatbot Intranet"].personal_data is False
    admin.say("/register setze Chatbot Intranet daten CRM, Ticketsystem")  # "Daten" alone: the sources
    assert entries(core)["Chatbot Intranet"].data_sources == "CRM, Ticketsystem"


def test_bad_values_are_refused_with_what_is_expected(core, admin):
    seed(core, "Copilot")
    hint = "Bitte eine der Antworten wählen: eine Zahl von 1 bis 4"
    assert admin.say("/register setze Copilot risiko 7").text.startswith(hint)
    assert admin.say("/register setze Copilot review 1.1.2020").text.startswith("Das nächste Review muss heute")
    assert admin.say("/register setze Copilot").text.startswith("So ändern Sie einen Eintrag")
    assert admin.say("/register setze Copilot farbe blau").text.startswith("So ändern Sie einen Eintrag")
    assert (
        admin.say("/register setze Copilot name Lotse").text == "„Lotse“ steht schon im KI-Register. Bitte einen "
        "anderen Namen wählen."
    )
    assert admin.say("/register setze Lotse name Lotse Chat").text.startswith("Lotses eigener Eintrag behält")
    assert audit_rows(core, "register.update") == []
    assert entries(core)["Copilot"].risk_class == "limited"


def test_a_name_with_a_field_word_in_it_still_works(core, admin):
    seed(core, "KI Status Monitor")
    reply = admin.say("/register setze KI Status Monitor status idee")
    assert reply.answered and entries(core)["KI Status Monitor"].status == "idea"


def test_an_admin_deletes_after_a_typed_confirmation_but_not_lotse(core, admin):
    seed(core, "Alt-Chatbot")
    ask = admin.say("/register löschen Alt-Chatbot")
    assert ask.text.startswith("„Alt-Chatbot“ aus dem KI-Register entfernen? Bestätigen: `/register löschen")
    assert "Alt-Chatbot" in entries(core)
    assert admin.say("/register löschen Alt-Chatbot ja").text == "🗑️ „Alt-Chatbot“ ist aus dem KI-Register entfernt."
    assert "Alt-Chatbot" not in entries(core)
    [deleted] = audit_rows(core, "register.delete")
    assert (deleted.actor, deleted.target) == ("slack:T1:UADMIN", "Alt-Chatbot")
    refusal = admin.say("/register löschen Lotse ja")
    assert refusal.answered is False and refusal.text.startswith("Lotses eigener Eintrag bleibt")
    assert "Lotse" in entries(core)


# -- the audit entry is part of the change -------------------------------------------------------------


@both_databases
def test_a_change_that_fails_leaves_no_audit_entry(core, monkeypatch):
    store = core.services.register_store
    seed(core, "Copilot")
    other = seed(core, "Bildgenerator")
    before = len(audit_rows(core))
    with pytest.raises(IntegrityError), store.db.session() as s:  # the same name past the check: the row fails
        store.add_entry(s, "slack:T1:UADMIN", "Copilot", risk_class="minimal", status="idea")
    monkeypatch.setattr(store, "name_taken", lambda *args, **kwargs: False)
    with pytest.raises(NameTaken):  # a rename onto a taken name fails in the database
        store.update(other.id, "slack:T1:UADMIN", name="Copilot", status="production")
    assert len(audit_rows(core)) == before
    assert entries(core)["Bildgenerator"].status == "pilot"


def test_an_audit_entry_that_cannot_be_written_stops_the_change(core, admin, monkeypatch):
    seed(core, "Copilot")

    def broken(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(core.services.register_store.audit, "record", broken)
    with pytest.raises(RuntimeError):
        admin.say("/register setze Copilot status produktiv")
    with pytest.raises(RuntimeError):
        admin.say("/register löschen Copilot ja")
    assert entries(core)["Copilot"].status == "pilot"


# -- exports -----------------------------------------------------------------------------------------


@both_databases
def test_the_csv_export_opens_and_neutralises_formulas(core, admin):
    seed(core, '=HYPERLINK("http://x")', purpose="-2+3", owner="@team", next_review=date.today() - timedelta(days=1))
    reply = admin.say("/register export csv")
    assert reply.text == "Das KI-Register (2 Anwendungen) liegt bei."
    [file] = reply.files
    assert file.name.startswith("ai-register-") and file.name.endswith(".csv") and file.mime == "text/csv"
    with open(file.path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["name"] for r in rows] == ["Lotse", '\'=HYPERLINK("http://x")']
    assert (rows[1]["purpose"], rows[1]["owner"], rows[1]["review_overdue"]) == ("'-2+3", "'@team", "yes")
    assert (rows[0]["risk_class"], rows[0]["status"], rows[0]["personal_data"]) == ("limited", "production", "yes")
    assert rows[0]["next_review"] == add_months(date.today(), 12).isoformat()
    # times in Berlin time with the offset, as in every export: the instant the entry was stored
    created = datetime.fromisoformat(rows[1]["created_at"])
    assert created.utcoffset() == created.astimezone(ZoneInfo("Europe/Berlin")).utcoffset()
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=5)
    [exported] = audit_rows(core, "data.export")
    assert exported.target == "ai_register" and json.loads(exported.detail) == {"entries": 2, "format": "csv"}


def test_the_xlsx_export_opens_with_openpyxl(core, admin):
    seed(core, "Copilot", purpose="=1+1")
    [file] = admin.say("/register export xlsx").files
    assert file.mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(file.path)
    sheet = book["KI-Register"]  # a workbook for people: in the asker's language, with a filter
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:3] == ["Nr.", "Name", "Zweck"] and "Nächstes Review" in header
    assert sheet.auto_filter.ref == f"A1:N{len(rows)}"
    copilot = dict(zip(header, rows[2], strict=True))
    assert copilot["Name"] == "Copilot" and copilot["Zweck"] == "'=1+1" and copilot["Nr."] == 2
    assert copilot["Nächstes Review"].date() == date.today() + timedelta(days=90)
    # values as the chat shows them, under German headers (the newcomer saw "yes", "limited", "production")
    assert (copilot["Personenbezogene Daten"], copilot["Risikoklasse"], copilot["Review überfällig"]) == (
        "ja", "begrenzt", "nein",
    )  # fmt: skip
    assert copilot["Status"] == "Pilot"
    berlin_now = datetime.now(ZoneInfo("Europe/Berlin")).replace(tzinfo=None)  # its wall time, the header says whose
    assert abs(copilot["Angelegt (Europe/Berlin)"] - berlin_now) < timedelta(minutes=5)
    assert sheet.freeze_panes == "A2"
    assert admin.say("/register export pdf").text.startswith("Bitte `csv` oder `xlsx` angeben")


def test_csv_bytes_start_with_a_bom_for_excel(core, admin):
    [file] = admin.say("/register export csv").files
    with open(file.path, "rb") as handle:
        assert handle.read(3) == b"\xef\xbb\xbf"


@both_databases
def test_control_characters_are_dropped_not_stored(core, admin):
    admin.say("/register neu")
    reply = admin.script("Über\x00setzer", "Texte\x00 übersetzen", "IT", "-", "-", "-", "nein", "minimal", "idee")
    assert step(reply) == "next_review"
    admin.script("in 1 Jahr", "speichern")
    entry = entries(core)["Übersetzer"]
    assert entry.purpose == "Texte übersetzen"
    assert admin.say("/register setze Über\x00setzer status pilot").answered is False  # no such name: listed
    assert admin.say("/register setze Übersetzer zweck Sprache\x00n").answered
    assert entries(core)["Übersetzer"].purpose == "Sprachen"


def test_choosing_high_risk_warns_at_once_and_questions_it_without_personal_data(core, admin):
    admin.say("/register neu")
    admin.script("Bewerber-Ranking", "Bewerbungen vorsortieren", "HR", "GPT-4o", "überspringen", "ATS")
    assert step(admin.say("nein")) == "risk_class"  # no personal data
    reply = admin.say("hoch")
    assert step(reply) == "status" and reply.text.startswith("⚠️ Hochrisiko-KI")  # before anything is saved
    assert "Hochrisiko ohne personenbezogene Daten ist selten" in reply.text
    assert "Bewerber-Ranking" not in entries(core)
    calm = admin.say("zurück")  # back at the risk class: a limited one says nothing
    assert step(calm) == "risk_class"
    assert "⚠️" not in admin.say("begrenzt").text
