"""The reminder service of the core: which nudges are due now, and each nudge as a channel-neutral
reply (a week's tasks with buttons, the quarterly review, the pilot-feedback reminder, snoozed tasks
coming back). Channel-neutral: senders for Slack, Teams and the terminal deliver the replies."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core import i18n
from bot.core.messages import Choice, Reply, Task
from bot.register.view import review_lines
from bot.reminders.calendar import (
    Calendar,
    Occurrence,
    Schedule,
    day_label,
    digest_occurrences,
    feedback_occurrences,
    quarter_occurrences,
    snooze_day,
    snooze_occurrence,
    week_occurrences,
)
from bot.reminders.spec import PlanSpec
from bot.reminders.store import Claimed, Due, NudgeLog, PlanStore, as_utc
from bot.storage.db import Database
from bot.storage.models import PlanRow, PlanTargetRow, PlanTaskRow

log = logging.getLogger(__name__)

TASK_ACTIONS = ("done", "tomorrow", "monday", "na")
DIGEST_WEEK = timedelta(days=7)  # the knowledge gaps a weekly digest lists: asked since a week before it


def now_utc() -> datetime:
    return datetime.now(UTC)


def schedule_of(plan: PlanRow) -> Schedule:
    hour, minute = (int(x) for x in plan.at.split(":"))
    return Schedule(plan.start, plan.weekday, time(hour, minute), plan.tz, plan.state)


@dataclass(frozen=True)
class Progress:
    week: int  # the current week (0 before the first nudge day; capped at the plan's length)
    weeks: int
    done: int
    total: int  # tasks of the weeks so far, without those marked not applicable

    def line(self, language: str) -> str:
        if self.week < 1:  # before its first nudge day: no week of it has begun
            return i18n.text("plan_progress_before", language, weeks=self.weeks)
        return i18n.text("plan_progress", language, week=self.week, weeks=self.weeks, done=self.done, total=self.total)


class Reminders:
    def __init__(self, db: Database, spec: PlanSpec, clock: Callable[[], datetime] = now_utc) -> None:
        self.db = db
        self.spec = spec
        self.clock = clock
        self.plans = PlanStore(db)
        self.log = NudgeLog(db)
        # the knowledge owners' weekly digest (issue 25), set by the app: (language, since) → the reply, or
        # None when nothing new was asked that week (then nothing is sent)
        self.digest: Callable[[str, datetime], Reply | None] | None = None
        # askers told that their question has an answer now (issue 25), set by the app: (now, channels) →
        # (channel, address, reply) each, claimed so that no other process sends them
        self.notices: Callable[[datetime, list[str]], list[tuple[str, str, Reply]]] | None = None

    # -- what is due ---------------------------------------------------------------------------------

    def occurrences(self, plan: PlanRow, tz: str | None, until: date) -> list[Occurrence]:
        schedule = schedule_of(plan)
        spec = self.spec
        result = week_occurrences(schedule, spec.length, tz)
        result += feedback_occurrences(schedule, spec.feedback.weeks, spec.feedback.days_after_nudge, tz)
        result += quarter_occurrences(schedule, until, tz)
        result += [snooze_occurrence(schedule, day, tz) for day in self.plans.snooze_days(plan.id) if day]
        if self.digest is not None:
            result += digest_occurrences(schedule, until, tz)
        return result

    def due(self, now: datetime, channels: Iterable[str]) -> list[Due]:
        """Nudges due at `now` that are not in the log yet. Per series (weeks and pilot feedback,
        quarters, snoozes) only the latest occurrence that fell due counts, and only while it is fresh
        (within its window): after downtime the missed nudge goes out once, late, and older ones are not
        flooded — their open tasks are carried into it. Nothing due before the plan (re)started counts.
        A plan whose nudges cannot be worked out (a date beyond what the calendar can compute) is logged
        and skipped: it must not stop the nudges of every other team."""
        channels = list(channels)
        found: list[Due] = []
        for plan in self.plans.running():
            targets = self.plans.targets(plan.id, channels)
            if not targets:
                continue
            try:
                candidates = self._candidates(plan, targets, now)
            except (ArithmeticError, ValueError):
                log.exception("plan %s (%s): its nudges cannot be worked out; skipped", plan.id, plan.scope)
                continue
            if not candidates:
                continue
            recorded = self.log.recorded(plan.id, {o.key for _, o in candidates})
            found += [
                Due(plan.id, t.id, t.channel, o.key, o.kind, o.due_at)
                for t, o in candidates
                if (t.id, o.key) not in recorded
            ]
        return found

    def _candidates(self, plan: PlanRow, targets: list[PlanTargetRow], now: datetime):
        """(target, occurrence) for each nudge of `plan` that is due at `now` and still fresh."""
        champions = [t for t in targets if t.role == "champion"]
        team = [t for t in targets if t.role == "team"]
        owners = [t for t in targets if t.role == "owner"]  # knowledge owners' direct chats: the digest only
        active_from = as_utc(plan.active_from)
        candidates: list[tuple[PlanTargetRow, Occurrence]] = []
        for tz in {t.tz or plan.tz for t in targets}:
            current: dict[str, Occurrence] = {}
            for o in self.occurrences(plan, tz, (now + timedelta(days=1)).date()):
                if o.due_at <= now and (o.kind not in current or o.due_at >= current[o.kind].due_at):
                    current[o.kind] = o
            for o in current.values():
                if o.due_at < active_from or now - o.due_at > o.window:
                    continue
                if o.kind == "gaps" and (not owners or self.digest(plan.language, o.due_at - DIGEST_WEEK) is None):
                    continue  # no owner asked for it, or nothing new was asked that week
                receivers = (champions or team) if o.kind == "feedback" else owners if o.kind == "gaps" else team
                candidates += [(t, o) for t in receivers if (t.tz or plan.tz) == tz]
        return candidates

    def plan_due(self, now: datetime, channels: Iterable[str]) -> int:
        """Record what is due (idempotent: any number of processes may run this at the same time)."""
        return self.log.record(self.due(now, channels))

    # -- the messages --------------------------------------------------------------------------------

    def compose(self, items: list[Claimed], now: datetime) -> list[tuple[Claimed, PlanTargetRow | None, Reply | None]]:
        """The reply for each claimed nudge (None where its plan or target is gone)."""
        out = []
        for plan_id in dict.fromkeys(c.plan_id for c in items):
            plan = self.plans.get(plan_id)
            mine = [c for c in items if c.plan_id == plan_id]
            if plan is None:
                out += [(c, None, None) for c in mine]
                continue
            tasks = self.plans.tasks(plan_id)
            last_week = self.log.last_sent_week(plan_id, {c.target_id for c in mine if c.kind == "week"})
            targets = self.plans.targets_by_id({c.target_id for c in mine})
            replies: dict[tuple, Reply] = {}  # thousands of targets share a handful of distinct messages
            for c in mine:
                target = targets.get(c.target_id)
                if target is None:
                    out.append((c, None, None))
                    continue
                key = (c.occurrence, target.tz, last_week.get(c.target_id))
                if key not in replies:
                    replies[key] = self.nudge(plan, c.occurrence, tasks, now, key[2], target.tz)
                out.append((c, target, replies[key]))
        return out

    def nudge(
        self,
        plan: PlanRow,
        occurrence: str,
        tasks: dict[str, PlanTaskRow] | None = None,
        now: datetime | None = None,
        last_week: int | None = None,
        tz: str | None = None,
        shown: bool = False,
        language: str | None = None,
    ) -> Reply:
        """A nudge as a reply, in the plan's language unless `language` says (`/plan` asked in English).
        `shown` re-renders one already sent (after a button click): carried tasks changed since it went
        out stay in the list, with their new state."""
        now = now or self.clock()
        tasks = self.plans.tasks(plan.id) if tasks is None else tasks
        language = language or plan.language
        today = now.astimezone(ZoneInfo(tz or plan.tz)).date()
        if occurrence.startswith("W"):
            return self._week_nudge(plan, int(occurrence[1:]), tasks, today, last_week, tz, shown, language)
        if occurrence.startswith("F"):
            f = self.spec.feedback
            text = f"*{f.title.get(language)}*\n{f.text.get(language)}\n{i18n.text('plan_feedback_how', language)}"
            return Reply(text, language, mode="nudge", footer=self.progress(plan, tasks, today).line(language))
        if occurrence.startswith("G") and self.digest is not None:  # the knowledge owners' weekly digest
            due = datetime.combine(date.fromisoformat(occurrence[1:]), time(0), ZoneInfo(tz or plan.tz))
            return self.digest(language, due - DIGEST_WEEK) or Reply(i18n.text("gaps_none", language), language)
        if occurrence.startswith("S"):
            day = date.fromisoformat(occurrence[1:])
            back = [
                self._task(plan, task_id, tasks, today, occurrence, language=language)
                for task_id in self.spec.tasks
                if (row := tasks.get(task_id)) and row.snoozed_until == day and (row.status == "snoozed" or shown)
            ]
            text = i18n.text("plan_snoozed_back", language)
            footer = self.progress(plan, tasks, today).line(language)
            return Reply(text, language, mode="nudge", tasks=back, footer=footer)
        q = self.spec.quarterly
        commands = ", ".join(f"`/check {a}`" for a in q.assessments)
        text = f"*{q.title.get(language)} · {occurrence}*\n{q.text.get(language)}\n" + i18n.text(
            "plan_quarter_how", language, commands=commands
        )
        reviews = review_lines(self.db, occurrence, language, today)  # the AI register's reviews due this quarter
        return Reply("\n\n".join([text, "\n".join(reviews)]) if reviews else text, language, mode="nudge")

    def _week_nudge(
        self, plan, n: int, tasks, today: date, last_week: int | None, tz: str | None, shown: bool, language: str
    ) -> Reply:
        week = self.spec.week(n)
        occurrence = f"W{n:02d}"
        lines = [
            f"*{i18n.text('plan_week_heading', language, week=n, weeks=self.spec.length)} · "
            f"{week.phase.get(language)}*",
            f"*{week.title.get(language)}*",
        ]
        shifted = next((o for o in week_occurrences(schedule_of(plan), n, tz) if o.number == n), None)
        if shifted and shifted.reason:
            lines.append(
                i18n.text("plan_shifted", language, reason=shifted.reason, day=day_label(shifted.day, language))
            )
        lines.append(i18n.text("plan_done_means", language, done=week.done.get(language)))
        if week.action:
            lines.append(_action_hint(week.action, language))
        items = [self._task(plan, t.id, tasks, today, occurrence, language=language) for t in week.tasks]
        # open tasks of earlier weeks come along once: those of the previous week, and of any weeks whose
        # nudge was missed since the last one sent
        if last_week is not None and last_week >= n:
            last_week = n - 1
        first = 1 if last_week is None else last_week
        sent_on = shifted.day if shifted else today
        carried = [
            self._task(plan, task_id, tasks, today, occurrence, carried_from=w, language=language)
            for task_id, (w, _) in self.spec.tasks.items()
            if first <= w < n
            and (
                _state(tasks.get(task_id), today) == "open"
                or shown
                and (row := tasks.get(task_id)) is not None
                and as_utc(row.updated_at).date() >= sent_on
            )
        ]
        if carried:
            if first < n - 1:
                lines.append(i18n.text("plan_missed", language, first=first, last=n - 1))
            else:
                lines.append(i18n.text("plan_carried", language))
        progress = self.progress(plan, tasks, today, at_least=n)
        return Reply("\n".join(lines), language, mode="nudge", tasks=items + carried, footer=progress.line(language))

    def _task(
        self,
        plan,
        task_id: str,
        tasks,
        today: date,
        occurrence: str,
        carried_from: int | None = None,
        language: str | None = None,
    ) -> Task:
        language = language or plan.language
        _, spec = self.spec.tasks[task_id]
        row = tasks.get(task_id)
        state = _state(row, today)
        note = i18n.text("plan_from_week", language, week=carried_from) if carried_from else ""
        if state == "snoozed":
            note = i18n.text("plan_snoozed_until", language, day=day_label(row.snoozed_until, language))
        actions = []
        if state in ("open", "snoozed"):
            actions = [
                Choice(f"plan:{plan.id}:{task_id}:{a}:{occurrence}", i18n.text(f"plan_action_{a}", language))
                for a in TASK_ACTIONS
            ]
        return Task(task_id, spec.text(language), state, note, actions)

    def progress(
        self, plan: PlanRow, tasks: dict[str, PlanTaskRow] | None = None, today: date | None = None, at_least: int = 0
    ) -> Progress:
        tasks = self.plans.tasks(plan.id) if tasks is None else tasks
        today = today or self.clock().astimezone(ZoneInfo(plan.tz)).date()
        weeks = week_occurrences(schedule_of(plan), self.spec.length)
        current = max([o.number for o in weeks if o.day <= today] + [at_least, 0])
        current = min(current, self.spec.length)
        relevant = [t for t, (w, _) in self.spec.tasks.items() if w <= max(current, 1)]
        states = [_state(tasks.get(t), today) for t in relevant]
        return Progress(current, self.spec.length, states.count("done"), len(states) - states.count("na"))

    # -- changes from chat -----------------------------------------------------------------------------

    def set_task(self, plan: PlanRow, task_id: str, action: str, by: str, now: datetime | None = None) -> str:
        """Apply done / tomorrow / monday / na (or reopen) to a task; returns its new state."""
        now = now or self.clock()
        today = now.astimezone(ZoneInfo(plan.tz)).date()
        if action in ("tomorrow", "monday"):
            day = snooze_day(Calendar(plan.state), today, action)
            first = week_occurrences(schedule_of(plan), 1)[0].day
            day = max(day, first)  # a plan that has not begun: back with its first nudge, not before
            self.plans.set_task(plan.id, task_id, "snoozed", by, now, day)
            return "snoozed"
        status = {"done": "done", "na": "na", "open": "open"}[action]
        self.plans.set_task(plan.id, task_id, status, by, now)
        return status


def _state(row: PlanTaskRow | None, today: date) -> str:
    if row is None or row.status == "open":
        return "open"
    if row.status == "snoozed":
        return "snoozed" if row.snoozed_until and row.snoozed_until > today else "open"
    return row.status


def _action_hint(action, language: str) -> str:
    if action.kind == "assessment":
        return i18n.text("plan_action_assessment", language, id=action.id)
    return i18n.text(f"plan_action_hint_{action.kind}", language)
