"""The last requests' telemetry leaves when the process is told to stop, not only on a clean exit.

The batch span processor holds spans for seconds; a SIGTERM would end the
process without running ``atexit`` (uvicorn re-raises the signal after its
graceful shutdown), losing them. Here the export interval is ten minutes, so
anything the receiver gets was flushed at shutdown.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.local_host import APP_ROOT
from devtools.processes import free_port, stop_processes, wait_for_port
from shared.telemetry import exit_flush
from tests.builders import AUTH_HEADERS, AZURE_TEST_KEY, TEST_AUTH
from tests.relay_configs import chat_config
from tests.secret_guard import GUARD
from tests.shared.telemetry.conftest import OtlpReceiver

HELD_FOR_TEN_MINUTES = {"OTEL_BSP_SCHEDULE_DELAY": "600000", "OTEL_METRIC_EXPORT_INTERVAL": "600000"}


@pytest.fixture
def exporting_host(
    azure: AzureOpenAIEmulator, otlp_receiver: OtlpReceiver, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``python -m devtools.local_host`` (as ``make serve``) exporting to the receiver over OTLP/HTTP."""
    port = free_port()
    environ = {
        **os.environ,
        **HELD_FOR_TEN_MINUTES,
        "RELAY_CONFIG": json.dumps(chat_config(azure.url, auth=TEST_AUTH)),
        "AZURE_TEST_KEY": AZURE_TEST_KEY,
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.url,
    }
    log = tmp_path / "relay.log"
    with log.open("wb") as sink:
        command = [sys.executable, "-m", "devtools.local_host", "--port", str(port)]
        process = subprocess.Popen(command, cwd=APP_ROOT, env=environ, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process)
        yield process, f"http://127.0.0.1:{port}"
    finally:
        stop_processes([process])
        GUARD.check_text(log.read_text(errors="replace"), "the output of the exporting relay")


def test_a_sigterm_flushes_the_spans_and_metrics_still_held(
    exporting_host: tuple[subprocess.Popen[bytes], str], otlp_receiver: OtlpReceiver
) -> None:
    process, url = exporting_host
    body = {"model": "azure", "messages": [{"role": "user", "content": "hi"}]}
    for _ in range(3):
        httpx.post(f"{url}/api/v1/chat/completions", json=body, headers=AUTH_HEADERS, timeout=30).raise_for_status()
    assert otlp_receiver.spans() == [], "the export interval should have held every span until shutdown"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == -signal.SIGTERM, "the process should still end as SIGTERM ends it"
    kinds = sorted(span.kind for span in otlp_receiver.spans())
    assert len(kinds) == 6, "each request's SERVER span and its attempt's CLIENT span"
    assert {"gen_ai.client.operation.duration", "gen_ai.client.token.usage"} <= otlp_receiver.metric_names()


def test_the_sigterm_flush_hands_the_signal_on_to_the_handler_before_it() -> None:
    calls: list[str] = []
    original = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(f"previous {signum}"))
        exit_flush.flush_at_exit(lambda: calls.append("flush"))
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler)
        handler(signal.SIGTERM, None)
    finally:
        signal.signal(signal.SIGTERM, original)
    assert calls == ["flush", f"previous {signal.SIGTERM}"]


def test_an_ignored_sigterm_stays_ignored_after_the_flush() -> None:
    calls: list[str] = []
    original = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        exit_flush.flush_at_exit(lambda: calls.append("flush"))
        signal.raise_signal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, original)
    assert calls == ["flush"]
