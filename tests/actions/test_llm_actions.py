"""Requests understood by the configured LLM (issue 22), against the fake OpenAI server: the catalog as
tools, only the role's, one call; Lotse reads the arguments again; no tool call or an unknown tool falls
back; the model never sees a passage, so a document cannot propose an action."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest

from bot.actions.understand import Thresholds
from bot.app.services import build_core
from bot.core.messages import Incoming
from tests.conftest import fake_llm

REQUEST = "Könntest du bitte das mit den wöchentlichen Pings für unser Team klarmachen, Sachsen, ab 11.1.2027?"


class Clock:
    def __call__(self) -> datetime:
        return datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


@pytest.fixture
def llm_core(kb_settings, kb_index):
    with fake_llm(kb_settings, kb_index) as (openai, service):
        settings = dataclasses.replace(service.settings, data_dir=kb_settings.data_dir)
        core = build_core(settings, service, clock=Clock())
        # the offline understanding places nothing here: what follows is the model's choice
        never = Thresholds(request=1.1, own=1.1, own_sure=1.1, plain=1.1, plain_sure=1.1, offer=1.1)
        core.services.actions.understander.thresholds = never
        yield core, openai


def say(core, text: str, admin: bool = True, workspace: str | None = None):
    workspace = workspace or f"T{uuid.uuid4().hex[:8]}"
    message = Incoming(text, "UADMIN" if admin else "U1", channel="slack", workspace=workspace, conversation="D1",
                       admin=admin)  # fmt: skip
    return core.handle(message)


def tool_requests(openai) -> list[dict]:
    return [r["json"] for r in openai.requests if r["json"].get("tools")]


def test_the_models_tool_call_is_read_again_and_a_write_still_asks(llm_core):
    core, openai = llm_core
    openai.tool_call = ("plan__start", {"start": "11.1.2027", "state": "Sachsen"})
    reply = say(core, REQUEST)
    assert reply.kind == "confirm"
    assert reply.action == {"id": "plan.start", "arguments": {"start": "2027-01-11", "state": "SN"}}
    [asked] = tool_requests(openai)
    assert [m["role"] for m in asked["messages"]] == ["system", "user"]  # the message alone: no passage
    assert asked["messages"][1]["content"] == REQUEST
    names = {t["function"]["name"] for t in asked["tools"]}
    assert {"plan__start", "pilot__feedback", "answer_from_guide"} <= names


def test_only_the_roles_tools_are_offered_and_bad_arguments_are_dropped(llm_core):
    core, openai = llm_core
    openai.tool_call = ("pilot__feedback", {"pilot": "Gibtsnicht-Pilot"})
    reply = say(core, "Bitte kümmere dich um meine Rückmeldung zum Pilot", admin=False)
    assert reply.action == {"id": "pilot.feedback", "arguments": {}}  # no pilot of that name: not passed on
    names = {t["function"]["name"] for t in tool_requests(openai)[-1]["tools"]}
    assert "plan__start" not in names and "audit__show" not in names and "pilot__feedback" in names


@pytest.mark.parametrize("call", [None, ("delete_everything", {}), ("answer_from_guide", {})])
def test_no_tool_call_an_unknown_tool_or_the_guide_leave_the_message_to_the_guide(llm_core, call):
    core, openai = llm_core
    openai.tool_call = call
    reply = say(core, "Bitte erklär mir, wie viel Budget wir pro Person für Schulungen brauchen")
    assert reply.action is None and reply.kind in ("answer", "refusal")
