"""Requests understood by the configured LLM (issue 22): the action catalog as tool schemas.

Asked only when the offline understanding could not place a message that reads like a request (it
costs a call): the model sees the user's own message and nothing else — no passage, no earlier turn — so
a retrieved document can never propose an action (OWASP LLM06). It gets only the tools the user's role
allows, plus "answer_from_guide", and may call one tool. Lotse checks the tool's name and reads every
argument again with its own parsers; an unknown tool, or an endpoint that returns no tool call at all
(many local servers), leaves the message to the offline understanding and the guide.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from bot.actions.catalog import Action

log = logging.getLogger(__name__)
GUIDE = "answer_from_guide"
SYSTEM = (
    "You route one chat message of an employee to an action of the assistant Lotse, or to the guide. "
    "Call exactly one tool. Call an action only when the message asks Lotse to do it or asks about the "
    "team's own state; a question about how something works or what the guide says is answer_from_guide. "
    "Fill an argument only with what the message says."
)
TYPES = {
    "assessment": {"type": "string", "enum": ["readiness", "systems", "data_quality", "skills", "use_cases", "risks"]},
    "date": {"type": "string", "description": "the day as the user said it, e.g. 'nächsten Montag' or 2027-03-08"},
    "weekday": {"type": "string", "description": "the reminders' weekday as the user said it"},
    "time": {"type": "string", "description": "a time of day, e.g. 09:00"},
    "state": {"type": "string", "description": "a German state, by name or code"},
    "task": {"type": "string", "description": "a plan task like 3.1"},
    "pilot": {"type": "string", "description": "the pilot's name or number as the user wrote it"},
    "register": {"type": "string", "description": "the application's name"},
    "quarter": {"type": "string", "description": "a quarter like 2026-Q4"},
    "format": {"type": "string", "enum": ["csv", "xlsx"]},
    "text": {"type": "string", "description": "a name the user gave"},
}  # fmt: skip


def tool_name(action_id: str) -> str:
    return action_id.replace(".", "__")  # tool names allow letters, digits, "_" and "-"


def schemas(actions: Sequence[Action], language: str) -> list[dict]:
    tools = [
        {
            "type": "function",
            "function": {
                "name": tool_name(a.id),
                "description": a.description[language],
                "parameters": {
                    "type": "object",
                    "properties": {s.name: TYPES[s.type] for s in a.slots},
                    "required": [],
                },
            },
        }
        for a in actions
    ]
    guide = {"de": "Eine Frage an den Leitfaden: beantworten, nichts tun", "en": "A question for the guide"}
    tools.append({"type": "function", "function": {"name": GUIDE, "description": guide[language],
                                                   "parameters": {"type": "object", "properties": {}}}})  # fmt: skip
    return tools


class ToolRouter:
    """`model`: a LangChain chat model (the answering service's settings); built on first use."""

    def __init__(self, model: Callable[[], object]) -> None:
        self.model = model

    def choose(self, text: str, language: str, allowed: Sequence[Action]) -> tuple[str, dict] | None:
        """(action id or GUIDE, its raw arguments), or None when the model called no tool we know."""
        from langchain_core.messages import HumanMessage, SystemMessage

        by_name = {tool_name(a.id): a.id for a in allowed}
        try:
            bound = self.model().bind_tools(schemas(allowed, language), tool_choice="auto")
            message = bound.invoke([SystemMessage(SYSTEM), HumanMessage(text)])
        except Exception as exc:  # the endpoint failed: the offline understanding decides
            log.warning("the LLM could not route a request (%s)", type(exc).__name__)
            return None
        calls = getattr(message, "tool_calls", None) or []
        if not calls:
            return None
        call = calls[0]  # one tool call per turn
        if call.get("name") == GUIDE:
            return GUIDE, {}
        if call.get("name") not in by_name:
            log.warning("the LLM called an unknown tool %r", str(call.get("name"))[:60])
            return None
        arguments = call.get("args") if isinstance(call.get("args"), dict) else {}
        return by_name[call["name"]], {k: str(v) for k, v in arguments.items() if isinstance(v, str | int | float)}
