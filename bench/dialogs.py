"""Dialog engine latency: one step (load state, validate, store, render the next question) on
SQLite with many stored dialogs.

    python -m bench.dialogs [--dialogs 10000] [--steps 2000] [--max-items 12]

The database is filled with `--dialogs` dialogs of the system-landscape assessment, one per
conversation, each naming 0 to `--max-items` systems (3 answers per system; the assessment allows 30).
70 % are active, 20 % paused, 10 % done with a stored result. Timed steps answer a random sample of
the active conversations in turn — a rating, then skipping the optional note, then naming the next
system — so every kind of step and both reads and writes are measured. The finishing step (scoring,
storing the result, drawing the chart) is timed separately.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.core.messages import Incoming
from bot.dialogs import DialogEngine, Results, load_catalog
from bot.settings import Settings
from bot.storage import Database
from bot.storage.models import AssessmentResultRow, DialogRow

ROOT = Path(__file__).resolve().parent.parent


def trail_of(items: int) -> list:
    """A systems trail naming and rating `items` systems, ending just after a name (rating is next)."""
    trail = []
    for k in range(items):
        trail += [
            [[0, k, None], f"System {k}", "systems/"],
            [[0, k, 0], random.randint(1, 5), "systems/rating"],
            [[0, k, 1], None, "systems/note"],
        ]
    trail.append([[0, items, None], f"System {items}", "systems/"])
    return trail


def fill(db: Database, count: int, max_items: int) -> list[str]:
    """Insert `count` dialogs; returns the conversation keys of the active ones."""
    active, rows, results = [], [], []
    for n in range(count):
        key = f"slack:T{n % 40}:U{n}:C{n}"
        status = "active" if n % 10 < 7 else "paused" if n % 10 < 9 else "done"
        trail = trail_of(random.randint(0, max_items))
        rows.append(
            DialogRow(
                id=n + 1,
                conversation=key,
                assessment="systems",
                spec_version=1,
                status=status,
                language="de",
                author=f"U{n}",
                scope=f"slack:T{n % 40}",
                trail=json.dumps(trail),
                revision=len(trail),
            )
        )
        if status == "active":
            active.append(key)
        if status == "done":
            results.append(
                AssessmentResultRow(
                    dialog_id=n + 1,
                    assessment="systems",
                    scope=f"slack:T{n % 40}",
                    author=f"U{n}",
                    language="de",
                    answers='{"systems": []}',
                    metrics='{"candidates": 0}',
                )
            )
    with db.session() as s:
        s.add_all(rows)
    with db.session() as s:
        s.add_all(results)
    return active


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogs", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=2_000)
    parser.add_argument("--finishes", type=int, default=30)
    parser.add_argument("--max-items", type=int, default=12, help="systems per stored dialog: 0..N (3 answers each)")
    args = parser.parse_args()
    random.seed(7)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder))
        db = Database(settings.db_url)
        catalog = load_catalog(ROOT / "config" / "assessments")
        engine = DialogEngine(db, catalog, Results(db, catalog, settings.charts_dir))
        started = time.perf_counter()
        active = fill(db, args.dialogs, args.max_items)
        fill_seconds = time.perf_counter() - started

        pool = random.sample(active, min(len(active), max(1, args.steps // 6)))  # each answered ~6 times
        phase = dict.fromkeys(pool, 0)  # 0: rating next, 1: note next, 2: name next
        answers = ("4", "-", "Neues System")
        timings: dict[str, list[float]] = {"rating": [], "note": [], "name": []}
        for _ in range(args.steps):
            key = random.choice(pool)
            channel, workspace, user, conversation = key.split(":")
            message = Incoming(answers[phase[key]], user, channel, workspace, conversation)
            t0 = time.perf_counter()
            reply = engine.handle(message, "de")
            elapsed = (time.perf_counter() - t0) * 1000
            assert reply is not None and reply.question is not None, reply
            timings[("rating", "note", "name")[phase[key]]].append(elapsed)
            phase[key] = (phase[key] + 1) % 3

        finish = []
        ready = [k for k in pool if phase[k] == 2]
        for key in random.sample(ready, min(args.finishes, len(ready))):
            channel, workspace, user, conversation = key.split(":")
            t0 = time.perf_counter()
            reply = engine.handle(Incoming("fertig", user, channel, workspace, conversation), "de")
            finish.append((time.perf_counter() - t0) * 1000)
            assert reply.images, reply.text

    every = [t for values in timings.values() for t in values]
    print(
        f"\nDialog engine on SQLite, {args.dialogs:,} stored dialogs with 0–{args.max_items} systems each "
        f"(filled in {fill_seconds:.1f} s)\n"
    )
    print("| step | n | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|")
    for name, values in [*timings.items(), ("all steps", every), ("finish + chart", finish)]:
        p50, p95 = np.percentile(values, 50), np.percentile(values, 95)
        print(f"| {name} | {len(values)} | {p50:.2f} | {p95:.2f} | {max(values):.2f} |")
    print(f"\nmean step {statistics.mean(every):.2f} ms; target: p95 ≤ 20 ms per step")


if __name__ == "__main__":
    main()
