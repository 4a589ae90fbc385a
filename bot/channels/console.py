"""The terminal channel: `lotse chat`. Interactive with line editing and history on a terminal;
with piped stdin it reads one message per line, so it can be scripted."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.core import i18n
from bot.core.messages import Incoming, Question, Reply
from bot.core.turn import Lotse

QUIT = ("/quit", "/exit", "/beenden")


def render(reply: Reply) -> str:
    question = reply.question
    lines = [f"[{question.progress}]"] if question and question.progress else []
    lines.append(reply.text)
    if question is not None:
        lines.extend(_choices(question))
        lines.append(f"  ({i18n.text('dialog_commands', reply.language)})")
    for image in reply.images:
        lines.append(f"{i18n.text('chart_saved', reply.language)}: {image.path}")
    if reply.citations:
        lines.append("")
        lines.append(f"{i18n.text('sources', reply.language)}:")
        for c in reply.citations:
            lines.append(f"  [{c.number}] {c.label} ({c.source})")
    return "\n".join(lines)


def _choices(question: Question) -> list[str]:
    """Numbered choices (typing the number picks one); ratings as one line of their values."""
    if question.kind == "rating":
        return ["  " + "  ".join(f"[{c.label}]" for c in question.choices)]
    if question.kind in ("yesno", "choice"):
        return [f"  {n}) {c.label}" for n, c in enumerate(question.choices, 1)]
    return []


def run(core: Lotse, user: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    interactive = stdin.isatty() and stdout.isatty()
    if interactive:
        try:
            import readline  # noqa: F401  (arrow keys and history for input())
        except ImportError:
            pass
        print(i18n.text("welcome", "de"), file=stdout)
        for line in core.dialogs.unfinished(Incoming(text="", user=user, channel="console").conversation_key, "de"):
            print(line, file=stdout)
    language = "de"
    while True:
        try:
            line = input("› ") if interactive else stdin.readline()
        except (EOFError, KeyboardInterrupt):
            break
        if not interactive and line == "":
            break
        line = line.strip()
        if not line:
            continue
        if line.lower() in QUIT:
            break
        reply = core.handle(Incoming(text=line, user=user, channel="console"))
        language = reply.language
        print(render(reply), file=stdout)
        print(file=stdout)
        stdout.flush()
    if interactive:
        print(i18n.text("goodbye", language), file=stdout)
    return 0
