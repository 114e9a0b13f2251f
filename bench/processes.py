"""Servers for benchmarks, each in its own OS process so they do not share a GIL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

APP_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Block until the port accepts connections, or fail if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {timeout} s")


@contextmanager
def server_process(module: str, args: list[str], env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run ``python -m module --port N args`` and yield its base URL."""
    port = free_port()
    environ = {**os.environ, **(env or {}), "PYTHONPATH": str(APP_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", str(port), *args],
        cwd=APP_ROOT,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def relay_process(config: dict[str, Any], env: Mapping[str, str] | None = None) -> Iterator[str]:
    """The relay, hosted like ``make serve``, with ``config`` as RELAY_CONFIG."""
    values = {"RELAY_CONFIG": json.dumps(config), **(env or {})}
    with server_process("devtools.local_host", [], values) as url:
        yield url
