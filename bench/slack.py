"""Slack intake: ack latency and events handled per second of a real `lotse serve` process (HTTP
mode, signed requests), which answers through the fake Slack Web API (tests/fakes/slack_api.py) that
runs here beside the load generator; no LLM.

    python -m bench.slack [--events 1000] [--concurrency 20] [--duplicates 0.1] [--rate 0]

Run it twice: `--rate 0` floods the endpoint and measures how many events per second are handled
(answered); `--rate 100` offers the target load and measures the ack latency Slack sees under it.

Every event is a DM question in its own channel; a share of them is delivered a second time as a
Slack retry (same event, X-Slack-Retry-Num: 1). Afterwards each channel must have exactly one answer:
nothing lost, nothing doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp
import numpy as np
import yaml

from bot.settings import Settings
from ingest.index import KnowledgeIndex
from ingest.pipeline import ingest
from tests.fakes.local import start_serve
from tests.fakes.slack_api import FakeSlack, sign

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"


def questions() -> list[str]:
    data = yaml.safe_load((ROOT / "bench" / "eval" / "questions.yaml").read_text(encoding="utf-8"))
    items = data["questions"] if isinstance(data, dict) else data
    return [q["question"] for q in items if not q.get("offtopic")]


async def start_lotse(fake: FakeSlack, data_dir: Path) -> tuple[subprocess.Popen, str]:
    """`lotse serve` in its own process, configured for HTTP mode against the fake Web API."""
    env = {
        **os.environ,
        "LOTSE_DATA_DIR": str(data_dir),
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "SLACK_TEAM_ID": "TBENCH",
    }
    try:
        process, base = await start_serve(env, ROOT, ready="/readyz")
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
    return process, f"{base}/slack/events"


async def run(args) -> None:
    folder = Path(tempfile.mkdtemp(prefix="lotse-bench-slack-"))
    base = Settings(data_dir=folder, knowledge_dir=ROOT / "knowledge")
    ingest(KnowledgeIndex(base), [base.knowledge_dir], progress=False)
    fake = await FakeSlack(team_id="TBENCH").start()
    process, url = await start_lotse(fake, folder)

    pool = questions()
    random.seed(3)
    deliveries = []
    for n in range(args.events):
        event = {
            "type": "message",
            "channel": f"DB{n}",
            "channel_type": "im",
            "user": f"U{n % 50}",
            "ts": f"1700001000.{n:06d}",
            "text": random.choice(pool),
        }
        body = json.dumps(
            {
                "team_id": "TBENCH",
                "api_app_id": "A1",
                "type": "event_callback",
                "event_id": f"EvB{n}",
                "event_time": 1700001000,
                "event": event,
            }
        )
        deliveries.append((body, None))
        if random.random() < args.duplicates:
            deliveries.append((body, 1))
    random.shuffle(deliveries)

    # warm-up: first request runs auth.test and loads what is loaded lazily
    async with aiohttp.ClientSession() as session:
        warm = json.dumps(
            {
                "team_id": "TBENCH",
                "type": "event_callback",
                "event_id": "EvWarm",
                "event": {
                    "type": "message",
                    "channel": "DWARM",
                    "channel_type": "im",
                    "user": "U0",
                    "ts": "1.1",
                    "text": "Woche 1?",
                },
            }
        )
        async with session.post(url, data=warm, headers={"Content-Type": "application/json", **sign(SECRET, warm)}):
            pass
        await fake.wait_for("chat.postMessage", 1, timeout=60)
        posted_before = len(fake.of("chat.postMessage"))

        latencies: list[float] = []
        queue: asyncio.Queue = asyncio.Queue()
        for item in deliveries:
            queue.put_nowait(item)
        statuses: dict[int, int] = {}

        interval = 1 / args.rate if args.rate else 0.0
        next_send = [time.perf_counter()]

        async def sender():
            while not queue.empty():
                body, retry = queue.get_nowait()
                if interval:  # paced: one delivery every `interval` seconds across all senders
                    next_send[0] += interval
                    await asyncio.sleep(max(0.0, next_send[0] - time.perf_counter()))
                headers = {"Content-Type": "application/json", **sign(SECRET, body)}
                if retry:
                    headers["X-Slack-Retry-Num"] = str(retry)
                t0 = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                latencies.append((time.perf_counter() - t0) * 1000)
                statuses[response.status] = statuses.get(response.status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(args.concurrency)))
        acked = time.perf_counter() - started
        await fake.wait_for("chat.postMessage", posted_before + args.events, timeout=600)
        handled = time.perf_counter() - started
        await asyncio.sleep(1.0)  # late duplicates would show up here

    answers = [c["channel"] for c in fake.of("chat.postMessage")[posted_before:]]
    lost = args.events - len(set(answers))
    doubled = len(answers) - len(set(answers))
    process.terminate()
    process.wait(timeout=30)
    await fake.stop()

    duplicates = len(deliveries) - args.events
    offered = f"offered at {args.rate:g} deliveries/s" if args.rate else "sent as fast as possible"
    print(
        f"\nSlack intake: {args.events} DM questions (+{duplicates} retried deliveries), {offered}, "
        f"{args.concurrency} concurrent senders, fake Web API, no LLM\n"
    )
    print(
        "| ack p50 ms | ack p95 ms | ack p99 ms | ack max ms | acked in s | all answered in s | events/s | lost "
        "| doubled | HTTP |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    p50, p95, p99 = (np.percentile(latencies, q) for q in (50, 95, 99))
    print(
        f"| {p50:.1f} | {p95:.1f} | {p99:.1f} | {max(latencies):.1f} | {acked:.1f} | {handled:.1f} | "
        f"{args.events / handled:.0f} | {lost} | {doubled} | {statuses} |"
    )
    print("\ntargets: ack p99 ≤ 100 ms, ≥ 100 events/s, nothing lost or doubled")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--duplicates", type=float, default=0.1)
    parser.add_argument("--rate", type=float, default=0, help="deliveries per second (0: as fast as possible)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
