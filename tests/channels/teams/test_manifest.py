"""The Teams app manifest `lotse teams-package` writes, validated offline against Microsoft's own schema
for its version, as bundled in npm's @microsoft/app-manifest (installed by .ci/run into tests/tools)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from bot.app.cli.chat import starters
from bot.settings import PROJECT_ROOT, load_settings

SCHEMAS = Path(__file__).resolve().parents[2] / "tools" / "node_modules" / "@microsoft" / "app-manifest" / "build"
APP_ID = "8f3e2a41-5b6c-4d7e-9f80-1a2b3c4d5e6f"


def manifest() -> dict:
    text = (PROJECT_ROOT / "config" / "teams" / "manifest.json").read_text(encoding="utf-8")
    built = json.loads(text.replace("${MICROSOFT_APP_ID}", APP_ID))
    starters(built, load_settings())  # the prompt starters of the action catalog, as the package gets them
    return built


def schema_for(version: str) -> dict:
    path = SCHEMAS / "json-schemas" / "teams" / f"v{version}" / "MicrosoftTeams.schema.json"
    if not path.is_file():
        if os.environ.get("LOTSE_CI") == "1":  # CI installs the schemas: missing there is a failure
            pytest.fail(f"{path} is missing: .ci/run installs it with `npm ci --prefix tests/tools`")
        pytest.skip("Microsoft's manifest schemas are not installed (npm ci --prefix tests/tools)")
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_manifest_is_valid_for_its_version_by_microsofts_schema():
    built = manifest()
    assert built["manifestVersion"] == "1.27" and built["$schema"].endswith("/v1.27/MicrosoftTeams.schema.json")
    schema = schema_for(built["manifestVersion"])
    errors = [f"{list(e.path)}: {e.message}" for e in jsonschema.Draft4Validator(schema).iter_errors(built)]
    assert errors == []


def test_prompt_starters_put_the_whole_request_into_the_compose_box():
    personal = next(c for c in manifest()["bots"][0]["commandLists"] if "personal" in c["scopes"])["commands"]
    prompts = [c for c in personal if c.get("type") == "prompt"]
    assert {"title": "Budget für Schulungen", "description": "Was KI-Schulungen pro Person kosten", "type": "prompt",
            "prompt": "Wie viel Budget brauchen wir pro Person für KI-Schulungen?"} in prompts  # fmt: skip
    readiness = next(c for c in prompts if c["title"] == "KI-Readiness-Check starten")
    assert readiness["prompt"] == "Ich möchte den KI-Readiness-Check machen"  # the request, which runs the action
    assert readiness["description"].startswith("Eine Bewertung")
    assert personal[-1]["title"] == "/help" and len(personal) <= 10
    # a broken manifest is found: the check can fail
    broken = manifest()
    broken["bots"][0]["commandLists"][0]["commands"][0]["type"] = "shortcut"
    schema = schema_for("1.27")
    assert list(jsonschema.Draft4Validator(schema).iter_errors(broken))
