"""The OpenAPI document: valid 3.1, complete, served as generated, and true to the running relay."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from pydantic import BaseModel, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.local_host import APP_ROOT, function_app_of, import_app_module
from shared import access, errors
from shared.auth.minting import MintRequest
from shared.chat_request import ChatRequest, SimpleChatBody
from shared.openapi import document
from shared.openapi.operations import CHAT_ERRORS
from shared.responses_request import ResponsesRequest
from tests.builders import AZURE_TEST_KEY, TEST_AUTH, patched_environ, single_azure_config

DOCUMENT_URN = "urn:relay:openapi"
MESSAGES = [{"role": "user", "content": "hi"}]
TOOL_CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


def schema_validator(name: str) -> Draft202012Validator:
    """A validator for one component schema, its references resolved within the document."""
    resource = Resource.from_contents(document(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(DOCUMENT_URN, resource)
    return Draft202012Validator({"$ref": f"{DOCUMENT_URN}#/components/schemas/{name}"}, registry=registry)


@pytest.fixture(scope="module")
def registered(azure_emulator: AzureOpenAIEmulator) -> Iterator[set[tuple[str, str]]]:
    """The operations ``function_app.py`` registers, read as the worker indexes them (once: indexing twice fails)."""
    config = {"auth": TEST_AUTH, **single_azure_config(azure_emulator)}
    with patched_environ({"RELAY_CONFIG": json.dumps(config), "AZURE_TEST_KEY": AZURE_TEST_KEY}):
        module = import_app_module(APP_ROOT / "function_app.py")
    yield registered_operations(function_app_of(module))
    asyncio.run(module.application.aclose())


def registered_operations(app: func.FunctionApp) -> set[tuple[str, str]]:
    """``(path template, method)`` of every HTTP function, as OpenAPI spells them."""
    operations = set()
    for function in app.get_functions():
        trigger = function.get_trigger()
        if trigger is None or trigger.get_binding_name() != "httpTrigger":
            continue
        path = "/" + (trigger.route or "").replace("{*", "{")
        operations |= {(path, str(getattr(method, "value", method)).lower()) for method in trigger.methods or []}
    return operations


def described_operations() -> set[tuple[str, str]]:
    return {(path, method) for path, item in document()["paths"].items() for method in item}


def test_the_document_is_valid_openapi_3_1() -> None:
    OpenAPIV31SpecValidator(document()).validate()
    assert document()["openapi"].startswith("3.1.")


def test_every_registered_route_is_described(registered: set[tuple[str, str]]) -> None:
    assert len(registered) >= 9
    assert registered - described_operations() == set()


def test_nothing_is_described_that_the_app_does_not_register(registered: set[tuple[str, str]]) -> None:
    assert described_operations() - registered == set()


def test_the_served_document_is_the_generated_one(relay_url: str) -> None:
    response = httpx.get(f"{relay_url}/api/openapi.json", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.json() == json.loads(json.dumps(document()))


def _error_classes(base: type[errors.RelayError]) -> Iterator[type[errors.RelayError]]:
    for subclass in base.__subclasses__():
        yield subclass
        yield from _error_classes(subclass)


def test_chat_routes_document_every_status_an_error_class_has() -> None:
    assert access.BrowserTokensDisabled in set(_error_classes(errors.RelayError))
    statuses = {error.status for error in _error_classes(errors.RelayError)}
    assert statuses - set(CHAT_ERRORS) == set()
    assert {408, 415} <= set(CHAT_ERRORS)


@pytest.mark.parametrize(
    "body",
    [
        {"model": "azure", "prompt": "hi"},
        {"model": "azure", "messages": MESSAGES},
        {"model": "azure", "messages": None, "prompt": "hi"},
        {"model": "azure", "messages": MESSAGES, "prompt": "hi"},
        {"model": "azure"},
        {"model": "azure", "prompt": "hi", "temperature": 3},
        {"model": "azure", "prompt": "hi", "stream": True},
        {"model": "", "prompt": "hi"},
    ],
)
def test_the_typed_event_body_schema_accepts_what_the_relay_accepts(body: dict[str, Any]) -> None:
    assert schema_validator("SimpleChatBody").is_valid(body) == accepts(SimpleChatBody, body)


@pytest.mark.parametrize(
    "body",
    [
        {"model": "azure", "messages": MESSAGES},
        {"model": "azure", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}},
        {"model": "azure", "messages": []},
        {"model": "azure", "messages": MESSAGES, "n": 2},
        {"model": "azure", "messages": MESSAGES, "temperature": "hot"},
        {"model": "azure", "messages": MESSAGES, "frobnicate": True},
        {"model": "azure", "messages": [{"role": "wizard", "content": "x"}]},
        {"model": "azure", "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]},
        {"model": "azure", "messages": [{"role": "user"}]},
        {"model": "azure", "messages": [{"role": "tool", "content": "42"}]},
        {"model": "azure", "messages": [{"role": "tool", "content": "42", "tool_call_id": ""}]},
        {"model": "azure", "messages": [{"role": "tool", "content": "42", "tool_call_id": "call_1"}]},
        {"model": "azure", "messages": [{"role": "assistant"}]},
        {"model": "azure", "messages": [{"role": "assistant", "tool_calls": []}]},
        {"model": "azure", "messages": [{"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]}]},
    ],
)
def test_the_chat_request_schema_accepts_what_the_relay_accepts(body: dict[str, Any]) -> None:
    assert schema_validator("ChatRequest").is_valid(body) == accepts(ChatRequest, body)


def accepts(model: type[BaseModel], body: dict[str, Any]) -> bool:
    try:
        model.model_validate(body)
    except ValidationError:
        return False
    return True


def documented(path: str, method: str, status: int) -> bool:
    return str(status) in document()["paths"][path][method]["responses"]


@pytest.mark.parametrize(
    ("method", "path", "body", "schema"),
    [
        ("post", "/v1/chat/completions", {"model": "azure", "messages": MESSAGES}, "ChatCompletion"),
        ("post", "/v1/chat/completions", {"model": "azure", "messages": []}, "Error"),
        ("post", "/v1/chat/completions", {"model": "nope", "messages": MESSAGES}, "Error"),
        ("post", "/chat", {"model": "azure"}, "Error"),
        ("post", "/v1/responses", {"model": "azure", "input": "hi"}, "Response"),
        ("post", "/v1/responses", {"model": "azure", "input": "hi", "store": True}, "Error"),
        ("get", "/v1/models", None, "ModelList"),
        ("get", "/health", None, "Health"),
        ("post", "/auth/browser-token", {}, "Error"),
        ("get", "/ui/missing.js", None, "Error"),
    ],
)
def test_real_responses_match_their_documented_schema(
    http: httpx.Client, method: str, path: str, body: dict[str, Any] | None, schema: str
) -> None:
    response = http.request(method.upper(), f"/api{path}", json=body)
    template = "/ui/{file}" if path.startswith("/ui/") else path
    assert documented(template, method, response.status_code), response.status_code
    errors_found = [error.message for error in schema_validator(schema).iter_errors(response.json())]
    assert errors_found == []


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/chat", "/auth/browser-token"])
def test_a_body_not_declared_as_json_gets_a_documented_415(http: httpx.Client, path: str) -> None:
    # Found by Schemathesis: browser-token minting answered 415 without the document listing it.
    response = http.post(f"/api{path}", content=b"{}", headers={"content-type": "text/plain"})
    assert response.status_code == 415 and documented(path, "post", 415)
    assert schema_validator("Error").is_valid(response.json())


def test_an_unauthenticated_request_gets_the_documented_401(relay_url: str) -> None:
    response = httpx.get(f"{relay_url}/api/v1/models", timeout=10)
    components = document()["components"]
    header = components["responses"]["Error401"]["headers"]["WWW-Authenticate"]["$ref"].rsplit("/", 1)[-1]
    assert response.status_code == 401 and documented("/v1/models", "get", 401)
    assert response.headers["www-authenticate"] == components["headers"][header]["schema"]["const"]
    assert schema_validator("Error").is_valid(response.json())


def request_examples() -> Iterator[tuple[str, Any]]:
    for item in document()["paths"].values():
        for operation in item.values():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            for example in (media or {}).get("examples", {}).values():
                yield media["schema"]["$ref"].rsplit("/", 1)[-1], example["value"]


def test_every_request_example_is_valid_and_accepted() -> None:
    models = {
        "ChatRequest": ChatRequest,
        "SimpleChatBody": SimpleChatBody,
        "ResponsesRequest": ResponsesRequest,
        "MintRequest": MintRequest,
    }
    examples = list(request_examples())
    assert {schema for schema, _ in examples} == set(models)
    for schema, value in examples:
        assert schema_validator(schema).is_valid(value) and accepts(models[schema], value), value


def sse_events(body: str) -> list[dict[str, str]]:
    """Events as OpenAPI tools read them: ``event`` (``message`` by default) and the joined ``data``."""
    events = []
    for block in body.split("\n\n"):
        fields = [line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":")]
        if fields:
            name = next((value for field, value in fields if field == "event"), "message")
            events.append({"event": name, "data": "\n".join(value for field, value in fields if field == "data")})
    return events


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", {"model": "azure", "messages": MESSAGES, "stream": True}),
        ("/chat", {"model": "azure", "prompt": "hi"}),
        ("/v1/responses", {"model": "azure", "input": "hi", "stream": True}),
    ],
)
def test_every_streamed_event_matches_the_documented_event_schema(
    http: httpx.Client, path: str, body: dict[str, Any]
) -> None:
    with http.stream("POST", f"/api{path}", json=body) as response:
        events = sse_events(response.read().decode())
    schema = document()["paths"][path]["post"]["responses"]["200"]["content"]["text/event-stream"]["schema"]
    assert len(events) >= 3
    assert [event for event in events if not Draft202012Validator(schema).is_valid(event)] == []


@pytest.mark.parametrize(
    ("method", "path", "template", "schema"),
    [
        ("get", "/v1/models/azure", "/v1/models/{model}", "Model"),
        ("get", "/v1/models/nope", "/v1/models/{model}", "Error"),
        (
            "post",
            "/openai/deployments/nope/chat/completions",
            "/openai/deployments/{deployment}/chat/completions",
            "Error",
        ),
        ("get", "/nowhere", "/{path}", "Error"),
        ("delete", "/v1/chat/completions", "/{path}", "Error"),
    ],
)
def test_new_routes_answer_as_documented(
    http: httpx.Client, method: str, path: str, template: str, schema: str
) -> None:
    response = http.request(method.upper(), f"/api{path}", json={"messages": MESSAGES})
    assert documented(template, method, response.status_code), response.status_code
    assert [error.message for error in schema_validator(schema).iter_errors(response.json())] == []
