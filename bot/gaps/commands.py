"""`/wissen` in chat, for knowledge owners (issue 25): the questions Lotse could not answer, grouped, each
with buttons to answer it for the company FAQ, ignore it, or set it aside as not Lotse's business; and the
FAQ's entries, each with a button to withdraw it. Everyone else is told who may."""

from __future__ import annotations

from bot.core import i18n
from bot.core.clock import local
from bot.core.messages import Choice, Incoming, Reply, Task
from bot.core.roles import Roles
from bot.core.routing import Route
from bot.dialogs.engine import DialogEngine
from bot.gaps.faq import CompanyFaq, FaqError
from bot.gaps.forms import answer_id
from bot.gaps.store import GapLog

WORDS = frozenset({"/wissen", "/knowledge", "/faq", "/lücken", "/luecken", "/gaps"})
SHOWN = 8  # groups in the list, the most asked first
SUBCOMMANDS = {"faq": "faq", "antworten": "answer", "answer": "answer", "antwort": "answer", "neu": "new",
               "new": "new", "ignorieren": "ignore", "ignore": "ignore", "nicht-hier": "off_topic",
               "off-topic": "off_topic", "zurückziehen": "withdraw", "zurueckziehen": "withdraw",
               "withdraw": "withdraw", "digest": "digest", "übersicht": "digest", "uebersicht": "digest",
               "hilfe": "help", "help": "help", "dokumente": "documents", "documents": "documents",
               "dokument": "documents", "document": "documents", "ändern": "edit", "aendern": "edit",
               "edit": "edit"}  # fmt: skip
EDIT_FIELDS = {"frage": "question", "question": "question", "antwort": "answer", "answer": "answer",
               "link": "link"}  # fmt: skip


class GapCommands:
    def __init__(
        self, gaps: GapLog, faq: CompanyFaq, dialogs: DialogEngine, roles: Roles, plans=None, documents=None
    ) -> None:
        self.documents = documents  # bot.gaps.documents.CompanyDocuments: files sent in chat
        self.gaps = gaps
        self.faq = faq
        self.dialogs = dialogs
        self.roles = roles
        self.plans = plans  # bot.reminders.store.PlanStore: the weekly digest goes out with the plan's nudges

    def routes(self) -> list[Route]:
        return [
            Route(
                "gap-button",
                lambda turn, language: self.button(turn.message, language),
                button="gap:",
                language="conversation",
            ),
            Route(
                "gaps",
                lambda turn, language: self.handle(turn.message, language),
                words=WORDS,
                typed_only=True,
                dialog_waits=True,
                direct=WORDS,
            ),  # for knowledge owners: not in everyone's /help
        ]

    # -- typed ----------------------------------------------------------------------------------------

    def handle(self, message: Incoming, language: str) -> Reply:
        if not self.roles.knowledge_owner(message):
            return Reply(i18n.text("gaps_owners_only", language), language, answered=False)
        words = message.text.split()[1:]
        first = words[0].lower() if words else ""
        what = SUBCOMMANDS.get(first, "list" if not words else "unknown")
        if message.text.split()[0].lower() == "/faq" and what == "list":
            what = "faq"
        number = int(words[1]) if len(words) > 1 and words[1].isdecimal() and len(words[1]) < 10 else None
        if what == "list":
            return self.listing(language)
        if what == "faq":
            return self.entries(language)
        if what == "documents" and self.documents is not None:  # `/wissen dokumente [entfernen <Nr>]`
            if len(words) == 3 and words[1].lower() in ("entfernen", "remove") and words[2].isdecimal():
                return self.documents.remove(message, int(words[2][:5]), language)
            return self.documents.listing(language)
        if what == "edit":  # `/wissen ändern <Nr> frage|antwort|link <text>`
            return self._edit(message, words[1:], language)
        if what == "digest":
            return self._digest_subscription(message, words[1:], language)
        if what == "new":
            return self.dialogs.begin(message, self.dialogs.spec(answer_id(None)), language, restart=True)
        if what in ("answer", "ignore", "off_topic", "withdraw") and number is not None:
            return self._act(message, what, number, language)
        return Reply(i18n.text("gaps_usage", language), language, answered=False)

    # -- buttons --------------------------------------------------------------------------------------

    def button(self, message: Incoming, language: str) -> Reply | None:
        """gap:answer:12, gap:ignore:12, gap:off_topic:12, gap:withdraw:3 (an FAQ entry)."""
        parts = (message.value or "").split(":")
        if len(parts) != 3 or not parts[2].isdecimal() or len(parts[2]) > 12:
            return None
        if not self.roles.knowledge_owner(message):
            return Reply(i18n.text("gaps_owners_only", language), language, answered=False)
        return self._act(message, parts[1], int(parts[2]), language)

    def _act(self, message: Incoming, what: str, number: int, language: str) -> Reply:
        if what == "withdraw":
            entry = self.faq.withdraw(number, message.user_key)
            key = "faq_withdrawn" if entry is not None else "faq_unknown"
            return Reply(i18n.text(key, language, id=number), language, answered=entry is not None)
        group = self.gaps.group(number)
        if group is None:
            return Reply(i18n.text("gaps_unknown", language, id=number), language, answered=False)
        if what == "answer":
            asked = "\n".join(f"• „{q}“" for q in self.gaps.questions(number))
            intro = i18n.text("gaps_answer_intro", language, asked=asked)
            return self.dialogs.begin(message, self.dialogs.spec(answer_id(number)), language, restart=True,
                                      intro=intro)  # fmt: skip
        if what in ("ignore", "off_topic"):
            self.gaps.set_state(number, "ignored" if what == "ignore" else "off_topic")
            self.faq.audit.record(message.user_key, "gaps.state", group.example[:120], group=number, state=what)
            return Reply(i18n.text(f"gaps_{what}_done", language, question=group.example), language)
        return Reply(i18n.text("gaps_usage", language), language, answered=False)

    def _edit(self, message: Incoming, rest: list[str], language: str) -> Reply:
        """One field of an FAQ entry, changed in chat; re-indexed at once and in the audit log."""
        if len(rest) < 2 or not rest[0].isdecimal() or len(rest[0]) > 9 or rest[1].lower() not in EDIT_FIELDS:
            return Reply(i18n.text("faq_edit_usage", language), language, answered=False)
        number, field, value = int(rest[0]), EDIT_FIELDS[rest[1].lower()], " ".join(rest[2:])
        if not value and field != "link":
            return Reply(i18n.text("faq_edit_usage", language), language, answered=False)
        try:
            entry = self.faq.edit(number, message.user_key, **{field: value})
        except FaqError as problem:
            return Reply(i18n.text(problem.key, language, **problem.values), language, answered=False)
        if entry is None:
            return Reply(i18n.text("faq_unknown", language, id=number), language, answered=False)
        return Reply(i18n.text("faq_edited", language, id=entry.id, question=entry.question), language)

    # -- lists ----------------------------------------------------------------------------------------

    def _digest_subscription(self, message: Incoming, rest: list[str], language: str) -> Reply:
        """`/wissen digest` (in a direct chat) sends the weekly digest here, with the plan's nudges (on its
        weekday and time, past holidays, once); `/wissen digest aus` stops it."""
        if not message.private:
            return Reply(i18n.text("gaps_digest_private", language), language, answered=False)
        plan = self.plans.current(message.scope) if self.plans is not None else None
        if plan is None or plan.status != "active":
            return Reply(i18n.text("gaps_digest_no_plan", language), language, answered=False)
        on = not (rest and rest[0].lower() in ("aus", "off", "stopp", "stop"))
        self.plans.subscribe(plan.id, message.channel, message.reply_to or message.conversation, "owner", on)
        return Reply(i18n.text("gaps_digest_on" if on else "gaps_digest_off", language), language)

    def digest(self, language: str, since) -> Reply | None:
        """The weekly digest: the open groups asked about since `since`, the most asked first, with their
        buttons; None if nothing new was asked."""
        groups = self.gaps.groups(since)
        return self.listing(language, since, digest=True, groups=groups) if groups else None

    def listing(self, language: str, since=None, digest: bool = False, groups=None) -> Reply:
        groups = (self.gaps.groups(since) if groups is None else groups)[:SHOWN]
        if not groups:
            return Reply(i18n.text("gaps_none", language), language)
        tasks = [
            Task(
                str(g.id),
                i18n.text(
                    "gaps_item",
                    language,
                    question=g.example,
                    count=g.count,
                    last=local(g.last_seen).strftime("%d.%m." if language == "de" else "%b %d"),
                ),  # fmt: skip
                note=i18n.text("gaps_downvoted", language, count=g.kinds["downvoted"])
                if g.kinds.get("downvoted")
                else "",
                actions=[
                    Choice(f"gap:answer:{g.id}", i18n.text("gaps_button_answer", language)),
                    Choice(f"gap:ignore:{g.id}", i18n.text("gaps_button_ignore", language)),
                    Choice(f"gap:off_topic:{g.id}", i18n.text("gaps_button_off_topic", language)),
                ],
            )
            for g in groups
        ]
        return Reply(i18n.text("gaps_digest_header" if digest else "gaps_header", language, count=len(groups)),
                     language, tasks=tasks, mode="nudge" if digest else None,
                     footer=i18n.text("gaps_footer", language))  # fmt: skip

    def entries(self, language: str) -> Reply:
        entries = self.faq.entries()
        if not entries:
            return Reply(i18n.text("faq_none", language), language)
        tasks = [
            Task(
                str(e.id),
                f"{e.id}. {e.question}\n{e.answer}" + (f"\n{e.link}" if e.link else ""),
                note=i18n.text(
                    "faq_by",
                    language,
                    author=e.author,
                    day=local(e.updated_at).strftime("%d.%m.%Y" if language == "de" else "%Y-%m-%d"),
                ),
                actions=[Choice(f"gap:withdraw:{e.id}", i18n.text("faq_button_withdraw", language))],
            )  # fmt: skip
            for e in entries
        ]
        return Reply(i18n.text("faq_header", language, count=len(entries)), language, tasks=tasks)
