"""A real Teams client in the loop: the Microsoft 365 Agents Playground, driven in headless Chromium,
against `lotse serve` in anonymous loopback mode — what a Teams user sees on the main paths: an answer
with its citation, 👍/👎, an assessment card, the `/feedback` form. Offline: Lotse, the Playground's
Node server and Chromium may reach 127.0.0.1 only. A screenshot per step is kept in the test's tmp
folder (`screens/`). The plumbing, and what the Playground does differently from Teams, is in
`playground.py`."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import time
from pathlib import Path

from tests.channels.test_cli import GUARD
from tests.conftest import ROOT
from tests.fakes.local import start_serve

from .playground import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Relay,
    check_tools,
    refused_connections,
    start_playground,
    stop,
    unavailable,
)

QUESTION = "Wie viel Budget brauchen wir pro Person für KI-Schulungen?"
STEP_TIMEOUT = 15_000  # ms: the longest a step may wait for what the user should see


class Steps:
    """The page, and a numbered screenshot per step."""

    def __init__(self, page, folder: Path) -> None:
        self.page, self.folder, self.count = page, folder, 0
        folder.mkdir(parents=True, exist_ok=True)

    async def shot(self, name: str) -> None:
        self.count += 1
        await self.page.screenshot(path=self.folder / f"{self.count:02d}-{name}.png", animations="disabled")

    def seen(self, text: str):
        """The latest place `text` shows in the chat (the chat list before it shows the last message too)."""
        return self.page.get_by_text(text).last

    async def say(self, text: str) -> None:
        compose = self.page.locator('[role="textbox"][contenteditable="true"]').last
        await compose.click()
        await self.page.keyboard.type(text)
        await self.page.keyboard.press("Enter")


async def until(check, what: str, timeout: float = 10.0):
    """Polls `check()` (run on a thread) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = await asyncio.to_thread(check)
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        await asyncio.sleep(0.1)


def rows(database: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(database) as db:
        return db.execute(sql, params).fetchall()


async def test_a_teams_user_in_the_playground_gets_answers_cards_and_gives_feedback(tmp_path):
    check_tools()
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright, expect

    # a data folder of its own, indexed by `lotse serve` at its first start (a few seconds): a copy of the
    # session's folder would be taken while other tests of this process write to its database
    data = tmp_path / "data"
    database = data / "lotse.db"
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LOTSE_", "SLACK_", "MICROSOFT_"))}
    env.update(
        LOTSE_DATA_DIR=str(data),
        LOTSE_TEAMS_ALLOW_ANONYMOUS="1",  # no app id: the Playground sends no token
        LOTSE_SCHEDULER="0",
        PYTHONPATH=f"{guard}{os.pathsep}{ROOT}",
    )
    log = tmp_path / "lotse.log"
    lotse, lotse_url = await start_serve(env, ROOT, ready="/readyz", stderr=log)
    relay = await Relay(lotse_url, database).start()
    folder = tmp_path / "playground"
    playground = None
    try:
        playground, playground_url = await start_playground(f"{relay.url}/api/messages", folder)
        async with async_playwright() as driver:
            try:
                browser = await driver.chromium.launch_persistent_context(
                    tmp_path / "chromium-profile",
                    executable_path=str(CHROMIUM),
                    args=CHROMIUM_ARGS,
                    headless=True,
                    viewport={"width": 1280, "height": 1000},
                    locale="de-DE",
                )
            except PlaywrightError as exc:
                unavailable(f"Chromium did not start: {str(exc)[:1500]}")
            try:
                page = browser.pages[0] if browser.pages else await browser.new_page()
                page.set_default_timeout(STEP_TIMEOUT)
                expect.set_options(timeout=STEP_TIMEOUT)
                # only loopback: the Playground's page asks a CDN for Segoe UI fonts, which is left out
                await page.route(
                    "**/*",
                    lambda route: (
                        route.continue_()
                        if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1"))
                        else route.abort()
                    ),
                )
                steps = Steps(page, tmp_path / "screens")
                try:
                    await a_teams_user(steps, playground_url, relay, database)
                except BaseException:
                    await steps.shot("failed")  # what the user saw when it went wrong
                    raise
            finally:
                await browser.close()
        assert refused_connections(folder) == [], "the Playground's server tried to leave 127.0.0.1"
        assert "NETWORK ACCESS" not in log.read_text(errors="replace"), "Lotse tried to leave 127.0.0.1"
    except BaseException:
        print(f"--- lotse serve ---\n{log.read_text(errors='replace')[-3000:]}")
        if (folder / "stdout.txt").is_file():
            print(f"--- playground ---\n{(folder / 'stdout.txt').read_text(errors='replace')[-3000:]}")
        raise
    finally:
        if playground is not None:
            stop(playground)
        await relay.stop()
        stop(lotse)


async def a_teams_user(steps: Steps, playground_url: str, relay: Relay, database: Path) -> None:
    from playwright.async_api import expect

    page = steps.page
    # the copied database holds the session's earlier ratings: only rows after these count
    [(before,)] = rows(database, "SELECT coalesce(max(id), 0) FROM answer_feedback")
    await page.goto(playground_url)
    await page.get_by_role("button", name="Hide log panel").click()  # the chat as a user sees it
    await page.get_by_role("treeitem", name="Personal Chat").click()
    await expect(steps.seen("Hallo, ich bin Lotse")).to_be_visible()  # the welcome on install
    await steps.shot("welcome")

    # (a) a German question: an answer labelled AI generated, with its citation marker and what to ask next
    await steps.say(QUESTION)
    like = page.get_by_role("button", name="Like", exact=True)
    dislike = page.get_by_role("button", name="Dislike", exact=True)
    await expect(like).to_have_count(1)
    await expect(steps.seen("Euro pro Person")).to_be_visible()
    await expect(page.get_by_role("button", name="AI generated")).to_be_visible()
    await expect(steps.seen("[1]")).to_be_visible()
    await steps.shot("answer")

    # (b) 👍 and 👎: the Playground's feedback dialog, a thank-you (not "Unable to reach app"), and the
    # rating stored with the answer
    for button, prompt, comment, rating in (
        (like, "What did you like?", "Klar und mit Quelle", 1),
        (dislike, "What went wrong?", "Mir fehlt der Zeitraum", -1),
    ):
        await button.click()
        dialog = page.get_by_role("dialog")
        await dialog.get_by_role("textbox", name=prompt).fill(comment)
        await steps.shot(f"rating-{rating:+d}-form")
        await dialog.get_by_role("button", name="Submit").click()
        await expect(dialog.get_by_text("Thank you!")).to_be_visible()
        await expect(page.get_by_text("Unable to reach app")).to_have_count(0)
        await steps.shot(f"rating-{rating:+d}-sent")
        await dialog.get_by_role("button", name="Close").click()
        stored = await until(
            lambda r=rating, c=comment: rows(
                database,
                "SELECT message_id FROM answer_feedback WHERE id > ? AND rating = ? AND comment = ?"
                " AND message_id IS NOT NULL",
                before,
                r,
                c,
            ),
            f"the rating {rating:+d} stored with its answer",
        )
        assert len(stored) == 1
    assert [a["value"]["actionValue"]["reaction"] for a in relay.activities if a.get("type") == "invoke"] == [
        "like",
        "dislike",
    ]
    ratings = rows(database, "SELECT id FROM answer_feedback WHERE id > ? AND message_id IS NOT NULL", before)
    assert len(ratings) == 1, ratings  # the 👎 replaced the 👍: one rating per user and answer

    # (c) an assessment: an Adaptive Card with buttons; a click answers and the next question follows
    await steps.say("/check 1")
    await expect(steps.seen("Frage 1 von 4")).to_be_visible()
    await expect(page.get_by_role("button", name="Ja", exact=True)).to_have_count(1)
    await steps.shot("assessment-question-1")
    await page.get_by_role("button", name="Ja", exact=True).click()
    await expect(steps.seen("Frage 2 von 4")).to_be_visible()
    await expect(steps.seen("✓ Ja")).to_be_visible()  # the answered card, without its buttons
    await expect(page.get_by_role("button", name="Ja", exact=True)).to_have_count(1)  # only the new card's
    await steps.shot("assessment-question-2")
    await steps.say("abbrechen")
    await expect(steps.seen("Abgebrochen")).to_be_visible()

    # (d) the /feedback form: a card with a 1–5 choice and a comment; sent, it closes and Lotse thanks
    await steps.say("/feedback")
    await expect(steps.seen("Feedback zu Lotse")).to_be_visible()
    await page.get_by_role("radio", name="4").check()
    await page.get_by_role("textbox", name="Was sollte besser sein? (optional)").fill("Mehr Beispiele")
    await steps.shot("feedback-form")
    await page.get_by_role("button", name="Senden").click()
    await expect(steps.seen("Danke für die Rückmeldung!")).to_be_visible()
    await expect(steps.seen("✓ 4/5")).to_be_visible()
    await expect(page.get_by_role("button", name="Senden")).to_have_count(0)
    await steps.shot("feedback-sent")
    await until(
        lambda: rows(
            database,
            "SELECT id FROM answer_feedback WHERE message_id IS NULL AND rating = 4 AND comment = ?",
            "Mehr Beispiele",
        ),
        "the /feedback rating stored",
    )

    # (a, continued) the citation itself: the Playground draws [n] as a citation only in a message without
    # suggested actions, so it is looked at in the group chat, where Lotse needs an @mention and sends none
    await page.get_by_role("treeitem", name="Group Chat").click()
    compose = page.locator('[role="textbox"][contenteditable="true"]').last
    await compose.click()
    await page.keyboard.type("@Test")
    await page.get_by_role("menuitem", name="Test Bot").click()
    await page.keyboard.type(" " + QUESTION)
    await page.keyboard.press("Enter")
    citation = page.get_by_role("button", name="1", exact=True)
    await expect(citation).to_be_visible()
    await citation.hover()  # its card: the source's title and the passage
    await expect(citation).to_have_attribute("aria-expanded", "true")
    await expect(page.get_by_text(re.compile(r"\S › \S")).first).to_be_visible()
    await steps.shot("citation")
