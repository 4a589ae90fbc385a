"""Fetching a file a user sent in chat (issue 25) into the data folder's uploads, where the core checks it
(`bot.gaps.documents`). Slack and Teams differ only in which links they trust and how they authenticate."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp

from bot.core.uploads import MAX_BYTES, pending_path

log = logging.getLogger(__name__)


async def fetch(data_dir: Path, name: str, url: str, headers: dict[str, str] | None = None) -> dict:
    """{"path", "name", "size"} of the fetched file; {"name", "size"} for one larger than the core takes
    (nothing of it kept); {"name", "size", "error"} when the fetch fails."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
            session.get(url, headers=headers or {}) as got,
        ):
            if got.status != 200:
                raise OSError(f"HTTP {got.status}")
            data = await got.content.read(MAX_BYTES + 1)
    except (OSError, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("could not fetch a file sent in chat: %s", exc)
        return {"name": name, "size": 0, "error": str(exc) or type(exc).__name__}
    if len(data) > MAX_BYTES:
        return {"name": name, "size": len(data)}
    path = pending_path(data_dir, name)
    path.write_bytes(data)
    return {"path": str(path), "name": name, "size": len(data)}
