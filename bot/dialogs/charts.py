"""PNG charts of assessment results with matplotlib (Agg backend: no screen needed).

Four kinds cover the six assessments: `bars` (readiness profile, system ratings, team skills),
`matrix` (use cases: value over effort), `heatmap` (risks: likelihood × impact), `table` (data
quality per source and dimension). matplotlib is imported on first use; it costs about half a
second, which chat turns that draw no chart should not pay.

Figures are made without pyplot: its registry of open figures is global and unlocked, and turns of
different users draw on several threads at once (bot/channels/bridge.py). Two threads could be handed
the same pyplot figure and draw two teams' data into one picture; a `Figure` of one's own cannot.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

from bot.dialogs.outcome import Chart

GREEN, AMBER, RED, GREY = "#2e7d32", "#f9a825", "#c62828", "#9e9e9e"


class Drawing:
    """The little of pyplot's interface the charts use, on figures of their own (Agg, in no registry)."""

    def __init__(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Rectangle

        self.Figure, self.Canvas, self.Rectangle = Figure, FigureCanvasAgg, Rectangle

    def figure(self, figsize: tuple[float, float]):
        figure = self.Figure(figsize=figsize)
        self.Canvas(figure)  # the figure's canvas from now on: PNGs, and text sizes for the layout
        return figure

    def subplots(self, figsize: tuple[float, float]):
        figure = self.figure(figsize)
        return figure, figure.subplots()

    def close(self, figure) -> None:
        """Nothing to close: the figure is in no registry and goes with its last reference."""


_drawing: Drawing | None = None


def load_drawing() -> Drawing:
    """matplotlib, imported once (Drawing's construction is idempotent: two threads at once make two)."""
    global _drawing
    if _drawing is None:
        _drawing = Drawing()
    return _drawing


def warm_up() -> None:
    """Import matplotlib now (a server does this at start, on a thread, so no report waits for it)."""
    load_drawing()


def render(chart: Chart, path: Path) -> Path:
    """Draw `chart` into `path` (PNG) and return the path; the file appears whole or not at all."""
    plt = load_drawing()
    draw = {"bars": _bars, "matrix": _matrix, "heatmap": _heatmap, "table": _table}[chart.kind]
    figure = draw(plt, chart)
    figure.suptitle(chart.title, fontsize=12, fontweight="bold")
    figure.tight_layout()
    save(figure, path, dpi=110)
    return path


def save(figure, path: Path, **options) -> None:
    """The figure as a PNG at `path`, written beside it and then renamed: a reader (an upload, the
    /charts route, another thread or replica drawing the same chart) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    partial = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            figure.savefig(file, format="png", **options)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def number(value: float, language: str) -> str:
    """A figure as people read it: at most two decimals, with a decimal comma in German ("2,67")."""
    text = f"{round(value, 2):g}"
    return text.replace(".", ",") if language == "de" else text


def _bars(plt, chart: Chart):
    data = chart.data
    labels, values = data["labels"], data["values"]
    figure, axes = plt.subplots(figsize=(7, 0.5 * max(len(labels), 3) + 1.2))
    threshold = data.get("threshold")
    if data.get("binary"):
        colors = [GREEN if v else RED for v in values]
        shown = [1] * len(values)
    else:
        colors = [
            GREEN if threshold is None or v >= threshold else AMBER if v >= threshold - 1 else RED for v in values
        ]
        shown = values
    axes.barh(range(len(labels)), shown, color=colors)
    axes.set_yticks(range(len(labels)), labels)
    axes.invert_yaxis()
    axes.set_xlim(0, data.get("max", max(values, default=1)))
    if data.get("binary"):
        axes.set_xticks([])
        for y, value in enumerate(values):
            axes.text(0.5, y, "✓" if value else "✗", ha="center", va="center", color="white", fontsize=14)
    else:
        for y, value in enumerate(values):
            axes.text(value + 0.05, y, number(value, chart.language), va="center")
        if threshold is not None:
            axes.axvline(threshold, color=GREY, linestyle="--", linewidth=1)
    return figure


def _matrix(plt, chart: Chart):
    """Use cases by effort and value: each a numbered dot, the names in a key beside the matrix (names
    written at the dots ran into each other with eight use cases and ran off the edge when long)."""
    data = chart.data
    points = data["points"]
    figure = plt.figure(figsize=(10, max(5.5, 1.6 + 0.28 * len(points))))
    axes = figure.add_axes((0.08, 0.1, 0.5, 0.8))
    quick = data.get("quick") or {"value": 4, "effort": 2}
    # the quick-win area, drawn by the scoring's own rule (value ≥ 4, effort ≤ 2)
    axes.add_patch(plt.Rectangle((0.5, quick["value"] - 0.5), quick["effort"], 5.5 - (quick["value"] - 0.5),
                                 color=GREEN, alpha=0.1))  # fmt: skip
    alike = Counter((p["x"], p["y"]) for p in points)
    placed: dict[tuple[int, int], int] = {}
    for number, point in enumerate(points, 1):
        color = GREEN if point["highlight"] else "#1565c0"
        spot = (point["x"], point["y"])
        n = placed.get(spot, 0)  # use cases rated alike: side by side around their spot, four to a row
        placed[spot] = n + 1
        row, column, rows = n // 4, n % 4, (alike[spot] + 3) // 4
        in_row = min(4, alike[spot] - 4 * row)
        x = point["x"] + (column - (in_row - 1) / 2) * 0.2
        y = point["y"] + ((rows - 1) / 2 - row) * 0.3
        axes.scatter(x, y, s=220, color=color, alpha=0.85)
        axes.text(x, y, str(number), ha="center", va="center", fontsize=8, color="white", fontweight="bold")
    axes.set_xlim(0.5, 5.5)
    axes.set_ylim(0.5, 5.5)
    axes.set_xticks(range(1, 6))
    axes.set_yticks(range(1, 6))
    axes.set_xlabel(data["x_label"])
    axes.set_ylabel(data["y_label"])
    axes.grid(True, alpha=0.3)
    top = 0.9
    step = min(0.05, 0.8 / max(len(points), 1))
    for number, point in enumerate(points, 1):  # the key: which number is which use case
        label = point["label"] if len(point["label"]) <= 44 else point["label"][:43] + "…"
        color = GREEN if point["highlight"] else "#1565c0"
        figure.text(0.61, top - step * (number - 1), f"{number:>2}  {label}", fontsize=9, va="top", color=color)
    return figure


def _heatmap(plt, chart: Chart):
    data = chart.data
    figure, axes = plt.subplots(figsize=(8.5, 5.5))
    for x in range(1, 6):
        for y in range(1, 6):
            score = x * y
            color = RED if score >= 15 else AMBER if score >= 8 else GREEN
            axes.add_patch(plt.Rectangle((x - 0.5, y - 0.5), 1, 1, color=color, alpha=0.35))
    cells: dict[tuple[int, int], list[str]] = {}
    for risk in data["risks"]:
        cells.setdefault((risk["x"], risk["y"]), []).append(str(risk["number"]))
    for (x, y), numbers in cells.items():
        axes.text(x, y, ", ".join(numbers), ha="center", va="center", fontsize=10, fontweight="bold")
    axes.set_xlim(0.5, 5.5)
    axes.set_ylim(0.5, 5.5)
    axes.set_xticks(range(1, 6))
    axes.set_yticks(range(1, 6))
    axes.set_xlabel(data["x_label"])
    axes.set_ylabel(data["y_label"])
    if data.get("levels"):  # what the colours mean (score = likelihood × impact)
        high, medium, low = data["levels"]
        patches = [plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.35) for c in (RED, AMBER, GREEN)]
        axes.legend(patches, [f"{high} (≥ 15)", f"{medium} (8–14)", f"{low} (< 8)"], loc="upper left",
                    bbox_to_anchor=(1.02, 1), fontsize=8, frameon=False)  # fmt: skip
    named = [f"{r['number']}  {r['name']}" for r in data["risks"] if r.get("name")]
    if named:  # which number is which risk, beside the matrix
        axes.text(1.04, 0.62, "\n".join(named[:20]), transform=axes.transAxes, fontsize=8, va="top")
    return figure


def _table(plt, chart: Chart):
    data = chart.data
    rows, columns, values = data["rows"], data["columns"], data["values"]
    figure, axes = plt.subplots(figsize=(7.5, 0.45 * max(len(rows), 2) + 1.2))
    axes.axis("off")
    text = [[number(v, chart.language) if isinstance(v, int | float) else "–" for v in row] for row in values]
    colors = [[_cell_color(v) for v in row] for row in values]
    if rows:
        table = axes.table(cellText=text, rowLabels=rows, colLabels=columns, cellColours=colors, loc="center")
        table.scale(1, 1.4)
    return figure


def _cell_color(value) -> str:
    if not isinstance(value, int | float):
        return "white"
    return "#c8e6c9" if value >= 4 else "#fff9c4" if value >= 3 else "#ffcdd2"
