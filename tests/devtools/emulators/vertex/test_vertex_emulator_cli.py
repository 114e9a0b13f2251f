"""``python -m devtools.emulators.vertex``: the emulator as a process, with a key file it trusts.

Started as a real subprocess, so the command line, the key file it writes and
the server it runs are checked together the way a developer would use them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from google.oauth2 import service_account

from devtools.processes import free_port, stop_processes
from tests.devtools.emulators.vertex.vertex_emulator_calls import SCOPES, chat, openai_client, refreshed

REPO_ROOT = Path(__file__).resolve().parents[4]

pytestmark = pytest.mark.timeout(30)


def start_cli(tmp_path: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    """The emulator CLI on a free port, once it is up and is the process answering there.

    Another server may take the port between choosing and binding it; then the
    CLI exits, and it is started again on another port.
    """
    for attempt in range(5):
        port, key_file = free_port(), tmp_path / f"sa-{attempt}.json"
        command = [sys.executable, "-m", "devtools.emulators.vertex", "--port", str(port), "--log-level", "warning"]
        command += ["--write-service-account", str(key_file), "--scenario", json.dumps({"text": "from the CLI"})]
        process = subprocess.Popen(command, cwd=REPO_ROOT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if key_file.exists() and httpx.get(f"{url}/_emulator/requests", timeout=1).status_code == 200:
                    return process, url, key_file
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        stop_processes([process])
    raise AssertionError("the emulator CLI never came up")


def test_cli_serves_and_writes_a_trusted_service_account(tmp_path: Path) -> None:
    process, url, key_file = start_cli(tmp_path)
    try:
        info = json.loads(key_file.read_text())
        assert info["token_uri"] == f"{url}/token"
        creds = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
        completion = chat(openai_client(url, refreshed(creds)), "hello")
        assert completion.choices[0].message.content == "from the CLI"
        assert httpx.get(f"{url}/_emulator/requests").json()["token_requests"] == 1
    finally:
        stop_processes([process])
