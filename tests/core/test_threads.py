"""Turns of different users run on several threads at once (LOTSE_CORE_THREADS), and several replicas
write to one database: what they share is written and read without losing or mixing anything."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from bot.storage.models import ConversationRefRow
from bot.storage.references import ReferenceStore


def test_a_row_inserted_by_another_writer_between_the_read_and_the_insert_is_updated_not_refused(db):
    """A channel's members share its Teams reference: two of them writing at once both get through."""
    store = ReferenceStore(db)
    other, wrote = db.autocommit, []

    def another_writer_first(session, _context, _instances) -> None:
        if not wrote and any(isinstance(row, ConversationRefRow) for row in session.new):
            wrote.append(True)  # once
            with other.connect() as connection:
                connection.execute(
                    insert(ConversationRefRow).values(key="teams:C1", user_key="teams:T:U2", reference="{}")
                )

    event.listen(Session, "before_flush", another_writer_first)
    try:
        store.save("teams:C1", "teams:T:U1", {"serviceUrl": "https://smba.example/emea/"})
    finally:
        event.remove(Session, "before_flush", another_writer_first)
    reference, active = store.get("teams:C1")
    assert wrote and reference == {"serviceUrl": "https://smba.example/emea/"} and active


def test_the_vectors_of_sentences_are_read_whole_while_another_thread_empties_their_cache(monkeypatch):
    """The extractive answerer keeps sentence vectors for all threads and empties the cache when it is
    full; a thread reading it back at that moment failed with a KeyError (and the user got an apology).
    Here the cache is emptied at the worst moment: right after the last new vector was stored."""
    from bot.answering import extractive

    class Embedder:
        name = "test"

        def embed(self, texts):
            yield from (np.full(4, float(len(t)), np.float32) for t in texts)
            extractive._VECTORS.clear()  # another thread's turn filled the cache up meanwhile

    monkeypatch.setattr(extractive, "_VECTORS", {})
    texts = ["Ein Satz.", "Noch ein längerer Satz.", "Ein Satz."]
    vectors = extractive._embedded(Embedder(), texts)
    assert [v[0] for v in vectors] == [float(len(t)) for t in texts]


def test_the_cores_threads_are_two_without_an_llm_four_with_one_or_as_configured(tmp_path):
    from bot.settings import ConfigError, load_settings

    nothing = tmp_path / "none.yaml"
    assert load_settings({}, nothing).turn_threads == 2  # one computes while the other waits for the database
    assert load_settings({"OPENAI_API_KEY": "sk-test"}, nothing).turn_threads == 4  # turns wait on the LLM
    assert load_settings({"LOTSE_CORE_THREADS": "6"}, nothing).turn_threads == 6
    with pytest.raises(ConfigError, match="LOTSE_CORE_THREADS=0"):
        load_settings({"LOTSE_CORE_THREADS": "0"}, nothing)
    with pytest.raises(ConfigError, match="LOTSE_CORE_THREADS=9: use at most 8"):
        load_settings({"LOTSE_CORE_THREADS": "9"}, nothing)
