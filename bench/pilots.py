"""Quarterly ROI report: N pilots × M feedback responses (3 KPIs each, measurements on every entry),
rendered as the chat and Markdown text plus its three PNG charts, on SQLite or PostgreSQL.

    python -m bench.pilots [--pilots 50] [--responses 1000] [--runs 5]
                           [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

The responses are spread over 2026-Q3 and 2026-Q4 (the report covers 2026-Q4: about half of them,
plus the ROI timeline from the first pilot's start); 10 % are anonymous, every 50th is a group meeting.
Each run times the whole path a `/pilot bericht quartal 2026-Q4` takes: the figures from the database
(`Reports.quarter`), the three charts (`charts.render_quarter`) and the text (`quarter_text`,
`quarter_markdown`), after matplotlib is loaded as `lotse serve` loads it at start (its import is
timed on its own). Also timed: one pilot's report with its two charts, and the XLSX and CSV exports
of every response. Target (issue 7): the quarterly report with its charts in ≤ 2 s.

With `--database-url` a throwaway database `lotse_bench_pilots` is created on that server (127.0.0.1
only) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from bot.pilots import charts, export
from bot.pilots.report import Reports
from bot.pilots.store import Kpi, PilotStore
from bot.pilots.texts import pilot_text, quarter_markdown, quarter_text
from bot.storage.db import Database
from bot.storage.models import KpiRow, KpiValueRow, PilotFeedbackRow

BENCH_DB = "lotse_bench_pilots"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
QUARTER = "2026-Q4"
FIRST = datetime(2026, 7, 1, tzinfo=UTC)
SPAN = (datetime(2026, 12, 31, tzinfo=UTC) - FIRST).total_seconds()


def create_database(url: str) -> tuple[str, str]:
    import psycopg

    parsed = make_url(url)
    if parsed.host not in LOOPBACK:
        raise SystemExit(f"only a database on 127.0.0.1 may be used (got host {parsed.host!r})")
    admin_dsn = parsed.set(drivername="postgresql", database=parsed.database or "postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {BENCH_DB}")
    return parsed.set(database=BENCH_DB).render_as_string(hide_password=False), admin_dsn


def fill(db: Database, pilots: int, responses: int, seed: int = 7) -> int:
    """The pilots with three KPIs each, and their responses with a measurement per KPI; returns the id of
    the first pilot."""
    rng = random.Random(seed)
    store = PilotStore(db, b"b" * 32)
    first = None
    for n in range(pilots):
        start = date(2026, 6 + n % 4, 1)
        kpis = [
            Kpi(f"Suchzeit {n}", "min", "lower", 15.0, 3.0, method="Stichprobe 20 Suchen"),
            Kpi(f"Erstlösungsquote {n}", "%", "higher", 40.0, 60.0),
            Kpi(f"Fehlerquote {n}", "%", "lower", 8.0, 4.0),
        ]
        pilot = store.create(
            f"bench:{n % 3}",
            f"Pilot {n:02d}",
            "bench",
            start=start,
            end=date(2027, 3, 31),
            users=rng.randint(10, 60),
            anonymous=n % 2 == 0,
            one_off_cost=rng.choice([0, 5000, 20000]),
            monthly_cost=rng.choice([200, 500, 1500]),
            hourly_rate=55.0,
            kpis=kpis,
        )
        first = first or pilot.id
        with db.session() as s:
            kpi_ids = list(s.scalars(select(KpiRow.id).where(KpiRow.pilot_id == pilot.id).order_by(KpiRow.position)))
            rows = []
            for i in range(responses):
                at = FIRST + timedelta(seconds=rng.random() * SPAN)
                rows.append(
                    {
                        "pilot_id": pilot.id,
                        "author_key": f"{rng.randrange(10**12):064x}",
                        "author": None if i % 10 == 0 else f"U{i:05d}",
                        "anonymous": i % 10 == 0,
                        "group_size": 6 if i % 50 == 0 else 1,
                        "satisfaction": rng.choice([2, 3, 4, 4, 5, 5]),
                        "minutes_saved": rng.choice([0, 15, 30, 45, 60, 90, 120]),
                        "works": "Findet Verträge schnell" if i % 7 == 0 else None,
                        "not_working": "Excel-Anhänge fehlen" if i % 9 == 0 else None,
                        "comment": None,
                        "language": "de",
                        "created_at": at,
                        "updated_at": at,
                    }
                )
            ids = s.execute(insert(PilotFeedbackRow).returning(PilotFeedbackRow.id), rows).scalars().all()
            values = [
                {"feedback_id": fid, "kpi_id": kid, "value": rng.uniform(2, 16) if k != 1 else rng.uniform(35, 65)}
                for fid in ids
                for k, kid in enumerate(kpi_ids)
            ]
            s.execute(insert(KpiValueRow), values)
    return first


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pilots", type=int, default=50)
    parser.add_argument("--responses", type=int, default=1000, help="responses per pilot")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", help="PostgreSQL on 127.0.0.1 (default: SQLite in a temp folder)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="lotse-bench-pilots-"))
    admin = None
    url = f"sqlite:///{folder / 'bench.db'}"
    if args.database_url:
        url, admin = create_database(args.database_url)
    db = Database(url)
    try:
        _, seconds = timed(fill, db, args.pilots, args.responses)
        print(
            f"{db.engine.dialect.name}: {args.pilots} pilots × {args.responses} responses "
            f"({args.pilots * args.responses:,} entries, {3 * args.pilots * args.responses:,} KPI values) "
            f"written in {seconds:.1f} s"
        )
        from bot.dialogs.charts import warm_up

        _, t_import = timed(warm_up)  # `lotse serve` does this at start, on a thread
        print(f"matplotlib import (done by `lotse serve` at start, not by a report): {t_import:.2f} s")
        reports = Reports(db)
        rows = {
            "figures (database)": [],
            "charts (3 PNG)": [],
            "text + Markdown": [],
            "quarterly report total": [],
            "one pilot: figures + 2 charts": [],
            "export XLSX (all)": [],
            "export CSV (all)": [],
        }
        with db.session() as s:
            pilot_id = s.scalar(select(PilotFeedbackRow.pilot_id).limit(1))
        for run in range(args.runs):
            out = folder / f"run{run}"
            report, t_figures = timed(reports.quarter, None, QUARTER)
            images, t_charts = timed(charts.render_quarter, report, out, "de", f"quarter-{run}")
            (_, _), t_text = timed(lambda r=report, i=images: (quarter_text(r, "de"), quarter_markdown(r, "de", i)))
            rows["figures (database)"].append(t_figures)
            rows["charts (3 PNG)"].append(t_charts)
            rows["text + Markdown"].append(t_text)
            rows["quarterly report total"].append(t_figures + t_charts + t_text)
            started = time.perf_counter()
            figures = reports.pilot(pilot_id)
            charts.render_pilot(figures, out, "de", f"pilot-{run}")
            pilot_text(figures, "de")
            rows["one pilot: figures + 2 charts"].append(time.perf_counter() - started)
            _, t = timed(export.export_feedback, db, "xlsx", out / "all.xlsx")
            rows["export XLSX (all)"].append(t)
            _, t = timed(export.export_feedback, db, "csv", out / "all.csv")
            rows["export CSV (all)"].append(t)
        shown = sum(1 for p in report.pilots if not p.withheld)
        print(
            f"report {QUARTER}: {len(report.pilots)} pilots ({shown} with figures), "
            f"{sum(p.responses for p in report.pilots):,} responses in the quarter, {len(images)} charts, "
            f"ROI timeline {len(report.roi_timeline)} months; {args.runs} runs"
        )
        print()
        print(f"| {'step':<32} | {'first run':>9} | {'median':>8} | {'max':>8} |")
        print(f"|{'-' * 34}|{'-' * 11}|{'-' * 10}|{'-' * 10}|")
        for name, values in rows.items():
            print(f"| {name:<32} | {values[0]:>7.2f} s | {statistics.median(values):>6.2f} s | {max(values):>6.2f} s |")
        total = rows["quarterly report total"]
        verdict = "met" if max(total[1:] or total) <= 2.0 else "MISSED"
        print(f"\ntarget ≤ 2 s for the quarterly report with charts (warm runs): {verdict}")
        return 0 if verdict == "met" else 1
    finally:
        db.dispose()
        if admin:
            import psycopg

            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
