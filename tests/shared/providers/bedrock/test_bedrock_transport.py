"""Reading a ConverseStream body: corrupt framing, exception messages, timeouts, local validation."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.eventstream import encode_message, event_frame, exception_frame
from devtools.emulators.scenario import inline_prompt
from shared.errors import RelayError, UpstreamUnavailable
from shared.events import Finish, TextDelta
from shared.providers.bedrock.adapter import CanonicalEvents
from shared.providers.bedrock.eventstream import Message
from shared.providers.bedrock.response import ConverseTranslator
from shared.providers.bedrock.settings import BedrockSettings
from shared.providers.bedrock.transport import environment_proxy, signing_may_block
from tests.builders import AUTH_HEADERS, BEDROCK_ENV, bedrock_backend, serve_relay


class FakeContent:
    """Just enough of ``aiohttp.ClientResponse.content``: hands out the pieces, then b"" for the end."""

    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = list(pieces)

    async def readany(self) -> bytes:
        return self._pieces.pop(0) if self._pieces else b""


class FakeResponse:
    def __init__(self, pieces: list[bytes]) -> None:
        self.content = FakeContent(pieces)
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


async def read_all(response: FakeResponse) -> list[Any]:
    return [event async for event in CanonicalEvents(response, "east")]  # type: ignore[arg-type]


TEXT = event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "hi"}})
STOP = event_frame("messageStop", {"stopReason": "end_turn"})


def test_events_from_frames_split_anywhere() -> None:
    data = TEXT + STOP
    response = FakeResponse([data[i : i + 3] for i in range(0, len(data), 3)])
    assert asyncio.run(read_all(response)) == [TextDelta("hi"), Finish("stop")]
    assert response.closed >= 1


@pytest.mark.parametrize(
    "pieces",
    [
        pytest.param([TEXT[:-1] + bytes([TEXT[-1] ^ 1])], id="message checksum"),
        pytest.param([TEXT[:9] + bytes([TEXT[9] ^ 1]) + TEXT[10:]], id="prelude checksum"),
        pytest.param(
            [encode_message({":message-type": "event", ":event-type": "messageStop"}, b"{oops")], id="not JSON"
        ),
        pytest.param([TEXT, STOP[:20]], id="ends inside a message"),
    ],
)
def test_corrupt_or_cut_framing_is_a_protocol_error(pieces: list[bytes]) -> None:
    response = FakeResponse(pieces)
    with pytest.raises(UpstreamUnavailable) as caught:
        asyncio.run(read_all(response))
    assert caught.value.code == "upstream_protocol_error" and caught.value.retryable
    assert response.closed >= 1


def test_events_before_an_exception_in_the_same_segment_are_delivered_first() -> None:
    seen: list[Any] = []

    async def read() -> None:
        async for event in CanonicalEvents(FakeResponse([TEXT + exception_frame("throttlingException", "slow")]), "e"):  # type: ignore[arg-type]
            seen.append(event)

    with pytest.raises(RelayError, match="slow"):
        asyncio.run(read())
    assert seen == [TextDelta("hi")]


def test_end_before_message_stop_is_truncation() -> None:
    with pytest.raises(UpstreamUnavailable) as caught:
        asyncio.run(read_all(FakeResponse([TEXT])))
    assert caught.value.code == "upstream_truncated"


def test_closing_before_reading_releases_the_connection() -> None:
    response = FakeResponse([TEXT, STOP])
    asyncio.run(CanonicalEvents(response, "east").aclose())  # type: ignore[arg-type]
    assert response.closed == 1


def message(headers: dict[str, Any], payload: bytes) -> Message:
    return Message(headers, payload)


def exception(kind: str) -> dict[str, str]:
    return {":message-type": "exception", ":exception-type": kind}


@pytest.mark.parametrize(
    ("headers", "payload", "code", "text"),
    [
        (exception("throttlingException"), b'{"message":"slow"}', "rate_limit_exceeded", "slow"),
        (exception("internalServerException"), b"plain words", "upstream_unavailable", "plain words"),
        (exception("validationException"), b'{"Message":"bad"}', "upstream_rejected", "bad"),
        (exception("modelStreamErrorException"), b"[]", "model_stream_error", ""),
        ({":message-type": "error", ":error-code": "Failure", ":error-message": "oops"}, b"", "Failure", "oops"),
        ({":message-type": "error"}, b"", "upstream_error", "unknown error"),
    ],
)
def test_exception_and_error_messages_raise(headers: dict[str, Any], payload: bytes, code: str, text: str) -> None:
    with pytest.raises(RelayError) as caught:
        ConverseTranslator().message_events(message(headers, payload))
    assert caught.value.code == code
    assert caught.value.message == f"the upstream failed mid-stream: {text}"


def test_stalled_upstream_ends_in_a_timeout_frame(bedrock_emulator: BedrockEmulator, bedrock: BedrockEmulator) -> None:
    backend = bedrock_backend("slow", bedrock_emulator.url, read_timeout_seconds=0.5)  # type: ignore[attr-defined]
    body = {"model": "slow", "stream": True, "messages": [{"role": "user", "content": inline_prompt(stall_after=3)}]}
    with serve_relay({"backends": [backend], "models": {"slow": ["slow"]}}, BEDROCK_ENV) as relay:
        response = httpx.post(f"{relay}/api/v1/chat/completions", json=body, timeout=30, headers=AUTH_HEADERS)
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
    response = httpx.post(f"{bedrock_relay_url}/api/v1/chat/completions", json=body, timeout=30, headers=AUTH_HEADERS)
    assert response.status_code == 400
    assert "toolUseId" in response.json()["error"]["message"]
    assert bedrock.recorder.records == []


@pytest.mark.parametrize(
    ("fields", "environ", "may_block"),
    [
        ({"access_key_id_setting": "K", "secret_access_key_setting": "S"}, {}, False),
        ({}, {"AWS_BEARER_TOKEN_BEDROCK": "ABSK-x"}, False),
        ({}, {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"}, False),
        ({}, {"AWS_ACCESS_KEY_ID": "AKID"}, True),
        ({}, {"AWS_ROLE_ARN": "arn:aws:iam::1:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE": "/t"}, True),
        ({}, {}, True),
    ],
)
def test_signing_runs_in_a_thread_only_when_credentials_may_refresh(
    fields: dict[str, str], environ: dict[str, str], may_block: bool
) -> None:
    settings = BedrockSettings(name="b", provider="bedrock", model_id="m", region="us-east-1", **fields)
    assert signing_may_block(settings, environ) is may_block


ENDPOINT = "https://bedrock-runtime.us-east-1.amazonaws.com"


@pytest.mark.parametrize(
    ("environ", "proxy"),
    [
        ({}, None),
        ({"HTTPS_PROXY": "http://proxy:3128"}, "http://proxy:3128"),
        ({"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": ".amazonaws.com"}, None),
        ({"HTTP_PROXY": "http://proxy:3128"}, None),
    ],
)
def test_proxy_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], proxy: str | None
) -> None:
    for name in (
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert environment_proxy(ENDPOINT) == proxy
