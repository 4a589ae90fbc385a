"""The routing table: which route answers a message, tried top to bottom; the first that matches and
replies answers (`bot.core.routing`). Each feature declares its own route — its words, roles, direct-chat
rule, language rule and help line —; this list only puts them in order. `/help` lists the help lines in
this order; `Lotse.may_stream` streams only what no declared route claims.

The order is the policy:
1. `/export` for admins is decided before anything else (channels ask for it alone, before streaming).
2. The plan, pilots, register, audit log, knowledge gaps, status and privacy work beside a running assessment: typed
   there, they answer, and the reply says that the assessment waits where it was (`dialog_waits`).
3. A running assessment takes every other message as its answer — but a typed command; /check, /weiter
   and /ergebnis start, resume and show one.
4. Any other typed command: /help, /feedback, or "unknown command" — never an assessment's answer.
5. Plain words that ask for an action run it (a read, a dialog), ask to confirm it (a write) or, asked as
   a question about it, get the guide's answer with the action offered (bot/actions).
6. Everything else is a question: about the team's own results, or for the knowledge base.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.roles import ADMIN
from bot.core.routing import Route

if TYPE_CHECKING:
    from bot.app.lotse import Lotse
    from bot.app.services import Services

ADMIN_COMMANDS = frozenset({"/export"})
HELP = ("/help", "/hilfe", "/start")  # the command route's own words (its handler: `Lotse.command`)
FEEDBACK = {"/feedback": None, "/rückmeldung": "de", "/rueckmeldung": "de"}  # command → the language it implies


def table(core: Lotse, s: Services) -> list[Route]:
    return [
        *s.documents.routes(),  # a file sent in chat (none: the route passes), and its buttons
        Route("admin", core.export_hint, words=ADMIN_COMMANDS, requires=frozenset({ADMIN}), dialog_waits=True),
        *s.actions.routes(),  # Confirm / Cancel of an action asked for in plain words, and an offered action
        *s.plan.routes(),
        s.pilots.route(),
        s.register.route(),
        s.audit_view.route(),
        *s.gap_commands.routes(),
        *s.answer_notices.routes(),
        s.status.route(),
        s.privacy.route(s.dialogs),
        s.dialogs.route(),
        Route(
            "command",
            core.command,
            phrase=lambda text: text.startswith("/"),
            language="turn",
            help="help_commands",
            dialog_waits=True,
            also=frozenset({*HELP, *FEEDBACK}),
        ),
        s.actions.slot_route(),  # the value an action asked for (a start date, a task)
        s.actions.route(),  # plain words that ask for an action (issue 22)
        Route("question", core.question, language="turn"),
    ]
