"""Errors the Azure OpenAI emulator is scripted to send: error statuses up front, and faults mid-stream.

The relay's retry, error-mapping and disconnect handling is tested against
these, so the SDK exceptions, headers, error frames and recorded outcomes must
match Azure's.
"""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.scenario import inline_prompt
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.azure_openai.azure_openai_emulator_calls import (
    API_KEY,
    API_VERSION,
    DEPLOYMENT,
    chat_url,
    last_record,
    raw_frames,
    stream,
    user,
)
from tests.polling import wait_for

pytestmark = pytest.mark.timeout(30)


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
