"""Sending due nudges: plan (record what is due), claim, send concurrently, record the outcomes.
Senders are per channel; a process only claims nudges for the channels it can send to."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from bot import metrics
from bot.core.messages import Reply
from bot.core.ports import Outcome, Sender
from bot.reminders.planner import Reminders
from bot.reminders.store import Claimed

log = logging.getLogger(__name__)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Stats:
    planned: int = 0
    sent: int = 0
    retry: int = 0
    failed: int = 0
    unknown: int = 0
    expired: int = 0
    notices: int = 0  # askers told that their question has an answer now (issue 25)
    errors: list[str] = field(default_factory=list)


class Dispatcher:
    def __init__(
        self,
        reminders: Reminders,
        senders: list[Sender],
        *,
        worker: str | None = None,
        concurrency: int = 32,
        batch: int = 500,
    ) -> None:
        self.reminders = reminders
        self.senders = {s.channel: s for s in senders}
        self.worker = worker or worker_id()
        self.concurrency = concurrency
        self.batch = batch

    @property
    def channels(self) -> list[str]:
        return list(self.senders)

    async def run_once(self, now: datetime | None = None) -> Stats:
        """One pass at `now` (the clock's time by default). Safe to run in several processes at once."""
        now = now or self.reminders.clock()
        stats = Stats()
        if not self.senders:
            return stats
        log_ = self.reminders.log
        stats.expired = await asyncio.to_thread(log_.expire_claims, now)
        stats.planned = await asyncio.to_thread(self.reminders.plan_due, now, self.channels)
        limit = asyncio.Semaphore(self.concurrency)
        while claimed := await asyncio.to_thread(log_.claim, self.worker, self.channels, now, self.batch):
            composed = await asyncio.to_thread(self.reminders.compose, claimed, now)

            async def deliver(item: Claimed, address: str | None, reply: Reply | None) -> tuple[Claimed, Outcome]:
                if reply is None or address is None:
                    return item, Outcome("failed", error="the plan or its target no longer exists")
                async with limit:
                    try:
                        return item, await self.senders[item.channel].send(address, reply)
                    except Exception as exc:  # a sender bug must not leave the row claimed forever
                        log.exception("sending nudge %s failed", item.key)
                        return item, Outcome("unknown", error=f"{type(exc).__name__}: {exc}")

            results = await asyncio.gather(*(deliver(c, t.address if t else None, r) for c, t, r in composed))
            await asyncio.to_thread(log_.finish, results, now)
            for item, outcome in results:
                setattr(stats, outcome.status, getattr(stats, outcome.status) + 1)
                metrics.NUDGES.labels(item.channel, outcome.status).inc()
                if outcome.error and outcome.status != "sent":
                    stats.errors.append(outcome.error)
        if self.reminders.notices is not None:
            stats.notices = await self._notices(now, limit, stats)
        return stats

    async def _notices(self, now: datetime, limit: asyncio.Semaphore, stats: Stats) -> int:
        """Send the askers' notices (claimed before: at most once, whatever the outcome)."""
        due = await asyncio.to_thread(self.reminders.notices, now, self.channels)

        async def send(channel: str, address: str, reply: Reply) -> bool:
            async with limit:
                try:
                    outcome = await self.senders[channel].send(address, reply)
                except Exception as exc:  # noqa: BLE001 — one failed notice must not stop the others
                    outcome = Outcome("unknown", error=f"{type(exc).__name__}: {exc}")
            if outcome.status != "sent":
                log.warning("an answer notice to %s:%s was not sent: %s", channel, address, outcome.error)
                stats.errors.append(outcome.error or outcome.status)
            return outcome.status == "sent"

        return sum(await asyncio.gather(*(send(*item) for item in due)))
