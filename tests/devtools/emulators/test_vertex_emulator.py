"""The Vertex AI emulator, driven by the real google-auth and openai SDKs over real HTTP.

These tests pin down the token flow and the wire format the relay will be
tested against, so a regression in the emulator cannot silently make the
relay's Vertex tests meaningless.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import google.auth.transport.requests
import httpx
import openai
import pytest
from cryptography.hazmat.primitives import serialization
from google.auth import crypt, exceptions, jwt
from google.oauth2 import service_account

from devtools.emulators.scenario import Scenario, inline_prompt
from devtools.emulators.vertex import VertexEmulator, create_app, make_service_account_info
from devtools.threaded_server import ThreadedServer
from tests.polling import wait_for

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
OPENAI_MODEL = "google/gemini-2.0-flash-001"
NATIVE_MODEL = "gemini-2.0-flash-001"
JAPANESE = "東京の天気は晴れです。🌞🍣 絵文字も大丈夫👨‍👩‍👧‍👦！"
REPO_ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.timeout(30)


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def emulator() -> VertexEmulator:
    return create_app()


@pytest.fixture(scope="module")
def server(emulator: VertexEmulator) -> Iterator[ThreadedServer]:
    with ThreadedServer(emulator) as running:
        yield running


@pytest.fixture(autouse=True)
def clean_slate(emulator: VertexEmulator) -> None:
    emulator.book.clear()
    emulator.recorder.clear()


def credentials_for(url: str) -> service_account.Credentials:
    """Service-account credentials whose token_uri is the emulator, via the real SDK."""
    info = make_service_account_info(token_uri=f"{url}/token")
    return service_account.Credentials.from_service_account_info(info, scopes=SCOPES)


def refreshed(creds: service_account.Credentials) -> str:
    creds.refresh(google.auth.transport.requests.Request())
    assert creds.token is not None
    return str(creds.token)


@pytest.fixture(scope="module")
def token(server: ThreadedServer) -> str:
    return refreshed(credentials_for(server.url))


def openai_client(url: str, token: str, location: str = "us-central1", version: str = "v1") -> openai.OpenAI:
    base = f"{url}/{version}/projects/demo-project/locations/{location}/endpoints/openapi"
    return openai.OpenAI(base_url=base, api_key=token, max_retries=0, timeout=10)


def native_url(
    url: str, method: str = "streamGenerateContent", location: str = "us-central1", version: str = "v1"
) -> str:
    path = f"/{version}/projects/demo-project/locations/{location}/publishers/google/models/{NATIVE_MODEL}:{method}"
    return url + path + ("?alt=sse" if method == "streamGenerateContent" else "")


def native_body(prompt: str) -> dict[str, Any]:
    return {
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"text": prompt}]}],
        "generationConfig": {"maxOutputTokens": 256},
    }


def sse_events(raw: bytes) -> list[Any]:
    """A minimal SSE parser for Vertex's CRLF-framed native stream."""
    assert raw.endswith(b"\r\n\r\n")
    events = []
    for block in raw.split(b"\r\n\r\n")[:-1]:
        assert block.startswith(b"data: "), block
        events.append(json.loads(block[len(b"data: ") :]))
    return events


def native_stream(url: str, token: str, prompt: str) -> tuple[httpx.Response, list[Any]]:
    response = httpx.post(native_url(url), json=native_body(prompt), headers={"Authorization": f"Bearer {token}"})
    return response, sse_events(response.content) if response.status_code == 200 else []


def chat(client: openai.OpenAI, prompt: str, **kwargs: Any) -> Any:
    return client.chat.completions.create(model=OPENAI_MODEL, messages=[{"role": "user", "content": prompt}], **kwargs)


# ---------------------------------------------------------------- OAuth2 token endpoint


def test_service_account_refresh_gets_a_token_from_the_emulator() -> None:
    emulator = create_app(token_lifetime=120)
    with ThreadedServer(emulator) as server:
        creds = credentials_for(server.url)
        token = refreshed(creds)
    assert token.startswith("ya29.emu-")
    assert emulator.recorder.token_requests == 1
    [issued] = emulator.issued_tokens()
    assert issued.token == token
    assert issued.client_email == creds.service_account_email
    assert issued.scope == SCOPES[0]
    assert creds.expiry is not None
    remaining = creds.expiry.timestamp() - time.time()
    assert 100 < remaining <= 121


def test_jwt_signed_with_the_wrong_key_is_refused(server: ThreadedServer, emulator: VertexEmulator) -> None:
    genuine = make_service_account_info(token_uri=f"{server.url}/token")
    forger = make_service_account_info(token_uri=f"{server.url}/token")
    forged = {**forger, "client_email": genuine["client_email"]}
    creds = service_account.Credentials.from_service_account_info(forged, scopes=SCOPES)
    with pytest.raises(exceptions.RefreshError) as caught:
        refreshed(creds)
    assert "invalid_grant" in str(caught.value)
    assert "Invalid JWT Signature" in str(caught.value)
    assert all(t.client_email != genuine["client_email"] for t in emulator.issued_tokens())


def test_strict_emulator_refuses_unknown_accounts_and_trusts_registered_ones() -> None:
    emulator = VertexEmulator(strict_accounts=True)
    with ThreadedServer(emulator) as server:
        info = make_service_account_info(token_uri=f"{server.url}/token")
        stranger = {**info, "client_email": "stranger@demo-project.iam.gserviceaccount.com"}
        with pytest.raises(exceptions.RefreshError, match="account not found"):
            refreshed(service_account.Credentials.from_service_account_info(stranger, scopes=SCOPES))
        emulator.register_service_account(stranger)
        assert refreshed(service_account.Credentials.from_service_account_info(stranger, scopes=SCOPES))
    assert emulator.recorder.token_requests == 2


def signed_assertion(info: dict[str, str], **claims: Any) -> str:
    """A JWT grant built by hand with google-auth's own signer."""
    now = int(time.time())
    payload = {"iss": info["client_email"], "aud": info["token_uri"], "iat": now, "exp": now + 3600, "scope": SCOPES[0]}
    payload.update(claims)
    payload = {key: value for key, value in payload.items() if value is not None}
    signer = crypt.RSASigner.from_service_account_info(info)
    return jwt.encode(signer, payload).decode()


@pytest.mark.parametrize(
    ("form", "error", "description"),
    [
        ({"grant_type": "client_credentials"}, "unsupported_grant_type", "Invalid grant_type"),
        ({"assertion": "not-a-jwt"}, "invalid_grant", "three-part"),
        ({"claims": {"aud": "https://example.com/token"}}, "invalid_grant", "audience"),
        ({"claims": {"exp": int(time.time()) + 7200}}, "invalid_grant", "short-lived"),
        ({"claims": {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7000}}, "invalid_grant", "short-lived"),
        ({"claims": {"scope": None}}, "invalid_scope", "Invalid OAuth scope"),
    ],
)
def test_token_endpoint_refuses_bad_grants(
    server: ThreadedServer, emulator: VertexEmulator, form: dict[str, Any], error: str, description: str
) -> None:
    info = make_service_account_info(token_uri=f"{server.url}/token")
    data = {
        "grant_type": form.get("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        "assertion": form.get("assertion") or signed_assertion(info, **form.get("claims", {})),
    }
    response = httpx.post(f"{server.url}/token", data=data)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert description in response.json()["error_description"]
    assert emulator.recorder.token_requests == 1
    assert all(t.client_email != info["client_email"] for t in emulator.issued_tokens())


def test_token_endpoint_accepts_its_own_url_as_audience(server: ThreadedServer) -> None:
    info = make_service_account_info(token_uri=f"{server.url}/token")
    grant = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": signed_assertion(info)}
    response = httpx.post(f"{server.url}/token", data=grant)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600


def test_admin_api_hands_out_a_trusted_key_file(server: ThreadedServer, emulator: VertexEmulator) -> None:
    info = httpx.post(f"{server.url}/_emulator/service-account").json()
    assert info["type"] == "service_account"
    assert info["token_uri"] == f"{server.url}/token"
    token = refreshed(service_account.Credentials.from_service_account_info(info, scopes=SCOPES))
    assert emulator.issued_tokens()[-1].token == token


def test_public_keys_given_up_front_are_verified() -> None:
    placeholder = make_service_account_info(token_uri="http://127.0.0.1:1/token")
    private = serialization.load_pem_private_key(placeholder["private_key"].encode(), password=None)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    emulator = VertexEmulator(public_keys={"ops@demo.iam.gserviceaccount.com": public_pem}, strict_accounts=True)
    with ThreadedServer(emulator) as server:
        info = {**placeholder, "client_email": "ops@demo.iam.gserviceaccount.com", "token_uri": f"{server.url}/token"}
        assert refreshed(service_account.Credentials.from_service_account_info(info, scopes=SCOPES))
        grant = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": signed_assertion(info)}
        as_json = httpx.post(f"{server.url}/token", json=grant)
    assert as_json.status_code == 200
    assert emulator.recorder.token_requests == 2


# ---------------------------------------------------------------- bearer-token checks


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "CREDENTIALS_MISSING"),
        ({"Authorization": "Basic abc"}, "CREDENTIALS_MISSING"),
        ({"Authorization": "Bearer ya29.not-issued-here"}, "ACCESS_TOKEN_TYPE_UNSUPPORTED"),
    ],
)
def test_model_endpoints_need_an_issued_token(
    server: ThreadedServer, emulator: VertexEmulator, headers: dict[str, str], reason: str
) -> None:
    response = httpx.post(native_url(server.url), json=native_body("hi"), headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == 401
    assert error["status"] == "UNAUTHENTICATED"
    assert error["details"][0]["reason"] == reason
    assert response.headers["www-authenticate"].startswith("Bearer")
    [record] = emulator.recorder.records
    assert (record.status, record.outcome, record.frames_sent) == (401, "unauthenticated", 0)


def test_expired_token_is_refused_and_a_refresh_gets_a_new_one() -> None:
    emulator = create_app(token_lifetime=1.0)
    with ThreadedServer(emulator) as server:
        creds = credentials_for(server.url)
        first = refreshed(creds)
        assert chat(openai_client(server.url, first), "hi").choices[0].message.content
        time.sleep(1.2)
        with pytest.raises(openai.AuthenticationError) as caught:
            chat(openai_client(server.url, first), "hi")
        assert "Request had invalid authentication credentials" in caught.value.message
        assert caught.value.body["details"][0]["reason"] == "ACCESS_TOKEN_EXPIRED"  # type: ignore[index]
        second = refreshed(creds)
        assert second != first
        assert chat(openai_client(server.url, second), "hi").choices[0].message.content
    assert emulator.recorder.token_requests == 2
    assert [t.expired for t in emulator.issued_tokens()] == [True, False]
    assert [r.status for r in emulator.recorder.records] == [200, 401, 200]


def test_admin_api_lists_and_expires_tokens(server: ThreadedServer, token: str) -> None:
    listed = httpx.get(f"{server.url}/_emulator/tokens").json()["tokens"]
    assert token in [entry["token"] for entry in listed]
    local = create_app()
    with ThreadedServer(local) as other:
        own = refreshed(credentials_for(other.url))
        assert httpx.delete(f"{other.url}/_emulator/tokens").json() == {"expired": 1}
        response = httpx.post(native_url(other.url), json=native_body("hi"), headers={"Authorization": f"Bearer {own}"})
    assert response.status_code == 401
    assert response.json()["error"]["details"][0]["reason"] == "ACCESS_TOKEN_EXPIRED"


def test_accept_any_token_is_a_dev_mode_escape_hatch() -> None:
    emulator = VertexEmulator(accept_any_token=True)
    with ThreadedServer(emulator) as server:
        response = httpx.post(native_url(server.url), json=native_body("hi"), headers={"Authorization": "Bearer x"})
        anonymous = httpx.post(native_url(server.url, "generateContent"), json=native_body("hi"))
    assert response.status_code == 200
    assert anonymous.status_code == 200
    assert emulator.recorder.token_requests == 0


# ---------------------------------------------------------------- OpenAI-compatible endpoint


@pytest.mark.parametrize("byte_split", [None, 3])
def test_openai_stream_is_byte_exact(
    server: ThreadedServer, emulator: VertexEmulator, token: str, byte_split: int | None
) -> None:
    scenario = {"text": JAPANESE, "chunks": 6, "byte_split": byte_split}
    chunks = list(chat(openai_client(server.url, token), inline_prompt(**scenario), stream=True))
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == JAPANESE
    assert len(chunks) == 6
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert {chunk.model for chunk in chunks} == {OPENAI_MODEL}
    assert len({chunk.id for chunk in chunks}) == 1
    assert all(chunk.choices[0].delta.role == "assistant" for chunk in chunks)
    assert [chunk.choices[0].finish_reason for chunk in chunks] == [None] * 5 + ["stop"]
    assert [chunk.usage is not None for chunk in chunks] == [False] * 5 + [True]
    usage = chunks[-1].usage
    assert usage.completion_tokens == 6
    assert usage.total_tokens == usage.prompt_tokens + 6
    record = emulator.recorder.records[0]
    assert record.key == OPENAI_MODEL
    # Six chunks plus [DONE]. The SDK hangs up as soon as it reads [DONE], so
    # the emulator may still be finishing its last write when the SDK returns.
    assert wait_for(lambda: record.frames_sent == 7)


def test_openai_stream_raw_frames_end_with_done(server: ThreadedServer, token: str) -> None:
    body = {"model": OPENAI_MODEL, "stream": True, "messages": [{"role": "user", "content": inline_prompt(text="hi")}]}
    url = f"{server.url}/v1beta1/projects/p/locations/global/endpoints/openapi/chat/completions"
    response = httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = response.content.split(b"\n\n")
    assert frames[-2:] == [b"data: [DONE]", b""]
    first = json.loads(frames[0][len(b"data: ") :])
    assert list(first) == sorted(first)
    assert first["choices"][0]["delta"] == {"content": "hi", "role": "assistant"}


def test_openai_stream_tool_calls(server: ThreadedServer, token: str) -> None:
    calls = [
        {"name": "get_weather", "arguments": {"city": "東京", "unit": "c"}, "id": "call_1"},
        {"name": "get_time", "arguments": '{"tz": "Asia/Tokyo"}'},
    ]
    chunks = list(chat(openai_client(server.url, token), inline_prompt(text="", tool_calls=calls), stream=True))
    deltas = [call for chunk in chunks for call in chunk.choices[0].delta.tool_calls or []]
    assert [d.function.name for d in deltas] == ["get_weather", "get_time"]
    assert [d.index for d in deltas] == [0, 1]
    assert deltas[0].id == "call_1"
    assert deltas[1].id.startswith("call_")
    assert json.loads(deltas[0].function.arguments) == {"city": "東京", "unit": "c"}
    assert deltas[1].function.arguments == '{"tz":"Asia/Tokyo"}'
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_openai_non_streaming_completion(server: ThreadedServer, token: str) -> None:
    prompt = inline_prompt(text=JAPANESE, reasoning="Let me think.", prompt_tokens=11, completion_tokens=7)
    completion = chat(openai_client(server.url, token), prompt)
    assert completion.object == "chat.completion"
    assert completion.model == OPENAI_MODEL
    assert completion.choices[0].message.content == JAPANESE
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].finish_reason == "stop"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (11, 7 + 8)
    assert completion.usage.total_tokens == 26


def test_openai_scenario_by_key_and_finish_reason_mapping(
    server: ThreadedServer, emulator: VertexEmulator, token: str
) -> None:
    emulator.book.set(OPENAI_MODEL, {"text": "cut", "finish_reason": "MAX_TOKENS"})
    completion = chat(openai_client(server.url, token), "plain prompt")
    assert completion.choices[0].message.content == "cut"
    assert completion.choices[0].finish_reason == "length"


def test_openai_rate_limit_is_a_list_body(server: ThreadedServer, emulator: VertexEmulator, token: str) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        chat(openai_client(server.url, token), inline_prompt(status=429, retry_after=7), stream=True)
    body = caught.value.body
    assert isinstance(body, list) and len(body) == 1
    assert body[0]["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert body[0]["error"]["message"].startswith("Resource exhausted. Please try again later.")
    assert caught.value.response.headers["retry-after"] == "7"
    assert emulator.recorder.records[0].status == 429


def test_openai_error_after_raises_mid_stream(server: ThreadedServer, emulator: VertexEmulator, token: str) -> None:
    received: list[str] = []
    stream = chat(openai_client(server.url, token), inline_prompt(text="abcdef", chunks=6, error_after=2), stream=True)
    with pytest.raises(openai.APIError, match="Internal error encountered"):
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert received == ["a", "b"]
    assert wait_for(lambda: emulator.recorder.records[0].outcome == "error_frame")


def test_openai_model_needs_a_publisher_prefix(server: ThreadedServer, token: str) -> None:
    client = openai_client(server.url, token)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gemini-2.0-flash-001", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body[0]["error"]["status"] == "INVALID_ARGUMENT"  # type: ignore[index]


# ---------------------------------------------------------------- native endpoint


def test_native_stream_text_thoughts_tools_and_usage(
    server: ThreadedServer, emulator: VertexEmulator, token: str
) -> None:
    scenario = {
        "text": JAPANESE,
        "chunks": 3,
        "reasoning": "Think first.",
        "tool_calls": [{"name": "lookup", "arguments": {"q": "晴れ", "n": 2}}],
        "prompt_tokens": 5,
        "completion_tokens": 9,
    }
    response, events = native_stream(server.url, token, inline_prompt(**scenario))
    assert response.headers["content-type"].startswith("text/event-stream")
    assert b"\n\n" not in response.content.replace(b"\r\n\r\n", b"")
    assert b"[DONE]" not in response.content
    parts = [event["candidates"][0]["content"]["parts"][0] for event in events]
    assert {event["candidates"][0]["content"]["role"] for event in events} == {"model"}
    assert "".join(p["text"] for p in parts if p.get("thought")) == "Think first."
    assert "".join(p["text"] for p in parts if "text" in p and not p.get("thought")) == JAPANESE
    assert [p["functionCall"] for p in parts if "functionCall" in p] == [
        {"name": "lookup", "args": {"q": "晴れ", "n": 2}}
    ]
    assert [event["candidates"][0].get("finishReason") for event in events[:-1]] == [None] * (len(events) - 1)
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    assert all(event["usageMetadata"] == {"trafficType": "ON_DEMAND"} for event in events[:-1])
    usage = events[-1]["usageMetadata"]
    thoughts = usage["thoughtsTokenCount"]
    assert (usage["promptTokenCount"], usage["candidatesTokenCount"]) == (5, 9)
    assert usage["totalTokenCount"] == 5 + 9 + thoughts
    assert {event["modelVersion"] for event in events} == {NATIVE_MODEL}
    assert len({event["responseId"] for event in events}) == 1
    assert events[0]["createTime"].endswith("Z")
    assert emulator.recorder.records[0].key == NATIVE_MODEL


@pytest.mark.parametrize("reason", ["MAX_TOKENS", "SAFETY"])
def test_native_finish_reason_is_verbatim(server: ThreadedServer, token: str, reason: str) -> None:
    _, events = native_stream(server.url, token, inline_prompt(text="abc", finish_reason=reason))
    assert events[-1]["candidates"][0]["finishReason"] == reason


def test_native_inline_scenario_comes_from_the_last_user_turn(
    server: ThreadedServer, emulator: VertexEmulator, token: str
) -> None:
    emulator.book.set(NATIVE_MODEL, {"text": "from the book"})
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": inline_prompt(text="stale")}]},
            {"role": "model", "parts": [{"text": "ok"}]},
            {"role": "user", "parts": [{"text": "no inline scenario here"}]},
        ]
    }
    response = httpx.post(native_url(server.url), json=body, headers={"Authorization": f"Bearer {token}"})
    text = "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in sse_events(response.content))
    assert text == "from the book"


def test_native_byte_split_keeps_utf8_intact(server: ThreadedServer, token: str) -> None:
    _, events = native_stream(server.url, token, inline_prompt(text=JAPANESE, chunks=2, byte_split=5))
    assert "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in events) == JAPANESE


def test_native_generate_content_is_one_document(server: ThreadedServer, token: str) -> None:
    prompt = inline_prompt(text=JAPANESE, reasoning="hmm", tool_calls=[{"name": "f", "arguments": {}}])
    response = httpx.post(
        native_url(server.url, "generateContent"),
        json=native_body(prompt),
        headers={"Authorization": f"Bearer {token}"},
    )
    document = response.json()
    candidate = document["candidates"][0]
    assert candidate["content"]["parts"] == [
        {"text": "hmm", "thought": True},
        {"text": JAPANESE},
        {"functionCall": {"name": "f", "args": {}}},
    ]
    assert candidate["finishReason"] == "STOP"
    assert document["usageMetadata"]["totalTokenCount"] > 0
    assert response.content.startswith(b"{\n  ")


def test_native_stream_without_sse_is_a_json_array(server: ThreadedServer, token: str) -> None:
    url = native_url(server.url).removesuffix("?alt=sse")
    body = native_body(inline_prompt(text="abcd", chunks=2))
    response = httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    documents = response.json()
    assert [d["candidates"][0]["content"]["parts"][0]["text"] for d in documents] == ["ab", "cd"]
    assert documents[-1]["candidates"][0]["finishReason"] == "STOP"


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (400, "INVALID_ARGUMENT"),
        (403, "PERMISSION_DENIED"),
        (429, "RESOURCE_EXHAUSTED"),
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
    ],
)
def test_native_stream_errors_are_one_element_arrays(
    server: ThreadedServer, token: str, status: int, name: str
) -> None:
    response, _ = native_stream(server.url, token, inline_prompt(status=status))
    assert response.status_code == status
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    assert body[0]["error"]["code"] == status
    assert body[0]["error"]["status"] == name
    assert response.content.startswith(b'[{\n  "error"')


def test_native_non_streaming_error_is_a_plain_object(server: ThreadedServer, token: str) -> None:
    prompt = inline_prompt(
        status=429, error_message="Quota exceeded for aiplatform.googleapis.com/generate_content_requests"
    )
    response = httpx.post(
        native_url(server.url, "generateContent"),
        json=native_body(prompt),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 429
    assert response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert response.json()["error"]["message"].startswith("Quota exceeded")


def test_native_error_after_sends_an_error_event(server: ThreadedServer, emulator: VertexEmulator, token: str) -> None:
    response, events = native_stream(
        server.url, token, inline_prompt(text="abc", chunks=3, error_after=1, error_code="UNAVAILABLE")
    )
    assert response.status_code == 200
    assert events[0]["candidates"][0]["content"]["parts"][0]["text"] == "a"
    assert events[1] == {
        "error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}
    }
    assert len(events) == 2
    record = emulator.recorder.records[0]
    assert wait_for(lambda: record.outcome == "error_frame")
    assert record.frames_sent == 1


def test_native_close_after_drops_the_connection(server: ThreadedServer, emulator: VertexEmulator, token: str) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        native_stream(server.url, token, inline_prompt(text="abc", chunks=3, close_after=2))
    assert emulator.recorder.records[0].outcome == "closed"
    assert emulator.recorder.records[0].frames_sent == 2


def test_native_stall_then_client_close_is_recorded(
    server: ThreadedServer, emulator: VertexEmulator, token: str
) -> None:
    prompt = inline_prompt(text="abcd", chunks=4, stall_after=1)
    with (
        httpx.Client(timeout=10) as session,
        session.stream(
            "POST", native_url(server.url), json=native_body(prompt), headers={"Authorization": f"Bearer {token}"}
        ) as response,
    ):
        first = next(response.iter_bytes())
    assert first.startswith(b"data: ")
    record = emulator.recorder.records[0]
    assert wait_for(lambda: record.client_disconnected)
    assert (record.frames_sent, record.outcome) == (1, "stalled")
    assert record.disconnected_at is not None


@pytest.mark.parametrize(("location", "version"), [("global", "v1"), ("europe-west4", "v1beta1")])
def test_other_locations_and_versions_route_the_same(
    server: ThreadedServer, token: str, location: str, version: str
) -> None:
    url = native_url(server.url, location=location, version=version)
    response = httpx.post(url, json=native_body(inline_prompt(text="ok")), headers={"Authorization": f"Bearer {token}"})
    assert sse_events(response.content)[0]["candidates"][0]["content"]["parts"][0]["text"] == "ok"
    completion = chat(openai_client(server.url, token, location=location, version=version), inline_prompt(text="ok"))
    assert completion.choices[0].message.content == "ok"


def test_unknown_route_is_not_found(server: ThreadedServer, token: str) -> None:
    response = httpx.post(f"{server.url}/v1/projects/p/locations/l/publishers/google/models/m:predict", json={})
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


def test_default_scenario_and_delays() -> None:
    emulator = create_app(Scenario(text="slow", chunks=2, delay_ms=150))
    with ThreadedServer(emulator) as server:
        token = refreshed(credentials_for(server.url))
        started = time.monotonic()
        _, events = native_stream(server.url, token, "no inline scenario")
        elapsed = time.monotonic() - started
    assert "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in events) == "slow"
    assert elapsed >= 0.14  # one 150 ms pause; the loop timer may fire a hair early


def test_content_filter_stops_halfway(server: ThreadedServer, token: str) -> None:
    prompt = inline_prompt(text="abcdef", chunks=6, content_filter=True)
    _, events = native_stream(server.url, token, prompt)
    assert "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in events) == "abc"
    final = events[-1]["candidates"][0]
    assert final["finishReason"] == "SAFETY"
    assert final["safetyRatings"][0]["blocked"] is True
    completion = chat(openai_client(server.url, token), prompt)
    assert (completion.choices[0].message.content, completion.choices[0].finish_reason) == ("abc", "content_filter")


@pytest.mark.parametrize(
    ("content", "needle"),
    [(b"{not json", "Invalid JSON payload"), (json.dumps(native_body('#emulate {"colour": 1}')).encode(), "colour")],
)
def test_bad_requests_are_invalid_argument(server: ThreadedServer, token: str, content: bytes, needle: str) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    response = httpx.post(native_url(server.url), content=content, headers=headers)
    assert response.status_code == 400
    [body] = response.json()
    assert body["error"]["status"] == "INVALID_ARGUMENT"
    assert needle in body["error"]["message"]


def test_lifespan_protocol_is_answered(emulator: VertexEmulator) -> None:
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(emulator({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


# ---------------------------------------------------------------- command line


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_cli(tmp_path: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    """The emulator CLI on a free port, once it is up and is the process answering there.

    Another server may take the port between choosing and binding it; then the
    CLI exits, and it is started again on another port.
    """
    for attempt in range(5):
        port, key_file = free_port(), tmp_path / f"sa-{attempt}.json"
        command = [sys.executable, "-m", "devtools.emulators.vertex", "--port", str(port), "--log-level", "warning"]
        command += ["--write-service-account", str(key_file), "--scenario", json.dumps({"text": "from the CLI"})]
        process = subprocess.Popen(command, cwd=REPO_ROOT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if key_file.exists() and httpx.get(f"{url}/_emulator/requests", timeout=1).status_code == 200:
                    return process, url, key_file
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        process.terminate()
        process.wait(timeout=10)
    raise AssertionError("the emulator CLI never came up")


def test_cli_serves_and_writes_a_trusted_service_account(tmp_path: Path) -> None:
    process, url, key_file = start_cli(tmp_path)
    try:
        info = json.loads(key_file.read_text())
        assert info["token_uri"] == f"{url}/token"
        creds = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
        completion = chat(openai_client(url, refreshed(creds)), "hello")
        assert completion.choices[0].message.content == "from the CLI"
        assert httpx.get(f"{url}/_emulator/requests").json()["token_requests"] == 1
    finally:
        process.terminate()
        process.wait(timeout=10)
