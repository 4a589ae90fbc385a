"""Who may do what: admin (the IT lead: reports, exports, plans), champion (registers pilots, collects
feedback on behalf of a group, sees reports) and employee (gives feedback, sees only their own).
Roles come from configuration: Slack user IDs, Teams AAD object IDs, and one role for the terminal."""

from __future__ import annotations

from dataclasses import replace

from bot.core.messages import Incoming
from bot.settings import Settings

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

    def apply(self, message: Incoming) -> Incoming:
        """The message with `admin` set from the configured roles (channels may set it already)."""
        admin = self.of(message) == ADMIN
        return message if message.admin == admin else replace(message, admin=admin)
