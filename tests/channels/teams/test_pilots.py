"""Exports and report charts in Teams, end to end: activities POSTed to the real app's /api/messages,
replies at the fake Bot Connector, downloads fetched from the same real app. In a personal chat an
export is a schema-valid Adaptive Card with an Action.OpenUrl to `<LOTSE_PUBLIC_URL>/exports/<name>`;
in a channel or group chat Lotse sends no file and says to ask in the personal chat."""

from __future__ import annotations

import dataclasses
import importlib.resources
import io
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import urlparse

import jsonschema
import openpyxl
import pytest

from bot.core import i18n
from bot.pilots.store import Entry, Kpi

from .conftest import APP_ID, TENANT, running_teams

PUBLIC = "https://lotse.example.com"
SCHEMA = json.loads((importlib.resources.files("adaptive_cards") / "schemas" / "schema-1.5.json").read_text())
PERSONAL_ONLY = i18n.text("teams_files_personal_only", "de")


@pytest.fixture
async def teams_public(kb_settings, service):
    """conftest's Teams harness with LOTSE_PUBLIC_URL set (Lotse then serves /exports/ and /charts/)."""
    settings = dataclasses.replace(kb_settings, public_url=PUBLIC)
    async for harness in running_teams(settings, service, admins=frozenset({"aad-admin"})):
        yield harness


def card_of(activity: dict) -> dict:
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


def local(teams, url: str) -> str:
    """The public URL of a download, on the test's server (same path; the public host is made up)."""
    assert url.startswith(PUBLIC + "/")
    return teams.url + urlparse(url).path


async def get(teams, url: str) -> tuple[int, bytes, dict]:
    async with teams.session.get(url) as response:
        return response.status, await response.read(), dict(response.headers)


def channel_activity(teams, text: str, kind: str) -> dict:
    """A message with an @-mention of Lotse in a team channel thread or a group chat."""
    conversation = "19:channel@thread.tacv2;messageid=1700000000001" if kind == "channel" else "19:group@thread.v2"
    return teams.activity(
        f"<at>Lotse</at> {text}",
        conversation={"id": conversation, "conversationType": kind, "tenantId": TENANT},
        entities=[{"type": "mention", "text": "<at>Lotse</at>", "mentioned": {"id": f"28:{APP_ID}", "name": "Lotse"}}],
    )


# -- "meine Daten" ------------------------------------------------------------------------------------


async def test_my_data_in_a_personal_chat_is_a_download_button_that_the_app_serves(teams_public):
    teams = teams_public
    response = await teams.say("meine Daten")
    assert response.status in (200, 201)
    [message] = await teams.connector.wait_for()
    card = card_of(message)
    jsonschema.validate(card, SCHEMA)
    assert card["body"][0]["text"].startswith("Ihre Daten als JSON:")
    [button] = card["actions"]
    assert button["type"] == "Action.OpenUrl" and button["title"] == "⬇ meine-daten.json"
    assert button["url"].startswith(f"{PUBLIC}/exports/meine-daten-") and button["url"].endswith(".json")
    name = button["url"].rsplit("/", 1)[1]
    assert (teams.core.settings.exports_dir / name).is_file()

    status, body, headers = await get(teams, local(teams, button["url"]))
    assert status == 200
    data = json.loads(body)
    assert data["user"] == f"teams:{TENANT}:aad-anna" and "pilot_feedback" in data
    assert "private" in headers.get("Cache-Control", "")


async def test_only_export_names_with_their_token_are_served(teams_public):
    teams = teams_public
    exports = teams.core.settings.exports_dir
    exports.mkdir(parents=True, exist_ok=True)
    (exports / "notes.txt").write_text("not an export")
    made_up = "meine-daten-20260101-120000-0123456789abcdef.json"
    for path in (
        f"/exports/{made_up}",
        "/exports/notes.txt",
        "/exports/..%2Fsecret.key",
        "/exports/secret.key",
        "/exports/meine-daten.json",
    ):
        status, _, _ = await get(teams, teams.url + path)
        assert status == 404, path


async def test_without_a_public_url_the_card_says_so_and_nothing_is_served(teams):
    await teams.say("meine Daten")
    [message] = await teams.connector.wait_for()
    card = card_of(message)
    jsonschema.validate(card, SCHEMA)
    assert "actions" not in card and "/exports/" not in json.dumps(card)
    assert card["body"][-1]["text"] == i18n.text("teams_files_need_url", "de")
    [export] = sorted(teams.core.settings.exports_dir.glob("meine-daten-*.json"), key=lambda p: p.stat().st_mtime)[-1:]
    status, _, _ = await get(teams, f"{teams.url}/exports/{export.name}")
    assert status == 404  # no public URL: no download route at all


@pytest.mark.parametrize("kind", ["channel", "groupChat"])
async def test_my_data_in_a_channel_or_group_chat_sends_no_file_and_points_to_the_personal_chat(teams_public, kind):
    teams = teams_public
    await teams.post(channel_activity(teams, "meine Daten", kind))
    [message] = await teams.connector.wait_for()
    assert message["text"] == PERSONAL_ONLY
    assert not message.get("attachments")
    assert "/exports/" not in json.dumps(message) and "meine-daten" not in json.dumps(message)


# -- /pilot in Teams -----------------------------------------------------------------------------------


def add_pilot(teams) -> tuple[int, str]:
    """A pilot with three feedback entries in the tenant's scope (a name of its own: the tenant and its
    database are the same in every test); (id, name)."""
    store = teams.core.services.pilot_store
    name = f"Vertragssuche {uuid.uuid4().hex[:6]}"
    pilot = store.create(
        f"teams:{TENANT}",
        name,
        f"teams:{TENANT}:aad-admin",
        start=datetime(2026, 10, 1).date(),
        end=datetime(2026, 12, 31).date(),
        users=10,
        kpis=[Kpi("Suchzeit", "min", "lower", 15.0, 3.0)],
        one_off_cost=2000.0,
        monthly_cost=200.0,
        hourly_rate=50.0,
    )
    kpi = store.kpis(pilot.id)[0]
    with store.db.session() as s:
        for n, (rating, minutes, value) in enumerate([(4, 30, 6.0), (5, 60, 4.0), (3, 30, 8.0)]):
            store.add_entry(
                s,
                pilot.id,
                f"teams:{TENANT}:aad-user-{n}",
                f"aad-user-{n}",
                Entry(rating, minutes, {kpi.id: value}),
                created_at=datetime(2026, 11, 2 + n, 9, tzinfo=UTC),
            )
    return pilot.id, name


async def test_an_admins_pilot_report_links_charts_that_the_app_serves(teams_public):
    teams = teams_public
    pilot_id, name = add_pilot(teams)
    admin = {"from": {"id": "29:admin", "name": "IT-Leitung", "aadObjectId": "aad-admin"}}
    await teams.post(teams.activity(f"/pilot bericht {name}", **admin))
    [message] = await teams.connector.wait_for()
    card = card_of(message)
    jsonschema.validate(card, SCHEMA)
    assert "Rückmeldungen: 3 (Personen: 3)" in card["body"][0]["text"]
    urls = [e["url"] for e in card["body"] if e["type"] == "Image"]
    assert [u.rsplit("-", 1)[1] for u in urls] == ["kpis.png", "ratings.png"]
    for url in urls:
        assert url.startswith(f"{PUBLIC}/charts/pilot-{pilot_id}-") and "-de-" in url
        status, body, _ = await get(teams, local(teams, url))
        assert status == 200 and body.startswith(b"\x89PNG\r\n\x1a\n") and len(body) > 2000
    made_up = f"/charts/pilot-{pilot_id}-0123456789abcdef-de-kpis.png"
    assert (await get(teams, teams.url + made_up))[0] == 404


async def test_an_employees_pilot_export_is_refused_without_a_download(teams_public):
    teams = teams_public
    add_pilot(teams)
    await teams.say("/pilot export csv")
    [message] = await teams.connector.wait_for()
    assert message["text"] == i18n.text("admin_only", "de") and not message.get("attachments")


async def test_an_admins_feedback_export_and_quarter_report_are_served_in_the_personal_chat(teams_public):
    teams = teams_public
    _, name = add_pilot(teams)
    admin = {"from": {"id": "29:admin", "name": "IT-Leitung", "aadObjectId": "aad-admin"}}
    await teams.post(teams.activity("/pilot export xlsx", **admin))
    [message] = await teams.connector.wait_for()
    card = card_of(message)
    jsonschema.validate(card, SCHEMA)
    [button] = card["actions"]
    assert button["type"] == "Action.OpenUrl" and button["title"].startswith("⬇ pilot-feedback-")
    assert button["url"].startswith(f"{PUBLIC}/exports/pilot-feedback-") and button["url"].endswith(".xlsx")
    status, body, _ = await get(teams, local(teams, button["url"]))
    assert status == 200
    workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    pilots = [row[2] for row in workbook["Piloten"].iter_rows(min_row=2, values_only=True)]
    assert name in pilots

    await teams.post(teams.activity("/pilot bericht quartal 2026-Q4", **admin))
    report = (await teams.connector.wait_for(2))[-1]
    card = card_of(report)
    jsonschema.validate(card, SCHEMA)
    assert card["body"][0]["text"].startswith("**ROI-Bericht 2026-Q4**")
    urls = [e["url"] for e in card["body"] if e["type"] == "Image"]
    assert [u.rsplit("-", 1)[1] for u in urls] == ["kpis.png", "ratings.png", "roi.png"]
    for url in urls:
        assert url.startswith(f"{PUBLIC}/charts/quarter-")
        status, body, _ = await get(teams, local(teams, url))
        assert status == 200 and body.startswith(b"\x89PNG\r\n\x1a\n")
