"""Assessment results: the summary with the change since the previous run, the chart, answers to
chat questions about them ("Welche unserer Systeme sind KI-bereit?") and exports as JSON or CSV.

Summaries are worked out again from the stored answers when shown, so a result reads in the
language of whoever asks for it.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import logging
import re
from datetime import datetime
from pathlib import Path

from bot.core import i18n
from bot.core.clock import local
from bot.core.messages import Image, Reply
from bot.dialogs import charts
from bot.dialogs.catalog import Catalog
from bot.dialogs.outcome import Outcome, number
from bot.dialogs.spec import AssessmentSpec
from bot.storage.db import Database
from bot.storage.dialogs import ResultStore
from bot.storage.models import AssessmentResultRow
from bot.storage.personal import REMOVED
from bot.storage.secrets import load_key

log = logging.getLogger(__name__)

# "our systems" is about the company's own results; "systems" alone is a question for the guide
OURS = re.compile(r"\b(unser|unsere|unserer|unseren|unserem|unseres|our|ours)\b", re.IGNORECASE)
WE = re.compile(r"\b(wir|uns|unser\w*|we|us|our)\b", re.IGNORECASE)
# the top or the bottom of a result's ranking (config/assessments/*.yaml `ranking:`)
HIGHEST = re.compile(
    r"\b(zuerst|als erste[nsr]?|am besten|beste[nrs]?|h(?:ö|oe)chste[nrs]?|st(?:ä|ae)rkste[nrs]?|"
    r"gr(?:ö|oe)(?:ß|ss)te[nrs]?|"
    r"wichtigste[nrs]?|first|best|highest|strongest|biggest|greatest|most important|top)\b",
    re.IGNORECASE,
)
LOWEST = re.compile(
    r"\b(am schlechtesten|schlechteste[nrs]?|schw(?:ä|ae)chste[nrs]?|niedrigste[nrs]?|geringste[nrs]?|"
    r"am wenigsten|worst|weakest|lowest|least)\b",
    re.IGNORECASE,
)


class Results:
    def __init__(self, db: Database, catalog: Catalog, charts_dir: Path) -> None:
        self.catalog = catalog
        self.store = ResultStore(db)
        self.charts_dir = charts_dir
        self._chart_key: bytes | None = None

    def outcome(self, spec: AssessmentSpec, row: AssessmentResultRow, language: str) -> Outcome:
        return self.catalog.score(spec, json.loads(row.answers), language)

    def present(
        self, spec: AssessmentSpec, result_id: int, language: str, done: bool = False, outcome: Outcome | None = None
    ) -> Reply:
        """The summary of one stored result, with the change since the run before it, and its chart.
        `outcome` is the result's scoring when the caller has just computed it."""
        row = self.store.get(result_id)
        previous = self.store.previous(row)
        outcome = outcome or self.outcome(spec, row, language)
        title = spec.title.get(language)
        header = (
            i18n.text("result_done", language, title=title)
            if done
            else i18n.text(
                "result_header",
                language,
                title=title,
                date=_date(row.created_at, language),
                author=author_shown(row.author, language),
            )
        )
        lines = [
            header,
            outcome.headline,
            *outcome.lines,
            "",
            self._change(outcome, previous, language),
        ]
        images = []
        chart = self.chart(spec, row, language, outcome)
        if chart is not None:
            images.append(Image(str(chart), i18n.text("chart_alt", language, title=title)))
        return Reply("\n".join(lines), language, mode="dialog", images=images)

    def _change(self, outcome: Outcome, previous: AssessmentResultRow | None, language: str) -> str:
        if previous is None:
            return i18n.text("result_first_run", language)
        before = json.loads(previous.metrics)
        date = _date(previous.created_at, language)
        changes = []
        for metric in outcome.metrics:
            old = before.get(metric.key)
            if old is None or old == metric.value:
                continue
            better = (metric.value > old) == metric.higher_is_better
            arrow = "▲" if metric.value > old else "▼"
            mood = i18n.text("result_better" if better else "result_worse", language)
            changes.append(f"  {arrow} {metric.label}: {_fmt(old, language)} → {_fmt(metric.value, language)} ({mood})")
        if not changes:
            return i18n.text("result_unchanged", language, date=date)
        return "\n".join([i18n.text("result_changed", language, date=date), *changes])

    def chart(self, spec: AssessmentSpec, row: AssessmentResultRow, language: str, outcome: Outcome) -> Path | None:
        """The PNG of a result (drawn once per language, then reused)."""
        if outcome.chart is None:
            return None
        path = self.charts_dir / f"{spec.id}-{row.id}-{self._token(row.id)}-{language}.png"
        if path.is_file() and path.stat().st_size > 0:
            return path
        try:
            charts.render(outcome.chart, path)
        except Exception:  # a chart must never cost the user the result itself
            log.exception("could not draw the chart of result %s", row.id)
            return None
        return path

    def _token(self, result_id: int) -> str:
        """Part of a chart's file name that cannot be guessed: charts may be served over HTTP (Teams)."""
        if self._chart_key is None:  # in the database: every replica names a chart the same way
            self._chart_key = load_key(self.store.db, "chart-key")
        return hmac.new(self._chart_key, str(result_id).encode(), hashlib.sha256).hexdigest()[:16]

    # -- looking results up ---------------------------------------------------------------------

    def show(self, name: str, scope: str, language: str) -> Reply:
        """`/ergebnis [name]`: the latest result of one assessment, or which ones have results."""
        if not name:
            return self.overview(scope, language)
        spec = self.catalog.find(name)
        if spec is None:
            return Reply(i18n.text("dialog_unknown", language, name=name), language, answered=False, mode="dialog")
        return self.latest(spec, scope, language)

    def latest(self, spec: AssessmentSpec, scope: str, language: str) -> Reply:
        rows = self.store.latest(spec.id, scope, count=1)
        if not rows:
            text = i18n.text("result_none", language, title=spec.title.get(language), id=self.catalog.number(spec.id))
            return Reply(text, language, answered=False, mode="dialog")
        return self.present(spec, rows[0].id, language)

    def overview(self, scope: str, language: str) -> Reply:
        lines = [i18n.text("result_overview", language)]
        for spec in self.catalog:
            rows = self.store.latest(spec.id, scope, count=1)
            if rows:
                headline = self.outcome(spec, rows[0], language).headline
                lines.append(f"  • {spec.title.get(language)} ({_date(rows[0].created_at, language)}): {headline}")
            else:
                missing = i18n.text("result_not_yet", language, id=self.catalog.number(spec.id))
                lines.append(f"  • {spec.title.get(language)}: {missing}")
        return Reply("\n".join(lines), language, mode="dialog")

    def match(self, text: str) -> AssessmentSpec | None:
        """The assessment a question about "our" results refers to, if any. A question for the top or the
        bottom of a ranking ("Welchen Anwendungsfall gehen wir zuerst an?") is about "us" with "wir" too."""
        ranked = (HIGHEST.search(text) or LOWEST.search(text)) and WE.search(text)
        if not OURS.search(text) and not ranked:
            return None
        lowered = text.lower()
        for spec in self.catalog:
            if any(all(_starts_a_word(word, lowered) for word in group) for group in spec.result_questions):
                return spec
        return None

    def answer_question(self, text: str, scope: str, language: str) -> tuple[Reply | None, str | None]:
        """A chat question about the team's own results: (the latest result's summary, None), or —
        when nothing has been assessed yet — (None, a hint how to assess it, for the guide's answer).
        (None, None) when the question is not about the team's results."""
        spec = self.match(text)
        if spec is None:
            return None, None
        rows = self.store.latest(spec.id, scope, count=1)
        if not rows:
            return None, i18n.text(
                "result_hint", language, title=spec.title.get(language), id=self.catalog.number(spec.id)
            )
        pointed = self.pointed(spec, rows[0], text, language)
        return (pointed or self.present(spec, rows[0].id, language)), None

    def pointed(self, spec: AssessmentSpec, row: AssessmentResultRow, text: str, language: str) -> Reply | None:
        """The one item a question asks for — the highest- or lowest-scored of the result's ranking — with
        its score, instead of the whole result; None when the question asks for no end of it."""
        lowest, highest = LOWEST.search(text), HIGHEST.search(text)
        if spec.ranking is None or not (lowest or highest):
            return None
        outcome = self.outcome(spec, row, language)
        try:
            name, score = outcome.columns.index(spec.ranking.name), outcome.columns.index(spec.ranking.score)
        except ValueError:
            return None
        scored = [r for r in outcome.rows if isinstance(r[score], int | float) and not isinstance(r[score], bool)]
        if not scored:
            return None
        pick = (min if lowest else max)(scored, key=lambda r: r[score])
        key = "result_lowest" if lowest else "result_highest"
        title, date = spec.title.get(language), _date(row.created_at, language)
        value = number(pick[score], language)
        lines = [
            i18n.text(key, language, title=title, date=date, name=pick[name], value=value),
            "",
            i18n.text("result_whole", language, id=self.catalog.number(spec.id)),
        ]
        return Reply("\n".join(lines), language, mode="dialog", kind="result")

    # -- export ---------------------------------------------------------------------------------

    def export(self, fmt: str, assessment: str | None = None, scope: str | None = None, language: str = "de") -> str:
        rows = self.store.all(assessment, scope)
        if fmt == "json":
            return json.dumps([self._record(r, language) for r in rows], ensure_ascii=False, indent=2)
        if fmt == "csv":
            return self._csv(rows, language)
        raise ValueError(f"unknown export format {fmt!r} (use json or csv)")

    def _record(self, row: AssessmentResultRow, language: str) -> dict:
        record = {
            "id": row.id,
            "assessment": row.assessment,
            "version": row.spec_version,
            "scope": row.scope,
            "author": author_shown(row.author, language),
            "created_at": local(row.created_at).isoformat(),
            "answers": json.loads(row.answers),
            "metrics": json.loads(row.metrics),
        }
        spec = self.catalog.get(row.assessment)
        if spec is not None:
            outcome = self.outcome(spec, row, language)
            record["summary"] = [outcome.headline, *outcome.lines]
            record["table"] = [dict(zip(outcome.columns, values, strict=True)) for values in outcome.rows]
        return record

    def _csv(self, rows: list[AssessmentResultRow], language: str) -> str:
        """One line per row of each result's table, with the result's id, assessment, time and author."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["result_id", "assessment", "scope", "author", "created_at", "row", "field", "value"])
        for row in rows:
            spec = self.catalog.get(row.assessment)
            if spec is None:
                continue
            outcome = self.outcome(spec, row, language)
            for index, values in enumerate(outcome.rows, 1):
                for column, value in zip(outcome.columns, values, strict=True):
                    writer.writerow(
                        [
                            row.id,
                            row.assessment,
                            row.scope,
                            author_shown(row.author, language),
                            local(row.created_at).isoformat(),
                            index,
                            column,
                            "" if value is None else value,
                        ]
                    )
        return out.getvalue()


def _starts_a_word(keyword: str, text: str) -> bool:
    """ "system" matches "Systeme", "rag" does not match "Vertrag", "ready" not "already"."""
    return re.search(rf"(?<!\w){re.escape(keyword)}", text) is not None


def _date(moment: datetime, language: str) -> str:
    return local(moment).strftime("%d.%m.%Y" if language == "de" else "%Y-%m-%d")


def _fmt(value: float, language: str) -> str:
    return str(int(value)) if float(value).is_integer() else number(value, language)


def author_shown(value: str, language: str) -> str:
    """Who recorded a result, as shown: the stand-in of an erased author in the reader's language."""
    return i18n.text("author_removed", language) if value == REMOVED else value
