"""What the assessment charts say (issue 24): German decimal commas, and a risk matrix that explains its
colours and its numbers."""

from __future__ import annotations

from bot.dialogs import charts
from bot.dialogs.outcome import Chart


def test_figures_read_with_a_decimal_comma_in_german_and_two_decimals_at_most():
    assert charts.number(2.6666, "de") == "2,67" and charts.number(2.6666, "en") == "2.67"
    assert charts.number(3.0, "de") == "3" and charts.number(4, "de") == "4"


def test_bars_in_german_show_decimal_commas():
    plt = charts.load_drawing()
    chart = Chart("bars", "Skills", {"labels": ["KI", "Daten"], "values": [2.67, 3.5], "max": 5}, language="de")
    figure = charts._bars(plt, chart)
    shown = [t.get_text() for t in figure.axes[0].texts]
    plt.close(figure)
    assert shown == ["2,67", "3,5"]


def test_the_risk_matrix_has_a_legend_for_its_colours_and_names_its_numbered_risks():
    plt = charts.load_drawing()
    data = {
        "risks": [{"number": 1, "x": 4, "y": 5, "name": "Datenleck"}, {"number": 2, "x": 2, "y": 2, "name": "Bias"}],
        "levels": ["hoch", "mittel", "niedrig"],
        "x_label": "Wahrscheinlichkeit",
        "y_label": "Auswirkung",
    }
    figure = charts._heatmap(plt, Chart("heatmap", "Risiken", data))
    axes = figure.axes[0]
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    texts = " ".join(t.get_text() for t in axes.texts)
    plt.close(figure)
    assert legend == ["hoch (≥ 15)", "mittel (8–14)", "niedrig (< 8)"]
    assert "1  Datenleck" in texts and "2  Bias" in texts


def test_the_quick_win_area_is_the_scorings_rule_and_no_two_texts_of_eight_use_cases_overlap():
    from bot.dialogs.scoring.use_cases import is_quick_win

    plt = charts.load_drawing()
    names = ["Ticket-Kategorisierung", "Intelligente Dokumentensuche", "Chatbot für interne IT-Anfragen",
             "Automatische Monatsberichte für Controlling und Geschäftsführung", "E-Mail-Klassifizierung, Vertrieb",
             "Vertragsanalyse", "Bestellungen automatisch erfassen und prüfen", "Protokolle"]  # fmt: skip
    spots = [(2, 4), (2, 4), (3, 4), (4, 4), (1, 4), (2, 4), (5, 2), (2, 4)]  # five alike at (2, 4)
    points = [
        {"label": n, "x": x, "y": y, "size": 3, "highlight": x <= 2} for n, (x, y) in zip(names, spots, strict=True)
    ]
    data = {"points": points, "x_label": "Aufwand", "y_label": "Nutzen", "quick": {"value": 4, "effort": 2}}
    figure = charts._matrix(plt, Chart("matrix", "Use Cases", data))
    axes = figure.axes[0]
    [area] = axes.patches
    x0, y0 = area.get_xy()
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    texts = [t for t in axes.texts + figure.texts if t.get_text()]
    boxes = [t.get_window_extent(renderer) for t in texts]
    page = figure.bbox
    plt.close(figure)
    assert (x0, x0 + area.get_width(), y0, y0 + area.get_height()) == (0.5, 2.5, 3.5, 5.5)  # effort ≤ 2, value ≥ 4
    key = [t.get_text() for t in figure.texts]
    assert key[0] == " 1  Ticket-Kategorisierung" and key[3].endswith("…") and len(key) == 8
    overlapping = [(a.get_text(), b.get_text()) for i, (a, ba) in enumerate(zip(texts, boxes, strict=True))
                   for b, bb in zip(texts[i + 1:], boxes[i + 1:], strict=True) if ba.overlaps(bb)]  # fmt: skip
    assert overlapping == []
    assert all(page.x0 <= b.x0 and b.x1 <= page.x1 for b in boxes)  # nothing runs off the edge
    assert is_quick_win({"value": 4, "effort": 2, "feasibility": 3}) and not is_quick_win(
        {"value": 4, "effort": 3, "feasibility": 5}
    )


def test_names_with_a_comma_never_read_as_two_people():
    from bot.dialogs import load_catalog
    from bot.dialogs.outcome import listed
    from bot.dialogs.scoring.skills import skills
    from bot.settings import Settings

    assert listed(["Anna", "Ben"]) == "Anna, Ben" and listed(["Jonas, Admin", "Sabine"]) == "Jonas, Admin; Sabine"
    spec = load_catalog(Settings().assessments_dir).get("skills")
    member = {"prompting": 2, "process": 2, "api": 2, "programming": 2, "champion": True}
    members = [{"name": "Jonas, Admin", **member}, {"name": "Sabine", **member}]
    text = "\n".join(skills(spec, {"members": members}, "de").lines)
    assert "Jonas, Admin; Sabine" in text and "Jonas, Admin, Sabine" not in text


def test_an_erased_author_reads_in_the_readers_language():
    from bot.dialogs.results import author_shown
    from bot.storage.personal import REMOVED

    assert author_shown(REMOVED, "en") == "(deleted)" and author_shown(REMOVED, "de") == "(gelöscht)"
    assert author_shown("anna", "en") == "anna"


def test_the_skills_chart_shows_each_person_and_the_team_mean():
    from bot.dialogs import load_catalog
    from bot.dialogs.scoring.skills import skills
    from bot.settings import Settings

    spec = load_catalog(Settings().assessments_dir).get("skills")
    ratings = {"api": 2, "programming": 3, "process": 4, "ml_llm": 1, "prompting": 5, "data_etl": 2}
    members = [{"name": "Anna", **ratings}, {"name": "Ben", **{k: 3 for k in ratings}}]
    chart = skills(spec, {"members": members}, "de").chart
    assert chart.kind == "table" and chart.data["rows"] == ["Anna", "Ben", "Ø Team"]
    assert chart.data["values"][0][0] == 2 and chart.data["values"][2][0] == 2.5
    plt = charts.load_drawing()
    figure = charts._table(plt, chart)
    shown = [c.get_text().get_text() for c in figure.axes[0].tables[0].get_celld().values()]
    plt.close(figure)
    assert "2,5" in shown and "Anna" in shown  # German decimal comma, a row per person


def test_charts_drawn_on_several_threads_at_once_never_share_a_figure():
    """Turns of different users draw at once (LOTSE_CORE_THREADS): each gets a figure of its own. With
    pyplot's shared registry of figures, two threads were at times handed the same one."""
    from tests.threads import at_once

    drawing = charts.load_drawing()
    shared: list[int] = []

    def draw(n: int) -> None:
        for i in range(100):
            figure, axes = drawing.subplots(figsize=(2, 2))
            axes.set_title(f"{n}-{i}")
            if len(figure.axes) != 1 or figure.axes[0].get_title() != f"{n}-{i}":
                shared.append(n)
            drawing.close(figure)

    failed = at_once(draw)  # pyplot failed here with "OrderedDict mutated during iteration" in its registry
    assert shared == [] and failed == []
