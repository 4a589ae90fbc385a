"""The terminal's rendering of replies: Markdown tables as columns, sources with the guide's section,
the nearest sections with a refusal, and the JSON lines of `lotse chat --json`."""

from bot.channels.console import render, tables, to_json
from bot.core.messages import Citation, Reply


def test_markdown_tables_are_printed_as_aligned_columns():
    text = (
        "Kosten:\n| Posten | Betrag |\n|---|---|\n| Schulung pro Person | 2.000–5.000 € |\n"
        "| Betrieb | 2.000–5.000 €/Monat |"
    )
    assert tables(text).split("\n") == [
        "Kosten:",
        "Posten               Betrag",
        "───────────────────  ───────────────────",
        "Schulung pro Person  2.000–5.000 €",
        "Betrieb              2.000–5.000 €/Monat",
    ]
    assert tables("a | b, but no table") == "a | b, but no table"


def citation(number: int, used: bool = True) -> Citation:
    return Citation(
        number,
        "Phase 1",
        "de/02.md",
        "Quick Wins",
        "Ticket-Kategorisierung …",
        0.5,
        "Phase 1: Fundamentanalyse und Vorbereitung › Quick Wins identifizieren",
        used,
    )


def test_an_answer_names_the_guides_section_of_each_source():
    shown = render(Reply("Die Ticket-Kategorisierung … [1]", "de", [citation(1)], mode="extractive"))
    assert "[1] Phase 1 › Quick Wins (de/02.md)" in shown
    assert "Leitfaden › Phase 1: Fundamentanalyse und Vorbereitung › Quick Wins identifizieren" in shown


def test_a_refusal_offers_the_nearest_sections():
    reply = Reply("Dazu steht nichts …", "de", answered=False, mode="extractive", nearest=[citation(0, False)])
    assert "Meinten Sie:\n  – Phase 1 › Quick Wins (de/02.md)" in render(reply)


def test_json_of_a_reply_has_the_ask_fields_and_kind_and_action():
    reply = Reply(
        "Dazu steht nichts …", "de", answered=False, mode="extractive", nearest=[citation(0, False)], kind="refusal"
    )
    data = to_json("Was kostet Copilot?", reply)
    assert list(data) == ["question", "answered", "answer", "language", "mode", "sources", "kind", "action"]
    assert data["kind"] == "refusal" and data["action"] is None and data["answered"] is False
    assert data["sources"][0]["used"] is False and data["sources"][0]["section"] == "Quick Wins"


def test_code_marks_are_not_printed_and_a_piped_chat_echoes_what_was_asked():
    import io

    from bot.channels import console

    assert console.render(Reply("Tippen Sie `/plan start` – *wichtig*", "de")) == "Tippen Sie /plan start – wichtig"

    class Echo:
        def handle(self, message):
            return Reply(f"Antwort auf `{message.text}`", "de")

    out = io.StringIO()
    console.run(Echo(), "anna", stdin=io.StringIO("Frage eins\nFrage zwei\n"), stdout=out)
    assert out.getvalue().splitlines() == ["› Frage eins", "Antwort auf Frage eins", "", "› Frage zwei",
                                           "Antwort auf Frage zwei", ""]  # fmt: skip


def test_an_empty_enter_at_a_question_skips_it_visibly(monkeypatch):
    import io

    from bot.channels import console

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    class Asking:
        said: list[str] = []

        def unfinished(self, key, language):
            return []

        def in_dialog(self, message):
            return True

        def handle(self, message):
            self.said.append(message.text)
            return Reply("Nächste Frage?", "de")

    typed = iter(["Antwort", ""])

    def fake_input(prompt=""):
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    out, core = Terminal(), Asking()
    console.run(core, "anna", stdin=Terminal(), stdout=out)
    assert core.said == ["Antwort", "überspringen"] and "  (überspringen)" in out.getvalue()

    import io  # piped, a blank line at a question skips it too, and the transcript shows it

    core.said.clear()
    out = io.StringIO()
    console.run(core, "anna", stdin=io.StringIO("Antwort\n\n"), stdout=out)
    assert core.said == ["Antwort", "überspringen"] and "› überspringen" in out.getvalue()


def test_a_number_picks_a_button_of_an_offer_or_confirm_in_the_terminal():
    import io

    from bot.channels import console
    from bot.core.messages import Choice, Question

    class Offering:
        seen: list = []

        def handle(self, message):
            self.seen.append((message.text, message.value))
            if message.value:
                return Reply(f"gewählt: {message.value}", "de")
            question = Question("action", "clarify", "choice", [Choice("offer:a:{}", "A"), Choice("ask:x", "B")],
                                steered=False)  # fmt: skip
            return Reply("Welches?", "de", question=question)

    out, core = io.StringIO(), Offering()
    console.run(core, "anna", stdin=io.StringIO("mach was\n2\n"), stdout=out)
    assert core.seen == [("mach was", None), ("", "ask:x")]
    assert "zurück · überspringen" not in out.getvalue()  # no dialog controls under an offer


def test_the_terminal_names_only_the_words_a_question_takes():
    from bot.core.messages import Question

    required = Reply("Wie heißt das System?", "de", question=Question("systems", "name", "text", can_go_back=True))
    optional = Reply("Modell?", "de", question=Question("register_entry", "model", "text", optional=True))
    assert render(required).endswith("(zurück · pause · abbrechen)")  # no "überspringen" it would refuse
    assert render(optional).endswith("(überspringen · pause · abbrechen)")  # the first question: no "zurück"


def test_only_a_plans_tasks_get_the_plan_commands_hint():
    from bot.core.messages import Choice, Task

    gaps = Reply(
        "*Wissenslücken*", "de", tasks=[Task("4", "„Wer ist bei uns …?“", actions=[Choice("gap:answer:4", "Antwort")])]
    )
    assert "/plan erledigt" not in render(gaps)
    week = Reply("*Woche 2*", "de", tasks=[Task("2.1", "Interviews", actions=[Choice("plan:done:2.1", "erledigt")])])
    assert "/plan erledigt 2.1" in render(week)
