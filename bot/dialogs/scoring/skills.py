"""Team skills: gaps, translators, AI champions and the training budget."""

from __future__ import annotations

from statistics import mean
from typing import Any

from bot.dialogs.outcome import Chart, Metric, Outcome, listed, number, scorer, yes_no
from bot.dialogs.spec import AssessmentSpec

SKILLS = ("api", "programming", "process", "ml_llm", "prompting", "data_etl")
TRAINING_SKILLS = ("api", "ml_llm", "prompting", "data_etl")  # FAQ: the skills to prioritise
BUDGET_PER_PERSON = (2000, 5000)  # Phase 1 "Team-Skills": 2,000–5,000 € per person


SKILL_TEXTS = ("headline", "gaps", "no_gaps", "translators", "champions", "no_champions", "budget", "no_budget")
SKILL_METRICS = ("metric_mean", "metric_gaps", "metric_champions", "metric_training")


@scorer("skills", texts=(*SKILL_TEXTS, *SKILL_METRICS, *(f"label_{k}" for k in SKILLS)))
def skills(spec: AssessmentSpec, answers: dict[str, Any], language: str) -> Outcome:
    """Phase 1 "Team-Skills und Ressourcen erfassen" and the FAQ on skills: a skill whose team mean is
    below 3 is a gap; people strong in business processes (≥ 4) with technical grounding (APIs or
    programming ≥ 3) are the translators; people open to change are champion candidates; everyone
    with a rating ≤ 2 in a prioritised skill needs training at 2,000–5,000 € per person."""
    members = answers.get("members", [])
    short = {k: spec.text(f"label_{k}", language) for k in SKILLS}
    means = {k: mean(v) for k in SKILLS if (v := [m[k] for m in members if m.get(k) is not None])}
    gaps = sorted((k for k, v in means.items() if v < 3), key=lambda k: (means[k], SKILLS.index(k)))
    translators = [
        m["name"]
        for m in members
        if (m.get("process") or 0) >= 4 and max(m.get("api") or 0, m.get("programming") or 0) >= 3
    ]
    champions = [m["name"] for m in members if m.get("champion") is True]
    trainees = [m["name"] for m in members if any((m.get(k) or 5) <= 2 for k in TRAINING_SKILLS)]
    team = mean(means.values()) if means else 0.0
    lines = [
        spec.text("gaps", language, skills=", ".join(f"{short[k]} ({number(means[k], language)})" for k in gaps))
        if gaps
        else spec.text("no_gaps", language)
    ]
    if translators:
        lines.append(spec.text("translators", language, names=listed(translators)))
    lines.append(
        spec.text("champions", language, names=listed(champions)) if champions else spec.text("no_champions", language)
    )
    low, high = (len(trainees) * b for b in BUDGET_PER_PERSON)
    lines.append(
        spec.text(
            "budget",
            language,
            names=listed(trainees),
            low=number(low, language, 0),
            high=number(high, language, 0),
        )
        if trainees
        else spec.text("no_budget", language)
    )
    return Outcome(
        headline=spec.text("headline", language, count=len(members), score=number(team, language)),
        lines=lines,
        metrics=[
            Metric("team_mean", spec.text("metric_mean", language), round(team, 2)),
            Metric("gaps", spec.text("metric_gaps", language), len(gaps), higher_is_better=False),
            Metric("champions", spec.text("metric_champions", language), len(champions)),
            Metric("training_people", spec.text("metric_training", language), len(trainees), higher_is_better=False),
        ],
        columns=["person", *SKILLS, "champion", "translator", "training"],
        rows=[
            [
                m["name"],
                *(m.get(k) for k in SKILLS),
                yes_no(m.get("champion"), language),
                yes_no(m["name"] in translators, language),
                yes_no(m["name"] in trainees, language),
            ]
            for m in members
        ],
        chart=Chart(  # each person's ratings and the team's mean: who needs what, at a glance
            "table",
            spec.title.get(language),
            {
                "rows": [m["name"] for m in members] + ["Ø Team" if language == "de" else "Team mean"],
                "columns": [short[k] for k in SKILLS],
                "values": [[m.get(k) for k in SKILLS] for m in members]
                + [[round(means[k], 2) if k in means else None for k in SKILLS]],
            },
            language=language,
        ),
    )
