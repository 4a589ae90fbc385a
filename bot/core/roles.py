"""Who may do what: admin (the IT lead: reports, exports, plans), champion (registers pilots, collects
feedback on behalf of a group, sees reports) and employee (gives feedback, sees only their own).
Roles come from configuration: Slack user IDs, Teams AAD object IDs, and one role for the terminal.
A change of that configuration is written to the audit log when Lotse starts with it (`record_changes`)."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.core.messages import Incoming
from bot.settings import Settings
from bot.storage.audit import AuditLog

CONFIG = "config"  # the audit actor of a change made in the configuration (env or config/*.yaml)

ADMIN, CHAMPION, EMPLOYEE = "admin", "champion", "employee"


class Roles:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def of(self, message: Incoming) -> str:
        if message.channel == "console":
            return self.settings.console_role
        people = {"slack": self.settings.slack, "teams": self.settings.teams}.get(message.channel)
        if message.admin or (people is not None and message.user in people.admins):
            return ADMIN
        if people is not None and message.user in people.champions:
            return CHAMPION
        return EMPLOYEE

    def knowledge_owner(self, message: Incoming) -> bool:
        """Who answers knowledge gaps (issue 25): the configured knowledge owners of the channel, or its
        admins when none are configured; at the terminal, an admin."""
        people = {"slack": self.settings.slack, "teams": self.settings.teams}.get(message.channel)
        if people is not None and people.knowledge_owners:
            return message.user in people.knowledge_owners
        return self.of(message) == ADMIN

    def apply(self, message: Incoming) -> Incoming:
        """The message with `admin` set from the configured roles (channels may set it already)."""
        admin = self.of(message) == ADMIN
        return message if message.admin == admin else replace(message, admin=admin)

    def assignment(self) -> dict[str, list[str]]:
        """Who holds which role by configuration, as sorted lists: {"slack:admin": [...], ...}."""
        held = {"console": [self.settings.console_role]}
        for channel, people in (("slack", self.settings.slack), ("teams", self.settings.teams)):
            held[f"{channel}:admin"] = sorted(people.admins)
            held[f"{channel}:champion"] = sorted(people.champions)
        return held

    def record_changes(self, audit: AuditLog) -> bool:
        """Compare the configured roles with the last `roles.change` entry and, if they differ (or none
        was ever written), write one naming who was added to and removed from which role. Roles change
        by configuration, so the actor is "config"; the entry carries the whole assignment so the next
        start compares against it. Returns whether an entry was written."""
        now = self.assignment()
        last = audit.entries(limit=1, action="roles.change")
        before: dict[str, list[str]] = {}
        if last:
            try:
                before = json.loads(last[0].detail or "{}").get("roles", {})
            except ValueError:
                before = {}
            if before == now:
                return False
        added = {role: sorted(set(ids) - set(before.get(role, []))) for role, ids in now.items()}
        removed = {role: sorted(set(ids) - set(now.get(role, []))) for role, ids in before.items()}
        audit.record(
            CONFIG,
            "roles.change",
            "",
            added={r: i for r, i in added.items() if i},
            removed={r: i for r, i in removed.items() if i},
            roles=now,
        )
        return True
