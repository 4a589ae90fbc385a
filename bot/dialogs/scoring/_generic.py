"""The result of an assessment without a scoring function: its answers."""

from __future__ import annotations

from typing import Any

from bot.dialogs.outcome import Outcome, yes_no
from bot.dialogs.spec import AssessmentSpec, RepeatStep


def generic(spec: AssessmentSpec, answers: dict[str, Any], language: str) -> Outcome:
    """For an assessment without a scoring function: the answers, one line each."""
    lines, rows = [], []
    for step in spec.steps:
        if isinstance(step, RepeatStep):
            for item in answers.get(step.id, []):
                for inner in step.steps:
                    if inner.id in item:
                        lines.append(f"{item['name']} – {inner.id}: {_show(item[inner.id], language)}")
                        rows.append([item["name"], inner.id, item[inner.id]])
        elif step.id in answers:
            lines.append(f"{step.text.get(language)} {_show(answers[step.id], language)}")
            rows.append(["", step.id, answers[step.id]])
    return Outcome(headline=spec.title.get(language), lines=lines, columns=["item", "question", "answer"], rows=rows)


def _show(value: Any, language: str) -> str:
    return yes_no(value, language) if isinstance(value, bool) or value is None else str(value)
