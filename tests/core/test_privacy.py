"""The user's rights in chat — "meine Daten" (a JSON file), "lösche meine Daten" (erasure after a
confirmation), "Was speicherst du über mich?" (counts) — and the retention purge.

The chat tests use the real core on the session's knowledge-base database (on SQLite and on PostgreSQL),
each in a workspace of its own, and check the tables directly; the purge runs on a database of its own
(SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot.app.lotse import Lotse
from bot.app.services import build_core
from bot.core.messages import Incoming, Reply
from bot.pilots.report import Reports
from bot.pilots.store import Entry, Kpi, PilotStore
from bot.privacy.personal import PersonalData
from bot.storage.answer_feedback import AnswerFeedbackStore
from bot.storage.audit import AuditLog
from bot.storage.conversations import ConversationStore
from bot.storage.deliveries import DeliveryLog
from bot.storage.dialogs import DialogStore
from bot.storage.models import (
    AnswerFeedbackRow,
    AssessmentResultRow,
    AuditRow,
    ConversationRefRow,
    DeliveryRow,
    DialogRow,
    GapGroupRow,
    GapRow,
    KpiValueRow,
    MessageRow,
    NoticeRow,
    NudgeRow,
    PersonRow,
    PilotFeedbackRow,
    PilotRow,
    PlanRow,
    PlanTaskRow,
    RateRow,
)
from bot.storage.people import People
from bot.storage.references import ReferenceStore
from tests.conftest import both_databases


@pytest.fixture
def core(database_service) -> Lotse:
    return build_core(dataclasses.replace(database_service.settings, console_role="employee"), database_service)


@pytest.fixture
def workspace() -> str:
    return f"p{uuid.uuid4().hex[:10]}"


class Person:
    def __init__(self, core: Lotse, user: str, workspace: str) -> None:
        self.core, self.user, self.workspace = core, user, workspace

    @property
    def message(self) -> Incoming:
        return Incoming("", self.user, channel="console", workspace=self.workspace)

    @property
    def key(self) -> str:
        return f"console:{self.workspace}:{self.user}"

    def say(self, *lines: str) -> Reply:
        reply = None
        for line in lines:
            reply = self.core.handle(Incoming(line, self.user, channel="console", workspace=self.workspace))
        return reply


def pilot_of(core: Lotse, workspace: str):
    return core.services.pilot_store.create(
        f"console:{workspace}",
        "Dokumentensuche",
        "lead",
        start=date(2026, 10, 1),
        end=date(2027, 3, 31),
        users=10,
        anonymous=True,
        kpis=[Kpi("Suchzeit", "min", "lower", 15, 3)],
    )


def give_feedback(person: Person, anonymous: bool, satisfaction: str, works: str) -> int:
    reply = person.say(
        "/pilot feedback Dokumentensuche", "ja" if anonymous else "nein", satisfaction, "30", "6", works, "-", "-"
    )
    assert reply.text.startswith("✅ Danke!"), reply.text
    return int(re.search(r"\(Eintrag (\d+)", reply.text).group(1))


def use_everything(person: Person, question: str, works: str, anonymous: bool) -> dict:
    """A question and its answer, 👍 on it, general feedback, a finished assessment, pilot feedback, a
    conversation reference: one row (or more) in every table that holds personal data."""
    answer = person.say(question)
    assert answer.answer_id is not None, answer.text
    assert person.core.rate_answer(answer.answer_id, person.message, 1)
    assert person.say("/feedback 4 mehr Beispiele").text == "Danke für die Rückmeldung!"
    done = person.say("/check readiness", "ja", "ja", "nein", "ja")
    assert done.mode == "dialog" and done.question is None, done.text
    entry = give_feedback(person, anonymous, "4", works)
    references = ReferenceStore(person.core.services.db)
    references.save(f"teams:conv-{person.key}", person.key, {"user": person.user})
    return {"answer": answer.answer_id, "entry": entry}


def stored(core: Lotse, person: Person, entry_id: int) -> dict[str, int]:
    """What the tables hold of the person, counted straight from the database."""
    prefix = f"{person.key}:"
    with core.services.pilot_store.db.session() as s:
        return {
            "messages": s.scalar(select(func.count()).where(MessageRow.conversation.startswith(prefix))),
            "dialogs": s.scalar(select(func.count()).where(DialogRow.conversation.startswith(prefix))),
            "answer_feedback": s.scalar(select(func.count()).where(AnswerFeedbackRow.user == person.key)),
            "pilot_feedback": s.scalar(select(func.count()).where(PilotFeedbackRow.id == entry_id)),
            "kpi_values": s.scalar(select(func.count()).where(KpiValueRow.feedback_id == entry_id)),
            "conversation_refs": s.scalar(select(func.count()).where(ConversationRefRow.user_key == person.key)),
        }


def results_of(core: Lotse, workspace: str) -> list[tuple[str, str]]:
    with core.services.pilot_store.db.session() as s:
        rows = s.execute(
            select(AssessmentResultRow.assessment, AssessmentResultRow.author)
            .where(AssessmentResultRow.scope == f"console:{workspace}")
            .order_by(AssessmentResultRow.id)
        )
        return [tuple(r) for r in rows.all()]


# -- "meine Daten" -----------------------------------------------------------------------------------


@both_databases
def test_my_data_is_a_json_file_of_the_users_own_data_only(core, workspace):
    pilot = pilot_of(core, workspace)
    (kpi,) = core.services.pilot_store.kpis(pilot.id)
    anna, ben = Person(core, "anna", workspace), Person(core, "ben", workspace)
    anna.say("Was passiert in Woche 3?")
    anna.say("/feedback 5 prima")
    anna.say("/check readiness", "ja")  # started, not finished
    anonymous = give_feedback(anna, True, "3", "Annas Lob")
    ben.say("Welche Tools eignen sich für die Datenqualitätsanalyse?")
    ben.say("/feedback 1 Bens Kritik")
    give_feedback(ben, False, "5", "Bens Geheimnis")

    People(core.services.pilot_store.db).remember(anna.key, "Anna Schmidt")
    AuditLog(core.services.pilot_store.db).record(anna.key, "pilot.update", str(pilot.id), fields=["owner"])
    AuditLog(core.services.pilot_store.db).record(ben.key, "pilot.update", str(pilot.id), fields=["users"])
    reply = anna.say("meine Daten")
    assert len(reply.files) == 1 and reply.files[0].mime == "application/json"
    path = reply.files[0].path
    assert os.stat(path).st_mode & 0o777 == 0o600
    raw = open(path, encoding="utf-8").read()
    data = json.loads(raw)
    assert data["user"] == anna.key and data["profile_name"] == "Anna Schmidt"
    assert [(a["action"], json.loads(a["detail"])) for a in data["audit_log"]] == [
        ("pilot.update", {"fields": ["owner"]})
    ]
    assert [(m["role"], m["conversation"]) for m in data["messages"]] == [("user", "default"), ("assistant", "default")]
    assert data["messages"][0]["text"] == "Was passiert in Woche 3?"
    # every time in Berlin time with its offset, as in every export (SQLite's stored times have no zone)
    times = [data["exported_at"], data["messages"][0]["at"], data["dialogs"][0]["started_at"]]
    times += [a["at"] for a in data["audit_log"]] + [f["at"] for f in data["answer_feedback"]]
    for stamp in times:
        moment = datetime.fromisoformat(stamp)
        assert moment.utcoffset() == moment.astimezone(ZoneInfo("Europe/Berlin")).utcoffset(), stamp
        assert abs(moment - datetime.now(UTC)) < timedelta(minutes=5), stamp
    # the anonymous entry's dialog is deleted when the entry is stored: nothing ties the entry to anna
    assert [d["assessment"] for d in data["dialogs"]] == ["readiness"]
    with core.services.pilot_store.db.session() as s:
        assert s.get(PilotFeedbackRow, anonymous).dialog_id is None
        assert not s.scalar(
            select(func.count()).where(
                DialogRow.assessment == f"pilot_feedback_{pilot.id}", DialogRow.conversation.startswith(f"{anna.key}:")
            )
        )
    assert [(f["rating"], f["comment"]) for f in data["answer_feedback"]] == [(5, "prima")]
    (entry,) = data["pilot_feedback"]
    assert (entry["id"], entry["pilot"], entry["anonymous"], entry["satisfaction"], entry["works"]) == (
        anonymous,
        "Dokumentensuche",
        True,
        3,
        "Annas Lob",
    )
    assert entry["minutes_saved_per_week"] == 30 and entry["kpi_values"] == {kpi.name: 6}  # by the KPI's name, readable
    for theirs in ("Datenqualitätsanalyse", "Bens Kritik", "Bens Geheimnis", "ben"):
        assert theirs not in raw
    assert reply.text.startswith(
        "Ihre Daten als JSON: 2 Nachrichten, 1 Dialog, 0 Bewertungsergebnisse, "  # one of something: singular
        "1 Bewertung einer Antwort, 1 Pilot-Rückmeldung."
    )


# -- "lösche meine Daten" ----------------------------------------------------------------------------


@both_databases
def test_erasure_asks_first_and_then_really_removes_the_rows(core, workspace):
    pilot_of(core, workspace)
    anna, ben = Person(core, "anna", workspace), Person(core, "ben", workspace)
    annas = use_everything(anna, "Was passiert in Woche 3?", "Annas Lob", anonymous=True)
    bens = use_everything(ben, "Was kostet KI im ersten Jahr?", "Bens Lob", anonymous=False)
    before = stored(core, anna, annas["entry"])
    # dialogs: the readiness check only; the anonymous feedback's dialog went when the entry was stored
    assert before == {
        "messages": 2,
        "dialogs": 1,
        "answer_feedback": 2,
        "pilot_feedback": 1,
        "kpi_values": 1,
        "conversation_refs": 1,
    }
    bens_before = stored(core, ben, bens["entry"])
    assert results_of(core, workspace) == [("readiness", "anna"), ("readiness", "ben")]
    people = People(core.services.pilot_store.db)
    people.remember(anna.key, "Anna Schmidt")
    people.remember(ben.key, "Ben Berg")
    with core.services.pilot_store.db.session() as s:
        s.add_all(
            [NoticeRow(user_key=key, kind="test") for key in (anna.key, ben.key)]
            + [
                RateRow(user_key=key, window="m:test", count=1, expires_at=datetime.now(UTC))
                for key in (anna.key, ben.key)
            ]
        )

    ask = anna.say("lösche meine Daten")
    assert ask.text.endswith("Wirklich alles löschen? (ja / nein)") and ask.question.step == "confirm"
    kept = anna.say("nein")
    assert kept.text == "Nichts gelöscht. Ihre Daten bleiben gespeichert."
    # everything is still there (and the confirmation is one more dialog)
    assert stored(core, anna, annas["entry"]) == {**before, "dialogs": 2}
    assert results_of(core, workspace) == [("readiness", "anna"), ("readiness", "ben")]

    anna.say("lösche meine Daten")
    erased = anna.say("ja")
    assert erased.text.startswith(  # one of something in the singular, and what stays, and why
        "🗑️ Gelöscht: 2 Nachrichten, 3 Dialoge, 2 Bewertungen, 1 Pilot-Rückmeldung. "
        "Bei 1 Team-Ergebnis ist Ihr Name entfernt. Was bleibt, und warum: Team-Ergebnisse und Pläne"
    )
    assert "im Änderungsprotokoll" in erased.text
    assert stored(core, anna, annas["entry"]) == dict.fromkeys(before, 0)
    assert people.name_of(anna.key) is None and people.name_of(ben.key) == "Ben Berg"
    with core.services.pilot_store.db.session() as s:
        # the notices shown and the rate counters go too; ben's stay
        assert s.scalars(select(NoticeRow.user_key).where(NoticeRow.kind == "test")).all() == [ben.key]
        assert s.scalars(select(RateRow.user_key).where(RateRow.window == "m:test")).all() == [ben.key]
    with core.services.pilot_store.db.session() as s:
        assert s.get(MessageRow, annas["answer"]) is None
    # ben keeps all of his
    assert stored(core, ben, bens["entry"]) == bens_before
    # the team's assessment results stay, without anna's name
    assert results_of(core, workspace) == [("readiness", "(gelöscht)"), ("readiness", "ben")]
    assert anna.say("/pilot meine").text.startswith("Sie haben noch keine Rückmeldung")


@both_databases
def test_erasure_removes_the_user_from_the_team_records_that_stay(database_service, workspace):
    """The team's plan, its ticked-off tasks and its pilots stay, but no longer name the person."""
    settings = dataclasses.replace(database_service.settings, console_role="admin")
    core = build_core(settings, database_service, clock=lambda: datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    anna, ben = Person(core, "anna", workspace), Person(core, "ben", workspace)
    assert "Der 90-Tage-Plan läuft." in anna.say("/plan start 2026-11-30 BY").text
    assert anna.say("/plan erledigt 1.1").text == "Aufgabe 1.1 ist erledigt. ✅"
    assert ben.say("/plan erledigt 1.2").text == "Aufgabe 1.2 ist erledigt. ✅"
    pilot = core.services.pilot_store.create(
        f"console:{workspace}", "Annas Pilot", anna.key, start=date(2026, 10, 1), end=date(2027, 3, 31)
    )

    anna.say("lösche meine Daten")
    assert anna.say("ja").text.startswith("🗑️ Gelöscht:")

    with core.services.pilot_store.db.session() as s:
        plan = s.scalars(select(PlanRow).where(PlanRow.scope == f"console:{workspace}")).one()
        query = select(PlanTaskRow.task, PlanTaskRow.updated_by).where(PlanTaskRow.plan_id == plan.id)
        tasks = {task: by for task, by in s.execute(query).all()}
        created_by = s.get(PilotRow, pilot.id).created_by
    assert plan.created_by == "(gelöscht)"
    assert created_by == "(gelöscht)"
    assert tasks == {"1.1": "(gelöscht)", "1.2": ben.key}  # anna's tick stays, without her; ben's is his


@both_databases
def test_what_is_stored_counts_everything_including_pilot_feedback(core, workspace):
    pilot_of(core, workspace)
    anna, ben = Person(core, "anna", workspace), Person(core, "ben", workspace)
    anna.say("Was passiert in Woche 3?")
    anna.say("/feedback 5")
    anna.say("/check readiness", "ja", "ja", "ja", "ja")
    give_feedback(anna, True, "4", "-")
    give_feedback(anna, False, "2", "-")
    use_everything(ben, "Was kostet KI im ersten Jahr?", "Bens Lob", anonymous=True)

    reply = anna.say("Was speicherst du über mich?")
    assert reply.text == (
        "Über Sie gespeichert – Nachrichten (Fragen und Antworten): 2 · Dialoge (Bewertungen, Rückmeldungen): 2 · "
        "abgeschlossene Bewertungen: 1 · Rückmeldungen: 1 · Pilot-Rückmeldungen: 2 · Fragen, die ich nicht "
        "beantworten konnte (für die Wissenslücken-Liste): 0 · Profilname aus Slack/Teams "
        "(nur zum Maskieren vor einem externen KI-Modell): 0 · Ihre Einträge im Änderungsprotokoll: 0. "
        "Alles als Datei: „meine Daten“ · löschen: „lösche meine Daten“."
    )
    english = anna.say("What do you know about me?")
    assert english.language == "en" and "assessments finished: 1 · feedback given: 1 · pilot feedback: 2" in (
        english.text
    )


# -- the retention purge -----------------------------------------------------------------------------


OLD = datetime(2024, 6, 1, tzinfo=UTC)
CUTOFF = datetime(2025, 1, 1, tzinfo=UTC)
NEW = datetime(2025, 3, 1, tzinfo=UTC)


def nudge(key: str, due: datetime, status: str) -> NudgeRow:
    return NudgeRow(
        key=key, plan_id=1, target_id=1, channel="console", occurrence=key, kind="week", due_at=due, status=status
    )


def test_purge_deletes_what_is_older_than_the_cutoff_and_keeps_the_rest(db):
    pilots = PilotStore(db, b"k" * 32)
    conversations, feedback, dialogs = ConversationStore(db), AnswerFeedbackStore(db), DialogStore(db)
    old_answer = conversations.append_turn("console:w:anna:default", "alte Frage", "alte Antwort", "de", [])
    new_answer = conversations.append_turn("console:w:anna:default", "neue Frage", "neue Antwort", "de", [])
    old_dialog = dialogs.start("console:w:anna:a", "readiness", 1, "de", "anna", "console:w").id
    touched_dialog = dialogs.start("console:w:anna:b", "systems", 1, "de", "anna", "console:w").id
    new_dialog = dialogs.start("console:w:anna:c", "risks", 1, "de", "anna", "console:w").id
    feedback.general("console:w:anna", 2, "alt")
    feedback.general("console:w:anna", 5, "neu")
    DeliveryLog(db).first_time("old-event")
    DeliveryLog(db).first_time("new-event")
    p = pilots.create(
        "console:w",
        "Suche",
        "lead",
        start=date(2024, 1, 1),
        end=date(2025, 12, 31),
        kpis=[Kpi("Suchzeit", "min", "lower", 15, 3)],
    )
    (kpi,) = pilots.kpis(p.id)
    with db.session() as s:
        old_entry = pilots.add_entry(s, p.id, "console:w:anna", "anna", Entry(3, 10, {kpi.id: 9}), created_at=OLD).id
        edited_entry = pilots.add_entry(s, p.id, "console:w:ben", "ben", Entry(4, 20), created_at=OLD).id
        new_entry = pilots.add_entry(s, p.id, "console:w:carl", "carl", Entry(5, 30), created_at=NEW).id
        s.add_all(
            [
                nudge("old-sent", OLD, "sent"),
                nudge("old-failed", OLD, "failed"),
                nudge("old-pending", OLD, "pending"),
                nudge("new-sent", NEW, "sent"),
            ]
        )
        s.add_all(
            [
                AssessmentResultRow(
                    assessment="readiness",
                    scope="console:w",
                    author="anna",
                    language="de",
                    answers="{}",
                    created_at=OLD,
                ),
                AssessmentResultRow(
                    assessment="readiness", scope="console:w", author="ben", language="de", answers="{}", created_at=NEW
                ),
            ]
        )
    with db.session() as s:
        s.execute(update(MessageRow).values(created_at=NEW))
        s.execute(update(MessageRow).where(MessageRow.id <= old_answer).values(created_at=OLD))
        s.execute(update(DialogRow).values(started_at=OLD, updated_at=OLD))
        s.execute(update(DialogRow).where(DialogRow.id == touched_dialog).values(updated_at=NEW))  # answered lately
        s.execute(update(DialogRow).where(DialogRow.id == new_dialog).values(started_at=NEW, updated_at=NEW))
        s.execute(update(AnswerFeedbackRow).values(created_at=NEW))
        s.execute(update(AnswerFeedbackRow).where(AnswerFeedbackRow.comment == "alt").values(created_at=OLD))
        s.execute(update(DeliveryRow).values(created_at=NEW))
        s.execute(update(DeliveryRow).where(DeliveryRow.key == "old-event").values(created_at=OLD))
        s.execute(update(PilotFeedbackRow).where(PilotFeedbackRow.id == edited_entry).values(updated_at=NEW))
        s.add_all(
            [
                AuditRow(at=OLD, actor="console:w:anna", action="pilot.create", target="1"),
                AuditRow(at=NEW, actor="console:w:anna", action="pilot.update", target="1"),
                RateRow(user_key="console:w:anna", window="m:old", count=3, expires_at=OLD),
                RateRow(user_key="console:w:anna", window="m:new", count=1, expires_at=NEW),
                PersonRow(user_key="console:w:anna", name="Anna Alt", updated_at=OLD),
                PersonRow(user_key="console:w:ben", name="Ben Neu", updated_at=NEW),
            ]
        )
        old_group = GapGroupRow(example="alte Frage", language="de", created_at=OLD, updated_at=OLD)
        new_group = GapGroupRow(example="alt", language="de", created_at=OLD, updated_at=NEW)
        s.add_all([old_group, new_group])
        s.flush()
        s.add_all(
            [
                GapRow(group_id=old_group.id, question="alte Frage", language="de", channel="console", kind="refused",
                       user_key="console:w:anna", created_at=OLD),
                GapRow(group_id=new_group.id, question="alt", language="de", channel="console", kind="refused",
                       user_key="console:w:anna", created_at=OLD),
                GapRow(group_id=new_group.id, question="neu", language="de", channel="console", kind="downvoted",
                       user_key="console:w:ben", created_at=NEW),
            ]
        )  # fmt: skip

    counts = PersonalData(db, pilots).purge(CUTOFF)

    assert counts == {
        "messages": 2,
        "dialogs": 1,
        "feedback": 1,
        "pilot_feedback": 1,
        "gaps": 2,
        "deliveries": 1,
        "nudges": 2,
        "results": 1,
        "audit": 1,
        "rate_limits": 1,
        "profile_names": 1,
    }
    with db.session() as s:
        assert s.scalars(select(MessageRow.text).order_by(MessageRow.id)).all() == ["neue Frage", "neue Antwort"]
        assert s.get(MessageRow, new_answer) is not None
        assert sorted(s.scalars(select(DialogRow.id)).all()) == [touched_dialog, new_dialog]
        assert old_dialog not in s.scalars(select(DialogRow.id)).all()
        assert s.scalars(select(AnswerFeedbackRow.comment)).all() == ["neu"]
        assert s.scalars(select(DeliveryRow.key)).all() == ["new-event"]
        assert sorted(s.scalars(select(PilotFeedbackRow.id)).all()) == [edited_entry, new_entry]
        assert s.scalar(select(func.count()).where(KpiValueRow.feedback_id == old_entry)) == 0
        assert sorted(s.scalars(select(NudgeRow.key)).all()) == ["new-sent", "old-pending"]  # not sent yet: stays
        results = s.execute(select(AssessmentResultRow.author).order_by(AssessmentResultRow.id)).scalars().all()
        assert results == ["(gelöscht)", "ben"]  # results stay; the old one loses its author
        # the audit log keeps the retention too; the purge itself is recorded with its counts
        kept = s.execute(select(AuditRow.action, AuditRow.actor, AuditRow.detail).order_by(AuditRow.id)).all()
        assert [(a, who) for a, who, _ in kept] == [
            ("pilot.create", "lead"),
            ("pilot.update", "console:w:anna"),
            ("data.purge", "system"),
        ]
        assert json.loads(kept[-1][2]) == {"before": CUTOFF.date().isoformat(), **counts}
        assert s.scalars(select(RateRow.window)).all() == ["m:new"]
        # gaps: the old ones go, a group with none left too; a kept group's example is a question still kept
        assert s.scalars(select(GapRow.question)).all() == ["neu"]
        assert s.scalars(select(GapGroupRow.example)).all() == ["neu"]
        assert s.scalars(select(PersonRow.name)).all() == ["Ben Neu"]  # a name not seen for the period goes

    assert PersonalData(db, pilots).purge(CUTOFF) == dict.fromkeys(counts, 0)  # nothing left to do


def test_a_rating_the_purge_keeps_still_counts_as_a_rating_of_an_answer(db):
    """An answer given before the cutoff and rated 👎 after it: the purge deletes the answer, keeps the
    rating — which must stay a 👎 on an answer, not turn into a general rating of −1."""
    conversations, feedback = ConversationStore(db), AnswerFeedbackStore(db)
    answer = conversations.append_turn("console:w:anna:default", "Frage", "Antwort", "de", [])
    feedback.rate(answer, "console:w:anna", -1, "outdated")
    with db.session() as s:
        s.execute(update(MessageRow).values(created_at=OLD))
        s.execute(update(AnswerFeedbackRow).values(created_at=NEW))
    reports = Reports(db)
    before = reports.answers(None, None)
    assert (before.up, before.down, before.reasons, before.general) == (0, 1, {"outdated": 1}, {})

    assert PersonalData(db).purge(CUTOFF)["messages"] == 2
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AnswerFeedbackRow)) == 1  # the newer rating is kept
    after = reports.answers(None, None)
    assert (after.down, after.reasons, after.general) == (1, {"outdated": 1}, {})
