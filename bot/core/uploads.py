"""Where a channel puts a file sent in chat (issue 25) until the core has checked it and a knowledge owner
confirmed or dropped it: `<data folder>/uploads/<token>__<name>`. The token names it in the buttons."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

MAX_BYTES = 10 * 1024 * 1024  # a file sent in chat; larger ones belong in `lotse ingest` (channels skip the fetch)


def safe_name(name: str) -> str:
    """The file's name as kept on disk: its last part, no path, no control characters."""
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[^\w.\- äöüÄÖÜß()]+", "_", base).strip(" .") or "dokument"
    return base[:120]


def pending_path(data_dir: Path, name: str) -> Path:
    folder = data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{secrets.token_hex(8)}__{safe_name(name)}"
