"""The ``application/vnd.amazon.eventstream`` binary framing, written from the spec.

AWS streams (Bedrock ``ConverseStream``, Transcribe, S3 Select...) send a
sequence of self-delimiting messages, each laid out as::

    total length    uint32, big endian, the whole message including both CRCs
    headers length  uint32, big endian
    prelude CRC     CRC32 of the eight bytes above
    headers         repeated: name length (uint8), name (UTF-8),
                    value type (uint8), value (type-dependent)
    payload         opaque bytes (JSON for Bedrock)
    message CRC     CRC32 of every byte before it

The encoder is what the Bedrock emulator puts on the wire; the decoder exists
so tests can read raw bytes without trusting the encoder that produced them
(tests also cross-check against botocore's own parser).
"""

from __future__ import annotations

import json
import random
import struct
from binascii import crc32
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

HeaderValue = str | bytes | bool | int

_PRELUDE = struct.Struct("!III")
_PRELUDE_LENGTH = _PRELUDE.size
_CRC = struct.Struct("!I")

# Header value type tags, as the spec numbers them.
_TRUE, _FALSE, _INT32, _BYTES, _STRING = 0, 1, 4, 6, 7

# Real Bedrock pads every event with a "p" field: a prefix of this alphabet of
# random length, so that payload sizes do not leak the length of the tokens.
PADDING_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

_random = random.Random()


def _crc(data: bytes, seed: int = 0) -> int:
    return crc32(data, seed) & 0xFFFFFFFF


def encode_headers(headers: Mapping[str, HeaderValue]) -> bytes:
    """Serialise headers in order; names are short UTF-8, values typed."""
    out = bytearray()
    for name, value in headers.items():
        raw_name = name.encode("utf-8")
        if len(raw_name) > 255:
            raise ValueError(f"header name too long: {name!r}")
        out += struct.pack("!B", len(raw_name)) + raw_name
        out += _encode_value(value)
    return bytes(out)


def _encode_value(value: HeaderValue) -> bytes:
    # bool before int: bool is a subclass of int in Python.
    if isinstance(value, bool):
        return struct.pack("!B", _TRUE if value else _FALSE)
    if isinstance(value, int):
        return struct.pack("!Bi", _INT32, value)
    if isinstance(value, bytes):
        return struct.pack("!BH", _BYTES, len(value)) + value
    raw = value.encode("utf-8")
    return struct.pack("!BH", _STRING, len(raw)) + raw


def encode_message(headers: Mapping[str, HeaderValue], payload: bytes) -> bytes:
    """One complete, CRC-protected event stream message."""
    raw_headers = encode_headers(headers)
    total = _PRELUDE_LENGTH + len(raw_headers) + len(payload) + _CRC.size
    prelude = struct.pack("!II", total, len(raw_headers))
    prelude += _CRC.pack(_crc(prelude))
    body = prelude + raw_headers + payload
    return body + _CRC.pack(_crc(body))


def padding(rng: random.Random | None = None) -> str:
    """A ``p`` value like real Bedrock's: the alphabet cut at a random length."""
    return PADDING_ALPHABET[: (rng or _random).randint(1, len(PADDING_ALPHABET))]


def event_frame(event_type: str, body: Mapping[str, Any], *, pad: bool = True) -> bytes:
    """An ``event`` message carrying ``body`` as compact JSON, padded like Bedrock."""
    document = dict(body)
    if pad:
        document["p"] = padding()
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, _json(document))


def exception_frame(exception_type: str, message: str) -> bytes:
    """An ``exception`` message: SDKs raise it as the modelled error ``exception_type``."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_message(headers, _json({"message": message}))


def _json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- decoding, for tests -------------------------------------------------------


class FrameError(ValueError):
    """Bytes that are not a valid event stream message."""


@dataclass(frozen=True)
class Frame:
    """One decoded message."""

    headers: dict[str, HeaderValue]
    payload: bytes

    def json(self) -> Any:
        """The payload parsed as JSON."""
        return json.loads(self.payload)


def decode_frames(data: bytes) -> Iterator[Frame]:
    """Every complete message in ``data``, verifying both CRCs; trailing bytes are an error."""
    offset = 0
    while offset < len(data):
        frame, offset = _decode_one(data, offset)
        yield frame


def _decode_one(data: bytes, offset: int) -> tuple[Frame, int]:
    if len(data) - offset < _PRELUDE_LENGTH:
        raise FrameError("truncated prelude")
    total, headers_length, prelude_crc = _PRELUDE.unpack_from(data, offset)
    if _crc(data[offset : offset + 8]) != prelude_crc:
        raise FrameError("prelude CRC mismatch")
    end = offset + total
    if end > len(data):
        raise FrameError("truncated message")
    (message_crc,) = _CRC.unpack_from(data, end - _CRC.size)
    if _crc(data[offset : end - _CRC.size]) != message_crc:
        raise FrameError("message CRC mismatch")
    headers_start = offset + _PRELUDE_LENGTH
    headers = _decode_headers(data[headers_start : headers_start + headers_length])
    payload = data[headers_start + headers_length : end - _CRC.size]
    return Frame(headers=headers, payload=payload), end


def _decode_headers(raw: bytes) -> dict[str, HeaderValue]:
    headers: dict[str, HeaderValue] = {}
    position = 0
    while position < len(raw):
        name_length = raw[position]
        name = raw[position + 1 : position + 1 + name_length].decode("utf-8")
        position += 1 + name_length
        value, position = _decode_value(raw, position)
        headers[name] = value
    return headers


def _decode_value(raw: bytes, position: int) -> tuple[HeaderValue, int]:
    kind = raw[position]
    position += 1
    if kind in (_TRUE, _FALSE):
        return kind == _TRUE, position
    if kind == _INT32:
        return struct.unpack_from("!i", raw, position)[0], position + 4
    if kind in (_BYTES, _STRING):
        (length,) = struct.unpack_from("!H", raw, position)
        value = raw[position + 2 : position + 2 + length]
        return (value.decode("utf-8") if kind == _STRING else value), position + 2 + length
    raise FrameError(f"unsupported header value type {kind}")
