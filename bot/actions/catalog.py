"""The action catalog (`config/actions.yaml`, issue 22): what Lotse does when asked in plain words.

Each action names the slash command it stands for (so the routing table, with its roles and direct-chat
rules, decides as for the typed command), its effect (read and dialog run at once, write asks to confirm,
destructive keeps its own typed confirmation), its slots, German and English descriptions, example
requests and counter-examples (questions about the topic, answered from the guide). Checked at start
like the assessment files: a broken catalog stops Lotse with a message naming the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

EFFECTS = ("read", "dialog", "write", "destructive")
SLOT_TYPES = (
    "assessment",
    "date",
    "weekday",
    "time",
    "state",
    "task",
    "pilot",
    "register",
    "quarter",
    "format",
    "text",
)
ROLES = ("admin", "champion", "employee")
# the automation contract (issue 22): these ids exist, with these names
REQUIRED = (
    "assessment.start", "assessment.results", "plan.start", "plan.status", "plan.task_done", "plan.pause",
    "plan.resume", "pilot.create", "pilot.feedback", "pilot.report", "pilot.quarter_report", "pilot.export",
    "feedback.give", "privacy.summary", "privacy.export", "privacy.erase", "register.list", "register.add",
    "audit.show", "help",
)  # fmt: skip
MIN_EXAMPLES = {"de": 15, "en": 10}


class ActionSpecError(ValueError):
    """The action catalog cannot be used; the message names the file, the action and what is wrong."""


@dataclass(frozen=True)
class Slot:
    name: str
    type: str
    required: bool = False


@dataclass(frozen=True)
class Action:
    id: str
    command: str  # "/pilot feedback {pilot}"
    effect: str
    roles: tuple[str, ...]
    dm: bool
    slots: tuple[Slot, ...]
    description: dict[str, str]
    examples: dict[str, tuple[str, ...]]
    counter: tuple[str, ...] = field(default_factory=tuple)
    keywords: tuple[str, ...] = field(default_factory=tuple)  # folded words that favour it over a similar one
    # a question about it is best answered by running it ("Welche Befehle gibt es?" → /help): about Lotse
    # itself, which the guide does not describe
    answers_questions: bool = False
    # a prompt starter (Teams' manifest, at most 32 characters): a request in plain words that runs it
    starter: dict[str, str] = field(default_factory=dict)
    command_en: str = ""  # the command in English words ("/pilot report {pilot}"), where they differ

    def render(self, values: dict[str, str], language: str = "de") -> str:
        """The command with the slot values in (missing optional slots leave nothing behind), in the
        words of the request's language: the commands answer in the language of their words."""
        text = self.command_en if language == "en" and self.command_en else self.command
        for slot in self.slots:
            text = text.replace("{" + slot.name + "}", str(values.get(slot.name) or ""))
        return " ".join(text.split())

    @property
    def confirms(self) -> bool:
        return self.effect == "write"


def load_actions(path: Path) -> list[Action]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ActionSpecError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ActionSpecError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("actions"), list):
        raise ActionSpecError(f"{path}: expected a mapping with a list `actions`")
    actions = [_action(path, number, entry) for number, entry in enumerate(data["actions"], 1)]
    ids = [a.id for a in actions]
    doubled = sorted({i for i in ids if ids.count(i) > 1})
    if doubled:
        raise ActionSpecError(f"{path}: action ids appear twice: {', '.join(doubled)}")
    missing = [i for i in REQUIRED if i not in ids]
    if missing:
        raise ActionSpecError(f"{path}: the catalog lacks the actions {', '.join(missing)}")
    return actions


def _action(path: Path, number: int, entry) -> Action:
    where = f"{path}: action {number}"
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise ActionSpecError(f"{where}: needs an `id`")
    where = f"{path}: action {entry['id']}"
    if not re.fullmatch(r"[a-z_]+(\.[a-z_]+)?", entry["id"]):
        raise ActionSpecError(f"{where}: an id is lower case, like pilot.feedback")
    command = entry.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ActionSpecError(f"{where}: needs a `command` (the slash command it stands for)")
    effect = entry.get("effect")
    if effect not in EFFECTS:
        raise ActionSpecError(f"{where}: effect {effect!r} is not one of {', '.join(EFFECTS)}")
    roles = tuple(entry.get("roles") or ROLES)
    if any(r not in ROLES for r in roles):
        raise ActionSpecError(f"{where}: roles must be among {', '.join(ROLES)}")
    slots = []
    for name, spec in (entry.get("slots") or {}).items():
        spec = spec or {}
        if spec.get("type") not in SLOT_TYPES:
            raise ActionSpecError(
                f"{where}: slot {name}: type {spec.get('type')!r} is not one of {', '.join(SLOT_TYPES)}"
            )
        slots.append(Slot(name, spec["type"], bool(spec.get("required", False))))
    command_en = entry.get("command_en") or ""
    if not isinstance(command_en, str):
        raise ActionSpecError(f"{where}: `command_en` is the command in English words, a string")
    for text in filter(None, (command, command_en)):
        placeholders = set(re.findall(r"\{(\w+)\}", text))
        if placeholders != {s.name for s in slots}:
            raise ActionSpecError(f"{where}: the command's placeholders {sorted(placeholders)} and the slots differ")
    description = entry.get("description") or {}
    if not all(isinstance(description.get(lang), str) for lang in ("de", "en")):
        raise ActionSpecError(f"{where}: needs a description in de and en")
    examples = entry.get("examples") or {}
    for lang, least in MIN_EXAMPLES.items():
        found = [e for e in examples.get(lang) or [] if isinstance(e, str) and e.strip()]
        if len(found) < least:
            raise ActionSpecError(f"{where}: needs at least {least} {lang} examples (has {len(found)})")
    counter = tuple(c for c in entry.get("counter") or [] if isinstance(c, str) and c.strip())
    keywords = entry.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords):
        raise ActionSpecError(f"{where}: keywords must be a list of words")
    return Action(
        id=entry["id"],
        command=command.strip(),
        command_en=command_en.strip(),
        effect=effect,
        roles=roles,
        dm=bool(entry.get("dm", False)),
        slots=tuple(slots),
        description={"de": description["de"], "en": description["en"]},
        examples={lang: tuple(examples.get(lang) or ()) for lang in ("de", "en")},
        counter=counter,
        keywords=tuple(k.strip().lower() for k in keywords),
        answers_questions=_flag(where, entry, "answers_questions", effect),
        starter=_starter(where, entry.get("starter")),
    )


STARTER_LIMIT = 32  # Teams' manifest: a command's title


def _starter(where: str, value) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(value.get(lang), str) for lang in ("de", "en")):
        raise ActionSpecError(f"{where}: starter needs a de and an en text")
    long = [lang for lang in ("de", "en") if not 0 < len(value[lang].strip()) <= STARTER_LIMIT]
    if long:
        raise ActionSpecError(f"{where}: starter ({', '.join(long)}) must be 1 to {STARTER_LIMIT} characters")
    return {lang: value[lang].strip() for lang in ("de", "en")}


def _flag(where: str, entry: dict, key: str, effect: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise ActionSpecError(f"{where}: {key} is true or false")
    if value and effect != "read":
        raise ActionSpecError(f"{where}: only a read may answer questions by running ({key})")
    return value
