"""Helpers shared by the scoring functions."""

from __future__ import annotations

from bot.dialogs.spec import AssessmentSpec, RepeatStep


def steps_of(spec: AssessmentSpec, block: str | None = None) -> list:
    if block is None:
        return [s for s in spec.steps if not isinstance(s, RepeatStep)]
    return next(s for s in spec.steps if s.id == block).steps
