"""A suite-wide guard: no secret the tests configure may appear in a response or a log record.

Fixtures register every secret value they hand to a relay (upstream keys,
relay keys, signing secrets, storage keys) with :func:`register_secret`. For
the whole session the guard then scans

* every response a hosted relay sends, headers and body, frame by frame
  (:class:`ScanResponses`, the ASGI middleware ``host_relay`` wraps apps in);
* every HTTP response read through ``httpx`` or ``httpx2`` in this process:
  the test clients use the first, the ``openai`` SDK (the test clients' and
  the relay's own) the second;
* every log record of every logger, at every level, from every thread;
* the telemetry the tests export: spans and metrics read from the SDK's
  in-memory exporters, and every OTLP request the test receiver decodes,
  through :func:`scan_telemetry`.

A leak fails the test it happened in (or the session, if no test was
running), naming the secret's label and where it appeared, never its value.
Text from elsewhere, such as a subprocess's output, goes through
:meth:`SecretGuard.check_text`.

The conftest imports this plugin before naming it in ``pytest_plugins``, and
it has no asserts to rewrite: PYTEST_DONT_REWRITE.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from types import ModuleType
from typing import Any

import pytest

MIN_SECRET_LENGTH = 8


class SecretLeak(AssertionError):
    """A registered secret appeared where it must not."""


class SecretGuard:
    """The registry of secret values and the leaks seen so far."""

    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}
        self._leaks: list[str] = []
        # Re-entrant: any allocation under the lock may run the garbage collector, which
        # may finalize an HTTP client's generator, which logs, which calls back into
        # check_text on the same thread. A plain Lock deadlocked the suite that way.
        self._lock = threading.RLock()

    def register(self, value: str, label: str) -> str:
        """Remember ``value`` as a secret; returns it, so fixtures can register inline."""
        if len(value) < MIN_SECRET_LENGTH:
            raise ValueError(f"secret {label!r} is too short to scan for without false alarms")
        with self._lock:
            self._secrets[value] = label
        return value

    @property
    def longest(self) -> int:
        with self._lock:
            return max((len(value.encode()) for value in self._secrets), default=0)

    def check_text(self, text: str, where: str) -> None:
        """Record a leak for every registered secret found in ``text``."""
        with self._lock:
            found = [label for value, label in self._secrets.items() if value in text]
            self._leaks += [f"secret {label!r} appeared in {where}" for label in found]

    def check_bytes(self, data: bytes, where: str) -> None:
        self.check_text(data.decode("utf-8", errors="replace"), where)

    def take_leaks(self) -> list[str]:
        with self._lock:
            leaks, self._leaks = self._leaks, []
        return leaks

    def raise_if_leaked(self) -> None:
        """Raise :class:`SecretLeak` describing every leak since the last check."""
        leaks = self.take_leaks()
        if leaks:
            raise SecretLeak("; ".join(sorted(set(leaks))))


GUARD = SecretGuard()
register_secret = GUARD.register


def scan_telemetry(items: Iterable[Any], where: str) -> None:
    """Scan exported telemetry: SDK spans and metrics data (their ``to_json``) or decoded OTLP messages (their text)."""
    for item in items:
        to_json = getattr(item, "to_json", None)
        GUARD.check_text(to_json() if callable(to_json) else str(item), where)


class _Window:
    """Scans a byte stream chunk by chunk, keeping enough overlap to catch a secret cut in two."""

    def __init__(self, where: str) -> None:
        self.where = where
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        data = self._tail + chunk
        GUARD.check_bytes(data, self.where)
        keep = max(GUARD.longest - 1, 0)
        self._tail = data[-keep:] if keep else b""


class ScanResponses:
    """ASGI middleware: scans the status line's headers and every body chunk an app sends."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        window = _Window(f"a relay response to {scope['method']} {scope['path']}")

        async def scanning_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", []):
                    GUARD.check_bytes(name + b": " + value, f"{window.where} (headers)")
            elif message["type"] == "http.response.body":
                window.feed(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, scanning_send)


def _scanned_stream_types(http: ModuleType) -> tuple[type, type]:
    """Stream wrappers deriving from ``http``'s own base classes, which its responses check for."""

    class ScannedSyncStream(http.SyncByteStream):  # type: ignore[misc, name-defined]
        def __init__(self, stream: Any, where: str) -> None:
            self._stream = stream
            self._window = _Window(where)

        def __iter__(self) -> Iterator[bytes]:
            for chunk in self._stream:
                self._window.feed(chunk)
                yield chunk

        def close(self) -> None:
            self._stream.close()

    class ScannedAsyncStream(http.AsyncByteStream):  # type: ignore[misc, name-defined]
        def __init__(self, stream: Any, where: str) -> None:
            self._stream = stream
            self._window = _Window(where)

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in self._stream:
                self._window.feed(chunk)
                yield chunk

        async def aclose(self) -> None:
            await self._stream.aclose()

    return ScannedSyncStream, ScannedAsyncStream


def _where(request: Any) -> str:
    return f"an HTTP response from {request.method} {request.url.copy_with(query=None)}"


def _scan_headers(response: Any, where: str) -> None:
    for name, value in response.headers.multi_items():
        GUARD.check_text(f"{name}: {value}", f"{where} (headers)")


def _patch_transports(http: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrap one HTTP library's transports so every response body is scanned as it is read."""
    sync_stream, async_stream = _scanned_stream_types(http)
    sync_handle = http.HTTPTransport.handle_request
    async_handle = http.AsyncHTTPTransport.handle_async_request

    def handle_request(self: Any, request: Any) -> Any:
        response = sync_handle(self, request)
        _scan_headers(response, _where(request))
        response.stream = sync_stream(response.stream, _where(request))
        return response

    async def handle_async_request(self: Any, request: Any) -> Any:
        response = await async_handle(self, request)
        _scan_headers(response, _where(request))
        response.stream = async_stream(response.stream, _where(request))
        return response

    monkeypatch.setattr(http.HTTPTransport, "handle_request", handle_request)
    monkeypatch.setattr(http.AsyncHTTPTransport, "handle_async_request", handle_async_request)


def _patch_http_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("httpx", "httpx2"):
        try:
            _patch_transports(importlib.import_module(name), monkeypatch)
        except ImportError:
            continue


class _LogScanner(logging.Handler):
    """A root handler at level DEBUG: sees every record of every logger and thread."""

    _formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        where = f"a log record of {record.name!r} at {record.levelname}"
        parts = [record.getMessage()]
        if record.exc_info:
            parts.append(self._formatter.formatException(record.exc_info))
        if record.stack_info:
            parts.append(record.stack_info)
        GUARD.check_text("\n".join(parts), where)


_session_patch = pytest.MonkeyPatch()
_scanner = _LogScanner(level=logging.DEBUG)


def pytest_configure(config: pytest.Config) -> None:
    root = logging.getLogger()
    root.addHandler(_scanner)
    root.setLevel(logging.DEBUG)
    _patch_http_clients(_session_patch)


def pytest_unconfigure(config: pytest.Config) -> None:
    logging.getLogger().removeHandler(_scanner)
    _session_patch.undo()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """A leak during the test body fails the test."""
    result = yield
    GUARD.raise_if_leaked()
    return result


@pytest.fixture(autouse=True)
def _no_leaks_in_fixtures() -> Iterator[None]:
    """A leak while fixtures are set up or torn down fails the test too."""
    GUARD.raise_if_leaked()
    yield
    GUARD.raise_if_leaked()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Leaks seen outside any test (session fixtures, late server threads) fail the run."""
    leaks = GUARD.take_leaks()
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("SECRET LEAK outside a test: " + "; ".join(sorted(set(leaks))), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
