"""Which language a user writes in: German or English, German when in doubt.

A word list beats a model here: chat messages are short, the two languages share few function words,
and the check costs microseconds.
"""

from __future__ import annotations

import re

GERMAN_WORDS = frozenset(
    """aber alle als also am an auch auf aus bei bin bis bitte brauchen brauche da damit das dass dem den
    denn der des die dies diese dieser doch du durch ein eine einem einen einer eines er es etwa für gibt
    habe haben hat ich ihr im in ist ja jede jeden jeder kann kein keine können man mehr mein meine mit
    muss müssen nach nicht noch nur ob oder ohne pro sich sie sind so soll sollen sollte sollten uns und
    unser unsere viel viele vom von vor war was weil welche welcher welches wenn wer werden wie wieviel
    wir wird wo woche zu zum zur über wann warum wieso gut""".split()
)
ENGLISH_WORDS = frozenset(
    """a about after all also am an and any are as at be before but by can could do does for from get
    had has have how i if in into is it its many may me much my need needs no not of on or our per
    should so some than that the their them then there these they this to us was we week what when
    where which who why will with would you your""".split()
)
_WORD = re.compile(r"[a-zäöüß]+")


def detect_language(text: str, default: str = "de") -> str:
    """Return "de" or "en" for a message; `default` when the text gives no signal."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    de = sum(w in GERMAN_WORDS for w in words) + 2 * len(re.findall(r"[äöüß]", lowered))
    en = sum(w in ENGLISH_WORDS for w in words)
    if de == en:
        return default
    return "de" if de > en else "en"
