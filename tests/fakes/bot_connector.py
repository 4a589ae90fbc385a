"""A fake Bot Connector service on 127.0.0.1: records the activities a bot sends to the `serviceUrl`
of a conversation, answers like the real one, and serves Bot Framework-style OpenID metadata with a
test signing key, so that real signed tokens can be checked offline.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes.local import serve_local

ISSUER = "https://api.botframework.com"


@dataclass
class Sent:
    method: str  # POST (send / reply), PUT (update) or REFUSED (answered with an error status)
    conversation: str
    activity: dict
    reply_to: str | None = None
    at: float = field(default_factory=time.monotonic)


STARTED: list = []  # every fake started in this process: the conformance check reads what was sent


class FakeConnector:
    def __init__(self, kid: str = "test-key") -> None:
        self.sent: list[Sent] = []
        self.refuse: list[tuple[int, dict]] = []  # queued error answers: (status, headers)
        self.refuse_streaming: list[int] = []  # queued error statuses for streamed updates (403 ends, 429 slows)
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.hosted: dict[str, bytes] = {}  # files users sent: served at /files/<name> (Teams' downloadUrl)

    async def start(self) -> FakeConnector:
        """Runs on its own thread and event loop, apart from Lotse's like the real Bot Connector (that
        Lotse fetches the signing keys off its loop is tested on its own in test_signing_keys.py)."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)
        STARTED.append(self)
        return self

    def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._start())
        ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_get("/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/keys", self._keys)
        app.router.add_get("/files/{name}", self._file)
        self._runner, base = await serve_local(app)
        self.url = f"{base}/"

    def host(self, name: str, data: bytes) -> str:
        """A file a user sent in a personal chat: its pre-authenticated downloadUrl."""
        self.hosted[name] = data
        return f"{self.url}files/{name}"

    async def _file(self, request: web.Request) -> web.Response:
        data = self.hosted.get(request.match_info["name"])
        return web.Response(body=data) if data is not None else web.Response(status=404)

    async def stop(self) -> None:
        if self._runner:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    @property
    def metadata_url(self) -> str:
        return f"{self.url}.well-known/openidconfiguration"

    def token(self, app_id: str, service_url: str, *, issuer: str = ISSUER, key=None, kid: str | None = None) -> str:
        """A Bot Framework-style bearer token, signed with the test key unless another is given."""
        now = int(time.time())
        claims = {"iss": issuer, "aud": app_id, "serviceurl": service_url, "nbf": now - 10, "exp": now + 600}
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def messages(self, kind: str = "message") -> list[dict]:
        return [s.activity for s in self.sent if s.method == "POST" and s.activity.get("type") == kind]

    async def wait_for(self, count: int = 1, kind: str = "message", timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.messages(kind)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} {kind} activities; got {[s.activity.get('type') for s in self.sent]}"
                )
            await asyncio.sleep(0.02)
        return self.messages(kind)

    async def _send(self, request: web.Request) -> web.Response:
        if self.refuse:
            status, headers = self.refuse.pop(0)
            return web.json_response(
                {"error": {"code": "Refused", "message": "refused"}}, status=status, headers=headers
            )
        activity = await request.json()
        if self.refuse_streaming and (activity.get("channelData") or {}).get("streamType") == "streaming":
            status = self.refuse_streaming.pop(0)
            self.sent.append(Sent("REFUSED", request.match_info["conversation"], activity))
            return web.json_response({"error": {"code": "Refused", "message": "refused"}}, status=status)
        self.sent.append(Sent("POST", request.match_info["conversation"], activity, request.match_info.get("activity")))
        return web.json_response({"id": f"activity-{next(self._ids)}"})

    async def _update(self, request: web.Request) -> web.Response:
        activity = await request.json()
        self.sent.append(Sent("PUT", request.match_info["conversation"], activity, request.match_info["activity"]))
        return web.json_response({"id": request.match_info["activity"]})

    async def _metadata(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {"issuer": ISSUER, "jwks_uri": f"{self.url}keys", "id_token_signing_alg_values_supported": ["RS256"]}
        )

    async def _keys(self, _request: web.Request) -> web.Response:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return web.json_response({"keys": [{**jwk, "kid": self.kid, "use": "sig", "endorsements": ["msteams"]}]})
