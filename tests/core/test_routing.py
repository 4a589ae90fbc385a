"""The router as a unit (bot/core/routing.py), without an index or a database: how routes match, in
which order they are tried, and which language a reply takes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.core.messages import Incoming, Reply
from bot.core.routing import Route, Router, Turn


def turn(text: str, value: str | None = None, history: tuple = ()) -> Turn:
    return Turn.of(Incoming(text=text, user="U1", value=value), history)


def answer(name: str):
    return lambda t, language: Reply(f"{name}:{language}", language)


def test_command_words_are_lower_cased_once_and_matched_in_any_case():
    route = Route("x", answer("x"), words=frozenset({"/FOO", "/bAR"}))
    assert route.words == {"/foo", "/bar"}
    assert route.matches(turn("/Foo eins")) and route.matches(turn("/BAR")) and not route.matches(turn("/foobar"))


def test_buttons_phrases_and_typed_only():
    assert Route("b", answer("b"), button="plan:").matches(turn("", value="plan:1:2"))
    assert not Route("b", answer("b"), button="plan:").matches(turn("plan: neu"))
    phrase = Route("p", answer("p"), phrase=lambda text: text.lower() == "meine daten", typed_only=True)
    assert phrase.matches(turn("Meine Daten")) and not phrase.matches(turn("Meine Daten", value="1"))


def test_the_first_route_that_matches_and_replies_answers():
    passes = Route("passes", lambda t, language: None)  # matches everything, replies to nothing
    router = Router([passes, Route("cmd", answer("cmd"), words=frozenset({"/a"})), Route("rest", answer("rest"))])
    route, reply = router.route(turn("/a"))
    assert route.name == "cmd" and reply.text.startswith("cmd:")
    assert router.route(turn("Hallo"))[0].name == "rest"
    assert router.words() == {"/a"}


def test_routes_are_declared_unambiguously():
    with pytest.raises(ValueError, match="not several"):
        Route("x", answer("x"), words=frozenset({"/a"}), button="a:")
    with pytest.raises(ValueError, match="unique"):
        Router([Route("x", answer("x")), Route("x", answer("y"))])


def test_the_three_language_rules():
    english = (SimpleNamespace(language="en"),)
    router = Router(
        [
            Route("c", answer("c"), words=frozenset({"/c"}), language="conversation"),
            Route("m", answer("m"), words=frozenset({"/m"}), language="message"),
            Route("t", answer("t"), language="turn"),
        ]
    )
    assert router.route(turn("/c Wie geht es weiter mit dem Plan?", history=english))[1].text == "c:en"
    assert router.route(turn("/m Wie geht es weiter mit dem Plan?", history=english))[1].text == "m:de"
    assert router.route(turn("What does the pilot cost?"))[1].text == "t:de"  # a first message keeps "de"
    assert router.route(turn("Was kostet der Pilot?", history=english))[1].text == "t:de"


def test_the_channels_command_lists_name_only_words_of_the_routing_table(database_service):
    """Teams' manifest (its command menu) and Slack's /lotse usage hint are written by hand (they are
    uploaded to Microsoft and Slack); every command they offer must be one the table takes."""
    import json
    import re
    from pathlib import Path

    from bot.app.services import build_core

    root = Path(__file__).resolve().parents[2]
    table = build_core(database_service.settings, database_service).commands()
    manifest = json.loads((root / "config" / "teams" / "manifest.json").read_text(encoding="utf-8"))
    offered = [c["title"] for bot in manifest["bots"] for group in bot["commandLists"] for c in group["commands"]]
    slashes = [title.split()[0].lower() for title in offered if title.startswith("/")]
    assert slashes and all(word in table for word in slashes), slashes
    slack_only = {"frage", "feedback", "daten", "hilfe"}  # Slack's own /lotse subcommands
    for path in (root / "config" / "slack").glob("*.y*ml"):
        hint = re.search(r'usage_hint: "\[([^\]]*)\]"', path.read_text(encoding="utf-8"))
        words = hint.group(1).split("|") if hint else []
        assert all(w in slack_only or f"/{w}" in table for w in words), (path.name, words)
