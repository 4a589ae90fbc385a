"""Pilots, feedback and the retention purge through the real `lotse` command (subprocesses, no network):
`lotse pilot list|show|report`, `lotse pilot report --quarter … -o DIR`, `lotse feedback export` and
`lotse purge`. The data is written beforehand with the store the CLI reads, under the data folder's
author key (kept in the database), as `lotse chat` would have left it.

The report figures are worked out by hand for this data:
- 3 responses (ratings 4, 5, 3) → mean 4; minutes saved 30, 60, 30 → 40 min per person and week;
  × 20 users × 52/12 weeks / 60 → 57.8 h a month; × 60 €/h → 3,467 € a month.
- costs 5,000 € one-off + 500 € a month: 12 months cost 11,000 €, save 41,600 € → ROI +278.2 %;
  payback: n × 3,466.67 ≥ 5,000 + n × 500 first for n = 2 → month 2 (11/2026 for a start in 10/2026).
- search time (lower is better): baseline 15, target 3, measured 6, 4, 8 → now 6 = −60 %, 75 % of the way.
- requests per day (higher is better): baseline 20, target 30, measured 25, 27 → now 26 = +30 %, 60 %.
- quarter 2026-Q4, cumulative ROI at the end of December: costs 5,000 + 3 × 500 = 6,500 €; savings from
  November on (no feedback in October): 2 × 3,466.67 = 6,933.33 € → +6.7 %.
"""

from __future__ import annotations

import getpass
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from bot.pilots.store import Entry, Kpi, PilotStore
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import MessageRow
from tests.conftest import both_databases

from .test_cli import guard_dir, lotse  # noqa: F401  (guard_dir is a fixture)


def store_in(url: str) -> PilotStore:
    return PilotStore(Database(url))  # the key the CLI reads from the database


@pytest.fixture
def data_url(database, request, tmp_path) -> str:
    """The database `lotse` uses: the data folder's SQLite file, or for a test marked @both_databases also
    a PostgreSQL database (passed on as LOTSE_DATABASE_URL)."""
    if database == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'lotse.db'}"
    return request.getfixturevalue("database_url")


def database_env(url: str) -> dict[str, str]:
    return {} if url.startswith("sqlite:") else {"LOTSE_DATABASE_URL": url}


@pytest.fixture
def data_dir(tmp_path, data_url) -> Path:
    """A data folder with one pilot, two KPIs and three feedback entries in 2026-Q4 (one anonymous)."""
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    store = store_in(data_url)
    pilot = store.create(
        "console:local",
        "Dokumentensuche",
        "console:local:anna",
        start=date(2026, 10, 1),
        end=date(2026, 12, 31),
        users=20,
        use_case="Verträge schneller finden",
        owner="Anna Berg",
        one_off_cost=5000.0,
        monthly_cost=500.0,
        hourly_rate=60.0,
        kpis=[
            Kpi("Suchzeit pro Dokument", "min", "lower", 15.0, 3.0),
            Kpi("Erledigte Anfragen pro Tag", "", "higher", 20.0, 30.0),
        ],
    )
    search, requests = store.kpis(pilot.id)
    entries = [
        ("ben", Entry(4, 30, {search.id: 6, requests.id: 25}, works="Findet Verträge sofort")),
        ("cem", Entry(5, 60, {search.id: 4, requests.id: 27})),
        ("dana", Entry(3, 30, {search.id: 8}, not_working="Suche bei Scans langsam", anonymous=True)),
    ]
    with store.db.session() as s:
        for day, (user, entry) in enumerate(entries, 10):
            store.add_entry(
                s, pilot.id, f"console:local:{user}", user, entry, created_at=datetime(2026, 11, day, 9, tzinfo=UTC)
            )
    store.db.dispose()
    return folder


def run(args: list[str], data_dir: Path, guard: Path, **env):
    result = lotse(args, data_dir, guard, **env)
    assert "NETWORK" not in result.stderr
    return result


def test_pilot_list_shows_the_pilot_with_its_kpis_and_responses(data_dir, guard_dir):  # noqa: F811
    result = run(["pilot", "list"], data_dir, guard_dir)
    assert result.returncode == 0, result.stderr
    header, line = result.stdout.strip().splitlines()
    assert header.split() == ["#", "start", "end", "users", "KPIs", "responses", "scope", "name"]
    assert line.split() == ["1", "2026-10-01", "2026-12-31", "20", "2", "3", "console:local", "Dokumentensuche"]


def test_pilot_list_without_pilots_says_how_to_register_one(tmp_path, guard_dir):  # noqa: F811
    result = run(["pilot", "list"], tmp_path / "empty", guard_dir)
    assert result.returncode == 0 and result.stdout == ""  # an empty list is no error (issue 24)
    assert "/pilot neu" in result.stderr


def test_pilot_show_by_name_beginning_and_by_number(data_dir, guard_dir):  # noqa: F811
    for name in ("Doku", "1", "dokumentensuche"):
        result = run(["pilot", "show", name], data_dir, guard_dir)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [
            "Dokumentensuche (console:local) · 2026-10-01 – 2026-12-31 · users: 20 · Anna Berg",
            "Verträge schneller finden",
            "• Suchzeit pro Dokument: Ausgangswert 15 min, Ziel 3 min (−80 %; niedriger ist besser)",
            "• Erledigte Anfragen pro Tag: Ausgangswert 20, Ziel 30 (+50 %; höher ist besser)",
            "one-off 5000 € · monthly 500 € · 60 €/h",
        ], name
    unknown = run(["pilot", "show", "Chatbot"], data_dir, guard_dir)
    assert unknown.returncode == 2 and "no pilot 'Chatbot'" in unknown.stderr


def test_pilot_report_prints_the_figures_worked_out_by_hand(data_dir, guard_dir, tmp_path):  # noqa: F811
    charts = tmp_path / "charts"
    result = run(["pilot", "report", "Dokumentensuche", "-o", str(charts)], data_dir, guard_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == "Bericht Pilot „Dokumentensuche“ · 01.10.2026 bis 31.12.2026 · Nutzer: 20 · verantwortlich: Anna Berg"
    )
    assert "Rückmeldungen: 3 (Personen: 3) · Zufriedenheit Ø 4 von 5 · 1★ 0 · 2★ 0 · 3★ 1 · 4★ 1 · 5★ 1" in lines
    assert (
        "🟢 Suchzeit pro Dokument: jetzt 6 min · Ausgangswert 15 min · Ziel 3 min → −60,0 % ggü. Ausgangswert, "
        "75 % des Wegs zum Ziel (Messwerte: 3; niedriger ist besser)"
    ) in lines
    assert (
        "🟢 Erledigte Anfragen pro Tag: jetzt 26 · Ausgangswert 20 · Ziel 30 → +30,0 % ggü. Ausgangswert, "
        "60 % des Wegs zum Ziel (Messwerte: 2; höher ist besser)"
    ) in lines
    assert (
        "Zeitersparnis: Ø 40 min pro Person und Woche → 57,8 h im Monat (Nutzer: 20) = 3.467 € im Monat (zu 60 €/h)"
    ) in lines
    assert (
        "ROI-Prognose 12 Monate (zum heutigen Nutzen): +278,2 % · Amortisation (Prognose) im 2. Monat (11/2026)"
        in lines
    )
    assert "Was funktioniert: „Findet Verträge sofort“" in lines
    assert "Was nicht funktioniert: „Suche bei Scans langsam“" in lines
    assert "dana" not in result.stdout  # the anonymous entry's author is nowhere
    written = sorted(p.name for p in charts.iterdir() if p.suffix == ".png")
    assert written == ["pilot-1-kpis.png", "pilot-1-ratings.png"]
    assert all((charts / n).read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for n in written)
    report = (charts / "report.md").read_text(encoding="utf-8")  # as --help promises, beside the charts
    assert "ROI-Prognose 12 Monate" in report and "![pilot-1-kpis](pilot-1-kpis.png)" in report


def test_quarter_report_writes_markdown_and_charts(data_dir, guard_dir, tmp_path):  # noqa: F811
    out = tmp_path / "roi"
    # as of a day after the quarter, so that its ROI timeline runs to December whatever the date today
    result = run(
        ["pilot", "report", "--quarter", "2026-Q4", "--as-of", "2027-01-15", "-o", str(out)], data_dir, guard_dir
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ROI-Bericht 2026-Q4 · Piloten: 1",
        "Kosten: laufend 500 € im Monat · einmalig 5.000 €",
        "Rückmeldungen: 3 · Zufriedenheit Ø 4 · Nutzen 3.467 € im Monat",
        "ROI bisher (kumuliert vom Start bis 2026-12, Kosten einschließlich der einmaligen gegen den bisher "
        "gemessenen Nutzen): +6,7 %. Die Zahlen je Pilot unten sind Prognosen über 12 Monate zum heutigen Nutzen "
        "– vor der Amortisation ist der bisherige ROI noch negativ.",
        "• Dokumentensuche: Rückmeldungen: 3 · Ø 4 · KPIs verbessert (von den gemessenen): 2/2 · "
        "ROI-Prognose 12 Monate +278,2 % · Amortisation (Prognose): Monat 2 (⚠️ hochgerechnet aus den Angaben von 3 "
        "Personen)",
    ]
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["roi-2026-Q4-kpis.png", "roi-2026-Q4-ratings.png", "roi-2026-Q4-roi.png"]
    for name in pngs:
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "| Dokumentensuche | 3 | 4 | 3.467 € | 500 € | +278,2 % ⚠️ | 2 |" in markdown
    assert all(f"![{Path(n).stem}]({n})" in markdown for n in pngs)
    assert f"wrote {out / 'report.md'} and 3 charts" in result.stderr
    # the heading is the report's title, without the chat's bold markers
    assert markdown.splitlines()[0] == "# ROI-Bericht 2026-Q4 · Piloten: 1"


def test_a_quarter_without_pilots_and_a_malformed_quarter(data_dir, guard_dir, tmp_path):  # noqa: F811
    empty = run(["pilot", "report", "--quarter", "2025q1", "-o", str(tmp_path / "q1")], data_dir, guard_dir)
    assert empty.returncode == 0, empty.stderr
    assert "In diesem Quartal lief kein Pilot." in empty.stdout and "Piloten: 0" in empty.stdout
    assert list((tmp_path / "q1").glob("*.png")) == []
    bad = run(["pilot", "report", "--quarter", "Herbst", "-o", str(tmp_path / "x")], data_dir, guard_dir)
    assert bad.returncode == 2 and "--quarter wants YYYY-Qn" in bad.stderr


def test_feedback_export_xlsx_is_a_workbook_openpyxl_opens(data_dir, guard_dir, tmp_path):  # noqa: F811
    target = tmp_path / "rueckmeldungen.xlsx"
    result = run(["feedback", "export", "--format", "xlsx", "-o", str(target)], data_dir, guard_dir)
    assert result.returncode == 0, result.stderr
    assert f"wrote {target}" in result.stderr
    workbook = openpyxl.load_workbook(target)
    assert workbook.sheetnames == ["Pilots", "KPIs", "Feedback", "Answer feedback"]
    rows = list(workbook["Feedback"].iter_rows(values_only=True))
    header = rows[0]
    by_column = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert [(r["author"], r["anonymous"], r["satisfaction"], r["minutes_saved_per_week"]) for r in by_column] == [
        ("ben", "no", 4, 30),
        ("cem", "no", 5, 60),
        (None, "yes", 3, 30),
    ]
    assert [r["KPI Dokumentensuche: Suchzeit pro Dokument [min]"] for r in by_column] == [6, 4, 8]
    pilots = list(workbook["Pilots"].iter_rows(values_only=True))
    assert len(pilots) == 2 and pilots[1][2] == "Dokumentensuche"
    kpis = [row[1] for row in workbook["KPIs"].iter_rows(min_row=2, values_only=True)]
    assert kpis == ["Suchzeit pro Dokument", "Erledigte Anfragen pro Tag"]


def test_feedback_export_csv(data_dir, guard_dir, tmp_path):  # noqa: F811
    import csv

    target = tmp_path / "f.csv"
    result = run(["feedback", "export", "--format", "csv", "-o", str(target)], data_dir, guard_dir)
    assert result.returncode == 0, result.stderr
    with open(target, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["author"], r["satisfaction"]) for r in rows] == [("ben", "4"), ("cem", "5"), ("", "3")]
    [entry] = AuditLog(Database(f"sqlite:///{data_dir / 'lotse.db'}")).entries(action="data.export")
    assert (entry.actor, entry.target) == (f"cli:{getpass.getuser()}", "pilot_feedback")  # who exported, logged
    assert json.loads(entry.detail) == {"format": "csv", "scope": "all"}


def test_feedback_export_to_stdout_with_a_dash(data_dir, guard_dir, tmp_path):  # noqa: F811
    """The newcomer's run: `lotse feedback export --format csv | head` wrote a file and printed nothing to
    read; `-o -` writes the file's bytes to stdout, and no file is left behind."""
    import csv

    result = run(["feedback", "export", "--format", "csv", "-o", "-"], data_dir, guard_dir)
    assert result.returncode == 0 and "wrote" not in result.stderr, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout.removeprefix("\ufeff"))))
    assert [(r["author"], r["satisfaction"]) for r in rows] == [("ben", "4"), ("cem", "5"), ("", "3")]
    assert not list(Path.cwd().glob("lotse-feedback.*"))
    written = run(["feedback", "export", "--format", "csv", "-o", str(tmp_path / "f.csv")], data_dir, guard_dir)
    assert "(-o - writes it to stdout)" in written.stderr


@both_databases
def test_purge_deletes_what_is_older_than_the_retention_and_keeps_the_rest(data_dir, data_url, guard_dir):  # noqa: F811
    now = datetime.now(UTC)
    env = database_env(data_url)
    db = Database(data_url)
    with db.session() as s:
        s.add(
            MessageRow(
                conversation="console:local:ben:default", role="user", text="alt", created_at=now - timedelta(days=125)
            )
        )
        s.add(
            MessageRow(
                conversation="console:local:ben:default", role="user", text="neu", created_at=now - timedelta(days=30)
            )
        )

    def texts() -> list[str]:
        with db.session() as s:
            return list(s.scalars(select(MessageRow.text).order_by(MessageRow.id)).all())

    default = run(["purge"], data_dir, guard_dir, **env)  # 24 months: both stay
    assert default.returncode == 0, default.stderr
    assert "(24 months)" in default.stdout and "messages 0" in default.stdout
    assert texts() == ["alt", "neu"]

    three = run(["purge"], data_dir, guard_dir, LOTSE_RETENTION_MONTHS="3", **env)
    assert three.returncode == 0, three.stderr
    assert "(3 months)" in three.stdout and "messages 1" in three.stdout
    assert texts() == ["neu"]
    [purged] = AuditLog(db).entries(action="data.purge")  # the first purge removed nothing: no entry
    assert purged.actor == f"cli:{getpass.getuser()}" and json.loads(purged.detail)["messages"] == 1

    refused = run(["purge"], data_dir, guard_dir, LOTSE_RETENTION_MONTHS="0", **env)
    assert refused.returncode == 2 and "LOTSE_RETENTION_MONTHS=0" in refused.stderr
    assert texts() == ["neu"]
    db.dispose()


def test_purge_also_removes_exports_older_than_a_day_as_the_daily_job_does(data_dir, guard_dir):  # noqa: F811
    """`lotse purge` is the daily job at once (README: "does the same"); the job (Lotse.purge) deletes
    personal-data exports older than a day, which are "kept one day"."""
    import os

    exports = data_dir / "exports"
    exports.mkdir()
    old = exports / "meine-daten-20260101-120000-0123456789abcdef.json"
    fresh = exports / "meine-daten-20260102-120000-fedcba9876543210.json"
    for path, age in ((old, timedelta(days=2)), (fresh, timedelta(hours=1))):
        path.write_text('{"user": "slack:T1:U1"}')
        stamp = (datetime.now(UTC) - age).timestamp()
        os.utime(path, (stamp, stamp))
    result = run(["purge"], data_dir, guard_dir)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in exports.iterdir()) == [fresh.name]
