"""Two `lotse serve` processes for real, on one PostgreSQL database and one Chroma server, behave as one
bot: the same signed Slack event delivered to both is answered once, and an assessment started on one
continues on the other. Nothing leaves 127.0.0.1 (the Slack Web API is the fake)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from bot.settings import Settings
from ingest.index import KnowledgeIndex, document_id
from ingest.pipeline import ingest
from tests.conftest import KNOWLEDGE, ROOT
from tests.fakes.local import start_serve
from tests.fakes.slack_api import FakeSlack, sign

SECRET = "replica-secret"
TEAM = "TREP"


async def serve(fake: FakeSlack, data_dir: Path, database: str, chroma: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LOTSE_", "SLACK_", "MICROSOFT_"))}
    env.update(
        LOTSE_DATA_DIR=str(data_dir),
        LOTSE_DATABASE_URL=database,
        LOTSE_CHROMA_URL=chroma,
        LOTSE_KNOWLEDGE_DIR=str(KNOWLEDGE),
        SLACK_BOT_TOKEN="xoxb-replica",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.api_url,
        SLACK_TEAM_ID=TEAM,
    )
    try:
        return await start_serve(env, ROOT, ready="/readyz")
    except RuntimeError as exc:
        pytest.fail(str(exc))


async def post_event(session: aiohttp.ClientSession, base: str, body: str) -> int:
    headers = {"Content-Type": "application/json", **sign(SECRET, body)}
    async with session.post(f"{base}/slack/events", data=body, headers=headers) as response:
        return response.status


def event(text: str, ts: str, event_id: str, user: str = "UANNA") -> str:
    message = {"type": "message", "channel": "DREP1", "channel_type": "im", "user": user, "text": text, "ts": ts}
    return json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1700000000,
            "event": message,
        }
    )


async def test_two_replicas_answer_an_event_once_and_share_a_dialog(tmp_path, postgres_url, chroma_url):
    shared = Settings(
        data_dir=tmp_path / "ingest", knowledge_dir=KNOWLEDGE, database_url=postgres_url, chroma_url=chroma_url
    )
    index = KnowledgeIndex(shared)
    assert not ingest(index, [KNOWLEDGE], progress=False).failed
    index.db.dispose()
    fake = await FakeSlack(team_id=TEAM).start()
    first, one = await serve(fake, tmp_path / "r1", postgres_url, chroma_url)
    second, two = await serve(fake, tmp_path / "r2", postgres_url, chroma_url)
    try:
        async with aiohttp.ClientSession() as session:
            # the same event (a retry, or a load balancer sending it twice) reaches both replicas at once
            body = event("Wie viel Budget brauchen wir pro Person für KI-Schulungen?", "1700000100.000100", "EvR1")
            statuses = await asyncio.gather(post_event(session, one, body), post_event(session, two, body))
            assert statuses == [200, 200]
            [reply] = await fake.wait_for("chat.postMessage")
            await asyncio.sleep(2)  # time for a second reply, which must not come
            assert len(fake.of("chat.postMessage")) == 1 and reply["channel"] == "DREP1"
            text = json.dumps(reply, ensure_ascii=False)
            assert "Schulung" in text and "[1]" in text  # the cited answer from the shared index

            # an assessment started on the first replica continues on the second
            await post_event(session, one, event("/check readiness", "1700000200.000100", "EvR2"))
            await fake.wait_for("chat.postMessage", count=2)
            await post_event(session, two, event("ja", "1700000300.000100", "EvR3"))
            replies = await fake.wait_for("chat.postMessage", count=3)
            asked, answered = json.dumps(replies[1], ensure_ascii=False), json.dumps(replies[2], ensure_ascii=False)
            assert "Frage 1 von 4" in asked and "Frage 2 von 4" in answered
    finally:
        for process in (first, second):
            process.terminate()
            process.wait(timeout=15)
        await fake.stop()


async def test_a_running_replica_answers_from_documents_another_process_ingested(tmp_path, postgres_url, chroma_url):
    """`lotse ingest` run elsewhere (another replica, an operator's shell) on the shared database and Chroma
    server: a running replica picks the new document up within 5 s, without a restart — its own BM25
    index, chunk cache and kept search results are rebuilt from the database."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "drucker.md").write_text("# Drucker\n## Toner\nDer Toner wird alle 14 Tage gewechselt.\n", "utf-8")
    shared = Settings(data_dir=tmp_path / "ingest", database_url=postgres_url, chroma_url=chroma_url)
    index = KnowledgeIndex(shared)
    assert not ingest(index, [docs], progress=False).failed
    index.db.dispose()
    fake = await FakeSlack(team_id=TEAM).start()
    process, base = await serve(fake, tmp_path / "r1", postgres_url, chroma_url)
    question = "Wann öffnet die Kantine?"
    try:
        async with aiohttp.ClientSession() as session:
            await post_event(session, base, event(question, "1700000100.000100", "EvF0"))
            [refusal] = await fake.wait_for("chat.postMessage")
            assert "11:30" not in json.dumps(refusal, ensure_ascii=False)

            (docs / "kantine.md").write_text(
                "# Kantine\n## Öffnungszeiten\nDie Kantine öffnet um 11:30 Uhr.\n", "utf-8"
            )
            env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LOTSE_", "SLACK_"))}
            env.update(
                LOTSE_DATA_DIR=str(tmp_path / "elsewhere"), LOTSE_DATABASE_URL=postgres_url, LOTSE_CHROMA_URL=chroma_url
            )
            done = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.app.cli",
                "ingest",
                str(docs),
                env=env,
                cwd=ROOT,
                stderr=asyncio.subprocess.PIPE,
            )
            _, stderr = await done.communicate()
            assert done.returncode == 0, stderr.decode()
            ingested = time.monotonic()

            for n in range(1, 40):  # ask again (as others: one person's rate limit) until the answer has it
                await post_event(session, base, event(question, f"1700000200.{n:06d}", f"EvF{n}", f"U{n}"))
                reply = json.dumps((await fake.wait_for("chat.postMessage", count=n + 1))[-1], ensure_ascii=False)
                if "11:30" in reply:
                    break
                await asyncio.sleep(0.5)
            assert "11:30" in reply and "*Kantine* › Öffnungszeiten" in reply, reply
            assert time.monotonic() - ingested < 10  # one check every 5 s, then the rebuild
    finally:
        process.terminate()
        process.wait(timeout=15)
        await fake.stop()
        vectors = KnowledgeIndex(shared).vectors  # the server is the session's: other tests rank against it
        for path in docs.iterdir():
            vectors.delete_document(document_id(path))
