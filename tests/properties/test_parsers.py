"""The parsers of what users type — answers to dialog questions (yes/no, choices, ratings, numbers, text,
dates), the values of `/pilot setze` and `/register setze`, the dates and times of `/plan`, quarters,
ids — take any text: each returns a value that later arithmetic can use (a finite number within
bounds, a date within 50 years of today for a plan, 100 for a dialog answer) or raises its module's own
validation error with a hint; nothing else. Plus the exact inputs that used to crash."""

from __future__ import annotations

import math
from datetime import date, time
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.commands import ID_DIGITS, id_number, in_reach, is_number, split_subcommand
from bot.dialogs.inputs import DATE_YEARS, LARGEST, InvalidAnswer, parse, parse_date
from bot.dialogs.spec import ChoiceStep, DateStep, L10n, NumberStep, Option, RatingStep, TextStep, YesNoStep
from bot.pilots.commands import ENGLISH, FIELDS, GERMAN, SUBCOMMANDS, _field_value
from bot.pilots.report import parse_quarter, quarter_window
from bot.register.view import quarter_end
from bot.reminders import commands as plan_commands
from bot.reminders.commands import PlanError, parse_time
from tests.properties.conftest import CORE
from tests.properties.strategies import date_words, number_words, quarter_words, words

TODAY = date.today()
TEXT = L10n(de="Frage", en="Question")
STEPS = [
    YesNoStep(id="yesno", type="yesno", text=TEXT),
    ChoiceStep(
        id="choice",
        type="choice",
        text=TEXT,
        choices=[Option(value=v, label=L10n(de=v, en=v.upper())) for v in ("niedrig", "mittel", "hoch")],
    ),
    RatingStep(id="rating", type="rating", text=TEXT),
    RatingStep(id="rating0", type="rating", text=TEXT, min=0, max=10),
    NumberStep(id="number", type="number", text=TEXT),
    NumberStep(id="cost", type="number", text=TEXT, min=0),
    NumberStep(id="users", type="number", text=TEXT, integer=True, min=1, max=100000),
    NumberStep(id="minutes", type="number", text=TEXT, minutes=True, min=0, max=2400),
    NumberStep(id="target", type="number", text=TEXT, percent=True),
    TextStep(id="text", type="text", text=TEXT, max_length=50),
    DateStep(id="date", type="date", text=TEXT),
]
ANY_TEXT = st.one_of(words(), number_words(), date_words(), st.text())


def fits(step, value) -> bool:
    """Whether a parsed answer is one the rest of Lotse can compute with."""
    if isinstance(step, NumberStep) and isinstance(value, str):  # a change in per cent: "-40%"
        change = float(value[:-1])
        return value.endswith("%") and math.isfinite(change) and -100 < change <= LARGEST
    if isinstance(step, NumberStep):
        return math.isfinite(value) and abs(value) <= LARGEST and (not step.integer or isinstance(value, int))
    if isinstance(step, DateStep):
        return in_reach(date.fromisoformat(value), TODAY, DATE_YEARS)
    return True


@settings(CORE, max_examples=400)
@given(step=st.sampled_from(STEPS), text=ANY_TEXT, language=st.sampled_from(["de", "en"]))
def test_a_dialog_answer_is_a_usable_value_or_a_hint(step, text, language):
    try:
        value = parse(step, text, language)
    except InvalidAnswer as problem:
        assert problem.hint
        return
    assert fits(step, value), (text, value)


@settings(CORE, max_examples=200)
@given(
    field=st.sampled_from(sorted(set(FIELDS.values()) | {"baseline", "target", "unit", "method"})),
    text=ANY_TEXT,
    baseline=st.sampled_from([0.0, 15.0, -3.5, LARGEST]),
)
def test_a_value_for_pilot_setze_is_usable_or_a_hint(field, text, baseline):
    try:
        value = _field_value(field, text, "de", SimpleNamespace(baseline=baseline))
    except InvalidAnswer as problem:
        assert problem.hint
        return
    if isinstance(value, float | int) and not isinstance(value, bool):
        assert math.isfinite(value), (text, value)
    if isinstance(value, date):
        assert in_reach(value, TODAY, DATE_YEARS)


@settings(CORE, max_examples=200)
@given(token=st.one_of(date_words(), words()), language=st.sampled_from(["de", "en"]))
def test_a_plan_date_is_within_reach_or_refused(token, language):
    try:
        day = plan_commands.parse_date(token, TODAY, language)
    except PlanError as problem:
        assert str(problem)
        return
    assert day is None or in_reach(day, TODAY)


@settings(CORE, max_examples=100)
@given(token=st.one_of(words(), st.from_regex(r"[0-9²٣]{1,3}[:.][0-9²٣]{1,3}(uhr)?", fullmatch=True)))
def test_a_plan_time_is_a_time_or_none(token):
    assert parse_time(token) is None or isinstance(parse_time(token), time)


@settings(CORE, max_examples=200)
@given(text=st.one_of(quarter_words(), words()))
def test_a_quarter_has_a_date_range_or_is_none(text):
    label = parse_quarter(text, TODAY)
    if label is not None:
        since, until = quarter_window(label)
        assert since < until
    quarter_end(text)  # the register's reviews per quarter: a date or None, never an error


@settings(CORE, max_examples=200)
@given(text=st.one_of(words(), st.text(alphabet="0123456789²٣", max_size=5000)))
def test_an_id_is_a_bigint_or_none(text):
    number = id_number(text)
    assert number is None or (is_number(text) and 0 <= number < 2**63 and len(text) <= ID_DIGITS)


@settings(CORE, max_examples=200)
@given(
    text=st.builds(lambda c, a: f"{c} {a}", st.sampled_from(["/pilot", "/register"]), words()),
    language=st.sampled_from(["de", "en"]),
)
def test_a_subcommand_split_never_fails(text, language):
    sub, rest, chosen = split_subcommand(text, SUBCOMMANDS, ENGLISH, GERMAN, language)
    assert sub in set(SUBCOMMANDS.values()) | {"show"} and chosen in ("de", "en")


# -- the exact inputs that crashed ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["1" + "0" * 300 + " mrd", "9" * 400, "1" + "0" * 308, "2000 mrd", "-2000 mrd"])
def test_a_figure_that_would_be_infinite_or_absurd_is_refused_with_a_hint(text):
    with pytest.raises(InvalidAnswer) as refused:
        parse(NumberStep(id="baseline", type="number", text=TEXT), text, "de")
    assert refused.value.hint == (
        "Diese Zahl ist zu groß. Bitte eine Zahl bis höchstens 1.000.000.000.000 (eine "
        "Billion) eingeben, z. B. 2,5 Mio."
    )
    with pytest.raises(InvalidAnswer) as refused:
        parse(NumberStep(id="users", type="number", text=TEXT, integer=True, min=1), text.lstrip("-"), "en")
    assert refused.value.hint.startswith("That number is too large.")


def test_a_cost_in_exponent_notation_is_no_number():
    with pytest.raises(InvalidAnswer) as refused:
        parse(NumberStep(id="monthly_cost", type="number", text=TEXT, min=0), "1e300 mrd", "de")
    assert refused.value.hint == "Bitte eine Zahl ab 0 eingeben."


def test_a_large_but_sane_figure_still_counts():
    assert parse(NumberStep(id="c", type="number", text=TEXT, min=0), "2,5 Mio. €", "de") == 2_500_000
    assert parse(NumberStep(id="c", type="number", text=TEXT, min=0), "1000 mrd", "de") == LARGEST


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01", "31.12.9999", "in 999 Jahren", "1.1.1900"])
def test_a_dialog_date_far_away_names_the_years_it_may_have(text):
    with pytest.raises(InvalidAnswer) as refused:
        parse_date(text, "de", TODAY)
    first, last = TODAY.year - 100, TODAY.year + 100
    assert refused.value.hint == (
        f"Dieses Datum liegt zu weit weg. Bitte ein Datum in den Jahren {first} bis {last} eingeben, z. B. 1.2.2027."
    )


@pytest.mark.parametrize("text", ["0000-Q1", "9999-Q4", "Q4 9999", "1/0000", "٢٠٢٦-Q4"])
def test_a_quarter_without_dates_is_no_quarter(text):
    assert parse_quarter(text, TODAY) is None


@pytest.mark.parametrize("text", ["²", "³", "①", "٣", "9" * 19, "9" * 5000, ""])
def test_unicode_digits_and_overlong_ids_are_no_ids(text):
    assert id_number(text) is None
