"""PNG charts of pilot reports with matplotlib (Agg backend, imported on first use like the assessment
charts in `bot.dialogs.charts`).

- `<stem>-kpis.png`: per KPI three horizontal bars — baseline, now, target — on an index where the
  baseline is 100, each labelled with the real value and unit. A KPI without measurements shows
  baseline and target only. "now" is green when it is better than the baseline, red when worse.
- `<stem>-ratings.png`: how many responses gave 1 … 5, with the mean in the title.
- `<stem>-roi.png` (quarter only): cumulative ROI in per cent at the end of each month, with a zero line.

A chart without data is not drawn, and a pilot whose figures are withheld (too few anonymous
responses) gets no charts at all; the render functions return the paths they wrote.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from bot.dialogs.charts import AMBER, GREEN, GREY, RED, load_drawing
from bot.pilots.report import KpiFigure, PilotFigures, Report

BLUE = "#1565c0"
DPI = 100
MAX_KPIS = 24  # bars in the quarter's KPI chart; the rest are counted in its subtitle
WIDTH = 9.0  # inches

LABELS = {
    "de": {
        "baseline": "Ausgangswert",
        "now": "Aktuell",
        "now_better": "Aktuell (besser)",
        "now_worse": "Aktuell (schlechter)",
        "now_same": "Aktuell (unverändert)",
        "target": "Ziel",
        "lower": "niedriger ist besser",
        "higher": "höher ist besser",
        "kpis": "KPIs",
        "index": "Index (Ausgangswert = 100)",
        "more": "+{n} weitere",
        "ratings": "Bewertungen",
        "rating": "Bewertung (1 = schlecht, 5 = sehr gut)",
        "count": "Anzahl",
        "mean": "Mittelwert",
        "responses": "{n} Bewertungen",
        "responses_one": "1 Bewertung",
        "roi": "ROI kumuliert (%)",
        "roi_title": "ROI über die Zeit",
    },
    "en": {
        "baseline": "Baseline",
        "now": "Now",
        "now_better": "Now (better)",
        "now_worse": "Now (worse)",
        "now_same": "Now (unchanged)",
        "target": "Target",
        "lower": "lower is better",
        "higher": "higher is better",
        "kpis": "KPIs",
        "index": "Index (baseline = 100)",
        "more": "+{n} more",
        "ratings": "Ratings",
        "rating": "Rating (1 = poor, 5 = very good)",
        "count": "Count",
        "mean": "mean",
        "responses": "{n} ratings",
        "responses_one": "1 rating",
        "roi": "Cumulative ROI (%)",
        "roi_title": "ROI over time",
    },
}


def render_pilot(figures: PilotFigures, folder: Path, language: str, stem: str) -> list[Path]:
    """The KPI and rating charts of one pilot, as far as there is data for them."""
    if figures.withheld:
        return []
    labels = _labels(language)
    plt = load_drawing()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    kpis = [(_kpi_label(kpi, labels), kpi) for kpi in figures.kpis]
    if kpis:
        title = f"{labels['kpis']} – {figures.name}"
        written.append(_kpi_chart(plt, kpis, title, labels["index"], labels, language, folder / f"{stem}-kpis.png"))
    if sum(figures.ratings.values()):
        path = folder / f"{stem}-ratings.png"
        written.append(_ratings_chart(plt, figures.ratings, figures.name, labels, language, path))
    return written


def render_quarter(report: Report, folder: Path, language: str, stem: str) -> list[Path]:
    """KPIs of all pilots shown (at most MAX_KPIS, measured ones first), the ratings summed over them,
    and the cumulative ROI month by month."""
    labels = _labels(language)
    shown = [p for p in report.pilots if not p.withheld]
    kpis = [(_kpi_label(kpi, labels, pilot.name), kpi) for pilot in shown for kpi in pilot.kpis]
    ratings: dict[int, int] = {}
    for pilot in shown:
        for rating, count in pilot.ratings.items():
            ratings[rating] = ratings.get(rating, 0) + count
    timeline = report.roi_timeline
    if not kpis and not sum(ratings.values()) and all(value is None for _, value in timeline):
        return []
    plt = load_drawing()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if kpis:
        subtitle = labels["index"]
        if len(kpis) > MAX_KPIS:
            measured = [i for i, (_, kpi) in enumerate(kpis) if kpi.now is not None]
            unmeasured = [i for i, (_, kpi) in enumerate(kpis) if kpi.now is None]
            chosen = sorted((measured + unmeasured)[:MAX_KPIS])  # measured first, then in report order
            subtitle += " · " + labels["more"].format(n=len(kpis) - MAX_KPIS)
            kpis = [kpis[i] for i in chosen]
        title = f"{labels['kpis']} – {report.title}"
        written.append(_kpi_chart(plt, kpis, title, subtitle, labels, language, folder / f"{stem}-kpis.png"))
    if sum(ratings.values()):
        path = folder / f"{stem}-ratings.png"
        written.append(_ratings_chart(plt, ratings, report.title, labels, language, path))
    if any(value is not None for _, value in timeline):
        written.append(_roi_chart(plt, timeline, report.title, labels, language, folder / f"{stem}-roi.png"))
    return written


# -- the charts -------------------------------------------------------------------------------


def _kpi_chart(
    plt, kpis: list[tuple[str, KpiFigure]], title: str, subtitle: str, labels: dict, language: str, path: Path
) -> Path:
    height = 0.78 * len(kpis) + 1.9
    figure, axes = plt.subplots(figsize=(WIDTH, height))
    try:
        bars: dict[str, tuple[str, list, list]] = {}  # legend key → colour, y, width
        ends = [100.0]
        for i, (_, kpi) in enumerate(kpis):
            values = [("baseline", kpi.baseline), ("now", kpi.now), ("target", kpi.target)]
            values = [(key, value) for key, value in values if value is not None]
            offsets = (-0.27, 0.0, 0.27) if len(values) == 3 else (-0.14, 0.14)
            for offset, (key, value) in zip(offsets, values, strict=True):
                index = _index(value, kpi)
                ends.append(index)
                if key == "now":
                    better = None if value == kpi.baseline else kpi.improved
                    key = {True: "now_better", False: "now_worse"}.get(better, "now_same")
                color = {"baseline": GREY, "target": BLUE, "now_better": GREEN, "now_worse": RED}.get(key, AMBER)
                _, ys, widths = bars.setdefault(key, (color, [], []))
                ys.append(i + offset)
                widths.append(index)
                text = _number(value, language) + (f" {kpi.unit}" if kpi.unit else "")
                axes.text(max(index, 0) + 1.5, i + offset, text, va="center", fontsize=8)
        for key in ("baseline", "now_better", "now_same", "now_worse", "target"):
            if key in bars:
                color, ys, widths = bars[key]
                axes.barh(ys, widths, height=0.25, color=color, label=labels[key])
        low, high = min(min(ends), 0.0), max(ends)
        axes.set_xlim(low * 1.1, high * 1.3 + 5)
        axes.set_ylim(len(kpis) - 0.5, -0.5)
        axes.set_yticks([])  # labels as plain texts: tick objects cost more than the rest of the chart
        left_edge = axes.get_yaxis_transform()
        for i, (label, _) in enumerate(kpis):
            axes.text(-0.015, i, label, transform=left_edge, ha="right", va="center", fontsize=8.5)
        axes.axvline(100, color=GREY, linestyle="--", linewidth=1)
        axes.set_xlabel(labels["index"])
        figure.legend(loc="lower center", ncol=5, fontsize=8, frameon=False)
        _titles(figure, title, subtitle, height)
        longest = max(len(line) for label, _ in kpis for line in label.split("\n"))
        left = min(0.5, (0.068 * longest + 0.3) / WIDTH)
        figure.subplots_adjust(left=left, right=0.97, top=1 - 0.95 / height, bottom=0.95 / height)
        return _save(figure, path)
    finally:
        plt.close(figure)


def _ratings_chart(plt, ratings: dict[int, int], subject: str, labels: dict, language: str, path: Path) -> Path:
    from matplotlib.ticker import MaxNLocator

    counts = [ratings.get(r, 0) for r in range(1, 6)]
    total = sum(counts)
    mean = sum(r * n for r, n in zip(range(1, 6), counts, strict=True)) / total
    figure, axes = plt.subplots(figsize=(7, 4.2))
    try:
        axes.bar(range(1, 6), counts, color=[RED, RED, AMBER, GREEN, GREEN], width=0.65)
        for rating, count in zip(range(1, 6), counts, strict=True):
            axes.text(rating, count, str(count), ha="center", va="bottom", fontsize=9)
        axes.axvline(mean, color=GREY, linestyle="--", linewidth=1, zorder=0)
        axes.set_xticks(range(1, 6))
        axes.set_xlim(0.4, 5.6)
        axes.set_ylim(0, max(counts) * 1.15 + 0.5)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel(labels["rating"])
        axes.set_ylabel(labels["count"])
        mean_text = _number(mean, language, digits=1)
        title = f"{labels['ratings']} – {subject} ({labels['mean']} {mean_text})"
        _titles(figure, title, labels["responses_one" if total == 1 else "responses"].format(n=total), 4.2)
        figure.subplots_adjust(left=0.11, right=0.97, top=0.84, bottom=0.13)
        return _save(figure, path)
    finally:
        plt.close(figure)


def _roi_chart(
    plt, timeline: list[tuple[str, float | None]], subject: str, labels: dict, language: str, path: Path
) -> Path:
    points = [(x, value) for x, (_, value) in enumerate(timeline) if value is not None]
    xs, ys = [x for x, _ in points], [y for _, y in points]
    figure, axes = plt.subplots(figsize=(8, 4.2))
    try:
        axes.axhline(0, color=GREY, linewidth=1)
        gain, loss = [y >= 0 for y in ys], [y <= 0 for y in ys]
        axes.fill_between(xs, ys, 0, where=gain, interpolate=True, color=GREEN, alpha=0.15, linewidth=0)
        axes.fill_between(xs, ys, 0, where=loss, interpolate=True, color=RED, alpha=0.15, linewidth=0)
        axes.plot(xs, ys, color=BLUE, marker="o", markersize=4, linewidth=1.8)
        axes.annotate(
            f"{_number(ys[-1], language, digits=0)} %",
            (xs[-1], ys[-1]),
            textcoords="offset points",
            xytext=(0, 7),
            ha="center",
            fontsize=9,
            color=GREEN if ys[-1] >= 0 else RED,
        )
        step = max(1, -(-len(timeline) // 18))  # at most 18 month labels
        ticks = list(range(0, len(timeline), step))
        axes.set_xticks(ticks, [timeline[i][0] for i in ticks], rotation=45, ha="right", fontsize=8)
        axes.set_xlim(-0.5, len(timeline) - 0.5)
        low, high = min(ys + [0.0]), max(ys + [0.0])
        margin = (high - low) * 0.12 or 10
        axes.set_ylim(low - margin, high + margin)
        axes.set_ylabel(labels["roi"])
        axes.grid(True, axis="y", alpha=0.3)
        _titles(figure, f"{labels['roi_title']} – {subject}", None, 4.2)
        figure.subplots_adjust(left=0.12, right=0.97, top=0.89, bottom=0.2)
        return _save(figure, path)
    finally:
        plt.close(figure)


# -- helpers ----------------------------------------------------------------------------------


def _labels(language: str) -> dict[str, str]:
    return LABELS.get(language, LABELS["de"])


def _kpi_label(kpi: KpiFigure, labels: dict, pilot: str | None = None) -> str:
    name = f"{pilot} · {kpi.name}" if pilot else kpi.name
    direction = labels["lower"] if kpi.direction == "lower" else labels["higher"]
    return f"{textwrap.shorten(name, 52, placeholder='…')}\n({direction})"


def _index(value: float, kpi: KpiFigure) -> float:
    """The value on a scale where the baseline is 100 and 1 point is 1 % of the baseline; a baseline of
    0 takes the largest of now and target as the 100 % step instead."""
    scale = abs(kpi.baseline) or max(abs(kpi.target), abs(kpi.now or 0.0)) or 1.0
    return 100 + (value - kpi.baseline) / scale * 100


def _number(value: float, language: str, digits: int | None = None) -> str:
    """1234.5 → "1.235" (de) / "1,235" (en); without `digits` as few as the value needs, at most 2."""
    if digits is None:
        shown = 0 if abs(value) >= 1000 else 1 if abs(value) >= 10 else 2
        text = f"{value:,.{shown}f}"
        text = text.rstrip("0").rstrip(".") if shown else text
    else:
        text = f"{value:,.{digits}f}"
    text = text.replace("-", "−")  # a minus sign, as the report's texts write it, not a hyphen
    return text.translate(str.maketrans(",.", ".,")) if language == "de" else text


def _titles(figure, title: str, subtitle: str | None, height: float) -> None:
    """Title and grey subtitle as figure texts at fixed distances from the top (an axes title would make
    matplotlib measure the whole axis to place it)."""
    figure.text(0.5, 1 - 0.3 / height, title, ha="center", va="center", fontsize=12, fontweight="bold")
    if subtitle:
        figure.text(0.5, 1 - 0.62 / height, subtitle, ha="center", va="center", fontsize=9, color="#555555")


def _save(figure, path: Path) -> Path:
    figure.savefig(path, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})  # zlib's fastest: 3× faster
    return path
