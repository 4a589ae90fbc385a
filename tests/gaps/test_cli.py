"""`lotse gaps` and `lotse faq list|add|export|withdraw` (issue 25), in this process with a data folder of
their own: the FAQ entry added on the command line answers the chat, the gaps come out as JSON."""

from __future__ import annotations

import csv
import json
import os

import pytest

from bot.app.cli import main
from bot.app.services import build_core
from bot.core.messages import Incoming
from bot.settings import load_settings

PRICE = "Was kostet eine Copilot-Lizenz bei uns?"


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    for name in [n for n in os.environ if n.startswith(("LOTSE_", "OPENAI_", "SLACK_", "MICROSOFT_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LOTSE_DATA_DIR", str(tmp_path / "data"))

    def call(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


def test_gaps_and_the_faq_on_the_command_line(cli, tmp_path):
    assert cli("gaps") == (0, "", "No open knowledge gaps.\n")
    core = build_core(load_settings())
    refused = core.handle(Incoming(PRICE, "anna", channel="console"))
    assert refused.kind == "refusal"
    code, out, _ = cli("gaps", "--json")
    [group] = json.loads(out)
    assert code == 0 and (group["example"], group["count"], group["refused"]) == (PRICE, 1, 1)
    assert group["last_seen"].endswith(("+01:00", "+02:00"))  # Berlin time with its offset

    assert cli("faq", "add", "--question", "Was kostet eine Copilot-Lizenz bei uns?")[0] == 2  # no answer
    code, _, err = cli("faq", "add", "--question", "Was kostet eine Copilot-Lizenz?", "--answer", "30 €", "--link", "x")
    assert code == 2 and "is no link" in err
    code, out, _ = cli(
        "faq", "add", "--question", "Was kostet eine Copilot-Lizenz bei uns?", "--answer",
        "Eine Copilot-Lizenz kostet uns 30 € im Monat.", "--author", "Anna Berg", "--group", str(group["group"]),
    )  # fmt: skip
    assert code == 0 and out.startswith("Entry 1 added and indexed")
    assert json.loads(cli("gaps", "--json")[1]) == []  # answered
    [entry] = json.loads(cli("faq", "list", "--json")[1])
    assert (entry["author"], entry["withdrawn_at"]) == ("Anna Berg", None)
    answered = build_core(load_settings()).handle(Incoming("wie teuer ist copilot bei uns?", "ben", channel="console"))
    assert answered.answered and "30 € im Monat" in answered.text

    out_file = tmp_path / "faq.csv"
    assert cli("faq", "export", "-o", str(out_file))[0] == 0
    with out_file.open(encoding="utf-8-sig", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["question"] == "Was kostet eine Copilot-Lizenz bei uns?" and row["withdrawn_at"] == ""
    assert cli("faq", "withdraw", "--id", "1")[1].startswith("Entry 1 withdrawn")
    assert cli("faq", "withdraw", "--id", "1")[0] == 1  # already withdrawn
    assert cli("faq", "list")[2].startswith("The company FAQ has no entries yet")
