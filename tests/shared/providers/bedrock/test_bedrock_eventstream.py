"""The event stream decoder, checked against botocore's and the emulator's encoder."""

from __future__ import annotations

import struct
import uuid
from binascii import crc32

import pytest
from botocore.eventstream import EventStreamBuffer

from devtools.emulators.eventstream import encode_message, event_frame, exception_frame
from shared.providers.bedrock.eventstream import EventStreamDecoder, EventStreamError, Message

JAPANESE = "こんにちは🎌"


def header(name: str, kind: int, value: bytes) -> bytes:
    return struct.pack("!B", len(name)) + name.encode() + struct.pack("!B", kind) + value


def raw_message(headers: bytes, payload: bytes) -> bytes:
    """A message built by hand, for header types the emulator never sends."""
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack("!II", total, len(headers))
    prelude += struct.pack("!I", crc32(prelude))
    body = prelude + headers + payload
    return body + struct.pack("!I", crc32(body))


EVERY_TYPE = raw_message(
    header("t", 0, b"")
    + header("f", 1, b"")
    + header("byte", 2, struct.pack("!b", -3))
    + header("short", 3, struct.pack("!h", -300))
    + header("int", 4, struct.pack("!i", 70000))
    + header("long", 5, struct.pack("!q", 2**40))
    + header("bytes", 6, struct.pack("!H", 2) + b"\x00\xff")
    + header("string", 7, struct.pack("!H", len(JAPANESE.encode())) + JAPANESE.encode())
    + header("time", 8, struct.pack("!q", 1_700_000_000_000))
    + header("uuid", 9, uuid.UUID(int=7).bytes),
    b"payload",
)


def botocore_messages(data: bytes) -> list[tuple[dict[str, object], bytes]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(message.headers, message.payload) for message in buffer]


def test_agrees_with_botocore_on_every_header_type() -> None:
    ours = EventStreamDecoder().feed(EVERY_TYPE)
    theirs = botocore_messages(EVERY_TYPE)
    assert len(ours) == 1
    headers = dict(ours[0].headers)
    assert headers.pop("time") == 1_700_000_000_000  # botocore turns timestamps into datetimes
    assert headers.pop("uuid") == uuid.UUID(int=7).bytes  # and uuids into UUIDs
    expected = {name: value for name, value in theirs[0][0].items() if name not in ("time", "uuid")}
    assert headers == expected
    assert ours[0].payload == theirs[0][1] == b"payload"


def test_emulator_frames_decode_fed_one_byte_at_a_time() -> None:
    frames = [
        event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": JAPANESE}}),
        exception_frame("throttlingException", "slow down"),
        encode_message({"flag": True, "count": -7, "blob": b"\x00"}, b""),
    ]
    data = b"".join(frames)
    decoder = EventStreamDecoder()
    messages: list[Message] = []
    for index in range(len(data)):
        messages += decoder.feed(data[index : index + 1])
    assert [(dict(m.headers), m.payload) for m in messages] == botocore_messages(data)
    assert decoder.pending == 0


def test_a_partial_message_waits_for_the_rest() -> None:
    frame = event_frame("messageStart", {"role": "assistant"})
    decoder = EventStreamDecoder()
    assert decoder.feed(frame[:-5]) == []
    assert decoder.pending == len(frame) - 5
    assert len(decoder.feed(frame[-5:] + frame)) == 2


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (EVERY_TYPE[:9] + bytes([EVERY_TYPE[9] ^ 1]) + EVERY_TYPE[10:], "prelude checksum"),
        (EVERY_TYPE[:-6] + bytes([EVERY_TYPE[-6] ^ 1]) + EVERY_TYPE[-5:], "message checksum"),
        (raw_message(header("x", 42, b""), b""), "malformed headers"),
        (raw_message(header("s", 7, struct.pack("!H", 9) + b"ab"), b""), "overrun"),
        (raw_message(b"\x05ab", b""), "malformed headers"),
    ],
)
def test_corruption_is_refused(data: bytes, problem: str) -> None:
    with pytest.raises(EventStreamError, match=problem):
        EventStreamDecoder().feed(data)


def test_impossible_lengths_are_refused_before_buffering() -> None:
    prelude = struct.pack("!II", 64 * 1024 * 1024, 0)
    with pytest.raises(EventStreamError, match="impossible lengths"):
        EventStreamDecoder().feed(prelude + struct.pack("!I", crc32(prelude)) + b"\x00" * 4)
