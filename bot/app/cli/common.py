"""What the CLI's commands share."""

from __future__ import annotations

import getpass


def cli_actor() -> str:
    """Who the audit log names for a command run in a shell."""
    return f"cli:{getpass.getuser()}"


def plain(text: str) -> str:
    """Chat text for the terminal: without the *bold* markers."""
    from bot.core.messages import BOLD

    return BOLD.sub(r"\1", text)
