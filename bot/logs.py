"""Logging for operators: one JSON object per line (LOTSE_LOG_FORMAT=json) with the request id of the
HTTP request being handled, or readable lines on a terminal. Lotse never logs what users write."""

from __future__ import annotations

import json
import logging
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from aiohttp import web

REQUEST_ID: ContextVar[str | None] = ContextVar("lotse_request_id", default=None)
HEADER = "X-Request-Id"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def use_json(root: logging.Logger | None = None) -> None:
    """Switch the root logger's handlers to JSON lines."""
    for handler in (root or logging.getLogger()).handlers:
        handler.setFormatter(JsonFormatter())


@web.middleware
async def request_ids(request: web.Request, handler):
    """Every request gets an id (the caller's X-Request-Id if it is sane, else a new one), logged with
    everything done for it and returned in the response header."""
    given = request.headers.get(HEADER, "")
    request_id = given if 0 < len(given) <= 64 and given.replace("-", "").isalnum() else uuid.uuid4().hex
    token = REQUEST_ID.set(request_id)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers[HEADER] = request_id
        raise
    finally:
        REQUEST_ID.reset(token)
    response.headers[HEADER] = request_id
    return response
