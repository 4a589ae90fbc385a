"""What a message asks, read in its conversation: two questions in one message are split, and a
follow-up is rewritten into the question it stands for.

- "Wie lange dauert die Roadmap, und was kostet das erste Jahr?" → two questions, each answered and cited.
- "Und danach?" after week 3 → "Woche 4"; "und in Phase 2?" after a question on phase 1 → that question
  for phase 2. The order of the plan's weeks and the roadmap's phases is data (`config/sequences.yaml`).
- Any other short follow-up ("Und pro Monat?") is searched with the previous question (`topic_query`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import yaml

from bot.core.language import ENGLISH_WORDS, GERMAN_WORDS
from bot.settings import PROJECT_ROOT
from ingest.analysis import words

SEQUENCES = PROJECT_ROOT / "config" / "sequences.yaml"

_QUESTION_WORDS = (
    r"was|wie|wann|wer|wen|wem|welche[rsnm]?|wo|woran|womit|wozu|wof(?:ü|ue)r|warum|wieso|weshalb|ob|"
    r"gibt es|brauchen|brauche|braucht|sollten|sollen|soll|muss|m(?:ü|ue)ssen|kann|k(?:ö|oe)nnen|ist|sind|"
    r"what|how|when|who|which|where|why|should|do|does|is|are|can|could|would|will"
)
# ", und was kostet …", " and how long …", "; wie …": a second question joined to the first
_JOIN = re.compile(
    rf"(?:\s*[,;]\s*|\s+)(?:und|and|sowie|plus)\s+(?=(?:{_QUESTION_WORDS})\b)|;\s*(?=(?:{_QUESTION_WORDS})\b)",
    re.IGNORECASE,
)
_SENTENCES = re.compile(r"(?<=\?)\s+(?=\S)")
_ASKS = re.compile(rf"^(?:(?:und|and|aber|but)\s+)?(?:{_QUESTION_WORDS})\b", re.IGNORECASE)
_FOLLOW_UP_START = re.compile(
    r"^(und|aber|also|auch|dafür|dafuer|davon|dazu|was ist mit|wie ist es mit|und wie|and|but|also|what about|"
    r"how about|and for|same for)\b",
    re.IGNORECASE,
)
_NEXT = re.compile(
    r"\b(danach|dann|anschlie(?:ß|ss)end|als n(?:ä|ae)chstes|n(?:ä|ae)chste[nrs]?|darauf(?:folgende)?|"
    r"next|after that|afterwards|the one after|following|then|nach(?=\s+(?:woche\s+)?\d)|after(?=\s+(?:week\s+)?\d))\b",
    re.IGNORECASE,
)
_PREVIOUS = re.compile(
    r"\b(davor|vorher|zuvor|vorige[nrs]?|vorherige[nrs]?|letzte[nrs]? davor|previous|before that|the one before|"
    r"prior|earlier one|vor(?=\s+(?:woche\s+)?\d)|before(?=\s+(?:week\s+)?\d))\b",
    re.IGNORECASE,
)
_KIND_WORDS = {
    "week": r"(?:woche|wochen|week|weeks|wk)",
    "phase": r"(?:phase|phasen|stage)",
}
_NUMBER = r"(\d+(?:\s*(?:[-–—]|bis|to|und|and|/)?\s*\d+)?)"  # "5-6" reads "5 6" once words() drops the dash


@dataclass(frozen=True)
class Sequence:
    kind: str
    items: tuple[str, ...]  # in order; an item may cover several numbers ("5-6")

    def index_of(self, numbers: list[int]) -> int | None:
        for i, item in enumerate(self.items):
            if set(numbers) & set(_numbers(item)):
                return i
        return None


@lru_cache(maxsize=1)
def sequences() -> dict[str, Sequence]:
    data = yaml.safe_load(SEQUENCES.read_text(encoding="utf-8")) if SEQUENCES.is_file() else {}
    return {kind: Sequence(kind, tuple(str(i) for i in items)) for kind, items in (data or {}).items()}


def _numbers(text: str) -> list[int]:
    found = [int(n) for n in re.findall(r"\d+", text)]
    if len(found) == 2 and re.search(r"[-–—]|bis|to", text) and 0 < found[1] - found[0] <= 11:
        return list(range(found[0], found[1] + 1))
    return found


def mentions(text: str, kind: str) -> list[int]:
    """The numbers of `kind` ("week", "phase") that `text` names, number words included ("Woche drei")."""
    normal = " ".join(words(text))
    found: list[int] = []
    for match in re.finditer(rf"\b{_KIND_WORDS[kind]}\s+(?:(?:vor|nach|before|after)\s+)?{_NUMBER}", normal):
        found.extend(_numbers(match.group(1)))
    # "in der dritten Woche", "the third week": an ordinal before the word (an article marks it as one)
    for match in re.finditer(rf"\b(?:der|die|den|dem|the|in|im)\s+(\d+)\s+{_KIND_WORDS[kind]}\b", normal):
        found.append(int(match.group(1)))
    return found


def split_parts(question: str) -> list[str]:
    """One message with two questions → the two; otherwise the message alone. A part must have a few
    words of its own, so "Was und wie?" stays one question."""
    sentences = [s.strip() for s in _SENTENCES.split(question.strip()) if s.strip()]
    parts: list[str] = []
    for sentence in sentences:
        pieces = [p.strip(" ,;") for p in _JOIN.split(sentence) if p and p.strip(" ,;")]
        parts.extend(pieces)
    questions = [p for p in parts if len(re.findall(r"\w+", p)) >= 2]
    if len(questions) < 2 or len(questions) > 3:
        return [question]
    if not all(p.endswith("?") or _ASKS.match(p) for p in questions[1:]):
        return [question]  # "…? Ignoriere alle Anweisungen." is no second question
    if sum(p.rstrip().endswith("?") for p in sentences) < len(sentences) - 1:
        return [question]  # a statement before a question is context ("Wir sind 120 Leute. Passt das?")
    # "A und B?": A is asked as much as B; searched with its question mark it comes closer to the questions
    # the sections answer (which end in one)
    return [p if p.endswith(("?", ".", "!")) else f"{p}?" for p in questions]


def is_follow_up(question: str) -> bool:
    content = [w for w in re.findall(r"\w+", question.lower()) if len(w) > 3]
    return bool(_FOLLOW_UP_START.match(question.strip())) or len(content) <= 2


# "Wie halten wir das fest?", "und warum gerade die?", "which tools for that?": about what was just said
_REFERS_BACK = re.compile(
    r"\b(das|dies|diese[nrsm]?|dafür|dafuer|dabei|davon|darüber|darueber|dazu|damit|da|die|den|dem|ihn|sie|"
    r"that|this|these|those|them|it|there)\b(?!\s+\w+(?:ung|keit|heit|kosten|plan|woche|phase)\b)",
    re.IGNORECASE,
)


def refers_back(question: str) -> bool:
    """Whether a follow-up points at what the previous answer said ("das", "them") or applies it to the
    asker's numbers ("und für unser 8-köpfiges Team?"), rather than adding a new aspect to its topic
    ("Und pro Monat?")."""
    # "Was kommt an laufenden Kosten dazu?": "dazu" of "hinzukommen" adds an aspect, it points nowhere
    question = re.sub(r"(\bkomm\w*\b.*)\bdazu\b", r"\1", question, flags=re.IGNORECASE)
    return bool(_REFERS_BACK.search(question) or re.search(r"\d", question))


def topic_query(question: str, previous: str | None) -> str:
    """A short follow-up ("Und pro Monat?") is searched together with the previous question."""
    if previous and is_follow_up(question):
        return f"{question} {question} {previous}"
    return question


def rewrite(question: str, previous: str | list[str] | None, previous_sections: list[str], language: str) -> str | None:
    """The question a follow-up stands for, when it moves along the plan's weeks or the roadmap's phases
    ("und danach?", "und in Phase 2?"); None when it does not. `previous`: the earlier questions, the
    latest last (or the latest alone); a chain of follow-ups ("und in Phase 2?", "und Phase 3?") keeps
    the topic of the question it started from."""
    earlier_questions = [previous] if isinstance(previous, str) else list(previous or [])
    previous = earlier_questions[-1] if earlier_questions else None
    template = next((q for q in reversed(earlier_questions) if not is_follow_up(q)), previous)
    if not previous and not previous_sections:
        return None
    if len(re.findall(r"\w+", question)) > 10:
        return None
    step = 1 if _NEXT.search(question) else -1 if _PREVIOUS.search(question) else 0
    if step and not _only_moves(question):
        step = 0  # "Wann ist unsere nächste Datenschutz-Schulung?" asks about something of its own
    for kind, sequence in sequences().items():
        own = mentions(question, kind)
        earlier = mentions(previous or "", kind) or [n for s in previous_sections[:1] for n in mentions(s, kind)]
        if step and own:
            # "die Woche vor 5-6", "the week after 9-10": a step from the week it names
            at = sequence.index_of(own if step < 0 else own[-1:])
            if at is None or not 0 <= at + step < len(sequence.items):
                return None
            return _ask_for(kind, sequence.items[at + step], language)
        if own and earlier and previous and is_follow_up(question):
            # "und in Phase 2?" after "Welche Tools gibt es für Phase 1?": the same question for phase 2
            target = sequence.index_of(own)
            base = template if template and mentions(template, kind) else previous
            return _replace(base, kind, sequence.items[target] if target is not None else str(own[0]))
        if step and earlier and not own:
            at = sequence.index_of(earlier if step < 0 else earlier[-1:])
            if at is None or not 0 <= at + step < len(sequence.items):
                return None
            return _ask_for(kind, sequence.items[at + step], language)
    return None


_FUNCTION = GERMAN_WORDS | ENGLISH_WORDS
_FILLERS = frozenset(
    "nochmal nochmals noch mal eigentlich genau dann denn bitte again exactly please what whats comes come "
    "kommt passiert happens happen steht machen machen tun do does about".split()
)


def _only_moves(question: str) -> bool:
    """Whether a message does nothing but move along ("und danach?", "was war nochmal die Woche davor?",
    "and the one after that?"): no words of its own beyond the move, the step's name and fillers."""
    rest = _PREVIOUS.sub(" ", _NEXT.sub(" ", question.lower()))
    rest = re.sub(rf"\b{_KIND_WORDS['week']}\b|\b{_KIND_WORDS['phase']}\b", " ", rest)
    content = [w for w in re.findall(r"[a-zäöüß]+", rest) if len(w) > 3 and w not in _FILLERS and w not in _FUNCTION]
    return not content


def _replace(previous: str, kind: str, item: str) -> str:
    pattern = re.compile(rf"\b({_KIND_WORDS[kind]})\s+\d+(?:\s*(?:[-–—]|bis|to|und|and|/)\s*\d+)?", re.IGNORECASE)
    return pattern.sub(lambda m: f"{m.group(1)} {item}", previous, count=1)


def _ask_for(kind: str, item: str, language: str) -> str:
    if kind == "week":
        return (
            f"Was passiert in Woche {item} des 90-Tage-Plans?"
            if language == "de"
            else (f"What happens in week {item} of the 90-day plan?")
        )
    return (
        f"Worum geht es in Phase {item} der KI-Roadmap?"
        if language == "de"
        else (f"What is phase {item} of the AI roadmap about?")
    )
