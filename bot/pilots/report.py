"""Report figures of pilots, worked out from the stored feedback: responses, rating distribution and
mean, KPI now vs baseline vs target, time saved per month, ROI and payback — per pilot, and across
pilots for a quarter with ROI over time.

Definitions (the README's "Pilot feedback and ROI" section shows them with an example):

- *now* of a KPI: the mean of its measurements in the report's window.
- *change*: (now − baseline) / baseline; *progress*: (now − baseline) / (target − baseline), the share of
  the way from baseline to target (100 % = target reached, whichever direction is better).
- *time saved*: the mean minutes saved per person and week (a group entry counts once per person in
  it) × the pilot's users × 52/12 weeks per month, in hours.
- *benefit per month*: time saved × hourly rate. *ROI* over the first 12 months:
  (12 × benefit − (one-off + 12 × monthly)) / (one-off + 12 × monthly).
- *payback month*: the first month n with n × benefit ≥ one-off + n × monthly.
- Anonymity: a pilot whose responses include anonymous ones shows figures only from 3 responses on.

About 420 lines since `ruff format` laid out its queries: the figures of one pilot and of a quarter share
their SQL and their rounding rules, and are checked against each other (tests/pilots/test_report.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select

from bot.core.commands import years_in_reach
from bot.pilots.store import cost_in
from bot.storage.db import Database
from bot.storage.models import AnswerFeedbackRow, KpiRow, KpiValueRow, PilotCostRow, PilotFeedbackRow, PilotRow

MIN_ANONYMOUS = 3
BERLIN = ZoneInfo("Europe/Berlin")  # quarters run from midnight to midnight in German time
HORIZON_MONTHS = 12
WEEKS_PER_MONTH = 52 / 12
FEW_FOR_ROI = 5  # fewer people behind the time saved: the ROI is flagged as extrapolated from a handful


@dataclass(frozen=True)
class KpiFigure:
    id: int
    name: str
    unit: str
    direction: str  # lower, higher (is better)
    baseline: float
    target: float
    now: float | None  # mean of the measurements in the window
    measurements: int
    method: str = ""

    @property
    def change_pct(self) -> float | None:
        if self.now is None or self.baseline == 0:
            return None
        return (self.now - self.baseline) / abs(self.baseline) * 100

    @property
    def target_change_pct(self) -> float | None:
        return None if self.baseline == 0 else (self.target - self.baseline) / abs(self.baseline) * 100

    @property
    def progress_pct(self) -> float | None:
        """How much of the way from baseline to target is done (negative: it got worse)."""
        if self.now is None or self.target == self.baseline:
            return None
        return (self.now - self.baseline) / (self.target - self.baseline) * 100

    @property
    def improved(self) -> bool | None:
        if self.now is None:
            return None
        return self.now < self.baseline if self.direction == "lower" else self.now > self.baseline


@dataclass(frozen=True)
class PilotFigures:
    id: int
    name: str
    use_case: str
    owner: str
    start: date
    end: date
    users: int
    one_off_cost: float
    monthly_cost: float
    hourly_rate: float
    responses: int = 0  # entries in the window (a group meeting is one)
    people: int = 0  # people behind them
    anonymous: int = 0
    withheld: bool = False  # anonymous entries and fewer than MIN_ANONYMOUS responses: no figures shown
    ratings: dict[int, int] = field(default_factory=dict)  # 1..5 → count
    minutes_per_week: float | None = None  # per person
    time_basis: int = 0  # the people whose answers give the time saved (a group counts its size)
    kpis: list[KpiFigure] = field(default_factory=list)
    works: list[str] = field(default_factory=list)
    not_working: list[str] = field(default_factory=list)
    cost_history: tuple[tuple[date, float], ...] = ()  # (from month, €/month) when the running cost changed
    roi_so_far: tuple[str, float] | None = None  # ("2026-12", cumulative ROI % from the start to that month)

    @property
    def mean_rating(self) -> float | None:
        count = sum(self.ratings.values())
        return sum(r * n for r, n in self.ratings.items()) / count if count else None

    @property
    def hours_per_month(self) -> float | None:
        if self.minutes_per_week is None:
            return None
        return self.minutes_per_week * (self.users or self.people) * WEEKS_PER_MONTH / 60

    @property
    def benefit_per_month(self) -> float | None:
        hours = self.hours_per_month
        return None if hours is None else hours * self.hourly_rate

    @property
    def cost_horizon(self) -> float:
        return self.one_off_cost + HORIZON_MONTHS * self.monthly_cost

    @property
    def roi_pct(self) -> float | None:
        benefit = self.benefit_per_month
        if benefit is None or self.cost_horizon <= 0:
            return None
        return (HORIZON_MONTHS * benefit - self.cost_horizon) / self.cost_horizon * 100

    @property
    def thin_basis(self) -> bool:
        """The time saved of fewer than `FEW_FOR_ROI` people, extrapolated to all the pilot's users: the
        ROI and payback then stand on a handful of answers and are flagged as such."""
        return self.minutes_per_week is not None and self.time_basis < min(FEW_FOR_ROI, self.users or FEW_FOR_ROI)

    @property
    def payback_month(self) -> int | None:
        """The first month in which the savings so far cover the costs so far; None if they never do."""
        benefit = self.benefit_per_month
        if benefit is None or benefit <= self.monthly_cost:
            return None
        return max(1, math.ceil(self.one_off_cost / (benefit - self.monthly_cost) - 1e-9))


@dataclass(frozen=True)
class AnswerFigures:
    """👍/👎 on Lotse's own answers and the general 1–5 feedback on Lotse, in the window. A rating of an
    answer keeps the answer's text, also after the answer itself was purged or erased (message_id NULL);
    general feedback has none."""

    up: int = 0
    down: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    general: dict[int, int] = field(default_factory=dict)

    @property
    def general_mean(self) -> float | None:
        count = sum(self.general.values())
        return sum(r * n for r, n in self.general.items()) / count if count else None


@dataclass(frozen=True)
class Report:
    title: str  # "2026-Q4", or the pilot's name
    since: datetime | None
    until: datetime | None
    pilots: list[PilotFigures]
    answers: AnswerFigures
    roi_timeline: list[tuple[str, float | None]] = field(default_factory=list)  # "2026-10" → cumulative ROI %


def quarter_window(label: str) -> tuple[datetime, datetime]:
    """ "2026-Q4" → [2026-10-01, 2027-01-01) from midnight to midnight in German time: feedback given at
    00:30 on 1 October in Berlin belongs to Q4, although it is still 30 September in UTC."""
    year, quarter = int(label[:4]), int(label[-1])
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return datetime.combine(start, time(), BERLIN), datetime.combine(end, time(), BERLIN)


QUARTER = re.compile(
    r"^(?:(\d{4})\s*[-/ ]?\s*)?q([1-4])(?:\s*[-/ ]?\s*(\d{4}))?$|^([1-4])\s*/\s*(\d{4})$", re.IGNORECASE | re.ASCII
)


def parse_quarter(text: str, today: date) -> str | None:
    """ "2026-Q4", "2026 Q4", "Q4 2026", "q4" (this year), "4/2026" → "2026-Q4"; None if it is none, or
    if its year is more than `YEARS` from today's (0000-Q1 and 9999-Q4 have no dates to report on)."""
    match = QUARTER.match(text.strip())
    if not match:
        return None
    year_before, quarter, year_after, number, year_of_number = match.groups()
    year = year_of_number or year_before or year_after or str(today.year)
    first, last = years_in_reach(today)
    return f"{year}-Q{number or quarter}" if first <= int(year) <= last else None


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


class Reports:
    def __init__(self, db: Database, clock=None) -> None:
        self.db = db
        self.clock = clock or (lambda: datetime.now(UTC))  # the ROI timeline ends today, not in the future

    def pilot(
        self, pilot_id: int, since: datetime | None = None, until: datetime | None = None, texts: int = 5
    ) -> PilotFigures | None:
        figures = self.pilots([pilot_id], since, until, texts)
        if not figures:
            return None
        now = self.clock()
        timeline = [t for t in self._timeline(figures, min(until or now, now)) if t[1] is not None]
        return replace(figures[0], roi_so_far=timeline[-1]) if timeline and not figures[0].withheld else figures[0]

    def pilots(
        self, ids: list[int], since: datetime | None = None, until: datetime | None = None, texts: int = 0
    ) -> list[PilotFigures]:
        """The figures of several pilots at once (a few queries for all of them)."""
        return self._figures(ids, since, until, texts)

    def quarter(self, scope: str | None, label: str) -> Report:
        """Every pilot running in the quarter or with feedback given in it (after its end, or before a start
        that was moved), with the quarter's feedback, and ROI month by month from the first pilot's start
        to the quarter's end."""
        since, until = quarter_window(label)
        given = select(PilotFeedbackRow.pilot_id).where(*_window(PilotFeedbackRow.created_at, since, until))
        running = and_(PilotRow.start < until.date(), PilotRow.end >= since.date())
        query = select(PilotRow.id).where(or_(running, PilotRow.id.in_(given)))
        if scope is not None:
            query = query.where(PilotRow.scope == scope)
        with self.db.session() as s:
            ids = list(s.scalars(query.order_by(PilotRow.start, PilotRow.id)).all())
        pilots = self._figures(ids, since, until, texts=0)
        timeline = self._timeline(pilots, min(until, self.clock()))
        return Report(label, since, until, pilots, self.answers(since, until, scope), timeline)

    def answers(self, since: datetime | None, until: datetime | None, scope: str | None = None) -> AnswerFigures:
        conditions = _window(AnswerFeedbackRow.created_at, since, until)
        if scope is not None:  # user keys start with the scope (channel:workspace:user)
            conditions.append(AnswerFeedbackRow.user.startswith(f"{scope}:", autoescape=True))
        general = and_(AnswerFeedbackRow.message_id.is_(None), AnswerFeedbackRow.answer.is_(None))
        with self.db.session() as s:
            rows = s.execute(
                select(general, AnswerFeedbackRow.rating, AnswerFeedbackRow.reason, func.count())
                .where(*conditions)
                .group_by(general, AnswerFeedbackRow.rating, AnswerFeedbackRow.reason)
            ).all()
        up = down = 0
        reasons: Counter = Counter()
        general: Counter = Counter()
        for is_general, rating, reason, count in rows:
            if is_general:
                general[rating] += count
            elif rating > 0:
                up += count
            else:
                down += count
                reasons[reason or "none"] += count
        return AnswerFigures(up, down, dict(reasons), dict(sorted(general.items())))

    # -- working it out ------------------------------------------------------------------------

    def _figures(self, ids: list[int], since, until, texts: int) -> list[PilotFigures]:
        if not ids:
            return []
        window = _window(PilotFeedbackRow.created_at, since, until)
        with self.db.session() as s:
            pilots = {p.id: p for p in s.scalars(select(PilotRow).where(PilotRow.id.in_(ids))).all()}
            history: dict[int, list[tuple[date, float]]] = defaultdict(list)
            for pilot_id, valid_from, monthly in s.execute(
                select(PilotCostRow.pilot_id, PilotCostRow.valid_from, PilotCostRow.monthly_cost)
                .where(PilotCostRow.pilot_id.in_(ids))
                .order_by(PilotCostRow.valid_from)
            ):
                history[pilot_id].append((valid_from, monthly))
            groups = s.execute(
                select(
                    PilotFeedbackRow.pilot_id,
                    PilotFeedbackRow.satisfaction,
                    PilotFeedbackRow.anonymous,
                    func.count(),
                    func.sum(PilotFeedbackRow.group_size),
                    func.sum(PilotFeedbackRow.minutes_saved * PilotFeedbackRow.group_size),
                    func.sum(PilotFeedbackRow.group_size).filter(PilotFeedbackRow.minutes_saved.is_not(None)),
                )
                .where(PilotFeedbackRow.pilot_id.in_(ids), *window)
                .group_by(PilotFeedbackRow.pilot_id, PilotFeedbackRow.satisfaction, PilotFeedbackRow.anonymous)
            ).all()
            kpis = s.scalars(select(KpiRow).where(KpiRow.pilot_id.in_(ids)).order_by(KpiRow.position)).all()
            means = dict(
                (kpi_id, (mean, count))
                for kpi_id, mean, count in s.execute(
                    select(KpiValueRow.kpi_id, func.avg(KpiValueRow.value), func.count())
                    .join(PilotFeedbackRow, and_(PilotFeedbackRow.id == KpiValueRow.feedback_id, *window))
                    .where(PilotFeedbackRow.pilot_id.in_(ids))
                    .group_by(KpiValueRow.kpi_id)
                ).all()
            )
            quotes: dict[int, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
            if texts:
                for pilot_id, works, not_working in s.execute(
                    select(PilotFeedbackRow.pilot_id, PilotFeedbackRow.works, PilotFeedbackRow.not_working)
                    .where(PilotFeedbackRow.pilot_id.in_(ids), *window)
                    .where(PilotFeedbackRow.works.is_not(None) | PilotFeedbackRow.not_working.is_not(None))
                    .order_by(PilotFeedbackRow.id.desc())
                    .limit(texts * 4 * len(ids))
                ).all():
                    good, bad = quotes[pilot_id]
                    if works and len(good) < texts:
                        good.append(works)
                    if not_working and len(bad) < texts:
                        bad.append(not_working)
        tally: dict[int, dict] = defaultdict(
            lambda: {"ratings": Counter(), "responses": 0, "people": 0, "anonymous": 0, "minutes": 0.0, "weight": 0}
        )
        for pilot_id, rating, anonymous, count, people, minutes, weight in groups:
            t = tally[pilot_id]
            t["ratings"][rating] += count
            t["responses"] += count
            t["people"] += people or 0
            t["anonymous"] += count if anonymous else 0
            t["minutes"] += minutes or 0.0
            t["weight"] += weight or 0
        kpis_of: dict[int, list[KpiRow]] = defaultdict(list)
        for kpi in kpis:
            kpis_of[kpi.pilot_id].append(kpi)
        out = []
        for pilot_id in ids:
            p, t = pilots[pilot_id], tally[pilot_id]
            base = dict(
                id=p.id,
                name=p.name,
                use_case=p.use_case,
                owner=p.owner,
                start=p.start,
                end=p.end,
                users=p.users,
                one_off_cost=p.one_off_cost,
                monthly_cost=p.monthly_cost,
                hourly_rate=p.hourly_rate,
                cost_history=tuple(history[pilot_id]),
                responses=t["responses"],
                people=t["people"],
                anonymous=t["anonymous"],
            )
            withheld = t["anonymous"] > 0 and t["responses"] < MIN_ANONYMOUS
            kpi_figures = [
                KpiFigure(
                    k.id,
                    k.name,
                    k.unit,
                    k.direction,
                    k.baseline,
                    k.target,
                    None if withheld else means.get(k.id, (None, 0))[0],
                    0 if withheld else means.get(k.id, (None, 0))[1],
                    k.method,
                )
                for k in kpis_of[pilot_id]
            ]
            if withheld:
                out.append(PilotFigures(**base, withheld=True, kpis=kpi_figures))
                continue
            good, bad = quotes[pilot_id]
            out.append(
                PilotFigures(
                    **base,
                    ratings={r: t["ratings"][r] for r in range(1, 6)},
                    minutes_per_week=t["minutes"] / t["weight"] if t["weight"] else None,
                    time_basis=int(t["weight"]),
                    kpis=kpi_figures,
                    works=good,
                    not_working=bad,
                )
            )
        return out

    def _timeline(self, pilots: list[PilotFigures], until: datetime) -> list[tuple[str, float | None]]:
        """Cumulative ROI at the end of each month up to `until`: costs incurred so far (one-off in the
        start month, then monthly while the pilot runs, at the cost that applied in that month) against
        the time saved so far (each month's feedback, or the last month's that had some). Withheld
        pilots count with their costs only."""
        if not pilots:
            return []
        first = min(p.start for p in pilots)
        months = _months(date(first.year, first.month, 1), until.date())
        if self.db.engine.dialect.name == "postgresql":
            month = func.to_char(func.timezone("UTC", PilotFeedbackRow.created_at), "YYYY-MM")
        else:  # SQLite keeps the UTC time as text
            month = func.strftime("%Y-%m", PilotFeedbackRow.created_at)
        with self.db.session() as s:
            rows = s.execute(
                select(
                    PilotFeedbackRow.pilot_id,
                    month,
                    func.sum(PilotFeedbackRow.minutes_saved * PilotFeedbackRow.group_size),
                    func.sum(PilotFeedbackRow.group_size),
                )
                .where(
                    PilotFeedbackRow.pilot_id.in_([p.id for p in pilots if not p.withheld]),
                    PilotFeedbackRow.minutes_saved.is_not(None),
                    PilotFeedbackRow.created_at < _utc(until),
                )
                .group_by(PilotFeedbackRow.pilot_id, month)
            ).all()
        sums = {(pilot_id, key): (minutes or 0.0, size or 0) for pilot_id, key, minutes, size in rows}
        cost = benefit = 0.0
        last: dict[int, float] = {}
        timeline = []
        for month in months:
            for p in pilots:
                running = (p.start.year, p.start.month) <= month <= (p.end.year, p.end.month)
                if not running:
                    continue
                if month == (p.start.year, p.start.month):
                    cost += p.one_off_cost
                cost += cost_in(list(p.cost_history), date(*month, 1), p.monthly_cost)
                cell = sums.get((p.id, f"{month[0]:04d}-{month[1]:02d}"))
                if cell and cell[1]:
                    last[p.id] = cell[0] / cell[1]
                minutes = last.get(p.id)
                if minutes is not None:
                    benefit += minutes * (p.users or p.people) * WEEKS_PER_MONTH / 60 * p.hourly_rate
            timeline.append((f"{month[0]:04d}-{month[1]:02d}", (benefit - cost) / cost * 100 if cost else None))
        return timeline


def _months(first: date, until: date) -> list[tuple[int, int]]:
    out, year, month = [], first.year, first.month
    while date(year, month, 1) < until:
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _window(column, since: datetime | None, until: datetime | None) -> list:
    """Conditions on a timestamp column; the bounds in UTC, as the timestamps are stored."""
    conditions = []
    if since is not None:
        conditions.append(column >= _utc(since))
    if until is not None:
        conditions.append(column < _utc(until))
    return conditions


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment
