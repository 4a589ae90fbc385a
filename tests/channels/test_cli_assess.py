"""Assessments through the real `lotse` command: scripted `lotse chat`, a restart between two
processes, `lotse assess list|show|export`, and a broken assessment file at start-up."""

from __future__ import annotations

import getpass
import json
import shutil
from pathlib import Path

import pytest

from bot.storage.audit import AuditLog
from bot.storage.db import Database

from .test_cli import guard_dir, lotse  # noqa: F401  (guard_dir is a fixture)

ALL_SIX = [
    "/check 1", "ja", "ja", "nein", "ja",
    "/check 2", "SAP ERP", "5", "-", "Fileserver", "2", "-", "fertig",
    "/check 3", "ja", "4", "4", "4", "nein", "nein", "nein", "nein", "nein", "nein", "fertig",
    "/check 4", "Anna", "4", "3", "5", "2", "2", "3", "ja", "fertig",
    "/check 5", "Dokumentensuche", "4", "5", "3", "fertig",
    "/check 6", "Datenschutzverstoß", "2", "3", "5", "Auftragsverarbeitung prüfen", "fertig",
]  # fmt: skip


RESUMED = "Weiter mit KI-Bereitschaft der Infrastruktur – bisher gespeicherte Antworten: 2."


@pytest.fixture
def data_dir(kb_settings, tmp_path) -> Path:
    """A copy of the ingested test data folder, so results of one test do not show in another."""
    target = tmp_path / "data"
    shutil.copytree(kb_settings.data_dir, target)
    return target


def test_all_six_assessments_run_through_scripted_chat(data_dir, guard_dir):  # noqa: F811
    result = lotse(["chat", "--user", "anna"], data_dir, guard_dir, stdin="\n".join(ALL_SIX) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for title in (
        "KI-Bereitschaft der Infrastruktur",
        "Systemlandschaft",
        "Datenqualität",
        "Team-Skills",
        "Use-Case-Priorisierung",
        "Risiko-Matrix",
    ):
        assert f"Fertig: {title}. Das Ergebnis ist gespeichert." in out, title
    assert "3 von 4 Prüfpunkten erfüllt – Ihre Infrastruktur ist grundsätzlich KI-bereit." in out
    assert "Kandidaten für frühe KI-Integrationen (Bewertung 4 oder 5): SAP ERP (5)." in out
    assert "1. Datenschutzverstoß (Rechtlich): 3 × 5 = 15, hoch" in out
    charts = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("Diagramm: ")]
    assert len(charts) == 6 and all(Path(c).stat().st_size > 5000 for c in charts)
    assert "NETWORK" not in result.stderr

    listing = lotse(["assess", "list", "--scope", "console:local"], data_dir, guard_dir)
    assert listing.returncode == 0, listing.stderr
    assert all(f"{a:<13}       1" in listing.stdout for a in ("readiness", "systems", "risks")), listing.stdout
    shown = lotse(["assess", "show", "use cases", "--lang", "en"], data_dir, guard_dir)
    assert "Use-case prioritisation – as of" in shown.stdout and "1. Dokumentensuche – priority 6" in shown.stdout
    exported = lotse(["assess", "export", "--format", "csv", "--scope", "console:local"], data_dir, guard_dir)
    assert exported.stdout.startswith("result_id,assessment,scope,author,created_at,row,field,value\n")
    assert "console:local,anna" in exported.stdout and exported.stdout.count("\n") > 30
    db = Database(f"sqlite:///{data_dir / 'lotse.db'}")
    entry = AuditLog(db).entries(limit=1, action="data.export")[0]  # the copied folder may hold older ones
    assert (entry.actor, entry.target) == (f"cli:{getpass.getuser()}", "assessment_results")
    assert json.loads(entry.detail) == {"assessment": "all", "format": "csv", "scope": "console:local"}
    db.dispose()


def test_a_new_process_resumes_at_the_same_question_with_the_earlier_answers(data_dir, guard_dir):  # noqa: F811
    first = lotse(["chat", "--user", "ben"], data_dir, guard_dir, stdin="/check readiness\nnein\nja\n")
    assert first.returncode == 0 and "Frage 3 von 4" in first.stdout.split("\n\n")[-2]

    second = lotse(["chat", "--user", "ben"], data_dir, guard_dir, stdin="/weiter\nja\nja\n")
    assert second.returncode == 0, second.stderr
    resumed = second.stdout.split("\n\n")
    assert resumed[0] == "› /weiter\n[Frage 3 von 4]\n" + RESUMED  # the piped message echoed, then the reply
    assert "3 von 4 Prüfpunkten erfüllt" in second.stdout

    exported = lotse(["assess", "export", "readiness", "--scope", "console:local"], data_dir, guard_dir)
    [record] = json.loads(exported.stdout)
    assert record["answers"] == {"databases_api": False, "cloud": True, "web_services": True, "backup_security": True}
    assert record["author"] == "ben" and record["scope"] == "console:local"


def test_a_broken_assessment_file_stops_chat_at_start_up(data_dir, guard_dir, tmp_path):  # noqa: F811
    folder = tmp_path / "assessments"
    folder.mkdir()
    (folder / "risks.yaml").write_text("id: risks\ntitle: {de: Risiken}\nsummary: {de: x, en: y}\nsteps: []\n")
    result = lotse(["chat"], data_dir, guard_dir, stdin="hallo\n", LOTSE_ASSESSMENTS_DIR=str(folder))
    assert result.returncode == 2
    assert f"lotse: assessment file error: {folder / 'risks.yaml'}: title.en: Field required" in result.stderr
    assert "steps: List should have at least 1 item" in result.stderr
    assert "Traceback" not in result.stderr
