"""The `lotse` command: chat, ask, ingest."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from pathlib import Path

from bot import __version__
from bot.settings import ConfigError, Settings, load_settings


def _ingest_report(report, out=sys.stderr) -> None:
    print(
        f"ingest: {len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed, {len(report.failed)} failed — {report.chunks} chunks "
        f"in {report.seconds:.1f} s",
        file=out,
    )
    for name, reason in report.failed:
        print(f"  could not index {name}: {reason}", file=out)


def _open_service(settings: Settings):
    """The answering service, with the bundled knowledge ingested first if the index is empty."""
    from bot.answering import AnswerService
    from ingest.pipeline import ingest

    service = AnswerService(settings)
    service.index.preload()
    if service.index.chunk_count() == 0 and settings.knowledge_dir.is_dir():
        print(f"First run: indexing {settings.knowledge_dir} …", file=sys.stderr)
        _ingest_report(ingest(service.index, [settings.knowledge_dir]))
    return service


def cmd_ingest(args, settings: Settings) -> int:
    from ingest.index import KnowledgeIndex
    from ingest.pipeline import IngestPathError, ingest

    paths = [Path(p) for p in args.paths] or [settings.knowledge_dir]
    try:
        report = ingest(KnowledgeIndex(settings), paths, progress=None)
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

    service = _open_service(settings)
    return console.run(Lotse(settings, service), user=args.user or getpass.getuser())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lotse", description="Lotse — your guide through the AI roadmap.")
    parser.add_argument("--version", action="version", version=f"lotse {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="chat in the terminal (also reads one message per line from a pipe)")
    chat.add_argument("--user", help="who is chatting (default: your login name)")
    chat.set_defaults(func=cmd_chat)

    ask = sub.add_parser("ask", help="answer one question (or --batch: one per line on stdin)")
    ask.add_argument("question", nargs="*")
    ask.add_argument("--json", action="store_true", help="print one JSON object per answer")
    ask.add_argument("--batch", action="store_true", help="read questions from stdin, one per line")
    ask.set_defaults(func=cmd_ask)

    ing = sub.add_parser("ingest", help="index documents (default: the knowledge/ folder)")
    ing.add_argument("paths", nargs="*", help="files or folders: .md .txt .html .pdf .docx")
    ing.set_defaults(func=cmd_ingest)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    for noisy in ("bm25s", "chromadb", "httpx"):
        logging.getLogger(noisy).setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"lotse: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        return args.func(args, settings)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
