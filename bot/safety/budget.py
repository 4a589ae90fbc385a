"""The daily LLM budget (`LOTSE_LLM_DAILY_CALLS`, `LOTSE_LLM_DAILY_TOKENS`), counted in the table
`llm_usage`: one row per day (UTC) that every replica updates.

A call is taken with one atomic statement, `INSERT … ON CONFLICT (day) DO UPDATE SET calls = calls + 1
WHERE calls < :limit AND tokens < :limit RETURNING calls`, on SQLite and PostgreSQL alike: two replicas
can never both take the last call. Tokens are known only after the answer, so they are added afterwards; the call
that crosses the token limit is the last one of the day. A failed call (time-out, HTTP error) still
counts as a call. Usage is counted also when no limit is set, so that a limit set during the day
starts from the truth.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import and_, select, update

from bot.storage.db import Database
from bot.storage.models import LlmUsageRow


def _today() -> date:
    return datetime.now(UTC).date()


class LlmBudget:
    def __init__(
        self,
        db: Database,
        calls: int | None = None,
        tokens: int | None = None,
        today: Callable[[], date] = _today,
    ) -> None:
        self.db = db
        self.calls = calls
        self.tokens = tokens
        self.today = today

    def take(self) -> date | None:
        """Count one call and return its day, or None when today's budget is spent (nothing counted)."""
        if self.calls == 0 or self.tokens == 0:
            return None
        table = LlmUsageRow.__table__
        day = self.today()
        if self.db.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        conditions = []
        if self.calls is not None:
            conditions.append(table.c.calls < self.calls)
        if self.tokens is not None:
            conditions.append(table.c.tokens < self.tokens)
        statement = (
            insert(table)
            .values(day=day, calls=1, tokens=0)
            .on_conflict_do_update(
                index_elements=[table.c.day],
                set_={"calls": table.c.calls + 1},
                where=and_(*conditions) if conditions else None,
            )
            .returning(table.c.calls)  # a row when inserted or counted, none when the limit held
        )
        with self.db.session() as s:
            taken = s.execute(statement).first()
        return day if taken is not None else None

    def spend(self, day: date, tokens: int) -> None:
        """Add the tokens of a call taken on `day`."""
        if tokens <= 0:
            return
        table = LlmUsageRow.__table__
        with self.db.session() as s:
            s.execute(update(table).where(table.c.day == day).values(tokens=table.c.tokens + int(tokens)))

    def usage(self, day: date | None = None) -> tuple[int, int]:
        """(calls, tokens) counted on `day` (today by default)."""
        with self.db.session() as s:
            row = s.execute(
                select(LlmUsageRow.calls, LlmUsageRow.tokens).where(LlmUsageRow.day == (day or self.today()))
            ).first()
        return (row.calls, row.tokens) if row else (0, 0)
