"""Two `lotse serve` replicas on one PostgreSQL database (issue 8): Slack events answered per second at a
fixed offered rate, with retries sent to the other replica; nothing lost, nothing doubled. No LLM.

    python -m bench.replicas [--layout chroma|embedded|both] [--rate 200] [--duration 60] [--replicas 2]
                             [--duplicates 0.09] [--unique] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Each layout gets a throwaway database `lotse_bench_<random>` (dropped at the end) and its own fake Slack
Web API (tests/fakes/slack_api.py, here in the bench process beside the load generator):
- `chroma`: knowledge/ is ingested once into the database and a real Chroma server (`chroma run` on
  127.0.0.1); every replica uses that server (LOTSE_CHROMA_URL) and builds its BM25 index from the
  database at start.
- `embedded`: knowledge/ is ingested once into the database; every replica has its own data folder
  with an embedded Chroma, which `lotse serve` rebuilds from the database's chunks at start.

Events are signed DM questions (bench/eval/questions.yaml, on-topic ones), each in its own channel, sent
round-robin to the replicas. `--duplicates` of them are delivered a second time as a Slack retry
(same event, X-Slack-Retry-Num: 1) to the *other* replica, 0–1 s after the first delivery, so the
dedupe is decided across processes. `--rate N` offers N events/s open-loop (deliveries go out on the
clock, whatever the acks do) for `--duration` seconds, then the answers are drained. `--rate 0`
floods: 32 senders deliver as fast as the replicas answer, with at most `--backlog` events delivered
and unanswered at any time, which gives the maximum throughput. `--unique` appends a distinct ticket
number to every question, so no two questions are the same text.

Measured: the ack latency Slack sees, events answered per second inside the window, how far the last
answer trails the last delivery (kept up or not), lost and doubled events, refusals (answers without a
citation: a replica without vectors refuses everything), and the CPU share of each process, with
what other processes on the machine used meanwhile ("others"), and the time the hypervisor gave the
machine's CPUs to other guests ("steal", from /proc/stat).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import shutil
import tempfile
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import numpy as np
import psycopg

from bench.chroma_server import start_server as start_chroma
from bench.slack import ROOT, SECRET, questions
from bot.settings import Settings
from ingest.index import KnowledgeIndex
from ingest.pipeline import ingest
from tests.fakes.local import start_serve
from tests.fakes.slack_api import FakeSlack, sign

TEAM = "TBENCH"
PG = "postgresql://postgres@127.0.0.1:5432/postgres"
USERS = 2000  # askers: at 200 events/s nobody asks more than 6 questions a minute (no per-user limit is hit)
RETRY_WITHIN = 1.0  # a retry reaches the other replica up to this many seconds after the first delivery
FLOOD_SENDERS = 32
SLOW_ACK = 100  # ms: acks slower than this are counted by the second of the window they fell in
TICK = os.sysconf("SC_CLK_TCK")


@contextmanager
def throwaway_database(admin_url: str):
    """A fresh database on the server of `admin_url`; yields its SQLAlchemy URL and drops it afterwards."""
    name = f"lotse_bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(admin_url, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    try:
        yield urlunsplit(("postgresql+psycopg", parts.netloc, f"/{name}", parts.query, ""))
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


# -- CPU of the processes involved, from /proc ----------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def postgres_pids(admin_url: str, database: str) -> list[int]:
    """The server processes working for the bench: its database's backends and PostgreSQL's own (writer,
    checkpointer, …), not the backends of other databases on the same server."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE (datname = %s OR backend_type <> 'client backend') "
            "AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return [pid for (pid,) in rows]


class CpuMeter:
    """CPU seconds of named process groups between `start` and `stop`, counted per process: a process
    that starts in between counts from zero, one that ends in between is missed (the replicas' pooled
    database connections stay open). "others" is what the rest of the machine used meanwhile."""

    def __init__(self, groups: dict[str, list[int]], postgres) -> None:
        self.groups = groups
        self.postgres = postgres  # () -> the postgres pids of the moment

    def _sample(self) -> dict[str, dict[int, float]]:
        groups = {**self.groups, "postgres": self.postgres()}
        sample = {name: {p: cpu_seconds(p) for p in pids} for name, pids in groups.items()}
        busy = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        # all but idle, iowait and steal: `steal` is time the hypervisor gave this machine's CPUs to others
        sample["machine"] = {0: (sum(busy[:8]) - busy[3] - busy[4] - busy[7]) / TICK}
        sample["steal"] = {0: busy[7] / TICK}
        return sample

    def start(self) -> None:
        self._started, self._before = time.monotonic(), self._sample()

    def stop(self) -> dict[str, float]:
        """Share of one core per group, in percent."""
        elapsed, after = time.monotonic() - self._started, self._sample()
        shares = {
            name: 100 * sum(t - self._before.get(name, {}).get(p, 0.0) for p, t in pids.items()) / elapsed
            for name, pids in after.items()
        }
        machine, steal = shares.pop("machine"), shares.pop("steal")
        shares["others"] = max(0.0, machine - sum(shares.values()))
        shares["steal"] = steal
        return shares


# -- the load ------------------------------------------------------------------------------------------


@dataclass
class Event:
    n: int
    body: str
    replica: int
    retried: bool
    delivered: float | None = None  # monotonic time of the first delivery
    answers: list[float] = field(default_factory=list)
    cited: bool = False


@dataclass
class Run:
    events: list[Event] = field(default_factory=list)
    by_channel: dict[str, Event] = field(default_factory=dict)
    acks: list[float] = field(default_factory=list)
    slow: list[float] = field(default_factory=list)  # when (time.monotonic) each ack over SLOW_ACK ms was sent
    statuses: dict[int, int] = field(default_factory=dict)
    send_lag: list[float] = field(default_factory=list)  # how late the generator sent (paced runs)
    deliveries: int = 0
    answered: int = 0  # events with at least one answer
    last_delivery: float = 0.0
    room: asyncio.Semaphore | None = None  # flood: one unit per event that may wait for its answer


def new_event(run: Run, pool: list[str], replicas: int, duplicates: float, unique: bool, tag: str = "R") -> Event:
    n = len(run.events)
    text = random.choice(pool)
    if unique:
        text = f"{text} (Ticket {n:05d})"
    channel = f"D{tag}{n}"
    message = {
        "type": "message",
        "channel": channel,
        "channel_type": "im",
        "user": f"U{n % USERS}",
        "ts": f"1700002000.{n:06d}",
        "text": text,
    }
    body = json.dumps(
        {
            "team_id": TEAM,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{tag}{n}",
            "event_time": 1700002000,
            "event": message,
        }
    )
    event = Event(n, body, n % replicas, random.random() < duplicates)
    run.events.append(event)
    run.by_channel[channel] = event
    return event


async def deliver(session: aiohttp.ClientSession, url: str, run: Run, event: Event, retry: bool) -> None:
    headers = {"Content-Type": "application/json", **sign(SECRET, event.body)}
    if retry:
        headers["X-Slack-Retry-Num"] = "1"
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    started = time.monotonic()
    if event.delivered is None:
        event.delivered = started
    run.deliveries += 1
    run.last_delivery = max(run.last_delivery, started)
    try:
        async with session.post(url, data=event.body, headers=headers) as response:
            await response.read()
            status = response.status
    except aiohttp.ClientError:
        status = 0
    run.acks.append((time.monotonic() - started) * 1000)
    if run.acks[-1] > SLOW_ACK:
        run.slow.append(started)
    run.statuses[status] = run.statuses.get(status, 0) + 1


async def watch(fake: FakeSlack, run: Run, skip: int) -> None:
    """Match each chat.postMessage the fake API receives to its event (the channel says which)."""
    seen = skip
    while True:
        calls = fake.calls
        for call in calls[seen : len(calls)]:
            event = run.by_channel.get(call.params.get("channel", "")) if call.method == "chat.postMessage" else None
            if event is not None:
                if not event.answers:
                    run.answered += 1
                    if run.room is not None:
                        run.room.release()
                event.answers.append(call.at)
                event.cited = event.cited or "[1]" in call.params.get("text", "")
        seen = len(calls)
        await asyncio.sleep(0.02)


async def paced(session, urls, run: Run, pool, args) -> tuple[float, float]:
    """Open loop: event n goes out at n / rate seconds; its retry (if any) 0–1 s later to the next replica."""
    total = int(args.rate * args.duration)
    schedule = []
    for n in range(total):
        event = new_event(run, pool, len(urls), args.duplicates, args.unique)
        schedule.append((n / args.rate, event, False))
        if event.retried:
            schedule.append((n / args.rate + random.uniform(0, RETRY_WITHIN), event, True))
    schedule.sort(key=lambda item: item[0])
    tasks = set()
    started = time.monotonic()
    for at, event, retry in schedule:
        delay = started + at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        run.send_lag.append(max(0.0, -delay))
        url = urls[(event.replica + 1) % len(urls) if retry else event.replica]
        task = asyncio.create_task(deliver(session, url, run, event, retry))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return started, started + args.duration


async def flood(session, urls, run: Run, pool, args) -> tuple[float, float]:
    """Closed loop: senders deliver new events while fewer than `backlog` are waiting for their answer."""
    started = time.monotonic()
    end = started + args.duration
    retries = set()

    async def retry_later(event: Event) -> None:
        await asyncio.sleep(random.uniform(0, RETRY_WITHIN))
        await deliver(session, urls[(event.replica + 1) % len(urls)], run, event, True)

    run.room = asyncio.Semaphore(args.backlog)

    async def sender() -> None:
        while True:
            try:
                await asyncio.wait_for(run.room.acquire(), max(0.0, end - time.monotonic()))
            except TimeoutError:
                return
            if time.monotonic() >= end:
                return
            event = new_event(run, pool, len(urls), args.duplicates, args.unique)
            if event.retried:
                task = asyncio.create_task(retry_later(event))
                retries.add(task)
                task.add_done_callback(retries.discard)
            await deliver(session, urls[event.replica], run, event, False)

    await asyncio.gather(*(sender() for _ in range(FLOOD_SENDERS)))
    await asyncio.gather(*retries)
    return started, end


async def metrics_of(session: aiohttp.ClientSession, base: str) -> dict[str, float]:
    """The replica's question counters from /metrics (answered, refused)."""
    async with session.get(f"{base}/metrics") as response:
        text = await response.text()
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("lotse_questions_total{"):
            outcome = line.split('outcome="')[1].split('"')[0]
            counts[outcome] = counts.get(outcome, 0) + float(line.rsplit(" ", 1)[1])
    return counts


# -- one layout ----------------------------------------------------------------------------------------


async def measure(layout: str, args) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"lotse-bench-replicas-{layout}-"))
    chroma = None
    processes = []
    try:
        with throwaway_database(args.postgres) as database:
            chroma_url = None
            if layout == "chroma":
                chroma, chroma_url = start_chroma(folder / "chroma-server")
            shared = Settings(
                data_dir=folder / "ingest",
                knowledge_dir=ROOT / "knowledge",
                database_url=database,
                chroma_url=chroma_url,
            )
            index = KnowledgeIndex(shared)
            report = ingest(index, [shared.knowledge_dir], progress=False)
            assert not report.failed, report.failed
            index.db.dispose()

            fake = await FakeSlack(team_id=TEAM).start()
            base_env = {
                k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LOTSE_", "SLACK_", "MICROSOFT_"))
            }
            bases = []
            for r in range(args.replicas):
                env = {
                    **base_env,
                    "LOTSE_DATA_DIR": str(folder / f"replica{r}"),
                    "LOTSE_DATABASE_URL": database,
                    "LOTSE_KNOWLEDGE_DIR": str(ROOT / "knowledge"),
                    "SLACK_BOT_TOKEN": "xoxb-bench",
                    "SLACK_SIGNING_SECRET": SECRET,
                    "SLACK_API_URL": fake.api_url,
                    "SLACK_TEAM_ID": TEAM,
                }
                if chroma_url:
                    env["LOTSE_CHROMA_URL"] = chroma_url
                if args.core_threads:
                    env["LOTSE_CORE_THREADS"] = str(args.core_threads)
                try:
                    process, base = await start_serve(env, ROOT, ready="/readyz", stderr=folder / f"replica{r}.log")
                except RuntimeError as exc:
                    raise SystemExit(str(exc)) from None
                processes.append(process)
                bases.append(base)
            urls = [f"{b}/slack/events" for b in bases]
            name = urlsplit(database).path.lstrip("/")
            result = await load(fake, urls, bases, processes, chroma, lambda: postgres_pids(args.postgres, name), args)
            await fake.stop()
            for r in range(args.replicas):
                errors = [
                    line
                    for line in (folder / f"replica{r}.log").read_text(errors="replace").splitlines()
                    if "Error" in line or "Traceback" in line
                ]
                result.setdefault("log_errors", 0)
                result["log_errors"] += len(errors)
            return {"layout": layout, **result}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        if chroma is not None:
            chroma.terminate()
            chroma.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def latency_by_time(events: list, started: float, step: float = 5.0) -> list[tuple[int, float, float]]:
    """(second of the window, answer latency p50, p95 in ms) of the events first delivered in each `step`."""
    buckets: dict[int, list[float]] = {}
    for e in events:
        if e.answers and e.delivered is not None:
            second = int((e.delivered - started) // step * step)
            buckets.setdefault(second, []).append((min(e.answers) - e.delivered) * 1000)
    return [(second, *np.percentile(values, [50, 95])) for second, values in sorted(buckets.items())]


class CollectorPauses:
    """This process's own garbage collections (gc.callbacks): while one runs, the load generator and the
    fake Slack stand still, and the acks in flight look slower than the replicas made them."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []  # (generation, ms)
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], (time.perf_counter() - self._started) * 1000))

    def stop(self) -> None:
        gc.callbacks.remove(self._callback)
        full = [ms for generation, ms in self.pauses if generation == 2]
        print(
            f"bench's own garbage collections in the window: {len(self.pauses)}, {len(full)} full "
            f"(longest {max(full, default=0):.0f} ms), all together {sum(ms for _, ms in self.pauses):.0f} ms",
            flush=True,
        )


async def load(fake: FakeSlack, urls: list[str], bases: list[str], processes, chroma, postgres, args) -> dict:
    random.seed(8)
    pool = questions()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        # warm-up: each replica answers one question (auth.test, embedder, first queries) before the clock runs
        warm = Run()
        for r, url in enumerate(urls):
            event = new_event(warm, ["Was passiert in Woche 1?"], 1, 0, False, tag=f"W{r}x")
            await deliver(session, url, warm, event, False)
        await fake.wait_for("chat.postMessage", len(urls), timeout=120)
        await asyncio.sleep(1.0)

        run = Run()
        watcher = asyncio.create_task(watch(fake, run, len(fake.calls)))
        groups = {f"replica {r + 1}": [p.pid] for r, p in enumerate(processes)}
        groups["bench (load + fake Slack)"] = [os.getpid()]
        if chroma is not None:
            groups["chroma server"] = [chroma.pid]
        meter = CpuMeter(groups, postgres)
        meter.start()
        # no collections of this process's own in the window: a full one stopped the load generator and the
        # fake Slack for up to 185 ms (four in 60 s), and the acks in flight then looked that much slower
        gc.collect()
        gc.disable()
        pauses = CollectorPauses()
        try:
            started, window_end = await (paced if args.rate else flood)(session, urls, run, pool, args)
        finally:
            gc.enable()
        cpu = meter.stop()  # over the offered window (plus the last deliveries' acks)
        pauses.stop()
        drain_deadline = time.monotonic() + args.drain
        last_progress, answered = time.monotonic(), run.answered
        while run.answered < len(run.events) and time.monotonic() < drain_deadline:
            await asyncio.sleep(0.1)
            if run.answered != answered:
                last_progress, answered = time.monotonic(), run.answered
            elif time.monotonic() - last_progress > 30:
                break
        await asyncio.sleep(2.0)  # late duplicates would show up here
        watcher.cancel()
        counters = [await metrics_of(session, b) for b in bases]

    events = run.events
    answer_times = [min(e.answers) for e in events if e.answers]
    first_deliveries = [e.delivered for e in events if e.delivered is not None]
    latencies = [(min(e.answers) - e.delivered) * 1000 for e in events if e.answers and e.delivered]
    in_window = sum(started <= t <= window_end for t in answer_times)
    window = window_end - started
    delivered_in_window = sum(started <= t <= window_end for t in first_deliveries)
    return {
        "events": len(events),
        "deliveries": run.deliveries,
        "retries": run.deliveries - len(events),
        "offered": delivered_in_window / window,
        "answered_in_window": in_window / window,
        "answered_overall": len(answer_times) / (max(answer_times) - started) if answer_times else 0.0,
        "lag": max(answer_times) - run.last_delivery if answer_times else float("nan"),
        "latency": np.percentile(latencies, [50, 95, 100]) if latencies else [float("nan")] * 3,
        "latency_by_time": latency_by_time(events, started),
        "ack": np.percentile(run.acks, [50, 95, 99, 100]),
        "send_lag_max": max(run.send_lag, default=0.0) * 1000,
        "slow": sorted(Counter(int(t - started) for t in run.slow).items()),
        "lost": sum(not e.answers for e in events),
        "doubled": sum(len(e.answers) > 1 for e in events),
        "refused": sum(bool(e.answers) and not e.cited for e in events),
        "statuses": dict(sorted(run.statuses.items())),
        "cpu": cpu,
        "per_replica": [int(sum(c.values())) for c in counters],
    }


def report(results: list[dict], args) -> None:
    offered = f"offered at {args.rate:g} events/s" if args.rate else f"flood (≤ {args.backlog} events waiting)"
    print(
        f"\n{args.replicas} replicas of `lotse serve` on PostgreSQL, Slack HTTP mode, {offered} for "
        f"{args.duration:g} s, {args.duplicates:.0%} retried to the other replica, "
        f"{'unique' if args.unique else 'repeated'} questions, no LLM, "
        f"{args.core_threads or 'default'} core threads per replica\n"
    )
    print(
        "| layout | events (+retries) | offered events/s | answered events/s in window | answered events/s "
        "overall | last answer after last delivery s | answer latency p50/p95/max ms | ack p50 ms | ack p95 ms "
        "| ack p99 ms | ack max ms | lost | doubled | refused | HTTP |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        p50, p95, p99, top = r["ack"]
        l50, l95, ltop = r["latency"]
        print(
            f"| {r['layout']} | {r['events']} (+{r['retries']}) | {r['offered']:.0f} | {r['answered_in_window']:.0f} "
            f"| {r['answered_overall']:.0f} | {r['lag']:.1f} | {l50:.0f} / {l95:.0f} / {ltop:.0f} | {p50:.1f} "
            f"| {p95:.1f} | {p99:.1f} | {top:.0f} | {r['lost']} | {r['doubled']} | {r['refused']} "
            f"| {r['statuses']} |"
        )
    print("\nCPU in the window, % of one core (the machine has", os.cpu_count(), "cores):\n")
    names = list(dict.fromkeys(name for r in results for name in r["cpu"]))
    print(
        "| layout | " + " | ".join(names) + " | CPU ms per answered event (without others and steal) "
        "| questions per replica | errors logged |"
    )
    print("|---|" + "---|" * (len(names) + 3))
    for r in results:
        cells = " | ".join(f"{r['cpu'][n]:.0f}" if n in r["cpu"] else "–" for n in names)
        ours = sum(v for n, v in r["cpu"].items() if n not in ("others", "steal"))  # % of a core, over the window
        per_event = 10 * ours / r["answered_in_window"] if r["answered_in_window"] else float("nan")
        print(
            f"| {r['layout']} | {cells} | {per_event:.1f} | {' / '.join(map(str, r['per_replica']))} "
            f"| {r['log_errors']} |"
        )
    for r in results:
        seconds = ", ".join(f"{second}: {count}" for second, count in r["slow"]) or "none"
        print(f"\n{r['layout']}: acks over {SLOW_ACK} ms by second of the window (second: count): {seconds}")
    for r in results:
        spans = ", ".join(f"{second}: {p50:.0f}/{p95:.0f}" for second, p50, p95 in r["latency_by_time"])
        print(f"\n{r['layout']}: answer latency p50/p95 ms by the second the event went out: {spans}")
    worst_lag = max(r["send_lag_max"] for r in results)
    print(f"\nload generator: latest delivery {worst_lag:.0f} ms behind its schedule")
    if args.rate:
        kept = all(
            r["answered_in_window"] >= 0.95 * args.rate and r["lag"] < 2 and not r["lost"] and not r["doubled"]
            for r in results
        )
        print(f"target ≥ {args.rate:g} events/s sustained, nothing lost or doubled: {'met' if kept else 'MISSED'}")


async def main_async(args) -> None:
    layouts = ["chroma", "embedded"] if args.layout == "both" else [args.layout]
    results = [await measure(layout, args) for layout in layouts]
    report(results, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", choices=("chroma", "embedded", "both"), default="both")
    parser.add_argument("--rate", type=float, default=200, help="events per second offered (0: flood)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--duplicates", type=float, default=0.09, help="share of events delivered twice")
    parser.add_argument("--backlog", type=int, default=400, help="flood: most events delivered and unanswered")
    parser.add_argument("--unique", action="store_true", help="a distinct ticket number in every question")
    parser.add_argument("--drain", type=float, default=600, help="seconds to wait for the last answers")
    parser.add_argument("--core-threads", type=int, default=0, help="LOTSE_CORE_THREADS of the replicas (0: default)")
    parser.add_argument("--postgres", default=PG, help="PostgreSQL server (a throwaway database is made on it)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
