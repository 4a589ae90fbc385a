"""Where a dialog stands, worked out from its trail of answers.

The persisted state of a dialog is only its trail: the answers in the order they were given, each
with the position it answered. Everything else — the answers as a nested dict, the next question,
what "back" undoes — is replayed from the trail, so a step's state is one small JSON list and going
back is removing its last entry.

A position is ``(top, item, sub)``: ``(3, None, None)`` is the fourth top-level step;
``(1, 2, None)`` asks for the name of the third item of the repeat block at step 1; ``(1, 2, 0)`` is
the first step of that item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.dialogs.spec import AssessmentSpec, PresetItem, RepeatStep

Position = tuple[int, int | None, int | None]


@dataclass(frozen=True)
class Entry:
    at: Position
    value: Any  # None: skipped (or, at a name prompt, "no more items")
    step: str = ""  # id path: "cloud"; "systems#0/rating" (first named item), "sources@crm/in_use" (a preset)

    def to_json(self) -> list:
        return [list(self.at), self.value, self.step]

    @classmethod
    def from_json(cls, raw: list) -> Entry:
        return cls(tuple(raw[0]), raw[1], raw[2] if len(raw) > 2 else "")


def step_path(spec: AssessmentSpec, at: Position) -> str:
    """The id path of the question at a position; it survives edits of the file, positions do not. An
    item is named by its preset's id (@crm) or as the n-th item the user named (#0), so that a preset
    added to the file does not hand one item's answers to another."""
    top, item, sub = at
    step = spec.steps[top]
    if item is None:
        return step.id
    presets = step.items
    key = f"@{presets[item].id}" if item < len(presets) else f"#{item - len(presets)}"
    return f"{step.id}{key}/{'' if sub is None else step.steps[sub].id}"


ITEM_KEY = re.compile(r"[@#][^/]*")


def _position_of(spec: AssessmentSpec, path: str, item: int | None) -> Position | None:
    block, slash, inner = path.partition("/")
    key = ITEM_KEY.search(block)
    block = ITEM_KEY.sub("", block)
    top = next((i for i, s in enumerate(spec.steps) if s.id == block), None)
    if top is None or bool(slash) != isinstance(spec.steps[top], RepeatStep) or (slash and item is None):
        return None
    if not slash:
        return (top, None, None)
    presets = spec.steps[top].items
    if key and key[0].startswith("@"):  # a preset: wherever it is now, if it is still there
        item = next((i for i, p in enumerate(presets) if p.id == key[0][1:]), None)
        if item is None:
            return None
    elif key:  # the n-th item the user named comes after all presets
        item = len(presets) + int(key[0][1:])
    if not inner:
        return (top, item, None)
    sub = next((i for i, s in enumerate(spec.steps[top].steps) if s.id == inner), None)
    return None if sub is None else (top, item, sub)


def fits(spec: AssessmentSpec, trail: list[Entry]) -> bool:
    """Whether every answer still sits at the question it was given to (paths stored before items had
    keys count as fitting where the rest of the path matches)."""
    try:
        return all(
            e.step == (path := step_path(spec, e.at))
            or ("@" not in e.step and "#" not in e.step and e.step == ITEM_KEY.sub("", path))
            for e in trail
        )
    except (IndexError, AttributeError):
        return False


def realign(spec: AssessmentSpec, trail: list[Entry]) -> tuple[list[Entry], int]:
    """The answers moved to where their questions are in the (changed) file, by step id; answers
    whose question is gone are dropped. Returns the new trail and how many were dropped."""
    kept = []
    for entry in trail:
        at = _position_of(spec, entry.step, entry.at[1])
        if at is not None:
            kept.append(Entry(at, entry.value, entry.step))
    return kept, len(trail) - len(kept)


def preset_item(preset: PresetItem, language: str) -> dict[str, Any]:
    return {"name": preset.label.get(language), "id": preset.id, **preset.attributes}


def _replay(spec: AssessmentSpec, trail: list[Entry], language: str):
    flat: dict[str, Any] = {}
    items: dict[str, dict[int, dict[str, Any]]] = {}
    for entry in trail:
        top, item, sub = entry.at
        step = spec.steps[top]
        if item is None:
            flat[step.id] = entry.value
            continue
        found = items.setdefault(step.id, {})
        if sub is None:
            if entry.value is not None:
                found[item] = {"name": entry.value, **step.named_attributes}
            continue
        if item not in found:
            found[item] = preset_item(step.items[item], language)
        found[item][step.steps[sub].id] = entry.value
    return flat, items


def _applies(when: dict | None, *scopes: dict[str, Any]) -> bool:
    for name, expected in (when or {}).items():
        value = next((scope[name] for scope in scopes if name in scope), None)
        if value != expected:
            return False
    return True


class Flow:
    """Navigation through one assessment for one set of answers."""

    def __init__(self, spec: AssessmentSpec, trail: list[Entry], language: str) -> None:
        self.spec = spec
        self.trail = trail
        self.language = language
        flat, self._items = _replay(spec, trail, language)
        self.answers = {**flat, **{n: [f[k] for k in sorted(f)] for n, f in self._items.items()}}

    def current(self) -> Position | None:
        """The first question on the way through the dialog that has no answer yet; None when the
        dialog is complete. (Answers are given in order, so normally this is the one after the last
        answer; after the file gained a question, it is the new question.)"""
        answered = {entry.at for entry in self.trail}
        at = self._after(None)
        while at is not None and at in answered:
            at = self._after(at)
        return at

    def final_answers(self) -> dict[str, Any]:
        """The answers for scoring: with preset items the dialog passed without asking anything
        (every question pre-answered by their attributes or excluded by `when`)."""
        complete = dict(self.answers)
        for top, step in enumerate(self.spec.steps):
            if isinstance(step, RepeatStep) and step.items:
                found = {**{k: preset_item(p, self.language) for k, p in enumerate(step.items)}, **self.items(top)}
                complete[step.id] = [found[k] for k in sorted(found)]
        return complete

    def items(self, top: int) -> dict[int, dict[str, Any]]:
        """The items of the repeat block at `top` so far, by position."""
        return self._items.get(self.spec.steps[top].id, {})

    def item_context(self, top: int, item: int) -> dict[str, Any]:
        step = self.spec.steps[top]
        items = self.items(top)
        if item in items:
            return items[item]
        if item < len(step.items):
            return preset_item(step.items[item], self.language)
        return {}

    def _after(self, at: Position | None) -> Position | None:
        if at is None:
            return self._first_from(0)
        top, item, sub = at
        if item is None:
            return self._first_from(top + 1)
        if sub is None:
            if item not in self.items(top):  # "no more items"
                return self._first_from(top + 1)
            return self._first_sub(top, item, 0)
        return self._first_sub(top, item, sub + 1)

    def _first_from(self, top: int) -> Position | None:
        for index in range(top, len(self.spec.steps)):
            step = self.spec.steps[index]
            if isinstance(step, RepeatStep):
                return self._item_start(index, 0)
            if _applies(step.when, self.answers):
                return (index, None, None)
        return None

    def _item_start(self, top: int, item: int) -> Position | None:
        step = self.spec.steps[top]
        if item >= step.max_items:
            return self._first_from(top + 1)
        if item < len(step.items):
            return self._first_sub(top, item, 0)
        if step.more:
            return (top, item, None)
        return self._first_from(top + 1)

    def _first_sub(self, top: int, item: int, sub: int) -> Position | None:
        step = self.spec.steps[top]
        context = self.item_context(top, item)
        preset = step.items[item].attributes if item < len(step.items) else step.named_attributes
        for index in range(sub, len(step.steps)):
            inner = step.steps[index]
            if inner.id in preset:
                continue  # pre-answered by the preset's attributes
            if _applies(inner.when, context, self.answers):
                return (top, item, index)
        return self._item_start(top, item + 1)

    def step_at(self, at: Position):
        """The step asked at a position, or the repeat block itself for a name prompt."""
        top, item, sub = at
        step = self.spec.steps[top]
        return step if item is None or sub is None else step.steps[sub]
