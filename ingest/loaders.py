"""One loader per format. Each turns a file into a title and a flat list of blocks (headings and
paragraphs) so that chunking is the same for every format."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class LoadError(Exception):
    """A file could not be read; the message says why, for the ingest report."""


@dataclass(frozen=True)
class Block:
    text: str
    level: int = 0  # 0: paragraph; 1..6: heading level
    guide: str = ""  # a heading's metadata: the guide's section(s) it restates ("Phase 1 › Quick Wins …")
    asks: tuple[str, ...] = ()  # a heading's metadata: questions its section answers, in users' words


@dataclass
class LoadedDocument:
    title: str
    blocks: list[Block] = field(default_factory=list)


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# metadata of a section, as HTML comments right below its heading (knowledge/ uses them; see its README):
# <!-- leitfaden: Phase 1: … › Quick Wins identifizieren -->  <!-- fragen: Frage 1 | Frage 2 -->
_MD_META = re.compile(r"^\s*<!--\s*(leitfaden|guide|fragen|questions)\s*:\s*(.*?)\s*-->\s*$", re.IGNORECASE)
_MD_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_MD_MARKUP = re.compile(r"(\*\*|__|`)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def _clean_md(text: str) -> str:
    return _MD_LINK.sub(r"\1", _MD_MARKUP.sub("", text)).strip()


def load_markdown(path: Path) -> LoadedDocument:
    blocks: list[Block] = []
    para: list[str] = []
    in_fence = False

    def flush() -> None:
        if para:
            blocks.append(Block(_clean_md("\n".join(para))))
            para.clear()

    for line in _read_text(path).splitlines():
        if line.strip().startswith("```"):
            in_fence = not in_fence
            continue
        heading = None if in_fence else _MD_HEADING.match(line)
        meta = None if in_fence else _MD_META.match(line)
        if heading:
            flush()
            blocks.append(Block(_clean_md(heading.group(2)), level=len(heading.group(1))))
        elif meta and blocks and blocks[-1].level and not para:
            blocks[-1] = _with_meta(blocks[-1], meta.group(1).lower(), meta.group(2))
        elif not in_fence and _MD_COMMENT.fullmatch(line.strip()):
            continue  # a comment is no text of the document
        elif not line.strip():
            flush()
        else:
            para.append(line.rstrip())
    flush()
    return LoadedDocument(_title(blocks, path), blocks)


def _with_meta(heading: Block, key: str, value: str) -> Block:
    from dataclasses import replace

    if key in ("leitfaden", "guide"):
        return replace(heading, guide=" ".join(value.split()))
    asks = tuple(q.strip() for q in value.split("|") if q.strip())
    return replace(heading, asks=heading.asks + asks)


def _looks_like_heading(line: str, next_line: str | None) -> bool:
    """Plain text has no markup: a short line without closing punctuation, followed by prose."""
    s = line.strip()
    if not s or len(s) > 70 or s[-1] in ".!:;,)" or s[0] in "-*•0123456789":
        return False
    return next_line is not None and len(next_line.strip()) > len(s)


def _blocks_from_plain(text: str) -> list[Block]:
    if "\n\n" in text.strip():
        parts = [re.sub(r"\s*\n\s*", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    else:
        parts = [line.strip() for line in text.splitlines()]
    parts = [p for p in parts if p]
    blocks = []
    for i, part in enumerate(parts):
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        blocks.append(Block(part, level=2 if _looks_like_heading(part, nxt) else 0))
    return blocks


def load_text(path: Path) -> LoadedDocument:
    blocks = _blocks_from_plain(_read_text(path))
    if blocks and blocks[0].level:  # a text that opens with a heading line names itself
        return LoadedDocument(blocks[0].text, blocks)
    return LoadedDocument(_title([], path), blocks)


def load_html(path: Path) -> LoadedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path), "html.parser")
    for tag in soup(["script", "style", "nav", "footer", "noscript"]):
        tag.decompose()
    blocks: list[Block] = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "p", "li", "pre", "td", "blockquote"]):
        if el.find_parent(["li", "td", "blockquote"]) is not None and el.name in ("p", "li"):
            continue  # its text is part of the enclosing block
        text = " ".join(el.get_text(" ").split())
        if text:
            level = int(el.name[1]) if el.name in ("h1", "h2", "h3", "h4") else 0
            blocks.append(Block(text, level))
    title = soup.title.get_text(" ").strip() if soup.title and soup.title.get_text().strip() else ""
    return LoadedDocument(title or _title(blocks, path), blocks)


def load_pdf(path: Path) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise LoadError(f"not a readable PDF ({exc.__class__.__name__}: {exc})") from exc
    blocks: list[Block] = []
    for page in pages:
        blocks.extend(_blocks_from_plain(page))
    if not blocks:
        raise LoadError("the PDF contains no extractable text (scanned images need OCR first)")
    return LoadedDocument(meta_title.strip() or _title(blocks, path), blocks)


def load_docx(path: Path) -> LoadedDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, ValueError, KeyError, OSError) as exc:
        raise LoadError(f"not a readable DOCX file ({exc.__class__.__name__}: {exc})") from exc
    blocks = []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        level = 0
        if style == "Title":
            level = 1
        elif m := re.match(r"(Heading|Überschrift)\s*(\d)", style):
            level = min(int(m.group(2)) + 1, 6) if _has_title_style(document) else int(m.group(2))
        blocks.append(Block(text, level))
    core_title = (document.core_properties.title or "").strip()
    return LoadedDocument(core_title or _title(blocks, path), blocks)


def _has_title_style(document) -> bool:
    return any((p.style is not None and p.style.name == "Title") for p in document.paragraphs)


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise LoadError("binary content where text was expected")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LoadError("text is neither UTF-8 nor Windows-1252")


def _title(blocks: list[Block], path: Path) -> str:
    for block in blocks:
        if block.level == 1:
            return block.text
    return path.stem.replace("-", " ").replace("_", " ").strip() or path.name


LOADERS: dict[str, Callable[[Path], LoadedDocument]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
}


def load(path: Path) -> LoadedDocument:
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(f"unsupported file type {path.suffix or '(none)'}; supported: {', '.join(LOADERS)}")
    try:
        return loader(path)
    except LoadError:
        raise
    except OSError as exc:
        raise LoadError(f"cannot read the file ({exc.strerror or exc})") from exc
