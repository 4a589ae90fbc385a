"""`/plan` in chat: start, pause, resume, move or stop the team's 90-day plan (admins), see its progress
and preview, and tick off tasks (everyone in the team). Buttons of a nudge arrive as values
`plan:<plan>:<task>:<action>:<occurrence>` and return the nudge re-rendered with the new state."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core import i18n
from bot.core.clock import read_day
from bot.core.commands import id_number, in_reach, years_in_reach
from bot.core.messages import Incoming, Reply
from bot.core.routing import Route
from bot.reminders.calendar import (
    WEEKDAYS,
    CalendarError,
    Schedule,
    day_label,
    day_name,
    feedback_occurrences,
    quarter_occurrences,
    state_code,
    week_occurrences,
    zone,
)
from bot.reminders.planner import Reminders, schedule_of
from bot.reminders.spec import PlanSpec
from bot.storage.models import PlanRow

SUBCOMMANDS = {
    "status": "status", "stand": "status", "fortschritt": "status", "progress": "status",
    "vorschau": "preview", "preview": "preview", "start": "start", "starten": "start",
    "pause": "pause", "pausieren": "pause", "fortsetzen": "resume", "resume": "resume", "weiter": "resume",
    "stopp": "stop", "stop": "stop", "beenden": "stop", "verschieben": "move", "move": "move",
    "erledigt": "done", "done": "done", "morgen": "tomorrow", "tomorrow": "tomorrow", "later": "tomorrow",
    "montag": "monday", "monday": "monday", "entfällt": "na", "entfaellt": "na", "na": "na", "n/a": "na",
    "offen": "open", "reopen": "open", "hilfe": "help", "help": "help",
}  # fmt: skip
REPLACE = {"ersetzen", "replace"}  # `/plan start … ersetzen`: a running plan is replaced, knowingly
YES = {"ja", "yes"}  # `/plan stopp ja`
ADMIN = ("start", "pause", "resume", "stop", "move")
ENGLISH = {"progress", "preview", "resume", "stop", "move", "done", "tomorrow", "later", "monday", "reopen", "help"}
GERMAN = {"stand", "fortschritt", "vorschau", "starten", "pausieren", "fortsetzen", "weiter", "stopp", "beenden",
          "verschieben", "erledigt", "morgen", "montag", "entfällt", "entfaellt", "offen", "hilfe"}  # fmt: skip
HERE = ("hier", "here")
CHAMPIONS = ("champions", "champions:", "champion", "champion:")


class PlanError(ValueError):
    """Something in a /plan command that cannot work; the text is shown to the user as it is."""


def parse_date(token: str, today: date, language: str = "de") -> date | None:
    """ "2026-12-07", "7.12.2026", "heute" → the date; None if the word is no date. A date more than
    `YEARS` from today is refused with a `PlanError` (the plan's nudges could not be computed)."""
    low = token.lower()
    if low in ("heute", "today"):
        return today
    day = read_day(token)
    if day is not None and not in_reach(day, today):
        first, last = years_in_reach(today)
        raise PlanError(i18n.text("plan_date_out_of_reach", language, word=token, first=first, last=last))
    return day


def parse_time(token: str) -> time | None:
    match = re.fullmatch(r"([01]?\d|2[0-3])[:.]([0-5]\d)(?:uhr)?", token.lower())
    return time(int(match[1]), int(match[2])) if match else None


def address_of(message: Incoming) -> str:
    """Where a proactive message reaches the conversation a command came from (the channel says)."""
    return message.reply_to or message.conversation


class PlanCommands:
    def __init__(self, reminders: Reminders) -> None:
        self.reminders = reminders

    @property
    def spec(self) -> PlanSpec:
        return self.reminders.spec

    def routes(self) -> list[Route]:
        """A nudge's buttons (done, tomorrow, …) and `/plan …`; both answer in the conversation's language
        (a date or a code tells nothing about it); who may change the plan is decided per subcommand."""
        return [
            Route(
                "plan-button",
                lambda turn, language: self.button(turn.message, language),
                button="plan:",
                language="conversation",
            ),
            Route(
                "plan",
                lambda turn, language: self.handle(turn.message, language),
                words=frozenset({"/plan"}),
                language="conversation",
                help="help_plan",
                dialog_waits=True,
            ),
        ]

    def handle(self, message: Incoming, language: str) -> Reply:
        """`language` is the conversation's; a subcommand that is plainly English or German overrides it
        (dates and codes say nothing about the language)."""
        words = message.text.split()[1:]
        first = words[0].lower() if words else ""
        language = "en" if first in ENGLISH else "de" if first in GERMAN else language
        sub = SUBCOMMANDS.get(words[0].lower()) if words else "status"
        if sub is None:
            return Reply(i18n.text("plan_unknown", language, word=words[0]), language, answered=False)
        if sub in ADMIN and not message.admin:
            return Reply(i18n.text("admin_only", language), language, answered=False)
        try:
            if sub == "help":
                return Reply(i18n.text("plan_help", language), language)
            if sub == "start":
                return self.start(message, words[1:], language)
            if sub == "preview":
                return self.preview(message, words[1:], language)
            plan = self.reminders.plans.current(message.scope)
            if plan is None:  # what the plan is, and how to start it
                overview = "\n".join(
                    i18n.text("plan_preview_week", language, week=w.week, title=w.title.get(language))
                    for w in self.spec.weeks
                )
                return Reply(f"{i18n.text('plan_none', language)}\n\n{overview}", language, answered=False)
            if sub == "status":
                return self.status(plan, language)
            if sub in ("done", "tomorrow", "monday", "na", "open"):
                return self.task(plan, message, words[1:], sub, language)
            return self.change(plan, message, sub, words[1:], language)
        except (PlanError, CalendarError) as exc:
            return Reply(i18n.text("plan_error", language, problem=str(exc)), language, answered=False)

    # -- set-up ------------------------------------------------------------------------------------

    def _settings(self, words: list[str], language: str, base: Schedule, message: Incoming | None):
        """(schedule, targets) from the words of `/plan start` or `/plan vorschau`."""
        start, weekday, at, tz, state = base.start, base.weekday, base.at, base.tz, base.state
        targets: list[tuple[str, str, str]] = []
        role = "team"
        for word in words:
            low = word.lower().rstrip(",")
            if (day := parse_date(low, base.start, language)) is not None:
                start = day
            elif (clock := parse_time(low)) is not None:
                at = clock
            elif low in WEEKDAYS:
                weekday = WEEKDAYS[low]
            elif "/" in word or word.upper() == "UTC":
                zone(word)
                tz = word
            elif low in CHAMPIONS:
                role = "champion"
            elif message is not None and low in HERE:
                targets.append((message.channel, address_of(message), role))
            elif message is not None and (mention := word.rstrip(",")) in message.mentions:  # resolved by the channel
                targets.append((message.channel, message.mentions[mention], role))
            else:
                try:
                    state = state_code(word)
                except CalendarError:
                    raise PlanError(i18n.text("plan_bad_word", language, word=word)) from None
        if 2 <= at.hour < 3:
            raise PlanError(i18n.text("plan_bad_time", language))
        return Schedule(start, weekday, at, tz, state), targets

    def start(self, message: Incoming, words: list[str], language: str) -> Reply:
        now = self.reminders.clock()
        replacing = [w for w in words if w.lower() in REPLACE]
        words = [w for w in words if w.lower() not in REPLACE]
        schedule, targets = self._settings(words, language, Schedule(self._today()), message)  # errors first
        running = self.reminders.plans.current(message.scope)
        if running is not None and not replacing:  # a second start would end the running plan: say so, ask
            command = " ".join(["/plan start", *words, "ersetzen" if language == "de" else "replace"])
            first = schedule_of(running).first_week()  # as `/plan` says it: the first reminder day, "startet erst"
            upcoming = first > self._today() and running.status == "active"
            status = i18n.text("plan_state_upcoming" if upcoming else f"plan_state_{running.status}", language)
            text = i18n.text("plan_start_replaces", language, start=day_label(first, language), status=status,
                             command=command)  # fmt: skip
            return Reply(text, language, answered=False)
        viewed = None
        if not any(role == "team" for _, _, role in targets):
            viewed = message.viewing  # started from Slack's assistant panel: the channel the user looks at
            targets.insert(0, (message.channel, viewed or address_of(message), "team"))
        first = week_occurrences(schedule, 1)[0]
        # a plan that starts in the past sends the current week's nudge now; earlier weeks are summarised in it
        active_from = min(now, datetime.combine(schedule.start, time(0), tzinfo=zone(schedule.tz)))
        self.reminders.plans.create(
            message.scope,
            schedule.start,
            schedule.weekday,
            schedule.at.strftime("%H:%M"),
            schedule.tz,
            schedule.state,
            language,
            message.user_key,
            [(c, a, r, None) for c, a, r in targets],
            now,
            active_from,
        )
        where = ", ".join(_target_label(c, a, r, language) for c, a, r in targets)
        text = i18n.text(
            "plan_started",
            language,
            day=day_label(first.day, language),
            weekday=_weekday(schedule, language),
            at=schedule.at.strftime("%H:%M"),
            tz=schedule.tz,
            state=schedule.state or "–",
            targets=where,
        )
        viewing = []
        if viewed:
            label = _target_label(message.channel, viewed, "team", language)
            viewing.append(i18n.text("plan_target_viewing", language, target=label))
        text = "\n".join([text, *viewing, *start_hints(schedule, language)])
        return Reply(text + "\n\n" + self._preview(schedule, language), language)

    def change(self, plan: PlanRow, message: Incoming, sub: str, words: list[str], language: str) -> Reply:
        now = self.reminders.clock()
        if sub == "pause":
            if plan.status == "paused":
                return Reply(i18n.text("plan_already_paused", language), language)
            self.reminders.plans.change(plan.id, now, by=message.user_key, status="paused")
            return Reply(i18n.text("plan_paused", language), language)
        if sub == "resume":  # no replay: what fell due during the pause is not sent
            self.reminders.plans.change(plan.id, now, by=message.user_key, status="active", active_from=now)
            return Reply(i18n.text("plan_resumed", language), language)
        if sub == "stop":
            if not any(w.lower() in YES for w in words):  # it cannot be undone: asked first
                command = "/plan stopp ja" if language == "de" else "/plan stop yes"
                return Reply(i18n.text("plan_stop_confirm", language, command=command), language, answered=False)
            self.reminders.plans.change(plan.id, now, by=message.user_key, status="stopped")
            return Reply(i18n.text("plan_stopped", language), language)
        day = next((d for w in words if (d := parse_date(w, now.date(), language)) is not None), None)
        if day is None:
            return Reply(i18n.text("plan_move_needs_date", language), language, answered=False)
        active_from = min(now, datetime.combine(day, time(0), tzinfo=zone(plan.tz)))
        plan = self.reminders.plans.change(plan.id, now, by=message.user_key, start=day, active_from=active_from)
        # a task snoozed to a day before the new start comes back with the first nudge, not a week early
        self.reminders.plans.snoozed_not_before(plan.id, week_occurrences(schedule_of(plan), 1)[0].day)
        return Reply(i18n.text("plan_moved", language) + "\n\n" + self._preview(schedule_of(plan), language), language)

    # -- looking ------------------------------------------------------------------------------------

    def preview(self, message: Incoming, words: list[str], language: str) -> Reply:
        plan = self.reminders.plans.current(message.scope)
        if plan is not None and not words:
            return Reply(self._preview(schedule_of(plan), language), language)
        schedule, _ = self._settings(words, language, Schedule(self._today()), None)
        return Reply("\n".join([self._preview(schedule, language), *start_hints(schedule, language)]), language)

    def _today(self) -> date:
        """Today where the plan's default zone is (a date given in a command means that calendar)."""
        return self.reminders.clock().astimezone(zone(Schedule.tz)).date()

    def _preview(self, schedule: Schedule, language: str) -> str:
        return "\n".join(preview_lines(self.spec, schedule, language))

    def status(self, plan: PlanRow, language: str) -> Reply:
        reminders = self.reminders
        now = reminders.clock()
        today = now.astimezone(ZoneInfo(plan.tz)).date()
        schedule = schedule_of(plan)
        tasks = reminders.plans.tasks(plan.id)
        progress = reminders.progress(plan, tasks, today)
        first = schedule.first_week()  # a start that is no reminder day: the weeks begin on the next one
        future = first > today and plan.status != "stopped"
        lines = [
            i18n.text(
                f"plan_status_{plan.status}" + ("_future" if future else ""),
                language,
                start=(first if future else plan.start).isoformat(),
                at=plan.at,
                weekday=_weekday(schedule, language),
                tz=plan.tz,
                state=plan.state or "–",
            )
        ]
        upcoming = [  # the team's nudges (the knowledge owners' digest is theirs)
            o
            for o in reminders.occurrences(plan, None, today + timedelta(days=120))
            if o.due_at > now and o.kind != "gaps"
        ]
        if upcoming and plan.status == "active":
            nxt = min(upcoming, key=lambda o: o.due_at)
            lines.append(
                i18n.text(
                    "plan_next",
                    language,
                    day=day_label(nxt.day, language),
                    at=plan.at,
                    what=_what(self.spec, nxt, language),
                )
            )
        failed, last_error = reminders.log.failures(plan.id)
        if failed:
            lines.append(i18n.text("plan_failed", language, count=failed, error=last_error))
        week = max(progress.week, 1)
        reply = reminders.nudge(plan, f"W{week:02d}", tasks, now, last_week=week - 1, shown=True, language=language)
        if progress.week < 1:  # not begun: the week shown is what comes, not where the team stands
            lines.append(i18n.text("plan_first_week_preview", language, day=day_label(first, language)))
        heading = "\n".join(lines)
        return Reply(
            f"{heading}\n\n{reply.text}", language, tasks=reply.tasks, footer=progress.line(language), mode="nudge"
        )

    def progress_line(self, scope: str, language: str) -> str | None:
        """ "90-Tage-Plan: Woche 3 von 12 · 7/10 Aufgaben erledigt" for a running plan (Slack's App Home)."""
        plan = self.reminders.plans.current(scope)
        if plan is None:
            return None
        return f"{i18n.text('plan_title', language)}: {self.reminders.progress(plan).line(language)}"

    # -- tasks ---------------------------------------------------------------------------------------

    def task(self, plan: PlanRow, message: Incoming, words: list[str], action: str, language: str) -> Reply:
        if not words or words[0] not in self.spec.tasks:
            return Reply(
                i18n.text("plan_unknown_task", language, task=words[0] if words else "–"), language, answered=False
            )
        state = self.reminders.set_task(plan, words[0], action, message.user_key)
        progress = self.reminders.progress(plan)
        text = i18n.text(f"plan_task_{state}", language, task=words[0])
        return Reply(text, language, footer=progress.line(language))

    def button(self, message: Incoming, language: str) -> Reply:
        """A nudge's button: the task's new state, and the nudge re-rendered for the channel to show in
        place of the old one."""
        parts = (message.value or "").split(":", 4)
        _, plan_id, task, action, occurrence = parts if len(parts) == 5 else ("", "", "", "", "")
        plan_id = id_number(plan_id)
        plan = self.reminders.plans.get(plan_id) if plan_id is not None else None
        if (
            plan is None
            or plan.status == "stopped"
            or plan.scope != message.scope
            or task not in self.spec.tasks
            or action not in ("done", "tomorrow", "monday", "na", "open")
            or not self._occurrence(occurrence)  # checked before anything is written
        ):
            return Reply(i18n.text("plan_button_stale", language), language, answered=False)
        self.reminders.set_task(plan, task, action, message.user_key)
        week = int(occurrence[1:]) if occurrence.startswith("W") else None
        last_week = week - 1 if week else None
        return self.reminders.nudge(plan, occurrence, last_week=last_week, shown=True)

    def _occurrence(self, key: str) -> bool:
        """Whether a button's occurrence is one a nudge of this plan can have: W01…W12, F<week> of a
        feedback week, S<date> of a snooze, <year>-Q<n> of a quarterly review (years within reach)."""
        today = self._today()
        if (week := re.fullmatch(r"([WF])([0-9]{2})", key)) is not None:
            n = int(week[2])
            return 1 <= n <= self.spec.length if week[1] == "W" else n in self.spec.feedback.weeks
        if (quarter := re.fullmatch(r"([0-9]{4})-Q[1-4]", key)) is not None:
            first, last = years_in_reach(today)
            return first <= int(quarter[1]) <= last
        if re.fullmatch(r"S[0-9]{4}-[0-9]{2}-[0-9]{2}", key):
            try:
                return in_reach(date.fromisoformat(key[1:]), today)
            except ValueError:
                return False
        return False


def preview_lines(spec: PlanSpec, schedule: Schedule, language: str) -> list[str]:
    """The next nudges with their real dates: the 12 weeks, the pilot-feedback reminders and the
    quarterly reviews up to three months after the last week; holiday shifts marked."""
    weeks = week_occurrences(schedule, spec.length)
    items = weeks + feedback_occurrences(schedule, spec.feedback.weeks, spec.feedback.days_after_nudge)
    items += quarter_occurrences(schedule, weeks[-1].day + timedelta(days=92))
    lines = [
        i18n.text(
            "plan_preview_heading",
            language,
            weekday=_weekday(schedule, language),
            at=schedule.at.strftime("%H:%M"),
            tz=schedule.tz,
            state=schedule.state or "–",
        )
    ]
    for o in sorted(items, key=lambda o: (o.day, o.kind != "week")):
        line = f"{o.day.isoformat()} {day_name(o.day, language)} {schedule.at.strftime('%H:%M')}  "
        line += _what(spec, o, language)
        if o.reason:
            line += "  " + i18n.text("plan_preview_shifted", language, reason=o.reason, day=o.nominal.isoformat())
        lines.append(line)
    return lines


def _what(spec: PlanSpec, o, language: str) -> str:
    if o.kind == "week":
        return i18n.text("plan_preview_week", language, week=o.number, title=spec.week(o.number).title.get(language))
    if o.kind == "feedback":
        return i18n.text("plan_preview_feedback", language, week=o.number)
    if o.kind == "quarter":
        return i18n.text("plan_preview_quarter", language, quarter=o.key)
    return i18n.text("plan_preview_snooze", language)


def _weekday(schedule: Schedule, language: str) -> str:
    return i18n.text("plan_weekdays", language)[schedule.weekday]


def _target_label(channel: str, address: str, role: str, language: str) -> str:
    label = {"slack": f"<#{address}>" if address[:1] in "CG" else f"<@{address}>"}.get(
        channel, i18n.text("plan_here", language)
    )
    return label + (" " + i18n.text("plan_champions", language) if role == "champion" else "")


def start_hints(schedule: Schedule, language: str) -> list[str]:
    """What to know about a start date, where a plan is started or previewed: a first week between the years
    or in Easter week, and a start that is no reminder day (the weeks begin on the next one)."""
    hints = []
    if hint := _season_hint(schedule.first_week(), language):
        hints.append(hint)
    if schedule.start.weekday() != schedule.weekday:
        hints.append(i18n.text("plan_start_moved", language, given=day_label(schedule.start, language),
                               first=day_label(schedule.first_week(), language)))  # fmt: skip
    return hints


def _season_hint(first: date, language: str) -> str | None:
    """A plan whose first week falls between the years or into Easter week starts while many are away:
    said, with the Monday after as the alternative (python-dateutil, which `holidays` brings, knows Easter)."""
    from dateutil.easter import easter

    if (first.month == 12 and first.day >= 20) or (first.month == 1 and first.day <= 6):
        after = date(first.year + (first.month == 12), 1, 7)
        key = "plan_start_new_year"
    else:
        sunday = easter(first.year)
        if not sunday - timedelta(days=7) <= first <= sunday + timedelta(days=1):
            return None
        after = sunday + timedelta(days=2)  # the Monday after Easter Monday (a holiday itself)
        key = "plan_start_easter"
    monday = after + timedelta(days=(7 - after.weekday()) % 7)
    return i18n.text(key, language, monday=monday.isoformat())
