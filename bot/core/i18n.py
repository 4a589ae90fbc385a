"""User-facing texts, one YAML file per language in `locales/`."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

LANGUAGES = ("de", "en")
_LOCALES = Path(__file__).with_name("locales")


@cache
def _catalog(language: str) -> dict[str, str]:
    return yaml.safe_load((_LOCALES / f"{language}.yaml").read_text(encoding="utf-8"))


def text(key: str, language: str = "de", **values: object) -> str:
    """The text `key` in `language` (German if the language is unknown), with `values` filled in. With
    `count=1`, the text `<key>_one` if there is one ("1 Anwendung", not "1 Anwendungen")."""
    catalog = _catalog(language if language in LANGUAGES else "de")
    if values.get("count") == 1 and f"{key}_one" in catalog:
        key = f"{key}_one"
    return catalog[key].format(**values) if values else catalog[key]


def known(key: str, language: str = "de") -> bool:
    """Whether there is a text `key` (for labels of values that may have none, such as field names)."""
    return key in _catalog(language if language in LANGUAGES else "de")
