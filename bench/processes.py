"""Servers for benchmarks, each in its own OS process so they do not share a GIL."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.processes import free_port, stop_processes, wait_for_port

from .loop_host import LOOPS

APP_ROOT = Path(__file__).resolve().parent.parent

# The relay refuses to start without client authentication, and checking a key
# is part of every request's cost, so benchmarks authenticate like a real client.
BENCH_CLIENT_KEY = "bench-client-key-2f7c1d"
BENCH_AUTH_HEADERS = {"Authorization": f"Bearer {BENCH_CLIENT_KEY}"}
BENCH_AUTH = {
    "relay_keys": [{"name": "bench", "sha256": hashlib.sha256(BENCH_CLIENT_KEY.encode()).hexdigest(), "models": ["*"]}]
}


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
def started_server(
    module: str, args: list[str], env: Mapping[str, str] | None = None, cpus: str | None = None
) -> Iterator[Server]:
    """Run ``python -m module --port N args`` and yield its URL and process id.

    ``cpus`` (a taskset list such as ``"0"``) pins the process, and every thread it
    starts, to those cores, so a benchmark's servers do not take turns on one core.
    """
    port = free_port()
    pinning = ["taskset", "-c", cpus] if cpus is not None else []
    environ = {**os.environ, **(env or {}), "PYTHONPATH": str(APP_ROOT)}
    # stderr goes to a file, not a pipe: an unread pipe would block a chatty server mid-benchmark.
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [*pinning, sys.executable, "-m", module, "--port", str(port), *args],
            cwd=APP_ROOT,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            wait_for_port(port, process, why=lambda: _tail(stderr))
            yield Server(f"http://127.0.0.1:{port}", process.pid)
        finally:
            stop_processes([process])


def _tail(stream: Any, limit: int = 4000) -> str:
    """The last ``limit`` bytes a process wrote to ``stream``, as a message suffix."""
    stream.seek(0)
    text = stream.read().decode(errors="replace")[-limit:].strip()
    return f":\n{text}" if text else ""


@contextmanager
def relay_process(config: dict[str, Any], env: Mapping[str, str] | None = None, loop: str = LOOPS[0]) -> Iterator[str]:
    """The relay, hosted like ``make serve`` on event ``loop``, with ``config`` as RELAY_CONFIG."""
    with relay_server(config, env, loop) as server:
        yield server.url


@contextmanager
def relay_server(
    config: dict[str, Any], env: Mapping[str, str] | None = None, loop: str = LOOPS[0], cpus: str | None = None
) -> Iterator[Server]:
    """Like :func:`relay_process`, also giving the process id for resource figures.

    A config without ``auth`` accepts the benchmark key, ``BENCH_AUTH_HEADERS``.
    The default ``loop`` is production's under the 3.11 and 3.12 workers.
    """
    values = {"RELAY_CONFIG": json.dumps({"auth": BENCH_AUTH, **config}), **(env or {})}
    with started_server("bench.loop_host", ["--loop", loop], values, cpus) as server:
        yield server
