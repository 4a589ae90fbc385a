"""`/pilot` in chat: register pilots and their KPIs (admins, champions), give feedback (everyone) or
collect it for a group meeting (champions), see, change and withdraw one's own entries, and the
reports and exports of the IT lead.

    /pilot                      the pilots, and how to give feedback
    /pilot neu                  register a pilot (dialog)                        admin, champion
    /pilot <name|nr>            one pilot: KPIs with baseline and target
    /pilot feedback [<pilot>]   give feedback (dialog)
    /pilot gruppe <pilot>       feedback of a group meeting                      admin, champion
    /pilot meine                my entries;  /pilot ändern <nr>, /pilot zurückziehen <nr>
    /pilot bericht <pilot>      the pilot's figures, ROI and charts              admin, champion
    /pilot bericht quartal [2026-Q4]   ROI report across pilots                  admin, champion
    /pilot export [csv|xlsx]    all feedback as a file                           admin

About 420 lines since `ruff format` laid out its long calls: one handler per `/pilot` subcommand, read
together with the permission table at the top of `handle`; the report texts are in `texts.py`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from bot.core import i18n
from bot.core.commands import id_number, is_number, parse_month, split_subcommand, years_in_reach
from bot.core.messages import File, Image, Incoming, Reply
from bot.core.roles import ADMIN, CHAMPION, Roles
from bot.core.routing import Route
from bot.dialogs.engine import DialogEngine
from bot.dialogs.inputs import InvalidAnswer, parse_date, parse_number, parse_text, parse_yesno
from bot.dialogs.spec import L10n, NumberStep, TextStep
from bot.pilots import charts, export
from bot.pilots.forms import RESERVED, SETUP, SUBCOMMANDS, kpi_line, number, target_value
from bot.pilots.report import (
    QUARTER,
    Report,
    Reports,
    parse_quarter,
    quarter_of,
)
from bot.pilots.store import PilotStore
from bot.pilots.texts import day_text, money, pilot_text, quarter_text
from bot.storage.models import PilotRow

WORDS = frozenset({"/pilot", "/piloten"})
PERSONAL = ("feedback", "mine", "edit", "withdraw")  # only in a 1:1 conversation with Lotse
# `/pilot setze <pilot> <field> <value>`: the pilot's facts an admin may correct after registering it
FIELDS = {
    "name": "name",
    "anwendungsfall": "use_case",
    "use_case": "use_case",
    "verantwortlich": "owner",
    "owner": "owner",
    "start": "start",
    "ende": "end",
    "end": "end",
    "nutzer": "users",
    "users": "users",
    "anonym": "anonymous",
    "anonymous": "anonymous",
    "einmalig": "one_off_cost",
    "one_off": "one_off_cost",
    "monatlich": "monthly_cost",
    "monthly": "monthly_cost",
    "stundensatz": "hourly_rate",
    "rate": "hourly_rate",
}
KPI_FIELDS = {"baseline": "baseline", "ausgangswert": "baseline", "ziel": "target", "target": "target",
              "einheit": "unit", "unit": "unit", "messung": "method", "method": "method"}  # fmt: skip
ENGLISH = {
    "list",
    "new",
    "show",
    "group",
    "mine",
    "edit",
    "withdraw",
    "report",
    "help",
    "set",
    "delete",
}  # "feedback", "export": both
GERMAN = {"liste", "neu", "anlegen", "zeige", "rückmeldung", "rueckmeldung", "gruppe", "meine", "ändern", "aendern",
          "zurückziehen", "zurueckziehen", "bericht", "hilfe", "setze", "löschen", "loeschen"}  # fmt: skip
CHART_TITLES = ("kpis", "ratings", "roi")
FROM_MONTH = re.compile(r"\s(?:ab|seit|from|since)\s+(.+)$", re.IGNORECASE)  # a running cost's first month


class PilotCommands:
    def __init__(
        self,
        store: PilotStore,
        reports: Reports,
        dialogs: DialogEngine,
        roles: Roles,
        *,
        charts_dir: Path,
        exports_dir: Path,
    ) -> None:
        self.store = store
        self.reports = reports
        self.dialogs = dialogs
        self.roles = roles
        self.charts_dir = charts_dir
        self.exports_dir = exports_dir

    def route(self) -> Route:
        """`/pilot …`, typed (a button's value is a dialog answer); who may use which subcommand is
        decided per subcommand in `handle`."""
        return Route(
            "pilot",
            lambda turn, language: self.handle(turn.message, language),
            words=WORDS,
            typed_only=True,
            help="help_pilot",
            dialog_waits=True,
            direct=WORDS,
        )

    def handle(self, message: Incoming, language: str) -> Reply:
        sub, rest, language = split_subcommand(message.text, SUBCOMMANDS, ENGLISH, GERMAN, language)
        role = self.roles.of(message)
        if sub in ("new", "group", "report") and role not in (ADMIN, CHAMPION):
            return self._refuse("pilot_champions_only", language)
        if sub in ("export", "set", "delete") and role != ADMIN:
            return self._refuse("admin_only", language)
        if sub in PERSONAL and not message.private:  # anonymity and one's own entries are no channel matter
            return self._refuse("pilot_private_only", language)
        handler = getattr(self, f"_{sub}")
        return handler(message, rest, language)

    def _refuse(self, key: str, language: str) -> Reply:
        return Reply(i18n.text(key, language), language, answered=False)

    def _pilot(self, message: Incoming, name: str, language: str) -> PilotRow | Reply:
        """The pilot a command names; without a name the only one running today; else a reply."""
        if not name:
            today = date.today()
            pilots = self.store.pilots(message.scope)
            running = [p for p in pilots if p.start <= today <= p.end]
            if len(running) == 1 or len(pilots) == 1:
                return (running or pilots)[0]
            return Reply(
                self._list_text(message, language, i18n.text("pilot_which", language)), language, answered=False
            )
        pilot = self.store.find(message.scope, name)
        if pilot is None:
            return Reply(
                self._list_text(message, language, i18n.text("pilot_unknown", language, name=name)),
                language,
                answered=False,
            )
        return pilot

    # -- everyone ------------------------------------------------------------------------------

    def _help(self, message: Incoming, rest: str, language: str) -> Reply:
        return Reply(i18n.text("pilot_help", language), language)

    def _list(self, message: Incoming, rest: str, language: str) -> Reply:
        return Reply(self._list_text(message, language), language)

    def _list_text(self, message: Incoming, language: str, first: str | None = None) -> str:
        pilots = self.store.pilots(message.scope)
        lines = [first] if first else []
        if not pilots:
            lines.append(i18n.text("pilot_none", language))
            return "\n".join(lines)
        lines.append(i18n.text("pilot_list", language))
        today = date.today()
        for number_, p in enumerate(pilots, 1):
            state = "running" if p.start <= today <= p.end else "planned" if today < p.start else "ended"
            lines.append(
                i18n.text(
                    "pilot_list_line",
                    language,
                    number=number_,
                    name=p.name,
                    start=day_text(p.start, language),
                    end=day_text(p.end, language),
                    state=i18n.text(f"pilot_state_{state}", language),
                )
            )
        lines.append(i18n.text("pilot_list_hint", language))
        return "\n".join(lines)

    def _show(self, message: Incoming, rest: str, language: str, prefix: str | None = None) -> Reply:
        pilot = self._pilot(message, rest, language)
        if isinstance(pilot, Reply):
            return pilot
        lines = [prefix] if prefix else []
        lines += [
            i18n.text(
                "pilot_header",
                language,
                name=pilot.name,
                start=day_text(pilot.start, language),
                end=day_text(pilot.end, language),
                users=pilot.users,
                owner=pilot.owner or "–",
            )
        ]
        if pilot.use_case:
            lines.append(pilot.use_case)
        lines += [kpi_line(k, language) for k in self.store.kpis(pilot.id)]
        if self.roles.of(message) in (ADMIN, CHAMPION):
            lines.append(
                i18n.text(
                    "pilot_costs",
                    language,
                    one_off=money(pilot.one_off_cost, language),
                    monthly=money(pilot.monthly_cost, language),
                    rate=money(pilot.hourly_rate, language),
                )
            )
            if history := self.store.cost_history(pilot.id):
                steps = [
                    i18n.text("pilot_cost_step", language, month=f"{d.month:02d}/{d.year}", monthly=money(c, language))
                    for d, c in history
                ]
                lines.append(i18n.text("pilot_cost_history", language, steps=", ".join(steps)))
        lines.append(i18n.text("pilot_anonymous_" + ("yes" if pilot.anonymous else "no"), language))
        lines.append(i18n.text("pilot_feedback_hint", language, name=pilot.name))
        return Reply("\n".join(lines), language)

    def _new(self, message: Incoming, rest: str, language: str) -> Reply:
        spec = self.dialogs.spec(SETUP)
        reply = self.dialogs.begin(message, spec, language, restart=True)
        if rest:  # "/pilot neu Dokumentensuche": the name is the first answer
            reply = self.dialogs.handle(replace(message, text=rest, value=None), language)
        return reply

    def _feedback(self, message: Incoming, rest: str, language: str, group: bool = False) -> Reply:
        pilot = self._pilot(message, rest, language)
        if isinstance(pilot, Reply):
            return pilot
        if date.today() < pilot.start:  # feedback on a pilot nobody uses yet would count in no report
            text = i18n.text("pilot_not_started", language, name=pilot.name, start=day_text(pilot.start, language))
            return Reply(text, language, answered=False)
        spec = self.dialogs.spec(f"pilot_{'group' if group else 'feedback'}_{pilot.id}")
        intro = i18n.text("pilot_group_intro" if group else "pilot_feedback_intro", language, name=pilot.name)
        return self.dialogs.begin(message, spec, language, restart=True, intro=intro)

    def _group(self, message: Incoming, rest: str, language: str) -> Reply:
        return self._feedback(message, rest, language, group=True)

    def _mine(self, message: Incoming, rest: str, language: str) -> Reply:
        entries = self.store.entries_of(message.user_key)
        if not entries:
            return Reply(i18n.text("pilot_mine_none", language), language)
        lines = [i18n.text("pilot_mine", language)]
        for row, pilot in entries:
            flags = []
            if row.anonymous:
                flags.append(i18n.text("pilot_flag_anonymous", language))
            if row.group_size > 1:
                flags.append(i18n.text("pilot_flag_group", language, size=row.group_size))
            minutes = "–" if row.minutes_saved is None else number(row.minutes_saved, language)
            lines.append(
                i18n.text(
                    "pilot_mine_line",
                    language,
                    number=row.id,
                    pilot=pilot,
                    date=day_text(row.created_at.date(), language),
                    rating=row.satisfaction,
                    minutes=minutes,
                    flags=f" ({', '.join(flags)})" if flags else "",
                )
            )
        lines.append(i18n.text("pilot_mine_hint", language))
        return Reply("\n".join(lines), language)

    def _entry(self, message: Incoming, rest: str, language: str):
        number_ = id_number(rest.lstrip("#"))
        if number_ is None:
            command = message.text.split()[1] if len(message.text.split()) > 1 else "ändern"
            return Reply(i18n.text("pilot_entry_number", language, command=command), language, answered=False)
        row = self.store.entry_of(message.user_key, number_)
        if row is None:  # someone else's entry looks exactly like a missing one
            return Reply(
                i18n.text("pilot_entry_not_yours", language, number=rest.lstrip("#")), language, answered=False
            )
        return row

    def _edit(self, message: Incoming, rest: str, language: str) -> Reply:
        row = self._entry(message, rest, language)
        if isinstance(row, Reply):
            return row
        token = self.store.edit_token(row.id)  # a group entry is asked with the group question
        spec = self.dialogs.spec(f"pilot_edit_{row.pilot_id}_{token}")
        intro = i18n.text("pilot_edit_intro", language, number=row.id, rating=row.satisfaction)
        return self.dialogs.begin(message, spec, language, restart=True, intro=intro)

    def _withdraw(self, message: Incoming, rest: str, language: str) -> Reply:
        row = self._entry(message, rest, language)
        if isinstance(row, Reply):
            return row
        self.store.withdraw(message.user_key, row.id)
        return Reply(i18n.text("pilot_withdrawn", language, number=row.id), language)

    # -- the IT lead ---------------------------------------------------------------------------

    def _set(self, message: Incoming, rest: str, language: str) -> Reply:
        """`/pilot setze <pilot> <field> <value>` or `/pilot setze <pilot> kpi <n> <field> <value>`."""
        words = rest.split()
        at = next((i for i, w in enumerate(words) if w.lower() in FIELDS or w.lower() == "kpi"), None)
        if at is None or at == 0 or len(words) < at + 2:
            return Reply(i18n.text("pilot_set_usage", language), language, answered=False)
        pilot = self._pilot(message, " ".join(words[:at]), language)
        if isinstance(pilot, Reply):
            return pilot
        field, value = words[at].lower(), " ".join(words[at + 1 :])
        kpi = None
        if field == "kpi":
            kpis = self.store.kpis(pilot.id)
            parts = value.split(maxsplit=2)
            if (
                len(parts) < 3
                or not is_number(parts[0])
                or not 1 <= int(parts[0]) <= len(kpis)
                or (parts[1].lower() not in KPI_FIELDS)
            ):
                return Reply(i18n.text("pilot_set_usage", language), language, answered=False)
            kpi, field, value = kpis[int(parts[0]) - 1], KPI_FIELDS[parts[1].lower()], parts[2]
        else:
            field = FIELDS[field]
        valid_from = None
        if field == "monthly_cost" and (since := FROM_MONTH.search(value)):  # "800 ab Oktober 2026"
            valid_from = parse_month(since[1], date.today())
            if valid_from is None:
                return Reply(i18n.text("pilot_cost_month", language, text=since[1]), language, answered=False)
            value = value[: since.start()].strip()
        try:
            parsed = _field_value(field, value, language, kpi)
        except InvalidAnswer as problem:
            return Reply(problem.hint, language, answered=False)
        if field == "name" and (parsed.split()[0].lower() in RESERVED or self.store.name_taken(message.scope, parsed)):
            return Reply(i18n.text("pilot_name_taken", language, name=parsed), language, answered=False)
        updated = self.store.update(
            pilot.id, field, parsed, kpi.id if kpi else None, actor=message.user_key, valid_from=valid_from
        )
        if isinstance(updated, str):
            return Reply(i18n.text(updated, language), language, answered=False)
        number_ = [p.id for p in self.store.pilots(message.scope)].index(updated.id) + 1
        return self._show(message, str(number_), language, prefix=i18n.text("pilot_set_done", language))

    def _delete(self, message: Incoming, rest: str, language: str) -> Reply:
        """`/pilot löschen <pilot>` asks; `/pilot löschen <pilot> ja` deletes it with all its feedback."""
        words = rest.split()
        confirmed = bool(words) and words[-1].lower() in ("ja", "yes")
        pilot = self._pilot(message, " ".join(words[:-1] if confirmed else words), language)
        if isinstance(pilot, Reply):
            return pilot
        count = self.reports.pilot(pilot.id, texts=0).responses if not confirmed else 0
        if not confirmed:
            return Reply(i18n.text("pilot_delete_ask", language, name=pilot.name, count=count), language)
        self.store.delete(pilot.id, actor=message.user_key)
        return Reply(i18n.text("pilot_deleted", language, name=pilot.name), language)

    def _report(self, message: Incoming, rest: str, language: str) -> Reply:
        words, today = rest.split(), date.today()
        asked = bool(words) and words[0].lower() in ("quartal", "quarter")
        given = " ".join(words[1:]) if asked else rest
        if asked or QUARTER.match(given):  # "/pilot bericht quartal [2026-Q4]", "/pilot bericht 2026-Q4"
            label = parse_quarter(given, today) if given else quarter_of(today)
            if label is None:
                first, last = years_in_reach(today)
                return Reply(
                    i18n.text("pilot_quarter_format", language, first=first, last=last), language, answered=False
                )
            return self.quarter_reply(self.reports.quarter(message.scope, label), language)
        pilot = self._pilot(message, rest, language)
        if isinstance(pilot, Reply):
            return pilot
        figures = self.reports.pilot(pilot.id)
        images = []
        if not figures.withheld:
            stem = f"pilot-{pilot.id}-{secrets.token_hex(8)}-{language}"
            images = _images(charts.render_pilot(figures, self.charts_dir, language, stem), pilot.name, language)
        return Reply(pilot_text(figures, language), language, images=images)

    def quarter_reply(self, report: Report, language: str) -> Reply:
        stem = f"quarter-{report.title.replace('-Q', '')}-{secrets.token_hex(8)}-{language}"
        paths = charts.render_quarter(report, self.charts_dir, language, stem)
        return Reply(quarter_text(report, language), language, images=_images(paths, report.title, language))

    def _export(self, message: Incoming, rest: str, language: str) -> Reply:
        fmt = (rest.split() or ["xlsx"])[0].lower().lstrip(".")
        if fmt not in ("csv", "xlsx"):
            return Reply(i18n.text("pilot_export_format", language), language, answered=False)
        self.exports_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = export.export_feedback(
            self.store.db,
            fmt,
            self.exports_dir / f"pilot-feedback-{stamp}-{secrets.token_hex(8)}.{fmt}",
            scope=message.scope,
            language=language,  # a workbook for the IT lead: headers in their language, Berlin time, €
        )
        self.store.audit.record(message.user_key, "data.export", "pilot_feedback", format=fmt, scope=message.scope)
        mime = "text/csv" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Reply(
            i18n.text("pilot_export_ready", language),
            language,
            files=[File(str(path), f"pilot-feedback-{stamp}.{fmt}", mime)],
        )


def _field_value(field: str, value: str, language: str, kpi=None):
    """A value typed for `/pilot setze`, read like the registration dialog reads it."""
    text = L10n(de=field, en=field)
    if field in ("name", "use_case", "owner", "unit", "method"):
        return parse_text(TextStep(id="v", type="text", text=text, max_length=300), value, language)
    if field in ("start", "end"):
        return date.fromisoformat(parse_date(value, language))
    if field == "anonymous":
        return parse_yesno(value, language)
    if field == "users":
        return parse_number(NumberStep(id="v", type="number", integer=True, min=1, text=text), value, language)
    if field == "target":
        return target_value(
            parse_number(NumberStep(id="v", type="number", percent=True, text=text), value, language), kpi.baseline
        )
    minimum = None if field == "baseline" else 0
    return float(parse_number(NumberStep(id="v", type="number", min=minimum, text=text), value, language))


def _images(paths: list[Path], title: str, language: str) -> list[Image]:
    out = []
    for path in paths:
        kind = next((k for k in CHART_TITLES if path.stem.endswith(k)), "kpis")
        out.append(Image(str(path), i18n.text(f"pilot_chart_{kind}", language, title=title)))
    return out


# -- the texts of the reports ----------------------------------------------------------------------
