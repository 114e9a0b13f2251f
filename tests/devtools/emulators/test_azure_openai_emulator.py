"""The Azure OpenAI emulator, driven by the real ``openai`` SDK over real HTTP.

These tests pin down the wire behaviour the relay will be tested against, so a
regression in the emulator cannot silently make the relay's tests meaningless.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai import Omit
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionStreamOptionsParam
from pydantic import BaseModel

from devtools.emulators.azure_openai import AzureOpenAIEmulator, create_app
from devtools.emulators.recorder import RequestRecord
from devtools.emulators.scenario import Scenario, inline_prompt
from devtools.threaded_server import ThreadedServer
from tests.polling import wait_for

API_VERSION = "2024-10-21"
API_KEY = "k"
DEPLOYMENT = "gpt-4o"
JAPANESE = "東京の天気は晴れです。🌞🍣 絵文字も大丈夫👨‍👩‍👧‍👦!"
REPO_ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def emulator() -> AzureOpenAIEmulator:
    return AzureOpenAIEmulator(api_keys={API_KEY})


@pytest.fixture(scope="module")
def server(emulator: AzureOpenAIEmulator) -> Iterator[ThreadedServer]:
    with ThreadedServer(emulator) as running:
        yield running


@pytest.fixture(autouse=True)
def clean_slate(emulator: AzureOpenAIEmulator) -> None:
    emulator.book.clear()
    emulator.recorder.clear()


@pytest.fixture
def client(server: ThreadedServer) -> Iterator[openai.AzureOpenAI]:
    azure = openai.AzureOpenAI(
        azure_endpoint=server.url, api_key=API_KEY, api_version=API_VERSION, max_retries=0, timeout=10
    )
    yield azure
    azure.close()


def chat_url(server: ThreadedServer, deployment: str = DEPLOYMENT, api_version: str | None = API_VERSION) -> str:
    suffix = f"?api-version={api_version}" if api_version else ""
    return f"{server.url}/openai/deployments/{deployment}/chat/completions{suffix}"


def user(text: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "user", "content": text}]


def stream(client: openai.AzureOpenAI, prompt: str, include_usage: bool = False) -> list[ChatCompletionChunk]:
    options: ChatCompletionStreamOptionsParam | Omit = {"include_usage": True} if include_usage else openai.omit
    return list(
        client.chat.completions.create(model=DEPLOYMENT, messages=user(prompt), stream=True, stream_options=options)
    )


def extra(model: BaseModel) -> dict[str, Any]:
    """The Azure-only fields the SDK keeps outside its typed model."""
    return model.model_extra or {}


def streamed_text(chunks: list[ChatCompletionChunk]) -> str:
    return "".join(choice.delta.content or "" for chunk in chunks for choice in chunk.choices)


def raw_frames(body: bytes) -> list[bytes]:
    """Split an SSE body into frames, checking each is exactly ``data: ...`` plus a blank line."""
    assert body.endswith(b"\n\n")
    frames = body[:-2].split(b"\n\n")
    assert all(frame.startswith(b"data: ") and b"\n" not in frame for frame in frames)
    return [frame[len(b"data: ") :] for frame in frames]


def last_record(emulator: AzureOpenAIEmulator) -> RequestRecord:
    return emulator.recorder.records[-1]


# --------------------------------------------------------------------------- streaming


def test_streamed_japanese_and_emoji_text_reassembles_exactly(client: openai.AzureOpenAI) -> None:
    chunks = stream(client, inline_prompt(text=JAPANESE, chunks=9))

    assert streamed_text(chunks) == JAPANESE
    assert sum(1 for chunk in chunks for choice in chunk.choices if choice.delta.content) == 9
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert {chunk.id for chunk in chunks[1:]} == {chunks[1].id} and chunks[1].id.startswith("chatcmpl-")


def test_byte_split_cuts_utf8_characters_and_the_sdk_still_reassembles(
    client: openai.AzureOpenAI, server: ThreadedServer
) -> None:
    prompt = inline_prompt(text=JAPANESE, chunks=4, byte_split=1)

    assert streamed_text(stream(client, prompt)) == JAPANESE

    pieces: list[bytes] = []
    payload = {"messages": user(prompt), "stream": True}
    with httpx.stream("POST", chat_url(server), headers={"api-key": API_KEY}, json=payload, timeout=10) as response:
        pieces.extend(response.iter_raw())
    assert b"".join(pieces).decode("utf-8").count(JAPANESE[:3]) == 1

    def undecodable(piece: bytes) -> bool:
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False

    assert any(undecodable(piece) for piece in pieces), "no read ever ended inside a UTF-8 character"


def test_first_chunk_has_empty_choices_and_prompt_filter_results(client: openai.AzureOpenAI) -> None:
    first, role = stream(client, "hello")[:2]

    assert first.choices == [] and first.id == "" and first.model == "" and first.created == 0
    verdict = extra(first)["prompt_filter_results"][0]
    assert verdict["prompt_index"] == 0
    assert verdict["content_filter_results"]["hate"] == {"filtered": False, "severity": "safe"}
    assert role.choices[0].delta.role == "assistant" and role.choices[0].delta.content == ""
    assert role.system_fingerprint and role.system_fingerprint.startswith("fp_")


def test_raw_stream_bytes_follow_azure_layout(server: ThreadedServer) -> None:
    payload = {"messages": user(inline_prompt(text="Hi there", chunks=2)), "stream": True}
    response = httpx.post(chat_url(server), headers={"api-key": API_KEY}, json=payload)

    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["apim-request-id"] and response.headers["x-request-id"]
    assert "azureml-model-session" in response.headers
    frames = raw_frames(response.content)
    assert frames[0].startswith(
        b'{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,'
    )
    assert frames[-1] == b"[DONE]"
    content = json.loads(frames[2])
    assert list(content) == ["choices", "created", "id", "model", "object", "system_fingerprint"]
    assert content["choices"][0]["content_filter_results"]["violence"] == {"filtered": False, "severity": "safe"}
    assert content["choices"][0]["delta"] == {"content": "Hi t"}
    finish = json.loads(frames[-2])["choices"][0]
    assert finish == {"content_filter_results": {}, "delta": {}, "finish_reason": "stop", "index": 0, "logprobs": None}


def test_tool_call_deltas(client: openai.AzureOpenAI) -> None:
    arguments = {"city": "東京", "unit": "celsius"}
    prompt = inline_prompt(
        text="",
        tool_calls=[
            {"name": "get_weather", "arguments": arguments, "pieces": 4},
            {"name": "get_time", "id": "call_fixed"},
        ],
    )
    chunks = stream(client, prompt)

    calls: dict[int, dict[str, str]] = {}
    headers = []
    for chunk in chunks:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                assert delta.function is not None
                if delta.id:
                    headers.append(delta)
                    call["id"] = delta.id
                    call["name"] = delta.function.name or ""
                    assert delta.type == "function" and delta.function.arguments == ""
                call["arguments"] += delta.function.arguments or ""
    assert len(headers) == 2
    assert calls[0]["id"].startswith("call_") and calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == arguments
    assert calls[1] == {"id": "call_fixed", "name": "get_time", "arguments": "{}"}
    assert chunks[1].choices[0].delta.role == "assistant" and chunks[1].choices[0].delta.tool_calls
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_include_usage_adds_a_final_usage_chunk(client: openai.AzureOpenAI, server: ThreadedServer) -> None:
    prompt = inline_prompt(text="four tokens here", chunks=4, prompt_tokens=11)
    chunks = stream(client, prompt, include_usage=True)

    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (11, 4, 15)
    assert all(chunk.usage is None for chunk in chunks[:-1])

    with_usage = httpx.post(
        chat_url(server),
        headers={"api-key": API_KEY},
        json={"messages": user(prompt), "stream": True, "stream_options": {"include_usage": True}},
    )
    without = httpx.post(
        chat_url(server), headers={"api-key": API_KEY}, json={"messages": user(prompt), "stream": True}
    )
    assert json.loads(raw_frames(with_usage.content)[2])["usage"] is None
    assert all(b'"usage"' not in frame for frame in raw_frames(without.content))


def test_content_filter_stops_text_early(client: openai.AzureOpenAI) -> None:
    chunks = stream(client, inline_prompt(text="abcdefgh", chunks=8, content_filter=True))

    assert streamed_text(chunks) == "abcd"
    final = chunks[-1].choices[0]
    assert final.finish_reason == "content_filter"
    assert extra(final)["content_filter_results"]["hate"]["filtered"] is True


def test_async_client_streams(server: ThreadedServer) -> None:
    async def run() -> str:
        client = openai.AsyncAzureOpenAI(
            azure_endpoint=server.url, api_key=API_KEY, api_version=API_VERSION, max_retries=0
        )
        async with client:
            response = await client.chat.completions.create(
                model=DEPLOYMENT, messages=user(inline_prompt(text=JAPANESE, chunks=5, delay_ms=5)), stream=True
            )
            return "".join([choice.delta.content or "" async for chunk in response for choice in chunk.choices])

    assert asyncio.run(run()) == JAPANESE


# --------------------------------------------------------------------------- non-streaming


def test_non_streaming_completion(client: openai.AzureOpenAI, emulator: AzureOpenAIEmulator) -> None:
    completion = client.chat.completions.create(
        model=DEPLOYMENT, messages=user(inline_prompt(text=JAPANESE, completion_tokens=7))
    )

    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == JAPANESE
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens == 7
    assert extra(completion)["prompt_filter_results"][0]["prompt_index"] == 0
    assert wait_for(lambda: last_record(emulator).outcome == "completed")


def test_non_streaming_tool_calls(client: openai.AzureOpenAI) -> None:
    prompt = inline_prompt(text="", tool_calls=[{"name": "lookup", "arguments": {"q": "x"}}])
    message = client.chat.completions.create(model=DEPLOYMENT, messages=user(prompt)).choices[0].message

    assert message.content is None
    assert message.tool_calls is not None
    call = message.tool_calls[0]
    assert call.type == "function" and call.function.name == "lookup"
    assert json.loads(call.function.arguments) == {"q": "x"}


def test_non_streaming_waits_for_the_whole_generation(client: openai.AzureOpenAI) -> None:
    started = time.monotonic()
    completion = client.chat.completions.create(
        model=DEPLOYMENT, messages=user(inline_prompt(text="abcd", chunks=4, first_delay_ms=40, delay_ms=40))
    )

    assert completion.choices[0].message.content == "abcd"
    assert time.monotonic() - started >= 0.2


def test_non_streaming_faults(client: openai.AzureOpenAI, emulator: AzureOpenAIEmulator) -> None:
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model=DEPLOYMENT, messages=user(inline_prompt(close_after=3)))
    assert wait_for(lambda: last_record(emulator).outcome == "closed")

    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model=DEPLOYMENT, messages=user(inline_prompt(error_after=3)))


# --------------------------------------------------------------------------- scripted errors


def test_429_raises_rate_limit_error_with_retry_headers(client: openai.AzureOpenAI) -> None:
    prompt = inline_prompt(status=429, retry_after=7, ratelimit_remaining_requests=0)
    with pytest.raises(openai.RateLimitError) as caught:
        stream(client, prompt)

    headers = caught.value.response.headers
    assert headers["retry-after"] == "7" and headers["retry-after-ms"] == "7000"
    assert headers["x-ratelimit-remaining-requests"] == "0" and headers["x-ratelimit-remaining-tokens"] == "0"
    error = caught.value.response.json()["error"]
    assert error["code"] == "429"
    assert f"API version {API_VERSION}" in error["message"] and "Please retry after 7 seconds" in error["message"]


def test_500_raises_internal_server_error(client: openai.AzureOpenAI, emulator: AzureOpenAIEmulator) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        stream(client, inline_prompt(status=500))

    assert caught.value.status_code == 500
    assert caught.value.code == "InternalServerError"
    assert last_record(emulator).status == 500


def test_error_code_and_message_override(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(
            model=DEPLOYMENT, messages=user(inline_prompt(status=503, error_code="Busy", error_message="try later"))
        )

    assert caught.value.status_code == 503
    assert caught.value.response.json() == {"error": {"code": "Busy", "message": "try later"}}


def test_400_prompt_content_filter(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        stream(client, inline_prompt(status=400, content_filter=True))

    assert caught.value.code == "content_filter"
    body = caught.value.body
    assert isinstance(body, dict) and body["innererror"]["code"] == "ResponsibleAIPolicyViolation"


def test_success_carries_scripted_rate_limit_headers(server: ThreadedServer) -> None:
    prompt = inline_prompt(ratelimit_remaining_requests=41, ratelimit_remaining_tokens=9000)
    response = httpx.post(chat_url(server), headers={"api-key": API_KEY}, json={"messages": user(prompt)})

    assert response.status_code == 200
    assert response.headers["x-ratelimit-remaining-requests"] == "41"
    assert response.headers["x-ratelimit-remaining-tokens"] == "9000"
    assert int(response.headers["content-length"]) == len(response.content)


# --------------------------------------------------------------------------- gateway checks


def test_missing_auth_is_401(server: ThreadedServer, emulator: AzureOpenAIEmulator) -> None:
    response = httpx.post(chat_url(server), json={"messages": user("hi")})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "401"
    assert response.json()["error"]["message"].startswith("Access denied due to invalid subscription key")
    assert last_record(emulator).auth == "none"


def test_wrong_api_key_is_401_and_keys_are_never_recorded(
    server: ThreadedServer, emulator: AzureOpenAIEmulator
) -> None:
    with (
        openai.AzureOpenAI(
            azure_endpoint=server.url, api_key="nope-secret", api_version=API_VERSION, max_retries=0
        ) as wrong,
        pytest.raises(openai.AuthenticationError),
    ):
        wrong.chat.completions.create(model=DEPLOYMENT, messages=user("hi"))

    with openai.AzureOpenAI(azure_endpoint=server.url, azure_ad_token="tok-secret", api_version=API_VERSION) as bearer:
        assert bearer.chat.completions.create(model=DEPLOYMENT, messages=user("hi")).choices
    assert [record.auth for record in emulator.recorder.records] == ["api-key", "bearer"]
    assert "secret" not in json.dumps(emulator.recorder.as_dict())


def test_missing_api_version_is_404(server: ThreadedServer) -> None:
    response = httpx.post(
        chat_url(server, api_version=None), headers={"api-key": API_KEY}, json={"messages": user("hi")}
    )

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}


def test_missing_messages_is_400(server: ThreadedServer) -> None:
    response = httpx.post(chat_url(server), headers={"api-key": API_KEY}, json={"stream": True})

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "'messages' is a required property"
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_bad_inline_scenario_is_400(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        stream(client, '#emulate {"txet": "typo"}')

    assert "txet" in str(caught.value.message)


def test_list_content_parts_carry_inline_scenarios(client: openai.AzureOpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": inline_prompt(text="from parts")},
                {"type": "text", "text": "ignored"},
            ],
        }
    ]
    completion = client.chat.completions.create(model=DEPLOYMENT, messages=messages)

    assert completion.choices[0].message.content == "from parts"


def test_v1_route_takes_the_deployment_from_the_body(server: ThreadedServer, emulator: AzureOpenAIEmulator) -> None:
    with openai.OpenAI(base_url=f"{server.url}/openai/v1/", api_key=API_KEY, max_retries=0) as client:
        prompt = inline_prompt(text="v1!")
        chunks = list(client.chat.completions.create(model="mini", messages=user(prompt), stream=True))

    assert streamed_text(chunks) == "v1!"
    assert last_record(emulator).key == "mini" and last_record(emulator).auth == "bearer"


# --------------------------------------------------------------------------- mid-stream faults


def test_error_after_raises_api_error_mid_stream(
    client: openai.AzureOpenAI, server: ThreadedServer, emulator: AzureOpenAIEmulator
) -> None:
    prompt = inline_prompt(text="abcdef", chunks=6, error_after=4, error_code="boom")
    seen: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in client.chat.completions.create(model=DEPLOYMENT, messages=user(prompt), stream=True):
            seen += [choice.delta.content or "" for choice in chunk.choices]

    assert "".join(seen) == "ab"
    assert caught.value.code == "boom"
    assert wait_for(lambda: last_record(emulator).outcome == "error_frame")
    raw = httpx.post(chat_url(server), headers={"api-key": API_KEY}, json={"messages": user(prompt), "stream": True})
    frames = raw_frames(raw.content)
    assert len(frames) == 5 and b"[DONE]" not in raw.content
    assert json.loads(frames[-1])["error"]["code"] == "boom"


def test_close_after_raises_a_transport_error(client: openai.AzureOpenAI, emulator: AzureOpenAIEmulator) -> None:
    seen: list[str] = []
    with pytest.raises((openai.APIConnectionError, httpx.RemoteProtocolError)):
        for chunk in client.chat.completions.create(
            model=DEPLOYMENT, messages=user(inline_prompt(text="abcdef", chunks=6, close_after=3)), stream=True
        ):
            seen += [choice.delta.content or "" for choice in chunk.choices]

    assert "".join(seen) == "a"
    assert wait_for(lambda: last_record(emulator).outcome == "closed")


def test_stall_then_client_close_is_recorded_as_disconnect(
    client: openai.AzureOpenAI, emulator: AzureOpenAIEmulator
) -> None:
    response = client.chat.completions.create(
        model=DEPLOYMENT, messages=user(inline_prompt(text="abcdef", chunks=6, stall_after=3)), stream=True
    )
    first_three = [next(response) for _ in range(3)]
    response.close()

    assert first_three[2].choices[0].delta.content == "a"
    assert wait_for(lambda: last_record(emulator).client_disconnected)
    record = last_record(emulator)
    assert record.outcome == "stalled" and record.frames_sent == 3
    assert record.disconnected_at is not None


# --------------------------------------------------------------------------- admin and CLI


def test_per_deployment_scenario_through_admin_api(client: openai.AzureOpenAI, server: ThreadedServer) -> None:
    posted = httpx.post(f"{server.url}/_emulator/scenarios", json={"key": "alpha", "scenario": {"text": "from alpha"}})
    assert posted.status_code == 200

    alpha = client.chat.completions.create(model="alpha", messages=user("hi")).choices[0].message.content
    beta = client.chat.completions.create(model="beta", messages=user("hi")).choices[0].message.content
    records = httpx.get(f"{server.url}/_emulator/requests").json()["requests"]

    assert alpha == "from alpha"
    assert beta == Scenario().text
    assert [record["key"] for record in records] == ["alpha", "beta"]


def test_create_app_uses_the_default_scenario() -> None:
    app = create_app(Scenario(text="default!"))
    with (
        ThreadedServer(app) as running,
        openai.AzureOpenAI(azure_endpoint=running.url, api_key="any", api_version=API_VERSION) as client,
    ):
        assert client.chat.completions.create(model="d", messages=user("hi")).choices[0].message.content == "default!"


def test_cli_serves_on_the_given_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "devtools.emulators.azure_openai",
        "--port",
        str(port),
        "--scenario",
        '{"text": "cli"}',
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = openai.AzureOpenAI(
        azure_endpoint=f"http://127.0.0.1:{port}", api_key="k", api_version=API_VERSION, max_retries=0, timeout=2
    )
    try:

        def answer() -> str | None:
            try:
                return client.chat.completions.create(model="d", messages=user("hi")).choices[0].message.content
            except openai.APIConnectionError:
                return None

        assert wait_for(lambda: answer() == "cli", seconds=15)
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)
