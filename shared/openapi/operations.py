"""The ``paths`` of the OpenAPI document: one operation per function in ``function_app.py``.

Paths are the functions' own route templates (``{*path}`` becomes ``{path}``);
the server URL carries host.json's ``routePrefix``. Error responses are shared
components, each with the OpenAI-style error body every route uses.
"""

from __future__ import annotations

from typing import Any

from ..demo_ui import ASSETS
from . import streams
from .schemas import Schema, ref

# Status -> when the relay answers with it; every one carries the Error body.
ERROR_STATUSES = {
    400: "Malformed JSON, wrong types, unknown or disallowed parameters (error.param names it), "
    "or the upstream refused the content.",
    401: "No, malformed, expired or wrong credential.",
    403: "Valid credential, but the alias, role, scope or action is not granted.",
    404: "Unknown model alias (or deployment), or browser tokens are not enabled.",
    408: "The request body did not arrive within the relay's body-read deadline.",
    413: "The body is larger than the configured limit.",
    415: "Content-Type is not application/json.",
    429: "The caller's rate limit, concurrency or token budget, or every backend is rate limited.",
    502: "The upstream failed after the request was committed to a backend (non-streaming).",
    503: "No backend could serve, or the signing keys or quota store cannot be reached.",
    504: "The upstream did not answer in time.",
}
CHAT_ERRORS = tuple(ERROR_STATUSES)
MINT_ERRORS = (400, 401, 403, 404, 408, 413, 415, 503)
MODELS_ERRORS = (401, 403, 503)
UNMATCHED_METHODS = ("get", "post", "put", "patch", "delete")

JSON = "application/json"
SSE = "text/event-stream"
PUBLIC: list[dict[str, list[str]]] = []


def paths() -> dict[str, dict[str, Any]]:
    """Every route the app registers, under its route template."""
    return {
        "/v1/chat/completions": {"post": _chat_completions()},
        "/v1/responses": {"post": _responses("createResponse", "")},
        "/openai/v1/responses": {"post": _responses("createResponseAzureV1", " (Azure OpenAI's v1 path)")},
        "/openai/responses": {"post": _responses("createResponseAzurePath", " (where AzureOpenAI clients post it)")},
        "/openai/deployments/{deployment}/chat/completions": {"post": _deployment_chat_completions()},
        "/openai/v1/chat/completions": {"post": _chat_completions("createChatCompletionAzureV1")},
        "/chat": {"post": _chat_events()},
        **streams.paths(),
        "/v1/models": {"get": _list_models()},
        "/v1/models/{model}": {"get": _retrieve_model()},
        "/auth/browser-token": {"post": _mint_browser_token()},
        "/health": {"get": _health()},
        "/openapi.json": {"get": _openapi()},
        "/ui": {"get": _demo_page()},
        "/ui/{file}": {"get": _demo_asset()},
        "/{path}": {"options": _preflight(), **{method: _unmatched(method) for method in UNMATCHED_METHODS}},
    }


def error_responses() -> dict[str, Schema]:
    """``components.responses``: one per error status, with the headers that status carries."""
    responses = {}
    for status, description in ERROR_STATUSES.items():
        headers = {
            "x-relay-attempts": {"$ref": "#/components/headers/RelayAttempts"},
            "Server-Timing": {"$ref": "#/components/headers/ServerTiming"},
        }
        if status == 401:
            headers["WWW-Authenticate"] = {"$ref": "#/components/headers/WWWAuthenticate"}
        if status in (429, 503):
            headers["Retry-After"] = {"$ref": "#/components/headers/RetryAfter"}
        responses[f"Error{status}"] = {"description": description, "headers": headers, "content": _json("Error")}
    return responses


def headers() -> dict[str, Schema]:
    """``components.headers``: what the relay adds, and nothing forwarded from upstream."""
    return {
        "RelayBackend": {"description": "The backend that served.", "schema": {"type": "string"}},
        "RelayAttempts": {"description": "How many backends were tried.", "schema": {"type": "string"}},
        "ServerTiming": {
            "description": "Milliseconds: relay (before the first upstream call), failed (earlier attempts), "
            "upstream (the serving backend's time to response headers).",
            "schema": {"type": "string"},
        },
        "RetryAfter": {"description": "Seconds, rounded up, until a retry may succeed.", "schema": {"type": "string"}},
        "WWWAuthenticate": {"description": "Always Bearer.", "schema": {"const": "Bearer"}},
    }


def _json(schema: str) -> dict[str, Schema]:
    return {JSON: {"schema": ref(schema)}}


def _errors(statuses: tuple[int, ...]) -> dict[str, Schema]:
    return {str(status): {"$ref": f"#/components/responses/Error{status}"} for status in statuses}


def _body(schema: str, examples: dict[str, Any], *, required: bool = True) -> Schema:
    media = {"schema": ref(schema), "examples": {name: {"value": value} for name, value in examples.items()}}
    return {"required": required, "content": {JSON: media}}


HELLO = [{"role": "user", "content": "Hi"}]


def _served_headers() -> dict[str, Schema]:
    return {
        "x-relay-backend": {"$ref": "#/components/headers/RelayBackend"},
        "x-relay-attempts": {"$ref": "#/components/headers/RelayAttempts"},
        "Server-Timing": {"$ref": "#/components/headers/ServerTiming"},
    }


def _event_stream(names: list[str], description: str) -> Schema:
    """An SSE body whose ``schema`` describes each event, as OpenAPI 3.1 tools read it (3.2's itemSchema)."""
    event = {
        "type": "object",
        "description": description,
        "properties": {
            "event": {"enum": names, "description": "The event's name; message when the frame has none."},
            "data": {"type": "string"},
            "id": {"type": "string"},
            "retry": {"type": "integer"},
        },
        "required": ["data"],
    }
    return {SSE: {"schema": event}}


def _chat_completions(operation_id: str = "createChatCompletion") -> Schema:
    stream = _event_stream(
        ["message"],
        "With stream: true. `data:` frames of chat.completion.chunk JSON ending in `data: [DONE]`, "
        'or one terminal `data: {"error": {...}}` frame; `: keep-alive` comments while the upstream is quiet.',
    )
    return {
        "operationId": operation_id,
        "summary": "OpenAI Chat Completions, streamed as SSE or returned whole",
        "requestBody": _body(
            "ChatRequest",
            {
                "stream": {"model": "azure", "messages": HELLO, "stream": True},
                "whole": {"model": "azure", "messages": HELLO, "max_tokens": 64},
            },
        ),
        "responses": {
            "200": {
                "description": "A chat.completion (stream: false) or an SSE stream (stream: true).",
                "headers": _served_headers(),
                "content": {**_json("ChatCompletion"), **stream},
            },
            **_errors(CHAT_ERRORS),
        },
    }


RESPONSE_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.reasoning_text.delta",
    "response.reasoning_text.done",
    "response.content_part.done",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
    "response.completed",
    "response.incomplete",
    "response.failed",
]


def _responses(operation_id: str, where: str) -> Schema:
    stream = _event_stream(
        RESPONSE_EVENTS,
        "With stream: true. Named events whose JSON data carries type and sequence_number (from 0); exactly one "
        "response.completed, response.incomplete or response.failed ends the stream.",
    )
    return {
        "operationId": operation_id,
        "summary": f"The OpenAI Responses API, stateless{where}: send the whole input every time",
        "requestBody": _body(
            "ResponsesRequest",
            {
                "stream": {"model": "azure", "input": "Hi", "stream": True},
                "whole": {"model": "azure", "instructions": "Be brief.", "input": HELLO, "max_output_tokens": 64},
            },
        ),
        "responses": {
            "200": {
                "description": "A response object (stream: false) or an SSE stream of response events.",
                "headers": _served_headers(),
                "content": {**_json("Response"), **stream},
            },
            **_errors(CHAT_ERRORS),
        },
    }


def _deployment_chat_completions() -> Schema:
    deployment = {"name": "deployment", "in": "path", "required": True, "schema": {"type": "string"}}
    version = {"name": "api-version", "in": "query", "required": False, "schema": {"type": "string"}}
    return {
        **_chat_completions("createDeploymentChatCompletion"),
        "summary": "Azure OpenAI's deployment path: the deployment is the model alias",
        "description": "The body's model is ignored (it may be absent); api-version is accepted and ignored.",
        "parameters": [deployment, version],
    }


def _chat_events() -> Schema:
    stream = _event_stream(
        ["text_delta", "thinking", "tool_call", "usage", "done", "error"],
        "Named events with JSON data (README, the typed-event dialect); exactly one done or error ends the stream.",
    )
    return {
        "operationId": "streamChatEvents",
        "summary": "The same stream in the typed-event dialect, for hand-written browser code",
        "requestBody": _body(
            "SimpleChatBody",
            {"prompt": {"model": "azure", "prompt": "Hi"}, "messages": {"model": "azure", "messages": HELLO}},
        ),
        "responses": {
            "200": {"description": "An SSE stream of named events.", "headers": _served_headers(), "content": stream},
            **_errors(CHAT_ERRORS),
        },
    }


def _list_models() -> Schema:
    return {
        "operationId": "listModels",
        "summary": "The model aliases the caller may use",
        "responses": {
            "200": {"description": "OpenAI's list format.", "content": _json("ModelList")},
            **_errors(MODELS_ERRORS),
        },
    }


def _retrieve_model() -> Schema:
    model = {"name": "model", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "operationId": "retrieveModel",
        "summary": "One model alias, if the caller may use it",
        "parameters": [model],
        "responses": {
            "200": {"description": "OpenAI's model object.", "content": _json("Model")},
            "404": {"description": "No such alias, or not one the caller may use.", "content": _json("Error")},
            **_errors(MODELS_ERRORS),
        },
    }


def _mint_browser_token() -> Schema:
    return {
        "operationId": "mintBrowserToken",
        "summary": "A short-lived browser token granting at most the caller's own rights",
        "requestBody": _body(
            "MintRequest",
            {"scoped": {"models": ["azure"], "max_tokens": 512, "ttl_minutes": 10, "subject": "user-42"}},
            required=False,
        ),
        "responses": {
            "200": {"description": "The token and its claims.", "content": _json("BrowserToken")},
            **_errors(MINT_ERRORS),
        },
    }


def _health() -> Schema:
    return {
        "operationId": "health",
        "summary": "Liveness and each routed backend's state; never secrets",
        "security": PUBLIC,
        "responses": {"200": {"description": "Always ok while the app runs.", "content": _json("Health")}},
    }


def _openapi() -> Schema:
    return {
        "operationId": "openapi",
        "summary": "This document",
        "security": PUBLIC,
        "responses": {"200": {"description": "OpenAPI 3.1.", "content": {JSON: {"schema": {"type": "object"}}}}},
    }


def _demo_page() -> Schema:
    return {
        "operationId": "demoPage",
        "summary": "The demo chat page",
        "security": PUBLIC,
        "responses": {"200": {"description": "HTML.", "content": {"text/html": {"schema": {"type": "string"}}}}},
    }


def _demo_asset() -> Schema:
    file = {"name": "file", "in": "path", "required": True, "schema": {"enum": sorted(ASSETS)}}
    return {
        "operationId": "demoAsset",
        "summary": "The demo page's files, from an allow-list",
        "description": "Only the names listed; any other is 404.",
        "security": PUBLIC,
        "parameters": [file],
        "responses": {
            "200": {
                "description": "The file.",
                "content": {
                    media: {"schema": {"type": "string"}} for media in ("text/javascript", "text/css", "text/html")
                },
            },
            "404": {"description": "No such file.", "content": _json("Error")},
        },
    }


def _preflight() -> Schema:
    path = {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "operationId": "corsPreflight",
        "summary": "The CORS preflight of every route, answered from the cors configuration",
        "security": PUBLIC,
        "parameters": [path],
        "responses": {
            "204": {"description": "Granted (with Access-Control-Allow-*), or not a preflight (with Allow)."},
            "403": {"description": "The origin, method or a header is not allowed.", "content": _json("Error")},
        },
    }


def _unmatched(method: str) -> Schema:
    path = {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "operationId": f"unmatched{method.capitalize()}",
        "summary": "Any path or method the relay does not serve",
        "security": PUBLIC,
        "parameters": [path],
        "responses": {
            "404": {"description": "No such route; the message lists the routes served.", "content": _json("Error")},
            "405": {
                "description": "The path exists, but not with this method.",
                "headers": {"Allow": {"description": "The methods the path takes.", "schema": {"type": "string"}}},
                "content": _json("Error"),
            },
        },
    }
