"""Logs for operators: JSON lines with the request id of the HTTP request being handled (LOTSE_LOG_FORMAT
=json), the id returned as X-Request-Id, and no user text in the log of a real `lotse` run."""

from __future__ import annotations

import json
import logging
import socket

import aiohttp

from bot.app.server import build_app
from bot.app.services import build_core
from bot.logs import REQUEST_ID, JsonFormatter
from tests.channels.test_cli import guard_dir, lotse  # noqa: F401  (guard_dir is a fixture)
from tests.fakes.local import serve_local


def test_a_json_line_carries_the_request_id_and_the_error():
    token = REQUEST_ID.set("req-42")
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            record = logging.LogRecord("lotse.x", logging.ERROR, __file__, 1, "failed: %s", ("it",), True)
            import sys

            record.exc_info = sys.exc_info()
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert (line["level"], line["logger"], line["message"], line["request_id"]) == (
        "ERROR",
        "lotse.x",
        "failed: it",
        "req-42",
    )
    assert "ValueError: boom" in line["error"] and line["time"].endswith("+00:00")


async def test_every_response_carries_a_request_id(kb_settings, service):
    runner, base = await serve_local(build_app(build_core(kb_settings, service), kb_settings))
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/healthz", headers={"X-Request-Id": "abc-123"}) as response:
                assert response.headers["X-Request-Id"] == "abc-123"  # the caller's id is kept
            async with session.get(f"{base}/healthz", headers={"X-Request-Id": "<script>"}) as response:
                given = response.headers["X-Request-Id"]
                assert given != "<script>" and len(given) == 32  # an unusable one is replaced
            async with session.get(f"{base}/nowhere") as response:
                assert response.status == 404 and len(response.headers["X-Request-Id"]) == 32
    finally:
        await runner.cleanup()


def test_lotse_logs_json_lines_without_what_the_user_asked(kb_settings, guard_dir):  # noqa: F811
    question = "Wie viel Budget brauchen wir pro Person für KI-Schulungen?"
    with socket.socket() as probe:  # a port on 127.0.0.1 that nothing listens on: the LLM fails at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = lotse(
        ["-v", "ask", question],
        kb_settings.data_dir,
        guard_dir,
        LOTSE_LOG_FORMAT="json",
        OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1",
        LOTSE_LLM_RETRIES="0",
    )
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]  # each one JSON object
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    assert any(e["message"] == "the LLM did not answer (connection failed); the answer is extractive" for e in entries)
    assert "Budget" not in result.stderr and "KI-Schulungen" not in result.stderr
