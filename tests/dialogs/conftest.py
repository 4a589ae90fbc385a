"""A dialog engine on a database of its own (SQLite; SQLite and PostgreSQL for tests marked
@both_databases), with the project's six assessments, and a chat helper."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.messages import Incoming, Reply
from bot.dialogs import DialogEngine, Results, load_catalog
from bot.storage import Database

ASSESSMENTS = Path(__file__).resolve().parents[2] / "config" / "assessments"


class Chat:
    """One user in one conversation, talking to an engine; `say` returns the engine's reply."""

    def __init__(self, engine: DialogEngine, user: str = "anna", workspace: str = "T1") -> None:
        self.engine = engine
        self.user = user
        self.workspace = workspace

    def say(self, text: str, value: str | None = None, language: str = "de") -> Reply | None:
        message = Incoming(text=text, user=self.user, channel="test", workspace=self.workspace, value=value)
        return self.engine.handle(message, language)

    def script(self, *lines: str, language: str = "de") -> Reply:
        reply = None
        for line in lines:
            reply = self.say(line, language=language)
            assert reply is not None, f"{line!r} was not taken by the dialog"
        return reply


def make_engine(url: str, charts: Path, folder: Path = ASSESSMENTS) -> DialogEngine:
    db = Database(url)
    catalog = load_catalog(folder)
    return DialogEngine(db, catalog, Results(db, catalog, charts))


@pytest.fixture
def engine(database_url, tmp_path) -> DialogEngine:
    return make_engine(database_url, tmp_path / "charts")


@pytest.fixture
def chat(engine) -> Chat:
    return Chat(engine)
