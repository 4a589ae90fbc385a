"""Turning what a user typed (or the value of a button) into a valid answer for one step.

Every parser raises `InvalidAnswer` with a hint in the dialog's language; the engine re-asks the
question with that hint and keeps the dialog as it was.
"""

from __future__ import annotations

import calendar
import math
import re
from datetime import date, timedelta

from bot.core import i18n
from bot.core.commands import in_reach, years_in_reach
from bot.dialogs.spec import ChoiceStep, DateStep, NumberStep, RatingStep, TextStep, YesNoStep

YES = frozenset("ja j jo jep jawohl yes y yep yeah true 1 ✓ 👍".split())
NO = frozenset("nein n nö noe no nope false 2 ✗ 👎".split())
# multipliers after a number ("1,5 Mio. €"); "m" and "billion" are left out as ambiguous
SCALE = {"k": 1e3, "tsd": 1e3, "tausend": 1e3, "thousand": 1e3, "mio": 1e6, "million": 1e6, "millionen": 1e6,
         "mrd": 1e9, "milliarden": 1e9}  # fmt: skip
_NUMBER = re.compile(r"^[-+]?[0-9][0-9.,'\s]*")
_AFTER_NUMBER = re.compile(r"\s*(?:(?:[€$%£/]|[^\W\d_]+\.?)\s*)*")  # units: "€", "Mio. €", "Min. pro Woche", "€/h"
# "ca. 15 Leute", "etwa 20", "rund 1.500 €", "~30 min", "about 40": an estimate is taken as the number
APPROXIMATELY = re.compile(
    r"^(?:(?:ca|circa|zirka|etwa|ungefähr|ungefaehr|rund|knapp|grob|so|gut|schätzungsweise|schaetzungsweise|"
    r"geschätzt|geschaetzt|um die|about|approx|approximately|around|roughly|some)\b\.?|~|≈)\s*",
    re.IGNORECASE,
)
PERCENT_WORD = re.compile(r"\s*\b(?:prozent|percent|pct)\b\.?", re.IGNORECASE)
HOURS = {"h", "std", "stunde", "stunden", "hour", "hours", "hr", "hrs"}
# the largest figure a number question takes when it sets no `max` (costs, KPI values): far beyond any
# the guide's companies have, and far enough below infinity that sums and ROI stay finite numbers
LARGEST = 1e12
# a date answered in a dialog (a review, a pilot's end) may lie further ahead than a plan's start, but
# beyond a century it is a typo, and near the years 1 and 9999 the reports' month arithmetic breaks
DATE_YEARS = 100


class InvalidAnswer(ValueError):
    """The input does not fit the question; `hint` says what to enter instead."""

    def __init__(self, hint: str) -> None:
        super().__init__(hint)
        self.hint = hint


def parse_yesno(text: str, language: str) -> bool:
    word = text.strip().lower().rstrip(".!")
    if word in YES:
        return True
    if word in NO:
        return False
    raise InvalidAnswer(i18n.text("dialog_hint_yesno", language))


def parse_choice(step: ChoiceStep, text: str, language: str) -> str:
    """A number (1 = first choice), a value, or a label (or its unique beginning) in either language."""
    raw = text.strip().lower().rstrip(".")
    if re.fullmatch(r"[0-9]+", raw) and 1 <= int(raw) <= len(step.choices):
        return step.choices[int(raw) - 1].value
    for option in step.choices:
        if raw in (option.value, option.label.de.lower(), option.label.en.lower()):
            return option.value
    if len(raw) >= 3:
        starts = {
            o.value for o in step.choices if o.label.de.lower().startswith(raw) or o.label.en.lower().startswith(raw)
        }
        if len(starts) == 1:
            return starts.pop()
    raise InvalidAnswer(i18n.text("dialog_hint_choice", language, count=len(step.choices)))


def parse_rating(step: RatingStep, text: str, language: str) -> int:
    raw = APPROXIMATELY.sub("", text.strip(), count=1).rstrip(".")  # "ca. 3": a rating is an estimate anyway
    raw = re.sub(r"\s*(/|von|of)\s*\d+$", "", raw)  # "4/5", "4 von 5"
    if re.fullmatch(r"[-+]?[0-9]{1,3}", raw) and step.min <= int(raw) <= step.max:
        return int(raw)
    raise InvalidAnswer(i18n.text("dialog_hint_rating", language, low=step.min, high=step.max))


def parse_number(step: NumberStep, text: str, language: str) -> float | int | str:
    """German and English notation: "1.500", "1,5", "1,500.75", "2 000 €", "15 min". A step with
    `percent` also takes a change in per cent ("-40 %", "−40%"), returned as the text "-40%"."""
    text = APPROXIMATELY.sub("", text.strip(), count=1)
    text = PERCENT_WORD.sub("%", text.strip().lstrip("€$£ ").replace("\u2212", "-"))
    if step.percent and text.endswith("%") and text[:1] in ("+", "-"):  # a signed per cent: a change
        value = _to_float(text[:-1].strip(), language)
        if value is None or not math.isfinite(value) or value <= -100 or value > LARGEST:
            raise InvalidAnswer(i18n.text("dialog_hint_percent", language))
        return f"{value:g}%"
    match = _NUMBER.match(text)
    value = _to_float(match.group(0), language) if match else None
    if value is None or not _AFTER_NUMBER.fullmatch(text[match.end() :]):  # too many digits: too large, below
        raise InvalidAnswer(_number_hint(step, language))
    unit = re.split(r"[\s/]", text[match.end() :].strip().lower())[0].rstrip(".")
    value *= SCALE.get(unit, 1)
    if step.minutes and unit in HOURS:  # "2 Std" for minutes saved
        value *= 60
    outside = (step.min is not None and value < step.min) or (step.max is not None and value > step.max)
    if not outside and abs(value) > LARGEST:  # also what became infinite: "1000…000 Mrd."
        raise InvalidAnswer(i18n.text("dialog_hint_number_large", language))
    if step.integer and not outside:
        if value != int(value):
            raise InvalidAnswer(_number_hint(step, language))
        value = int(value)
    if outside:
        raise InvalidAnswer(_number_hint(step, language))
    return value


def _to_float(raw: str, language: str) -> float | None:
    raw = raw.strip().replace(" ", "").replace("'", "").rstrip(".,")
    if "," in raw and "." in raw:  # the last separator is the decimal one
        decimal = "," if raw.rfind(",") > raw.rfind(".") else "."
        raw = raw.replace("." if decimal == "," else ",", "").replace(decimal, ".")
    elif "," in raw:
        thousands = language == "en" and re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+", raw)
        raw = raw.replace(",", "") if thousands else raw.replace(",", ".")
    elif "." in raw and language == "de" and re.fullmatch(r"[-+]?\d{1,3}(\.\d{3})+", raw):
        raw = raw.replace(".", "")
    try:
        return float(raw)
    except ValueError:
        return None


def _number_hint(step: NumberStep, language: str) -> str:
    if step.min is not None and step.max is not None:
        return i18n.text("dialog_hint_number_range", language, low=f"{step.min:g}", high=f"{step.max:g}")
    if step.min is not None:
        return i18n.text("dialog_hint_number_min", language, low=f"{step.min:g}")
    return i18n.text("dialog_hint_number", language)


def parse_text(step: TextStep, text: str, language: str) -> str:
    value = text.strip()
    if not value:
        raise InvalidAnswer(i18n.text("dialog_hint_text", language))
    if len(value) > step.max_length:
        raise InvalidAnswer(i18n.text("dialog_hint_text_long", language, limit=step.max_length, length=len(value)))
    return value


_DATE = re.compile(r"(\d{1,2})\.\s*(\d{1,2})\.\s*(\d{2}|\d{4})")
# "in 3 Monaten", "in einem Jahr", "in 2 weeks": days or months from today
_IN = re.compile(r"in\s+(\d{1,3}|einem|einer|one|a|an)\s+([^\W\d_]+)")
_UNITS = {"tag": (1, 0), "tagen": (1, 0), "day": (1, 0), "days": (1, 0), "woche": (7, 0), "wochen": (7, 0),
          "week": (7, 0), "weeks": (7, 0), "monat": (0, 1), "monaten": (0, 1), "month": (0, 1), "months": (0, 1),
          "jahr": (0, 12), "jahren": (0, 12), "year": (0, 12), "years": (0, 12)}  # fmt: skip


def parse_date(text: str, language: str, today: date | None = None) -> str:
    """ "2027-02-01", "1.2.2027", "01.02.27", "1.2." (this year), "heute", "morgen", "in 3 Monaten",
    "in 2 weeks" → ISO date; within `DATE_YEARS` of today."""
    today = today or date.today()
    day = _date(text.strip().lower().rstrip("."), today)
    if day is None:
        raise InvalidAnswer(i18n.text("dialog_hint_date", language))
    if not in_reach(day, today, DATE_YEARS):
        first, last = years_in_reach(today, DATE_YEARS)
        raise InvalidAnswer(i18n.text("dialog_hint_date_reach", language, first=first, last=last))
    return day.isoformat()


def _date(raw: str, today: date) -> date | None:
    if raw in ("heute", "today"):
        return today
    if raw in ("morgen", "tomorrow"):
        return today + timedelta(days=1)
    try:
        relative = _IN.fullmatch(raw)
        if relative and relative.group(2) in _UNITS:
            count = int(relative.group(1)) if relative.group(1).isdigit() else 1
            days, months = (n * count for n in _UNITS[relative.group(2)])
            return add_months(today, months) + timedelta(days=days)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return date.fromisoformat(raw)
        match = _DATE.fullmatch(raw) or _DATE.fullmatch(f"{raw}.{today.year}")
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year + 2000 if year < 100 else year, month, day)
    except (ValueError, OverflowError):  # no such day, or beyond the year 9999
        pass
    return None


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day where it is shorter (31.1. + 1 → 28./29.2.)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    length = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, length))


def parse(step, text: str, language: str):
    """The answer for `step` from `text`; raises InvalidAnswer."""
    if isinstance(step, YesNoStep):
        return parse_yesno(text, language)
    if isinstance(step, ChoiceStep):
        return parse_choice(step, text, language)
    if isinstance(step, RatingStep):
        return parse_rating(step, text, language)
    if isinstance(step, NumberStep):
        return parse_number(step, text, language)
    if isinstance(step, TextStep):
        return parse_text(step, text, language)
    if isinstance(step, DateStep):
        return parse_date(text, language)
    raise TypeError(f"no parser for {type(step).__name__}")
