"""Resumable streams across two relay processes sharing one Azurite table, as two scaled-out instances.

Both ``python -m devtools.local_host`` processes point at the same Azure
OpenAI emulator (in this process, so its recorder shows when the upstream was
closed) and the same table. Every answer is checked byte-exact against the
text the emulator was told to stream.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.emulators.scenario import inline_prompt
from devtools.local_host import APP_ROOT
from devtools.processes import free_port, stop_processes
from tests.azurite import Azurite
from tests.builders import AZURE_TEST_KEY, RELAY_TEST_KEY, azure_backend
from tests.polling import wait_for
from tests.relay_configs import CHAT_URL, chat_body, relay_key
from tests.secret_guard import GUARD
from tests.shared.resumable.sse_text import OTHER_KEY, RESUMABLE, auth, chat_text, events_of, read_events

pytestmark = pytest.mark.timeout(120)

TEXT = "Twelve instances, one answer: 途切れても続きが届く 🚀 — resumed on whichever instance the reconnect reaches."
LOST_AFTER_SECONDS = 1.5


@dataclass
class Pair:
    """Two relay processes: ``a`` generates, ``b`` resumes."""

    a: str
    b: str
    processes: list[subprocess.Popen[bytes]]


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"relay at {url} exited with status {process.returncode}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"relay at {url} did not become healthy")


@pytest.fixture
def pair(azure: Any, azurite: Azurite, tmp_path: Path) -> Iterator[Pair]:
    config = {
        "backends": [azure_backend("azure-east", azure.url)],
        "models": {"azure": ["azure-east"]},
        "auth": {"relay_keys": [relay_key("tests", RELAY_TEST_KEY), relay_key("other", OTHER_KEY)]},
        "resumable": {
            "store": "table",
            "table": {"table_name": f"streams{uuid.uuid4().hex[:10]}"},
            "flush_seconds": 0.05,
            "poll_seconds": 0.1,
            "beat_seconds": 0.3,
            "lost_after_seconds": LOST_AFTER_SECONDS,
        },
        "stream": {"heartbeat_seconds": 0.5},
    }
    environ = {
        **os.environ,
        "RELAY_CONFIG": json.dumps(config),
        "AZURE_TEST_KEY": AZURE_TEST_KEY,
        "AzureWebJobsStorage": azurite.connection_string,
    }
    processes, urls, logs = [], [], []
    try:
        for index in range(2):
            port, log = free_port(), tmp_path / f"relay-{index}.log"
            command = [sys.executable, "-m", "devtools.local_host", "--port", str(port)]
            with log.open("wb") as sink:
                processes.append(
                    subprocess.Popen(command, cwd=APP_ROOT, env=environ, stdout=sink, stderr=subprocess.STDOUT)
                )
            urls.append(f"http://127.0.0.1:{port}")
            logs.append(log)
        for process, url in zip(processes, urls, strict=True):
            _wait_until_healthy(process, url)
        yield Pair(urls[0], urls[1], processes)
    finally:
        stop_processes(processes)
        for log in logs:
            GUARD.check_text(log.read_text(errors="replace"), f"the output of relay process {log.name}")


def slow_chat(chunks: int = 24, delay_ms: float = 80) -> dict[str, Any]:
    return chat_body(inline_prompt(text=TEXT, chunks=chunks, delay_ms=delay_ms), stream=True)


def open_and_leave(url: str, events: int, body: dict[str, Any] | None = None) -> tuple[str, str]:
    """Open a resumable stream on ``url``, read ``events`` events, drop the connection: the id and what was read."""
    with (
        httpx.Client(timeout=30, headers={**auth(), **RESUMABLE}) as client,
        client.stream("POST", f"{url}{CHAT_URL}", json=body or slow_chat()) as response,
    ):
        assert response.status_code == 200
        text, _ = read_events(response, events)
        return response.headers["x-relay-stream-id"], text


def test_a_stream_started_on_a_resumes_on_b_while_generation_continues(pair: Pair, azure: Any) -> None:
    stream_id, before = open_and_leave(pair.a, 5)
    resumed = httpx.get(f"{pair.b}/api/v1/streams/{stream_id}", headers={**auth(), "Last-Event-ID": "5"}, timeout=30)
    assert resumed.status_code == 200 and resumed.headers["x-relay-stream-id"] == stream_id
    events = events_of(before) + events_of(resumed.text)
    assert [event.id for event in events] == list(range(1, len(events) + 1))
    assert chat_text(events) == TEXT
    assert events[-1].data == "[DONE]"
    assert not azure.recorder.records[0].wait_finished().client_disconnected
    assert len(azure.recorder.records) == 1  # one upstream request, whoever read it


def test_a_resume_on_b_after_completion_replays_a_byte_for_byte(pair: Pair) -> None:
    original = httpx.post(f"{pair.a}{CHAT_URL}", json=slow_chat(delay_ms=0), headers={**auth(), **RESUMABLE})
    stream_id = original.headers["x-relay-stream-id"]
    replay = httpx.get(f"{pair.b}/api/v1/streams/{stream_id}", params={"after": "0"}, headers=auth())
    assert replay.text == original.text
    assert chat_text(events_of(replay.text)) == TEXT


def test_another_identity_gets_404_on_either_instance(pair: Pair) -> None:
    stream_id, _ = open_and_leave(pair.a, 2)
    for url in (pair.a, pair.b):
        for method in ("GET", "DELETE"):
            response = httpx.request(method, f"{url}/api/v1/streams/{stream_id}", headers=auth(OTHER_KEY))
            assert response.status_code == 404, (url, method, response.text)
    assert httpx.get(f"{pair.b}/api/v1/streams/{stream_id}", headers=auth(), timeout=30).status_code == 200


def test_a_cancel_on_b_stops_generation_on_a(pair: Pair, azure: Any) -> None:
    stream_id, _ = open_and_leave(pair.a, 3, slow_chat(chunks=300, delay_ms=50))
    assert httpx.delete(f"{pair.b}/api/v1/streams/{stream_id}", headers=auth()).status_code == 204
    assert wait_for(lambda: azure.recorder.records[0].client_disconnected, seconds=5)
    events = events_of(httpx.get(f"{pair.b}/api/v1/streams/{stream_id}", headers=auth(), timeout=30).text)
    assert [event.id for event in events] == list(range(1, len(events) + 1))
    assert events[-1].json()["error"]["code"] == "stream_cancelled"
    assert sum("error" in event.json() for event in events) == 1
    assert len(events) < 300


def test_a_killed_generator_ends_the_resumed_stream_with_stream_lost(pair: Pair) -> None:
    stream_id, before = open_and_leave(pair.a, 3, slow_chat(chunks=300, delay_ms=50))
    pair.processes[0].send_signal(signal.SIGKILL)
    pair.processes[0].wait()
    started = time.monotonic()
    resumed = httpx.get(f"{pair.b}/api/v1/streams/{stream_id}", headers={**auth(), "Last-Event-ID": "3"}, timeout=30)
    waited = time.monotonic() - started
    events = events_of(before) + events_of(resumed.text)
    assert [event.id for event in events] == list(range(1, len(events) + 1))
    assert events[-1].json()["error"]["code"] == "stream_lost"
    assert TEXT.startswith(chat_text(events))
    print(f"stream_lost reached the resuming client {waited:.2f} s after the generator was killed")


def test_a_plain_stream_still_cancels_the_upstream_when_its_client_leaves(pair: Pair, azure: Any) -> None:
    with (
        httpx.Client(timeout=30, headers=auth()) as client,
        client.stream("POST", f"{pair.a}{CHAT_URL}", json=slow_chat(chunks=300, delay_ms=50)) as response,
    ):
        assert "x-relay-stream-id" not in response.headers
        read_events(response, 3)
    left = time.monotonic()
    record = azure.recorder.records[0]
    assert wait_for(lambda: record.client_disconnected, seconds=5)
    assert record.disconnected_at is not None and record.disconnected_at - left < 1.0
