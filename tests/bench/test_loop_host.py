"""The benchmark relay runs on the event loop asked for, so each figure is labelled with the loop it measured.

Checked from outside the process: uvloop's compiled module is mapped into
the relay's memory only if something imported it, and only uvicorn's
``uvloop`` loop choice does.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bench import azure_concurrency
from bench.processes import BENCH_AUTH_HEADERS, relay_server, started_server

pytestmark = pytest.mark.timeout(90)


def maps_uvloop(pid: int) -> bool:
    """Whether uvloop's extension module is loaded in process ``pid``."""
    return any("/uvloop/loop." in line for line in Path(f"/proc/{pid}/maps").read_text().splitlines())


@pytest.mark.parametrize(("loop", "uvloop_loaded"), [("asyncio", False), ("uvloop", True)])
def test_the_relay_runs_on_the_loop_asked_for(loop: str, uvloop_loaded: bool) -> None:
    with started_server("devtools.emulators.azure_openai", []) as emulator:
        config = azure_concurrency.relay_config(emulator.url)
        with relay_server(config, azure_concurrency.KEY, loop) as relay:
            models = httpx.get(f"{relay.url}/api/v1/models", headers=BENCH_AUTH_HEADERS, timeout=10)
            loaded = maps_uvloop(relay.pid)
    assert models.status_code == 200
    assert loaded is uvloop_loaded


def test_the_default_is_the_loop_production_runs() -> None:
    with started_server("devtools.emulators.azure_openai", []) as emulator:
        config = azure_concurrency.relay_config(emulator.url)
        with relay_server(config, azure_concurrency.KEY) as relay:
            assert not maps_uvloop(relay.pid)
