"""The terminal channel: `lotse chat`. Interactive with line editing and history on a terminal;
with piped stdin it reads one message per line, so it can be scripted."""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import TextIO

from bot.core import i18n
from bot.core.messages import BOLD, Incoming, Question, Reply
from bot.core.turn import Lotse

QUIT = ("/quit", "/exit", "/beenden")


def render(reply: Reply) -> str:
    question = reply.question
    lines = [f"[{question.progress}]"] if question and question.progress else []
    lines.append(BOLD.sub(r"\1", reply.text))  # a terminal shows no bold
    if question is not None:
        lines.extend(_choices(question))
        lines.append(f"  ({i18n.text('dialog_commands', reply.language)})")
    for task in reply.tasks:
        lines.append(f"  {task.mark} {task.id}  {task.text}" + (f"  ({task.note})" if task.note else ""))
    if reply.tasks and any(t.actions for t in reply.tasks):
        lines.append(f"  ({i18n.text('plan_console_hint', reply.language)})")
    if reply.footer:
        lines.append(reply.footer)
    for image in reply.images:
        lines.append(f"{i18n.text('chart_saved', reply.language)}: {image.path}")
    for file in reply.files:
        lines.append(f"{i18n.text('file_saved', reply.language)}: {file.path}")
    if reply.citations:
        lines.append("")
        lines.append(f"{i18n.text('sources', reply.language)}:")
        for c in reply.citations:
            lines.append(f"  [{c.number}] {c.label} ({c.source})")
    if reply.notice:
        lines += ["", reply.notice]
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
        reply = core.handle(Incoming(text=line, user=user, channel="console"))  # role: LOTSE_CONSOLE_ROLE
        language = reply.language
        print(render(reply), file=stdout)
        print(file=stdout)
        stdout.flush()
    if interactive:
        print(i18n.text("goodbye", language), file=stdout)
    return 0


class ConsoleSender:
    """Prints nudges addressed to the terminal while `lotse chat` runs."""

    channel = "console"

    def __init__(self, stdout: TextIO = sys.stdout) -> None:
        self.stdout = stdout
        self.lock = threading.Lock()

    async def send(self, address: str, reply: Reply):
        from bot.reminders.store import Outcome

        with self.lock:
            print(f"\n{render(reply)}\n", file=self.stdout, flush=True)
        return Outcome("sent", message_ref=address)


class BackgroundNudges:
    """The scheduler for terminal nudges, on its own thread and event loop beside the chat."""

    def __init__(self, core: Lotse, stdout: TextIO = sys.stdout) -> None:
        from bot.reminders.dispatch import Dispatcher
        from bot.reminders.service import SchedulerService

        dispatcher = Dispatcher(core.reminders, [ConsoleSender(stdout)])
        self.service = SchedulerService(dispatcher, core.reminders.db, role="console", housekeeping=core.purge)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="lotse-nudges", daemon=True)

    def __enter__(self) -> BackgroundNudges:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.service.start(), self.loop).result()
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self.service.stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
