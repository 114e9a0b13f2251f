"""The official ``openai`` npm package, run by Node, streams through the relay.

Each test starts ``web/e2e/openai-stream.mjs`` against the relay (which
streams from the Azure emulator) and compares what the SDK reassembled with
what the emulator sent.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import inline_prompt
from tests.web.conftest import WEB_ROOT

JAPANESE = "東京の天気は晴れ☀️、気温は18℃です。café 👨‍👩‍👧 🎉 — ストリーミング完了🚀"


def run_sdk(node: str, relay_url: str, prompt: str, model: str = "azure") -> dict[str, Any]:
    """Run the SDK script and return its JSON report."""
    env = {**os.environ, "RELAY_BASE_URL": relay_url, "RELAY_MODEL": model, "RELAY_PROMPT": prompt}
    done = subprocess.run(
        [node, "e2e/openai-stream.mjs"], cwd=WEB_ROOT, env=env, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_the_sdk_reassembles_the_stream_exactly(node: str, relay_url: str, azure: AzureOpenAIEmulator) -> None:
    report = run_sdk(node, relay_url, inline_prompt(text=JAPANESE, chunks=29, prompt_tokens=12, completion_tokens=29))
    assert report["error"] is None
    assert report["text"] == JAPANESE
    assert report["content_chunks"] == 29
    assert report["finish_reason"] == "stop"
    usage = report["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (12, 29, 41)


def test_the_sdk_assembles_tool_calls(node: str, relay_url: str, azure: AzureOpenAIEmulator) -> None:
    calls = [
        {"name": "get_weather", "id": "call_a", "arguments": {"city": "東京"}, "pieces": 4},
        {"name": "get_time", "id": "call_b", "arguments": {"tz": "Asia/Tokyo"}, "pieces": 2},
    ]
    report = run_sdk(node, relay_url, inline_prompt(text="", tool_calls=calls))
    assert report["finish_reason"] == "tool_calls"
    assembled = [(c["id"], c["name"], json.loads(c["arguments"])) for c in report["tool_calls"]]
    assert assembled == [("call_a", "get_weather", {"city": "東京"}), ("call_b", "get_time", {"tz": "Asia/Tokyo"})]


def test_the_sdk_raises_the_mid_stream_error_frame(node: str, relay_url: str, azure: AzureOpenAIEmulator) -> None:
    report = run_sdk(node, relay_url, inline_prompt(chunks=8, error_after=5))
    assert report["error"]["class"] == "APIError"
    assert "mid-stream" in report["error"]["message"]


def test_the_sdk_sees_an_unknown_model_as_not_found(node: str, relay_url: str) -> None:
    report = run_sdk(node, relay_url, "hi", model="gpt-nope")
    assert report["error"]["class"] == "NotFoundError"
    assert (report["error"]["status"], report["error"]["code"]) == (404, "model_not_found")
