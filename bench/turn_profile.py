"""Where a replica's CPU goes per answered Slack event: the core's calls for one DM question (the intake's
dedupe, then the turn), in this process against a throwaway PostgreSQL database, as `lotse serve` makes
them on its core thread. No HTTP, no bolt, no LLM.

    python -m bench.turn_profile [--events 600] [--unique] [--profile out.prof] [--chroma]

The questions, askers and channels are those of bench/replicas.py (one channel per event, 2,000 askers).
It prints the thread CPU time per event of each step, measured with `time.thread_time` around the
step (without a profiler, whose overhead inflates Python-heavy steps such as SQLAlchemy's); with
`--profile` it also writes a cProfile of the whole run, for `python -m pstats`.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import os
import random
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.replicas import PG, USERS, throwaway_database
from bench.slack import ROOT, questions
from bot.core.messages import Incoming
from bot.settings import Settings, load_settings
from ingest.index import KnowledgeIndex
from ingest.pipeline import ingest

TEAM = "TBENCH"


class Steps:
    """Thread CPU time per named step, summed; nested steps count in their parent as well."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, owner, attribute: str, name: str) -> None:
        original = getattr(owner, attribute)

        def timed(*args, **kwargs):
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] += time.thread_time() - started

        setattr(owner, attribute, timed)


def instrument(core, steps: Steps) -> None:
    import bot.answering.service as service

    index = core.answers.index
    steps.wrap(core.inbox_for_profile, "record", "record in the inbox (INSERT, before the ack)")
    steps.wrap(core.inbox_for_profile, "progress", "the reply recorded (UPDATE)")
    steps.wrap(core.inbox_for_profile, "finish", "the turn marked done (UPDATE)")
    steps.wrap(core.people, "remember", "  people.remember")
    steps.wrap(core, "_turn", "turn")
    steps.wrap(core.conversations, "recent", "  last turns (SELECT)")
    steps.wrap(core.dialogs, "handle", "  running dialog (SELECT)")
    steps.wrap(core.results, "answer_question", "  own-results question?")
    steps.wrap(core.privacy, "request", "  privacy request?")
    steps.wrap(core.limiter, "check", "  rate limit (INSERT … RETURNING)")
    steps.wrap(core.answers, "ask", "  answer")
    steps.wrap(core.answers.retriever, "embed_query", "    query embedding")
    steps.wrap(index.vectors, "query", "    Chroma query")
    steps.wrap(core.answers.retriever, "_lexical", "    BM25")
    steps.wrap(index, "chunks_by_id", "    chunk rows")
    steps.wrap(core.answers.retriever, "_heading_first", "    heading rerank")
    steps.wrap(service, "extractive_answer", "    extractive answer")
    steps.wrap(core.conversations, "append_turn", "  store the turn (INSERT)")
    steps.wrap(core.notices, "first", "AI notice")


def events(count: int, unique: bool, start: int = 0):
    pool = questions()
    rng = random.Random(8)
    for n in range(start, start + count):
        text = rng.choice(pool)
        if unique:
            text = f"{text} (Ticket {n:05d})"
        channel = f"DP{n}"
        incoming = Incoming(
            text=text, user=f"U{n % USERS}", channel="slack", workspace=TEAM, conversation=channel, private=True
        )
        yield f"slack:{TEAM}:{channel}:1700002000.{n:06d}", incoming


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--unique", action="store_true", help="a distinct ticket number in every question")
    parser.add_argument("--profile", help="write a cProfile of the measured events to this file")
    parser.add_argument("--chroma", action="store_true", help="a Chroma server instead of the embedded store")
    parser.add_argument("--postgres", default=PG)
    args = parser.parse_args()

    from bot.app.services import build_core, open_answers
    from bot.core.messages import reply_to_dict
    from bot.dialogs import load_catalog
    from bot.storage.inbox import Inbox

    folder = Path(tempfile.mkdtemp(prefix="lotse-turn-profile-"))
    chroma = None
    try:
        with throwaway_database(args.postgres) as database:
            chroma_url = None
            if args.chroma:
                from bench.chroma_server import start_server

                chroma, chroma_url = start_server(folder / "chroma-server")
            shared = Settings(
                data_dir=folder / "ingest",
                knowledge_dir=ROOT / "knowledge",
                database_url=database,
                chroma_url=chroma_url,
            )
            index = KnowledgeIndex(shared)
            assert not ingest(index, [shared.knowledge_dir], progress=False).failed
            index.db.dispose()

            env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LOTSE_", "SLACK_"))}
            env.update(
                {
                    "LOTSE_DATA_DIR": str(folder / "replica"),
                    "LOTSE_DATABASE_URL": database,
                    "LOTSE_KNOWLEDGE_DIR": str(ROOT / "knowledge"),
                    "SLACK_BOT_TOKEN": "xoxb-bench",
                    "SLACK_SIGNING_SECRET": "bench",
                    "SLACK_TEAM_ID": TEAM,
                }
            )
            if chroma_url:
                env["LOTSE_CHROMA_URL"] = chroma_url
            settings = load_settings(env)
            core = build_core(settings, open_answers(settings), load_catalog(settings.assessments_dir))
            core.answers.retriever.warm_up()
            inbox = core.inbox_for_profile = Inbox(core.answers.index.db)
            for key, incoming in events(50, args.unique, start=100_000):  # warm-up: caches, pools, first queries
                inbox.record(key, "slack", incoming.conversation_key, {"incoming": dataclasses.asdict(incoming)})
                core.handle(incoming)

            steps = Steps()
            instrument(core, steps)
            profiler = cProfile.Profile() if args.profile else None
            answered = 0
            started, wall = time.thread_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            for key, incoming in events(args.events, args.unique):
                # what a replica does per event: record it (intake thread), the turn (core thread), the
                # reply recorded, and the turn marked done (inbox thread)
                item = inbox.record(key, "slack", incoming.conversation_key, {"incoming": dataclasses.asdict(incoming)})
                if item is None:
                    continue
                reply = core.handle(incoming)
                inbox.progress(item, {"reply": reply_to_dict(reply)})
                inbox.finish(item)
                answered += reply.answered
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
            cpu, wall = time.thread_time() - started, time.perf_counter() - wall
            core.answers.index.db.dispose()
    finally:
        if chroma is not None:
            chroma.terminate()
            chroma.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)

    n = args.events
    print(
        f"\n{n} events ({'unique' if args.unique else 'repeated'} questions, {answered} answered), "
        f"{'Chroma server' if args.chroma else 'embedded Chroma'}{', under cProfile' if profiler else ''}: "
        f"{1000 * cpu / n:.2f} ms thread CPU per event, {1000 * wall / n:.2f} ms wall\n"
    )
    print("| step | ms CPU per event |")
    print("|---|---|")
    for name, seconds in steps.seconds.items():
        print(f"| {name} | {1000 * seconds / n:.2f} |")


if __name__ == "__main__":
    main()
