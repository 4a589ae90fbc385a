"""`lotse chat` prints plan nudges addressed to the terminal while it runs (its own scheduler role)."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime

from bot.app.services import build_core
from bot.channels.console import BackgroundNudges, ConsoleSender, render
from bot.core.messages import Incoming
from bot.settings import Settings


class Clock:
    now = datetime(2026, 11, 30, 8, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_the_terminal_gets_the_due_nudge_once_and_can_tick_off_a_task(kb_settings, service, tmp_path):
    settings = Settings(data_dir=kb_settings.data_dir, knowledge_dir=kb_settings.knowledge_dir)
    core = build_core(settings, service, clock=Clock())
    started = core.handle(Incoming("/plan start 2026-11-30 BY", "lead", channel="console", admin=True))
    assert "Erste Erinnerung: Mo 2026-11-30" in started.text
    out = io.StringIO()
    with BackgroundNudges(core.services.scheduler([ConsoleSender(out)], role="console")) as nudges:
        deadline = time.monotonic() + 10
        while "Woche 1 von 12" not in out.getvalue():
            assert time.monotonic() < deadline, out.getvalue()
            time.sleep(0.05)
        nudges.service.scheduler.modify_job("lotse-nudges", next_run_time=datetime.now(UTC))  # another pass
        time.sleep(0.5)
    printed = out.getvalue()
    assert printed.count("Woche 1 von 12 · ") == 2  # the heading and the progress line, once each
    assert "☐ 1.1  " in printed and "/plan erledigt 1.1" in printed  # the hint names a task of this week
    done = core.handle(Incoming("/plan erledigt 1.1", "lead", channel="console"))
    assert render(done).endswith("Woche 1 von 12 · 1/3 Aufgaben erledigt")
