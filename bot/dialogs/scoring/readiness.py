"""AI readiness of the infrastructure: the four yes/no checks of the FAQ."""

from __future__ import annotations

from typing import Any

from bot.dialogs.outcome import Chart, Metric, Outcome, scorer, yes_no
from bot.dialogs.scoring._steps import steps_of
from bot.dialogs.spec import AssessmentSpec


@scorer(
    "readiness",
    texts=(
        "headline_ready",
        "headline_not_ready",
        "missing",
        "first",
        "all_met",
        "metric_yes",
        "label_{step}",
        "advice_{step}",
    ),
)
def readiness(spec: AssessmentSpec, answers: dict[str, Any], language: str) -> Outcome:
    """FAQ "Wie erkenne ich, ob unsere IT-Infrastruktur KI-bereit ist?": three of the four checks
    answered yes means ready in principle. A skipped check counts as not met."""
    checks = steps_of(spec)
    met = [s for s in checks if answers.get(s.id) is True]
    missing = [s for s in checks if answers.get(s.id) is not True]
    ready = len(met) >= 3
    headline = spec.text("headline_ready" if ready else "headline_not_ready", language, yes=len(met), total=len(checks))
    lines = []
    if missing:
        labels = ", ".join(spec.text(f"label_{s.id}", language) for s in missing)
        lines.append(spec.text("missing", language, items=labels))
        lines.append(spec.text("first", language, advice=spec.text(f"advice_{missing[0].id}", language)))
    else:
        lines.append(spec.text("all_met", language))
    labels = [spec.text(f"label_{s.id}", language) for s in checks]
    values = [1 if answers.get(s.id) is True else 0 for s in checks]
    return Outcome(
        headline=headline,
        lines=lines,
        metrics=[Metric("checks_met", spec.text("metric_yes", language), len(met))],
        columns=["check", "answer"],
        rows=[[label, yes_no(answers.get(s.id), language)] for label, s in zip(labels, checks, strict=True)],
        chart=Chart(
            "bars",
            spec.title.get(language),
            {"labels": labels, "values": values, "max": 1, "binary": True},
            language=language,
        ),
    )
