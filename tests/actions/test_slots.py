"""Slot values from plain words (bot/actions/slots.py), German and English, always normalised."""

from __future__ import annotations

from datetime import date

import pytest

from bot.actions import slots

MONDAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ab nächstem Montag", "2026-12-14"),
        ("Richte es ab nächsten Montag ein", "2026-12-14"),
        ("kommenden Freitag", "2026-12-11"),
        ("am 8. März", "2027-03-08"),
        ("ab dem 8. März 2027", "2027-03-08"),
        ("ab 11.1.", "2027-01-11"),
        ("2027-01-04", "2027-01-04"),
        ("next monday", "2026-12-14"),
        ("from january 11th", "2027-01-11"),
        ("March 8", "2027-03-08"),
        ("in zwei Wochen", "2026-12-21"),
        ("morgen", "2026-12-08"),
        ("übermorgen", "2026-12-09"),
        ("nächste Woche", "2026-12-14"),
        ("ohne Datum", None),
    ],
)
def test_dates(text, expected):
    assert slots.start_date(text, MONDAY) == expected


def test_weekdays_times_states_tasks_quarters_formats():
    assert slots.weekday("Erinnerung immer dienstags") == "di" and slots.weekday("every friday") == "fr"
    assert slots.weekday("ab nächsten Montag") is None  # a start day, not the reminders' weekday
    assert slots.clock_time("um 9 Uhr") == "09:00" and slots.clock_time("at 8:30") == "08:30"
    assert slots.clock_time("at 2pm") == "14:00"
    assert slots.clock_time("immer dienstags um halb neun") == "08:30" and slots.clock_time("halb 3") == "14:30"
    assert slots.clock_time("viertel nach 9") == "09:15" and slots.clock_time("quarter to ten") is None
    assert slots.clock_time("half past 8") == "08:30"
    assert slots.state("wir sind in Bayern") == "BY" and slots.state("Sachsen-Anhalt") == "ST"
    assert slots.state("NRW bitte") == "NW" and slots.state("in BY") == "BY" and slots.state("bei uns") is None
    assert slots.task("Aufgabe 3.1 ist erledigt") == "3.1" and slots.task("am 3.1.2027") is None
    assert slots.quarter("Q4 2026", MONDAY) == "2026-Q4" and slots.quarter("letztes Quartal", MONDAY) == "2026-Q3"
    assert slots.export_format("als Excel bitte") == "xlsx" and slots.export_format("csv") == "csv"
    # a day with a time after it is the reminders' day; a day with a date is a start
    assert slots.weekday("Start 2027-01-11, Mo 08:00, Hamburg") == "mo" and slots.weekday("Di, 9 Uhr") == "di"
    assert slots.weekday("ab Montag 11.1.") is None
    assert slots.quarter("den Quartalsbericht vom Vorquartal", MONDAY) == "2026-Q3"


def test_assessments_by_their_words():
    assert slots.assessment("Wie KI-fit ist unsere Infrastruktur?") == "readiness"
    assert slots.assessment("Lass uns die Datenqualität prüfen") == "data_quality"
    assert slots.assessment("use cases priorisieren") == "use_cases"
    assert slots.assessment("die Risiko-Matrix") == "risks" and slots.assessment("unsere Systeme") == "systems"


def test_names_by_number_name_beginning_or_close_spelling():
    names = ["Dokumentensuche", "Ticket-Assistent", "Protokoll-Copilot"]
    assert slots.pick("Feedback zum Pilot 2", names) == "Ticket-Assistent"
    assert slots.pick("feedback zu dokumentensuche", names) == "Dokumentensuche"
    assert slots.pick("den Ticket-Assi bitte", names) == "Ticket-Assistent"
    assert slots.pick("Protokol-Copilot", names) == "Protokoll-Copilot"
    assert slots.pick("unser Pilot", names) is None
    # shortened and in English: the first word begins the name, the last ends it
    assert slots.pick("details zur doku-suche", names) == "Dokumentensuche"
    assert slots.pick("how is the doc search pilot doing", names, parts=False) == "Dokumentensuche"
    assert slots.pick("numbers on the protocol copilot", names, parts=False) == "Protokoll-Copilot"
    assert slots.pick("good KPIs for a meeting minutes copilot", names, parts=False) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kannst du SAP Joule im KI-Verzeichnis eintragen", "SAP Joule"),
        ("bitte Grammarly ins register", "Grammarly"),
        ("please put Notion AI in the register", "Notion AI"),
        ("our marketing team uses Jasper, add it to the register pls", "Jasper"),
        ("register eintrag anlegen fuer personio ki-assistent", "personio ki-assistent"),
        ("koenntest du evtl. Personio KI ins register eintragen?", "Personio KI"),  # no "evtl." in the name
        ("danke! und kannst du noch SAP Joule ins Register eintragen?", "SAP Joule"),
        ("neuer eintrag ins regsiter: Otter.ai", "Otter.ai"),
        ("create pilot Angebotsassistent", "Angebotsassistent"),
        ("bitte Pilot Angebotsassistent anlegen", "Angebotsassistent"),
        ("neuer pilot für die buchhaltung anlegen", None),
        ("was steht im register", None),
        ("wer ist im KI-Register", None),
    ],
)
def test_new_names_as_people_write_them(text, expected):
    assert slots.name(text) == expected
