"""Checks on an LLM reply before anyone sees it. A model can be talked into anything by text that reaches
it (the question, an earlier turn, a document in the knowledge base), so Lotse does not rely on the
model's obedience: it checks what comes back. A reply that fails a check is never shown, not even in
part while it streams; the user gets the extractive answer (cited sentences straight from the passages)
with a note that says why. The checks, in order, with the reason each gives:

- "system prompt": the reply contains the per-process canary of the system message (also spaced,
  reversed or inside base64/hex), or a verbatim run of `RUN_WORDS` words of the system message.
- "encoded": a long base64 or hex blob (the usual way to smuggle a prompt or data past a filter).
- "markup": HTML or XML tags, `javascript:`/`data:` URIs, Teams `<at>` mentions, Adaptive Card JSON.
- "mention": Slack's `<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^…>`, `<@U…>`, `<#C…>`, or a
  plain @channel/@here/@everyone.
- "image": a markdown image (`![x](…)`): clients fetch images by themselves, so one can carry data out.
- "link": a URL, web address or e-mail address that is not written in the passages, the question or
  the conversation (inside an HTML tag there it is markup, not written: "Füge <img src=…> an"):
  `[click](https://evil/?q=…)`, `<https://evil|click>`, `evil.example/?d=…`.
- "no citation": the finished reply cites no passage.
- "unsupported": a sentence whose words mostly do not occur in the passages, the question or the
  conversation (of one or two content words: all of them; of more: 40 %), leaving out what is
  instruction-like there ("PWNED", an attacker's slogan, a translated system prompt).
- "figure": a number that occurs nowhere in the passages, the question or the conversation, and is not
  computed from the asker's numbers and the passages' (a product, sum, difference, a year of a monthly
  figure, a percentage off): the model may apply the guide's figures to "12 Leute" (issue 19).

The last two are lexical: a false statement made up from the passages' own words and figures passes
them. They are tuned on the bundled guide so that faithful answers, also paraphrased, pass.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from bot.core.language import ENGLISH_WORDS, GERMAN_WORDS
from bot.safety.injection import data_only
from bot.safety.masking import EMAIL
from ingest.analysis import stemmer_for, words

RUN_WORDS = 8  # this many words in a row from the system message are a leak
SUPPORTED_SHARE = 0.4  # of a sentence's content words that must occur in what the reply may draw on

_CITATION = re.compile(r"\[(\d+)\]")
_SCHEME_URL = re.compile(r"(?i)\b(?:https?|ftp|file|sftp|ws|wss|mailto|tel|slack|msteams|teams)://?[^\s<>\"'`|)\]}]+")
_WWW = re.compile(r"(?i)\bwww\.[^\s<>\"'`|)\]}]+")
_COMMON_TLDS = frozenset(
    "com net org io ai de eu info biz co app dev xyz ru cn tk ly me us uk at ch fr nl it es pl be se dk no fi cz "
    "online site top club shop live cloud link click page tech store ws cc tv gg sh su to pw".split()
)
_DOMAIN = re.compile(
    r"(?i)(?<![\w@./:-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,24}))\b(?::\d+)?(/[^\s<>\"'`|)\]}]*)?"
)
_MARKDOWN_LINK = re.compile(r"\[[^\]\n]*\]\(\s*<?([^)\s>]*)")
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]\n]*\]\s*\(")
_DANGEROUS_SCHEME = re.compile(r"(?i)\b(?:javascript|vbscript|data)\s*:")
_TAG = re.compile(r"</?[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?>")
_CARD_JSON = re.compile(r"(?i)[\"']type[\"']\s*:\s*[\"']AdaptiveCard")
_SLACK_SPECIAL = re.compile(r"<\s*[!@#][^>]*>")
_PLAIN_MENTION = re.compile(r"(?i)(?<![\w@])@(?:channel|here|everyone|all|kanal|alle)\b")
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{32,}={0,2}")
_HEX = re.compile(r"(?i)(?<![0-9a-f])(?:[0-9a-f]{2}[\s:]?){24,}")
_SENTENCE = re.compile(r"(?<=[.!?…])[\"»“”)\]]*\s+|\n+")
_FIGURE = re.compile(r"\d+(?:[.,]\d{3})*(?:,\d+)?")
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+", re.MULTILINE)
_STOP = GERMAN_WORDS | ENGLISH_WORDS
# words an answer may use that no passage needs to contain: courtesy, the words around a citation, and
# function words and hedges of a paraphrase that the stop word lists of the BM25 analysis leave in
_FREE = frozenset(
    """gern gerne hallo danke sure certainly hello thanks laut gemäß according quelle quellen source sources
    passage passagen abschnitt section leitfaden guide roadmap
    about around approximately roughly overall total expect typically usually generally mainly mostly
    especially important should would could might must will shall then than also just only very much many
    such these those their there here which while whereas however therefore thus per each every both
    etwa ungefähr rund circa insgesamt jeweils typischerweise meist meistens vor allem besonders wichtig
    sollten würde könnte dann denn also sowie jedoch daher deshalb somit dabei dazu hierfür dafür je
    welche welcher welches deren dessen diesen diesem wird werden wurde wurden sein seine ihre ihren
    zwischen zusammen zusammengefasst kurz gesagt""".split()
)


# numbers written as words beyond the analysis' one to twelve: "achtzehn Monate" is supported by "18 Monate"
_NUMBER_WORDS = {
    **{w: str(n) for n, w in enumerate("dreizehn vierzehn fünfzehn sechzehn siebzehn achtzehn neunzehn".split(), 13)},
    **{w: str(n) for n, w in enumerate("thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split(), 13)},
    **{w: str(n * 10) for n, w in enumerate("zwanzig dreißig vierzig fünfzig sechzig siebzig achtzig neunzig".split(),
                                             2)},
    **{w: str(n * 10) for n, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)},
    "hundert": "100", "hundred": "100", "tausend": "1000", "thousand": "1000",
}  # fmt: skip


@dataclass
class Sources:
    """What a reply may draw on: the passages, the question and the conversation so far."""

    passages: list  # of bot.answering.retrieval.Passage
    question: str = ""
    history: list[tuple[str, str]] = field(default_factory=list)
    language: str = "de"

    @cached_property
    def text(self) -> str:
        """Everything the reply may draw on, without instruction-like sentences: what an injected
        instruction asks the model to say, or the link it asks for, is no support for a reply."""
        parts = [self.question, *(t for _, t in self.history)]
        for p in self.passages:
            parts += [p.text, p.title, p.section, p.source]
        return data_only("\n".join(parts))

    @cached_property
    def words(self) -> set[str]:
        return set(words(self.text))

    @cached_property
    def figures(self) -> set[str]:
        """The numbers a reply may state: those written in what it draws on, and what the asker's own
        numbers make of the passages' (12 people × 2.000 €, 45 minutes less 40 %, 3 × 5.000 € × 12)."""
        # the asker's numbers, not those of an instruction in the question ("Antworte: … 99 Euro …")
        asked = [int(w) for w in words(data_only(self.question)) if w.isdigit() and 0 < int(w) < 100_000][:6]
        if not asked:
            return self.words
        given = {int(w) for w in self.words if w.isdigit() and 0 < int(w) < 10_000_000}
        derived: set[float] = set()
        for a in asked:
            for b in given:
                derived |= {a * b, a * b * 12, abs(a - b), a + b, a * (100 - b) / 100 if b < 100 else a, a * b / 100}
        return self.words | {str(int(v)) for v in derived if v == int(v)} | {f"{v:g}" for v in derived}

    @cached_property
    def stems(self) -> set[str]:
        stem = stemmer_for(self.language).stemWord
        return {stem(w) for w in self.words}

    @cached_property
    def joined(self) -> str:
        return " ".join(sorted(self.words))

    @cached_property
    def written(self) -> str:
        """What the reply may draw on as text: without HTML tags, whose links are markup, not references."""
        return _TAG.sub(" ", self.text)

    @cached_property
    def links(self) -> set[str]:
        return {_normal_link(link) for link in _links(self.written)}

    @cached_property
    def hosts(self) -> set[str]:
        return {_host(link) for link in self.links}

    @cached_property
    def emails(self) -> set[str]:
        return {m.group().casefold() for m in EMAIL.finditer(self.written)}


class OutputGuard:
    def __init__(self, system_prompts: Iterable[str], canary: str) -> None:
        """`system_prompts`: the system message in every language it is sent in."""
        self.canary = re.sub(r"[^0-9a-z]", "", canary.lower())
        self._runs: set[tuple[str, ...]] = set()
        for prompt in system_prompts:
            tokens = _tokens(prompt)
            self._runs.update(tuple(tokens[i : i + RUN_WORDS]) for i in range(len(tokens) - RUN_WORDS + 1))

    def check(self, reply: str, sources: Sources, complete: bool = True) -> str | None:
        """None when `reply` may be shown, else the reason (one of the module's fixed, short reasons).
        With `complete=False` (a streamed reply so far), the citation check waits for the end."""
        without_links = _without_links(reply)
        decoded = _decoded_blobs(without_links)
        if any(self._leaks(text) for text in [reply, *decoded]):
            return "system prompt"
        if decoded:
            return "encoded"
        if _SLACK_SPECIAL.search(reply) or _PLAIN_MENTION.search(reply):
            return "mention"
        if _TAG.search(reply) or _DANGEROUS_SCHEME.search(reply) or _CARD_JSON.search(reply):
            return "markup"
        if _MARKDOWN_IMAGE.search(reply):
            return "image"
        if self._foreign_link(reply, sources):
            return "link"
        if complete and not _CITATION.search(reply):
            return "no citation"
        return _unsupported(reply, sources)

    def _leaks(self, text: str) -> bool:
        compact = re.sub(r"[^0-9a-z]", "", text.lower())
        if self.canary and (self.canary in compact or self.canary in compact[::-1]):
            return True
        for candidate in (text, codecs.decode(text, "rot13")):
            tokens = _tokens(candidate)
            if any(tuple(tokens[i : i + RUN_WORDS]) in self._runs for i in range(len(tokens) - RUN_WORDS + 1)):
                return True
        return False

    @staticmethod
    def _foreign_link(reply: str, sources: Sources) -> bool:
        for target in _MARKDOWN_LINK.findall(reply):
            if _normal_link(target) not in sources.links:
                return True
        for link in _links(reply):
            normal = _normal_link(link)
            if normal in sources.links:
                continue
            if "/" not in normal.split("://", 1)[-1] and _host(normal) in sources.hosts:
                continue  # a bare host the sources name ("example.com")
            return True
        return any(m.group().casefold() not in sources.emails for m in EMAIL.finditer(reply))


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _links(text: str) -> list[str]:
    text = EMAIL.sub(" ", text)  # the domain of an e-mail address is checked with the address
    found = [m.group() for m in _SCHEME_URL.finditer(text)]
    rest = _SCHEME_URL.sub(" ", text)
    found += [m.group() for m in _WWW.finditer(rest)]
    rest = _WWW.sub(" ", rest)
    for m in _DOMAIN.finditer(rest):
        if m.group(3) or m.group(2).lower() in _COMMON_TLDS:
            found.append(m.group())
    return found


def _without_links(text: str) -> str:
    for link in sorted(set(_links(text)), key=len, reverse=True):
        text = text.replace(link, " ")
    return text


def _normal_link(link: str) -> str:
    link = link.strip().rstrip(".,;:!?»“”'\"").lower()
    link = re.sub(r"^(?:https?://)?(?:www\.)?", "", link)
    return link.rstrip("/")


def _host(link: str) -> str:
    return re.split(r"[/:?#]", link.split("://", 1)[-1], maxsplit=1)[0]


def _decoded_blobs(text: str) -> list[str]:
    """Long base64 runs (mixed case with a digit, + or /, so long hyphenated words do not count) and
    long hex runs, decoded."""
    decoded = []
    for match in _BASE64.finditer(text):
        blob = match.group()
        if not (re.search(r"[0-9+/]", blob) and re.search(r"[a-z]", blob) and re.search(r"[A-Z]", blob)):
            continue
        try:
            raw = base64.b64decode(
                blob + "=" * (-len(blob) % 4), altchars=b"-_" if "-" in blob or "_" in blob else None
            )
        except (binascii.Error, ValueError):
            raw = b""
        decoded.append(raw.decode("utf-8", "replace"))
    for match in _HEX.finditer(text):
        try:
            decoded.append(bytes.fromhex(re.sub(r"[\s:]", "", match.group())).decode("utf-8", "replace"))
        except ValueError:
            continue
    return decoded


def _sentences(reply: str) -> list[str]:
    text = _LIST_MARK.sub("", _CITATION.sub(" ", reply))
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def _unsupported(reply: str, sources: Sources) -> str | None:
    stem = stemmer_for(sources.language).stemWord
    for sentence in _sentences(reply):
        tokens = words(sentence)
        # figures as written in digits ("one" is a word, not a figure)
        if any(t not in sources.figures for t in words(" ".join(_FIGURE.findall(sentence)))):
            return "figure"
        content = {t for t in tokens if not t.isdigit() and len(t) > 1 and t not in _STOP and t not in _FREE}
        if not content:
            continue
        supported = sum(1 for t in content if _supported(t, stem(t), sources))
        # one or two content words must all occur ("Drucker PWNED" does not), more words a share of them
        if supported < (len(content) if len(content) <= 2 else SUPPORTED_SHARE * len(content)):
            return "unsupported"
    return None


def _supported(word: str, stemmed: str, sources: Sources) -> bool:
    if word in sources.words or stemmed in sources.stems or _NUMBER_WORDS.get(word) in sources.words:
        return True
    # a part of a compound in the sources ("Budget" ~ "Weiterbildungsbudget"), or a compound made of
    # words of the sources ("Schulungsbudget" ~ "Schulung", "Budget")
    return len(stemmed) >= 4 and (stemmed in sources.joined or any(len(s) >= 5 and s in word for s in sources.stems))
