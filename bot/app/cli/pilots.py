"""`lotse pilot list|show|report` and `lotse feedback export`: pilots, their reports and feedback."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.app.cli.common import cli_actor, counted, plain, write_out
from bot.app.services import Services
from bot.settings import Settings


def find_pilot(store, name: str, scope: str | None):
    """A pilot by number (as listed), id-like name or beginning of its name; across scopes unless given."""
    pilots = store.pilots(scope)
    if name.isascii() and name.isdigit():  # not "²": int() rejects it
        number = int(name)
        return pilots[number - 1] if 1 <= number <= len(pilots) else None
    exact = [p for p in pilots if p.name.lower() == name.lower()]
    found = exact or [p for p in pilots if p.name.lower().startswith(name.lower())]
    if len(found) > 1:
        scopes = ", ".join(sorted({p.scope for p in found}))
        raise SystemExit(f"lotse pilot: {name!r} matches pilots in several places ({scopes}); add --scope")
    return found[0] if found else None


def cmd_pilot(args, settings: Settings) -> int:
    """`lotse pilot list|show|report`: pilots, their KPIs, and reports with charts, without a chat."""
    from bot.pilots import charts
    from bot.pilots.forms import kpi_line
    from bot.pilots.texts import pilot_text, quarter_markdown, quarter_text

    services = Services(settings)
    store, reports = services.pilot_store, services.reports
    if args.action == "list":
        pilots = store.pilots(args.scope)
        if not pilots:
            print("No pilots yet; register one with /pilot neu in lotse chat (or Slack/Teams).", file=sys.stderr)
            return 0  # an empty list is no error
        print(f"{'#':>2}  {'start':<10}  {'end':<10}  {'users':>5}  {'KPIs':>4}  {'responses':>9}  {'scope':<18} name")
        all_figures = reports.pilots([p.id for p in pilots])
        for number, (p, figures) in enumerate(zip(pilots, all_figures, strict=True), 1):
            print(
                f"{number:>2}  {p.start.isoformat():<10}  {p.end.isoformat():<10}  {p.users:>5}  "
                f"{len(figures.kpis):>4}  {figures.responses:>9}  {p.scope:<18} {p.name}"
            )
        return 0
    if args.action == "report" and args.quarter:
        from datetime import UTC, date, datetime, time

        from bot.pilots.report import parse_quarter

        try:
            as_of = date.fromisoformat(args.as_of) if args.as_of else date.today()
        except ValueError:
            print(f"lotse pilot report: --as-of wants YYYY-MM-DD (got {args.as_of!r})", file=sys.stderr)
            return 2
        label = parse_quarter(args.quarter, as_of)
        if label is None:
            print(
                f"lotse pilot report: --quarter wants YYYY-Qn within 50 years of today, e.g. 2026-Q4 "
                f"(got {args.quarter!r})",
                file=sys.stderr,
            )
            return 2
        reports.clock = lambda: datetime.combine(as_of, time(23, 59), UTC)
        report = reports.quarter(args.scope, label)
        out = Path(args.output or f"lotse-roi-{label}")
        out.mkdir(parents=True, exist_ok=True)
        images = charts.render_quarter(report, out, args.lang, f"roi-{label}")
        (out / "report.md").write_text(quarter_markdown(report, args.lang, images), encoding="utf-8")
        print(plain(quarter_text(report, args.lang)))
        print(f"wrote {out / 'report.md'} and {counted(len(images), 'chart', 'charts')}", file=sys.stderr)
        return 0
    if not args.name:
        print(f"lotse pilot {args.action}: name a pilot (or --quarter YYYY-Qn for the ROI report)", file=sys.stderr)
        return 2
    pilot = find_pilot(store, args.name, args.scope)
    if pilot is None:
        print(f"lotse pilot: no pilot {args.name!r}; lotse pilot list shows them", file=sys.stderr)
        return 2
    if args.action == "show":
        print(f"{pilot.name} ({pilot.scope}) · {pilot.start} – {pilot.end} · users: {pilot.users} · {pilot.owner}")
        print(pilot.use_case)
        for kpi in store.kpis(pilot.id):
            print(kpi_line(kpi, args.lang))
        print(f"one-off {pilot.one_off_cost:g} € · monthly {pilot.monthly_cost:g} € · {pilot.hourly_rate:g} €/h")
        return 0
    figures = reports.pilot(pilot.id)
    print(plain(pilot_text(figures, args.lang)))
    if args.output and not figures.withheld:
        out = Path(args.output)
        images = charts.render_pilot(figures, out, args.lang, f"pilot-{pilot.id}")
        pictures = "\n".join(f"![{image.stem}]({image.name})" for image in images)
        (out / "report.md").write_text(pilot_text(figures, args.lang) + "\n\n" + pictures + "\n", encoding="utf-8")
        print(f"wrote {out / 'report.md'} and {counted(len(images), 'chart', 'charts')}", file=sys.stderr)
    return 0


def cmd_feedback(args, settings: Settings) -> int:
    """`lotse feedback export --format csv|xlsx`: all pilot feedback for the IT lead."""
    from bot.pilots.export import export_feedback

    store = Services(settings).pilot_store
    out, _ = write_out(args.output, f"lotse-feedback.{args.format}",
                       lambda path: export_feedback(store.db, args.format, path, scope=args.scope))  # fmt: skip
    store.audit.record(cli_actor(), "data.export", "pilot_feedback", format=args.format, scope=args.scope or "all")
    if out is not None:
        print(f"wrote {out} (-o - writes it to stdout)", file=sys.stderr)
    return 0


def add(sub) -> None:
    pilot = sub.add_parser("pilot", help="pilots: list, show one, report (a pilot, or --quarter for the ROI report)")
    pilot.add_argument("action", choices=("list", "show", "report"))
    pilot.add_argument("name", nargs="?", help="pilot number (as listed) or name")
    pilot.add_argument("--quarter", help="report: the ROI report across pilots for a quarter, e.g. 2026-Q4")
    pilot.add_argument("--output", "-o", help="report: folder for report.md and the PNG charts")
    pilot.add_argument("--as-of", help="report: the ROI over time up to this day, YYYY-MM-DD (default today)")
    pilot.add_argument("--scope", help="only pilots of this team, e.g. slack:T0123")
    pilot.add_argument("--lang", choices=("de", "en"), default="de", help="language (default de)")
    pilot.set_defaults(func=cmd_pilot)

    feedback = sub.add_parser("feedback", help="pilot feedback: export as CSV or XLSX")
    feedback.add_argument("action", choices=("export",))
    feedback.add_argument("--format", choices=("csv", "xlsx"), default="xlsx", help="file format (default xlsx)")
    feedback.add_argument("--output", "-o", help="file to write (default lotse-feedback.<format>; - for stdout)")
    feedback.add_argument("--scope", help="only feedback of this team, e.g. slack:T0123")
    feedback.set_defaults(func=cmd_feedback)
