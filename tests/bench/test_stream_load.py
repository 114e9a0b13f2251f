"""The load client's marker counting across reads (bench/stream_load.py), with the relay target's markers."""

from __future__ import annotations

import asyncio

from bench.stream_load import StreamProtocol, StreamRecord, Target

CHUNK = b'data: {"content":"x"}\n\n'


def _target() -> Target:
    return Target(
        host="example.invalid",
        port=1,
        request=b"GET / HTTP/1.1\r\n\r\n",
        content_marker=b'"content":"',
        done_marker=b"data: [DONE]",
        error_marker=b'data: {"error"',
    )


def _feed(reads: list[bytes]) -> StreamRecord:
    loop = asyncio.new_event_loop()
    try:
        record = StreamRecord()
        protocol = StreamProtocol(_target(), record, loop.create_future())
        for data in reads:
            protocol.data_received(data)
        return record
    finally:
        loop.close()


def test_a_marker_near_the_end_of_a_read_is_counted_once() -> None:
    # The first read ends two bytes after a marker, so the marker lies wholly in the
    # 13-byte tail scanned again with the next read.
    first = b"HTTP/1.1 200 OK\r\n\r\n" + b'data: {"content":"x"'
    second = b'}\n\n' + CHUNK
    record = _feed([first, second])
    assert record.chunks == 2


def test_a_marker_split_across_two_reads_is_counted() -> None:
    whole = b"HTTP/1.1 200 OK\r\n\r\n" + CHUNK * 3
    cut = whole.index(b'"content":"', 30) + 5
    record = _feed([whole[:cut], whole[cut:]])
    assert record.chunks == 3
