"""The Responses dialect on its own: canonical events in, ordered and numbered ``response.*`` events out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.dialects.responses import ResponseBuilder, collect_response, encode_stream
from shared.errors import UpstreamError
from shared.events import (
    Finish,
    Heartbeat,
    ReasoningDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    Usage,
)

pytestmark = pytest.mark.anyio
TERMINALS = {"response.completed", "response.incomplete", "response.failed"}


async def feed(events: list[StreamEvent]) -> AsyncIterator[StreamEvent]:
    for event in events:
        yield event


async def broken(events: list[StreamEvent]) -> AsyncIterator[StreamEvent]:
    for event in events:
        yield event
    raise RuntimeError("a stage above the guard failed")


async def frames(source: AsyncIterator[StreamEvent], echo: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every data object, after checking each frame's ``event:`` line names its ``type``."""
    raw = b"".join([chunk async for chunk in encode_stream(source, ResponseBuilder("alias", echo or {}))])
    documents = []
    for block in raw.decode().split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if lines:
            name, data = lines[0].removeprefix("event: "), json.loads(lines[1].removeprefix("data: "))
            assert name == data["type"]
            documents.append(data)
    return documents


def types(documents: list[dict[str, Any]]) -> list[str]:
    return [document["type"] for document in documents]


async def test_text_comes_in_openais_order_numbered_from_zero() -> None:
    events = [TextDelta("Hel"), TextDelta("lo"), Usage(3, 2), Finish("stop")]
    documents = await frames(feed(events))
    assert types(documents) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [document["sequence_number"] for document in documents] == list(range(10))
    assert documents[6]["text"] == "Hello"
    final = documents[-1]["response"]
    text = final["output"][0]["content"][0]["text"]
    assert (final["status"], final["model"], text) == ("completed", "alias", "Hello")
    assert final["usage"] == {
        "input_tokens": 3,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 2,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 5,
    }
    assert documents[0]["response"]["output"] == [] and documents[0]["response"]["status"] == "in_progress"


async def test_reasoning_then_text_are_two_items() -> None:
    events = [ReasoningDelta("think"), ReasoningDelta("ing"), TextDelta("answer"), Finish("stop")]
    documents = await frames(feed(events))
    assert types(documents)[2:8] == [
        "response.output_item.added",
        "response.content_part.added",
        "response.reasoning_text.delta",
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        "response.content_part.done",
    ]
    output = documents[-1]["response"]["output"]
    assert [item["type"] for item in output] == ["reasoning", "message"]
    assert output[0]["content"] == [{"type": "reasoning_text", "text": "thinking"}]
    assert output[0]["id"].startswith("rs_") and output[1]["id"].startswith("msg_")


async def test_tool_calls_are_function_call_items() -> None:
    events = [
        ToolCallDelta(0, id="call_a", name="f", arguments='{"x"'),
        ToolCallDelta(0, arguments=": 1}"),
        ToolCallDelta(1, id="call_b", name="g", arguments="{}"),
        Finish("tool_calls"),
    ]
    documents = await frames(feed(events))
    assert types(documents)[2:] == [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    output = documents[-1]["response"]["output"]
    assert [(item["call_id"], item["name"], item["arguments"]) for item in output] == [
        ("call_a", "f", '{"x": 1}'),
        ("call_b", "g", "{}"),
    ]
    assert all(item["id"].startswith("fc_") and item["status"] == "completed" for item in output)


async def test_a_length_stop_is_incomplete() -> None:
    documents = await frames(feed([TextDelta("cut"), Finish("length")]))
    final = documents[-1]
    assert final["type"] == "response.incomplete"
    assert final["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["response"]["output"][0]["status"] == "incomplete"


async def test_a_stream_error_is_one_response_failed() -> None:
    documents = await frames(feed([TextDelta("half"), StreamError("upstream_error", "it broke")]))
    assert types(documents)[-1] == "response.failed"
    assert len(TERMINALS & set(types(documents))) == 1
    failed = documents[-1]["response"]
    assert failed["status"] == "failed" and failed["error"] == {"code": "upstream_error", "message": "it broke"}
    assert failed["output"][0]["status"] == "incomplete"


async def test_a_failure_before_any_event_still_opens_the_response() -> None:
    documents = await frames(broken([]))
    assert types(documents) == ["response.created", "response.in_progress", "response.failed"]
    assert documents[-1]["response"]["error"]["code"] == "internal_error"


async def test_a_pipeline_failure_after_text_is_one_terminal() -> None:
    documents = await frames(broken([TextDelta("a")]))
    assert [name for name in types(documents) if name in TERMINALS] == ["response.failed"]


async def test_a_stream_without_an_end_is_failed_not_cut() -> None:
    documents = await frames(feed([TextDelta("a")]))
    assert documents[-1]["response"]["error"]["code"] == "relay_truncated"


async def test_a_heartbeat_is_a_comment_after_the_opening_pair() -> None:
    source = feed([Heartbeat(), TextDelta("a"), Finish("stop")])
    raw = b"".join([chunk async for chunk in encode_stream(source, ResponseBuilder("alias"))])
    assert b": keep-alive\n\n" in raw
    assert raw.index(b"response.in_progress") < raw.index(b": keep-alive") < raw.index(b"output_item.added")


async def test_the_request_echo_is_in_every_snapshot() -> None:
    echo = {"instructions": "Be brief.", "tools": [], "store": False}
    documents = await frames(feed([Finish("stop")]), echo)
    assert all(documents[i]["response"]["instructions"] == "Be brief." for i in (0, 1, -1))
    assert documents[-1]["response"]["output"] == []


async def test_collecting_builds_the_same_response() -> None:
    events = [ReasoningDelta("r"), TextDelta("a"), ToolCallDelta(0, id="c", name="f"), Usage(1, 1), Finish("stop")]
    document = await collect_response(feed(events), ResponseBuilder("alias"))
    assert (document["object"], document["status"]) == ("response", "completed")
    assert [item["type"] for item in document["output"]] == ["reasoning", "message", "function_call"]
    assert document["usage"]["total_tokens"] == 2 and document["id"].startswith("resp_")


async def test_collecting_a_failed_stream_raises() -> None:
    with pytest.raises(UpstreamError) as raised:
        await collect_response(
            feed([TextDelta("a"), StreamError("rate_limited", "slow down", retryable=True)]), ResponseBuilder("alias")
        )
    assert (raised.value.code, raised.value.retryable) == ("rate_limited", True)


async def test_usage_details_carry_cached_and_reasoning_tokens() -> None:
    events = [TextDelta("a"), Usage(9, 7, cached_tokens=8, reasoning_tokens=6), Finish("stop")]
    document = await collect_response(feed(events), ResponseBuilder("alias"))
    usage = document["usage"]
    assert usage["input_tokens_details"] == {"cached_tokens": 8}
    assert usage["output_tokens_details"] == {"reasoning_tokens": 6}
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (9, 7, 16)
