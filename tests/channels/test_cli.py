"""The `lotse` command as a script would use it: real subprocesses, no network allowed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

GUARD = """
import socket
_connect = socket.socket.connect
def _guarded(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1", "localhost"):
        raise SystemExit(f"NETWORK ACCESS to {address!r}")
    return _connect(self, address)
socket.socket.connect = _guarded
"""


@pytest.fixture(scope="module")
def guard_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("guard")
    (folder / "sitecustomize.py").write_text(GUARD)
    return folder


def lotse(args, data_dir, guard_dir, stdin: str | None = None, **env) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LOTSE_", "SLACK_", "MICROSOFT_"))
    }
    environment.update(LOTSE_DATA_DIR=str(data_dir), PYTHONPATH=f"{guard_dir}{os.pathsep}{ROOT}", **env)
    return subprocess.run(
        [sys.executable, "-m", "bot.app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=120,
    )


def test_ask_json_prints_one_object_with_the_contract_fields(kb_settings, guard_dir):
    result = lotse(
        ["ask", "Wie viel Budget brauchen wir pro Person für KI-Schulungen?", "--json"], kb_settings.data_dir, guard_dir
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["answered"] is True and data["language"] == "de" and data["mode"] == "extractive"
    assert "2.000" in data["answer"]
    assert 1 <= len(data["sources"]) <= 5
    assert data["sources"][0]["source"].startswith("de/")
    assert "NETWORK" not in result.stderr


def test_ask_batch_answers_each_line_in_order(kb_settings, guard_dir):
    questions = "Was passiert in Woche 3?\nWie wird das Wetter morgen?\n\nHow long does the roadmap take?\n"
    result = lotse(["ask", "--json", "--batch"], kb_settings.data_dir, guard_dir, stdin=questions)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [r["question"] for r in rows] == [
        "Was passiert in Woche 3?",
        "Wie wird das Wetter morgen?",
        "How long does the roadmap take?",
    ]
    assert [r["answered"] for r in rows] == [True, False, True]
    # a refusal quotes nothing: its sources are the nearest passages, none of them used (issue 19)
    assert not any(s["used"] for s in rows[1]["sources"]) and rows[2]["language"] == "en"


def test_chat_first_run_indexes_the_knowledge_and_answers_piped_messages(tmp_path, guard_dir):
    script = "/help\nWie viel Budget brauchen wir pro Person für KI-Schulungen?\nUnd pro Monat?\n/quit\nnot read\n"
    result = lotse(["chat", "--user", "tester"], tmp_path / "fresh", guard_dir, stdin=script)
    assert result.returncode == 0, result.stderr
    assert "First run: indexing" in result.stderr
    out = result.stdout
    assert "/quit" in out  # the help text
    assert "2.000 bis 5.000 Euro" in out and "Quellen:" in out and "[1]" in out
    assert "Monat" in out.split("Quellen:")[1] or "Monat" in out.split("Quellen:")[2]
    assert "not read" not in out
    assert "NETWORK" not in result.stderr


def test_ingest_reports_a_missing_path_with_exit_code_2(tmp_path, guard_dir):
    result = lotse(["ingest", str(tmp_path / "missing")], tmp_path / "d", guard_dir)
    assert result.returncode == 2 and "missing: no such file or folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_configuration_is_named(tmp_path, guard_dir):
    result = lotse(["ask", "x"], tmp_path / "d", guard_dir, LOTSE_TOP_K="many")
    assert result.returncode == 2 and "LOTSE_TOP_K='many'" in result.stderr


def test_serve_without_a_channel_says_how_to_configure_one(kb_settings, guard_dir):
    result = lotse(["serve"], kb_settings.data_dir, guard_dir)
    assert result.returncode == 1
    assert "no channel is configured" in result.stderr and "SLACK_APP_TOKEN" in result.stderr
    half = lotse(["serve"], kb_settings.data_dir, guard_dir, SLACK_BOT_TOKEN="xoxb-1")
    assert half.returncode == 2 and "neither SLACK_APP_TOKEN" in half.stderr and "Traceback" not in half.stderr


def test_teams_package_builds_the_app_zip_with_the_app_id(kb_settings, guard_dir, tmp_path):
    import zipfile

    target = tmp_path / "lotse-teams.zip"
    refused = lotse(["teams-package", "-o", str(target)], kb_settings.data_dir, guard_dir)
    assert refused.returncode == 2 and "MICROSOFT_APP_ID" in refused.stderr
    env = {"MICROSOFT_APP_ID": "11111111-2222-3333-4444-555555555555"}  # the zip holds the app id, nothing else
    built = lotse(["teams-package", "-o", str(target)], kb_settings.data_dir, guard_dir, **env)
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(target) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
    assert manifest["id"] == manifest["bots"][0]["botId"] == env["MICROSOFT_APP_ID"]
    personal = manifest["bots"][0]["commandLists"][0]["commands"]
    titles = [c["title"] for c in personal]  # prompt starters from the action catalog (issue 22)
    assert "KI-Readiness-Check starten" in titles and "Feedback zu einem Pilot geben" in titles
    assert titles[-1] == "/help" and len(titles) <= 10 and all(len(t) <= 32 for t in titles)
    serving = lotse(["serve"], kb_settings.data_dir, guard_dir, **env)  # serving Teams needs the rest
    assert serving.returncode == 2 and "needs MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID" in serving.stderr


def test_chat_json_prints_one_object_per_reply_in_order_and_follow_ups_use_the_conversation(kb_settings, guard_dir):
    messages = [
        "Was passiert in Woche 3?",
        "und danach?",
        "Wann ist unsere nächste Datenschutz-Schulung?",
        "/check 1",
        "abbrechen",
    ]
    result = lotse(
        ["chat", "--json", "--user", "anna"], kb_settings.data_dir, guard_dir, stdin="\n".join(messages) + "\n"
    )
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in replies] == messages
    assert [r["kind"] for r in replies] == ["answer", "answer", "refusal", "dialog", "command"]
    for reply in replies:
        assert set(reply) == {"question", "answered", "answer", "language", "mode", "sources", "kind", "action"}
        assert reply["action"] is None
    week3, week4, refusal = replies[:3]
    assert "Woche 3" in week3["sources"][0]["section"] and week3["sources"][0]["used"] is True
    assert "Woche 4" in week4["sources"][0]["section"]
    assert refusal["answered"] is False and refusal["sources"] and not any(s["used"] for s in refusal["sources"])
    assert replies[3]["mode"] == "dialog"

    # another person has a conversation of their own: "und danach?" does not continue Anna's
    other = lotse(["chat", "--json", "--user", "ben"], kb_settings.data_dir, guard_dir, stdin="und danach?\n")
    (reply,) = [json.loads(line) for line in other.stdout.splitlines()]
    assert not any("Woche 4" in s["section"] for s in reply["sources"] if s["used"])
