"""The chunk text in the database is the source of truth; the vector store and BM25 are derived. A Lotse
whose vector store is empty while the database holds chunks — a replica with its own embedded store, or
a restored database beside a lost index — rebuilds it from the database, and `lotse ingest --rebuild`
does so on request (the restore procedure in the README)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

from bot.app.services import open_answers
from bot.core.language import detect_language
from bot.settings import Settings
from tests.conftest import KNOWLEDGE, ROOT

QUESTIONS = [
    "Wie viel Budget brauchen wir pro Person für KI-Schulungen?",
    "Welche KPIs sollten wir vor dem Pilot festlegen?",
    "How much budget per person do we need for AI training?",
]


def top(service, question: str) -> list[str]:
    return [p.chunk_id for p in service.retriever.search(question, detect_language(question), 3).passages]


def test_a_replica_with_its_own_embedded_store_builds_it_from_the_shared_database(kb_settings, service, tmp_path):
    replica = Settings(data_dir=tmp_path / "replica", knowledge_dir=KNOWLEDGE, database_url=kb_settings.db_url)
    second = open_answers(replica)
    assert second.index.vectors.count() == second.index.chunk_count() > 0
    assert second.index.lexical.is_built
    for question in QUESTIONS:
        assert top(second, question) == top(service, question), question


def lotse(*args: str, data_dir) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LOTSE_", "SLACK_", "MICROSOFT_"))}
    env.update(LOTSE_DATA_DIR=str(data_dir), LOTSE_KNOWLEDGE_DIR=str(KNOWLEDGE))
    return subprocess.run(
        [sys.executable, "-m", "bot.app.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_lotse_ingest_rebuild_restores_a_lost_index_from_the_database(kb_settings, tmp_path):
    restored = tmp_path / "restored"
    restored.mkdir()
    # the database backed up with SQLite's online backup (what the README's `.backup` does), without the index
    with sqlite3.connect(kb_settings.data_dir / "lotse.db") as source, sqlite3.connect(restored / "lotse.db") as copy:
        source.backup(copy)
    result = lotse("ingest", "--rebuild", data_dir=restored)
    assert result.returncode == 0, result.stderr
    assert "rebuilt the vector and BM25 indexes from the database" in result.stderr
    chunks = int(result.stderr.split("database: ")[1].split(" chunks")[0])
    assert chunks > 100
    again = lotse("ingest", "--rebuild", data_dir=restored)  # twice: the same count, nothing doubled
    assert again.returncode == 0 and f"database: {chunks} chunks" in again.stderr

    answer = lotse("ask", "--json", QUESTIONS[0], data_dir=restored)
    assert answer.returncode == 0, answer.stderr
    data = json.loads(answer.stdout)
    assert data["answered"] and data["sources"] and "First run" not in answer.stderr
    assert "faq" in data["sources"][0]["source"]
