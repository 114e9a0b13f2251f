"""The AWS event-stream frame encoder behind the Bedrock emulator, checked against botocore's own decoder.

Every frame the emulator streams comes from ``devtools/emulators/eventstream.py``;
if botocore cannot decode it byte for byte, nothing downstream is worth testing.
"""

from __future__ import annotations

import json

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from devtools.emulators.eventstream import (
    PADDING_ALPHABET,
    FrameError,
    decode_frames,
    encode_message,
    event_frame,
    exception_frame,
)
from tests.devtools.emulators.bedrock.bedrock_emulator_calls import JAPANESE


def test_encoded_frames_decode_with_botocore_even_fed_one_byte_at_a_time() -> None:
    frames = [
        event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": JAPANESE}}),
        encode_message({"flag": True, "off": False, "count": -7, "blob": b"\x00\xff", "name": "値"}, b"{}"),
        exception_frame("throttlingException", "slow down"),
    ]
    buffer = EventStreamBuffer()
    messages = []
    for byte in b"".join(frames):
        buffer.add_data(bytes([byte]))
        messages.extend(buffer)
    assert [m.headers.get(":message-type") for m in messages] == ["event", None, "exception"]
    assert json.loads(messages[0].payload)["delta"]["text"] == JAPANESE
    assert messages[1].headers == {"flag": True, "off": False, "count": -7, "blob": b"\x00\xff", "name": "値"}
    assert messages[2].headers[":exception-type"] == "throttlingException"
    assert json.loads(messages[2].payload) == {"message": "slow down"}


def test_corrupted_frame_fails_both_crc_checks() -> None:
    frame = bytearray(event_frame("messageStart", {"role": "assistant"}))
    frame[-6] ^= 0x01  # a payload byte: only the message CRC can notice
    buffer = EventStreamBuffer()
    buffer.add_data(bytes(frame))
    with pytest.raises(ChecksumMismatch):
        list(buffer)
    with pytest.raises(FrameError, match="message CRC"):
        list(decode_frames(bytes(frame)))


def test_own_decoder_agrees_with_botocore() -> None:
    data = b"".join(event_frame("contentBlockStop", {"contentBlockIndex": i}) for i in range(3))
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    theirs = [(m.headers, m.payload) for m in buffer]
    ours = [(f.headers, f.payload) for f in decode_frames(data)]
    assert ours == theirs and len(ours) == 3


def test_padding_is_an_alphabet_prefix_of_varying_length() -> None:
    pads = [next(decode_frames(event_frame("messageStart", {"role": "assistant"}))).json()["p"] for _ in range(60)]
    assert all(PADDING_ALPHABET.startswith(p) and p for p in pads)
    assert len({len(p) for p in pads}) > 5
