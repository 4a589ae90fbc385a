"""Several `Forms` (dialogs that are not catalog assessments) behind one object for the engine."""

from __future__ import annotations

from bot.core.messages import Reply
from bot.dialogs.engine import Forms
from bot.dialogs.flow import Flow, Position
from bot.dialogs.spec import AssessmentSpec
from bot.storage.dialogs import DialogStore
from bot.storage.models import DialogRow


class FormSet:
    def __init__(self, *forms: Forms) -> None:
        self.forms = forms

    def _owner(self, assessment_id: str) -> Forms | None:
        return next((f for f in self.forms if f.owns(assessment_id)), None)

    def owns(self, assessment_id: str) -> bool:
        return self._owner(assessment_id) is not None

    def spec(self, assessment_id: str) -> AssessmentSpec | None:
        owner = self._owner(assessment_id)
        return owner.spec(assessment_id) if owner is not None else None

    def check(self, row: DialogRow, spec: AssessmentSpec, flow: Flow, at: Position, value, language: str) -> None:
        owner = self._owner(spec.id)
        if owner is not None:
            owner.check(row, spec, flow, at, value, language)

    def note(self, spec: AssessmentSpec, flow: Flow, at: Position, value, language: str) -> str | None:
        """What to say about an accepted answer before the next question (a form may have nothing)."""
        owner = self._owner(spec.id)
        said = getattr(owner, "note", None)
        return said(spec, flow, at, value, language) if said is not None else None

    def finish(self, store: DialogStore, row: DialogRow, trail: list, answers: dict, language: str) -> Reply:
        return self._owner(row.assessment).finish(store, row, trail, answers, language)

    def previous(self, row: DialogRow, spec: AssessmentSpec, path: str) -> tuple[bool, object]:
        owner = self._owner(spec.id)
        return owner.previous(row, spec, path) if owner is not None else (False, None)

    def draft(self, spec: AssessmentSpec, answers: dict, language: str) -> str | None:
        """What a form will store, confirmed before it is (a form without a summary stores at once)."""
        owner = self._owner(spec.id)
        summarised = getattr(owner, "draft", None)
        return summarised(spec, answers, language) if summarised is not None else None
