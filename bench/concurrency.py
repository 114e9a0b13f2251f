"""One concurrency run: a :mod:`.stream_load` target against server processes, as a table row.

The provider benchmarks (``bedrock_concurrency``, ``vertex_concurrency``,
``azure_concurrency``) differ only in their emulator, their relay
configuration and the bytes they look for; this module runs the load, reads
each server's CPU, memory and threads from /proc while it runs, and formats
the figures the same way for all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from .loop_host import LOOPS
from .proc_stats import ProcessWatch
from .processes import Server, relay_server
from .report import Row, render
from .stream_load import LoadResult, Target, relay_target, run_load

T = TypeVar("T")

# A few streams before each measured run: the relay's token cache, connection pools and lazy imports.
WARM_UP_STREAMS = 5


@dataclass(frozen=True)
class Shape:
    """How many streams, each of how many content deltas, how far apart."""

    concurrency: int = 500
    chunks: int = 100
    delay_ms: float = 20

    def __str__(self) -> str:
        return f"{self.concurrency} x {self.chunks} chunks @ {self.delay_ms:g} ms"


# Issue #4's target load: 500 streams of 100 deltas 20 ms apart, through one relay process.
DEFAULT_SHAPE = Shape()


async def watched(load: Awaitable[T], watches: list[ProcessWatch]) -> T:
    """Run ``load`` while sampling each server's thread count."""
    task = asyncio.ensure_future(load)
    while not task.done():
        for watch in watches:
            watch.sample()
        await asyncio.wait({task}, timeout=0.2)
    return task.result()


def measure(target: Target, shape: Shape, servers: list[Server]) -> tuple[LoadResult, list[ProcessWatch], float]:
    """One warmed-up run: the load's result, each server's watch, and this client's CPU seconds."""
    asyncio.run(run_load(target, WARM_UP_STREAMS, shape.chunks))
    watches = [ProcessWatch(server.pid).start() for server in servers]
    client_cpu = time.process_time()
    result = asyncio.run(watched(run_load(target, shape.concurrency, shape.chunks), watches))
    return result, watches, round(time.process_time() - client_cpu, 2)


def direct_row(bench: str, case: str, target: Target, shape: Shape, emulator: Server) -> Row:
    """The load straight to the emulator: the floor without a relay."""
    result, (emulator_watch,), client_cpu = measure(target, shape, [emulator])
    return row(bench, case, result, shape, {"emulator": emulator_watch.cpu_used(), "client": client_cpu}, None)


def relay_row(bench: str, case: str, target: Target, shape: Shape, relay: Server, emulator: Server) -> Row:
    """The load through one relay process, with the relay's CPU per delta delivered."""
    result, (relay_watch, emulator_watch), client_cpu = measure(target, shape, [relay, emulator])
    cpu = {"relay": relay_watch.cpu_used(), "emulator": emulator_watch.cpu_used(), "client": client_cpu}
    return row(bench, case, result, shape, cpu, relay_watch)


def through_relay(
    bench: str, case: str, emulator: Server, config: dict[str, Any], env: Mapping[str, str], alias: str, shape: Shape
) -> list[Row]:
    """Measure ``shape`` through alias ``alias`` of a relay on ``config``, once per event loop in :data:`LOOPS`."""
    rows = []
    for loop in LOOPS:
        with relay_server(config, env, loop) as relay:
            target = relay_target(relay.url, alias, shape.chunks, shape.delay_ms)
            rows.append(replace(relay_row(bench, case, target, shape, relay, emulator), loop=loop))
    return rows


def row(
    bench: str, case: str, result: LoadResult, shape: Shape, cpu: dict[str, float], relay: ProcessWatch | None
) -> Row:
    gaps = result.gap_ms()
    figures: dict[str, object] = {
        "concurrency": shape.concurrency,
        "ok": result.ok,
        "errors": result.errors,
        "chunks": result.chunks,
        "gap p50 ms": gaps["p50"],
        "gap p99 ms": gaps["p99"],
        "gap max ms": gaps["max"],
        "wall s": round(result.wall_seconds, 2),
    }
    if relay is not None:
        figures["relay µs/delta"] = round(cpu["relay"] / max(1, result.chunks) * 1e6, 1)
        figures["relay peak RSS MiB"] = relay.peak_rss_mib()
        figures["relay threads"] = relay.peak_threads
    figures.update({f"{name} CPU s": seconds for name, seconds in cpu.items()})
    figures["load avg"] = round(os.getloadavg()[0], 1)
    return Row(bench, case, figures)


def main(description: str, run: Callable[[Shape, bool], list[Row]]) -> None:
    """The command line every concurrency benchmark shares: the shape, the baseline, the output format."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--concurrency", type=int, default=Shape.concurrency)
    parser.add_argument("--chunks", type=int, default=Shape.chunks)
    parser.add_argument("--delay-ms", type=float, default=Shape.delay_ms)
    parser.add_argument("--skip-direct", action="store_true", help="only measure through the relay")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    rows = run(Shape(args.concurrency, args.chunks, args.delay_ms), not args.skip_direct)
    as_json = [row.figures | {"case": row.case, "loop": row.loop} for row in rows]
    print(json.dumps(as_json) if args.json else render(rows))
