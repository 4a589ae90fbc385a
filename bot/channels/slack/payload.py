"""What Slack's payloads say besides their event: the workspace, and the language of the message a
button or modal belongs to."""

from __future__ import annotations

from bot.core.language import detect_language


def team_of(body: dict) -> str:
    return (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or ""


def language_of(body: dict) -> str:
    return detect_language((body.get("message") or {}).get("text") or "", "de")
