"""What a scorer returns: a summary in the user's language, metrics to compare runs, a table for
CSV export, and the data of a chart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.dialogs.spec import AssessmentSpec


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    value: float
    higher_is_better: bool = True


@dataclass(frozen=True)
class Chart:
    """`kind` is one of bars, matrix, heatmap, table (bot/dialogs/charts.py draws them)."""

    kind: str
    title: str
    data: dict[str, Any]
    language: str = "de"  # numbers on the chart: "2,67" in German


@dataclass
class Outcome:
    headline: str
    lines: list[str] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    chart: Chart | None = None

    @property
    def metric_values(self) -> dict[str, float]:
        return {m.key: m.value for m in self.metrics}


Scorer = Callable[[AssessmentSpec, dict[str, Any], str], Outcome]


@dataclass(frozen=True)
class Registration:
    function: Scorer
    texts: tuple[str, ...]  # keys the scorer reads from the assessment's `texts`


SCORERS: dict[str, Registration] = {}


def scorer(name: str, texts: tuple[str, ...] = ()) -> Callable[[Scorer], Scorer]:
    """Register a scoring function under the name an assessment file gives in `scoring:`."""

    def register(function: Scorer) -> Scorer:
        SCORERS[name] = Registration(function, texts)
        return function

    return register


def listed(names: Any) -> str:
    """Names in a line of text: "Anna, Ben" — or, when a name holds a comma itself ("Jonas, Admin"),
    "Jonas, Admin; Sabine", so that two people never read as three."""
    names = [str(n) for n in names]
    return ("; " if any("," in n for n in names) else ", ").join(names)


def yes_no(value: Any, language: str) -> str:
    if value is None:
        return "–"
    return ("ja" if value else "nein") if language == "de" else ("yes" if value else "no")


def number(value: float, language: str, digits: int = 1) -> str:
    text = f"{value:,.{digits}f}"
    if language == "de":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text
