"""Prometheus metrics of one Lotse process, served at /metrics by `lotse serve`. Counters only count;
no message text, user or conversation ever becomes a label."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

QUESTIONS = Counter(
    "lotse_questions_total", "Questions answered from the knowledge base, or refused", ["channel", "outcome"]
)
LLM_SECONDS = Histogram(
    "lotse_llm_seconds", "Time an LLM answer took (including streaming)", buckets=(0.25, 0.5, 1, 2, 4, 8, 15, 30, 60)
)
LLM_ERRORS = Counter("lotse_llm_errors_total", "LLM calls that failed; the extractive answer was given", ["reason"])
DIALOG_STEPS = Counter("lotse_dialog_steps_total", "Answers given in dialogs (assessments, pilot feedback)", ["result"])
NUDGES = Counter("lotse_nudges_total", "Plan nudges by how sending them ended", ["channel", "outcome"])
CHANNEL_ERRORS = Counter(
    "lotse_channel_errors_total", "Failed Slack or Teams requests and replies", ["channel", "kind"]
)
SCHEDULER_LEADER = Gauge(
    "lotse_scheduler_leader", "1 while this process leads the nudge scheduler of the role, else 0", ["role"]
)
SCHEDULER_PASSES = Counter(
    "lotse_scheduler_passes_total", "Nudge passes (plan, claim, send) the scheduler ran", ["role", "outcome"]
)
INBOX_TURNS = Counter(
    "lotse_inbox_turns_total", "Turns worked from the durable inbox, by how they ended", ["channel", "outcome"]
)
INBOX_REFUSED = Counter(
    "lotse_inbox_refused_total",
    "Events answered 503 because they could not be recorded (database away, stopping)",
    ["channel", "reason"],
)
