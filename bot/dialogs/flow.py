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

from dataclasses import dataclass
from typing import Any

from bot.dialogs.spec import AssessmentSpec, PresetItem, RepeatStep

Position = tuple[int, int | None, int | None]


@dataclass(frozen=True)
class Entry:
    at: Position
    value: Any  # None: skipped (or, at a name prompt, "no more items")

    def to_json(self) -> list:
        return [list(self.at), self.value]

    @classmethod
    def from_json(cls, raw: list) -> Entry:
        return cls(tuple(raw[0]), raw[1])


def preset_item(preset: PresetItem, language: str) -> dict[str, Any]:
    return {"name": preset.label.get(language), "id": preset.id, **preset.attributes}


def answers(spec: AssessmentSpec, trail: list[Entry], language: str) -> dict[str, Any]:
    """The answers so far: step id → value; a repeat block's id → list of item dicts."""
    flat, items = _replay(spec, trail, language)
    return {**flat, **{name: [found[k] for k in sorted(found)] for name, found in items.items()}}


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
        """The position to ask next; None when the dialog is complete."""
        return self._after(self.trail[-1].at if self.trail else None)

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
