"""Risk matrix: likelihood × impact with a mitigation each."""

from __future__ import annotations

from typing import Any

from bot.dialogs.outcome import Chart, Metric, Outcome, scorer
from bot.dialogs.scoring._steps import steps_of
from bot.dialogs.spec import AssessmentSpec

RISK_LEVELS = ((15, "level_high"), (8, "level_medium"), (0, "level_low"))


@scorer(
    "risks",
    texts=(
        "headline",
        "risk_line",
        "level_high",
        "level_medium",
        "level_low",
        "missing_category",
        "metric_high",
        "metric_max",
        "axis_likelihood",
        "axis_impact",
    ),
)
def risks(spec: AssessmentSpec, answers: dict[str, Any], language: str) -> Outcome:
    """Phase 3 "Risikomanagement systematisch angehen": technical, legal and organisational risks,
    each with a mitigation. Score = likelihood × impact (1–25); ≥ 15 high, ≥ 8 medium, else low;
    sorted by score, then impact, then likelihood."""
    items = [
        dict(r) for r in answers.get("risks", []) if r.get("likelihood") is not None and r.get("impact") is not None
    ]
    category = next(s for s in steps_of(spec, "risks") if s.id == "category")  # by id: the order may change
    categories = {o.value: o.label.get(language) for o in category.choices}
    for risk in items:
        risk["score"] = risk["likelihood"] * risk["impact"]
        risk["level"] = next(key for floor, key in RISK_LEVELS if risk["score"] >= floor)
    ranked = sorted(items, key=lambda r: (-r["score"], -r["impact"], -r["likelihood"], r["name"].lower()))
    lines = [
        spec.text(
            "risk_line",
            language,
            rank=n,
            name=r["name"],
            category=categories.get(r.get("category"), "–"),
            likelihood=r["likelihood"],
            impact=r["impact"],
            score=r["score"],
            level=spec.text(r["level"], language),
            mitigation=r.get("mitigation") or "–",
        )
        for n, r in enumerate(ranked, 1)
    ]
    covered = {r.get("category") for r in ranked}
    lines += [
        spec.text("missing_category", language, category=label)
        for value, label in categories.items()
        if value not in covered
    ]
    high = [r for r in ranked if r["level"] == "level_high"]
    return Outcome(
        headline=spec.text("headline", language, count=len(ranked), high=len(high)),
        lines=lines,
        metrics=[
            Metric("high_risks", spec.text("metric_high", language), len(high), higher_is_better=False),
            Metric(
                "max_score",
                spec.text("metric_max", language),
                max((r["score"] for r in ranked), default=0),
                higher_is_better=False,
            ),
        ],
        columns=["rank", "risk", "category", "likelihood", "impact", "score", "level", "mitigation"],
        rows=[
            [
                n,
                r["name"],
                r.get("category"),
                r["likelihood"],
                r["impact"],
                r["score"],
                r["level"].removeprefix("level_"),
                r.get("mitigation") or "",
            ]
            for n, r in enumerate(ranked, 1)
        ],
        chart=Chart(
            "heatmap",
            spec.title.get(language),
            {
                "risks": [
                    {"number": n, "x": r["likelihood"], "y": r["impact"], "name": r["name"]}
                    for n, r in enumerate(ranked, 1)
                ],
                "levels": [spec.text(k, language) for k in ("level_high", "level_medium", "level_low")],
                "x_label": spec.text("axis_likelihood", language),
                "y_label": spec.text("axis_impact", language),
            },
            language=language,
        ),
    )
