"""The child-process helpers that benchmarks and tests start their servers with."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from devtools.processes import accepts_connections, free_port, stop_processes, wait_for_port


def python(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code])


def test_a_free_port_can_be_bound_and_then_accepts() -> None:
    port = free_port()
    assert not accepts_connections(port)
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        assert accepts_connections(port)


def test_wait_for_port_returns_once_the_process_listens() -> None:
    port = free_port()
    listener = python(
        f"import socket, time\ns = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(60)"
    )
    try:
        wait_for_port(port, listener, timeout=20)
        assert listener.poll() is None
    finally:
        stop_processes([listener])


def test_a_process_that_dies_first_is_reported_with_its_reason() -> None:
    dying = python("raise SystemExit(3)")
    with pytest.raises(RuntimeError, match=r"exited with 3 before listening on \d+: the config is bad"):
        wait_for_port(free_port(), dying, timeout=20, why=lambda: ": the config is bad")


def test_stop_kills_what_ignores_terminate_and_waits_for_all() -> None:
    ignore_terminate = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)"
    stubborn = subprocess.Popen([sys.executable, "-c", ignore_terminate + "\ntime.sleep(60)"], stdout=subprocess.PIPE)
    polite = python("import time\ntime.sleep(60)")
    assert stubborn.stdout is not None
    assert stubborn.stdout.readline() == b"ready\n"  # its handler is in place
    stop_processes([stubborn, polite], grace=1)
    stubborn.stdout.close()
    assert polite.returncode == -15  # SIGTERM
    assert stubborn.returncode == -9  # SIGKILL after the grace period
