from pathlib import Path

from ingest.chunking import MAX_WORDS, chunk_document
from ingest.loaders import Block, LoadedDocument, load


def doc(*blocks: Block, title: str = "Leitfaden") -> LoadedDocument:
    return LoadedDocument(title, list(blocks))


def test_every_chunk_keeps_title_and_heading_path():
    chunks = chunk_document(
        doc(
            Block("Leitfaden", 1),
            Block("Phase 1", 2),
            Block("Einleitung zur Phase eins mit genug Wörtern für einen eigenen Abschnitt hier."),
            Block("Team-Skills", 3),
            Block("Planen Sie 2.000 bis 5.000 Euro pro Person für Schulungen ein."),
            Block("Phase 2", 2),
            Block("Use Cases nach Machbarkeit, Nutzen und Aufwand bewerten, dann priorisieren."),
        )
    )
    assert [(c.title, c.section) for c in chunks] == [
        ("Leitfaden", "Phase 1"),
        ("Leitfaden", "Phase 1 > Team-Skills"),
        ("Leitfaden", "Phase 2"),
    ]
    assert chunks[1].indexed_text.startswith("Leitfaden — Phase 1 — Team-Skills\n")
    assert [c.position for c in chunks] == [0, 1, 2]


def test_long_section_is_split_at_paragraphs_and_each_piece_keeps_its_section():
    paragraph = " ".join(["Wort"] * 80) + "."
    chunks = chunk_document(doc(Block("Abschnitt", 2), *[Block(paragraph) for _ in range(6)]))
    assert len(chunks) >= 3
    assert all(c.section == "Abschnitt" for c in chunks)
    assert all(len(c.text.split()) <= MAX_WORDS for c in chunks)


def test_single_overlong_paragraph_is_split_at_sentences():
    sentence = " ".join(["Datenqualität"] * 30) + "."
    chunks = chunk_document(doc(Block("Daten", 2), Block(" ".join([sentence] * 20))))
    assert len(chunks) > 1
    assert all(len(c.text.split()) <= MAX_WORDS for c in chunks)


def test_markdown_loader_reads_title_headings_and_ignores_markup(tmp_path: Path):
    f = tmp_path / "guide.md"
    f.write_text("# Titel\n\n## Budget\n\nRechnen Sie mit **2.000 bis 5.000 Euro** pro [Person](x.html).\n")
    loaded = load(f)
    assert loaded.title == "Titel"
    chunks = chunk_document(loaded)
    assert chunks[0].section == "Budget"
    assert chunks[0].text == "Rechnen Sie mit 2.000 bis 5.000 Euro pro Person."


def test_plain_text_short_lines_before_prose_become_headings(tmp_path: Path):
    f = tmp_path / "notes.txt"
    f.write_text(
        "KI-Notizen\nDiese Notizen sammeln, was wir zur KI-Einführung besprochen haben.\n"
        "Quick Wins identifizieren\nSuchen Sie einfache Anwendungsfälle mit schnellen Erfolgen.\n"
        "Wie lange dauert es?\nEine vollständige Roadmap dauert 12 bis 18 Monate, Phasen je 3 bis 6.\n"
    )
    loaded = load(f)
    assert loaded.title == "KI-Notizen"  # the opening heading line names the text
    chunks = chunk_document(loaded)
    assert [c.section for c in chunks] == ["", "Quick Wins identifizieren", "Wie lange dauert es?"]


def test_section_metadata_below_a_heading_is_read_and_never_indexed_as_text(tmp_path: Path):
    page = tmp_path / "phase-1.md"
    page.write_text(
        "# Phase 1\n\n"
        "## Quick Wins: schnelle Erfolge\n"
        "<!-- leitfaden: Phase 1: Fundamentanalyse und Vorbereitung › Quick Wins identifizieren -->\n"
        "<!-- fragen: Womit fangen wir an? | Low hanging fruits? -->\n\n"
        "Einfache Anwendungsfälle wie die Ticket-Kategorisierung bringen schnelle Erfolge.\n\n"
        "### Beispiel\n\n"
        "<!-- ein Kommentar im Text -->\n"
        "Ein interner FAQ-Chatbot ist weniger riskant als automatische Kundenkorrespondenz.\n",
        encoding="utf-8",
    )
    chunks = chunk_document(load(page))
    first, second = chunks
    assert first.guide == "Phase 1: Fundamentanalyse und Vorbereitung › Quick Wins identifizieren"
    assert first.asks == ("Womit fangen wir an?", "Low hanging fruits?")
    assert "<!--" not in first.text and "leitfaden" not in first.text
    assert "Low hanging fruits?" in first.lexical_text and "Low hanging" not in first.indexed_text
    # a subsection without metadata of its own restates its parent's guide section, and answers no listed question
    assert second.guide == first.guide and second.asks == ()
    assert "Kommentar" not in second.text
