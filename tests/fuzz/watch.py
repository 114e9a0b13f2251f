"""Log records that mean something went wrong inside the relay: a traceback or an ERROR.

One handler on the root logger sees every logger and thread of the process.
The fuzz loop sends one request at a time and takes the records after each
response, so a record is blamed on the request it arrived during (a record
logged after the response's last byte lands on the next request).
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
PROJECT_LOGGERS = {"shared", "relay", "devtools"}


class TracebackWatch(logging.Handler):
    """Collects records with ``exc_info`` or at ERROR and above."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self._records: list[logging.LogRecord] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if alarming(record):
            with self._guard:
                self._records.append(record)

    def take(self) -> list[str]:
        """Each record since the last call, as ``logger: message at file:line (Exception)``."""
        with self._guard:
            records, self._records = self._records, []
        return [describe(record) for record in records]


def alarming(record: logging.LogRecord) -> bool:
    """An ERROR, or a traceback: at any level from the project's loggers, at INFO and up from libraries.

    botocore logs a DEBUG traceback for every Bedrock request, by design: the
    relay signs with botocore and takes the signed request back out with an
    exception (``shared/providers/bedrock/transport.py``). Library DEBUG
    records never reach a deployed relay's logs.
    """
    if record.levelno >= logging.ERROR:
        return True
    ours = record.name.split(".", 1)[0] in PROJECT_LOGGERS or record.name.startswith("function_app")
    return bool(record.exc_info) and (ours or record.levelno >= logging.INFO)


def describe(record: logging.LogRecord) -> str:
    """Where a record's exception was raised, the project's innermost frame, for grouping failures."""
    summary = f"{record.name} {record.levelname}: {record.getMessage()[:100]}"
    if not record.exc_info or record.exc_info[1] is None:
        return summary
    error = record.exc_info[1]
    return f"{summary} [{type(error).__name__}{_place(error)}]"


def _place(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if _is_ours(frame.filename)]
    place = ours[-1] if ours else (frames[-1] if frames else None)
    if place is None:
        return ""
    name = str(Path(place.filename).relative_to(PROJECT)) if _is_ours(place.filename) else place.filename
    return f" at {name}:{place.lineno}"


def _is_ours(filename: str) -> bool:
    return filename.startswith(str(PROJECT)) and "/.venv/" not in filename


@contextmanager
def watching() -> Iterator[TracebackWatch]:
    """A watch on the root logger for the duration of a block."""
    watch = TracebackWatch()
    root = logging.getLogger()
    root.addHandler(watch)
    try:
        yield watch
    finally:
        root.removeHandler(watch)
