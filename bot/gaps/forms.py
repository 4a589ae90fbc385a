"""The dialog that puts an answer into the company FAQ (`config/gaps/answer.yaml`), run by the dialog
engine like any assessment. `faq_answer_12` answers gap group 12 — its question as asked is offered
("behalten" keeps it) —, `faq_answer_0` is a new entry of the knowledge owner's own. The last answer
stores the entry in the transaction that closes the dialog; then it is indexed, and the group is answered."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from bot.core import i18n
from bot.core.messages import Reply
from bot.dialogs.flow import Flow, Position
from bot.dialogs.inputs import InvalidAnswer
from bot.dialogs.spec import AssessmentSpec, L10n, parse_assessment
from bot.gaps.faq import LIMITS, CompanyFaq, FaqError, checked
from bot.gaps.store import GapLog
from bot.settings import PROJECT_ROOT
from bot.storage.dialogs import DialogStore
from bot.storage.models import DialogRow

log = logging.getLogger(__name__)
DIALOG_FILE = PROJECT_ROOT / "config" / "gaps" / "answer.yaml"
ANSWER_ID = re.compile(r"faq_answer_([0-9]+)")


def answer_id(group_id: int | None) -> str:
    return f"faq_answer_{group_id or 0}"


class GapForms:
    def __init__(self, gaps: GapLog, faq: CompanyFaq, names=None, path: Path = DIALOG_FILE) -> None:
        self.gaps = gaps
        self.faq = faq
        self.names = names  # user key → display name (cited with the answer)
        self.template = parse_assessment(path)
        if [s.id for s in self.template.steps] != ["question", "answer", "link"]:
            raise ValueError(f"{path}: steps must be question, answer, link")

    def owns(self, assessment_id: str) -> bool:
        return ANSWER_ID.fullmatch(assessment_id) is not None

    def _group(self, assessment_id: str):
        match = ANSWER_ID.fullmatch(assessment_id)
        return self.gaps.group(int(match.group(1))) if match and int(match.group(1)) else None

    def spec(self, assessment_id: str) -> AssessmentSpec | None:
        if not self.owns(assessment_id):
            return None
        group = self._group(assessment_id)
        steps = list(self.template.steps)
        if group is not None:  # the question as it was asked, offered to keep
            asked = group.example

            def text(language: str) -> str:
                return i18n.text("faq_question_asked", language, question=self.template.steps[0].text.get(language),
                                 asked=asked)  # fmt: skip

            steps[0] = steps[0].model_copy(update={"text": L10n(de=text("de"), en=text("en"))})
        return self.template.model_copy(update={"id": assessment_id, "steps": steps})

    def previous(self, row: DialogRow, spec: AssessmentSpec, path: str) -> tuple[bool, object]:
        group = self._group(row.assessment)
        if path == "question" and group is not None:
            return True, group.example
        return False, None

    def check(self, row: DialogRow, spec: AssessmentSpec, flow: Flow, at: Position, value, language: str) -> None:
        step = spec.steps[at[0]].id
        try:
            if step == "link" and value:
                checked("x", "x", str(value))
            elif step in ("question", "answer"):
                checked(str(value) if step == "question" else "x", str(value) if step == "answer" else "x")
        except FaqError as problem:
            raise InvalidAnswer(i18n.text(problem.key, language, **problem.values)) from None

    def finish(self, store: DialogStore, row: DialogRow, trail: list, answers: dict, language: str) -> Reply:
        key = f"{row.scope}:{row.author}"
        author = (self.names(key) if self.names else None) or row.author
        link = answers.get("link") or ""
        entry = store.finish_with(
            row, trail, lambda s: self.faq.insert(s, answers["question"], answers["answer"], link, author, key)
        )
        self.faq.index_entry(entry)
        group = self._group(row.assessment)
        if group is not None:
            self.gaps.set_state(group.id, "answered", faq_id=entry.id)
        return Reply(i18n.text("faq_added", language, question=entry.question, id=entry.id), language, mode="dialog")


__all__ = ["LIMITS", "GapForms", "answer_id"]
