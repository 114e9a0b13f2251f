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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Server:
    """A running server process: where it listens and which process it is."""

    url: str
    pid: int


@contextmanager
def server_process(module: str, args: list[str], env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run ``python -m module --port N args`` and yield its base URL."""
    with started_server(module, args, env) as server:
        yield server.url


@contextmanager
def started_server(module: str, args: list[str], env: Mapping[str, str] | None = None) -> Iterator[Server]:
    """Run ``python -m module --port N args`` and yield its URL and process id."""
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
        yield Server(f"http://127.0.0.1:{port}", process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def relay_process(config: dict[str, Any], env: Mapping[str, str] | None = None) -> Iterator[str]:
    """The relay, hosted like ``make serve``, with ``config`` as RELAY_CONFIG."""
    with relay_server(config, env) as server:
        yield server.url


@contextmanager
def relay_server(config: dict[str, Any], env: Mapping[str, str] | None = None) -> Iterator[Server]:
    """Like :func:`relay_process`, also giving the process id for resource figures."""
    values = {"RELAY_CONFIG": json.dumps(config), **(env or {})}
    with started_server("devtools.local_host", [], values) as server:
        yield server
