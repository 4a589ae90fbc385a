"""Use-case prioritisation: value, effort and feasibility; quick wins."""

from __future__ import annotations

from typing import Any

from bot.dialogs.outcome import Chart, Metric, Outcome, scorer, yes_no
from bot.dialogs.spec import AssessmentSpec

QUICK_VALUE, QUICK_EFFORT, QUICK_FEASIBILITY = 4, 2, 3  # a quick win: value ≥ 4, effort ≤ 2, feasibility ≥ 3


def is_quick_win(case: dict[str, Any]) -> bool:
    return case["value"] >= QUICK_VALUE and case["effort"] <= QUICK_EFFORT and case["feasibility"] >= QUICK_FEASIBILITY


@scorer(
    "use_cases",
    texts=(
        "headline",
        "rank_line",
        "quick_win",
        "quick_rule",
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
        dict(c)
        for c in answers.get("use_cases", [])
        if all(c.get(k) is not None for k in ("feasibility", "value", "effort"))
    ]
    for case in cases:
        case["priority"] = case["value"] + case["feasibility"] - case["effort"]
        case["quick_win"] = is_quick_win(case)
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
    if ranked:
        lines.append(spec.text("quick_rule", language))  # one rule, said here and drawn so in the chart
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
                "quick": {"value": QUICK_VALUE, "effort": QUICK_EFFORT},  # the green area: the same rule
            },
            language=language,
        ),
    )
