"""relay-client.js, run by Node, resumes by itself through the relay when its connection drops.

``web/e2e/relay-client-resume.mjs`` cuts the first response after a few
events, as a network switch would; the client must reconnect to the resume
route with ``Last-Event-ID`` and finish the answer the emulator streamed.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from devtools.emulators.scenario import inline_prompt
from tests.builders import azure_backend
from tests.web.conftest import WEB_ROOT

TEXT = "接続が切れても、答えは最後まで届きます 🚀 — resumed by relay-client.js."


def run_client(node: str, environ: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [node, "e2e/relay-client-resume.mjs"],
        cwd=WEB_ROOT,
        env={**os.environ, **environ},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("dialect", ["events", "openai"])
def test_relay_client_resumes_a_cut_stream_by_itself(
    node: str, azure: Any, start_relay: Callable[..., Any], dialect: str
) -> None:
    config = {"backends": [azure_backend("azure-east", azure.url)], "models": {"azure": ["azure-east"]}}
    relay = start_relay(config)
    prompt = inline_prompt(text=TEXT, chunks=16, delay_ms=40)
    report = run_client(node, {"RELAY_BASE_URL": relay.url, "RELAY_PROMPT": prompt, "RELAY_DIALECT": dialect})
    assert report["error"] is None
    assert report["text"] == TEXT
    assert report["finish_reason"] == "stop"
    methods = [(request["method"], request["last_event_id"]) for request in report["requests"]]
    assert methods == [("POST", None), ("GET", "3")]
    assert len(azure.recorder.records) == 1
