"""Structured output and forced tool calls, as each emulated service checks and answers them.

Each service has its own request shape for "answer in this JSON Schema" and
"you must call this function"; the ``*_wanted`` functions read one shape,
returning what the service would refuse it for (a 400 message) or what it
asks for. :func:`shaped` then makes the scenario answer like a model bound by
it would: text that validates against the schema, or a call to the forced
tool with arguments that validate against its parameters. A scenario that
scripts its own text or tool calls wins, so tests can still make a model
misbehave on purpose.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from typing import Any

from .scenario import DEFAULT_TEXT, Scenario, ToolCallScript
from .schema_instance import instance_of

OPENAI_SCHEMA_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
ANY_OBJECT: dict[str, Any] = {"type": "object"}
BAD_FORMAT_TYPE = (
    "1 validation error detected: Value at 'outputConfig.textFormat.type' failed to satisfy constraint: "
    "Member must satisfy enum value set: [json_schema]"
)


@dataclass(frozen=True)
class Wanted:
    """What the request binds the answer to: a JSON schema for the text, a tool to call, or neither."""

    schema: dict[str, Any] | None = None
    tool: str | None = None
    tool_parameters: dict[str, Any] | None = None
    problem: str | None = None


def shaped(scenario: Scenario, wanted: Wanted) -> Scenario:
    """The scenario a model bound by ``wanted`` plays; an explicitly scripted one is left alone."""
    if scenario.text != DEFAULT_TEXT or scenario.tool_calls:
        return scenario
    if wanted.tool is not None:
        arguments = json.dumps(instance_of(wanted.tool_parameters or ANY_OBJECT), ensure_ascii=False)
        return dataclasses.replace(scenario, text="", tool_calls=(ToolCallScript(wanted.tool, arguments),))
    if wanted.schema is not None:
        return dataclasses.replace(scenario, text=json.dumps(instance_of(wanted.schema), ensure_ascii=False))
    return scenario


# --- OpenAI Chat Completions (Azure OpenAI, Vertex's OpenAI-compatible endpoint) -------------


def openai_wanted(body: dict[str, Any], openai_rules: bool = True) -> Wanted:
    """``response_format`` and a forcing ``tool_choice``, checked as OpenAI checks them.

    Without ``openai_rules`` (Vertex's compatible endpoint) the checks OpenAI
    alone makes are skipped: the word "json" for json_object, and
    ``parallel_tool_calls`` without tools, which Vertex ignores.
    """
    if openai_rules and "parallel_tool_calls" in body and not body.get("tools"):
        return Wanted(problem="Invalid value for 'parallel_tool_calls': only allowed when 'tools' are specified.")
    forced = _openai_forced_tool(body)
    if isinstance(forced, str):
        return Wanted(problem=forced)
    response_format = body.get("response_format")
    schema: dict[str, Any] | None = None
    if response_format is not None:
        problem, schema = _openai_format(response_format)
        if problem:
            return Wanted(problem=problem)
        json_object = response_format.get("type") == "json_object"
        if json_object and openai_rules and "json" not in json.dumps(body.get("messages")).lower():
            return Wanted(
                problem="'messages' must contain the word 'json' in some form, "
                "to use 'response_format' of type 'json_object'."
            )
    if forced is not None:
        return Wanted(schema=schema, tool=forced[0], tool_parameters=forced[1])
    return Wanted(schema=schema)


def _openai_format(response_format: Any) -> tuple[str | None, dict[str, Any] | None]:
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "text":
        return None, None
    if kind == "json_object":
        return None, ANY_OBJECT
    if kind != "json_schema":
        return f"Invalid value: {kind!r}. Supported values are: 'json_object', 'json_schema', and 'text'.", None
    json_schema = response_format.get("json_schema")
    if not isinstance(json_schema, dict):
        return "Missing required parameter: 'response_format.json_schema'.", None
    name = json_schema.get("name")
    if not isinstance(name, str) or not OPENAI_SCHEMA_NAME.match(name):
        return "Invalid 'response_format.json_schema.name': string does not match pattern '^[a-zA-Z0-9_-]+$'.", None
    schema = json_schema.get("schema", {})
    if not isinstance(schema, dict):
        return "Invalid type for 'response_format.json_schema.schema': expected an object.", None
    return None, schema


def _openai_forced_tool(body: dict[str, Any]) -> tuple[str, dict[str, Any] | None] | str | None:
    """(name, parameters) of the tool ``tool_choice`` forces, a problem message, or None."""
    choice = body.get("tool_choice")
    tools = [t.get("function") or {} for t in body.get("tools") or [] if isinstance(t, dict)]
    if choice in (None, "auto", "none"):
        return None
    if not tools:
        return "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified."
    if choice == "required":
        return str(tools[0].get("name")), tools[0].get("parameters")
    name = (choice.get("function") or {}).get("name") if isinstance(choice, dict) else None
    for tool in tools:
        if tool.get("name") == name:
            return str(name), tool.get("parameters")
    return f"Invalid value for 'tool_choice': no function named {name!r} was specified in the 'tools' parameter."


# --- Gemini generateContent --------------------------------------------------------------


def gemini_wanted(body: dict[str, Any]) -> Wanted:
    """``generationConfig`` schemas and ``functionCallingConfig`` mode ANY, checked as Vertex checks them."""
    config = body.get("generationConfig") or {}
    mime = config.get("responseMimeType")
    has_schema = "responseSchema" in config or "responseJsonSchema" in config
    if "responseSchema" in config and "responseJsonSchema" in config:
        return Wanted(problem="response_schema and response_json_schema cannot both be set.")
    if has_schema and mime != "application/json":
        return Wanted(problem="response_mime_type must be application/json when a response schema is set.")
    for name in ("responseSchema", "responseJsonSchema"):
        if name in config and not isinstance(config[name], dict):
            return Wanted(problem=f"Invalid JSON payload received. Unknown value for generation_config.{name}.")
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    if schema is None and mime == "application/json":
        schema = ANY_OBJECT
    declarations = [d for tool in body.get("tools") or [] for d in tool.get("functionDeclarations") or []]
    if any("parameters" in d and "parametersJsonSchema" in d for d in declarations):
        return Wanted(problem="parameters and parameters_json_schema cannot both be set in a function declaration.")
    tool, parameters = _gemini_forced_tool(body)
    return Wanted(schema=schema, tool=tool, tool_parameters=parameters)


def _gemini_forced_tool(body: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    calling = ((body.get("toolConfig") or {}).get("functionCallingConfig")) or {}
    if calling.get("mode") != "ANY":
        return None, None
    declarations = [d for tool in body.get("tools") or [] for d in tool.get("functionDeclarations") or []]
    allowed = calling.get("allowedFunctionNames") or [d.get("name") for d in declarations]
    for declaration in declarations:
        if declaration.get("name") in allowed:
            return str(declaration["name"]), declaration.get("parameters") or declaration.get("parametersJsonSchema")
    return None, None


# --- Bedrock Converse --------------------------------------------------------------------


def converse_wanted(body: dict[str, Any]) -> Wanted:
    """``outputConfig.textFormat``, ``toolChoice`` and Anthropic's ``tool_choice``, checked as Bedrock does."""
    schema: dict[str, Any] | None = None
    if "outputConfig" in body:
        problem, schema = _output_config(body["outputConfig"])
        if problem:
            return Wanted(problem=problem)
    entries = (body.get("toolConfig") or {}).get("tools") or []
    tools = [t.get("toolSpec") or {} for t in entries if "cachePoint" not in t]
    choice = (body.get("toolConfig") or {}).get("toolChoice") or {}
    problem = _anthropic_fields_problem(body.get("additionalModelRequestFields"), tools)
    if problem:
        return Wanted(problem=problem)
    forced: dict[str, Any] | None = None
    if "any" in choice and tools:
        forced = tools[0]
    elif "tool" in choice:
        name = (choice.get("tool") or {}).get("name")
        forced = next((tool for tool in tools if tool.get("name") == name), None)
        if forced is None:
            return Wanted(problem=f"The tool {name} in toolChoice is not defined in toolConfig.tools.")
    if forced is None:
        return Wanted(schema=schema)
    return Wanted(
        schema=schema, tool=str(forced.get("name")), tool_parameters=(forced.get("inputSchema") or {}).get("json")
    )


def _output_config(output_config: Any) -> tuple[str | None, dict[str, Any] | None]:
    text_format = output_config.get("textFormat") if isinstance(output_config, dict) else None
    if text_format is None:
        return None, None
    if not isinstance(text_format, dict) or text_format.get("type") != "json_schema":
        return BAD_FORMAT_TYPE, None
    json_schema = (text_format.get("structure") or {}).get("jsonSchema") or {}
    try:
        schema = json.loads(json_schema.get("schema") or "")
    except (TypeError, ValueError):
        schema = None
    if not isinstance(schema, dict):
        return "The provided JSON schema in outputConfig.textFormat is not valid JSON Schema.", None
    return None, schema


def _anthropic_fields_problem(fields: Any, tools: list[dict[str, Any]]) -> str | None:
    """Anthropic's own ``tool_choice``, as its Messages API validates it once Bedrock passes it on."""
    choice = fields.get("tool_choice") if isinstance(fields, dict) else None
    if choice is None:
        return None
    if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
        return "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'"
    if not isinstance(choice.get("disable_parallel_tool_use", False), bool):
        return "tool_choice.disable_parallel_tool_use: Input should be a valid boolean"
    if choice["type"] == "tool" and choice.get("name") not in {tool.get("name") for tool in tools}:
        return f"Tool '{choice.get('name')}' not found in provided tools"
    return None
