"""The 90-day plan as data (`config/plan.yaml`): weeks with their tasks, what "done" means and the
Lotse action that belongs to them; the quarterly review and the feedback reminder of the pilot weeks.
A broken file stops Lotse with a message naming the file, the field and the problem."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ASSESSMENTS = ("readiness", "systems", "data_quality", "skills", "use_cases", "risks")


class PlanSpecError(ValueError):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    de: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.de


class TaskSpec(_Strict):
    id: str = Field(pattern=r"^\d{1,2}\.\d{1,2}$")
    de: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)

    def text(self, language: str) -> str:
        return self.en if language == "en" else self.de


class Action(_Strict):
    kind: Literal["assessment", "feedback", "roi", "roadmap"]
    id: str | None = None

    @model_validator(mode="after")
    def _assessment_id(self) -> Action:
        if self.kind == "assessment" and self.id not in ASSESSMENTS:
            raise ValueError(f"an assessment action needs id: one of {', '.join(ASSESSMENTS)} (got {self.id!r})")
        return self


class WeekSpec(_Strict):
    week: int = Field(ge=1, le=52)
    phase: Text
    title: Text
    tasks: list[TaskSpec] = Field(min_length=1)
    done: Text
    action: Action | None = None

    @model_validator(mode="after")
    def _task_ids(self) -> WeekSpec:
        for task in self.tasks:
            if int(task.id.split(".")[0]) != self.week:
                raise ValueError(f"task {task.id} is listed under week {self.week}")
        return self


class Quarterly(_Strict):
    title: Text
    text: Text
    assessments: list[str] = Field(default_factory=list)


class Feedback(_Strict):
    weeks: list[int] = Field(default_factory=list)
    days_after_nudge: int = Field(default=2, ge=0, le=4)
    title: Text
    text: Text


class PlanSpec(_Strict):
    weeks: list[WeekSpec] = Field(min_length=1)
    quarterly: Quarterly
    feedback: Feedback

    @model_validator(mode="after")
    def _consistent(self) -> PlanSpec:
        numbers = [w.week for w in self.weeks]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"weeks must be numbered 1, 2, 3 … in order (got {numbers})")
        ids = [t.id for w in self.weeks for t in w.tasks]
        if len(ids) != len(set(ids)):
            raise ValueError("task ids must be unique")
        if unknown := [w for w in self.feedback.weeks if w not in numbers]:
            raise ValueError(f"feedback.weeks names weeks the plan does not have: {unknown}")
        if unknown := [a for a in self.quarterly.assessments if a not in ASSESSMENTS]:
            raise ValueError(f"quarterly.assessments: unknown assessments {unknown}")
        return self

    @property
    def length(self) -> int:
        return len(self.weeks)

    @cached_property
    def tasks(self) -> dict[str, tuple[int, TaskSpec]]:
        """Task id → (week, task)."""
        return {t.id: (w.week, t) for w in self.weeks for t in w.tasks}

    def week(self, number: int) -> WeekSpec:
        return self.weeks[number - 1]


def load_plan(path: Path) -> PlanSpec:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanSpecError(f"{path}: the plan file is missing (set LOTSE_PLAN_FILE, or restore it)") from None
    except yaml.YAMLError as exc:
        raise PlanSpecError(f"{path}: not valid YAML: {exc}") from None
    try:
        return PlanSpec.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise PlanSpecError(f"{path}: {problems}") from None
