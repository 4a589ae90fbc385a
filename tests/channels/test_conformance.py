"""The conformance check itself: it finds what the platforms' documentation forbids (a check that could
not fail would guard nothing)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.slack import blocks
from bot.channels.teams import cards
from bot.core.messages import Reply
from tests.channels import conformance


def test_slack_problems_are_found():
    good = [{"type": "section", "block_id": "a", "text": {"type": "mrkdwn", "text": "R&amp;D"}}]
    assert conformance.slack_problems("chat.postMessage", {"text": "R&amp;D", "blocks": good}) == []
    twice = [{"type": "section", "text": {"type": "mrkdwn", "text": "R&amp;amp;D"}}]
    assert "escaped twice" in " ".join(conformance.slack_problems("chat.postMessage", {"text": "x", "blocks": twice}))
    assert conformance.slack_problems("chat.postMessage", {"blocks": good})  # no fallback text
    assert conformance.slack_problems("chat.postMessage", {"text": "x", "blocks": good + good})  # block_id twice
    invalid = [{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "x" * 100},
                                                 "action_id": "a"}]}]  # fmt: skip
    assert conformance.slack_problems("chat.postMessage", {"text": "x", "blocks": invalid})  # slack_sdk: text > 75
    assert conformance.slack_problems("chat.postMessage", {"text": "x", "blocks": good * 51})
    refused = {"text": "", "blocks": invalid, "_status": 400}  # refused by the fake on purpose: not Lotse's
    assert conformance.slack_problems("chat.postMessage", refused) == []


def test_lotses_own_slack_messages_pass():
    from bot.core.messages import Choice, Question

    question = Question("readiness", "q", "choice", [Choice("1:a", "A & B <c>")])
    for text, message_blocks in blocks.render(Reply("R&D <Server> [1]", "de", question=question, answer_id=3)):
        assert conformance.slack_problems("chat.postMessage", {"text": text, "blocks": message_blocks}) == []


def test_markdown_blocks_over_slacks_limit_are_found():
    big = [{"type": "markdown", "text": "x" * 6001}, {"type": "markdown", "text": "y" * 6000}]
    found = conformance.slack_problems("chat.postMessage", {"text": "x", "blocks": big})
    assert found == ["chat.postMessage: markdown blocks over 12,000 characters in one message"]


def test_teams_problems_are_found():
    reply = Reply("Antwort", "de", mode="llm", answered=False)
    assert conformance.teams_problems(cards.render(reply)) == []  # an LLM refusal: no empty citation list
    entity = {"citation": [{"appearance": {"keywords": ["k" * 29, "a", "b", "c"], "name": "n" * 81}}]}
    found = " ".join(conformance.teams_problems({"type": "message", "entities": [entity]}))
    assert "keyword over 28" in found and "4 citation keywords" in found and "name over 80" in found
    assert conformance.teams_problems({"entities": [{"citation": []}]}) == ["an empty citation list"]
    bad_card = {"contentType": conformance.CARD, "content": {"type": "AdaptiveCard", "version": "1.5", "body": 3}}
    assert conformance.teams_problems({"attachments": [bad_card]})
    four = {"actions": [{"type": "imBack", "title": "F", "value": "F?"}] * 4}
    assert conformance.teams_problems({"suggestedActions": four}) == ["4 suggested actions"]
    untitled = {"actions": [{"type": "imBack", "value": "F?"}]}
    assert "without title" in " ".join(conformance.teams_problems({"suggestedActions": untitled}))
    answered = Reply("Antwort [1]", "de", mode="extractive", follow_ups=["A?", "B?", "C?", "D?"])
    assert conformance.teams_problems(cards.render(answered)) == []  # Lotse sends three of four


@dataclass
class Sent:
    activity: dict
    at: float


def test_streamed_updates_closer_than_one_and_a_half_seconds_are_found():
    def update(at: float) -> Sent:
        return Sent({"channelData": {"streamType": "streaming", "streamId": "s"}}, at)

    assert conformance.stream_problems([update(0.0), update(1.6), update(3.2)]) == []
    assert conformance.stream_problems([update(0.0), update(0.5)])
