"""``python -m devtools.emulators.bedrock``: the emulator as a process, answering boto3 on the given port.

Started as a real subprocess, so the command line and the server it runs are
checked together the way a developer would use them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.devtools.emulators.bedrock.bedrock_emulator_calls import MODEL, make_client, read_all, text_of, user
from tests.polling import wait_for

ROOT = Path(__file__).resolve().parents[4]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_cli_serves_the_default_scenario() -> None:
    port = _free_port()
    command = [sys.executable, "-m", "devtools.emulators.bedrock", "--port", str(port), "--scenario", '{"text": "cli"}']
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: _accepts(port) or process.poll() is not None, seconds=20)
        assert process.poll() is None, f"the CLI exited with {process.returncode}"
        cli_client = make_client(f"http://127.0.0.1:{port}")
        assert text_of(read_all(cli_client.converse_stream(modelId=MODEL, messages=user("hi")))) == "cli"
        cli_client.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
