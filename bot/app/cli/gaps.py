"""`lotse gaps` and `lotse faq list|add|export|withdraw`: the knowledge gaps and the company FAQ without a
chat (issue 25)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.app.cli.common import cli_actor
from bot.app.services import Services
from bot.settings import Settings


def _since(raw: str | None, command: str):
    from datetime import date, datetime, time

    from bot.core.clock import BERLIN

    if not raw:
        return None
    try:
        return datetime.combine(date.fromisoformat(raw), time(0), BERLIN)
    except ValueError:
        print(f"lotse {command}: --since wants YYYY-MM-DD (got {raw!r})", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_gaps(args, settings: Settings) -> int:
    """`lotse gaps`: the groups of questions Lotse could not answer (or whose answer was rated 👎), the most
    asked first, with counts and first/last seen (Berlin time)."""
    from bot.core.clock import stamp

    since = _since(args.since, "gaps")
    groups = Services(settings).gaps.groups(since, states=None if args.all else ("open",))
    if args.json:
        out = [
            {
                "group": g.id,
                "example": g.example,
                "language": g.language,
                "state": g.state,
                "count": g.count,
                "refused": g.kinds.get("refused", 0),
                "downvoted": g.kinds.get("downvoted", 0),
                "first_seen": stamp(g.first_seen),
                "last_seen": stamp(g.last_seen),
                "faq_entry": g.faq_id,
            }
            for g in groups
        ]
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    if not groups:
        print("No open knowledge gaps" + (" since then" if since else "") + ".", file=sys.stderr)
        return 0
    print(f"{'group':>5}  {'asked':>5}  {'👎':>3}  {'last seen':<16}  {'state':<9}  example")
    for g in groups:
        last = stamp(g.last_seen)[:16].replace("T", " ")
        print(f"{g.id:>5}  {g.count:>5}  {g.kinds.get('downvoted', 0):>3}  {last:<16}  {g.state:<9}  {g.example}")
    return 0


def cmd_faq(args, settings: Settings) -> int:
    """`lotse faq list|add|export|withdraw`: the company FAQ."""
    from bot.gaps.faq import FaqError, as_dict

    services = Services(settings)
    faq = services.faq
    if args.action == "list":
        entries = faq.entries(withdrawn=args.all)
        if args.json:
            print(json.dumps([as_dict(e) for e in entries], ensure_ascii=False, indent=2))
            return 0
        if not entries:
            print("The company FAQ has no entries yet; add one: lotse faq add --question … --answer …", file=sys.stderr)
            return 0
        for e in entries:
            gone = " (withdrawn)" if e.withdrawn_at else ""
            print(f"{e.id:>3}  {e.question}{gone}\n     {e.answer}" + (f"\n     {e.link}" if e.link else ""))
        return 0
    if args.action == "add":
        missing = [flag for flag, value in (("--question", args.question), ("--answer", args.answer)) if not value]
        if missing:
            print(f"lotse faq add: {' and '.join(missing)} required", file=sys.stderr)
            return 2
        try:
            entry = faq.add(args.question, args.answer, args.link or "", args.author or cli_actor(), cli_actor())
        except FaqError as problem:
            print(f"lotse faq add: {_problem(problem)}", file=sys.stderr)
            return 2
        if args.group is not None and not services.gaps.set_state(args.group, "answered", faq_id=entry.id):
            print(f"lotse faq add: entry {entry.id} added, but there is no gap group {args.group}", file=sys.stderr)
            return 1
        print(f"Entry {entry.id} added and indexed: {entry.question}")
        return 0
    if args.action == "withdraw":
        if args.id is None:
            print("lotse faq withdraw: which entry? --id N (see lotse faq list)", file=sys.stderr)
            return 2
        entry = faq.withdraw(args.id, cli_actor())
        if entry is None:
            print(f"lotse faq withdraw: no entry {args.id} in the FAQ (see lotse faq list)", file=sys.stderr)
            return 1
        print(f"Entry {entry.id} withdrawn: it no longer answers questions.")
        return 0
    fmt = args.format or "csv"
    out = Path(args.output or f"lotse-faq.{fmt}")
    count = faq.export(fmt, out)
    services.audit.record(cli_actor(), "data.export", "company_faq", format=fmt, entries=count)
    print(f"{count} entries written to {out}")
    return 0


def _problem(problem) -> str:
    from bot.core import i18n

    return i18n.text(problem.key, "en", **problem.values)


def add(sub) -> None:
    gaps = sub.add_parser("gaps", help="what people asked that Lotse could not answer, grouped, most asked first")
    gaps.add_argument("--since", help="only questions from this day on, YYYY-MM-DD (Berlin time)")
    gaps.add_argument("--all", action="store_true", help="also groups answered, ignored or off topic")
    gaps.add_argument("--json", action="store_true", help="print a JSON array")
    gaps.set_defaults(func=cmd_gaps)

    faq = sub.add_parser("faq", help="the company FAQ: answers to knowledge gaps, cited beside the guide")
    faq.add_argument("action", choices=("list", "add", "export", "withdraw"))
    faq.add_argument("--question", help="add: the question as it should read")
    faq.add_argument("--answer", help="add: the answer")
    faq.add_argument("--link", help="add: a link to more (optional, https://…)")
    faq.add_argument("--author", help="add: the name cited with the answer (default: your login)")
    faq.add_argument("--group", type=int, help="add: the gap group it answers (lotse gaps), marked answered")
    faq.add_argument("--id", type=int, help="withdraw: the entry's number (lotse faq list)")
    faq.add_argument("--all", action="store_true", help="list: withdrawn entries too")
    faq.add_argument("--json", action="store_true", help="list: print a JSON array")
    faq.add_argument("--format", choices=("csv", "json"), help="export: default csv")
    faq.add_argument("--output", "-o", help="export: file to write (default lotse-faq.<format>)")
    faq.set_defaults(func=cmd_faq)
