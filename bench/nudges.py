"""Nudge delivery: N targets due at the same minute, delivered through the fake Slack Web API
(tests/fakes/slack_api.py) by one or more dispatchers at once, each with its own database connection
as a separate process would have, on SQLite or PostgreSQL. Nothing leaves 127.0.0.1.

    python -m bench.nudges [--targets 10000] [--senders 2] [--concurrency 32] [--batch 500]
                           [--rate-limit-every 0] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

One plan (config/plan.yaml, Bavaria, Mondays 09:00 Europe/Berlin) gets `--targets` team members. The
clock is set to the first nudge's due moment (Monday 2027-01-11 09:00 local = 08:00 UTC) and every
dispatcher runs `run_once` at that moment, concurrently, as the minute job of several processes would.
The pass is exactly the production one (plan_due, claim, compose, send, finish); the bench only wraps
those calls to time them (wall seconds in the worker thread, waits for the GIL and for database locks
included). The Slack client is set up as the Slack channel sets it up (slack_sdk retries a
429 after its Retry-After, up to three times).

Lateness of a message = the moment the fake Slack API received it minus the start of the pass (the due
moment). Afterwards: every target got exactly one chat.postMessage, the nudge log holds one "sent" row
per target, and a second pass one minute later sends nothing.

With `--database-url postgresql+psycopg://…` a throwaway database `lotse_bench_nudges` is created on
that server (autocommit, through the URL's own database as the admin connection) and dropped afterwards.
With `--rate-limit-every K` the fake answers about every K-th chat.postMessage with 429 and Retry-After 1.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.channels.slack.app import SlackSender
from bot.reminders.dispatch import Dispatcher, Stats
from bot.reminders.planner import Reminders
from bot.reminders.spec import load_plan
from bot.storage.db import Database
from bot.storage.models import NudgeRow
from tests.fakes.slack_api import FakeSlack

ROOT = Path(__file__).resolve().parent.parent

BENCH_DB = "lotse_bench_nudges"
START = date(2027, 1, 11)  # a Monday, no holiday in Bavaria, winter time (09:00 local = 08:00 UTC)
TZ = "Europe/Berlin"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Clock:
    """The controlled clock the Reminders read when no moment is passed."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Fake(FakeSlack):
    """FakeSlack that rate-limits about every K-th chat.postMessage (via its own rate_limit_once)."""

    def __init__(self, every: int) -> None:
        super().__init__(team_id="T1")
        self.every = every
        self.seen = 0

    async def _api(self, request):
        if self.every and request.match_info["method"] == "chat.postMessage":
            self.seen += 1
            if self.seen % self.every == 0:
                self.rate_limit_once("chat.postMessage", 1)
        return await super()._api(request)


@dataclass
class Timings:
    """Seconds spent in each step of one dispatcher's pass (summed over its batches)."""

    spent: dict[str, float] = field(default_factory=lambda: collections.defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: collections.defaultdict(int))
    plan_end: float = 0.0  # when plan_due returned, seconds after the pass start


def timed(name: str, function, timings: Timings, origin: list):
    """Wrap a bound method on its instance so that a pass's calls of it are timed (it runs in a thread)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        t0 = time.monotonic()
        try:
            return function(*args, **kwargs)
        finally:
            t1 = time.monotonic()
            if origin[1]:  # only the timed pass is recorded
                timings.spent[name] += t1 - t0
                timings.calls[name] += 1
                if name == "plan_due":
                    timings.plan_end = max(timings.plan_end, t1 - origin[0])

    return wrapper


def instrument(reminders: Reminders, timings: Timings, origin: list) -> None:
    reminders.plan_due = timed("plan_due", reminders.plan_due, timings, origin)
    reminders.compose = timed("compose", reminders.compose, timings, origin)
    reminders.log.claim = timed("claim", reminders.log.claim, timings, origin)
    reminders.log.finish = timed("finish", reminders.log.finish, timings, origin)


def slack_client(fake: FakeSlack) -> AsyncWebClient:
    client = AsyncWebClient(token="xoxb-bench", base_url=fake.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))  # as SlackChannel does
    return client


def create_database(url: str) -> tuple[str, str]:
    """PostgreSQL: (re)create the throwaway database; returns (its URL, the admin URL for psycopg)."""
    import psycopg

    parsed = make_url(url)
    if parsed.host not in LOOPBACK:
        raise SystemExit(f"only a database on 127.0.0.1 may be used (got host {parsed.host!r})")
    admin = parsed.set(drivername="postgresql", database=parsed.database or "postgres")
    admin_dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {BENCH_DB}")
    return parsed.set(database=BENCH_DB).render_as_string(hide_password=False), admin_dsn


def drop_database(admin_dsn: str) -> None:
    import psycopg

    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def posts(fake: FakeSlack, since: float) -> list:
    return [c for c in fake.calls if c.method == "chat.postMessage" and c.at >= since]


async def run_pass(dispatchers: list[Dispatcher], now: datetime) -> list[Stats]:
    return list(await asyncio.gather(*(d.run_once(now) for d in dispatchers)))


async def run(args) -> int:
    folder = Path(tempfile.mkdtemp(prefix="lotse-bench-nudges-"))
    admin_dsn = None
    if args.database_url:
        url, admin_dsn = create_database(args.database_url)
        label = f"PostgreSQL {make_url(url).host}"
    else:
        url = f"sqlite:///{folder}/lotse.db"
        label = "SQLite"
    fake = await Fake(args.rate_limit_every).start()
    due = datetime.combine(START, clock_time(9, 0), ZoneInfo(TZ)).astimezone(UTC)
    clock = Clock(due - timedelta(days=3))
    spec = load_plan(ROOT / "config" / "plan.yaml")
    databases: list[Database] = []
    try:
        databases += [Database(url) for _ in range(args.senders)]
        first = Reminders(databases[0], spec, clock)
        t0 = time.perf_counter()
        plan = first.plans.create(
            scope="slack:T1",
            start=START,
            weekday=0,
            at="09:00",
            tz=TZ,
            state="BY",
            language="de",
            created_by="bench",
            targets=[("slack", f"U{n:06d}", "team", None) for n in range(args.targets)],
            now=clock(),
        )
        setup = time.perf_counter() - t0

        origin = [0.0, True]  # start of the timed pass, recording on
        timings = [Timings() for _ in databases]
        dispatchers = []
        for k, db in enumerate(databases):
            reminders = first if k == 0 else Reminders(db, spec, clock)
            instrument(reminders, timings[k], origin)
            dispatchers.append(
                Dispatcher(
                    reminders,
                    [SlackSender(slack_client(fake))],
                    worker=f"bench-{k}",
                    concurrency=args.concurrency,
                    batch=args.batch,
                )
            )

        # the due minute: every "process" runs its pass at the same moment
        clock.now = due
        origin[0] = start = time.monotonic()
        stats = await run_pass(dispatchers, due)
        pass_done = time.monotonic() - start
        calls = posts(fake, start)
        ok = [c for c in calls if "_status" not in c.params]
        limited = sum(1 for c in calls if c.params.get("_status") == 429)

        # exactly once: a pass one minute later sends nothing
        origin[1] = False
        clock.now = due + timedelta(minutes=1)
        before = len(fake.calls)
        later = await run_pass(dispatchers, clock.now)
        again = len(fake.calls) - before

        log = first.log
        with databases[0].session() as s:
            rows, keys, targets = s.execute(
                select(
                    func.count(), func.count(NudgeRow.key.distinct()), func.count(NudgeRow.target_id.distinct())
                ).where(NudgeRow.plan_id == plan.id)
            ).one()
            statuses = dict(s.execute(select(NudgeRow.status, func.count()).group_by(NudgeRow.status)).all())
        sent_rows = log.count(status="sent")
    finally:
        for db in databases:
            db.dispose()
        await fake.stop()
        shutil.rmtree(folder, ignore_errors=True)
        if admin_dsn:
            drop_database(admin_dsn)

    expected = {f"U{n:06d}" for n in range(args.targets)}
    channels = collections.Counter(c.params.get("channel") for c in ok)
    duplicates = sum(n - 1 for n in channels.values() if n > 1)
    missing = len(expected - set(channels))
    stray = len(set(channels) - expected)
    lateness = np.array([c.at - start for c in ok]) if ok else np.array([0.0])
    delivered = float(lateness.max())
    planning = max(t.plan_end for t in timings)

    print(
        f"\nNudges: {args.targets:,} targets due at {due:%Y-%m-%d %H:%M} UTC, {args.senders} dispatcher(s) with "
        f"their own database connection, fake Slack Web API on 127.0.0.1 (plan with {args.targets:,} targets "
        f"created in {setup:.1f} s)\n"
    )
    print(
        "| targets | senders | concurrency | database | planning s | all delivered s | pass done s | messages/s "
        "| lateness p50 s | p95 s | max s | 429s | duplicates | missing | 2nd pass calls |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    p50, p95 = np.percentile(lateness, 50), np.percentile(lateness, 95)
    print(
        f"| {args.targets:,} | {args.senders} | {args.concurrency} | {label} | {planning:.2f} | {delivered:.2f} "
        f"| {pass_done:.2f} | {len(ok) / delivered if delivered else 0:.0f} | {p50:.2f} | {p95:.2f} "
        f"| {lateness.max():.2f} | {limited} | {duplicates} | {missing} | {again} |"
    )

    print(
        "\nPer dispatcher (seconds summed over its batches; plan_due, claim, compose and finish run in a thread, "
        "sending is the rest):\n"
    )
    print(
        "| dispatcher | planned | sent | retry | failed | unknown | batches | plan_due s | claim s | compose s "
        "| finish s | 2nd pass planned/sent |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for k, (s, t, s2) in enumerate(zip(stats, timings, later, strict=True)):
        print(
            f"| {k} | {s.planned} | {s.sent} | {s.retry} | {s.failed} | {s.unknown} | {t.calls['compose']} "
            f"| {t.spent['plan_due']:.2f} | {t.spent['claim']:.2f} | {t.spent['compose']:.2f} "
            f"| {t.spent['finish']:.2f} | {s2.planned}/{s2.sent} |"
        )
    errors = [e for s in [*stats, *later] for e in s.errors]
    if errors:
        print(f"\nerrors ({len(errors)}): {collections.Counter(errors).most_common(5)}")

    print(
        f"\nnudge log: {rows} rows for the plan, {keys} distinct keys, {targets} distinct targets, "
        f"by status {statuses}; sent rows {sent_rows}"
    )
    print(f"chat.postMessage: {len(ok)} answered ok, {len(channels)} distinct channels, {stray} unexpected")
    problems = []
    if len(ok) != args.targets or len(channels) != args.targets or duplicates or missing or stray:
        problems.append("messages: not exactly one per target")
    if sent_rows != args.targets or rows != args.targets or keys != rows or targets != rows:
        problems.append("nudge log: not exactly one sent row per target")
    if again:
        problems.append(f"the pass a minute later sent {again} more")
    if delivered > args.limit:
        problems.append(f"delivery took {delivered:.1f} s (> {args.limit:g} s)")
    print(
        f"\ntarget: all {args.targets:,} delivered within {args.limit:g} s, none twice — "
        + ("met" if not problems else "NOT met: " + "; ".join(problems))
    )
    return 1 if problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--senders", type=int, default=2, help="dispatchers running the pass at once")
    parser.add_argument("--concurrency", type=int, default=32, help="messages in flight per dispatcher")
    parser.add_argument("--batch", type=int, default=500, help="nudges claimed at a time (Dispatcher default)")
    parser.add_argument("--rate-limit-every", type=int, default=0, help="answer about every K-th post with 429")
    parser.add_argument("--database-url", help="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds allowed for delivering all")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    raise SystemExit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
