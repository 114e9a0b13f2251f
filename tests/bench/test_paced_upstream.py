"""The paced bench upstream: replies the real SDKs decode, one timer pacing every stream, a 4xx for bad requests."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import httpx
import openai
import pytest
from botocore.config import Config

from bench import paced_frames
from bench.paced_upstream import Pacing, Ticker, UpstreamProtocol
from bench.processes import started_server
from bench.vertex_concurrency import LOCATION_PATH, MODEL, access_token
from devtools.emulators.google_oauth import make_service_account_info
from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt, split_text

pytestmark = pytest.mark.timeout(60)

CHUNKS = 7
EXPECTED = split_text(DEFAULT_TEXT, CHUNKS)


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with started_server("bench.paced_upstream", []) as server:
        yield server.url


def prompt(delay_ms: float = 5) -> str:
    return inline_prompt(chunks=CHUNKS, delay_ms=delay_ms)


@pytest.mark.parametrize("delay_ms", [5, 0])
def test_azure_chat_stream_reads_with_the_openai_sdk_chunk_by_chunk_over_one_kept_alive_connection(
    upstream: str, delay_ms: float
) -> None:
    client = openai.AzureOpenAI(azure_endpoint=upstream, api_key="any", api_version="2024-10-21", max_retries=0)
    with client:
        for _ in range(2):  # the second stream reuses the connection: the first must have ended its chunked body
            stream = client.chat.completions.create(
                model="bench", stream=True, messages=[{"role": "user", "content": prompt(delay_ms)}]
            )
            deltas = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
            assert deltas == EXPECTED


def test_azure_usage_frame_comes_when_asked_for(upstream: str) -> None:
    client = openai.AzureOpenAI(azure_endpoint=upstream, api_key="any", api_version="2024-10-21", max_retries=0)
    stream = client.chat.completions.create(
        model="bench",
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": prompt()}],
    )
    usages = [chunk.usage for chunk in stream if chunk.usage is not None]
    assert len(usages) == 1 and usages[0].completion_tokens == CHUNKS


def test_vertex_openai_compatible_stream_reads_with_the_openai_sdk(upstream: str) -> None:
    client = openai.OpenAI(base_url=f"{upstream}{LOCATION_PATH}/endpoints/openapi", api_key="token", max_retries=0)
    stream = client.chat.completions.create(
        model=f"google/{MODEL}", stream=True, messages=[{"role": "user", "content": prompt()}]
    )
    chunks = list(stream)
    assert [c.choices[0].delta.content for c in chunks] == EXPECTED
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_bedrock_converse_stream_decodes_with_botocores_event_stream_parser(upstream: str) -> None:
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=upstream,
        aws_access_key_id="AKIDANY",
        aws_secret_access_key="any-secret",
        config=Config(retries={"max_attempts": 1}),
    )
    messages = [{"role": "user", "content": [{"text": prompt()}]}]
    events = list(client.converse_stream(modelId="any-model", messages=messages)["stream"])
    texts = [e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e]
    assert texts == EXPECTED
    assert [next(iter(e)) for e in events[-2:]] == ["messageStop", "metadata"]


def test_vertex_native_sse_carries_one_part_per_chunk_and_a_finish_reason(upstream: str) -> None:
    path = f"{LOCATION_PATH}/publishers/google/models/{MODEL}:streamGenerateContent?alt=sse"
    body = {"contents": [{"role": "user", "parts": [{"text": prompt()}]}]}
    with httpx.stream("POST", upstream + path, json=body, headers={"Authorization": "Bearer t"}) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    documents = [json.loads(line[len("data: ") :]) for line in lines]
    assert [d["candidates"][0]["content"]["parts"][0]["text"] for d in documents] == EXPECTED
    assert documents[-1]["candidates"][0]["finishReason"] == "STOP"


def test_the_token_endpoint_answers_google_auths_service_account_grant(upstream: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        key_file = Path(directory) / "key.json"
        key_file.write_text(json.dumps(make_service_account_info(f"{upstream}/token")), encoding="utf-8")
        assert access_token(key_file) == "bench-access-token"


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status"),
    [
        ("POST", "/openai/deployments/d/chat/completions?api-version=1", {}, b"{}", 401),
        ("POST", "/nowhere", {"api-key": "k"}, b"{}", 404),
        ("GET", "/model/m/converse-stream", {"api-key": "k"}, b"", 405),
        ("POST", "/model/m/converse-stream", {"Authorization": "x"}, b"not json", 400),
        ("POST", "/model/m/converse-stream", {"Authorization": "x"}, b'{"messages": 3}', 400),
    ],
)
def test_bad_requests_get_a_json_4xx_and_never_a_stream(
    upstream: str, method: str, path: str, headers: dict[str, str], body: bytes, status: int
) -> None:
    response = httpx.request(method, upstream + path, headers=headers, content=body)
    assert response.status_code == status
    assert "message" in response.json()["error"]


class FakeLoop:
    """Just enough of an event loop to see which timers a ticker sets."""

    def __init__(self) -> None:
        self.now = 100.0
        self.timers: list[tuple[float, Callable[[], None]]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], None]) -> None:
        self.timers.append((when, callback))


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def close(self) -> None:
        pass


def _stream(steps: tuple[bytes, ...]) -> tuple[UpstreamProtocol, FakeTransport]:
    protocol, transport = UpstreamProtocol(Pacing()), FakeTransport()
    protocol.connection_made(transport)
    protocol.reply_steps = steps
    return protocol, transport


def test_one_timer_paces_every_stream_writing_each_its_next_step_per_tick() -> None:
    loop = FakeLoop()
    ticker = Ticker(loop, 20)  # type: ignore[arg-type]
    streams = [_stream((b"s0", b"s1", b"s2")), _stream((b"t0", b"t1")), _stream((b"u0", b"u1", b"u2"))]
    for protocol, _ in streams:
        ticker.add(protocol)
    assert len(loop.timers) == 1 and loop.timers[0][0] == pytest.approx(100.02)
    loop.timers.pop()[1]()
    assert [t.written for _, t in streams] == [[b"s1"], [b"t1"], [b"u1"]]
    assert len(loop.timers) == 1 and loop.timers[0][0] == pytest.approx(100.04)
    loop.timers.pop()[1]()
    assert [t.written for _, t in streams] == [[b"s1", b"s2"], [b"t1"], [b"u1", b"u2"]]
    assert loop.timers == []  # every stream is done: the ticker stops until a stream arrives


def test_a_stream_whose_client_left_is_written_no_more() -> None:
    loop = FakeLoop()
    pacing = Pacing()
    ticker = Ticker(loop, 10)  # type: ignore[arg-type]
    pacing._tickers[10] = ticker
    protocol, transport = _stream((b"a", b"b", b"c"))
    protocol._pacing = pacing
    ticker.add(protocol)
    protocol.connection_lost(None)
    loop.timers.pop()[1]()
    assert transport.written == [] and loop.timers == []


@pytest.mark.parametrize("wire", paced_frames.WIRES)
def test_each_wire_has_one_step_per_content_frame_and_ends_its_chunked_body(wire: str) -> None:
    reply = paced_frames.reply(wire, CHUNKS)
    marker = paced_frames.CONTENT_MARKERS[wire]
    assert len(reply.steps) == CHUNKS
    assert all(step.count(marker) == 1 for step in reply.steps)
    assert reply.steps[0].startswith(b"HTTP/1.1 200 OK\r\n") and reply.whole.endswith(b"\r\n0\r\n\r\n")
