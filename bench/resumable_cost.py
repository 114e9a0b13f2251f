"""What resumable streams cost: relay CPU per delta and storage operations, against plain streams.

The same Azure OpenAI load runs twice through one relay process on
production's event loop: plain, then with ``x-relay-resumable: 1`` and the
replay log in Azure Table Storage (Azurite, started here with its request
log on). Storage operations are the requests Azurite logged, warm-up streams
included, so the per-stream and per-1,000-deltas figures divide by every
stream and delta the relay generated (one emulator delta is one token).

``python -m bench.resumable_cost --concurrency 100`` runs other shapes;
``BENCH_FLUSH_SECONDS=1`` another flush interval.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from devtools.emulators.scenario import inline_prompt
from devtools.local_host import APP_ROOT
from devtools.processes import free_port, stop_processes, wait_for_port
from shared.resumable.settings import ResumableSettings

from . import concurrency
from .azure_concurrency import KEY, relay_config
from .concurrency import WARM_UP_STREAMS, Shape
from .processes import BENCH_AUTH_HEADERS, Server, relay_server, started_server
from .report import Row
from .stream_load import Target

BENCH = "resumable"
LOOP = "asyncio"
# The configuration's flush interval unless BENCH_FLUSH_SECONDS names another.
FLUSH_SECONDS = float(os.environ.get("BENCH_FLUSH_SECONDS") or ResumableSettings().flush_seconds)
SHAPE = Shape(concurrency=100, chunks=100, delay_ms=20)
AZURITE = APP_ROOT / "devtools" / "azurite" / "node_modules" / ".bin" / "azurite-table"
# Azurite's well-known development account; public.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# One line per request Azurite served, whatever its kind (a transaction is one).
REQUEST_LINE = "TableStorageContextMiddleware: RequestMethod="


@contextmanager
def azurite() -> Iterator[tuple[str, Path]]:
    """Azurite's table service with its debug log: the connection string and the log's path."""
    if not AZURITE.exists():
        raise SystemExit(f"{AZURITE} is missing: run 'make azurite'")
    with tempfile.TemporaryDirectory(prefix="azurite-bench-") as workspace:
        port, log = free_port(), Path(workspace) / "requests.log"
        command = [str(AZURITE), "--tableHost", "127.0.0.1", "--tablePort", str(port), "--location", workspace]
        command += ["--debug", str(log), "--silent", "--skipApiVersionCheck", "--disableTelemetry"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, process)
            endpoint = f"http://127.0.0.1:{port}/{ACCOUNT}"
            yield (
                f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};TableEndpoint={endpoint};",
                log,
            )
        finally:
            stop_processes([process])


def storage_requests(log: Path) -> int:
    """How many requests Azurite has served so far."""
    if not log.exists():
        return 0
    with log.open(encoding="utf-8", errors="replace") as lines:
        return sum(REQUEST_LINE in line for line in lines)


def target(url: str, shape: Shape, resumable: bool) -> Target:
    """Chat completion streams through the relay, opted into resuming or not."""
    prompt = inline_prompt(chunks=shape.chunks, delay_ms=shape.delay_ms)
    body: dict[str, object] = {"model": "azure", "stream": True, "messages": [{"role": "user", "content": prompt}]}
    headers = {**BENCH_AUTH_HEADERS, **({"x-relay-resumable": "1"} if resumable else {})}
    return Target.post(
        url,
        "/api/v1/chat/completions",
        body,
        headers,
        content_marker=b'"content":"',
        done_marker=b"data: [DONE]",
        error_marker=b'data: {"error"',
    )


def measured(emulator: Server, config: dict[str, Any], env: dict[str, str], shape: Shape, resumable: bool) -> Row:
    case = f"resumable (Table, flush {FLUSH_SECONDS:g} s), {shape}" if resumable else f"plain, {shape}"
    with relay_server(config, {**KEY, **env}, LOOP) as relay:
        row = concurrency.relay_row(BENCH, case, target(relay.url, shape, resumable), shape, relay, emulator)
        return replace(row, loop=LOOP)


def run(shape: Shape = SHAPE, direct: bool = True) -> list[Row]:
    """Plain, resumable, and the difference. ``direct`` is unused (no baseline here)."""
    with started_server("devtools.emulators.azure_openai", []) as emulator, azurite() as (connection, log):
        plain = measured(emulator, relay_config(emulator.url), {}, shape, resumable=False)
        config = {**relay_config(emulator.url), "resumable": {"store": "table", "flush_seconds": FLUSH_SECONDS}}
        resumable = measured(emulator, config, {"AzureWebJobsStorage": connection}, shape, resumable=True)
        operations = storage_requests(log)
    streams = shape.concurrency + WARM_UP_STREAMS
    storage = {
        "storage ops": operations,
        "ops/stream": round(operations / streams, 1),
        "ops/1k deltas": round(operations / (streams * shape.chunks) * 1000, 1),
    }
    resumable = replace(resumable, figures={**resumable.figures, **storage})
    return [plain, resumable, difference(plain, resumable)]


def difference(plain: Row, resumable: Row) -> Row:
    """How much more relay CPU each delta cost when resumable."""
    before, after = plain.figures["relay µs/delta"], resumable.figures["relay µs/delta"]
    assert isinstance(before, float) and isinstance(after, float)
    change = round((after - before) / before * 100, 1) if before else float("nan")
    return Row(BENCH, "resumable vs plain", {"relay µs/delta": round(after - before, 1), "change %": change}, LOOP)


if __name__ == "__main__":
    concurrency.main(__doc__.splitlines()[0], run)
