"""`/audit` (admins only, in a direct chat): the latest entries of the audit log — when (Berlin time),
who, what, on what — and `/audit <prefix>` (e.g. `/audit pilot`) for one kind of change. `lotse audit`
prints the same lines in the terminal."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.core import i18n
from bot.core.messages import Incoming, Reply
from bot.core.roles import ADMIN, CONFIG, Roles
from bot.core.routing import Route
from bot.storage.audit import ACTIONS, AuditLog, label
from bot.storage.models import AuditRow
from bot.storage.people import People

COMMANDS = ("/audit", "/protokoll")
BERLIN = ZoneInfo("Europe/Berlin")
SHOWN = 20
MOST = 200
CREATED = (".add", ".create", ".start")  # every field is new: naming them says nothing
KINDS = {"piloten": "pilot", "rollen": "roles", "daten": "data", "ki-register": "register"}  # German words


def actor_label(actor: str, people: People | None, language: str) -> str:
    """Who did it: the person's display name where Lotse knows it, else their id with the channel;
    Lotse itself; or the login of a command-line user."""
    if actor == "system":
        return i18n.text("audit_system", language)
    if actor == CONFIG:
        return i18n.text("audit_config", language)
    if actor.startswith("cli:"):
        return i18n.text("audit_cli", language, login=actor.removeprefix("cli:"))
    name = people.name_of(actor) if people is not None else None
    channel, _, rest = actor.partition(":")
    user = rest.rpartition(":")[2] or actor
    if channel == "console" and rest:  # `lotse chat` and the command line are one person at one terminal
        return i18n.text("audit_cli", language, login=name or user)
    return f"{name or user} ({channel})" if rest else actor


def _role_changes(detail: dict) -> str:
    """ "slack:admin +U1 −U2; teams:champion +aad-3" from a roles.change entry."""
    parts: dict[str, list[str]] = {}
    for sign, key in (("+", "added"), ("−", "removed")):
        changed = detail.get(key)
        for role, ids in changed.items() if isinstance(changed, dict) else ():
            parts.setdefault(str(role), []).extend(f"{sign}{i}" for i in ids if isinstance(ids, list))
    return "; ".join(f"{role} {' '.join(ids)}" for role, ids in parts.items() if ids)


def field(name: object, language: str) -> str:
    """A changed field in the reader's language ("Zweck", not "purpose"); unknown ones as stored."""
    key = f"audit_field_{name}"
    return i18n.text(key, language) if i18n.known(key, language) else str(name)


def target(name: str, language: str) -> str:
    """What an entry is about in the reader's language where Lotse named it ("own data": "eigene Daten");
    names people gave (a pilot, an application) as they are."""
    key = "audit_target_" + name.replace(" ", "_")
    return i18n.text(key, language) if i18n.known(key, language) else name


def _plan_change(detail: dict, language: str) -> str:
    """What a plan change was: paused, resumed, or moved to a new start (never personal content)."""
    parts = []
    if detail.get("status") in ("paused", "active"):
        parts.append(i18n.text(f"audit_plan_{detail['status']}", language))
    if isinstance(detail.get("start"), str):
        parts.append(i18n.text("audit_plan_moved", language, start=detail["start"]))
    return ", ".join(parts)


def when(at: datetime) -> datetime:
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(BERLIN)


def line(row: AuditRow, people: People | None, language: str) -> str:
    fields = ""
    try:
        detail = json.loads(row.detail) if row.detail else {}
    except ValueError:
        detail = {}
    if isinstance(detail, dict) and detail.get("fields") and not row.action.endswith(CREATED):
        fields = i18n.text("audit_fields", language, fields=", ".join(field(f, language) for f in detail["fields"]))
    elif isinstance(detail, dict) and row.action == "pilot.update" and detail.get("field"):
        what = field(detail["field"], language)
        if isinstance(detail.get("kpi"), str):
            what += " " + i18n.text("audit_of_kpi", language, kpi=detail["kpi"])
        if isinstance(detail.get("valid_from"), str):  # a running cost changed from a month on
            what += " " + i18n.text("audit_valid_from", language, month=detail["valid_from"][:7])
        fields = i18n.text("audit_fields", language, fields=what)
    elif isinstance(detail, dict) and row.action == "plan.change" and (what := _plan_change(detail, language)):
        fields = i18n.text("audit_fields", language, fields=what)
    elif isinstance(detail, dict) and row.action == "roles.change" and (changes := _role_changes(detail)):
        fields = i18n.text("audit_fields", language, fields=changes)
    stamp = when(row.at).strftime("%d.%m.%Y %H:%M" if language == "de" else "%Y-%m-%d %H:%M")
    return i18n.text(
        "audit_line",
        language,
        at=stamp,
        actor=actor_label(row.actor, people, language),
        action=label(row.action, language),
        target=f" · {target(row.target, language)}" if row.target else "",
        fields=fields,
    )


class AuditView:
    def __init__(self, log: AuditLog, roles: Roles, people: People | None = None) -> None:
        self.log = log
        self.roles = roles
        self.people = people

    def route(self) -> Route:
        """`/audit`, for admins, in a direct chat (a channel's members are not all admins)."""
        return Route(
            "audit",
            lambda turn, language: self.handle(turn.message, language),
            words=frozenset(COMMANDS),
            typed_only=True,
            requires=frozenset({ADMIN}),
            private=True,
            dialog_waits=True,
            direct=frozenset(COMMANDS),
        )

    def handle(self, message: Incoming, language: str) -> Reply:
        """The newest entries (the route has checked that an admin asks, in a direct chat)."""
        words = message.text.strip().split()[1:]
        limit = next((min(int(w), MOST) for w in words if w.isdecimal() and 0 < len(w) < 10 and int(w) > 0), SHOWN)
        prefixes = [w.lower() for w in words if not w.isdecimal()]
        prefix = KINDS.get(prefixes[0], prefixes[0]) if prefixes else None
        if prefix is not None and not any(a.startswith(prefix) for a in ACTIONS):
            kinds = ", ".join(sorted({a.split(".")[0] for a in ACTIONS}))
            return Reply(i18n.text("audit_unknown_kind", language, kind=prefix, kinds=kinds), language, answered=False)
        rows = self.log.entries(limit, prefix)
        if not rows:
            return Reply(i18n.text("audit_none", language), language)
        kind = (
            i18n.text(f"audit_kind_{prefix}", language)
            if prefix and i18n.known(f"audit_kind_{prefix}", language)
            else prefix
        )
        head = i18n.text("audit_header", language, count=len(rows)) + (f" · {kind}" if prefix else "")
        lines = [head, *(line(r, self.people, language) for r in rows), i18n.text("audit_hint", language)]
        return Reply("\n".join(lines), language)
