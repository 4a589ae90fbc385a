"""`lotse register list|add|export` and `lotse audit` as real subprocesses (no network): the register is
there with Lotse's own entry even before the first chat, `add` checks every flag as the dialog checks
the answer and exits 2 naming the problems, exports open with csv/openpyxl/json, and the audit log
lists who changed what, filtered by action prefix and day."""

from __future__ import annotations

import csv
import json
import os
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest

from bot.app.cli import main
from bot.dialogs.inputs import add_months
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from tests.channels.test_cli import guard_dir, lotse  # noqa: F401  (guard_dir is a fixture)

COPILOT = ["register", "add", "--name", "Microsoft 365 Copilot", "--purpose", "Texte entwerfen", "--owner",
           "IT-Leitung", "--model", "GPT-4o", "--provider", "Microsoft Azure EU", "--personal-data", "yes",
           "--risk", "limited", "--status", "pilot", "--next-review", "in 6 months"]  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def env(request, tmp_path) -> dict:
    """The data folder, and the database: SQLite in it, or a PostgreSQL database of the test's own."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    return {"data_dir": tmp_path / "data", "LOTSE_DATABASE_URL": url}


def run(args, env, guard_dir):  # noqa: F811
    return lotse(args, env["data_dir"], guard_dir, LOTSE_DATABASE_URL=env["LOTSE_DATABASE_URL"])


def test_list_add_export_and_audit(env, guard_dir, tmp_path):  # noqa: F811
    listed = run(["register", "list"], env, guard_dir)
    assert listed.returncode == 0, listed.stderr
    header, lotse_line = listed.stdout.splitlines()
    assert header.split() == ["#", "status", "risk", "review", "name"]
    assert lotse_line.split() == ["1", "production", "limited", add_months(date.today(), 12).isoformat(), "Lotse"]

    added = run(COPILOT, env, guard_dir)
    assert added.returncode == 0, added.stderr
    assert added.stderr.startswith("registered 'Microsoft 365 Copilot': limited risk, pilot, next review")

    as_json = run(["register", "list", "--format", "json"], env, guard_dir)
    rows = json.loads(as_json.stdout)
    assert [r["name"] for r in rows] == ["Lotse", "Microsoft 365 Copilot"]
    assert rows[1]["next_review"] == add_months(date.today(), 6).isoformat() and rows[1]["data_sources"] == ""

    out = tmp_path / "register.xlsx"
    exported = run(["register", "export", "-o", str(out)], env, guard_dir)  # xlsx by default
    assert exported.returncode == 0 and exported.stderr.startswith(f"wrote {out}: 2 applications")
    sheet = openpyxl.load_workbook(out)["AI register"]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Lotse", "Microsoft 365 Copilot"]

    audit = run(["audit", "--lang", "en"], env, guard_dir)
    assert audit.returncode == 0, audit.stderr
    lines = audit.stdout.splitlines()
    login = lines[0].split(" · ")[1].removesuffix(" (command line)")
    assert [line.split(" · ", 1)[1] for line in lines] == [
        f"{login} (command line) · data exported · AI register",
        f"{login} (command line) · AI application registered · Microsoft 365 Copilot",
        "Lotse (automatic) · AI application registered · Lotse",
    ]
    only = json.loads(run(["audit", "--action", "register", "--json", "--limit", "1"], env, guard_dir).stdout)
    assert len(only) == 1 and only[0]["action"] == "register.add" and only[0]["actor"] == f"cli:{login}"
    assert only[0]["target"] == "Microsoft 365 Copilot" and "fields" in only[0]["detail"]


# The checks of the flags and options need no process of their own: `main` in this one.


@pytest.fixture
def cli(sqlite_url, tmp_path, monkeypatch, capsys):
    """`lotse …` in this process: (exit code, stdout, stderr)."""
    for name in [n for n in os.environ if n.startswith(("LOTSE_", "OPENAI_", "SLACK_", "MICROSOFT_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LOTSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOTSE_DATABASE_URL", sqlite_url)

    def call(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


def test_add_names_every_bad_flag_and_writes_nothing(cli, tmp_path):
    bad = [arg if arg != "in 6 months" else "1.1.2020" for arg in COPILOT]
    bad = [arg if arg != "yes" else "vielleicht" for arg in bad]
    bad = [arg if arg != "Microsoft 365 Copilot" else "2" for arg in bad]
    code, _, err = cli(*bad)
    assert code == 2
    assert err.splitlines() == [
        "lotse register add: --name '2': A name in the AI register may not start with \"2\" (a number or a "
        "/register command word). Please choose another name.",
        "lotse register add: --personal-data 'vielleicht': use yes or no",
        "lotse register add: --next-review '1.1.2020': use a date today or later: 2027-03-01, 1.3.2027 or "
        '"in 12 months"',
    ]
    code, _, err = cli("register", "add", "--name", "X", "--risk", "hoch")
    assert code == 2
    assert err.startswith(
        "lotse register add: missing --purpose, --owner, --personal-data, --status, --next-review (required"
    )
    code, _, err = cli(
        "register",
        "add",
        "--name",
        "X",
        "--purpose",
        "p",
        "--owner",
        "o",
        "--personal-data",
        "no",
        "--risk",
        "extrem",
        "--status",
        "live",
        "--next-review",
        "in 1 year",
    )
    assert code == 2 and err.splitlines() == [
        "lotse register add: --risk 'extrem': use minimal, limited, high or prohibited",
        "lotse register add: --status 'live': use idea, pilot, production or retired",
    ]
    code, out, _ = cli("register", "list", "--format", "json")
    assert code == 0 and [r["name"] for r in json.loads(out)] == ["Lotse"]
    code, _, err = cli("register", "list", "--format", "csv")
    assert code == 2 and err == "lotse register list: --format csv is for `lotse register export`\n"
    assert cli(*COPILOT)[0] == 0
    code, _, err = cli(*COPILOT)
    assert code == 2 and "'Microsoft 365 Copilot' is already in the register" in err
    out_csv = tmp_path / "register.csv"
    assert cli("register", "export", "--format", "csv", "-o", str(out_csv))[0] == 0
    with out_csv.open(encoding="utf-8-sig", newline="") as handle:
        assert [r["status"] for r in csv.DictReader(handle)] == ["production", "pilot"]
    code, _, err = cli(
        "register",
        "add",
        "--name",
        "Übersetzer",
        "--purpose",
        "p",
        "--owner",
        "o",
        "--personal-data",
        "nein",
        "--risk",
        "minimal",
        "--status",
        "produktiv",
        "--next-review",
        "1.3.2099",
    )
    assert code == 0, err  # the dialog's German words work too


def test_audit_filters_and_refuses_bad_options(cli, sqlite_url):
    db = Database(sqlite_url)
    AuditLog(db, clock=lambda: datetime(2026, 1, 10, 12, tzinfo=UTC)).record(
        "slack:T1:UADMIN", "pilot.delete", "Altpilot"
    )
    AuditLog(db).record("teams:tenant:aad-1", "pilot.update", "Dokumentensuche", fields=["users"])
    db.dispose()
    code, out, _ = cli("audit", "--action", "pilot", "--since", (date.today() - timedelta(days=1)).isoformat(),
                       "--lang", "en")  # fmt: skip
    assert code == 0 and out.splitlines()[0].endswith("· aad-1 (teams) · pilot changed · Dokumentensuche (users)")
    assert len(out.splitlines()) == 1
    german = (date.today() - timedelta(days=1)).strftime("%d.%m.%Y")  # the chat's form of a date works too
    assert cli("audit", "--action", "pilot", "--since", german, "--lang", "en")[1] == out
    assert cli("audit", "--action", "pilot.delete", "--lang", "de")[1] == (
        "10.01.2026 13:00 · UADMIN (slack) · Pilot gelöscht · Altpilot\n"
    )
    code, _, err = cli("audit", "--action", "register")
    assert code == 0 and err == "Im Audit-Protokoll steht dazu noch nichts.\n"  # the terminal speaks German
    for args, message in (
        (["--since", "gestern"], "--since wants a day like 2026-12-06 or 06.12.2026"),
        (["--limit", "0"], "--limit must be at least 1"),
        (["--action", "kaffee"], "no action starts with 'kaffee'"),
    ):
        code, _, err = cli("audit", *args)
        assert code == 2 and message in err


def test_the_audit_log_speaks_the_terminals_language(cli, sqlite_url, monkeypatch):
    db = Database(sqlite_url)
    AuditLog(db, clock=lambda: datetime(2026, 1, 10, 12, tzinfo=UTC)).record("cli:root", "pilot.delete", "Altpilot")
    db.dispose()
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert cli("audit")[1] == "10.01.2026 13:00 · root (Kommandozeile) · Pilot gelöscht · Altpilot\n"
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert cli("audit")[1].endswith("root (command line) · pilot deleted · Altpilot\n")
