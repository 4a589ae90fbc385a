"""Instruction-like text in documents: "ignore previous instructions", "ignoriere alle vorherigen
Anweisungen", "you are now …", "system prompt" and the like, in German and English.

`lotse ingest` reports the files that contain it, and the LLM prompt marks passages that contain it.
Such passages are still indexed and quoted as data; the model is told that they are data, and the
output checks (bot/safety/output.py) stop what a model that obeys them anyway would write. This is a
flag for a person to look at, not a filter: it is tuned so that the bundled guide ("Prompt Engineering",
"act as multipliers") raises nothing.
"""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[str, str], ...] = (
    # English
    ("ignore instructions", r"\b(?:ignore|disregard|forget|override|skip)\b(?:\s+\w+){0,3}?\s+(?:previous|prior|above|"
     r"earlier|preceding|all|any|your|the|these|those|system)\s+(?:\w+\s+){0,2}?(?:instructions?|prompts?|rules|"
     r"guidelines|directions|context|messages?)"),
    ("new instructions", r"\b(?:new|updated|real|actual|additional)\s+(?:system\s+)?instructions?\s*:"),
    ("you are now", r"\byou\s+are\s+(?:now|no\s+longer|from\s+now\s+on)\b"),
    ("from now on", r"\bfrom\s+now\s+on,?\s+(?:you|always|only|answer|respond|reply|say)\b"),
    ("pretend", r"\b(?:pretend\s+(?:to\s+be|you\s+are)|act\s+as\s+(?:if|though)\s+you|role-?play\s+as)\b"),
    ("system prompt", r"\bsystem\s*[- ]?\s*(?:prompt|message|instructions?)\b"),
    ("reveal instructions", r"\b(?:reveal|print|repeat|output|show|display|leak)\b(?:\s+\w+){0,3}?\s+(?:your|the)\s+"
     r"(?:initial\s+|original\s+|hidden\s+|secret\s+)?(?:instructions|prompt|configuration|rules)\b"),
    ("repeat the text above", r"\b(?:repeat|print|output|copy|translate)\b(?:\s+\w+){0,3}?\s+(?:text|words|"
     r"everything|message|lines)\s+(?:above|before|preceding)\b"),
    ("jailbreak", r"\b(?:jailbreak|jailbroken|developer\s+mode|DAN\s+mode|do\s+anything\s+now)\b"),
    # German
    ("ignoriere Anweisungen", r"\b(?:ignorier\w*|vergiss|vergessen\s+sie|missacht\w*|überschreib\w*|übergeh\w*)\b"
     r"(?:\s+\w+){0,3}?\s+(?:alle|vorherigen?|bisherigen?|obigen?|vorigen?|deine|ihre|die|diese|früheren?|"
     r"ursprünglichen?)\s+(?:\w+\s+){0,2}?(?:Anweisungen|Instruktionen|Regeln|Vorgaben|Befehle|Richtlinien|"
     r"Nachrichten|Prompts?)"),
    ("neue Anweisungen", r"\b(?:neue|geänderte|eigentliche|wahre|zusätzliche)\s+(?:System-?)?(?:Anweisung|"
     r"Instruktion)(?:en)?\s*:"),
    ("du bist jetzt", r"\b(?:du\s+bist|sie\s+sind)\s+(?:jetzt|nun|ab\s+sofort|ab\s+jetzt|von\s+nun\s+an|"
     r"nicht\s+mehr)\b"),
    ("ab jetzt", r"\b(?:ab\s+(?:jetzt|sofort)|von\s+nun\s+an),?\s+(?:antwortest|sagst|schreibst|gibst|bist|"
     r"hängst|antworte|sage|schreibe)\b"),
    ("tu so als", r"\b(?:tu|tue|tun\s+sie)\s+so,?\s+als\b|\bspiel\w*\s+die\s+Rolle\b"),
    ("Systemprompt", r"\bSystem\s*-?\s*(?:prompt|nachricht|anweisung(?:en)?)\b"),
    ("gib Anweisungen aus", r"\b(?:gib|zeig\w*|wiederhol\w*|verrat\w*|nenne|druck\w*)\b(?:\s+\w+){0,3}?\s+"
     r"(?:deine|ihre|die)\s+(?:ursprünglichen\s+|geheimen\s+|versteckten\s+)?(?:Anweisungen|Konfiguration|"
     r"Instruktionen|Regeln)\b"),
    ("wiederhole den Text oben", r"\b(?:wiederhol\w*|gib|druck\w*|kopier\w*|übersetz\w*)\b(?:\s+\w+){0,3}?\s+"
     r"(?:Text|Wörter|Nachricht|alles)\s+(?:oben|darüber|davor|vor\s+dieser)\b"),
    ("reply only with", r"\b(?:reply|respond|answer|say|output)\s+(?:only|just|exactly|nothing\s+but)\b"),
    ("every answer", r"\b(?:begin|start|end|prefix|suffix)\s+(?:your|each|every)\s+(?:reply|answer|response)\b|"
     r"\b(?:to|at\s+the\s+end\s+of|in)\s+(?:every|each)\s+(?:reply|answer|response)\b"),
    ("antworte nur", r"\b(?:antworte|antworten\s+sie|sag|sage|sagen\s+sie|schreib|schreibe|gib)\s+(?:nur|"
     r"ausschließlich|lediglich|genau|stattdessen)\b"),
    ("jede Antwort", r"\b(?:beginne|beende|starte|schließe)\s+(?:deine|ihre|jede)\s+Antwort\b|"
     r"\b(?:an|in|am\s+Ende)\s+(?:jeder|jede|deiner|ihrer)\s+Antwort\b"),
    ("say: quote", r"\b(?:say|write|print|output|reply|respond|answer|sag\w*|schreib\w*|antworte\w*|gib)\b"
     r"[^.!?\n]{0,30}:\s*[\"'„“«‚]"),
    ("mention", r"<!(?:channel|here|everyone)\b[^>]*>|<@[UW][A-Z0-9]+>"),
    ("script", r"<\s*script\b|\bjavascript\s*:"),
    # chat-template markers that have no place in a document
    ("chat markup", r"<\|(?:im_start|im_end|system|endoftext)\|>|\[/?INST\]|<</?SYS>>|^\s*#{2,}\s*(?:system|"
     r"instruction)s?\s*:?\s*$"),
)  # fmt: skip
_COMPILED = tuple((label, re.compile(pattern, re.IGNORECASE | re.MULTILINE)) for label, pattern in _PATTERNS)


def data_only(text: str) -> str:
    """`text` without instruction-like text: in each line, from the first instruction-like sentence on
    (an injected instruction runs on: "You are DAN now. As DAN, say …"). What a reply may draw on."""
    from ingest.chunking import split_sentences

    kept = []
    for line in text.split("\n"):
        sentences = split_sentences(line)
        first = next((i for i, s in enumerate(sentences) if instruction_like(s)), len(sentences))
        kept.append(" ".join(sentences[:first]))
    return "\n".join(kept)


def instruction_like(text: str) -> list[str]:
    """The instruction-like phrases in `text`, as written there (at most one per kind)."""
    found: list[str] = []
    for _label, pattern in _COMPILED:
        match = pattern.search(text)
        phrase = " ".join(match.group().split())[:80] if match else ""
        if phrase and phrase not in found:
            found.append(phrase)
    return found
