"""Data quality per source: completeness, timeliness, consistency, silos, media breaks."""

from __future__ import annotations

from statistics import mean
from typing import Any

from bot.dialogs.outcome import Chart, Metric, Outcome, listed, number, scorer, yes_no
from bot.dialogs.spec import AssessmentSpec

DQ_DIMENSIONS = ("completeness", "timeliness", "consistency")


@scorer(
    "data_quality",
    texts=(
        "headline",
        "grade_good",
        "grade_medium",
        "grade_weak",
        "task_silo",
        "task_media_break",
        "task_low",
        "task_metadata",
        "rag_source",
        "tasks",
        "no_tasks",
        "metric_mean",
        "metric_tasks",
        "metric_rag",
        "label_completeness",
        "label_timeliness",
        "label_consistency",
        "label_score",
    ),
)
def data_quality(spec: AssessmentSpec, answers: dict[str, Any], language: str) -> Outcome:
    """Phase 1 "Datenqualität systematisch erfassen": completeness, timeliness and consistency per
    source; silos and media breaks become integration tasks; archives with structured metadata are
    good RAG sources. Score = mean of the three ratings; ≥ 4 good, ≥ 3 medium, below weak."""
    sources = [s for s in answers.get("sources", []) if s.get("in_use", True) and _rated(s)]
    lines, tasks, rag, rows = [], [], [], []
    for source in sources:
        ratings = [source[d] for d in DQ_DIMENSIONS if source.get(d) is not None]
        score = mean(ratings)
        grade = "grade_good" if score >= 4 else "grade_medium" if score >= 3 else "grade_weak"
        lines.append(f"{source['name']}: {number(score, language)} – {spec.text(grade, language)}")
        if source.get("silo"):
            tasks.append(spec.text("task_silo", language, name=source["name"]))
        if source.get("media_break"):
            tasks.append(spec.text("task_media_break", language, name=source["name"]))
        for dimension in DQ_DIMENSIONS:
            if source.get(dimension) is not None and source[dimension] <= 2:
                label = spec.text(f"label_{dimension}", language)
                tasks.append(
                    spec.text("task_low", language, name=source["name"], dimension=label, rating=source[dimension])
                )
        is_rag = source.get("kind") == "archive" and source.get("metadata") is True
        if is_rag:
            rag.append(source["name"])
        elif source.get("kind") == "archive" and source.get("metadata") is False:
            tasks.append(spec.text("task_metadata", language, name=source["name"]))
        rows.append(
            [
                source["name"],
                source.get("kind", ""),
                *(source.get(d) for d in DQ_DIMENSIONS),
                round(score, 2),
                yes_no(source.get("silo"), language),
                yes_no(source.get("media_break"), language),
                yes_no(is_rag, language),
            ]
        )
    if rag:
        lines.append(spec.text("rag_source", language, names=listed(rag)))
    lines.append(spec.text("tasks", language) + ("" if tasks else " " + spec.text("no_tasks", language)))
    lines.extend(f"  • {t}" for t in tasks)
    overall = mean(r[5] for r in rows) if rows else 0.0
    dims = [spec.text(f"label_{d}", language) for d in (*DQ_DIMENSIONS, "score")]
    return Outcome(
        headline=spec.text("headline", language, count=len(sources), score=number(overall, language)),
        lines=lines,
        metrics=[
            Metric("mean_score", spec.text("metric_mean", language), round(overall, 2)),
            Metric("tasks", spec.text("metric_tasks", language), len(tasks), higher_is_better=False),
            Metric("rag_sources", spec.text("metric_rag", language), len(rag)),
        ],
        columns=["source", "kind", *DQ_DIMENSIONS, "score", "silo", "media_break", "rag_source"],
        rows=rows,
        chart=Chart(
            "table",
            spec.title.get(language),
            {"rows": [r[0] for r in rows], "columns": dims, "values": [[r[2], r[3], r[4], r[5]] for r in rows]},
            language=language,
        ),
    )


def _rated(source: dict[str, Any]) -> bool:
    return any(source.get(d) is not None for d in DQ_DIMENSIONS)
