"""`lotse plan preview|status`: the 90-day plan's dates and progress."""

from __future__ import annotations

import sys

from bot.app.cli.common import plain
from bot.app.services import Services
from bot.settings import Settings


def cmd_plan(args, settings: Settings) -> int:
    """`lotse plan preview|status`: the plan's dates (configured or not) and its progress."""
    from datetime import date

    from bot.channels.console import render
    from bot.core import i18n
    from bot.reminders.calendar import WEEKDAYS, CalendarError, Schedule, state_code, zone
    from bot.reminders.commands import PlanError, parse_date, parse_time, preview_lines, start_hints
    from bot.reminders.planner import schedule_of

    services = Services(settings)
    reminders = services.reminders
    plans = [p for p in reminders.plans.all() if p.status != "stopped" and (not args.scope or p.scope == args.scope)]
    if args.action == "preview" and (args.start or not plans):
        if not args.start:
            print("lotse plan preview: no plan is configured; give --start YYYY-MM-DD to preview one", file=sys.stderr)
            return 2
        try:  # the same forms and rules as `/plan start` in chat
            start = parse_date(args.start, date.today(), "en")
            if start is None:
                raise CalendarError(f"--start {args.start!r} is not a date like 2027-03-22 or 22.03.2027")
            at = parse_time(args.time)
            if at is None:
                raise CalendarError(f"--time {args.time!r} is not a time like 09:00")
            if 2 <= at.hour < 3:
                raise CalendarError(i18n.text("plan_bad_time", "en"))
            if args.weekday.lower() not in WEEKDAYS:
                raise CalendarError(f"--weekday {args.weekday!r}: use mo, di, mi, do or fr")
            zone(args.tz)
            schedule = Schedule(start, WEEKDAYS[args.weekday.lower()], at, args.tz, state_code(args.state))
        except (ValueError, CalendarError, PlanError) as exc:
            print(f"lotse plan preview: {exc}", file=sys.stderr)
            return 2
        hints = [plain(h) for h in start_hints(schedule, args.lang)]
        print("\n".join([*preview_lines(reminders.spec, schedule, args.lang), *hints]))
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
            print(render(services.plan.handle(message, args.lang)))
    return 0


def add(sub) -> None:
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
