"""Malformed activities with a valid token that ended as HTTP 500/501, an SQL error or an error reply
before bot/channels/teams/gate.py and the type checks in channel.py: each is now refused with a 4xx
or handled, and nothing is logged as an error. Found by tests/properties/test_teams_activities.py."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from tests.conftest import both_databases

from .conftest import TENANT


def errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def person() -> dict:
    """A user of the test's own: the session's database counts everyone's questions (rate limit)."""
    aad = f"aad-{uuid.uuid4().hex[:8]}"
    return {"id": f"29:{aad}", "name": "Anna", "aadObjectId": aad}


async def answered(teams, sender: dict) -> str:
    """Ask a question; the id of the answer message, which Teams' 👍/👎 refer to."""
    await teams.post(teams.activity("Was passiert in Woche 3 des 90-Tage-Plans?", **{"from": sender}))
    await teams.connector.wait_for()
    return "activity-2"  # the typing indicator is activity-1


def feedback_invoke(teams, reply_to: str, action_value, sender: dict | None = None) -> dict:
    value = {"actionName": "feedback", "actionValue": action_value}
    return teams.activity(
        None,
        type="invoke",
        name="message/submitAction",
        replyToId=reply_to,
        value=value,
        **{"from": sender or person()},
    )


@pytest.mark.parametrize("action_value", ["x", None, [1], {"reaction": 5}, {"feedback": "gut"}])
async def test_a_native_feedback_invoke_without_a_reaction_gets_400_not_501(teams, caplog, action_value):
    response = await teams.post(feedback_invoke(teams, "activity-2", action_value))
    assert response.status == 400 and errors(caplog) == []


@both_databases
@pytest.mark.parametrize("comment", [{"feedbackText": {"a": 1}}, 12345, [1, 2], json.dumps({"feedbackText": 7})])
async def test_a_native_feedback_comment_that_is_no_text_is_stored_without_it(teams, caplog, comment):
    sender = person()
    sent = await answered(teams, sender)
    before = len(teams.core.services.answer_feedback.all())
    response = await teams.post(feedback_invoke(teams, sent, {"reaction": "dislike", "feedback": comment}, sender))
    assert response.status == 200 and errors(caplog) == []  # dict and list: an SQL error (not bindable)
    [row] = teams.core.services.answer_feedback.all()[before:]
    assert (row.rating, row.comment, row.user) == (-1, None, f"teams:{TENANT}:{sender['aadObjectId']}")


@both_databases
async def test_a_huge_native_feedback_comment_is_cut_to_the_card_limit(teams, caplog):
    sender = person()
    sent = await answered(teams, sender)
    before = len(teams.core.services.answer_feedback.all())
    feedback = json.dumps({"feedbackText": "zu alt " * 100_000})
    invoke = feedback_invoke(teams, sent, {"reaction": "like", "feedback": feedback}, sender)
    assert (await teams.post(invoke)).status == 200
    [row] = teams.core.services.answer_feedback.all()[before:]
    assert row.rating == 1 and row.comment.startswith("zu alt") and len(row.comment) <= 2000
    assert errors(caplog) == []


@pytest.mark.parametrize("data", [5, None, {"lotse": "choice"}, "x" * 10_000])
async def test_an_adaptive_card_action_invoke_gets_400_not_501(teams, caplog, data):
    invoke = teams.activity(
        None,
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "x", "data": data}},
    )
    assert (await teams.post(invoke)).status == 400 and errors(caplog) == []


@both_databases
@pytest.mark.parametrize("comment", [{"x": 1}, ["a"], 42])
async def test_a_feedback_form_comment_that_is_no_text_is_stored_without_it(teams, caplog, comment):
    value = {"lotse": "feedback_form", "language": "de", "rating": "4", "comment": comment}
    before = len(teams.core.services.answer_feedback.all())
    assert (await teams.post(teams.activity(None, value=value))).status in (200, 201)
    [thanks] = await teams.connector.wait_for()
    assert thanks["text"] == "Danke für die Rückmeldung!" and errors(caplog) == []  # was "Teams turn failed"
    [row] = teams.core.services.answer_feedback.all()[before:]
    assert (row.rating, row.comment) == (4, None)


async def test_a_feedback_form_with_an_odd_language_and_rating_asks_for_the_rating(teams, caplog):
    value = {"lotse": "feedback_form", "language": 5, "rating": [4]}
    assert (await teams.post(teams.activity(None, value=value))).status in (200, 201)
    [hint] = await teams.connector.wait_for()
    assert hint["text"] and errors(caplog) == []


@pytest.mark.parametrize(
    "change",
    [
        {"from": None},
        {"from": "anna"},
        {"from": {"name": "Anna"}},
        {"conversation": None},
        {"recipient": None},
        {"conversation": {"id": "", "tenantId": TENANT}},
        {"serviceUrl": 5},
        {"id": None},
        {"type": 5},
        {"text": {"a": 1}},
        {"entities": "x"},
        {"timestamp": "gestern"},
        {"membersAdded": [1]},
    ],
    ids=lambda change: ",".join(f"{k}={v!r}" for k, v in change.items()),
)
async def test_an_activity_without_the_fields_lotse_reads_gets_400(teams, caplog, change):
    response = await teams.post({**teams.activity("hilfe"), **change})
    assert response.status == 400 and teams.handled == 0 and errors(caplog) == []
