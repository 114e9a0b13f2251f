"""The Bedrock emulator checks ``cachePoint`` blocks as the service does: after content, at most four."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.bedrock_cache import cache_point_problem, with_prompt_cache
from devtools.emulators.scenario import Scenario
from tests.devtools.emulators.bedrock.bedrock_emulator_calls import MODEL, read_all, text_of

POINT = {"cachePoint": {"type": "default"}}
TOOL = {"toolSpec": {"name": "lookup", "inputSchema": {"json": {"type": "object"}}}}


def test_cache_points_after_content_are_accepted_and_recorded(client: BaseClient, app: BedrockEmulator) -> None:
    response = client.converse_stream(
        modelId=MODEL,
        system=[{"text": "rules"}, {"cachePoint": {"type": "default", "ttl": "1h"}}],
        messages=[{"role": "user", "content": [{"text": "doc"}, POINT, {"text": "question"}]}],
        toolConfig={"tools": [TOOL, POINT]},
    )
    assert text_of(read_all(response))
    body = app.recorder.records[0].body
    assert body["messages"][0]["content"][1] == POINT
    assert body["toolConfig"]["tools"][1] == POINT


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"messages": [{"role": "user", "content": [POINT, {"text": "hi"}]}]},
            "The cachePoint at messages.1.member.content.1 must follow the content it caches",
        ),
        (
            {"messages": [{"role": "user", "content": [{"text": "hi"}]}], "system": [POINT]},
            "The cachePoint at system.1 must follow",
        ),
        (
            {"messages": [{"role": "user", "content": [{"text": "a"}, POINT] * 5}]},
            "A maximum of 4 cachePoint blocks are allowed per request; the request has 5.",
        ),
    ],
)
def test_misplaced_or_too_many_cache_points_are_refused(
    client: BaseClient, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as raised:
        client.converse_stream(modelId=MODEL, **fields)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["Error"]["Message"].startswith(message)


@pytest.mark.parametrize(
    ("point", "field"),
    [
        ({"type": "forever"}, "cachePoint.type"),
        ({"type": "default", "ttl": "2h"}, "cachePoint.ttl"),
        ("x", "cachePoint.type"),
    ],
)
def test_a_cache_point_of_unknown_shape_is_refused(point: Any, field: str) -> None:
    body = {"messages": [{"role": "user", "content": [{"text": "a"}, {"cachePoint": point}]}]}
    problem = cache_point_problem(body)
    assert problem is not None
    assert f"messages.1.member.content.2.member.{field}'" in problem


def test_a_request_without_cache_points_has_no_problem() -> None:
    assert cache_point_problem({"messages": [{"role": "user", "content": [{"text": "a"}]}]}) is None


def test_a_cached_prefix_is_written_first_then_read() -> None:
    body = {"messages": [{"role": "user", "content": [{"text": "x" * 40}, POINT, {"text": "q"}]}]}
    written = with_prompt_cache(Scenario(), body, earlier=[])
    assert (written.cached_tokens, written.cache_write_tokens) == (0, 10)
    read = with_prompt_cache(Scenario(), body, earlier=[body])
    assert (read.cached_tokens, read.cache_write_tokens) == (10, 0)


def test_scripted_cache_counts_win_and_no_cache_point_caches_nothing() -> None:
    body = {"messages": [{"role": "user", "content": [{"text": "x" * 40}, POINT]}]}
    assert with_prompt_cache(Scenario(cached_tokens=3), body, earlier=[body]).cached_tokens == 3
    plain = {"messages": [{"role": "user", "content": [{"text": "x" * 40}]}]}
    assert with_prompt_cache(Scenario(), plain, earlier=[plain]) == Scenario()
