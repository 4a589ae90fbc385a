"""A lock between the processes of one machine, held through a file: the SQLite migration, and the BM25
build and vector-store record of a data folder that `lotse serve` and `lotse ingest` share."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no lock between processes (one process per data folder there)
    fcntl = None


@contextlib.contextmanager
def file_lock(path: Path | str) -> Iterator[None]:
    """Exclusive while the block runs; released when the file is closed, also if the process dies."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
