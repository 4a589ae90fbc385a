"""A fake Slack Web API on 127.0.0.1 for the tests: records every call and answers like Slack.

Point slack-sdk at it with `base_url=fake.api_url`. `rate_limit_once` makes the next call of a
method answer 429 with Retry-After, as Slack does; `users` holds the profiles users.info returns. Also
serves `response_url`s, file upload URLs and a Socket Mode websocket (`apps.connections.open` returns
its URL).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from tests.fakes.local import serve_local


@dataclass
class Call:
    method: str
    params: dict
    at: float = field(default_factory=time.monotonic)


STARTED: list = []  # every fake started in this process: the conformance check reads their calls


class FakeSlack:
    def __init__(self, team_id: str = "T1", bot_user: str = "UBOT") -> None:
        self.team_id = team_id
        self.bot_user = bot_user
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.hosted: dict[str, bytes] = {}  # files users shared: served at /files/<name> to the bot token only
        self.rate_limited: dict[str, int] = {}  # method → Retry-After seconds for its next call
        self.failing: dict[str, str] = {}  # method → error of its next call that has blocks
        self.users: dict[str, dict] = {}  # user id → users.info's `user` object (real_name, profile)
        self.scopes: set[str] = {"users:read"}  # without users:read, users.info answers missing_scope
        self.delay: dict[str, float] = {}  # method → seconds it takes to answer
        self.socket_envelopes: asyncio.Queue = asyncio.Queue()
        self.socket_acks: list[dict] = []
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}/respond/{name}"

    def fail_blocks_once(self, method: str, error: str = "invalid_blocks") -> None:
        """The next call of `method` that carries blocks is refused, as Slack refuses malformed blocks."""
        self.failing[method] = error

    def rate_limit_once(self, method: str, retry_after: int = 1) -> None:
        self.rate_limited[method] = retry_after

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack-sdk reads some methods with GET (users.info)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_get("/socket", self._socket)
        self._runner, self.base_url = await serve_local(app)
        STARTED.append(self)
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # -- inspection --------------------------------------------------------------------------

    def of(self, method: str) -> list[dict]:
        return [c.params for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.of(method)) < count:
            if time.monotonic() > deadline:
                seen = [c.method for c in self.calls]
                raise AssertionError(f"expected {count}× {method} within {timeout}s; calls so far: {seen}")
            await asyncio.sleep(0.02)
        return self.of(method)

    # -- handlers ----------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict:
        """Arguments from the query string (slack-sdk sends some methods' that way) and the body."""
        raw = await request.text()
        if request.content_type == "application/json":
            return {**request.query, **json.loads(raw or "{}")}
        params = {**request.query, **dict(parse_qsl(raw))}
        for key in ("blocks", "view", "files", "prompts"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        if "Authorization" not in request.headers and "token" not in params:
            return web.json_response({"ok": False, "error": "not_authed"})
        retry_after = self.rate_limited.pop(method, None)
        call = Call(method, params)
        self.calls.append(call)
        if retry_after is not None:
            call.params["_status"] = 429
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(retry_after)}
            )
        if method in self.failing and params.get("blocks"):
            call.params["_status"] = 400
            return web.json_response({"ok": False, "error": self.failing.pop(method)})
        if method in self.delay:
            await asyncio.sleep(self.delay[method])
        answer = self._answer(method, params)
        call.params["_ts"] = answer.get("ts")
        if method == "chat.postMessage":
            call.params["ts"] = answer["ts"]  # as Slack's message object has it
        return web.json_response(answer)

    def _answer(self, method: str, params: dict) -> dict:
        ok = {"ok": True}
        if method == "auth.test":
            return {
                **ok,
                "user_id": self.bot_user,
                "bot_id": "BBOT",
                "team_id": self.team_id,
                "team": "Test",
                "url": "https://test.slack.com/",
            }
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral", "chat.startStream"):
            ts = params.get("ts") or f"1700000000.{next(self._ts):06d}"
            return {**ok, "channel": params.get("channel"), "ts": ts, "message_ts": ts}
        if method == "conversations.open":
            return {**ok, "channel": {"id": "D" + str(params.get("users", "X"))}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts)}"
            return {**ok, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            return {**ok, "files": [{"id": f["id"], "title": f.get("title")} for f in files or []]}
        if method == "users.info":
            if "users:read" not in self.scopes:
                return {"ok": False, "error": "missing_scope", "needed": "users:read", "provided": "chat:write"}
            user = self.users.get(params.get("user", ""))
            return {**ok, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "apps.connections.open":
            return {**ok, "url": f"ws://{self.base_url.removeprefix('http://')}/socket"}
        return ok

    async def _respond(self, request: web.Request) -> web.Response:
        self.calls.append(Call("response_url", await request.json()))
        return web.Response(text="ok")

    def host(self, name: str, data: bytes) -> str:
        """A file a user shared: its url_private_download."""
        self.hosted[name] = data
        return f"{self.base_url}/files/{name}"

    async def _file(self, request: web.Request) -> web.Response:
        """url_private_download: only with the bot token, as Slack asks (files:read)."""
        self.calls.append(Call("file download", {"name": request.match_info["name"]}))
        if request.headers.get("Authorization") != "Bearer xoxb-test-token":
            return web.Response(status=403)
        data = self.hosted.get(request.match_info["name"])
        return web.Response(body=data) if data is not None else web.Response(status=404)

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        self.uploads[file_id] = data
        self.calls.append(Call("upload", {"file_id": file_id, "size": len(data)}))
        return web.Response(text=f"OK - {len(data)}")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then push queued envelopes and record the client's acks."""
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})

        async def push():
            while True:
                envelope = await self.socket_envelopes.get()
                await ws.send_json(envelope)

        pusher = asyncio.create_task(push())
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(message.data))
        finally:
            pusher.cancel()
        return ws


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends with a request: X-Slack-Request-Timestamp and X-Slack-Signature."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{timestamp}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}
