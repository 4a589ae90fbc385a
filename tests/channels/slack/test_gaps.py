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


POLICY = """# KI-Richtlinie der Slacktest GmbH

## Freigabe von KI-Tools

Neue KI-Tools gibt bei der Slacktest GmbH der KI-Beauftragte Jonas Weber frei. Anträge laufen über das
Ticket-System, Kategorie „KI-Freigabe“.
"""


async def test_a_knowledge_owner_sends_a_document_in_a_dm_and_it_answers_questions_about_us(slack):
    """A file shared in the owner's DM (message subtype file_share) is fetched with the bot token, checked,
    confirmed with a click and ingested; the next question about "uns" is answered from it. A file from
    someone who owns no knowledge is refused and not fetched into the index."""
    url = slack.fake.host("KI-Richtlinie.md", POLICY.encode())
    shared = {"subtype": "file_share", "files": [{"name": "KI-Richtlinie.md", "size": len(POLICY.encode()),
                                                  "url_private_download": url}]}  # fmt: skip
    response = await slack.dm("hier unsere Richtlinie", user="UADMIN", channel="DUADMIN", **shared)
    assert response.status == 200, await response.text()
    checked = await wait_dm(slack, "DUADMIN", 1)
    assert texts(checked).startswith("📄 „KI-Richtlinie.md“ gelesen: „KI-Richtlinie der Slacktest GmbH“")
    assert slack.fake.of("file download") == [{"name": "KI-Richtlinie.md"}]
    add = next(b for b in buttons(checked) if b["text"]["text"] == "Aufnehmen")
    documents = slack.core.services.documents
    try:
        await slack.click(checked, add, user="UADMIN", channel="DUADMIN")
        done = (await slack.fake.wait_for("chat.postMessage", count=2, timeout=30.0))[-1]
        assert texts(done).startswith("✅ „KI-Richtlinie.md“ ist aufgenommen")
        await slack.dm("Wer gibt bei uns neue KI-Tools frei?", user="U9", channel="DU9")
        answered = await wait_dm(slack, "DU9", 3)
        assert "Jonas Weber" in texts(answered) and "[1] *KI-Richtlinie der Slacktest GmbH*" in texts(answered)
        await slack.dm("und die hier", user="U9", channel="DU9", **shared)  # U9 owns no knowledge
        refused = await wait_dm(slack, "DU9", 4)
        assert texts(refused).startswith("Dokumente für das Wissen von Lotse nehmen die Wissensverantwortlichen auf")
    finally:  # the session's knowledge base is shared: the document leaves it again
        for number in range(len(documents.documents()), 0, -1):
            documents.remove(_owner(), number, "de")
        await settle(0.1)


def _owner():
    from bot.core.messages import Incoming

    return Incoming("", "UADMIN", channel="slack", workspace="T1")
