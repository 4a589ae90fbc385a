"""Checking the shape of a JSON payload from a chat platform before anything reads it: the channels'
gates describe the fields they and their SDK read, with their types, and refuse the rest with a 4xx."""

from __future__ import annotations

import re
from typing import Any

URL = re.compile(r"https?://[^\s/?#]+(?:[/?#]\S*)?")
NON_EMPTY = re.compile(r"(?s).*\S.*")


def mismatch(value: Any, shape: Any, path: str) -> str | None:
    """Where `value` does not have `shape`: a type, a regex for strings, a dict of fields, a one-item
    list for a list of such items, or a tuple of alternatives."""
    if isinstance(shape, tuple):
        if all(mismatch(value, alternative, path) for alternative in shape):
            return f"{path} has the wrong type"
        return None
    if isinstance(shape, re.Pattern):
        return None if isinstance(value, str) and shape.fullmatch(value) else f"{path} is not valid"
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{path} must be a list"
        return next((f for i, item in enumerate(value) if (f := mismatch(item, shape[0], f"{path}[{i}]"))), None)
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{path} must be an object"
        for key, field in shape.items():
            name = key.removesuffix("?")
            if value.get(name) is None:
                if key.endswith("?"):
                    continue
                return f"{path}.{name} is missing"
            if found := mismatch(value[name], field, f"{path}.{name}"):
                return found
        return None
    if not isinstance(value, shape) or (isinstance(value, bool) and shape is not bool):
        return f"{path} must be of type {shape.__name__}"
    return None


def unstorable(body: Any) -> str | None:
    """Lone surrogates (valid as JSON escapes, not in UTF-8) and NUL characters can be neither stored
    (PostgreSQL refuses NUL) nor sent on."""
    pending: list[Any] = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending += value.keys()
            pending += value.values()
        elif isinstance(value, list):
            pending += value
        elif isinstance(value, str):
            if "\x00" in value:
                return "the body holds a NUL character"
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "the body holds text that is not valid Unicode"
    return None
