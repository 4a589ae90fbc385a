"""The deployment files: docker cannot run here, so the Dockerfile and docker-compose.yml are checked
against the project (the README's install step, commands the CLI knows, settings Lotse reads), and what
the compose file runs — `init`, then two replicas, then the image's health check — runs for real on
127.0.0.1 against PostgreSQL and a Chroma server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import aiohttp
import chromadb
import yaml

from bot.app.cli import build_parser
from tests.conftest import KNOWLEDGE, ROOT
from tests.fakes.local import start_serve
from tests.fakes.slack_api import FakeSlack

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
SETTINGS_SOURCE = (ROOT / "bot" / "settings.py").read_text(encoding="utf-8")


def readme_install_command() -> str:
    setup = README.split("## Set-up: two commands", 1)[1]
    command = re.search(r"```bash\n(.+?)\n```", setup, re.S)[1].strip()
    assert command.endswith(" && .venv/bin/lotse chat"), command
    return command.removesuffix(" && .venv/bin/lotse chat")


def instructions(name: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(name + " ")]


def test_the_image_installs_lotse_exactly_as_the_readme_does():
    assert readme_install_command() in instructions("RUN")
    assert instructions("FROM") == ["python:3.11-slim"]
    assert instructions("USER") == ["lotse"]  # not root
    assert any("lotse ingest" in step for step in instructions("RUN"))  # the knowledge base indexed at build time
    [health] = instructions("HEALTHCHECK")
    assert "/readyz" in health


def compose_environment() -> dict[str, str]:
    """The replicas' environment as compose would give it with an empty .env (defaults applied)."""
    values = {}
    for key, value in COMPOSE["x-lotse"]["environment"].items():
        values[key] = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))
    return values


def test_compose_has_two_replicas_behind_a_balancer_on_postgres_and_chroma():
    services = COMPOSE["services"]
    assert {"postgres", "chroma", "init", "lotse-1", "lotse-2", "lb"} <= set(services)
    for name in ("lotse-1", "lotse-2"):
        assert services[name]["depends_on"] == {"init": {"condition": "service_completed_successfully"}}
    environment = compose_environment()
    assert environment["LOTSE_DATABASE_URL"].startswith("postgresql+psycopg://lotse:lotse@postgres:5432/")
    assert environment["LOTSE_CHROMA_URL"] == "http://chroma:8000"
    for key in environment:  # every variable is one Lotse reads (a typo would be silently ignored)
        assert f'"{key}"' in SETTINGS_SOURCE, key
    parser = build_parser()
    for name in ("init", "lotse-1", "lotse-2"):
        parser.parse_args(services[name]["command"])  # a command the CLI knows (exits on an unknown one)
    assert services["chroma"]["image"] == f"chromadb/chroma:{chromadb.__version__}"  # server = client version
    caddy = (ROOT / "config" / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert "reverse_proxy lotse-1:3978 lotse-2:3978" in caddy and "health_uri /readyz" in caddy
    assert "./config/deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["lb"]["volumes"]


def test_every_variable_of_the_env_example_reaches_the_containers():
    example = (ROOT / "config" / "deploy" / "env.example").read_text(encoding="utf-8")
    names = re.findall(r"^([A-Z_]+)=", example, re.M)
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert names and all("${" + name + ":-" in compose for name in names), names


def local_environment(tmp_path: Path, database: str, chroma: str, name: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LOTSE_", "SLACK_", "MICROSOFT_"))}
    env.update({k: v for k, v in compose_environment().items() if v != ""})
    env.update(
        LOTSE_DATABASE_URL=database,
        LOTSE_CHROMA_URL=chroma,
        LOTSE_DATA_DIR=str(tmp_path / name),
        LOTSE_KNOWLEDGE_DIR=str(KNOWLEDGE),
        **extra,
    )
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"  # `lotse` as installed in the image
    return env


async def test_what_compose_runs_works_init_then_two_replicas_then_the_health_check(tmp_path, postgres_url, chroma_url):
    services = COMPOSE["services"]
    init = subprocess.run(
        ["lotse", *services["init"]["command"]],
        env=local_environment(tmp_path, postgres_url, chroma_url, "init"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert init.returncode == 0, init.stderr
    assert "database schema: none → " in init.stderr and " added," in init.stderr
    again = subprocess.run(
        ["lotse", *services["init"]["command"]],
        env=local_environment(tmp_path, postgres_url, chroma_url, "init"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0 and "0 added, 0 updated" in again.stderr, again.stderr  # a restart of init

    processes = []
    fake = await FakeSlack(team_id="TDEPLOY").start()  # a channel to serve: Slack in HTTP mode, the fake Web API
    slack = dict(
        SLACK_BOT_TOKEN="xoxb-deploy",
        SLACK_SIGNING_SECRET="deploy-secret",
        SLACK_API_URL=fake.api_url,
        SLACK_TEAM_ID="TDEPLOY",
    )
    try:
        for name in ("lotse-1", "lotse-2"):
            command = services[name]["command"]
            assert command[:3] == ["serve", "--host", "0.0.0.0"]  # start_serve listens on 127.0.0.1 instead
            env = local_environment(tmp_path, postgres_url, chroma_url, name, **slack)
            process, base = await start_serve(env, ROOT, ready="/readyz")
            processes.append((process, base))
        health = json.loads(instructions("HEALTHCHECK")[0].split(" CMD ", 1)[1])  # the exec form: a JSON list
        assert health[:2] == ["python", "-c"]
        async with aiohttp.ClientSession() as session:
            for _, base in processes:
                port = base.rsplit(":", 1)[1]
                check = subprocess.run(
                    [sys.executable, "-c", health[2].replace(":3978/", f":{port}/")],
                    capture_output=True,
                    text=True,
                    timeout=30,
                )
                assert check.returncode == 0, check.stderr
                async with session.get(base + "/readyz") as response:
                    assert response.status == 200
    finally:
        for process, _ in processes:
            process.terminate()
            process.wait(timeout=15)
        await fake.stop()
