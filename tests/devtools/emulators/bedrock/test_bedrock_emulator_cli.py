"""``python -m devtools.emulators.bedrock``: the emulator as a process, answering boto3 on the given port.

Started as a real subprocess, so the command line and the server it runs are
checked together the way a developer would use them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devtools.processes import accepts_connections, free_port, stop_processes
from tests.devtools.emulators.bedrock.bedrock_emulator_calls import MODEL, make_client, read_all, text_of, user
from tests.polling import wait_for

ROOT = Path(__file__).resolve().parents[4]


def test_cli_serves_the_default_scenario() -> None:
    port = free_port()
    command = [sys.executable, "-m", "devtools.emulators.bedrock", "--port", str(port), "--scenario", '{"text": "cli"}']
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: accepts_connections(port) or process.poll() is not None, seconds=20)
        assert process.poll() is None, f"the CLI exited with {process.returncode}"
        cli_client = make_client(f"http://127.0.0.1:{port}")
        assert text_of(read_all(cli_client.converse_stream(modelId=MODEL, messages=user("hi")))) == "cli"
        cli_client.close()
    finally:
        stop_processes([process])
