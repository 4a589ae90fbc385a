"""Slack end to end: signed requests into Lotse's HTTP endpoint, replies checked at the fake Web API."""

from __future__ import annotations

import asyncio
import time

from bot.core.messages import Incoming
from tests.conftest import both_databases

from .conftest import buttons, next_ts, posted, rating, texts


async def test_a_dm_question_gets_an_answer_with_sources_and_feedback_buttons(slack):
    response = await slack.dm("Wie viel Budget brauchen wir pro Person für KI-Schulungen?")
    assert response.status == 200
    [message] = await slack.fake.wait_for("chat.postMessage")
    assert message["channel"] == "D1" and "thread_ts" not in message
    assert "2.000" in texts(message) and "Quellen:" in texts(message)
    assert "*Häufige Fragen (FAQ)*" in texts(message)
    assert buttons(message) == []  # 👍/👎 are Slack's feedback_buttons, not plain buttons
    assert rating(message, "up")["value"].startswith("up:") and rating(message, "down")["value"].startswith("down:")
    assert message["text"].startswith("Aus der Wissensbasis") or "2.000" in message["text"]


@both_databases
async def test_thumbs_down_stores_the_rating_and_asks_for_a_reason(slack):
    await slack.dm("Was passiert in Woche 3 des 90-Tage-Plans?")
    [message] = await slack.fake.wait_for("chat.postMessage")
    down = rating(message, "down")
    response = await slack.click(message, down)
    assert response.status == 200
    answer = down["value"].removeprefix("down:")
    [opened] = await slack.fake.wait_for("views.open")
    view = opened["view"]
    assert view["callback_id"] == "lotse_feedback_reason" and view["private_metadata"] == answer
    await slack.interactive(
        {
            "type": "view_submission",
            "user": {"id": "U1", "team_id": slack.team},
            "trigger_id": "t2",
            "view": {
                **view,
                "id": "V1",
                "state": {
                    "values": {
                        "reason": {"value": {"type": "radio_buttons", "selected_option": {"value": "wrong_section"}}},
                        "comment": {"value": {"type": "plain_text_input", "value": "Woche 4 wäre richtig gewesen"}},
                    }
                },
            },
        }
    )
    for _ in range(100):
        rows = [r for r in slack.core.services.answer_feedback.all() if r.message_id == int(answer)]
        if rows and rows[0].reason:
            break
        await asyncio.sleep(0.05)
    [row] = rows
    assert (row.rating, row.reason, row.comment) == (-1, "wrong_section", "Woche 4 wäre richtig gewesen")
    assert row.question == "Was passiert in Woche 3 des 90-Tage-Plans?" and row.sources and row.user.endswith(":U1")


@both_databases
async def test_thumbs_up_is_stored_once_per_user_and_thanked(slack):
    await slack.dm("Welche Tools eignen sich für die Datenqualitätsanalyse?")
    [message] = await slack.fake.wait_for("chat.postMessage")
    up = rating(message, "up")
    for _ in range(2):
        await slack.click(message, up)
    thanks = await slack.fake.wait_for("chat.postEphemeral", 2)
    assert thanks[0]["text"] == "Danke für die Rückmeldung!" and thanks[0]["user"] == "U1"
    answer = int(up["value"].removeprefix("up:"))
    assert [r.rating for r in slack.core.services.answer_feedback.all() if r.message_id == answer] == [1]
    # a plain 👍 button under an answer posted before the feedback_buttons still counts
    old = {"action_id": "lotse_feedback_up", "block_id": "lotse_feedback", "value": str(answer)}
    await slack.click(message, old, user="U2")
    await slack.fake.wait_for("chat.postEphemeral", 3)
    assert sorted(r.rating for r in slack.core.services.answer_feedback.all() if r.message_id == answer) == [1, 1]


async def test_a_whole_assessment_by_button_clicks_ends_with_the_chart_uploaded(slack):
    await slack.dm("/check readiness")
    for count, label in enumerate(("Ja", "Ja", "Nein", "Ja"), 1):
        question = (await slack.fake.wait_for("chat.postMessage", count))[-1]
        question = posted(slack.fake)[-1]
        assert "[Frage" not in texts(question) and f"Frage {count} von 4" in texts(question)
        [choice] = [b for b in buttons(question) if b["text"]["text"] == label]
        await slack.click(question, {**choice, "block_id": "lotse_choices_0"})
        updated = (await slack.fake.wait_for("chat.update", count))[-1]
        assert updated["ts"] == question["ts"] and f"✓ {label}" in texts(updated)
        assert not [b for b in updated["blocks"] if b["type"] == "actions"]  # no second click on it
    result = (await slack.fake.wait_for("chat.postMessage", 5))[-1]
    assert "3 von 4 Prüfpunkten erfüllt" in texts(result)
    [complete] = await slack.fake.wait_for("files.completeUploadExternal")
    [upload] = slack.fake.of("upload")
    assert upload["size"] > 5000 and complete["channel_id"] == "D1"
    [asked] = slack.fake.of("files.getUploadURLExternal")
    assert len(asked.get("alt_txt") or "") > 20  # the chart's description, for screen readers


@both_databases
async def test_an_old_button_clicked_again_does_not_answer_the_next_question(slack):
    await slack.dm("/check readiness")
    [question] = await slack.fake.wait_for("chat.postMessage")
    question = posted(slack.fake)[0]
    [no] = [b for b in buttons(question) if b["text"]["text"] == "Nein"]
    # the first click's reply waits for its chat.update: the second click's reply must still come after it
    slack.fake.delay["chat.update"] = 0.3
    await slack.click(question, {**no, "block_id": "lotse_choices_0"})
    await slack.click(question, {**no, "block_id": "lotse_choices_0"})
    replies = await slack.fake.wait_for("chat.postMessage", 3)
    assert "Frage 2 von 4" in texts(replies[1])
    assert texts(replies[2]).count("früheren Frage") == 1 and "Frage 2 von 4" in texts(replies[2])


@both_databases
async def test_the_same_event_delivered_twice_is_answered_once(slack):
    event = {
        "type": "message",
        "channel": "D1",
        "channel_type": "im",
        "user": "U1",
        "ts": next_ts(),
        "text": "Wie lange dauert es, bis sich KI rechnet?",
    }
    first = await slack.event(event, event_id="EvSame1")
    second = await slack.event(event, event_id="EvSame1", retry=1)
    assert first.status == second.status == 200
    await slack.fake.wait_for("chat.postMessage")
    await asyncio.sleep(1.0)
    assert len(slack.fake.of("chat.postMessage")) == 1


async def test_a_mention_in_a_channel_is_answered_in_its_thread(slack):
    ts = next_ts()
    await slack.event(
        {
            "type": "app_mention",
            "channel": "C9",
            "user": "U2",
            "ts": ts,
            "text": "<@UBOT> Was kostet KI im ersten Jahr?",
        }
    )
    [message] = await slack.fake.wait_for("chat.postMessage")
    assert message["channel"] == "C9" and message["thread_ts"] == ts and "50.000" in texts(message)


@both_databases
async def test_typed_answers_in_a_channel_thread_continue_a_running_assessment(slack):
    ts = next_ts()
    await slack.event(
        {"type": "app_mention", "channel": "C9", "user": "U2", "ts": ts, "text": "<@UBOT> /check systems"}
    )
    await slack.fake.wait_for("chat.postMessage")
    await slack.event(
        {
            "type": "message",
            "channel": "C9",
            "channel_type": "channel",
            "user": "U2",
            "ts": next_ts(),
            "thread_ts": ts,
            "text": "SAP ERP",
        }
    )
    await slack.event(
        {
            "type": "message",
            "channel": "C9",
            "channel_type": "channel",
            "user": "U3",
            "ts": next_ts(),
            "thread_ts": ts,
            "text": "Ich finde, wir sollten erst Kaffee holen",
        }
    )
    replies = await slack.fake.wait_for("chat.postMessage", 2)
    await asyncio.sleep(0.5)
    assert len(slack.fake.of("chat.postMessage")) == 2  # the colleague's remark is not for Lotse
    assert "Wie KI-bereit ist SAP ERP?" in texts(replies[1]) and replies[1]["thread_ts"] == ts


async def test_bad_signatures_stale_timestamps_and_malformed_bodies_get_4xx(slack):
    body = '{"type": "event_callback", "team_id": "T1", "event": {}}'
    async with slack.session.post(
        f"{slack.url}/slack/events",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=" + "0" * 64,
        },
    ) as bad:
        assert bad.status == 401
    from tests.fakes.slack_api import sign

    from .conftest import SECRET

    old = sign(SECRET, body, int(time.time()) - 301)
    async with slack.session.post(
        f"{slack.url}/slack/events", data=body, headers={"Content-Type": "application/json", **old}
    ) as stale:
        assert stale.status == 401
    malformed = await slack.post("{not json", "application/json")
    assert 400 <= malformed.status < 500
    async with slack.session.post(f"{slack.url}/slack/events", data=b"x" * (2 * 1024 * 1024)) as huge:
        assert huge.status == 413
    assert slack.fake.of("chat.postMessage") == []


async def test_another_workspace_is_refused(slack):
    event = await slack.event(
        {"type": "message", "channel": "D1", "channel_type": "im", "user": "U1", "ts": next_ts(), "text": "Hallo"},
        team="TOTHER",
    )
    assert event.status == 200  # dropped: an error status would only make Slack retry it
    slack.team, own = "TOTHER", slack.team
    command = await slack.command("hilfe")
    slack.team = own
    assert command.status == 403
    await asyncio.sleep(0.3)
    assert slack.fake.of("chat.postMessage") == []


async def test_a_429_from_slack_is_retried_after_retry_after(slack):
    slack.fake.rate_limit_once("chat.postMessage", retry_after=1)
    await slack.dm("Was passiert in Woche 1?")
    await slack.fake.wait_for("chat.postMessage", 2)
    first, second = [c for c in slack.fake.calls if c.method == "chat.postMessage"]
    assert first.params["_status"] == 429 and second.at - first.at >= 0.95
    assert len(posted(slack.fake)) == 1


async def test_slash_command_subcommands_reply_privately_or_in_a_dm(slack):
    await slack.command("frage Was kostet KI im ersten Jahr?")
    [respond] = await slack.fake.wait_for("response_url")
    assert respond["response_type"] == "ephemeral" and "50.000" in respond["text"]
    await slack.command("check team")
    [dm] = await slack.fake.wait_for("chat.postMessage")
    assert dm["channel"] == "DU1" and "Wer ist die erste Person im Team?" in texts(dm)
    await slack.command("feedback")
    [opened] = await slack.fake.wait_for("views.open")
    assert opened["view"]["callback_id"] == "lotse_feedback_form"
    await slack.command("daten")
    data = (await slack.fake.wait_for("response_url", 2))[-1]
    assert (
        data["text"].startswith("Über Sie gespeichert") and "Dialoge (Bewertungen, Rückmeldungen): 1 ·" in data["text"]
    )


async def test_every_command_word_of_the_routing_table_works_as_a_lotse_subcommand(slack):
    """Issue 21: `/lotse <word>` follows the core's table — a new command (/status) needs no Slack code;
    /results answers in English; /weiter, a direct word of the table, goes to the DM."""
    await slack.command("status")
    [status] = await slack.fake.wait_for("response_url")
    assert status["response_type"] == "ephemeral" and status["text"].startswith("Stand Ihres Teams")
    assert "`/lotse plan` zeigt" in status["text"] or "/lotse plan zeigt" in status["text"]  # /plan in Slack
    await slack.command("Results")
    results = (await slack.fake.wait_for("response_url", 2))[-1]
    assert results["text"].startswith("Your latest results:")
    await slack.command("weiter")
    [dm] = await slack.fake.wait_for("chat.postMessage")
    assert dm["channel"] == "DU1"
    await slack.command("gibtsnicht")  # neither Slack's nor the table's: named in the ack, with the help
    assert not [c for c in slack.fake.of("response_url") if "gibtsnicht" in c.get("text", "")]


async def test_slash_command_acks_say_what_went_wrong(slack):
    from urllib.parse import urlencode

    from tests.fakes.slack_api import sign

    from .conftest import SECRET

    async def ack_text(text: str, user: str = "U1") -> str:
        form = urlencode(
            {
                "team_id": slack.team,
                "channel_id": "C1",
                "user_id": user,
                "command": "/lotse",
                "text": text,
                "response_url": slack.fake.response_url(),
                "trigger_id": "t",
            }
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, form)}
        async with slack.session.post(f"{slack.url}/slack/events", data=form, headers=headers) as response:
            assert response.status == 200
            return await response.text()

    unknown = await ack_text("zaubern")
    assert unknown.startswith("`/lotse zaubern` kenne ich nicht.") and "`/lotse check [Bewertung]`" in unknown
    assert "Administratorinnen und Administratoren vorbehalten" in await ack_text("export")
    assert await ack_text("export", user="UADMIN") == ""  # admins get the export hint through response_url
    [hint] = await slack.fake.wait_for("response_url")
    assert "lotse assess export" in hint["text"]
    assert (await ack_text("")).startswith("*Lotse*")


@both_databases
async def test_feedback_form_submission_is_stored(slack):
    before = len(slack.core.services.answer_feedback.all())
    response = await slack.interactive(
        {
            "type": "view_submission",
            "user": {"id": "U7", "team_id": slack.team},
            "trigger_id": "t3",
            "view": {
                "id": "V2",
                "type": "modal",
                "callback_id": "lotse_feedback_form",
                "private_metadata": "de",
                "state": {
                    "values": {
                        "rating": {"value": {"type": "static_select", "selected_option": {"value": "4"}}},
                        "comment": {"value": {"type": "plain_text_input", "value": "Mehr Beispiele bitte"}},
                    }
                },
            },
        }
    )
    assert response.status == 200
    for _ in range(100):  # the form is acknowledged first and stored right after
        rows = slack.core.services.answer_feedback.all()[before:]
        if rows:
            break
        await asyncio.sleep(0.05)
    assert [(r.rating, r.comment, r.message_id) for r in rows] == [(4, "Mehr Beispiele bitte", None)]


async def test_the_assistant_thread_greets_and_answers_with_status_and_title(slack):
    thread = next_ts()
    await slack.event(
        {
            "type": "assistant_thread_started",
            "assistant_thread": {"user_id": "U1", "channel_id": "D1", "thread_ts": thread, "context": {}},
            "event_ts": thread,
        }
    )
    [greeting] = await slack.fake.wait_for("chat.postMessage")
    assert "KI-Assistent" in greeting["text"] and greeting["thread_ts"] == thread
    [prompts] = await slack.fake.wait_for("assistant.threads.setSuggestedPrompts")
    assert len(prompts["prompts"]) == 4 and prompts["title"] == "Zum Beispiel"
    # two questions for the guide, two requests in plain words from the action catalog (issue 22)
    assert prompts["prompts"][2]["message"] == "Ich möchte den KI-Readiness-Check machen"
    assert not any(p["message"].startswith("/") for p in prompts["prompts"])  # Slack would take it as a command
    await slack.dm("Was passiert in Woche 3 des 90-Tage-Plans?", thread_ts=thread)
    [status] = await slack.fake.wait_for("assistant.threads.setStatus")
    assert status["status"] == "sucht in der Roadmap …" and "Lese den Leitfaden …" in str(status["loading_messages"])
    answer = (await slack.fake.wait_for("chat.postMessage", 2))[-1]
    assert answer["thread_ts"] == thread and "Quellen:" in texts(answer)
    [title] = await slack.fake.wait_for("assistant.threads.setTitle")
    assert title["title"].startswith("Was passiert in Woche 3")
    # the answer's follow-ups become the thread's suggested prompts: questions other sections answer
    [_, follow_ups] = await slack.fake.wait_for("assistant.threads.setSuggestedPrompts", 2)
    assert follow_ups["thread_ts"] == thread and follow_ups["title"] == "Weiterfragen"
    assert 1 <= len(follow_ups["prompts"]) <= 4 and all(p["message"].endswith("?") for p in follow_ups["prompts"])
    assert "Was passiert in Woche 3 des 90-Tage-Plans?" not in [p["message"] for p in follow_ups["prompts"]]


async def test_app_home_shows_how_to_start_and_the_latest_results(slack):
    await slack.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home", "event_ts": next_ts()})
    [published] = await slack.fake.wait_for("views.publish")
    view = published["view"]
    assert published["user_id"] == "U1" and view["type"] == "home"
    assert "Ihre letzten Ergebnisse" in str(view["blocks"]) and "/lotse check" in str(view["blocks"])
    await slack.event(
        {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "messages", "event_ts": next_ts()}
    )
    [prompts] = await slack.fake.wait_for("assistant.threads.setSuggestedPrompts")
    assert "thread_ts" not in prompts and prompts["channel_id"] == "D1" and prompts["title"] == "Zum Beispiel"
    [greeting] = slack.fake.of("chat.postMessage")  # agent view: greeted once, on the first visit
    assert "KI-Assistent" in greeting["text"] and greeting["channel"] == "D1" and "thread_ts" not in greeting
    await slack.event(
        {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "messages", "event_ts": next_ts()}
    )
    await slack.fake.wait_for("assistant.threads.setSuggestedPrompts", 2)
    assert len(slack.fake.of("chat.postMessage")) == 1


async def test_tokens_never_reach_the_logs(slack, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    for name in ("slack_sdk", "slack_bolt"):  # `lotse …` run in this process earlier quiets them (cli.main)
        caplog.set_level(logging.DEBUG, logger=name)
    await slack.dm("Was kostet KI im ersten Jahr?")
    await slack.fake.wait_for("chat.postMessage")
    assert caplog.records and "xoxb-test-token" not in caplog.text
    assert "xoxb-test-token" not in repr(slack.core.settings)


async def test_with_an_llm_a_placeholder_comes_first_and_is_replaced_by_the_answer(slack_llm):
    slack = slack_llm
    await slack.dm("Wie viel Budget brauchen wir pro Person für KI-Schulungen?")
    [placeholder] = await slack.fake.wait_for("chat.postMessage")
    assert placeholder["text"] == "Einen Moment, ich suche in der Roadmap …" and "blocks" not in placeholder
    [update] = await slack.fake.wait_for("chat.update")
    assert update["ts"] == placeholder["ts"]
    assert "Pro Person sind 2.000 bis 5.000 Euro einzuplanen [1]." in texts(update) and "Quellen:" in texts(update)
    assert update["blocks"][0]["type"] == "markdown"  # the LLM's Markdown, rendered by Slack
    assert len(slack.fake.of("chat.postMessage")) == 1 and slack.openai.requests


async def test_an_llm_answer_in_a_thread_is_streamed_and_closed_with_sources_and_buttons(slack_llm):
    slack = slack_llm
    slack.openai.reply = "Für die KI-Weiterbildung rechnen Sie mit 2.000 bis 5.000 Euro pro Person [1]. " * 12
    thread = next_ts()
    await slack.dm("Wie viel Budget brauchen wir pro Person für KI-Schulungen?", thread_ts=thread)
    [started] = await slack.fake.wait_for("chat.startStream")
    assert started["channel"] == "D1" and started["thread_ts"] == thread and started["recipient_user_id"] == "U1"
    [stopped] = await slack.fake.wait_for("chat.stopStream")
    appended = slack.fake.of("chat.appendStream")
    streamed = "".join(c["text"] for call in [started, *appended, stopped] for c in _chunks(call))
    assert appended and streamed.strip() == slack.openai.reply.strip()
    tail = _json(stopped["blocks"])
    assert tail[0]["type"] == "context" and "Quellen:" in tail[0]["elements"][0]["text"]
    assert tail[1]["type"] == "context_actions" and tail[1]["elements"][0]["type"] == "feedback_buttons"
    assert slack.fake.of("chat.postMessage") == []


def _json(value):
    import json

    return json.loads(value) if isinstance(value, str) else value


def _chunks(call: dict) -> list[dict]:
    if call.get("chunks"):
        return [c for c in _json(call["chunks"]) if c.get("type") == "markdown_text"]
    return [{"text": call["markdown_text"]}] if call.get("markdown_text") else []


async def test_when_slack_refuses_the_reply_the_user_still_gets_a_short_message(slack):
    slack.fake.fail_blocks_once("chat.postMessage")
    await slack.dm("Was kostet KI im ersten Jahr?")
    refused, fallback = await slack.fake.wait_for("chat.postMessage", 2)
    assert refused["_status"] == 400 and "blocks" not in fallback
    assert fallback["text"].startswith("Das hat leider nicht geklappt")


@both_databases
async def test_a_reply_in_the_thread_of_a_dm_question_continues_the_assessment(slack):
    await slack.dm("/check readiness")
    [question] = await slack.fake.wait_for("chat.postMessage")
    await slack.dm("ja", thread_ts=question["ts"])
    second = (await slack.fake.wait_for("chat.postMessage", 2))[-1]
    assert "Frage 2 von 4" in texts(second) and second["thread_ts"] == question["ts"]


async def test_lotse_ask_with_a_command_runs_it_in_the_dm(slack):
    await slack.command("ask /check systems")
    [dm] = await slack.fake.wait_for("chat.postMessage")
    assert dm["channel"] == "DU1" and "Wie heißt das erste geschäftskritische System?" in texts(dm)


@both_databases
async def test_a_mention_that_arrives_as_a_message_event_first_is_read_without_the_mention(slack):
    ts = next_ts()
    await slack.event(
        {"type": "app_mention", "channel": "C9", "user": "U2", "ts": ts, "text": "<@UBOT> /check systems"}
    )
    await slack.fake.wait_for("chat.postMessage")
    reply_ts = next_ts()
    await slack.event(
        {
            "type": "message",
            "channel": "C9",
            "channel_type": "channel",
            "user": "U2",
            "ts": reply_ts,
            "thread_ts": ts,
            "text": "<@UBOT> SAP ERP",
        }
    )
    await slack.event(
        {
            "type": "app_mention",
            "channel": "C9",
            "user": "U2",
            "ts": reply_ts,
            "thread_ts": ts,
            "text": "<@UBOT> SAP ERP",
        }
    )
    replies = await slack.fake.wait_for("chat.postMessage", 2)
    await asyncio.sleep(0.5)
    assert len(slack.fake.of("chat.postMessage")) == 2 and "Wie KI-bereit ist SAP ERP?" in texts(replies[1])


async def test_feedback_typed_in_a_dm_offers_the_form_as_a_modal(slack):
    await slack.dm(" /feedback")  # Slack needs the space: a message starting with "/" is a slash command
    [message] = await slack.fake.wait_for("chat.postMessage")
    [offer] = [b for b in buttons(message) if b["action_id"] == "lotse_feedback_open"]
    await slack.click(message, {"action_id": offer["action_id"], "block_id": "x", "value": offer["value"]})
    [opened] = await slack.fake.wait_for("views.open")
    assert opened["view"]["callback_id"] == "lotse_feedback_form"


async def test_a_reply_posted_just_before_the_database_went_away_is_not_posted_again(slack):
    """The turn's last message went out, then marking the turn done failed on the database (a blip, a
    failover): the worker tries the turn again when the database answers, and it knows the message was
    posted. (Found by tests/operations/test_faults.py under load: one reply of a flood came twice.)"""
    from sqlalchemy.exc import OperationalError

    from bot.app.server import WORKER

    inbox = slack.app[WORKER].inbox
    finish, calls = inbox.finish, []

    def finish_after_a_blip(item_id: int, state: str = "done") -> bool:
        calls.append(item_id)
        if len(calls) == 1:
            raise OperationalError("UPDATE inbox …", {}, Exception("server closed the connection unexpectedly"))
        return finish(item_id, state)

    inbox.finish = finish_after_a_blip
    assert (await slack.dm("Was ist ein Quick Win?")).status == 200
    await slack.fake.wait_for("chat.postMessage")
    deadline = time.monotonic() + 10
    while len(calls) < 2:
        assert time.monotonic() < deadline, "the turn was not finished after the database came back"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert len(posted(slack.fake)) == 1 and calls[0] == calls[1]


async def test_a_request_in_plain_words_is_confirmed_with_buttons_updated_in_place(slack):
    """Issue 22 in Slack: the write shows its values with Confirm / Cancel; the click does it, and the
    message loses its buttons (it says what was picked)."""
    scope = f"slack:{slack.team}"
    await slack.dm(
        "Richte bitte die wöchentlichen Plan-Erinnerungen ab 11.1.2027 ein, wir sind in Sachsen", user="UADMIN"
    )
    [proposal] = await slack.fake.wait_for("chat.postMessage")
    assert "Start: 2027-01-11" in texts(proposal) and "Bundesland: SN" in texts(proposal)
    assert slack.core.services.reminders.plans.current(scope) is None
    confirm, cancel = buttons(proposal)
    assert confirm["text"]["text"] == "Bestätigen" and cancel["text"]["text"] == "Abbrechen"
    await slack.click(proposal, {**confirm, "block_id": "lotse_choices_0"}, user="UADMIN")
    [update] = await slack.fake.wait_for("chat.update")
    assert update["ts"] == proposal["ts"] and not [b for b in update["blocks"] if b["type"] == "actions"]
    done = (await slack.fake.wait_for("chat.postMessage", 2))[-1]
    assert "Der 90-Tage-Plan läuft" in texts(done)
    assert slack.core.services.reminders.plans.current(scope).state == "SN"


async def test_typed_ampersands_and_angle_brackets_are_kept_as_typed_and_escaped_once(slack):
    # Slack delivers a typed "R&D <Server>" as "R&amp;D &lt;Server&gt;"
    await slack.dm("Was kostet KI im ersten Jahr für R&amp;D &lt;Server&gt;?", user="UAMP")
    [message] = await slack.fake.wait_for("chat.postMessage")
    stored = slack.core.services.conversations.recent(f"slack:{slack.team}:UAMP:D1")
    assert [r.text for r in stored if r.role == "user"] == ["Was kostet KI im ersten Jahr für R&D <Server>?"]
    assert "&amp;amp;" not in str(message) and "&amp;lt;" not in str(message)  # nothing escaped twice


async def test_a_fallback_text_and_a_blockless_answer_are_escaped_once(slack):
    from bot.channels.slack import blocks
    from bot.core.messages import Reply

    [(fallback, _)] = blocks.render(Reply("Geben Sie `/pilot feedback <Name oder Nummer>` ein – R&D > alles", "de"))
    assert "<Name" not in fallback and "&lt;Name oder Nummer&gt;" in fallback and "R&amp;D &gt; alles" in fallback
    assert blocks.fallback_text("x" * 2998 + "&") == "x" * 2998  # never cut inside an entity
    assert blocks.mrkdwn("Bericht für <#C123|general> & <Pilot>") == "Bericht für <#C123|general> &amp; &lt;Pilot&gt;"


async def test_a_stream_that_cannot_be_finished_is_stopped_before_its_text_is_replaced(slack_llm):
    slack = slack_llm
    slack.openai.reply = "Für die KI-Weiterbildung rechnen Sie mit 2.000 bis 5.000 Euro pro Person [1]. " * 12
    slack.fake.fail_blocks_once("chat.stopStream")  # Slack refuses the closing blocks
    thread = next_ts()
    await slack.dm("Wie viel Budget brauchen wir pro Person für KI-Schulungen?", thread_ts=thread)
    [updated] = await slack.fake.wait_for("chat.update")
    stops = slack.fake.of("chat.stopStream")
    assert [c.get("_status") for c in stops] == [400, None]  # the stream is closed all the same
    assert stops[1]["ts"] == stops[0]["ts"] == updated["ts"]  # … and then the whole answer replaces it
    assert "2.000" in texts(updated) and "Quellen:" in texts(updated)


async def test_with_an_llm_a_mention_shows_slacks_loading_status_not_a_one_moment_message(slack_llm):
    slack = slack_llm
    ts = next_ts()
    text = "<@UBOT> Wie viel Budget brauchen wir pro Person für KI-Schulungen?"
    mention = {"type": "app_mention", "channel": "C9", "user": "U2", "ts": ts, "text": text, "event_ts": ts}
    await slack.event(mention)
    [status] = await slack.fake.wait_for("assistant.threads.setStatus")
    assert status["channel_id"] == "C9" and status["thread_ts"] == ts and status["loading_messages"]
    await slack.fake.wait_for("chat.stopStream")
    assert not [m for m in slack.fake.of("chat.postMessage") if "Einen Moment" in (m.get("text") or "")]


async def test_a_plan_started_from_the_assistant_panel_nudges_the_channel_the_user_has_open(slack):
    """Issue 23: Slack's thread context (the channel open beside the assistant panel) is kept in Lotse's
    database from `assistant_thread_started` and `assistant_thread_context_changed`; a plan started in that
    thread sends the team's nudges to that channel and says so; erasing the user's data removes it."""
    scope = f"slack:{slack.team}"
    thread = next_ts()
    started = {"user_id": "UADMIN", "channel_id": "D7", "thread_ts": thread, "context": {"channel_id": "C0ITTEAM"}}
    await slack.event({"type": "assistant_thread_started", "assistant_thread": started, "event_ts": thread})
    await slack.fake.wait_for("assistant.threads.setSuggestedPrompts")
    moved = {**started, "context": {"channel_id": "C0KIPROJ", "team_id": slack.team}}
    await slack.event({"type": "assistant_thread_context_changed", "assistant_thread": moved, "event_ts": next_ts()})
    await slack.dm(
        "Richte bitte die wöchentlichen Plan-Erinnerungen ab 11.1.2027 ein, wir sind in Sachsen",
        user="UADMIN", channel="D7", thread_ts=thread,
    )  # fmt: skip
    proposal = (await slack.fake.wait_for("chat.postMessage", 2))[-1]
    confirm, _ = buttons(proposal)
    await slack.click(proposal, {**confirm, "block_id": "lotse_choices_0"}, user="UADMIN", channel="D7")
    done = (await slack.fake.wait_for("chat.postMessage", 3))[-1]
    assert "Empfänger: <#C0KIPROJ>" in texts(done) and "den Kanal, den Sie neben mir geöffnet haben" in texts(done)
    plan = slack.core.services.reminders.plans.current(scope)
    assert [t.address for t in slack.core.services.reminders.plans.targets(plan.id)] == ["C0KIPROJ"]
    assert slack.core.address("slack-context:D7:" + thread) is not None
    slack.core.handle(Incoming("lösche meine Daten", "UADMIN", channel="slack", workspace=slack.team))
    erased = slack.core.handle(Incoming("ja", "UADMIN", channel="slack", workspace=slack.team))
    assert erased.answered and slack.core.address("slack-context:D7:" + thread) is None


async def test_the_context_of_a_channel_from_another_workspace_is_still_the_users_and_erased_with_their_data(slack):
    """Slack Connect or Enterprise Grid: the context's team_id is the viewed channel's workspace, not the
    user's; the row still belongs to the user (it was stored under the other team and never erased)."""
    thread = next_ts()
    started = {"user_id": "UCONNECT", "channel_id": "D9", "thread_ts": thread,
               "context": {"channel_id": "C0SHARED", "team_id": "T0PARTNER"}}  # fmt: skip
    await slack.event({"type": "assistant_thread_started", "assistant_thread": started, "event_ts": thread})
    await slack.fake.wait_for("assistant.threads.setSuggestedPrompts")
    assert slack.core.address("slack-context:D9:" + thread) is not None
    slack.core.handle(Incoming("lösche meine Daten", "UCONNECT", channel="slack", workspace=slack.team))
    erased = slack.core.handle(Incoming("ja", "UCONNECT", channel="slack", workspace=slack.team))
    assert erased.answered and slack.core.address("slack-context:D9:" + thread) is None


async def test_a_plan_started_in_a_plain_dm_still_nudges_the_dm(slack):
    thread = next_ts()
    started = {"user_id": "UADMIN", "channel_id": "D8", "thread_ts": thread, "context": {}}  # opened from a DM
    await slack.event({"type": "assistant_thread_started", "assistant_thread": started, "event_ts": thread})
    await slack.fake.wait_for("assistant.threads.setSuggestedPrompts")
    await slack.dm("/plan start 11.1.2027 SN", user="UADMIN", channel="D8", thread_ts=thread)
    done = (await slack.fake.wait_for("chat.postMessage", 2))[-1]
    assert "Der 90-Tage-Plan läuft" in texts(done) and "neben mir" not in texts(done)


async def test_one_users_slow_llm_answer_does_not_hold_up_another_users(slack_llm):
    """`lotse serve` works turns of different users on several threads (LOTSE_CORE_THREADS): while the LLM
    takes its time for one asker, another asker's answer comes."""
    slack = slack_llm
    slack.openai.slow_for, slack.openai.delay = "Datenschutz-Folgenabschätzung", 60.0  # held until released
    try:
        await slack.dm("Wann brauchen wir eine Datenschutz-Folgenabschätzung?", user="U1", channel="D1")
        await slack.dm("Wie viel Budget brauchen wir pro Person für KI-Schulungen?", user="U2", channel="D2")
        [first] = await slack.fake.wait_for("chat.update")  # on one thread: only after the first one's 60 s
        assert first["channel"] == "D2" and "2.000 bis 5.000 Euro" in texts(first)
        assert not slack.openai.release.is_set()
    finally:
        slack.openai.release.set()
    [_, slow] = await slack.fake.wait_for("chat.update", count=2)
    assert slow["channel"] == "D1"
