"""The dialog engine, driven through the core with random sequences of typed answers, buttons of the
current question, old and forged buttons and arbitrary text, through each of the six assessments, the
pilot registration and feedback, the AI register's entry and the erasure dialog: every message gets a
`Reply`, a dialog that is still running can always be continued, and whatever got stored (results,
pilots with their costs and KPIs, feedback, register entries) still gives its reports."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.messages import Reply
from bot.pilots.report import quarter_of
from bot.pilots.texts import pilot_text, quarter_text
from tests.properties.conftest import CORE
from tests.properties.strategies import date_words, digits, huge_number, number_words, words
from tests.properties.test_commands import Team, pick

TODAY = date.today()
STARTS = ["/check 1", "/check 2", "/check 3", "/check 4 en", "/check 5", "/check 6", "/pilot neu", "/pilot feedback",
          "/pilot gruppe Dokumentensuche", "/register neu", "lösche meine daten"]  # fmt: skip
# answers that move a dialog on, by the kind of question
GOOD = {
    "yesno": ["ja", "nein", "yes", "no"],
    "choice": ["1", "2", "3"],
    "rating": ["1", "3", "5", "4/5"],
    "number": ["0", "1", "3", "15", "2,5", "1.500 €", "-40 %", "+10 %", "2 Std", "25"],
    "text": ["Dokumentensuche", "Rechnungseingang", "Frau Berg", "läuft gut"],
    "name": ["Team A", "Copilot", "fertig", "done"],
    "date": ["heute", "1.2.2027", "in 3 Monaten", "2027-05-31", "31.12.2027"],
}
CONTROLS = ["zurück", "überspringen", "hilfe", "behalten", "weiter", "/weiter", "pause", "abbrechen"]


def answer(reply: Reply) -> st.SearchStrategy[tuple[str, str | None]]:
    """(text, button value) for the next message, given the question just asked."""
    question = reply.question
    kind = question.kind if question else "text"
    typed = pick(
        st.sampled_from(GOOD.get(kind, GOOD["text"])), st.sampled_from(CONTROLS), number_words(), date_words(), words()
    )
    options = [st.tuples(typed, st.none())] * 3
    if question is not None:
        buttons = [c.value for c in question.choices + question.controls(reply.language)]
        if buttons:
            options += [st.tuples(st.just(""), st.sampled_from(buttons))] * 2
        tag = question.tag
        forged = pick(
            st.builds(lambda v: f"{tag}:{v}", words()),
            st.builds(lambda d, v: f"{d}.{v}", pick(huge_number(), digits()), words()),
            st.builds(lambda a, b, v: f"{a}.{b}:{v}", huge_number(), huge_number(), words()),
            words(),
            st.sampled_from(["9" * 4301 + ".0:ja", f"{tag.split('.')[0]}." + "9" * 5000 + ":1", "9" * 19 + ":1"]),
        )
        options += [st.tuples(st.just(""), forged)] * 2
    return pick(*options)


@settings(CORE, max_examples=40)
@given(data=st.data(), start=st.sampled_from(STARTS))
def test_any_sequence_of_answers_gets_replies_and_leaves_usable_records(core, data, start):
    team = Team(core)
    reply = team.say(start)
    for _ in range(data.draw(st.integers(1, 15), label="length")):
        if not core.in_dialog(team.admin.message()):
            break
        text, value = data.draw(answer(reply), label="answer")
        reply = team.say(text, value)
    if core.in_dialog(team.admin.message()):  # it can always be continued where it stands
        assert team.say("/weiter").question is not None or team.say("hilfe") is not None
    team.still_works()
    for pilot in core.services.pilot_store.pilots(team.scope):
        pilot_text(core.services.reports.pilot(pilot.id), "en")
    quarter_text(core.services.reports.quarter(team.scope, quarter_of(TODAY)), "de")
    assert team.say("/ergebnis").text and team.say("/register").text


@settings(CORE, max_examples=20)
@given(data=st.data())
def test_a_pilot_registered_with_any_figures_gives_its_report(core, data):
    """The registration to the end, with arbitrary numbers and dates where they are asked: what is
    accepted is stored, and the pilot's report and the quarter's report work with it."""
    team = Team(core)
    reply = team.say("/pilot neu Pilot" + data.draw(st.text(alphabet="abcxyz", min_size=3, max_size=8)))
    for _ in range(40):
        if reply.question is None:
            break
        kind = reply.question.kind
        odd = number_words() if kind == "number" else date_words() if kind == "date" else st.nothing()
        text = data.draw(
            st.one_of(odd, st.sampled_from(GOOD.get(kind, GOOD["text"])))
            if kind in ("number", "date")
            else st.sampled_from(GOOD.get(kind, GOOD["text"])),
            label=kind,
        )
        reply = team.say(text)
    team.still_works()
    for pilot in core.services.pilot_store.pilots(team.scope):
        assert team.say(f"/pilot bericht {pilot.name}").text
