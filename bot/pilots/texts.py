"""How a pilot's figures read: money and percentages, the KPI, rating and ROI lines, a pilot's report
and the quarter's ROI report as chat text and as Markdown (for `lotse pilot report --quarter`)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

from bot.core import i18n
from bot.pilots.forms import kpi_line, number
from bot.pilots.report import FEW_FOR_ROI, HORIZON_MONTHS, MIN_ANONYMOUS, KpiFigure, PilotFigures, Report


def money(value: float, language: str) -> str:
    return f"{number(round(value), language)} €"


def percent(value: float | None, language: str, signed: bool = True) -> str:
    if value is None:
        return "–"
    rounded = math.floor(abs(value) * (10 if signed else 1) + 0.5) / (10 if signed else 1)  # 62.5 → 63, not 62
    rounded = -rounded if value < 0 and rounded else rounded  # no "−0,0 %"
    text = f"{rounded:+,.1f}" if signed else f"{rounded:,.0f}"
    if language == "de":
        text = text.translate(str.maketrans(",.", ".,"))
    text = text.replace("-", "−")
    return text + " %"


def quote(text: str, language: str) -> str:
    return f"“{text}”" if language == "en" else f"„{text}“"


def day_text(day: date, language: str) -> str:
    return day.strftime("%d.%m.%Y") if language == "de" else day.isoformat()


def ratings_line(ratings: dict[int, int], language: str) -> str:
    return " · ".join(f"{r}★ {ratings.get(r, 0)}" for r in range(1, 6))


def kpi_figure_line(k: KpiFigure, language: str) -> str:
    unit = f" {k.unit}" if k.unit else ""
    better = i18n.text("pilot_direction_" + k.direction, language)
    if k.now is None:
        return i18n.text(
            "pilot_report_kpi_none",
            language,
            name=k.name,
            baseline=number(k.baseline, language) + unit,
            target=number(k.target, language) + unit,
            better=better,
        )
    mark = "🎯" if k.progress_pct is not None and k.progress_pct >= 100 else "🟢" if k.improved else "🔴"
    return i18n.text(
        "pilot_report_kpi",
        language,
        mark=mark,
        name=k.name,
        now=number(k.now, language) + unit,
        baseline=number(k.baseline, language) + unit,
        target=number(k.target, language) + unit,
        change=percent(k.change_pct, language),
        progress=percent(k.progress_pct, language, signed=False),
        count=k.measurements,
        better=better,
    )


def roi_lines(f: PilotFigures, language: str) -> list[str]:
    lines = []
    if f.minutes_per_week is not None:
        minutes, hours = number(round(f.minutes_per_week, 1), language), number(round(f.hours_per_month, 1), language)
        lines.append(
            i18n.text(
                "pilot_report_time",
                language,
                minutes=minutes,
                hours=hours,
                users=f.users or f.people,
                benefit=money(f.benefit_per_month, language),
                rate=money(f.hourly_rate, language),
            )
        )
    lines.append(
        i18n.text(
            "pilot_costs",
            language,
            one_off=money(f.one_off_cost, language),
            monthly=money(f.monthly_cost, language),
            rate=money(f.hourly_rate, language),
        )
    )
    if f.roi_pct is not None:
        payback = f.payback_month
        if payback is None:
            when = i18n.text("pilot_report_no_payback", language)
        else:
            month = add_months(f.start, payback - 1)
            key = "pilot_report_payback_late" if payback > HORIZON_MONTHS else "pilot_report_payback"
            when = i18n.text(key, language, month=payback, date=month.strftime("%m/%Y"), horizon=HORIZON_MONTHS)
        lines.append(i18n.text("pilot_report_roi", language, roi=percent(f.roi_pct, language), payback=when))
        if f.thin_basis:
            lines.append(i18n.text("pilot_report_thin", language, count=f.time_basis, users=f.users or f.people,
                                   minimum=FEW_FOR_ROI))  # fmt: skip
    if f.roi_so_far is not None:  # what was measured, beside the projection: labelled, so they cannot be confused
        month, roi = f.roi_so_far
        lines.append(i18n.text("pilot_report_roi_so_far", language, month=month, roi=percent(roi, language)))
        payback = f.payback_month if f.roi_pct is not None else None
        if payback is not None and roi < 0 and add_months(f.start, payback - 1).strftime("%Y-%m") <= month:
            # "Amortisation im 2. Monat (11/2026)" beside a negative ROI in 12/2026: the projection assumes
            # today's benefit from the first day, which the first months did not have
            lines.append(i18n.text("pilot_report_payback_not_yet", language, month=month))
    return lines


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def pilot_text(f: PilotFigures, language: str) -> str:
    lines = [
        i18n.text(
            "pilot_report_header",
            language,
            name=f.name,
            start=day_text(f.start, language),
            end=day_text(f.end, language),
            users=f.users,
            owner=f.owner or "–",
        )
    ]
    if f.withheld:
        lines.append(i18n.text("pilot_report_withheld", language, count=f.responses, minimum=MIN_ANONYMOUS))
        lines += [kpi_line(k, language) for k in f.kpis]  # what is measured, not what was measured
        return "\n".join(lines)
    if not f.responses:
        lines.append(i18n.text("pilot_report_empty", language, name=f.name))
    else:
        mean = number(round(f.mean_rating, 1), language)
        lines.append(
            i18n.text(
                "pilot_report_responses",
                language,
                count=f.responses,
                people=f.people,
                mean=mean,
                ratings=ratings_line(f.ratings, language),
            )
        )
    if f.kpis:
        lines.append(i18n.text("pilot_report_kpis", language))
        lines += [kpi_figure_line(k, language) for k in f.kpis]
    lines += roi_lines(f, language)
    if f.works:
        lines.append(i18n.text("pilot_report_works", language, quotes=" · ".join(quote(q, language) for q in f.works)))
    if f.not_working:
        lines.append(
            i18n.text(
                "pilot_report_not_working", language, quotes=" · ".join(quote(q, language) for q in f.not_working)
            )
        )
    return "\n".join(lines)


def quarter_text(report: Report, language: str) -> str:
    shown = [p for p in report.pilots if not p.withheld]
    lines = [i18n.text("pilot_quarter_header", language, quarter=report.title, count=len(report.pilots))]
    if not report.pilots:
        lines.append(i18n.text("pilot_quarter_empty", language))
    responses = sum(p.responses for p in shown)
    benefit = sum(p.benefit_per_month or 0 for p in shown)
    monthly = sum(p.monthly_cost for p in report.pilots)  # costs are no one's feedback: always all of them
    one_off = sum(p.one_off_cost for p in report.pilots)
    if report.pilots:
        lines.append(
            i18n.text(
                "pilot_quarter_costs", language, monthly=money(monthly, language), one_off=money(one_off, language)
            )
        )
    if shown:
        rated = [p for p in shown if p.mean_rating is not None]
        mean = (sum(p.mean_rating * p.responses for p in rated) / sum(p.responses for p in rated)) if rated else None
        lines.append(
            i18n.text(
                "pilot_quarter_totals",
                language,
                responses=responses,
                mean=number(round(mean, 1), language) if mean is not None else "–",
                benefit=money(benefit, language),
            )
        )
    if report.roi_timeline and report.roi_timeline[-1][1] is not None:
        lines.append(
            i18n.text(
                "pilot_quarter_roi",
                language,
                roi=percent(report.roi_timeline[-1][1], language),
                month=report.roi_timeline[-1][0],
            )
        )
    for p in report.pilots:
        if p.withheld:
            lines.append(i18n.text("pilot_quarter_line_withheld", language, name=p.name, minimum=MIN_ANONYMOUS))
            continue
        on_track = sum(1 for k in p.kpis if k.improved)
        measured = sum(1 for k in p.kpis if k.now is not None)
        payback = p.payback_month
        lines.append(
            i18n.text(
                "pilot_quarter_line",
                language,
                name=p.name,
                responses=p.responses,
                mean=number(round(p.mean_rating, 1), language) if p.mean_rating else "–",
                improved=on_track,
                measured=measured,
                roi=percent(p.roi_pct, language),
                payback="–"
                if payback is None
                else payback
                if payback <= HORIZON_MONTHS
                else i18n.text("pilot_payback_late", language, month=payback, horizon=HORIZON_MONTHS),
            )
            + (i18n.text("pilot_quarter_thin", language, count=p.time_basis) if p.thin_basis else "")
        )
    a = report.answers
    if a.up or a.down or a.general:
        top = max(a.reasons, key=a.reasons.get) if a.reasons else None
        lines.append(
            i18n.text(
                "pilot_quarter_answers",
                language,
                up=a.up,
                down=a.down,
                reason=i18n.text(f"pilot_reason_{top}", language) if top else "–",
                general=number(round(a.general_mean, 1), language) if a.general_mean else "–",
                count=sum(a.general.values()),
            )
        )
    return "\n".join(lines)


def quarter_markdown(report: Report, language: str, images: list[Path]) -> str:
    """The quarterly report as a Markdown file (CLI): the chat text, a table per pilot, the charts."""
    head = {
        "de": (
            "Pilot",
            "Rückmeldungen",
            "Ø Zufriedenheit",
            "Nutzen/Monat",
            "Kosten/Monat",
            "ROI 12 Mon.",
            "Amortisation (Monat)",
        ),
        "en": (
            "Pilot",
            "Responses",
            "Mean satisfaction",
            "Benefit/month",
            "Cost/month",
            "ROI 12 mo.",
            "Payback (month)",
        ),
    }[language if language == "en" else "de"]
    text = quarter_text(report, language).split("\n")
    summary = [("- " + line if not line.startswith("•") else "-" + line[1:]).replace("*", "") for line in text[1:]]
    out = [f"# {text[0].replace('*', '')}", "", *summary, "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in report.pilots:
        if p.withheld:
            out.append(f"| {p.name} | < {MIN_ANONYMOUS} | – | – | {money(p.monthly_cost, language)} | – | – |")
            continue
        mean = number(round(p.mean_rating, 2), language) if p.mean_rating else "–"
        benefit = money(p.benefit_per_month, language) if p.benefit_per_month is not None else "–"
        out.append(
            f"| {p.name} | {p.responses} | {mean} | {benefit} | {money(p.monthly_cost, language)} | "
            f"{percent(p.roi_pct, language)}{' ⚠️' if p.thin_basis else ''} | {p.payback_month or '–'} |"
        )
    out.append("")
    out += [f"![{path.stem}]({path.name})" for path in images]
    return "\n".join(out) + "\n"
