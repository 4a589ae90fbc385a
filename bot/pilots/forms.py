"""The pilot dialogs, run by the dialog engine like any assessment: registering a pilot with its KPIs
(`config/pilots/setup.yaml`) and giving feedback on one (`config/pilots/feedback.yaml`, with one
question per KPI of the pilot added at run time). Finishing one stores a pilot or a feedback entry in
the same transaction that closes the dialog, so a repeated last answer stores nothing twice."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlalchemy import delete

from bot.core import i18n
from bot.core.commands import is_number
from bot.core.messages import Reply
from bot.dialogs.flow import Flow, Position
from bot.dialogs.inputs import InvalidAnswer
from bot.dialogs.spec import AssessmentSpec, L10n, NumberStep, RepeatStep, parse_assessment
from bot.pilots.store import Entry, Kpi, PilotStore
from bot.storage.dialogs import DialogStore
from bot.storage.models import DialogRow, KpiRow, PilotRow

SETUP = "pilot_setup"
SUBCOMMANDS = {
    "liste": "list", "list": "list", "neu": "new", "new": "new", "anlegen": "new", "zeige": "show", "show": "show",
    "feedback": "feedback", "rückmeldung": "feedback", "rueckmeldung": "feedback", "gruppe": "group",
    "group": "group", "meine": "mine", "mine": "mine", "ändern": "edit", "aendern": "edit", "edit": "edit",
    "zurückziehen": "withdraw", "zurueckziehen": "withdraw", "withdraw": "withdraw", "bericht": "report",
    "report": "report", "export": "export", "hilfe": "help", "help": "help", "setze": "set", "set": "set",
    "löschen": "delete", "loeschen": "delete", "delete": "delete",
}  # fmt: skip
RESERVED = frozenset(SUBCOMMANDS)  # the /pilot subcommands: no name may start with one
# pilot_feedback_12 (a user), pilot_group_12 (a champion for a group meeting), pilot_edit_12_<token> (changes
# the entry whose `store.edit_token` that is: the dialog row does not name the entry it changes)
FEEDBACK_ID = re.compile(r"pilot_(feedback|group|edit)_([0-9]+)(?:_([0-9a-f]{16}))?")


def number(value: float, language: str) -> str:
    """15 → "15", 2.5 → "2,5" (de) / "2.5" (en), 1500 → "1.500" / "1,500"."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text.translate(str.maketrans(",.", ".,")) if language == "de" else text


class PilotForms:
    def __init__(self, store: PilotStore, folder: Path) -> None:
        self.store = store
        self.setup = parse_assessment(folder / "setup.yaml")
        self.template = parse_assessment(folder / "feedback.yaml")

    # -- specs ---------------------------------------------------------------------------------

    def owns(self, assessment_id: str) -> bool:
        return assessment_id == SETUP or FEEDBACK_ID.fullmatch(assessment_id) is not None

    def spec(self, assessment_id: str) -> AssessmentSpec | None:
        if assessment_id == SETUP:
            return self.setup
        match = FEEDBACK_ID.fullmatch(assessment_id)
        if not match:
            return None
        kind, pilot_id, token = match.groups()
        pilot = self.store.get(int(pilot_id))
        if pilot is None:
            return None
        earlier = self.store.answers_of(self.store.entry_by_token(pilot.id, token)) if kind == "edit" else {}
        group = kind == "group" or earlier.get("group_size", 1) > 1
        return self.feedback_spec(assessment_id, pilot, self.store.kpis(pilot.id), group, earlier)

    def previous(self, row: DialogRow, spec: AssessmentSpec, path: str) -> tuple[bool, object]:
        match = FEEDBACK_ID.fullmatch(row.assessment)
        if not match or match.group(1) != "edit":
            return False, None
        earlier = self.store.answers_of(self.store.entry_by_token(int(match.group(2)), match.group(3)))
        if path in earlier:
            return True, earlier[path]
        skipped = any(step.id == path and getattr(step, "optional", False) for step in spec.steps)
        return (True, None) if skipped else (False, None)  # an optional question skipped before stays skipped

    def feedback_spec(
        self, assessment_id: str, pilot: PilotRow, kpis: list[KpiRow], group: bool, earlier: dict | None = None
    ) -> AssessmentSpec:
        """The feedback dialog for one pilot; `earlier` (changing an entry) shows each earlier answer."""
        steps = []
        for step in self.template.steps:
            if step.id == "group_size" and not group:
                continue
            if step.id == "anonymous" and (group or not pilot.anonymous):
                continue
            if step.id == "kpis":
                steps.extend(self._kpi_step(kpi) for kpi in kpis)
                continue
            if group and f"group_{step.id}" in self.template.texts:  # the group's question, not one person's
                step = step.model_copy(update={"text": self.template.texts[f"group_{step.id}"]})
            steps.append(step)
        if earlier:
            steps = [_with_earlier(step, earlier[step.id]) if step.id in earlier else step for step in steps]
        title = L10n(
            de=self.template.title.de.format(pilot=pilot.name), en=self.template.title.en.format(pilot=pilot.name)
        )
        return self.template.model_copy(update={"id": assessment_id, "title": title, "steps": steps})

    def _kpi_step(self, kpi: KpiRow) -> NumberStep:
        def text(language: str) -> str:
            baseline, target = number(kpi.baseline, language), number(kpi.target, language)
            return self.template.text(
                "kpi_question", language, kpi=kpi.name, unit=kpi.unit or "–", baseline=baseline, target=target
            )

        return NumberStep(id=f"kpi_{kpi.id}", type="number", optional=True, text=L10n(de=text("de"), en=text("en")))

    # -- checks while answering ----------------------------------------------------------------

    def check(self, row: DialogRow, spec: AssessmentSpec, flow: Flow, at: Position, value, language: str) -> None:
        if spec.id != SETUP:
            return
        top, item, sub = at
        step = spec.steps[top]
        if isinstance(step, RepeatStep):
            if sub is None:
                names = [i.get("name", "").lower() for i in flow.items(top).values()]
                if str(value).lower() in names:
                    raise InvalidAnswer(i18n.text("pilot_kpi_twice", language, name=value))
                return
            if step.steps[sub].id == "target":
                context = flow.item_context(top, item)
                target = target_value(value, context["baseline"])
                if target < 0 <= context["baseline"]:
                    raise InvalidAnswer(i18n.text("pilot_target_negative", language, value=number(target, language)))
                if (target > context["baseline"]) != (context["direction"] == "higher") or target == context[
                    "baseline"
                ]:
                    better = i18n.text("pilot_direction_" + context["direction"], language)
                    raise InvalidAnswer(
                        i18n.text(
                            "pilot_target_side", language, better=better, baseline=number(context["baseline"], language)
                        )
                    )
            return
        if step.id == "name":
            first = str(value).split()[0].lower()
            if is_number(first) or first in RESERVED:  # `/pilot 2`, `/pilot gruppe …` would not reach it
                raise InvalidAnswer(i18n.text("pilot_name_reserved", language, word=str(value).split()[0]))
            if self.store.name_taken(row.scope, str(value)):
                raise InvalidAnswer(i18n.text("pilot_name_taken", language, name=value))
        if step.id == "end" and date.fromisoformat(value) <= date.fromisoformat(flow.answers["start"]):
            raise InvalidAnswer(i18n.text("pilot_end_before_start", language))

    # -- finishing -----------------------------------------------------------------------------

    def finish(self, store: DialogStore, row: DialogRow, trail: list, answers: dict, language: str) -> Reply:
        user_key = f"{row.scope}:{row.author}"
        if row.assessment == SETUP:
            return self._register(store, row, trail, answers, user_key, language)
        kind, pilot_id, token = FEEDBACK_ID.fullmatch(row.assessment).groups()
        entry_id = self.store.entry_by_token(int(pilot_id), token) if kind == "edit" else None
        kpis = self.store.kpis(int(pilot_id))
        entry = Entry(
            satisfaction=int(answers["satisfaction"]),
            minutes_saved=answers.get("minutes_saved"),
            kpis={k.id: float(answers[f"kpi_{k.id}"]) for k in kpis if answers.get(f"kpi_{k.id}") is not None},
            works=answers.get("works"),
            not_working=answers.get("not_working"),
            comment=answers.get("comment"),
            anonymous=bool(answers.get("anonymous")),
            group_size=int(answers.get("group_size") or 1),
        )

        def write(session):
            if kind == "edit":
                saved = self.store.replace_entry(session, entry_id or 0, user_key, row.author, entry)
            else:
                saved = self.store.add_entry(
                    session, int(pilot_id), user_key, row.author, entry, dialog_id=row.id, language=language
                )
            if saved is not None and entry.anonymous:  # nothing may tie the entry to its author's dialog
                saved.dialog_id = None
                session.flush()
                session.execute(delete(DialogRow).where(DialogRow.id == row.id))
            return saved

        saved = store.finish_with(row, trail, write)
        if saved is None:
            return Reply(i18n.text("pilot_entry_gone", language), language, answered=False, mode="dialog")
        key = "pilot_feedback_changed" if kind == "edit" else "pilot_feedback_saved"
        anonymous = i18n.text("pilot_feedback_anonymous", language) if entry.anonymous else ""
        return Reply(i18n.text(key, language, number=saved.id, anonymous=anonymous), language, mode="dialog")

    def draft(self, spec: AssessmentSpec, answers: dict, language: str) -> str | None:
        """A new pilot as it will be saved, to confirm before it is; feedback is saved at once."""
        if spec.id != SETUP:
            return None
        from bot.pilots.texts import day_text, money  # texts imports this module

        def day(value: str) -> str:
            return day_text(date.fromisoformat(value), language)

        lines = [
            i18n.text(
                "pilot_summary",
                language,
                name=answers["name"],
                use_case=answers["use_case"],
                owner=answers["owner"],
                start=day(answers["start"]),
                end=day(answers["end"]),
                users=answers["users"],
                anonymous=i18n.text("dialog_yes" if answers["anonymous"] else "dialog_no", language),
                one_off=money(float(answers["one_off_cost"]), language),
                monthly=money(float(answers["monthly_cost"]), language),
                rate=money(float(answers["hourly_rate"]), language),
            )
        ]
        return "\n".join(lines + [kpi_line(k, language) for k in _kpis(answers)])

    def _register(self, store: DialogStore, row, trail, answers: dict, user_key: str, language: str) -> Reply:
        kpis = _kpis(answers)
        fields = dict(
            start=date.fromisoformat(answers["start"]),
            end=date.fromisoformat(answers["end"]),
            users=int(answers["users"]),
            use_case=answers["use_case"],
            owner=answers["owner"],
            anonymous=bool(answers["anonymous"]),
            one_off_cost=float(answers["one_off_cost"]),
            monthly_cost=float(answers["monthly_cost"]),
            hourly_rate=float(answers["hourly_rate"]),
            kpis=kpis,
        )
        pilot = store.finish_with(
            row, trail, lambda s: self.store.add_pilot(s, row.scope, answers["name"], user_key, **fields)
        )
        lines = [i18n.text("pilot_registered", language, name=pilot.name)]
        lines += [kpi_line(k, language) for k in kpis]
        lines.append(i18n.text("pilot_registered_next", language, name=pilot.name))
        return Reply("\n".join(lines), language, mode="dialog")


def _kpis(answers: dict) -> list[Kpi]:
    return [
        Kpi(
            name=k["name"],
            unit=k.get("unit") or "",
            direction=k["direction"],
            baseline=float(k["baseline"]),
            target=target_value(k["target"], k["baseline"]),
            target_change=float(k["target"][:-1]) if isinstance(k["target"], str) else None,
            method=k.get("method") or "",
        )
        for k in answers["kpis"]
    ]


def _with_earlier(step, value):
    """The question with its earlier answer and how to keep it."""

    def shown(language: str) -> str:
        if isinstance(value, bool):
            return i18n.text("dialog_yes" if value else "dialog_no", language)
        return number(value, language) if isinstance(value, int | float) else f"„{value}“"

    text = L10n(
        de=f"{step.text.de}\n{i18n.text('pilot_earlier', 'de', value=shown('de'))}",
        en=f"{step.text.en}\n{i18n.text('pilot_earlier', 'en', value=shown('en'))}",
    )
    return step.model_copy(update={"text": text})


def kpi_line(kpi, language: str) -> str:
    unit = f" {kpi.unit}" if kpi.unit else ""
    change = (kpi.target - kpi.baseline) / abs(kpi.baseline) * 100 if kpi.baseline else None
    change_text = f"{change:+.0f} %".replace("-", "−") if change is not None else "–"
    return i18n.text(
        "pilot_kpi_line",
        language,
        name=kpi.name,
        baseline=number(kpi.baseline, language) + unit,
        target=number(kpi.target, language) + unit,
        change=change_text,
        better=i18n.text("pilot_direction_" + kpi.direction, language),
    )


def target_value(value, baseline) -> float:
    """A target given as "-40%" is 40 % below the baseline."""
    if isinstance(value, str) and value.endswith("%"):  # rounded: −80 % of 15 is 3, not 2.999999999999999
        return round(float(baseline) * (1 + float(value[:-1]) / 100), 9)
    return float(value)
