"""The event stream reader's edges: corrupt framing, error messages, timeouts, local validation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from botocore.eventstream import EventStreamMessage

from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.eventstream import encode_message, event_frame
from devtools.emulators.scenario import inline_prompt
from shared.errors import RelayError, UpstreamUnavailable
from shared.providers.bedrock.transport import converse_events, event_of
from tests.conftest import BEDROCK_ENV, bedrock_backend, closing_relay


class FakeContent:
    """Just enough of ``aiohttp.ClientResponse.content`` to feed bytes in pieces."""

    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = pieces

    async def iter_any(self) -> AsyncIterator[bytes]:
        for piece in self._pieces:
            yield piece


class FakeResponse:
    def __init__(self, pieces: list[bytes]) -> None:
        self.content = FakeContent(pieces)


async def read_all(pieces: list[bytes]) -> list[tuple[str, dict[str, Any]]]:
    return [event async for event in converse_events(FakeResponse(pieces), "east")]  # type: ignore[arg-type]


def test_frames_split_anywhere_are_reassembled() -> None:
    data = event_frame("messageStart", {"role": "assistant"}) + event_frame("messageStop", {"stopReason": "end_turn"})
    events = asyncio.run(read_all([data[i : i + 3] for i in range(0, len(data), 3)]))
    assert [kind for kind, _ in events] == ["messageStart", "messageStop"]
    assert events[1][1]["stopReason"] == "end_turn"


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda frame: frame[:-1] + bytes([frame[-1] ^ 1]), id="message checksum"),
        pytest.param(lambda frame: frame[:9] + bytes([frame[9] ^ 1]) + frame[10:], id="prelude checksum"),
        pytest.param(
            lambda _: encode_message({":message-type": "event", ":event-type": "messageStart"}, b"{not json"),
            id="payload is not JSON",
        ),
    ],
)
def test_corrupt_framing_is_a_protocol_error(corrupt: Any) -> None:
    frame = corrupt(event_frame("messageStart", {"role": "assistant"}))
    with pytest.raises(UpstreamUnavailable) as caught:
        asyncio.run(read_all([frame]))
    assert caught.value.code == "upstream_protocol_error" and caught.value.retryable


def message(headers: dict[str, Any], payload: bytes) -> EventStreamMessage:
    return EventStreamMessage(prelude=None, headers=headers, payload=payload, crc=0)


def exception(kind: str) -> dict[str, str]:
    return {":message-type": "exception", ":exception-type": kind}


@pytest.mark.parametrize(
    ("headers", "payload", "code", "text"),
    [
        (exception("throttlingException"), b'{"message":"slow"}', "rate_limit_exceeded", "slow"),
        (exception("internalServerException"), b"plain words", "upstream_unavailable", "plain words"),
        (exception("validationException"), b'{"Message":"bad"}', "upstream_rejected", "bad"),
        ({":message-type": "error", ":error-code": "Failure", ":error-message": "oops"}, b"", "Failure", "oops"),
        ({":message-type": "error"}, b"", "upstream_error", "unknown error"),
    ],
)
def test_exception_and_error_messages_raise(headers: dict[str, Any], payload: bytes, code: str, text: str) -> None:
    with pytest.raises(RelayError) as caught:
        event_of(message(headers, payload))
    assert caught.value.code == code
    assert caught.value.message == f"the upstream failed mid-stream: {text}"


def test_stalled_upstream_ends_in_a_timeout_frame(bedrock_emulator: BedrockEmulator, bedrock: BedrockEmulator) -> None:
    backend = bedrock_backend("slow", bedrock_emulator.url, read_timeout_seconds=0.5)  # type: ignore[attr-defined]
    body = {"model": "slow", "stream": True, "messages": [{"role": "user", "content": inline_prompt(stall_after=3)}]}
    with closing_relay({"backends": [backend], "models": {"slow": ["slow"]}}, BEDROCK_ENV) as server:
        response = httpx.post(f"{server.url}/api/v1/chat/completions", json=body, timeout=30)
    last = json.loads(response.text.strip().split("\n\n")[-1].removeprefix("data: "))
    assert last["error"]["code"] == "upstream_timeout" and last["error"]["retryable"] is True


def test_parameters_botocore_refuses_are_400_before_sending(bedrock_relay_url: str, bedrock: BedrockEmulator) -> None:
    call = {"id": "", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "x", "content": "r"},
    ]
    body = {"model": "bedrock", "messages": messages, "tools": [{"type": "function", "function": {"name": "f"}}]}
    response = httpx.post(f"{bedrock_relay_url}/api/v1/chat/completions", json=body, timeout=30)
    assert response.status_code == 400
    assert "toolUseId" in response.json()["error"]["message"]
    assert bedrock.recorder.records == []
