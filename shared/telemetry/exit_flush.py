"""Flushing telemetry when the process ends, whichever way it is asked to end.

A normal exit runs :mod:`atexit` handlers; a SIGTERM does not. Python's
default SIGTERM action ends the process at once, and uvicorn (the local
host, and the server the Functions worker streams through) re-raises the
SIGTERM it caught once its graceful shutdown is done, so the records of the
last requests, still in the batch processor's queue, would be lost. So a
SIGTERM flushes too, within the same bound, and then goes on to whatever
handled the signal before: usually the default action, ending the process.
"""

from __future__ import annotations

import atexit
import logging
import signal
from collections.abc import Callable
from types import FrameType

logger = logging.getLogger(__name__)


def flush_at_exit(flush: Callable[[], None]) -> None:
    """Run ``flush`` (idempotent, bounded) at interpreter exit and on SIGTERM."""
    atexit.register(flush)
    try:
        previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, _flushing(flush, previous))
    except ValueError:
        # Signal handlers can only be set from the main thread; atexit still covers a normal exit.
        logger.info("telemetry: SIGTERM flush not installed outside the main thread; flushing at exit only")


def _flushing(flush: Callable[[], None], previous: object) -> Callable[[int, FrameType | None], None]:
    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        flush()
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    return on_sigterm
