"""Teams: time from an activity arriving at a real `lotse serve` (anonymous mode on loopback, as with
a local emulator) to its reply reaching the fake Bot Connector (tests/fakes/bot_connector.py), no LLM.

    python -m bench.teams [--activities 500] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from pathlib import Path

import aiohttp
import numpy as np

from bench.slack import ROOT, questions
from bot.settings import Settings
from ingest.index import KnowledgeIndex
from ingest.pipeline import ingest
from tests.fakes.bot_connector import FakeConnector
from tests.fakes.local import start_serve


async def run(args) -> None:
    folder = Path(tempfile.mkdtemp(prefix="lotse-bench-teams-"))
    base = Settings(data_dir=folder, knowledge_dir=ROOT / "knowledge")
    ingest(KnowledgeIndex(base), [base.knowledge_dir], progress=False)
    connector = await FakeConnector().start()
    env = {**os.environ, "LOTSE_DATA_DIR": str(folder), "LOTSE_TEAMS_ALLOW_ANONYMOUS": "1"}
    try:
        process, base = await start_serve(env, ROOT, ready="/readyz")
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
    url = f"{base}/api/messages"
    pool = questions()
    random.seed(5)
    sent_at: dict[str, float] = {}
    async with aiohttp.ClientSession() as session:

        def activity(n: int, text: str) -> dict:
            return {
                "type": "message",
                "id": f"m{n}",
                "channelId": "msteams",
                "serviceUrl": connector.url,
                "from": {"id": f"29:u{n % 30}", "aadObjectId": f"aad-{n % 30}"},
                "recipient": {"id": "28:bot"},
                "conversation": {"id": f"a:conv-{n}", "conversationType": "personal"},
                "text": text,
            }

        async with session.post(url, json=activity(-1, "Woche 1?")):  # warm-up
            pass
        await connector.wait_for(1, timeout=60)
        queue: asyncio.Queue = asyncio.Queue()
        for n in range(args.activities):
            queue.put_nowait(n)

        async def sender():
            while not queue.empty():
                n = queue.get_nowait()
                sent_at[f"a:conv-{n}"] = time.monotonic()
                async with session.post(url, json=activity(n, random.choice(pool))) as response:
                    await response.read()
                while not any(
                    s.conversation == f"a:conv-{n}" and s.activity.get("type") == "message"
                    for s in connector.sent[-20:]
                ):
                    await asyncio.sleep(0.002)

        started = time.monotonic()
        await asyncio.gather(*(sender() for _ in range(args.concurrency)))
        elapsed = time.monotonic() - started
    replies = {s.conversation: s.at for s in connector.sent if s.activity.get("type") == "message"}
    latencies = [(replies[c] - t) * 1000 for c, t in sent_at.items() if c in replies]
    process.terminate()
    process.wait(timeout=30)
    await connector.stop()
    p50, p95, p99 = (np.percentile(latencies, q) for q in (50, 95, 99))
    print(
        f"\nTeams: {len(latencies)} questions, {args.concurrency} concurrent, real lotse serve, fake connector, "
        f"no LLM\n"
    )
    print("| received → reply posted | p50 ms | p95 ms | p99 ms | max ms | activities/s |")
    print("|---|---|---|---|---|---|")
    print(f"| | {p50:.1f} | {p95:.1f} | {p99:.1f} | {max(latencies):.1f} | {len(latencies) / elapsed:.0f} |")
    print("\ntarget: p95 ≤ 150 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
