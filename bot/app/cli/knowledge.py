"""`lotse ingest`, `lotse ask`, `lotse init`: the knowledge base and a deployment's first start."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bot.app.services import Services, complete_index, ingest_report
from bot.settings import Settings
from ingest.index import ModelMismatch


def cmd_ingest(args, settings: Settings) -> int:
    from ingest.index import KnowledgeIndex
    from ingest.pipeline import IngestPathError, ingest

    paths = [Path(p) for p in args.paths] or [settings.knowledge_dir]
    index = KnowledgeIndex(settings, Services(settings).db)
    if args.rebuild:
        started = time.perf_counter()
        count = index.rebuild_vectors(change_model=True)  # the one way to change the embedding model
        index.rebuild_lexical(force=True)
        print(
            f"rebuilt the vector and BM25 indexes from the database: {count} chunks in "
            f"{time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        if not args.paths:
            return 0
    index.check_model()  # before anything is embedded: another model's vectors would not fit the index
    try:
        report = ingest(index, paths, progress=None)
    except IngestPathError as exc:
        print(f"lotse ingest: {exc}", file=sys.stderr)
        return 2
    ingest_report(report)
    return 1 if report.failed else 0


def cmd_ask(args, settings: Settings) -> int:
    service = Services(settings).answers
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
            from bot.app.handlers import reply_for
            from bot.channels.console import render

            print(render(reply_for(answer)), flush=True)
    return 0


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
    print(
        f"database schema: {before or 'none'} → {after}" if before != after else f"database schema: {after}",
        file=sys.stderr,
    )
    index = KnowledgeIndex(settings, Services(settings).db)
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
    ingest_report(report)
    complete_index(index)
    return 1 if report.failed else 0


def add(sub) -> None:
    ask = sub.add_parser("ask", help="answer one question (or --batch: one per line on stdin)")
    ask.add_argument("question", nargs="*")
    ask.add_argument("--json", action="store_true", help="print one JSON object per answer")
    ask.add_argument("--batch", action="store_true", help="read questions from stdin, one per line")
    ask.set_defaults(func=cmd_ask)

    init = sub.add_parser("init", help="once per deployment: wait for the database and vector store, migrate, ingest")
    init.add_argument("--wait", type=float, default=120.0, help="seconds to wait for them (default 120)")
    init.set_defaults(func=cmd_init)

    ing = sub.add_parser("ingest", help="index documents (default: the knowledge/ folder)")
    ing.add_argument("paths", nargs="*", help="files or folders: .md .txt .html .pdf .docx")
    ing.add_argument(
        "--rebuild",
        action="store_true",
        help="rebuild the vector and BM25 indexes from the database (after a restore); "
        "with paths, ingest them afterwards",
    )
    ing.set_defaults(func=cmd_ingest)
