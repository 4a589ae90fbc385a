"""The bundled knowledge base as issue 19 asks for it: every section says which section of the guide it
restates and which questions it answers, and reads on its own when quoted in a chat."""

import re
from pathlib import Path

import pytest

from ingest.chunking import chunk_document
from ingest.loaders import load

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = ROOT / "knowledge"
GUIDE = ROOT.parent / "shared" / "seed" / "ki-roadmap-leitfaden.txt"  # the source, beside the checkout
FILES = sorted(KNOWLEDGE.rglob("*.md"))
# text that only makes sense inside a document ("siehe oben", "in the next section")
DOCUMENT_TALK = re.compile(
    r"\b(siehe (oben|unten|stolpersteine|abschnitt|kapitel)|wie (oben|unten) beschrieben|im (folgenden|nächsten) "
    r"abschnitt|in den folgenden abschnitten|in diesem (kapitel|abschnitt)|see (above|below)|"
    r"in the (next|following|previous) sections?|as described (above|below)|in this (chapter|section))\b",
    re.IGNORECASE,
)


def test_both_languages_have_the_same_files_and_every_file_has_text():
    assert [p.name for p in sorted((KNOWLEDGE / "de").glob("*.md"))]
    assert len(list((KNOWLEDGE / "de").glob("*.md"))) == len(list((KNOWLEDGE / "en").glob("*.md")))


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_section_names_its_guide_section_and_the_questions_it_answers(path: Path):
    chunks = chunk_document(load(path))
    assert chunks
    for chunk in chunks:
        assert chunk.guide, f"{path.name}: {chunk.section or '(before the first heading)'} names no guide section"
        assert chunk.asks or " > " in chunk.section or len(chunks) == 1, f"{path.name}: {chunk.section}: no questions"


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_section_talks_about_the_document_around_it(path: Path):
    found = [m.group(0) for m in DOCUMENT_TALK.finditer(path.read_text("utf-8"))]
    assert not found, f"{path.name}: {found}"


@pytest.mark.skipif(not GUIDE.is_file(), reason="the guide is not beside this checkout")
def test_every_guide_reference_is_a_heading_of_the_guide():
    headings = {line.strip() for line in GUIDE.read_text("utf-8").splitlines() if line.strip()}
    for path in FILES:
        for chunk in chunk_document(load(path)):
            for reference in chunk.guide.split(" ; "):
                for part in reference.split(" › "):
                    assert part.strip() in headings, (
                        f"{path.name}: {chunk.section}: {part!r} is no heading of the guide"
                    )
