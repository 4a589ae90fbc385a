"""`/pilot` through the real core and the dialog engine: registering a pilot answer by answer, feedback
with bad inputs re-prompted, a repeated last answer, anonymous entries that their author still sees,
changes and withdraws, role checks, exports opened with csv and openpyxl, and a report in English.

The core shares the session's knowledge-base database (SQLite; PostgreSQL too for the tests marked
@both_databases), so every test works in a workspace of its own."""

from __future__ import annotations

import csv
import dataclasses
import re
import uuid
from datetime import UTC, date, datetime

import openpyxl
import pytest
from sqlalchemy import select

from bot.app.lotse import Lotse
from bot.app.services import build_core
from bot.core.messages import Incoming, Reply
from bot.pilots.store import Entry, Kpi
from bot.settings import SlackSettings, TeamsSettings
from bot.storage.models import KpiRow, KpiValueRow, PilotFeedbackRow, PilotRow
from tests.conftest import both_databases

CHAMPION_REFUSAL = "Das dürfen Change Champions und Admins."
ADMIN_REFUSAL = "Dieser Befehl ist Administratorinnen und Administratoren vorbehalten."


@pytest.fixture
def core(database_service) -> Lotse:
    """Console users are employees; Slack and Teams have one admin and one champion each."""
    settings = dataclasses.replace(
        database_service.settings,
        console_role="employee",
        slack=SlackSettings(admins=frozenset({"UADMIN"}), champions=frozenset({"UCHAMP"})),
        teams=TeamsSettings(admins=frozenset({"aad-admin"}), champions=frozenset({"aad-champ"})),
    )
    return build_core(settings, database_service)


@pytest.fixture
def workspace() -> str:
    return f"w{uuid.uuid4().hex[:10]}"


class Person:
    """One user in one conversation."""

    def __init__(self, core: Lotse, user: str, workspace: str, channel: str = "console") -> None:
        self.core, self.user, self.workspace, self.channel = core, user, workspace, channel

    @property
    def message(self) -> Incoming:
        return Incoming("", self.user, channel=self.channel, workspace=self.workspace)

    def say(self, text: str) -> Reply:
        return self.core.handle(Incoming(text, self.user, channel=self.channel, workspace=self.workspace))

    def script(self, *lines: str) -> Reply:
        reply = None
        for line in lines:
            reply = self.say(line)
            assert reply.mode == "dialog", f"{line!r} → {reply.text}"
        return reply


def step(reply: Reply) -> str | None:
    return reply.question.step if reply.question else None


def seed_pilot(core: Lotse, scope: str, name: str = "Dokumentensuche", **fields) -> PilotRow:
    values = dict(
        start=date(2026, 10, 1),
        end=date(2027, 3, 31),
        users=20,
        hourly_rate=50.0,
        kpis=[Kpi("Suchzeit", "min", "lower", 15, 3), Kpi("Erstlösungsquote", "%", "higher", 40, 60)],
    )
    values.update(fields)
    return core.services.pilot_store.create(scope, name, f"{scope}:lead", **values)


def entries(core: Lotse, pilot_id: int) -> list[PilotFeedbackRow]:
    with core.services.pilot_store.db.session() as s:
        return list(
            s.scalars(
                select(PilotFeedbackRow).where(PilotFeedbackRow.pilot_id == pilot_id).order_by(PilotFeedbackRow.id)
            ).all()
        )


def values(core: Lotse, entry_id: int) -> dict[int, float]:
    with core.services.pilot_store.db.session() as s:
        rows = s.execute(select(KpiValueRow.kpi_id, KpiValueRow.value).where(KpiValueRow.feedback_id == entry_id))
        return dict(rows.all())


# -- registering a pilot ----------------------------------------------------------------------------


@both_databases
def test_an_admin_registers_a_pilot_answer_by_answer(core, workspace):
    admin = Person(core, "UADMIN", workspace, "slack")
    reply = admin.say("/pilot neu Rechnungseingang")
    assert step(reply) == "use_case"
    reply = admin.script("Rechnungen automatisch vorerfassen", "Frau Berg", "1.2.2027")
    assert step(reply) == "end"
    reply = admin.say("1.1.2027")  # before the start
    assert reply.text.startswith("Das Ende muss nach dem Start liegen. Bitte ein späteres Datum eingeben.")
    assert step(reply) == "end" and reply.answered is False
    reply = admin.say("1.2.2027")  # the start itself is no end either
    assert reply.text.startswith("Das Ende muss nach dem Start liegen.") and step(reply) == "end"
    reply = admin.script("31.5.2027", "25", "ja", "6.000 €", "500", "55", "Bearbeitungszeit", "min", "niedriger", "20")
    assert step(reply) == "target"
    reply = admin.say("+10 %")  # higher than the baseline, but lower is better
    assert reply.text.startswith("Das Ziel muss niedriger sein als der Ausgangswert 20 – sonst wäre es keine")
    assert step(reply) == "target" and reply.answered is False
    reply = admin.say("20")  # the baseline itself is no improvement either
    assert reply.text.startswith("Das Ziel muss niedriger sein als der Ausgangswert 20") and step(reply) == "target"
    reply = admin.script("-40 %", "Ticketsystem", "Erstlösungsquote", "%", "höher", "40")
    reply = admin.say("35")
    assert reply.text.startswith("Das Ziel muss höher sein als der Ausgangswert 40") and step(reply) == "target"
    reply = admin.script("60", "überspringen", "fertig")
    # issue 24: what will be saved is shown first, and nothing is stored until it is confirmed
    assert step(reply) == "_save" and reply.text.startswith("Bitte prüfen – so speichere ich es:")
    assert "Verantwortlich: Frau Berg · 01.02.2027 bis 31.05.2027 · Nutzer: 25" in reply.text
    assert "Kosten: einmalig 6.000 € · pro Monat 500 € · Stundensatz 55 €/h" in reply.text
    assert "• Erstlösungsquote: Ausgangswert 40 %, Ziel 60 % (+50 %; höher ist besser)" in reply.text
    with core.services.pilot_store.db.session() as s:
        assert s.scalars(select(PilotRow).where(PilotRow.scope == f"slack:{workspace}")).all() == []
    reply = admin.say("nein")
    assert reply.text.startswith("Noch ist nichts gespeichert.") and step(reply) == "_save"
    reply = admin.say("ja")
    assert reply.question is None
    assert reply.text.startswith("✅ Pilot „Rechnungseingang“ ist angelegt, mit diesen KPIs:")
    assert "• Bearbeitungszeit: Ausgangswert 20 min, Ziel 12 min (−40 %; niedriger ist besser)" in reply.text
    assert "• Erstlösungsquote: Ausgangswert 40 %, Ziel 60 % (+50 %; höher ist besser)" in reply.text

    scope = f"slack:{workspace}"
    with core.services.pilot_store.db.session() as s:
        (pilot,) = s.scalars(select(PilotRow).where(PilotRow.scope == scope)).all()
        kpis = s.scalars(select(KpiRow).where(KpiRow.pilot_id == pilot.id).order_by(KpiRow.position)).all()
    assert (pilot.name, pilot.use_case, pilot.owner) == (
        "Rechnungseingang",
        "Rechnungen automatisch vorerfassen",
        "Frau Berg",
    )
    assert (pilot.start, pilot.end, pilot.users, pilot.anonymous) == (date(2027, 2, 1), date(2027, 5, 31), 25, True)
    assert (pilot.one_off_cost, pilot.monthly_cost, pilot.hourly_rate) == (6000, 500, 55)
    assert pilot.created_by == f"{scope}:UADMIN"
    # −40 % of the baseline 20: 20 × 0.6 = 12
    assert [(k.name, k.unit, k.direction, k.baseline, k.method) for k in kpis] == [
        ("Bearbeitungszeit", "min", "lower", 20, "Ticketsystem"),
        ("Erstlösungsquote", "%", "higher", 40, ""),
    ]
    assert kpis[0].target == pytest.approx(12) and kpis[0].target_change == pytest.approx(-40)
    assert kpis[1].target == pytest.approx(60) and kpis[1].target_change is None

    again = admin.say("/pilot neu rechnungseingang")  # the name is taken (in any case)
    assert again.text.startswith("Einen Pilot „rechnungseingang“ gibt es schon.") and step(again) == "name"


# -- feedback ----------------------------------------------------------------------------------------


@both_databases
def test_bad_feedback_inputs_are_re_prompted_and_the_entry_is_stored_right(core, workspace):
    pilot = seed_pilot(core, f"console:{workspace}")
    search, fcr = core.services.pilot_store.kpis(pilot.id)
    emma = Person(core, "emma", workspace)
    reply = emma.say("/pilot feedback Dokumentensuche")
    assert reply.text.startswith("*Rückmeldung zum Pilot „Dokumentensuche“*")
    assert step(reply) == "satisfaction"  # a pilot without anonymous feedback does not ask for it

    for bad, hint, at in [
        ("7", "Bitte eine Zahl von 1 bis 5 eingeben.", "satisfaction"),
        ("0", "Bitte eine Zahl von 1 bis 5 eingeben.", "satisfaction"),
        ("4", None, "minutes_saved"),
        ("-5", "Bitte eine Zahl von 0 bis 2400 eingeben.", "minutes_saved"),
        ("zehn", "Bitte eine Zahl von 0 bis 2400 eingeben.", "minutes_saved"),
        ("45 min", None, f"kpi_{search.id}"),
        ("viel", "Bitte eine Zahl eingeben, z. B. 15 oder 2,5.", f"kpi_{search.id}"),
        ("6,5", None, f"kpi_{fcr.id}"),
        ("überspringen", None, "works"),
    ]:
        reply = emma.say(bad)
        assert step(reply) == at, (bad, reply.text)
        if hint:
            assert reply.text.startswith(hint) and reply.answered is False, (bad, reply.text)
        else:
            assert reply.answered is True, (bad, reply.text)
    assert "Suchzeit" not in reply.text
    reply = emma.script("Findet alles schneller", "-", "Weiter so")
    (row,) = entries(core, pilot.id)
    assert reply.text.startswith(f"✅ Danke! Ihre Rückmeldung ist gespeichert (Eintrag {row.id}).")
    assert (row.satisfaction, row.minutes_saved, row.group_size, row.anonymous) == (4, 45, 1, False)
    assert (row.author, row.works, row.not_working, row.comment) == (
        "emma",
        "Findet alles schneller",
        None,
        "Weiter so",
    )
    assert values(core, row.id) == {search.id: 6.5}  # the skipped KPI has no value
    assert not core.in_dialog(emma.message)


@both_databases
def test_a_repeated_last_answer_stores_one_entry(core, workspace, monkeypatch):
    pilot = seed_pilot(core, f"console:{workspace}", kpis=[])
    emma = Person(core, "emma", workspace)
    emma.script("/pilot feedback Dokumentensuche", "4", "30", "-", "-")
    assert emma.say("Weiter so").text.startswith("✅ Danke!")
    repeated = emma.say("Weiter so")  # the same message delivered again: no dialog takes it
    assert repeated.mode != "dialog"
    assert len(entries(core, pilot.id)) == 1

    # the repeat racing the first delivery: it read the dialog before the first one finished it
    emma.script("/pilot feedback Dokumentensuche", "5", "60", "-", "-")
    store = core.dialogs.store
    stale = store.active(emma.message.conversation_key)
    assert emma.say("Noch besser").text.startswith("✅ Danke!")
    real, handed = store.active, []

    def active(key):
        if not handed:
            handed.append(key)
            return stale
        return real(key)

    monkeypatch.setattr(store, "active", active)
    emma.say("Noch besser")
    assert handed  # the stale dialog was really offered to the engine
    rows = entries(core, pilot.id)
    assert [(r.satisfaction, r.comment) for r in rows] == [(4, "Weiter so"), (5, "Noch besser")]


@both_databases
def test_anonymous_feedback_is_still_its_authors_to_see_change_and_withdraw(core, workspace):
    pilot = seed_pilot(core, f"console:{workspace}", anonymous=True, kpis=[Kpi("Suchzeit", "min", "lower", 15, 3)])
    (kpi,) = core.services.pilot_store.kpis(pilot.id)
    emma = Person(core, "emma", workspace)
    reply = emma.say("/pilot feedback Dokumentensuche")
    assert step(reply) == "anonymous"
    reply = emma.script("ja", "3", "20", "8", "-", "-", "-")
    (row,) = entries(core, pilot.id)
    assert reply.text.startswith(f"✅ Danke! Ihre Rückmeldung ist gespeichert (Eintrag {row.id}, anonym).")
    assert row.author is None and row.anonymous is True
    assert (row.satisfaction, row.minutes_saved) == (3, 20)
    assert values(core, row.id) == {kpi.id: 8}

    mine = emma.say("/pilot meine")
    assert f"#{row.id} · Dokumentensuche · " in mine.text
    assert "· Zufriedenheit 3 · 20 min/Woche gespart (anonym)" in mine.text
    assert "Zufriedenheit 3" not in Person(core, "finn", workspace).say("/pilot meine").text  # not for others

    reply = emma.say(f"/pilot ändern {row.id}")
    assert reply.text.startswith(f"*Eintrag {row.id} ändern* (bisher Zufriedenheit 3).") and step(reply) == "anonymous"
    reply = emma.script("ja", "5", "30", "4", "Jetzt schneller", "-", "-")
    assert reply.text.startswith(f"✅ Eintrag {row.id} ist geändert, anonym.")
    (changed,) = entries(core, pilot.id)
    assert changed.id == row.id and changed.author is None and changed.anonymous is True
    assert (changed.satisfaction, changed.minutes_saved, changed.works) == (5, 30, "Jetzt schneller")
    assert values(core, row.id) == {kpi.id: 4}  # replaced, not added

    reply = emma.say(f"/pilot zurückziehen {row.id}")
    assert reply.text == f"Eintrag {row.id} ist zurückgezogen und gelöscht."
    assert entries(core, pilot.id) == [] and values(core, row.id) == {}
    assert emma.say("/pilot meine").text.startswith("Sie haben noch keine Rückmeldung zu einem Pilot gegeben.")


# -- roles -----------------------------------------------------------------------------------------


def test_an_employee_is_refused_what_champions_and_admins_do(core, workspace):
    seed_pilot(core, f"console:{workspace}")
    for channel, user in (("console", "emma"), ("slack", "UEMPLOYEE"), ("teams", "aad-employee")):
        if channel != "console":
            seed_pilot(core, f"{channel}:{workspace}")
        employee = Person(core, user, workspace, channel)
        for command, refusal in [
            ("/pilot neu Neuer Pilot", CHAMPION_REFUSAL),
            ("/pilot gruppe Dokumentensuche", CHAMPION_REFUSAL),
            ("/pilot bericht Dokumentensuche", CHAMPION_REFUSAL),
            ("/pilot bericht quartal 2026-Q4", CHAMPION_REFUSAL),
            ("/pilot export xlsx", ADMIN_REFUSAL),
            ("/pilot export csv", ADMIN_REFUSAL),
        ]:
            reply = employee.say(command)
            assert reply.text.startswith(refusal), (channel, command, reply.text)
            assert reply.answered is False and not reply.files and not reply.images and reply.question is None
            assert not core.in_dialog(employee.message)
    for channel in ("console", "slack", "teams"):  # "Neuer Pilot" was not registered anywhere
        assert [p.name for p in core.services.pilot_store.pilots(f"{channel}:{workspace}")] == ["Dokumentensuche"]


@both_databases
def test_an_employee_cannot_touch_someone_elses_entry_nor_learn_that_it_exists(core, workspace):
    pilot = seed_pilot(core, f"console:{workspace}", kpis=[])
    anna, emma = Person(core, "anna", workspace), Person(core, "emma", workspace)
    anna.script("/pilot feedback Dokumentensuche", "4", "30", "-", "-", "-")
    (row,) = entries(core, pilot.id)
    missing = row.id + 1000

    for command in ("ändern", "zurückziehen"):
        theirs = emma.say(f"/pilot {command} {row.id}")
        nobodys = emma.say(f"/pilot {command} {missing}")
        assert theirs.text == nobodys.text.replace(str(missing), str(row.id))  # the same words as a missing one
        assert theirs.text == f"Einen Eintrag {row.id} von Ihnen gibt es nicht. Ihre Einträge zeigt `/pilot meine`."
        assert theirs.answered is False and theirs.question is None
        assert not core.in_dialog(emma.message)
    (still,) = entries(core, pilot.id)
    assert (still.id, still.satisfaction, still.author) == (row.id, 4, "anna")
    assert "Zufriedenheit" not in emma.say("/pilot meine").text


@both_databases
def test_a_champion_collects_group_feedback_and_sees_reports_but_cannot_export(core, workspace):
    scope = f"slack:{workspace}"
    pilot = seed_pilot(core, scope, kpis=[Kpi("Suchzeit", "min", "lower", 15, 3)])
    (kpi,) = core.services.pilot_store.kpis(pilot.id)
    champion = Person(core, "UCHAMP", workspace, "slack")
    reply = champion.say("/pilot gruppe Dokumentensuche")
    assert reply.text.startswith("*Gruppenrunde zum Pilot „Dokumentensuche“*") and step(reply) == "group_size"
    assert champion.say("1").text.startswith("Bitte eine Zahl von 2 bis 500 eingeben.")  # a group has two or more
    reply = champion.script("6", "4", "40", "5", "-", "-", "-")
    (row,) = entries(core, pilot.id)
    assert reply.text.startswith(f"✅ Danke! Ihre Rückmeldung ist gespeichert (Eintrag {row.id}).")
    assert (row.group_size, row.satisfaction, row.minutes_saved, row.author) == (6, 4, 40, "UCHAMP")
    assert values(core, row.id) == {kpi.id: 5}
    Person(core, "UEMPLOYEE", workspace, "slack").script(
        "/pilot feedback Dokumentensuche", "2", "10", "7", "-", "-", "-"
    )

    report = champion.say("/pilot bericht Dokumentensuche")
    assert report.answered and report.text.startswith("*Bericht Pilot „Dokumentensuche“*")
    # 2 responses, 6 + 1 people; mean rating (4 + 2) / 2 = 3; minutes (40 × 6 + 10 × 1) / 7 = 35.7;
    # search time (5 + 7) / 2 = 6 → (6 − 15) / 15 = −60 %, (6 − 15) / (3 − 15) = 75 % of the way
    assert "Rückmeldungen: 2 (Personen: 7) · Zufriedenheit Ø 3 von 5 · 1★ 0 · 2★ 1 · 3★ 0 · 4★ 1 · 5★ 0" in report.text
    assert "Ø 35,7 min pro Person und Woche" in report.text
    assert "jetzt 6 min · Ausgangswert 15 min · Ziel 3 min → −60,0 % ggü. Ausgangswert, 75 % des Wegs" in report.text
    assert report.images
    quarter = champion.say("/pilot bericht quartal 2026-Q4")
    assert quarter.answered and quarter.text.startswith("*ROI-Bericht 2026-Q4*")

    for command in ("/pilot export csv", "/pilot export xlsx", "/pilot export"):
        refused = champion.say(command)
        assert refused.text == ADMIN_REFUSAL and not refused.files and refused.answered is False

    teams_champion = Person(core, "aad-champ", workspace, "teams")
    seed_pilot(core, f"teams:{workspace}")
    assert teams_champion.say("/pilot bericht Dokumentensuche").text.startswith("*Bericht Pilot „Dokumentensuche“*")
    assert teams_champion.say("/pilot export csv").text == ADMIN_REFUSAL


@both_databases
def test_an_admin_exports_the_feedback_as_csv_and_xlsx(core, workspace):
    scope = f"slack:{workspace}"
    pilot = seed_pilot(core, scope, anonymous=True, kpis=[Kpi("Suchzeit", "min", "lower", 15, 3)])
    seed_pilot(core, f"slack:other{workspace}", name="Fremd")  # another workspace's pilot is not exported
    (kpi,) = core.services.pilot_store.kpis(pilot.id)
    Person(core, "UEMPLOYEE", workspace, "slack").script(
        "/pilot feedback Dokumentensuche", "nein", "4", "30", "5", "Schnell", "-", "-"
    )
    Person(core, "UOTHER", workspace, "slack").script(
        "/pilot feedback Dokumentensuche", "ja", "2", "0", "9", "-", "Langsam", "-"
    )
    named, anonymous = entries(core, pilot.id)
    admin = Person(core, "UADMIN", workspace, "slack")

    reply = admin.say("/pilot export csv")
    assert reply.answered and len(reply.files) == 1 and reply.files[0].name.endswith(".csv")
    with open(reply.files[0].path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    # an anonymous entry keeps only its day, and comes after the named ones: neither id nor place tells who
    assert [
        (
            r["id"],
            r["pilot"],
            r["author"],
            r["anonymous"],
            r["satisfaction"],
            r["minutes_saved_per_week"],
            r["works"],
            r["not_working"],
            r["KPI Dokumentensuche: Suchzeit [min]"],
        )
        for r in rows
    ] == [
        (str(named.id), "Dokumentensuche", "UEMPLOYEE", "no", "4", "30", "Schnell", "", "5"),
        ("", "Dokumentensuche", "", "yes", "2", "0", "", "Langsam", "9"),  # anonymous: no id, after the named
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", rows[1]["created_at"])  # its day only, no made-up 00:00:00
    assert not rows[0]["created_at"].endswith("T00:00:00+00:00")

    reply = admin.say("/pilot export xlsx")
    assert reply.answered and len(reply.files) == 1 and reply.files[0].name.endswith(".xlsx")
    # a workbook for the IT lead: German sheets and headers, times in Berlin (said so), € formats, filters
    book = openpyxl.load_workbook(reply.files[0].path)
    assert book.sheetnames == ["Übersicht", "Piloten", "KPIs", "Rückmeldungen", "Bewertungen der Antworten"]
    feedback = book["Rückmeldungen"]
    sheet = [[c.value for c in row] for row in feedback.iter_rows()]
    header = list(sheet[0])
    assert header[:4] == ["Nr.", "Pilot", "Zeitpunkt (Europe/Berlin)", "Von"]
    got = [dict(zip(header, r, strict=True)) for r in sheet[1:]]
    assert [(g["Nr."], g["Von"], g["Anonym"], g["Zufriedenheit (1–5)"], g["KPI Dokumentensuche: Suchzeit [min]"])
            for g in got] == [(named.id, "UEMPLOYEE", "nein", 4, 5), (None, None, "ja", 2, 9)]  # fmt: skip
    assert (
        feedback.freeze_panes == "A2"
        and feedback.auto_filter.ref == f"A1:{feedback.cell(1, len(header)).column_letter}3"
    )
    pilots = book["Piloten"]
    assert [r[2] for r in pilots.iter_rows(min_row=2, values_only=True)] == ["Dokumentensuche"]
    monthly = [c for c in pilots[1] if c.value == "Laufende Kosten (€/Monat)"][0].column_letter
    assert "€" in pilots[f"{monthly}2"].number_format and pilots.auto_filter.ref == "A1:N2"
    book.close()


# -- English ---------------------------------------------------------------------------------------


@both_databases
def test_the_quarter_report_in_english(core, workspace):
    scope = f"slack:{workspace}"
    pilot = seed_pilot(core, scope, users=20, hourly_rate=50, one_off_cost=6000, monthly_cost=500, kpis=[])
    with core.services.pilot_store.db.session() as s:
        for number, (rating, minutes) in enumerate(((5, 30), (4, 60), (3, 90))):
            core.services.pilot_store.add_entry(
                s,
                pilot.id,
                f"{scope}:u{number}",
                f"u{number}",
                Entry(rating, minutes_saved=minutes),
                created_at=datetime(2026, 11, 2 + number, tzinfo=UTC),
            )
    reply = Person(core, "UADMIN", workspace, "slack").say("/pilot report quarter 2026-Q4")
    assert reply.language == "en" and reply.answered
    assert reply.text.startswith("*ROI report 2026-Q4* · pilots: 1")
    # mean rating (5 + 4 + 3) / 3 = 4; minutes 60 → 86.67 h × 50 € = 4333 € a month; ROI +333.3 %, payback 2
    assert "Costs: running 500 € a month · one-off 6,000 €" in reply.text
    assert "Responses: 3 · satisfaction mean 4 · benefit 4,333 € a month" in reply.text
    assert "• Dokumentensuche: responses: 3 · mean 4 · " in reply.text
    assert "projected 12-month ROI +333.3 % · payback (projected): month 2" in reply.text
    assert "Rückmeldung" not in reply.text and "Zufriedenheit" not in reply.text
    assert reply.images and all("2026-Q4" in image.alt for image in reply.images)
    kinds = {"KPIs: baseline, now and target", "Satisfaction ratings", "ROI over time"}
    assert {image.alt.split(" – ")[0] for image in reply.images} <= kinds


# -- changing a group entry ----------------------------------------------------------------------


@both_databases
def test_changing_a_group_entry_keeps_its_group_question_and_size(core, workspace):
    pilot = seed_pilot(core, f"slack:{workspace}", kpis=[])
    champion = Person(core, "UCHAMP", workspace, "slack")
    champion.script("/pilot gruppe Dokumentensuche", "5", "4", "40", "-", "-", "-")
    (row,) = entries(core, pilot.id)
    assert row.group_size == 5

    reply = champion.say(f"/pilot ändern {row.id}")
    assert step(reply) == "group_size"  # the edit asks the group's size again …
    reply = champion.say("3")
    assert step(reply) == "satisfaction", reply.text  # … and takes the answer as the size
    champion.script("2", "20", "-", "-", "-")
    (changed,) = entries(core, pilot.id)
    assert (changed.id, changed.group_size, changed.satisfaction, changed.minutes_saved) == (row.id, 3, 2, 20)
