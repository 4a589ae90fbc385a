"""The `lotse` command: chat, ask, assess, plan, serve, ingest."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
import time
from pathlib import Path

from sqlalchemy.exc import OperationalError

from bot import __version__
from bot.dialogs.spec import AssessmentSpecError
from bot.reminders.spec import PlanSpecError
from bot.settings import ConfigError, Settings, load_settings
from bot.storage.migrate import SchemaError
from ingest.index import ModelMismatch


def _ingest_report(report, out=sys.stderr) -> None:
    print(
        f"ingest: {len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed, {len(report.failed)} failed — {report.chunks} chunks "
        f"in {report.seconds:.1f} s",
        file=out,
    )
    for name, reason in report.failed:
        print(f"  could not index {name}: {reason}", file=out)
    for name, phrases in report.flagged:
        print(f"  instruction-like text in {name} (indexed as data, never followed): {phrases}", file=out)


def _open_service(settings: Settings):
    """The answering service, with the bundled knowledge ingested first if the index is empty."""
    from bot.answering import AnswerService
    from ingest.pipeline import ingest

    service = AnswerService(settings)
    service.index.preload()
    if service.index.chunk_count() == 0 and settings.knowledge_dir.is_dir():
        print(f"First run: indexing {settings.knowledge_dir} …", file=sys.stderr)
        _ingest_report(ingest(service.index, [settings.knowledge_dir]))
    else:
        _complete_index(service.index)
    return service


def _complete_index(index) -> None:
    """The database holds chunks (another replica or an earlier run ingested them): build whatever this
    process lacks of the derived indexes — BM25 in its data folder, and the vector store if it is empty
    (a replica with its own embedded store, or a restored database beside a lost index) — and bring both
    up to documents that another process ingested since. While running, `KnowledgeIndex.follow` does the same."""
    if index.vectors.count() == 0:
        print("The vector index is empty: rebuilding it from the database …", file=sys.stderr)
        index.rebuild_vectors()
    built = index.lexical.is_built
    if index.catch_up() and built:  # documents ingested elsewhere since this data folder's indexes were built
        print("Brought this data folder's search indexes up to the documents in the database.", file=sys.stderr)


def cmd_ingest(args, settings: Settings) -> int:
    from ingest.index import KnowledgeIndex
    from ingest.pipeline import IngestPathError, ingest

    paths = [Path(p) for p in args.paths] or [settings.knowledge_dir]
    index = KnowledgeIndex(settings)
    if args.rebuild:
        started = time.perf_counter()
        count = index.rebuild_vectors(change_model=True)  # the one way to change the embedding model
        index.rebuild_lexical(force=True)
        print(f"rebuilt the vector and BM25 indexes from the database: {count} chunks in "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)  # fmt: skip
        if not args.paths:
            return 0
    index.check_model()  # before anything is embedded: another model's vectors would not fit the index
    try:
        report = ingest(index, paths, progress=None)
    except IngestPathError as exc:
        print(f"lotse ingest: {exc}", file=sys.stderr)
        return 2
    _ingest_report(report)
    return 1 if report.failed else 0


def cmd_ask(args, settings: Settings) -> int:
    service = _open_service(settings)
    if args.batch:
        questions = (line.strip() for line in sys.stdin)
    elif args.question:
        questions = iter([" ".join(args.question)])
    else:
        print("lotse ask: give a question, or --batch to read one per line from stdin", file=sys.stderr)
        return 2
    for question in questions:
        if args.batch and not question:
            continue
        answer = service.ask(question)
        if args.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            from bot.channels.console import render
            from bot.core.turn import reply_for

            print(render(reply_for(answer)), flush=True)
    return 0


def cmd_chat(args, settings: Settings) -> int:
    from bot.channels import console
    from bot.core.turn import Lotse
    from bot.dialogs import load_catalog

    catalog = load_catalog(settings.assessments_dir)  # a broken assessment file stops us before the slow part
    service = _open_service(settings)
    core = Lotse(settings, service, catalog)
    user = args.user or getpass.getuser()
    nudges = args.nudges if args.nudges is not None else sys.stdin.isatty() and not args.json
    if not nudges:
        return console.run(core, user=user, as_json=args.json)
    with console.BackgroundNudges(core):  # plan nudges addressed to the terminal are printed as they fall due
        return console.run(core, user=user, as_json=args.json)


def _plan_store(settings: Settings):
    from bot.reminders.planner import Reminders
    from bot.reminders.spec import load_plan
    from bot.storage.db import Database

    return Reminders(Database(settings.db_url, upgrade=settings.db_auto_upgrade), load_plan(settings.plan_file))


def cmd_plan(args, settings: Settings) -> int:
    """`lotse plan preview|status`: the plan's dates (configured or not) and its progress."""
    from datetime import date

    from bot.channels.console import render
    from bot.reminders.calendar import WEEKDAYS, CalendarError, Schedule, state_code, zone
    from bot.reminders.commands import parse_time, preview_lines
    from bot.reminders.planner import schedule_of

    reminders = _plan_store(settings)
    plans = [p for p in reminders.plans.all() if p.status != "stopped" and (not args.scope or p.scope == args.scope)]
    if args.action == "preview" and (args.start or not plans):
        if not args.start:
            print("lotse plan preview: no plan is configured; give --start YYYY-MM-DD to preview one", file=sys.stderr)
            return 2
        try:
            start = date.fromisoformat(args.start)
            at = parse_time(args.time)
            if at is None:
                raise CalendarError(f"--time {args.time!r} is not a time like 09:00")
            if args.weekday.lower() not in WEEKDAYS:
                raise CalendarError(f"--weekday {args.weekday!r}: use mo, di, mi, do or fr")
            zone(args.tz)
            schedule = Schedule(start, WEEKDAYS[args.weekday.lower()], at, args.tz, state_code(args.state))
        except (ValueError, CalendarError) as exc:
            print(f"lotse plan preview: {exc}", file=sys.stderr)
            return 2
        print("\n".join(preview_lines(reminders.spec, schedule, args.lang)))
        return 0
    if not plans:
        print("No plan is running. An admin starts one in chat with /plan start YYYY-MM-DD.", file=sys.stderr)
        return 1
    for plan in plans:
        print(f"# {plan.scope} (plan {plan.id}, {plan.status})")
        if args.action == "preview":
            print("\n".join(preview_lines(reminders.spec, schedule_of(plan), args.lang)))
        else:
            from bot.core.messages import Incoming

            channel, _, workspace = plan.scope.partition(":")
            message = Incoming("/plan status", "cli", channel=channel, workspace=workspace)
            from bot.reminders.commands import PlanCommands

            print(render(PlanCommands(reminders).handle(message, args.lang)))
    return 0


def cmd_serve(args, settings: Settings) -> int:
    """`lotse serve`: every configured channel in one process."""
    import asyncio

    from bot import server
    from bot.core.turn import Lotse
    from bot.dialogs import load_catalog

    if not (settings.slack.enabled or settings.teams.enabled):
        print(
            "lotse serve: no channel is configured, so there is nothing to serve.\n"
            "  Slack: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode, no public URL needed)\n"
            "         or SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP mode, Request URL …/slack/events).\n"
            "  Teams: set MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID\n"
            "         (messaging endpoint …/api/messages).\n"
            "  See the README sections 'Slack' and 'Teams' for setting up the apps.\n"
            "  Without a channel, `lotse chat` works in the terminal.",
            file=sys.stderr,
        )
        return 1
    catalog = load_catalog(settings.assessments_dir)

    def build_core() -> Lotse:
        return Lotse(settings, _open_service(settings), catalog)

    try:
        asyncio.run(server.serve(settings, build_core, args.host, args.port))
    except OSError as exc:
        print(f"lotse serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


def cmd_teams_package(args, settings: Settings) -> int:
    """`lotse teams-package`: the app zip to upload in Teams (manifest with the app id, and the icons)."""
    import zipfile

    from bot.settings import PROJECT_ROOT

    folder = Path(args.source) if args.source else PROJECT_ROOT / "config" / "teams"
    if not settings.teams.app_id:
        print("lotse teams-package: set MICROSOFT_APP_ID (the Azure Bot's app id) first", file=sys.stderr)
        return 2
    try:
        text = (
            (folder / "manifest.json").read_text(encoding="utf-8").replace("${MICROSOFT_APP_ID}", settings.teams.app_id)
        )
        manifest = json.loads(text)
        icons = [folder / manifest["icons"]["color"], folder / manifest["icons"]["outline"]]
    except (OSError, json.JSONDecodeError, KeyError) as exc:
        print(f"lotse teams-package: {folder / 'manifest.json'} is not usable: {exc}", file=sys.stderr)
        return 2
    missing = [str(p) for p in icons if not p.is_file()]
    if missing:
        print(f"lotse teams-package: missing icon(s): {', '.join(missing)}", file=sys.stderr)
        return 2
    output = Path(args.output)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        for icon in icons:
            package.write(icon, icon.name)
    print(f"wrote {output}: upload it in Teams (Apps → Manage your apps → Upload an app)", file=sys.stderr)
    return 0


def _results(settings: Settings):
    from bot.dialogs import Results, load_catalog
    from bot.storage import Database

    return Results(
        Database(settings.db_url, upgrade=settings.db_auto_upgrade),
        load_catalog(settings.assessments_dir),
        settings.charts_dir,
    )


def cmd_assess(args, settings: Settings) -> int:
    """`lotse assess list|show|export`: the assessments and their stored results, without a chat."""
    from bot.channels.console import render

    results = _results(settings)
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
            print(f"No results for {spec.id} yet; run it with /check {spec.id} in `lotse chat`.", file=sys.stderr)
            return 1
        print(f"({rows[-1].scope})")
        print(render(results.present(spec, rows[-1].id, args.lang)))
        return 0
    text = results.export(args.format, spec.id if spec else None, args.scope, args.lang)
    from bot.storage.audit import AuditLog

    AuditLog(results.store.db).record(_cli_actor(), "data.export", "assessment_results", format=args.format,
                                      assessment=spec.id if spec else "all", scope=args.scope or "all")  # fmt: skip
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _pilots(settings: Settings):
    from bot.pilots.report import Reports
    from bot.pilots.store import PilotStore
    from bot.storage import Database

    db = Database(settings.db_url, upgrade=settings.db_auto_upgrade)
    return PilotStore(db), Reports(db)


def _find_pilot(store, name: str, scope: str | None):
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
    from bot.pilots.commands import pilot_text, quarter_markdown, quarter_text
    from bot.pilots.forms import kpi_line

    store, reports = _pilots(settings)
    if args.action == "list":
        pilots = store.pilots(args.scope)
        if not pilots:
            print("No pilots yet; register one with /pilot neu in `lotse chat` (or Slack/Teams).", file=sys.stderr)
            return 1
        print(f"{'#':>2}  {'start':<10}  {'end':<10}  {'users':>5}  {'KPIs':>4}  {'responses':>9}  {'scope':<18} name")
        all_figures = reports.pilots([p.id for p in pilots])
        for number, (p, figures) in enumerate(zip(pilots, all_figures, strict=True), 1):
            print(f"{number:>2}  {p.start.isoformat():<10}  {p.end.isoformat():<10}  {p.users:>5}  "
                  f"{len(figures.kpis):>4}  {figures.responses:>9}  {p.scope:<18} {p.name}")  # fmt: skip
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
            print(f"lotse pilot report: --quarter wants YYYY-Qn within 50 years of today, e.g. 2026-Q4 "
                  f"(got {args.quarter!r})", file=sys.stderr)  # fmt: skip
            return 2
        reports.clock = lambda: datetime.combine(as_of, time(23, 59), UTC)
        report = reports.quarter(args.scope, label)
        out = Path(args.output or f"lotse-roi-{label}")
        out.mkdir(parents=True, exist_ok=True)
        images = charts.render_quarter(report, out, args.lang, f"roi-{label}")
        (out / "report.md").write_text(quarter_markdown(report, args.lang, images), encoding="utf-8")
        print(_plain(quarter_text(report, args.lang)))
        print(f"wrote {out / 'report.md'} and {len(images)} charts", file=sys.stderr)
        return 0
    if not args.name:
        print(f"lotse pilot {args.action}: name a pilot (or --quarter YYYY-Qn for the ROI report)", file=sys.stderr)
        return 2
    pilot = _find_pilot(store, args.name, args.scope)
    if pilot is None:
        print(f"lotse pilot: no pilot {args.name!r}; `lotse pilot list` shows them", file=sys.stderr)
        return 2
    if args.action == "show":
        print(f"{pilot.name} ({pilot.scope}) · {pilot.start} – {pilot.end} · {pilot.users} users · {pilot.owner}")
        print(pilot.use_case)
        for kpi in store.kpis(pilot.id):
            print(kpi_line(kpi, args.lang))
        print(f"one-off {pilot.one_off_cost:g} € · monthly {pilot.monthly_cost:g} € · {pilot.hourly_rate:g} €/h")
        return 0
    figures = reports.pilot(pilot.id)
    print(_plain(pilot_text(figures, args.lang)))
    if args.output and not figures.withheld:
        out = Path(args.output)
        images = charts.render_pilot(figures, out, args.lang, f"pilot-{pilot.id}")
        print(f"wrote {len(images)} charts to {out}", file=sys.stderr)
    return 0


def _plain(text: str) -> str:
    """Chat text for the terminal: without the *bold* markers."""
    from bot.core.messages import BOLD

    return BOLD.sub(r"\1", text)


def cmd_feedback(args, settings: Settings) -> int:
    """`lotse feedback export --format csv|xlsx`: all pilot feedback for the IT lead."""
    from bot.pilots.export import export_feedback

    store, _ = _pilots(settings)
    out = Path(args.output or f"lotse-feedback.{args.format}")
    export_feedback(store.db, args.format, out, scope=args.scope)
    store.audit.record(_cli_actor(), "data.export", "pilot_feedback", format=args.format, scope=args.scope or "all")
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _register(settings: Settings):
    """The company's AI register, with Lotse's own entry in it (as a first start of the core would)."""
    from bot.register.store import RegisterStore
    from bot.storage import Database

    store = RegisterStore(Database(settings.db_url, upgrade=settings.db_auto_upgrade))
    store.ensure_self(settings)
    return store


def _cli_actor() -> str:
    return f"cli:{getpass.getuser()}"


def cmd_register(args, settings: Settings) -> int:
    """`lotse register list|add|export`: the company's AI register without a chat."""
    from datetime import date

    from bot.register import export
    from bot.register.view import overdue

    store = _register(settings)
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
        out = Path(args.output or f"lotse-register.{fmt}")
        count = export.export_register(store, fmt, out)
        print(f"wrote {out}: {count} applications", file=sys.stderr)
    store.audit.record(_cli_actor(), "data.export", "ai_register", format=fmt, entries=count)
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
    missing = [flag for field, flag in REGISTER_FLAGS.items()
               if field not in REGISTER_OPTIONAL and getattr(args, field) in (None, "")]  # fmt: skip
    if missing:
        print(f"lotse register add: missing {', '.join(missing)} (required; optional: --model, --provider, "
              "--data-sources)", file=sys.stderr)  # fmt: skip
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
        entry = store.add(_cli_actor(), name, **values)
    except NameTaken:
        print(f"lotse register add: {name!r} is already in the register (`lotse register list`)", file=sys.stderr)
        return 2
    print(f"registered {entry.name!r}: {entry.risk_class} risk, {entry.status}, next review "
          f"{entry.next_review.isoformat()}", file=sys.stderr)  # fmt: skip
    return 0


def cmd_audit(args, settings: Settings) -> int:
    """`lotse audit`: who changed plans, roles, pilots and the register, and who exported or erased data."""
    from datetime import date, datetime, time

    from bot.core.audit_view import BERLIN, line, when
    from bot.storage import Database
    from bot.storage.audit import ACTIONS, AuditLog, label
    from bot.storage.people import People

    since = None
    if args.since:
        try:
            since = datetime.combine(date.fromisoformat(args.since), time(0), BERLIN)
        except ValueError:
            print(f"lotse audit: --since wants YYYY-MM-DD (got {args.since!r})", file=sys.stderr)
            return 2
    if args.limit < 1:
        print(f"lotse audit: --limit must be at least 1 (got {args.limit})", file=sys.stderr)
        return 2
    if args.action and not any(a.startswith(args.action) for a in ACTIONS):
        print(f"lotse audit: no action starts with {args.action!r}; actions: {', '.join(ACTIONS)}", file=sys.stderr)
        return 2
    db = Database(settings.db_url, upgrade=settings.db_auto_upgrade)
    rows = AuditLog(db).entries(args.limit, args.action, since)
    if args.json:
        print(json.dumps([{"at": when(r.at).isoformat(), "actor": r.actor, "action": r.action,
                           "label": label(r.action, args.lang), "target": r.target,
                           "detail": json.loads(r.detail) if r.detail else {}} for r in rows],
                         ensure_ascii=False, indent=2))  # fmt: skip
        return 0
    if not rows:
        print("The audit log has no entries" + (" matching that" if args.action or since else "") + ".",
              file=sys.stderr)  # fmt: skip
        return 0
    people = People(db)
    for row in rows:
        print(_plain(line(row, people, args.lang)).removeprefix("• "))
    return 0


def cmd_purge(args, settings: Settings) -> int:
    """`lotse purge`: apply the retention period now (the scheduler does it daily at 03:30)."""
    from datetime import UTC, datetime

    from bot.core.privacy import months_before, purge
    from bot.storage.personal import PersonalData

    store, _ = _pilots(settings)
    cutoff = months_before(datetime.now(UTC), settings.retention_months)
    counts = purge(PersonalData(store.db, store), settings, actor=_cli_actor())
    print(f"purged everything older than {cutoff:%Y-%m-%d} ({settings.retention_months} months): "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))  # fmt: skip
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
        print(f"{where}: schema revision {before or 'none'} → {after}" if before != after
              else f"{where}: schema revision {after}, nothing to do")  # fmt: skip
        return 0
    finally:
        engine.dispose()


def cmd_init(args, settings: Settings) -> int:
    """`lotse init`: what a deployment runs once before its replicas start — wait for the database and
    the vector store, migrate the schema, index the knowledge folder (unchanged files are skipped)."""
    from sqlalchemy.exc import OperationalError as DatabaseDown

    from bot.storage import migrate
    from bot.storage.db import make_engine
    from ingest.index import KnowledgeIndex
    from ingest.pipeline import ingest

    deadline = time.monotonic() + args.wait
    engine = make_engine(settings.db_url)
    while True:
        try:
            before, after = migrate.upgrade(engine)
            break
        except DatabaseDown as exc:
            if time.monotonic() > deadline:
                raise
            print(f"waiting for the database: {str(exc.orig).strip().splitlines()[0]}", file=sys.stderr)
            time.sleep(2)
    engine.dispose()
    print(f"database schema: {before or 'none'} → {after}" if before != after else f"database schema: {after}",
          file=sys.stderr)  # fmt: skip
    index = KnowledgeIndex(settings)
    while True:
        try:
            index.vectors.count()
            break
        except ModelMismatch:
            raise  # not a server that is starting: waiting would not help
        except Exception as exc:  # the Chroma server is still starting (connection refused, 5xx)
            if time.monotonic() > deadline:
                print(f"lotse init: the vector store does not answer: {exc}", file=sys.stderr)
                return 2
            print(f"waiting for the vector store: {exc}", file=sys.stderr)
            time.sleep(2)
    report = ingest(index, [settings.knowledge_dir], progress=False)
    _ingest_report(report)
    _complete_index(index)
    return 1 if report.failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lotse", description="Lotse — your guide through the AI roadmap.")
    parser.add_argument("--version", action="version", version=f"lotse {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="chat in the terminal (also reads one message per line from a pipe)")
    chat.add_argument("--user", help="who is chatting, with a conversation of their own (default: your login name)")
    chat.add_argument(
        "--json",
        action="store_true",
        help="one message per line on stdin, one JSON object per reply on stdout (for scripts)",
    )
    chat.add_argument("--nudges", action=argparse.BooleanOptionalAction, default=None,
                      help="print plan nudges for the terminal as they fall due (default: on a terminal)")  # fmt: skip
    chat.set_defaults(func=cmd_chat)

    plan = sub.add_parser("plan", help="the 90-day plan: preview its dates, show its progress")
    plan.add_argument("action", choices=("preview", "status"))
    plan.add_argument("--start", help="preview a plan that is not configured yet, starting YYYY-MM-DD")
    plan.add_argument("--state", help="German state for public holidays, e.g. BY (default: national holidays)")
    plan.add_argument("--time", default="09:00", help="local time of the nudges (default 09:00)")
    plan.add_argument("--weekday", default="mo", help="weekday of the nudges (default mo)")
    plan.add_argument("--tz", default="Europe/Berlin", help="time zone (default Europe/Berlin)")
    plan.add_argument("--scope", help="only the plan of this team, e.g. slack:T0123")
    plan.add_argument("--lang", choices=("de", "en"), default="de", help="language (default de)")
    plan.set_defaults(func=cmd_plan)

    ask = sub.add_parser("ask", help="answer one question (or --batch: one per line on stdin)")
    ask.add_argument("question", nargs="*")
    ask.add_argument("--json", action="store_true", help="print one JSON object per answer")
    ask.add_argument("--batch", action="store_true", help="read questions from stdin, one per line")
    ask.set_defaults(func=cmd_ask)

    assess = sub.add_parser("assess", help="assessments and their results: list, show, export")
    assess.add_argument("action", choices=("list", "show", "export"))
    assess.add_argument("name", nargs="?", help="assessment number, id or name (export: all when omitted)")
    assess.add_argument("--format", choices=("json", "csv"), default="json", help="export format (default json)")
    assess.add_argument("--output", "-o", help="export into this file instead of stdout")
    assess.add_argument("--scope", help="only results of this scope, e.g. console:local or slack:T0123")
    assess.add_argument("--lang", choices=("de", "en"), default="de", help="language of summaries (default de)")
    assess.set_defaults(func=cmd_assess)

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
    feedback.add_argument("--output", "-o", help="file to write (default lotse-feedback.<format>)")
    feedback.add_argument("--scope", help="only feedback of this team, e.g. slack:T0123")
    feedback.set_defaults(func=cmd_feedback)

    register = sub.add_parser("register", help="the company's AI register: list, add an application, export")
    register.add_argument("action", choices=("list", "add", "export"))
    register.add_argument("--format", choices=("csv", "xlsx", "json"),
                          help="export: default xlsx; json without -o prints to stdout; list: json too")  # fmt: skip
    register.add_argument("--output", "-o", help="export: file to write (default lotse-register.<format>)")
    for field, flag in REGISTER_FLAGS.items():
        register.add_argument(flag, dest=field, help=f"add: {field.replace('_', ' ')}" + (
            " (optional)" if field in REGISTER_OPTIONAL else ""))  # fmt: skip
    register.set_defaults(func=cmd_register)

    audit = sub.add_parser("audit", help="the audit log: who changed what, who exported or erased data")
    audit.add_argument("--limit", type=int, default=50, help="the newest N entries (default 50)")
    audit.add_argument("--action", help="only actions starting with this, e.g. pilot, register, data.export")
    audit.add_argument("--since", help="only entries from this day on, YYYY-MM-DD (Berlin time)")
    audit.add_argument("--json", action="store_true", help="print a JSON array")
    audit.add_argument("--lang", choices=("de", "en"), default="en", help="language of the labels (default en)")
    audit.set_defaults(func=cmd_audit)

    purge = sub.add_parser("purge", help="delete what is older than the retention period (LOTSE_RETENTION_MONTHS)")
    purge.set_defaults(func=cmd_purge)

    init = sub.add_parser("init", help="once per deployment: wait for the database and vector store, migrate, ingest")
    init.add_argument("--wait", type=float, default=120.0, help="seconds to wait for them (default 120)")
    init.set_defaults(func=cmd_init)

    db = sub.add_parser("db", help="the database schema: upgrade it (migrations), or show its revision")
    db.add_argument("action", choices=("upgrade", "status"))
    db.add_argument("--revision", default="head", help="upgrade to this revision (default: the newest)")
    db.set_defaults(func=cmd_db)

    serve = sub.add_parser("serve", help="serve the configured channels (Slack, Teams) in one process")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=3978, help="port to listen on (default 3978)")
    serve.set_defaults(func=cmd_serve)

    package = sub.add_parser("teams-package", help="build the Teams app zip (manifest with your app id, icons)")
    package.add_argument("--output", "-o", default="lotse-teams.zip", help="zip to write (default lotse-teams.zip)")
    package.add_argument("--source", help="folder with manifest.json and icons (default config/teams)")
    package.set_defaults(func=cmd_teams_package)

    ing = sub.add_parser("ingest", help="index documents (default: the knowledge/ folder)")
    ing.add_argument("paths", nargs="*", help="files or folders: .md .txt .html .pdf .docx")
    ing.add_argument("--rebuild", action="store_true",
                     help="rebuild the vector and BM25 indexes from the database (after a restore); "
                          "with paths, ingest them afterwards")  # fmt: skip
    ing.set_defaults(func=cmd_ingest)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    for noisy in ("bm25s", "chromadb", "httpx", "slack_sdk", "slack_bolt", "lotse.slack.bolt", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"lotse: configuration error: {exc}", file=sys.stderr)
        return 2
    if settings.log_format == "json":
        from bot.logs import use_json

        use_json()
    try:
        return args.func(args, settings)
    except AssessmentSpecError as exc:
        print(f"lotse: assessment file error: {exc}", file=sys.stderr)
        return 2
    except PlanSpecError as exc:
        print(f"lotse: plan file error: {exc}", file=sys.stderr)
        return 2
    except SchemaError as exc:
        print(f"lotse: database schema: {exc}", file=sys.stderr)
        return 2
    except ModelMismatch as exc:
        print(f"lotse: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:  # the database server is down, refuses us, or the file cannot be opened
        reason = (str(exc.orig).strip().splitlines() or ["unknown error"])[0]
        print(f"lotse: the database cannot be used: {reason} — check LOTSE_DATABASE_URL and that the database "
              "server is running", file=sys.stderr)  # fmt: skip
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
