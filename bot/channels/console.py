"""The terminal channel: `lotse chat`. Interactive with line editing and history on a terminal;
with piped stdin it reads one message per line, so it can be scripted."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import threading
from typing import TextIO

from bot.core import i18n
from bot.core.messages import BOLD, Incoming, Question, Reply, kind_of
from bot.core.ports import Core, Outcome

QUIT = ("/quit", "/exit", "/beenden")


PLAN_TASK = re.compile(r"\d{1,2}\.\d{1,2}")  # a plan's task ("3.1"); other checklists have their own buttons
INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


def plain(text: str) -> str:
    """Chat markup a terminal would print literally: *bold* and `code` marks go, their text stays."""
    return INLINE_CODE.sub(r"\1", BOLD.sub(r"\1", text))


def render(reply: Reply) -> str:
    question = reply.question
    lines = [f"[{question.progress}]"] if question and question.progress else []
    lines.append(tables(plain(reply.text)))  # a terminal shows no bold and no code marks
    if question is not None:
        lines.extend(_choices(question))
        if question.steered:  # a dialog's back / skip / pause / cancel: those this question takes
            offered = {c.value.rsplit(":", 1)[-1] for c in question.controls(reply.language)}
            words = i18n.text("dialog_commands", reply.language).split(" · ")
            shown = [w for v, w in zip(("back", "skip", "pause", "cancel"), words, strict=True) if v in offered]
            lines.append(f"  ({' · '.join(shown)})")
    for task in reply.tasks:
        lines.append(f"  {task.mark} {task.id}  {task.text}" + (f"  ({task.note})" if task.note else ""))
    plan_tasks = [t for t in reply.tasks if t.actions and PLAN_TASK.fullmatch(t.id)]  # not a list of gaps
    if plan_tasks:  # the commands, with the first open task's number
        lines.append(f"  ({i18n.text('plan_console_hint', reply.language, task=plan_tasks[0].id)})")
    if reply.footer:
        lines.append(plain(reply.footer))
    for image in reply.images:
        lines.append(f"{i18n.text('chart_saved', reply.language)}: {image.path}")
    for file in reply.files:
        lines.append(f"{i18n.text('file_saved', reply.language)}: {file.path}")
    if reply.citations:
        lines.append("")
        lines.append(f"{i18n.text('sources', reply.language)}:")
        for c in reply.citations:
            lines.append(f"  [{c.number}] {c.label} ({c.url or c.source})")
            if c.guide:
                lines.append(f"      {c.reference(reply.language)}")
    if reply.follow_ups:  # questions to ask next (in the terminal: to type or copy)
        lines.append("")
        lines.append(f"{i18n.text('slack_follow_ups_title', reply.language)}:")
        lines.extend(f"  – {q}" for q in reply.follow_ups)
    if not reply.answered and reply.nearest:
        lines.append("")
        lines.append(f"{i18n.text('nearest_sections', reply.language)}:")
        lines.extend(f"  – {c.label} ({c.source})" for c in reply.nearest[:3])
    if reply.notice:
        lines += ["", reply.notice]
    return "\n".join(lines)


_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def tables(text: str) -> str:
    """Markdown tables (as the knowledge base writes them) as aligned columns: a terminal shows the pipes
    literally, and a table squeezed into one line of them is unreadable."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if _TABLE_ROW.match(lines[i]) and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1]):
            block = [lines[i]]
            i += 2
            while i < len(lines) and _TABLE_ROW.match(lines[i]):
                block.append(lines[i])
                i += 1
            out.extend(_columns([[cell.strip() for cell in row.strip().strip("|").split("|")] for row in block]))
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def _columns(rows: list[list[str]]) -> list[str]:
    count = max(len(r) for r in rows)
    rows = [r + [""] * (count - len(r)) for r in rows]
    widths = [max(len(r[c]) for r in rows) for c in range(count)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return [lines[0], "  ".join("─" * w for w in widths), *lines[1:]]


def to_json(text: str, reply: Reply) -> dict:
    """One reply as `lotse chat --json` prints it: the fields of `lotse ask --json`, plus `kind` and
    `action` ({"id": …, "arguments": {…}} for a request in plain words, else null): the fields the
    automation contract names, no more. Cited sources come first, marked used."""
    sources = [
        {
            "title": c.title,
            "source": c.source,
            "section": c.section,
            "text": c.text,
            "score": c.score,
            "guide": c.guide,
            "used": c.used,
        }
        for c in [*reply.citations, *reply.nearest]
    ]
    return {
        "question": text,
        "answered": reply.answered,
        "answer": reply.text,
        "language": reply.language,
        "mode": reply.mode,
        "sources": sources,
        "kind": kind_of(reply),
        "action": reply.action,  # the action the reply ran, started or asks to confirm (issue 22)
    }


def _choices(question: Question) -> list[str]:
    """Numbered choices (typing the number picks one); ratings as one line of their values."""
    if question.kind == "rating":
        return ["  " + "  ".join(f"[{c.label}]" for c in question.choices)]
    if question.kind in ("yesno", "choice"):
        return [f"  {n}) {c.label}" for n, c in enumerate(question.choices, 1)]
    return []


def run(core: Core, user: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, as_json: bool = False) -> int:
    """The chat loop. `as_json`: one message per line in, exactly one JSON object per reply out, one a
    line, in order (scripts and evaluations: `lotse chat --json`)."""
    interactive = stdin.isatty() and stdout.isatty() and not as_json
    if interactive:
        try:
            import readline  # noqa: F401  (arrow keys and history for input())
        except ImportError:
            pass
        print(i18n.text("welcome", "de"), file=stdout)
        for line in core.unfinished(Incoming(text="", user=user, channel="console").conversation_key, "de"):
            print(line, file=stdout)
    language = "de"
    asked = None  # the last reply's question: a number typed next may pick one of its buttons
    while True:
        try:
            line = input("› ") if interactive else stdin.readline()
        except (EOFError, KeyboardInterrupt):
            break
        if not interactive and line == "":
            break
        line = line.strip()
        if not line and core.in_dialog(Incoming(text="", user=user, channel="console")):
            line = "skip" if language == "en" else "überspringen"  # an empty Enter at a question: skip it, visibly
            if interactive:  # piped, the transcript's "› überspringen" below shows it
                print(f"  ({line})", file=stdout)
        if not line:
            continue
        if line.lower() in QUIT:
            break
        message = Incoming(text=line, user=user, channel="console")  # role: LOTSE_CONSOLE_ROLE
        if asked is not None and not asked.steered and line.isdigit() and 1 <= int(line) <= len(asked.choices):
            message = Incoming(text="", user=user, channel="console", value=asked.choices[int(line) - 1].value)
        reply = core.handle(message)  # a number picks a button of the last reply (Confirm, an offer)
        asked = reply.question
        language = reply.language
        if as_json:
            print(json.dumps(to_json(line, reply), ensure_ascii=False), file=stdout, flush=True)
            continue
        if not interactive:  # piped: the transcript shows what was asked before each answer
            print(f"› {line}", file=stdout)
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

    async def send(self, address: str, reply: Reply) -> Outcome:
        with self.lock:
            print(f"\n{render(reply)}\n", file=self.stdout, flush=True)
        return Outcome("sent", message_ref=address)


class BackgroundNudges:
    """The scheduler for terminal nudges (built by the app with a `ConsoleSender`), on its own thread and
    event loop beside the chat; `service` has async `start()` and `stop()`."""

    def __init__(self, service) -> None:
        self.service = service
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
