"""Why the Bedrock adapter does not read streams with boto3 in threads: both designs, measured.

Each design reads the same ``concurrency`` ConverseStreams from the emulator
(its own process) inside this process, the way a relay would, and hands every
event to an asyncio consumer that timestamps it. No client, no SSE: only the
cost of getting Bedrock events onto the event loop.

* ``reader threads``: boto3's ``converse_stream`` and its EventStream
  iterator in one dedicated thread per stream, handing events to the loop
  with ``call_soon_threadsafe``. Simple and faithful to boto3, but every
  event crosses threads and contends for the GIL.
* ``async (adapter)``: the adapter's own path, ``ConverseClient`` (boto3
  signs, aiohttp sends) and ``CanonicalEvents``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import threading
import time
from collections.abc import Awaitable, Callable

import boto3
from botocore.config import Config

from devtools.emulators.scenario import inline_prompt
from shared.chat_request import ChatRequest
from shared.providers.bedrock.adapter import BedrockAdapter
from shared.providers.bedrock.request import converse_params
from shared.providers.bedrock.settings import BedrockSettings

from .processes import started_server
from .report import Row, render

MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"
KEYS = {"aws_access_key_id": "AKIDBENCHEXAMPLE", "aws_secret_access_key": "bench-only-secret"}

Gaps = list[float]


def request(chunks: int, delay_ms: float) -> ChatRequest:
    prompt = inline_prompt(chunks=chunks, delay_ms=delay_ms)
    return ChatRequest.model_validate({"model": "bench", "messages": [{"role": "user", "content": prompt}]})


class GapClock:
    """Inter-event gaps of one stream, as seen on the event loop."""

    def __init__(self, gaps: Gaps) -> None:
        self._gaps = gaps
        self._last: float | None = None

    def tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self._gaps.append(now - self._last)
        self._last = now


async def reader_threads(url: str, request: ChatRequest, concurrency: int) -> Gaps:
    """One thread per stream iterating boto3's EventStream."""
    params = converse_params(request, MODEL_ID)
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=url,
        config=Config(retries={"total_max_attempts": 1}, max_pool_connections=concurrency),
        **KEYS,
    )
    loop = asyncio.get_running_loop()
    gaps: Gaps = []

    def read(queue: asyncio.Queue[object]) -> None:
        for event in client.converse_stream(**params)["stream"]:
            loop.call_soon_threadsafe(queue.put_nowait, event)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    async def consume() -> None:
        queue: asyncio.Queue[object] = asyncio.Queue()
        threading.Thread(target=read, args=(queue,), daemon=True).start()
        clock = GapClock(gaps)
        while await queue.get() is not None:
            clock.tick()

    await asyncio.gather(*(consume() for _ in range(concurrency)))
    client.close()
    return gaps


async def async_adapter(url: str, request: ChatRequest, concurrency: int) -> Gaps:
    """The adapter's transport and event reader, minus the relay around it."""
    settings = BedrockSettings(
        name="bench",
        provider="bedrock",
        model_id=MODEL_ID,
        region="us-east-1",
        endpoint_url=url,
        access_key_id_setting="KEY_ID",
        secret_access_key_setting="SECRET",
        max_connections=concurrency,
    )
    adapter = BedrockAdapter(settings, {"KEY_ID": KEYS["aws_access_key_id"], "SECRET": KEYS["aws_secret_access_key"]})
    gaps: Gaps = []

    async def consume() -> None:
        stream = await adapter.open(request)
        clock = GapClock(gaps)
        async for _ in stream.events:
            clock.tick()

    await asyncio.gather(*(consume() for _ in range(concurrency)))
    await adapter.aclose()
    return gaps


async def peak_threads(work: Awaitable[Gaps]) -> tuple[Gaps, int]:
    """Run ``work`` while sampling this process's thread count."""
    task = asyncio.ensure_future(work)
    peak = threading.active_count()
    while not task.done():
        await asyncio.wait({task}, timeout=0.1)
        peak = max(peak, threading.active_count())
    return task.result(), peak


DESIGNS: dict[str, Callable[[str, ChatRequest, int], Awaitable[Gaps]]] = {
    "reader threads": reader_threads,
    "async (adapter)": async_adapter,
}


def measure(name: str, url: str, concurrency: int, chunks: int, delay_ms: float) -> Row:
    """One design's figures: CPU per delta, gaps on the loop, wall time, peak threads."""
    design = DESIGNS[name]
    cpu, wall = time.process_time(), time.perf_counter()
    gaps, threads = asyncio.run(peak_threads(design(url, request(chunks, delay_ms), concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    ordered = sorted(gaps)
    figures = {
        "streams": concurrency,
        "CPU us/delta": round(cpu / (concurrency * chunks) * 1e6, 1),
        "gap p50 ms": round(statistics.median(ordered) * 1000, 1),
        "gap p99 ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 1),
        "wall s": round(wall, 2),
        "peak threads": threads,
        "load avg": round(os.getloadavg()[0], 1),
    }
    return Row("bedrock_designs", f"{name}, {concurrency} x {chunks} @ {delay_ms:g} ms", figures)


def run(concurrency: int = 500, chunks: int = 100, delay_ms: float = 20) -> list[Row]:
    """Both designs against one emulator process."""
    with started_server("devtools.emulators.bedrock", []) as emulator:
        return [measure(name, emulator.url, concurrency, chunks, delay_ms) for name in DESIGNS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--chunks", type=int, default=100)
    parser.add_argument("--delay-ms", type=float, default=20)
    args = parser.parse_args()
    print(render(run(args.concurrency, args.chunks, args.delay_ms)))


if __name__ == "__main__":
    main()
