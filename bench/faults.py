"""Faults during a flood (issue 20): two `lotse serve` replicas on one PostgreSQL server of the bench's own,
signed Slack DM events at a fixed rate, delivered as Slack delivers them (a refused or cut connection,
no answer within 3 s, or a non-2xx status is sent again, up to 3 times, to the other replica; Slack
waits about 1 and 5 minutes between retries, the bench 1, 3 and 6 s — less time to recover, not more).

    python -m bench.faults [--scenario none kill kill-slow db sigstop sigterm] [--events 300] [--rate 25]
                           [--root DIR]

Scenarios, each injected after a third of the events went out:
- `none`: no fault.
- `kill`: replica 0 is killed (SIGKILL); `kill-slow` the same with turns of 0.2 s (a slow fake LLM), so
  that the killed replica holds leased and queued turns.
- `db`: the PostgreSQL server is killed (SIGKILL of the postmaster and its backends) and started again
  after 5 s.
- `sigstop`: replica 0 is stopped (SIGSTOP) for 4 s, then continued.
- `sigterm`: replica 0 gets SIGTERM (a rolling upgrade) with turns of 0.2 s in flight.

Measured per scenario: events answered exactly once, lost (acknowledged or not, never answered),
doubled, never acknowledged (every delivery failed), the ack latency Slack saw (p50/p99 of the
deliveries that got 2xx), deliveries answered 503, and for `db` the time from the database accepting
again to the next answer. `--root` runs the replicas from another checkout (e.g. a worktree of an
older commit, for a before/after table); the load generator and the fakes are this checkout's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

from tests.fakes.local import start_serve
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.postgres_cluster import OwnPostgres
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_sender import SlackSender, dm_event

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
SECRET = "bench-fault-secret"
TEAM = "TBFAULT"
QUESTION = "Wie viel Budget brauchen wir pro Person für KI-Schulungen?"
SCENARIOS = ("none", "kill", "kill-slow", "db", "sigstop", "sigterm")
SLOW = {"kill-slow": 0.2, "sigterm": 0.2}


def _env(folder: Path, url: str, fake: FakeSlack, llm: FakeOpenAI | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LOTSE_", "SLACK_", "MICROSOFT_"))}
    env.update(
        LOTSE_DATA_DIR=str(folder),
        LOTSE_DATABASE_URL=url,
        LOTSE_KNOWLEDGE_DIR=str(KNOWLEDGE),
        LOTSE_SCHEDULER="0",
        LOTSE_RATE_PER_MINUTE="0",
        LOTSE_RATE_PER_HOUR="0",
        SLACK_BOT_TOKEN="xoxb-b",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.api_url,
        SLACK_TEAM_ID=TEAM,
    )
    if llm is not None:
        env.update(OPENAI_API_KEY="sk-fake", OPENAI_BASE_URL=llm.base_url, LOTSE_LLM_MODEL="fake-model")
    return env


def _answers(fake: FakeSlack, marker: str) -> tuple[Counter, list[float]]:
    counted: Counter = Counter()
    times: list[float] = []
    for call in fake.calls:
        if call.method in ("chat.postMessage", "chat.update") and marker in json.dumps(call.params, ensure_ascii=False):
            counted[call.params["channel"]] += 1
            times.append(call.at)
    return counted, times


async def run_scenario(name: str, cluster: OwnPostgres, folder: Path, events: int, rate: float, root: Path) -> dict:
    fake = await FakeSlack(team_id=TEAM).start()
    llm = FakeOpenAI().__enter__() if name in SLOW else None
    if llm is not None:
        llm.behaviour, llm.delay = "slow", SLOW[name]
    marker = "2.000" if llm else "Schulung"
    started = []
    try:
        for number in range(2):
            env = _env(folder / f"{name}-r{number}", cluster.url, fake, llm)
            started.append(
                await start_serve(env, root, ready="/readyz", timeout=120, stderr=folder / f"{name}-r{number}.log")
            )
        sender = SlackSender(SECRET, [base for _, base in started])
        now = time.time()
        flood = []
        for n in range(events):
            channel = f"D{name[:2].upper()}{n:05d}"
            body = dm_event(
                TEAM,
                channel,
                f"U{name[:2].upper()}{n:05d}",
                f"{QUESTION} (Ticket {n})",
                f"{now + n / 1000:.6f}",
                f"Ev{name}{n:05d}",
            )
            flood.append((f"Ev{name}{n:05d}", channel, body))
        back: list[float] = []
        victim = started[0][0]
        loop = asyncio.get_running_loop()

        def restart_database() -> None:
            cluster.start()
            back.append(time.monotonic())

        async def fault(sent: int) -> None:
            if sent != events // 3:
                return
            if name in ("kill", "kill-slow"):
                victim.send_signal(signal.SIGKILL)
            elif name == "db":
                cluster.kill()
                loop.call_later(5.0, lambda: loop.run_in_executor(None, restart_database))
            elif name == "sigstop":
                victim.send_signal(signal.SIGSTOP)
                loop.call_later(4.0, lambda: victim.send_signal(signal.SIGCONT))
            elif name == "sigterm":
                victim.send_signal(signal.SIGTERM)

        async with aiohttp.ClientSession() as session:
            deliveries = await sender.flood(session, flood, rate=rate, on_sent=fault)
        channels = [c for _, c, _ in flood]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            counted, _ = _answers(fake, marker)
            if all(counted[c] for c in channels):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)  # late doubles
        counted, times = _answers(fake, marker)
        acks = [seconds for d in deliveries for _, status, seconds in d.attempts if status.startswith("2")]
        acks.sort()
        statuses = Counter(status for d in deliveries for _, status, _ in d.attempts)
        recovery = None
        if back:
            after = [t for t in times if t >= back[0]]
            recovery = (min(after) - back[0]) if after else None
        return {
            "scenario": name,
            "events": events,
            "once": sum(counted[c] == 1 for c in channels),
            "lost": sum(counted[c] == 0 for c in channels),
            "doubled": sum(counted[c] > 1 for c in channels),
            "unacked": sum(not d.acknowledged for d in deliveries),
            "ack_p50": statistics.median(acks) * 1000 if acks else None,
            "ack_p99": acks[min(len(acks) - 1, int(len(acks) * 0.99))] * 1000 if acks else None,
            "503": statuses.get("503", 0),
            "recovery": recovery,
        }
    finally:
        for process, _ in started:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.kill()
        if llm is not None:
            llm.__exit__(None, None, None)
        await fake.stop()


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"


async def main_async(args) -> None:
    folder = Path(tempfile.mkdtemp(prefix="lotse-bench-faults-"))
    cluster = OwnPostgres()
    cluster.start()
    try:
        # ingested by the checkout that serves (its migrations, its schema)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LOTSE_", "SLACK_"))}
        env.update(
            LOTSE_DATA_DIR=str(folder / "ingest"), LOTSE_DATABASE_URL=cluster.url, LOTSE_KNOWLEDGE_DIR=str(KNOWLEDGE)
        )
        subprocess.run(
            [sys.executable, "-m", "bot.app.cli", "ingest"],
            cwd=args.root,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        rows = []
        for name in args.scenario:
            if cluster.pid() is None:
                cluster.start()
            rows.append(await run_scenario(name, cluster, folder, args.events, args.rate, args.root))
            print(f"{name}: {rows[-1]}", flush=True)
        print()
        print(f"{args.events} events at {args.rate:g}/s on 2 replicas ({args.root})")
        print()
        print(
            "| fault | answered once | lost | doubled | never acked | ack p50 | ack p99 | 503s "
            "| answering again after DB back |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            recovery = (
                "–" if r["scenario"] != "db" else ("never" if r["recovery"] is None else f"{r['recovery']:.2f} s")
            )
            print(
                f"| {r['scenario']} | {r['once']}/{r['events']} | {r['lost']} | {r['doubled']} | {r['unacked']} | "
                f"{_ms(r['ack_p50'])} | {_ms(r['ack_p99'])} | {r['503']} | {recovery} |"
            )
    finally:
        cluster.close()
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout the replicas run from")
    args = parser.parse_args(argv)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
