"""Slack's side of the Events API, for fault tests and the fault benchmark: signed events delivered to a
set of replicas the way Slack delivers them. A delivery that fails — the connection is refused or cut,
no answer within 3 seconds, or any status but 2xx — is sent again, with X-Slack-Retry-Num, up to 3
times, to the next replica (Slack's load balancer would pick another healthy target). Slack itself
waits about 1 minute and 5 minutes between its retries; `delays` compresses that (default 1, 3, 6 s),
which gives a replica less time to recover than Slack would, not more."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import aiohttp

from tests.fakes.slack_api import sign

TIMEOUT = 3.0  # Slack counts a delivery as failed when no answer comes within 3 seconds
DELAYS = (1.0, 3.0, 6.0)


@dataclass
class Delivery:
    event_id: str
    channel: str
    attempts: list[tuple[int, str, float]] = field(default_factory=list)  # (replica, status or error, seconds)

    @property
    def acknowledged(self) -> bool:
        return any(status.isdigit() and 200 <= int(status) < 300 for _, status, _ in self.attempts)


def dm_event(team: str, channel: str, user: str, text: str, ts: str, event_id: str) -> str:
    event = {"type": "message", "channel": channel, "channel_type": "im", "user": user, "text": text, "ts": ts}
    return json.dumps(
        {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
    )


class SlackSender:
    def __init__(
        self, secret: str, replicas: list[str], delays: tuple[float, ...] = DELAYS, timeout: float = TIMEOUT
    ) -> None:
        self.secret = secret
        self.replicas = replicas
        self.delays = delays
        self.timeout = timeout

    async def deliver(self, session: aiohttp.ClientSession, body: str, first: int, delivery: Delivery) -> Delivery:
        replica = first
        for attempt in range(len(self.delays) + 1):
            headers = {"Content-Type": "application/json", **sign(self.secret, body)}
            if attempt:
                headers.update({"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_error"})
            started = time.monotonic()
            try:
                async with session.post(
                    f"{self.replicas[replica]}/slack/events",
                    data=body,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as response:
                    await response.read()
                    status = str(response.status)
            except TimeoutError:
                status = "timeout"
            except aiohttp.ClientError as exc:
                status = type(exc).__name__
            delivery.attempts.append((replica, status, time.monotonic() - started))
            if status.isdigit() and 200 <= int(status) < 300:
                return delivery
            if attempt < len(self.delays):
                await asyncio.sleep(self.delays[attempt])
                replica = (replica + 1) % len(self.replicas)
        return delivery

    async def flood(
        self, session: aiohttp.ClientSession, events: list[tuple[str, str, str]], rate: float, on_sent=None
    ) -> list[Delivery]:
        """`events`: (event_id, channel, body), offered at `rate` per second round-robin (open loop: each
        goes out on the clock, whatever happened to the ones before). `on_sent(n)` is awaited after the
        n-th event went out (a test injects its fault there)."""
        tasks = []
        start = time.monotonic()
        for number, (event_id, channel, body) in enumerate(events):
            await asyncio.sleep(max(0.0, start + number / rate - time.monotonic()))
            delivery = Delivery(event_id, channel)
            tasks.append(asyncio.create_task(self.deliver(session, body, number % len(self.replicas), delivery)))
            if on_sent is not None:
                await on_sent(number + 1)
        return list(await asyncio.gather(*tasks))
