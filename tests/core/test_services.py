"""`bot.app.services`: every part is built once, on first use, and building writes nothing to the
database — Lotse's register entry and the roles change log are written by `start()`, once."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app.services import Services, build_core
from bot.settings import Settings
from bot.storage.models import AuditRow, RegisterEntryRow


def rows(services: Services) -> tuple[int, int]:
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(AuditRow)), s.scalar(
            select(func.count()).select_from(RegisterEntryRow)
        )


def test_building_every_part_writes_nothing_and_start_writes_once(tmp_path, kb_settings, service):
    settings = Settings(data_dir=tmp_path / "data", knowledge_dir=kb_settings.knowledge_dir)
    services = Services(settings)
    parts = [
        "db",
        "audit",
        "people",
        "conversations",
        "deliveries",
        "answer_feedback",
        "references",
        "roles",
        "notices",
        "limiter",
        "catalog",
        "results",
        "dialogs",
        "pilot_store",
        "reports",
        "pilots",
        "register_store",
        "register",
        "audit_view",
        "personal",
        "privacy",
        "status",
        "plan_spec",
        "reminders",
        "plan",
    ]
    for part in parts:
        assert getattr(services, part) is getattr(services, part), part  # built once, then kept
    assert rows(services) == (0, 0)
    services.start()
    written = rows(services)
    assert written == (2, 1)  # Lotse's own register entry and its audit line; the roles as configured
    services.start()
    assert rows(services) == written
    assert Services(settings).start() and rows(services) == written  # a restart: nothing new either


def test_the_core_uses_the_services_database_and_one_answering_service(kb_settings, service):
    core = build_core(kb_settings, service)
    assert core.services.db is service.index.db and core.answers is service
    assert core.services.pilot_store.db is core.services.db and core.services.inbox().db is core.services.db


def test_serve_warms_the_core_up_and_freezes_what_it_built(database_service):
    """`lotse serve` loads before its first event what the first messages waited for — reading the spelling
    dictionaries held the GIL for 0.3–0.6 s and stopped the acks of a whole burst; the action classifier is
    trained (seconds) — then moves it all out of the garbage collector's sight, so that a full collection
    no longer walks the models and indexes (100–300 ms pauses every half minute under load)."""
    import gc

    from bot.answering import query
    from bot.app import server

    core = build_core(database_service.settings, database_service)
    understander = core.services.actions.understander
    understander._model = None  # as in a process that has not understood a message yet
    query.dictionary.cache_clear()
    frozen = gc.get_freeze_count()
    try:
        server._ready_for_load(core)
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
    assert understander._model is not None
    assert query.dictionary.cache_info().currsize == 2  # German and English
    spellers = database_service.retriever.understanding._spellers
    assert set(spellers) == {"de", "en"} and all(speller._deletes is not None for _, speller in spellers.values())
