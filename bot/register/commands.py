"""`/register` in chat: everyone sees the company's AI register; admins keep it.

/register                        the register: name, status, risk class, next review (overdue marked)
/register zeige <name|nr>        one application in full
/register neu [name]             register one (dialog)                             admin
/register setze <name> <feld> <wert>   change one field                             admin
/register löschen <name> [ja]    remove one, after a typed confirmation            admin
/register export [csv|xlsx]      the register as a file                            admin
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from bot.core import i18n
from bot.core.commands import split_subcommand
from bot.core.messages import File, Incoming, Reply
from bot.core.roles import ADMIN, Roles
from bot.core.routing import Route
from bot.dialogs.engine import DialogEngine
from bot.dialogs.inputs import InvalidAnswer
from bot.register import export
from bot.register.forms import ENTRY, SUBCOMMANDS, read_value, warnings
from bot.register.store import SELF_NAME, NameTaken, RegisterStore
from bot.register.view import entry_text, list_text
from bot.storage.models import RegisterEntryRow

COMMANDS = ("/register", "/registry", "/ki-register")
ENGLISH = {"list", "new", "add", "show", "set", "delete", "remove", "help"}  # "export": both
GERMAN = {"liste", "neu", "anlegen", "hinzufügen", "zeige", "setze", "ändern", "aendern", "löschen", "loeschen",
          "entfernen", "hilfe"}  # fmt: skip
CHANGES = ("new", "set", "delete", "export")  # admins only
# `/register setze <name> <feld> <wert>`: the words for each field
FIELDS = {
    "name": "name",
    "zweck": "purpose", "purpose": "purpose",
    "verantwortlich": "owner", "owner": "owner",
    "modell": "model", "model": "model",
    "anbieter": "provider", "provider": "provider",
    "daten": "data_sources", "datenquellen": "data_sources", "data": "data_sources", "sources": "data_sources",
    "personenbezug": "personal_data", "personenbezogene": "personal_data", "personal": "personal_data",
    "risiko": "risk_class", "risikoklasse": "risk_class", "risk": "risk_class",
    "status": "status",
    "review": "next_review", "prüfung": "next_review", "pruefung": "next_review",
}  # fmt: skip
# "personenbezogene Daten ja", "personal data yes": the field's name in two words, "Daten" no field of its own
SECOND_WORD = {"personenbezogene": "daten", "personal": "data"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RegisterCommands:
    def __init__(self, store: RegisterStore, dialogs: DialogEngine, roles: Roles, exports_dir: Path) -> None:
        self.store = store
        self.dialogs = dialogs
        self.roles = roles
        self.exports_dir = exports_dir

    def route(self) -> Route:
        """`/register …` (also /registry, /ki-register), typed; changes are for admins (see `handle`)."""
        return Route(
            "register",
            lambda turn, language: self.handle(turn.message, language),
            words=frozenset(COMMANDS),
            typed_only=True,
            help="help_register",
            dialog_waits=True,
            direct=frozenset(COMMANDS),
        )

    def handle(self, message: Incoming, language: str) -> Reply:
        sub, rest, language = split_subcommand(message.text, SUBCOMMANDS, ENGLISH, GERMAN, language)
        if sub in CHANGES and self.roles.of(message) != ADMIN:
            key = "admin_only" if sub == "export" else "register_admins_only"
            return Reply(i18n.text(key, language), language, answered=False)
        return getattr(self, f"_{sub}")(message, rest, language)

    def _entry(self, name: str, language: str) -> RegisterEntryRow | Reply:
        entry = self.store.find(name) if name else None
        if entry is None:
            first = (
                i18n.text("register_unknown", language, name=name) if name else i18n.text("register_which", language)
            )
            return Reply(list_text(self.store.entries(), language, date.today(), first), language, answered=False)
        return entry

    def _number(self, entry: RegisterEntryRow) -> int:
        return [e.id for e in self.store.entries()].index(entry.id) + 1

    # -- everyone --------------------------------------------------------------------------------------

    def _help(self, message: Incoming, rest: str, language: str) -> Reply:
        return Reply(i18n.text("register_help", language), language)

    def _list(self, message: Incoming, rest: str, language: str) -> Reply:
        return Reply(list_text(self.store.entries(), language, date.today()), language)

    def _show(self, message: Incoming, rest: str, language: str, prefix: str | None = None) -> Reply:
        entry = self._entry(rest, language)
        if isinstance(entry, Reply):
            return entry
        text = entry_text(entry, self._number(entry), language, date.today())
        lines = [prefix] if prefix else []
        lines += [text, *warnings(entry.risk_class, entry.status, language)]
        if self.roles.of(message) == ADMIN:
            lines.append(i18n.text("register_set_hint", language, name=entry.name))
        return Reply("\n".join(lines), language)

    # -- admins ----------------------------------------------------------------------------------------

    def _new(self, message: Incoming, rest: str, language: str) -> Reply:
        reply = self.dialogs.begin(message, self.dialogs.spec(ENTRY), language, restart=True)
        if rest:  # "/register neu Copilot": the name is the first answer
            reply = self.dialogs.handle(replace(message, text=rest, value=None), language)
        return reply

    def _set(self, message: Incoming, rest: str, language: str) -> Reply:
        """`/register setze <name> <feld> <wert>`; a name that contains a field's word still works when
        it names an entry exactly."""
        words = rest.split()
        cuts = [i for i, w in enumerate(words) if w.lower() in FIELDS and 0 < i < len(words) - 1]
        if not cuts:
            return Reply(i18n.text("register_set_usage", language), language, answered=False)
        at = next((i for i in cuts if self.store.find_exact(" ".join(words[:i])) is not None), cuts[0])
        named = " ".join(words[:at])
        entry = self._entry(named, language)
        if isinstance(entry, Reply):
            return entry
        value_at = at + 2 if words[at + 1].lower() == SECOND_WORD.get(words[at].lower()) else at + 1
        field, value = FIELDS[words[at].lower()], " ".join(words[value_at:])
        if not named.isdigit() and entry.name.lower() != named.lower():  # found by a beginning: which one?
            command = " ".join(["/register", message.text.split()[1], entry.name, *words[at:]])
            return Reply(i18n.text("register_set_which", language, name=entry.name, command=command), language,
                         answered=False)  # fmt: skip
        try:
            parsed = read_value(self.dialogs.spec(ENTRY), field, value, language)
        except InvalidAnswer as problem:
            return Reply(problem.hint, language, answered=False)
        if field == "name" and entry.name.lower() == SELF_NAME.lower() and parsed.lower() != SELF_NAME.lower():
            return Reply(i18n.text("register_self_keeps_name", language), language, answered=False)
        try:
            updated = self.store.update(entry.id, message.user_key, **{field: parsed})
        except NameTaken:
            return Reply(i18n.text("register_name_taken", language, name=parsed), language, answered=False)
        if updated is None:
            return Reply(i18n.text("register_unknown", language, name=entry.name), language, answered=False)
        done = i18n.text("register_set_done", language)
        if field in ("risk_class", "personal_data") and updated.risk_class == "high" and not updated.personal_data:
            # as in the dialog: high-risk uses mostly concern people, so one of the two is likely wrong
            done += "\n" + i18n.text("register_high_without_people_set", language, name=updated.name)
        return self._show(message, str(self._number(updated)), language, prefix=done)

    def _delete(self, message: Incoming, rest: str, language: str) -> Reply:
        """`/register löschen <name>` asks; `/register löschen <name> ja` removes it."""
        words = rest.split()
        confirmed = bool(words) and words[-1].lower() in ("ja", "yes")
        entry = self._entry(" ".join(words[:-1] if confirmed else words), language)
        if isinstance(entry, Reply):
            return entry
        if entry.name.lower() == SELF_NAME.lower():
            return Reply(i18n.text("register_self_stays", language), language, answered=False)
        if not confirmed:
            return Reply(i18n.text("register_delete_ask", language, name=entry.name), language)
        if not self.store.delete(entry.id, message.user_key):
            return Reply(i18n.text("register_unknown", language, name=entry.name), language, answered=False)
        return Reply(i18n.text("register_deleted", language, name=entry.name), language)

    def _export(self, message: Incoming, rest: str, language: str) -> Reply:
        fmt = (rest.split() or ["xlsx"])[0].lower().lstrip(".")
        if fmt not in ("csv", "xlsx"):
            return Reply(i18n.text("register_export_format", language), language, answered=False)
        self.exports_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.exports_dir / f"ai-register-{stamp}-{secrets.token_hex(8)}.{fmt}"
        count = export.export_register(self.store, fmt, path, language=language)
        self.store.audit.record(message.user_key, "data.export", "ai_register", format=fmt, entries=count)
        mime = "text/csv" if fmt == "csv" else XLSX
        return Reply(
            i18n.text("register_export_ready", language, count=count),
            language,
            files=[File(str(path), f"ai-register-{stamp}.{fmt}", mime)],
        )
