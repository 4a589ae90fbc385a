"""All assessments of a folder, checked together at start-up."""

from __future__ import annotations

import re
from pathlib import Path

from bot.dialogs import scoring
from bot.dialogs.outcome import SCORERS, Outcome
from bot.dialogs.spec import AssessmentSpec, AssessmentSpecError, parse_assessment


class Catalog:
    """The assessments Lotse offers, in their `order` (the numbers `/check` shows)."""

    def __init__(self, specs: list[AssessmentSpec]) -> None:
        self.specs = specs
        self._by_id = {s.id: s for s in specs}

    def __iter__(self):
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def get(self, assessment_id: str) -> AssessmentSpec | None:
        return self._by_id.get(assessment_id)

    def number(self, assessment_id: str) -> str:
        """What to type after /check for an assessment: its number as listed ("3"), the same in every
        language (the id, "data_quality", is English in German text); the id if it is not listed."""
        return next((str(n) for n, s in enumerate(self.specs, 1) if s.id == assessment_id), assessment_id)

    def find(self, name: str) -> AssessmentSpec | None:
        """By number (1-based, as listed), id, alias, title, or an unambiguous beginning of one."""
        wanted = _squash(name)
        if not wanted:
            return None
        if re.fullmatch(r"[0-9]{1,3}", wanted):
            number = int(wanted)
            return self.specs[number - 1] if 1 <= number <= len(self.specs) else None
        exact = [s for s in self.specs if wanted in {_squash(n) for n in s.names}]
        if exact:
            return exact[0]
        starts = [s for s in self.specs if any(_squash(n).startswith(wanted) for n in s.names)]
        return starts[0] if len(starts) == 1 else None

    def score(self, spec: AssessmentSpec, answers: dict, language: str) -> Outcome:
        if spec.scoring is None:
            return scoring.generic(spec, answers, language)
        return SCORERS[spec.scoring].function(spec, answers, language)


def _squash(name: str) -> str:
    """ "Use cases", "use-cases" and "use_cases" are the same name."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def load_catalog(folder: Path) -> Catalog:
    """Read every `*.yaml` in `folder`; raises AssessmentSpecError for the first broken file."""
    specs: list[AssessmentSpec] = []
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        spec = parse_assessment(path)
        if spec.id in seen:
            raise AssessmentSpecError(f"{path}: id: {spec.id!r} is already used by {seen[spec.id].name}")
        seen[spec.id] = path
        if spec.scoring is not None:
            registration = SCORERS.get(spec.scoring)
            if registration is None:
                known = ", ".join(sorted(SCORERS))
                raise AssessmentSpecError(f"{path}: scoring: no scoring function {spec.scoring!r} (known: {known})")
            missing = [key for key in _text_keys(spec, registration.texts) if key not in spec.texts]
            if missing:
                raise AssessmentSpecError(
                    f"{path}: texts: missing {', '.join(missing)} (the scoring function {spec.scoring!r} uses them)"
                )
        specs.append(spec)
    return Catalog(sorted(specs, key=lambda s: (s.order, s.id)))


def _text_keys(spec: AssessmentSpec, keys: tuple[str, ...]) -> list[str]:
    """The text keys a scorer needs; "label_{step}" stands for one key per top-level step."""
    steps = [s.id for s in spec.steps]
    return [k.format(step=step) for k in keys for step in (steps if "{step}" in k else [None])]
