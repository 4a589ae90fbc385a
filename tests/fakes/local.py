"""Serving an aiohttp app on a free port of 127.0.0.1, for the fakes and the channel harnesses."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web


async def serve_local(app: web.Application) -> tuple[web.AppRunner, str]:
    """Start `app` on 127.0.0.1 with a port the system picks; (runner, "http://127.0.0.1:PORT")."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def start_serve(
    env: dict[str, str], cwd, ready: str = "/healthz", timeout: float = 60.0, stderr: str | Path | None = None
):
    """`lotse serve` in a process of its own on a free port of 127.0.0.1, once `ready` answers 200:
    (process, "http://127.0.0.1:PORT"). Raises RuntimeError with the end of its stderr if it exits.

    Its stderr goes to the file `stderr` (kept for reading afterwards), else to an anonymous temporary
    file; never to a pipe, which nobody reads while the process runs: a process that logs much under
    load would block once the pipe's buffer is full."""
    import asyncio
    import subprocess
    import sys
    import tempfile

    import aiohttp

    port = free_port()
    log = open(stderr, "w+b") if stderr is not None else tempfile.TemporaryFile()
    with log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.app.cli", "serve", "--port", str(port)],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            for _ in range(int(timeout * 10)):
                try:
                    async with session.get(base + ready) as response:
                        if response.status == 200:
                            return process, base
                except aiohttp.ClientError:
                    pass
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"lotse serve exited: {log.read().decode(errors='replace')[-2000:]}")
                await asyncio.sleep(0.1)
    process.kill()
    raise RuntimeError(f"lotse serve did not answer {ready} within {timeout:g} s")
