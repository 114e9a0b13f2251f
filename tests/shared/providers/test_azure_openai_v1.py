"""Azure OpenAI's v1 API end to end: the openai SDK -> relay -> ``AsyncOpenAI`` on ``/openai/v1`` -> emulator.

The emulator here knows the key, so a wrong key is refused on the v1 path as
Azure refuses it. Keyless backends get their Entra ID tokens from the
emulator's managed-identity endpoint through the real ``DefaultAzureCredential``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from devtools.emulators.azure_identity import IDENTITY_PATH
from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.recorder import RequestRecord
from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from devtools.threaded_server import ThreadedServer
from tests.builders import (
    AZURE_TEST_KEY,
    RELAY_TEST_KEY,
    azure_backend,
    register_secret,
    reset_emulator,
    serve_emulator,
)

V1_PATH = "/openai/v1/chat/completions"
DEPLOYMENT = "gpt-4o-mini-v1"
WRONG_KEY = register_secret("azure-wrong-key-0a1b2c3d", "AZURE_WRONG_KEY")
StartRelay = Callable[..., ThreadedServer]


@pytest.fixture(scope="module")
def keyed_emulator() -> Iterator[AzureOpenAIEmulator]:
    """An Azure emulator that checks the key, on both paths."""
    yield from serve_emulator(AzureOpenAIEmulator(api_keys={AZURE_TEST_KEY}))


@pytest.fixture
def emulator(keyed_emulator: AzureOpenAIEmulator) -> Iterator[AzureOpenAIEmulator]:
    yield from reset_emulator(keyed_emulator)


@pytest.fixture
def entra_environment(emulator: AzureOpenAIEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """What App Service gives a function app with a managed identity, pointing at the emulator."""
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{emulator.url}{IDENTITY_PATH}")
    monkeypatch.setenv("IDENTITY_HEADER", "emulated-identity-header")


def backend(emulator: AzureOpenAIEmulator, api_version: str | None, **overrides: Any) -> dict[str, Any]:
    """A backend entry; ``api_version=None`` leaves the field out."""
    entry = azure_backend("azure-v1", emulator.url, deployment=DEPLOYMENT, **overrides)
    entry.pop("api_version")
    return entry if api_version is None else {**entry, "api_version": api_version}


# Clients sdk_for made, closed after each test: left to the garbage collector, their sockets
# would be reported as leaks inside whichever later test the collector happens to run in.
_CLIENTS: list[openai.OpenAI] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


def sdk_for(start_relay: StartRelay, entry: dict[str, Any], environ: dict[str, str] | None = None) -> openai.OpenAI:
    server = start_relay({"backends": [entry], "models": {"azure": [entry["name"]]}}, environ)
    _CLIENTS.append(openai.OpenAI(base_url=f"{server.url}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0))
    return _CLIENTS[-1]


def user(content: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": content}]


def streamed(client: openai.OpenAI, prompt: str) -> list[Any]:
    return list(client.chat.completions.create(model="azure", messages=user(prompt), stream=True))


def text_of(chunks: list[Any]) -> str:
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


def only_record(emulator: AzureOpenAIEmulator) -> RequestRecord:
    [record] = emulator.recorder.records
    return record


# ---------------------------------------------------------------- by key


@pytest.mark.parametrize("api_version", [None, "v1"])
def test_stream_by_key_goes_to_the_v1_path(
    start_relay: StartRelay, emulator: AzureOpenAIEmulator, api_version: str | None
) -> None:
    client = sdk_for(start_relay, backend(emulator, api_version))
    chunks = streamed(client, inline_prompt(chunks=9))
    assert text_of(chunks) == DEFAULT_TEXT
    assert chunks[-1].choices[0].finish_reason == "stop"
    record = only_record(emulator)
    assert (record.path, record.key, record.auth) == (V1_PATH, DEPLOYMENT, "bearer")
    assert record.body["model"] == DEPLOYMENT


def test_non_streamed_completion_by_key(start_relay: StartRelay, emulator: AzureOpenAIEmulator) -> None:
    client = sdk_for(start_relay, backend(emulator, None))
    prompt = inline_prompt(chunks=4, prompt_tokens=6, completion_tokens=4)
    completion = client.chat.completions.create(model="azure", messages=user(prompt))
    assert completion.choices[0].message.content == DEFAULT_TEXT
    assert completion.usage is not None and completion.usage.total_tokens == 10
    assert only_record(emulator).path == V1_PATH


def test_tool_calls_stream_through_the_v1_path(start_relay: StartRelay, emulator: AzureOpenAIEmulator) -> None:
    client = sdk_for(start_relay, backend(emulator, "v1"))
    arguments = json.dumps({"city": "Zürich"}, ensure_ascii=False)
    chunks = streamed(client, inline_prompt(text="", tool_calls=[{"name": "get_weather", "arguments": arguments}]))
    calls = [call for chunk in chunks if chunk.choices for call in chunk.choices[0].delta.tool_calls or []]
    assert calls[0].function.name == "get_weather"
    assert "".join(call.function.arguments or "" for call in calls) == arguments
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert only_record(emulator).path == V1_PATH


def test_a_wrong_key_is_refused_upstream(start_relay: StartRelay, emulator: AzureOpenAIEmulator) -> None:
    entry = backend(emulator, None, api_key_setting="AZURE_WRONG_KEY")
    client = sdk_for(start_relay, entry, {"AZURE_WRONG_KEY": WRONG_KEY})
    with pytest.raises(openai.APIStatusError) as caught:
        streamed(client, "hi")
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == "upstream_auth_failed"
    record = only_record(emulator)
    assert (record.path, record.status) == (V1_PATH, 401)


def test_429_keeps_its_retry_after(start_relay: StartRelay, emulator: AzureOpenAIEmulator) -> None:
    client = sdk_for(start_relay, backend(emulator, None))
    with pytest.raises(openai.RateLimitError) as caught:
        streamed(client, inline_prompt(status=429, retry_after=7))
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.body["code"] == "rate_limit_exceeded"
    assert only_record(emulator).path == V1_PATH


def test_missing_deployment_is_not_found_upstream(start_relay: StartRelay, emulator: AzureOpenAIEmulator) -> None:
    client = sdk_for(start_relay, backend(emulator, None))
    with pytest.raises(openai.APIStatusError) as caught:
        streamed(client, inline_prompt(status=404))
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == "upstream_not_found"
    assert AZURE_TEST_KEY not in caught.value.response.text
    assert only_record(emulator).path == V1_PATH


def test_a_dated_version_keeps_the_deployments_path(start_relay: StartRelay, emulator: AzureOpenAIEmulator) -> None:
    client = sdk_for(start_relay, backend(emulator, "2024-10-21"))
    assert text_of(streamed(client, "hi")) == DEFAULT_TEXT
    record = only_record(emulator)
    assert (record.path, record.auth) == (f"/openai/deployments/{DEPLOYMENT}/chat/completions", "api-key")


# ---------------------------------------------------------------- by Entra ID


@pytest.mark.usefixtures("entra_environment")
@pytest.mark.parametrize("stream", [True, False])
def test_entra_id_token_on_the_v1_path(start_relay: StartRelay, emulator: AzureOpenAIEmulator, stream: bool) -> None:
    client = sdk_for(start_relay, backend(emulator, None, api_key_setting=None))
    if stream:
        assert text_of(streamed(client, inline_prompt(chunks=3))) == DEFAULT_TEXT
    else:
        completion = client.chat.completions.create(model="azure", messages=user(inline_prompt(chunks=3)))
        assert completion.choices[0].message.content == DEFAULT_TEXT
    record = only_record(emulator)
    assert (record.path, record.auth) == (V1_PATH, "entra")


@pytest.mark.usefixtures("entra_environment")
def test_entra_id_token_on_the_dated_path(start_relay: StartRelay, emulator: AzureOpenAIEmulator) -> None:
    client = sdk_for(start_relay, backend(emulator, "2024-10-21", api_key_setting=None))
    assert text_of(streamed(client, "hi")) == DEFAULT_TEXT
    record = only_record(emulator)
    assert (record.path, record.auth) == (f"/openai/deployments/{DEPLOYMENT}/chat/completions", "entra")
