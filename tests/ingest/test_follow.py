"""Processes that share a database follow each other's ingests: a replica's own BM25 index and embedded
vectors are brought up to the documents another process added, changed or removed, while it runs
(`follow`, before each question) and when it starts (`catch_up`). Real indexes, no mocks."""

import threading
from pathlib import Path

import pytest

from bot.answering import AnswerService
from bot.settings import Settings
from ingest import index as knowledge_index
from ingest.index import MANIFEST, KnowledgeIndex
from ingest.pipeline import ingest
from tests.conftest import both_databases

PRINTER = "# Leitfaden Drucker\n## Tonerwechsel\nDer Toner des Abteilungsdruckers wird alle 14 Tage gewechselt.\n"
CANTEEN = "# Kantine\n## Öffnungszeiten\nDie Kantine öffnet werktags um 11:30 Uhr und schließt um 14 Uhr.\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "drucker.md").write_text(PRINTER, encoding="utf-8")
    return docs


def replica(tmp_path: Path, name: str, database_url: str, embedder=None) -> KnowledgeIndex:
    return KnowledgeIndex(Settings(data_dir=tmp_path / name, database_url=database_url), embedder=embedder)


def passages(service: AnswerService, question: str):
    return service.retriever.search(question, "de", 5).passages


def follow_until_changed(index: KnowledgeIndex) -> None:
    assert index.follow() is True
    assert index.follow() is False  # up to date now


@both_databases
def test_a_running_replica_follows_documents_ingested_by_another_process(tmp_path, folder, database_url, monkeypatch):
    monkeypatch.setattr(knowledge_index, "FOLLOW_SECONDS", 0.0)
    writer = replica(tmp_path, "writer", database_url)
    ingest(writer, [folder], progress=False)
    reader = replica(tmp_path, "reader", database_url, embedder=writer.embedder)
    assert reader.catch_up() is True  # a new data folder: its vectors and BM25 are built from the database
    assert reader.vectors.count() == reader.chunk_count() > 0
    service = AnswerService(reader.settings, reader)
    assert any("14 Tage" in p.text for p in passages(service, "Wie oft wird der Toner gewechselt?"))
    assert reader.follow() is False  # nothing changed: one SELECT, no work

    # the other process changes one document (a section more) and adds one
    paper = "## Papierstau\nBei einem Papierstau öffnen Sie Klappe B und ziehen das Blatt heraus.\n"
    (folder / "drucker.md").write_text(PRINTER.replace("14 Tage", "21 Tage") + paper, encoding="utf-8")
    (folder / "kantine.md").write_text(CANTEEN, encoding="utf-8")
    report = ingest(writer, [folder], progress=False)
    assert report.updated == ["drucker.md"] and report.added == ["kantine.md"]
    follow_until_changed(reader)
    texts = [p.text for p in passages(service, "Wie oft wird der Toner gewechselt?")]
    assert any("21 Tage" in t for t in texts) and not any("14 Tage" in t for t in texts)
    jam = [p for p in passages(service, "Was tun bei einem Papierstau?") if "Klappe B" in p.text]
    assert jam and jam[0].similarity > 0.3  # the changed document's new chunk has a vector here too
    canteen = [p for p in passages(service, "Wann öffnet die Kantine?") if p.source == "kantine.md"]
    assert canteen and canteen[0].similarity > 0.3  # found by this replica's own vectors, not only by BM25
    assert reader.vectors.count() == reader.chunk_count()

    # … and removes one
    (folder / "kantine.md").unlink()
    assert ingest(writer, [folder], progress=False).removed == ["kantine.md"]
    follow_until_changed(reader)
    assert all(p.source != "kantine.md" for p in passages(service, "Wann öffnet die Kantine?"))
    assert reader.vectors.count() == reader.chunk_count()

    # a question through the whole service follows as well
    (folder / "kantine.md").write_text(CANTEEN, encoding="utf-8")
    ingest(writer, [folder], progress=False)
    answer = service.ask("Wann öffnet die Kantine?")  # the first question after the ingest finds it
    assert answer.answered and "11:30" in answer.answer and answer.sources[0].source == "kantine.md"


def test_a_failed_catch_up_is_logged_and_the_question_is_answered_from_the_indexes_as_they_are(
    tmp_path, folder, sqlite_url, monkeypatch, caplog
):
    monkeypatch.setattr(knowledge_index, "FOLLOW_SECONDS", 0.0)
    writer = replica(tmp_path, "writer", sqlite_url)
    ingest(writer, [folder], progress=False)
    reader = replica(tmp_path, "reader", sqlite_url, embedder=writer.embedder)
    reader.catch_up()
    service = AnswerService(reader.settings, reader)
    (folder / "kantine.md").write_text(CANTEEN, encoding="utf-8")
    ingest(writer, [folder], progress=False)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(reader.vectors, "add", full_disk)
        answer = service.ask("Wie oft wird der Toner gewechselt?")
    assert answer.answered and "14 Tage" in answer.answer
    assert "could not bring the search indexes up to the database: OSError" in caplog.text
    # the disk has room again: the next check catches up
    answer = service.ask("Wann öffnet die Kantine?")
    assert answer.answered and "11:30" in answer.answer


def test_processes_sharing_a_data_folder_build_bm25_one_at_a_time(tmp_path, folder, sqlite_url):
    """`lotse ingest` beside a running `serve` in the same data folder: a second builder waits for the
    first instead of removing its half-made build."""
    index = replica(tmp_path, "shared", sqlite_url)
    ingest(index, [folder], progress=False)
    other = replica(tmp_path, "shared", sqlite_url, embedder=index.embedder)
    with index.lexical.building():
        builder = threading.Thread(target=other.rebuild_lexical, kwargs={"force": True})
        builder.start()
        builder.join(0.5)
        assert builder.is_alive()  # waiting for the lock
        before = index.lexical._current_stamp()
    builder.join(10)
    assert not builder.is_alive() and index.lexical._current_stamp() != before
    other.lexical.refresh()
    assert other.lexical.languages == {"de"} and other.lexical.search("Toner", "de", 3)


def test_a_data_folder_without_a_record_of_its_documents_is_rebuilt_once(tmp_path, folder, sqlite_url):
    """Data folders from before the record existed: their vectors are rebuilt from the database at the
    next start; after that nothing is done again."""
    index = replica(tmp_path, "old", sqlite_url)
    ingest(index, [folder], progress=False)
    (index.settings.data_dir / MANIFEST).unlink()
    [source] = (index.settings.data_dir / "bm25").glob("*.source")
    source.unlink()
    restarted = replica(tmp_path, "old", sqlite_url, embedder=index.embedder)
    assert restarted.catch_up() is True
    assert restarted.vectors.count() == restarted.chunk_count() > 0
    assert restarted.catch_up() is False
    assert replica(tmp_path, "old", sqlite_url, embedder=index.embedder).catch_up() is False


def test_the_same_process_ingesting_leaves_nothing_to_follow(tmp_path, folder, sqlite_url, monkeypatch):
    monkeypatch.setattr(knowledge_index, "FOLLOW_SECONDS", 0.0)
    index = replica(tmp_path, "one", sqlite_url)
    ingest(index, [folder], progress=False)
    (folder / "kantine.md").write_text(CANTEEN, encoding="utf-8")
    ingest(index, [folder], progress=False)
    assert index.follow() is False and index.follow() is False
    assert index.catch_up() is False
