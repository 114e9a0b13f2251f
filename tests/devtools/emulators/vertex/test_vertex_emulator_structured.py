"""The Vertex emulator checks native response schemas and forced function calls as Vertex does, and answers them."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.vertex.vertex_emulator_calls import native_body, native_url

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}


def generate(server: ThreadedServer, token: str, **fields: Any) -> httpx.Response:
    body = {**native_body("hi"), **fields}
    return httpx.post(
        native_url(server.url, "generateContent"), json=body, headers={"Authorization": f"Bearer {token}"}
    )


def answer_part(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    part: dict[str, Any] = response.json()["candidates"][0]["content"]["parts"][0]
    return part


@pytest.mark.parametrize("field", ["responseJsonSchema", "responseSchema"])
def test_a_response_schema_is_answered_with_an_instance(server: ThreadedServer, token: str, field: str) -> None:
    config = {"responseMimeType": "application/json", field: SCHEMA}
    part = answer_part(generate(server, token, generationConfig=config))
    assert json.loads(part["text"]) == {"city": "example", "days": 1}


def test_json_mime_type_alone_answers_an_object(server: ThreadedServer, token: str) -> None:
    part = answer_part(generate(server, token, generationConfig={"responseMimeType": "application/json"}))
    assert isinstance(json.loads(part["text"]), dict)


@pytest.mark.parametrize(
    "config",
    [
        {"responseMimeType": "application/json", "responseSchema": SCHEMA, "responseJsonSchema": SCHEMA},
        {"responseJsonSchema": SCHEMA},
        {"responseMimeType": "text/plain", "responseSchema": SCHEMA},
        {"responseMimeType": "application/json", "responseJsonSchema": "object"},
    ],
    ids=["both-schemas", "no-mime-type", "text-mime-type", "schema-not-object"],
)
def test_malformed_schemas_are_invalid_argument(server: ThreadedServer, token: str, config: dict[str, Any]) -> None:
    response = generate(server, token, generationConfig=config)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_mode_any_calls_the_allowed_function(server: ThreadedServer, token: str) -> None:
    tools = [{"functionDeclarations": [{"name": "other"}, {"name": "weather", "parameters": SCHEMA}]}]
    calling = {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["weather"]}}
    part = answer_part(generate(server, token, tools=tools, toolConfig=calling))
    assert part["functionCall"] == {"name": "weather", "args": {"city": "example", "days": 1}}


def test_both_parameter_schemas_are_invalid_argument(server: ThreadedServer, token: str) -> None:
    tools = [{"functionDeclarations": [{"name": "f", "parameters": SCHEMA, "parametersJsonSchema": SCHEMA}]}]
    response = generate(server, token, tools=tools)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
