"""Pilots and personal data in Slack, end to end: signed events and slash commands into Lotse's real
aiohttp app, replies and file uploads checked at the fake Slack Web API. Files (a user's own data, the
feedback export) are uploaded only to the user's direct messages (`conversations.open`), never into a
channel; `/lotse pilot …` and `/lotse daten export|löschen` are answered there; `/pilot` in a reply's
text reads `/lotse pilot` in Slack."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from datetime import date, timedelta
from urllib.parse import urlencode

import openpyxl

from bot.channels.slack import blocks
from bot.core.messages import Reply
from bot.pilots.store import Entry, Kpi
from tests.fakes.slack_api import sign

from .conftest import SECRET, next_ts, posted, texts

SENT_TO_DM = "Ich antworte Ihnen per Direktnachricht."
ADMIN_ONLY = "Dieser Befehl ist Administratorinnen und Administratoren vorbehalten."
UPLOAD_METHODS = ("files.getUploadURLExternal", "files.completeUploadExternal", "upload")


async def ack_text(slack, text: str, user: str = "U1", channel: str = "C1") -> str:
    """`/lotse <text>` as a signed slash command; the body of Lotse's ack (what Slack shows at once)."""
    form = urlencode(
        {
            "token": "legacy",
            "team_id": slack.team,
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "anna",
            "command": "/lotse",
            "text": text,
            "api_app_id": "A1",
            "response_url": slack.fake.response_url(),
            "trigger_id": "trigger-cmd",
        }
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, form)}
    async with slack.session.post(f"{slack.url}/slack/events", data=form, headers=headers) as response:
        assert response.status == 200
        return await response.text()


def add_pilot(slack, name: str = "Dokumentensuche") -> int:
    today = date.today()
    kpis = [Kpi("Suchzeit pro Dokument", "min", "lower", 15.0, 3.0)]
    pilot = slack.core.services.pilot_store.create(
        f"slack:{slack.team}",
        name,
        f"slack:{slack.team}:UADMIN",
        start=today - timedelta(days=10),
        end=today + timedelta(days=30),
        users=12,
        kpis=kpis,
        one_off_cost=1000.0,
        monthly_cost=100.0,
        hourly_rate=50.0,
    )
    return pilot.id


def add_feedback(slack, pilot_id: int, user: str, satisfaction: int, minutes: float) -> None:
    store = slack.core.services.pilot_store
    with store.db.session() as s:
        store.add_entry(
            s,
            pilot_id,
            f"slack:{slack.team}:{user}",
            user,
            Entry(satisfaction, minutes, works="Findet Verträge schnell"),
        )


def uploaded(slack) -> list[tuple[dict, bytes]]:
    """(files.completeUploadExternal call, the bytes uploaded for its file) for every finished upload."""
    out = []
    for complete in slack.fake.of("files.completeUploadExternal"):
        files = complete["files"] if isinstance(complete["files"], list) else json.loads(complete["files"])
        for f in files:
            out.append((complete, slack.fake.uploads[f["id"]]))
    return out


async def settle(seconds: float = 0.5) -> None:
    """Time for anything still on its way to the fake Slack (to show that nothing more comes)."""
    await asyncio.sleep(seconds)


# -- "meine Daten": the file goes to the DM only --------------------------------------------------------


async def test_my_data_asked_in_a_public_channel_is_uploaded_to_the_users_dm_not_the_channel(slack):
    ts = next_ts()
    await slack.event(
        {"type": "app_mention", "channel": "C9", "user": "UADMIN", "ts": ts, "text": "<@UBOT> meine Daten"}
    )
    [complete] = await slack.fake.wait_for("files.completeUploadExternal")
    [opened] = slack.fake.of("conversations.open")
    assert opened["users"] == "UADMIN"
    assert complete["channel_id"] == "DUADMIN"  # the DM the fake opened for UADMIN
    assert "thread_ts" not in complete or not complete["thread_ts"]  # not the channel thread's ts
    [(_, data)] = uploaded(slack)
    exported = json.loads(data.decode("utf-8"))
    assert exported["user"] == f"slack:{slack.team}:UADMIN"
    assert set(exported) >= {"messages", "dialogs", "assessment_results", "answer_feedback", "pilot_feedback"}
    [requested] = slack.fake.of("files.getUploadURLExternal")
    assert requested["filename"] == "meine-daten.json"
    # the notice is the answer in the channel thread; no file call ever names the channel
    [notice] = await slack.fake.wait_for("chat.postMessage")
    assert notice["channel"] == "C9" and notice["thread_ts"] == ts
    assert texts(notice).startswith("Ihre Daten als JSON:")
    await settle()
    for method in ("files.getUploadURLExternal", "files.completeUploadExternal"):
        assert all(call.get("channel_id") != "C9" and call.get("channels") != "C9" for call in slack.fake.of(method))
    assert len(uploaded(slack)) == 1


async def test_my_data_in_a_dm_is_uploaded_there_without_opening_another_conversation(slack):
    await slack.dm("Meine Daten", user="U1", channel="D1")
    [complete] = await slack.fake.wait_for("files.completeUploadExternal")
    assert complete["channel_id"] == "D1" and slack.fake.of("conversations.open") == []
    [(_, data)] = uploaded(slack)
    assert json.loads(data)["user"] == f"slack:{slack.team}:U1"


# -- /lotse pilot and /lotse daten: answered in the DM ---------------------------------------------------


async def test_lotse_pilot_is_acked_and_the_pilot_list_is_posted_to_the_dm(slack):
    add_pilot(slack)
    ack = await ack_text(slack, "pilot", user="UADMIN", channel="C1")
    assert ack == SENT_TO_DM
    [dm] = await slack.fake.wait_for("chat.postMessage")
    assert slack.fake.of("conversations.open")[0]["users"] == "UADMIN"
    assert dm["channel"] == "DUADMIN" and "thread_ts" not in dm
    shown = texts(dm)
    assert "*Piloten*" in shown and "1. Dokumentensuche – " in shown and "(läuft)" in shown
    # the hint under the list names the Slack command, not the core's /pilot
    assert "`/lotse pilot feedback &lt;Name oder Nummer&gt;`" in shown
    assert "/lotse pilot feedback" in dm["text"]
    await settle()
    assert [m["channel"] for m in posted(slack.fake)] == ["DUADMIN"]  # nothing in C1
    assert slack.fake.of("response_url") == []


async def test_a_pilot_shown_through_lotse_pilot_points_to_lotse_pilot_feedback(slack):
    add_pilot(slack)
    assert await ack_text(slack, "pilot Dokumentensuche", user="U1") == SENT_TO_DM
    [dm] = await slack.fake.wait_for("chat.postMessage")
    shown = texts(dm)
    assert dm["channel"] == "DU1" and "*Pilot „Dokumentensuche“*" in shown
    assert "Rückmeldung geben: `/lotse pilot feedback Dokumentensuche`" in shown
    assert "`/pilot" not in shown and "`/pilot" not in dm["text"]
    assert "Kosten:" not in shown  # the costs are for champions and admins


async def test_lotse_daten_export_sends_the_json_file_to_the_dm(slack):
    assert await ack_text(slack, "daten export", user="U1", channel="C1") == SENT_TO_DM
    [complete] = await slack.fake.wait_for("files.completeUploadExternal")
    [notice] = posted(slack.fake)
    assert notice["channel"] == "DU1" and texts(notice).startswith("Ihre Daten als JSON:")
    assert complete["channel_id"] == "DU1"
    [(_, data)] = uploaded(slack)
    assert json.loads(data)["user"] == f"slack:{slack.team}:U1"
    await settle()
    assert all(m["channel"] == "DU1" for m in posted(slack.fake)) and slack.fake.of("response_url") == []


async def test_lotse_daten_loeschen_asks_for_the_confirmation_in_the_dm(slack):
    assert await ack_text(slack, "daten löschen", user="U1", channel="C1") == SENT_TO_DM
    [question] = await slack.fake.wait_for("chat.postMessage")
    assert question["channel"] == "DU1" and "Wirklich alles löschen?" in texts(question)
    assert slack.fake.of("files.completeUploadExternal") == []


async def test_an_employees_pilot_export_is_refused_and_nothing_is_uploaded(slack):
    add_pilot(slack)
    exports = slack.core.settings.exports_dir
    before = set(exports.glob("pilot-feedback-*")) if exports.is_dir() else set()
    assert await ack_text(slack, "pilot export xlsx", user="U1") == SENT_TO_DM
    [refusal] = await slack.fake.wait_for("chat.postMessage")
    assert refusal["channel"] == "DU1" and texts(refusal) == ADMIN_ONLY
    await settle()
    assert all(slack.fake.of(method) == [] for method in UPLOAD_METHODS)
    assert (set(exports.glob("pilot-feedback-*")) if exports.is_dir() else set()) == before


async def test_an_admins_pilot_export_is_a_workbook_uploaded_to_the_admins_dm(slack):
    pilot = add_pilot(slack)
    add_feedback(slack, pilot, "U5", 4, 30)
    add_feedback(slack, pilot, "U6", 5, 45)
    assert await ack_text(slack, "pilot export xlsx", user="UADMIN", channel="C1") == SENT_TO_DM
    [complete] = await slack.fake.wait_for("files.completeUploadExternal")
    assert complete["channel_id"] == "DUADMIN"
    [requested] = slack.fake.of("files.getUploadURLExternal")
    assert requested["filename"].startswith("pilot-feedback-") and requested["filename"].endswith(".xlsx")
    [(_, data)] = uploaded(slack)
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    rows = list(workbook["Rückmeldungen"].iter_rows(values_only=True))  # a workbook for people, in German
    header = list(rows[0])
    satisfaction = header.index("Zufriedenheit (1–5)")
    assert sorted(r[satisfaction] for r in rows[1:]) == [4, 5]
    [notice] = posted(slack.fake)
    assert notice["channel"] == "DUADMIN"


async def test_a_champions_only_pilot_report_is_refused_to_an_employee_in_the_dm(slack):
    add_pilot(slack)
    assert await ack_text(slack, "pilot bericht Dokumentensuche", user="U1") == SENT_TO_DM
    [refusal] = await slack.fake.wait_for("chat.postMessage")
    assert refusal["channel"] == "DU1" and texts(refusal).startswith("Das dürfen Change Champions und Admins.")
    await settle()
    assert all(slack.fake.of(method) == [] for method in UPLOAD_METHODS)


# -- /pilot in reply texts -----------------------------------------------------------------------------


def test_block_kit_text_names_lotse_pilot_where_the_core_says_pilot():
    reply = Reply("Rückmeldung geben: `/pilot feedback Dokumentensuche` · Bericht: /pilot bericht quartal", "de")
    [(fallback, message_blocks)] = blocks.render(reply)
    [section] = [b["text"]["text"] for b in message_blocks if b["type"] == "section"]
    assert (
        section == "Rückmeldung geben: `/lotse pilot feedback Dokumentensuche` · Bericht: /lotse pilot bericht quartal"
    )
    assert "/lotse pilot feedback Dokumentensuche" in fallback and "/lotse pilot bericht" in fallback
    # a word that only starts like the command, and a path, stay as they are
    [(_, untouched)] = blocks.render(Reply("Die /piloten-Seite unter docs/pilot bleibt.", "de"))
    assert untouched[0]["text"]["text"] == "Die /piloten-Seite unter docs/pilot bleibt."


async def test_with_an_llm_my_data_asked_in_a_channel_still_reaches_the_users_dm(slack_llm):
    """With an LLM configured, a mention is answered through the streaming path (it is a thread); the
    export must still be uploaded to the user's DM."""
    slack = slack_llm
    ts = next_ts()
    await slack.event({"type": "app_mention", "channel": "C9", "user": "U2", "ts": ts, "text": "<@UBOT> meine Daten"})
    [complete] = await slack.fake.wait_for("files.completeUploadExternal")
    assert complete["channel_id"] == "DU2"
    [(_, data)] = uploaded(slack)
    assert json.loads(data)["user"] == f"slack:{slack.team}:U2"
    await settle()
    assert not any(texts(m).startswith("Das hat leider nicht geklappt") for m in posted(slack.fake))


# -- a quarterly report posted to a channel ---------------------------------------------------------------


async def test_an_admin_posts_the_quarterly_report_to_a_channel(slack, monkeypatch):
    pilot_id = add_pilot(slack)
    for n, user in enumerate(("UA", "UB", "UC")):
        add_feedback(slack, pilot_id, user, 4 + n % 2, 60)
    # the report (with its charts) is made only after Slack has its ack: Slack waits 3 s, a loaded
    # machine can take longer to render
    released = threading.Event()
    render = slack.core.pilots.quarter_reply

    def after_the_ack(*args, **kwargs):
        released.wait(10)
        return render(*args, **kwargs)

    monkeypatch.setattr(slack.core.pilots, "quarter_reply", after_the_ack)
    ack = await asyncio.wait_for(ack_text(slack, "pilot bericht quartal <#CBOARD|geschaeftsfuehrung>", "UADMIN"), 5)
    assert "Ich erstelle den Bericht für <#CBOARD>" in ack and not slack.fake.of("chat.postMessage")
    released.set()
    [message] = await slack.fake.wait_for("chat.postMessage")
    assert message["channel"] == "CBOARD" and texts(message).startswith("*ROI-Bericht ")
    completes = await slack.fake.wait_for("files.completeUploadExternal", count=3)
    assert all(c["channel_id"] == "CBOARD" for c in completes)  # the three charts, in the channel
    [done] = await slack.fake.wait_for("response_url")
    assert done["text"] == "✅ Der Bericht steht in <#CBOARD>." and done["response_type"] == "ephemeral"
    # an employee cannot post one, and the refusal is only for them, not in the channel
    ack = await ack_text(slack, "pilot bericht quartal <#CBOARD|geschaeftsfuehrung>", user="U1")
    assert "Ich erstelle den Bericht" in ack
    _, refused = await slack.fake.wait_for("response_url", count=2)
    assert "Das dürfen Change Champions und Admins." in refused["text"] and refused["response_type"] == "ephemeral"
    await settle()
    assert len([m for m in slack.fake.of("chat.postMessage") if m["channel"] == "CBOARD"]) == 1
