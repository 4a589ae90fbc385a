"""The AI register as a file: CSV (UTF-8 with BOM, so Excel shows umlauts), XLSX (one sheet, bold frozen
header) or JSON. Values are the register's own (risk class `limited`, status `production`), so a file
reads the same in every language; a workbook exported from chat shows them as the chat does ("begrenzt").
Text that a spreadsheet would take for a formula gets an apostrophe (as the pilot exports do). Times are
Europe/Berlin, as in every export: ISO 8601 with the offset in CSV and JSON, Berlin wall time in the
workbook (its header says so)."""

from __future__ import annotations

import csv
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

from bot.core import i18n
from bot.core.clock import BERLIN, local
from bot.pilots.export import csv_cell, new_sheet, xlsx_row
from bot.register.store import FIELDS, RegisterStore
from bot.register.view import risk_label, status_label
from bot.storage.models import RegisterEntryRow

FORMATS = ("csv", "xlsx", "json")
LABELS = {  # a workbook for people, exported from chat: (German, English), values as the chat shows them
    "number": ("Nr.", "No."), "name": ("Name", "Name"), "purpose": ("Zweck", "Purpose"),
    "owner": ("Verantwortlich", "Owner"), "model": ("Modell", "Model"), "provider": ("Anbieter", "Provider"),
    "data_sources": ("Datenquellen", "Data sources"), "personal_data": ("Personenbezogene Daten", "Personal data"),
    "risk_class": ("Risikoklasse", "Risk class"), "status": ("Status", "Status"),
    "next_review": ("Nächstes Review", "Next review"), "review_overdue": ("Review überfällig", "Review overdue"),
    "created_at": ("Angelegt (Europe/Berlin)", "Created (Europe/Berlin)"),
    "updated_at": ("Geändert (Europe/Berlin)", "Changed (Europe/Berlin)"),
}  # fmt: skip
COLUMNS = ["number", "name", *FIELDS, "review_overdue", "created_at", "updated_at"]
WIDTHS = {"number": 8, "name": 28, "purpose": 50, "owner": 22, "model": 24, "provider": 28, "data_sources": 40,
          "personal_data": 13, "risk_class": 12, "status": 12, "next_review": 12, "review_overdue": 14}  # fmt: skip


def rows(store: RegisterStore, today: date | None = None) -> list[dict]:
    """One dict per entry, in the register's order, with the columns of the files."""
    today = today or date.today()
    return [_row(number, e, today) for number, e in enumerate(store.entries(), 1)]


def _row(number: int, e: RegisterEntryRow, today: date) -> dict:
    overdue = e.status != "retired" and e.next_review is not None and e.next_review < today
    return {
        "number": number,
        "name": e.name,
        "purpose": e.purpose,
        "owner": e.owner,
        "model": e.model,
        "provider": e.provider,
        "data_sources": e.data_sources,
        "personal_data": "yes" if e.personal_data else "no",
        "risk_class": e.risk_class,
        "status": e.status,
        "next_review": e.next_review,
        "review_overdue": "yes" if overdue else "no",
        "created_at": _utc(e.created_at),
        "updated_at": _utc(e.updated_at),
    }


def export_register(
    store: RegisterStore, fmt: str, out: Path, today: date | None = None, language: str | None = None
) -> int:
    """Write the register to `out` as csv, xlsx or json; returns the number of entries. `language`: a
    workbook for people — headers in that language and a filter on them (the CSV keeps its columns' names)."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: allowed are {', '.join(FORMATS)}")
    data = rows(store, today)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    try:
        if fmt == "xlsx":
            _write_xlsx(data, part, language)
        else:
            {"csv": _write_csv, "json": _write_json}[fmt](data, part)
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    return len(data)


def json_text(data: list[dict]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_iso) + "\n"


def _iso(value: date) -> str:
    return local(value).isoformat() if isinstance(value, datetime) else value.isoformat()


def _write_json(data: list[dict], path: Path) -> None:
    path.write_text(json_text(data), encoding="utf-8")


def _write_csv(data: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for row in data:
            writer.writerow([_cell(row[c]) for c in COLUMNS])


def _cell(value):
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return csv_cell(value)


def _write_xlsx(data: list[dict], path: Path, language: str | None = None) -> None:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = new_sheet(
        book, "AI register", COLUMNS, WIDTHS, dates=("created_at", "updated_at"), language=language, labels=LABELS
    )
    if language:
        sheet.title = "KI-Register" if language == "de" else "AI register"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(data) + 1}"
    for row in data:
        shown = _for_people(row, language) if language else row
        sheet.append(xlsx_row((shown[c] for c in COLUMNS), BERLIN))
    book.save(path)


def _for_people(row: dict, language: str) -> dict:
    """A workbook for people (exported from chat): the values in its headers' language ("ja", "begrenzt",
    "produktiv"), as the chat shows them; the CSV, JSON and `lotse register export` keep the register's own."""
    yes_no = {"yes": i18n.text("dialog_yes", language).lower(), "no": i18n.text("dialog_no", language).lower()}
    return {
        **row,
        "personal_data": yes_no[row["personal_data"]],
        "review_overdue": yes_no[row["review_overdue"]],
        "risk_class": risk_label(row["risk_class"], language),
        "status": status_label(row["status"], language),
    }


def _utc(value: datetime) -> datetime:
    """SQLite gives the stored UTC times back without a zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
