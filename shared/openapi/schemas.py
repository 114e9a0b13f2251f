"""The JSON Schemas in the OpenAPI document's ``components.schemas``.

Request bodies come from the pydantic models that validate them, so the
document cannot drift from what the relay accepts. Responses are built from
plain dicts in ``shared/``, so their schemas are written here, next to one
another, where a reviewer can hold them against the README.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from ..auth.minting import MintRequest
from ..chat_request import ChatRequest, SimpleChatBody
from ..responses_request import ResponsesRequest
from ..routing.state import Condition

REF = "#/components/schemas/{model}"
Schema = dict[str, Any]


def ref(name: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": REF.format(model=name)}


def request_schemas() -> dict[str, Schema]:
    """Every request body's schema and the schemas they refer to, generated from the models."""
    _, top = models_json_schema(
        [
            (ChatRequest, "validation"),
            (SimpleChatBody, "validation"),
            (ResponsesRequest, "validation"),
            (MintRequest, "validation"),
        ],
        ref_template=REF,
    )
    schemas: dict[str, Schema] = top["$defs"]
    schemas["SimpleChatBody"]["oneOf"] = _exactly_one_of(messages="array", prompt="string")
    schemas["ChatMessage"]["allOf"] = ROLE_RULES
    return schemas


def _exactly_one_of(**fields: str) -> list[Schema]:
    """The model validator's "exactly one of these, not null" rule, which pydantic cannot export."""
    return [{"required": [name], "properties": {name: {"type": kind}}} for name, kind in fields.items()]


_NOT_NULL: Schema = {"not": {"type": "null"}}
_PRESENT = {"required": ["content"], "properties": {"content": _NOT_NULL}}

# ChatMessage's model validator, which pydantic cannot export: what each role must carry.
ROLE_RULES: list[Schema] = [
    {
        "if": {"properties": {"role": {"const": "tool"}}},
        "then": {"required": ["tool_call_id"], "properties": {"tool_call_id": {"type": "string", "minLength": 1}}},
    },
    {"if": {"properties": {"role": {"enum": ["system", "developer", "user", "tool"]}}}, "then": _PRESENT},
    {
        "if": {"properties": {"role": {"const": "assistant"}}},
        "then": {
            "anyOf": [
                _PRESENT,
                {"required": ["tool_calls"], "properties": {"tool_calls": {"type": "array", "minItems": 1}}},
            ]
        },
    },
]


def response_schemas() -> dict[str, Schema]:
    """What the relay's routes answer with, besides the request echoes above."""
    return {
        "Error": ERROR,
        "ChatCompletion": CHAT_COMPLETION,
        "Response": RESPONSE,
        "Model": MODEL,
        "ModelList": MODEL_LIST,
        "BrowserToken": BROWSER_TOKEN,
        "Health": HEALTH,
    }


def _object(properties: dict[str, Schema], required: list[str]) -> Schema:
    """An object with these properties; open, so the relay may add fields without breaking clients."""
    return {"type": "object", "properties": properties, "required": required}


_STRING: Schema = {"type": "string"}
_INTEGER: Schema = {"type": "integer"}
_NULLABLE_STRING: Schema = {"type": ["string", "null"]}

ERROR = _object(
    {
        "error": _object(
            {
                "message": {"type": "string", "description": "For people; upstream text is scrubbed of secrets."},
                "type": {"type": "string", "examples": ["invalid_request_error", "authentication_error"]},
                "param": {**_NULLABLE_STRING, "description": "The parameter at fault, e.g. messages[0].content."},
                "code": {"type": "string", "examples": ["invalid_request", "invalid_api_key", "upstream_timeout"]},
                "retryable": {"type": "boolean", "description": "Whether sending the same request again may succeed."},
                "retry_after": {"type": "number", "minimum": 0, "description": "Seconds; as Retry-After."},
            },
            ["message", "type", "param", "code", "retryable"],
        )
    },
    ["error"],
)

_USAGE = _object(
    {"prompt_tokens": _INTEGER, "completion_tokens": _INTEGER, "total_tokens": _INTEGER},
    ["prompt_tokens", "completion_tokens", "total_tokens"],
)

_TOOL_CALL = _object(
    {
        "id": _NULLABLE_STRING,
        "type": {"const": "function"},
        "function": _object({"name": _STRING, "arguments": _STRING}, ["name", "arguments"]),
    },
    ["id", "type", "function"],
)

_ASSISTANT_MESSAGE = _object(
    {
        "role": {"const": "assistant"},
        "content": _NULLABLE_STRING,
        "reasoning_content": {"type": "string", "description": "Reasoning, when the model shares it."},
        "tool_calls": {"type": "array", "items": _TOOL_CALL},
    },
    ["role", "content"],
)

CHAT_COMPLETION = _object(
    {
        "id": _STRING,
        "object": {"const": "chat.completion"},
        "created": _INTEGER,
        "model": {"type": "string", "description": "The alias the client asked for."},
        "choices": {
            "type": "array",
            "items": _object(
                {
                    "index": _INTEGER,
                    "message": _ASSISTANT_MESSAGE,
                    "logprobs": {"type": "null"},
                    "finish_reason": _STRING,
                },
                ["index", "message", "finish_reason"],
            ),
        },
        "usage": _USAGE,
    },
    ["id", "object", "created", "model", "choices"],
)

MODEL = _object(
    {
        "id": _STRING,
        "object": {"const": "model"},
        "created": {**_INTEGER, "description": "When the relay's configuration loaded (unix seconds)."},
        "owned_by": _STRING,
    },
    ["id", "object", "created", "owned_by"],
)

MODEL_LIST = _object(
    {"object": {"const": "list"}, "data": {"type": "array", "items": ref("Model")}}, ["object", "data"]
)

BROWSER_TOKEN = _object(
    {
        "token": {"type": "string", "pattern": "^rbt1\\."},
        "sub": {"type": "string", "description": "The quota subject: the minter's identity, or one beneath it."},
        "models": {"type": "array", "items": _STRING},
        "max_tokens": _INTEGER,
        "iat": {"type": "integer", "description": "Issued at, Unix seconds."},
        "exp": {"type": "integer", "description": "Expires at, Unix seconds."},
    },
    ["token", "sub", "models", "max_tokens", "iat", "exp"],
)

_BACKEND_STATE = _object(
    {
        "name": _STRING,
        "provider": _STRING,
        "state": {"enum": [condition.value for condition in Condition]},
        "until": {"type": "string", "format": "date-time", "description": "While unavailable: expected recovery."},
        "consecutive_failures": _INTEGER,
        "remaining": _object({"requests": {"type": ["integer", "null"]}, "tokens": {"type": ["integer", "null"]}}, []),
    },
    ["name", "provider", "state"],
)

HEALTH = _object(
    {"status": {"const": "ok"}, "backends": {"type": "array", "items": _BACKEND_STATE}},
    ["status", "backends"],
)

_ITEM_STATUS: Schema = {"enum": ["in_progress", "completed", "incomplete"]}
_OUTPUT_ITEM: Schema = {
    "oneOf": [
        _object(
            {
                "id": _STRING,
                "type": {"const": "message"},
                "role": {"const": "assistant"},
                "status": _ITEM_STATUS,
                "content": {
                    "type": "array",
                    "items": _object({"type": {"const": "output_text"}, "text": _STRING}, ["type", "text"]),
                },
            },
            ["id", "type", "role", "status", "content"],
        ),
        _object(
            {
                "id": _STRING,
                "type": {"const": "function_call"},
                "status": _ITEM_STATUS,
                "call_id": _STRING,
                "name": _STRING,
                "arguments": {"type": "string", "description": "JSON text, as the model wrote it."},
            },
            ["id", "type", "call_id", "name", "arguments"],
        ),
        _object(
            {
                "id": _STRING,
                "type": {"const": "reasoning"},
                "status": _ITEM_STATUS,
                "summary": {"type": "array"},
                "content": {
                    "type": "array",
                    "items": _object({"type": {"const": "reasoning_text"}, "text": _STRING}, ["type", "text"]),
                },
            },
            ["id", "type", "summary"],
        ),
    ]
}

RESPONSE = _object(
    {
        "id": {"type": "string", "pattern": "^resp_"},
        "object": {"const": "response"},
        "created_at": _INTEGER,
        "status": {"enum": ["completed", "incomplete", "failed", "in_progress"]},
        "model": {"type": "string", "description": "The alias the client asked for."},
        "output": {"type": "array", "items": _OUTPUT_ITEM},
        "error": {"type": ["object", "null"], "description": "code and message, when status is failed."},
        "incomplete_details": {
            "type": ["object", "null"],
            "description": "reason max_output_tokens or content_filter, when status is incomplete.",
        },
        "usage": {
            "type": ["object", "null"],
            "properties": {
                "input_tokens": _INTEGER,
                "output_tokens": _INTEGER,
                "total_tokens": _INTEGER,
                "input_tokens_details": _object({"cached_tokens": _INTEGER}, ["cached_tokens"]),
                "output_tokens_details": _object({"reasoning_tokens": _INTEGER}, ["reasoning_tokens"]),
            },
            "required": ["input_tokens", "output_tokens", "total_tokens"],
        },
        "store": {"const": False, "description": "The relay keeps nothing."},
    },
    ["id", "object", "created_at", "status", "model", "output"],
)
