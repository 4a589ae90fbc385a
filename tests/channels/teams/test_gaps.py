"""Knowledge gaps in Teams (issue 25), through signed Bot Framework activities: a refused question reaches
the knowledge owner's list as Adaptive Card buttons, Action.Submit on "Antwort hinterlegen" starts the
dialog, the next person who asks gets the answer with the company FAQ's citation, and the first asker is
told once in their personal chat (the nudge dispatcher with the Teams sender, through the stored reference)."""

from __future__ import annotations

import json

from sqlalchemy import delete

from bot.channels.teams.channel import TeamsSender
from bot.reminders.dispatch import Dispatcher
from bot.storage.models import GapGroupRow, GapRow

from .test_teams import card_of, submits

ASKED = "Was kostet eine Copilot-Lizenz bei der Teamstest GmbH?"
ADMIN = {"from": {"id": "29:admin", "name": "Ida Admin", "aadObjectId": "aad-admin"}}


async def test_a_refused_question_is_answered_by_the_knowledge_owner_in_teams(teams):
    with teams.core.services.db.session() as s:  # the gap log is the company's, not a workspace's: start empty
        s.execute(delete(GapRow))
        s.execute(delete(GapGroupRow))
    await teams.say(ASKED)
    [refused] = await teams.connector.wait_for()
    assert "steht nichts in meiner Wissensbasis" in json.dumps(refused, ensure_ascii=False)
    await teams.say("/wissen", **ADMIN)
    listed = (await teams.connector.wait_for(2))[-1]
    card = card_of(listed)
    lines = [e for e in card["body"] if e["type"] == "TextBlock"]
    assert any("Wissenslücken" in line["text"] for line in lines)
    answers = [a for a in submits(card) if a["title"] == "Antwort hinterlegen"]
    mine = [a for a in answers if any(ASKED in line["text"] and a["data"]["value"].endswith(
        ":" + line["text"].split("**")[1]) for line in lines)]  # fmt: skip
    [answer] = mine
    faq = teams.core.services.faq
    try:
        await teams.post(teams.activity(None, value=answer["data"], replyToId="activity-2", **ADMIN))
        asked = (await teams.connector.wait_for(3))[-1]
        assert "Wie soll die Frage im FAQ lauten?" in json.dumps(asked, ensure_ascii=False)
        for n, text in enumerate(("behalten", "Bei der Teamstest GmbH kostet eine Lizenz 30 € im Monat.",
                                  "überspringen"), 4):  # fmt: skip
            await teams.say(text, **ADMIN)
            await teams.connector.wait_for(n)
        done = teams.connector.messages()[-1]
        assert "Im Unternehmens-FAQ" in json.dumps(done, ensure_ascii=False)
        await teams.say("Was kostet bei der Teamstest GmbH eine Copilot-Lizenz?")
        answered = (await teams.connector.wait_for(7))[-1]
        shown = json.dumps(answered, ensure_ascii=False)
        assert "30 € im Monat" in shown and "Unternehmens-FAQ" in shown

        dispatcher = Dispatcher(teams.core.services.reminders, [TeamsSender(teams.channel)])
        assert (await dispatcher.run_once()).notices == 1
        told = (await teams.connector.wait_for(8))[-1]
        assert (
            told["text"].startswith("💡 Sie hatten gefragt: „")
            and told["conversation"]["id"] == refused["conversation"]["id"]
        )
        assert (await dispatcher.run_once()).notices == 0  # once
    finally:  # the session's knowledge base is shared: the entry leaves it again
        for entry in faq.entries():
            faq.withdraw(entry.id, "test")


POLICY = """# KI-Richtlinie der Teamstest GmbH

## Freigabe von KI-Tools

Neue KI-Tools gibt bei der Teamstest GmbH die KI-Beauftragte Mira Schulz frei, über das Ticket-System.
"""


async def test_a_knowledge_owner_sends_a_document_in_the_personal_chat(teams):
    """Teams delivers a file sent in a personal chat as a file.download.info attachment with a
    pre-authenticated link: fetched, checked, confirmed with the card's button, and answered from."""
    url = teams.connector.host("KI-Richtlinie.md", POLICY.encode())
    sent = [{"contentType": "application/vnd.microsoft.teams.file.download.info", "name": "KI-Richtlinie.md",
             "contentUrl": "https://contoso.sharepoint.com/KI-Richtlinie.md",
             "content": {"downloadUrl": url, "uniqueId": "1", "fileType": "md"}}]  # fmt: skip
    await teams.say("", attachments=sent, **ADMIN)
    [checked] = await teams.connector.wait_for()
    card = card_of(checked)
    assert "📄 „KI-Richtlinie.md“ gelesen" in json.dumps(card, ensure_ascii=False)
    add = next(a for a in submits(card) if a["title"] == "Aufnehmen")
    documents = teams.core.services.documents
    try:
        await teams.post(teams.activity(None, value=add["data"], replyToId="activity-1", **ADMIN))
        done = (await teams.connector.wait_for(2))[-1]
        assert "ist aufgenommen" in json.dumps(done, ensure_ascii=False)
        asker = {"from": {"id": "29:doc-asker", "name": "Dora", "aadObjectId": "aad-doc-asker"}}  # own rate limit
        await teams.say("Wer gibt bei uns neue KI-Tools frei?", **asker)
        answered = (await teams.connector.wait_for(3))[-1]
        assert "Mira Schulz" in answered["text"]
    finally:  # the session's knowledge base is shared: the document leaves it again
        from bot.core.messages import Incoming

        owner = Incoming("", "29:admin", channel="teams", workspace="t", admin=True)
        for number in range(len(documents.documents()), 0, -1):
            documents.remove(owner, number, "de")
