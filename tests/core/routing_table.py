"""Characterisation of the core's routing (issue 21, step 1): which route answers each (message × state ×
role × place) pair, recorded from the code as it is — odd cases included — so that moving the routing
into one table can be checked against it. `tests/core/test_routing_table.py` asserts the recorded table
(`tests/core/routing_table.tsv`); after a deliberate change of a route, write it again with

    python -m tests.core.routing_table

and review the diff: every changed line is a reply that changed.

A route is the chain that produced the reply: the routing table's route that answered (the router is
wrapped), then the handlers inside it, found by wrapping them on the instance (the real code runs; the
wrapper only notes that it was entered and returned a reply); a question shows only its inner handler. Each row
also keeps whether the reply counts as answered, its mode, the dialog step it asks, and the start of its
first line with digits blanked (dates and ids vary) — enough to see a reply change.
"""

from __future__ import annotations

import functools
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bot.answering import AnswerService
from bot.app.lotse import Lotse
from bot.app.services import build_core as core_on
from bot.core.messages import Incoming, Reply
from bot.settings import Settings, SlackSettings, TeamsSettings
from ingest.index import KnowledgeIndex

TABLE = Path(__file__).with_name("routing_table.tsv")
COLUMNS = ("state", "role", "place", "message", "route", "answered", "mode", "step", "reply")

ROLES = {"admin": "UADMIN", "champion": "UCHAMP", "employee": "U1"}
# every command word the code knows today (core, dialogs, plan, pilots, register, audit) and one it does not
WORDS = (
    "/plan", "/pilot", "/register", "/registry", "/ki-register", "/audit", "/protokoll", "/export", "/help",
    "/hilfe", "/start", "/feedback", "/rückmeldung", "/rueckmeldung", "/check", "/bewertung", "/prüfung",
    "/pruefung", "/assessment", "/assess", "/weiter", "/fortsetzen", "/resume", "/continue", "/ergebnis",
    "/ergebnisse", "/result", "/results", "/status", "/stand", "/gibtsnicht",
)  # fmt: skip
WITH_ARGUMENTS = (
    "/plan status", "/plan hilfe", "/pilot liste", "/pilot help", "/register liste", "/register help",
    "/check readiness", "/check systeme", "/ergebnisse systeme", "/results readiness", "/feedback 4 gut",
    "/feedback", "/audit 5", "/Plan Status", "/PILOT LISTE", "/Register Liste", "/Check Readiness",
)  # fmt: skip
PHRASES = (
    "meine Daten", "exportiere meine Daten", "Export my data.", "lösche meine Daten", "Loesche meine Daten!",
    "delete my data", "Was weißt du über mich?", "what do you know about me", "hilfe", "help",
)  # fmt: skip
DIALOG_WORDS = (
    "pause", "Pause", "später", "zurück", "back", "abbrechen", "Cancel", "stop", "?", "fertig", "done", "-",
    "skip", "überspringen", "behalten", "neu", "/pause", "/abbrechen", "/zurück",
)  # fmt: skip
ANSWERS = (
    "ja", "Nein", "1", "4", "9", "CRM", "Systemausfall", "Was kostet KI im ersten Jahr?",
    "Welche unserer Systeme sind KI-bereit?", "", "   ",
)  # fmt: skip
BUTTONS = ("plan:1:1.1:done:W01", "0:ja", "1.0:ja", "0:1", "control:cancel")  # Incoming.value, no text

# how a conversation reaches each state (typed by the same person in the same place)
STATES = {
    "none": (),
    "yesno": ("/check readiness",),
    "repeat-name": ("/check systeme",),
    "rating": ("/check systeme", "CRM"),
    "free-text": ("/check systeme", "CRM", "4"),
    "repeat-more": ("/check systeme", "CRM", "4", "-"),
    "choice": ("/check risiken", "Systemausfall"),
}
# where every message is tried in every role and place; in a running dialog, three (role, place) pairs
EVERYWHERE = [(role, place) for role in ROLES for place in ("dm", "channel")]
IN_DIALOG = [("admin", "dm"), ("employee", "channel")]  # the champion: in every role and place above

# the handlers inside the routes: (label, attribute path from the core, method); a reply is one that is
# not None
SPIES = (
    ("check", "dialogs", "check"),
    ("resume", "dialogs", "resume"),
    ("results", "dialogs.results", "show"),
    ("step", "dialogs", "_step"),
    ("feedback", "", "_feedback"),
    ("own-results", "results", "answer_question"),
    ("guide", "answers", "ask"),
)


def messages() -> list[tuple[str, str | None]]:
    """(text, button value) of every message tried."""
    typed = [w for word in WORDS for w in dict.fromkeys((word, word[:2].upper() + word[2:], word.upper()))]
    typed += [*WITH_ARGUMENTS, *PHRASES, *DIALOG_WORDS, *ANSWERS]
    return [(text, None) for text in typed] + [("", value) for value in BUTTONS]


def cases() -> Iterator[tuple[str, str, str, str, str | None]]:
    """(state, role, place, text, value) in a fixed order."""
    for state in STATES:
        for role, place in EVERYWHERE if state == "none" else IN_DIALOG:
            for text, value in messages():
                yield state, role, place, text, value


def settings_for(data_dir: Path, knowledge_dir: Path) -> Settings:
    """A database of its own with an empty knowledge base (routing asks the guide, which then finds
    nothing: quick, and no answer text to track); one admin and one champion in Slack."""
    return Settings(
        data_dir=data_dir,
        knowledge_dir=knowledge_dir,
        console_role="employee",
        slack=SlackSettings(admins=frozenset({ROLES["admin"]}), champions=frozenset({ROLES["champion"]})),
        teams=TeamsSettings(),
    )


class Recorder:
    """Notes which of the core's handlers were entered and returned a reply, in the order entered."""

    def __init__(self, core: Lotse) -> None:
        self.route: list[str] = []
        for label, path, name in SPIES:
            owner = functools.reduce(getattr, path.split("."), core) if path else core
            setattr(owner, name, self._spy(label, getattr(owner, name)))
        route = core.router.route

        def routed(turn, before=None):
            found = route(turn, before)
            if found and found[0].name != "question" and before is None:
                self.route.insert(0, found[0].name)  # the table's route first, then what ran inside it
            return found

        core.router.route = routed

    def _spy(self, label: str, method):
        @functools.wraps(method)
        def spy(*args, **kwargs):
            position = len(self.route)
            self.route.insert(position, label)  # entered: before what it calls
            result = method(*args, **kwargs)
            reply = result[0] if isinstance(result, tuple) else result
            if reply is None:
                self.route.remove(label)
            return result

        return spy


def _reply_text(reply: Reply) -> str:
    first = next((line for line in reply.text.splitlines() if line.strip()), "")
    return re.sub(r"[0-9]", "#", first.strip())[:70].replace("\t", " ")


def record(core: Lotse) -> list[dict[str, str]]:
    recorder = Recorder(core)
    rows = []
    for number, (state, role, place, text, value) in enumerate(cases()):
        # a conversation of its own for each case: its workspace is the case's number
        def say(line: str, button: str | None = None, _number=number, _role=role, _place=place) -> Reply:
            message = Incoming(
                text=line,
                user=ROLES[_role],
                channel="slack",
                workspace=f"T{_number}",
                conversation="D1" if _place == "dm" else "C1",
                private=_place == "dm",
                value=button,
            )
            return core.handle(message)

        for line in STATES[state]:
            say(line)
        recorder.route.clear()
        reply = say(text, value)
        rows.append(
            {
                "state": state,
                "role": role,
                "place": place,
                "message": text if value is None else f"[{value}]",
                "route": ">".join(recorder.route) or "-",
                "answered": "yes" if reply.answered else "no",
                "mode": reply.mode or "-",
                "step": reply.question.step if reply.question else "-",
                "reply": _reply_text(reply) or "-",
            }
        )
    return rows


def to_tsv(rows: list[dict[str, str]]) -> str:
    def cell(value: str) -> str:
        return value.replace("\t", " ").replace("\n", " ") if value.strip() else repr(value)

    lines = ["\t".join(COLUMNS)] + ["\t".join(cell(row[c]) for c in COLUMNS) for row in rows]
    return "\n".join(lines) + "\n"


def build_core(folder: Path, knowledge_dir: Path, embedder=None) -> Lotse:
    settings = settings_for(folder / "data", knowledge_dir)
    index = KnowledgeIndex(settings, embedder=embedder) if embedder is not None else KnowledgeIndex(settings)
    return core_on(settings, AnswerService(settings, index))


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "knowledge"
        empty.mkdir()
        core = build_core(Path(folder), empty)
        TABLE.write_text(to_tsv(record(core)), encoding="utf-8")
        core.answers.index.db.dispose()
    print(f"wrote {TABLE} ({sum(1 for _ in cases())} cases)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
