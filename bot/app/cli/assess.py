"""`lotse assess list|show|export`: the assessments and their results."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.app.cli.common import cli_actor
from bot.app.services import Services
from bot.settings import Settings


def cmd_assess(args, settings: Settings) -> int:
    """`lotse assess list|show|export`: the assessments and their stored results, without a chat."""
    from bot.channels.console import render

    services = Services(settings)
    results = services.results
    if args.action == "list":
        print(f"{'#':>2}  {'id':<13} {'results':>7}  {'latest':<10}  title")
        for number, spec in enumerate(results.catalog, 1):
            rows = results.store.all(spec.id, args.scope)
            latest = rows[-1].created_at.strftime("%Y-%m-%d") if rows else "–"
            print(f"{number:>2}  {spec.id:<13} {len(rows):>7}  {latest:<10}  {spec.title.get(args.lang)}")
        return 0
    spec = results.catalog.find(args.name) if args.name else None
    if args.name and spec is None:
        print(f"lotse assess: no assessment {args.name!r}; `lotse assess list` shows them", file=sys.stderr)
        return 2
    if args.action == "show":
        if spec is None:
            print("lotse assess show: name an assessment, e.g. `lotse assess show systems`", file=sys.stderr)
            return 2
        rows = results.store.all(spec.id, args.scope)
        if not rows:
            print(f"No results for {spec.id} yet; run it with /check {spec.id} in lotse chat.", file=sys.stderr)
            return 1
        print(f"({rows[-1].scope})")
        print(render(results.present(spec, rows[-1].id, args.lang)))
        return 0
    text = results.export(args.format, spec.id if spec else None, args.scope, args.lang)
    services.audit.record(
        cli_actor(),
        "data.export",
        "assessment_results",
        format=args.format,
        assessment=spec.id if spec else "all",
        scope=args.scope or "all",
    )
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def add(sub) -> None:
    assess = sub.add_parser("assess", help="assessments and their results: list, show, export")
    assess.add_argument("action", choices=("list", "show", "export"))
    assess.add_argument("name", nargs="?", help="assessment number, id or name (export: all when omitted)")
    assess.add_argument("--format", choices=("json", "csv"), default="json", help="export format (default json)")
    assess.add_argument("--output", "-o", help="export into this file instead of stdout")
    assess.add_argument("--scope", help="only results of this scope, e.g. console:local or slack:T0123")
    assess.add_argument("--lang", choices=("de", "en"), default="de", help="language of summaries (default de)")
    assess.set_defaults(func=cmd_assess)
