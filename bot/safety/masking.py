"""Personal data is masked before text leaves for an LLM endpoint that is not marked local, and put back
into the reply: e-mail addresses, phone numbers (libphonenumber, German numbering by default), IBANs
with a valid checksum, payment card numbers that pass the Luhn check, and the names of people Lotse
knows from Slack and Teams profiles.

One `Vault` serves one request: the same value gets the same placeholder in the question, the history
and the passages, so the model can still tell that two mentions are one person. Placeholders look like
«EMAIL_1»: no brackets (citations use [1]), no braces (prompt templates), no angle brackets (passages
are fenced with them). Ordinary figures ("2.000 bis 5.000 Euro", "Woche 5–6", "50–250 Mitarbeitende")
are never masked: a number is only masked when it validates as a phone number, IBAN or card number."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import phonenumbers
from stdnum import iban, luhn

EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w-])")  # fmt: skip
IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?=[ A-Z0-9]{11,})")
CARD = re.compile(r"(?<![\d.,])(?:\d[ -]?){12,18}\d(?![\d.,]\d)")
PLACEHOLDER = re.compile(r"«(EMAIL|PHONE|IBAN|CARD|NAME)_(\d+)»")
KINDS = ("EMAIL", "IBAN", "CARD", "PHONE", "NAME")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    value: str


@dataclass
class Vault:
    """Placeholders of one request: value → placeholder, and back."""

    by_value: dict[tuple[str, str], str] = field(default_factory=dict)
    by_placeholder: dict[str, str] = field(default_factory=dict)

    def placeholder(self, kind: str, value: str) -> str:
        key = (kind, _normal(kind, value))
        if key not in self.by_value:
            number = sum(1 for k, _ in self.by_value if k == kind) + 1
            token = f"«{kind}_{number}»"
            self.by_value[key] = token
            self.by_placeholder[token] = value
        return self.by_value[key]

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for kind, _ in self.by_value:
            result[kind] = result.get(kind, 0) + 1
        return result


def _normal(kind: str, value: str) -> str:
    if kind in ("IBAN", "CARD", "PHONE"):
        return re.sub(r"[^0-9A-Z+]", "", value.upper())
    return value.casefold()


class Masker:
    def __init__(self, names: Iterable[str] = (), region: str = "DE") -> None:
        self.region = region
        self._names = _names_pattern(names)

    def find(self, text: str) -> list[Span]:
        """Personal data in `text`, left to right, without overlaps (the first kind found wins)."""
        spans: list[Span] = []
        spans += [Span(m.start(), m.end(), "EMAIL", m.group()) for m in EMAIL.finditer(text)]
        spans += _ibans(text)
        spans += _cards(text)
        spans += [
            Span(m.start, m.end, "PHONE", m.raw_string)
            for m in phonenumbers.PhoneNumberMatcher(text, self.region, leniency=phonenumbers.Leniency.VALID)
        ]
        if self._names is not None:
            spans += [Span(m.start(), m.end(), "NAME", m.group()) for m in self._names.finditer(text)]
        chosen: list[Span] = []
        for span in sorted(spans, key=lambda s: (s.start, KINDS.index(s.kind))):
            if not chosen or span.start >= chosen[-1].end:
                chosen.append(span)
            elif span.end > chosen[-1].end and KINDS.index(span.kind) < KINDS.index(chosen[-1].kind):
                chosen[-1] = span
        return chosen

    def mask(self, text: str, vault: Vault) -> str:
        parts, last = [], 0
        for span in self.find(text):
            parts += [text[last : span.start], vault.placeholder(span.kind, span.value)]
            last = span.end
        parts.append(text[last:])
        return "".join(parts)


def unmask(text: str, vault: Vault) -> str:
    """The reply with the original values back in place of the placeholders it kept."""
    return PLACEHOLDER.sub(lambda m: vault.by_placeholder.get(m.group(0), m.group(0)), text)


def _ibans(text: str) -> list[Span]:
    found = []
    for start in IBAN_START.finditer(text):
        best = None
        compact = ""
        for end in range(start.start(), min(len(text), start.start() + 50)):
            char = text[end]
            if char == " ":
                if end + 1 < len(text) and text[end + 1] == " ":
                    break
                continue
            if not (char.isdigit() or "A" <= char <= "Z"):
                break
            compact += char
            if 15 <= len(compact) <= 34 and iban.is_valid(compact):
                best = end + 1
        if best is not None:
            found.append(Span(start.start(), best, "IBAN", text[start.start() : best]))
    return found


def _cards(text: str) -> list[Span]:
    found = []
    for match in CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        # an issuer's prefix (Visa 4, Mastercard 2/5, Amex 3, Discover/Maestro 6) and the Luhn check
        if 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn.is_valid(digits):
            found.append(Span(match.start(), match.end(), "CARD", match.group()))
    return found


def _names_pattern(names: Iterable[str]) -> re.Pattern | None:
    """Full names, and each part of three letters or more on its own ("Anna", "Schmidt"), as whole
    words with their capital letter: "Anna Schmidt" from a profile masks "Frau Schmidt" too."""
    words: set[str] = set()
    for name in names:
        name = " ".join(name.split())
        if len(name) < 3:
            continue
        words.add(name)
        words.update(part for part in re.split(r"[\s\-]+", name) if len(part) >= 3 and part[0].isupper())
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w@.])(?:{alternatives})(?![\w@])")
