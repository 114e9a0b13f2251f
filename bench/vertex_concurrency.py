"""Hundreds of concurrent Vertex streams: straight to the emulator, and through the relay on both APIs.

Each stream asks for 100 chunks paced 20 ms apart. The emulator, the relay
and this client run as separate processes over loopback, with the real
OAuth2 flow (the relay signs a JWT with a key the emulator trusts). The
client is a bare asyncio HTTP/1.1 reader, so its own cost barely shows: it
timestamps every read that carries a delta, and the gaps between those reads
are the stutter a browser would see. The direct case is the floor: what the
emulator and the client manage on this machine without a relay in between.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import google.auth.transport.requests
from google.oauth2 import service_account

from devtools.emulators.scenario import inline_prompt

from .processes import relay_process, server_process
from .report import Row

STREAMS = 500
CHUNKS = 100
DELAY_MS = 20
GAP_P99_BUDGET_MS = 60
CAPACITY_LADDER = (50, 100, 150, 200, 300, 400)
CREDENTIALS_SETTING = "BENCH_VERTEX_CREDENTIALS"
MODEL = "gemini-2.0-flash-001"


@dataclass(frozen=True)
class Target:
    """Where to send the streams and how to recognise a delta and the end in the response bytes."""

    url: str
    body: dict[str, object]
    delta: bytes
    end: bytes
    headers: tuple[tuple[str, str], ...] = ()

    def request(self) -> bytes:
        """One HTTP/1.1 POST that asks the server to close when done."""
        parts = urlsplit(self.url)
        payload = json.dumps(self.body).encode()
        lines = [
            f"POST {parts.path}?{parts.query} HTTP/1.1" if parts.query else f"POST {parts.path} HTTP/1.1",
            f"Host: {parts.netloc}",
            "Content-Type: application/json",
            f"Content-Length: {len(payload)}",
            "Connection: close",
            *(f"{name}: {value}" for name, value in self.headers),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


@dataclass
class StreamResult:
    """What one client stream saw."""

    status: int = 0
    first_delta: float | None = None
    deltas: int = 0
    gaps: list[float] = field(default_factory=list)
    complete: bool = False
    error: str | None = None


async def one_stream(target: Target, request: bytes) -> StreamResult:
    """Send ``request`` and read the response to its end, timing the reads that carry deltas."""
    result = StreamResult()
    parts = urlsplit(target.url)
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    except OSError as exc:
        result.error = f"connect: {exc}"
        return result
    try:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        result.status = int(head.split(b" ", 2)[1])
        await read_body(reader, target, result, started)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        result.error = f"read: {exc!r}"
    finally:
        writer.close()
    if result.error is None and not (result.status == 200 and result.complete and result.deltas == CHUNKS):
        result.error = f"status {result.status}, {result.deltas} deltas, complete={result.complete}"
    return result


async def read_body(reader: asyncio.StreamReader, target: Target, result: StreamResult, started: float) -> None:
    last: float | None = None
    tail = b""
    while data := await reader.read(65536):
        now = time.perf_counter()
        if deltas := data.count(target.delta):
            result.deltas += deltas
            if last is None:
                result.first_delta = now - started
            else:
                result.gaps.append(now - last)
            last = now
        if b'"error"' in data:
            result.error = "error frame"
        result.complete = result.complete or target.end in tail + data
        tail = data[-len(target.end) :]


async def run_streams(target: Target, streams: int) -> tuple[list[StreamResult], float]:
    """``streams`` concurrent streams, all started at once; results and the wall time they took."""
    request = target.request()
    started = time.perf_counter()
    results = await asyncio.gather(*(one_stream(target, request) for _ in range(streams)))
    return list(results), time.perf_counter() - started


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def summarise(case: str, results: list[StreamResult], elapsed: float) -> Row:
    """One table row: errors, throughput, inter-delta gaps and time to first delta."""
    gaps = [gap * 1000 for result in results for gap in result.gaps]
    firsts = [result.first_delta * 1000 for result in results if result.first_delta is not None]
    errors = [result.error for result in results if result.error]
    p99 = percentile(gaps, 0.99)
    figures: dict[str, object] = {
        "streams": len(results),
        "errors": len(errors),
        "deltas/s": round(sum(result.deltas for result in results) / elapsed),
        "gap p50 ms": round(statistics.median(gaps), 1) if gaps else "-",
        "gap p99 ms": round(p99, 1),
        "gap max ms": round(max(gaps), 1) if gaps else "-",
        "first delta p50 ms": round(statistics.median(firsts), 1) if firsts else "-",
        "first delta p99 ms": round(percentile(firsts, 0.99), 1),
        f"p99<{GAP_P99_BUDGET_MS}ms": "yes" if not errors and p99 < GAP_P99_BUDGET_MS else "NO",
    }
    if errors:
        figures["first error"] = errors[0]
    return Row("vertex_concurrency", case, figures)


def relay_config(emulator_url: str) -> dict[str, object]:
    """One backend per upstream API on the emulator; the alias is the API's name."""
    backend = {
        "provider": "vertex",
        "project": "bench-project",
        "location": "us-central1",
        "model": MODEL,
        "endpoint_url": emulator_url,
        "credentials_setting": CREDENTIALS_SETTING,
    }
    return {
        "backends": [{"name": f"vertex-{api}", "api": api, **backend} for api in ("openai", "native")],
        "models": {api: [f"vertex-{api}"] for api in ("openai", "native")},
    }


def access_token(key_file: Path) -> str:
    """A token for the direct case, fetched with google-auth like the relay does."""
    info = json.loads(key_file.read_text(encoding="utf-8"))
    scopes = ["https://www.googleapis.com/auth/cloud-platform"]
    credentials = service_account.Credentials.from_service_account_info(info, scopes=scopes)
    credentials.refresh(google.auth.transport.requests.Request())
    return str(credentials.token)


def targets(emulator: str, relay: str, token: str) -> dict[str, Target]:
    prompt = inline_prompt(chunks=CHUNKS, delay_ms=DELAY_MS)
    messages = [{"role": "user", "content": prompt}]
    native_url = (
        f"{emulator}/v1/projects/bench-project/locations/us-central1/publishers/google/models/"
        f"{MODEL}:streamGenerateContent?alt=sse"
    )
    direct = Target(
        native_url,
        {"contents": [{"role": "user", "parts": [{"text": prompt}]}]},
        delta=b'"parts":[{"text":"',
        end=b'"finishReason"',
        headers=(("Authorization", f"Bearer {token}"),),
    )
    relayed = {
        f"relay, api={api}": Target(
            f"{relay}/api/v1/chat/completions",
            {"model": api, "stream": True, "messages": messages},
            delta=b'"content":"',
            end=b"data: [DONE]",
        )
        for api in ("openai", "native")
    }
    return {"direct to emulator (native SSE)": direct, **relayed}


def within_budget(row: Row) -> bool:
    return row.figures[f"p99<{GAP_P99_BUDGET_MS}ms"] == "yes"


def largest_within_budget(case: str, target: Target) -> Row:
    """Climb a ladder of concurrency levels; the last one whose gaps stayed within budget."""
    best = Row(
        "vertex_concurrency", f"{case}: largest concurrency with p99 gap < {GAP_P99_BUDGET_MS} ms", {"streams": 0}
    )
    for level in CAPACITY_LADDER:
        results, elapsed = asyncio.run(run_streams(target, level))
        row = summarise(best.case, results, elapsed)
        if not within_budget(row):
            break
        best = row
    return best


def run(streams: int = STREAMS) -> list[Row]:
    """``streams`` concurrent streams per case, then each relay case's capacity on this machine."""
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        key_file = Path(directory) / "vertex-key.json"
        emulator_args = ["--write-service-account", str(key_file), "--log-level", "warning"]
        with server_process("devtools.emulators.vertex", emulator_args) as emulator:
            settings = {CREDENTIALS_SETTING: key_file.read_text(encoding="utf-8")}
            with relay_process(relay_config(emulator), settings) as relay:
                cases = targets(emulator, relay, access_token(key_file))
                for case, target in cases.items():
                    asyncio.run(run_streams(target, 5))  # warm up: token cache, connection pools
                    results, elapsed = asyncio.run(run_streams(target, streams))
                    rows.append(summarise(f"{case}: {streams} streams x {CHUNKS} @ {DELAY_MS} ms", results, elapsed))
                rows += [largest_within_budget(case, target) for case, target in cases.items() if "relay" in case]
    return rows
