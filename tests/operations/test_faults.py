"""Nothing acknowledged is lost (issue 20), under real faults: `lotse serve` replicas in processes of
their own, killed with SIGKILL or stopped with SIGTERM in the middle of a flood of signed Slack events; a
PostgreSQL server of the test's own killed and started again; `lotse serve` started while the database
is down; Socket Mode with the database down (no ack). Slack's side delivers as Slack does, retries
included (tests/fakes/slack_sender.py). Each test asserts that every event ends answered exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from bot.app import server
from bot.app.services import build_core
from bot.settings import Settings, SlackSettings
from ingest.index import KnowledgeIndex
from ingest.pipeline import ingest
from tests.conftest import KNOWLEDGE, ROOT
from tests.fakes.bot_connector import FakeConnector
from tests.fakes.local import serve_local, start_serve
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.postgres_cluster import OwnPostgres, server_binaries
from tests.fakes.slack_api import FakeSlack, sign
from tests.fakes.slack_sender import SlackSender, dm_event

SECRET = "fault-secret"
TEAM = "TFAULT"
QUESTION = "Wie viel Budget brauchen wir pro Person für KI-Schulungen?"
needs_server = pytest.mark.skipif(server_binaries() is None, reason="PostgreSQL's server binaries are not installed")


@pytest.fixture
def own_postgres():
    cluster = OwnPostgres()
    cluster.start()
    yield cluster
    cluster.close()


def ingested(tmp_path: Path, url: str, chroma: str | None = None) -> None:
    index = KnowledgeIndex(
        Settings(data_dir=tmp_path / "ingest", knowledge_dir=KNOWLEDGE, database_url=url, chroma_url=chroma)
    )
    assert not ingest(index, [KNOWLEDGE], progress=False).failed
    index.db.dispose()


def replica_env(
    tmp_path: Path, name: str, url: str, fake: FakeSlack | None = None, chroma: str | None = None, **extra: str
) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LOTSE_", "SLACK_", "MICROSOFT_"))}
    env.update(
        LOTSE_DATA_DIR=str(tmp_path / name),
        LOTSE_DATABASE_URL=url,
        LOTSE_KNOWLEDGE_DIR=str(KNOWLEDGE),
        LOTSE_SCHEDULER="0",
        LOTSE_INBOX_LEASE="2",
        LOTSE_RATE_PER_MINUTE="0",
        LOTSE_RATE_PER_HOUR="0",
    )
    if chroma is not None:  # one Chroma server: a replica starts without embedding the knowledge base again
        env["LOTSE_CHROMA_URL"] = chroma
    if fake is not None:
        env.update(
            SLACK_BOT_TOKEN="xoxb-fault", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake.api_url, SLACK_TEAM_ID=TEAM
        )
    env.update(extra)
    return env


async def replicas(tmp_path: Path, url: str, fake: FakeSlack, chroma: str | None, count: int = 2, **extra: str):
    started = []
    for number in range(count):
        try:
            started.append(
                await start_serve(
                    replica_env(tmp_path, f"r{number}", url, fake, chroma, **extra),
                    ROOT,
                    ready="/readyz",
                    stderr=tmp_path / f"r{number}.log",
                )
            )
        except RuntimeError as exc:
            for process, _ in started:
                process.kill()
            pytest.fail(str(exc))
    return started


def events(count: int, prefix: str) -> list[tuple[str, str, str]]:
    """One question per event, each from its own person in their own DM (channel D<prefix><n>)."""
    now = time.time()
    made = []
    for n in range(count):
        channel = f"D{prefix}{n:04d}"
        body = dm_event(
            TEAM,
            channel,
            f"U{prefix}{n:04d}",
            f"{QUESTION} (Ticket {n})",
            f"{now + n / 1000:.6f}",
            f"Ev{prefix}{n:04d}",
        )
        made.append((f"Ev{prefix}{n:04d}", channel, body))
    return made


def answers(fake: FakeSlack, marker: str = "Schulung") -> Counter:
    """How many answers each channel got: messages posted, or "one moment" messages replaced, that carry
    the answer (not the "one moment" placeholder itself)."""
    counted: Counter = Counter()
    for method in ("chat.postMessage", "chat.update"):
        for call in fake.of(method):
            if marker in json.dumps(call, ensure_ascii=False):
                counted[call["channel"]] += 1
    return counted


async def all_answered(fake: FakeSlack, channels: list[str], timeout: float, marker: str = "Schulung") -> Counter:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counted = answers(fake, marker)
        if all(counted[c] >= 1 for c in channels):
            await asyncio.sleep(1.5)  # time for a second answer, which must not come
            return answers(fake, marker)
        await asyncio.sleep(0.2)
    return answers(fake, marker)


def assert_exactly_once(counted: Counter, channels: list[str], deliveries) -> None:
    lost = [c for c in channels if counted[c] == 0]
    doubled = [c for c in channels if counted[c] > 1]
    unacked = [d.event_id for d in deliveries if not d.acknowledged]
    assert not lost and not doubled, (
        f"lost {lost[:5]} ({len(lost)}), doubled {doubled[:5]} ({len(doubled)}), never acknowledged {len(unacked)}"
    )


@needs_server
async def test_events_during_a_database_outage_get_503_and_are_answered_once_when_it_is_back(tmp_path, own_postgres):
    """In one process: while PostgreSQL is down a signed event gets 503 (Slack delivers it again), never
    200 for something not stored; the retry after the restart is answered once."""
    ingested(tmp_path, own_postgres.url)
    fake = await FakeSlack(team_id=TEAM).start()
    settings = Settings(
        data_dir=tmp_path / "inproc",
        knowledge_dir=KNOWLEDGE,
        database_url=own_postgres.url,
        slack=SlackSettings(bot_token="xoxb-x", signing_secret=SECRET, api_url=fake.api_url, team_id=TEAM),
        scheduler=False,
    )
    from bot.answering import AnswerService

    core = build_core(settings, AnswerService(settings))
    runner, base = await serve_local(server.build_app(core, settings))
    [(event_id, channel, body)] = events(1, "O")
    try:
        async with aiohttp.ClientSession() as session:

            async def post(retry: int = 0) -> int:
                headers = {"Content-Type": "application/json", **sign(SECRET, body)}
                if retry:
                    headers["X-Slack-Retry-Num"] = str(retry)
                async with session.post(f"{base}/slack/events", data=body, headers=headers) as response:
                    return response.status

            own_postgres.kill()
            assert await post() == 503
            async with session.get(f"{base}/readyz") as ready:
                assert ready.status == 503
            own_postgres.start()
            assert await post(retry=1) == 200
            counted = await all_answered(fake, [channel], timeout=20)
            assert counted[channel] == 1
            assert await post(retry=2) == 200  # a late retry: recorded already, nothing more
            await asyncio.sleep(1)
            assert answers(fake)[channel] == 1
    finally:
        await runner.cleanup()
        core.answers.index.db.dispose()
        await fake.stop()


async def slow_flood_with_a_signal(tmp_path, postgres_url, chroma_url, sig: int, prefix: str, **extra: str):
    """Two replicas whose turns take 0.2 s (a slow fake LLM), 60 events at 25/s; replica 0 gets `sig` after
    30 went out, so it holds queued and running turns. Every event must end answered exactly once.
    (replica 0's process, the second replica's log)"""
    ingested(tmp_path, postgres_url, chroma_url)
    fake = await FakeSlack(team_id=TEAM).start()
    with FakeOpenAI() as llm:
        llm.behaviour, llm.delay = "slow", 0.2
        started = await replicas(
            tmp_path,
            postgres_url,
            fake,
            chroma_url,
            OPENAI_API_KEY="sk-fake",
            OPENAI_BASE_URL=llm.base_url,
            LOTSE_LLM_MODEL="fake-model",
            **extra,
        )
        sender = SlackSender(SECRET, [base for _, base in started])
        flood = events(60, prefix)

        async def fault(sent: int) -> None:
            if sent == 30:
                started[0][0].send_signal(sig)

        try:
            async with aiohttp.ClientSession() as session:
                deliveries = await sender.flood(session, flood, rate=25, on_sent=fault)
            counted = await all_answered(fake, [c for _, c, _ in flood], timeout=60, marker="2.000")
            assert_exactly_once(counted, [c for _, c, _ in flood], deliveries)
            return started[0][0].wait(timeout=15), (tmp_path / "r1.log").read_text(errors="replace")
        finally:
            for process, _ in started:
                process.kill()
            await fake.stop()


async def test_a_replica_killed_in_a_flood_leaves_its_turns_to_the_other(tmp_path, postgres_url, chroma_url):
    """The other replica takes replica 0's open turns over once its heartbeat is 2 s old; Slack's
    retries of what replica 0 never acknowledged reach the other one."""
    code, survivor = await slow_flood_with_a_signal(tmp_path, postgres_url, chroma_url, signal.SIGKILL, "K")
    assert code == -signal.SIGKILL
    assert "took over turn" in survivor  # replica 0 did hold turns when it died


async def test_sigterm_in_a_flood_finishes_or_hands_over_every_turn_and_exits_0(tmp_path, postgres_url, chroma_url):
    code, _ = await slow_flood_with_a_signal(
        tmp_path, postgres_url, chroma_url, signal.SIGTERM, "T", LOTSE_STOP_GRACE="1"
    )
    assert code == 0
    log = (tmp_path / "r0.log").read_text(errors="replace")
    assert "stopping: no new events" in log and "stopped" in log


@needs_server
async def test_postgres_killed_in_a_flood_and_back_loses_nothing(tmp_path, own_postgres, chroma_url):
    ingested(tmp_path, own_postgres.url, chroma_url)
    fake = await FakeSlack(team_id=TEAM).start()
    started = await replicas(tmp_path, own_postgres.url, fake, chroma_url)
    sender = SlackSender(SECRET, [base for _, base in started])
    flood = events(100, "P")
    back: list[float] = []

    async def fault(sent: int) -> None:
        if sent == 30:
            own_postgres.kill()
            asyncio.get_running_loop().call_later(3.0, lambda: (own_postgres.start(), back.append(time.monotonic())))

    try:
        async with aiohttp.ClientSession() as session:
            deliveries = await sender.flood(session, flood, rate=25, on_sent=fault)
        counted = await all_answered(fake, [c for _, c, _ in flood], timeout=60)
        assert_exactly_once(counted, [c for _, c, _ in flood], deliveries)
        statuses = Counter(status for d in deliveries for _, status, _ in d.attempts)
        assert statuses["503"] > 0 and not any(s.startswith("5") and s != "503" for s in statuses), statuses
    finally:
        for process, _ in started:
            process.kill()
        await fake.stop()


@needs_server
async def test_serve_waits_for_the_database_instead_of_exiting(tmp_path, own_postgres):
    ingested(tmp_path, own_postgres.url)
    own_postgres.stop()
    fake = await FakeSlack(team_id=TEAM).start()
    env = replica_env(tmp_path, "w", own_postgres.url, fake)
    try:
        process, base = await start_serve(env, ROOT, ready="/healthz", stderr=tmp_path / "w.log")
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/readyz") as ready:
                assert ready.status == 503 and (await ready.json())["status"] == "starting"
            [(_, channel, body)] = events(1, "W")
            headers = {"Content-Type": "application/json", **sign(SECRET, body)}
            async with session.post(f"{base}/slack/events", data=body, headers=headers) as response:
                assert response.status == 503
            await asyncio.sleep(1.5)
            assert process.poll() is None  # still there, waiting
            own_postgres.start()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{base}/readyz") as ready:
                        if ready.status == 200:
                            break
                await asyncio.sleep(0.2)
            else:
                pytest.fail("lotse serve did not become ready after the database came back")
            async with session.post(f"{base}/slack/events", data=body, headers=headers) as response:
                assert response.status == 200
            assert (await all_answered(fake, [channel], timeout=20))[channel] == 1
        assert "waiting for the database" in (tmp_path / "w.log").read_text(errors="replace")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        await fake.stop()


@needs_server
async def test_socket_mode_does_not_ack_an_event_it_could_not_record(tmp_path, own_postgres):
    ingested(tmp_path, own_postgres.url)
    fake = await FakeSlack(team_id=TEAM).start()
    settings = Settings(
        data_dir=tmp_path / "sock",
        knowledge_dir=KNOWLEDGE,
        database_url=own_postgres.url,
        slack=SlackSettings(bot_token="xoxb-x", app_token="xapp-x", api_url=fake.api_url, team_id=TEAM),
        scheduler=False,
    )
    from bot.answering import AnswerService

    core = build_core(settings, AnswerService(settings))
    running = asyncio.create_task(server.run(core, settings, "127.0.0.1", 0, asyncio.Event()))
    [(_, channel, body)] = events(1, "S")
    envelope = {
        "envelope_id": "env-down",
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": 0,
        "retry_reason": "",
        "payload": json.loads(body),
    }
    try:
        await fake.wait_for("apps.connections.open")
        own_postgres.kill()
        await fake.socket_envelopes.put(envelope)
        await asyncio.sleep(2)
        assert not any(a.get("envelope_id") == "env-down" for a in fake.socket_acks)  # no ack: Slack redelivers
        own_postgres.start()
        await fake.socket_envelopes.put({**envelope, "envelope_id": "env-again", "retry_attempt": 1})
        assert (await all_answered(fake, [channel], timeout=20))[channel] == 1
        assert any(a.get("envelope_id") == "env-again" for a in fake.socket_acks)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        core.answers.index.db.dispose()
        await fake.stop()


async def test_a_teams_turn_of_a_killed_replica_is_answered_by_the_other(tmp_path, postgres_url, chroma_url):
    """Teams does not resend reliably: the inbox is the only copy. Replica 0 records the activity and dies
    (SIGKILL) during its slow LLM turn; replica 1 takes the turn over and answers proactively."""
    ingested(tmp_path, postgres_url, chroma_url)
    connector = await FakeConnector().start()
    with FakeOpenAI() as llm:
        llm.behaviour, llm.delay = "slow", 3.0
        started = []
        for name in ("t0", "t1"):
            env = replica_env(
                tmp_path,
                name,
                postgres_url,
                None,
                chroma_url,
                LOTSE_TEAMS_ALLOW_ANONYMOUS="1",
                OPENAI_API_KEY="sk-fake",
                OPENAI_BASE_URL=llm.base_url,
                LOTSE_LLM_MODEL="fake-model",
            )
            started.append(await start_serve(env, ROOT, ready="/readyz", stderr=tmp_path / f"{name}.log"))
        activity = {
            "type": "message",
            "id": "act-kill",
            "channelId": "msteams",
            "serviceUrl": connector.url,
            "from": {"id": "29:anna", "aadObjectId": "aad-anna"},
            "recipient": {"id": "28:bot"},
            "conversation": {"id": "a:conv-kill", "conversationType": "personal"},
            "text": QUESTION,
        }
        try:
            async with aiohttp.ClientSession() as session:
                posting = asyncio.create_task(session.post(f"{started[0][1]}/api/messages", json=activity))
                deadline = time.monotonic() + 10
                while not llm.requests and time.monotonic() < deadline:  # the turn has reached the LLM
                    await asyncio.sleep(0.05)
                started[0][0].send_signal(signal.SIGKILL)
                with contextlib.suppress(aiohttp.ClientError):
                    await posting
                replies = await connector.wait_for(1, timeout=30)
                await asyncio.sleep(4)  # time for a second answer, which must not come
                answered = [m for m in connector.messages() if "2.000" in json.dumps(m, ensure_ascii=False)]
                assert len(answered) == 1, replies
        finally:
            for process, _ in started:
                process.kill()
            await connector.stop()
