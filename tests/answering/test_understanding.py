"""Reading a question as people type it: spelling, the lexicon, two questions in one, follow-ups, and the
guide's figures applied to the asker's numbers. Pure functions: no index needed."""

import pytest

from bot.answering.conversation import rewrite, split_parts
from bot.answering.facts import computed
from bot.answering.gate import company_specific, unknown_terms
from bot.answering.query import Lexicon, Speller

VOCABULARY = frozenset(
    "müssen schulungsbudget infrastruktur weiterbildung große heute kosten lizenzgebühren baseline".split()
)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("muessen", "müssen"),  # umlaut written out
        ("grosse", "große"),  # ß written as ss
        ("schulungsbudjet", "schulungsbudget"),  # one letter wrong
        ("infrastucktur", "infrastruktur"),  # two edits in a long word
        ("weiterbildnug", "weiterbildung"),  # two letters swapped
        ("fuer", "für"),  # a function word written without its umlaut
    ],
)
def test_speller_puts_typed_words_right_against_the_knowledge_bases_words(typed, meant):
    assert Speller(VOCABULARY).correct(typed) == meant


def test_speller_leaves_short_and_unknown_words_alone():
    speller = Speller(VOCABULARY)
    assert speller.correct("leute") == "leute"  # one edit from "heute", but short words are not guessed
    assert speller.correct("copilot") == "copilot"


def test_a_short_word_is_put_right_only_by_a_letter_doubled_or_undoubled():
    speller = Speller(frozenset({"ollama", "daten", "commit"}), language="en")
    assert speller.correct("olama") == "ollama"
    assert speller.correct("comit") == "commit"
    assert speller.correct("datev") == "datev"  # a name the guide lacks, one letter from one of its words
    assert Speller(frozenset({"ollama"})).correct("olama") == "olama"  # without a dictionary nothing tells


def test_lexicon_phrases_match_with_an_ending():
    lexicon = Lexicon(
        {"de": {"skeptische Mitarbeiter": ["widerstand", "widerstaende"]}, "en": {"sceptical": ["concern"]}}
    )
    assert lexicon.expand("Wie gehen wir mit Widerständen um?", "de") == ("skeptische Mitarbeiter",)
    assert lexicon.expand("any concerns?", "en") == ("sceptical",)
    assert lexicon.expand("Widerstandskämpfer", "de") == ()  # a compound is another word


def test_lexicon_adds_the_guides_terms_for_the_words_people_use():
    lexicon = Lexicon({"de": {"Proof of Concept": ["poc"], "Baseline": ["ist-zustand", "nullmessung"]}})
    assert lexicon.expand("Was unterscheidet einen PoC vom Ist Zustand?", "de") == ("Proof of Concept", "Baseline")
    assert lexicon.expand("Was ist ein Proof of Concept?", "de") == ()  # already there: nothing added
    assert lexicon.expand("Was ist ein PoC?", "en") == ()  # per language


def test_the_bundled_lexicon_loads_and_knows_common_paraphrases():
    lexicon = Lexicon.load()
    assert "Quick Wins" in lexicon.expand("low hanging fruits?", "de")
    assert "per person" in lexicon.expand("budget per head for upskilling", "en")


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        (
            "Wie lange dauert die ganze Roadmap, und was kostet uns das erste Jahr?",
            ["Wie lange dauert die ganze Roadmap?", "was kostet uns das erste Jahr?"],
        ),
        ("Was kostet X? Und wie lange dauert Y?", ["Was kostet X?", "Und wie lange dauert Y?"]),
        ("how long till ROI, and what do we spend monthly?", ["how long till ROI?", "what do we spend monthly?"]),
        ("Was sind Quick Wins und Change Champions?", ["Was sind Quick Wins und Change Champions?"]),
        ("Wir sind 120 Leute. Passt der Leitfaden zu uns?", ["Wir sind 120 Leute. Passt der Leitfaden zu uns?"]),
    ],
)
def test_two_questions_in_one_message_are_split_and_one_question_is_not(message, parts):
    assert split_parts(message) == parts


@pytest.mark.parametrize(
    ("follow_up", "previous", "language", "meant"),
    [
        ("Und danach?", "Was passiert in Woche 3?", "de", "Was passiert in Woche 4 des 90-Tage-Plans?"),
        ("und danach?", "was machen wir in woche 5-6", "de", "Was passiert in Woche 7-8 des 90-Tage-Plans?"),
        ("und die Woche davor?", "Was steht in Woche 5 an?", "de", "Was passiert in Woche 4 des 90-Tage-Plans?"),
        (
            "and the one after that?",
            "What happens in weeks 9 and 10?",
            "en",
            "What happens in week 11 of the 90-day plan?",
        ),
        ("und in Phase 2?", "Welche Tools gibt es für Phase 1?", "de", "Welche Tools gibt es für Phase 2?"),
        ("Und pro Monat?", "Was kostet eine Schulung pro Person?", "de", None),  # a topic carried over instead
        ("und danach?", "Was passiert in Woche 12?", "de", None),  # the plan ends there
    ],
)
def test_follow_ups_move_along_the_plans_weeks_and_the_roadmaps_phases(follow_up, previous, language, meant):
    assert rewrite(follow_up, previous, [], language) == meant


def test_a_follow_up_finds_its_week_in_the_previously_cited_section_when_the_question_named_none():
    sections = ["Tage 1–30: Fundamentanalyse > Woche 2: Datenlandschaft bewerten"]
    assert rewrite("und danach?", "Was machen wir nach den Interviews?", sections, "de") == (
        "Was passiert in Woche 3 des 90-Tage-Plans?"
    )


TRAINING = "Für eine fundierte KI-Schulung sollten Sie 2.000 bis 5.000 Euro pro Person einplanen. [1]"
RUNNING = "Je produktivem KI-System fallen laufende Kosten von 2.000 bis 5.000 Euro pro Monat an. [1]"
RUNNING_EN = "Running costs are about €2,000 to €5,000 per month for each productive AI system. [1]"


@pytest.mark.parametrize(
    ("question", "answer", "language", "expected"),
    [
        (
            "Wir wollen 12 Leute im Vertrieb schulen – womit müssen wir rechnen?",
            TRAINING,
            "de",
            "Für 12 Personen sind das 24.000 bis 60.000 Euro.",
        ),
        (
            "we'll run 3 AI systems in production, cost per year?",
            RUNNING_EN,
            "en",
            "For 3 productive AI systems that comes to €6,000 to €15,000 a month. Over a year: €72,000 to €180,000.",
        ),
        (
            "Wir betreiben bald vier KI-Systeme produktiv, was kostet das monatlich?",
            RUNNING,
            "de",
            "Für 4 produktive KI-Systeme sind das 8.000 bis 20.000 Euro im Monat.",
        ),
        (
            "Eine Standardanfrage dauert bei uns 45 Minuten. Was wäre das Ziel?",
            "Zum Beispiel 40 % weniger Bearbeitungszeit für Standardanfragen. [1]",
            "de",
            "Auf Ihre 45 Minuten angewandt: 40 % weniger ergibt etwa 27 Minuten.",
        ),
        (
            "Drei unserer vier Infrastruktur-Punkte sind erfüllt – reicht das?",
            "Wer mindestens drei der vier Fragen bejaht, ist grundsätzlich KI-bereit. [1]",
            "de",
            "Bei 3 von 4 erfüllten Punkten gilt Ihre Infrastruktur als grundsätzlich KI-bereit "
            "(Regel: mindestens 3 von 4).",
        ),
        (
            "we can only say yes to 2 of the 4 infrastructure questions, are we AI-ready?",
            "Answering three of the four questions with yes means basically AI-ready. [1]",
            "en",
            "With 2 of 4 points met, that is not enough yet; close the open points first (rule: at least 3 of 4).",
        ),
        (
            "Unser ERP hat auf der Skala die Note 3 – früh integrieren?",
            "Systeme mit Bewertung 4 oder 5 eignen sich für frühe KI-Integrationen. [1]",
            "de",
            "Ein System mit der Bewertung 3 eignet sich noch nicht für eine frühe KI-Integration; dafür braucht es "
            "eine 4 oder 5.",
        ),
        (
            "Bei unserer Bewertung hat das ERP eine 3 bekommen, das CRM eine 4. Welches nehmen wir zuerst?",
            "Systeme mit Bewertung 4 oder 5 eignen sich für frühe KI-Integrationen. [1]",
            "de",
            "Für eine frühe KI-Integration eignen sich: CRM. Noch nicht (Bewertung unter 4): ERP.",
        ),
    ],
)
def test_the_guides_figures_and_rules_are_applied_to_the_askers_numbers(question, answer, language, expected):
    assert computed(question, answer, language) == expected


def test_nothing_is_computed_without_the_askers_numbers_or_without_the_figure():
    assert computed("Wie viel kostet eine KI-Schulung pro Person?", TRAINING, "de") is None
    assert computed("Wir wollen 12 Leute schulen.", "Schulungen sind wichtig. [1]", "de") is None


@pytest.mark.parametrize(
    "question",
    [
        "Wer ist bei uns eigentlich KI-System-Owner?",
        "Wann ist unsere nächste Datenschutz-Schulung?",
        "Who is our data protection officer?",
        "Was kostet eine Copilot-Lizenz?",
    ],
)
def test_questions_only_the_company_or_a_vendor_can_answer_are_recognised(question):
    vocabulary = frozenset("system owner datenschutz schulung data protection kosten budget".split())
    assert company_specific(question, unknown_terms(question, vocabulary))


@pytest.mark.parametrize(
    "question",
    ["Wie bewerten wir unsere Systeme?", "Was kostet uns das erste Jahr?", "Wer sollte KI-Tools genehmigen?"],
)
def test_questions_about_the_guides_advice_for_us_are_not_company_specific(question):
    vocabulary = frozenset("bewerten systeme kosten jahr genehmigen tools".split())
    assert not company_specific(question, unknown_terms(question, vocabulary))


def test_speller_takes_no_other_word_form_for_a_typo():
    assert Speller(frozenset({"meistern", "schulung"})).correct("meister") == "meister"
    assert Speller(frozenset({"schulungen"})).correct("schulung") == "schulung"


def test_the_weeks_of_the_plan_are_dated_from_the_start_the_asker_gives():
    text = computed(
        "Wir starten am 1. Juli mit dem 90-Tage-Plan. Wann steht der erste Prototyp?",
        "In Woche 7-8 des 90-Tage-Plans entsteht ein erster Prototyp. [1]",
        "de",
    )
    assert text.startswith("Bei Start am 1. Juli ") and "fällt Woche 7–8 auf 12. August " in text
    assert "bis 25. August " in text
    english = computed("We kick off on March 3rd, when is week 11?", "In week 11 the ROI is computed. [1]", "en")
    assert english.startswith("Starting on 3 March ") and "week 11 runs from 12 May " in english


def test_a_day_of_the_plan_is_read_as_its_week_and_block():
    from bot.answering.query import plan_day

    assert plan_day("wir sind an tag 45 vom 90-tage-plan", "de") == ("Woche 7", "Tage 31-60")
    assert plan_day("we are at day 75 of the plan", "en") == ("week 11", "days 61-90")
    assert plan_day("Tag 120?", "de") == ()


def test_a_span_in_months_is_counted_from_the_month_the_asker_started():
    text = computed(
        "Unsere Roadmap hat im Januar 2026 begonnen. Wann ist der ROI messbar?",
        "Der ROI ist nach 12 bis 18 Monaten messbar. [1]",
        "de",
    )
    assert text == "Ab Januar 2026 gerechnet: Januar 2027 bis Juli 2027."
