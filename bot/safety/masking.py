"""Personal data is masked before text leaves for an LLM endpoint that is not marked local, and put back
into the reply: e-mail addresses, phone numbers (libphonenumber, German numbering by default), IBANs
with a valid checksum, payment card numbers of a known issuer range that pass the Luhn check, and the
names of people Lotse knows from Slack and Teams profiles.

One `Vault` serves one request: the same value gets the same placeholder in the question, the history
and the passages, so the model can still tell that two mentions are one person. Placeholders look like
«EMAIL_1»: no brackets (citations use [1]), no braces (prompt templates), no angle brackets (passages
are fenced with them). Ordinary figures ("2.000 bis 5.000 Euro", "Woche 5–6", "50–250 Mitarbeitende",
dates, ISO and version numbers) are never masked: a number is only masked when it validates as a phone
number, an IBAN or a card number.

What it does not find: names of people Lotse has never seen in a profile, a first or last name on its
own written in lower case ("frag mal anna"), parts of names shorter than three letters, and personal data
in other forms (postal addresses, tax or insurance numbers). Names are a list, not a language model:
nothing is downloaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import phonenumbers
from stdnum import iban, luhn

# e-mail: Unicode letters in the local part and the domain ("jürgen.müller@bäckerei-schmidt.de"), and the
# "(at)"/"[at]"/"(dot)" spellings people use against address harvesters
_AT = r"(?:@|\s?[(\[{]\s?(?:at|ät)\s?[)\]}]\s?)"
_DOT = r"(?:\.|\s?[(\[{]\s?(?:dot|punkt)\s?[)\]}]\s?)"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
EMAIL = re.compile(
    rf"(?<![\w.%+'-])[^\W_][\w.%+'-]*{_AT}(?:{_LABEL}{_DOT})+[^\W\d_]{{2,24}}(?![\w-])(?!\.[^\W_])", re.IGNORECASE
)
IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?=[ A-Za-z0-9]{11,})")
# runs of digit groups separated by one space or dash: a card number is looked for at group boundaries
DIGIT_RUN = re.compile(r"(?<![\w.,/+-])\d+(?:[ -]\d+)*(?![\w/]|[.,]\d)")
# a number written without a trunk or international prefix ("1641", "164–1") is a phone number only after
# a word that says so: libphonenumber takes many ordinary figures for valid local numbers
PHONE_CONTEXT = re.compile(
    r"(?i)\b(?:tel|telefon\w*|phone|mobil\w*|handy|fax|durchwahl|nummer|number|ruf\w*|call|erreichbar\w*|reach)\b"
    r"\W{0,6}(?:\w+\W{1,3}){0,2}$"
)
PLACEHOLDER = re.compile(r"«\s*(EMAIL|PHONE|IBAN|CARD|NAME)_(\d+)\s*»")
BARE_PLACEHOLDER = re.compile(r"(?<![\w«])(EMAIL|PHONE|IBAN|CARD|NAME)_(\d+)(?![\w»])")
KINDS = ("EMAIL", "IBAN", "CARD", "PHONE", "NAME")  # priority when two findings overlap

# issuer ranges (prefix ranges, inclusive) and the lengths their card numbers have
_CARD_RANGES: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (4, 4, (13, 16, 19)),  # Visa
    (51, 55, (16,)),  # Mastercard
    (2221, 2720, (16,)),  # Mastercard 2-series
    (34, 34, (15,)),  # American Express
    (37, 37, (15,)),
    (300, 305, (14, 16, 19)),  # Diners Club
    (36, 36, (14, 16, 19)),
    (38, 39, (14, 16, 19)),
    (6011, 6011, (16, 19)),  # Discover
    (644, 649, (16, 19)),
    (65, 65, (16, 19)),
    (3528, 3589, (16, 17, 18, 19)),  # JCB
    (62, 62, (16, 17, 18, 19)),  # UnionPay
    (50, 50, (13, 14, 15, 16, 17, 18, 19)),  # Maestro
    (56, 58, (13, 14, 15, 16, 17, 18, 19)),
    (67, 67, (13, 14, 15, 16, 17, 18, 19)),
)

# words in display names that are not names: titles, and what people add to them ("Anna Schmidt (IT)")
_NOT_NAMES = frozenset(
    "dr prof herr frau mr mrs ms miss sir dipl ing mba phd med jun sen extern externe intern admin team support "
    "service helpdesk bot lotse office it ki ai test user gast guest".split()
)
# parts of a name that are never masked on their own ("Von 2.000 bis 5.000 Euro …")
_PARTICLES = frozenset("von vom van der den de zu zum zur del della di da le la du ten ter y".split())
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


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

    def values(self) -> list[str]:
        """The original values masked in this request (for tests and checks; never log them)."""
        return list(self.by_placeholder.values())


def _normal(kind: str, value: str) -> str:
    if kind == "PHONE":  # "0171 1234567" and "+49 171 1234567" are one number
        try:
            return phonenumbers.format_number(phonenumbers.parse(value, "DE"), phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            pass
    if kind in ("IBAN", "CARD", "PHONE"):
        return re.sub(r"[^0-9A-Z+]", "", value.upper())
    return " ".join(value.split()).casefold()


class Masker:
    def __init__(self, names: Iterable[str] = (), region: str = "DE") -> None:
        self.region = region
        self._names = _NameIndex(names)

    def find(self, text: str) -> list[Span]:
        """Personal data in `text`, left to right. Findings that overlap are merged into one span of the
        kind that comes first in KINDS, so no character of any finding is left unmasked."""
        spans: list[Span] = []
        spans += [Span(m.start(), m.end(), "EMAIL", m.group()) for m in EMAIL.finditer(text)]
        spans += _ibans(text)
        spans += _cards(text)
        spans += [
            Span(m.start, m.end, "PHONE", m.raw_string)
            for m in phonenumbers.PhoneNumberMatcher(text, self.region, leniency=phonenumbers.Leniency.VALID)
            if _dialled(m.raw_string)
            or (
                PHONE_CONTEXT.search(text[max(0, m.start - 25) : m.start])
                and not re.fullmatch(r"\d+(?:\.\d+)+", m.raw_string)
            )
        ]
        spans += self._names.find(text)
        merged: list[Span] = []
        for span in sorted(spans, key=lambda s: (s.start, -s.end)):
            if merged and span.start < merged[-1].end:
                last = merged[-1]
                end = max(last.end, span.end)
                kind = min(last.kind, span.kind, key=KINDS.index)
                merged[-1] = Span(last.start, end, kind, text[last.start : end])
            else:
                merged.append(span)
        return merged

    def mask(self, text: str, vault: Vault) -> str:
        parts, last = [], 0
        for span in self.find(text):
            parts += [text[last : span.start], vault.placeholder(span.kind, span.value)]
            last = span.end
        parts.append(text[last:])
        return "".join(parts)


def unmask(text: str, vault: Vault) -> str:
    """The reply with the original values back in place of the placeholders it kept. A model that drops
    the «» around a placeholder ("NAME_1") still gets the value back; unknown placeholders stay."""
    text = PLACEHOLDER.sub(lambda m: vault.by_placeholder.get(f"«{m[1]}_{m[2]}»", m.group(0)), text)
    return BARE_PLACEHOLDER.sub(lambda m: vault.by_placeholder.get(f"«{m[1]}_{m[2]}»", m.group(0)), text)


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
            if not char.isascii() or not char.isalnum():
                break
            compact += char.upper()
            if 15 <= len(compact) <= 34 and compact[2:4].isdigit() and iban.is_valid(compact):
                best = end + 1
        if best is not None:
            found.append(Span(start.start(), best, "IBAN", text[start.start() : best]))
    return found


def _dialled(raw: str) -> bool:
    """Written as dialled: with an international prefix (+49, 0049) or a trunk prefix (030, (030), 0171),
    and not digits and dots only, which are dates and versions ("02.01.2027", "0.12.3")."""
    return bool(re.match(r"\(?\s*(?:\+|0)", raw)) and not re.fullmatch(r"\d+(?:\.\d+)+", raw)


def _issuer_length_ok(digits: str) -> bool:
    for low, high, lengths in _CARD_RANGES:
        prefix = int(digits[: len(str(low))])
        if low <= prefix <= high and len(digits) in lengths:
            return True
    return False


def _cards(text: str) -> list[Span]:
    """Card numbers inside runs of digit groups ("4111 1111 1111 1111 123" holds one), cut at group
    boundaries only: a long reference number is never searched for a card number inside it."""
    found = []
    for run in DIGIT_RUN.finditer(text):
        groups = [(m.start() + run.start(), m.end() + run.start()) for m in re.finditer(r"\d+", run.group())]
        i = 0
        while i < len(groups):
            hit, digits = None, ""
            for j in range(i, len(groups)):  # the longest window from group i that is a card number
                digits += text[groups[j][0] : groups[j][1]]
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and _issuer_length_ok(digits) and luhn.is_valid(digits):
                    hit = j
            if hit is None:
                i += 1
                continue
            start, end = groups[i][0], groups[hit][1]
            found.append(Span(start, end, "CARD", text[start:end]))
            i = hit + 1
    return found


class _NameIndex:
    """Known names, found word by word (fast with thousands of names):
    - a full name in any case, its words separated by spaces, a hyphen, an apostrophe or a comma
      ("Schmidt, Anna" too);
    - each part of three letters or more on its own, written as in the profile, capitalised or in capitals
      ("Anna Schmidt" masks "Frau Schmidt", "ANNA"), also with a genitive s ("Annas Bericht");
    - umlauts also transliterated ("Müller" → "Mueller")."""

    def __init__(self, names: Iterable[str]) -> None:
        self.full: dict[str, list[tuple[str, ...]]] = {}  # first word (casefolded) → full names (casefolded)
        self.parts: set[str] = set()
        for raw in names:
            name = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", raw or "")  # "Anna Schmidt (IT)" → "Anna Schmidt"
            words = [w for w in _WORD.findall(name) if w.casefold() not in _NOT_NAMES]
            if not words or sum(len(w) for w in words) < 3:
                continue
            variants = {tuple(words), tuple(w.translate(_TRANSLIT) for w in words)}
            if "," in name and len(words) == 2:  # "Schmidt, Anna" is written "Anna Schmidt" in sentences
                variants |= {(b, a) for a, b in list(variants)}
            for variant in variants:
                if len(variant) > 1:
                    key = tuple(w.casefold() for w in variant)
                    self.full.setdefault(key[0], []).append(key)
                for word in variant:
                    if len(word) >= 3 and word.casefold() not in _PARTICLES:
                        self.parts.add(word[0].upper() + word[1:])
                        self.parts.add(word.upper())
        for options in self.full.values():
            options.sort(key=len, reverse=True)

    def find(self, text: str) -> list[Span]:
        if not self.full and not self.parts:
            return []
        words = list(_WORD.finditer(text))
        spans: list[Span] = []
        i = 0
        while i < len(words):
            match = self._full_at(text, words, i)
            if match:
                end_index = i + match - 1
                start, end = words[i].start(), words[end_index].end()
                spans.append(Span(start, end, "NAME", text[start:end]))
                i = end_index + 1
                continue
            word = words[i]
            value = word.group()
            if value.endswith("s") and value not in self.parts and value[:-1] in self.parts:
                value = value[:-1]  # "Annas Bericht": the name, not the genitive s
            if value in self.parts:
                spans.append(Span(word.start(), word.start() + len(value), "NAME", value))
            i += 1
        return spans

    def _full_at(self, text: str, words: list[re.Match], i: int) -> int:
        for option in self.full.get(words[i].group().casefold(), ()):
            if i + len(option) > len(words):
                continue
            if all(words[i + k].group().casefold() == option[k] for k in range(len(option))) and all(
                re.fullmatch(r"\s*[-,'’]?\s*", text[words[i + k].end() : words[i + k + 1].start()])
                for k in range(len(option) - 1)
            ):
                return len(option)
        return 0
