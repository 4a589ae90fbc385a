"""The `lotse` command, one module per area: chat and serve, the knowledge base, the plan, assessments,
pilots, the AI register, and data (audit, purge, schema). Each module adds its subcommands (`add`); every
part a command needs comes from `bot.app.services.Services`."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from sqlalchemy.exc import OperationalError

from bot import __version__
from bot.actions.catalog import ActionSpecError
from bot.app.cli import assess, chat, data, gaps, knowledge, pilots, plan, register
from bot.dialogs.spec import AssessmentSpecError
from bot.reminders.spec import PlanSpecError
from bot.settings import ConfigError, load_settings
from bot.storage.migrate import SchemaError
from ingest.index import ModelMismatch

AREAS = (chat, plan, knowledge, gaps, assess, pilots, register, data)  # the order of `lotse --help`


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lotse", description="Lotse — your guide through the AI roadmap.")
    parser.add_argument("--version", action="version", version=f"lotse {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    for area in AREAS:
        area.add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    for noisy in ("bm25s", "chromadb", "httpx", "slack_sdk", "slack_bolt", "lotse.slack.bolt", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"lotse: configuration error: {exc}", file=sys.stderr)
        return 2
    if settings.log_format == "json":
        from bot.logs import use_json

        use_json()
    try:
        return args.func(args, settings)
    except AssessmentSpecError as exc:
        print(f"lotse: assessment file error: {exc}", file=sys.stderr)
        return 2
    except ActionSpecError as exc:
        print(f"lotse: action catalog error: {exc} (LOTSE_ACTIONS=0 turns requests in plain words off)",
              file=sys.stderr)  # fmt: skip
        return 2
    except PlanSpecError as exc:
        print(f"lotse: plan file error: {exc}", file=sys.stderr)
        return 2
    except SchemaError as exc:
        print(f"lotse: database schema: {exc}", file=sys.stderr)
        return 2
    except ModelMismatch as exc:
        print(f"lotse: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:  # the database server is down, refuses us, or the file cannot be opened
        reason = (str(exc.orig).strip().splitlines() or ["unknown error"])[0]
        print(
            f"lotse: the database cannot be used: {reason} — check LOTSE_DATABASE_URL and that the database "
            "server is running",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `lotse plan preview … | head`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
