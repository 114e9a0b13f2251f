"""Reading the request body over a real socket: a client that leaves, a client that crawls."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from tests.builders import AZURE_TEST_KEY, RELAY_TEST_KEY, serve_relay, single_azure_config

ROUTES = ["/api/v1/chat/completions", "/api/chat"]


@pytest.fixture
def slow_relay_url(azure: AzureOpenAIEmulator) -> Iterator[str]:
    """A relay that gives a client half a second to send its body."""
    config = {**single_azure_config(azure), "limits": {"body_read_seconds": 0.5}}
    with serve_relay(config, {"AZURE_TEST_KEY": AZURE_TEST_KEY}) as url:
        yield url


def start_post(url: str, path: str, declared_length: int, first_bytes: bytes) -> socket.socket:
    """A POST whose headers promise ``declared_length`` bytes, of which only ``first_bytes`` are sent."""
    parts = urlsplit(url)
    connection = socket.create_connection((parts.hostname, parts.port), timeout=10)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {RELAY_TEST_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {declared_length}\r\n\r\n"
    )
    connection.sendall(head.encode() + first_bytes)
    return connection


def request_lines(caplog: pytest.LogCaptureFixture, wait: float = 10) -> list[dict[str, object]]:
    """The relay's request log lines, once at least one was written."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "relay.requests"]
        if lines:
            return lines
        time.sleep(0.02)
    raise AssertionError("the relay wrote no request log line")


@pytest.mark.parametrize("path", ROUTES)
def test_a_client_leaving_mid_body_is_logged_as_disconnected(
    relay_url: str, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    start_post(relay_url, path, 1000, b'{"model": "azure", ').close()
    lines = request_lines(caplog)
    assert [line["outcome"] for line in lines] == ["client_disconnected"]
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert errors == [], [r.getMessage() for r in errors]
    assert not any(r.exc_info for r in caplog.records)


def read_response(connection: socket.socket) -> tuple[int, dict[str, object]]:
    """The status and JSON body of the answer, read until the server closes or the body is whole."""
    raw = b""
    while b"\r\n\r\n" not in raw or len(raw.split(b"\r\n\r\n", 1)[1]) < _length(raw):
        chunk = connection.recv(65536)
        if not chunk:
            break
        raw += chunk
    head, body = raw.split(b"\r\n\r\n", 1)
    return int(head.split(b" ", 2)[1]), json.loads(body)


def _length(raw: bytes) -> int:
    for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 1 << 30


@pytest.mark.parametrize("path", ROUTES)
def test_a_body_that_does_not_arrive_in_time_is_408(
    slow_relay_url: str, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    connection = start_post(slow_relay_url, path, 1000, b'{"model": "azure", ')
    with connection:
        status, body = read_response(connection)
    assert status == 408
    error = body["error"]
    assert isinstance(error, dict) and error["code"] == "request_timeout"
    assert "0.5 s" in error["message"]
    assert [line["outcome"] for line in request_lines(caplog)] == ["request_timeout"]
