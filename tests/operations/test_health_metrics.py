"""Operations endpoints of `lotse serve`, served for real on 127.0.0.1: /healthz, /readyz (database and
vector store reachable; red while the PostgreSQL database is gone, green again when it is back, no
crash) and /metrics in the Prometheus text format with what the core counted."""

from __future__ import annotations

import asyncio
import dataclasses

import aiohttp
import psycopg
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from bot.app.server import build_app
from bot.app.services import build_core
from bot.core.messages import Incoming
from tests.conftest import PG
from tests.fakes.local import serve_local


async def get(base: str, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(base + path) as response:
        return response.status, await response.text()


def sample(metrics_text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


async def test_healthz_readyz_and_metrics(kb_settings, service):
    core = build_core(kb_settings, service)
    runner, base = await serve_local(build_app(core, kb_settings))
    try:
        assert (await get(base, "/healthz"))[0] == 200
        status, body = await get(base, "/readyz")
        assert status == 200 and '"database": "ok"' in body and '"vector_store": "ok"' in body

        _, before = await get(base, "/metrics")
        await asyncio.to_thread(
            core.handle, Incoming("Wie viel Budget brauchen wir pro Person für KI-Schulungen?", "anna", workspace="ops")
        )
        await asyncio.to_thread(core.handle, Incoming("Wie ist das Wetter morgen in Hamburg?", "anna", workspace="ops"))
        await asyncio.to_thread(core.handle, Incoming("/check readiness", "ben", workspace="ops"))
        await asyncio.to_thread(core.handle, Incoming("vielleicht", "ben", workspace="ops"))  # not yes/no
        await asyncio.to_thread(core.handle, Incoming("ja", "ben", workspace="ops"))
        status, after = await get(base, "/metrics")
        assert status == 200
        for name, labels, delta in (
            ("lotse_questions_total", {"channel": "console", "outcome": "answered"}, 1),
            ("lotse_questions_total", {"channel": "console", "outcome": "refused"}, 1),
            ("lotse_dialog_steps_total", {"result": "invalid"}, 1),
            ("lotse_dialog_steps_total", {"result": "answered"}, 1),
        ):
            assert sample(after, name, **labels) - sample(before, name, **labels) == delta, (name, labels)
        assert "Hamburg" not in after and "anna" not in after  # no message text, no user
    finally:
        await runner.cleanup()


async def test_readyz_is_red_while_the_database_is_gone_and_green_when_it_is_back(
    kb_settings, service, postgres_url, tmp_path
):
    settings = dataclasses.replace(kb_settings, data_dir=tmp_path / "data", database_url=postgres_url)
    core = build_core(settings)
    runner, base = await serve_local(build_app(core, settings))
    name = make_url(postgres_url).database
    try:
        assert (await get(base, "/readyz"))[0] == 200
        with psycopg.connect(PG, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        status, body = await get(base, "/readyz")
        assert status == 503 and '"database": "OperationalError' in body and "Traceback" not in body
        assert (await get(base, "/healthz"))[0] == 200  # the process is up all the same
        with psycopg.connect(PG, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        for _ in range(20):  # the pool drops the dead connections and connects again
            status, body = await get(base, "/readyz")
            if status == 200:
                break
            await asyncio.sleep(0.25)
        assert status == 200, body
    finally:
        await runner.cleanup()
        core.answers.index.db.dispose()
