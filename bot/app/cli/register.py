"""`lotse register list|add|export`: the company's AI register without a chat."""

from __future__ import annotations

import sys

from bot.app.cli.common import cli_actor, counted, write_out
from bot.app.services import Services
from bot.settings import Settings


def cmd_register(args, settings: Settings) -> int:
    """`lotse register list|add|export`: the company's AI register without a chat."""
    from datetime import date

    from bot.register import export
    from bot.register.view import overdue

    store = Services(settings).register_store
    store.ensure_self(settings)  # Lotse's own entry, as a first start of the chat would write it
    if args.action == "add":
        return _register_add(args, store)
    if args.action == "list":
        if args.format == "json":
            sys.stdout.write(export.json_text(export.rows(store)))
            return 0
        if args.format:
            print(f"lotse register list: --format {args.format} is for `lotse register export`", file=sys.stderr)
            return 2
        today = date.today()
        print(f"{'#':>2}  {'status':<10}  {'risk':<10}  {'review':<10}  {'':<7}  name")
        for number, e in enumerate(store.entries(), 1):
            review = e.next_review.isoformat() if e.next_review else "–"
            late = "OVERDUE" if overdue(e, today) else ""
            print(f"{number:>2}  {e.status:<10}  {e.risk_class:<10}  {review:<10}  {late:<7}  {e.name}")
        return 0
    fmt = args.format or "xlsx"
    if fmt == "json" and not args.output:
        rows = export.rows(store)
        sys.stdout.write(export.json_text(rows))
        count = len(rows)
    else:
        out, count = write_out(
            args.output, f"lotse-register.{fmt}", lambda path: export.export_register(store, fmt, path)
        )
        if out is not None:
            print(f"wrote {out}: {counted(count, 'application', 'applications')} (-o - writes it to stdout)",
                  file=sys.stderr)  # fmt: skip
    store.audit.record(cli_actor(), "data.export", "ai_register", format=fmt, entries=count)
    return 0


REGISTER_FLAGS = {"name": "--name", "purpose": "--purpose", "owner": "--owner", "model": "--model",
                  "provider": "--provider", "data_sources": "--data-sources", "personal_data": "--personal-data",
                  "risk_class": "--risk", "status": "--status", "next_review": "--next-review"}  # fmt: skip


REGISTER_OPTIONAL = ("model", "provider", "data_sources")


REGISTER_HINTS = {"personal_data": "yes or no", "risk_class": "minimal, limited, high or prohibited",
                  "status": "idea, pilot, production or retired",
                  "next_review": 'a date today or later: 2027-03-01, 1.3.2027 or "in 12 months"'}  # fmt: skip


def _register_add(args, store) -> int:
    """`lotse register add --name … --purpose …`: one entry, checked as the chat dialog checks it; every
    problem is named at once, and nothing is written unless all values fit (exit 2)."""
    from bot.dialogs.inputs import InvalidAnswer
    from bot.register.forms import load_dialog, read_value
    from bot.register.store import NameTaken

    spec = load_dialog()
    missing = [
        flag
        for field, flag in REGISTER_FLAGS.items()
        if field not in REGISTER_OPTIONAL and getattr(args, field) in (None, "")
    ]
    if missing:
        print(
            f"lotse register add: missing {', '.join(missing)} (required; optional: --model, --provider, "
            "--data-sources)",
            file=sys.stderr,
        )
        return 2
    values, problems = {}, []
    for field, flag in REGISTER_FLAGS.items():
        raw = getattr(args, field)
        if raw in (None, ""):
            values[field] = ""
            continue
        try:
            values[field] = read_value(spec, field, raw, "en")
        except InvalidAnswer as problem:
            hint = REGISTER_HINTS.get(field)
            problems.append(f"{flag} {raw!r}: " + (f"use {hint}" if hint else problem.hint))
    if problems:
        for problem in problems:
            print(f"lotse register add: {problem}", file=sys.stderr)
        return 2
    name = values.pop("name")
    try:
        entry = store.add(cli_actor(), name, **values)
    except NameTaken:
        print(f"lotse register add: {name!r} is already in the register (`lotse register list`)", file=sys.stderr)
        return 2
    print(
        f"registered {entry.name!r}: {entry.risk_class} risk, {entry.status}, next review "
        f"{entry.next_review.isoformat()}",
        file=sys.stderr,
    )
    return 0


def add(sub) -> None:
    register = sub.add_parser("register", help="the company's AI register: list, add an application, export")
    register.add_argument("action", choices=("list", "add", "export"))
    register.add_argument(
        "--format",
        choices=("csv", "xlsx", "json"),
        help="export: default xlsx; json without -o prints to stdout; list: json too",
    )
    register.add_argument(
        "--output", "-o", help="export: file to write (default lotse-register.<format>; - for stdout)"
    )
    for field, flag in REGISTER_FLAGS.items():
        register.add_argument(
            flag,
            dest=field,
            help=f"add: {field.replace('_', ' ')}" + (" (optional)" if field in REGISTER_OPTIONAL else ""),
        )
    register.set_defaults(func=cmd_register)
