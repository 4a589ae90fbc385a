"""A refusal offers the sections that came closest ("Meinten Sie …?") in Slack and Teams as well."""

from bot.channels.slack.blocks import render
from bot.channels.teams.cards import card
from bot.core.messages import Citation, Reply

NEAREST = [Citation(0, "Budget und Zeitrahmen", "de/08.md", "Laufende Kosten", "…", 0.3, "", used=False)]


def refusal(**fields) -> Reply:
    return Reply(
        "Dazu steht nichts in meiner Wissensbasis …",
        "de",
        answered=False,
        mode="extractive",
        nearest=NEAREST,
        kind="refusal",
        **fields,
    )


def test_slack_shows_the_nearest_sections_under_a_refusal():
    ((_, blocks),) = render(refusal())
    assert blocks[-1]["type"] == "context"
    assert "Meinten Sie: Budget und Zeitrahmen › Laufende Kosten" in blocks[-1]["elements"][0]["text"]


def test_teams_shows_the_nearest_sections_under_a_refusal():
    texts = [b.get("text", "") for b in card(refusal())["body"]]
    assert "Meinten Sie: Budget und Zeitrahmen › Laufende Kosten" in texts


def test_an_answer_shows_no_nearest_sections():
    answer = Reply("2.000 bis 5.000 Euro pro Person [1].", "de", mode="extractive", nearest=NEAREST, kind="answer")
    ((_, blocks),) = render(answer)
    assert not any("Meinten Sie" in str(b) for b in blocks)
