"""`/status` (also `/stand`): what Lotse knows about this team, in one reply — the 90-day plan's week and
tasks done, the latest result of each assessment, and the pilots running today. Slack's App Home shows
the same. Everyone in the team may ask: it shows what `/plan`, `/ergebnis` and `/pilot` show them too.

Issue 21's example of adding a command: this module (its route), one line in `bot/app/routes.py`, its
texts in the locales, and `Lotse.status` for the channels' home views.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

from bot.core import i18n
from bot.core.messages import Reply
from bot.core.ports import Status
from bot.core.routing import Route

WORDS = frozenset({"/status", "/stand"})


class _Results(Protocol):
    def overview(self, scope: str, language: str) -> Reply: ...


class _Plan(Protocol):
    def progress_line(self, scope: str, language: str) -> str | None: ...


class StatusView:
    """`results`: the assessments' results (`Results.overview`); `plan`: the plan's commands
    (`PlanCommands.progress_line`); `pilots`: the pilot store (`PilotStore.pilots`)."""

    def __init__(self, results: _Results, plan: _Plan, pilots, today: Callable[[], date] = date.today) -> None:
        self.results = results
        self.plan = plan
        self.pilots = pilots
        self.today = today

    def route(self) -> Route:
        return Route(
            "status",
            lambda turn, language: self.reply(turn.message.scope, language),
            words=WORDS,
            typed_only=True,
            help="help_status",
            dialog_waits=True,
        )

    def status(self, scope: str, language: str) -> Status:
        plan = self.plan.progress_line(scope, language)
        results = self.results.overview(scope, language)
        today = self.today()
        running = [p for p in self.pilots.pilots(scope) if p.start <= today <= p.end]
        if running:
            names = ", ".join(
                i18n.text("status_pilot", language, name=p.name, end=_day(p.end, language)) for p in running
            )
            pilots = i18n.text("status_pilots", language, count=len(running), pilots=names)
        else:
            pilots = i18n.text("status_no_pilots", language)
        lines = [
            i18n.text("status_title", language),
            plan or i18n.text("status_no_plan", language),
            pilots,
            "",
            results.text,
        ]
        return Status("\n".join(lines), plan, results, pilots)

    def reply(self, scope: str, language: str) -> Reply:
        return Reply(self.status(scope, language).text, language)


def _day(day: date, language: str) -> str:
    return day.strftime("%d.%m.%Y") if language == "de" else day.isoformat()
