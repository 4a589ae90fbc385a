"""Teams on two real `lotse serve` replicas sharing one PostgreSQL database: the same activity
delivered to both (a Bot Connector retry landing on the other replica) is answered once, and an
assessment started on one replica continues on the other. Anonymous mode on loopback, as with the
local emulator; the replies go to the fake Bot Connector."""

from __future__ import annotations

import asyncio
import json
import os

import aiohttp
import pytest

from bot.settings import Settings
from ingest.index import KnowledgeIndex
from ingest.pipeline import ingest
from tests.conftest import KNOWLEDGE, ROOT
from tests.fakes.bot_connector import FakeConnector
from tests.fakes.local import start_serve


def activity(connector: FakeConnector, activity_id: str, text: str) -> dict:
    return {
        "type": "message",
        "id": activity_id,
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "from": {"id": "29:anna", "aadObjectId": "aad-anna"},
        "recipient": {"id": "28:bot"},
        "conversation": {"id": "a:conv-replicas", "conversationType": "personal"},
        "text": text,
    }


async def test_a_teams_activity_reaching_both_replicas_is_answered_once(tmp_path, postgres_url, chroma_url):
    shared = Settings(
        data_dir=tmp_path / "ingest", knowledge_dir=KNOWLEDGE, database_url=postgres_url, chroma_url=chroma_url
    )
    index = KnowledgeIndex(shared)
    assert not ingest(index, [KNOWLEDGE], progress=False).failed
    index.db.dispose()
    connector = await FakeConnector().start()
    processes = []
    try:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LOTSE_", "SLACK_", "MICROSOFT_"))}
        for name in ("r1", "r2"):
            env = {
                **clean,
                "LOTSE_DATA_DIR": str(tmp_path / name),
                "LOTSE_DATABASE_URL": postgres_url,
                "LOTSE_CHROMA_URL": chroma_url,
                "LOTSE_KNOWLEDGE_DIR": str(KNOWLEDGE),
                "LOTSE_TEAMS_ALLOW_ANONYMOUS": "1",
                "LOTSE_SCHEDULER": "0",
            }
            try:
                processes.append(await start_serve(env, ROOT, ready="/readyz"))
            except RuntimeError as exc:
                pytest.fail(str(exc))
        (_, one), (_, two) = processes
        async with aiohttp.ClientSession() as session:

            async def post(base: str, body: dict) -> int:
                async with session.post(f"{base}/api/messages", json=body) as response:
                    return response.status

            same = activity(connector, "act-1", "Wie viel Budget brauchen wir pro Person für KI-Schulungen?")
            statuses = await asyncio.gather(post(one, same), post(two, same))
            assert all(status in (200, 201, 202) for status in statuses), statuses
            [reply] = await connector.wait_for(1, timeout=30)
            await asyncio.sleep(2)  # time for a second reply, which must not come
            assert len(connector.messages()) == 1
            assert "Schulung" in json.dumps(reply, ensure_ascii=False)

            await post(one, activity(connector, "act-2", "/check readiness"))
            await connector.wait_for(2, timeout=30)
            await post(two, activity(connector, "act-3", "ja"))
            replies = await connector.wait_for(3, timeout=30)
            asked, answered = (json.dumps(r, ensure_ascii=False) for r in replies[1:3])
            assert "Frage 1 von 4" in asked and "Frage 2 von 4" in answered
    finally:
        for process, _ in processes:
            process.terminate()
            process.wait(timeout=15)
        await connector.stop()
