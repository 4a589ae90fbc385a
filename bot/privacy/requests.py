"""The user's rights in chat: "Was speicherst du über mich?" (counts), "meine Daten" (a JSON file of
everything stored about them) and "lösche meine Daten" (erasure, after a yes/no confirmation that runs
as a one-question dialog, so it survives a restart and works with buttons in Slack and Teams)."""

from __future__ import annotations

import calendar
import json
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core import i18n
from bot.core.messages import File, Incoming, Reply
from bot.core.routing import Route
from bot.dialogs.flow import Flow, Position
from bot.dialogs.spec import AssessmentSpec, L10n, YesNoStep
from bot.privacy.personal import PersonalData
from bot.settings import Settings
from bot.storage.audit import SYSTEM
from bot.storage.dialogs import DialogStore
from bot.storage.models import DialogRow

ERASE = "privacy_erase"
CHART_DAYS = 90
MY_DATA = re.compile(
    r"^(meine daten|my data|zeig meine daten|show my data|export my data|exportiere meine daten)[.!?]?$"
)
ERASE_DATA = re.compile(r"^(lösche meine daten|loesche meine daten|delete my data|erase my data)[.!?]?$")
WHAT_STORED = re.compile(
    r"^(was speicherst du (alles )?über mich|was weißt du über mich|what do you (store|know) about me)\??$"
)


def purge(
    personal: PersonalData, settings: Settings, now: datetime | None = None, actor: str = SYSTEM
) -> dict[str, int]:
    """The retention period (LOTSE_RETENTION_MONTHS): delete conversations, dialogs, ratings and
    feedback older than it; exports are kept one day, report charts (a report posted to a Teams channel
    links them) CHART_DAYS. The scheduler runs it daily,
    `lotse purge` at once."""
    now = now or datetime.now(UTC)
    counts = personal.purge(months_before(now, settings.retention_months), actor)
    day_ago, quarter_ago = (now - timedelta(days=1)).timestamp(), (now - timedelta(days=CHART_DAYS)).timestamp()
    files = [(p, day_ago) for p in settings.exports_dir.glob("*")]
    files += [
        (p, quarter_ago) for pattern in ("pilot-*.png", "quarter-*.png") for p in settings.charts_dir.glob(pattern)
    ]
    counts["files"] = 0
    for path, cutoff in files:
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            counts["files"] += 1
    return counts


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day if shorter)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


class Privacy:
    """Recognises the requests and carries them out; also the `Forms` of the erasure confirmation."""

    def __init__(
        self, personal: PersonalData, exports_dir: Path, on_erase: Callable[[str], None] | None = None
    ) -> None:
        self.personal = personal
        self.exports_dir = exports_dir
        self.on_erase = on_erase  # e.g. forget what this process remembers about the person
        self._spec = AssessmentSpec(
            id=ERASE,
            title=L10n(de="Daten löschen", en="Erase my data"),
            summary=L10n(de=i18n.text("privacy_erase_summary", "de"), en=i18n.text("privacy_erase_summary", "en")),
            steps=[
                YesNoStep(
                    id="confirm",
                    type="yesno",
                    text=L10n(de=i18n.text("privacy_erase_confirm", "de"), en=i18n.text("privacy_erase_confirm", "en")),
                )
            ],
        )

    def route(self, dialogs) -> Route:
        """ "meine Daten", "lösche meine Daten", "Was speicherst du über mich?", typed; the erasure only in a
        direct chat, confirmed by a one-question dialog of `dialogs` (the engine)."""

        def answer(turn, language: str) -> Reply:
            request, message = self.request(turn.text), turn.message
            if request == "erase" and not message.private:
                return Reply(i18n.text("pilot_private_only", language), language, answered=False)
            if request == "summary":
                return Reply(self.summary(message, language), language)
            if request == "export":
                return self.export(message, language)
            intro = i18n.text("privacy_erase_intro", language)
            return dialogs.begin(message, dialogs.spec(ERASE), language, restart=True, intro=intro)

        return Route("privacy", answer, phrase=self.request, typed_only=True, help="help_privacy", dialog_waits=True)

    def request(self, text: str) -> str | None:
        """ "export", "erase", "summary" or None."""
        said = " ".join(text.strip().lower().split())
        if MY_DATA.match(said):
            return "export"
        if ERASE_DATA.match(said):
            return "erase"
        if WHAT_STORED.match(said):
            return "summary"
        return None

    def summary(self, message: Incoming, language: str) -> str:
        counts = self.personal.counts(message.user_key, message.user, message.scope)
        return i18n.text("data_summary", language, **counts)

    def export(self, message: Incoming, language: str) -> Reply:
        data = self.personal.export(message.user_key, message.user, message.scope)
        self.exports_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.exports_dir / f"meine-daten-{stamp}-{secrets.token_hex(8)}.json"
        with open(path, "x", encoding="utf-8") as out:
            path.chmod(0o600)
            json.dump(data, out, ensure_ascii=False, indent=2)
        counts = {key: len(value) for key, value in data.items() if isinstance(value, list)}
        self.personal.audit.record(message.user_key, "data.export", "own data", **counts)
        counts["gaps"] = counts.get("unanswered_questions", 0)
        kinds = ("messages", "dialogs", "assessment_results", "answer_feedback", "pilot_feedback")
        kinds += ("gaps",) if counts["gaps"] else ()
        items = ", ".join(i18n.text(f"privacy_count_{k}", language, count=counts.get(k, 0)) for k in kinds)
        text = i18n.text("privacy_export_ready", language, items=items)
        return Reply(
            text,
            language,
            files=[File(str(path), "my-data.json" if language == "en" else "meine-daten.json", "application/json")],
        )

    # -- Forms: the confirmation -----------------------------------------------------------------

    def owns(self, assessment_id: str) -> bool:
        return assessment_id == ERASE

    def spec(self, assessment_id: str) -> AssessmentSpec | None:
        return self._spec if assessment_id == ERASE else None

    def check(self, row: DialogRow, spec: AssessmentSpec, flow: Flow, at: Position, value, language: str) -> None:
        return None

    def previous(self, row: DialogRow, spec: AssessmentSpec, path: str) -> tuple[bool, object]:
        return False, None

    def finish(self, store: DialogStore, row: DialogRow, trail: list, answers: dict, language: str) -> Reply:
        store.finish_with(row, trail, lambda s: None)  # if erased, the dialog row itself goes with the rest
        if not answers.get("confirm"):
            return Reply(i18n.text("privacy_erase_kept", language), language, mode="dialog")
        counts = self.personal.erase(f"{row.scope}:{row.author}", row.author, row.scope)
        if self.on_erase is not None:
            self.on_erase(f"{row.scope}:{row.author}")
        return Reply(erased_text(counts, language), language, mode="dialog")


ERASED_KINDS = ("messages", "dialogs", "feedback", "pilot_feedback")


def erased_text(counts: dict[str, int], language: str) -> str:
    """What was erased (one of something in the singular), from how many team results the name went, and
    what stays and why — so that "Was speicherst du über mich?" afterwards is no surprise."""
    items = [i18n.text(f"privacy_count_{kind}", language, count=counts.get(kind, 0)) for kind in ERASED_KINDS]
    if counts.get("gaps"):  # questions Lotse could not answer: named only when there were some
        items.append(i18n.text("privacy_count_gaps", language, count=counts["gaps"]))
    lines = [i18n.text("privacy_erased", language, items=", ".join(items))]
    if counts.get("results"):
        lines.append(i18n.text("privacy_erased_results", language, count=counts["results"]))
    lines.append(i18n.text("privacy_erased_stays", language))
    return " ".join(lines)
