"""The YAML schema of an assessment (`config/assessments/*.yaml`), checked when Lotse starts.

An assessment is a list of steps. A step asks one thing — yes/no, one of several choices, a rating,
a number or free text — or is a `repeat` block that asks its own steps once per item (one block per
system, data source, use case …). Items are either named by the user or preset in the file; presets
may carry attributes that pre-answer steps of the same id. `when` asks a step only if earlier answers
(in the same item, or at the top level) have the given values.

Example::

    id: readiness
    title: {de: KI-Bereitschaft, en: AI readiness}
    summary: {de: Vier Ja/Nein-Fragen, en: Four yes/no questions}
    scoring: readiness
    steps:
      - id: databases_api
        type: yesno
        text: {de: Haben Sie strukturierte Datenbanken mit APIs?, en: Do you have structured databases with APIs?}
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=48)]
Scalar = bool | int | str


_STEP_TYPES = ("yesno", "choice", "rating", "number", "text", "date", "repeat")


class Ranking(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str  # the column naming an item (a source, a use case)
    score: str  # the numeric column ranking them; higher is more (better data, higher priority, bigger risk)


class AssessmentSpecError(ValueError):
    """An assessment file is not usable; the message names the file, the field and what is wrong."""


class L10n(BaseModel):
    """A text in German and English (both required: Lotse answers in the user's language)."""

    model_config = ConfigDict(extra="forbid")
    de: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.de


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Identifier
    text: L10n
    hint: L10n | None = None
    optional: bool = False
    when: dict[str, Scalar] | None = None


class YesNoStep(_Step):
    type: Literal["yesno"]


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Identifier
    label: L10n


class ChoiceStep(_Step):
    type: Literal["choice"]
    choices: list[Option] = Field(min_length=2, max_length=12)

    @model_validator(mode="after")
    def _unique_values(self) -> ChoiceStep:
        values = [c.value for c in self.choices]
        if len(set(values)) != len(values):
            raise ValueError(f"choice values must be unique, got {values}")
        return self


class RatingStep(_Step):
    type: Literal["rating"]
    min: int = 1
    max: int = 5

    @model_validator(mode="after")
    def _range(self) -> RatingStep:
        if not self.min < self.max <= self.min + 10:
            raise ValueError(f"rating needs min < max ≤ min + 10, got {self.min}..{self.max}")
        return self


class NumberStep(_Step):
    type: Literal["number"]
    min: float | None = None
    max: float | None = None
    integer: bool = False
    unit: L10n | None = None
    percent: bool = False  # "-40 %" (signed) is also an answer: a change in per cent, kept as the text "-40%"
    minutes: bool = False  # a duration in minutes: "2 Std" / "1,5 h" are converted


class TextStep(_Step):
    type: Literal["text"]
    max_length: int = Field(default=500, ge=1, le=4000)


class DateStep(_Step):
    """A calendar date: "2027-02-01", "1.2.2027", "01.02.27"; kept as ISO text."""

    type: Literal["date"]


Step = Annotated[YesNoStep | ChoiceStep | RatingStep | NumberStep | TextStep | DateStep, Field(discriminator="type")]


class PresetItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Identifier
    label: L10n
    attributes: dict[Identifier, Scalar] = {}


class RepeatStep(BaseModel):
    """Ask `steps` once per item; items are `items` (presets) and then, if `more`, named by the user."""

    model_config = ConfigDict(extra="forbid")
    id: Identifier
    type: Literal["repeat"]
    item: L10n  # what one item is called ("System", "Datenquelle")
    name_prompt: L10n  # asks for the next item's name
    more_prompt: L10n | None = None  # asks for another item after the first; defaults to name_prompt
    items: list[PresetItem] = []
    named_attributes: dict[Identifier, Scalar] = {}  # pre-answers for items the user names
    more: bool = True
    min_items: int = Field(default=1, ge=0)
    max_items: int = Field(default=30, ge=1, le=200)
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> RepeatStep:
        _unique_ids([s.id for s in self.steps] + ["name"], "steps")
        if not self.items and not self.more:
            raise ValueError("a repeat block needs preset `items` or `more: true`")
        return self


class AssessmentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Identifier
    version: int = Field(default=1, ge=1)
    order: int = 100  # position in the /check list
    title: L10n
    summary: L10n
    aliases: list[str] = []
    scoring: Identifier | None = None
    texts: dict[Identifier, L10n] = {}
    # keyword groups: a message about "our" data containing every keyword of one group is answered
    # from this assessment's latest result ("Welche unserer Systeme sind KI-bereit?")
    result_questions: list[list[str]] = []
    # which column of the result's table names an item and which one scores it: "Wo ist unsere
    # Datenqualität am schlechtesten?" is answered with the lowest-scored item, "Welchen Anwendungsfall
    # gehen wir zuerst an?" with the highest
    ranking: Ranking | None = None
    steps: list[Annotated[Step | RepeatStep, Field(discriminator="type")]] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> AssessmentSpec:
        _unique_ids([s.id for s in self.steps], "steps")
        known: set[str] = set()  # a `when` may name earlier top-level answers or, in a block, the item's own
        for position, step in enumerate(self.steps):
            if isinstance(step, RepeatStep):
                inner = {"name", *step.named_attributes, *(k for p in step.items for k in p.attributes), *known}
                for index, sub in enumerate(step.steps):
                    _check_when(sub, inner, f"steps[{position}].steps[{index}]")
                    inner.add(sub.id)
            else:
                _check_when(step, known, f"steps[{position}]")
            known.add(step.id)
        return self

    def text(self, key: str, language: str, **values: object) -> str:
        template = self.texts[key].get(language)
        return template.format(**values) if values else template

    @property
    def names(self) -> set[str]:
        """Names a user may type to start this assessment: its id, aliases and titles."""
        return {self.id, *(a.lower() for a in self.aliases), self.title.de.lower(), self.title.en.lower()}


def _unique_ids(ids: list[str], field: str) -> None:
    seen: set[str] = set()
    for step_id in ids:
        if step_id in seen:
            raise ValueError(f"{field}: the id {step_id!r} is used twice")
        seen.add(step_id)


def _check_when(step: _Step, known: set[str], where: str) -> None:
    for name in step.when or {}:
        if name not in known:
            raise ValueError(f"{where}.when: {name!r} is not an earlier step or item attribute")


def _location(loc: tuple) -> str:
    out, previous = "", None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(previous, int) and part in _STEP_TYPES:
            pass  # pydantic names the union member after the index; the author did not write it
        else:
            out += f".{part}" if out else str(part)
        previous = part
    return out


def _problem(error: dict) -> str:
    message = error["msg"].removeprefix("Value error, ")
    where = _location(error["loc"])
    return f"{where}: {message}" if where else message


def parse_assessment(path: Path) -> AssessmentSpec:
    """Read and check one file; raises AssessmentSpecError naming file, field and problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise AssessmentSpecError(f"{path}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise AssessmentSpecError(f"{path}: cannot read the file: {exc}") from exc
    if not isinstance(data, dict):
        raise AssessmentSpecError(f"{path}: expected a mapping with id, title, summary and steps")
    try:
        return AssessmentSpec.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_problem(e) for e in exc.errors(include_url=False))
        raise AssessmentSpecError(f"{path}: {problems}") from None
