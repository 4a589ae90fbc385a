"""The aiohttp server of `lotse serve`: mounts the endpoints of the configured channels and a health
check. Slack in HTTP mode is served at /slack/events; in Socket Mode it connects out instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.app.lotse import Lotse
from bot.channels.worker import InboxWorker
from bot.dialogs.charts import warm_up
from bot.logs import request_ids
from bot.settings import Settings

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024  # Slack payloads are far smaller; anything bigger is refused with 413
EXECUTOR = web.AppKey("executor", ThreadPoolExecutor)
SLACK = web.AppKey("slack", object)
TEAMS = web.AppKey("teams", object)
WORKER = web.AppKey("worker", InboxWorker)
LOOPBACK = ("127.0.0.1", "::1", "localhost")
START_RETRY = 0.5  # seconds before the database is tried again at start, doubling up to …
START_RETRY_MAX = 10.0


def build_app(
    core: Lotse, settings: Settings, executor: ThreadPoolExecutor | None = None, teams_credentials=None
) -> web.Application:
    """The web application; `app[SLACK]` / `app[TEAMS]` are the channels that are configured.
    `teams_credentials` replaces botbuilder's credentials factory (tests: no token requests to Azure AD)."""
    app = web.Application(client_max_size=MAX_BODY, middlewares=[request_ids])
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz(core, settings, app))
    app.router.add_get("/metrics", _metrics)
    executor = executor or ThreadPoolExecutor(max_workers=settings.turn_threads, thread_name_prefix="lotse-core")
    app[EXECUTOR] = executor
    worker = InboxWorker(core.services.inbox(settings.inbox_lease))
    app[WORKER] = worker
    app.cleanup_ctx.append(_inbox_worker(worker, settings))
    if settings.slack.enabled:
        from bot.channels.slack.app import SlackChannel

        slack = SlackChannel(core, settings.slack, executor, worker)
        app[SLACK] = slack
        app.cleanup_ctx.append(_web_api_session(slack))
        if not settings.slack.socket_mode:
            app.router.add_post("/slack/events", slack.handle)
    if settings.teams.enabled:
        from bot.channels.teams.channel import TeamsChannel

        teams = TeamsChannel(core, settings, executor=executor, credentials_factory=teams_credentials, worker=worker)
        app[TEAMS] = teams
        app.router.add_post("/api/messages", teams.handle)
    if settings.public_url:  # Teams fetches chart images and export downloads from here
        app.router.add_get(
            r"/charts/{name:[a-z_]+-[0-9]+-[0-9a-f]{16}-(de|en)(-[a-z]+)?\.png}",
            _file_handler(settings.charts_dir, "No such chart."),
        )
        app.router.add_get(
            r"/exports/{name:[a-z-]+-[0-9]{8}-[0-9]{6}-[0-9a-f]{16}\.(json|csv|xlsx)}",
            _file_handler(settings.exports_dir, "No such export (kept for a day)."),
        )
    return app


def _inbox_worker(worker: InboxWorker, settings: Settings):
    """The inbox's worker runs as long as the server; at the end the turns in flight get the grace period
    to finish (a SIGTERM has already stopped new events, see `run`), and what is left is handed back."""

    async def running(_app: web.Application):
        await worker.start()
        yield
        await worker.stop(settings.stop_grace)

    return running


def _web_api_session(slack):
    """The Slack channel's HTTP session lives as long as the server: opened at start, closed at the end."""

    async def session(_app: web.Application):
        await slack.open()
        yield
        await slack.close()

    return session


def _file_handler(folder: Path, missing: str):
    """Serves files whose names the route's pattern allows (they carry an unguessable token)."""

    async def serve(request: web.Request) -> web.StreamResponse:
        path = folder / request.match_info["name"]
        if not path.is_file():
            raise web.HTTPNotFound(text=missing)
        return web.FileResponse(path, headers={"Cache-Control": "private, max-age=86400"})

    return serve


async def _healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


READY_TIMEOUT = 3.0


def _readyz(core: Lotse, settings: Settings, app: web.Application):
    """Ready when the database answers and the vector store opens, each within READY_TIMEOUT seconds;
    503 with what failed otherwise. Slack and Teams are listed as configured (their APIs are not
    called on every probe)."""

    def database() -> None:
        with core.services.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def vectors() -> None:
        core.answers.index.vectors.count()

    async def check(probe) -> str:
        try:
            await asyncio.wait_for(asyncio.to_thread(probe), READY_TIMEOUT)
        except TimeoutError:
            return f"no answer within {READY_TIMEOUT:g} s"
        except Exception as exc:  # the reason, not a stack trace
            return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}".rstrip(": ")
        return "ok"

    async def ready(_request: web.Request) -> web.Response:
        if app[WORKER].draining:  # stopping: a load balancer sends no more work here
            return web.json_response({"status": "stopping", "checks": {}}, status=503)
        checks = {"database": await check(database), "vector_store": await check(vectors)}
        if settings.slack.enabled:
            checks["slack"] = "configured"
        if settings.teams.enabled:
            checks["teams"] = "configured"
        ok = all(v in ("ok", "configured") for v in checks.values())
        return web.json_response(
            {"status": "ready" if ok else "not ready", "checks": checks}, status=200 if ok else 503
        )

    return ready


async def _metrics(_request: web.Request) -> web.Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def build_scheduler(core: Lotse, app: web.Application):
    """The nudge scheduler for the channels this app serves (None if none can send)."""
    senders = []
    if SLACK in app:
        from bot.channels.slack.app import SlackSender

        senders.append(SlackSender(app[SLACK].app.client))
    if TEAMS in app:
        from bot.channels.teams.channel import TeamsSender

        senders.append(TeamsSender(app[TEAMS]))
    if not senders:
        return None
    return core.services.scheduler(senders, role="serve")


async def run(core: Lotse, settings: Settings, host: str, port: int, stop: asyncio.Event | None = None) -> None:
    """Serve until `stop` is set (SIGTERM or SIGINT set it; `serve` passes its own) or until cancelled:
    the HTTP endpoints, and the Socket Mode connection if configured. At a stop, new events are turned
    away (503, /readyz 503), the turns in flight get `settings.stop_grace` seconds to finish, what is
    left is handed back to the other replicas, and the scheduler's lead is given up."""
    if settings.teams.enabled and not settings.teams.app_id and host not in LOOPBACK:
        raise SystemExit(
            f"lotse serve: Teams without authentication (LOTSE_TEAMS_ALLOW_ANONYMOUS=1) only listens on a loopback "
            f"address, not {host}. Set MICROSOFT_APP_ID etc., or use --host 127.0.0.1 with a local emulator."
        )
    stop = stop or _stop_on_signals()
    app = build_app(core, settings)
    # matplotlib takes about a second to import: load it now, off the loop, not in the first report
    threading.Thread(target=warm_up, name="lotse-warm-charts", daemon=True).start()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.warning("Lotse listens on http://%s:%s", host, port)
    socket_handler = None
    scheduler = None
    try:
        if SLACK in app and settings.slack.socket_mode:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            socket_handler = AsyncSocketModeHandler(app[SLACK].app, settings.slack.app_token)
            await socket_handler.connect_async()
            log.warning("Slack: connected in Socket Mode")
        elif SLACK in app:
            log.warning("Slack: HTTP mode, Request URL http://%s:%s/slack/events", host, port)
        if TEAMS in app:
            log.warning("Teams: messaging endpoint http://%s:%s/api/messages", host, port)
        scheduler = build_scheduler(core, app) if settings.scheduler else None
        if scheduler is not None:
            await scheduler.start()
        await stop.wait()
        log.warning("stopping: no new events; %g s for the turns in flight", settings.stop_grace)
        await app[WORKER].stop(settings.stop_grace)
    finally:
        if scheduler is not None:
            await scheduler.stop()
        if socket_handler is not None:
            await socket_handler.close_async()
        await runner.cleanup()
        log.warning("stopped")


def _stop_on_signals() -> asyncio.Event:
    """An event SIGTERM and SIGINT set (a rolling upgrade, docker stop, Ctrl-C)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(settings: Settings, build_core: Callable[[], Lotse], host: str, port: int) -> None:
    """`lotse serve`: the core is built once the database answers. Until then the port is already open —
    /healthz 200, /metrics, /readyz 503 with the reason, every other path 503 — and the database is tried again
    with back-off, saying so in the log, instead of exiting."""
    stop = _stop_on_signals()
    waiting = {"database": "starting"}

    async def not_ready(_request: web.Request) -> web.Response:
        return web.json_response({"status": "starting", "checks": waiting}, status=503)

    placeholder = web.Application()
    placeholder.router.add_get("/healthz", _healthz)
    placeholder.router.add_get("/metrics", _metrics)
    placeholder.router.add_route("*", "/{tail:.*}", not_ready)
    runner = web.AppRunner(placeholder, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    delay = START_RETRY
    try:
        while True:
            try:
                core = await asyncio.to_thread(build_core)
                break
            except OperationalError as exc:
                reason = (str(exc.orig).strip().splitlines() or ["unknown error"])[0]
                waiting["database"] = reason[:200]
                log.warning("waiting for the database (%s); trying again in %.1f s", reason, delay)
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                    return  # stopped while waiting
                except TimeoutError:
                    delay = min(delay * 2, START_RETRY_MAX)
        waiting["database"], waiting["core"] = "ok", "warming up"
        await asyncio.to_thread(_ready_for_load, core)
    finally:
        await runner.cleanup()
    await run(core, settings, host, port, stop)


def _ready_for_load(core: Lotse) -> None:
    """Before the first event: the core warmed up, then everything built so far moved out of the garbage
    collector's sight (`gc.freeze`). The models, indexes and libraries are several hundred thousand
    objects that live as long as the process; a full collection walked them all, and stopped every thread
    for 100–300 ms every half minute under load — the slowest acks Slack saw."""
    charts = threading.Thread(target=warm_up, name="lotse-warm-charts", daemon=True)  # matplotlib: ~1 s
    charts.start()
    try:
        core.warm_up()
    except Exception:  # a cold start is slower, not broken: the first question loads what is missing
        log.exception("warming up failed; the first question loads what it needs")
    charts.join()
    gc.collect()
    gc.freeze()
