"""What the store keeps about who gave an entry: the author key of an anonymous entry ties it to no
name (not even through the same person's named entries), exact times of anonymous entries are not
kept, the key is shared through the database by every process, and erasing a champion's data keeps the
group meetings they recorded — on SQLite and the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from bot.pilots.store import Entry, PilotStore
from bot.storage.db import Database
from bot.storage.models import PilotFeedbackRow

USER = "slack:T1:U777"


def _pilots(store: PilotStore) -> tuple[int, int]:
    a = store.create("slack:T1", "A", "admin", start=date(2026, 10, 1), end=date(2026, 12, 31), anonymous=True)
    b = store.create("slack:T1", "B", "admin", start=date(2026, 10, 1), end=date(2026, 12, 31), anonymous=True)
    return a.id, b.id


def test_an_anonymous_entry_cannot_be_joined_to_its_authors_named_entries(db):
    store = PilotStore(db)
    a, b = _pilots(store)
    at = datetime(2026, 11, 10, 14, 37, 12, tzinfo=UTC)
    with db.session() as s:
        hidden = store.add_entry(s, a, USER, "U777", Entry(2, works="Chef ist schuld", anonymous=True), created_at=at)
        store.add_entry(s, b, USER, "U777", Entry(4), created_at=at)
        store.add_entry(s, b, USER, "U777", Entry(5, anonymous=True), created_at=at)
    other = aliased(PilotFeedbackRow)
    with db.session() as s:
        linked = s.execute(
            select(PilotFeedbackRow.id, other.author)
            .join(other, other.author_key == PilotFeedbackRow.author_key)
            .where(PilotFeedbackRow.id == hidden.id, other.id != hidden.id)
        ).all()
        row = s.get(PilotFeedbackRow, hidden.id)
    assert linked == []  # no other entry shares its key: neither the named one nor the anonymous one in B
    assert row.author is None
    assert row.created_at.replace(tzinfo=None) == datetime(2026, 11, 10)  # only the day is kept
    # …and still the author finds, and may withdraw, all three
    assert len(store.entries_of(USER)) == 3
    assert store.entry_of(USER, hidden.id) is not None and store.entry_of("slack:T1:U999", hidden.id) is None
    assert not store.withdraw("slack:T1:U999", hidden.id) and store.withdraw(USER, hidden.id)


def test_the_author_key_lives_in_the_database_and_is_shared(db, tmp_path):
    first, second = PilotStore(db), PilotStore(Database(db.url))  # a second process on the same database
    assert first.key == second.key and len(first.key) == 32
    a, _ = _pilots(first)
    with db.session() as s:
        entry = first.add_entry(s, a, USER, "U777", Entry(3, anonymous=True))
    assert second.entry_of(USER, entry.id) is not None
    other = PilotStore(Database(f"sqlite:///{tmp_path / 'other.db'}"))
    assert other.key != first.key  # each database has its own


def test_erasing_a_champions_data_keeps_the_group_meetings_they_recorded(db):
    store = PilotStore(db)
    a, _ = _pilots(store)
    with db.session() as s:
        group = store.add_entry(s, a, USER, "U777", Entry(4, minutes_saved=30, group_size=12))
        own = store.add_entry(s, a, USER, "U777", Entry(2))
    with db.session() as s:
        assert store.erase(s, USER) == 1
    with db.session() as s:
        assert s.get(PilotFeedbackRow, own.id) is None
        kept = s.get(PilotFeedbackRow, group.id)
        assert (kept.group_size, kept.satisfaction, kept.author) == (12, 4, None)
    assert store.entries_of(USER) == []  # no longer the champion's


def test_pilot_names_for_plain_messages_are_kept_briefly_and_cleared_by_this_processes_writes(db, monkeypatch):
    """Every plain message asks for the team's pilot names (twice): they are kept for a few seconds, so
    a flood costs no query per message; a pilot created, renamed or deleted here is seen at once, one
    created through another process (replica) once the time has passed."""
    from bot.pilots import store as module

    store, other = PilotStore(db), PilotStore(db)
    assert store.names("slack:T9") == []
    pilot = store.create("slack:T9", "Angebotsassistent", "admin", start=date(2026, 10, 1), end=date(2026, 12, 31))
    assert store.names("slack:T9") == ["Angebotsassistent"]
    assert other.names("slack:T9") == ["Angebotsassistent"]
    store.update(pilot.id, "name", "Angebots-Assistent", actor="admin")
    assert store.names("slack:T9") == ["Angebots-Assistent"]
    assert other.names("slack:T9") == ["Angebotsassistent"]  # another replica: not yet
    monkeypatch.setattr(module, "NAMES_TTL", 0.0)
    assert other.names("slack:T9") == ["Angebots-Assistent"]
    monkeypatch.setattr(module, "NAMES_TTL", 5.0)
    store.delete(pilot.id, actor="admin")
    assert store.names("slack:T9") == []
    assert store.names(None) == [p.name for p in store.pilots()]
