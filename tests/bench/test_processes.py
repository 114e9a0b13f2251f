"""The benchmark harness's server processes: they must start the relay as it is configured today.

``make bench`` is not part of ``make test``, so without these a change to the
relay's start-up rules (such as refusing to start without client auth) would
break every benchmark unnoticed.
"""

from __future__ import annotations

import httpx
import pytest

from bench.processes import BENCH_AUTH_HEADERS, relay_server, started_server
from bench.stream_load import relay_target

pytestmark = pytest.mark.timeout(90)


def test_the_relay_starts_and_accepts_only_the_benchmark_key() -> None:
    with started_server("devtools.emulators.azure_openai", []) as emulator:
        backend = {
            "name": "bench-azure",
            "provider": "azure_openai",
            "endpoint": emulator.url,
            "deployment": "bench",
            "api_key_setting": "BENCH_AZURE_KEY",
        }
        config = {"backends": [backend], "models": {"azure": ["bench-azure"]}}
        with relay_server(config, {"BENCH_AZURE_KEY": "bench-key"}) as relay:
            models = httpx.get(f"{relay.url}/api/v1/models", headers=BENCH_AUTH_HEADERS, timeout=10)
            anonymous = httpx.get(f"{relay.url}/api/v1/models", timeout=10)
    assert [model["id"] for model in models.json()["data"]] == ["azure"]
    assert anonymous.status_code == 401


def test_the_load_generator_sends_the_benchmark_key() -> None:
    target = relay_target("http://relay.test:8080", "azure", chunks=3, delay_ms=0)
    assert f"Authorization: {BENCH_AUTH_HEADERS['Authorization']}".encode() in target.request


def test_a_server_that_cannot_start_reports_why() -> None:
    cause = r"exited with 1 before listening(.|\n)*invalid relay configuration:\n  backends: "
    with pytest.raises(RuntimeError, match=cause), relay_server({"backends": [], "models": {}}):
        pass
