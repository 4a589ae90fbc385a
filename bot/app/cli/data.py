"""`lotse audit`, `lotse purge`, `lotse db`: the audit log, the retention period and the schema."""

from __future__ import annotations

import json
import sys

from bot.app.cli.common import cli_actor, plain
from bot.app.services import Services
from bot.core import i18n
from bot.settings import Settings


def terminal_language() -> str:
    """The language of the person at the terminal, from LC_ALL / LC_MESSAGES / LANG: English if it says
    so, else German (German first)."""
    import os

    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if value := os.environ.get(name):
            return "en" if value.lower().startswith("en") else "de"
    return "de"


def cmd_audit(args, settings: Settings) -> int:
    """`lotse audit`: who changed plans, roles, pilots and the register, and who exported or erased data."""
    from datetime import datetime, time

    from bot.audit.view import BERLIN, line, when
    from bot.core.clock import read_day
    from bot.storage.audit import ACTIONS, label

    since = None
    if args.since:
        day = read_day(args.since)  # as the chat and `lotse plan preview` take dates
        if day is None:
            print(f"lotse audit: --since wants a day like 2026-12-06 or 06.12.2026 (got {args.since!r})",
                  file=sys.stderr)  # fmt: skip
            return 2
        since = datetime.combine(day, time(0), BERLIN)
    if args.limit < 1:
        print(f"lotse audit: --limit must be at least 1 (got {args.limit})", file=sys.stderr)
        return 2
    if args.action and not any(a.startswith(args.action) for a in ACTIONS):
        print(f"lotse audit: no action starts with {args.action!r}; actions: {', '.join(ACTIONS)}", file=sys.stderr)
        return 2
    args.lang = args.lang or terminal_language()
    services = Services(settings)
    rows = services.audit.entries(args.limit, args.action, since)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "at": when(r.at).isoformat(),
                        "actor": r.actor,
                        "action": r.action,
                        "label": label(r.action, args.lang),
                        "target": r.target,
                        "detail": json.loads(r.detail) if r.detail else {},
                    }
                    for r in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    if not rows:
        print(i18n.text("audit_none", args.lang), file=sys.stderr)
        return 0
    for row in rows:
        print(plain(line(row, services.people, args.lang)).removeprefix("• "))
    return 0


def cmd_purge(args, settings: Settings) -> int:
    """`lotse purge`: apply the retention period now (the scheduler does it daily at 03:30)."""
    from datetime import UTC, datetime

    from bot.privacy import months_before

    now = datetime.now(UTC)
    cutoff = months_before(now, settings.retention_months)
    counts = Services(settings).purge(now, actor=cli_actor())  # the inbox's handled events too, as the scheduler
    print(
        f"purged everything older than {cutoff:%Y-%m-%d} ({settings.retention_months} months): "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    return 0


def cmd_db(args, settings: Settings) -> int:
    """`lotse db upgrade|status`: the database schema (Alembic), for SQLite and PostgreSQL."""
    from bot.storage import migrate
    from bot.storage.db import make_engine

    engine = make_engine(settings.db_url)
    where = engine.url.render_as_string(hide_password=True)
    try:
        if args.action == "status":
            found, newest = migrate.status(engine)
            state = "current" if found == newest else "needs `lotse db upgrade`"
            print(f"{where}: schema revision {found or 'none'}, this Lotse needs {newest} ({state})")
            return 0 if found == newest else 1
        before, after = migrate.upgrade(engine, args.revision)
        print(
            f"{where}: schema revision {before or 'none'} → {after}"
            if before != after
            else f"{where}: schema revision {after}, nothing to do"
        )
        return 0
    finally:
        engine.dispose()


def add(sub) -> None:
    audit = sub.add_parser("audit", help="the audit log: who changed what, who exported or erased data")
    audit.add_argument("--limit", type=int, default=50, help="the newest N entries (default 50)")
    audit.add_argument("--action", help="only actions starting with this, e.g. pilot, register, data.export")
    audit.add_argument("--since", help="only entries from this day on, YYYY-MM-DD or DD.MM.YYYY (Berlin time)")
    audit.add_argument("--json", action="store_true", help="print a JSON array")
    audit.add_argument(
        "--lang", choices=("de", "en"), default=None, help="language of the lines (default: the terminal's, LANG)"
    )
    audit.set_defaults(func=cmd_audit)

    purge = sub.add_parser("purge", help="delete what is older than the retention period (LOTSE_RETENTION_MONTHS)")
    purge.set_defaults(func=cmd_purge)

    db = sub.add_parser("db", help="the database schema: upgrade it (migrations), or show its revision")
    db.add_argument("action", choices=("upgrade", "status"))
    db.add_argument("--revision", default="head", help="upgrade to this revision (default: the newest)")
    db.set_defaults(func=cmd_db)
