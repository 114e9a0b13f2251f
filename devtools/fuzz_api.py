"""``make fuzz``, second half: Schemathesis against a running dev relay, held to its own OpenAPI document.

A fresh ``devtools.dev`` process (every provider emulator plus the relay, all
on free loopback ports) serves ``/api/openapi.json``; Schemathesis reads it
and sends positive and negative requests to every operation with the dev
relay key. Three checks decide: no 5xx, every status documented, every body
matching its documented schema. The run is bounded by a count per operation
and a time budget; its JUnit report lands in ``test-artifacts/``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from .local_host import APP_ROOT
from .ports import EMULATOR_PORTS
from .processes import free_port, stop_processes, wait_for_port

CHECKS = ("not_a_server_error", "status_code_conformance", "response_schema_conformance")
DEV_RELAY_KEY = "dev-relay-key"  # devtools/config/relay.dev.json's key; a placeholder, never a real secret
REPORT_DIR = APP_ROOT / "test-artifacts" / "schemathesis"


def start_dev_relay() -> tuple[subprocess.Popen[bytes], int]:
    """``devtools.dev`` with the relay and every emulator on free ports; returns the process and relay port."""
    port = free_port()
    flags = [f"--{name.replace('_', '-')}-port={free_port()}" for name in EMULATOR_PORTS]
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.dev", "--port", str(port), *flags],
        cwd=APP_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process)
    return process, port


def schemathesis_command(port: int, max_examples: int, max_time: int, extra: list[str]) -> list[str]:
    """The ``schemathesis run`` command line for a relay on ``port``, loopback only."""
    executable = Path(sys.executable).with_name("schemathesis")
    command = [
        str(executable),
        "run",
        f"http://127.0.0.1:{port}/api/openapi.json",
        f"--checks={','.join(CHECKS)}",
        "--mode=all",
        f"--max-examples={max_examples}",
        f"--max-time={max_time}",
        "--request-timeout=30",
        "--workers=2",
        f"--header=Authorization: Bearer {DEV_RELAY_KEY}",
        "--continue-on-failure",
        "--report=junit",
        f"--report-dir={REPORT_DIR}",
    ]
    return [*command, *extra]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=200, help="test cases per operation and mode")
    parser.add_argument("--max-time", type=int, default=600, help="seconds; fuzzing repeats until they are spent")
    parser.add_argument("extra", nargs="*", help="after --: more schemathesis run options, e.g. --seed=1")
    args = parser.parse_args(argv)
    process, port = start_dev_relay()
    try:
        command = schemathesis_command(port, args.max_examples, args.max_time, args.extra)
        # Schemathesis keeps its cache of failures in the working directory: an ignored one.
        REPORT_DIR.mkdir(parents=True, exist_ok=True)
        return subprocess.run(command, cwd=REPORT_DIR.parent, check=False).returncode
    finally:
        stop_processes([process], grace=15)


if __name__ == "__main__":
    sys.exit(main())
