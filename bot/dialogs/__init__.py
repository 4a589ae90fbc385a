"""Guided assessments: YAML-declared dialogs, one engine, one scoring function per assessment."""

from bot.dialogs.catalog import Catalog, load_catalog
from bot.dialogs.engine import DialogEngine
from bot.dialogs.results import Results
from bot.dialogs.spec import AssessmentSpec, AssessmentSpecError

__all__ = ["AssessmentSpec", "AssessmentSpecError", "Catalog", "DialogEngine", "Results", "load_catalog"]
