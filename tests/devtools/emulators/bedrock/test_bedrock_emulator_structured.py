"""The Bedrock emulator checks outputConfig, toolChoice and Anthropic's tool_choice as Bedrock does, through boto3."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.devtools.emulators.bedrock.bedrock_emulator_calls import MODEL, read_all, user

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOLS = {"tools": [{"toolSpec": {"name": "weather", "inputSchema": {"json": SCHEMA}}}]}


def text_format(schema: str) -> dict[str, Any]:
    return {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": schema, "name": "w"}}}}


def streamed_text(events: list[dict[str, Any]]) -> str:
    return "".join(e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e)


def test_output_config_answers_json_of_the_schema(client: BaseClient) -> None:
    response = client.converse_stream(modelId=MODEL, messages=user("hi"), outputConfig=text_format(json.dumps(SCHEMA)))
    assert json.loads(streamed_text(read_all(response))) == {"city": "example"}
    answer = client.converse(modelId=MODEL, messages=user("hi"), outputConfig=text_format(json.dumps(SCHEMA)))
    assert json.loads(answer["output"]["message"]["content"][0]["text"]) == {"city": "example"}


@pytest.mark.parametrize(
    "fields",
    [
        {"outputConfig": text_format("not json")},
        {"outputConfig": text_format("[1]")},
        {"toolConfig": {**TOOLS, "toolChoice": {"tool": {"name": "missing"}}}},
        {
            "toolConfig": {**TOOLS, "toolChoice": {"auto": {}}},
            "additionalModelRequestFields": {"tool_choice": {"type": "x"}},
        },
        {"toolConfig": TOOLS, "additionalModelRequestFields": {"tool_choice": {"type": "tool", "name": "missing"}}},
    ],
    ids=["schema-not-json", "schema-not-object", "tool-choice-unknown", "anthropic-type", "anthropic-unknown-tool"],
)
def test_malformed_requests_are_validation_exceptions(client: BaseClient, fields: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as caught:
        client.converse_stream(modelId=MODEL, messages=user("hi"), **fields)
    assert caught.value.response["Error"]["Code"] == "ValidationException"


@pytest.mark.parametrize("choice", [{"any": {}}, {"tool": {"name": "weather"}}])
def test_a_forced_tool_is_called(client: BaseClient, choice: dict[str, Any]) -> None:
    response = client.converse_stream(modelId=MODEL, messages=user("hi"), toolConfig={**TOOLS, "toolChoice": choice})
    events = read_all(response)
    start = next(e["contentBlockStart"]["start"]["toolUse"] for e in events if "contentBlockStart" in e)
    arguments = "".join(
        e["contentBlockDelta"]["delta"]["toolUse"]["input"]
        for e in events
        if "contentBlockDelta" in e and "toolUse" in e["contentBlockDelta"]["delta"]
    )
    assert start["name"] == "weather" and json.loads(arguments) == {"city": "example"}
    assert next(e["messageStop"]["stopReason"] for e in events if "messageStop" in e) == "tool_use"
