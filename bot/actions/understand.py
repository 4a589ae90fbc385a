"""Offline understanding of requests (issue 22): which action a message asks for, if any, with the
embedder the answering service has already loaded — no model of its own, nothing downloaded.

A single similarity threshold cannot tell "Ich möchte Feedback zum Pilot geben" from "Wie gebe ich
Feedback zum Pilot?" (both are close to the action's examples: shared/notes/natural-language-actions.md).
So a message is scored on:
- a classifier over the catalog's examples: a multinomial logistic regression on the embeddings (numpy,
  trained once in seconds and kept in the data folder), with one more class, "a question for the guide",
  made of the catalog's counter-examples (questions about an action's topic) and the guide's own
  questions (the `fragen:` its sections answer); an action's keywords raise its logit, and so does a
  pilot's name for the actions about a pilot. (Measured on bench/actions dev: the mean of the three
  closest examples picked the right action for 85 % of requests, the classifier for 92 %.)
- its speech act: a request (a modal request, "ich möchte", an imperative) or a question (a question word,
  a question mark), and whether it is about *our* state or Lotse's ("Wie weit sind wir mit dem Plan?",
  "Was speicherst du über mich?": a read that runs at once).
The thresholds (`Thresholds`) are fitted on the dev half of bench/actions (`python -m bench.actions --fit`);
the held-out half is never used for them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.actions.catalog import Action
from bot.actions.slots import fold

REQUEST = re.compile(
    r"\b(bitte|pls|plz|please|bitteschoen|mal eben|jetzt direkt|right now|for me|fuer mich)\b|"
    r"\b(anzeigen|zeigen|anlegen|einrichten|aktivieren|exportieren|loeschen|eintragen|starten|bewerten|"
    r"abgeben|loswerden|geben|fortsetzen|pausieren|abhaken|erstellen|auflisten|durchgehen|ausgeben|schicken|"
    r"holen|einschalten|ausschalten|aufsetzen|machen|durchfuehren|ergaenzen|hinzufuegen|wiederaufnehmen|erfassen|"
    r"anwerfen|ausfuellen|aufmachen|melden|vorschlagen|beenden|aufheben|stoppen|deaktivieren|registrieren|weitermachen|"
    r"fortfahren|loslegen|anfangen|einreichen|hochladen|herunterladen|runterladen|nachtragen|aussetzen|abschicken|"
    r"freigeben)[.!]?$|"
    r"\b(needs? to (?:go|be put|be added) (?:in|into|on|to)|should be (?:added|registered|listed)|"
    r"muss (?:noch )?(?:ins|in das|in unser) (?:ki-)?(?:register|verzeichnis)|gehoert (?:noch )?ins (?:ki-)?register|"
    r"muss (?:noch )?eingetragen werden)\b|"
    r"\b(anlegen|eintragen|erfassen|hinzufuegen|ergaenzen|erstellen|aufnehmen)\s+(fuer|mit|namens|als)\b|"
    r"^(neue[rs]?|new|add|my|meine|unser|unsere|our)\b[^?]*:\s|"
    r"^[^?]{0,30}\b(feedback|rueckmeldung|vorschlag|verbesserungsvorschlag|idee|wunsch|kritik|lob|suggestion|idea)\b"
    r"[^?]*:\s|"
    r"\b(ich hab|ich habe|i have|i've got|we have|wir haben) (feedback|rueckmeldung|eine rueckmeldung|"
    r"eine einschaetzung|input)\b|"
    r"\b(kannst du|koenntest du|koennen sie|koenntest|kannst|mach mal|lass uns|lasst uns|ich moechte|ich moecht|"
    r"ich will|ich wuerde gern|ich wuerd gern|ich haette gern|wir moechten|wir wollen|wir wuerden gern|moechte ich|"
    r"will ich|wuerde gerne|wuerde gern|moechte gern|moechte gerne|"
    r"can you|could you|would you|can u|could u|will you|i want|i'd like|i would like|i wanna|we want|we'd like|"
    r"we would like|let's|lets|let me|(?<!do )i need|(?<!do )we need|ich brauche|(?<!brauche )wir brauchen|"
    r"brauche (?:bitte|mal|jetzt|noch)|koennen wir mal|koennen wir jetzt|"
    r"can we (?:do|start|run|go|now)|shall we|sollen wir (?:jetzt|mal)|lasst uns|gib mir|give me)\b"
)
FILLER = (  # words before a clause's verb that change nothing: "ok cool. now export …", "dann bitte zeig …"
    r"^(?:(?:ok|okay|gut|super|prima|danke|thanks|thx|cool|perfekt|alles klar|verstehe|verstanden|got it|i see|"
    r"dann|then|now|jetzt|und|and|also|so|bitte|please|pls|hey|hi|hallo|lotse|noch|still|next|als naechstes)[\s,.!:]+)*"
)
IMPERATIVE = re.compile(  # a verb first; nouns such as "feedback", "status" or "weiter so" are no request
    FILLER + r"(zeig|zeige|zeigt|starte|beginne|oeffne|open|exportier|exportiere|loesch|loesche|delete|erase|remove|"
    r"entfern|trag|trage|leg|lege|erstell|erstelle|create|add|richte|richt|setz|setze|schick|schicke|send|gib|"
    r"give|hak|hake|markier|markiere|mark|tick|pausier|pausiere|stopp|halt|fortsetz|resume|continue|mach|mache|"
    r"make|run|show|display|pruef|pruefe|bewerte|rate|melde|fortfahren|aktivier|aktiviere|ergaenz|ergaenze|"
    r"start|begin|list|pause|set up|setup|kick off|do|erfass|erfasse|trag|notier|notiere|plane|schedule|export|"
    r"tell|report|lass|lasst|download|lade|upload|share|teile|stop)\b"
    r"(?!\s+(?:we|you|i|they|it|our)\b)"  # "do we need …?" is a question
)
CLAUSES = re.compile(
    r"(?<=[^\d\s][.!?;:])\s+|\s+[–-]\s+|,\s+(?=(?:kann ich|kannst du|koennen wir|koenntest du|can i|can we|can you|"
    r"could you|could we|bitte|please|was|wie|welche|what|how|which|also|sprich|d\.h\.|i\.e\.|that is)\b)"
)  # "Danke! Jetzt bitte den Datencheck starten"
MODAL = re.compile(  # a modal question that asks for something to be done: "Könnten wir jetzt die Analyse machen?"
    r"^(?:kannst du|koenntest du|kann ich|koennte ich|darf ich|koennen wir|koennten wir|koennen sie|koennten sie)\b"
    r".*\b(anzeigen|zeigen|anlegen|einrichten|aktivieren|exportieren|eintragen|starten|bewerten|abgeben|geben|"
    r"fortsetzen|pausieren|abhaken|erstellen|auflisten|durchgehen|schicken|machen|durchfuehren|sehen|haben|"
    r"bekommen|erfassen|aufsetzen|ausfuellen|beginnen|loslegen|anwerfen|weitermachen|fortfahren|abschliessen|"
    r"aussetzen|stoppen|beenden|anhalten|abschalten|ausschalten|einschalten|loeschen|registrieren|hinzufuegen|melden|"
    r"herunterladen|runterladen|nachtragen)\s*\??$|"
    r"^(?:can|could|may) (?:i|we) (?:please )?(?:see|get|have|start|do|submit|give|add|export|run|take|begin|"
    r"set up|pause|resume|create|register|leave|rate|review|kick off|fill in|record|log|continue|finish|share|send|"
    r"pass|drop|post|upload|enter|note|mark|tick|download|delete|erase|remove|stop)\b"
)
QUESTION = re.compile(
    r"^(?:(?:in|an|bei|mit|zu|seit|bis|fuer|von|at|in|on|for|from|since|with|by|to) (?:welche[rnms]?|was|wem|wann|"
    r"which|what|whom|when)\b)|"
    r"^(wie|was|warum|wieso|weshalb|wann|welche|welcher|welches|wer|wo|woran|worauf|wozu|wofuer|wieviel|"
    r"how|what|why|when|which|who|where|should|sollte|sollten|muss|muessen|gibt es|kann man|koennen wir)\b|"
    # a verb first asks when a subject follows ("haben wir …", "is the …"); "haben 4.3 fertig" tells
    r"^(?:is|are|does|do|did|ist|sind|hat|haben|hast|war|waren)\s+(?:wir|ihr|sie|du|ich|der|die|das|den|dem|des|es|"
    r"man|unser\w*|mein\w*|dein\w*|euer\w*|ein\w*|schon|we|you|they|it|the|there|this|that|these|those|our|my|your|"
    r"i|he|she|a|an|any)\b"
)
OWN = re.compile(  # our own state: a possessive, or "haben wir", "are we" — not any "wir" of a general question
    r"\b(unser|unsere|unserem|unseren|unserer|unseres|mein|meine|meinen|meinem|meiner|our|ours|my|mine|"
    r"bei uns|haben wir|hat unser|sind wir|stehen wir|have we|do we have|are we|did we|we've|stecken wir|"
    r"liegen wir|so far|bis jetzt|bisher|already|yet|currently|derzeit|gerade|right now|are registered|is registered|"
    r"ist eingetragen|sind eingetragen|this week|diese woche|diesen monat|this month|rausgekommen|herausgekommen|"
    r"came out|kam\b[^?]*\braus|wie war|wie waren|wie lief|wie liefen|how was|how were|how did)\b"
)
HOWTO = re.compile(  # how to do it: the guide answers, the action is offered — never run
    r"^(wie kann ich|wie kann man|wie koennen wir|wie gebe ich|wie sehe ich|wie lege ich|wie starte ich|wie mache ich|"
    r"wie geht das|wie funktioniert|wo sehe ich|wo finde ich|how (?:can|do|should|would) (?:i|we|one|you)|how to|"
    r"where (?:can|do) (?:i|we))\b|\b(?:irgendwie|somehow)\b|\b(?:how|wie)\?$"
)
SOCIAL = re.compile(  # thanks, greetings, praise: said to Lotse, never a request of their own
    r"^(danke|vielen dank|dankeschoen|thanks|thank you|thx|hallo|hi|hey|moin|servus|guten (morgen|tag|abend)|"
    r"good (morning|afternoon|evening)|super|klasse|toll|prima|spitze|weiter so|gut gemacht|great|nice|cool|"
    r"awesome|perfekt|perfect|ok|okay|alles klar|passt)\b"
)
GREETING = re.compile(  # "hey, …", "moin lotse, …": a greeting before a message says nothing about it
    r"^(?:(?:hey|hi|hallo|moin|servus|hello|guten (?:morgen|tag|abend)|good (?:morning|afternoon|evening))"
    r"(?:\s+(?:lotse|bot|zusammen|there|team))?\s*[,!.:;-]*\s+)+"
)
DOING = re.compile(  # verbs that do something (a dialog): "lass uns eine Bewertung machen", "Bewertung abgeben"
    r"\b(machen|mache|durchgehen|durchfuehren|starten|starte|beginnen|beginne|ausfuellen|anfangen|loslegen|abgeben|"
    r"loswerden|melden|einreichen|bewerten|kick off|start|begin|run|do|take|go through|fill in|fill out|submit|leave|"
    r"pass on)\b"
)
PILOT_FEEDBACK = re.compile(r"\b(feedback|rueckmeldung|thoughts|erfahrung|erfahrungen|eindruecke|kritik|input)\b")
FINAL_VERB = re.compile(r"(?<![\w-])(\w{3,}(?:en|ern|eln))(?:\s+(?:bitte|mal|pls|jetzt|danke))*\s*[.!]*$")
CONTINUING = re.compile(r"^(und|and|aber|but|oder|or|auch|also|what about|how about|sowie|plus)\b")  # a follow-up
SHOW = re.compile(r"\b(zeig|zeige|zeigt|anzeigen|sehen|show|see|display|gib mir|give me|list|auflisten)\b")
SHOWING = re.compile(r"\b(zeig\w*|anzeigen|sehen|show|see|display|list\w*|ergebnis\w*|results?|bericht|report)\b")
# about Lotse itself: what it stores, what it can do
ADDRESSED = re.compile(r"\b(du|dir|dich|you|your|lotse|der bot|the bot)\b")
GENERAL = re.compile(  # about the guidance, not our state: advice, what is typical, what the guide says
    r"\b(man|typischerweise|allgemein|generell|in general|typically|usually|someone|a company|leitfaden|the guide|"
    r"laut plan|according to|sollten wir|should we|muessen wir|must we|do we need to|need we|beispiel|example|"
    r"(?<!fuers )(?<!for )(?:explain\w*|erklaer\w*)|normal|ueblich|empfiehlst|empfehlen|recommend|"
    r"(?<!ich )muss|(?<!i )must|a good|ein guter|eine gute|ein gutes|gute kpis?|good kpis?|sinnvoll\w*|sensible)\b"
)


@dataclass(frozen=True)
class Thresholds:
    """When a message is taken as a request: probabilities of the best action (fitted on the dev split)."""

    request: float = 0.25  # a request cue ("ich möchte", "kannst du", an imperative) and at least this likely
    own: float = 0.45  # a question about our own state (or Lotse's), for a read action
    own_sure: float = 0.85  # … without a word of the action's keywords, only this likely
    plain: float = 0.35  # neither a request nor a question ("pilot feedback", "unser status"), with a keyword
    plain_sure: float = 0.80  # … without one ("Weiter so", "Hallo Lotse" are no requests)
    offer: float = 0.30  # a question about an action: the guide answers, the action is offered
    keyword: float = 1.5  # added to an action's logit when the message holds one of its keywords
    named: float = 1.0  # … and to the actions about a pilot when the message names one
    # a request whose best action is less likely than `clarify`, and whose second best is at least `close`
    # of it, asks which one is meant (on dev: 0.5 / 0.7 asked once, rightly; looser settings delayed more
    # right actions than they avoided wrong ones — bench/README.md)
    clarify: float = 0.5
    close: float = 0.7


@dataclass(frozen=True)
class Understanding:
    kind: str  # "act": run it; "offer": answer from the guide and offer it; "clarify": ask which; "none"
    action: Action | None = None
    score: float = 0.0  # the action's probability
    contrast: float = 0.0  # the probability that the message is a question for the guide
    cues: tuple[str, ...] = ()
    candidates: tuple[Action, ...] = ()  # for "clarify": the actions it may mean, the likeliest first


@dataclass(frozen=True)
class Features:
    scores: dict[str, float]  # action id → probability
    contrast: float  # probability of "a question for the guide"
    request: bool
    question: bool
    own: bool
    general: bool
    short: bool = True  # a few words, as commands are; a long message tells its own situation to the guide
    named: frozenset[str] = frozenset()  # the actions whose keywords the message holds
    words: int = 2
    social: bool = False  # thanks, a greeting, praise
    live: frozenset[str] = frozenset()  # the kinds of live names it names: "pilot", "register"
    howto: bool = False  # "Wie gebe ich …", "how do I …"
    addressed: bool = False  # about Lotse itself: "du", "you", "Lotse"
    telegraphic: bool = False  # a few words and a question mark, no question word: "Plan-Status?"
    doing: bool = False  # a verb that does rather than shows: "machen", "abgeben", "kick off"
    showing: bool = False  # a verb that shows: "zeig", "gib mir", "show me"


def _keywords(words: Sequence[str]) -> re.Pattern | None:
    """An action's keywords as one pattern: at a word's start, or (six letters or more) as the last part of
    a German compound ("bericht" in "Pilotbericht", "register" in "KI-Register")."""
    if not words:
        return None
    short = [re.escape(k) for k in words if len(k) < 6 or " " in k]
    long = [re.escape(k) for k in words if len(k) >= 6 and " " not in k]
    parts = []
    if short:
        parts.append(r"(?<![\w-])(?:" + "|".join(short) + ")")
    if long:
        parts.append(r"(?:" + "|".join(long) + ")")
    return re.compile("|".join(parts))


DOING_LEAST = 0.01  # how likely the dialog a doing verb asks for must be at least

_TRAINED: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # by the key of what they were trained on: per process
SCALE = 10.0  # the vectors are unit length: scaled, their dot products make sharper logits
EPOCHS, RATE, DECAY = 400, 1.0, 1e-3


def train(vectors: np.ndarray, labels: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """A multinomial logistic regression over the examples (full-batch gradient descent, numpy only):
    every action's examples against each other and against the guide's questions (the last class)."""
    x = vectors.astype(np.float32) * SCALE
    weights = np.zeros((x.shape[1], classes), np.float32)
    bias = np.zeros(classes, np.float32)
    targets = np.eye(classes, dtype=np.float32)[labels]
    for _ in range(EPOCHS):
        logits = x @ weights + bias
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        gradient = (probabilities - targets) / len(x)
        weights -= RATE * (x.T @ gradient + DECAY * weights)
        bias -= RATE * gradient.sum(axis=0)
    return weights, bias


class Understander:
    def __init__(
        self,
        actions: Sequence[Action],
        embedder: Callable[[], object],
        guide: Callable[[], np.ndarray] | None = None,
        thresholds: Thresholds | None = None,
        cache: Path | None = None,
        embed_one: Callable[[str], np.ndarray] | None = None,
    ) -> None:
        self.actions = {a.id: a for a in actions}
        self.embedder = embedder
        self.guide = guide or (lambda: np.zeros((0, 1), np.float32))
        self.thresholds = thresholds or Thresholds()
        self.cache = cache  # where the trained model is kept (it takes seconds to train)
        # one message's vector: the retriever's cached one in chat, so a question is embedded once, not twice
        self.embed_one = embed_one or (lambda text: self.embedder().embed_one(text))
        self._lock = threading.Lock()
        self._model: tuple[np.ndarray, np.ndarray] | None = None
        self._ids = list(self.actions)
        self._keywords = [_keywords(a.keywords) for a in self.actions.values()]

    def model(self) -> tuple[np.ndarray, np.ndarray]:
        """The classifier's (weights, bias): trained once, from the catalog and the guide's questions."""
        with self._lock:
            if self._model is None:
                texts, labels, counter = [], [], []
                for number, action in enumerate(self.actions.values()):
                    for lang in ("de", "en"):
                        texts += action.examples[lang]
                        labels += [number] * len(action.examples[lang])
                    counter += action.counter
                guide = self.guide()
                key = hashlib.sha256(
                    json.dumps([texts, labels, counter, int(guide.shape[0]), SCALE, EPOCHS]).encode()
                ).hexdigest()[:16]
                if key in _TRAINED:
                    self._model = _TRAINED[key]
                    return self._model
                if self.cache is not None and self.cache.is_file():
                    with np.load(self.cache) as saved:
                        if str(saved["key"]) == key:
                            self._model = _TRAINED[key] = (saved["weights"], saved["bias"])
                            return self._model
                embed = self.embedder().embed
                examples = np.asarray(embed(texts + counter), np.float32)
                none = np.full(len(counter), len(self._ids))
                vectors, all_labels = examples, np.concatenate([np.asarray(labels), none])
                if guide.size and guide.shape[1] == examples.shape[1]:
                    vectors = np.concatenate([examples, guide.astype(np.float32)])
                    all_labels = np.concatenate([all_labels, np.full(len(guide), len(self._ids))])
                self._model = _TRAINED[key] = train(vectors, all_labels.astype(int), len(self._ids) + 1)
                if self.cache is not None:
                    with contextlib.suppress(OSError):
                        self.cache.parent.mkdir(parents=True, exist_ok=True)
                        np.savez(self.cache, key=key, weights=self._model[0], bias=self._model[1])
            return self._model

    def features(self, text: str, live: frozenset[str] = frozenset()) -> Features:
        """`live`: the kinds of live names the message names ("pilot": one of the team's pilots, "register":
        an entry of the register), matched by the caller."""
        weights, bias = self.model()
        vector = np.asarray(self.embed_one(text), np.float32) * SCALE
        logits = vector @ weights + bias
        low = fold(text).strip()
        keyworded = set()
        # "Feedback zur Dokumentensuche: die Ergebnisse sind …": a head that names an action asks for it, and
        # the words after the colon are what is said, not which action ("Ergebnisse" is no request for results)
        head, colon, _ = low.partition(": ")
        in_head = colon and len(head.split()) <= 6 and any(p is not None and p.search(head) for p in self._keywords)
        named_in = head if in_head else low
        for number, pattern in enumerate(self._keywords):
            if pattern is not None and pattern.search(named_in):
                logits[number] += self.thresholds.keyword
                keyworded.add(self._ids[number])
        # German puts the verb last: "meine gespeicherten Daten löschen bitte", "eine Aufgabe abhaken" — the
        # action that verb names outweighs one a noun before it names ("gespeichert")
        if (last := FINAL_VERB.search(low)) is not None:
            for number, pattern in enumerate(self._keywords):
                if pattern is not None and pattern.search(last[1]):
                    logits[number] += self.thresholds.keyword
        if "pilot" in live:
            for number, ident in enumerate(self._ids):
                if any(s.type == "pilot" for s in self.actions[ident].slots):
                    logits[number] += self.thresholds.named
            # feedback, thoughts, experience about one of our pilots: the pilot's feedback, however phrased
            if "pilot.feedback" in self.actions and PILOT_FEEDBACK.search(low) and not SHOWING.search(low):
                logits[self._ids.index("pilot.feedback")] += self.thresholds.keyword
                keyworded.add("pilot.feedback")
        logits -= logits.max()
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum()
        scores = {ident: float(probabilities[n]) for n, ident in enumerate(self._ids)}
        said = GREETING.sub("", low + " ").strip()  # the message after "hey, " / "moin lotse, "
        howto = bool(HOWTO.search(said))
        clauses = [c for c in CLAUSES.split(said) if c]
        imperative = any(IMPERATIVE.match(c) for c in clauses) or any(MODAL.match(c) for c in clauses)
        social = (not said or bool(SOCIAL.match(said))) and not REQUEST.search(said) and not imperative
        request = bool(REQUEST.search(said) or imperative) and not howto
        asks = any(QUESTION.match(c) for c in clauses) or said.endswith("?")  # "bin neu hier, was kann …"
        question = howto or (asks and not REQUEST.search(said))
        own = bool(OWN.search(said) or ADDRESSED.search(said) or live) and not howto  # "… bei Pilot 1?": ours
        general = bool(GENERAL.search(said))
        words = len(said.split()) if said else len(low.split())
        short = words <= 16
        return Features(
            scores,
            float(probabilities[-1]),
            request,
            question,
            own,
            general,
            short,
            frozenset(keyworded),
            words,
            social,
            frozenset(live),
            howto,
            bool(ADDRESSED.search(said)),
            words <= 6
            and said.endswith("?")
            and not any(QUESTION.match(c) for c in clauses)
            and not howto
            and not CONTINUING.match(said),
            bool(DOING.search(said)) and not SHOWING.search(said),
            bool(SHOW.search(said)) and not DOING.search(said),
        )

    def _takes(self, ident: str, kind: str) -> bool:
        return any(slot.type == kind for slot in self.actions[ident].slots)

    def understand(self, text: str, live: frozenset[str] = frozenset()) -> Understanding:
        return self.decide(self.features(text, live))

    def _by_verb(self, f: Features, ranked: list[tuple[str, float]], ident: str) -> tuple[str, float] | None:
        """A request's verb against the likeliest action no word names: one that does ("lass uns mal ne
        Bewertung machen", "Bewertung für den Ticket-Assistenten abgeben") asks for the dialog of its kind,
        or for a dialog a word names close behind ("can we do the readiness thing now?"); one that shows
        ("show me the assessment options …", "gib mir mal die Plan-Timeline") for a read a word names."""
        if not f.request or f.general or ident in f.named:
            return None
        effect = self.actions[ident].effect
        if f.doing and effect == "read":
            family = ident.split(".")[0]
            dialogs = [(i, sc) for i, sc in ranked if i.split(".")[0] == family and self.actions[i].effect == "dialog"]
            dialogs = [d for d in dialogs if d[0] in f.named] or dialogs
            if dialogs and dialogs[0][1] >= DOING_LEAST:
                return dialogs[0]
            wanted = "dialog"
        elif f.showing and effect != "read":
            wanted = "read"
        else:
            return None
        named = [(i, sc) for i, sc in ranked[:3] if i in f.named and self.actions[i].effect == wanted]
        return named[0] if named else None

    def decide(self, f: Features) -> Understanding:
        t = self.thresholds
        ranked = sorted(f.scores.items(), key=lambda item: item[1], reverse=True)
        ident, score = ranked[0]
        if "pilot" in f.live and ident not in f.named:
            # one of our pilots is named, and no word names the likeliest action: an action about a pilot,
            # one a word names first ("… Rückmeldungen? zeig mir die Auswertung": the report)
            about = [(i, sc) for i, sc in ranked if self._takes(i, "pilot")]
            named_about = [(i, sc) for i, sc in about if i in f.named]
            about = named_about or ([] if self._takes(ident, "pilot") else about)
            ident, score = about[0] if about else (ident, score)
            if named_about:  # a live name and a word for the action: as sure as a request gets
                score = max(score, t.request)
        cues = tuple(c for c, on in (("request", f.request), ("question", f.question), ("own", f.own)) if on)
        if (by_verb := self._by_verb(f, ranked, ident)) is not None:
            return Understanding("act", self.actions[by_verb[0]], max(by_verb[1], t.request), f.contrast, cues)
        action = self.actions[ident]
        if f.request and not f.general and score >= t.request:
            second, second_score = ranked[1]
            doing = f.doing and action.effect == "dialog" and self.actions[second].effect != "dialog"  # "… machen"
            if score < t.clarify and second_score >= t.close * score and ident not in f.named and not doing:
                fits = any(slot.type in f.live for slot in self.actions[second].slots)
                if second in f.named and fits:  # its word and a live name it takes ("feedback on <pilot>")
                    return Understanding("act", self.actions[second], second_score, f.contrast, cues)
                candidates = (action, self.actions[second])
                return Understanding("clarify", action, score, f.contrast, cues, candidates)
            return Understanding("act", action, score, f.contrast, cues)
        # a question about our state: only with a word that names the action ("Plan", "Register", …)
        named = ident in f.named or any(s.type in f.live for s in action.slots) or ident.split(".")[0] in f.live
        if f.question and f.own and "pilot" in f.live and not f.general and f.short and not f.request:
            # "Hat der Ticket-Assistent schon Feedback?", "how is the doc search pilot performing?": a question
            # about one of our pilots reads it (the read a word names first)
            reads = [(i, sc) for i, sc in ranked if self.actions[i].effect == "read" and self._takes(i, "pilot")]
            named_reads = [(i, sc) for i, sc in reads if i in f.named]
            likely = self._takes(ranked[0][0], "pilot") and ranked[0][1] >= t.offer  # not "und für Dokumente?"
            reads = named_reads or (reads if likely else [])
            if reads:
                ident, score = reads[0]
                return Understanding("act", self.actions[ident], score, f.contrast, cues)
        sure = named or score >= t.own_sure
        if f.question and f.own and not f.general and action.effect == "read" and score >= t.own and f.short and sure:
            return Understanding("act", action, score, f.contrast, cues)
        if (f.question and action.answers_questions and not f.general and score >= t.own and ident in f.named
                and (not f.howto or f.addressed)):  # fmt: skip
            return Understanding("act", action, score, f.contrast, cues)  # "Welche Befehle gibt es?": /help
        if (
            f.telegraphic
            and action.effect == "read"
            and ((ident in f.named and score >= t.plain and f.words >= 2) or score >= t.plain_sure)
        ):
            return Understanding("act", action, score, f.contrast, cues)  # "Plan-Status?", "Piloten?"
        if f.social:
            return Understanding("none", action, score, f.contrast, cues)
        lone = f.words < 2  # one word ("Systemausfall", "4") acts only when it names the action ("hilfe", "status")
        if f.words < 2 and not named:
            return Understanding("none", action, score, f.contrast, cues)
        plain_sure = (named and score >= t.plain) or score >= t.plain_sure
        if not f.question and not f.request and not f.general and plain_sure:
            return Understanding("act", action, score, f.contrast, cues)
        if score >= t.offer and action.effect != "destructive" and (f.question or f.general) and not lone:
            return Understanding("offer", action, score, f.contrast, cues)
        return Understanding("none", action, score, f.contrast, cues)
