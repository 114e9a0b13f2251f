"""Cutting a dialect's bytes into events, numbering them, and each dialect's terminal error event."""

from __future__ import annotations

import json

import pytest

from shared.dialects.sse import HEARTBEAT
from shared.resumable.framing import CHAT, DIALECTS, LOST, RESPONSES, TYPED, error_frame, frames_of, numbered
from tests.shared.resumable.sse_text import events_of


def test_one_chunk_with_several_events_and_a_heartbeat_becomes_the_events() -> None:
    chunk = b'event: a\ndata: {"x":"\xe3\x81\x82"}\n\n' + HEARTBEAT + b"data: [DONE]\n\n"
    assert frames_of(chunk) == ['event: a\ndata: {"x":"あ"}\n\n', "data: [DONE]\n\n"]


def test_an_empty_chunk_or_a_lone_heartbeat_holds_no_event() -> None:
    assert frames_of(b"") == frames_of(HEARTBEAT) == []


def test_numbered_puts_the_id_first() -> None:
    assert numbered(7, "data: x\n\n") == b"id: 7\ndata: x\n\n"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_has_one_terminal_error_event_with_the_code(dialect: str) -> None:
    frame = error_frame(dialect, LOST, 5)
    [event] = events_of(numbered(5, frame).decode())
    assert event.id == 5
    body = json.loads(event.data)
    code = {CHAT: lambda: body["error"]["code"], TYPED: lambda: body["code"], RESPONSES: lambda: body["code"]}[dialect]
    assert code() == "stream_lost"
    assert event.name == {CHAT: None, TYPED: "error", RESPONSES: "error"}[dialect]
    if dialect == RESPONSES:
        assert body["sequence_number"] == 4
