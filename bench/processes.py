"""Servers for benchmarks, each in its own OS process so they do not share a GIL."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

APP_ROOT = Path(__file__).resolve().parent.parent

# The relay refuses to start without client authentication, and checking a key
# is part of every request's cost, so benchmarks authenticate like a real client.
BENCH_CLIENT_KEY = "bench-client-key-2f7c1d"
BENCH_AUTH_HEADERS = {"Authorization": f"Bearer {BENCH_CLIENT_KEY}"}
BENCH_AUTH = {
    "relay_keys": [{"name": "bench", "sha256": hashlib.sha256(BENCH_CLIENT_KEY.encode()).hexdigest(), "models": ["*"]}]
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], timeout: float = 30, why: Callable[[], str] = lambda: ""
) -> None:
    """Block until the port accepts connections, or fail if the process died.

    ``why`` supplies what the process said, so a start-up failure is reported
    with its cause rather than only an exit code.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening on {port}{why()}")
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
    # stderr goes to a file, not a pipe: an unread pipe would block a chatty server mid-benchmark.
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--port", str(port), *args],
            cwd=APP_ROOT,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            wait_for_port(port, process, why=lambda: _tail(stderr))
            yield Server(f"http://127.0.0.1:{port}", process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _tail(stream: Any, limit: int = 4000) -> str:
    """The last ``limit`` bytes a process wrote to ``stream``, as a message suffix."""
    stream.seek(0)
    text = stream.read().decode(errors="replace")[-limit:].strip()
    return f":\n{text}" if text else ""


@contextmanager
def relay_process(config: dict[str, Any], env: Mapping[str, str] | None = None) -> Iterator[str]:
    """The relay, hosted like ``make serve``, with ``config`` as RELAY_CONFIG."""
    with relay_server(config, env) as server:
        yield server.url


@contextmanager
def relay_server(config: dict[str, Any], env: Mapping[str, str] | None = None) -> Iterator[Server]:
    """Like :func:`relay_process`, also giving the process id for resource figures.

    A config without ``auth`` accepts the benchmark key, ``BENCH_AUTH_HEADERS``.
    """
    values = {"RELAY_CONFIG": json.dumps({"auth": BENCH_AUTH, **config}), **(env or {})}
    with started_server("devtools.local_host", [], values) as server:
        yield server
