"""Azurite, the Azure Storage emulator, for the Table-backed quota store.

``make azurite`` installs it from ``devtools/azurite/package.json`` with
``npm ci``; this session fixture starts ``azurite-table`` on a free loopback
port with a throwaway workspace, waits until it answers, and stops it at the
end of the session.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devtools.local_host import APP_ROOT
from devtools.processes import free_port, stop_processes
from tests.secret_guard import register_secret

AZURITE_BIN = APP_ROOT / "devtools" / "azurite" / "node_modules" / ".bin" / "azurite-table"
ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key; public, but the relay must still never echo it.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclass(frozen=True)
class Azurite:
    """A running Azurite table service."""

    port: int
    connection_string: str


def _wait_until_listening(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"azurite-table exited with status {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("azurite-table did not start within 30 seconds")


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """Azurite's table service for the whole session, on a free port with a temporary workspace."""
    if not AZURITE_BIN.exists():
        pytest.fail(f"{AZURITE_BIN} is missing: run 'make azurite' (npm ci in devtools/azurite)")
    workspace = Path(tempfile.mkdtemp(prefix="azurite-"))
    port = free_port()
    command = [str(AZURITE_BIN), "--tableHost", "127.0.0.1", "--tablePort", str(port), "--location", str(workspace)]
    command += ["--silent", "--skipApiVersionCheck", "--disableTelemetry"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_until_listening(process, f"http://127.0.0.1:{port}/{ACCOUNT}")
        register_secret(ACCOUNT_KEY, "Azurite account key")
        connection = (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"TableEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
        )
        yield Azurite(port, connection)
    finally:
        stop_processes([process])
        if process.stderr is not None:
            process.stderr.close()
        shutil.rmtree(workspace, ignore_errors=True)
