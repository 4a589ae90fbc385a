"""One scoring function per assessment, each with the rule the guidance gives (section named in
the docstring). Texts come from the assessment file's `texts`, so wording changes need no code."""

from __future__ import annotations

from statistics import mean
from typing import Any

from bot.dialogs.outcome import Chart, Metric, Outcome, number, scorer, yes_no
from bot.dialogs.spec import AssessmentSpec, RepeatStep


def _steps(spec: AssessmentSpec, block: str | None = None) -> list:
    if block is None:
        return [s for s in spec.steps if not isinstance(s, RepeatStep)]
    return next(s for s in spec.steps if s.id == block).steps


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
    checks = _steps(spec)
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
        chart=Chart("bars", spec.title.get(language), {"labels": labels, "values": values, "max": 1, "binary": True}),
    )


@scorer("systems", texts=("headline_candidates", "headline_none", "closest", "metric_candidates", "metric_mean"))
def systems(spec: AssessmentSpec, answers: dict[str, Any], language: str) -> Outcome:
    """Phase 1 "IT-Infrastruktur bewerten": rate each business-critical system 1–5; 4 or 5 are the
    candidates for early AI integration."""
    items = [i for i in answers.get("systems", []) if i.get("rating") is not None]
    ranked = sorted(items, key=lambda i: (-i["rating"], i["name"].lower()))
    candidates = [i for i in ranked if i["rating"] >= 4]
    if candidates:
        names = ", ".join(f"{i['name']} ({i['rating']})" for i in candidates)
        headline = spec.text("headline_candidates", language, names=names, count=len(candidates))
        lines = []
    else:
        headline = spec.text("headline_none", language)
        best = [i for i in ranked if i["rating"] == ranked[0]["rating"]] if ranked else []
        lines = (
            [spec.text("closest", language, names=", ".join(f"{i['name']} ({i['rating']})" for i in best))]
            if best
            else []
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
        ),
    )


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
        lines.append(spec.text("rag_source", language, names=", ".join(rag)))
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
        ),
    )


def _rated(source: dict[str, Any]) -> bool:
    return any(source.get(d) is not None for d in DQ_DIMENSIONS)


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
        lines.append(spec.text("translators", language, names=", ".join(translators)))
    lines.append(
        spec.text("champions", language, names=", ".join(champions))
        if champions
        else spec.text("no_champions", language)
    )
    low, high = (len(trainees) * b for b in BUDGET_PER_PERSON)
    lines.append(
        spec.text(
            "budget",
            language,
            count=len(trainees),
            names=", ".join(trainees),
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
        chart=Chart(
            "bars",
            spec.title.get(language),
            {
                "labels": [short[k] for k in means],
                "values": [round(v, 2) for v in means.values()],
                "max": 5,
                "threshold": 3,
            },
        ),
    )


@scorer(
    "use_cases",
    texts=(
        "headline",
        "rank_line",
        "quick_win",
        "avoid",
        "tie",
        "metric_quick_wins",
        "metric_count",
        "axis_effort",
        "axis_value",
    ),
)
def use_cases(spec: AssessmentSpec, answers: dict[str, Any], language: str) -> Outcome:
    """Phase 2 "Use Cases strategisch auswählen" and Phase 1 "Quick Wins": rate feasibility, value and
    effort; high value at moderate effort first. Priority = value + feasibility − effort; equal
    priority is ordered by higher value, then lower effort; equal on all three shares a rank.
    Quick win: value ≥ 4, effort ≤ 2, feasibility ≥ 3. Avoid: value ≤ 2 with effort ≥ 4."""
    cases = [
        c for c in answers.get("use_cases", []) if all(c.get(k) is not None for k in ("feasibility", "value", "effort"))
    ]
    for case in cases:
        case["priority"] = case["value"] + case["feasibility"] - case["effort"]
        case["quick_win"] = case["value"] >= 4 and case["effort"] <= 2 and case["feasibility"] >= 3
        case["avoid"] = case["value"] <= 2 and case["effort"] >= 4
    ranked = sorted(cases, key=lambda c: (-c["priority"], -c["value"], c["effort"], c["name"].lower()))
    lines, ranks, ties = [], [], []
    for position, case in enumerate(ranked):
        key = (case["priority"], case["value"], case["effort"])
        if position and key == (
            ranked[position - 1]["priority"],
            ranked[position - 1]["value"],
            ranked[position - 1]["effort"],
        ):
            ranks.append(ranks[-1])
            ties.append((ranked[position - 1]["name"], case["name"]))
        else:
            ranks.append(position + 1)
        flags = [spec.text("quick_win", language)] if case["quick_win"] else []
        flags += [spec.text("avoid", language)] if case["avoid"] else []
        lines.append(
            spec.text(
                "rank_line",
                language,
                rank=ranks[-1],
                name=case["name"],
                priority=case["priority"],
                value=case["value"],
                effort=case["effort"],
                feasibility=case["feasibility"],
            )
            + (f" – {', '.join(flags)}" if flags else "")
        )
    for first, second in ties:
        lines.append(spec.text("tie", language, first=first, second=second))
    quick = [c["name"] for c in ranked if c["quick_win"]]
    return Outcome(
        headline=spec.text(
            "headline", language, count=len(ranked), top=ranked[0]["name"] if ranked else "–", quick=len(quick)
        ),
        lines=lines,
        metrics=[
            Metric("count", spec.text("metric_count", language), len(ranked)),
            Metric("quick_wins", spec.text("metric_quick_wins", language), len(quick)),
        ],
        columns=["rank", "use_case", "feasibility", "value", "effort", "priority", "quick_win", "avoid"],
        rows=[
            [
                r,
                c["name"],
                c["feasibility"],
                c["value"],
                c["effort"],
                c["priority"],
                yes_no(c["quick_win"], language),
                yes_no(c["avoid"], language),
            ]
            for r, c in zip(ranks, ranked, strict=True)
        ],
        chart=Chart(
            "matrix",
            spec.title.get(language),
            {
                "points": [
                    {
                        "label": c["name"],
                        "x": c["effort"],
                        "y": c["value"],
                        "size": c["feasibility"],
                        "highlight": c["quick_win"],
                    }
                    for c in ranked
                ],
                "x_label": spec.text("axis_effort", language),
                "y_label": spec.text("axis_value", language),
            },
        ),
    )


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
    items = [r for r in answers.get("risks", []) if r.get("likelihood") is not None and r.get("impact") is not None]
    categories = {o.value: o.label.get(language) for o in _steps(spec, "risks")[0].choices}
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
                "risks": [{"number": n, "x": r["likelihood"], "y": r["impact"]} for n, r in enumerate(ranked, 1)],
                "x_label": spec.text("axis_likelihood", language),
                "y_label": spec.text("axis_impact", language),
            },
        ),
    )


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
