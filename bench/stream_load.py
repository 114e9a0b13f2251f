"""Many concurrent streams, timed by the client: the load-generating core, provider neutral.

With two cores shared by the relay, the upstream emulator and this client, the
client must be cheap or it becomes what is measured. So each stream is a raw
asyncio protocol on its own socket: one HTTP/1.1 request written once, and
every received segment only timestamped and scanned for byte markers (a
content delta, the end, an error). Nothing is JSON-decoded.

A *gap* is the time between two reads that carried content for the same
stream. Deltas that arrive together in one read count as gaps of zero, so a
relay that delivers in bursts shows a low p50 and a high p99, as it should.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from devtools.emulators.scenario import inline_prompt

from .processes import BENCH_AUTH_HEADERS


@dataclass(frozen=True)
class Target:
    """What to send and which bytes to look for in the answer."""

    host: str
    port: int
    request: bytes
    content_marker: bytes
    done_marker: bytes
    error_marker: bytes

    @classmethod
    def post(
        cls,
        url: str,
        path: str,
        body: dict[str, object],
        headers: dict[str, str],
        *,
        content_marker: bytes,
        done_marker: bytes,
        error_marker: bytes,
    ) -> Target:
        """A JSON POST of ``body`` to ``path`` on the server at ``url``."""
        address = urlsplit(url)
        return cls(
            host=address.hostname or "127.0.0.1",
            port=address.port or 80,
            request=http_request(url, path, body, headers),
            content_marker=content_marker,
            done_marker=done_marker,
            error_marker=error_marker,
        )


def http_request(url: str, path: str, body: dict[str, object], headers: dict[str, str] | None = None) -> bytes:
    """A complete HTTP/1.1 POST with a JSON body, ready to write."""
    payload = json.dumps(body, ensure_ascii=False).encode()
    host = urlsplit(url).netloc
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def relay_target(url: str, model: str, chunks: int, delay_ms: float) -> Target:
    """OpenAI chat completion streams through the relay, each scripted by the emulator."""
    prompt = inline_prompt(chunks=chunks, delay_ms=delay_ms)
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": prompt}]}
    return Target.post(
        url,
        "/api/v1/chat/completions",
        body,
        BENCH_AUTH_HEADERS,
        content_marker=b'"content":"',
        done_marker=b"data: [DONE]",
        error_marker=b'data: {"error"',
    )


@dataclass
class StreamRecord:
    """One stream as the client saw it."""

    status_ok: bool | None = None
    chunks: int = 0
    done: bool = False
    failed: bool = False
    gaps: list[float] = field(default_factory=list)
    last_content_at: float | None = None
    sent_at: float | None = None
    first_content_at: float | None = None
    ended_at: float | None = None

    def first_content_seconds(self) -> float | None:
        """From writing the request to the first read that carried content: the client's time to first token."""
        if self.sent_at is None or self.first_content_at is None:
            return None
        return self.first_content_at - self.sent_at

    def stream_seconds(self) -> float | None:
        """From writing the request to the read that ended the stream."""
        if self.sent_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.sent_at


class StreamProtocol(asyncio.Protocol):
    """Reads one response, timestamping every read that carries content."""

    def __init__(self, target: Target, record: StreamRecord, finished: asyncio.Future[None]) -> None:
        self._target = target
        self._record = record
        self._finished = finished
        self._tail = b""
        self._overlap = max(len(target.content_marker), len(target.done_marker), len(target.error_marker)) - 1
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._record.sent_at = time.perf_counter()
        transport.write(self._target.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        record = self._record
        if record.status_ok is None:
            record.status_ok = data.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200"))
        # Markers may straddle two reads: scan the end of the previous read too,
        # but count only markers that end in this read; one wholly inside the
        # tail was counted last time.
        tail = self._tail
        window = tail + data
        self._tail = window[-self._overlap :]
        found = window.count(self._target.content_marker) - tail.count(self._target.content_marker)
        if found:
            if record.first_content_at is None:
                record.first_content_at = now
            if record.last_content_at is not None:
                record.gaps.append(now - record.last_content_at)
            record.gaps += [0.0] * (found - 1)
            record.last_content_at = now
            record.chunks += found
        if self._target.error_marker in window:
            record.failed = True
        if self._target.done_marker in window or record.failed or not record.status_ok:
            record.done = self._target.done_marker in window
            self._close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._close()

    def _close(self) -> None:
        if self._record.ended_at is None:
            self._record.ended_at = time.perf_counter()
        if self._transport is not None:
            self._transport.close()
        if not self._finished.done():
            self._finished.set_result(None)


@dataclass(frozen=True)
class LoadResult:
    """Every stream of one run, and the run's wall time."""

    records: list[StreamRecord]
    expected_chunks: int
    wall_seconds: float

    @property
    def ok(self) -> int:
        return sum(1 for record in self.records if self._ok(record))

    @property
    def errors(self) -> int:
        return len(self.records) - self.ok

    @property
    def chunks(self) -> int:
        return sum(record.chunks for record in self.records)

    def _ok(self, record: StreamRecord) -> bool:
        return bool(record.status_ok and record.done and not record.failed and record.chunks == self.expected_chunks)

    def first_content_ms_p50(self) -> float:
        """Median time to first token over the streams that delivered content, in milliseconds."""
        return _median_ms([record.first_content_seconds() for record in self.records])

    def stream_seconds_p50(self) -> float:
        """Median time from request to end over the streams that ended well, in seconds."""
        return round(_median_ms([record.stream_seconds() for record in self.records if self._ok(record)]) / 1000, 3)

    def gap_ms(self) -> dict[str, float]:
        """Inter-chunk gaps over every stream: p50, p99 and max, in milliseconds."""
        gaps = sorted(gap for record in self.records for gap in record.gaps)
        if not gaps:
            return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
        return {
            "p50": round(statistics.median(gaps) * 1000, 1),
            "p99": round(gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))] * 1000, 1),
            "max": round(gaps[-1] * 1000, 1),
        }


def _median_ms(samples: list[float | None]) -> float:
    present = [sample for sample in samples if sample is not None]
    return round(statistics.median(present) * 1000, 2) if present else float("nan")


async def run_load(target: Target, concurrency: int, expected_chunks: int, timeout: float = 300) -> LoadResult:
    """Open ``concurrency`` streams at once and wait for all of them to end."""
    loop = asyncio.get_running_loop()
    records = [StreamRecord() for _ in range(concurrency)]

    async def one(record: StreamRecord) -> None:
        finished: asyncio.Future[None] = loop.create_future()
        try:
            await loop.create_connection(lambda: StreamProtocol(target, record, finished), target.host, target.port)
            await asyncio.wait_for(finished, timeout)
        except (OSError, TimeoutError):
            record.failed = True

    started = time.perf_counter()
    await asyncio.gather(*(one(record) for record in records))
    return LoadResult(records, expected_chunks, time.perf_counter() - started)
