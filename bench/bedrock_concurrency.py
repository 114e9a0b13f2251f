"""Hundreds of concurrent Bedrock streams through one relay process.

The Bedrock emulator and the relay each run in their own process; this
process is the client (:mod:`.stream_load`). Every stream is ``chunks``
content deltas ``delay_ms`` apart, so a relay that keeps up shows inter-chunk
gaps near ``delay_ms``; one that blocks its event loop, serialises streams on
a small pool or buffers shows long gaps, errors or a long wall time.

A second row sends the same load straight to the emulator, without the relay:
the floor that the emulator, this client and the machine set on their own.

``python -m bench.bedrock_concurrency --concurrency 1000 --chunks 50 --delay-ms 20``
runs other shapes; ``--skip-direct`` leaves out the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Awaitable
from typing import TypeVar

from devtools.emulators.scenario import inline_prompt

from .proc_stats import ProcessWatch
from .processes import Server, relay_server, started_server
from .report import Row, render
from .stream_load import LoadResult, Target, http_request, relay_target, run_load

MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"
CREDENTIALS = {"BENCH_AWS_KEY_ID": "AKIDBENCHEXAMPLE", "BENCH_AWS_SECRET": "bench-only-secret"}

T = TypeVar("T")


def relay_config(emulator_url: str, max_connections: int) -> dict[str, object]:
    """One Bedrock backend on the emulator, alias ``bedrock``."""
    backend = {
        "name": "bench-bedrock",
        "provider": "bedrock",
        "model_id": MODEL_ID,
        "region": "us-east-1",
        "endpoint_url": emulator_url,
        "access_key_id_setting": "BENCH_AWS_KEY_ID",
        "secret_access_key_setting": "BENCH_AWS_SECRET",
        "max_connections": max_connections,
    }
    return {"backends": [backend], "models": {"bedrock": ["bench-bedrock"]}}


def direct_target(emulator_url: str, chunks: int, delay_ms: float) -> Target:
    """ConverseStream straight to the emulator; event stream bytes instead of SSE."""
    body = {"messages": [{"role": "user", "content": [{"text": inline_prompt(chunks=chunks, delay_ms=delay_ms)}]}]}
    relay_shaped = relay_target(emulator_url, "unused", chunks, delay_ms)
    return Target(
        host=relay_shaped.host,
        port=relay_shaped.port,
        request=http_request(emulator_url, f"/model/{MODEL_ID}/converse-stream", body, {"Authorization": "Bearer x"}),
        content_marker=b'"delta":{"text":"',
        done_marker=b"\x07\x00\x08metadata",  # the :event-type header of the last event
        error_marker=b":exception-type",
    )


async def watched(load: Awaitable[T], watches: list[ProcessWatch]) -> T:
    """Run ``load`` while sampling each server's thread count."""
    task = asyncio.ensure_future(load)
    while not task.done():
        for watch in watches:
            watch.sample()
        await asyncio.wait({task}, timeout=0.2)
    return task.result()


def measure(
    target: Target, concurrency: int, chunks: int, servers: list[Server]
) -> tuple[LoadResult, list[ProcessWatch], float]:
    """One run: the load's result, each server's watch, and this client's CPU seconds."""
    watches = [ProcessWatch(server.pid).start() for server in servers]
    client_cpu = time.process_time()
    result = asyncio.run(watched(run_load(target, concurrency, chunks), watches))
    return result, watches, round(time.process_time() - client_cpu, 2)


def row(case: str, result: LoadResult, concurrency: int, cpu: dict[str, float], relay: ProcessWatch | None) -> Row:
    gaps = result.gap_ms()
    figures: dict[str, object] = {
        "concurrency": concurrency,
        "ok": result.ok,
        "errors": result.errors,
        "chunks": result.chunks,
        "gap p50 ms": gaps["p50"],
        "gap p99 ms": gaps["p99"],
        "gap max ms": gaps["max"],
        "wall s": round(result.wall_seconds, 2),
    }
    if relay is not None:
        figures["relay peak RSS MiB"] = relay.peak_rss_mib()
        figures["relay threads"] = relay.peak_threads
    figures.update({f"{name} CPU s": seconds for name, seconds in cpu.items()})
    figures["load avg"] = round(os.getloadavg()[0], 1)
    return Row("bedrock_concurrency", case, figures)


def run(concurrency: int = 500, chunks: int = 100, delay_ms: float = 20, direct: bool = True) -> list[Row]:
    """Measure ``concurrency`` streams through the relay, and optionally straight to the emulator."""
    rows = []
    shape = f"{concurrency} x {chunks} chunks @ {delay_ms:g} ms"
    with started_server("devtools.emulators.bedrock", []) as emulator:
        if direct:
            target = direct_target(emulator.url, chunks, delay_ms)
            result, (emulator_watch,), client_cpu = measure(target, concurrency, chunks, [emulator])
            cpu = {"emulator": emulator_watch.cpu_used(), "client": client_cpu}
            rows.append(row(f"direct to emulator, {shape}", result, concurrency, cpu, None))
        config = relay_config(emulator.url, max_connections=max(1000, concurrency))
        with relay_server(config, CREDENTIALS) as relay:
            target = relay_target(relay.url, "bedrock", chunks, delay_ms)
            result, (relay_watch, emulator_watch), client_cpu = measure(target, concurrency, chunks, [relay, emulator])
            cpu = {"relay": relay_watch.cpu_used(), "emulator": emulator_watch.cpu_used(), "client": client_cpu}
            rows.append(row(f"through relay, {shape}", result, concurrency, cpu, relay_watch))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--chunks", type=int, default=100)
    parser.add_argument("--delay-ms", type=float, default=20)
    parser.add_argument("--skip-direct", action="store_true", help="only measure through the relay")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    rows = run(args.concurrency, args.chunks, args.delay_ms, direct=not args.skip_direct)
    print(json.dumps([row.figures | {"case": row.case} for row in rows]) if args.json else render(rows))


if __name__ == "__main__":
    main()
