"""The SQLAlchemy engine and sessions for one database URL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.storage import migrate

T = TypeVar("T")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # first: switching a new database to WAL takes a lock that another connection may hold at that moment
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer (chat + ingest)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def raced(write: Callable[[], T]) -> T:
    """`write`, a get-or-insert in a transaction of its own, once more if another writer (a thread, a
    replica) inserted the same key between its read and its insert: the second time updates that row."""
    try:
        return write()
    except IntegrityError:
        return write()


POOL_SIZE = 12
POOL_OVERFLOW = 8


def make_engine(url: str, **options) -> Engine:
    """An engine for `url`; for SQLite the folder is created and the pragmas are set on every connection.
    `options` go to `create_engine` (e.g. isolation_level)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {}
    if url.startswith("postgresql"):
        # A dead peer (a replica's host crashed, a network cut) is noticed within about a minute, not after
        # the kernel's two hours, on both ends: the server drops a dead replica's session, and with it the
        # scheduler's advisory lock, so another replica takes over.
        connect_args = {
            "connect_timeout": 10,
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
            "options": "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3",
        }
    if not (url.startswith("sqlite") and ":memory:" in url) and url != "sqlite://":
        # threads that talk to the database at once: the core, quick reads, the inbox, Slack's intake, the
        # scheduler. A pool smaller than that opens and closes a connection for every call beyond it
        options = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, **options}
    engine = create_engine(url, future=True, connect_args=connect_args, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """Owns the engine; `session()` is a unit of work that commits on success. On opening, the schema
    is brought to this Lotse's revision (Alembic), or with `upgrade=False` only checked (SchemaError)."""

    def __init__(self, url: str, upgrade: bool = True) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._autocommit: Engine | None = None
        self._lock = threading.Lock()
        if upgrade:
            migrate.upgrade(self.engine)
        else:
            migrate.check(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as s, s.begin():
            yield s

    @property
    def autocommit(self) -> Engine:
        """An engine whose connections stay in autocommit mode, with a pool of its own (one connection per
        thread that writes this way: the intake's, the inbox's, the core's). Switching a pooled connection
        of `engine` to autocommit and back for each statement cost SQLAlchemy 0.2 ms of CPU, as much as the
        statement itself."""
        with self._lock:
            if self._autocommit is None:
                if self.engine.dialect.name == "sqlite" and self.engine.url.database in (None, "", ":memory:"):
                    # a database in memory exists once per connection pool: share the engine's
                    self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
                else:
                    self._autocommit = make_engine(self.url, isolation_level="AUTOCOMMIT")
            return self._autocommit

    def dispose(self) -> None:
        self.engine.dispose()
        if self._autocommit is not None:
            self._autocommit.dispose()
