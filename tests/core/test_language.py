import pytest

from bot.core.language import detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Wie viel Budget brauchen wir pro Person für KI-Schulungen?", "de"),
        ("Was passiert in Woche 3?", "de"),
        ("Welche Tools für Datenqualität?", "de"),
        ("How much budget do we need per person for AI training?", "en"),
        ("What happens in week 3?", "en"),
        ("how do i tell if our infrastructure is AI ready?", "en"),
        ("Und pro Monat?", "de"),
        ("And per month?", "en"),
    ],
)
def test_detects_german_and_english(text, language):
    assert detect_language(text) == language


def test_no_signal_falls_back_to_the_default():
    assert detect_language("ROI?", default="en") == "en"
    assert detect_language("KPI") == "de"
