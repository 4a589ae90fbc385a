"""Knowledge gaps in Slack (issue 25), through signed events, a signed `/lotse wissen` and a real
block_actions click: a refused question reaches the list in the knowledge owner's DM with its buttons,
"Antwort hinterlegen" starts the dialog there, the next person who asks gets the answer with the
company FAQ's citation, and the one who asked first is told once in their DM, by the nudge dispatcher as
`lotse serve` builds it."""

from __future__ import annotations

from sqlalchemy import delete

from bot.app.server import build_app, build_scheduler
from bot.storage.models import GapGroupRow, GapRow

from .conftest import buttons, posted, texts
from .test_pilots import SENT_TO_DM, ack_text, settle

ASKED = "Was kostet eine Copilot-Lizenz bei der Slacktest GmbH?"


async def wait_dm(slack, channel: str, count: int) -> dict:
    await slack.fake.wait_for("chat.postMessage", count=count, timeout=30.0)  # a loaded CI machine: ample time
    return [m for m in posted(slack.fake) if m["channel"] == channel][-1]


async def test_a_refused_question_is_answered_by_the_knowledge_owner_in_slack(slack):
    with slack.core.services.db.session() as s:  # the gap log is the company's, not a workspace's: start empty
        s.execute(delete(GapRow))
        s.execute(delete(GapGroupRow))
    response = await slack.dm(ASKED, user="U7", channel="DU7")
    assert response.status == 200, await response.text()
    refused = await wait_dm(slack, "DU7", 1)
    assert "steht nichts in meiner Wissensbasis" in texts(refused)

    assert await ack_text(slack, "wissen", user="UADMIN", channel="C1") == SENT_TO_DM
    listed = await wait_dm(slack, "DUADMIN", 2)
    assert texts(listed).startswith("*Wissenslücken*")
    [answer] = [b for b in buttons(listed) if b["text"]["text"] == "Antwort hinterlegen" and
                f"„{ASKED}“" in _line_of(listed, b)]  # fmt: skip
    await slack.click(listed, answer, user="UADMIN", channel="DUADMIN")
    asked = await wait_dm(slack, "DUADMIN", 3)
    assert "Wie soll die Frage im FAQ lauten?" in texts(asked) and "„behalten“ übernimmt" in texts(asked)
    faq = slack.core.services.faq
    try:
        await slack.dm("behalten", user="UADMIN", channel="DUADMIN")
        await wait_dm(slack, "DUADMIN", 4)
        await slack.dm("Bei der Slacktest GmbH kostet eine Copilot-Lizenz 30 € im Monat.", user="UADMIN",
                       channel="DUADMIN")  # fmt: skip
        await wait_dm(slack, "DUADMIN", 5)
        await slack.dm("überspringen", user="UADMIN", channel="DUADMIN")
        done = await wait_dm(slack, "DUADMIN", 6)
        assert texts(done).startswith("✅ Im Unternehmens-FAQ")

        await slack.dm("Was kostet bei der Slacktest GmbH eine Copilot-Lizenz?", user="U8", channel="DU8")
        answered = await wait_dm(slack, "DU8", 7)
        assert "30 € im Monat" in texts(answered) and "Unternehmens-FAQ" in str(answered["blocks"])

        scheduler = build_scheduler(slack.core, build_app(slack.core, slack.core.settings))
        stats = await scheduler.dispatcher.run_once()
        assert stats.notices == 1
        told = await wait_dm(slack, "DU7", 8)  # the first asker, in their DM
        assert texts(told).startswith("💡 Sie hatten gefragt: „") and "30 € im Monat" in texts(told)
        assert (await scheduler.dispatcher.run_once()).notices == 0  # once
    finally:  # the session's knowledge base is shared: the entry leaves it again
        for entry in faq.entries():
            faq.withdraw(entry.id, "test")
        await settle(0.1)


def _line_of(message: dict, button: dict) -> str:
    """The task line above the actions block that holds `button`."""
    blocks = message["blocks"]
    for n, block in enumerate(blocks):
        if block["type"] == "actions" and button in block["elements"]:
            return str(blocks[n - 1])
    return ""
