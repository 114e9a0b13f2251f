"""What a Bedrock stream holds: the upstream connection only while the client is there, and no thread.

A client that leaves, before or after the first byte, closes the ConverseStream
within a second; sixty concurrent streams share the event loop.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import httpx
import openai

from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.scenario import inline_prompt
from tests.builders import AUTH_HEADERS, RELAY_TEST_KEY
from tests.polling import wait_for
from tests.shared.providers.bedrock.bedrock_calls import user


def test_client_disconnect_closes_the_upstream_within_a_second(
    bedrock_relay_url: str, bedrock: BedrockEmulator
) -> None:
    body = {"model": "bedrock", "stream": True, "messages": user(inline_prompt(chunks=200, delay_ms=50))}
    with (
        httpx.Client(base_url=bedrock_relay_url, timeout=30, headers=AUTH_HEADERS) as session,
        session.stream("POST", "/api/v1/chat/completions", json=body) as response,
    ):
        assert next(line for line in response.iter_lines() if line.startswith("data: "))
        left_at = time.monotonic()
    record = bedrock.recorder.records[-1]
    assert wait_for(lambda: record.client_disconnected, seconds=2)
    assert record.disconnected_at is not None and record.disconnected_at - left_at < 1.0
    assert record.frames_sent < 100


def test_client_gone_before_the_first_byte_still_closes_the_upstream(
    bedrock_relay_url: str, bedrock: BedrockEmulator
) -> None:
    prompt = inline_prompt(chunks=100, first_delay_ms=200, delay_ms=50)
    body = json.dumps({"model": "bedrock", "stream": True, "messages": user(prompt)}).encode()
    head = (
        "POST /api/v1/chat/completions HTTP/1.1\r\nHost: relay\r\n"
        f"Authorization: Bearer {RELAY_TEST_KEY}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    port = int(bedrock_relay_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(head.encode() + body)
        assert wait_for(lambda: bool(bedrock.recorder.records), seconds=5)
    left_at = time.monotonic()
    record = bedrock.recorder.records[-1]
    assert wait_for(lambda: record.client_disconnected, seconds=2)
    assert record.disconnected_at is not None and record.disconnected_at - left_at < 1.0
    assert record.frames_sent <= 1


def test_streams_hold_no_thread_each(bedrock_relay_url: str, bedrock: BedrockEmulator) -> None:
    """Sixty open streams must not mean sixty threads.

    Relay and client share this process; each event loop's default executor
    (at most six threads here) may start for signing and DNS, nothing more.
    """
    threads_before = threading.active_count()
    peak = threads_before

    async def one(client: openai.AsyncOpenAI) -> str:
        nonlocal peak
        stream = await client.chat.completions.create(
            model="bedrock", messages=user(inline_prompt(text="abcdefghij", chunks=10, delay_ms=50)), stream=True
        )
        text = ""
        async for chunk in stream:
            peak = max(peak, threading.active_count())
            text += chunk.choices[0].delta.content or "" if chunk.choices else ""
        return text

    async def main() -> list[str]:
        async with openai.AsyncOpenAI(
            base_url=f"{bedrock_relay_url}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0
        ) as client:
            return await asyncio.gather(*(one(client) for _ in range(60)))

    assert asyncio.run(main()) == ["abcdefghij"] * 60
    assert peak - threads_before <= 12
