"""Dialog state and assessment results: small repositories over the `dialogs` and
`assessment_results` tables. Every write commits before the caller replies to the user."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import make_transient_to_detached

from bot.storage.autocommit import autocommit_engine
from bot.storage.db import Database
from bot.storage.models import AssessmentResultRow, DialogRow, utcnow

ACTIVE, PAUSED, DONE, CANCELLED = "active", "paused", "done", "cancelled"

_DIALOGS = DialogRow.__table__
# asked on every turn: built once, and read without the ORM (a session and its query cost SQLAlchemy
# twice the time of the plain statement)
_ACTIVE = (
    select(_DIALOGS)
    .where(_DIALOGS.c.conversation == bindparam("conversation"), _DIALOGS.c.status == ACTIVE)
    .order_by(_DIALOGS.c.updated_at.desc(), _DIALOGS.c.id.desc())
    .limit(1)
)


class StaleDialog(RuntimeError):
    """Another process saved a step of this dialog first; reload and try again."""


class DialogStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._engine = autocommit_engine(db)  # for the read of one statement on every turn

    def active(self, conversation: str) -> DialogRow | None:
        """The running dialog, as a detached row (as if read by a session that has closed)."""
        with self._engine.connect() as connection:
            found = connection.execute(_ACTIVE, {"conversation": conversation}).first()
        if found is None:
            return None
        row = DialogRow(**found._mapping)
        make_transient_to_detached(row)
        return row

    def paused(self, conversation: str) -> list[DialogRow]:
        """Paused dialogs, most recently touched first."""
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(DialogRow)
                    .where(DialogRow.conversation == conversation, DialogRow.status == PAUSED)
                    .order_by(DialogRow.updated_at.desc(), DialogRow.id.desc())
                ).all()
            )

    def start(self, conversation: str, assessment: str, version: int, language: str, author: str, scope: str):
        """A new active dialog; an active one in the same conversation is paused, an unfinished run of
        the same assessment is cancelled (one open run per assessment)."""
        with self.db.session() as s:
            _pause_active(s, conversation)
            s.execute(
                update(DialogRow)
                .where(
                    DialogRow.conversation == conversation,
                    DialogRow.assessment == assessment,
                    DialogRow.status == PAUSED,
                )
                .values(status=CANCELLED, revision=DialogRow.revision + 1, updated_at=utcnow())
            )
            row = DialogRow(
                conversation=conversation,
                assessment=assessment,
                spec_version=version,
                status=ACTIVE,
                language=language,
                author=author,
                scope=scope,
                trail="[]",
                revision=0,
            )
            s.add(row)
        return row

    def resume(self, row: DialogRow) -> DialogRow:
        """Make a paused dialog the active one (pausing any other); returns it as stored now."""
        with self.db.session() as s:
            _pause_active(s, row.conversation)
            s.execute(
                update(DialogRow)
                .where(DialogRow.id == row.id)
                .values(status=ACTIVE, revision=DialogRow.revision + 1, updated_at=utcnow())
            )
            return s.get(DialogRow, row.id, populate_existing=True)

    def save(self, row: DialogRow, trail: list, status: str = ACTIVE, version: int | None = None) -> None:
        """Store the new trail if nobody else saved a step since `row` was read."""
        with self.db.session() as s:
            _store_step(s, row, trail, status, version)

    def finish(self, row: DialogRow, trail: list, answers: dict[str, Any], metrics: dict[str, float]) -> int:
        """Mark the dialog done and store its result in one transaction; returns the result id."""
        with self.db.session() as s:
            _store_step(s, row, trail, DONE)
            result = AssessmentResultRow(
                dialog_id=row.id,
                assessment=row.assessment,
                spec_version=row.spec_version,
                scope=row.scope,
                author=row.author,
                language=row.language,
                answers=json.dumps(answers, ensure_ascii=False),
                metrics=json.dumps(metrics),
            )
            s.add(result)
            s.flush()
            return result.id

    def finish_with(self, row: DialogRow, trail: list, write):
        """Mark the dialog done and let `write(session)` store what it produced, in one transaction;
        returns what `write` returns. A second finish of the same run raises StaleDialog."""
        with self.db.session() as s:
            _store_step(s, row, trail, DONE)
            return write(s)


def _pause_active(session, conversation: str) -> None:
    session.execute(
        update(DialogRow)
        .where(DialogRow.conversation == conversation, DialogRow.status == ACTIVE)
        .values(status=PAUSED, revision=DialogRow.revision + 1, updated_at=utcnow())
    )


def _store_step(session, row: DialogRow, trail: list, status: str, version: int | None = None) -> None:
    """Compare-and-set on the revision (every status change bumps it too): a process that read an older
    state — or a dialog paused meanwhile — is refused instead of overwriting the newer one."""
    done = session.execute(
        update(DialogRow)
        .where(DialogRow.id == row.id, DialogRow.revision == row.revision, DialogRow.status == ACTIVE)
        .values(
            trail=json.dumps(trail),
            status=status,
            revision=row.revision + 1,
            spec_version=version or row.spec_version,
            updated_at=utcnow(),
        )
    )
    if done.rowcount != 1:
        raise StaleDialog(f"dialog {row.id} changed meanwhile")


class ResultStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def latest(self, assessment: str, scope: str, count: int = 2) -> list[AssessmentResultRow]:
        """The newest `count` results of an assessment in a scope, newest first."""
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(AssessmentResultRow)
                    .where(AssessmentResultRow.assessment == assessment, AssessmentResultRow.scope == scope)
                    .order_by(AssessmentResultRow.id.desc())
                    .limit(count)
                ).all()
            )

    def all(self, assessment: str | None = None, scope: str | None = None) -> list[AssessmentResultRow]:
        query = select(AssessmentResultRow).order_by(AssessmentResultRow.id)
        if assessment:
            query = query.where(AssessmentResultRow.assessment == assessment)
        if scope:
            query = query.where(AssessmentResultRow.scope == scope)
        with self.db.session() as s:
            return list(s.scalars(query).all())

    def get(self, result_id: int) -> AssessmentResultRow | None:
        with self.db.session() as s:
            return s.get(AssessmentResultRow, result_id)

    def previous(self, row: AssessmentResultRow) -> AssessmentResultRow | None:
        """The run of the same assessment in the same scope just before `row`."""
        with self.db.session() as s:
            return s.scalars(
                select(AssessmentResultRow)
                .where(
                    AssessmentResultRow.assessment == row.assessment,
                    AssessmentResultRow.scope == row.scope,
                    AssessmentResultRow.id < row.id,
                )
                .order_by(AssessmentResultRow.id.desc())
                .limit(1)
            ).first()
