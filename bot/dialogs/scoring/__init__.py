"""One scoring function per assessment, each with the rule the guidance gives (section named in its
docstring). Texts come from the assessment file's `texts`, so wording changes need no code.

Every module of this package is imported here, so that its `@scorer` registers: a new scoring function
is one new module.
"""

from __future__ import annotations

import importlib
import pkgutil

from bot.dialogs.scoring._generic import generic

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["generic"]
