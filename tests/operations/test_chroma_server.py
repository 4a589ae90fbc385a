"""The knowledge index on a real Chroma server (`chroma run` on 127.0.0.1) instead of the embedded
store: ingest and questions work the same — the same passages as the embedded index — and a second
Lotse (replica) that shares the database and the server answers without ingesting anything itself."""

from __future__ import annotations

import pytest

from bot.answering import AnswerService
from bot.app.services import open_answers
from bot.core.language import detect_language
from bot.settings import Settings
from ingest.index import KnowledgeIndex
from ingest.pipeline import ingest
from tests.conftest import KNOWLEDGE

QUESTIONS = [
    "Wie viel Budget brauchen wir pro Person für KI-Schulungen?",
    "Was passiert in Woche 5 bis 6 des 90-Tage-Plans?",
    "Welche KPIs sollten wir vor dem Pilot festlegen?",
    "How much budget per person do we need for AI training?",
    "Which tools suit a data quality analysis?",
]


def top(service: AnswerService, question: str) -> list[str]:
    return [p.chunk_id for p in service.retriever.search(question, detect_language(question), 3).passages]


def test_ingest_and_questions_through_the_chroma_server(chroma_url, tmp_path, service):
    settings = Settings(data_dir=tmp_path / "a", knowledge_dir=KNOWLEDGE, chroma_url=chroma_url)
    index = KnowledgeIndex(settings)
    report = ingest(index, [KNOWLEDGE], progress=False)
    assert not report.failed and index.vectors.count() == index.chunk_count() > 0
    assert not (tmp_path / "a" / "chroma").exists()  # nothing embedded: the vectors live on the server
    on_server = AnswerService(settings, index)
    for question in QUESTIONS:
        assert top(on_server, question) == top(service, question), question  # the same passages as embedded
        answer = on_server.ask(question)
        assert answer.answered and answer.sources, question

    # a second Lotse on the same database and server: no ingest of its own, the same answers
    replica = Settings(
        data_dir=tmp_path / "b",
        knowledge_dir=KNOWLEDGE,
        chroma_url=chroma_url,
        database_url=f"sqlite:///{tmp_path / 'a' / 'lotse.db'}",
    )
    second = open_answers(replica)
    assert second.index.lexical.is_built and not (tmp_path / "b" / "chroma").exists()
    for question in QUESTIONS:
        assert top(second, question) == top(on_server, question), question


def test_a_malformed_chroma_url_is_refused_with_what_to_write(tmp_path):
    settings = Settings(data_dir=tmp_path, knowledge_dir=KNOWLEDGE, chroma_url="chroma-host:8000")
    with pytest.raises(ValueError, match="expected http://host:port"):
        KnowledgeIndex(settings).vectors  # noqa: B018


def test_requests_to_the_chroma_server_are_bounded_in_time(chroma_url, tmp_path):
    """chromadb's client would wait forever for a hung server; Lotse bounds every request."""
    vectors = KnowledgeIndex(Settings(data_dir=tmp_path, knowledge_dir=KNOWLEDGE, chroma_url=chroma_url)).vectors
    timeout = vectors._client._server._session.timeout
    assert (timeout.connect, timeout.read) == (5.0, 30.0)
