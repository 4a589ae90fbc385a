"""Natural-language actions (issue 22): a request in plain words runs the command it stands for.

The turn stays deterministic first — buttons, slash commands and an open dialog's answers are taken by
their routes before this one sees anything. Then `understand` decides: act, offer (a question *about* an
action: the guide answers and the action is offered as a button), or nothing (the question route answers).

Safety (OWASP LLM06): only the user's own message proposes actions, never a retrieved passage. An action
runs as the slash command it stands for, through the routing table: the same roles, the same direct-chat
rules and the same refusal as typing it. Reads and dialog starts run at once; a write shows its resolved
values with Confirm / Cancel — a single-use pending action (bot/storage/pending.py) that only the requester
can confirm, for 15 minutes; a destructive action keeps its own typed confirmation (its dialog).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from bot.actions import slots
from bot.actions.catalog import Action
from bot.actions.understand import Understander, Understanding
from bot.core import i18n
from bot.core.messages import Choice, Incoming, Question, Reply
from bot.core.routing import Route, Turn
from bot.storage.pending import PendingActions

YES = {"ja", "yes", "ok", "okay", "bestaetigen", "bestätigen", "confirm", "jawohl", "passt", "ja bitte", "yes please",
       "mach", "los"}  # fmt: skip
NO = {"nein", "no", "abbrechen", "cancel", "stopp", "stop", "lieber nicht", "doch nicht", "nope"}
# single words that steer a dialog (bot/dialogs/engine.py): typed alone outside one, they do nothing here
LONE = {"zurueck", "back", "ueberspringen", "skip", "pause", "spaeter", "later", "abbrechen", "cancel", "abbruch",
        "stop", "stopp", "behalten", "keep", "fertig", "done", "keine", "nein", "no", "ende", "finished", "neu", "new",
        "ja", "yes", "ok", "weiter", "-", "?"}  # fmt: skip
REFUSALS = ("admin_only", "pilot_champions_only", "register_admins_only", "pilot_private_only")
ASKED = 1500  # characters of the message a "just answer my question" button carries (Slack allows 2,000)
# run(message, command) → (the reply, whether the routing table refused it for the sender's role or place)
Runner = Callable[[Incoming, str, str], tuple[Reply, bool]]  # (message, command, the request's language)


class Actions:
    def __init__(
        self,
        understander: Understander,
        pending: PendingActions,
        *,
        names: Callable[[str, str], list[str]],
        today: Callable[[], date] = date.today,
        enabled: bool = True,
    ) -> None:
        self.understander = understander
        self.actions = understander.actions
        self.pending = pending
        self.names = names  # (slot type "pilot"/"register", scope) → the live names
        self.today = today
        self.enabled = enabled
        self.run: Runner | None = None  # the app sets it: a command through the routing table
        self.defer: Callable[[str], bool] = lambda text: False  # the app sets it: questions others answer
        self.role_of: Callable[[Incoming], str] = lambda message: "admin" if message.admin else "employee"
        self.tools = None  # a ToolRouter when an LLM is configured (bot/actions/llm.py)
        self.busy: Callable[[Incoming], bool] = lambda message: False  # the app sets it: an assessment runs
        self.mask: Callable[[str], str] = lambda text: text  # personal data out, towards a non-local LLM
        self.answer: Callable[[Turn, str], Reply] | None = None  # the app sets it: the guide's answer

    # -- routes ---------------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [
            Route("action-button", self.on_button, button="action:", language="conversation"),
            Route("action-offer", self.on_offer, button="offer:", language="conversation"),
            Route("action-ask", self.on_ask, button="ask:", language="conversation"),
            Route("action-confirm", self.on_typed_answer, phrase=self._yes_or_no, typed_only=True,
                  language="conversation"),
        ]  # fmt: skip

    def route(self) -> Route:
        """Plain words: after the commands and an open dialog, before the guide."""
        return Route("action", self.on_words, typed_only=True, language="message")  # as the request was written

    def slot_route(self) -> Route:
        """The value an action asked for ("Ab welchem Tag?" — "ab nächsten Montag"): before plain words."""
        return Route("action-value", self.on_value, phrase=self._names_a_value, typed_only=True, language="turn")

    def _names_a_value(self, text: str) -> bool:
        return bool(slots.start_date(text, self.today()) or slots.task(text))

    def on_value(self, turn: Turn, language: str) -> Reply | None:
        asking = self.pending.open(turn.message.conversation_key, state="asking")
        action = self.actions.get(asking.action) if asking is not None else None
        if action is None or not self.pending.take(turn.message.conversation_key, asking.token, "done", "asking"):
            return None
        arguments = {**asking.arguments, **self.arguments(action, turn.text, turn.message.scope)}
        return self.act(turn.message, action, arguments, asking.language)

    # -- understanding -------------------------------------------------------------------------------

    def arguments(self, action: Action, text: str, scope: str) -> dict[str, str]:
        """The slot values the message names, normalised (always echoed back before a write)."""
        today, found = self.today(), {}
        for slot in action.slots:
            if slot.type in ("pilot", "register"):  # live names: pilots of this team, register entries
                value = slots.pick(text, self.names(slot.type, scope))
            else:
                value = slots.PARSERS[slot.type](text, today)
            if value:
                found[slot.name] = value
        return found

    def understand(self, text: str, scope: str = "") -> Understanding:
        return self.understander.understand(text, self.live(text, scope))

    def live(self, text: str, scope: str) -> frozenset[str]:
        """Which kinds of live names the message names: a pilot of the team (by number, name, beginning or
        close spelling), a register entry (by its exact name; not Lotse's own, which people address)."""
        kinds = set()
        if slots.pick(text, self.names("pilot", scope), parts=False) is not None:
            kinds.add("pilot")
        low = slots.fold(text)
        entries = [slots.fold(n) for n in self.names("register", scope) if slots.fold(n) != "lotse"]
        firsts = [n.split()[0] for n in entries if n.split()]
        # an entry's whole name, or its first word where that is long and no other entry's ("DeepL" of "DeepL Pro")
        named = entries + [w for w in firsts if len(w) >= 5 and firsts.count(w) == 1]
        if any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", low) for n in named):
            kinds.add("register")
        return frozenset(kinds)

    def on_words(self, turn: Turn, language: str) -> Reply | None:
        if not self.enabled or not turn.text or turn.text.startswith("/") or self.run is None:
            return None
        if self.defer(turn.text):  # a question about the team's own assessment results: answered from them
            return None
        words = slots.fold(turn.text).strip(" .!?").split()
        if len(words) == 1 and words[0] in LONE:  # "abbrechen", "stop", "fertig" outside a dialog: no action
            return None
        found = self.understand(turn.text, turn.message.scope)
        if found.kind == "none" and self.tools is not None and {"request", "own"} & set(found.cues):
            return self._by_tools(turn, language)  # it reads like a request the offline model could not place
        if found.kind == "none" or found.action is None:
            return None
        action = found.action
        arguments = self.arguments(action, turn.text, turn.message.scope)
        if found.kind == "offer":
            return self._offer(turn, language, action, arguments)
        if found.kind == "clarify":
            return self._clarify(turn, language, found)
        return self.act(turn.message, action, arguments, language)

    def inside_dialog(self, message: Incoming, language: str) -> tuple[str, Choice | None] | None:
        """A request typed where an assessment asks for a choice: a read runs at once (its text, the open
        question follows); another action is offered as a button that pauses the assessment and does it."""
        if not self.enabled or self.run is None or self.defer(message.text):
            return None
        if len(message.text.split()) < 3:  # "done", "weiter", a name: a (wrong) answer, not a request
            return None
        found = self.understand(message.text, message.scope)
        if found.kind != "act" or found.action is None:
            return None
        action = found.action
        arguments = self.arguments(action, message.text, message.scope)
        if action.effect == "read":
            return self.act(message, action, arguments, language).text, None
        label = i18n.text("action_switch", language, what=action.description[language])
        choice = Choice(f"offer:{action.id}:{json.dumps(arguments, ensure_ascii=False)}", label)
        return i18n.text("action_switch_intro", language, what=action.description[language]), choice

    def _by_tools(self, turn: Turn, language: str) -> Reply | None:
        """The LLM picks a tool among the actions this role may use (bot/actions/llm.py); its arguments are
        read again by Lotse's own parsers, the message's own words filling what the model left out."""
        from bot.actions.llm import GUIDE

        role = self.role_of(turn.message)
        allowed = [a for a in self.actions.values() if role in a.roles]
        chosen = self.tools.choose(self.mask(turn.text), language, allowed)
        if chosen is None or chosen[0] == GUIDE:
            return None
        action = self.actions[chosen[0]]
        arguments = self.validated(action, chosen[1], turn.message.scope)
        for name, value in self.arguments(action, turn.text, turn.message.scope).items():
            arguments.setdefault(name, value)
        return self.act(turn.message, action, arguments, language)

    def validated(self, action: Action, raw: dict[str, str], scope: str) -> dict[str, str]:
        """A model's arguments, each read again as if typed: what no parser accepts is dropped."""
        found = {}
        for slot in action.slots:
            value = raw.get(slot.name)
            if not value:
                continue
            if slot.type == "text":
                found[slot.name] = value.strip()[:80]
            else:
                one = replace(action, slots=(replace(slot, name=slot.name),))
                parsed = self.arguments(one, value, scope).get(slot.name)
                if parsed:
                    found[slot.name] = parsed
        return found

    def act(self, message: Incoming, action: Action, arguments: dict[str, str], language: str) -> Reply:
        """Run a read or dialog start at once; ask to confirm a write; ask for a missing required value."""
        missing = [s for s in action.slots if s.required and s.name not in arguments and s.type in ("date", "task")]
        if missing and self.role_of(message) in action.roles:  # asked like a dialog step: the next message may say
            self.pending.propose(message.conversation_key, action.id, arguments, "", language, state="asking")
            key = f"action_missing_{missing[0].type}"
            return Reply(i18n.text(key, language, what=action.description[language]), language, answered=False,
                         kind="clarify", action={"id": action.id, "arguments": arguments})  # fmt: skip
        command = action.render(arguments, language)
        if action.confirms:
            return self._propose(message, action, arguments, command, language)
        return self._run(message, action, arguments, command, language)

    def _run(self, message: Incoming, action: Action, arguments: dict[str, str], command: str, language: str) -> Reply:
        """The command, answered in the language of the request (its command words are German)."""
        reply, refused = self.run(replace(message, text=command, value=None), command, language)
        refused = refused or any(reply.text.startswith(i18n.text(k, reply.language)) for k in REFUSALS)
        kind = "refusal" if refused else "dialog" if reply.question is not None else "command"
        return replace(reply, kind=kind, action={"id": action.id, "arguments": arguments})

    # -- confirming a write --------------------------------------------------------------------------

    def _propose(self, message: Incoming, action: Action, arguments: dict, command: str, language: str) -> Reply:
        if self.role_of(message) not in action.roles:  # the command refuses before it changes anything: its
            return self._run(message, action, arguments, command, language)  # refusal, as for the typed command
        preview = None
        if command.startswith("/plan start"):  # what the plan would be, without starting it
            asked = _preview(command, language)
            preview, refused = self.run(replace(message, text=asked, value=None), asked, language)
            if refused or any(preview.text.startswith(i18n.text(k, preview.language)) for k in REFUSALS):
                return self._run(message, action, arguments, command, language)
        pending = self.pending.propose(message.conversation_key, action.id, arguments, command, language)
        values = "\n".join(f"• {_label(name, language)}: {value}" for name, value in arguments.items())
        text = i18n.text("action_confirm", language, what=action.description[language], values=values or "–",
                         command=command)  # fmt: skip
        if preview is not None and preview.answered and preview.text:
            text = f"{text}\n\n{preview.text}"
        choices = [Choice(f"action:{pending.token}:yes", i18n.text("action_confirm_yes", language)),
                   Choice(f"action:{pending.token}:no", i18n.text("action_confirm_no", language))]  # fmt: skip
        question = Question("action", pending.token, "choice", choices, steered=False)
        return Reply(text, language, question=question, kind="confirm", mode="action",
                     action={"id": action.id, "arguments": arguments})  # fmt: skip

    def on_button(self, turn: Turn, language: str) -> Reply | None:
        parts = (turn.message.value or "").split(":")
        if len(parts) != 3:
            return None
        return self._decide(turn.message, parts[1], parts[2] == "yes", language)

    def _yes_or_no(self, text: str) -> bool:
        said = " ".join(slots.fold(text).strip(" .!").split())
        return said in {slots.fold(w) for w in YES | NO}

    def on_typed_answer(self, turn: Turn, language: str) -> Reply | None:
        if self.busy(turn.message):  # "ja" in a running assessment answers its question
            return None
        pending = self.pending.open(turn.message.conversation_key)
        if pending is None:
            return None  # "ja" without a pending action: someone else's turn (a dialog, a question)
        yes = " ".join(slots.fold(turn.text).strip(" .!").split()) in {slots.fold(w) for w in YES}
        return self._decide(turn.message, pending.token, yes, pending.language)

    def _decide(self, message: Incoming, token: str, yes: bool, language: str) -> Reply:
        taken = self.pending.take(message.conversation_key, token, "done" if yes else "cancelled")
        if taken is None:
            return Reply(i18n.text("action_expired", language), language, answered=False, kind="error")
        action = self.actions.get(taken.action)
        if not yes:
            return Reply(i18n.text("action_cancelled", taken.language), taken.language, kind="command",
                         action={"id": taken.action, "arguments": taken.arguments})  # fmt: skip
        return self._run(message, action, taken.arguments, taken.command, taken.language)

    # -- offering an action beside the guide's answer -------------------------------------------------

    def _offer(self, turn: Turn, language: str, action: Action, arguments: dict) -> Reply | None:
        if self.answer is None:
            return None
        reply = self.answer(turn, language)
        if action.effect == "destructive" or reply.question is not None or not reply.answered:
            return reply  # under a refusal the offer was a guess from a stray word ("copilot" → pilot feedback)
        label = i18n.text("action_offer", reply.language, what=action.description[reply.language])
        choices = [Choice(f"offer:{action.id}:{json.dumps(arguments, ensure_ascii=False)}", label)]
        return replace(reply, question=Question("action", "offer", "choice", choices, steered=False))

    # -- asking which action is meant ------------------------------------------------------------------

    def _clarify(self, turn: Turn, language: str, found: Understanding) -> Reply:
        """Two actions fit about as well: both as buttons (with the values understood for each), and one
        that answers the message from the guide instead. Only the actions the sender's role may run."""
        role = self.role_of(turn.message)
        candidates = [a for a in found.candidates if role in a.roles]
        if not candidates:  # none allowed: the likeliest one's refusal, exactly as typing its command
            return self.act(turn.message, found.action, self.arguments(found.action, turn.text, turn.message.scope),
                            language)  # fmt: skip
        choices = []
        for action in candidates:
            arguments = self.arguments(action, turn.text, turn.message.scope)
            value = f"offer:{action.id}:{json.dumps(arguments, ensure_ascii=False)}"
            choices.append(Choice(value, action.description[language]))
        choices.append(Choice(f"ask:{turn.text[:ASKED]}", i18n.text("action_just_answer", language)))
        return Reply(i18n.text("action_clarify", language), language, answered=False, kind="clarify", mode="action",
                     question=Question("action", "clarify", "choice", choices, steered=False))  # fmt: skip

    def on_ask(self, turn: Turn, language: str) -> Reply | None:
        """ "Just answer my question": the message that was asked about, answered from the guide."""
        text = (turn.message.value or "").removeprefix("ask:").strip()
        if not text or self.answer is None:
            return None
        asked = replace(turn, message=replace(turn.message, text=text, value=None), text=text)
        return self.answer(asked, language)

    def on_offer(self, turn: Turn, language: str) -> Reply | None:
        """The offered action's button: the action with the values understood then (a write still asks)."""
        ident, _, raw = (turn.message.value or "").removeprefix("offer:").partition(":")
        found = self.actions.get(ident)
        if found is None or self.run is None:
            return None
        try:
            arguments = json.loads(raw or "{}")
        except ValueError:
            arguments = {}
        known = {s.name for s in found.slots}
        arguments = {k: str(v) for k, v in arguments.items() if k in known} if isinstance(arguments, dict) else {}
        return self.act(turn.message, found, arguments, language)


def _preview(command: str, language: str = "de") -> str:
    """What a write would do, asked without doing it: `/plan start …` → `/plan vorschau …` (`preview`)."""
    return re.sub(r"^/plan start\b", "/plan preview" if language == "en" else "/plan vorschau", command)


LABELS = {
    "start": ("Start", "start"), "state": ("Bundesland", "state"), "time": ("Uhrzeit", "time"),
    "weekday": ("Wochentag", "weekday"), "task": ("Aufgabe", "task"), "pilot": ("Pilot", "pilot"),
    "quarter": ("Quartal", "quarter"), "format": ("Format", "format"), "name": ("Name", "name"),
    "assessment": ("Bewertung", "assessment"),
}  # fmt: skip


def _label(name: str, language: str) -> str:
    de, en = LABELS.get(name, (name, name))
    return de if language == "de" else en
