"""Work run on several threads at once, switching between them as often as Python can: what the core's
threads share (LOTSE_CORE_THREADS) is tested this way."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable


def at_once(work: Callable[[int], None], threads: int = 4) -> list[Exception]:
    """`work(n)` on `threads` threads started together; returns what they raised."""
    failed: list[Exception] = []
    start = threading.Barrier(threads)

    def run(n: int) -> None:
        start.wait()
        try:
            work(n)
        except Exception as exc:
            failed.append(exc)

    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as they can
    try:
        running = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
        for thread in running:
            thread.start()
        for thread in running:
            thread.join()
    finally:
        sys.setswitchinterval(switching)
    return failed
