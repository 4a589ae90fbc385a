"""`lotse chat`, `lotse serve`, `lotse teams-package`: Lotse in the terminal, in Slack and Teams."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from bot.app.services import build_core
from bot.settings import Settings


def cmd_chat(args, settings: Settings) -> int:
    from bot.channels import console
    from bot.dialogs import load_catalog

    catalog = load_catalog(settings.assessments_dir)  # a broken assessment file stops us before the slow part
    core = build_core(settings, None, catalog)
    user = args.user or getpass.getuser()
    nudges = args.nudges if args.nudges is not None else sys.stdin.isatty() and not args.json
    if not nudges:
        return console.run(core, user=user, as_json=args.json)
    scheduler = core.services.scheduler([console.ConsoleSender()], role="console")
    with console.BackgroundNudges(scheduler):  # plan nudges addressed to the terminal are printed as they fall due
        return console.run(core, user=user, as_json=args.json)


def cmd_serve(args, settings: Settings) -> int:
    """`lotse serve`: every configured channel in one process."""
    import asyncio

    from bot.app import server
    from bot.dialogs import load_catalog

    if not (settings.slack.enabled or settings.teams.enabled):
        print(
            "lotse serve: no channel is configured, so there is nothing to serve.\n"
            "  Slack: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode, no public URL needed)\n"
            "         or SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP mode, Request URL …/slack/events).\n"
            "  Teams: set MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID\n"
            "         (messaging endpoint …/api/messages).\n"
            "  See the README sections 'Slack' and 'Teams' for setting up the apps.\n"
            "  Without a channel, `lotse chat` works in the terminal.",
            file=sys.stderr,
        )
        return 1
    if settings.teams.enabled and (missing := settings.teams.incomplete()):
        print(f"lotse: configuration error: {missing}", file=sys.stderr)
        return 2
    catalog = load_catalog(settings.assessments_dir)

    try:
        asyncio.run(server.serve(settings, lambda: build_core(settings, None, catalog), args.host, args.port))
    except OSError as exc:
        print(f"lotse serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


def cmd_teams_package(args, settings: Settings) -> int:
    """`lotse teams-package`: the app zip to upload in Teams (manifest with the app id, and the icons)."""
    import zipfile

    from bot.settings import PROJECT_ROOT

    folder = Path(args.source) if args.source else PROJECT_ROOT / "config" / "teams"
    if not settings.teams.app_id:
        print("lotse teams-package: set MICROSOFT_APP_ID (the Azure Bot's app id) first", file=sys.stderr)
        return 2
    try:
        text = (
            (folder / "manifest.json").read_text(encoding="utf-8").replace("${MICROSOFT_APP_ID}", settings.teams.app_id)
        )
        manifest = json.loads(text)
        icons = [folder / manifest["icons"]["color"], folder / manifest["icons"]["outline"]]
    except (OSError, json.JSONDecodeError, KeyError) as exc:
        print(f"lotse teams-package: {folder / 'manifest.json'} is not usable: {exc}", file=sys.stderr)
        return 2
    starters(manifest, settings)
    missing = [str(p) for p in icons if not p.is_file()]
    if missing:
        print(f"lotse teams-package: missing icon(s): {', '.join(missing)}", file=sys.stderr)
        return 2
    output = Path(args.output)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        for icon in icons:
            package.write(icon, icon.name)
    print(f"wrote {output}: upload it in Teams (Apps → Manage your apps → Upload an app)", file=sys.stderr)
    return 0


def starters(manifest: dict, settings: Settings) -> None:
    """The personal chat's prompt starters from the action catalog (issue 22): requests in plain words
    that run an action, after the manifest's own questions for the guide and before `/help`. Each is a
    `prompt` starter (manifest 1.27): a click puts the whole request into the compose box, not only its title."""
    from bot.actions.catalog import load_actions

    if not settings.actions:
        return
    offered = [a for a in load_actions(settings.actions_file) if a.starter]
    for group in manifest["bots"][0]["commandLists"]:
        if "personal" not in group["scopes"]:
            continue
        asked = [c for c in group["commands"] if not c["title"].startswith("/")]
        helped = [c for c in group["commands"] if c["title"] == "/help"]
        made = [{"title": a.starter["de"], "description": a.description["de"], "type": "prompt",
                 "prompt": a.examples["de"][0]} for a in offered]  # fmt: skip
        group["commands"] = (asked + made)[: 10 - len(helped)] + helped  # Teams shows ten in a list


def add(sub) -> None:
    chat = sub.add_parser("chat", help="chat in the terminal (also reads one message per line from a pipe)")
    chat.add_argument("--user", help="who is chatting, with a conversation of their own (default: your login name)")
    chat.add_argument(
        "--json",
        action="store_true",
        help="one message per line on stdin, one JSON object per reply on stdout (for scripts)",
    )
    chat.add_argument(
        "--nudges",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="print plan nudges for the terminal as they fall due (default: on a terminal)",
    )
    chat.set_defaults(func=cmd_chat)

    serve = sub.add_parser("serve", help="serve the configured channels (Slack, Teams) in one process")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=3978, help="port to listen on (default 3978)")
    serve.set_defaults(func=cmd_serve)

    package = sub.add_parser("teams-package", help="build the Teams app zip (manifest with your app id, icons)")
    package.add_argument("--output", "-o", default="lotse-teams.zip", help="zip to write (default lotse-teams.zip)")
    package.add_argument("--source", help="folder with manifest.json and icons (default config/teams)")
    package.set_defaults(func=cmd_teams_package)
