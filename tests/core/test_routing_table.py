"""The routing characterisation (issue 21): every (message × state × role × place) case still takes the
route, and gets the reply, recorded in tests/core/routing_table.tsv. See tests/core/routing_table.py for
what a row holds and how to record the table again after a deliberate change."""

from __future__ import annotations

import difflib

from tests.core.routing_table import TABLE, build_core, cases, record, to_tsv


def test_every_message_in_every_state_takes_the_recorded_route(tmp_path, kb_index):
    empty = tmp_path / "knowledge"
    empty.mkdir()
    core = build_core(tmp_path, empty, embedder=kb_index.embedder)
    try:
        now = to_tsv(record(core))
    finally:
        core.answers.index.db.dispose()
    recorded = TABLE.read_text(encoding="utf-8")
    assert recorded.count("\n") == sum(1 for _ in cases()) + 1, "the table lists other cases than the code tries"
    if now != recorded:
        changed = [
            line
            for line in difflib.unified_diff(recorded.splitlines(), now.splitlines(), "recorded", "now", n=0)
            if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))
        ]
        raise AssertionError(f"{len(changed)} lines differ (first 40):\n" + "\n".join(changed[:40]))


def test_the_table_covers_each_state_role_and_place():
    rows = [line.split("\t") for line in TABLE.read_text(encoding="utf-8").splitlines()[1:]]
    assert {r[0] for r in rows} == {"none", "yesno", "repeat-name", "rating", "free-text", "repeat-more", "choice"}
    assert {(r[1], r[2]) for r in rows if r[0] == "none"} == {
        (role, place) for role in ("admin", "champion", "employee") for place in ("dm", "channel")
    }
    route = {(r[0], r[1], r[2], r[3]): r[4] for r in rows}
    reply = {(r[0], r[1], r[2], r[3]): r[8] for r in rows}
    # decided (issue 21): command words in any case, as /Register always was; /Pilot was "unknown command",
    # and inside an assessment "/PILOT" was stored as a system's name
    for state in ("none", "rating", "repeat-name"):
        assert route[(state, "admin", "dm", "/Pilot")] == route[(state, "admin", "dm", "/pilot")] == "pilot"
        assert route[(state, "admin", "dm", "/PLAN")] == route[(state, "admin", "dm", "/plan")] == "plan"
        assert reply[(state, "admin", "dm", "/Plan Status")] == reply[(state, "admin", "dm", "/plan status")]
    assert route[("none", "admin", "dm", "/Register")] == "register"
    # decided (issue 21): inside an assessment a slash command is answered, never taken as an answer
    for state in ("rating", "free-text", "repeat-name", "choice"):
        assert route[(state, "admin", "dm", "/feedback 4 gut")] == "command>feedback"
        assert route[(state, "employee", "channel", "/gibtsnicht")] == "command"
        assert route[(state, "admin", "dm", "/pause")] == "dialog>step"  # its own words keep working
