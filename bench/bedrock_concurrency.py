"""Hundreds of concurrent Bedrock streams through one relay process.

The Bedrock emulator and the relay each run in their own process; this
process is the client (:mod:`.stream_load`). Every stream is ``chunks``
content deltas ``delay_ms`` apart, so a relay that keeps up shows inter-chunk
gaps near ``delay_ms``; one that blocks its event loop, serialises streams on
a small pool or buffers shows long gaps, errors or a long wall time.

A first row sends the same load straight to the emulator, without the relay:
the floor that the emulator, this client and the machine set on their own.

``python -m bench.bedrock_concurrency --concurrency 1000 --chunks 50 --delay-ms 20``
runs other shapes; ``--skip-direct`` leaves out the baseline.
"""

from __future__ import annotations

from devtools.emulators.scenario import inline_prompt

from . import concurrency
from .concurrency import DEFAULT_SHAPE, Shape
from .processes import started_server
from .report import Row
from .stream_load import Target

BENCH = "bedrock_concurrency"
MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"
CREDENTIALS = {"BENCH_AWS_KEY_ID": "AKIDBENCHEXAMPLE", "BENCH_AWS_SECRET": "bench-only-secret"}


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
    return Target.post(
        emulator_url,
        f"/model/{MODEL_ID}/converse-stream",
        body,
        {"Authorization": "Bearer x"},
        content_marker=b'"delta":{"text":"',
        done_marker=b"\x07\x00\x08metadata",  # the :event-type header of the last event
        error_marker=b":exception-type",
    )


def run(shape: Shape = DEFAULT_SHAPE, direct: bool = True) -> list[Row]:
    """Measure ``shape`` through the relay, and optionally straight to the emulator."""
    rows = []
    with started_server("devtools.emulators.bedrock", []) as emulator:
        if direct:
            target = direct_target(emulator.url, shape.chunks, shape.delay_ms)
            rows.append(concurrency.direct_row(BENCH, f"direct to emulator, {shape}", target, shape, emulator))
        config = relay_config(emulator.url, max_connections=max(1000, shape.concurrency))
        case = f"through relay, {shape}"
        rows += concurrency.through_relay(BENCH, case, emulator, config, CREDENTIALS, "bedrock", shape)
    return rows


if __name__ == "__main__":
    concurrency.main(__doc__.splitlines()[0], run)
