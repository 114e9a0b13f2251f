"""Structured output and parallel tool use on Bedrock, where Converse differs from OpenAI.

``response_format`` json_schema goes to the model one of two ways. Models
that take Converse's native structured output get ``outputConfig.textFormat``
and answer in text. Every other model with tool use gets a forced tool
whose input schema is the requested schema; its input *is* the answer, so
the response translation turns that tool's input back into text and the
client sees content, not a tool call. ``json_object`` always takes the tool
path with a permissive object schema: the native format needs a schema.

``parallel_tool_calls: false`` has an equivalent only on Anthropic's models,
which take ``disable_parallel_tool_use`` in their own ``tool_choice``, sent
through ``additionalModelRequestFields``; elsewhere it is accepted without effect.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ...chat_request import ChatRequest
from ...errors import Untranslatable

# The forced tool's name; a client tool of the same name would be ambiguous and is refused.
STRUCTURED_TOOL = "structured_output"
PERMISSIVE_OBJECT: dict[str, Any] = {"type": "object"}
# Model ids (plain, inference profile or ARN) of the Claude generations that take outputConfig.textFormat.
_NATIVE_MODELS = re.compile(r"anthropic\.claude-(?:sonnet|haiku|opus)-(?:4-[5-9]|[5-9])(?![0-9])")


def is_anthropic(model_id: str) -> bool:
    """Whether ``model_id`` names an Anthropic model, whose native request fields differ."""
    return "anthropic." in model_id


def uses_native(mode: str, model_id: str) -> bool:
    """Whether this backend's json_schema goes out as ``outputConfig`` rather than a forced tool."""
    return mode == "native" or (mode == "auto" and _NATIVE_MODELS.search(model_id) is not None)


def structured_tool(request: ChatRequest, mode: str, model_id: str) -> str | None:
    """The forced tool's name when this request's structured output takes the tool path, else None."""
    response_format = request.structured_output
    if response_format is None:
        return None
    if response_format["type"] == "json_schema" and uses_native(mode, model_id):
        return None
    return STRUCTURED_TOOL


def output_config(request: ChatRequest) -> dict[str, Any]:
    """``outputConfig`` for native structured output; the schema travels as a JSON string."""
    json_schema = (request.structured_output or {}).get("json_schema") or {}
    schema = json_schema.get("schema") or PERMISSIVE_OBJECT
    structure: dict[str, Any] = {"schema": json.dumps(schema, ensure_ascii=False), "name": json_schema["name"]}
    if json_schema.get("description"):
        structure["description"] = json_schema["description"]
    return {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": structure}}}


def structured_tool_spec(request: ChatRequest) -> dict[str, Any]:
    """The forced tool: its input schema is the requested one, or any object for json_object."""
    if any(tool.function.name == STRUCTURED_TOOL for tool in request.tool_list or []):
        message = f"tools: the name {STRUCTURED_TOOL!r} is reserved for response_format on Bedrock"
        raise Untranslatable(message, param="tools")
    json_schema = (request.structured_output or {}).get("json_schema") or {}
    description = "Answer by calling this tool; its input is the whole answer."
    if json_schema.get("description"):
        description += f" {json_schema['description']}"
    schema = json_schema.get("schema") or PERMISSIVE_OBJECT
    return {"toolSpec": {"name": STRUCTURED_TOOL, "description": description, "inputSchema": {"json": schema}}}


def anthropic_tool_choice(tool_choice: dict[str, Any] | None) -> dict[str, Any]:
    """Anthropic's ``tool_choice`` with parallel tool use off, matching Converse's own ``toolChoice``.

    Sent in ``additionalModelRequestFields`` it replaces the one Bedrock
    derives from ``toolConfig.toolChoice``, so it must say the same thing.
    """
    choice: dict[str, Any] = {"type": "auto"}
    if tool_choice is not None and "any" in tool_choice:
        choice = {"type": "any"}
    elif tool_choice is not None and "tool" in tool_choice:
        choice = {"type": "tool", "name": tool_choice["tool"]["name"]}
    return {"tool_choice": {**choice, "disable_parallel_tool_use": True}}
