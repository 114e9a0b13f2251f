"""Waiting for another thread or process to catch up with what a test has seen.

Emulators and relays run on their own threads or in their own processes, so
a test that has read a response's last byte may still be ahead of the server
that sent it. Tests poll for the state they expect, with a deadline, instead
of sleeping a fixed time.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], seconds: float = 5.0) -> bool:
    """True as soon as ``condition()`` is truthy; False if it is still falsy after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())
