"""What the CLI's commands share."""

from __future__ import annotations

import getpass


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
