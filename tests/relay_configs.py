"""Building blocks for tests that host relays with their own access configuration."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from shared.auth.relay_keys import hash_key
from tests.builders import azure_backend

CHAT_URL = "/api/v1/chat/completions"
OBJECT_ID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier"


def chat_config(emulator_url: str, **sections: Any) -> dict[str, Any]:
    """One Azure deployment on the emulator under the aliases ``azure`` and ``other``, plus ``sections``."""
    return {
        "backends": [azure_backend("azure-east", emulator_url)],
        "models": {"azure": ["azure-east"], "other": ["azure-east"]},
        **sections,
    }


def relay_key(name: str, key: str, models: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    """An ``auth.relay_keys`` entry for ``key``."""
    return {"name": name, "sha256": hash_key(key), "models": models or ["*"], **fields}


def chat_body(prompt: str = "hi", model: str = "azure", **fields: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": prompt}], **fields}


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def sse_payloads(response: httpx.Response) -> list[Any]:
    """The JSON documents of an SSE response's data lines, without ``[DONE]``."""
    lines = [line[len("data: ") :] for line in response.text.split("\n") if line.startswith("data: ")]
    return [json.loads(line) for line in lines if line != "[DONE]"]


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The OpenAI-style error of a response that must have ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    return error


def principal(claims: list[dict[str, str]], **fields: Any) -> str:
    """An ``x-ms-client-principal`` header value as App Service Authentication writes it."""
    document = {"auth_typ": "aad", "name_typ": "name", "role_typ": "roles", "claims": claims, **fields}
    return base64.b64encode(json.dumps(document).encode()).decode()


USER = principal([{"typ": OBJECT_ID_CLAIM, "val": "user-42"}, {"typ": "roles", "val": "Relay.Use"}])
