"""The AI register and the audit log in Slack, through the existing `/lotse frage|ask` passthrough (a
command after it goes to the user's DM) and a mention: the list reaches the DM, an admin's export is
uploaded there, an employee gets the admin-only reply for `/audit`, and an admin sees the log in the DM
only, never in a channel. Nothing here needs Slack code of its own: the core's replies are
channel-neutral."""

from __future__ import annotations

import io

import openpyxl

from .conftest import next_ts, posted, texts
from .test_pilots import ADMIN_ONLY, SENT_TO_DM, ack_text, settle, uploaded


async def test_the_register_list_and_an_admins_export_reach_the_dm(slack):
    assert await ack_text(slack, "frage /register", user="U1", channel="C1") == SENT_TO_DM
    [listed] = await slack.fake.wait_for("chat.postMessage")
    assert listed["channel"] == "DU1" and "*KI-Register*" in texts(listed) and "*Lotse*" in texts(listed)

    assert await ack_text(slack, "frage /register export xlsx", user="UADMIN", channel="C1") == SENT_TO_DM
    [complete] = await slack.fake.wait_for("files.completeUploadExternal")
    assert complete["channel_id"] == "DUADMIN"
    [(_, data)] = uploaded(slack)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["KI-Register"]  # a workbook for people, in German
    assert "Lotse" in [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]


async def test_an_employee_asking_for_the_audit_log_gets_the_admin_only_reply(slack):
    assert await ack_text(slack, "frage /audit", user="U1", channel="C1") == SENT_TO_DM
    [refusal] = await slack.fake.wait_for("chat.postMessage")
    assert refusal["channel"] == "DU1" and texts(refusal) == ADMIN_ONLY
    await slack.event(
        {"type": "app_mention", "channel": "C9", "user": "UADMIN", "ts": next_ts(), "text": "<@UBOT> /audit register"}
    )
    await settle()
    [shown] = [texts(m) for m in posted(slack.fake) if m["channel"] == "C9"]  # not the log: the channel is no admin
    assert shown.startswith("Das besprechen wir unter vier Augen") and "Audit" not in shown
    assert await ack_text(slack, "frage /audit register", user="UADMIN", channel="C1") == SENT_TO_DM
    await settle()
    [log] = [texts(m) for m in posted(slack.fake) if m["channel"] == "DUADMIN"]
    assert log.startswith("*Audit-Protokoll*") and "KI-Anwendung registriert · Lotse" in log


async def test_lotse_register_and_lotse_audit_are_subcommands_of_their_own(slack):
    assert await ack_text(slack, "register", user="U1", channel="C1") == SENT_TO_DM
    [listed] = await slack.fake.wait_for("chat.postMessage")
    assert listed["channel"] == "DU1" and "*KI-Register*" in texts(listed)
    assert await ack_text(slack, "audit", user="U1", channel="C1") == SENT_TO_DM
    replies = await slack.fake.wait_for("chat.postMessage", count=2)
    assert texts(replies[1]) == ADMIN_ONLY
