"""Property tests of /api/messages: activities with fields dropped, retyped, huge or in odd Unicode —
messages, card submissions (`value`), Teams' native 👍/👎 (`invoke` message/submitAction), installs —
and bodies that are not activities at all get a status below 500 with a valid token, and where Lotse
answers, no error or stack trace is logged. Activities carry real signed Bot Framework tokens and go
over HTTP to Lotse's running server; replies land at the fake Bot Connector (tests/fakes/bot_connector.py)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.channels.teams.conftest import APP_ID, running_teams
from tests.properties.channels import HTTP, JSON, ODD, logged_errors, mutated, settled, to_json


@pytest.fixture
async def teams(database_service):
    async for harness in running_teams(database_service.settings, database_service):
        yield harness


async def post(teams, body, content_type: str = "application/json"):
    service_url = body.get("serviceUrl") if isinstance(body, dict) else None
    token = teams.connector.token(APP_ID, service_url if isinstance(service_url, str) else teams.connector.url)
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {token}"}
    data = body if isinstance(body, str) else to_json(body)
    async with teams.session.post(
        f"{teams.url}/api/messages", data=data.encode("utf-8", "surrogatepass"), headers=headers
    ) as response:
        await response.read()
        return response


def from_someone(teams, text: str | None, **extra) -> dict:
    """An activity from a user of its own: the session's database counts everyone's questions (rate
    limit), and other tests ask as the harness's user."""
    aad = f"aad-{uuid.uuid4().hex[:8]}"
    return teams.activity(text, **{"from": {"id": f"29:{aad}", "name": "Anna", "aadObjectId": aad}}, **extra)


def activities(teams) -> list[dict]:
    feedback = {
        "actionName": "feedback",
        "actionValue": {"reaction": "dislike", "feedback": '{"feedbackText": "veraltet"}'},
    }
    return [
        from_someone(teams, "hilfe"),
        from_someone(
            teams,
            None,
            value={"lotse": "choice", "value": "check:readiness:0:ja", "title": "Ja"},
            replyToId="activity-1",
        ),
        from_someone(teams, None, value={"lotse": "control", "value": "control:cancel"}, replyToId="activity-1"),
        from_someone(teams, None, value={"lotse": "input", "answer": "SAP"}, replyToId="activity-1"),
        from_someone(teams, None, value={"lotse": "feedback_form", "language": "de", "rating": "4", "comment": "gut"}),
        from_someone(teams, None, type="invoke", name="message/submitAction", replyToId="activity-2", value=feedback),
        from_someone(teams, None, type="conversationUpdate", membersAdded=[{"id": f"28:{APP_ID}"}]),
        from_someone(teams, None, type="installationUpdate", action="add"),
    ]


async def assert_clean(caplog, response) -> None:
    await settled()
    errors = logged_errors(caplog)
    caplog.clear()  # the next example starts with an empty log, also after this one failed
    assert response.status < 500, response.status
    assert response.status != 401  # the token is valid: a 401 here hides an exception (see TeamsChannel.handle)
    assert errors == []


async def assert_still_serving(teams) -> None:
    before = len(teams.connector.messages())
    assert (await teams.say("hilfe")).status in (200, 201)
    await teams.connector.wait_for(before + 1)


@settings(HTTP, max_examples=120)
@given(data=st.data())
async def test_no_malformed_activity_crashes_the_server(teams, caplog, data):
    valid = data.draw(st.sampled_from(activities(teams)))
    activity = data.draw(mutated(valid, keep=("serviceUrl",)))
    await assert_clean(caplog, await post(teams, activity))


@settings(HTTP, max_examples=60)
@given(data=st.data())
async def test_any_card_value_or_feedback_value_is_handled(teams, caplog, data):
    """`value` (and `value.actionValue`, `value.action.data`) straight from the client: any JSON."""
    kind = data.draw(st.sampled_from(["message", "feedback", "action"]))
    odd = data.draw(JSON | ODD)
    if kind == "message":
        activity = from_someone(teams, None, value=odd, replyToId="activity-1")
    elif kind == "feedback":
        value = {"actionName": "feedback", "actionValue": odd}
        if data.draw(st.booleans()):
            value["actionValue"] = {"reaction": data.draw(ODD), "feedback": odd}
        activity = from_someone(
            teams, None, type="invoke", name="message/submitAction", replyToId="activity-2", value=value
        )
    else:
        name = data.draw(st.sampled_from(["adaptiveCard/action", "message/submitAction", "task/fetch", "x"]) | ODD)
        activity = from_someone(
            teams,
            None,
            type="invoke",
            name=name,
            value={"action": {"type": "Action.Execute", "verb": "lotse", "data": odd}},
        )
    await assert_clean(caplog, await post(teams, activity))


@settings(HTTP, max_examples=30)
@given(body=JSON | ODD, content_type=st.sampled_from(["application/json", "application/json; charset=utf-8"]))
async def test_a_body_that_is_no_activity_gets_a_4xx(teams, caplog, body, content_type):
    response = await post(teams, body if isinstance(body, str) else to_json(body), content_type)
    await assert_clean(caplog, response)
    assert teams.handled == 0


async def test_after_malformed_activities_lotse_still_answers(teams, caplog):
    for body in ([], {"type": "message", "from": "x"}, {"type": "invoke", "name": "message/submitAction"}):
        assert (await post(teams, body)).status < 500
    await assert_still_serving(teams)
    assert logged_errors(caplog) == []
