"""Exports of the pilot feedback for the IT lead: a CSV of the feedback entries, or an XLSX workbook
with the pilots, their KPIs, the feedback entries and the feedback on Lotse's answers.

- CSV: UTF-8 with BOM (so Excel shows umlauts), comma-separated; one row per feedback entry, then
  one column per KPI of the exported pilots ("KPI <pilot>: <name> [<unit>]") with the entry's value.
- XLSX: sheets "Pilots", "KPIs", "Feedback" (the CSV's columns) and "Answer feedback" (no user column).
  A workbook for people (a `language`) starts with a summary sheet: each pilot's figures as its report
  gives them (responses, satisfaction, time saved, benefit, cost and ROI over 12 months, payback), and
  its KPIs sheet adds each KPI's mean now and the progress to its target.
- Nobody behind an anonymous entry is named: its author column stays empty. Nor can its place give it
  away: it has no id (ids follow the order of saving), its time is only its day (stored so: no fake
  00:00:00), and the anonymous entries of a pilot come after the named ones, by day and content.
- Text that a spreadsheet would read as a formula (starting with =, +, -, @, tab or CR) gets a leading
  apostrophe; numbers stay numbers.
- Rows are streamed from the database. openpyxl writes the workbook (write-only mode); the feedback rows,
  which may be tens of thousands, go into its sheet as XML of our own (see `_fill_sheet`).
"""

from __future__ import annotations

import csv
import math
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from itertools import groupby
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select

from bot.core import i18n
from bot.core.clock import local
from bot.storage.db import Database
from bot.storage.models import AnswerFeedbackRow, KpiRow, KpiValueRow, PilotFeedbackRow, PilotRow
from bot.storage.personal import REMOVED

FORMATS = ("csv", "xlsx")
BATCH = 2000  # rows fetched at a time
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_TEXT = 32767
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # as openpyxl's ILLEGAL_CHARACTERS_RE

FEEDBACK_COLUMNS = ["id", "pilot", "created_at", "author", "anonymous", "group_size", "satisfaction",
                    "minutes_saved_per_week", "works", "not_working", "comment"]  # fmt: skip
PILOT_COLUMNS = ["id", "scope", "name", "use_case", "owner", "start", "end", "users", "anonymous", "one_off_cost",
                 "monthly_cost", "hourly_rate", "created_by", "created_at"]  # fmt: skip
KPI_COLUMNS = ["pilot", "name", "unit", "direction", "baseline", "target", "method"]
ANSWER_COLUMNS = ["id", "created_at", "kind", "rating", "reason", "comment", "question"]
SUMMARY_COLUMNS = ["pilot", "start", "end", "responses", "mean_rating", "hours_per_month", "benefit_per_month",
                   "cost_12_months", "roi_12_months", "payback_month", "roi_so_far", "note"]  # fmt: skip
KPI_NOW_COLUMNS = ["now", "progress"]  # after KPI_COLUMNS, in a workbook for people
SHEETS = {"Summary": ("Übersicht", "Summary"), "Pilots": ("Piloten", "Pilots"), "KPIs": ("KPIs", "KPIs"),
          "Feedback": ("Rückmeldungen", "Feedback"),
          "Answer feedback": ("Bewertungen der Antworten", "Answer feedback")}  # fmt: skip
LABELS = {  # a workbook for people: (German, English)
    "id": ("Nr.", "No."), "pilot": ("Pilot", "Pilot"),
    "created_at": ("Zeitpunkt (Europe/Berlin)", "Time (Europe/Berlin)"),
    "author": ("Von", "By"), "anonymous": ("Anonym", "Anonymous"), "group_size": ("Personen", "People"),
    "satisfaction": ("Zufriedenheit (1–5)", "Satisfaction (1–5)"),
    "minutes_saved_per_week": ("Minuten gespart pro Woche", "Minutes saved per week"),
    "works": ("Was funktioniert", "What works"), "not_working": ("Was nicht funktioniert", "What does not work"),
    "comment": ("Kommentar", "Comment"), "scope": ("Team", "Team"), "name": ("Name", "Name"),
    "use_case": ("Anwendungsfall", "Use case"), "owner": ("Verantwortlich", "Owner"), "start": ("Start", "Start"),
    "end": ("Ende", "End"), "users": ("Nutzer", "Users"), "one_off_cost": ("Einmalige Kosten (€)", "One-off cost (€)"),
    "monthly_cost": ("Laufende Kosten (€/Monat)", "Running cost (€/month)"),
    "hourly_rate": ("Stundensatz (€)", "Hourly rate (€)"), "created_by": ("Angelegt von", "Created by"),
    "unit": ("Einheit", "Unit"), "direction": ("Besser ist", "Better is"), "baseline": ("Ausgangswert", "Baseline"),
    "target": ("Ziel", "Target"), "method": ("Messmethode", "Method"), "kind": ("Art", "Kind"),
    "rating": ("Bewertung", "Rating"), "reason": ("Grund", "Reason"), "question": ("Frage", "Question"),
    "responses": ("Rückmeldungen", "Responses"), "mean_rating": ("Zufriedenheit Ø (1–5)", "Satisfaction, mean (1–5)"),
    "hours_per_month": ("Gesparte Zeit (Std./Monat)", "Time saved (h/month)"),
    "benefit_per_month": ("Nutzen (€/Monat)", "Benefit (€/month)"),
    "cost_12_months": ("Kosten 12 Monate (€)", "Cost over 12 months (€)"),
    "roi_12_months": ("ROI-Prognose 12 Monate", "Projected ROI, 12 months"),
    "payback_month": ("Amortisation im Monat", "Pays back in month"), "note": ("Hinweis", "Note"),
    "roi_so_far": ("ROI bisher (gemessen)", "ROI so far (measured)"),
    "now": ("Aktuell (Ø)", "Now (mean)"), "progress": ("Fortschritt zum Ziel", "Progress to target"),
}  # fmt: skip
WITHHELD = ("Zahlen zurückgehalten: anonyme Rückmeldungen und weniger als 3", "Figures withheld: anonymous "
            "feedback and fewer than 3 responses")  # fmt: skip
DIRECTIONS = {"lower": ("niedriger", "lower"), "higher": ("höher", "higher")}  # "Besser ist: niedriger"
NO_TIME = ("Noch keine gesparte Zeit erfasst", "No time saved recorded yet")
FORMATS_OF = {"mean_rating": "0.0", "hours_per_month": "0.0", "benefit_per_month": '#,##0.00 "€"',
              "cost_12_months": '#,##0.00 "€"', "roi_12_months": "0.0%", "roi_so_far": "0.0%", "progress": "0%",
              "now": "0.0#"}  # fmt: skip
EURO = '#,##0.00 "€"'
MONEY = ("one_off_cost", "monthly_cost", "hourly_rate")
BERLIN = "Europe/Berlin"


WIDTHS = {"id": 8, "pilot": 24, "name": 24, "created_at": 20, "author": 24, "anonymous": 11, "group_size": 11,
          "satisfaction": 12, "minutes_saved_per_week": 14, "works": 40, "not_working": 40, "comment": 50,
          "use_case": 40, "owner": 20, "scope": 24, "start": 12, "end": 12, "users": 8, "one_off_cost": 14,
          "monthly_cost": 14, "hourly_rate": 12, "created_by": 24, "unit": 10, "direction": 10, "baseline": 11,
          "target": 11, "method": 40, "kind": 10, "rating": 8, "reason": 16, "question": 60, "responses": 10,
          "mean_rating": 12, "hours_per_month": 14, "benefit_per_month": 14, "cost_12_months": 14,
          "roi_12_months": 14, "payback_month": 12, "roi_so_far": 14, "now": 11, "progress": 12}  # fmt: skip


def export_feedback(db: Database, fmt: str, out: Path, scope: str | None = None, language: str | None = None) -> Path:
    """Write the feedback of the pilots in `scope` (all pilots if None) to `out` as "csv" or "xlsx" and
    return the file's path (`out`, or `pilot-feedback.<fmt>` in it if `out` is a folder).

    Times are Europe/Berlin everywhere: in the CSV as ISO 8601 with the offset (the same instant for a
    script), in a workbook as Berlin wall time with the zone in the header. `language` ("de", "en"): a
    workbook for people — sheets and headers in that language, € formats, a filter on every sheet, a
    summary sheet first. None: the columns' own names, for scripts (the CSV is always that)."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: allowed are {', '.join(FORMATS)}")
    out = Path(out)
    if out.is_dir():
        out = out / f"pilot-feedback.{fmt}"
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    try:
        if fmt == "csv":
            _write_csv(db, part, scope)
        else:
            _write_xlsx(db, part, scope, language)
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    return out


def _safe(value):
    """`value` as a spreadsheet must show it: text that would start a formula gets an apostrophe in front."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


# -- writers ----------------------------------------------------------------------------------


def _write_csv(db: Database, path: Path, scope: str | None) -> None:
    with db.session() as s, path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        kpis = _kpis(s, scope)
        writer.writerow([_safe(c) for c in FEEDBACK_COLUMNS + [_kpi_header(pilot, kpi) for pilot, kpi in kpis]])
        fixed = len(FEEDBACK_COLUMNS)  # after these only KPI values: numbers or None
        for row in _feedback(s, scope, [kpi.id for _, kpi in kpis]):
            writer.writerow(
                [csv_cell(v) for v in row[:fixed]] + ["" if v is None else csv_cell(v) for v in row[fixed:]]
            )


def _write_xlsx(db: Database, path: Path, scope: str | None, language: str | None = None) -> None:
    from openpyxl import Workbook

    zone = ZoneInfo(BERLIN)
    book = Workbook(write_only=True)
    figures = _summary(db, book, scope, language) if language else {}
    with db.session() as s:
        kpis = _kpis(s, scope)
        sheet = new_sheet(book, "Pilots", PILOT_COLUMNS, language=language, dates=("created_at",))
        count = 0
        for p in s.scalars(_pilot_query(scope)):
            count += 1
            values = xlsx_row(
                [
                    p.id,
                    p.scope,
                    p.name,
                    p.use_case,
                    p.owner,
                    p.start,
                    p.end,
                    p.users,
                    _yes(p.anonymous),
                    p.one_off_cost,
                    p.monthly_cost,
                    p.hourly_rate,
                    p.created_by,
                    p.created_at,
                ],
                zone,
            )
            said = _said(values, 8, language, person=PILOT_COLUMNS.index("created_by"))
            sheet.append(_formatted(sheet, PILOT_COLUMNS, said) if language else values)
        _filter(sheet, len(PILOT_COLUMNS), count, language)
        columns = KPI_COLUMNS + (KPI_NOW_COLUMNS if language else [])
        sheet = new_sheet(book, "KPIs", columns, language=language)
        for pilot, k in kpis:
            direction = DIRECTIONS[k.direction][language == "en"] if language in ("de", "en") else k.direction
            values = xlsx_row([pilot, k.name, k.unit, direction, k.baseline, k.target, k.method], zone)
            if language:
                now = figures.get(k.id)
                progress = None if now is None or now.progress_pct is None else now.progress_pct / 100
                values = _numbers(sheet, columns, values + [None if now is None else now.now, progress])
            sheet.append(values)
        _filter(sheet, len(columns), len(kpis), language)
        headers = [_kpi_header(pilot, kpi) for pilot, kpi in kpis]
        widths = {h: max(14, min(len(h), 30)) for h in headers}
        feedback = new_sheet(
            book, "Feedback", FEEDBACK_COLUMNS + headers, widths, dates=("created_at",), language=language
        )
        date_style = feedback.column_dimensions["C"].style_id  # the created_at column's date format
        sheet = new_sheet(book, "Answer feedback", ANSWER_COLUMNS, language=language, dates=("created_at",))
        answers = [xlsx_row(row, zone) for row in _answers(s, scope)]
        for row in answers:
            sheet.append(row)
        _filter(sheet, len(ANSWER_COLUMNS), len(answers), language)
        book.save(path)
        fixed = len(FEEDBACK_COLUMNS)  # after these only KPI values: numbers or None
        rows = (
            _said(xlsx_row(row[:fixed], zone), 4, language, person=FEEDBACK_COLUMNS.index("author")) + row[fixed:]
            for row in _feedback(s, scope, [kpi.id for _, kpi in kpis])
        )
        _fill_sheet(path, feedback.path.lstrip("/"), rows, date_style, filtered=bool(language))


def _summary(db: Database, book, scope: str | None, language: str) -> dict:
    """The summary sheet of a workbook for people: one row per pilot with its report's figures over all
    its feedback. Returns its KPIs' figures by KPI id, for the KPIs sheet."""
    from bot.pilots.report import HORIZON_MONTHS, Reports

    other = 1 if language == "en" else 0
    with db.session() as s:
        ids = [p.id for p in s.scalars(_pilot_query(scope))]
    reports = Reports(db)
    pilots = [f for f in (reports.pilot(i, texts=0) for i in ids) if f is not None]
    sheet = new_sheet(book, "Summary", SUMMARY_COLUMNS, {"note": 50, "pilot": 24}, language=language)
    for p in pilots:
        shown = not p.withheld
        note = WITHHELD[other] if p.withheld else (NO_TIME[other] if p.minutes_per_week is None else None)
        values = [
            p.name,
            p.start,
            p.end,
            p.responses,
            p.mean_rating if shown else None,
            p.hours_per_month if shown else None,
            p.benefit_per_month if shown else None,
            p.one_off_cost + HORIZON_MONTHS * p.monthly_cost,
            p.roi_pct / 100 if shown and p.roi_pct is not None else None,
            p.payback_month if shown else None,
            p.roi_so_far[1] / 100 if shown and p.roi_so_far else None,
            note,
        ]
        sheet.append(_numbers(sheet, SUMMARY_COLUMNS, xlsx_row(values)))
    _filter(sheet, len(SUMMARY_COLUMNS), len(pilots), language)
    return {k.id: k for p in pilots for k in p.kpis}


def _numbers(sheet, columns: list[str], values: list) -> list:
    """A row whose figures carry their number format (€, %, one decimal)."""
    from openpyxl.cell import WriteOnlyCell

    row = []
    for column, value in zip(columns, values, strict=True):
        if value is not None and column in FORMATS_OF:
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = FORMATS_OF[column]
            row.append(cell)
        else:
            row.append(value)
    return row


def _formatted(sheet, columns: list[str], values: list) -> list:
    """A row whose money cells show € and whose times show as dates (write-only cells carry their own
    format; a column's format reaches only empty cells)."""
    from openpyxl.cell import WriteOnlyCell

    row = []
    for column, value in zip(columns, values, strict=True):
        if value is not None and (column in MONEY or isinstance(value, datetime)):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = EURO if column in MONEY else DATE_FORMAT
            row.append(cell)
        else:
            row.append(value)
    return row


def _filter(sheet, columns: int, rows: int, language: str | None) -> None:
    """A filter on the header over the sheet's rows (a workbook for people only)."""
    from openpyxl.utils import get_column_letter

    if language:
        sheet.auto_filter.ref = f"A1:{get_column_letter(columns)}{rows + 1}"


def _fill_sheet(path: Path, member: str, rows: Iterable[list], date_style: int, filtered: bool = False) -> None:
    """Write `rows` into the sheet `member` of the saved workbook at `path`, below its header row, as XML
    of our own: openpyxl takes ~15 µs a cell, too slow for 50,000 entries; this takes ~1 µs. Strings
    inline, numbers as they are, datetimes (naive UTC) as Excel serials in the column's date style."""
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.datetime import to_excel

    source = path.with_name(path.name + ".head")
    os.replace(path, source)
    try:
        with zipfile.ZipFile(source) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                if item.filename != member:
                    zout.writestr(item, zin.read(item))
                    continue
                head, tail = zin.read(item).decode().split("</sheetData>", 1)
                target = zipfile.ZipInfo(member, date_time=item.date_time)
                target.compress_type = zipfile.ZIP_DEFLATED
                with zout.open(target, "w") as out:
                    out.write(head.encode())
                    letters: list[str] = []
                    chunk: list[str] = []
                    for number, row in enumerate(rows, 2):
                        while len(letters) < len(row):
                            letters.append(get_column_letter(len(letters) + 1))
                        chunk.append(f'<row r="{number}">')
                        for letter, value in zip(letters, row, strict=False):
                            if value is None:
                                continue
                            if isinstance(value, str):
                                chunk.append(
                                    f'<c r="{letter}{number}" t="inlineStr"><is><t xml:space="preserve">'
                                    f"{xml_escape(value)}</t></is></c>"
                                )
                            elif isinstance(value, datetime | date):
                                chunk.append(f'<c r="{letter}{number}" s="{date_style}"><v>{to_excel(value)}</v></c>')
                            elif isinstance(value, bool):
                                chunk.append(f'<c r="{letter}{number}" t="b"><v>{int(value)}</v></c>')
                            elif isinstance(value, int | float) and math.isfinite(value):
                                chunk.append(f'<c r="{letter}{number}" t="n"><v>{value!r}</v></c>')
                        chunk.append("</row>")
                        if len(chunk) > 20000:
                            out.write("".join(chunk).encode())
                            chunk.clear()
                    if filtered:  # the filter spans every column and row written
                        last = get_column_letter(max(len(letters), 1))
                        tail = f'<autoFilter ref="A1:{last}{number if letters else 1}"/>' + tail
                    out.write(("".join(chunk) + "</sheetData>" + tail).encode())
    finally:
        source.unlink(missing_ok=True)


def new_sheet(
    book,
    title: str,
    columns: list[str],
    widths: dict[str, float] | None = None,
    dates: tuple[str, ...] = (),
    language: str | None = None,
    labels: dict[str, tuple[str, str]] | None = None,
):
    """A write-only sheet with a bold, frozen header row; column widths and formats (the `dates`
    columns get a date format, money columns € in a workbook for people) must be set before the first
    row. `language`: the sheet's name and headers in it (LABELS), else the columns' own names."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    other = 1 if language == "en" else 0
    labels = LABELS if labels is None else labels
    sheet = book.create_sheet(SHEETS[title][other] if language and title in SHEETS else title)
    widths = {**WIDTHS, **(widths or {})}
    for number, column in enumerate(columns, 1):
        dimension = sheet.column_dimensions[get_column_letter(number)]
        shown = labels[column][other] if language and column in labels else column
        dimension.width = max(widths.get(column, max(10, len(column) + 2)), len(shown) + 2 if language else 0)
        if column in dates:
            dimension.number_format = DATE_FORMAT
        elif language and column in MONEY:
            dimension.number_format = EURO
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        shown = labels[column][other] if language and column in labels else column
        if column in dates and not language:  # its wall time is Berlin's: say so ("created_at (Europe/Berlin)")
            shown = f"{column} ({BERLIN})"
        cell = WriteOnlyCell(sheet, value=_xlsx_cell(shown))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    return sheet


def csv_cell(value):
    value = _safe(value)
    if value is None:
        return ""
    if isinstance(value, datetime):  # Berlin time with its offset: a person and a script read one instant
        return local(value).isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def xlsx_row(values: Iterable, zone=UTC) -> list:
    return [_xlsx_cell(v, zone) for v in values]


def _xlsx_cell(value, zone=UTC):
    if isinstance(value, str):  # without the control characters XML cannot hold, then as `_safe` makes it
        return _safe(ILLEGAL_CHARACTERS.sub("", value)[:EXCEL_MAX_TEXT])
    if isinstance(value, datetime):  # Excel has no time zones: the zone's wall time (stored times are UTC)
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(zone).replace(tzinfo=None)
    return value


# -- rows -------------------------------------------------------------------------------------


def _pilot_query(scope: str | None):
    query = select(PilotRow).order_by(PilotRow.start, PilotRow.id)
    return query if scope is None else query.where(PilotRow.scope == scope)


def _kpis(session, scope: str | None) -> list[tuple[str, KpiRow]]:
    """(pilot name, KPI) of every exported pilot, in the pilots' order and then the KPIs'."""
    query = (
        select(PilotRow.name, KpiRow)
        .join(PilotRow, PilotRow.id == KpiRow.pilot_id)
        .order_by(PilotRow.start, PilotRow.id, KpiRow.position, KpiRow.id)
    )
    if scope is not None:
        query = query.where(PilotRow.scope == scope)
    return [(name, kpi) for name, kpi in session.execute(query).all()]


def _kpi_header(pilot: str, kpi: KpiRow) -> str:
    return f"KPI {pilot}: {kpi.name}" + (f" [{kpi.unit}]" if kpi.unit else "")


def _feedback(session, scope: str | None, kpi_ids: list[int]) -> Iterator[list]:
    """One row per feedback entry (FEEDBACK_COLUMNS, then the entry's value of each KPI in `kpi_ids`),
    by pilot and time. One query, the entry's KPI values joined on and the entry's rows grouped."""
    f = PilotFeedbackRow
    query = (
        select(
            f.id,
            PilotRow.name,
            f.created_at,
            f.author,
            f.anonymous,
            f.group_size,
            f.satisfaction,
            f.minutes_saved,
            f.works,
            f.not_working,
            f.comment,
            KpiValueRow.kpi_id,
            KpiValueRow.value,
        )
        .join(PilotRow, PilotRow.id == f.pilot_id)
        .outerjoin(KpiValueRow, KpiValueRow.feedback_id == f.id)
        .order_by(PilotRow.start, PilotRow.id, f.anonymous, f.created_at, f.satisfaction, f.comment, f.id)
        .execution_options(yield_per=BATCH)
    )
    if scope is not None:
        query = query.where(PilotRow.scope == scope)
    column = {kpi_id: i for i, kpi_id in enumerate(kpi_ids)}
    for _, rows in groupby(session.execute(query), key=lambda row: row[0]):
        rows = list(rows)
        entry_id, pilot, created, author, anonymous, size, satisfaction, minutes, works, bad, comment = rows[0][:11]
        values: list = [None] * len(kpi_ids)
        for row in rows:
            if row[11] in column:
                values[column[row[11]]] = row[12]
        author = None if anonymous else author
        yield [
            None if anonymous else entry_id,
            pilot,
            _utc(created).date().isoformat() if anonymous else _utc(created),
            author,
            _yes(anonymous),
            size,
            satisfaction,
            minutes,
            works,
            bad,
            comment,
            *values,
        ]


def _answers(session, scope: str | None) -> Iterator[list]:
    a = AnswerFeedbackRow
    query = (
        select(
            a.id,
            a.created_at,
            and_(a.message_id.is_(None), a.answer.is_(None)),
            a.rating,
            a.reason,
            a.comment,
            a.question,
        )
        .order_by(a.created_at, a.id)
        .execution_options(yield_per=BATCH)
    )
    if scope is not None:  # user keys start with the scope (channel:workspace:user)
        query = query.where(a.user.startswith(f"{scope}:", autoescape=True))
    for answer_id, created, general, rating, reason, comment, question in session.execute(query):
        yield [answer_id, _utc(created), "general" if general else "answer", rating, reason, comment, question]


def _utc(value: datetime | date | None):
    """SQLite gives the stored UTC times back without a zone."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _said(values: list, at: int, language: str | None, person: int | None = None) -> list:
    """A yes/no column in the workbook's language ("ja"/"nein" in German); an erased person (the column at
    `person`) as the workbook's language says it ("(deleted)" in English)."""
    values = list(values)
    if language == "de" and values[at] in ("yes", "no"):
        values[at] = "ja" if values[at] == "yes" else "nein"
    if language and person is not None and values[person] == REMOVED:
        values[person] = i18n.text("author_removed", language)
    return values
