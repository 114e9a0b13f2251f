"""Issue 16's goals, measured for every provider path on both event loops, beside a direct baseline.

One table, one row per provider path and event loop, plus a row per path
that sends the same loads straight to the emulator (``direct``):

- **open CPU ms/req**: relay CPU time over ``RELAY_BENCH_OPENS`` sequential
  one-chunk requests, divided by their number;
- **TTFT p50 ms** of those sequential requests, and the **added TTFT** over direct;
- **burst TTFT p50 ms**: ``RELAY_BENCH_BURST`` streams opened at once;
- ``RELAY_BENCH_STREAMS`` paced streams of ``RELAY_BENCH_CHUNKS`` chunks
  ``RELAY_BENCH_DELAY_MS`` apart: **stream p50 s** (ideal: chunks x delay),
  **gap p99 ms**, **errors**, **peak RSS MiB**, **relay µs/chunk** (relay CPU / chunks);
- **saturation chunks/s**: back-to-back chunks, no delay, relay on one core, and
  **sat µs/chunk**, the relay's CPU per chunk then: the steadiest per-chunk figure on a shared machine.

The relay is pinned to one core, the emulator and this client to the other
(``RELAY_BENCH_RELAY_CPU``, ``RELAY_BENCH_CLIENT_CPU``). Each row waits for a
quiet machine (:mod:`.quiet`) and records the load average it started at:
the machine is shared, so wall-clock figures are noisy; CPU-time figures
(open CPU, µs/chunk) are the robust ones. With ``RELAY_BENCH_TELEMETRY=1``
(the default) a last row repeats the paced load on the Azure path with
OTLP export on, for per-chunk CPU with telemetry exported.

``RELAY_BENCH_PATHS`` and ``RELAY_BENCH_LOOPS`` (comma-separated) narrow the run.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .goal_checks import missed
from .goal_providers import PATHS, UPSTREAMS, ProviderPath, provider_path, upstream_from_env
from .loop_host import LOOPS
from .proc_stats import ProcessWatch
from .processes import Server, relay_server, started_server
from .quiet import Quiet, wait_until_quiet
from .report import Row, render_columns
from .stream_load import LoadResult, Target, relay_target, run_load
from .telemetry_cost import on as telemetry_on

BENCH = "goals"
WARM_UP_STREAMS = 5
BURST_CHUNKS = 5


def _env_list(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = os.environ.get(name)
    return tuple(item.strip() for item in value.split(",") if item.strip()) if value else default


@dataclass(frozen=True)
class Scale:
    """How big each load is; every field has a ``RELAY_BENCH_*`` variable so a smoke test can run it small."""

    streams: int = 1000
    chunks: int = 200
    delay_ms: float = 20
    opens: int = 200
    burst: int = 100
    saturation_streams: int = 50
    saturation_chunks: int = 2000
    paths: tuple[str, ...] = PATHS
    loops: tuple[str, ...] = LOOPS
    telemetry: bool = True
    upstream: str = UPSTREAMS[0]
    relay_cpu: str | None = "0"
    client_cpu: str | None = "1"
    quiet: Quiet = field(default_factory=Quiet)

    @classmethod
    def from_env(cls) -> Scale:
        def number(name: str, default: float) -> float:
            return float(os.environ.get(f"RELAY_BENCH_{name}", default))

        two_cores = (os.cpu_count() or 1) >= 2
        return cls(
            streams=int(number("STREAMS", cls.streams)),
            chunks=int(number("CHUNKS", cls.chunks)),
            delay_ms=number("DELAY_MS", cls.delay_ms),
            opens=int(number("OPENS", cls.opens)),
            burst=int(number("BURST", cls.burst)),
            saturation_streams=int(number("SATURATION_STREAMS", cls.saturation_streams)),
            saturation_chunks=int(number("SATURATION_CHUNKS", cls.saturation_chunks)),
            paths=_env_list("RELAY_BENCH_PATHS", PATHS),
            loops=_env_list("RELAY_BENCH_LOOPS", LOOPS),
            telemetry=os.environ.get("RELAY_BENCH_TELEMETRY", "1") == "1",
            upstream=upstream_from_env(),
            relay_cpu=os.environ.get("RELAY_BENCH_RELAY_CPU", "0") if two_cores else None,
            client_cpu=os.environ.get("RELAY_BENCH_CLIENT_CPU", "1") if two_cores else None,
            quiet=Quiet.from_env(),
        )

    @property
    def ideal_seconds(self) -> float:
        return self.chunks * self.delay_ms / 1000


TargetFor = Callable[[int, float], Target]


def _timed(load: Callable[[], LoadResult], watch: ProcessWatch | None) -> tuple[LoadResult, float]:
    """Run ``load``; return its result and the watched process's CPU seconds over it (0 without a watch)."""
    if watch is not None:
        watch.start()
    result = load()
    return result, (watch.cpu_used_exact() if watch is not None else 0.0)


def _sequential(target: Target, count: int) -> LoadResult:
    async def one_after_another() -> LoadResult:
        results = [await run_load(target, 1, 1) for _ in range(count)]
        return LoadResult([r for result in results for r in result.records], 1, sum(r.wall_seconds for r in results))

    return asyncio.run(one_after_another())


def measure(target_for: TargetFor, scale: Scale, pid: int | None) -> dict[str, object]:
    """Every goal figure for one server (the relay, or the emulator for ``direct``)."""
    watch = ProcessWatch(pid) if pid is not None else None
    asyncio.run(run_load(target_for(2, 0), WARM_UP_STREAMS, 2))
    opens, open_cpu = _timed(lambda: _sequential(target_for(1, 0), scale.opens), watch)
    burst = asyncio.run(run_load(target_for(BURST_CHUNKS, scale.delay_ms), scale.burst, BURST_CHUNKS))
    paced, paced_cpu = _timed(
        lambda: asyncio.run(run_load(target_for(scale.chunks, scale.delay_ms), scale.streams, scale.chunks)), watch
    )
    saturation = target_for(scale.saturation_chunks, 0)
    saturated, saturated_cpu = _timed(
        lambda: asyncio.run(run_load(saturation, scale.saturation_streams, scale.saturation_chunks)), watch
    )
    figures: dict[str, object] = {
        "open CPU ms/req": round(open_cpu / max(1, scale.opens) * 1000, 3) if watch else None,
        "TTFT p50 ms": opens.first_content_ms_p50(),
        "burst TTFT p50 ms": burst.first_content_ms_p50(),
        "stream p50 s": paced.stream_seconds_p50(),
        "gap p99 ms": paced.gap_ms()["p99"],
        "errors": paced.errors + burst.errors + opens.errors,
        "peak RSS MiB": watch.peak_rss_mib() if watch else None,
        "relay µs/chunk": round(paced_cpu / max(1, paced.chunks) * 1e6, 1) if watch else None,
        "saturation chunks/s": round(saturated.chunks / saturated.wall_seconds) if saturated.wall_seconds else 0,
        "sat µs/chunk": round(saturated_cpu / max(1, saturated.chunks) * 1e6, 1) if watch else None,
    }
    return figures


def goal_row(path: str, loop: str, figures: dict[str, object], load: dict[str, float], scale: Scale) -> Row:
    """A table row: the figures, how busy the machine was as it started, and (for relay rows) the goals it misses."""
    extra: dict[str, object] = dict(load)
    if loop != "direct":
        extra["missed"] = ",".join(missed(figures, scale.ideal_seconds)) or "none"
    return Row(BENCH, path, {**figures, **extra}, loop)


def with_added_ttft(relay: dict[str, object], direct: dict[str, object]) -> dict[str, object]:
    """``relay``'s figures with the sequential TTFT it adds over the direct baseline, next to its own."""
    ours, floor = relay["TTFT p50 ms"], direct["TTFT p50 ms"]
    added = round(ours - floor, 2) if isinstance(ours, float) and isinstance(floor, float) else None
    figures = dict(relay)
    figures["added TTFT ms"] = added
    return {key: figures[key] for key in _ORDER if key in figures}


_ORDER = (
    "open CPU ms/req",
    "TTFT p50 ms",
    "added TTFT ms",
    "burst TTFT p50 ms",
    "stream p50 s",
    "gap p99 ms",
    "errors",
    "peak RSS MiB",
    "relay µs/chunk",
    "saturation chunks/s",
    "sat µs/chunk",
)


@contextmanager
def pinned(cpus: str | None) -> Iterator[None]:
    """This process (the client) on ``cpus`` for the duration, then back where it was."""
    if cpus is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {int(cpu) for cpu in cpus.split(",")})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def path_rows(path: ProviderPath, scale: Scale) -> list[Row]:
    """The direct row and one relay row per event loop for one provider path."""
    load = wait_until_quiet(scale.quiet)
    direct = measure(path.direct, scale, path.emulator.pid)
    direct = {**direct, "open CPU ms/req": None, "peak RSS MiB": None, "relay µs/chunk": None, "sat µs/chunk": None}
    rows = [goal_row(path.name, "direct", with_added_ttft(direct, direct) | {"added TTFT ms": None}, load, scale)]
    for loop in scale.loops:
        load = wait_until_quiet(scale.quiet)
        with relay_server(path.config, path.settings, loop, scale.relay_cpu) as relay:
            figures = measure(_through(relay, path.alias), scale, relay.pid)
        rows.append(goal_row(path.name, loop, with_added_ttft(figures, direct), load, scale))
    return rows


def _through(relay: Server, alias: str) -> TargetFor:
    return lambda chunks, delay: relay_target(relay.url, alias, chunks, delay)


def telemetry_row(path: ProviderPath, scale: Scale) -> Row:
    """The paced load on ``path`` with OTLP export on: the per-chunk CPU that telemetry adds."""
    load = wait_until_quiet(scale.quiet)
    with started_server("bench.otlp_sink", [], cpus=scale.client_cpu) as sink:
        env = {**path.settings, **telemetry_on(sink.url)}
        with relay_server(path.config, env, LOOPS[0], scale.relay_cpu) as relay:
            target_for = _through(relay, path.alias)
            asyncio.run(run_load(target_for(2, 0), WARM_UP_STREAMS, 2))
            watch = ProcessWatch(relay.pid)
            paced, cpu = _timed(
                lambda: asyncio.run(run_load(target_for(scale.chunks, scale.delay_ms), scale.streams, scale.chunks)),
                watch,
            )
            rss = watch.peak_rss_mib()
    figures: dict[str, object] = {
        "stream p50 s": paced.stream_seconds_p50(),
        "gap p99 ms": paced.gap_ms()["p99"],
        "errors": paced.errors,
        "peak RSS MiB": rss,
        "relay µs/chunk": round(cpu / max(1, paced.chunks) * 1e6, 1),
    }
    return goal_row(f"{path.name} +OTLP export", LOOPS[0], figures, load, scale)


def run(scale: Scale | None = None) -> list[Row]:
    """Every provider path in ``scale``: direct, then the relay on each loop; the telemetry row last."""
    scale = scale or Scale.from_env()
    rows: list[Row] = []
    with pinned(scale.client_cpu):
        for name in scale.paths:
            with provider_path(name, scale.client_cpu, scale.upstream) as path:
                rows += path_rows(path, scale)
                if scale.telemetry and name == "azure":
                    rows.append(telemetry_row(path, scale))
    return rows


def heading(scale: Scale) -> str:
    return (
        f"goals: {scale.opens} sequential opens; burst of {scale.burst}; {scale.streams} streams x {scale.chunks} "
        f"chunks @ {scale.delay_ms:g} ms (ideal {scale.ideal_seconds:g} s); saturation {scale.saturation_streams} x "
        f"{scale.saturation_chunks} chunks @ 0 ms; {scale.upstream} upstream; relay on cpu {scale.relay_cpu}, "
        f"upstream+client on cpu {scale.client_cpu}; {time.strftime('%Y-%m-%d %H:%M:%S')}"
    )


def main() -> None:
    scale = Scale.from_env()
    rows = run(scale)
    print(heading(scale))
    print(render_columns(rows))


if __name__ == "__main__":
    main()
