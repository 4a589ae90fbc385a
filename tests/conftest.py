"""Shared fixtures. The bundled knowledge base is ingested once per test session into a temporary
data folder; tests that change the index use their own folder."""

from __future__ import annotations

import socket
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.answering import AnswerService
from bot.settings import LLMSettings, Settings
from ingest.index import KnowledgeIndex
from ingest.pipeline import ingest

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Nothing may call out except to 127.0.0.1: a connection elsewhere fails the test."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if host not in ("127.0.0.1", "::1", "localhost"):
                raise AssertionError(f"network access to {address!r} during a test")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def kb_settings(tmp_path_factory) -> Settings:
    data = tmp_path_factory.mktemp("lotse-data")
    settings = Settings(data_dir=data, knowledge_dir=KNOWLEDGE)
    report = ingest(KnowledgeIndex(settings), [KNOWLEDGE], progress=False)
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session")
def kb_index(kb_settings) -> KnowledgeIndex:
    return KnowledgeIndex(kb_settings)


@pytest.fixture(scope="session")
def service(kb_settings, kb_index) -> AnswerService:
    return AnswerService(kb_settings, kb_index)


@contextmanager
def fake_llm(kb_settings: Settings, kb_index: KnowledgeIndex):
    """A fake OpenAI server on 127.0.0.1 and an answering service that uses it: (openai, service)."""
    from tests.fakes.openai_server import FakeOpenAI

    with FakeOpenAI() as openai:
        yield openai, llm_service(kb_settings, kb_index, openai.base_url)


def llm_service(kb_settings: Settings, kb_index: KnowledgeIndex, base_url: str, **llm) -> AnswerService:
    settings = Settings(
        data_dir=kb_settings.data_dir,
        knowledge_dir=kb_settings.knowledge_dir,
        llm=LLMSettings(api_key="test-key", base_url=base_url, model="test-model", **llm),
    )
    return AnswerService(settings, kb_index)
