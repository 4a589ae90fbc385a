"""Teams end to end: activities POSTed to /api/messages with signed tokens; replies at the fake connector."""

from __future__ import annotations

import json

from bot.core.messages import Reply
from tests.conftest import both_databases

from .conftest import APP_ID, TENANT

# a user of the test's own: the knowledge base's database, and its per-person rate limit, is shared by the
# tests of a worker, and the shared test user may be over the limit when a test that needs an answer runs
OWN_ASKER = {"from": {"id": "29:own-asker", "name": "Olga", "aadObjectId": "aad-own-asker"}}


def card_of(activity: dict) -> dict:
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


def submits(card: dict) -> list[dict]:
    return [a for e in card["body"] if e["type"] == "ActionSet" for a in e["actions"]]


async def test_a_question_gets_an_ai_labelled_answer_with_citations_and_feedback(teams):
    response = await teams.say("Wie viel Budget brauchen wir pro Person für KI-Schulungen?")
    assert response.status in (200, 201)
    [answer] = await teams.connector.wait_for()
    assert teams.connector.messages("typing")  # typing indicator while working
    assert "2.000" in answer["text"] and "[1]" in answer["text"]
    [entity] = answer["entities"]
    assert entity["type"] == "https://schema.org/Message" and entity["additionalType"] == ["AIGeneratedContent"]
    assert entity["citation"][0]["position"] == 1 and entity["citation"][0]["appearance"]["name"]
    abstract = entity["citation"][0]["appearance"]["abstract"]
    assert len(abstract) <= 160
    # the passage's words first, the guide's subsection after them: the path took most of the 160 characters
    assert "2.000 bis 5.000 Euro pro Person" in abstract and abstract.endswith(")"), abstract
    assert not abstract.startswith("Leitfaden ›") and "(Leitfaden: " in abstract, abstract
    assert answer["channelData"] == {"feedbackLoop": {"type": "custom"}}  # Lotse's own form, Slack's reasons
    assert answer["replyToId"].startswith("msg-")


async def test_an_answer_suggests_up_to_three_related_questions_that_ask_them_when_clicked(teams):
    """Teams' suggested actions: questions other sections of the guide answer, closest to what was asked,
    none the answer's own; a click sends the question as the user's message, and it is answered."""
    asker = {"from": {"id": "29:fia", "name": "Fia", "aadObjectId": "aad-fia"}}  # the others' rate limit untouched
    await teams.say("Wie messe ich den ROI eines Piloten?", **asker)
    [answer] = await teams.connector.wait_for()
    actions = answer["suggestedActions"]["actions"]
    assert 1 <= len(actions) <= 3 and all(a["type"] == "imBack" and a["title"] for a in actions)
    assert all(a["value"].endswith("?") and a["value"] != "Wie messe ich den ROI eines Piloten?" for a in actions)
    assert len({a["value"] for a in actions}) == len(actions)
    await teams.say(actions[0]["value"], **asker)
    [_, second] = await teams.connector.wait_for(2)
    assert "[1]" in second["text"] and second["entities"][0]["citation"]
    assert actions[0]["value"] not in [a["value"] for a in second.get("suggestedActions", {}).get("actions", [])]


@both_databases
async def test_native_feedback_is_stored_with_question_answer_and_reason(teams):
    await teams.say("Was passiert in Woche 3 des 90-Tage-Plans?")
    await teams.connector.wait_for()
    sent_id = "activity-2"  # the typing indicator is activity-1
    feedback = json.dumps({"feedbackText": "Woche 4 war gemeint"})
    value = {"actionName": "feedback", "actionValue": {"reaction": "dislike", "feedback": feedback}}
    invoke = teams.activity(None, type="invoke", name="message/submitAction", replyToId=sent_id, value=value)
    response = await teams.post(invoke)
    assert response.status == 200 and json.loads(response.body_text) == {}  # a body: Microsoft's clients need one
    [row] = [r for r in teams.core.services.answer_feedback.all() if r.comment == "Woche 4 war gemeint"]
    assert row.rating == -1 and row.question == "Was passiert in Woche 3 des 90-Tage-Plans?" and row.sources
    assert row.user == f"teams:{TENANT}:aad-anna"


@both_databases
async def test_thumbs_down_opens_lotses_form_and_its_reason_is_stored(teams, caplog):
    await teams.say("Was passiert in Woche 3 des 90-Tage-Plans?")
    await teams.connector.wait_for()
    asked = {"actionName": "feedback", "actionValue": {"reaction": "dislike"}}
    fetch = await teams.post(teams.activity(None, type="invoke", name="message/fetchTask", replyToId="activity-2",
                                            value=asked))  # fmt: skip
    assert fetch.status == 200
    task = json.loads(fetch.body_text)["task"]
    form = task["value"]["card"]["content"]
    assert task["type"] == "continue" and {e["id"] for e in form["body"]} == {"reason", "feedbackText"}
    filled = json.dumps({"reason": "unclear", "feedbackText": "Zu lang"})
    value = {"actionName": "feedback", "actionValue": {"reaction": "dislike", "feedback": filled}}
    sent = await teams.post(teams.activity(None, type="invoke", name="message/submitAction", replyToId="activity-2",
                                           value=value))  # fmt: skip
    assert sent.status == 200 and json.loads(sent.body_text) == {}
    [row] = [r for r in teams.core.services.answer_feedback.all() if r.comment == "Zu lang"]
    assert (row.rating, row.reason) == (-1, "unclear")
    before = len(teams.core.services.answer_feedback.all())
    value = {"actionName": "feedback", "actionValue": {"reaction": "like"}}
    orphan = await teams.post(teams.activity(None, type="invoke", name="message/submitAction", value=value))
    assert orphan.status == 200 and len(teams.core.services.answer_feedback.all()) == before
    assert "without replyToId" in caplog.text  # reported, not dropped silently


async def test_a_whole_assessment_through_action_submit_values(teams):
    await teams.say("/check readiness")
    [first] = await teams.connector.wait_for()
    card = card_of(first)
    assert card["version"] == "1.5" and card["body"][0]["text"] == "Frage 1 von 4"
    for count, label in enumerate(("Ja", "Ja", "Nein", "Ja"), 1):
        question = teams.connector.messages()[-1]
        [button] = [a for a in submits(card_of(question)) if a["title"] == label]
        await teams.post(teams.activity(None, value=button["data"], replyToId=f"activity-{2 * count}"))
        await teams.connector.wait_for(count + 1)
    result = teams.connector.messages()[-1]
    result_card = card_of(result)
    assert any("3 von 4 Prüfpunkten erfüllt" in e.get("text", "") for e in result_card["body"])
    [image] = [e for e in result_card["body"] if e["type"] == "Image"]
    assert image["url"].startswith("data:image/png;base64,") and len(image["url"]) > 5000
    updates = [s for s in teams.connector.sent if s.method == "PUT"]
    assert len(updates) == 4 and "✓" in json.dumps(updates[0].activity, ensure_ascii=False)
    # the answered card keeps the question in its own words, not the dialog's introduction cut off (issue 23)
    answered = card_of(updates[0].activity)["body"]
    assert answered[0]["text"].startswith("Liegen Ihre wichtigsten Daten in strukturierten Datenbanken")
    assert "(APIs) erreichbar sind?" in answered[0]["text"]


async def test_typed_answers_come_from_an_input_field_too(teams):
    await teams.say("/check systems")
    [first] = await teams.connector.wait_for()
    card = card_of(first)
    assert any(e["type"] == "Input.Text" and e["id"] == "answer" for e in card["body"])
    [send] = [a for a in submits(card) if a["data"]["lotse"] == "input"]
    await teams.post(teams.activity(None, value={**send["data"], "answer": "SAP ERP"}, replyToId="activity-2"))
    second = (await teams.connector.wait_for(2))[-1]
    assert "Wie KI-bereit ist SAP ERP?" in json.dumps(card_of(second), ensure_ascii=False)
    [answered] = [s.activity for s in teams.connector.sent if s.method == "PUT"]  # the question stays readable
    body = card_of(answered)["body"]
    assert body[0]["text"] == send["data"]["asked"] and body[0]["text"] and body[-1]["text"] == "✓ SAP ERP"


@both_databases
async def test_a_proactive_message_goes_through_the_stored_reference(teams):
    await teams.say("Hallo")
    await teams.connector.wait_for()
    key = f"teams:{teams.conversation}"
    assert await teams.channel.notify(key, Reply("Woche 2 beginnt: Datenqualität bewerten.", "de"))
    proactive = teams.connector.messages()[-1]
    assert proactive["text"] == "Woche 2 beginnt: Datenqualität bewerten."
    assert proactive["conversation"]["id"] == teams.conversation


@both_databases
async def test_a_user_who_removed_lotse_is_not_messaged_again_and_429_is_retried(teams):
    await teams.say("Hallo")
    await teams.connector.wait_for()
    key = f"teams:{teams.conversation}"
    teams.connector.refuse.append((429, {"Retry-After": "1"}))
    assert await teams.channel.notify(key, Reply("Erinnerung", "de"))
    teams.connector.refuse.append((403, {}))
    assert await teams.channel.notify(key, Reply("Noch eine", "de")) is False
    assert teams.core.services.references.get(key)[1] is False
    sent_before = len(teams.connector.sent)
    assert await teams.channel.notify(key, Reply("Und noch eine", "de")) is False
    assert len(teams.connector.sent) == sent_before  # inactive: not even tried


async def test_requests_without_a_valid_token_are_refused_before_the_core(teams):
    activity = teams.activity("Was kostet KI?")
    assert (await teams.post(activity, token=None)).status == 401
    foreign = f"Bearer {teams.connector.token(APP_ID, activity['serviceUrl'], issuer='https://evil.example')}"
    assert (await teams.post(activity, token=foreign)).status == 401
    assert (await teams.post(activity, token="Bearer garbage")).status == 401
    from cryptography.hazmat.primitives.asymmetric import rsa

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = f"Bearer {teams.connector.token(APP_ID, activity['serviceUrl'], key=other_key)}"
    assert (await teams.post(activity, token=forged)).status == 401
    wrong_audience = f"Bearer {teams.connector.token('someone-else', activity['serviceUrl'])}"
    assert (await teams.post(activity, token=wrong_audience)).status == 401
    replayed = f"Bearer {teams.connector.token(APP_ID, 'https://attacker.example/')}"
    assert (await teams.post(activity, token=replayed)).status == 401
    assert teams.handled == 0 and teams.connector.sent == []
    assert (await teams.post(activity)).status in (200, 201) and teams.handled == 1


async def test_another_tenant_and_malformed_requests_get_4xx(teams):
    other = teams.activity(
        "Hallo", conversation={"id": "a:x", "tenantId": "tenant-other"}, channelData={"tenant": {"id": "tenant-other"}}
    )
    assert (await teams.post(other)).status == 403
    async with teams.session.post(
        f"{teams.url}/api/messages", data="{not json", headers={"Content-Type": "application/json"}
    ) as bad:
        assert bad.status == 400
    async with teams.session.post(f"{teams.url}/api/messages", data="x", headers={"Content-Type": "text/plain"}) as t:
        assert t.status == 415
    assert teams.handled == 0


@both_databases
async def test_the_same_activity_delivered_twice_is_answered_once(teams):
    activity = teams.activity("Wie lange dauert es, bis sich KI rechnet?")
    await teams.post(activity)
    await teams.post(activity)
    await teams.connector.wait_for()
    assert len(teams.connector.messages()) == 1 and teams.handled == 1


@both_databases
async def test_install_says_once_that_lotse_is_an_ai_assistant(teams):
    update = teams.activity(None, type="conversationUpdate", membersAdded=[{"id": f"28:{APP_ID}"}])
    for _ in range(2):
        assert (await teams.post(update)).status in (200, 201)
    [welcome] = await teams.connector.wait_for()
    assert "KI-Assistent" in welcome["text"] and len(teams.connector.messages()) == 1
    assert teams.core.services.references.get(f"teams:{teams.conversation}")[1] is True


async def test_a_mention_in_a_channel_is_answered_in_its_thread_without_the_mention(teams):
    thread = "19:channel@thread.tacv2;messageid=1700000000000"
    activity = teams.activity(
        "<at>Lotse</at> Was kostet KI im ersten Jahr?",
        conversation={"id": thread, "conversationType": "channel", "tenantId": TENANT},
        entities=[{"type": "mention", "text": "<at>Lotse</at>", "mentioned": {"id": f"28:{APP_ID}", "name": "Lotse"}}],
    )
    await teams.post(activity)
    [answer] = await teams.connector.wait_for()
    assert "50.000" in answer["text"] and answer["conversation"]["id"] == thread
    assert "suggestedActions" not in answer  # a click would post without the mention Lotse needs in a channel
    sent = [s for s in teams.connector.sent if s.activity.get("type") == "message"][0]
    assert sent.conversation == thread and sent.reply_to == activity["id"]


async def test_admin_commands_are_refused_for_other_users(teams):
    await teams.say("/export")
    [refusal] = await teams.connector.wait_for()
    assert "Administratorinnen und Administratoren vorbehalten" in refusal["text"] and teams.handled == 0


async def test_with_an_llm_a_personal_chat_answer_is_streamed_then_finalised(teams_llm):
    teams = teams_llm
    teams.openai.reply = "Rechnen Sie mit 2.000 bis 5.000 Euro pro Person für fundierte KI-Schulungen [1]. " * 4
    teams.openai.stream_delay = 0.06  # ~3 s of writing: several throttled updates
    await teams.say("Wie viel Budget brauchen wir pro Person für KI-Schulungen?", **OWN_ASKER)
    [final] = await teams.connector.wait_for()
    typing = teams.connector.messages("typing")
    assert typing[0]["channelData"] == {"streamType": "informative", "streamSequence": 1}
    assert typing[0]["entities"][0]["type"] == "streaminfo"
    stream_id = "activity-1"
    assert final["channelData"]["streamType"] == "final" and final["channelData"]["streamId"] == stream_id
    assert final["channelData"]["feedbackLoop"] == {"type": "custom"}
    assert {e["type"] for e in final["entities"]} == {"https://schema.org/Message", "streaminfo"}
    # the reply, and on first contact the AI notice after it (so the test holds run alone or after others)
    assert final["text"].strip().split("\n\n_")[0] == teams.openai.reply.strip()
    assert len(typing) >= 3
    for update in typing[1:]:
        assert update["channelData"]["streamType"] == "streaming" and update["channelData"]["streamId"] == stream_id
        assert teams.openai.reply.startswith(update["text"])  # each update carries all the text so far
    times = streamed_at(teams.connector)
    assert all(b - a >= 1.45 for a, b in zip(times, times[1:], strict=False)), times  # Microsoft: 1.5–2 s apart


async def test_a_stream_teams_ends_with_403_gets_no_more_updates(teams_llm):
    teams = teams_llm
    teams.openai.reply = "Rechnen Sie mit 2.000 bis 5.000 Euro pro Person für fundierte KI-Schulungen [1]. " * 4
    teams.openai.stream_delay = 0.06
    teams.connector.refuse_streaming = [403]  # the user pressed Stop
    await teams.say("Wie viel Budget brauchen wir pro Person für KI-Schulungen?", **OWN_ASKER)
    [final] = await teams.connector.wait_for()
    refused = [s for s in teams.connector.sent if s.method == "REFUSED"]
    assert len(refused) == 1 and teams.connector.messages("typing")[1:] == []  # nothing after the 403
    assert final["channelData"]["streamType"] == "final" and final["text"].strip() == teams.openai.reply.strip()


async def test_a_stream_teams_throttles_with_429_slows_to_twice_the_interval(teams_llm):
    teams = teams_llm
    teams.connector.refuse_streaming = [429]
    teams.openai.reply = "Planen Sie für KI-Schulungen 2.000 bis 5.000 Euro pro Person ein [1]. " * 8  # ~6 s
    teams.openai.stream_delay = 0.06
    someone = {"id": "29:user-429", "name": "Ben", "aadObjectId": "aad-ben-429"}  # a fresh question budget
    await teams.say("Welches Budget pro Person brauchen wir für KI-Schulungen?", **{"from": someone})
    await teams.connector.wait_for()
    updates = streamed_at(teams.connector)
    assert len(updates) >= 2 and updates[1] - updates[0] >= 2.9, updates  # after a 429: twice the interval


@both_databases
async def test_the_feedback_form_is_a_card_and_its_submission_is_stored(teams):
    await teams.say("/feedback")
    [form] = await teams.connector.wait_for()
    card = card_of(form)
    [submit] = submits(card)
    assert {e.get("id") for e in card["body"]} >= {"rating", "comment"}
    before = len(teams.core.services.answer_feedback.all())
    form_id = f"activity-{len(teams.connector.sent)}"  # the form card is the last activity sent
    await teams.post(
        teams.activity(None, value={**submit["data"], "rating": "4", "comment": "Mehr Beispiele"}, replyToId=form_id)
    )
    [_, thanks] = await teams.connector.wait_for(2)
    assert thanks["text"] == "Danke für die Rückmeldung!"
    [closed] = [s.activity for s in teams.connector.sent if s.method == "PUT"]  # the form cannot be sent twice
    assert not submits(card_of(closed)) and "✓ 4/5" in json.dumps(card_of(closed), ensure_ascii=False)
    rows = teams.core.services.answer_feedback.all()[before:]
    assert [(r.rating, r.comment, r.user) for r in rows] == [(4, "Mehr Beispiele", f"teams:{TENANT}:aad-anna")]


async def test_review_cases_malformed_bodies_missing_tenant_foreign_clicks_and_unreachable_targets(teams):
    bare = {"type": "message", "conversation": "x"}
    async with teams.session.post(f"{teams.url}/api/messages", json=bare) as malformed:
        assert malformed.status == 400
    no_tenant = teams.activity("Hallo", conversation={"id": "a:y"}, channelData={})
    assert (await teams.post(no_tenant)).status == 403
    mixed = teams.activity("Hallo", channelData={"tenant": {"id": "tenant-other"}})
    assert (await teams.post(mixed)).status == 403
    assert teams.handled == 0

    await teams.say("/check readiness")
    [question] = await teams.connector.wait_for()
    [yes] = [a for a in submits(card_of(question)) if a["title"] == "Ja"]
    other = teams.activity(
        None, value=yes["data"], replyToId="activity-2", **{"from": {"id": "29:user-2", "aadObjectId": "aad-ben"}}
    )
    await teams.post(other)
    notice = (await teams.connector.wait_for(2))[-1]
    assert notice["text"].startswith("Zu dieser Schaltfläche läuft keine Bewertung")

    key = f"teams:{teams.conversation}"
    reference, _ = teams.core.services.references.get(key)
    teams.core.services.references.save(key, "teams:x:y", {**reference, "serviceUrl": "http://127.0.0.1:9/"})
    assert await teams.channel.notify(key, Reply("Erinnerung", "de")) is False


async def test_a_request_in_plain_words_is_confirmed_with_card_actions_updated_in_place(teams):
    """Issue 22 in Teams: the write's values in a card with Confirm / Cancel as Universal Actions
    (Action.Execute); the click's `adaptiveCard/action` invoke does it, the reply follows as a message, and
    the invoke's answer is the card that replaces the clicked one for everyone — without buttons."""
    admin = {"from": {"id": "29:admin", "name": "Ada", "aadObjectId": "aad-admin"}}
    scope = f"teams:{TENANT}"
    await teams.say("Bitte die wöchentlichen Plan-Erinnerungen ab 11.1.2027 einrichten, wir sind in Bayern", **admin)
    [proposal] = await teams.connector.wait_for()
    card = card_of(proposal)
    assert "Start: 2027-01-11" in json.dumps(card, ensure_ascii=False)
    assert [a["title"] for a in submits(card)] == ["Bestätigen", "Abbrechen"]  # no dialog controls
    assert {a["type"] for a in submits(card)} == {"Action.Execute"} and "refresh" not in card  # a personal chat
    assert teams.core.services.reminders.plans.current(scope) is None
    confirm = submits(card)[0]
    execute = {"action": {"type": "Action.Execute", "verb": confirm["verb"], "data": confirm["data"]},
               "trigger": "manual"}  # fmt: skip
    response = await teams.post(teams.activity(None, type="invoke", name="adaptiveCard/action", value=execute,
                                               replyToId="activity-2", **admin))  # fmt: skip
    assert response.status == 200, response.body_text
    answer = json.loads(response.body_text)
    assert answer["statusCode"] == 200 and answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert "✓ Bestätigen" in json.dumps(answer["value"], ensure_ascii=False) and not submits(answer["value"])
    await teams.connector.wait_for(2)
    assert "Der 90-Tage-Plan läuft" in json.dumps(teams.connector.messages()[-1], ensure_ascii=False)
    assert teams.core.services.reminders.plans.current(scope).state == "BY"
    again = await teams.post(teams.activity(None, type="invoke", name="adaptiveCard/action", value=execute, **admin))
    assert again.status == 200  # a second click: the proposal is used up, nothing runs twice
    assert "abgelaufen" in json.dumps(teams.connector.messages()[-1], ensure_ascii=False)
    bad = {"action": {"type": "Action.Execute", "verb": "lotse.choice", "data": {"lotse": "choice"}}}
    assert (await teams.post(teams.activity(None, type="invoke", name="adaptiveCard/action", value=bad))).status == 400


async def test_in_a_group_chat_only_the_requester_sees_the_confirm_buttons(teams):
    """Everyone in the chat sees the card; the buttons are in the requester's own view, which Teams asks
    for with a refresh (`userIds`); anyone else asking gets the card without them."""
    group = {"id": "19:group@thread.v2", "conversationType": "groupChat", "tenantId": TENANT}
    admin = {"from": {"id": "29:admin", "name": "Ada", "aadObjectId": "aad-admin"}}
    await teams.say("Bitte die wöchentlichen Plan-Erinnerungen ab 11.1.2027 einrichten, wir sind in Bayern",
                    conversation=group, **admin)  # fmt: skip
    [proposal] = await teams.connector.wait_for()
    card = card_of(proposal)
    assert not submits(card) and "Wartet auf die Bestätigung von Ada" in json.dumps(card, ensure_ascii=False)
    refresh = card["refresh"]
    assert refresh["userIds"] == ["29:admin"] and refresh["action"]["type"] == "Action.Execute"
    asked = {"action": refresh["action"], "trigger": "automatic"}
    own = await teams.post(teams.activity(None, type="invoke", name="adaptiveCard/action", value=asked,
                                          conversation=group, **admin))  # fmt: skip
    assert [a["title"] for a in submits(json.loads(own.body_text)["value"])] == ["Bestätigen", "Abbrechen"]
    other = await teams.post(teams.activity(None, type="invoke", name="adaptiveCard/action", value=asked,
                                            conversation=group))  # fmt: skip
    assert not submits(json.loads(other.body_text)["value"])


def streamed_at(connector) -> list[float]:
    """When each streamed update reached the connector (refused ones included)."""
    return [s.at for s in connector.sent if (s.activity.get("channelData") or {}).get("streamType") == "streaming"]
