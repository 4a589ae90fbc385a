"""Exports of the pilot feedback (CSV and XLSX, read back with the csv module and openpyxl) and the
PNG charts of pilot and quarter reports, on a database of the test's own (SQLite; the exports on PostgreSQL too)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime

import openpyxl
import pytest

from bot.pilots import charts
from bot.pilots.charts import render_pilot, render_quarter
from bot.pilots.export import export_feedback
from bot.pilots.report import AnswerFigures, Report, Reports
from bot.pilots.store import Entry, Kpi, PilotStore
from bot.storage.db import Database
from bot.storage.models import AnswerFeedbackRow, MessageRow
from tests.conftest import both_databases

PNG = b"\x89PNG\r\n\x1a\n"
HYPERLINK = '=HYPERLINK("http://evil.example","klick")'
FEEDBACK_HEADER = ["id", "pilot", "created_at", "author", "anonymous", "group_size", "satisfaction",
                   "minutes_saved_per_week", "works", "not_working", "comment"]  # fmt: skip
KPI_HEADERS = ["KPI Rechnungseingang: Durchlaufzeit [min]", "KPI Rechnungseingang: Fehlerquote [%]",
               "KPI Angebote: Angebote pro Tag"]  # fmt: skip


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 10, day, hour, 30, tzinfo=UTC)


@pytest.fixture
def db(database_url) -> Database:
    return Database(database_url)


@pytest.fixture
def store(db) -> PilotStore:
    return PilotStore(db, b"k" * 32)


@pytest.fixture
def data(db, store) -> dict:
    """Two pilots in teams:t1 (one with an anonymous entry, a group entry and texts that look like
    formulas), one in another workspace, and feedback on Lotse's answers from both workspaces."""
    invoices = store.create(
        "teams:t1",
        "Rechnungseingang",
        "teams:t1:it",
        start=date(2026, 9, 1),
        end=date(2027, 3, 31),
        users=20,
        use_case="Rechnungen vorerfassen",
        owner="Frau Berg",
        anonymous=True,
        one_off_cost=5000.0,
        monthly_cost=300.0,
        hourly_rate=60.0,
        kpis=[
            Kpi("Durchlaufzeit", "min", "lower", 40, 30, method="Ticketsystem"),
            Kpi("Fehlerquote", "%", "lower", 5, 3),
        ],
    )
    offers = store.create(
        "teams:t1",
        "Angebote",
        "teams:t1:it",
        start=date(2026, 10, 1),
        end=date(2026, 12, 31),
        users=5,
        kpis=[Kpi("Angebote pro Tag", "", "higher", 10, 14)],
    )
    other = store.create("slack:w2", "=Böse", "slack:w2:x", start=date(2026, 10, 1), end=date(2026, 12, 31))
    cycle, errors = (k.id for k in store.kpis(invoices.id))
    (per_day,) = (k.id for k in store.kpis(offers.id))
    with db.session() as s:
        ids = {
            "anna": store.add_entry(
                s,
                invoices.id,
                "teams:t1:anna",
                "Anna Muster",
                Entry(4, minutes_saved=30, kpis={cycle: 35, errors: 4.5}, works="Schneller", comment=HYPERLINK),
                created_at=at(5),
            ).id,
            "anonymous": store.add_entry(
                s,
                invoices.id,
                "teams:t1:bert",
                "Bert Geheim",
                Entry(
                    2,
                    kpis={cycle: 38},
                    not_working="-langsam beim Import",
                    comment="Zeile\x07mit Steuerzeichen",
                    anonymous=True,
                ),
                created_at=at(6),
            ).id,
            "group": store.add_entry(
                s,
                invoices.id,
                "teams:t1:carla",
                "Carla Champion",
                Entry(5, minutes_saved=45.5, works="@alle sparen Zeit", comment="\tTab vorn", group_size=4),
                created_at=at(7),
            ).id,
            "offers": store.add_entry(
                s, offers.id, "teams:t1:anna", "Anna Muster", Entry(3, kpis={per_day: 12}), created_at=at(8)
            ).id,
            "other": store.add_entry(
                s, other.id, "slack:w2:x", "Xaver", Entry(1, comment="+1 von mir"), created_at=at(9)
            ).id,
        }
        message = MessageRow(conversation="teams:t1:anna:c1", role="assistant", text="Urlaub beantragen Sie …")
        s.add(message)
        s.flush()
        s.add_all(
            [
                AnswerFeedbackRow(
                    message_id=message.id,
                    user="teams:t1:anna",
                    rating=-1,
                    reason="outdated",
                    comment="=1+1",
                    question="Wie beantrage ich Urlaub?",
                    created_at=at(10),
                ),
                AnswerFeedbackRow(
                    message_id=None, user="teams:t1:bert", rating=4, comment="Hilfreich", created_at=at(11)
                ),
                AnswerFeedbackRow(message_id=None, user="slack:w2:x", rating=1, created_at=at(12)),
            ]
        )
    return {"invoices": invoices, "offers": offers, "other": other, "entries": ids}


def read_csv(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# -- CSV ---------------------------------------------------------------------------------------


@both_databases
def test_csv_has_one_row_per_entry_with_kpi_columns(db, data, tmp_path):
    path = export_feedback(db, "csv", tmp_path / "out" / "feedback.csv", scope="teams:t1")

    assert path == tmp_path / "out" / "feedback.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    with path.open(encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f))
    assert header == FEEDBACK_HEADER + KPI_HEADERS
    rows = {row["id"] or "anonymous": row for row in read_csv(path)}
    ids = data["entries"]
    # not the other scope; the anonymous entry after the named ones of its pilot, without an id that
    # follows the order of saving (it was saved between Anna's and Carla's)
    assert list(rows) == [str(ids["anna"]), str(ids["group"]), "anonymous", str(ids["offers"])]

    anna = rows[str(ids["anna"])]
    assert anna == {
        "id": str(ids["anna"]),
        "pilot": "Rechnungseingang",
        "created_at": "2026-10-05T11:30:00+02:00",  # Berlin time with its offset: the same instant as 09:30 UTC
        "author": "Anna Muster",
        "anonymous": "no",
        "group_size": "1",
        "satisfaction": "4",
        "minutes_saved_per_week": "30",
        "works": "Schneller",
        "not_working": "",
        "comment": "'" + HYPERLINK,
        KPI_HEADERS[0]: "35",
        KPI_HEADERS[1]: "4.5",
        KPI_HEADERS[2]: "",
    }
    anonymous = rows["anonymous"]
    assert anonymous["author"] == "" and anonymous["anonymous"] == "yes"
    assert anonymous["id"] == "" and anonymous["created_at"] == "2026-10-06"  # its day, no made-up time
    assert anonymous["not_working"] == "'-langsam beim Import"
    assert anonymous["minutes_saved_per_week"] == ""
    assert [anonymous[h] for h in KPI_HEADERS] == ["38", "", ""]
    group = rows[str(ids["group"])]
    assert (group["group_size"], group["minutes_saved_per_week"]) == ("4", "45.5")
    assert (group["works"], group["comment"]) == ("'@alle sparen Zeit", "'\tTab vorn")
    assert [group[h] for h in KPI_HEADERS] == ["", "", ""]
    offers = rows[str(ids["offers"])]
    assert (offers["pilot"], [offers[h] for h in KPI_HEADERS]) == ("Angebote", ["", "", "12"])


@both_databases
def test_csv_of_all_scopes_neutralises_names_too(db, data, tmp_path):
    path = export_feedback(db, "CSV", tmp_path)  # a folder: the file gets a name in it

    assert path == tmp_path / "pilot-feedback.csv"
    rows = read_csv(path)
    assert len(rows) == 5
    assert rows[-1]["pilot"] == "'=Böse"
    assert rows[-1]["comment"] == "'+1 von mir"
    assert not list(tmp_path.glob("*.part"))


def test_unknown_format_names_the_allowed_ones(db, tmp_path):
    with pytest.raises(ValueError, match="csv, xlsx"):
        export_feedback(db, "pdf", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


@both_databases
def test_export_without_pilots_has_only_the_header(db, tmp_path):
    path = export_feedback(db, "csv", tmp_path / "empty.csv")
    with path.open(encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f)) == [FEEDBACK_HEADER]
    book = openpyxl.load_workbook(export_feedback(db, "xlsx", tmp_path / "empty.xlsx"))
    assert [book[name].max_row for name in book.sheetnames] == [1, 1, 1, 1]


# -- XLSX --------------------------------------------------------------------------------------


@both_databases
def test_xlsx_sheets_and_cells(db, data, tmp_path):
    path = export_feedback(db, "xlsx", tmp_path / "feedback.xlsx", scope="teams:t1")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Pilots", "KPIs", "Feedback", "Answer feedback"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.b for cell in sheet[1])

    pilots = [[c.value for c in row] for row in book["Pilots"].iter_rows()]
    assert pilots[0] == [
        "id",
        "scope",
        "name",
        "use_case",
        "owner",
        "start",
        "end",
        "users",
        "anonymous",
        "one_off_cost",
        "monthly_cost",
        "hourly_rate",
        "created_by",
        "created_at (Europe/Berlin)",  # every export's times are Berlin's, and a workbook's header says so
    ]
    assert pilots[1][:13] == [
        data["invoices"].id,
        "teams:t1",
        "Rechnungseingang",
        "Rechnungen vorerfassen",
        "Frau Berg",
        datetime(2026, 9, 1),
        datetime(2027, 3, 31),
        20,
        "yes",
        5000,
        300,
        60,
        "teams:t1:it",
    ]
    assert isinstance(pilots[1][13], datetime)
    assert [row[2] for row in pilots[1:]] == ["Rechnungseingang", "Angebote"]

    kpis = [[c.value for c in row] for row in book["KPIs"].iter_rows()]
    assert kpis == [
        ["pilot", "name", "unit", "direction", "baseline", "target", "method"],
        ["Rechnungseingang", "Durchlaufzeit", "min", "lower", 40, 30, "Ticketsystem"],
        ["Rechnungseingang", "Fehlerquote", "%", "lower", 5, 3, None],
        ["Angebote", "Angebote pro Tag", None, "higher", 10, 14, None],
    ]

    sheet = book["Feedback"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == [c if c != "created_at" else "created_at (Europe/Berlin)" for c in FEEDBACK_HEADER] + KPI_HEADERS
    ids = data["entries"]
    assert rows[1] == [
        ids["anna"],
        "Rechnungseingang",
        datetime(2026, 10, 5, 11, 30),  # 09:30 UTC
        "Anna Muster",
        "no",
        1,
        4,
        30,
        "Schneller",
        None,
        "'" + HYPERLINK,
        35,
        4.5,
        None,
    ]
    assert rows[2][5:11] == [4, 5, 45.5, "'@alle sparen Zeit", None, "'\tTab vorn"]  # Carla's, named, first
    assert rows[3] == [  # the anonymous entry: after the named ones, no id, its day as text (no made-up time)
        None,
        "Rechnungseingang",
        "2026-10-06",
        None,
        "yes",
        1,
        2,
        None,
        None,
        "'-langsam beim Import",
        "Zeilemit Steuerzeichen",
        38,
        None,
        None,
    ]
    assert rows[4][:2] == [ids["offers"], "Angebote"] and rows[4][11:] == [None, None, 12]
    assert len(rows) == 5
    comment = sheet.cell(row=2, column=11)
    assert comment.data_type == "s"  # text, not a formula
    assert sheet.cell(row=2, column=12).data_type == "n"  # numbers stay numbers
    assert sheet.cell(row=2, column=3).is_date
    assert sheet.column_dimensions["K"].width == 50

    answers = [[c.value for c in row] for row in book["Answer feedback"].iter_rows()]
    assert answers == [
        ["id", "created_at (Europe/Berlin)", "kind", "rating", "reason", "comment", "question"],
        [answers[1][0], datetime(2026, 10, 10, 11, 30), "answer", -1, "outdated", "'=1+1", "Wie beantrage ich Urlaub?"],
        [answers[2][0], datetime(2026, 10, 11, 11, 30), "general", 4, None, "Hilfreich", None],
    ]  # the other workspace's feedback is not in it, and no user column


@both_databases
def test_xlsx_of_all_scopes(db, data, tmp_path):
    book = openpyxl.load_workbook(export_feedback(db, "xlsx", tmp_path / "all.xlsx"))
    assert book["Feedback"].max_row == 6
    assert book["Pilots"]["C4"].value == "'=Böse"
    assert book["Answer feedback"].max_row == 4


# -- charts ------------------------------------------------------------------------------------


def assert_png(path) -> None:
    content = path.read_bytes()
    assert content.startswith(PNG) and len(content) > 1024, path


def test_pilot_charts(db, data, tmp_path):
    figures = Reports(db).pilot(data["invoices"].id)
    assert not figures.withheld and len(figures.kpis) == 2

    paths = render_pilot(figures, tmp_path / "charts", "de", "rechnungen")

    assert paths == [tmp_path / "charts" / "rechnungen-kpis.png", tmp_path / "charts" / "rechnungen-ratings.png"]
    for path in paths:
        assert_png(path)


def test_pilot_chart_without_data_is_skipped(db, store, tmp_path):
    bare = store.create("teams:t1", "Leer", "teams:t1:it", start=date(2026, 10, 1), end=date(2026, 12, 31))
    measured = store.create(
        "teams:t1",
        "Nur KPIs",
        "teams:t1:it",
        start=date(2026, 10, 1),
        end=date(2026, 12, 31),
        kpis=[Kpi("Tickets", "Stück", "lower", 0, 10)],
    )
    reports = Reports(db)

    assert render_pilot(reports.pilot(bare.id), tmp_path, "en", "bare") == []
    paths = render_pilot(reports.pilot(measured.id), tmp_path, "en", "measured")  # no ratings yet; baseline 0
    assert paths == [tmp_path / "measured-kpis.png"]
    assert_png(paths[0])
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["measured-kpis.png"]


@both_databases
def test_withheld_pilot_gets_no_charts(db, store, tmp_path):
    pilot = store.create(
        "teams:t1",
        "Klein",
        "teams:t1:it",
        start=date(2026, 10, 1),
        end=date(2026, 12, 31),
        anonymous=True,
        kpis=[Kpi("Dauer", "min", "lower", 10, 5)],
    )
    with db.session() as s:
        store.add_entry(s, pilot.id, "teams:t1:a", "A", Entry(5, anonymous=True), created_at=at(3))
    figures = Reports(db).pilot(pilot.id)
    assert figures.withheld

    assert render_pilot(figures, tmp_path, "de", "klein") == []
    assert not list(tmp_path.glob("*.png"))


def test_quarter_charts(db, data, tmp_path):
    report = Reports(db).quarter(None, "2026-Q4")
    assert any(value is not None for _, value in report.roi_timeline)

    paths = render_quarter(report, tmp_path, "en", "2026-q4")

    assert [p.name for p in paths] == ["2026-q4-kpis.png", "2026-q4-ratings.png", "2026-q4-roi.png"]
    for path in paths:
        assert_png(path)


def test_quarter_without_pilots_draws_nothing(db, data, tmp_path):
    report = Reports(db).quarter(None, "2025-Q1")
    assert report.pilots == []
    assert render_quarter(report, tmp_path, "de", "leer") == []
    assert not list(tmp_path.glob("*.png"))


def test_roi_chart_skips_missing_months(tmp_path):
    answers = AnswerFigures()
    gaps = Report("2026-Q4", None, None, [], answers, [("2026-10", None), ("2026-11", -40.0), ("2026-12", 12.5)])
    assert render_quarter(gaps, tmp_path, "de", "gaps") == [tmp_path / "gaps-roi.png"]
    assert_png(tmp_path / "gaps-roi.png")
    empty = Report("2026-Q4", None, None, [], answers, [("2026-10", None), ("2026-11", None)])
    assert render_quarter(empty, tmp_path, "de", "empty") == []


def test_quarter_kpi_chart_caps_at_24_measured_first(db, store, tmp_path, monkeypatch):
    for number in range(50):
        pilot = store.create(
            "teams:t1",
            f"Pilot {number:02d}",
            "teams:t1:it",
            start=date(2026, 10, 1),
            end=date(2026, 12, 31),
            users=10,
            one_off_cost=1000,
            monthly_cost=100,
            hourly_rate=50,
            kpis=[Kpi(f"KPI {k}", "min", "lower", 40, 30) for k in range(3)],
        )
        if number % 10 == 9:  # five pilots have measurements
            kpis = {k.id: 33.0 for k in store.kpis(pilot.id)}
            with db.session() as s:
                store.add_entry(s, pilot.id, "teams:t1:u", "U", Entry(4, minutes_saved=20, kpis=kpis), created_at=at(4))
    drawn = []
    real = charts._kpi_chart

    def spy(plt, kpis, title, subtitle, *rest):
        drawn.append((kpis, subtitle))
        return real(plt, kpis, title, subtitle, *rest)

    monkeypatch.setattr(charts, "_kpi_chart", spy)
    report = Reports(db).quarter("teams:t1", "2026-Q4")

    paths = render_quarter(report, tmp_path, "de", "q")

    assert [p.name for p in paths] == ["q-kpis.png", "q-ratings.png", "q-roi.png"]
    ((kpis, subtitle),) = drawn
    assert len(kpis) == 24 and subtitle.endswith("+126 weitere")
    labels = [label for label, _ in kpis]
    assert sum(kpi.now is not None for _, kpi in kpis) == 15  # all measured ones are in
    assert labels[0] == "Pilot 00 · KPI 0\n(niedriger ist besser)"
    assert "Pilot 49 · KPI 2\n(niedriger ist besser)" in labels


def test_a_workbook_for_people_is_in_their_language_and_berlin_time(db, data, tmp_path):
    path = export_feedback(db, "xlsx", tmp_path / "de.xlsx", scope="teams:t1", language="de")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Übersicht", "Piloten", "KPIs", "Rückmeldungen", "Bewertungen der Antworten"]
    rows = [[c.value for c in row] for row in book["Rückmeldungen"].iter_rows()]
    assert rows[0][:3] == ["Nr.", "Pilot", "Zeitpunkt (Europe/Berlin)"]
    assert rows[1][2] == datetime(2026, 10, 5, 11, 30)  # 09:30 UTC is 11:30 in Berlin (summer time)
    assert all(sheet.auto_filter.ref and sheet.freeze_panes == "A2" for sheet in book.worksheets)
    english = openpyxl.load_workbook(export_feedback(db, "xlsx", tmp_path / "en.xlsx", language="en"))
    assert english.sheetnames == ["Summary", "Pilots", "KPIs", "Feedback", "Answer feedback"]
    assert [c.value for c in english["Pilots"][1]][:3] == ["No.", "Team", "Name"]


def test_a_workbook_for_people_starts_with_the_reports_figures(db, data, tmp_path):
    book = openpyxl.load_workbook(export_feedback(db, "xlsx", tmp_path / "de.xlsx", scope="teams:t1", language="de"))
    summary = book["Übersicht"]
    rows = [[c.value for c in row] for row in summary.iter_rows()]
    assert rows[0][:4] == ["Pilot", "Start", "Ende", "Rückmeldungen"]
    assert rows[0][8] == "ROI-Prognose 12 Monate"
    invoices, offers = rows[1], rows[2]
    # Rechnungseingang: 3 entries (the group of 4 counts once); minutes weighted by group size:
    # (30 × 1 + 45.5 × 4) / 5 = 42.4 min/week × 20 users × 52/12 / 60 = 61.24 h/month × 60 € = 3,674.67 €
    # cost over 12 months 5,000 + 12 × 300 = 8,600 €; ROI (12 × 3,674.67 − 8,600) / 8,600 = +412.7 %;
    # payback: 5,000 / (3,674.67 − 300) = 1.48 → month 2
    assert invoices[0] == "Rechnungseingang" and invoices[3] == 3
    assert invoices[5] == pytest.approx(61.2444, abs=1e-3) and invoices[6] == pytest.approx(3674.667, abs=1e-2)
    assert invoices[7] == 8600 and invoices[8] == pytest.approx(4.1274, abs=1e-3) and invoices[9] == 2
    assert summary.cell(2, 9).number_format == "0.0%" and summary.cell(2, 7).number_format == '#,##0.00 "€"'
    # Angebote: no time saved recorded, so no benefit or ROI, and the row says why
    assert offers[0] == "Angebote" and offers[5:7] == [None, None] and offers[11] == "Noch keine gesparte Zeit erfasst"
    assert rows[0][10] == "ROI bisher (gemessen)" and isinstance(invoices[10], float)  # measured, beside the forecast
    # the KPIs sheet adds the mean now and the progress: Durchlaufzeit 40 → 30, now (35 + 38) / 2 = 36.5: 35 %
    kpis = [[c.value for c in row] for row in book["KPIs"].iter_rows()]
    assert kpis[0][-2:] == ["Aktuell (Ø)", "Fortschritt zum Ziel"]
    assert kpis[1][0:2] == ["Rechnungseingang", "Durchlaufzeit"] and kpis[1][-2] == pytest.approx(36.5)
    assert kpis[1][-1] == pytest.approx(0.35)
