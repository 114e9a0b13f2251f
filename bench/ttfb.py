"""Time to first byte: straight to the Azure emulator versus through the relay.

Both paths stream the same scenario over loopback; the difference is the
relay's own cost (parse, validate, open upstream, re-encode) on the first delta.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import replace

import httpx

from devtools.emulators.scenario import inline_prompt

from .loop_host import LOOPS
from .processes import BENCH_AUTH_HEADERS, relay_process, server_process
from .report import Row

REQUESTS = 60
DEPLOYMENT = "bench"
KEY = "bench-key"


async def first_delta_seconds(
    client: httpx.AsyncClient, url: str, body: dict[str, object], headers: dict[str, str]
) -> float:
    """Seconds from sending the request to reading the first content delta."""
    started = time.perf_counter()
    elapsed: float | None = None
    async with client.stream("POST", url, json=body, headers=headers) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if elapsed is None and '"content":"' in line and '"content":""' not in line:
                elapsed = time.perf_counter() - started
    if elapsed is None:
        raise RuntimeError("stream ended without a content delta")
    return elapsed


async def measure(url: str, body: dict[str, object], headers: dict[str, str]) -> list[float]:
    async with httpx.AsyncClient(timeout=30) as client:
        await first_delta_seconds(client, url, body, headers)  # warm the connection pools
        return [await first_delta_seconds(client, url, body, headers) for _ in range(REQUESTS)]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run() -> list[Row]:
    """Measure both paths, the relay on each event loop, and return one table row each."""
    prompt = inline_prompt(chunks=20)
    body = {"messages": [{"role": "user", "content": prompt}], "stream": True}
    with server_process("devtools.emulators.azure_openai", []) as emulator:
        config = {
            "backends": [
                {
                    "name": "bench",
                    "provider": "azure_openai",
                    "endpoint": emulator,
                    "deployment": DEPLOYMENT,
                    "api_key_setting": "BENCH_KEY",
                }
            ],
            "models": {"bench": ["bench"]},
        }
        direct_url = f"{emulator}/openai/deployments/{DEPLOYMENT}/chat/completions?api-version=2024-10-21"
        direct = asyncio.run(measure(direct_url, body, {"api-key": KEY}))
        relayed = {}
        for loop in LOOPS:
            with relay_process(config, {"BENCH_KEY": KEY}, loop) as relay:
                relay_url = f"{relay}/api/v1/chat/completions"
                relayed[loop] = asyncio.run(measure(relay_url, {**body, "model": "bench"}, BENCH_AUTH_HEADERS))
    rows = [latency_row("direct to emulator", direct)]
    for loop, samples in relayed.items():
        overhead = statistics.median(samples) - statistics.median(direct)
        rows.append(replace(latency_row("through relay", samples), loop=loop))
        rows.append(Row("ttfb", "relay overhead (p50)", {"ms": round(overhead * 1000, 2)}, loop))
    return rows


def latency_row(case: str, samples: list[float]) -> Row:
    figures: dict[str, object] = {
        "requests": len(samples),
        "p50 ms": round(statistics.median(samples) * 1000, 2),
        "p95 ms": round(percentile(samples, 0.95) * 1000, 2),
    }
    return Row("ttfb", case, figures)
