"""Starting and stopping local server processes: free ports, readiness, clean shutdown.

Benchmarks and tests run emulators, Azurite and relays as child processes so
they do not share a GIL with the code measuring them. These are the pieces
every such caller needs, in one place.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    Another process may take it before the caller binds it; callers that start
    a server on it check that the server is up, and the server then fails loudly.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accepts_connections(port: int) -> bool:
    """Whether something on 127.0.0.1 accepts a TCP connection on ``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


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
        if accepts_connections(port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {timeout} s")


def stop_processes(processes: Iterable[subprocess.Popen[bytes]], grace: float = 10) -> None:
    """Ask every process to exit, then kill those still running after ``grace`` seconds.

    All are signalled before any is waited for, so several servers shut down
    in parallel rather than one after another.
    """
    running = list(processes)
    for process in running:
        if process.poll() is None:
            process.terminate()
    for process in running:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
