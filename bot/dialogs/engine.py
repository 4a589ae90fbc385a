"""The dialog engine: runs any assessment of the catalog in any conversation.

One call per user message: load the conversation's active dialog, read the answer (or a command:
back, skip, pause, cancel, help), store the new state, and return the next question — or, after the
last answer, store the result and return its summary. State is written before the reply is returned,
so a crash between two messages loses nothing, and a restart resumes at the same question.

About 420 lines since `ruff format` laid out its calls: the steps of a turn (load, answer or steer, ask
again, finish) read best in one place; parsing is `inputs.py`, replaying a trail `flow.py`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from bot import metrics
from bot.core import i18n
from bot.core.commands import id_number
from bot.core.messages import Choice, Incoming, Question, Reply
from bot.core.routing import Route
from bot.dialogs.catalog import Catalog
from bot.dialogs.flow import Entry, Flow, Position, fits, realign, step_path
from bot.dialogs.inputs import InvalidAnswer, parse
from bot.dialogs.results import Results
from bot.dialogs.spec import AssessmentSpec, ChoiceStep, NumberStep, RatingStep, RepeatStep, TextStep, YesNoStep
from bot.storage.db import Database
from bot.storage.dialogs import ACTIVE, CANCELLED, PAUSED, DialogStore, StaleDialog
from bot.storage.models import DialogRow

log = logging.getLogger(__name__)

# /check keeps the conversation's language; the others say which language they want
CHECK = {"/check": None, "/bewertung": "de", "/prüfung": "de", "/pruefung": "de", "/assessment": "en", "/assess": "en"}
RESUME = {"/weiter": "de", "/fortsetzen": "de", "/resume": "en", "/continue": "en"}
RESULT = {"/ergebnis": "de", "/ergebnisse": "de", "/result": "en", "/results": "en"}
BACK = {"zurück", "zurueck", "back", "<"}
SKIP = {"überspringen", "ueberspringen", "skip", "-"}
PAUSE = {"pause", "später", "spaeter", "later"}
CANCEL = {"abbrechen", "cancel", "abbruch", "stop"}
HELP = {"hilfe", "help", "?"}
KEEP = {"behalten", "keep", "=", "unverändert", "unchanged"}  # a dialog that changes an entry: the earlier answer
SAVE = {"speichern", "save", "ja", "j", "yes", "y", "1", "ok", "okay", "passt", "fertig", "done", "jawohl", "👍"}
DONE = {"fertig", "done", "keine", "keine weiteren", "nein", "no", "ende", "finished", "das wars", "das war's"}
NAME_LIMIT = 120
# a button's value: "<dialog>.<answers before the question>:<value>" (older buttons: without the dialog)
BUTTON = re.compile(r"(?:([0-9]+)\.)?([0-9]+):(.*)", re.DOTALL)
QUESTION_WORDS = re.compile(
    r"^(wie|was|warum|wieso|weshalb|wann|welche[rsnm]?|wer|wo|wozu|wofür|wofuer|how|what|why|when|which|who|where|"
    r"is|are|does|do|should|can|kann|können|koennen|sollte[n]?|muss|müssen|gibt es|ist|sind)\b",
    re.IGNORECASE,
)
NEW_RUN = {"neu", "new", "restart", "neustart"}
# "weiß ich nicht", "keine Ahnung", "k. A.", "don't know": no answer, never stored as one — an optional
# question is skipped, a required one asks for an estimate or a pause
UNKNOWN = re.compile(
    r"(?:(?:das |ich )?wei(?:ss|s) (?:ich |man )?(?:es |das )?(?:noch |leider |gerade )?nicht(?: genau)?|"
    r"keine ahnung|k\.? ?a\.?|keine angabe|unbekannt|(?:noch )?unklar|(?:noch )?offen|kann ich nicht sagen|"
    r"(?:i )?(?:do not|don't|dont) know|no idea|unknown|not sure|(?:still )?unclear|n/?a|tbd)",
    re.IGNORECASE,
)
# typed with a slash inside a dialog ("/pause", "/hilfe") these still steer it; any other slash command is
# never taken as an answer (issue 21): the core answers the command, and the dialog waits
CONTROL = BACK | SKIP | PAUSE | CANCEL | HELP | KEEP | DONE


@dataclass(frozen=True)
class _Turn:
    """One message as the engine sees it: the word for commands, the text or button value as answer,
    and for a button the question it belongs to (how many answers came before it)."""

    text: str
    word: str
    asked_after: int | None = None
    dialog: int | None = None

    @classmethod
    def of(cls, message: Incoming) -> _Turn:
        asked_after = dialog = None
        text = message.text
        if message.value is not None:
            text = message.value
            tagged = BUTTON.fullmatch(message.value)
            if tagged:
                dialog = id_number(tagged.group(1)) if tagged.group(1) else None
                asked_after, text = id_number(tagged.group(2)), tagged.group(3)
                if asked_after is None or (tagged.group(1) and dialog is None):  # no button of ours: too long
                    asked_after = -1  # answered as an earlier question's button
        text = text.strip()
        return cls(text, text.lower().lstrip("/").strip().rstrip(".!"), asked_after, dialog)


class Forms(Protocol):
    """Dialogs besides the catalog's assessments (pilot set-up and feedback): their specs are built at
    run time, and finishing one stores a record of their own instead of an assessment result."""

    def owns(self, assessment_id: str) -> bool:
        """Whether a dialog id is one of these forms' (cheap: no spec is built)."""

    def spec(self, assessment_id: str) -> AssessmentSpec | None: ...

    def check(self, row: DialogRow, spec: AssessmentSpec, flow: Flow, at: Position, value, language: str) -> None:
        """Raise InvalidAnswer when a parsed answer does not fit what came before (the question is asked
        again with the hint)."""

    def finish(self, store: DialogStore, row: DialogRow, trail: list, answers: dict, language: str) -> Reply: ...

    def previous(self, row: DialogRow, spec: AssessmentSpec, path: str) -> tuple[bool, object]:
        """(True, value) if the question at `path` has an earlier answer that "behalten" keeps (a dialog
        that changes a stored entry); (False, None) otherwise."""

    # optional: `draft(spec, answers, language) -> str | None` — what will be stored, shown with a Save
    # button once every question is answered (a pilot, a register entry); None finishes at once


class DialogEngine:
    """Start, continue and finish assessments. `handle` returns None when a message is not for it."""

    def __init__(self, db: Database, catalog: Catalog, results: Results, forms: Forms | None = None) -> None:
        self.catalog = catalog
        self.store = DialogStore(db)
        self.results = results
        self.forms = forms
        # answers a question typed where a choice, rating, yes/no or number is asked (the app sets it: the
        # guide's answer); the open question is then asked again below it
        self.aside: Callable[[Incoming, str], Reply | None] | None = None
        # a request in plain words typed there (the app sets it): (what to say, a button to switch, or None)
        self.interrupt: Callable[[Incoming, str], tuple[str, Choice | None] | None] | None = None

    def spec(self, assessment_id: str) -> AssessmentSpec | None:
        spec = self.catalog.get(assessment_id)
        if spec is None and self.forms is not None:
            spec = self.forms.spec(assessment_id)
        return spec

    # -- entry point --------------------------------------------------------------------------

    def route(self) -> Route:
        """The running assessment takes every message (its answers, buttons included) but the typed commands,
        and /check, /weiter, /ergebnis start, resume and show one; anything else passes (None)."""
        return Route(
            "dialog",
            lambda turn, language: self.handle(turn.message, language),
            language="turn",
            help="help_check",
            also=frozenset({*CHECK, *RESUME, *RESULT}),
            direct=frozenset({*CHECK, *RESUME}),
        )

    def handle(self, message: Incoming, language: str) -> Reply | None:
        text = message.text.strip()
        if text.startswith("/") and message.value is None:
            command, _, argument = text.partition(" ")
            command = command.lower()
            if command in CHECK:
                word = argument.strip().lower()
                if word in CANCEL | PAUSE and self.store.active(message.conversation_key) is not None:
                    return self.handle(replace(message, text=word), language)  # "/check abbrechen": the running one
                return self.check(message, argument.strip(), CHECK[command] or language)
            if command in RESUME:
                return self.resume(message, RESUME[command])
            if command in RESULT:
                return self.results.show(argument.strip(), message.scope, RESULT[command])
            if _Turn.of(message).word not in CONTROL:
                return None  # a command, not an answer
        for _attempt in range(3):
            row = self.store.active(message.conversation_key)
            if row is None and message.value is not None:  # a button of a dialog that is not (or no longer) ours
                return Reply(i18n.text("dialog_no_running", language), language, answered=False, mode="dialog")
            if row is None:
                return None
            try:
                return self._step(row, _Turn.of(message), message)
            except StaleDialog:
                log.info("dialog %s was saved by another process meanwhile; reloading", row.id)
        return Reply(i18n.text("dialog_busy", language), language, answered=False, mode="dialog")

    def waiting(self, message: Incoming, language: str) -> str | None:
        """A line saying that the conversation's dialog is still open and how to go on, or None."""
        row = self.store.active(message.conversation_key)
        spec = self.spec(row.assessment) if row is not None else None
        if spec is None:
            return None
        return i18n.text("dialog_waiting", language, title=spec.title.get(language))

    # -- commands outside a dialog --------------------------------------------------------------

    def check(self, message: Incoming, argument: str, language: str) -> Reply:
        words = argument.split()
        if words and words[-1].lower() in ("de", "en"):
            language = words.pop().lower()
        restart = bool(words) and words[-1].lower() in NEW_RUN
        if restart:
            words.pop()
        name = " ".join(words)
        if not name:
            return self.overview(message, language)
        spec = self.catalog.find(name)
        if spec is None:
            return Reply(i18n.text("dialog_unknown", language, name=name), language, answered=False, mode="dialog")
        return self.begin(message, spec, language, restart)

    def begin(
        self, message: Incoming, spec: AssessmentSpec, language: str, restart: bool = False, intro: str | None = None
    ) -> Reply:
        """Start `spec` in the message's conversation, or continue its open run unless `restart`."""
        key = message.conversation_key
        paused = next((r for r in self.store.paused(key) if r.assessment == spec.id), None)
        active = self.store.active(key)
        if not restart and active is not None and active.assessment == spec.id:
            return self._ask(spec, active, prefix=i18n.text("dialog_already_running", active.language))
        if not restart and paused is not None:
            paused = self.store.resume(paused)
            return self._ask(spec, paused, prefix=self._resumed(spec, paused))
        row = self.store.start(key, spec.id, spec.version, language, message.user, message.scope)
        intro = intro or i18n.text(
            "dialog_started", language, title=spec.title.get(language), summary=spec.summary.get(language)
        )
        return self._ask(spec, row, prefix=intro)

    def overview(self, message: Incoming, language: str) -> Reply:
        lines = [i18n.text("dialog_list", language)]
        for number, spec in enumerate(self.catalog, 1):
            lines.append(f"  {number}. {spec.title.get(language)} – {spec.summary.get(language)}")
        lines.append(i18n.text("dialog_list_start", language))
        lines.extend(self.unfinished(message.conversation_key, language))
        return Reply("\n".join(lines), language, mode="dialog")

    def unfinished(self, conversation: str, language: str) -> list[str]:
        """One line per started but unfinished assessment of a conversation, with how to continue."""
        rows = [r for r in [self.store.active(conversation)] if r] + self.store.paused(conversation)
        lines = []
        for row in rows:
            spec = self.spec(row.assessment)
            if spec is not None:
                count = len(json.loads(row.trail))
                lines.append(i18n.text("dialog_list_open", language, title=spec.title.get(language), count=count))
        return lines

    def resume(self, message: Incoming, language: str) -> Reply:
        key = message.conversation_key
        row = self.store.active(key) or next(iter(self.store.paused(key)), None)
        spec = self.spec(row.assessment) if row else None
        if row is None or spec is None:
            return Reply(i18n.text("dialog_nothing_to_resume", language), language, answered=False, mode="dialog")
        if row.status == PAUSED:
            row = self.store.resume(row)
        return self._ask(spec, row, prefix=self._resumed(spec, row))

    def _resumed(self, spec: AssessmentSpec, row: DialogRow) -> str:
        count = len(json.loads(row.trail))
        return i18n.text("dialog_resumed", row.language, title=spec.title.get(row.language), count=count)

    # -- one step ------------------------------------------------------------------------------

    def _load(self, spec: AssessmentSpec, row: DialogRow) -> tuple[list[Entry], str | None] | None:
        """The dialog's answers, moved by step id if the file changed since it started (with a notice);
        None if they no longer fit at all."""
        trail = [Entry.from_json(e) for e in json.loads(row.trail)]
        if row.spec_version == spec.version and fits(spec, trail):
            return trail, None
        moved, dropped = realign(spec, trail)
        try:
            Flow(spec, moved, row.language).current()
        except (IndexError, KeyError, AttributeError, TypeError):
            return None
        self.store.save(row, _dump(moved), version=spec.version)
        row.revision, row.spec_version = row.revision + 1, spec.version
        return moved, i18n.text("dialog_file_changed", row.language, dropped=dropped)

    def _gone(self, row: DialogRow, spec: AssessmentSpec | None) -> Reply:
        """The assessment was removed, or changed so that the answers no longer fit: end the run."""
        self.store.save(row, json.loads(row.trail), CANCELLED)
        language = row.language
        if spec is None:
            return Reply(i18n.text("dialog_gone", language, name=row.assessment), language, answered=False)
        text = i18n.text("dialog_changed", language, title=spec.title.get(language), id=self.catalog.number(spec.id))
        return Reply(text, language, answered=False, mode="dialog")

    def _step(self, row: DialogRow, turn: _Turn, message: Incoming | None = None) -> Reply:
        language = row.language
        spec = self.spec(row.assessment)
        loaded = self._load(spec, row) if spec is not None else None
        if loaded is None:
            return self._gone(row, spec)
        trail, notice = loaded
        at = Flow(spec, trail, language).current()
        if at is None and self._summary(spec, trail, language) is None:  # answered to the end, not finished
            return self._finish(spec, row, trail)
        if notice:
            return self._ask(spec, row, trail, prefix=notice)
        if turn.asked_after is not None and (turn.asked_after != len(trail) or turn.dialog not in (None, row.id)):
            return self._ask(spec, row, trail, prefix=i18n.text("dialog_old_button", language), answered=False)
        word = turn.word
        if word in BACK:
            if not trail:
                return self._ask(spec, row, trail, prefix=i18n.text("dialog_at_start", language))
            trail.pop()
            self.store.save(row, _dump(trail))
            return self._ask(spec, row, trail)
        if word in CANCEL:
            self.store.save(row, _dump(trail), CANCELLED)
            key = "dialog_cancelled" if self.catalog.get(spec.id) is not None else "dialog_cancelled_form"
            text = i18n.text(key, language, title=spec.title.get(language))
            return Reply(text, language, mode="dialog")
        if word in PAUSE:
            self.store.save(row, _dump(trail), PAUSED)
            return Reply(i18n.text("dialog_paused", language, title=spec.title.get(language)), language, mode="dialog")
        if word in HELP:
            return self._ask(spec, row, trail, prefix=i18n.text("dialog_help", language))
        if at is None:  # every question answered: the summary waits for "speichern"
            if word in SAVE:
                return self._finish(spec, row, trail)
            return self._ask(spec, row, trail, prefix=i18n.text("dialog_confirm_hint", language), answered=False)
        try:
            kept = self.forms.previous(row, spec, step_path(spec, at)) if turn.word in KEEP and self.forms else None
            value = kept[1] if kept and kept[0] else self._value(spec, trail, at, turn, language)
            if value is not None and self.forms is not None and self.catalog.get(spec.id) is None:
                self.forms.check(row, spec, Flow(spec, trail, language), at, value, language)
        except InvalidAnswer as problem:
            metrics.DIALOG_STEPS.labels("invalid").inc()
            typed = message is not None and message.value is None
            if typed and self.interrupt is not None and (asked := self.interrupt(message, language)) is not None:
                said, switch = asked  # a read was run (its text), or another action is offered as a button
                again = self._ask(spec, row, trail, prefix=i18n.text("dialog_after_aside", language))
                if switch is not None and again.question is not None:
                    again = replace(again, question=replace(again.question, choices=[*again.question.choices, switch]))
                return replace(again, text=f"{said}\n\n{again.text}")
            if (
                self.aside
                and message
                and message.value is None
                and _asks_something(turn.text)
                and (aside := self.aside(message, language))
            ):
                again = self._ask(spec, row, trail, prefix=i18n.text("dialog_after_aside", language))
                return replace(again, text=f"{aside.text}\n\n{again.text}", citations=aside.citations,
                               language=again.language)  # fmt: skip
            return self._ask(spec, row, trail, prefix=problem.hint, answered=False)
        metrics.DIALOG_STEPS.labels("answered").inc()
        trail.append(Entry(at, value, step_path(spec, at)))
        if Flow(spec, trail, language).current() is None and self._summary(spec, trail, language) is None:
            return self._finish(spec, row, trail)
        self.store.save(row, _dump(trail))
        note = None  # a form may say something about the answer now, not only when it is saved
        if self.forms is not None and self.catalog.get(spec.id) is None and hasattr(self.forms, "note"):
            note = self.forms.note(spec, Flow(spec, trail, language), at, value, language)
        return self._ask(spec, row, trail, prefix=note)

    def _value(self, spec: AssessmentSpec, trail: list[Entry], at: Position, turn: _Turn, language: str):
        flow = Flow(spec, trail, language)
        step = flow.step_at(at)
        top, item, sub = at
        if isinstance(step, RepeatStep) and sub is None:  # the name of the next item
            if turn.word in DONE or turn.word in SKIP:
                named = len(flow.items(top))
                if named < step.min_items:
                    raise InvalidAnswer(
                        i18n.text("dialog_min_items", language, count=step.min_items, item=step.item.get(language))
                    )
                return None
            if not turn.text or len(turn.text) > NAME_LIMIT:
                raise InvalidAnswer(i18n.text("dialog_hint_name", language, limit=NAME_LIMIT))
            if unknown(turn.text):
                raise InvalidAnswer(i18n.text("dialog_unknown_required", language))
            if re.fullmatch(r"[\d.,\s]+", turn.text):  # "2" is a rating typed too early, not a system's name
                raise InvalidAnswer(i18n.text("dialog_hint_name_number", language, item=step.item.get(language)))
            return turn.text
        if turn.word in SKIP:
            if not step.optional:
                raise InvalidAnswer(i18n.text("dialog_not_optional", language))
            return None
        if unknown(turn.text) and not (isinstance(step, ChoiceStep) and _is_choice(step, turn.text, language)):
            if not step.optional:
                estimate = isinstance(step, NumberStep | RatingStep)  # an estimate helps only where a figure is asked
                raise InvalidAnswer(
                    i18n.text("dialog_unknown_estimate" if estimate else "dialog_unknown_required", language)
                )
            return None
        if step.optional and isinstance(step, TextStep) and turn.word in DONE:
            return None  # "fertig" at "Kurze Notiz zu SAP ERP? (optional)": no note, not the note "fertig"
        return parse(step, turn.text, language)

    def _summary(self, spec: AssessmentSpec, trail: list[Entry], language: str) -> str | None:
        """What a form will store, to be confirmed before it is (None: a form that stores at once)."""
        if self.forms is None or self.catalog.get(spec.id) is not None or not hasattr(self.forms, "draft"):
            return None
        return self.forms.draft(spec, Flow(spec, trail, language).final_answers(), language)

    def _finish(self, spec: AssessmentSpec, row: DialogRow, trail: list[Entry]) -> Reply:
        answers = Flow(spec, trail, row.language).final_answers()
        if self.catalog.get(spec.id) is None and self.forms is not None:
            return self.forms.finish(self.store, row, _dump(trail), answers, row.language)
        outcome = self.catalog.score(spec, answers, row.language)
        result_id = self.store.finish(row, _dump(trail), answers, outcome.metric_values)
        return self.results.present(spec, result_id, row.language, done=True, outcome=outcome)

    # -- rendering a question ------------------------------------------------------------------

    def _ask(
        self,
        spec: AssessmentSpec,
        row: DialogRow,
        trail: list[Entry] | None = None,
        prefix: str | None = None,
        answered: bool = True,
    ) -> Reply:
        language = row.language
        if trail is None:
            loaded = self._load(spec, row)
            if loaded is None:
                return self._gone(row, spec)
            trail, notice = loaded
            prefix = "\n\n".join(x for x in (prefix, notice) if x) or None
        flow = Flow(spec, trail, language)
        at = flow.current()
        if at is None:
            summary = self._summary(spec, trail, language)
            if summary is None:
                return self._finish(spec, row, trail)
            tag = f"{row.id}.{len(trail)}"
            save = Choice(f"{tag}:save", i18n.text("dialog_save_button", language))
            progress = i18n.text("dialog_progress_summary", language)
            question = Question(spec.id, "_save", "choice", [save], False, True, progress, tag, text=summary)
            parts = (prefix, i18n.text("dialog_summary", language), summary, i18n.text("dialog_confirm", language))
            text = "\n\n".join(x for x in parts if x)
            return Reply(text, language, answered=answered, mode="dialog", question=question)
        question, text = self._question(spec, flow, at, language, bool(trail), f"{row.id}.{len(trail)}")
        return Reply(
            "\n\n".join(x for x in (prefix, text) if x), language, answered=answered, mode="dialog", question=question
        )

    def _question(self, spec: AssessmentSpec, flow: Flow, at: Position, language: str, can_go_back: bool, tag: str):
        top, item, sub = at
        step = flow.step_at(at)
        if isinstance(step, RepeatStep) and sub is None:
            prompt = step.more_prompt if item and step.more_prompt else step.name_prompt
            allowed_done = len(flow.items(top)) >= step.min_items
            done = Choice(f"{tag}:done", i18n.text("dialog_done_button", language))
            choices = [done] if allowed_done else []
            progress = i18n.text("dialog_progress_new_item", language, item=step.item.get(language), number=item + 1)
            progress = _of_all(spec, top, language, progress)
            text = prompt.get(language)
            question = Question(spec.id, step.id, "name", choices, allowed_done, can_go_back, progress, tag, text=text)
            return question, text
        name = flow.item_context(top, item).get("name", "") if item is not None else ""
        text = step.text.get(language).replace("{item}", name)
        if step.hint:
            text += "\n" + step.hint.get(language)
        if item is not None:
            block = spec.steps[top]
            progress = i18n.text(
                "dialog_progress_item", language, item=block.item.get(language), number=item + 1, name=name
            )
            progress = _of_all(spec, top, language, progress)
        else:
            progress = _of_all(spec, top, language)
        choices = [Choice(f"{tag}:{c.value}", c.label) for c in _choices(step, language)]
        question = Question(spec.id, step.id, step.type, choices, step.optional, can_go_back, progress, tag, text=text)
        return question, text


def _of_all(spec: AssessmentSpec, top: int, language: str, within: str | None = None) -> str:
    """ "Frage 3 von 11"; a list's questions say where they stand in it too ("Frage 11 von 11 · KPI 1:
    Suchzeit"): a list counts as one question of a dialog that has others, so "Frage 10 von 10" is
    never followed by more. A dialog that is one list counts its items only ("System 2: ERP")."""
    if within is not None and len(spec.steps) == 1:
        return within
    progress = i18n.text("dialog_progress", language, number=top + 1, total=len(spec.steps))
    return f"{progress} · {within}" if within else progress


def _choices(step, language: str) -> list[Choice]:
    if isinstance(step, YesNoStep):
        return [Choice("yes", i18n.text("dialog_yes", language)), Choice("no", i18n.text("dialog_no", language))]
    if isinstance(step, ChoiceStep):
        return [Choice(o.value, o.label.get(language)) for o in step.choices]
    if isinstance(step, RatingStep):
        return [Choice(str(n), str(n)) for n in range(step.min, step.max + 1)]
    return []


def _dump(trail: list[Entry]) -> list:
    return [e.to_json() for e in trail]


__all__ = ["ACTIVE", "DialogEngine"]


def _is_choice(step: ChoiceStep, text: str, language: str) -> bool:
    try:
        parse(step, text, language)
    except InvalidAnswer:
        return False
    return True


def unknown(text: str) -> bool:
    """ "Weiß ich nicht.", "keine Ahnung", "k. A.", "don't know" — the user has no answer."""
    return UNKNOWN.fullmatch(text.strip().lower().replace("ß", "ss").replace("’", "'").rstrip(".!… ")) is not None


def _asks_something(text: str) -> bool:
    """A typed question (three words or more, a question mark or a question word first), not an answer."""
    words = text.split()
    return len(words) >= 3 and (text.rstrip().endswith("?") or bool(QUESTION_WORDS.match(text.strip())))
