"""What the CLI's commands share."""

from __future__ import annotations

import getpass
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path


def cli_actor() -> str:
    """Who the audit log names for a command run in a shell."""
    return f"cli:{getpass.getuser()}"


def plain(text: str) -> str:
    """Chat text for the terminal: without the *bold* and `code` marks (their text stays)."""
    from bot.channels.console import plain as terminal

    return terminal(text)


def counted(n: int, one: str, many: str) -> str:
    """ "1 chart", "2 charts": one of something in the singular."""
    return f"{n} {one if n == 1 else many}"


STDOUT = "-"  # `-o -`: the file's bytes to standard output, for a pipe (`lotse feedback export -o - | head`)


def write_out(output: str | None, default: str, write: Callable[[Path], object]):
    """`write(path)` into the file `output` (or `default`), or with `-o -` into a temporary file copied to
    stdout; returns (where it went, for the "wrote …" line, or None for stdout; what `write` returned)."""
    if output != STDOUT:
        out = Path(output or default)
        return out, write(out)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(default).name
        result = write(path)
        sys.stdout.flush()
        sys.stdout.buffer.write(path.read_bytes())
        sys.stdout.flush()
    return None, result
