"""Client disconnects, heartbeats and timeouts over real HTTP, for every provider.

Each provider case names an emulator fixture and how to point a backend at
it; the tests script the upstream with the shared inline scenario language
and read the emulator's recorder to see when the relay closed the upstream.
A new provider joins every test here by appending one ``ProviderCase``.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from devtools.emulators.recorder import Recorder, RequestRecord
from devtools.emulators.scenario import inline_prompt
from tests.builders import (
    AZURE_TEST_KEY,
    BEDROCK_ENV,
    RELAY_TEST_KEY,
    azure_backend,
    bedrock_backend,
    host_relay,
    vertex_backend,
    vertex_key_file,
)
from tests.polling import wait_for

MODEL = "resilience"
KEEP_ALIVE = b": keep-alive\n\n"
DISCONNECT_DEADLINE_SECONDS = 1.0

pytestmark = pytest.mark.timeout(60)


@dataclass(frozen=True)
class ProviderCase:
    """How to put one provider's emulator behind the relay."""

    id: str
    emulator_fixture: str
    backend: Callable[[str], dict[str, Any]]
    environ: Callable[[str], Mapping[str, str]]


PROVIDER_CASES = [
    ProviderCase(
        id="azure_openai",
        emulator_fixture="azure",
        backend=lambda url: azure_backend("stream-backend", url),
        environ=lambda url: {"AZURE_TEST_KEY": AZURE_TEST_KEY},
    ),
    ProviderCase(
        id="bedrock",
        emulator_fixture="bedrock",
        backend=lambda url: bedrock_backend("stream-backend", url),
        environ=lambda url: BEDROCK_ENV,
    ),
    ProviderCase(
        id="vertex_openai",
        emulator_fixture="vertex",
        backend=lambda url: vertex_backend("stream-backend", url, "openai"),
        environ=vertex_key_file,
    ),
    ProviderCase(
        id="vertex_native",
        emulator_fixture="vertex",
        backend=lambda url: vertex_backend("stream-backend", url, "native"),
        environ=vertex_key_file,
    ),
]


@dataclass
class Upstream:
    """A relay in front of one provider emulator, and that emulator's request log."""

    url: str
    recorder: Recorder

    def last_record(self) -> RequestRecord:
        return self.recorder.records[-1]


@pytest.fixture(params=PROVIDER_CASES, ids=lambda case: case.id)
def provider(request: pytest.FixtureRequest) -> ProviderCase:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def relay_for(request: pytest.FixtureRequest, provider: ProviderCase) -> Iterator[Callable[..., Upstream]]:
    """Host a relay in front of the provider's emulator with the given ``stream`` settings."""
    emulator = request.getfixturevalue(provider.emulator_fixture)
    servers = []

    def start(**stream: float) -> Upstream:
        config = {"backends": [provider.backend(emulator.url)], "models": {MODEL: ["stream-backend"]}}
        servers.append(host_relay({**config, "stream": stream}, provider.environ(emulator.url)))
        return Upstream(servers[-1].url, emulator.recorder)

    yield start
    for server in servers:
        server.stop()


class RawClient:
    """An HTTP client on a bare socket, so the test decides the exact moment it goes away."""

    def __init__(self, base_url: str, prompt: str, stream: bool = True) -> None:
        parts = urlsplit(base_url)
        body = json.dumps({"model": MODEL, "stream": stream, "messages": [{"role": "user", "content": prompt}]})
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        self.received = b""
        head = (
            f"POST /api/v1/chat/completions HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {RELAY_TEST_KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body.encode())}\r\n\r\n"
        )
        self.sock.sendall(head.encode() + body.encode())

    def read_until(self, done: Callable[[bytes], bool], timeout: float = 10) -> bytes:
        deadline = time.monotonic() + timeout
        while not done(self.received):
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting; received {self.received[-300:]!r}")
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.received += chunk
        return self.received

    def close(self) -> float:
        """Go away, and say when."""
        self.sock.close()
        return time.monotonic()


def answer_text(received: bytes) -> str:
    """The content deltas of the SSE frames in a raw response, joined."""
    frames = [json.loads(line[6:]) for line in received.split(b"\n") if line.startswith(b"data: {")]
    return "".join(choice["delta"].get("content") or "" for frame in frames for choice in frame.get("choices", []))


def content_frames(received: bytes) -> int:
    return received.count(b'"content":')


def disconnect_latency(upstream: Upstream, closed_at: float) -> float:
    """Seconds from the client leaving to the emulator seeing the relay leave."""
    assert wait_for(lambda: upstream.last_record().client_disconnected, seconds=5), "upstream was never closed"
    disconnected_at = upstream.last_record().disconnected_at
    assert disconnected_at is not None
    return disconnected_at - closed_at


@pytest.mark.parametrize(
    ("phase", "stream", "scenario", "received_enough"),
    [
        # Still opening: no heartbeat due yet, so no byte has gone to the client.
        ("opening", {"heartbeat_seconds": 30}, {"stall_after": 0}, None),
        # Committed, waiting for the first token: the client has a heartbeat.
        ("first token", {"heartbeat_seconds": 0.2}, {"stall_after": 0}, lambda got: KEEP_ALIVE in got),
        # Mid-stream: the client has read some text.
        ("mid-stream", {}, {"chunks": 50, "delay_ms": 100}, lambda got: content_frames(got) >= 3),
    ],
)
def test_a_client_disconnect_closes_the_upstream_within_a_second(
    relay_for: Callable[..., Upstream],
    phase: str,
    stream: dict[str, float],
    scenario: dict[str, Any],
    received_enough: Callable[[bytes], bool] | None,
) -> None:
    upstream = relay_for(**stream)
    client = RawClient(upstream.url, inline_prompt(**scenario))
    assert wait_for(lambda: bool(upstream.recorder.records))
    if received_enough is None:
        time.sleep(0.3)
        assert client.received == b""
    else:
        client.read_until(received_enough)
    closed_at = client.close()
    latency = disconnect_latency(upstream, closed_at)
    print(f"disconnect while {phase}: upstream closed {latency * 1000:.0f} ms after the client left")
    assert latency < DISCONNECT_DEADLINE_SECONDS, f"{phase}: upstream closed {latency:.3f} s after the client left"


def test_heartbeats_while_waiting_for_the_first_token_then_the_answer(relay_for: Callable[..., Upstream]) -> None:
    upstream = relay_for(heartbeat_seconds=0.2)
    client = RawClient(upstream.url, inline_prompt(text="late answer", chunks=2, first_delay_ms=1000))
    received = client.read_until(lambda got: b"data: [DONE]" in got)
    client.close()
    before_first_data = received.split(b"data: ", 1)[0]
    assert 3 <= before_first_data.count(KEEP_ALIVE) <= 6
    assert answer_text(received) == "late answer"


def test_heartbeats_during_a_long_pause_between_tokens(relay_for: Callable[..., Upstream]) -> None:
    upstream = relay_for(heartbeat_seconds=0.1)
    client = RawClient(upstream.url, inline_prompt(text="ab", chunks=2, delay_ms=450))
    received = client.read_until(lambda got: b"data: [DONE]" in got)
    client.close()
    between = received.split(b'"content":"a"', 1)[1].split(b'"content":"b"', 1)[0]
    assert between.count(KEEP_ALIVE) >= 3


def test_heartbeats_do_not_disturb_the_openai_sdk(relay_for: Callable[..., Upstream]) -> None:
    import openai

    upstream = relay_for(heartbeat_seconds=0.05)
    with openai.OpenAI(base_url=f"{upstream.url}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0) as sdk:
        prompt = inline_prompt(text="slow but sure", chunks=3, first_delay_ms=300, delay_ms=120)
        chunks = sdk.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompt}], stream=True)
        assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices) == "slow but sure"


@pytest.mark.parametrize(
    ("stream", "scenario", "code"),
    [
        (
            {"heartbeat_seconds": 0.2, "first_token_timeout_seconds": 0.7},
            {"stall_after": 0},
            "first_token_timeout",
        ),
        (
            {"heartbeat_seconds": 0.2, "idle_timeout_seconds": 0.7},
            {"chunks": 10, "stall_after": 4},
            "idle_timeout",
        ),
    ],
)
def test_timeouts_end_the_stream_with_an_error_and_close_the_upstream(
    relay_for: Callable[..., Upstream], stream: dict[str, float], scenario: dict[str, Any], code: str
) -> None:
    upstream = relay_for(**stream)
    started = time.monotonic()
    client = RawClient(upstream.url, inline_prompt(**scenario))
    received = client.read_until(lambda got: b'"error"' in got and got.endswith(b"\r\n\r\n"))
    ended_at = time.monotonic()
    frames = [line[6:] for line in received.split(b"\n") if line.startswith(b"data: ")]
    error = json.loads(frames[-1])["error"]
    assert error["code"] == code and error["retryable"] is True
    assert b"[DONE]" not in received and sum(b'"error"' in frame for frame in frames) == 1
    assert KEEP_ALIVE in received
    assert 0.7 <= ended_at - started < 3
    assert wait_for(lambda: upstream.last_record().client_disconnected, seconds=1)
    client.close()
