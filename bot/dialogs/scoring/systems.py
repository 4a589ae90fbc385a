"""System landscape: each business-critical system rated 1–5."""

from __future__ import annotations

from statistics import mean
from typing import Any

from bot.dialogs.outcome import Chart, Metric, Outcome, listed, number, scorer, yes_no
from bot.dialogs.spec import AssessmentSpec


@scorer("systems", texts=("headline_candidates", "headline_none", "closest", "metric_candidates", "metric_mean"))
def systems(spec: AssessmentSpec, answers: dict[str, Any], language: str) -> Outcome:
    """Phase 1 "IT-Infrastruktur bewerten": rate each business-critical system 1–5; 4 or 5 are the
    candidates for early AI integration."""
    items = [i for i in answers.get("systems", []) if i.get("rating") is not None]
    ranked = sorted(items, key=lambda i: (-i["rating"], i["name"].lower()))
    candidates = [i for i in ranked if i["rating"] >= 4]
    if candidates:
        names = listed(f"{i['name']} ({i['rating']})" for i in candidates)
        headline = spec.text("headline_candidates", language, names=names, count=len(candidates))
        lines = []
    else:
        headline = spec.text("headline_none", language)
        best = [i for i in ranked if i["rating"] == ranked[0]["rating"]] if ranked else []
        lines = (
            [spec.text("closest", language, names=listed(f"{i['name']} ({i['rating']})" for i in best))] if best else []
        )
    average = mean(i["rating"] for i in items) if items else 0.0
    lines.append(spec.text("metric_mean", language) + f": {number(average, language)}")
    return Outcome(
        headline=headline,
        lines=lines,
        metrics=[
            Metric("candidates", spec.text("metric_candidates", language), len(candidates)),
            Metric("mean_rating", spec.text("metric_mean", language), round(average, 2)),
        ],
        columns=["system", "rating", "candidate", "note"],
        rows=[[i["name"], i["rating"], yes_no(i["rating"] >= 4, language), i.get("note") or ""] for i in ranked],
        chart=Chart(
            "bars",
            spec.title.get(language),
            {"labels": [i["name"] for i in ranked], "values": [i["rating"] for i in ranked], "max": 5, "threshold": 4},
            language=language,
        ),
    )
