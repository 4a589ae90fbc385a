"""Every channel test is also a conformance test: what it made Lotse send to the fake Slack Web API and
Bot Connector is checked against slack_sdk, the Adaptive Cards schema and the documented limits
(tests/channels/conformance.py)."""

from __future__ import annotations

import pytest

from tests.channels import conformance
from tests.fakes import bot_connector, slack_api


@pytest.fixture(autouse=True)
def sent_as_documented():
    slack_api.STARTED.clear()
    bot_connector.STARTED.clear()
    yield
    problems = []
    for fake in slack_api.STARTED:
        for call in fake.calls:
            problems += conformance.slack_problems(call.method, call.params)
    for connector in bot_connector.STARTED:
        for sent in connector.sent:
            if sent.method != "REFUSED":
                problems += conformance.teams_problems(sent.activity)
        problems += conformance.stream_problems(connector.sent)
    slack_api.STARTED.clear()
    bot_connector.STARTED.clear()
    assert not problems, "sent against the platforms' documentation:\n" + "\n".join(sorted(set(problems)))
