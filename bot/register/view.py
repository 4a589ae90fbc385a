"""The register as chat text: the list (one line per application, overdue reviews marked), one entry
in full, and the reviews the quarterly nudge lists. Channel-neutral: *bold* as the other replies."""

from __future__ import annotations

import calendar
from datetime import date

from bot.core import i18n
from bot.core.commands import is_number
from bot.register.store import RegisterStore
from bot.storage.db import Database
from bot.storage.models import RegisterEntryRow

REVIEWS_IN_NUDGE = 10  # more are counted, not listed


def day(value: date | None, language: str) -> str:
    if value is None:
        return "–"
    return value.strftime("%d.%m.%Y") if language == "de" else value.isoformat()


def risk_label(risk_class: str, language: str) -> str:
    return i18n.text(f"register_risk_{risk_class}", language)


def status_label(status: str, language: str) -> str:
    return i18n.text(f"register_status_{status}", language)


def overdue(entry: RegisterEntryRow, today: date) -> bool:
    return entry.status != "retired" and entry.next_review is not None and entry.next_review < today


def list_text(entries: list[RegisterEntryRow], language: str, today: date, first: str | None = None) -> str:
    lines = [first] if first else []
    if not entries:
        lines.append(i18n.text("register_none", language))
        return "\n".join(lines)
    late = sum(1 for e in entries if overdue(e, today))
    lines.append(
        i18n.text("register_list", language, count=len(entries))
        + (i18n.text("register_list_overdue", language, count=late) if late else "")
    )
    for number, e in enumerate(entries, 1):
        mark = i18n.text("register_overdue_mark", language) if overdue(e, today) else ""
        lines.append(
            i18n.text(
                "register_list_line",
                language,
                number=number,
                name=e.name,
                status=status_label(e.status, language),
                risk=risk_label(e.risk_class, language),
                review=day(e.next_review, language),
                overdue=mark,
            )
        )
    lines.append(i18n.text("register_list_hint", language))
    return "\n".join(lines)


def entry_text(entry: RegisterEntryRow, number: int, language: str, today: date) -> str:
    mark = i18n.text("register_overdue_mark", language) if overdue(entry, today) else ""
    return i18n.text(
        "register_entry",
        language,
        name=entry.name,
        number=number,
        purpose=entry.purpose or "–",
        owner=entry.owner or "–",
        model=entry.model or "–",
        provider=entry.provider or "–",
        data_sources=entry.data_sources or "–",
        personal_data=i18n.text("dialog_yes" if entry.personal_data else "dialog_no", language),
        risk=risk_label(entry.risk_class, language),
        status=status_label(entry.status, language),
        review=day(entry.next_review, language),
        overdue=mark,
        updated=day(entry.updated_at.date(), language),
    )


def quarter_end(label: str) -> date | None:
    """The last day of a quarter named like "2027-Q2"."""
    year, _, quarter = label.partition("-Q")
    if not (len(year) == 4 and is_number(year) and year != "0000" and quarter in ("1", "2", "3", "4")):
        return None
    month = 3 * int(quarter)
    return date(int(year), month, calendar.monthrange(int(year), month)[1])


def review_lines(db: Database, quarter: str, language: str, today: date) -> list[str]:
    """For the quarterly nudge: the register's applications whose review falls due by the end of the
    quarter, or is overdue, with how to look at each; nothing when none is due."""
    until = quarter_end(quarter)
    if until is None:
        return []
    due = RegisterStore(db).due(until)
    if not due:
        return []
    lines = [i18n.text("register_reviews_due", language, count=len(due))]
    for entry in due[:REVIEWS_IN_NUDGE]:
        key = "register_review_overdue" if entry.next_review < today else "register_review_due"
        lines.append(i18n.text(key, language, name=entry.name, day=day(entry.next_review, language)))
    if len(due) > REVIEWS_IN_NUDGE:
        lines.append(i18n.text("register_reviews_more", language, count=len(due) - REVIEWS_IN_NUDGE))
    return lines
