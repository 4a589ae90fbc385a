"""The Microsoft 365 Agents Playground (npm `@microsoft/m365agentsplayground`, pinned in tests/tools) as a
real Teams client for `test_playground.py`: its Node server on a free port of 127.0.0.1, offline, and
headless Chromium (Debian's /usr/bin/chromium through Playwright; never a downloaded browser) to drive
its web UI.

Offline: `--disable-telemetry` stops the Playground's own events, but the Application Insights SDK it
starts anyway still asks Azure's instance metadata service (169.254.169.254) and sends "statsbeat" to
*.applicationinsights.azure.com; `APPLICATION_INSIGHTS_NO_STATSBEAT=1` stops that. `TEAMSAPPTESTER_BROWSER=none`
keeps it from opening a browser of its own. A preloaded guard (`NODE_GUARD`) refuses every connection
that is not to loopback and notes it, so a test sees any attempt to call out.

Between the Playground and Lotse sits `Relay`, which forwards every request unchanged and keeps what the
Playground sent. It adds one field real Teams sends and Playground 0.2.28 leaves out: `replyToId` (the
rated message) of a 👍/👎 `message/submitAction`; the Playground's client does not even tell its server
which message was rated. The relay takes the id of the answer Lotse last linked in that conversation, so
a rating can be followed into Lotse's database."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import ROOT
from tests.fakes.local import free_port, serve_local

CHROMIUM = Path("/usr/bin/chromium")
PLAYGROUND = ROOT / "tests" / "tools" / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
# The flags a closed network needs: without the background-networking ones Chromium fails there.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PLAYGROUND_ENV = {
    "TEAMSAPPTESTER_BROWSER": "none",  # do not open a browser
    "APPLICATION_INSIGHTS_NO_STATSBEAT": "1",  # no metadata-service probe, no statsbeat to Azure
}

NODE_GUARD = """
// Preloaded into the Playground's Node server: connections beyond loopback are refused and noted.
const fs = require("fs");
const net = require("net");
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  let host = "localhost";
  if (first !== null && typeof first === "object") host = first.path ? null : first.host || "localhost";
  else if (typeof args[1] === "string") host = args[1];
  if (host !== null && !LOOPBACK.has(host)) {
    fs.appendFileSync(process.env.LOTSE_TEST_REFUSED, host + "\\n");
    process.nextTick(() => this.destroy(new Error("offline test: no connection to " + host)));
    return this;
  }
  return connect.apply(this, args);
};
"""


def unavailable(reason: str):
    """A tool the test needs is missing: in CI (.ci/run sets LOTSE_CI=1) the test fails, elsewhere it skips."""
    if os.environ.get("LOTSE_CI"):
        pytest.fail(f"{reason} (LOTSE_CI=1: in CI this test must run)")
    pytest.skip(f"{reason} (outside CI the test is skipped; .ci/run installs the Playground and Chromium)")


def check_tools() -> None:
    if not shutil.which("node"):
        unavailable("Node.js (`node`) is not installed")
    if not PLAYGROUND.is_file():
        unavailable(
            f"the Agents Playground is not installed ({PLAYGROUND.relative_to(ROOT)}; npm ci --prefix tests/tools)"
        )
    if not CHROMIUM.is_file():
        unavailable(f"Chromium is not installed ({CHROMIUM}; apt-get install chromium)")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        unavailable("the Python package playwright is not installed (pip install -e '.[test]')")


class Relay:
    """Forwards the Playground's requests to Lotse unchanged (and Lotse's answers back), keeps the activities,
    and adds the `replyToId` of a 👍/👎 that the Playground leaves out (see the module's docstring)."""

    def __init__(self, lotse_url: str, database: Path) -> None:
        self.lotse_url, self.database = lotse_url, database
        self.activities: list[dict] = []
        self.filled: list[str] = []  # the replyToIds the relay added
        self.session: aiohttp.ClientSession | None = None
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> Relay:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self.session = aiohttp.ClientSession()
        self.runner, self.url = await serve_local(app)
        return self

    async def stop(self) -> None:
        if self.session:
            await self.session.close()
        if self.runner:
            await self.runner.cleanup()

    def _rated_message(self, conversation: str) -> str | None:
        """The id of the answer Lotse last sent in `conversation` (its `answer_links`), as Teams would name it."""
        with sqlite3.connect(self.database) as db:
            row = db.execute(
                "SELECT key FROM answer_links WHERE key LIKE ? ORDER BY answer_id DESC LIMIT 1",
                (f"teams:{conversation}:%",),
            ).fetchone()
        return row[0].rsplit(":", 1)[1] if row else None

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.method == "POST" and request.path == "/api/messages":
            activity = json.loads(body)
            self.activities.append(activity)
            if activity.get("name") == "message/submitAction" and not activity.get("replyToId"):
                rated = await asyncio.to_thread(self._rated_message, (activity.get("conversation") or {}).get("id"))
                if rated:
                    activity["replyToId"] = rated
                    self.filled.append(rated)
                    body = json.dumps(activity).encode()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        assert self.session is not None
        async with self.session.request(
            request.method, self.lotse_url + request.path_qs, data=body or None, headers=headers
        ) as answer:
            data = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type",)}
            return web.Response(status=answer.status, body=data, headers=kept)


async def start_playground(endpoint: str, folder: Path, timeout: float = 30.0) -> tuple[subprocess.Popen, str]:
    """The Playground's server for the app at `endpoint`, working in `folder` (its log, devTools/, the
    refused-connections file): (process, "http://127.0.0.1:PORT") once its page answers."""
    folder.mkdir(parents=True, exist_ok=True)
    guard = folder / "loopback-only.js"
    guard.write_text(NODE_GUARD, encoding="utf-8")
    refused = folder / "refused.txt"
    refused.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("M365_AGENTS_PLAYGROUND_", "TEAMSAPPTESTER_"))}
    env.update(
        PLAYGROUND_ENV,
        NODE_OPTIONS=f"--require {guard}",
        LOTSE_TEST_REFUSED=str(refused),
        M365_AGENTS_PLAYGROUND_LOGFILE=str(folder / "playground.log"),
    )
    output = folder / "stdout.txt"
    command = ["node", str(PLAYGROUND), "start", "--app-endpoint", endpoint, "--channel-id", "msteams"]
    command += ["--port", str(free_port()), "--disable-telemetry"]
    with open(output, "wb") as out:
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession() as session:
        while loop.time() < deadline:
            if process.poll() is not None:
                break
            # the port asked for, or a random one if it was taken meanwhile: the server says which
            found = re.search(r"Listening on (\d+)", output.read_text(errors="replace"))
            if found:
                url = f"http://127.0.0.1:{found[1]}"
                try:
                    async with session.get(url) as response:
                        if response.status == 200:
                            return process, url
                except aiohttp.ClientError:
                    pass
            await asyncio.sleep(0.1)
    stop(process)
    unavailable(f"the Agents Playground did not start: {output.read_text(errors='replace')[-1500:]}")
    raise AssertionError("unreachable")


def refused_connections(folder: Path) -> list[str]:
    return (folder / "refused.txt").read_text().split()


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
