"""The register's dialog, run by the dialog engine like any assessment: `/register neu` asks for one AI
application (`config/register/entry.yaml`). Finishing it stores the entry and its audit entry in the
same transaction that closes the dialog, so a repeated last answer stores nothing twice. The same
questions read the values of `/register setze` and `lotse register add`."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from bot.core import i18n
from bot.core.messages import Reply
from bot.dialogs.flow import Flow, Position
from bot.dialogs.inputs import InvalidAnswer, parse
from bot.dialogs.spec import AssessmentSpec, AssessmentSpecError, ChoiceStep, parse_assessment
from bot.register.store import FIELDS, RISK_CLASSES, STATUSES, RegisterStore
from bot.register.view import day, risk_label, status_label
from bot.settings import PROJECT_ROOT
from bot.storage.dialogs import CANCELLED, DialogStore
from bot.storage.models import DialogRow

ENTRY = "register_entry"
DIALOG_FILE = PROJECT_ROOT / "config" / "register" / "entry.yaml"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
SUBCOMMANDS = {
    "liste": "list", "list": "list", "neu": "new", "new": "new", "add": "new", "anlegen": "new",
    "hinzufügen": "new", "zeige": "show", "show": "show", "setze": "set", "set": "set", "ändern": "set",
    "aendern": "set", "löschen": "delete", "loeschen": "delete", "delete": "delete", "entfernen": "delete",
    "remove": "delete", "export": "export", "hilfe": "help", "help": "help",
}  # fmt: skip
RESERVED = frozenset(SUBCOMMANDS)  # the /register subcommands: no name may start with one


def load_dialog(path: Path = DIALOG_FILE) -> AssessmentSpec:
    """The dialog, checked: its steps are the register's fields, its choices the register's values."""
    spec = parse_assessment(path)
    ids = [step.id for step in spec.steps]
    if ids != ["name", *FIELDS]:
        raise AssessmentSpecError(
            f"{path}: steps must be {', '.join(['name', *FIELDS])} in this order, got {', '.join(ids)}"
        )
    for step_id, values in (("risk_class", RISK_CLASSES), ("status", STATUSES)):
        step = spec.steps[ids.index(step_id)]
        if not isinstance(step, ChoiceStep) or tuple(c.value for c in step.choices) != values:
            raise AssessmentSpecError(f"{path}: {step_id} must be a choice of {', '.join(values)}")
    return spec


def clean(text: str) -> str:
    """Text as the register keeps it: without control characters (PostgreSQL refuses NUL in text)."""
    return CONTROL.sub("", text).strip()


def read_value(spec: AssessmentSpec, field: str, text: str, language: str, today: date | None = None):
    """A value typed for `field`, read as the dialog reads it (a date as a `date`); raises InvalidAnswer
    with a hint in `language`."""
    step = next(s for s in spec.steps if s.id == field)
    if getattr(step, "optional", False) and text.strip().lower() in ("-", "–", "keine", "keins", "none"):
        return ""
    value = parse(step, clean(text) if step.type == "text" else text, language)
    if field == "next_review":
        value = date.fromisoformat(value)
        if value < (today or date.today()):
            raise InvalidAnswer(i18n.text("register_review_past", language))
    if field == "name":
        value = " ".join(value.split())
        first = value.split()[0].lower()
        if value.isdecimal() or first in RESERVED:  # `/register 2`, `/register zeige …` would not reach it
            raise InvalidAnswer(i18n.text("register_name_reserved", language, word=value.split()[0]))
    return value


class RegisterForms:
    def __init__(self, store: RegisterStore, path: Path = DIALOG_FILE) -> None:
        self.store = store
        self.dialog = load_dialog(path)

    def owns(self, assessment_id: str) -> bool:
        return assessment_id == ENTRY

    def spec(self, assessment_id: str) -> AssessmentSpec | None:
        return self.dialog if assessment_id == ENTRY else None

    def previous(self, row: DialogRow, spec: AssessmentSpec, path: str) -> tuple[bool, object]:
        return False, None

    def check(self, row: DialogRow, spec: AssessmentSpec, flow: Flow, at: Position, value, language: str) -> None:
        step = spec.steps[at[0]]
        if step.id == "name":
            name = read_value(spec, "name", str(value), language)
            if self.store.name_taken(name):
                raise InvalidAnswer(i18n.text("register_name_taken", language, name=name))
        if step.id == "next_review" and date.fromisoformat(value) < date.today():
            raise InvalidAnswer(i18n.text("register_review_past", language))

    def note(self, spec: AssessmentSpec, flow: Flow, at: Position, value, language: str) -> str | None:
        """The EU AI Act's word on a risk class as soon as it is chosen, not after the entry is saved; and
        a high risk without personal data is questioned (high-risk uses mostly concern people)."""
        if spec.steps[at[0]].id != "risk_class":
            return None
        lines = warnings(str(value), "", language)
        if value == "high" and flow.final_answers().get("personal_data") is False:
            lines.append(i18n.text("register_high_without_people", language))
        return "\n".join(lines) or None

    def draft(self, spec: AssessmentSpec, answers: dict, language: str) -> str:
        """The entry as it will be saved, to confirm before it is."""
        return draft_text(" ".join(clean(answers["name"]).split()), answers, language)

    def finish(self, store: DialogStore, row: DialogRow, trail: list, answers: dict, language: str) -> Reply:
        actor = f"{row.scope}:{row.author}"
        name = " ".join(clean(answers["name"]).split())
        fields = {field: answers.get(field) for field in FIELDS}
        fields.update((f, clean(fields[f] or "")) for f in ("purpose", "owner", "model", "provider", "data_sources"))
        fields["personal_data"] = bool(fields["personal_data"])
        fields["next_review"] = date.fromisoformat(fields["next_review"])
        try:
            entry = store.finish_with(row, trail, lambda s: self.store.add_entry(s, actor, name, **fields))
        except IntegrityError:  # the name was registered in another conversation meanwhile
            store.save(row, trail, CANCELLED)
            return Reply(i18n.text("register_name_taken", language, name=name), language, answered=False, mode="dialog")
        lines = [i18n.text("register_added", language, name=entry.name)]
        lines += warnings(entry.risk_class, entry.status, language)
        lines.append(i18n.text("register_added_next", language, name=entry.name))
        return Reply("\n".join(lines), language, mode="dialog")


def draft_text(name: str, answers: dict, language: str) -> str:
    """The entry as it will be saved (the labels as `/register zeige` shows them)."""
    fields = {f: clean(answers.get(f) or "") or "–" for f in ("purpose", "owner", "model", "provider", "data_sources")}
    return i18n.text(
        "register_draft",
        language,
        name=name,
        **fields,
        personal_data=i18n.text("dialog_yes" if answers.get("personal_data") else "dialog_no", language),
        risk=risk_label(answers["risk_class"], language),
        status=status_label(answers["status"], language),
        review=day(date.fromisoformat(answers["next_review"]), language),
    )  # the risk class's warning came when it was chosen, and comes again with the saving


def warnings(risk_class: str, status: str, language: str) -> list[str]:
    """What the EU AI Act says to an entry's risk class, where it asks for more than the register."""
    if risk_class == "prohibited" and status != "retired":
        return [i18n.text("register_warn_prohibited", language)]
    if risk_class == "high" and status != "retired":
        return [i18n.text("register_warn_high", language)]
    return []
