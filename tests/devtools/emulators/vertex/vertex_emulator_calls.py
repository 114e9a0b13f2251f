"""How the Vertex emulator tests call it: real google-auth credentials, the openai SDK, and raw httpx.

Every Vertex emulator test module gets its tokens and talks to both endpoints
through these helpers, so they all speak to the emulator the same way.
"""

from __future__ import annotations

import json
from typing import Any

import google.auth.transport.requests
import httpx
import openai
from google.oauth2 import service_account

from devtools.emulators.vertex import make_service_account_info

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
OPENAI_MODEL = "google/gemini-2.0-flash-001"
NATIVE_MODEL = "gemini-2.0-flash-001"
JAPANESE = "東京の天気は晴れです。🌞🍣 絵文字も大丈夫👨‍👩‍👧‍👦！"


def credentials_for(url: str) -> service_account.Credentials:
    """Service-account credentials whose token_uri is the emulator, via the real SDK."""
    info = make_service_account_info(token_uri=f"{url}/token")
    return service_account.Credentials.from_service_account_info(info, scopes=SCOPES)


def refreshed(creds: service_account.Credentials) -> str:
    creds.refresh(google.auth.transport.requests.Request())
    assert creds.token is not None
    return str(creds.token)


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
