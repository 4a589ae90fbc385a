"""Heading-aware chunking: one chunk per section, a long section split at paragraph (then sentence)
boundaries. Every chunk keeps its document title and heading path, for retrieval and for citations."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.loaders import Block, LoadedDocument

MAX_WORDS = 220  # a section of the guide is 60–250 words; a question's facts rarely span more
MIN_WORDS = 8
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ0-9\"„(])")


@dataclass(frozen=True)
class Chunk:
    title: str
    section: str  # heading path below the title, " > " separated; "" for text before any heading
    text: str
    position: int
    guide: str = ""  # the guide's section(s) this chunk restates, from its heading's metadata
    asks: tuple[str, ...] = ()  # questions its section answers (heading metadata), matched against questions

    @property
    def heading(self) -> str:
        """The chunk's own heading (the last of its path), or the document title."""
        return self.section.split(" > ")[-1] or self.title

    @property
    def indexed_text(self) -> str:
        """What the embedder and BM25 see: the passage with the headings that frame it."""
        head = " — ".join(p for p in (self.title, self.section.replace(" > ", " — ")) if p)
        return f"{head}\n{self.text}" if head else self.text

    @property
    def lexical_text(self) -> str:
        """What BM25 sees: the indexed text and the questions its section answers (their words — "PoC",
        "Kennzahlen" — are how people ask for it)."""
        return "\n".join([self.indexed_text, *self.asks])


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _pieces(paragraphs: list[str], max_words: int) -> list[str]:
    units: list[str] = []
    for para in paragraphs:
        if len(para.split()) <= max_words:
            units.append(para)
        else:
            units.extend(split_sentences(para))
    pieces: list[str] = []
    current: list[str] = []
    count = 0
    for unit in units:
        n = len(unit.split())
        if current and count + n > max_words:
            pieces.append("\n".join(current))
            current, count = [], 0
        current.append(unit)
        count += n
    if current:
        pieces.append("\n".join(current))
    return pieces


def chunk_document(doc: LoadedDocument, max_words: int = MAX_WORDS) -> list[Chunk]:
    chunks: list[Chunk] = []
    headings: list[Block] = []
    body: list[str] = []
    title_seen = False

    def flush() -> None:
        if not body:
            return
        section = " > ".join(h.text for h in headings)
        guide = next((h.guide for h in reversed(headings) if h.guide), "")
        asks = headings[-1].asks if headings else ()
        if sum(len(p.split()) for p in body) >= MIN_WORDS or headings:
            for piece in _pieces(body, max_words):
                chunks.append(Chunk(doc.title, section, piece, len(chunks), guide, asks))
        body.clear()

    for block in doc.blocks:
        if block.level:
            flush()
            if not title_seen and block.text == doc.title:
                title_seen = True  # the title heading frames every chunk; it is not a section
                continue
            headings = [h for h in headings if h.level < block.level] + [block]
        else:
            body.append(block.text)
    flush()
    return chunks


def chunk_blocks(title: str, blocks: list[Block], max_words: int = MAX_WORDS) -> list[Chunk]:
    return chunk_document(LoadedDocument(title, blocks), max_words)
